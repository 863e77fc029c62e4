//! Signing layer: mechanisms, PIN entry, and signing with verification of every result.
//! Knows mechanisms and PINs, never the PKCS#11 C ABI (DESIGN §1). The hash/padding/PSS
//! primitives it uses live in [`crate::crypto`].

pub mod pinentry;

pub use crate::crypto::{pkcs1, pss, CryptoError, HashAlg, Hasher, PssParams, PublicKey};
