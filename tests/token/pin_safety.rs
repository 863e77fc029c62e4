//! PIN tries are precious (issue 6 item 2), through the token layer, on both emulated cards
//! (the emulator counts VERIFY per reference, with and without data, and keeps the tries):
//!
//! - opening the token and every operation that involves no login send no VERIFY with data;
//! - a blocked PIN is reported by a status query, never probed with a VERIFY;
//! - a wrong PIN costs exactly one try and is never retried (not re-asked either);
//! - a PIN of bad format costs zero APDUs (given) or no VERIFY (typed in a PIN dialog).

use cpscard::card::{PinKind, PinState};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Stats};
use cpscard::sign::{Mechanism, MechanismKind, PinEntry, PinRequest, PinSource};
use cpscard::token::{Token, TokenError, TokenOptions};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

type Card = Arc<Mutex<EmulatedCard>>;

const GENERATIONS: [Generation; 2] = [Generation::Cps3, Generation::Cps4];
const PIN: &str = "1234";

fn token_over(card: EmulatedCard) -> (Token, Card) {
    let reader = EmulatedReader::new(card);
    let handle = reader.card();
    (
        Token::open(Box::new(reader), TokenOptions::default()).unwrap(),
        handle,
    )
}

fn token(g: Generation, name: &str) -> (Token, Card) {
    token_over(EmulatedCard::builtin(g, name).unwrap())
}

fn token_with_tries(g: Generation, pin_tries: u8) -> (Token, Card) {
    let mut image = EmulatedCard::builtin(g, "cps").unwrap().image().clone();
    image.counters.pin_tries = pin_tries;
    token_over(EmulatedCard::from_image(image, None).unwrap())
}

fn stats(card: &Card) -> Stats {
    card.lock().unwrap().stats().clone()
}

fn with_data(card: &Card) -> u64 {
    stats(card).verify_with_data.values().sum()
}

fn pin_tries(card: &Card) -> u8 {
    card.lock().unwrap().image().counters.pin_tries
}

/// A PIN dialog that answers with a fixed code and counts how often it was asked.
struct Dialog {
    code: &'static str,
    asked: usize,
}

impl PinEntry for Dialog {
    fn get_pin(&mut self, _request: &PinRequest) -> Result<Zeroizing<String>, TokenError> {
        self.asked += 1;
        Ok(Zeroizing::new(self.code.to_owned()))
    }
}

#[test]
fn opening_and_using_a_token_without_login_sends_no_verify_with_data() {
    for g in GENERATIONS {
        for name in ["cps", "cpe", "cpa"] {
            let (mut t, card) = token(g, name);
            let _ = t.identity().unwrap();
            let _ = (t.certificates().len(), t.mechanisms(), t.object_ids());
            for kind in [PinKind::User, PinKind::Puk] {
                t.refresh_pin_status(kind).unwrap();
            }
            let public: Vec<_> = t
                .data_objects()
                .iter()
                .filter(|d| !d.private)
                .map(|d| d.id.clone())
                .collect();
            for id in &public {
                t.read_data(id).unwrap();
            }
            t.generate_random(24).unwrap();
            // key operations without login are refused, the token does not log in by itself
            let key = t.authentication_key().unwrap().id.clone();
            assert!(
                t.sign(&key, Mechanism::Sha256RsaPkcs, b"x").is_err(),
                "{g} {name}"
            );
            assert!(
                t.decrypt(&key, MechanismKind::RsaPkcs, &[0x22; 256])
                    .is_err(),
                "{g} {name}"
            );
            t.logout().unwrap();
            let s = stats(&card);
            assert!(s.apdus > 10 && s.ins(0x20) >= 2, "{g} {name}: {s:?}");
            assert_eq!(with_data(&card), 0, "{g} {name}: {:?}", s.verify_with_data);
            assert_eq!(s.ins(0x24) + s.ins(0x2C), 0, "{g} {name}");
            assert_eq!(pin_tries(&card), 3, "{g} {name}");
        }
    }
}

#[test]
fn a_blocked_pin_is_reported_by_a_status_query_never_probed() {
    for g in GENERATIONS {
        let (mut t, card) = token_with_tries(g, 0);
        let opened = stats(&card);
        let s = t.pin_status(PinKind::User).unwrap();
        assert_eq!(s.state, PinState::Blocked, "{g}");
        let after = stats(&card);
        assert!(
            after.ins(0x20) - opened.ins(0x20) <= 1,
            "{g}: one status query at most"
        );
        assert_eq!(with_data(&card), 0, "{g}");
        // a PIN dialog is not even shown: the token knows the PIN is blocked
        let mut dialog = Dialog {
            code: PIN,
            asked: 0,
        };
        assert_eq!(
            t.login(PinSource::Entry(&mut dialog)),
            Err(TokenError::PinLocked),
            "{g}"
        );
        assert_eq!(dialog.asked, 0, "{g}");
        assert_eq!(with_data(&card), 0, "{g}: a blocked PIN was probed");
        // given by the application (C_Login), or as the old PIN of C_SetPIN: refused as well
        assert_eq!(
            t.login(PinSource::given(PIN).unwrap()),
            Err(TokenError::PinLocked)
        );
        let r = t.change_pin(
            PinSource::given(PIN).unwrap(),
            PinSource::given("4321").unwrap(),
        );
        assert_eq!(r, Err(TokenError::PinLocked), "{g}");
        assert_eq!(with_data(&card), 0, "{g}: a blocked PIN was probed");
        assert_eq!(stats(&card).ins(0x24), 0, "{g}");
        // the same from a fresh token whose first question is the login
        let (mut t, card) = token_with_tries(g, 0);
        let mut dialog = Dialog {
            code: PIN,
            asked: 0,
        };
        assert_eq!(
            t.login(PinSource::Entry(&mut dialog)),
            Err(TokenError::PinLocked)
        );
        assert_eq!((dialog.asked, with_data(&card)), (0, 0), "{g}");
    }
}

#[test]
fn a_wrong_pin_costs_exactly_one_try_and_is_never_retried() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        // given (C_Login): one VERIFY, one try, the error says how many are left
        assert_eq!(
            t.login(PinSource::given("0000").unwrap()),
            Err(TokenError::PinIncorrect { tries_left: 2 }),
            "{g}"
        );
        assert_eq!((with_data(&card), pin_tries(&card)), (1, 2), "{g}");
        // typed in a dialog: asked once, checked once, not asked again on the user's behalf
        let mut dialog = Dialog {
            code: "9999",
            asked: 0,
        };
        assert_eq!(
            t.login(PinSource::Entry(&mut dialog)),
            Err(TokenError::PinIncorrect { tries_left: 1 }),
            "{g}"
        );
        assert_eq!(dialog.asked, 1, "{g}");
        assert_eq!((with_data(&card), pin_tries(&card)), (2, 1), "{g}");
        // the tries left come from the VERIFY answer: no further APDU to report them
        let before = stats(&card).apdus;
        assert_eq!(t.pin_status(PinKind::User).unwrap().tries_left(), 1, "{g}");
        assert_eq!(stats(&card).apdus, before, "{g}");
        // a wrong old PIN in C_SetPIN: one try, the PIN unchanged
        let r = t.change_pin(
            PinSource::given("0000").unwrap(),
            PinSource::given("4321").unwrap(),
        );
        assert!(
            matches!(
                r,
                Err(TokenError::PinIncorrect { tries_left: 0 } | TokenError::PinLocked)
            ),
            "{g}: {r:?}"
        );
        assert_eq!(pin_tries(&card), 0, "{g}");
        assert_eq!(card.lock().unwrap().image().pin, PIN, "{g}");
        // blocked now: a dialog is not shown, nothing is sent
        let sent = with_data(&card);
        let mut dialog = Dialog {
            code: PIN,
            asked: 0,
        };
        assert_eq!(
            t.login(PinSource::Entry(&mut dialog)),
            Err(TokenError::PinLocked)
        );
        assert_eq!((dialog.asked, with_data(&card)), (0, sent), "{g}");
        assert_eq!(
            t.login(PinSource::given(PIN).unwrap()),
            Err(TokenError::PinLocked)
        );
        assert_eq!(with_data(&card), sent, "{g}");
    }
}

#[test]
fn a_pin_of_bad_format_costs_no_apdu() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        t.refresh_pin_status(PinKind::User).unwrap();
        card.lock().unwrap().reset_stats();
        // given: refused while building the source (C_Login checks the length first)
        for bad in ["123", "12345", "abcd", ""] {
            assert!(
                matches!(PinSource::given(bad), Err(TokenError::PinFormat(_))),
                "{bad:?}"
            );
            assert!(
                PinSource::given_bytes(PinKind::User, bad.as_bytes()).is_err(),
                "{bad:?}"
            );
        }
        assert!(PinSource::given_puk("1234").is_err());
        // a PUK where the PIN is expected (and the reverse): refused by the token
        let r = t.login(PinSource::given_puk("12345678").unwrap());
        assert!(matches!(r, Err(TokenError::PinFormat(_))), "{g}: {r:?}");
        let r = t.login_puk(PinSource::given(PIN).unwrap());
        assert!(matches!(r, Err(TokenError::PinFormat(_))), "{g}: {r:?}");
        // a new PIN of bad format typed in a dialog: nothing sent, the PUK not spent
        let mut dialog = Dialog {
            code: "12",
            asked: 0,
        };
        let r = t.unblock_pin(
            PinSource::given_puk("12345678").unwrap(),
            PinSource::Entry(&mut dialog),
        );
        assert!(matches!(r, Err(TokenError::PinFormat(_))), "{g}: {r:?}");
        assert_eq!(stats(&card).apdus, 0, "{g}: {:?}", stats(&card).by_ins);
        // a login typed in a dialog with a bad format: no VERIFY with data (the dialog may
        // have shown the tries left, cached here)
        let mut dialog = Dialog {
            code: "12345",
            asked: 0,
        };
        let r = t.login(PinSource::Entry(&mut dialog));
        assert!(matches!(r, Err(TokenError::PinFormat(_))), "{g}: {r:?}");
        assert_eq!(dialog.asked, 1);
        assert_eq!(stats(&card).apdus, 0, "{g}");
        assert_eq!(pin_tries(&card), 3, "{g}");
    }
}
