//! Card drivers: one card's command set and file layout (DESIGN §1, §3), never PKCS#11.
//!
//! - [`detect()`]: which card, by exact ATR; [`connect`] wraps a transport in the right driver
//!   (no APDU is sent for an unknown card).
//! - [`CardDriver`]: the operations the token and signing layers use, with typed inputs
//!   ([`KeyRef`], [`SignAlgorithm`], [`Pin`], [`FilePath`]) and one error ([`CardError`]).
//! - [`Cps3Driver`] (IAS-ECC, `CPS3.md`) and [`Cps4Driver`] (ChipDoc, `CPS4.md`).
//! - [`pkcs15`]: the card files, parsed leniently; [`CardBinding`]: all of them for a card.
//!
//! ```no_run
//! # fn demo(transport: Box<dyn cpscard::transport::Transport>) -> Result<(), cpscard::card::CardError> {
//! use cpscard::card::{connect, HashAlg, Pin, SignAlgorithm};
//! let mut card = connect(transport)?;
//! let binding = card.bind(None)?;
//! let key = binding
//!     .private_keys
//!     .iter()
//!     .find(|k| k.is_non_repudiation())
//!     .and_then(cpscard::card::CardBinding::key_ref)
//!     .expect("a signature key");
//! card.verify(&Pin::user("1234")?)?;
//! let signature = card.sign(key, SignAlgorithm::Pkcs1Message(HashAlg::Sha256), b"hello")?;
//! # let _ = signature; Ok(()) }
//! ```

pub mod binding;
pub mod cps3;
pub mod cps4;
pub mod detect;
mod driver;
mod driver_core;
mod ef_io;
mod error;
pub mod fcp;
pub mod hash;
mod iso_commands;
mod link;
pub mod path;
pub mod pin;
pub mod pkcs15;
pub mod rsa_pad;
mod types;

#[cfg(test)]
pub(crate) mod testing;

pub use binding::{cache_key_prefix, CardBinding, FileCache, MemoryCache};
pub use cps3::Cps3Driver;
pub use cps4::Cps4Driver;
pub use detect::{detect, CardKind, Cps4Atr, Generation};
pub use driver::CardDriver;
pub use error::CardError;
pub use hash::{HashAlg, MessageHasher};
pub use path::FilePath;
pub use pin::Pin;
pub use types::{
    Cps2terFile, DecipherPadding, KeyRef, KeyRole, PinChangeTemplate, PinKind, PinState, PinStatus,
    SignAlgorithm,
};

use crate::transport::Transport;

/// The driver for the card in `transport`, chosen by its ATR. An unknown ATR gives
/// [`CardError::NotRecognized`] without any APDU.
pub fn connect(transport: Box<dyn Transport>) -> Result<Box<dyn CardDriver>, CardError> {
    let atr = transport.atr().to_vec();
    match detect(&atr) {
        Some(kind) => match kind.generation() {
            Generation::Cps3 => Ok(Box::new(Cps3Driver::new(transport, kind)?)),
            Generation::Cps4 => Ok(Box::new(Cps4Driver::new(transport, kind)?)),
        },
        None => Err(CardError::NotRecognized(format!(
            "unknown ATR {}",
            hex::encode_upper(atr)
        ))),
    }
}
