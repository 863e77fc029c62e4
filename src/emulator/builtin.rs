//! Built-in cards: the fixture cards of the test PKI (`fixtures/cards/<gen>/<card>/`), embedded
//! at build time. These are TEST keys.

use super::image::{CardImage, CardInfo, KeyPair};
use super::{EmulatorError, Generation};

struct Fixture {
    generation: &'static str,
    card: &'static str,
    json: &'static [u8],
    sign_cert: &'static [u8],
    sign_key: &'static [u8],
    auth_cert: &'static [u8],
    auth_key: &'static [u8],
}

macro_rules! fixture {
    ($gen:literal, $card:literal) => {
        Fixture {
            generation: $gen,
            card: $card,
            json: include_bytes!(concat!(
                "../../fixtures/cards/",
                $gen,
                "/",
                $card,
                "/card.json"
            )),
            sign_cert: include_bytes!(concat!(
                "../../fixtures/cards/",
                $gen,
                "/",
                $card,
                "/sign.der"
            )),
            sign_key: include_bytes!(concat!(
                "../../fixtures/cards/",
                $gen,
                "/",
                $card,
                "/sign.key.der"
            )),
            auth_cert: include_bytes!(concat!(
                "../../fixtures/cards/",
                $gen,
                "/",
                $card,
                "/auth.der"
            )),
            auth_key: include_bytes!(concat!(
                "../../fixtures/cards/",
                $gen,
                "/",
                $card,
                "/auth.key.der"
            )),
        }
    };
}

static FIXTURES: [Fixture; 12] = [
    fixture!("cps3", "cps"),
    fixture!("cps3", "cpf"),
    fixture!("cps3", "cpe"),
    fixture!("cps3", "cpa"),
    fixture!("cps3", "cde"),
    fixture!("cps3", "cps-expired"),
    fixture!("cps4", "cps"),
    fixture!("cps4", "cpf"),
    fixture!("cps4", "cpe"),
    fixture!("cps4", "cpa"),
    fixture!("cps4", "cde"),
    fixture!("cps4", "cps-expired"),
];

/// Names of the built-in cards of a generation.
pub fn names() -> Vec<&'static str> {
    FIXTURES
        .iter()
        .filter(|f| f.generation == "cps3")
        .map(|f| f.card)
        .collect()
}

/// A fresh image of a built-in card (`""` means "cps").
pub fn image(generation: Generation, card: &str) -> Result<CardImage, EmulatorError> {
    let card = if card.is_empty() { "cps" } else { card };
    let gen = generation.to_string();
    let f = FIXTURES
        .iter()
        .find(|f| f.generation == gen && f.card == card)
        .ok_or_else(|| EmulatorError::UnknownCard {
            generation,
            card: card.to_string(),
        })?;
    let info: CardInfo = serde_json::from_slice(f.json)
        .map_err(|e| EmulatorError::InvalidCard(format!("{gen}/{card}/card.json: {e}")))?;
    Ok(CardImage::from_fixture(
        info,
        KeyPair {
            key: f.sign_key.to_vec(),
            cert: f.sign_cert.to_vec(),
        },
        KeyPair {
            key: f.auth_key.to_vec(),
            cert: f.auth_cert.to_vec(),
        },
    ))
}
