//! Software message digests for `C_Digest*` (objects.md §6: the original digests in software;
//! we offer SHA-1 and the SHA-2 family, single- and multi-part).

use cryptoki_sys::{CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA_1, CK_MECHANISM_TYPE};
use sha1::Digest;

use crate::error::{Error, Result};

/// Mechanisms [`Hasher::new`] accepts, in `C_GetMechanismList` order.
pub const MECHANISMS: [CK_MECHANISM_TYPE; 4] = [CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512];

/// A running digest.
#[derive(Clone)]
pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A new digest for `mechanism`, or `CKR_MECHANISM_INVALID`.
    pub fn new(mechanism: CK_MECHANISM_TYPE) -> Result<Self> {
        Ok(match mechanism {
            CKM_SHA_1 => Hasher::Sha1(sha1::Sha1::new()),
            CKM_SHA256 => Hasher::Sha256(sha2::Sha256::new()),
            CKM_SHA384 => Hasher::Sha384(sha2::Sha384::new()),
            CKM_SHA512 => Hasher::Sha512(sha2::Sha512::new()),
            _ => return Err(Error::MechanismInvalid),
        })
    }

    /// Length of the digest in bytes.
    pub fn output_len(&self) -> usize {
        match self {
            Hasher::Sha1(_) => 20,
            Hasher::Sha256(_) => 32,
            Hasher::Sha384(_) => 48,
            Hasher::Sha512(_) => 64,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let mut h = Hasher::new(CKM_SHA256).unwrap();
        h.update(b"abc");
        assert_eq!(
            hex(&h.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Hasher::new(CKM_SHA_1).unwrap();
        h.update(b"abc");
        assert_eq!(hex(&h.finish()), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn unknown_mechanism() {
        assert!(matches!(Hasher::new(0x1234), Err(Error::MechanismInvalid)));
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
