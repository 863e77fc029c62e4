//! File paths on the card: absolute, from the MF, as a list of 2-byte file identifiers.

use std::fmt;

/// FID of the master file.
pub const MF: u16 = 0x3F00;

/// An absolute path from the MF, always starting with `3F00` (e.g. `3F00/0001/7002`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilePath(Vec<u16>);

impl FilePath {
    /// The MF itself.
    pub fn mf() -> Self {
        FilePath(vec![MF])
    }

    /// A path from FIDs; a leading `3F00` is added when missing.
    pub fn from_fids(fids: &[u16]) -> Self {
        let mut v = Vec::with_capacity(fids.len() + 1);
        if fids.first() != Some(&MF) {
            v.push(MF);
        }
        v.extend_from_slice(fids);
        FilePath(v)
    }

    /// A path from bytes (pairs of FID bytes; a leading `3F00` is added when missing). `None`
    /// when the length is odd.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() % 2 != 0 {
            return None;
        }
        let fids: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        Some(Self::from_fids(&fids))
    }

    /// The path of a child of this DF.
    pub fn child(&self, fid: u16) -> Self {
        let mut v = self.0.clone();
        v.push(fid);
        FilePath(v)
    }

    /// The FIDs, `3F00` first.
    pub fn fids(&self) -> &[u16] {
        &self.0
    }

    /// The last FID (the file itself).
    pub fn fid(&self) -> u16 {
        self.0.last().copied().unwrap_or(MF)
    }

    /// The path of the parent DF (the MF is its own parent).
    pub fn parent(&self) -> Self {
        if self.0.len() <= 1 {
            return Self::mf();
        }
        FilePath(self.0[..self.0.len() - 1].to_vec())
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &FilePath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The bytes of the whole path, `3F 00` included (SELECT `P1=09` form, CPS3.md §6.1).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|f| f.to_be_bytes()).collect()
    }

    /// The bytes of the path without the leading `3F 00` (SELECT `P1=08` form, CPS4.md §4).
    pub fn to_bytes_from_mf(&self) -> Vec<u8> {
        self.0[1..].iter().flat_map(|f| f.to_be_bytes()).collect()
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|fid| format!("{fid:04X}")).collect();
        f.write_str(&parts.join("/"))
    }
}

impl fmt::Debug for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePath({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_prints_paths() {
        let p = FilePath::from_fids(&[0x0001, 0x7002]);
        assert_eq!(p.to_string(), "3F00/0001/7002");
        assert_eq!(p, FilePath::from_fids(&[0x3F00, 0x0001, 0x7002]));
        assert_eq!(hex::encode(p.to_bytes()), "3f0000017002");
        assert_eq!(hex::encode(p.to_bytes_from_mf()), "00017002");
        assert_eq!(p.parent().to_string(), "3F00/0001");
        assert_eq!(p.fid(), 0x7002);
        assert!(p.starts_with(&FilePath::from_fids(&[1])));
        assert_eq!(FilePath::mf().parent(), FilePath::mf());
        assert_eq!(
            FilePath::from_bytes(&[0xD0, 0x03]).unwrap().to_string(),
            "3F00/D003"
        );
        assert!(FilePath::from_bytes(&[0xD0]).is_none());
        assert!(FilePath::mf().to_bytes_from_mf().is_empty());
    }
}
