//! The CPS4 driver against the emulated CPS4 (in-process reader): the three ATRs, binding,
//! PIN, PKCS#1 v1.5 and PSS signatures, raw RSA, decipher, CPS_DATA, channel and reset
//! handling, APDU counts. Signatures verified with the fixture certificates.

use crate::driver_common;

use cpscard::card::{
    CardDriver, CardError, CardKind, Cps4Atr, DecipherPadding, HashAlg, KeyRef, Pin, PinKind,
    PinState, SignAlgorithm,
};
use cpscard::emulator::{Generation, Interface};
use driver_common::*;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const SIG: KeyRef = KeyRef::CPS4_SIGNATURE;
const AUT: KeyRef = KeyRef::CPS4_AUTHENTICATION;

fn cps4() -> (Box<dyn CardDriver>, Card) {
    emulated(Generation::Cps4, "cps")
}

#[test]
fn the_three_atrs_bind_and_sign() {
    for (interface, kind) in [
        (Interface::Cps4Production, Cps4Atr::Production),
        (Interface::Cps4ReleaseCandidate, Cps4Atr::ReleaseCandidate),
        (Interface::Cps4T0, Cps4Atr::T0Only),
    ] {
        let (mut d, card) = emulated_with(Generation::Cps4, interface);
        assert_eq!(d.kind(), CardKind::Cps4(kind));
        let b = d.bind(None).unwrap();
        let n = apdus(&card);
        println!("CPS4 {kind:?} bind: {n} APDUs");
        let info = card.lock().unwrap().image().info.clone();
        assert_eq!(b.serial.serial, info.serial);
        assert!(b.token_info.label.as_deref().unwrap().contains("CPS4"));
        login(&mut *d, &card);
        let (sig_key, aut_key) = image_keys(&card);
        let alg = SignAlgorithm::Pkcs1Message(HashAlg::Sha256);
        sign_verified(&mut *d, SIG, alg, b"ordonnance", &sig_key);
        let alg = SignAlgorithm::PssDigest(HashAlg::Sha256);
        sign_verified(&mut *d, AUT, alg, &Sha256::digest(b"tls13"), &aut_key);
    }
}

#[test]
fn binding_contents_and_apdu_count() {
    let (mut d, card) = cps4();
    let b = d.bind(None).unwrap();
    let n = apdus(&card);
    // open channel, EF.SN (SELECT + READ), then SELECT + READ per file (T=1: FCI direct);
    // the DODF (CPS2TER_* entries, ~0x25F bytes) takes three READs
    assert!(n <= 17, "bind took {n} APDUs");
    assert_eq!(b.user_pin().unwrap().reference, 0x81);
    assert_eq!(b.puk().unwrap().reference, 0x82);
    assert_keys_and_certificates(&mut *d, &card, &b, [SIG, AUT]);
    assert!(b.private_keys[1].can_decrypt());
    assert!(b.data_object("CPS_DATA").unwrap().common.is_modifiable());
    // warm cache in another "process"
    let warm = warm_cache_bind_apdus(&mut *d, &card);
    println!("CPS4 bind: {n} APDUs, with a warm cache: {warm}");
    assert!(warm <= 3, "{warm}");
}

#[test]
fn every_signature_path_verifies() {
    let (mut d, card) = cps4();
    d.bind(None).unwrap();
    let (sig_key, aut_key) = image_keys(&card);
    let before = apdus(&card);
    login_and_sign_sha1(&mut *d, &card, SIG, b"x");
    let n = apdus(&card) - before;
    println!("CPS4 login + SHA1-RSA signature after bind: {n} APDUs");
    assert!(n <= 3, "{n}");
    // PSS with both keys, SHA-1 and SHA-256
    for (key, public) in [(SIG, &sig_key), (AUT, &aut_key)] {
        let d1 = Sha1::digest(b"pss");
        sign_verified(
            &mut *d,
            key,
            SignAlgorithm::PssDigest(HashAlg::Sha1),
            &d1,
            public,
        );
        let d256 = Sha256::digest(b"pss");
        sign_verified(
            &mut *d,
            key,
            SignAlgorithm::PssDigest(HashAlg::Sha256),
            &d256,
            public,
        );
    }
    // CKM_RSA_PKCS on the signature key (DigestInfo stripped)
    let h = Sha256::digest(b"doc");
    let di = cpscard::card::rsa_pad::digest_info(HashAlg::Sha256, &h).unwrap();
    sign_verified(&mut *d, SIG, SignAlgorithm::Pkcs1Raw, &di, &sig_key);
    // the authentication key: TLS 1.2 DigestInfo, TLS 1.1 MD5||SHA-1, hash-and-sign
    tls_client_signatures(&mut *d, AUT, &aut_key);
    // raw RSA: block^d, checked with the public exponent
    let mut block = vec![0u8; 256];
    block[1..].copy_from_slice(&[0x42; 255]);
    sign_verified(&mut *d, AUT, SignAlgorithm::RawRsa, &block, &aut_key);
    assert!(!d.supports(SIG, SignAlgorithm::RawRsa));
}

#[test]
fn decipher_both_ways() {
    let (mut d, card) = cps4();
    let (_, aut_key) = image_keys(&card);
    login(&mut *d, &card);
    let c = deciphers(&mut *d, AUT, &aut_key, b"secret");
    let raw = d.decipher(AUT, DecipherPadding::Raw, &c).unwrap();
    assert_eq!(raw.len(), 256);
    assert_eq!(&raw[..2], &[0x00, 0x02]);
    assert!(raw.ends_with(b"secret"));
}

#[test]
fn pin_lifecycle() {
    let (mut d, card) = cps4();
    let (pin, puk) = codes(&card);
    assert_eq!(
        d.pin_status(PinKind::User).unwrap().state,
        PinState::NotVerified { tries_left: 3 }
    );
    wrong_pins_block_the_pin(&mut *d, &card, 0x81);
    let new = Pin::user("2468").unwrap();
    assert_eq!(d.reset_pin(&new), Err(CardError::SecurityNotSatisfied));
    d.unblock_pin(&Pin::puk(&puk).unwrap(), &new).unwrap();
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 3);
    d.verify(&new).unwrap();
    assert!(d.pin_status(PinKind::User).unwrap().is_verified());
    d.change_pin(&new, &Pin::user(&pin).unwrap()).unwrap();
    assert_eq!(
        d.change_pin(&new, &new),
        Err(CardError::PinIncorrect { tries_left: 2 })
    );
    d.verify(&Pin::user(&pin).unwrap()).unwrap();
}

#[test]
fn cps_data_round_trip() {
    let (mut d, card) = cps4();
    let b = d.bind(None).unwrap();
    let path = b.data_object("CPS_DATA").unwrap().path.clone();
    assert_cps_data_round_trip(&mut *d, &card, &path, b"abc");
}

#[test]
fn a_closed_channel_is_reopened() {
    let (mut d, card) = cps4();
    login(&mut *d, &card);
    // the card answers 68 81 to the next APDU (channel 1 closed under us)
    card.lock().unwrap().faults_mut().status_at = Some((1, 0x6881));
    assert!(d.pin_status(PinKind::User).unwrap().is_verified());
    card.lock().unwrap().faults_mut().status_at = Some((1, 0x6881));
    let before = verifies_with_data(&card, 0x81);
    let (pin, _) = codes(&card);
    assert_eq!(
        d.verify(&Pin::user(&pin).unwrap()),
        Err(CardError::ChannelClosed)
    );
    // the faulted VERIFY was not processed and not resent
    assert_eq!(verifies_with_data(&card, 0x81), before + 1);
    login(&mut *d, &card);
}

#[test]
fn a_reset_by_another_application_reopens_the_channel() {
    a_reset_loses_the_login(Generation::Cps4, SIG);
}

#[test]
fn every_fixture_card_binds() {
    let alg = SignAlgorithm::PssDigest(HashAlg::Sha256);
    every_fixture_card_signs(Generation::Cps4, AUT, alg, |name, card, b| {
        assert_eq!(
            b.serial.serial,
            card.lock().unwrap().image().info.serial,
            "{name}"
        );
    });
}

#[test]
fn get_challenge_and_no_cps2ter_volet() {
    let (mut d, _) = cps4();
    assert_eq!(d.get_challenge(9).unwrap().len(), 9);
    assert!(matches!(
        d.read_cps2ter(cpscard::card::Cps2terFile::SitFact),
        Err(CardError::Unsupported(_))
    ));
}
