//! EF.DIR 2F00 (ISO 7816-4 §8.2.1.1 application templates `61 {4F, 50, 51, 73}`), CPS3.md
//! §3.2. The record order varies (contactless first on real cards): pick by AID, never by
//! position.

use super::tlv::{text, Fields, ParseError, Reader, Tag};
use crate::card::path::FilePath;

/// One application template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub aid: Vec<u8>,
    pub label: Option<String>,
    /// Tag `51`: path of the application DF.
    pub path: Option<FilePath>,
    /// Tag `73` discretionary data: the `4F` inside (the PKCS#15 AID of the objects).
    pub ddo_aid: Option<Vec<u8>>,
}

/// Parses EF.DIR (all templates of a transparent file, or one record).
pub fn parse_ef_dir(file: &[u8]) -> Result<Vec<Application>, ParseError> {
    const WHAT: &str = "EF.DIR";
    let mut out = Vec::new();
    let mut r = Reader::new(file, WHAT);
    while let Some(t) = r.next_tlv()? {
        if t.tag != Tag(0x61) {
            continue;
        }
        let f = Fields::parse(t.value, WHAT)?;
        let aid = f.require(Tag(0x4F), "application AID")?.to_vec();
        let path = match f.first(Tag(0x51)) {
            Some(p) => Some(FilePath::from_bytes(p).ok_or(ParseError::Invalid {
                what: WHAT,
                reason: "path of odd length",
            })?),
            None => None,
        };
        let ddo_aid = match f.first(Tag(0x73)) {
            Some(ddo) => Fields::parse(ddo, WHAT)?
                .first(Tag(0x4F))
                .map(|v| v.to_vec()),
            None => None,
        };
        out.push(Application {
            aid,
            label: f.first(Tag(0x50)).map(text),
            path,
            ddo_aid,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    #[test]
    fn cps3_ef_dir() {
        let apps = parse_ef_dir(&samples::cps3_ef_dir()).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(hex::encode(&apps[0].aid), "e828bd080f8025000001ff0020");
        assert_eq!(apps[0].label.as_deref(), Some("CPS IAS CL"));
        assert_eq!(apps[0].path.as_ref().unwrap().to_string(), "3F00/0002");
        assert_eq!(
            hex::encode(apps[0].ddo_aid.as_ref().unwrap()),
            "e828bd080f8025000001ff0010"
        );
        assert_eq!(hex::encode(&apps[1].aid), "e828bd080f8025000001ff0010");
        assert_eq!(apps[1].label.as_deref(), Some("CPS IAS"));
        assert_eq!(apps[1].path.as_ref().unwrap().to_string(), "3F00/0001");
    }
}
