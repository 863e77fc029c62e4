//! PIN entry end to end: a pinpad reader (the emulated reader's pinpad mode parses our
//! PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE itself) and a pinentry program (a scripted
//! Assuan peer written by the test), with the tries left shown to the user.

use crate::token_common;

use cpscard::card::PinKind;
use cpscard::emulator::pinpad::KeyPress;
use cpscard::sign::{Mechanism, PinSource, PinentryProgram};
use cpscard::token::{Token, TokenError, TokenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use token_common::*;

#[test]
fn pinpad_login_wrong_pin_cancel_and_change() {
    for g in GENERATIONS {
        let (r, card) = reader(g, "cps");
        let (r, pad) = r.with_pinpad();
        let mut t = Token::open(Box::new(r), TokenOptions::default()).unwrap();
        assert!(t
            .info()
            .pinpad
            .is_some_and(|p| p.verify_pin_direct.is_some()));

        // a wrong PIN typed on the pinpad: the card's 63 C2 comes back
        pad.lock().unwrap().type_digits("9999");
        assert_eq!(
            t.login(PinSource::Pinpad),
            Err(TokenError::PinIncorrect { tries_left: 2 })
        );
        assert_eq!(t.cached_pin_status(PinKind::User).unwrap().tries_left(), 2);
        // cancel: nothing reaches the card
        let before = verifies_with_data(&card);
        pad.lock().unwrap().press(KeyPress::Cancel);
        assert_eq!(
            t.login(PinSource::Pinpad),
            Err(TokenError::PinEntryCancelled)
        );
        assert_eq!(verifies_with_data(&card), before);
        // a 5-digit PIN is refused by the pinpad itself (bounds 4..4 from our structure)
        pad.lock().unwrap().type_digits("12345");
        assert!(matches!(
            t.login(PinSource::Pinpad),
            Err(TokenError::PinEntry(_))
        ));
        assert_eq!(verifies_with_data(&card), before);
        // the right PIN
        pad.lock().unwrap().type_digits("1234");
        t.login(PinSource::Pinpad).unwrap();
        assert!(t.is_logged_in());
        let key = t.authentication_key().unwrap().id.clone();
        t.sign(&key, Mechanism::Sha256RsaPkcs, b"pinpad").unwrap();
        {
            let p = pad.lock().unwrap();
            let last = p.requests.last().unwrap();
            assert!(!last.modify);
            assert_eq!((last.min_digits, last.max_digits), (4, 4));
            let (cla, p2) = match g {
                cpscard::emulator::Generation::Cps3 => (0x00, 0x01),
                cpscard::emulator::Generation::Cps4 => (0x01, 0x81),
            };
            assert_eq!(&last.template[..5], &[cla, 0x20, 0x00, p2, 0x08]);
            assert_eq!(&last.template[5..], &[0xFF; 8]);
            assert_eq!(last.answer, [0x90, 0x00]);
        }
        // change on the pinpad: old (CPS3 only asks it in the same operation), new, new again
        {
            let mut p = pad.lock().unwrap();
            p.type_digits("1234");
            p.type_digits("8642");
            p.type_digits("8642");
        }
        t.change_pin(PinSource::Pinpad, PinSource::Pinpad).unwrap();
        assert_eq!(pad.lock().unwrap().pending(), 0);
        t.logout().unwrap();
        assert_eq!(
            t.login(PinSource::given("1234").unwrap()),
            Err(TokenError::PinIncorrect { tries_left: 2 })
        );
        t.login(PinSource::given("8642").unwrap()).unwrap();
        // mismatching confirmation: the pinpad refuses, nothing changes
        {
            let mut p = pad.lock().unwrap();
            p.type_digits("8642");
            p.type_digits("1111");
            p.type_digits("2222");
        }
        assert!(matches!(
            t.change_pin(PinSource::Pinpad, PinSource::Pinpad),
            Err(TokenError::PinEntry(_))
        ));
    }
}

#[test]
fn no_pinpad_no_pinpad_login() {
    let (mut t, card) = token(cpscard::emulator::Generation::Cps3, "cps");
    reset_stats(&card);
    assert!(matches!(
        t.login(PinSource::Pinpad),
        Err(TokenError::PinEntry(_))
    ));
    assert_eq!(apdus(&card), 0);
}

/// A pinpentry that logs what it is told and answers GETPIN with `pin` (or cancels).
fn pinentry_script(dir: &Path, pin: Option<&str>) -> PathBuf {
    let path = dir.join("pinentry");
    let log = dir.join("pinentry.log");
    let answer = match pin {
        Some(p) => format!("printf 'D %s\\nOK\\n' '{p}'"),
        None => "echo 'ERR 83886179 Operation cancelled <Pinentry>'".into(),
    };
    let body = format!(
        "#!/bin/sh\necho 'OK Pleased to meet you'\nwhile read -r line; do\n  echo \"$line\" >> '{}'\n  case \"$line\" in\n    GETPIN) {answer} ;;\n    BYE) echo OK; exit 0 ;;\n    *) echo OK ;;\n  esac\ndone\n",
        log.display()
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn pinentry_program_shows_the_card_and_tries_left() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        // one wrong PIN first
        assert!(t.login(PinSource::given("0000").unwrap()).is_err());
        let dir = temp_dir("pinentry");
        let mut wrong = PinentryProgram::new(pinentry_script(&dir, Some("1111")));
        assert_eq!(
            t.login(PinSource::Entry(&mut wrong)),
            Err(TokenError::PinIncorrect { tries_left: 1 })
        );
        let log = std::fs::read_to_string(dir.join("pinentry.log")).unwrap();
        assert!(
            log.contains("SETDESC Carte CPS 12345678 — PIN (2 essais restants)"),
            "{log}"
        );
        std::fs::remove_file(dir.join("pinentry.log")).unwrap();
        // the right PIN through the program, the description says "last try"
        let mut right = PinentryProgram::new(pinentry_script(&dir, Some("1234")));
        t.login(PinSource::Entry(&mut right)).unwrap();
        let log = std::fs::read_to_string(dir.join("pinentry.log")).unwrap();
        assert!(
            log.contains("SETDESC Carte CPS 12345678 — PIN (dernier essai)"),
            "{log}"
        );
        assert!(log.contains("SETTITLE Carte CPS") && log.contains("GETPIN"));
        assert!(t.is_logged_in());
        // cancelled: nothing sent
        t.logout().unwrap();
        let mut cancel = PinentryProgram::new(pinentry_script(&dir, None));
        let before = verifies_with_data(&card);
        assert_eq!(
            t.login(PinSource::Entry(&mut cancel)),
            Err(TokenError::PinEntryCancelled)
        );
        assert_eq!(verifies_with_data(&card), before);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn a_blocked_pin_is_not_even_asked() {
    let (mut t, _) = token(cpscard::emulator::Generation::Cps4, "cps");
    for _ in 0..3 {
        let _ = t.login(PinSource::given("0000").unwrap());
    }
    let mut asked = 0;
    let mut provider = |_: &cpscard::sign::PinRequest| {
        asked += 1;
        Ok(zeroize::Zeroizing::new("1234".to_string()))
    };
    assert_eq!(
        t.login(PinSource::Entry(&mut provider)),
        Err(TokenError::PinLocked)
    );
    assert_eq!(asked, 0);
}
