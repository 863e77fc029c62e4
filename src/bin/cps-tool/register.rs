//! `cps-tool register`: makes our PKCS#11 module known to the user's applications —
//! every Firefox profile (the module list `pkcs11.txt` of its NSS database, what
//! `modutil -dbdir sql:PROFILE -add` edits), the user's shared NSS database `~/.pki/nssdb`
//! (Chromium and other NSS applications; created if missing), and p11-kit (a `.module` file).
//! `--remove` undoes it, `--dry-run` only reports, and a second run changes nothing.
//! Files are replaced atomically (written beside, then renamed) with their permissions kept.
//! Where the module and the profiles are looked for is the doctor's (`doctor::module`,
//! `doctor::nss`): what `register` writes is what `doctor` then finds.

mod nssdb;
mod p11kit;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cpscard::i18n::Msg;
use cpscard::t;

use crate::doctor;
use crate::error::CliError;
use nssdb::Change;

/// Our p11-kit file name (the doctor proposes /etc/pkcs11/modules/cpscard.module too).
const P11KIT_FILE: &str = "cpscard.module";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_name = "PATH", help = Msg::HelpRegisterModule.text())]
    module: Option<PathBuf>,

    #[arg(long, help = Msg::HelpRegisterRemove.text())]
    remove: bool,

    #[arg(long, help = Msg::HelpRegisterDryRun.text())]
    dry_run: bool,

    #[arg(long, default_value = "CPS (cpscard)", value_name = "NAME", help = Msg::HelpRegisterName.text())]
    name: String,

    #[arg(long, value_name = "DIR", help = Msg::HelpRegisterP11kitDir.text())]
    p11_kit_dir: Option<PathBuf>,
}

/// One place a module can be registered.
enum Target {
    /// An NSS database directory; `create` = make it (certutil -N) when missing.
    Nss {
        firefox: bool,
        dir: PathBuf,
    },
    P11Kit {
        dir: PathBuf,
    },
}

pub fn run(args: &Args) -> Result<(), CliError> {
    check_name(&args.name)?;
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CliError::Usage(Msg::RegisterNoHome.text()))?;
    let library = match (&args.module, args.remove) {
        (Some(p), _) => Some(absolute_module(p)?),
        (None, false) => Some(default_module()?),
        (None, true) => default_module().ok(),
    };
    let library = library.map(|p| p.to_string_lossy().into_owned());

    let (roots, profiles) = doctor::nss::firefox_profiles(&home);
    let mut targets: Vec<Target> = profiles
        .into_iter()
        .map(|dir| Target::Nss { firefox: true, dir })
        .collect();
    if targets.is_empty() {
        let dir = roots.first().cloned().unwrap_or_else(|| home.clone());
        println!("{}", t!(Msg::RegisterNoFirefox, dir = dir.display()));
    }
    targets.push(Target::Nss {
        firefox: false,
        dir: home.join(".pki/nssdb"),
    });
    targets.push(Target::P11Kit {
        dir: args.p11_kit_dir.clone().unwrap_or_else(|| {
            let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
            p11kit::default_dir(&home, xdg.as_deref(), is_root())
        }),
    });

    let mut failures = 0;
    for target in &targets {
        let (what, result) = match target {
            Target::Nss { firefox, dir } => {
                let what = if *firefox {
                    t!(Msg::RegisterFirefoxProfile, dir = dir.display())
                } else {
                    t!(Msg::RegisterNssDb, dir = dir.display())
                };
                (what, nss_target(args, library.as_deref(), dir, !firefox))
            }
            Target::P11Kit { dir } => {
                let file = dir.join(P11KIT_FILE);
                let what = t!(Msg::RegisterP11kit, file = file.display());
                (what, p11kit_target(args, library.as_deref(), dir, &file))
            }
        };
        match result {
            Ok(msg) => println!("{}", t!(Msg::RegisterLine, what = what, msg = msg)),
            Err(error) => {
                failures += 1;
                println!(
                    "{}",
                    t!(Msg::RegisterLineFailed, what = what, error = error)
                );
            }
        }
    }
    if failures > 0 {
        return Err(CliError::Other(t!(
            Msg::RegisterSomeFailed,
            count = failures
        )));
    }
    Ok(())
}

/// The name goes into pkcs11.txt lines and a file name: printable, no `/`, no line breaks.
fn check_name(name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-()".contains(c))
        && !name.starts_with('.')
        && name.trim() == name;
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(t!(
            Msg::RegisterBadName,
            name = format_args!("{name:?}")
        )))
    }
}

fn absolute_module(p: &Path) -> Result<PathBuf, CliError> {
    let abs = fs::canonicalize(p).map_err(|e| {
        CliError::Usage(t!(
            Msg::RegisterModuleUnreadable,
            path = p.display(),
            error = e
        ))
    })?;
    if !abs.is_file() {
        return Err(CliError::Usage(t!(
            Msg::RegisterModuleNotFile,
            path = abs.display()
        )));
    }
    Ok(abs)
}

/// The doctor's search order: CPSCARD_MODULE, the distribution's PKCS#11 directories, then the
/// build tree (the module beside cps-tool).
fn default_module() -> Result<PathBuf, CliError> {
    let ctx = doctor::Context::new(None, PathBuf::from("/"), None);
    let candidates = doctor::module::candidates(&ctx);
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => absolute_module(p),
        None => {
            let paths: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Err(CliError::Usage(t!(
                Msg::RegisterNoModule,
                paths = paths.join(", ")
            )))
        }
    }
}

fn nss_target(
    args: &Args,
    library: Option<&str>,
    dir: &Path,
    create: bool,
) -> Result<String, String> {
    let dry = args.dry_run;
    let lib = library.unwrap_or("?");
    let mut created = false;
    if !nssdb::is_sql_db(dir) {
        if args.remove {
            return Ok(Msg::RegisterNoDbNothingToRemove.text());
        }
        if dir.join("cert8.db").exists() {
            return Ok(Msg::RegisterSkippedOldDb.text());
        }
        if !create {
            return Ok(Msg::RegisterSkippedNoDb.text());
        }
        if dry {
            return Ok(t!(
                Msg::RegisterWouldCreate,
                name = args.name,
                library = lib
            ));
        }
        create_nssdb(dir)?;
        created = true;
    }
    let pkcs11_txt = dir.join("pkcs11.txt");
    let text =
        fs::read_to_string(&pkcs11_txt).map_err(|e| format!("{}: {e}", pkcs11_txt.display()))?;
    let (change, new_text) = if args.remove {
        nssdb::remove(&text, &args.name, library)
    } else {
        nssdb::register(&text, &args.name, lib)
    };
    if new_text != text && !dry {
        replace_file(&pkcs11_txt, &new_text)
            .map_err(|e| format!("{}: {e}", pkcs11_txt.display()))?;
    }
    let mut msg = describe(&change, &args.name, lib, dry);
    if created {
        msg = t!(Msg::RegisterCreated, what = msg);
    }
    let changed = !matches!(change, Change::Unchanged { .. } | Change::Absent);
    if changed && firefox_running(dir) {
        msg = t!(Msg::RegisterFirefoxRunning, what = msg);
    }
    Ok(msg)
}

fn describe(change: &Change, name: &str, library: &str, dry: bool) -> String {
    match (change, dry) {
        (Change::Added, false) => t!(Msg::RegisterAdded, name = name, library = library),
        (Change::Added, true) => t!(Msg::RegisterWouldAdd, name = name, library = library),
        (Change::Updated { old_library }, false) => {
            t!(
                Msg::RegisterUpdated,
                name = name,
                library = library,
                old = old_library
            )
        }
        (Change::Updated { old_library }, true) => {
            t!(
                Msg::RegisterWouldUpdate,
                name = name,
                library = library,
                old = old_library
            )
        }
        (Change::Unchanged { name }, _) => t!(Msg::RegisterAlready, name = name),
        (Change::Removed, false) => t!(Msg::RegisterRemoved, name = name),
        (Change::Removed, true) => t!(Msg::RegisterWouldRemove, name = name),
        (Change::Absent, _) => Msg::RegisterAbsent.text(),
    }
}

/// `certutil -N -d sql:DIR --empty-password`: a new database as NSS applications make it.
fn create_nssdb(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    set_mode(dir, 0o700);
    let out = Command::new("certutil")
        .arg("-N")
        .arg("-d")
        .arg(sql_dir(dir))
        .arg("--empty-password")
        .output()
        .map_err(|e| t!(Msg::RegisterCertutilMissing, error = e))?;
    if !out.status.success() || !nssdb::is_sql_db(dir) {
        let error = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(t!(Msg::RegisterCertutilFailed, error = error));
    }
    Ok(())
}

fn p11kit_target(
    args: &Args,
    library: Option<&str>,
    dir: &Path,
    file: &Path,
) -> Result<String, String> {
    let dry = args.dry_run;
    let existing = fs::read_to_string(file).ok();
    if args.remove {
        return match existing {
            None => Ok(Msg::RegisterAbsent.text()),
            Some(text) if !p11kit::is_ours(&text) => Ok(Msg::RegisterP11kitNotOurs.text()),
            Some(_) if dry => Ok(Msg::RegisterP11kitWouldRemove.text()),
            Some(_) => fs::remove_file(file)
                .map(|()| Msg::RegisterP11kitRemoved.text())
                .map_err(|e| e.to_string()),
        };
    }
    let lib = library.unwrap_or("?");
    let wanted = p11kit::module_file(lib);
    match &existing {
        Some(text) if *text == wanted => return Ok(Msg::RegisterP11kitAlready.text()),
        Some(text) if !p11kit::is_ours(text) => {
            return Err(t!(Msg::RegisterP11kitForeign, file = file.display()))
        }
        Some(_) => {}
        None => {
            if let Some(other) = other_module_file_for(dir, file, lib) {
                return Ok(t!(Msg::RegisterP11kitAlreadyOther, file = other.display()));
            }
        }
    }
    let update = existing.is_some();
    if dry {
        let m = if update {
            Msg::RegisterP11kitWouldUpdate
        } else {
            Msg::RegisterP11kitWouldWrite
        };
        return Ok(t!(m, library = lib));
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    replace_file(file, &wanted).map_err(|e| e.to_string())?;
    let m = if update {
        Msg::RegisterP11kitUpdated
    } else {
        Msg::RegisterP11kitWritten
    };
    Ok(t!(m, library = lib))
}

/// `sql:DIR`, NSS's name of a database directory.
fn sql_dir(dir: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from("sql:");
    s.push(dir.as_os_str());
    s
}

/// Another `.module` file of the directory already loading `lib` (a package installed one).
fn other_module_file_for(dir: &Path, ours: &Path, lib: &str) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p != ours
                && p.extension().is_some_and(|x| x == "module")
                && fs::read_to_string(p)
                    .is_ok_and(|t| doctor::p11kit::module_path(&t).as_deref() == Some(lib))
        })
}

/// Writes beside then renames, keeping the old file's permissions (pkcs11.txt is 0600).
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("cps-tool.tmp");
    fs::write(&tmp, text)?;
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(&tmp, meta.permissions())?;
    }
    fs::rename(&tmp, path)
}

fn set_mode(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode));
}

/// Firefox holds `lock`, a symlink to "IP:+PID", in a profile while it runs (and may leave it
/// behind when it exits): running = that process exists.
fn firefox_running(dir: &Path) -> bool {
    fs::read_link(dir.join("lock"))
        .ok()
        .and_then(|t| {
            let t = t.to_string_lossy().into_owned();
            t.rsplit_once('+')
                .and_then(|(_, pid)| pid.parse::<u32>().ok())
        })
        .is_some_and(|pid| Path::new("/proc").join(pid.to_string()).exists())
}

/// Effective uid 0, from /proc/self/status (`Uid: real effective saved fs`).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("cpscard").is_ok());
        assert!(check_name("CPS card (test)").is_ok());
        for bad in ["", "a/b", "a\nb", ".hidden", " x", "x=1", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions() {
        let d = |c: &Change, dry| describe(c, "cpscard", "/l.so", dry);
        assert!(d(&Change::Added, false).contains("/l.so"));
        assert_ne!(d(&Change::Added, false), d(&Change::Added, true));
        assert_ne!(d(&Change::Removed, false), d(&Change::Removed, true));
        assert!(d(&Change::Unchanged { name: "x".into() }, true).contains('x'));
    }
}
