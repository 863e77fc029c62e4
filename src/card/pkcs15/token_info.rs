//! TokenInfo 0001/5032 (PKCS#15 v1.1 §6.9): serial, manufacturerID, label `[0]`, token flags,
//! supportedAlgorithms `[2]` (CPS3.md §3.2, CPS4.md §4.1).

use super::common::opt_flags;
use super::tlv::{oid, text, uint, BitFlags, Fields, ParseError, Reader, Tag};

/// `TokenFlags` bit numbers.
pub mod token_flags {
    pub const READ_ONLY: u32 = 0;
    pub const LOGIN_REQUIRED: u32 = 1;
    pub const PRN_GENERATION: u32 = 2;
    pub const EID_COMPLIANT: u32 = 3;
}

/// `supportedOperations` bit numbers of an AlgorithmInfo.
pub mod algorithm_ops {
    pub const COMPUTE_CHECKSUM: u32 = 0;
    pub const COMPUTE_SIGNATURE: u32 = 1;
    pub const VERIFY_CHECKSUM: u32 = 2;
    pub const VERIFY_SIGNATURE: u32 = 3;
    pub const ENCIPHER: u32 = 4;
    pub const DECIPHER: u32 = 5;
    pub const HASH: u32 = 6;
    pub const GENERATE_KEY: u32 = 7;
}

/// One `AlgorithmInfo` entry: what the card does, with which MSE algorithm reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmInfo {
    pub reference: u32,
    /// PKCS#11 mechanism number (CKM_SHA_1 = 0x220, CKM_SHA256_RSA_PKCS = 0x40, ...).
    pub mechanism: u32,
    pub operations: BitFlags,
    pub object_id: Option<Vec<u32>>,
    /// The card's algorithm reference for MSE (`80 01 <algRef>`), e.g. `42`.
    pub alg_ref: Option<u32>,
}

/// The decoded TokenInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub version: u32,
    /// Raw serialNumber octets (CPS: the EF.SN PAN; the ANS module ignores it).
    pub serial_number: Vec<u8>,
    pub manufacturer_id: Option<String>,
    pub label: Option<String>,
    pub flags: BitFlags,
    pub algorithms: Vec<AlgorithmInfo>,
}

impl TokenInfo {
    pub fn login_required(&self) -> bool {
        self.flags.has(token_flags::LOGIN_REQUIRED)
    }

    pub fn has_rng(&self) -> bool {
        self.flags.has(token_flags::PRN_GENERATION)
    }

    /// Serial number as hex digits (the CPS serial is BCD, so these are its digits).
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(&self.serial_number)
    }
}

/// Parses TokenInfo. The label is `[0]` (PKCS#15 v1.1); a second UTF8String (v1.0 writers) is
/// accepted as the label too.
pub fn parse_token_info(file: &[u8]) -> Result<TokenInfo, ParseError> {
    const WHAT: &str = "TokenInfo";
    let outer = Reader::new(file, WHAT)
        .next_tlv()?
        .filter(|t| t.tag == Tag::SEQUENCE)
        .ok_or(ParseError::Missing {
            what: WHAT,
            field: "TokenInfo SEQUENCE",
        })?;
    let f = Fields::parse(outer.value, WHAT)?;
    let mut algorithms = Vec::new();
    if let Some(list) = f.first(Tag::context_constructed(2)) {
        let mut r = Reader::new(list, "supportedAlgorithms");
        while let Some(entry) = r.next_tlv()? {
            if entry.tag == Tag::SEQUENCE {
                algorithms.push(parse_algorithm(entry.value)?);
            }
        }
    }
    Ok(TokenInfo {
        version: uint(f.require(Tag::INTEGER, "version")?, "version")?,
        serial_number: f
            .first(Tag::OCTET_STRING)
            .map(|v| v.to_vec())
            .unwrap_or_default(),
        manufacturer_id: f.first(Tag::UTF8_STRING).map(text),
        label: f
            .first(Tag::context(0))
            .or_else(|| f.nth(Tag::UTF8_STRING, 1))
            .map(text),
        flags: opt_flags(&f, Tag::BIT_STRING),
        algorithms,
    })
}

fn parse_algorithm(value: &[u8]) -> Result<AlgorithmInfo, ParseError> {
    const WHAT: &str = "AlgorithmInfo";
    let f = Fields::parse(value, WHAT)?;
    let reference = uint(f.require(Tag::INTEGER, "reference")?, WHAT)?;
    let mechanism = uint(
        f.nth(Tag::INTEGER, 1).ok_or(ParseError::Missing {
            what: WHAT,
            field: "algorithm",
        })?,
        WHAT,
    )?;
    let ops_at = f.position(Tag::BIT_STRING);
    let alg_ref = match ops_at {
        Some(i) => f.first_after(i, Tag::INTEGER),
        None => f.nth(Tag::INTEGER, 2),
    }
    .map(|v| uint(v, WHAT))
    .transpose()?;
    Ok(AlgorithmInfo {
        reference,
        mechanism,
        operations: opt_flags(&f, Tag::BIT_STRING),
        object_id: f.first(Tag::OID).map(|v| oid(v, WHAT)).transpose()?,
        alg_ref,
    })
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::super::tlv::oid_to_string;
    use super::*;

    #[test]
    fn cps3_token_info() {
        let ti = parse_token_info(&samples::cps3_token_info()).unwrap();
        assert_eq!(ti.version, 0);
        assert_eq!(ti.serial_hex(), "8025000001123456789F");
        assert_eq!(ti.manufacturer_id.as_deref(), Some("ASIP-SANTE"));
        assert_eq!(ti.label.as_deref(), Some("CPS3v3-12345678"));
        assert!(ti.login_required() && ti.has_rng());
        assert!(!ti.flags.has(token_flags::READ_ONLY));
        let algs: Vec<(u32, u32, Option<u32>)> = ti
            .algorithms
            .iter()
            .map(|a| (a.reference, a.mechanism, a.alg_ref))
            .collect();
        assert_eq!(
            algs,
            vec![
                (1, 0x220, Some(0x10)),
                (2, 0x250, Some(0x40)),
                (3, 0x06, Some(0x12)),
                (4, 0x40, Some(0x42)),
                (5, 0x01, Some(0x02)),
                (6, 0x01, Some(0x1A)),
            ]
        );
        assert!(ti.algorithms[0].operations.has(algorithm_ops::HASH));
        assert!(ti.algorithms[3]
            .operations
            .has(algorithm_ops::COMPUTE_SIGNATURE));
        assert!(ti.algorithms[5].operations.has(algorithm_ops::DECIPHER));
        assert_eq!(
            oid_to_string(ti.algorithms[3].object_id.as_ref().unwrap()),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(
            oid_to_string(ti.algorithms[0].object_id.as_ref().unwrap()),
            "1.3.14.3.2.26"
        );
    }

    #[test]
    fn cps4_token_info() {
        let ti = parse_token_info(&samples::cps4_token_info()).unwrap();
        assert_eq!(ti.label.as_deref(), Some("CPS4-12345678"));
        assert_eq!(ti.manufacturer_id.as_deref(), Some("ASIP-SANTE"));
        assert!(ti.algorithms.is_empty());
        assert!(ti.login_required());
    }
}
