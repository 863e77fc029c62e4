//! APDUs per operation (DESIGN §8), counted by the emulator and bounded: first open, warm
//! open, token info polling, login, one signature per key, one PSS signature on CPS4.
//! Run with `--nocapture` to see the numbers.

mod token_common;

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
            assert!(pss <= 3 && host_pss <= 4, "{pss} {host_pss}");
        }
        drop(t);
        let (r, card) = reader(g, "cps");
        let warm = count(&card, || {
            Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        });
        println!("{}: warm open {warm}", gen_name(g));
        assert!(open <= 40 && warm <= 5);
        assert!(sign_aut <= 5 && sign_sig <= 7, "{sign_aut} {sign_sig}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
