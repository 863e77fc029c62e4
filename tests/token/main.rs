//! The token and signing layers on both emulated cards, as one test binary (one link instead
//! of nine, a smaller target directory): objects, caches, APDU counts, PIN operations and
//! entry, data objects and cryptography, mechanisms, PIN safety, the pulled card / reset
//! matrix.

#[path = "../token_common/mod.rs"]
mod token_common;

mod apdu_counts;
mod cache;
mod data_crypto;
mod objects;
mod pin;
mod pin_entry;
mod pin_safety;
mod reliability_faults;
mod sign_mechanisms;
