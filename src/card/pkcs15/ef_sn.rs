//! EF.SN.ICC D003: the card serial number (CPS3.md §3.2, CPS4.md §4): exactly
//! `5A 0A` + BCD `80 25 00 00 01` (issuer) + 8 serial digits + the Luhn digit of the 18
//! previous digits + `F`. A card whose issuer prefix differs is not a CPS card (the ANS driver
//! rejects it: CL:card-cps.c `_cps_read_efsnicc`).

use super::tlv::ParseError;

/// BCD issuer prefix every CPS serial starts with.
pub const ISSUER_PREFIX: [u8; 5] = [0x80, 0x25, 0x00, 0x00, 0x01];

/// A decoded CPS card serial.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardSerial {
    /// All digits of the PAN before the final `F` (issuer, serial, Luhn): 19 digits.
    pub pan: String,
    /// The 8 serial digits (the token serial number, e.g. `99213845`).
    pub serial: String,
    /// The Luhn digit matches the 18 previous digits (the ANS driver does not check it; a
    /// mismatch is reported, not refused).
    pub luhn_valid: bool,
}

/// Parses EF.SN.ICC. Errors: wrong tag or length, non-BCD digits, wrong issuer prefix.
pub fn parse_ef_sn(file: &[u8]) -> Result<CardSerial, ParseError> {
    const WHAT: &str = "EF.SN.ICC";
    let [0x5A, 0x0A, rest @ ..] = file else {
        return Err(ParseError::Invalid {
            what: WHAT,
            reason: "not a 5A 0A serial template",
        });
    };
    let Some(value) = rest.get(..10) else {
        return Err(ParseError::Truncated { what: WHAT });
    };
    if value[..5] != ISSUER_PREFIX {
        return Err(ParseError::Invalid {
            what: WHAT,
            reason: "issuer prefix is not 80 25 00 00 01 (not a CPS card)",
        });
    }
    let nibbles: Vec<u8> = value.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
    // 19 digits then F
    if nibbles[19] != 0x0F || nibbles[..19].iter().any(|n| *n > 9) {
        return Err(ParseError::Invalid {
            what: WHAT,
            reason: "serial is not 19 BCD digits followed by F",
        });
    }
    let pan: String = nibbles[..19].iter().map(|n| (b'0' + n) as char).collect();
    let luhn_valid = luhn_digit(&nibbles[..18]) == nibbles[18];
    if !luhn_valid {
        log::warn!("EF.SN.ICC: Luhn digit of serial {pan} does not match");
    }
    Ok(CardSerial {
        serial: pan[10..18].to_owned(),
        pan,
        luhn_valid,
    })
}

/// Luhn check digit of `digits` (0..=9 each).
pub fn luhn_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = *d as u32;
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    #[test]
    fn real_and_default_serials() {
        let real = parse_ef_sn(&samples::cps3_ef_sn_real()).unwrap();
        assert_eq!(real.serial, "99213845");
        assert_eq!(real.pan, "8025000001992138450");
        assert!(real.luhn_valid);
        let default = parse_ef_sn(&samples::ef_sn_default()).unwrap();
        assert_eq!(default.serial, "12345678");
        assert!(default.luhn_valid);
    }

    #[test]
    fn refuses_other_issuers_and_bad_bcd() {
        let mut other = samples::ef_sn_default();
        other[3] = 0x26;
        assert!(parse_ef_sn(&other).is_err());
        let mut bad = samples::ef_sn_default();
        bad[8] = 0x3A;
        assert!(parse_ef_sn(&bad).is_err());
        let mut no_f = samples::ef_sn_default();
        no_f[11] = 0x90;
        assert!(parse_ef_sn(&no_f).is_err());
        assert!(parse_ef_sn(&samples::ef_sn_default()[..11]).is_err());
        let mut wrong_luhn = samples::ef_sn_default();
        wrong_luhn[11] = 0x8F;
        assert!(!parse_ef_sn(&wrong_luhn).unwrap().luhn_valid);
    }
}
