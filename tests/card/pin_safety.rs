//! PIN tries are precious (issue 6 item 2), at the driver level, on both emulated cards: the
//! emulator counts every VERIFY per reference, with and without data (`Stats::verify`,
//! `Stats::verify_with_data`), and keeps the card's own tries counters (`CardImage::counters`).
//!
//! - operations that involve no login send no VERIFY with data;
//! - a blocked PIN (or PUK) is reported by a status query (VERIFY without data), never probed;
//! - a wrong PIN / PUK costs exactly one try and is never retried: not after a reset by another
//!   application, not after a closed channel, not after a `6C xx`;
//! - a PIN of bad format is refused before any APDU.

use cpscard::card::{
    connect, CardDriver, CardError, Cps2terFile, DecipherPadding, HashAlg, KeyRef, Pin, PinKind,
    PinState, SignAlgorithm,
};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Stats};
use std::sync::{Arc, Mutex};

type Card = Arc<Mutex<EmulatedCard>>;

const GENERATIONS: [Generation; 2] = [Generation::Cps3, Generation::Cps4];
/// The fixture cards' codes (card.json).
const PIN: &str = "1234";
const PUK: &str = "12345678";

/// PIN and PUK references: CPS3 `01`/`02` (CPS3.md §5), CPS4 `81`/`82` (CPS4.md §6.2).
fn refs(g: Generation) -> (u8, u8) {
    match g {
        Generation::Cps3 => (0x01, 0x02),
        Generation::Cps4 => (0x81, 0x82),
    }
}

fn driver_over(card: EmulatedCard) -> (Box<dyn CardDriver>, Card) {
    let reader = EmulatedReader::new(card);
    let handle = reader.card();
    (connect(Box::new(reader)).unwrap(), handle)
}

fn driver(g: Generation) -> (Box<dyn CardDriver>, Card) {
    driver_over(EmulatedCard::builtin(g, "cps").unwrap())
}

/// A card whose PIN (and PUK) tries counters start where the test wants.
fn driver_with_tries(g: Generation, pin_tries: u8, puk_tries: u8) -> (Box<dyn CardDriver>, Card) {
    let mut image = EmulatedCard::builtin(g, "cps").unwrap().image().clone();
    image.counters.pin_tries = pin_tries;
    image.counters.puk_tries = puk_tries;
    driver_over(EmulatedCard::from_image(image, None).unwrap())
}

fn stats(card: &Card) -> Stats {
    card.lock().unwrap().stats().clone()
}

fn with_data(card: &Card, reference: u8) -> u64 {
    stats(card)
        .verify_with_data
        .get(&reference)
        .copied()
        .unwrap_or(0)
}

fn all_with_data(card: &Card) -> u64 {
    stats(card).verify_with_data.values().sum()
}

/// APDUs that set or change a code: CHANGE REFERENCE DATA `24`, RESET RETRY COUNTER `2C`.
fn pin_changes(card: &Card) -> u64 {
    let s = stats(card);
    s.ins(0x24) + s.ins(0x2C)
}

fn tries(card: &Card) -> (u8, u8) {
    let c = card.lock().unwrap().image().counters;
    (c.pin_tries, c.puk_tries)
}

fn keys(g: Generation) -> [KeyRef; 2] {
    match g {
        Generation::Cps3 => [KeyRef::CPS3_SIGNATURE, KeyRef::CPS3_AUTHENTICATION],
        Generation::Cps4 => [KeyRef::CPS4_SIGNATURE, KeyRef::CPS4_AUTHENTICATION],
    }
}

#[test]
fn operations_without_a_login_send_no_verify_with_data() {
    for g in GENERATIONS {
        let (mut d, card) = driver(g);
        let b = d.bind(None).unwrap();
        for c in &b.certificates {
            d.read_file(&c.path).unwrap();
            d.file_size(&c.path).unwrap();
        }
        for o in b.data_objects.iter().filter(|o| !o.common.is_private()) {
            d.read_file(&o.path).unwrap();
        }
        for kind in [PinKind::User, PinKind::Puk] {
            let s = d.pin_status(kind).unwrap();
            assert!(!s.is_verified() && !s.is_blocked(), "{g}: {s:?}");
        }
        d.get_challenge(16).unwrap();
        if g == Generation::Cps3 {
            // the CPS2ter volet needs the PIN (CPS3.md §9): refused, not logged in for us
            for f in [Cps2terFile::SitFact, Cps2terFile::Activity(1)] {
                match d.read_cps2ter(f) {
                    Ok(_) | Err(CardError::SecurityNotSatisfied) => {}
                    Err(e) => panic!("{f:?}: {e}"),
                }
            }
        }
        // key operations without the PIN: refused by the card, and no VERIFY on our behalf
        for key in keys(g) {
            let e = d
                .sign(key, SignAlgorithm::Pkcs1Digest(HashAlg::Sha256), &[7; 32])
                .unwrap_err();
            assert_eq!(e, CardError::SecurityNotSatisfied, "{g} {key}");
        }
        let e = d
            .decipher(keys(g)[1], DecipherPadding::Pkcs1v15, &[0x11; 256])
            .unwrap_err();
        assert_eq!(e, CardError::SecurityNotSatisfied, "{g}");
        // CPS_DATA is written under the PIN: refused, not logged in for us
        if let Some(o) = b.data_object("CPS_DATA") {
            assert!(d.write_file(&o.path, b"x").is_err(), "{g}");
        }
        d.reset_security_state().unwrap();
        let s = stats(&card);
        assert!(s.apdus > 20, "{g}: the operations reached the card");
        assert!(
            s.ins(0x20) >= 2,
            "{g}: the status queries are VERIFY without data"
        );
        assert_eq!(all_with_data(&card), 0, "{g}: {:?}", s.verify_with_data);
        assert_eq!(pin_changes(&card), 0, "{g}");
        assert_eq!(tries(&card), (3, 10), "{g}: no try was spent");
    }
}

#[test]
fn a_blocked_pin_or_puk_is_reported_by_a_status_query_never_probed() {
    for g in GENERATIONS {
        let (pin_ref, puk_ref) = refs(g);
        let (mut d, card) = driver_with_tries(g, 0, 0);
        for (kind, reference) in [(PinKind::User, pin_ref), (PinKind::Puk, puk_ref)] {
            let before = stats(&card);
            let s = d.pin_status(kind).unwrap();
            assert_eq!(s.state, PinState::Blocked, "{g} {kind:?}");
            assert_eq!(s.tries_left(), 0);
            let after = stats(&card);
            // one VERIFY, without data, for this reference (CPS4 may open its channel first)
            assert_eq!(after.verify.get(&reference), Some(&1), "{g} {kind:?}");
            assert_eq!(after.ins(0x20) - before.ins(0x20), 1, "{g} {kind:?}");
        }
        assert_eq!(all_with_data(&card), 0, "{g}");
        // asking again does not probe either
        assert!(d.pin_status(PinKind::User).unwrap().is_blocked());
        assert_eq!(all_with_data(&card), 0, "{g}");
    }
}

#[test]
fn a_wrong_pin_costs_exactly_one_try_and_is_never_retried() {
    for g in GENERATIONS {
        let (pin_ref, _) = refs(g);
        let (mut d, card) = driver(g);
        for left in [2u8, 1] {
            let before = stats(&card).apdus;
            assert_eq!(
                d.verify(&Pin::user("0000").unwrap()),
                Err(CardError::PinIncorrect { tries_left: left }),
                "{g}"
            );
            assert_eq!(with_data(&card, pin_ref), u64::from(3 - left), "{g}");
            assert_eq!(tries(&card).0, left, "{g}: the card spent one try");
            // the VERIFY alone (CPS4: its channel is opened by the first command)
            let sent = stats(&card).apdus - before;
            assert!(sent <= 2, "{g}: {sent} APDUs for one VERIFY");
        }
        // the right PIN resets the counter, with one VERIFY
        d.verify(&Pin::user(PIN).unwrap()).unwrap();
        assert_eq!(with_data(&card, pin_ref), 3, "{g}");
        assert_eq!(tries(&card).0, 3, "{g}");
    }
}

#[test]
fn a_wrong_puk_costs_one_puk_try_and_nothing_else() {
    for g in GENERATIONS {
        let (pin_ref, puk_ref) = refs(g);
        let (mut d, card) = driver(g);
        let e = d
            .unblock_pin(&Pin::puk("00000000").unwrap(), &Pin::user("4321").unwrap())
            .unwrap_err();
        assert_eq!(e, CardError::PinIncorrect { tries_left: 9 }, "{g}");
        assert_eq!(with_data(&card, puk_ref), 1, "{g}");
        assert_eq!(with_data(&card, pin_ref), 0, "{g}");
        assert_eq!(pin_changes(&card), 0, "{g}: no new PIN after a wrong PUK");
        assert_eq!(tries(&card), (3, 9), "{g}");
        // a wrong old PIN in a change: one PIN try, the PIN is not changed
        let e = d
            .change_pin(&Pin::user("0000").unwrap(), &Pin::user("4321").unwrap())
            .unwrap_err();
        assert_eq!(e, CardError::PinIncorrect { tries_left: 2 }, "{g}");
        assert_eq!(tries(&card), (2, 9), "{g}");
        assert_eq!(card.lock().unwrap().image().pin, PIN, "{g}");
        // CPS3 checks the old PIN inside CHANGE REFERENCE DATA, CPS4 by a VERIFY first
        let spent = with_data(&card, pin_ref) + stats(&card).ins(0x24);
        assert_eq!(spent, 1, "{g}: one command carried the wrong PIN");
        // the right PUK unblocks
        d.unblock_pin(&Pin::puk(PUK).unwrap(), &Pin::user("4321").unwrap())
            .unwrap();
        assert_eq!(tries(&card), (3, 10), "{g}");
        assert_eq!(with_data(&card, puk_ref), 2, "{g}");
    }
}

#[test]
fn a_pin_command_is_not_replayed_after_a_reset_by_another_application() {
    for g in GENERATIONS {
        let (pin_ref, _) = refs(g);
        let (mut d, card) = driver(g);
        d.pin_status(PinKind::User).unwrap(); // CPS4: channel open
                                              // the card is reset right after it processed the VERIFY: the driver reconnects and
                                              // reports the reset, it does not send the PIN again
        card.lock().unwrap().faults_mut().reset_after = Some(1);
        let e = d.verify(&Pin::user("0000").unwrap()).unwrap_err();
        assert_eq!(tries(&card).0, 2, "{g}: the wrong PIN was checked once");
        assert_eq!(with_data(&card, pin_ref), 1, "{g}: {e}");
        // the next operation works again, and costs nothing
        assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 2, "{g}");
        assert_eq!(with_data(&card, pin_ref), 1, "{g}");
        // a reset noticed before the VERIFY is sent: the driver reconnects, the PIN is not
        // sent at all (the user logs in again)
        card.lock().unwrap().faults_mut().reset_after = Some(1);
        d.pin_status(PinKind::User).unwrap();
        let r = d.verify(&Pin::user(PIN).unwrap());
        assert_eq!(r, Err(CardError::CardReset), "{g}");
        assert_eq!(with_data(&card, pin_ref), 1, "{g}: never replayed");
    }
}

#[test]
fn a_verify_refused_with_a_channel_or_length_status_is_not_resent() {
    for g in GENERATIONS {
        let (pin_ref, _) = refs(g);
        // 68 81 (CPS4: channel closed) and 6C xx (T=0 "wrong Le"): the card did not check
        // the code; sending it again would cost a try if it did
        for sw in [0x6881u16, 0x6C08] {
            let (mut d, card) = driver(g);
            d.pin_status(PinKind::User).unwrap();
            card.lock().unwrap().faults_mut().status_for_ins = Some((0x20, sw));
            let r = d.verify(&Pin::user(PIN).unwrap());
            card.lock().unwrap().faults_mut().status_for_ins = None;
            assert!(r.is_err(), "{g} {sw:04X}");
            assert_eq!(with_data(&card, pin_ref), 1, "{g} {sw:04X}: {r:?}");
            assert_eq!(tries(&card).0, 3, "{g} {sw:04X}");
        }
    }
}

#[test]
fn a_pin_of_bad_format_is_refused_before_any_apdu() {
    for g in GENERATIONS {
        let (mut d, card) = driver(g);
        for bad in ["", "123", "12345", "12a4", "12 4", "١٢٣٤"] {
            assert!(
                matches!(Pin::user(bad), Err(CardError::PinFormat(_))),
                "{bad:?}"
            );
        }
        for bad in ["1234567", "123456789", "1234567x"] {
            assert!(
                matches!(Pin::puk(bad), Err(CardError::PinFormat(_))),
                "{bad:?}"
            );
        }
        assert!(Pin::from_bytes(PinKind::User, &[0x31, 0x32, 0x33, 0xFF]).is_err());
        // a code of the wrong kind in the wrong place: refused by the driver, no APDU
        let pin = Pin::user(PIN).unwrap();
        let puk = Pin::puk(PUK).unwrap();
        assert!(matches!(
            d.change_pin(&puk, &pin),
            Err(CardError::InvalidInput(_))
        ));
        assert!(matches!(
            d.unblock_pin(&pin, &pin),
            Err(CardError::InvalidInput(_))
        ));
        assert!(matches!(d.reset_pin(&puk), Err(CardError::InvalidInput(_))));
        assert_eq!(stats(&card).apdus, 0, "{g}");
    }
}
