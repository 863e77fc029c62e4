//! The CPS3 driver against the emulated CPS3 (in-process reader): binding, PIN, every
//! signature path verified with the fixture certificates, decipher, CPS_DATA, CPS2ter volet,
//! resets by another application, and APDU counts.

use crate::driver_common;

use cpscard::card::{
    CardBinding, CardError, CardKind, Cps2terFile, HashAlg, KeyRef, MemoryCache, MessageHasher,
    Pin, PinKind, PinState, SignAlgorithm,
};
use cpscard::emulator::{Generation, Interface, VirtualCard};
use driver_common::*;
use rsa::Pkcs1v15Sign;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const SIG: KeyRef = KeyRef::CPS3_SIGNATURE;
const AUT: KeyRef = KeyRef::CPS3_AUTHENTICATION;

fn cps3() -> (Box<dyn cpscard::card::CardDriver>, Card) {
    emulated(Generation::Cps3, "cps")
}

#[test]
fn binding_reads_the_whole_application_in_20_apdus() {
    let (mut d, card) = cps3();
    assert_eq!(d.kind(), CardKind::Cps3Contact);
    let b = d.bind(None).unwrap();
    let n = apdus(&card);
    println!("CPS3 bind: {n} APDUs");
    // EF.SN by SFI, then SELECT + GET RESPONSE + READ for ODF, TokenInfo, AODF, PrKDF, CDF,
    // and the DODF (two READs: more than 256 bytes)
    assert!(n <= 20, "bind took {n} APDUs");
    let info = card.lock().unwrap().image().info.clone();
    assert_eq!(b.serial.serial, info.serial);
    assert!(b.serial.luhn_valid);
    assert_eq!(b.token_info.label.as_deref(), Some(info.label.as_str()));
    assert_eq!(b.token_info.manufacturer_id.as_deref(), Some("ASIP-SANTE"));
    let pin = b.user_pin().unwrap();
    assert_eq!(
        (pin.reference, pin.min_length, pin.max_length),
        (1, 4, Some(4))
    );
    assert_eq!(b.puk().unwrap().reference, 2);
    // certificates, read lazily, are the image's
    assert_keys_and_certificates(&mut *d, &card, &b, [SIG, AUT]);
    assert_eq!(b.private_keys[0].label(), Some("CPS_PRIV_SIG"));
    let labels: Vec<_> = b
        .data_objects
        .iter()
        .filter_map(|o| o.common.label.clone())
        .collect();
    for l in [
        "CPS_DATA",
        "CPS_ID_CARD",
        "CPS_INFO_PS",
        "CPS_ACTIVITY_01_PS",
    ] {
        assert!(labels.iter().any(|x| x == l), "{l} missing from {labels:?}");
    }
}

trait Label {
    fn label(&self) -> Option<&str>;
}
impl Label for cpscard::card::pkcs15::PrivateKeyObject {
    fn label(&self) -> Option<&str> {
        self.common.label.as_deref()
    }
}

#[test]
fn a_warm_cache_leaves_only_the_serial_read() {
    let (mut d, card) = cps3();
    let n = warm_cache_bind_apdus(&mut *d, &card);
    println!("CPS3 bind with a warm cache: {n} APDUs");
    assert!(n <= 3, "{n}");
}

#[test]
fn login_and_signature_cost_few_apdus_and_verify() {
    let (mut d, card) = cps3();
    d.bind(None).unwrap();
    let before = apdus(&card);
    assert_eq!(
        d.pin_status(PinKind::User).unwrap().state,
        PinState::NotVerified { tries_left: 3 }
    );
    login_and_sign_sha1(&mut *d, &card, SIG, b"xxxxxxxxxxxxxxxxxxx\n");
    let n = apdus(&card) - before;
    println!("CPS3 PIN status + login + SHA1-RSA signature after bind: {n} APDUs");
    assert!(n <= 7, "{n}");
}

#[test]
fn signature_key_pso_hash_at_every_interesting_length() {
    let (mut d, card) = cps3();
    let (sig_key, _) = image_keys(&card);
    login(&mut *d, &card);
    for len in [1usize, 20, 63, 64, 65, 127, 128, 129, 1000, 5000] {
        let msg: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        for h in [HashAlg::Sha256, HashAlg::Sha1] {
            sign_verified(&mut *d, SIG, SignAlgorithm::Pkcs1Message(h), &msg, &sig_key);
        }
    }
    // streamed (C_SignUpdate)
    let mut h = MessageHasher::new(HashAlg::Sha256);
    h.update(&[1u8; 100]);
    h.update(&[2u8; 200]);
    let s = d.sign_message(SIG, &h).unwrap();
    let mut all = vec![1u8; 100];
    all.extend([2u8; 200]);
    sig_key
        .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&all), &s)
        .unwrap();
    // empty message: refused by the host, nothing sent
    let before = apdus(&card);
    assert!(matches!(
        d.sign(SIG, SignAlgorithm::Pkcs1Message(HashAlg::Sha256), b""),
        Err(CardError::InvalidInput(_))
    ));
    assert_eq!(apdus(&card), before);
}

#[test]
fn signature_key_over_host_hashes() {
    let (mut d, card) = cps3();
    let (sig_key, _) = image_keys(&card);
    login(&mut *d, &card);
    let digest = Sha256::digest(b"document");
    let alg = SignAlgorithm::Pkcs1Digest(HashAlg::Sha256);
    sign_verified(&mut *d, SIG, alg, &digest, &sig_key);
    // CKM_RSA_PKCS with a DigestInfo on the signature key: stripped, bare hash to the card
    let d1 = Sha1::digest(b"document");
    let di = cpscard::card::rsa_pad::digest_info(HashAlg::Sha1, &d1).unwrap();
    sign_verified(&mut *d, SIG, SignAlgorithm::Pkcs1Raw, &di, &sig_key);
    assert!(!d.supports(SIG, SignAlgorithm::PssDigest(HashAlg::Sha256)));
}

#[test]
fn authentication_key_tls_signatures_and_decipher() {
    let (mut d, card) = cps3();
    let (_, aut_key) = image_keys(&card);
    login(&mut *d, &card);
    tls_client_signatures(&mut *d, AUT, &aut_key);
    deciphers(&mut *d, AUT, &aut_key, b"session key");
}

#[test]
fn without_login_the_card_refuses_and_nothing_is_retried() {
    let (mut d, card) = cps3();
    assert_eq!(
        d.sign(SIG, SignAlgorithm::Pkcs1Message(HashAlg::Sha256), b"x"),
        Err(CardError::SecurityNotSatisfied)
    );
    assert_eq!(verifies_with_data(&card, 1), 0);
}

#[test]
fn wrong_pins_count_down_block_and_the_puk_unblocks() {
    let (mut d, card) = cps3();
    let (pin, puk) = codes(&card);
    wrong_pins_block_the_pin(&mut *d, &card, 1);
    // GET DATA counters agree
    let c = counters(&card, PinKind::User);
    assert_eq!((c.0, c.1), (3, 0));
    let new = Pin::user("4321").unwrap();
    d.unblock_pin(&Pin::puk(&puk).unwrap(), &new).unwrap();
    let st = d.pin_status(PinKind::User).unwrap();
    assert_eq!(st.state, PinState::NotVerified { tries_left: 3 });
    d.verify(&new).unwrap();
    assert!(d.pin_status(PinKind::User).unwrap().is_verified());
    // change back
    d.change_pin(&new, &Pin::user(&pin).unwrap()).unwrap();
    d.verify(&Pin::user(&pin).unwrap()).unwrap();
    let puk_counters = counters(&card, PinKind::Puk);
    assert_eq!(puk_counters.0, 10);
    assert_eq!(puk_counters.2, Some(99), "one unblock used");
}

/// GET DATA counters (max, left, usage) through a concrete CPS3 driver on the same card.
fn counters(card: &Card, kind: PinKind) -> (u8, u8, Option<u16>) {
    let reader = cpscard::emulator::EmulatedReader::from_shared(card.clone());
    let mut cps3 = cpscard::card::Cps3Driver::new(Box::new(reader), CardKind::Cps3Contact).unwrap();
    let r = cps3.pin_counters(kind).unwrap();
    (r.max_tries, r.tries_left, r.usage_left)
}

#[test]
fn reset_pin_needs_the_puk() {
    let (mut d, _card) = cps3();
    assert_eq!(
        d.reset_pin(&Pin::user("1234").unwrap()),
        Err(CardError::SecurityNotSatisfied)
    );
}

#[test]
fn cps_data_round_trip_and_data_objects() {
    let (mut d, card) = cps3();
    let b = d.bind(None).unwrap();
    let data = b.data_object("CPS_DATA").unwrap().clone();
    assert!(data.common.is_modifiable());
    assert_cps_data_round_trip(&mut *d, &card, &data.path, b"hello");
    let size = d.file_size(&data.path).unwrap();
    assert!(matches!(
        d.write_file(&data.path, &vec![1u8; size + 1]),
        Err(CardError::InvalidInput(_))
    ));
    // a public object reads without PIN; an activity needs it (checked on a fresh card)
    let id = b.data_object("CPS_ID_CARD").unwrap();
    assert!(!d.read_file(&id.path).unwrap().is_empty());
    let (mut fresh, _) = cps3();
    let act = b.data_object("CPS_ACTIVITY_01_PS").unwrap();
    assert!(act.common.is_private());
    assert_eq!(
        fresh.read_file(&act.path),
        Err(CardError::SecurityNotSatisfied)
    );
    assert!(!d.read_file(&act.path).unwrap().is_empty());
}

#[test]
fn cps2ter_volet_after_login() {
    let (mut d, card) = cps3();
    login(&mut *d, &card);
    let fact = d.read_cps2ter(Cps2terFile::SitFact).unwrap();
    assert!(!fact.is_empty());
    let act = d.read_cps2ter(Cps2terFile::Activity(1)).unwrap();
    assert!(!act.is_empty());
    // the IAS side still works afterwards
    let (sig_key, _) = image_keys(&card);
    let alg = SignAlgorithm::Pkcs1Message(HashAlg::Sha256);
    sign_verified(&mut *d, SIG, alg, b"after volet", &sig_key);
}

#[test]
fn a_reset_by_another_application_loses_the_login_but_never_replays_a_verify() {
    let (mut d, card) = a_reset_loses_the_login(Generation::Cps3, SIG);
    // a reset right before a VERIFY: CardReset, and the VERIFY never reaches the card
    card.lock().unwrap().faults_mut().reset_after = Some(1);
    d.pin_status(PinKind::User).unwrap();
    let before = verifies_with_data(&card, 1);
    let (pin, _) = codes(&card);
    assert_eq!(
        d.verify(&Pin::user(&pin).unwrap()),
        Err(CardError::CardReset)
    );
    assert_eq!(verifies_with_data(&card, 1), before);
    login(&mut *d, &card);
}

#[test]
fn removal_is_reported() {
    let (mut d, card) = cps3();
    card.lock().unwrap().faults_mut().remove_after = Some(1);
    let _ = d.pin_status(PinKind::User);
    assert_eq!(d.pin_status(PinKind::User), Err(CardError::CardRemoved));
}

#[test]
fn get_challenge_gives_fresh_bytes() {
    let (mut d, _) = cps3();
    let a = d.get_challenge(20).unwrap();
    let b = d.get_challenge(20).unwrap();
    assert_eq!(a.len(), 20);
    assert_ne!(a, b);
}

#[test]
fn every_fixture_card_binds_and_signs() {
    let alg = SignAlgorithm::Pkcs1Digest(HashAlg::Sha256);
    every_fixture_card_signs(Generation::Cps3, AUT, alg, |name, _, b| {
        assert!(
            b.token_info.label.as_deref().unwrap_or("").contains("CPS3"),
            "{name}"
        );
    });
}

#[test]
fn contactless_interface_binds_without_pin_and_signs_with_the_technical_key() {
    let (mut d, card) = emulated_with(Generation::Cps3, Interface::Cps3Contactless);
    assert_eq!(d.kind(), CardKind::Cps3Contactless);
    let b = d.bind(None).unwrap();
    assert!(b.pins.is_empty());
    let key = b
        .private_keys
        .iter()
        .find_map(CardBinding::key_ref)
        .unwrap();
    assert_eq!(key, KeyRef::CPS3_TECHNICAL);
    assert!(matches!(
        d.pin_status(PinKind::User),
        Err(CardError::Unsupported(_))
    ));
    let cert = b.certificate_of(&b.private_keys[0]).unwrap();
    let public = cert_key(&d.read_file(&cert.path).unwrap());
    let digest = Sha256::digest(b"badge");
    let di = cpscard::card::rsa_pad::digest_info(HashAlg::Sha256, &digest).unwrap();
    sign_verified(&mut *d, key, SignAlgorithm::Pkcs1Raw, &di, &public);
    let _ = card;
}

#[test]
fn counters_through_get_data() {
    let (_d, card) = cps3();
    assert_eq!(counters(&card, PinKind::User), (3, 3, None));
    assert_eq!(counters(&card, PinKind::Puk), (10, 10, Some(100)));
}

/// A whole first use as the PKCS#11 module would do it: bind, both certificates, PIN state,
/// login, one signature — cold, then in a new process with a warm file cache.
#[test]
fn apdus_for_a_first_signature_cold_and_warm() {
    use cpscard::card::FileCache;
    fn flow(d: &mut dyn cpscard::card::CardDriver, card: &Card, cache: &mut MemoryCache) -> u64 {
        let before = apdus(card);
        let b = d.bind(Some(cache)).unwrap();
        for cert in &b.certificates {
            let key = b.cache_key();
            if cache.get(&key, &cert.path).is_none() {
                let der = d.read_file(&cert.path).unwrap();
                cache.put(&key, &cert.path, &der);
            }
        }
        d.pin_status(PinKind::User).unwrap();
        login(d, card);
        d.sign(
            SIG,
            SignAlgorithm::Pkcs1Message(HashAlg::Sha256),
            b"ordonnance",
        )
        .unwrap();
        apdus(card) - before
    }
    let (mut d, card) = cps3();
    let mut cache = MemoryCache::default();
    let cold = flow(&mut *d, &card, &mut cache);
    // pcscd powers the card off between processes: fresh card state, warm cache
    card.lock().unwrap().power_off();
    let (mut d2, _) = emulated_card_from(&card);
    let warm = flow(&mut *d2, &card, &mut cache);
    println!("CPS3 bind + certificates + login + signature: cold {cold} APDUs, warm {warm}");
    // the vendor module needs 30 warm, OpenSC 94 (cryptolib-reference.md)
    assert!(warm < 30 && cold < 94, "cold {cold}, warm {warm}");
    assert!(warm <= 9, "warm {warm}");
}
