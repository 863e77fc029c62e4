//! Helpers of the token and signing tests: emulated cards, fixture files, APDU counters.
#![allow(dead_code)]

use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
use cpscard::token::{Token, TokenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub type Card = Arc<Mutex<EmulatedCard>>;

pub const CARDS: [&str; 6] = ["cps", "cpf", "cpe", "cpa", "cde", "cps-expired"];
pub const GENERATIONS: [Generation; 2] = [Generation::Cps3, Generation::Cps4];

pub fn gen_name(g: Generation) -> &'static str {
    match g {
        Generation::Cps3 => "cps3",
        Generation::Cps4 => "cps4",
    }
}

/// `fixtures/cards/<gen>/<card>/<file>`.
pub fn fixture_path(g: Generation, card: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cards")
        .join(gen_name(g))
        .join(card)
        .join(file)
}

pub fn fixture(g: Generation, card: &str, file: &str) -> Vec<u8> {
    std::fs::read(fixture_path(g, card, file)).unwrap()
}

pub fn card_json(g: Generation, card: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(g, card, "card.json")).unwrap()
}

/// A reader holding a built-in card, and the card (counters, faults).
pub fn reader(g: Generation, card: &str) -> (EmulatedReader, Card) {
    let r = EmulatedReader::new(EmulatedCard::builtin(g, card).unwrap());
    let c = r.card();
    (r, c)
}

/// A token over a built-in card.
pub fn token(g: Generation, card: &str) -> (Token, Card) {
    token_with(g, card, TokenOptions::default())
}

pub fn token_with(g: Generation, card: &str, options: TokenOptions) -> (Token, Card) {
    let (r, c) = reader(g, card);
    (Token::open(Box::new(r), options).unwrap(), c)
}

pub fn apdus(card: &Card) -> u64 {
    card.lock().unwrap().stats().apdus
}

pub fn reset_stats(card: &Card) {
    card.lock().unwrap().reset_stats();
}

/// VERIFY commands carrying a code.
pub fn verifies_with_data(card: &Card) -> u64 {
    card.lock().unwrap().stats().verify_with_data.values().sum()
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "cpscard-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The independent verifier: the `rsa` crate's key of a DER certificate.
pub fn rsa_key(der: &[u8]) -> rsa::RsaPublicKey {
    use rsa::pkcs8::DecodePublicKey;
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    rsa::RsaPublicKey::from_public_key_der(cert.public_key().raw).unwrap()
}
