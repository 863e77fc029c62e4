//! PIN and PUK through the token: tries decrease and are reported, the third wrong PIN
//! blocks, the PUK unblocks (one call, or C_Login(CKU_SO) + C_InitPIN), badly formatted codes
//! never reach the card, change and logout; card reset by another application; a corrupted
//! signature is never returned.

use crate::token_common;

use cpscard::card::{PinKind, PinState};
use cpscard::emulator::Generation;
use cpscard::sign::{HashAlg, Mechanism, PinSource};
use cpscard::token::TokenError;
use token_common::*;

fn pin(code: &str) -> PinSource<'static> {
    PinSource::given(code).unwrap()
}

#[test]
fn wrong_pins_block_and_the_puk_unblocks() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        assert_eq!(t.pin_status(PinKind::User).unwrap().tries_left(), 3);
        for left in [2u8, 1] {
            assert_eq!(
                t.login(pin("0000")),
                Err(TokenError::PinIncorrect { tries_left: left })
            );
            reset_stats(&card);
            // the answer of the VERIFY is the status: no APDU, never stale
            let s = t.pin_status(PinKind::User).unwrap();
            assert_eq!(s.tries_left(), left);
            assert_eq!(apdus(&card), 0);
            assert!(!t.is_logged_in());
        }
        // the third: blocked
        let e = t.login(pin("0000")).unwrap_err();
        assert!(
            matches!(
                e,
                TokenError::PinIncorrect { tries_left: 0 } | TokenError::PinLocked
            ),
            "{e}"
        );
        let s = t.refresh_pin_status(PinKind::User).unwrap();
        assert!(s.is_blocked(), "{s:?}");
        assert_eq!(s.tries_left(), 0);
        // even the right PIN is refused now, and the token knowing it blocked does not probe
        // it with a VERIFY (issue 6 item 2)
        reset_stats(&card);
        assert_eq!(t.login(pin("1234")), Err(TokenError::PinLocked));
        assert_eq!(verifies_with_data(&card), 0);
        // a wrong PUK costs a PUK try
        assert_eq!(
            t.unblock_pin(PinSource::given_puk("00000000").unwrap(), pin("4321")),
            Err(TokenError::PinIncorrect { tries_left: 9 })
        );
        assert_eq!(t.pin_status(PinKind::Puk).unwrap().tries_left(), 9);
        // unblock, then the new PIN works
        t.unblock_pin(PinSource::given_puk("12345678").unwrap(), pin("4321"))
            .unwrap();
        let s = t.pin_status(PinKind::User).unwrap();
        assert_eq!(s.state, PinState::NotVerified { tries_left: 3 });
        t.login(pin("4321")).unwrap();
        assert!(t.is_logged_in());
        let key = t.authentication_key().unwrap().id.clone();
        t.sign(&key, Mechanism::Sha256RsaPkcs, b"after unblock")
            .unwrap();
    }
}

#[test]
fn a_blocked_pin_is_unblocked_with_codes_from_a_provider() {
    for g in GENERATIONS {
        let (mut t, _card) = token(g, "cps");
        for _ in 0..3 {
            let _ = t.login(pin("0000"));
        }
        assert!(t.refresh_pin_status(PinKind::User).unwrap().is_blocked());
        // a pinentry-like provider asked for the PUK, then for the new PIN
        let answer = |r: &cpscard::sign::PinRequest| {
            Ok(zeroize::Zeroizing::new(match r.kind {
                PinKind::Puk => "12345678".to_string(),
                PinKind::User => "4321".to_string(),
            }))
        };
        let (mut for_puk, mut for_new) = (answer, answer);
        t.unblock_pin(
            PinSource::Entry(&mut for_puk),
            PinSource::Entry(&mut for_new),
        )
        .unwrap();
        t.login(pin("4321")).unwrap();
        assert!(t.is_logged_in());
        // asking for the code to log in with, while blocked, is refused before the provider
        for _ in 0..3 {
            let _ = t.login(pin("0000"));
        }
        let mut never =
            |_: &cpscard::sign::PinRequest| -> Result<zeroize::Zeroizing<String>, TokenError> {
                panic!("the provider must not be asked for a blocked PIN")
            };
        assert_eq!(
            t.login(PinSource::Entry(&mut never)),
            Err(TokenError::PinLocked)
        );
    }
}

#[test]
fn so_login_then_init_pin() {
    for g in GENERATIONS {
        let (mut t, _) = token(g, "cps");
        // C_InitPIN without the PUK verified: the card refuses
        assert_eq!(t.reset_pin(pin("5555")), Err(TokenError::NotLoggedIn));
        t.login_puk(PinSource::given_puk("12345678").unwrap())
            .unwrap();
        t.reset_pin(pin("5555")).unwrap();
        assert_eq!(
            t.login(pin("1234")),
            Err(TokenError::PinIncorrect { tries_left: 2 })
        );
        t.login(pin("5555")).unwrap();
    }
}

#[test]
fn badly_formatted_codes_never_reach_the_card() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        reset_stats(&card);
        for bad in ["12a4", "12345", "123", "", "12 4"] {
            assert!(
                matches!(PinSource::given(bad), Err(TokenError::PinFormat(_))),
                "{bad:?}"
            );
            let src = PinSource::given_bytes(PinKind::User, bad.as_bytes());
            assert!(matches!(src, Err(TokenError::PinFormat(_))));
        }
        // a PUK where a PIN is expected
        assert!(matches!(
            t.login(PinSource::given_puk("12345678").unwrap()),
            Err(TokenError::PinFormat(_))
        ));
        assert!(matches!(
            t.unblock_pin(
                PinSource::given_puk("12345678").unwrap(),
                PinSource::given_puk("12345678").unwrap()
            ),
            Err(TokenError::PinFormat(_))
        ));
        // a provider typing nonsense
        let mut typist =
            |_: &cpscard::sign::PinRequest| Ok(zeroize::Zeroizing::new("12x45".to_string()));
        reset_stats(&card);
        t.pin_status(PinKind::User).unwrap(); // fresh status: the provider call costs no APDU
        reset_stats(&card);
        assert!(matches!(
            t.login(PinSource::Entry(&mut typist)),
            Err(TokenError::PinFormat(_))
        ));
        assert_eq!(apdus(&card), 0);
        assert_eq!(t.pin_status(PinKind::User).unwrap().tries_left(), 3);
    }
}

#[test]
fn change_pin_and_logout() {
    for g in GENERATIONS {
        let (mut t, _) = token(g, "cps");
        assert_eq!(
            t.change_pin(pin("9999"), pin("2468")),
            Err(TokenError::PinIncorrect { tries_left: 2 })
        );
        t.change_pin(pin("1234"), pin("2468")).unwrap();
        t.logout().unwrap();
        assert!(!t.is_logged_in());
        let key = t.authentication_key().unwrap().id.clone();
        // logged out on the card too
        assert_eq!(
            t.sign(&key, Mechanism::Sha256RsaPkcs, b"x"),
            Err(TokenError::NotLoggedIn)
        );
        assert!(!t.refresh_pin_status(PinKind::User).unwrap().is_verified());
        assert_eq!(
            t.login(pin("1234")),
            Err(TokenError::PinIncorrect { tries_left: 2 })
        );
        t.login(pin("2468")).unwrap();
        t.sign(&key, Mechanism::Sha256RsaPkcs, b"x").unwrap();
    }
}

#[test]
fn a_reset_by_another_application_between_two_operations() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        t.login(pin("1234")).unwrap();
        let key = t.authentication_key().unwrap().id.clone();
        t.sign(&key, Mechanism::Sha256RsaPkcs, b"before").unwrap();
        // another application resets the card after our next APDU
        card.lock().unwrap().faults_mut().reset_after = Some(1);
        t.refresh_pin_status(PinKind::User).unwrap();
        let verifies = verifies_with_data(&card);
        // public objects: the driver reconnects, reselects and succeeds
        let id_card = t.data_object_by_label("CPS_ID_CARD").unwrap().id.clone();
        assert!(!t.read_data(&id_card).unwrap().is_empty());
        // and the token knows the PIN state is gone, though that read succeeded
        assert!(!t.is_logged_in());
        assert_eq!(t.cached_pin_status(PinKind::User), None);
        // the PIN state is gone: the token says so instead of replaying a VERIFY
        assert_eq!(
            t.sign(&key, Mechanism::Sha256RsaPkcs, b"after"),
            Err(TokenError::NotLoggedIn)
        );
        assert_eq!(verifies_with_data(&card), verifies, "no VERIFY replayed");
        assert!(!t.is_logged_in());
        assert!(!t.pin_status(PinKind::User).unwrap().is_verified());
        // log in again: works
        t.login(pin("1234")).unwrap();
        let sig = t.sign(&key, Mechanism::Sha256RsaPkcs, b"after").unwrap();
        assert_eq!(sig.len(), 256);

        // a reset in the middle of a signature: the driver reconnects and replays the
        // operation, which the card now refuses for want of the PIN
        card.lock().unwrap().faults_mut().reset_after = Some(1);
        assert_eq!(
            t.sign(&key, Mechanism::Sha256RsaPkcs, b"x"),
            Err(TokenError::NotLoggedIn)
        );
        assert_eq!(
            verifies_with_data(&card),
            verifies + 1,
            "only our own login"
        );
    }
}

#[test]
fn a_corrupted_signature_is_never_returned() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        t.login(pin("1234")).unwrap();
        let keys: Vec<_> = t.private_keys().iter().map(|k| k.id.clone()).collect();
        let mut mechanisms = vec![Mechanism::Sha256RsaPkcs, Mechanism::RsaPkcs];
        if g == Generation::Cps4 {
            mechanisms.push(Mechanism::pss_of(HashAlg::Sha256));
        }
        for key in &keys {
            for m in &mechanisms {
                card.lock().unwrap().faults_mut().corrupt_next_signature = true;
                let input = if *m == Mechanism::RsaPkcs {
                    HashAlg::Sha256.digest_info(&HashAlg::Sha256.digest(b"m"))
                } else {
                    b"m".to_vec()
                };
                assert_eq!(
                    t.sign(key, *m, &input),
                    Err(TokenError::CardSignatureInvalid),
                    "{m}"
                );
                // the next one is fine
                assert!(t.sign(key, *m, &input).is_ok());
            }
        }
        if g == Generation::Cps4 {
            // host PSS (SHA-512) through raw RSA
            let aut = t.authentication_key().unwrap().id.clone();
            card.lock().unwrap().faults_mut().corrupt_next_signature = true;
            assert_eq!(
                t.sign(&aut, Mechanism::pss_of(HashAlg::Sha512), b"m"),
                Err(TokenError::CardSignatureInvalid)
            );
        }
    }
}

#[test]
fn contactless_cps3_has_no_pin() {
    use cpscard::emulator::{EmulatedCard, EmulatedReader, Interface};
    let mut card = EmulatedCard::builtin(Generation::Cps3, "cps").unwrap();
    card.set_interface(Interface::Cps3Contactless).unwrap();
    let r = EmulatedReader::new(card);
    let mut t = cpscard::token::Token::open(Box::new(r), Default::default()).unwrap();
    assert!(!t.info().has_pin);
    assert_eq!(t.login(pin("1234")), Err(TokenError::NoPin));
    assert_eq!(t.pin_status(PinKind::User), Err(TokenError::NoPin));
}
