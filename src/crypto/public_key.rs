//! Verifying signatures with a public key, in the host: every signature the card returns is
//! checked before it is handed out (a card fault must never give a bad signature, issue 3).

use super::{pkcs1, pss, CryptoError, HashAlg};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};

/// An RSA public key as the signing layer uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: RsaPublicKey,
}

impl PublicKey {
    /// From a DER `SubjectPublicKeyInfo` (as found in a certificate).
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, CryptoError> {
        use rsa::pkcs8::DecodePublicKey;
        let key = RsaPublicKey::from_public_key_der(spki)
            .map_err(|_| CryptoError::BadKey("not an RSA SubjectPublicKeyInfo"))?;
        Ok(PublicKey { key })
    }

    /// From modulus and public exponent, big-endian.
    pub fn from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, CryptoError> {
        let key = RsaPublicKey::new(
            BigUint::from_bytes_be(modulus),
            BigUint::from_bytes_be(exponent),
        )
        .map_err(|_| CryptoError::BadKey("invalid RSA public key"))?;
        Ok(PublicKey { key })
    }

    /// The inner `rsa` key.
    pub fn rsa(&self) -> &RsaPublicKey {
        &self.key
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.n().bits()
    }

    /// Modulus size in bytes (the signature length).
    pub fn size(&self) -> usize {
        self.key.size()
    }

    pub fn modulus(&self) -> Vec<u8> {
        self.key.n().to_bytes_be()
    }

    pub fn exponent(&self) -> Vec<u8> {
        self.key.e().to_bytes_be()
    }

    /// `s^e mod n`, left-padded to the modulus size. Fails when `s` is not below `n` or has
    /// the wrong length.
    pub fn raw_public(&self, s: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let k = self.size();
        if s.len() != k {
            return Err(CryptoError::BadSignature);
        }
        let s = BigUint::from_bytes_be(s);
        if &s >= self.key.n() {
            return Err(CryptoError::BadSignature);
        }
        let m = s.modpow(self.key.e(), self.key.n()).to_bytes_be();
        let mut out = vec![0u8; k - m.len()];
        out.extend_from_slice(&m);
        Ok(out)
    }

    /// Verifies a PKCS#1 v1.5 signature over the block content `t` (a DigestInfo, or the raw
    /// input of CKM_RSA_PKCS).
    pub fn verify_pkcs1(&self, t: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let em = self.raw_public(signature)?;
        let expected = pkcs1::pad_type1(t, self.size())?;
        if em != expected {
            return Err(CryptoError::BadSignature);
        }
        Ok(())
    }

    /// Verifies a PSS signature over the message hash `m_hash`.
    pub fn verify_pss(
        &self,
        m_hash: &[u8],
        signature: &[u8],
        hash: HashAlg,
        mgf_hash: HashAlg,
        salt_len: Option<usize>,
    ) -> Result<(), CryptoError> {
        let em = self.raw_public(signature)?;
        pss::verify(m_hash, &em, self.bits(), hash, mgf_hash, salt_len)
    }

    /// Encrypts `msg` with PKCS#1 v1.5 type-2 padding (C_Encrypt with the public key).
    pub fn encrypt_pkcs1(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut rng = rand::thread_rng();
        self.key
            .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, msg)
            .map_err(|_| CryptoError::InputTooLong {
                len: msg.len(),
                max: self.size().saturating_sub(11),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::pss::PssParams;
    use rsa::RsaPrivateKey;
    use std::sync::OnceLock;

    fn key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(7);
            RsaPrivateKey::new(&mut rng, 1024).unwrap()
        })
    }

    fn raw_private(em: &[u8]) -> Vec<u8> {
        let c = BigUint::from_bytes_be(em);
        let m = rsa::hazmat::rsa_decrypt_and_check(key(), None::<&mut rand::rngs::ThreadRng>, &c)
            .unwrap();
        let b = m.to_bytes_be();
        let mut out = vec![0u8; key().size() - b.len()];
        out.extend(b);
        out
    }

    #[test]
    fn our_pss_encoding_verifies_with_the_rsa_crate() {
        use rsa::traits::SignatureScheme;
        let pubk = PublicKey {
            key: key().to_public_key(),
        };
        let m_hash = HashAlg::Sha256.digest(b"TLS 1.3 CertificateVerify");
        let p = PssParams::standard(HashAlg::Sha256);
        let em = pss::encode(&m_hash, pubk.bits(), &p, &[0xA5; 32]).unwrap();
        let sig = raw_private(&em);
        // independent verifier
        rsa::Pss::new_with_salt::<sha2::Sha256>(32)
            .verify(&key().to_public_key(), &m_hash, &sig)
            .unwrap();
        // ours
        pubk.verify_pss(&m_hash, &sig, HashAlg::Sha256, HashAlg::Sha256, Some(32))
            .unwrap();
        let mut bad = sig.clone();
        bad[10] ^= 0x80;
        assert!(pubk
            .verify_pss(&m_hash, &bad, HashAlg::Sha256, HashAlg::Sha256, None)
            .is_err());
    }

    #[test]
    fn rsa_crate_pss_signature_verifies_with_ours() {
        use rsa::traits::SignatureScheme;
        let pubk = PublicKey {
            key: key().to_public_key(),
        };
        let m_hash = HashAlg::Sha1.digest(b"abc");
        let mut rng = rand::thread_rng();
        let sig = rsa::Pss::new::<sha1::Sha1>()
            .sign(Some(&mut rng), key(), &m_hash)
            .unwrap();
        pubk.verify_pss(&m_hash, &sig, HashAlg::Sha1, HashAlg::Sha1, Some(20))
            .unwrap();
    }

    #[test]
    fn pkcs1_verification_matches_the_rsa_crate() {
        let pubk = PublicKey {
            key: key().to_public_key(),
        };
        let digest = HashAlg::Sha256.digest(b"data");
        let sig = key()
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
            .unwrap();
        let di = HashAlg::Sha256.digest_info(&digest);
        pubk.verify_pkcs1(&di, &sig).unwrap();
        assert!(pubk.verify_pkcs1(&digest, &sig).is_err());
        assert!(pubk.verify_pkcs1(&di, &sig[1..]).is_err());
    }

    #[test]
    fn encrypt_round_trips_with_private_key() {
        let pubk = PublicKey {
            key: key().to_public_key(),
        };
        let c = pubk.encrypt_pkcs1(b"hello card").unwrap();
        let em = raw_private(&c);
        assert_eq!(pkcs1::unpad_type2(&em).unwrap(), b"hello card");
        assert!(pubk.encrypt_pkcs1(&[0u8; 200]).is_err());
    }
}
