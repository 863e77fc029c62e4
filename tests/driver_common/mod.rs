//! Helpers of the driver ↔ emulator integration tests.
#![allow(dead_code)]

use cpscard::card::{connect, CardDriver};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Interface};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use std::sync::{Arc, Mutex};

pub type Card = Arc<Mutex<EmulatedCard>>;

/// A driver over a built-in emulated card, and the card for counters and faults.
pub fn emulated(generation: Generation, name: &str) -> (Box<dyn CardDriver>, Card) {
    emulated_card(EmulatedCard::builtin(generation, name).unwrap())
}

pub fn emulated_with(generation: Generation, interface: Interface) -> (Box<dyn CardDriver>, Card) {
    let mut card = EmulatedCard::builtin(generation, "cps").unwrap();
    card.set_interface(interface).unwrap();
    emulated_card(card)
}

pub fn emulated_card(card: EmulatedCard) -> (Box<dyn CardDriver>, Card) {
    let reader = EmulatedReader::new(card);
    let handle = reader.card();
    let driver = connect(Box::new(reader)).unwrap();
    (driver, handle)
}

/// APDUs the card received so far.
pub fn apdus(card: &Card) -> u64 {
    card.lock().unwrap().stats().apdus
}

/// VERIFY commands carrying a code, for reference `p2`.
pub fn verifies_with_data(card: &Card, p2: u8) -> u64 {
    card.lock()
        .unwrap()
        .stats()
        .verify_with_data
        .get(&p2)
        .copied()
        .unwrap_or(0)
}

/// The RSA public key of a DER certificate.
pub fn cert_key(der: &[u8]) -> RsaPublicKey {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    RsaPublicKey::from_public_key_der(cert.public_key().raw).unwrap()
}

/// Public keys of the card's signature and authentication certificates (from its image).
pub fn image_keys(card: &Card) -> (RsaPublicKey, RsaPublicKey) {
    let c = card.lock().unwrap();
    (
        cert_key(&c.image().sign.cert),
        cert_key(&c.image().auth.cert),
    )
}

/// PIN and PUK of the card image.
pub fn codes(card: &Card) -> (String, String) {
    let c = card.lock().unwrap();
    (c.image().pin.clone(), c.image().puk.clone())
}
