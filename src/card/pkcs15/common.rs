//! Pieces shared by every PKCS#15 object (PKCS#15 v1.1 §6.2 / ISO 7816-15 §8): identifiers,
//! paths, CommonObjectAttributes, access control rules, and the PKCS15Object envelope.

use super::tlv::{bit_flags, boolean, text, uint, BitFlags, Fields, ParseError, Reader, Tag};
use crate::card::path::FilePath;
use std::fmt;

/// A PKCS#15 `Identifier` (OCTET STRING): object IDs (= PKCS#11 `CKA_ID`) and authIds.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pkcs15Id(pub Vec<u8>);

impl Pkcs15Id {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The last byte (CPS key/object index: `…FF 00 10 01` → `01`), if any.
    pub fn last_byte(&self) -> Option<u8> {
        self.0.last().copied()
    }
}

impl fmt::Display for Pkcs15Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for Pkcs15Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs15Id({self})")
    }
}

/// Resolves a PKCS#15 `Path` value (`30 { 04 path [02 index] [80 length] }` content) against
/// the application DF: a path starting with `3F00` is absolute, any other is relative to the
/// application (CPS3 CDF `04 02 A0 01` → `3F00/0001/A001`). An empty path (CPS PrKDF
/// `30 02 04 00`: the key lives in the application itself) gives `None`.
pub fn resolve_path(
    path_value: &[u8],
    app_df: &FilePath,
    what: &'static str,
) -> Result<Option<FilePath>, ParseError> {
    let fields = Fields::parse(path_value, what)?;
    let bytes = fields.require(Tag::OCTET_STRING, "path")?;
    path_from_bytes(bytes, app_df, what)
}

/// As [`resolve_path`] for the bare OCTET STRING content (ODF entries also wrap it in a Path).
pub fn path_from_bytes(
    bytes: &[u8],
    app_df: &FilePath,
    what: &'static str,
) -> Result<Option<FilePath>, ParseError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() % 2 != 0 {
        return Err(ParseError::Invalid {
            what,
            reason: "path of odd length",
        });
    }
    let fids: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    if fids[0] == crate::card::path::MF {
        Ok(Some(FilePath::from_fids(&fids)))
    } else {
        let mut p = app_df.clone();
        for fid in fids {
            p = p.child(fid);
        }
        Ok(Some(p))
    }
}

/// An `AccessControlRule`: which operations (`accessMode` bits) need which authentication
/// object (`None` = always allowed, `NULL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    pub mode: BitFlags,
    pub auth_id: Option<Pkcs15Id>,
}

/// Flags of `CommonObjectFlags`.
pub const OBJECT_FLAG_PRIVATE: u32 = 0;
pub const OBJECT_FLAG_MODIFIABLE: u32 = 1;

/// `CommonObjectAttributes`: label, flags (private, modifiable), authId, access rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommonObject {
    pub label: Option<String>,
    pub flags: BitFlags,
    pub auth_id: Option<Pkcs15Id>,
    pub access_rules: Vec<AccessRule>,
}

impl CommonObject {
    /// Decodes the content of the CommonObjectAttributes SEQUENCE.
    pub fn parse(value: &[u8]) -> Result<Self, ParseError> {
        let f = Fields::parse(value, "CommonObjectAttributes")?;
        let mut access_rules = Vec::new();
        if let Some(rules) = f.first(Tag::SEQUENCE) {
            let mut r = Reader::new(rules, "accessControlRules");
            while let Some(rule) = r.next_tlv()? {
                if rule.tag != Tag::SEQUENCE {
                    continue;
                }
                let rf = Fields::parse(rule.value, "AccessControlRule")?;
                access_rules.push(AccessRule {
                    mode: opt_flags(&rf, Tag::BIT_STRING),
                    auth_id: rf.first(Tag::OCTET_STRING).map(|v| Pkcs15Id(v.to_vec())),
                });
            }
        }
        Ok(CommonObject {
            label: f.first(Tag::UTF8_STRING).map(text),
            flags: opt_flags(&f, Tag::BIT_STRING),
            auth_id: f
                .first(Tag::OCTET_STRING)
                .filter(|v| !v.is_empty())
                .map(|v| Pkcs15Id(v.to_vec())),
            access_rules,
        })
    }

    /// The private flag (object needs authentication to be used or read).
    pub fn is_private(&self) -> bool {
        self.flags.has(OBJECT_FLAG_PRIVATE)
    }

    /// The modifiable flag.
    pub fn is_modifiable(&self) -> bool {
        self.flags.has(OBJECT_FLAG_MODIFIABLE)
    }
}

/// The generic `PKCS15Object` envelope: `SEQUENCE { common, class attributes, [0] subclass,
/// [1] type attributes }`, each as its raw content.
#[derive(Debug, Clone)]
pub struct ObjectEnvelope<'a> {
    /// Outer tag (`30` for most objects; ODF-like choices use context tags).
    pub tag: Tag,
    pub common: CommonObject,
    /// Content of the class attributes SEQUENCE (second member), if present.
    pub class: Option<&'a [u8]>,
    /// Content of `[0]` subclass attributes.
    pub subclass: Option<&'a [u8]>,
    /// Content of `[1]` type attributes.
    pub type_attrs: Option<&'a [u8]>,
}

impl<'a> ObjectEnvelope<'a> {
    /// Splits one object's content.
    pub fn parse(tag: Tag, value: &'a [u8], what: &'static str) -> Result<Self, ParseError> {
        let members = Reader::new(value, what).collect_all()?;
        let mut seqs = members.iter().filter(|t| t.tag == Tag::SEQUENCE);
        let common = seqs.next().ok_or(ParseError::Missing {
            what,
            field: "commonObjectAttributes",
        })?;
        let class = seqs.next().map(|t| t.value);
        let find = |t: Tag| members.iter().find(|m| m.tag == t).map(|m| m.value);
        Ok(ObjectEnvelope {
            tag,
            common: CommonObject::parse(common.value)?,
            class,
            subclass: find(Tag::context_constructed(0)),
            type_attrs: find(Tag::context_constructed(1)),
        })
    }

    /// The class attributes (`name`, e.g. `CommonKeyAttributes`) as fields, required.
    pub fn class_fields(
        &self,
        what: &'static str,
        name: &'static str,
    ) -> Result<Fields<'a>, ParseError> {
        let class = self
            .class
            .ok_or(ParseError::Missing { what, field: name })?;
        Fields::parse(class, name)
    }
}

/// Reads every object of a PKCS#15 directory file (AODF, PrKDF, CDF, DODF): a series of
/// TLVs until the end or padding.
pub fn objects<'a>(
    file: &'a [u8],
    what: &'static str,
) -> Result<Vec<ObjectEnvelope<'a>>, ParseError> {
    let mut out = Vec::new();
    let mut r = Reader::new(file, what);
    while let Some(tlv) = r.next_tlv()? {
        out.push(ObjectEnvelope::parse(tlv.tag, tlv.value, what)?);
    }
    Ok(out)
}

/// An optional unsigned INTEGER member.
pub fn opt_uint(f: &Fields<'_>, tag: Tag, field: &'static str) -> Result<Option<u32>, ParseError> {
    f.first(tag).map(|v| uint(v, field)).transpose()
}

/// An optional BOOLEAN member.
pub fn opt_bool(f: &Fields<'_>, tag: Tag, field: &'static str) -> Result<Option<bool>, ParseError> {
    f.first(tag).map(|v| boolean(v, field)).transpose()
}

/// An optional BIT STRING member as flags: none set when it is absent (lenient, never fails:
/// [`bit_flags`]).
pub fn opt_flags(f: &Fields<'_>, tag: Tag) -> BitFlags {
    f.first(tag).map(bit_flags).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_application() {
        let app = FilePath::from_fids(&[0x0001]);
        let abs = resolve_path(&hex::decode("04063F0000017001").unwrap(), &app, "t").unwrap();
        assert_eq!(abs.unwrap().to_string(), "3F00/0001/7001");
        let rel = resolve_path(&hex::decode("0402A001").unwrap(), &app, "t").unwrap();
        assert_eq!(rel.unwrap().to_string(), "3F00/0001/A001");
        assert_eq!(resolve_path(&[0x04, 0x00], &app, "t").unwrap(), None);
        assert!(resolve_path(&[0x04, 0x01, 0xA0], &app, "t").is_err());
        assert!(resolve_path(&[0x02, 0x01, 0x00], &app, "t").is_err());
    }
}
