//! PrKDF: private RSA keys (PKCS#15 v1.1 §6.3, `PrivateRSAKeyAttributes`). CPS3: refs `81`/`82`
//! written as 2-byte INTEGERs `02 02 00 81`, empty key paths `30 02 04 00` (CPS3.md §3.2);
//! CPS4: refs `10`/`20` (CPS4.md §4.1). No algorithm references on either card.

use super::common::{objects, opt_bool, opt_flags, opt_uint, resolve_path, CommonObject, Pkcs15Id};
use super::tlv::{bit_flags, uint, BitFlags, Fields, ParseError, Tag};
use crate::card::path::FilePath;

/// `KeyUsageFlags` bit numbers.
pub mod key_usage {
    pub const ENCRYPT: u32 = 0;
    pub const DECRYPT: u32 = 1;
    pub const SIGN: u32 = 2;
    pub const SIGN_RECOVER: u32 = 3;
    pub const WRAP: u32 = 4;
    pub const UNWRAP: u32 = 5;
    pub const VERIFY: u32 = 6;
    pub const VERIFY_RECOVER: u32 = 7;
    pub const DERIVE: u32 = 8;
    pub const NON_REPUDIATION: u32 = 9;
}

/// `KeyAccessFlags` bit numbers.
pub mod key_access {
    pub const SENSITIVE: u32 = 0;
    pub const EXTRACTABLE: u32 = 1;
    pub const ALWAYS_SENSITIVE: u32 = 2;
    pub const NEVER_EXTRACTABLE: u32 = 3;
    pub const LOCAL: u32 = 4;
}

/// One private key of the PrKDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKeyObject {
    pub common: CommonObject,
    /// `iD` = PKCS#11 CKA_ID (CPS: application AID ‖ key index).
    pub id: Pkcs15Id,
    pub usage: BitFlags,
    pub native: bool,
    pub access_flags: BitFlags,
    /// `keyReference`: the key number the MSE names (`84 01 <ref>`).
    pub key_reference: Option<u32>,
    /// Algorithm references (`[1]` of CommonKeyAttributes), absent on CPS cards.
    pub alg_refs: Vec<u32>,
    /// Key file path; `None` when empty (the key lives in the application DF).
    pub path: Option<FilePath>,
    /// Modulus length in bits.
    pub modulus_bits: Option<u32>,
}

impl PrivateKeyObject {
    pub fn can_sign(&self) -> bool {
        self.usage.has(key_usage::SIGN) || self.usage.has(key_usage::NON_REPUDIATION)
    }

    pub fn can_decrypt(&self) -> bool {
        self.usage.has(key_usage::DECRYPT)
    }

    pub fn is_non_repudiation(&self) -> bool {
        self.usage.has(key_usage::NON_REPUDIATION)
    }
}

/// Parses a PrKDF. Entries that are not RSA private keys (`30`) are skipped.
pub fn parse_prkdf(file: &[u8], app_df: &FilePath) -> Result<Vec<PrivateKeyObject>, ParseError> {
    const WHAT: &str = "PrKDF";
    let mut out = Vec::new();
    for obj in objects(file, WHAT)? {
        if obj.tag != Tag::SEQUENCE {
            continue; // EC/DH/... keys use other tags
        }
        let class = obj.class_fields(WHAT, "CommonKeyAttributes")?;
        let mut alg_refs = Vec::new();
        if let Some(list) = class.first(Tag::context_constructed(1)) {
            for t in Fields::parse(list, "algReference")?.items() {
                if t.tag == Tag::INTEGER {
                    alg_refs.push(uint(t.value, "algReference")?);
                }
            }
        }
        let (path, modulus_bits) = match obj.type_attrs {
            Some(ta) => {
                let outer = Fields::parse(ta, WHAT)?;
                match outer.sub(Tag::SEQUENCE, "PrivateRSAKeyAttributes")? {
                    Some(rsa) => {
                        let path = match rsa.first(Tag::SEQUENCE) {
                            Some(p) => resolve_path(p, app_df, WHAT)?,
                            None => None,
                        };
                        (path, opt_uint(&rsa, Tag::INTEGER, "modulusLength")?)
                    }
                    None => (None, None),
                }
            }
            None => (None, None),
        };
        out.push(PrivateKeyObject {
            common: obj.common,
            id: Pkcs15Id(class.require(Tag::OCTET_STRING, "iD")?.to_vec()),
            usage: opt_flags(&class, Tag::BIT_STRING),
            native: opt_bool(&class, Tag::BOOLEAN, "native")?.unwrap_or(true),
            access_flags: class
                .nth(Tag::BIT_STRING, 1)
                .map(bit_flags)
                .unwrap_or_default(),
            key_reference: opt_uint(&class, Tag::INTEGER, "keyReference")?,
            alg_refs,
            path,
            modulus_bits,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    fn app() -> FilePath {
        FilePath::from_fids(&[1])
    }

    const AID: &str = "e828bd080f8025000001ff0010";

    #[test]
    fn cps3_prkdf() {
        let keys = parse_prkdf(&samples::cps3_prkdf(), &app()).unwrap();
        assert_eq!(keys.len(), 2);
        let (sig, aut) = (&keys[0], &keys[1]);
        assert_eq!(sig.common.label.as_deref(), Some("CPS_PRIV_SIG"));
        assert_eq!(sig.common.flags, BitFlags(0x01));
        assert!(sig.common.is_private());
        assert_eq!(sig.common.auth_id, Some(Pkcs15Id(vec![1])));
        assert_eq!(sig.id.to_string(), format!("{AID}01"));
        assert_eq!(sig.usage, BitFlags(1 << key_usage::NON_REPUDIATION));
        assert!(sig.can_sign() && !sig.can_decrypt());
        assert!(sig.native);
        assert_eq!(sig.access_flags, BitFlags(0x0D));
        assert_eq!(sig.key_reference, Some(0x81));
        assert!(sig.alg_refs.is_empty());
        assert_eq!(sig.path, None);
        assert_eq!(sig.modulus_bits, Some(2048));

        assert_eq!(aut.common.label.as_deref(), Some("CPS_PRIV_AUT"));
        assert_eq!(aut.common.flags, BitFlags(0x07));
        assert_eq!(aut.id.to_string(), format!("{AID}02"));
        assert_eq!(
            aut.usage,
            BitFlags((1 << key_usage::DECRYPT) | (1 << key_usage::SIGN))
        );
        assert!(aut.can_sign() && aut.can_decrypt() && !aut.is_non_repudiation());
        assert_eq!(aut.access_flags, BitFlags(0x0D));
        assert_eq!(aut.key_reference, Some(0x82));
        assert_eq!(aut.modulus_bits, Some(2048));
    }

    #[test]
    fn cps4_prkdf() {
        let keys = parse_prkdf(&samples::cps4_prkdf(), &app()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].key_reference, Some(0x10));
        assert_eq!(keys[0].id.to_string(), format!("{AID}10"));
        assert!(keys[0].is_non_repudiation());
        assert_eq!(keys[1].key_reference, Some(0x20));
        assert_eq!(keys[1].id.to_string(), format!("{AID}20"));
        // the decrypt bit the ANS driver's "CPS4 auth key" test relies on
        assert!(keys[1].can_decrypt() && keys[1].can_sign());
        assert!(keys[1].common.is_private() && keys[1].common.is_modifiable());
        assert_eq!(keys[1].modulus_bits, Some(2048));
        assert_eq!(keys[1].path, None);
    }

    #[test]
    fn key_with_path_and_alg_refs() {
        // common {label "K"}, class {iD 01, usage sign, ref 03, [1]{02 01 12}},
        // [1]{ {path 4B01 relative}, 1024 }
        let entry = hex::decode(
            "3024 30030C014B 300F04010103020520020103A103020112 A10C300A300404024B0102020400"
                .replace(' ', ""),
        )
        .unwrap();
        let keys = parse_prkdf(&entry, &app()).unwrap();
        assert_eq!(keys[0].alg_refs, vec![0x12]);
        assert_eq!(keys[0].key_reference, Some(3));
        assert_eq!(keys[0].path.as_ref().unwrap().to_string(), "3F00/0001/4B01");
        assert_eq!(keys[0].modulus_bits, Some(1024));
    }
}
