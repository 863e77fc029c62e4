//! ODF: where the other directory files are (PKCS#15 v1.1 §6.6, `PKCS15Objects` CHOICE).
//! CPS3 ODF 0001/5031: AODF `A8`, PrKDF `A0`, CDF `A4`, DODF `A7` (CPS3.md §3.2).

use super::common::{path_from_bytes, resolve_path};
use super::tlv::{Fields, ParseError, Reader, Tag};
use crate::card::path::FilePath;

/// Which directory file an ODF entry points at (the context tag number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryKind {
    PrivateKeys,
    PublicKeys,
    TrustedPublicKeys,
    SecretKeys,
    Certificates,
    TrustedCertificates,
    UsefulCertificates,
    DataObjects,
    AuthObjects,
    Other(u8),
}

impl DirectoryKind {
    fn from_tag_number(n: u8) -> Self {
        match n {
            0 => DirectoryKind::PrivateKeys,
            1 => DirectoryKind::PublicKeys,
            2 => DirectoryKind::TrustedPublicKeys,
            3 => DirectoryKind::SecretKeys,
            4 => DirectoryKind::Certificates,
            5 => DirectoryKind::TrustedCertificates,
            6 => DirectoryKind::UsefulCertificates,
            7 => DirectoryKind::DataObjects,
            8 => DirectoryKind::AuthObjects,
            n => DirectoryKind::Other(n),
        }
    }
}

/// One ODF entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdfEntry {
    pub kind: DirectoryKind,
    pub path: FilePath,
}

/// The ODF.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Odf {
    pub entries: Vec<OdfEntry>,
}

impl Odf {
    /// Path of the first directory of `kind`.
    pub fn path_of(&self, kind: DirectoryKind) -> Option<&FilePath> {
        self.entries
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| &e.path)
    }
}

/// Parses an ODF; relative paths are resolved against `app_df`. Entries that are not a `Path`
/// (direct objects, URLs) or have an empty path are skipped.
pub fn parse_odf(file: &[u8], app_df: &FilePath) -> Result<Odf, ParseError> {
    const WHAT: &str = "ODF";
    let mut entries = Vec::new();
    let mut r = Reader::new(file, WHAT);
    while let Some(tlv) = r.next_tlv()? {
        let first = (tlv.tag.0 & 0xFF) as u8;
        if tlv.tag.0 > 0xFF || first & 0xE0 != 0xA0 {
            continue; // not a context-constructed [n]
        }
        let kind = DirectoryKind::from_tag_number(first & 0x1F);
        let inner = Fields::parse(tlv.value, WHAT)?;
        // [n] { Path SEQUENCE } — some writers put the OCTET STRING directly.
        let path = if let Some(p) = inner.first(Tag::SEQUENCE) {
            resolve_path(p, app_df, WHAT)?
        } else if let Some(p) = inner.first(Tag::OCTET_STRING) {
            path_from_bytes(p, app_df, WHAT)?
        } else {
            None
        };
        if let Some(path) = path {
            entries.push(OdfEntry { kind, path });
        }
    }
    Ok(Odf { entries })
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    #[test]
    fn cps3_odf() {
        let app = FilePath::from_fids(&[1]);
        let odf = parse_odf(&samples::cps3_odf(), &app).unwrap();
        assert_eq!(odf.entries.len(), 4);
        let p = |k| odf.path_of(k).unwrap().to_string();
        assert_eq!(p(DirectoryKind::AuthObjects), "3F00/0001/7001");
        assert_eq!(p(DirectoryKind::PrivateKeys), "3F00/0001/7002");
        assert_eq!(p(DirectoryKind::Certificates), "3F00/0001/7005");
        assert_eq!(p(DirectoryKind::DataObjects), "3F00/0001/7006");
        assert!(odf.path_of(DirectoryKind::PublicKeys).is_none());
    }

    #[test]
    fn relative_and_bare_paths() {
        let app = FilePath::from_fids(&[1]);
        let odf = parse_odf(
            &hex::decode("A006300404027102A404040271050000").unwrap(),
            &app,
        )
        .unwrap();
        assert_eq!(odf.entries[0].path.to_string(), "3F00/0001/7102");
        assert_eq!(odf.entries[1].kind, DirectoryKind::Certificates);
        assert_eq!(odf.entries[1].path.to_string(), "3F00/0001/7105");
    }
}
