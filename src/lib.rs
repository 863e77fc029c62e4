//! # cpscard
//!
//! Middleware for the French healthcare professional smart cards (CPS, CPF, CPE, CPA, CDE) of
//! generations CPS3 (IAS-ECC) and CPS4 (ChipDoc): readers, APDUs, card drivers, the token model,
//! signing with PIN entry, and — behind the `emulator` feature — faithful software cards.
//!
//! Layers, bottom up (each knows only the words of its own layer):
//! [`transport`] (bytes and readers) → [`apdu`] (ISO 7816-4) → `card` (one card's command set)
//! → `token` / `sign` (objects, mechanisms, PINs).

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
