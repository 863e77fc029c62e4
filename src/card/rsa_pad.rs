//! PKCS#1 v1.5 pieces the host does itself (RFC 8017 §9.2, §7.2.2): DigestInfo for SHA-1 /
//! SHA-256, type-1 padding (CPS4 authentication key signs by a raw RSA operation, CPS4.md
//! §6.4) and type-2 unpadding (CPS4 decipher returns the raw block).

use super::hash::HashAlg;
use super::CardError;
use crate::crypto::{self, pkcs1};
use zeroize::Zeroizing;

/// Smallest PKCS#1 v1.5 padding: `00 01|02`, 8 padding bytes, `00`.
pub const PKCS1_OVERHEAD: usize = 11;

/// `DigestInfo(alg, digest)` DER. The digest length must match the algorithm.
pub fn digest_info(alg: HashAlg, digest: &[u8]) -> Result<Vec<u8>, CardError> {
    if digest.len() != alg.digest_len() {
        return Err(CardError::InvalidInput(
            "digest length does not match the hash",
        ));
    }
    Ok(crypto::HashAlg::from(alg).digest_info(digest))
}

/// Recognises a SHA-1 / SHA-256 DigestInfo (with or without NULL parameters) and returns the
/// algorithm and bare digest. Other hashes are not card hashes: `None`.
pub fn parse_digest_info(data: &[u8]) -> Option<(HashAlg, &[u8])> {
    let (alg, digest) = crypto::HashAlg::parse_digest_info(data)?;
    Some((HashAlg::try_from(alg).ok()?, digest))
}

/// The bare digest the signature key's PSO CDS takes from a `CKM_RSA_PKCS` input: a
/// SHA-1/SHA-256 DigestInfo, or a bare 20/32-byte hash (CPS3.md §6.5, CPS4.md §6.5).
pub fn digest_from_pkcs1_input(data: &[u8]) -> Option<(HashAlg, &[u8])> {
    parse_digest_info(data).or(match data.len() {
        20 => Some((HashAlg::Sha1, data)),
        32 => Some((HashAlg::Sha256, data)),
        _ => None,
    })
}

/// EMSA-PKCS1-v1_5 block type 1: `00 01 FF…FF 00 data`, `k` bytes.
pub fn pad_type1(data: &[u8], k: usize) -> Result<Vec<u8>, CardError> {
    pkcs1::pad_type1(data, k)
        .map_err(|_| CardError::InvalidInput("data too long for PKCS#1 v1.5 padding with this key"))
}

/// Removes PKCS#1 v1.5 block type 2 padding (`00 02 PS≥8 non-zero 00 M`).
pub fn unpad_type2(block: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
    pkcs1::unpad_type2(block)
        .map(Zeroizing::new)
        .map_err(|_| CardError::BadAnswer("deciphered block has no valid PKCS#1 v1.5 padding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_round_trips() {
        let d = HashAlg::Sha256.digest(b"abc");
        let di = digest_info(HashAlg::Sha256, &d).unwrap();
        assert_eq!(di.len(), 51);
        assert_eq!(parse_digest_info(&di), Some((HashAlg::Sha256, &d[..])));
        let d1 = HashAlg::Sha1.digest(b"abc");
        let di1 = digest_info(HashAlg::Sha1, &d1).unwrap();
        assert_eq!(di1.len(), 35);
        assert_eq!(
            digest_from_pkcs1_input(&di1),
            Some((HashAlg::Sha1, &d1[..]))
        );
        assert_eq!(digest_from_pkcs1_input(&d), Some((HashAlg::Sha256, &d[..])));
        assert!(digest_from_pkcs1_input(&[0u8; 36]).is_none()); // TLS 1.1 MD5||SHA1
        assert!(digest_info(HashAlg::Sha1, &d).is_err());
        let mut no_null = vec![
            0x30, 0x2F, 0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x04, 0x20,
        ];
        no_null.extend_from_slice(&d);
        assert_eq!(parse_digest_info(&no_null), Some((HashAlg::Sha256, &d[..])));
        assert!(parse_digest_info(&di[..50]).is_none());
    }

    #[test]
    fn type1_padding_is_what_rsa_crate_verifies() {
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let mut rng = rand::thread_rng();
        let key = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let k = key.size();
        let digest = HashAlg::Sha256.digest(b"hello");
        let block = pad_type1(&digest_info(HashAlg::Sha256, &digest).unwrap(), k).unwrap();
        assert_eq!(block.len(), k);
        // raw RSA private operation on the block = the PKCS#1 v1.5 signature
        let m = rsa::BigUint::from_bytes_be(&block);
        let mut raw = m.modpow(key.d(), key.n()).to_bytes_be();
        while raw.len() < k {
            raw.insert(0, 0);
        }
        let sig = key
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
            .unwrap();
        assert_eq!(raw, sig);
        assert!(pad_type1(&[0u8; 118], 128).is_err());
        assert!(pad_type1(&[0u8; 117], 128).is_ok());
    }

    #[test]
    fn type2_unpadding() {
        let mut block = vec![0x00, 0x02];
        block.extend([0x5A; 8]);
        block.push(0);
        block.extend_from_slice(b"secret");
        assert_eq!(&*unpad_type2(&block).unwrap(), b"secret");
        let mut short_ps = vec![0x00, 0x02, 1, 2, 3, 0];
        short_ps.extend_from_slice(b"x");
        assert!(unpad_type2(&short_ps).is_err());
        assert!(unpad_type2(&[0x00, 0x01, 1, 1, 1, 1, 1, 1, 1, 1, 0, 5]).is_err());
        assert!(unpad_type2(&[0x00, 0x02, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
        assert!(unpad_type2(&[]).is_err());
    }
}
