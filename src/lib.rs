//! # cpscard
//!
//! Middleware for the French healthcare professional smart cards (CPS, CPF, CPE, CPA, CDE) of
//! generations CPS3 (IAS-ECC) and CPS4 (ChipDoc): readers, APDUs, card drivers, the token model,
//! signing with PIN entry, and — behind the `emulator` feature — faithful software cards.
//!
//! Layers, bottom up (each knows only the words of its own layer):
//! [`transport`] (bytes and readers) → [`apdu`] (ISO 7816-4) → [`card`] (one card's command
//! set) → [`token`] / [`sign`] (objects, mechanisms, PINs).
//!
//! # Using a card from Rust
//!
//! Open the card of a reader as a [`token::Token`], look at what it holds, log in and sign.
//! Every signature is verified with the card's certificate before it is returned. Here with
//! an emulated CPS4 (feature `emulator`, TEST keys); with a real reader the transport comes
//! from [`transport::pcsc::PcscContext::connect`].
//!
//! ```
//! # #[cfg(feature = "emulator")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
//! use cpscard::sign::{HashAlg, Mechanism, PinSource};
//! use cpscard::token::{Token, TokenOptions};
//!
//! let reader = EmulatedReader::new(EmulatedCard::builtin(Generation::Cps4, "cps")?);
//! let mut token = Token::open(Box::new(reader), TokenOptions::default())?;
//! assert_eq!(token.info().model, "ChipDoc");
//!
//! // who holds the card (from the authentication certificate)
//! let holder = token.identity()?;
//! assert_eq!(holder.id_nat, "899700000013");
//! assert_eq!(holder.profession.as_deref(), Some("Médecin"));
//!
//! // what each key can really do on this card
//! let key = token.authentication_key().expect("a CPS has one").clone();
//! assert!(key.mechanisms().iter().any(|m| m.kind.is_pss()));
//!
//! // log in (4 digits, checked before anything reaches the card), then sign as TLS 1.3 does
//! token.login(PinSource::given("1234")?)?;
//! let signature = token.sign(&key.id, Mechanism::pss_of(HashAlg::Sha256), b"hello")?;
//! token.verify(&key.id, Mechanism::pss_of(HashAlg::Sha256), b"hello", &signature)?;
//! # Ok(()) }
//! # #[cfg(not(feature = "emulator"))]
//! # fn main() {}
//! ```
//!
//! See also the programs in `examples/` (`list_certificates`, `sign_file`, `holder_identity`).

#![forbid(unsafe_code)]

pub mod apdu;
pub mod card;
pub mod crypto;
pub mod i18n;
pub mod sign;
pub mod token;
pub mod transport;

#[cfg(feature = "emulator")]
pub mod emulator;
