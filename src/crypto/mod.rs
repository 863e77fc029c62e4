//! Host-side RSA and hash primitives shared by the card drivers and the signing layer:
//! hashes and DigestInfo, PKCS#1 v1.5 blocks, EMSA-PSS, and public-key operations (verifying
//! what the card returned, encrypting to a card key). Knows no card and no mechanism.
//! (The emulator keeps its own on purpose: DESIGN §6.)

mod hash;
pub mod pkcs1;
pub mod pss;
mod public_key;

pub use hash::{HashAlg, Hasher};
pub use pss::PssParams;
pub use public_key::PublicKey;

/// Errors of these computations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("input of {len} bytes is too long (at most {max})")]
    InputTooLong { len: usize, max: usize },
    #[error("hash of {got} bytes where {expected} were expected")]
    WrongHashLength { expected: usize, got: usize },
    #[error("invalid mechanism parameters: {0}")]
    BadParameters(&'static str),
    #[error("the signature does not verify with the certificate's public key")]
    BadSignature,
    #[error("decryption failed: bad padding")]
    BadPadding,
    #[error("bad key: {0}")]
    BadKey(&'static str),
}
