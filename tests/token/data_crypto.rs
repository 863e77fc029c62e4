//! Data objects (public without login, private after, CPS2ter volet on CPS3, CPS_DATA
//! written whole), decryption with the authentication key, software encryption and
//! verification, random bytes, and cards that are not CPS cards.

use crate::token_common;

use cpscard::emulator::Generation;
use cpscard::sign::{MechanismKind, PinSource};
use cpscard::token::{Token, TokenError, TokenOptions};
use cpscard::transport::{CardLink, Protocol, Transmit, TransportError};
use rsa::Pkcs1v15Encrypt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use token_common::*;

#[test]
fn data_objects_public_private_and_sizes() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        let id_card = t.data_object_by_label("CPS_ID_CARD").unwrap().id.clone();
        reset_stats(&card);
        let size = t.data_size(&id_card).unwrap().unwrap();
        let select_only = apdus(&card);
        assert!(select_only <= 2, "size from the FCP: {select_only} APDUs");
        assert_eq!(card.lock().unwrap().stats().ins(0xB0), 0, "nothing read");
        let v = t.read_data(&id_card).unwrap();
        assert_eq!(v.len(), size);
        assert!(String::from_utf8_lossy(&v).contains("CPS_ID_CARD"));
        // private objects: not before login, and not a single APDU for the refusal
        let private: Vec<_> = t
            .data_objects()
            .iter()
            .filter(|d| d.private)
            .map(|d| (d.label.clone(), d.id.clone()))
            .collect();
        assert!(private.len() >= 3, "{private:?}");
        reset_stats(&card);
        for (_, id) in &private {
            assert_eq!(t.read_data(id), Err(TokenError::NotLoggedIn));
        }
        assert_eq!(apdus(&card), 0);
        t.login(PinSource::given("1234").unwrap()).unwrap();
        for (label, id) in &private {
            let v = t.read_data(id).unwrap();
            let text = String::from_utf8_lossy(&v);
            // the emulator's placeholder contents name the object
            let stem = label
                .trim_start_matches("CPS2TER_")
                .trim_start_matches("CPS_");
            assert!(
                text.contains(stem.trim_end_matches("_PS")),
                "{label}: {text}"
            );
            assert_eq!(t.data_size(id).unwrap(), Some(v.len()));
        }
    }
}

#[test]
fn cps_data_is_written_whole_after_login() {
    for g in GENERATIONS {
        let (mut t, _) = token(g, "cps");
        let data = t.data_object_by_label("CPS_DATA").unwrap().id.clone();
        let id_card = t.data_object_by_label("CPS_ID_CARD").unwrap().id.clone();
        assert_eq!(t.write_data(&data, b"x"), Err(TokenError::NotLoggedIn));
        t.login(PinSource::given("1234").unwrap()).unwrap();
        assert_eq!(t.write_data(&id_card, b"x"), Err(TokenError::ReadOnly));
        let size = t.data_size(&data).unwrap().unwrap();
        t.write_data(&data, b"hello CPS_DATA").unwrap();
        let v = t.read_data(&data).unwrap();
        assert_eq!(v.len(), size);
        assert_eq!(&v[..14], b"hello CPS_DATA");
        assert!(v[14..].iter().all(|b| *b == 0));
    }
}

#[test]
fn decrypt_encrypt_and_random() {
    for g in GENERATIONS {
        let (mut t, _) = token(g, "cps");
        let aut = t.authentication_key().unwrap().id.clone();
        let aut_pub = t
            .public_keys()
            .iter()
            .find(|p| p.pkcs15_id == t.authentication_key().unwrap().pkcs15_id)
            .unwrap()
            .id
            .clone();
        let sig_pub = t
            .public_keys()
            .iter()
            .find(|p| p.pkcs15_id == t.signature_key().unwrap().pkcs15_id)
            .unwrap()
            .id
            .clone();
        let key = rsa_key(&fixture(g, "cps", "auth.der"));
        let secret = b"session key 0123456789abcdef";
        let c = key
            .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, secret)
            .unwrap();
        assert_eq!(
            t.decrypt(&aut, MechanismKind::RsaPkcs, &c),
            Err(TokenError::NotLoggedIn)
        );
        t.login(PinSource::given("1234").unwrap()).unwrap();
        assert_eq!(
            t.decrypt(&aut, MechanismKind::RsaPkcs, &c)
                .unwrap()
                .as_slice(),
            secret
        );
        // our software encryption, the card's decryption
        let c2 = t
            .encrypt(&aut_pub, MechanismKind::RsaPkcs, b"to the card")
            .unwrap();
        assert_eq!(
            t.decrypt(&aut, MechanismKind::RsaPkcs, &c2)
                .unwrap()
                .as_slice(),
            b"to the card"
        );
        // the signature key's public key does not encrypt
        assert!(matches!(
            t.encrypt(&sig_pub, MechanismKind::RsaPkcs, b"x"),
            Err(TokenError::KeyFunctionNotPermitted(_))
        ));
        // a cryptogram of a wrong padding
        let bogus = t
            .encrypt(&aut_pub, MechanismKind::RsaX509, &[0x42; 256])
            .unwrap();
        assert_eq!(
            t.decrypt(&aut, MechanismKind::RsaPkcs, &bogus),
            Err(TokenError::EncryptedDataInvalid)
        );
        assert!(matches!(
            t.decrypt(&aut, MechanismKind::RsaPkcs, &c[..100]),
            Err(TokenError::DataLenRange { .. })
        ));
        if g == Generation::Cps4 {
            // raw decryption (CKM_RSA_X_509) gives the block back
            assert_eq!(
                t.decrypt(&aut, MechanismKind::RsaX509, &bogus)
                    .unwrap()
                    .as_slice(),
                &[0x42; 256]
            );
        }
        let r1 = t.generate_random(20).unwrap();
        let r2 = t.generate_random(20).unwrap();
        assert_eq!(r1.len(), 20);
        assert_ne!(r1, r2);
    }
}

/// A reader whose card answers every command with `answer(apdu)`, counting them.
struct FakeReader {
    link: CardLink,
    sent: Arc<AtomicUsize>,
    answer: fn(&[u8]) -> Vec<u8>,
}

impl FakeReader {
    fn new(atr: &str, sent: &Arc<AtomicUsize>, answer: fn(&[u8]) -> Vec<u8>) -> Self {
        FakeReader {
            link: CardLink {
                reader: "fake".into(),
                atr: hex::decode(atr).unwrap(),
                protocol: Protocol::T0,
            },
            sent: Arc::clone(sent),
            answer,
        }
    }
}

impl Transmit for FakeReader {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok((self.answer)(apdu))
    }
}

cpscard::bare_card_transport!(FakeReader, link);

#[test]
fn other_cards_are_not_recognized() {
    let sent = Arc::new(AtomicUsize::new(0));
    // an unknown ATR: no APDU at all
    let r = FakeReader::new("3B8F8001804F0CA000000306030001000000006A", &sent, |_| {
        vec![0x90, 0x00]
    });
    let e = Token::open(Box::new(r), TokenOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, TokenError::NotRecognized(_)), "{e}");
    assert_eq!(sent.load(Ordering::Relaxed), 0);
    // a CPS3 ATR but an EF.SN.ICC of another issuer
    let r = FakeReader::new("3BAC00402A001225006480000310009000", &sent, |apdu| {
        if apdu.get(1) == Some(&0xB0) {
            hex::decode("5A0A80250000021234567890009000").unwrap()
        } else {
            vec![0x90, 0x00]
        }
    });
    let e = Token::open(Box::new(r), TokenOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, TokenError::NotRecognized(_)), "{e}");
}
