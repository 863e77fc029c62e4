//! DODF: data objects (PKCS#15 v1.1 §6.7): `CPS_DATA`, `CPS_ID_CARD`, ..., activities
//! (CPS3.md §3.2, objects.md §5). Contents are opaque: the middleware returns them untouched.

use super::common::{objects, resolve_path, CommonObject};
use super::tlv::{oid, text, Fields, ParseError, Tag};
use crate::card::path::FilePath;

/// One data object of the DODF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    /// label, flags (private = PIN needed to read, modifiable = writable), authId.
    pub common: CommonObject,
    /// `applicationName` (`CPS`).
    pub application: Option<String>,
    pub application_oid: Option<Vec<u32>>,
    pub path: FilePath,
}

/// Parses a DODF. Entries without a path (direct values) are skipped.
pub fn parse_dodf(file: &[u8], app_df: &FilePath) -> Result<Vec<DataObject>, ParseError> {
    const WHAT: &str = "DODF";
    let mut out = Vec::new();
    for obj in objects(file, WHAT)? {
        let (application, application_oid) = match obj.class {
            Some(class) => {
                let f = Fields::parse(class, "CommonDataObjectAttributes")?;
                (
                    f.first(Tag::UTF8_STRING).map(text),
                    f.first(Tag::OID).map(|v| oid(v, WHAT)).transpose()?,
                )
            }
            None => (None, None),
        };
        let Some(type_attrs) = obj.type_attrs else {
            continue;
        };
        let Some(path_value) = Fields::parse(type_attrs, WHAT)?.first(Tag::SEQUENCE) else {
            continue;
        };
        let Some(path) = resolve_path(path_value, app_df, WHAT)? else {
            continue;
        };
        out.push(DataObject {
            common: obj.common,
            application,
            application_oid,
            path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::common::Pkcs15Id;
    use super::super::samples;
    use super::*;

    #[test]
    fn cps3_dodf() {
        let objs = parse_dodf(&samples::cps3_dodf(), &FilePath::from_fids(&[1])).unwrap();
        assert_eq!(objs.len(), 3);
        let data = &objs[0];
        assert_eq!(data.common.label.as_deref(), Some("CPS_DATA"));
        assert!(data.common.is_modifiable() && !data.common.is_private());
        assert_eq!(data.common.auth_id, None);
        assert_eq!(data.application.as_deref(), Some("CPS"));
        assert_eq!(data.path.to_string(), "3F00/0001/D107");
        let id = &objs[1];
        assert_eq!(id.common.label.as_deref(), Some("CPS_ID_CARD"));
        assert!(!id.common.is_modifiable() && !id.common.is_private());
        assert_eq!(id.path.to_string(), "3F00/0001/D101");
        let act = &objs[2];
        assert_eq!(act.common.label.as_deref(), Some("CPS_ACTIVITY_01_PS"));
        assert!(act.common.is_private() && !act.common.is_modifiable());
        assert_eq!(act.common.auth_id, Some(Pkcs15Id(vec![1])));
        assert_eq!(act.path.to_string(), "3F00/0001/D120");
    }
}
