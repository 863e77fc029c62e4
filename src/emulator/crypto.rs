//! The card's private-key operations: raw RSA (`m = c^d mod n`) with the fixture keys, and the
//! encodings the cards apply around it, written here from RFC 8017 (the `rsa` crate supplies only
//! the big-number primitive, so that the tests, which verify with the crate's own PKCS#1 v1.5 and
//! PSS verifiers, check this code independently).
//!
//! - PKCS#1 v1.5 type 1 (EMSA-PKCS1-v1_5, RFC 8017 §9.2): CPS3 PSO CDS over DigestInfo(hash),
//!   CPS3 INTERNAL AUTHENTICATE over the data as sent, CPS4 PSO CDS algs `0A`/`28`.
//! - EMSA-PSS (RFC 8017 §9.1.1), MGF1 with the same hash, salt length = hash length, random salt:
//!   CPS4 algs `15`/`2C` (CPS4.md §5).
//! - PKCS#1 v1.5 type 2 removal (RFC 8017 §7.2.2): CPS3 PSO DECIPHER (the card unpads, §6.7).

use super::sha::HashAlg;
use rand::RngCore;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use sha1::Digest as _;
use zeroize::Zeroizing;

/// Why a private-key operation was refused (the card maps these to status words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// Input as long as the modulus but not below it, or too long for the padding.
    InputTooLarge,
    /// Decrypted block without valid type-2 padding.
    BadPadding,
    /// The primitive failed its own consistency check.
    Internal,
}

/// DER DigestInfo prefix of a hash (RFC 8017 §9.2 note 1).
pub fn digest_info_prefix(hash: HashAlg) -> &'static [u8] {
    match hash {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
    }
}

/// DigestInfo(hash) = prefix ‖ digest.
pub fn digest_info(hash: HashAlg, digest: &[u8]) -> Vec<u8> {
    [digest_info_prefix(hash), digest].concat()
}

fn hash_bytes(hash: HashAlg, parts: &[&[u8]]) -> Vec<u8> {
    match hash {
        HashAlg::Sha1 => {
            let mut h = sha1::Sha1::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
        HashAlg::Sha256 => {
            let mut h = sha2::Sha256::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
    }
}

/// MGF1 (RFC 8017 §B.2.1).
fn mgf1(hash: HashAlg, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.state_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        out.extend(hash_bytes(hash, &[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// An RSA private key held by the card.
pub struct CardKey {
    key: RsaPrivateKey,
}

impl std::fmt::Debug for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardKey({} bits)", self.modulus_bits())
    }
}

impl CardKey {
    /// Loads a PKCS#8 DER private key (the fixtures' `*.key.der`).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<CardKey, String> {
        use rsa::pkcs8::DecodePrivateKey;
        let key = RsaPrivateKey::from_pkcs8_der(der).map_err(|e| e.to_string())?;
        Ok(CardKey { key })
    }

    /// Wraps a key generated elsewhere (tests).
    pub fn from_key(key: RsaPrivateKey) -> CardKey {
        CardKey { key }
    }

    /// Modulus length in bytes (256 for RSA-2048).
    pub fn len(&self) -> usize {
        self.key.size()
    }

    /// Always false: a key has a modulus.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn modulus_bits(&self) -> usize {
        self.key.n().bits()
    }

    /// Public half (tests encrypt and verify with it).
    pub fn public(&self) -> rsa::RsaPublicKey {
        self.key.to_public_key()
    }

    /// `input^d mod n`, input and output exactly `len()` bytes, big-endian.
    pub fn raw_private(&self, input: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let k = self.len();
        if input.len() != k {
            return Err(CryptoError::InputTooLarge);
        }
        let c = BigUint::from_bytes_be(input);
        if &c >= self.key.n() {
            return Err(CryptoError::InputTooLarge);
        }
        let m = rsa::hazmat::rsa_decrypt_and_check(&self.key, Some(&mut rand::thread_rng()), &c)
            .map_err(|_| CryptoError::Internal)?;
        let bytes = Zeroizing::new(m.to_bytes_be());
        let mut out = Zeroizing::new(vec![0u8; k - bytes.len()]);
        out.extend_from_slice(&bytes);
        Ok(out)
    }

    /// PKCS#1 v1.5 type-1 signature of `t` (a DigestInfo, or whatever data INTERNAL
    /// AUTHENTICATE received): `00 01 FF…FF 00 t`, at least 8 bytes of `FF`.
    pub fn sign_pkcs1(&self, t: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let k = self.len();
        if t.len() + 11 > k {
            return Err(CryptoError::InputTooLarge);
        }
        let mut em = vec![0x00, 0x01];
        em.resize(k - t.len() - 1, 0xFF);
        em.push(0x00);
        em.extend_from_slice(t);
        self.raw_private(&em)
    }

    /// RSASSA-PSS signature of the hash `m_hash`: MGF1 with `hash`, salt of `hash`'s length.
    pub fn sign_pss(
        &self,
        hash: HashAlg,
        m_hash: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let h_len = hash.state_len();
        let em_bits = self.modulus_bits() - 1;
        let em_len = em_bits.div_ceil(8);
        let s_len = h_len;
        if m_hash.len() != h_len || em_len < h_len + s_len + 2 {
            return Err(CryptoError::InputTooLarge);
        }
        let mut salt = vec![0u8; s_len];
        rand::thread_rng().fill_bytes(&mut salt);
        let h = hash_bytes(hash, &[&[0u8; 8], m_hash, &salt]);
        let mut db = vec![0u8; em_len - s_len - h_len - 2];
        db.push(0x01);
        db.extend_from_slice(&salt);
        let mask = mgf1(hash, &h, em_len - h_len - 1);
        db.iter_mut().zip(mask).for_each(|(d, m)| *d ^= m);
        db[0] &= 0xFF >> (8 * em_len - em_bits);
        let mut em = vec![0u8; self.len() - em_len];
        em.extend(db);
        em.extend(h);
        em.push(0xBC);
        self.raw_private(&em)
    }

    /// Decrypts `c` and removes PKCS#1 v1.5 type-2 padding (`00 02 PS≥8 00 M`).
    pub fn decrypt_pkcs1(&self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let em = self.raw_private(c)?;
        if em.len() < 11 || em[0] != 0x00 || em[1] != 0x02 {
            return Err(CryptoError::BadPadding);
        }
        let sep = em[2..]
            .iter()
            .position(|&b| b == 0)
            .ok_or(CryptoError::BadPadding)?
            + 2;
        if sep < 10 {
            return Err(CryptoError::BadPadding);
        }
        Ok(Zeroizing::new(em[sep + 1..].to_vec()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, Pss};
    use std::sync::OnceLock;

    /// One throw-away RSA-2048 key shared by the unit tests (keygen is slow).
    pub(crate) fn test_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
    }

    #[test]
    fn pkcs1_signatures_verify_with_the_rsa_crate() {
        let key = CardKey::from_key(test_key().clone());
        for (alg, digest) in [
            (HashAlg::Sha1, HashAlg::Sha1.digest(b"abc")),
            (HashAlg::Sha256, HashAlg::Sha256.digest(b"abc")),
        ] {
            let sig = key.sign_pkcs1(&digest_info(alg, &digest)).unwrap();
            let scheme = match alg {
                HashAlg::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                HashAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            };
            key.public().verify(scheme, &digest, &sig).unwrap();
        }
        let raw = key.sign_pkcs1(b"any data").unwrap();
        key.public()
            .verify(Pkcs1v15Sign::new_unprefixed(), b"any data", &raw)
            .unwrap();
        assert_eq!(key.sign_pkcs1(&[0; 246]), Err(CryptoError::InputTooLarge));
    }

    #[test]
    fn pss_signatures_verify_with_the_rsa_crate() {
        let key = CardKey::from_key(test_key().clone());
        let d1 = HashAlg::Sha1.digest(b"hello");
        let s1 = key.sign_pss(HashAlg::Sha1, &d1).unwrap();
        key.public()
            .verify(Pss::new_with_salt::<sha1::Sha1>(20), &d1, &s1)
            .unwrap();
        let d2 = HashAlg::Sha256.digest(b"hello");
        let s2 = key.sign_pss(HashAlg::Sha256, &d2).unwrap();
        key.public()
            .verify(Pss::new_with_salt::<sha2::Sha256>(32), &d2, &s2)
            .unwrap();
        // Random salt: two signatures differ.
        assert_ne!(*s2, *key.sign_pss(HashAlg::Sha256, &d2).unwrap());
    }

    #[test]
    fn decrypt_removes_type2_padding_and_refuses_garbage() {
        let key = CardKey::from_key(test_key().clone());
        let c = key
            .public()
            .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, b"secret")
            .unwrap();
        assert_eq!(&**key.decrypt_pkcs1(&c).unwrap(), b"secret");
        let mut bad = vec![0u8; 256];
        bad[255] = 5;
        assert_eq!(key.decrypt_pkcs1(&bad), Err(CryptoError::BadPadding));
        assert_eq!(
            key.raw_private(&[0xFF; 256]),
            Err(CryptoError::InputTooLarge)
        );
    }
}
