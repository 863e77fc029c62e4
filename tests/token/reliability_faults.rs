//! Pulled card / reset matrix (issue 6 item 1), through the token API on both emulated cards.
//!
//! For each operation (first open, login, sign with each key, decrypt, read a private data
//! object) the operation's APDUs are counted first; then, for every APDU index k, the card is
//! removed after k answered APDUs (and, separately, reset by another application after k).
//! Expected: a typed error (`CardRemoved`; `CardReset` / `NotLoggedIn` or a transparent
//! success on reset), no panic, no PIN try consumed, and after re-insertion (a fresh open,
//! as the module does) the same operation succeeds. Run with `--nocapture` for the numbers.

use crate::token_common;

use cpscard::card::PinKind;
use cpscard::emulator::{EmulatedReader, Generation};
use cpscard::sign::{Mechanism, MechanismKind, PinSource};
use cpscard::token::{Token, TokenError, TokenOptions};
use cpscard::transport::Transport;
use rsa::Pkcs1v15Encrypt;
use token_common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Open,
    Login,
    SignAut,
    SignSig,
    Decrypt,
    ReadPrivate,
}

const OPS: [Op; 6] = [
    Op::Open,
    Op::Login,
    Op::SignAut,
    Op::SignSig,
    Op::Decrypt,
    Op::ReadPrivate,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Removal,
    Reset,
}

fn pin() -> PinSource<'static> {
    PinSource::given("1234").unwrap()
}

fn open(card: &Card) -> Result<Token, TokenError> {
    Token::open(
        Box::new(EmulatedReader::from_shared(card.clone())),
        TokenOptions::default(),
    )
}

/// Runs `op` on `t` (or opens a token for `Op::Open`).
fn run(g: Generation, card: &Card, t: Option<&mut Token>, op: Op) -> Result<(), TokenError> {
    let Some(t) = t else {
        return open(card).map(|_| ());
    };
    match op {
        Op::Open => unreachable!(),
        Op::Login => t.login(pin()),
        Op::SignAut | Op::SignSig => {
            let key = if op == Op::SignAut {
                t.authentication_key()
            } else {
                t.signature_key()
            }
            .unwrap()
            .id
            .clone();
            let sig = t.sign(&key, Mechanism::Sha256RsaPkcs, b"matrix")?;
            assert_eq!(sig.len(), 256);
            Ok(())
        }
        Op::Decrypt => {
            let key = rsa_key(&fixture(g, "cps", "auth.der"));
            let c = key
                .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, b"secret")
                .unwrap();
            let aut = t.authentication_key().unwrap().id.clone();
            let clear = t.decrypt(&aut, MechanismKind::RsaPkcs, &c)?;
            assert_eq!(clear.as_slice(), b"secret");
            Ok(())
        }
        Op::ReadPrivate => {
            let id = t
                .data_objects()
                .iter()
                .find(|d| d.private)
                .unwrap()
                .id
                .clone();
            t.read_data(&id).map(|_| ())
        }
    }
}

/// A token ready for `op` (logged in unless the op is the login), stats reset.
fn prepare(g: Generation, op: Op) -> (Card, Option<Token>) {
    let (r, card) = reader(g, "cps");
    let t = if op == Op::Open {
        drop(r);
        None
    } else {
        let mut t = Token::open(Box::new(r), TokenOptions::default()).unwrap();
        if op != Op::Login {
            t.login(pin()).unwrap();
        }
        Some(t)
    };
    reset_stats(&card);
    (card, t)
}

fn tries_left(card: &Card) -> u8 {
    let mut t = open(card).unwrap();
    t.refresh_pin_status(PinKind::User).unwrap().tries_left()
}

/// A reset by another application before our next APDU: one harmless APDU from "the other
/// application" through its own reader, after which the card resets.
fn reset_now(card: &Card) {
    card.lock().unwrap().faults_mut().reset_after = Some(1);
    let mut other = EmulatedReader::from_shared(card.clone());
    other
        .transaction(&mut |tx| tx.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).map(|_| ()))
        .unwrap();
}

#[test]
fn removal_and_reset_at_every_apdu_of_every_operation() {
    let (mut cases, mut faults) = (0u32, 0u32);
    // reset outcomes: transparent success, CardReset, NotLoggedIn (the PIN state is gone)
    let (mut reset_ok, mut reset_typed, mut reset_not_logged_in) = (0u32, 0u32, 0u32);
    for g in GENERATIONS {
        let full_tries = tries_left(&reader(g, "cps").1);
        for op in OPS {
            // count the operation's APDUs
            let (card, mut t) = prepare(g, op);
            run(g, &card, t.as_mut(), op).unwrap();
            let n = apdus(&card);
            assert!(n >= 1, "{g:?} {op:?}");
            println!("{} {op:?}: {n} APDUs", gen_name(g));
            for fault in [Fault::Removal, Fault::Reset] {
                for k in 0..n {
                    let (card, mut t) = prepare(g, op);
                    let verifies_before = verifies_with_data(&card);
                    match (fault, k) {
                        (Fault::Removal, 0) => card.lock().unwrap().remove(),
                        (Fault::Removal, k) => {
                            card.lock().unwrap().faults_mut().remove_after = Some(k as u32)
                        }
                        (Fault::Reset, 0) => reset_now(&card),
                        (Fault::Reset, k) => {
                            card.lock().unwrap().faults_mut().reset_after = Some(k as u32)
                        }
                    }
                    faults += 1;
                    cases += 1;
                    let r = run(g, &card, t.as_mut(), op);
                    let what = format!("{} {op:?} {fault:?} after {k} of {n}: {r:?}", gen_name(g));
                    match fault {
                        Fault::Removal => assert_eq!(r, Err(TokenError::CardRemoved), "{what}"),
                        Fault::Reset => match r {
                            Ok(()) => reset_ok += 1,
                            Err(TokenError::CardReset) => reset_typed += 1,
                            Err(TokenError::NotLoggedIn) => reset_not_logged_in += 1,
                            _ => panic!("{what}"),
                        },
                    }
                    if op != Op::Login {
                        // no VERIFY is ever sent on our behalf, let alone replayed
                        assert_eq!(verifies_with_data(&card), verifies_before, "{what}");
                    }
                    drop(t);
                    // re-insert (removal) / the other application is done (reset)
                    {
                        let mut c = card.lock().unwrap();
                        c.faults_mut().remove_after = None;
                        c.faults_mut().reset_after = None;
                        if !c.is_present() {
                            c.reinsert();
                        }
                    }
                    assert_eq!(tries_left(&card), full_tries, "no try consumed: {what}");
                    // the same operation succeeds on a fresh open
                    let mut t2 = if op == Op::Open {
                        None
                    } else {
                        let mut t2 = open(&card).unwrap();
                        if op != Op::Login {
                            t2.login(pin()).unwrap();
                        }
                        Some(t2)
                    };
                    run(g, &card, t2.as_mut(), op).unwrap_or_else(|e| panic!("{what}: {e:?}"));
                }
            }
        }
    }
    println!(
        "pulled card / reset matrix: {cases} cases, {faults} faults injected; resets: \
         {reset_ok} transparent, {reset_typed} CardReset, {reset_not_logged_in} NotLoggedIn"
    );
    assert!(cases > 0 && faults == cases);
}
