//! File control information returned by SELECT: the file size is all the drivers need.
//! CPS3 answers an FCP `62` (CPS3.md §3.1), CPS4 an FCI `6F` (CPS4.md §4); both carry the
//! size in tag `80` (ISO 7816-4 §5.3.3, tag `81` = total size as a fallback).

use super::pkcs15::tlv::{uint, Fields, Reader, Tag};

/// What a SELECT answer says about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileInfo {
    /// Size of the EF body in bytes.
    pub size: Option<usize>,
    /// File descriptor byte (`82`): `01` transparent EF, `38` DF.
    pub descriptor: Option<u8>,
}

impl FileInfo {
    /// True when the descriptor says DF.
    pub fn is_df(&self) -> bool {
        self.descriptor == Some(0x38)
    }
}

/// Decodes an FCP (`62`), FCI (`6F`) or FMD (`64`) template. `None` if it is none of them.
pub fn parse_fcp(data: &[u8]) -> Option<FileInfo> {
    let tlv = Reader::new(data, "FCP").next_tlv().ok()??;
    if !matches!(tlv.tag.0, 0x62 | 0x64 | 0x6F) {
        return None;
    }
    let f = Fields::parse(tlv.value, "FCP").ok()?;
    let size = f
        .first(Tag(0x80))
        .or_else(|| f.first(Tag(0x81)))
        .and_then(|v| uint(v, "file size").ok())
        .map(|s| s as usize);
    Some(FileInfo {
        size,
        descriptor: f.first(Tag(0x82)).and_then(|v| v.first().copied()),
    })
}

/// Size from a CPS2ter FCI (`85 0A <size 2> <FID 2> <type> …`, CPS3.md §9).
pub fn parse_cps2ter_fci(data: &[u8]) -> Option<usize> {
    match data {
        [0x85, len, body @ ..] if *len as usize >= 2 && body.len() >= 2 => {
            Some(u16::from_be_bytes([body[0], body[1]]) as usize)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_fcps_and_fcis() {
        let h = |s: &str| hex::decode(s.replace(' ', "")).unwrap();
        let atr = parse_fcp(&h("62 25 80 02 00 39 82 01 01 83 02 2F 01 88 01 E8 A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")).unwrap();
        assert_eq!(atr.size, Some(0x39));
        assert_eq!(atr.descriptor, Some(1));
        let sn = parse_fcp(&h("62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")).unwrap();
        assert_eq!(sn.size, Some(12));
        let fci = parse_fcp(&h("6F 0E 80 02 02 5F 82 01 01 83 02 70 06 8A 01 05")).unwrap();
        assert_eq!(fci.size, Some(0x25F));
        let df = parse_fcp(&h(
            "62 14 82 01 38 83 02 3F 00 84 08 80 25 00 00 01 FF 01 00 8A 01 05",
        ))
        .unwrap();
        assert!(df.is_df() && df.size.is_none());
        assert!(parse_fcp(&h("85 0A 00 40 40 00 04 00 00 00 00 00")).is_none());
        assert!(parse_fcp(&[]).is_none());
        assert_eq!(
            parse_cps2ter_fci(&h("85 0A 00 40 40 00 04 00 00 00 00 00")),
            Some(0x40)
        );
        assert_eq!(parse_cps2ter_fci(&h("85 01 00")), None);
    }
}
