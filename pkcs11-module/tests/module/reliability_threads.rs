//! Concurrency through the BUILT module (issue 6 item 2): 8 threads, each with its own session,
//! sign many times with both keys of each emulated card at once. Every signature verifies with
//! the fixture certificate (interleaved APDU sequences of two callers would make the card
//! answer errors, hence failed signatures), and the whole run ends in bounded time (no
//! deadlock). Run with `--nocapture` for the numbers.

use crate::common;

use std::sync::mpsc;
use std::time::Duration;

use common::{serial, EmulatedCard, Module};
use cpscard::crypto::{HashAlg, PublicKey};
use cpscard::token::ParsedCertificate;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

const THREADS: u8 = 8;
const SIGNATURES_PER_THREAD: u8 = 25;

/// CKA_ID of the signature and authentication keys (objects.md).
fn key_ids(generation: &str) -> [Vec<u8>; 2] {
    let (sig, aut) = match generation {
        "cps3" => (
            "e828bd080f8025000001ff001001",
            "e828bd080f8025000001ff001002",
        ),
        _ => (
            "e828bd080f8025000001ff001010",
            "e828bd080f8025000001ff001020",
        ),
    };
    [hex::decode(sig).unwrap(), hex::decode(aut).unwrap()]
}

fn fixture_key(card: &EmulatedCard, which: &str) -> PublicKey {
    ParsedCertificate::parse(&card.fixture_certificate(which))
        .unwrap()
        .public_key
}

#[test]
fn eight_threads_sign_many_times_with_both_keys_of_both_cards() {
    let mut total = 0u32;
    for g in ["cps3", "cps4"] {
        let m = Module::load();
        let _lock = serial(&m);
        let card = EmulatedCard::new(g, "reliability-threads");
        card.select();
        let p = Pkcs11::new(common::module_path()).unwrap();
        p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        let slot = p.get_slots_with_token().unwrap()[0];
        let main = p.open_rw_session(slot).unwrap();
        main.login(UserType::User, Some(&AuthPin::from("1234".to_string())))
            .unwrap();
        let fixtures = [fixture_key(&card, "sign"), fixture_key(&card, "auth")];
        let ids = key_ids(g);
        let (done_tx, done_rx) = mpsc::channel();
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (p, ids, fixtures, done) =
                    (p.clone(), ids.clone(), fixtures.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    let s = p.open_ro_session(slot).unwrap();
                    let mut signed = 0u32;
                    for round in 0..SIGNATURES_PER_THREAD {
                        let k = usize::from((t + round) % 2);
                        let key = s
                            .find_objects(&[
                                Attribute::Class(ObjectClass::PRIVATE_KEY),
                                Attribute::Id(ids[k].clone()),
                            ])
                            .unwrap()[0];
                        let msg = [t, round, 0xA5];
                        let sig = s.sign(&Mechanism::Sha256RsaPkcs, key, &msg).unwrap();
                        let di = HashAlg::Sha256.digest_info(&HashAlg::Sha256.digest(&msg));
                        assert!(
                            fixtures[k].verify_pkcs1(&di, &sig).is_ok(),
                            "thread {t} round {round}: the signature verifies"
                        );
                        signed += 1;
                    }
                    done.send(signed).unwrap();
                })
            })
            .collect();
        drop(done_tx);
        let mut signed = 0;
        for _ in 0..THREADS {
            signed += done_rx
                .recv_timeout(Duration::from_secs(300))
                .unwrap_or_else(|e| panic!("{g}: a thread is stuck or died: {e}"));
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(
            signed,
            u32::from(THREADS) * u32::from(SIGNATURES_PER_THREAD)
        );
        total += signed;
        drop(main);
        drop(p);
        let _ = m.finalize();
    }
    println!(
        "{THREADS} threads x {SIGNATURES_PER_THREAD} signatures (both keys) on both cards: \
         {total} signatures, all verified"
    );
}
