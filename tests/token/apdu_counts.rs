//! APDUs per operation (DESIGN §8, issue 7 item 1), counted by the emulator, exact: first
//! open, warm open, token info polling, login, one signature per key, one PSS signature on
//! CPS4. Run with `--nocapture` to see the numbers.

use crate::token_common;

use cpscard::card::PinKind;
use cpscard::emulator::Generation;
use cpscard::sign::{HashAlg, Mechanism, PinSource};
use cpscard::token::{Token, TokenOptions};
use token_common::*;

fn count(card: &Card, f: impl FnOnce()) -> u64 {
    reset_stats(card);
    f();
    apdus(card)
}

#[test]
fn apdus_per_operation() {
    for g in GENERATIONS {
        let dir = temp_dir("counts");
        let (r, card) = reader(g, "cps");
        let mut token = None;
        let open = count(&card, || {
            token = Some(Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap())
        });
        let mut t = token.unwrap();
        let info = count(&card, || {
            t.pin_status(PinKind::User).unwrap();
            t.pin_status(PinKind::Puk).unwrap();
        });
        let poll = count(&card, || {
            for _ in 0..20 {
                t.pin_status(PinKind::User).unwrap();
            }
        });
        let login = count(&card, || {
            t.login(PinSource::given("1234").unwrap()).unwrap()
        });
        let aut = t.authentication_key().unwrap().id.clone();
        let sig = t.signature_key().unwrap().id.clone();
        let sign_aut = count(&card, || {
            t.sign(&aut, Mechanism::Sha256RsaPkcs, b"x").unwrap();
        });
        let sign_aut_again = count(&card, || {
            t.sign(&aut, Mechanism::Sha256RsaPkcs, b"y").unwrap();
        });
        let sign_sig = count(&card, || {
            t.sign(&sig, Mechanism::Sha256RsaPkcs, b"x").unwrap();
        });
        let tls12 = count(&card, || {
            let di = HashAlg::Sha256.digest_info(&HashAlg::Sha256.digest(b"hs"));
            t.sign(&aut, Mechanism::RsaPkcs, &di).unwrap();
        });
        let identity = count(&card, || {
            t.identity().unwrap();
        });
        println!(
            "{}: open {open} (cold, all public objects), first PIN+PUK status {info}, 20 polls {poll}, \
             login {login}, sign AUT SHA256_RSA_PKCS {sign_aut} (then {sign_aut_again}), \
             sign SIG SHA256_RSA_PKCS {sign_sig}, AUT RSA_PKCS (TLS 1.2) {tls12}, identity {identity}",
            gen_name(g)
        );
        assert_eq!(poll, 0);
        assert_eq!(info, 2);
        assert_eq!(login, 1);
        if g == Generation::Cps4 {
            let pss = count(&card, || {
                t.sign(&aut, Mechanism::pss_of(HashAlg::Sha256), b"tls13")
                    .unwrap();
            });
            let host_pss = count(&card, || {
                t.sign(&aut, Mechanism::pss_of(HashAlg::Sha384), b"tls13")
                    .unwrap();
            });
            println!(
                "cps4: PSS SHA-256 (card) {pss}, PSS SHA-384 (host EMSA-PSS + raw RSA) {host_pss}"
            );
            assert_eq!((pss, host_pss), (2, 3));
        }
        drop(t);
        let (r, card) = reader(g, "cps");
        let warm = count(&card, || {
            Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        });
        println!("{}: warm open {warm}", gen_name(g));
        // warm: SELECT + READ BINARY of a cached certificate's head (CPS4: after opening
        // logical channel 1), which proves the card is the cached one
        let expected = match g {
            Generation::Cps3 => [32, 2, 3, 5, 3, 3],
            Generation::Cps4 => [27, 3, 3, 2, 3, 2],
        };
        assert_eq!(
            [open, warm, sign_aut, sign_sig, tls12, identity],
            expected,
            "open, warm open, sign AUT, sign SIG, TLS 1.2, identity"
        );
        assert_eq!(sign_aut_again, sign_aut);
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A browser reads every object's attributes at each poll: a public data object's value is
/// read from the card once; the writable CPS_DATA again once `pin_status_max_age` has passed
/// (another application may write it) and at once after our own write; private values are
/// never kept.
#[test]
fn public_data_values_are_read_once() {
    for g in GENERATIONS {
        let options = TokenOptions {
            pin_status_max_age: std::time::Duration::from_millis(1000),
            ..TokenOptions::default()
        };
        let (mut t, card) = token_with(g, "cps", options);
        let public: Vec<_> = t
            .data_objects()
            .iter()
            .filter(|d| !d.private)
            .map(|d| d.id.clone())
            .collect();
        assert!(public.len() >= 3, "{}", gen_name(g));
        let first = count(&card, || {
            for id in &public {
                t.read_data(id).unwrap();
            }
        });
        assert!(first >= public.len() as u64, "{}: {first}", gen_name(g));
        let values: Vec<_> = public.iter().map(|id| t.read_data(id).unwrap()).collect();
        let again = count(&card, || {
            for (id, v) in public.iter().zip(&values) {
                assert_eq!(&t.read_data(id).unwrap(), v);
            }
        });
        assert_eq!(again, 0, "{}: repeated reads", gen_name(g));

        let data = t.data_object_by_label("CPS_DATA").unwrap().id.clone();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(count(&card, || drop(t.read_data(&data).unwrap())) > 0);
        assert_eq!(count(&card, || drop(t.read_data(&data).unwrap())), 0);
        t.login(PinSource::given("1234").unwrap()).unwrap();
        t.write_data(&data, b"new value").unwrap();
        let mut after = Vec::new();
        assert!(count(&card, || after = t.read_data(&data).unwrap()) > 0);
        assert_eq!(&after[..9], b"new value");

        let private: Vec<_> = t
            .data_objects()
            .iter()
            .filter(|d| d.private)
            .map(|d| d.id.clone())
            .collect();
        assert!(!private.is_empty());
        for _ in 0..2 {
            let n = count(&card, || {
                for id in &private {
                    t.read_data(id).unwrap();
                }
            });
            assert!(
                n >= private.len() as u64,
                "{}: private reads {n}",
                gen_name(g)
            );
        }
    }
}
