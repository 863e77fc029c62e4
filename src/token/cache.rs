//! A persistent cache of public card files (issue 7 item 2; the ANS module's cache, objects.md
//! §9, but safe): ODF, TokenInfo, AODF, PrKDF, CDF, DODF and the certificates, in
//! `$XDG_CACHE_HOME/cpscard` (or `~/.cache/cpscard`), one directory per card.
//!
//! - Keyed by card kind and full PAN ([`CardBinding::cache_key`](crate::card::CardBinding)),
//!   with a **content check** on every open that uses cached files: the head of a cached
//!   certificate (DER header, serial number, issuer name: one certificate in the world, issued
//!   for a key of one card) is read from the card and compared, so another card (or emulator
//!   image) with the same serial is never served the first one's files (the ANS cache is,
//!   objects.md §9). Each card's [`CardIdentity`] (its EF.SN.ICC and which certificate to
//!   compare) lets a new process prove which cached card is inserted with that one read
//!   (SELECT + READ BINARY) instead of reading EF.SN.ICC as well.
//! - Only what the binding and the token put: public PKCS#15 files and certificates; never
//!   data objects, PIN counters or anything secret.
//! - Several processes at once: each file is written to a unique temporary name in the same
//!   directory and renamed over the old one (atomic on POSIX); a reader sees a whole file or
//!   none.
//! - Failures never break a card operation: they are logged and the card is read instead.

use crate::card::{FileCache, FilePath};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest file the cache keeps (card files are a few KiB).
const MAX_FILE: u64 = 64 * 1024;

/// The name of a card's [`CardIdentity`] record in its directory.
const IDENTITY_FILE: &str = "identity";

/// How a warm open recognises a cached card without reading its EF.SN.ICC: the serial file's
/// content, and the certificate whose head the token compares with the card's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIdentity {
    /// EF.SN.ICC as the card holds it.
    pub ef_sn: Vec<u8>,
    /// A certificate cached for this card (the first of its CDF).
    pub certificate: FilePath,
}

impl CardIdentity {
    fn to_text(&self) -> String {
        format!(
            "ef-sn {}\ncertificate {}\n",
            hex::encode_upper(&self.ef_sn),
            hex::encode_upper(self.certificate.to_bytes_from_mf())
        )
    }

    /// The record as [`CardIdentity::to_text`] writes it; `None` for anything else.
    fn from_text(text: &str) -> Option<CardIdentity> {
        let mut lines = text.lines();
        let mut field = |name: &str| {
            let (key, value) = lines.next()?.split_once(' ')?;
            (key == name).then(|| hex::decode(value).ok()).flatten()
        };
        let ef_sn = field("ef-sn")?;
        let certificate = FilePath::from_bytes(&field("certificate")?)?;
        (lines.next().is_none()).then_some(CardIdentity { ef_sn, certificate })
    }
}

/// A directory of cached card files.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    hits: usize,
    misses: usize,
}

impl DiskCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> DiskCache {
        DiskCache {
            dir: dir.into(),
            hits: 0,
            misses: 0,
        }
    }

    /// `$XDG_CACHE_HOME/cpscard`, else `$HOME/.cache/cpscard` (XDG Base Directory); `None`
    /// without either variable.
    pub fn default_dir() -> Option<PathBuf> {
        let from = |var: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        from("XDG_CACHE_HOME")
            .or_else(|| from("HOME").map(|h| h.join(".cache")))
            .map(|d| d.join("cpscard"))
    }

    /// The cache in [`DiskCache::default_dir`].
    pub fn at_default_dir() -> Option<DiskCache> {
        Self::default_dir().map(DiskCache::new)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Files served from the cache since creation or [`DiskCache::reset_counters`].
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// Files asked for and not found.
    pub fn misses(&self) -> usize {
        self.misses
    }

    pub fn reset_counters(&mut self) {
        self.hits = 0;
        self.misses = 0;
    }

    fn card_dir(&self, card: &str) -> PathBuf {
        let safe: String = card
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(safe)
    }

    /// A card file's name: its path from the MF in hex.
    fn file_name(path: &FilePath) -> String {
        hex::encode_upper(path.to_bytes_from_mf())
    }

    fn file_path(&self, card: &str, path: &FilePath) -> PathBuf {
        self.card_dir(card).join(Self::file_name(path))
    }

    /// Whether a file name in a card's directory is one the cache writes: a card file
    /// (`<PATH IN HEX>`), the identity record, or a temporary `.<name>.<pid>.<n>.tmp`
    /// (`cps-tool cache clear` removes those and nothing else).
    pub fn is_own_file(name: &str) -> bool {
        let own = |s: &str| {
            s == IDENTITY_FILE || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        own(name)
            || name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".tmp"))
                .and_then(|n| n.split('.').next())
                .is_some_and(own)
    }

    /// The cached cards whose key starts with `prefix` (one card kind, see
    /// [`cache_key_prefix`](crate::card::cache_key_prefix)) and that have an identity record:
    /// (cache key, identity), sorted by key.
    pub fn identities(&self, prefix: &str) -> Vec<(String, CardIdentity)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, CardIdentity)> = entries
            .flatten()
            .filter_map(|e| {
                let key = e.file_name().into_string().ok()?;
                if !key.starts_with(prefix) {
                    return None;
                }
                let file = e.path().join(IDENTITY_FILE);
                let m = std::fs::metadata(&file).ok()?;
                if !m.is_file() || m.len() > 1024 {
                    return None;
                }
                let text = std::fs::read_to_string(&file).ok()?;
                Some((key, CardIdentity::from_text(&text)?))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The identity record of `card`, if any.
    pub fn identity(&self, card: &str) -> Option<CardIdentity> {
        let text = std::fs::read_to_string(self.card_dir(card).join(IDENTITY_FILE)).ok()?;
        CardIdentity::from_text(&text)
    }

    /// Records how to recognise `card` (logged, never fatal).
    pub fn put_identity(&self, card: &str, identity: &CardIdentity) {
        if let Err(e) = self.write(card, IDENTITY_FILE, identity.to_text().as_bytes()) {
            log::warn!(target: "token", "cache: cannot store the identity of {card}: {e}");
        }
    }

    /// Forgets every file of one card.
    pub fn clear_card(&self, card: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.card_dir(card)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Forgets everything (the whole cache directory).
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes `name` in the directory of `card`: a unique temporary file renamed over it.
    fn write(&self, card: &str, name: &str, content: &[u8]) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = self.card_dir(card);
        create_private_dir(&dir)?;
        let target = dir.join(name);
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(content)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

impl FileCache for DiskCache {
    fn get(&mut self, serial: &str, path: &FilePath) -> Option<Vec<u8>> {
        let file = self.file_path(serial, path);
        let found = std::fs::metadata(&file)
            .ok()
            .filter(|m| m.is_file() && m.len() <= MAX_FILE)
            .and_then(|_| std::fs::read(&file).ok());
        match found {
            Some(content) => {
                self.hits += 1;
                Some(content)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, serial: &str, path: &FilePath, content: &[u8]) {
        if content.len() as u64 > MAX_FILE {
            return;
        }
        if let Err(e) = self.write(serial, &Self::file_name(path), content) {
            log::warn!(target: "token", "cache: cannot store {path} in {}: {e}", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_clear() {
        let dir = std::env::temp_dir().join(format!("cpscard-cache-unit-{}", std::process::id()));
        let mut c = DiskCache::new(&dir);
        let p = FilePath::from_fids(&[0x0001, 0x5031]);
        assert_eq!(c.get("Cps3Contact-1", &p), None);
        c.put("Cps3Contact-1", &p, b"odf");
        assert_eq!(c.get("Cps3Contact-1", &p).as_deref(), Some(&b"odf"[..]));
        assert_eq!(c.get("Cps3Contact-2", &p), None);
        assert_eq!((c.hits(), c.misses()), (1, 2));
        // odd characters never escape the directory
        c.put("../../evil", &p, b"x");
        assert!(dir.join("______evil").join("00015031").exists());
        // identity records: round trip, per kind prefix, garbage ignored
        let id = CardIdentity {
            ef_sn: vec![0x5A, 0x0A, 0x80, 0x25],
            certificate: FilePath::from_fids(&[0x0001, 0xA001]),
        };
        c.put_identity("Cps3Contact-1", &id);
        c.put_identity("Cps4-1", &id);
        std::fs::create_dir_all(dir.join("Cps3Contact-3")).unwrap();
        std::fs::write(dir.join("Cps3Contact-3").join(IDENTITY_FILE), "ef-sn zz\n").unwrap();
        assert_eq!(
            c.identities("Cps3Contact-"),
            vec![("Cps3Contact-1".to_owned(), id.clone())]
        );
        assert_eq!(c.identity("Cps4-1"), Some(id));
        assert!(DiskCache::is_own_file("identity"));
        assert!(DiskCache::is_own_file(".identity.12.0.tmp"));
        assert!(DiskCache::is_own_file("3F0000015031"));
        assert!(!DiskCache::is_own_file("notes.txt"));
        c.clear_card("Cps3Contact-1").unwrap();
        assert_eq!(c.get("Cps3Contact-1", &p), None);
        c.clear().unwrap();
        assert!(!dir.exists());
        c.clear().unwrap();
    }
}
