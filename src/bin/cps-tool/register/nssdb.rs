//! The module list of an NSS "sql:" database: `pkcs11.txt` beside `cert9.db`/`key4.db` (what
//! `modutil -add`/`-delete` edit). Entries are blocks of `key=value` lines separated by blank
//! lines; a module added by `modutil -add NAME -libfile LIB` is the block
//! `library=LIB` / `name=NAME`. The first block is NSS's internal module and is never touched;
//! blocks we do not own are kept line for line.

use std::path::Path;

/// What a registration or removal does to one module list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new block for our module.
    Added,
    /// Our name was there with another library: the library path is replaced.
    Updated { old_library: String },
    /// Nothing to do: the library is already registered (under this name).
    Unchanged { name: String },
    /// Our block(s) removed.
    Removed,
    /// Nothing to remove.
    Absent,
}

/// One `key=value` block.
#[derive(Debug, Clone)]
struct Block {
    lines: Vec<String>,
}

impl Block {
    fn get(&self, key: &str) -> Option<&str> {
        self.lines.iter().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::trim_end)
        })
    }

    fn set(&mut self, key: &str, value: &str) {
        let line = [key, "=", value].concat();
        match self
            .lines
            .iter_mut()
            .find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with('=')))
        {
            Some(l) => *l = line,
            None => self.lines.insert(0, line),
        }
    }

    fn is_ours(&self, name: &str, library: Option<&str>) -> bool {
        self.get("name") == Some(name) || (library.is_some() && self.get("library") == library)
    }
}

fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(Block {
                    lines: std::mem::take(&mut cur),
                });
            }
        } else {
            cur.push(line.to_string());
        }
    }
    if !cur.is_empty() {
        blocks.push(Block { lines: cur });
    }
    blocks
}

/// NSS's own layout: every block followed by one blank line.
fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        for l in &b.lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// The module list with `library` registered as `name`, and what changed. A library already
/// present under another name counts as registered (the user or an administrator added it).
pub fn register(text: &str, name: &str, library: &str) -> (Change, String) {
    let mut blocks = parse(text);
    if let Some(b) = blocks.iter_mut().find(|b| b.get("name") == Some(name)) {
        let old = b.get("library").unwrap_or("").to_string();
        if old == library {
            return (
                Change::Unchanged {
                    name: name.to_string(),
                },
                text.to_string(),
            );
        }
        b.set("library", library);
        return (Change::Updated { old_library: old }, render(&blocks));
    }
    if let Some(b) = blocks.iter().find(|b| b.get("library") == Some(library)) {
        let other = b.get("name").unwrap_or("").to_string();
        return (Change::Unchanged { name: other }, text.to_string());
    }
    blocks.push(Block {
        lines: vec![["library=", library].concat(), ["name=", name].concat()],
    });
    (Change::Added, render(&blocks))
}

/// The module list without the blocks named `name` (or loading `library`, when given).
pub fn remove(text: &str, name: &str, library: Option<&str>) -> (Change, String) {
    let blocks = parse(text);
    let before = blocks.len();
    // the internal module (first block, empty library) is never ours
    let kept: Vec<Block> = blocks
        .into_iter()
        .enumerate()
        .filter(|(i, b)| (*i == 0 && b.get("library") == Some("")) || !b.is_ours(name, library))
        .map(|(_, b)| b)
        .collect();
    if kept.len() == before {
        (Change::Absent, text.to_string())
    } else {
        (Change::Removed, render(&kept))
    }
}

/// An NSS database directory as NSS itself opens it with `sql:` (the format of Firefox since 58).
pub fn is_sql_db(dir: &Path) -> bool {
    dir.join("cert9.db").is_file() && dir.join("pkcs11.txt").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `certutil -N -d sql:/tmp/db --empty-password` writes (NSS 3.87).
    const FRESH: &str = "library=\nname=NSS Internal PKCS #11 Module\nparameters=configdir='sql:/tmp/db' certPrefix='' keyPrefix='' secmod='secmod.db' flags= updatedir='' updateCertPrefix='' updateKeyPrefix='' updateid='' updateTokenDescription='' \nNSS=Flags=internal,critical trustOrder=75 cipherOrder=100 slotParams=(1={slotFlags=[ECC,RSA,DSA,DH,RC2,RC4,DES,RANDOM,SHA1,MD5,MD2,SSL,TLS,AES,Camellia,SEED,SHA256,SHA512] askpw=any timeout=30})\n\n";
    const LIB: &str = "/usr/lib/x86_64-linux-gnu/pkcs11/libcps_pkcs11.so";

    #[test]
    fn adds_the_block_modutil_writes_and_keeps_the_rest_byte_for_byte() {
        let (c, out) = register(FRESH, "cpscard", LIB);
        assert_eq!(c, Change::Added);
        assert_eq!(out, format!("{FRESH}library={LIB}\nname=cpscard\n\n"));
    }

    #[test]
    fn registering_twice_changes_nothing() {
        let (_, once) = register(FRESH, "cpscard", LIB);
        let (c, twice) = register(&once, "cpscard", LIB);
        assert_eq!(
            c,
            Change::Unchanged {
                name: "cpscard".into()
            }
        );
        assert_eq!(twice, once);
    }

    #[test]
    fn a_moved_library_is_updated_in_place() {
        let (_, old) = register(FRESH, "cpscard", "/opt/old/libcps_pkcs11.so");
        let (c, out) = register(&old, "cpscard", LIB);
        assert_eq!(
            c,
            Change::Updated {
                old_library: "/opt/old/libcps_pkcs11.so".into()
            }
        );
        assert_eq!(out, format!("{FRESH}library={LIB}\nname=cpscard\n\n"));
    }

    #[test]
    fn the_library_under_another_name_counts_as_registered() {
        let text = format!("{FRESH}library={LIB}\nname=CPS card\nNSS=trustOrder=100\n\n");
        let (c, out) = register(&text, "cpscard", LIB);
        assert_eq!(
            c,
            Change::Unchanged {
                name: "CPS card".into()
            }
        );
        assert_eq!(out, text);
    }

    #[test]
    fn remove_takes_only_our_block() {
        let other = "library=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\nname=OpenSC\n\n";
        let text = format!("{FRESH}{other}library={LIB}\nname=cpscard\n\n");
        let (c, out) = remove(&text, "cpscard", None);
        assert_eq!(c, Change::Removed);
        assert_eq!(out, format!("{FRESH}{other}"));
        let (c, again) = remove(&out, "cpscard", None);
        assert_eq!(c, Change::Absent);
        assert_eq!(again, out);
    }

    #[test]
    fn remove_by_library_finds_it_under_another_name() {
        let text = format!("{FRESH}library={LIB}\nname=CPS card\n\n");
        let (c, out) = remove(&text, "cpscard", Some(LIB));
        assert_eq!(c, Change::Removed);
        assert_eq!(out, FRESH);
    }

    #[test]
    fn the_internal_module_survives_any_name() {
        let (c, out) = remove(FRESH, "NSS Internal PKCS #11 Module", Some(""));
        assert_eq!(c, Change::Absent);
        assert_eq!(out, FRESH);
    }

    #[test]
    fn tolerates_crlf_missing_trailing_blank_and_extra_blank_lines() {
        let text =
            "library=\r\nname=NSS Internal PKCS #11 Module\r\n\r\n\r\nlibrary=/x.so\r\nname=x";
        let (c, out) = register(text, "cpscard", LIB);
        assert_eq!(c, Change::Added);
        assert_eq!(
            out,
            format!("library=\nname=NSS Internal PKCS #11 Module\n\nlibrary=/x.so\nname=x\n\nlibrary={LIB}\nname=cpscard\n\n")
        );
    }
}
