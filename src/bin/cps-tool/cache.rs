//! `cps-tool cache path|show|clear`: the persistent cache of public card files that the PKCS#11
//! module keeps (issue 7 item 2): `$CPSCARD_CACHE_DIR`, else `$XDG_CACHE_HOME/cpscard`, else
//! `~/.cache/cpscard`, one directory per card. `clear` removes it all; the next use of each
//! card reads it in full again.

use std::path::{Path, PathBuf};

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::DiskCache;

use crate::error::CliError;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    #[command(about = Msg::HelpCmdCachePath.text())]
    Path(DirArg),
    #[command(about = Msg::HelpCmdCacheShow.text())]
    Show(DirArg),
    #[command(about = Msg::HelpCmdCacheClear.text())]
    Clear(DirArg),
}

#[derive(clap::Args, Debug)]
pub struct DirArg {
    #[arg(long, value_name = "DIR", env = "CPSCARD_CACHE_DIR", help = Msg::HelpCacheDir.text())]
    pub dir: Option<PathBuf>,
}

impl DirArg {
    /// The directory the module uses with the same environment.
    fn resolve(&self) -> Result<PathBuf, CliError> {
        self.dir
            .clone()
            .filter(|d| !d.as_os_str().is_empty())
            .or_else(DiskCache::default_dir)
            .ok_or_else(|| CliError::Usage(Msg::CacheNoDir.text()))
    }
}

/// Files and bytes of one card's directory (hidden temporary files included: they are the
/// cache's too).
fn usage(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_file() {
                    files += 1;
                    bytes += m.len();
                }
            }
        }
    }
    (files, bytes)
}

/// The cards in the cache: (name, files, bytes), sorted by name.
fn cards(dir: &Path) -> Vec<(String, u64, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let (files, bytes) = usage(&e.path());
            (e.file_name().to_string_lossy().into_owned(), files, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Removes the cache's files, then the directories left empty; anything else (a `--dir`
/// pointing at the wrong place) is left where it is. Returns (cards, files) removed.
fn clear(dir: &Path) -> std::io::Result<(u64, u64)> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        r => r?,
    };
    let (mut cards, mut files) = (0, 0);
    for card in entries.flatten() {
        if !card.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for f in std::fs::read_dir(card.path())?.flatten() {
            let name = f.file_name();
            if f.file_type().is_ok_and(|t| t.is_file())
                && name.to_str().is_some_and(DiskCache::is_own_file)
            {
                std::fs::remove_file(f.path())?;
                files += 1;
            }
        }
        if std::fs::remove_dir(card.path()).is_ok() {
            cards += 1;
        }
    }
    let _ = std::fs::remove_dir(dir);
    Ok((cards, files))
}

pub fn run(cmd: &Command) -> Result<(), CliError> {
    match cmd {
        Command::Path(a) => println!("{}", a.resolve()?.display()),
        Command::Show(a) => {
            let dir = a.resolve()?;
            let cards = cards(&dir);
            if cards.is_empty() {
                println!("{}", t!(Msg::CacheEmpty, dir = dir.display()));
            }
            for (card, files, bytes) in cards {
                println!(
                    "{}",
                    t!(Msg::CacheCard, card = card, files = files, bytes = bytes)
                );
            }
        }
        Command::Clear(a) => {
            let dir = a.resolve()?;
            let (cards, files) = clear(&dir)
                .map_err(|e| CliError::Other(t!(Msg::ErrFile, path = dir.display(), detail = e)))?;
            println!(
                "{}",
                t!(
                    Msg::CacheCleared,
                    dir = dir.display(),
                    cards = cards,
                    files = files
                )
            );
        }
    }
    Ok(())
}
