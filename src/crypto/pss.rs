//! EMSA-PSS encoding and verification (RFC 8017 §9.1), with MGF1 (§B.2.1).
//!
//! Used for the CPS4 authentication key when the card's own PSS cannot serve the request
//! (SHA-384/512, another salt length, another MGF hash): the host encodes, the card performs a
//! raw RSA private operation through PSO DECIPHER (CPS4.md §6.4, issue 3 item 4).

use super::{CryptoError, HashAlg, Hasher};

/// MGF1 of `seed` to `len` bytes with `hash`.
pub fn mgf1(hash: HashAlg, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut h = Hasher::new(hash);
        h.update(seed);
        h.update(&counter.to_be_bytes());
        out.extend_from_slice(&h.finish());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// Parameters of one PSS signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PssParams {
    /// Hash of the message (and of M' in the encoding).
    pub hash: HashAlg,
    /// Hash of MGF1.
    pub mgf_hash: HashAlg,
    /// Salt length in bytes.
    pub salt_len: usize,
}

impl PssParams {
    /// MGF1 with the same hash and a salt as long as the hash (what the CPS4 card does, and what
    /// TLS 1.3 `rsa_pss_rsae_*` requires).
    pub fn standard(hash: HashAlg) -> Self {
        PssParams {
            hash,
            mgf_hash: hash,
            salt_len: hash.output_len(),
        }
    }
}

/// EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of an already computed message hash `m_hash`, for a
/// modulus of `mod_bits` bits, with the given salt (`salt.len()` must equal `params.salt_len`).
pub fn encode(
    m_hash: &[u8],
    mod_bits: usize,
    params: &PssParams,
    salt: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let h_len = params.hash.output_len();
    if m_hash.len() != h_len {
        return Err(CryptoError::WrongHashLength {
            expected: h_len,
            got: m_hash.len(),
        });
    }
    if salt.len() != params.salt_len {
        return Err(CryptoError::BadParameters(
            "salt length differs from the parameters",
        ));
    }
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    if em_len < h_len + salt.len() + 2 {
        return Err(CryptoError::BadParameters("salt too long for this key"));
    }
    // H = Hash(00 x 8 || mHash || salt)
    let mut hasher = Hasher::new(params.hash);
    hasher.update(&[0u8; 8]);
    hasher.update(m_hash);
    hasher.update(salt);
    let h = hasher.finish();
    // DB = PS || 01 || salt ; maskedDB = DB xor MGF(H)
    let db_len = em_len - h_len - 1;
    let mut db = vec![0u8; db_len - salt.len() - 1];
    db.push(0x01);
    db.extend_from_slice(salt);
    let mask = mgf1(params.mgf_hash, &h, db_len);
    db.iter_mut().zip(mask).for_each(|(d, m)| *d ^= m);
    // clear the leftmost 8*emLen - emBits bits
    db[0] &= 0xFF >> (8 * em_len - em_bits);
    let mut em = db;
    em.extend_from_slice(&h);
    em.push(0xBC);
    // a modulus of 8k+1 bits gives emLen = k bytes; the RSA input is one byte longer
    let k = mod_bits.div_ceil(8);
    if k > em_len {
        let mut padded = vec![0u8; k - em_len];
        padded.extend_from_slice(&em);
        em = padded;
    }
    Ok(em)
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of `em` (the public-key operation's output, `k` bytes)
/// against `m_hash`. A salt length of `None` accepts any salt length.
pub fn verify(
    m_hash: &[u8],
    em: &[u8],
    mod_bits: usize,
    hash: HashAlg,
    mgf_hash: HashAlg,
    salt_len: Option<usize>,
) -> Result<(), CryptoError> {
    let h_len = hash.output_len();
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let em = match em.len().checked_sub(em_len) {
        Some(0) => em,
        Some(1) if em[0] == 0 => &em[1..],
        _ => return Err(CryptoError::BadSignature),
    };
    if m_hash.len() != h_len || em_len < h_len + 2 || em[em_len - 1] != 0xBC {
        return Err(CryptoError::BadSignature);
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let top_bits = 8 * em_len - em_bits;
    if top_bits > 0 && masked_db[0] & !(0xFF >> top_bits) != 0 {
        return Err(CryptoError::BadSignature);
    }
    let mask = mgf1(mgf_hash, h, masked_db.len());
    let mut db: Vec<u8> = masked_db.iter().zip(mask).map(|(a, b)| a ^ b).collect();
    db[0] &= 0xFF >> top_bits;
    let one = db
        .iter()
        .position(|&b| b != 0)
        .ok_or(CryptoError::BadSignature)?;
    if db[one] != 0x01 {
        return Err(CryptoError::BadSignature);
    }
    let salt = &db[one + 1..];
    if let Some(want) = salt_len {
        if salt.len() != want {
            return Err(CryptoError::BadSignature);
        }
    }
    let mut hasher = Hasher::new(hash);
    hasher.update(&[0u8; 8]);
    hasher.update(m_hash);
    hasher.update(salt);
    if hasher.finish() != h {
        return Err(CryptoError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mgf1_known_answer() {
        // the worked MGF1-SHA1 examples of the Wikipedia "Mask generation function" article
        assert_eq!(hex::encode(mgf1(HashAlg::Sha1, b"foo", 3)), "1ac907");
        assert_eq!(hex::encode(mgf1(HashAlg::Sha1, b"foo", 5)), "1ac9075cd4");
        assert_eq!(hex::encode(mgf1(HashAlg::Sha1, b"bar", 5)), "bc0c655e01");
        assert_eq!(mgf1(HashAlg::Sha256, b"x", 100).len(), 100);
    }

    #[test]
    fn encode_then_verify_for_every_hash_and_odd_sizes() {
        for hash in HashAlg::ALL {
            for bits in [1024usize, 1025, 2047, 2048] {
                let m = hash.digest(b"hello");
                let p = PssParams::standard(hash);
                let salt = vec![0x5A; p.salt_len];
                if (bits - 1).div_ceil(8) < 2 * hash.output_len() + 2 {
                    // RFC 8017 §9.1.1 step 3: the key is too small for this hash and salt
                    assert!(encode(&m, bits, &p, &salt).is_err());
                    continue;
                }
                let em = encode(&m, bits, &p, &salt).unwrap();
                assert_eq!(em.len(), bits.div_ceil(8));
                verify(&m, &em, bits, hash, hash, Some(p.salt_len)).unwrap();
                verify(&m, &em, bits, hash, hash, None).unwrap();
                assert!(verify(&m, &em, bits, hash, hash, Some(p.salt_len + 1)).is_err());
                let mut bad = em.clone();
                let n = bad.len();
                bad[n / 2] ^= 1;
                assert!(verify(&m, &bad, bits, hash, hash, None).is_err());
            }
        }
    }

    #[test]
    fn encode_rejects_bad_inputs() {
        let p = PssParams::standard(HashAlg::Sha256);
        assert!(encode(&[0; 20], 2048, &p, &[0; 32]).is_err());
        assert!(encode(&[0; 32], 2048, &p, &[0; 31]).is_err());
        let long = PssParams { salt_len: 300, ..p };
        assert!(encode(&[0; 32], 2048, &long, &[0; 300]).is_err());
    }
}
