//! Signing layer: mechanisms, PIN entry, and signing with verification of every result.
//! Knows mechanisms and PINs, never the PKCS#11 C ABI (DESIGN §1). The hash/padding/PSS
//! primitives it uses live in [`crate::crypto`].
//!
//! - [`Mechanism`] / [`MechanismKind`]: what a caller asks for, shared with the module;
//! - [`capabilities`]: what each card key really supports (objects.md §6);
//! - [`SignOperation`]: plan before any APDU, multi-part input, verify-after-sign;
//! - [`PinSource`], [`PinEntry`], [`PinentryProgram`], [`pinpad`], [`prompts`]: PIN entry
//!   (DESIGN §5).

pub mod capabilities;
mod mechanism;
pub mod pin_entry;
pub mod pinentry;
pub mod pinpad;
pub mod prompts;
mod signer;

pub use crate::crypto::{pkcs1, pss, CryptoError, HashAlg, Hasher, PssParams, PublicKey};
pub use capabilities::KeyCapabilities;
pub use mechanism::{Mechanism, MechanismInfo, MechanismKind};
pub use pin_entry::{PinEntry, PinPurpose, PinRequest, PinSource, PinentryProgram};
pub use prompts::PromptTexts;
pub use signer::SignOperation;
