//! CDF: X.509 certificates (PKCS#15 v1.1 §6.5). CPS3 entry 1 is real card bytes up to the ID
//! (CPS3.md §3.2); paths `A001`/`A002` (CPS3) and `A010`/`A020` (CPS4) are relative to the
//! application.

use super::common::{objects, opt_bool, resolve_path, CommonObject, Pkcs15Id};
use super::tlv::{Fields, ParseError, Tag};
use crate::card::path::FilePath;

/// One certificate of the CDF (its content is read lazily from `path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateObject {
    pub common: CommonObject,
    /// Shared with the private key of the pair (CKA_ID).
    pub id: Pkcs15Id,
    /// `authority` (a CA certificate).
    pub authority: bool,
    pub path: FilePath,
}

/// Parses a CDF. Entries other than X.509 certificates (`30`), or without a path (direct
/// values, URLs), are skipped.
pub fn parse_cdf(file: &[u8], app_df: &FilePath) -> Result<Vec<CertificateObject>, ParseError> {
    const WHAT: &str = "CDF";
    let mut out = Vec::new();
    for obj in objects(file, WHAT)? {
        if obj.tag != Tag::SEQUENCE {
            continue;
        }
        let class = obj.class_fields(WHAT, "CommonCertificateAttributes")?;
        let Some(type_attrs) = obj.type_attrs else {
            continue;
        };
        // [1] { X509CertificateAttributes SEQUENCE { value ObjectValue (Path), ... } }
        let Some(x509) = Fields::parse(type_attrs, WHAT)?.sub(Tag::SEQUENCE, "X509Attributes")?
        else {
            continue;
        };
        let Some(path_value) = x509.first(Tag::SEQUENCE) else {
            continue;
        };
        let Some(path) = resolve_path(path_value, app_df, WHAT)? else {
            continue;
        };
        out.push(CertificateObject {
            common: obj.common,
            id: Pkcs15Id(class.require(Tag::OCTET_STRING, "iD")?.to_vec()),
            authority: opt_bool(&class, Tag::BOOLEAN, "authority")?.unwrap_or(false),
            path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::super::tlv::BitFlags;
    use super::*;

    #[test]
    fn cps3_cdf() {
        let certs = parse_cdf(&samples::cps3_cdf(), &FilePath::from_fids(&[1])).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(
            certs[0].common.label.as_deref(),
            Some("Certificat de Signature CPS")
        );
        // real `03 02 08 00`: 8 unused bits → no flags (not private, not modifiable)
        assert_eq!(certs[0].common.flags, BitFlags(0));
        assert_eq!(certs[0].common.access_rules.len(), 2);
        assert_eq!(certs[0].id.to_string(), "e828bd080f8025000001ff001001");
        assert!(!certs[0].authority);
        assert_eq!(certs[0].path.to_string(), "3F00/0001/A001");
        assert_eq!(
            certs[1].common.label.as_deref(),
            Some("Certificat d'Authentification CPS")
        );
        assert_eq!(certs[1].id.last_byte(), Some(0x02));
        assert_eq!(certs[1].path.to_string(), "3F00/0001/A002");
    }

    #[test]
    fn cps4_cdf() {
        let certs = parse_cdf(&samples::cps4_cdf(), &FilePath::from_fids(&[1])).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].id.last_byte(), Some(0x10));
        assert_eq!(certs[0].path.to_string(), "3F00/0001/A010");
        assert_eq!(certs[1].id.last_byte(), Some(0x20));
        assert_eq!(certs[1].path.to_string(), "3F00/0001/A020");
        assert_eq!(certs[1].common.flags, BitFlags(0));
    }
}
