//! A persistent cache of public card files (issue 7 item 2; the ANS module's cache, objects.md
//! §9, but safe): ODF, TokenInfo, AODF, PrKDF, CDF, DODF and the certificates, in
//! `$XDG_CACHE_HOME/cpscard` (or `~/.cache/cpscard`), one directory per card.
//!
//! - Keyed by card kind and full PAN ([`CardBinding::cache_key`](crate::card::CardBinding));
//!   the token adds a **content check** on every open that used cached files: the first bytes
//!   of the first certificate (its DER header and serial number) are read from the card and
//!   compared, so another card (or emulator image) with the same serial is never served the
//!   first one's files (the ANS cache is, objects.md §9).
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

    fn file_path(&self, card: &str, path: &FilePath) -> PathBuf {
        self.card_dir(card)
            .join(hex::encode_upper(path.to_bytes_from_mf()))
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

    fn write(&self, card: &str, path: &FilePath, content: &[u8]) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = self.card_dir(card);
        create_private_dir(&dir)?;
        let target = self.file_path(card, path);
        let tmp = dir.join(format!(
            ".{}.{}.{}.tmp",
            hex::encode_upper(path.to_bytes_from_mf()),
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
        if let Err(e) = self.write(serial, path, content) {
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
        c.clear_card("Cps3Contact-1").unwrap();
        assert_eq!(c.get("Cps3Contact-1", &p), None);
        c.clear().unwrap();
        assert!(!dir.exists());
        c.clear().unwrap();
    }
}
