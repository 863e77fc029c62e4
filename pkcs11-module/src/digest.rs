//! Software message digests for `C_Digest*` (objects.md §6: the original digests in software).
//! The hashing itself is `cpscard::crypto` (one home for hashes in the project); this file only
//! maps PKCS#11 mechanism numbers to it.

use cpscard::crypto::{HashAlg, Hasher as CryptoHasher};
use cryptoki_sys::{CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA_1, CK_MECHANISM_TYPE};

use crate::error::{Error, Result};

/// Mechanisms [`Hasher::new`] accepts, in `C_GetMechanismList` order.
pub const MECHANISMS: [CK_MECHANISM_TYPE; 4] = [CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512];

/// The hash of a digest mechanism (also `hashAlg` of `CK_RSA_PKCS_PSS_PARAMS`), or
/// `CKR_MECHANISM_INVALID`.
pub fn hash_alg(mechanism: CK_MECHANISM_TYPE) -> Result<HashAlg> {
    Ok(match mechanism {
        CKM_SHA_1 => HashAlg::Sha1,
        CKM_SHA256 => HashAlg::Sha256,
        CKM_SHA384 => HashAlg::Sha384,
        CKM_SHA512 => HashAlg::Sha512,
        _ => return Err(Error::MechanismInvalid),
    })
}

/// A running digest.
#[derive(Clone)]
pub struct Hasher {
    alg: HashAlg,
    inner: CryptoHasher,
}

impl Hasher {
    /// A new digest for `mechanism`, or `CKR_MECHANISM_INVALID`.
    pub fn new(mechanism: CK_MECHANISM_TYPE) -> Result<Self> {
        let alg = hash_alg(mechanism)?;
        Ok(Hasher {
            alg,
            inner: CryptoHasher::new(alg),
        })
    }

    /// Length of the digest in bytes.
    pub fn output_len(&self) -> usize {
        self.alg.output_len()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.inner.finish()
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
            hex::encode(h.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Hasher::new(CKM_SHA_1).unwrap();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.output_len(), 20);
        assert_eq!(
            hex::encode(h.finish()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn unknown_mechanism() {
        assert!(matches!(Hasher::new(0x1234), Err(Error::MechanismInvalid)));
    }
}
