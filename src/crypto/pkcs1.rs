//! PKCS#1 v1.5 block formats (RFC 8017 §7.2.2 step 3, §9.2 step 5).

use super::CryptoError;

/// Least padding string length of a PKCS#1 v1.5 block (RFC 8017 §9.2 step 5: PS ≥ 8 bytes).
const MIN_PS: usize = 8;

/// `00 01 FF…FF 00 T` of `k` bytes: what a raw RSA private operation turns into a PKCS#1 v1.5
/// signature (CPS4's authentication key: the host pads, the card only exponentiates — CPS4.md §6.4).
pub fn pad_type1(t: &[u8], k: usize) -> Result<Vec<u8>, CryptoError> {
    if t.len() + 3 + MIN_PS > k {
        return Err(CryptoError::InputTooLong {
            len: t.len(),
            max: k.saturating_sub(3 + MIN_PS),
        });
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(k - t.len() - 1, 0xFF);
    em.push(0x00);
    em.extend_from_slice(t);
    Ok(em)
}

/// Removes `00 02 PS 00` from a deciphered block (RFC 8017 §7.2.2 step 3) and returns the
/// message. The scan does not stop early, so that the time taken does not depend on where the
/// separator is; every failure gives the same error.
pub fn unpad_type2(em: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if em.len() < 3 + MIN_PS {
        return Err(CryptoError::BadPadding);
    }
    let mut bad = (em[0] != 0x00) as u8 | (em[1] != 0x02) as u8;
    let mut sep: usize = 0;
    for (i, &b) in em.iter().enumerate().skip(2) {
        let first_zero = (b == 0 && sep == 0) as usize;
        sep |= first_zero * i;
    }
    bad |= (sep == 0) as u8 | (sep < 2 + MIN_PS) as u8;
    if bad != 0 {
        return Err(CryptoError::BadPadding);
    }
    Ok(em[sep + 1..].to_vec())
}

/// Checks `00 01 FF…FF 00 T` and returns `T` (used to verify signatures of raw input).
pub fn unpad_type1(em: &[u8]) -> Result<&[u8], CryptoError> {
    if em.len() < 3 + MIN_PS || em[0] != 0x00 || em[1] != 0x01 {
        return Err(CryptoError::BadPadding);
    }
    let sep = em[2..]
        .iter()
        .position(|&b| b != 0xFF)
        .map(|p| p + 2)
        .ok_or(CryptoError::BadPadding)?;
    if em[sep] != 0x00 || sep < 2 + MIN_PS {
        return Err(CryptoError::BadPadding);
    }
    Ok(&em[sep + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type1_layout() {
        let em = pad_type1(&[1, 2, 3], 32).unwrap();
        assert_eq!(em.len(), 32);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..28].iter().all(|&b| b == 0xFF));
        assert_eq!(&em[28..], &[0, 1, 2, 3]);
        assert_eq!(unpad_type1(&em).unwrap(), &[1, 2, 3]);
        // 256-byte block: at most 245 bytes of T
        assert!(pad_type1(&[0; 245], 256).is_ok());
        assert!(matches!(
            pad_type1(&[0; 246], 256),
            Err(CryptoError::InputTooLong { max: 245, .. })
        ));
    }

    #[test]
    fn type2_unpadding() {
        let mut em = vec![0x00, 0x02];
        em.extend([0x11; 10]);
        em.push(0);
        em.extend(b"secret");
        assert_eq!(unpad_type2(&em).unwrap(), b"secret");
        // empty message is valid
        let mut e2 = vec![0x00, 0x02];
        e2.extend([0x11; 10]);
        e2.push(0);
        assert_eq!(unpad_type2(&e2).unwrap(), b"");
        // padding string too short
        let bad = [0x00, 0x02, 1, 2, 3, 0, 9, 9, 9, 9, 9, 9];
        assert!(unpad_type2(&bad).is_err());
        // wrong block type, no separator
        let mut bt = em.clone();
        bt[1] = 1;
        assert!(unpad_type2(&bt).is_err());
        assert!(unpad_type2(&[0, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
    }
}
