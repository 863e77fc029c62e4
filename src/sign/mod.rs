//! Signing layer: hashes and DigestInfo, PKCS#1 v1.5 blocks, EMSA-PSS, host-side verification,
//! and PIN entry. Knows mechanisms and PINs, never the PKCS#11 C ABI (DESIGN §1).

mod hash;
pub mod pinentry;
pub mod pkcs1;
pub mod pss;
mod verify;

pub use hash::{HashAlg, Hasher};
pub use pss::PssParams;
pub use verify::PublicKey;

/// Errors of the signing layer's own computations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
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
