//! Doctor: module registrations in NSS databases — each Firefox profile (`pkcs11.txt`) and the
//! shared `~/.pki/nssdb` (Chromium, NSS tools) — with stale, duplicate or broken entries: the old
//! Cryptolib module (`libcps3_pkcs11_lux.so`, manifest name `cps3`, legacy `cps_2ter_*`:
//! cards/README.md §5), a registration whose library is gone, ours twice.

use std::path::{Path, PathBuf};

use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::json;

use super::firefox::{self, PolicyModule};
use super::module::MODULE_FILE;
use super::{read_optional, Check, Context, Status};

/// One `library=` block of `pkcs11.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssModule {
    pub name: String,
    pub library: String,
}

/// Parses `pkcs11.txt` (NSS "sql:" databases): blank-line separated blocks of `key=value`
/// lines; the internal module has an empty `library=`.
pub fn parse_pkcs11_txt(text: &str) -> Vec<NssModule> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut name = None;
        let mut library = None;
        for line in block.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(v) = line.strip_prefix("library=") {
                library = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("name=") {
                name = Some(v.trim().to_string());
            }
        }
        if let Some(library) = library.filter(|l| !l.is_empty()) {
            out.push(NssModule {
                name: name.unwrap_or_default(),
                library,
            });
        }
    }
    out
}

/// What a registered module is to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    Ours,
    /// ANS Cryptolib CPS (any generation, any OS name).
    Cryptolib,
    /// OpenSC (also drives CPS3 cards).
    OpenSc,
    Other,
}

pub fn classify(name: &str, library: &str) -> ModuleKind {
    let file = Path::new(library)
        .file_name()
        .map(|f| f.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.to_ascii_lowercase();
    if file == MODULE_FILE {
        ModuleKind::Ours
    } else if file.starts_with("libcps3_pkcs11")
        || file.starts_with("cps3_pkcs11")
        || name == "cps3"
        || name == "cps3_x86"
        || name.starts_with("cps_2ter")
    {
        ModuleKind::Cryptolib
    } else if file.starts_with("opensc-pkcs11") {
        ModuleKind::OpenSc
    } else {
        ModuleKind::Other
    }
}

/// The Firefox profile directories of `home` (classic, snap and flatpak installs): those named
/// by `profiles.ini`, and any subdirectory that looks like a profile.
pub fn firefox_profiles(home: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let roots: Vec<PathBuf> = [
        ".mozilla/firefox",
        "snap/firefox/common/.mozilla/firefox",
        ".var/app/org.mozilla.firefox/.mozilla/firefox",
    ]
    .iter()
    .map(|r| home.join(r))
    .collect();
    let mut profiles = Vec::new();
    for root in roots.iter().filter(|r| r.is_dir()) {
        if let Ok(Some(ini)) = read_optional(&root.join("profiles.ini")) {
            let mut relative = true;
            let mut path: Option<String> = None;
            let mut flush = |path: &mut Option<String>, relative: bool| {
                if let Some(p) = path.take() {
                    let dir = if relative {
                        root.join(&p)
                    } else {
                        PathBuf::from(&p)
                    };
                    if dir.is_dir() && !profiles.contains(&dir) {
                        profiles.push(dir);
                    }
                }
            };
            for line in ini.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    flush(&mut path, relative);
                    relative = true;
                } else if let Some(v) = line.strip_prefix("Path=") {
                    path = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("IsRelative=") {
                    relative = v != "0";
                }
            }
            flush(&mut path, relative);
        }
        if let Ok(entries) = std::fs::read_dir(root) {
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                let looks = ["prefs.js", "pkcs11.txt", "cert9.db", "times.json"]
                    .iter()
                    .any(|f| dir.join(f).is_file());
                if dir.is_dir() && looks && !profiles.contains(&dir) {
                    profiles.push(dir);
                }
            }
        }
    }
    (roots, profiles)
}

pub fn profile_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

pub fn checks(ctx: &Context) -> Vec<Check> {
    let mut out = Vec::new();
    let policies = firefox::policy_modules(ctx);
    let Some(home) = &ctx.home else {
        return out;
    };
    let (roots, profiles) = firefox_profiles(home);
    if profiles.is_empty() {
        out.push(Check::new(
            "firefox.profile",
            Status::Skip,
            t!(Msg::DoctorFirefoxNone, dir = roots[0].display()),
        ));
    }
    for dir in &profiles {
        let db = t!(Msg::DoctorProfileName, name = profile_name(dir));
        out.extend(db_checks(
            "firefox.registration",
            &db,
            dir,
            ctx,
            &policies,
            Status::Fail,
        ));
    }
    let nssdb = home.join(".pki/nssdb");
    if nssdb.is_dir() {
        let db = t!(Msg::DoctorNssDb, dir = nssdb.display());
        out.extend(db_checks(
            "nssdb.registration",
            &db,
            &nssdb,
            ctx,
            &[],
            Status::Warn,
        ));
    }
    out
}

/// The checks of one NSS database `dir` named `db`; `missing` is the status when our module is
/// not registered (a Firefox profile needs it; the shared nssdb only for other browsers).
fn db_checks(
    id: &'static str,
    db: &str,
    dir: &Path,
    ctx: &Context,
    policies: &[PolicyModule],
    missing: Status,
) -> Vec<Check> {
    let file = dir.join("pkcs11.txt");
    let dir_s = dir.display().to_string();
    let modules = match read_optional(&file) {
        Ok(text) => parse_pkcs11_txt(&text.unwrap_or_default()),
        Err(e) => {
            return vec![Check::new(
                id,
                Status::Fail,
                t!(
                    Msg::DoctorDbUnreadable,
                    db = db,
                    path = file.display(),
                    detail = e
                ),
            )
            .fix(t!(Msg::DoctorDbUnreadableFix, path = file.display()))
            .details(json!({ "db": dir_s }))];
        }
    };
    let mut out = Vec::new();
    let ours: Vec<&NssModule> = modules
        .iter()
        .filter(|m| classify(&m.name, &m.library) == ModuleKind::Ours)
        .collect();
    let details = |m: &NssModule| json!({ "db": dir_s, "name": m.name, "library": m.library });
    for m in &ours {
        if Path::new(&m.library).is_file() {
            out.push(
                Check::new(
                    id,
                    Status::Ok,
                    t!(
                        Msg::DoctorRegistered,
                        db = db,
                        name = m.name,
                        library = m.library
                    ),
                )
                .details(details(m)),
            );
        } else {
            out.push(
                Check::new(
                    id,
                    Status::Fail,
                    t!(
                        Msg::DoctorRegisteredMissingLib,
                        db = db,
                        name = m.name,
                        library = m.library
                    ),
                )
                .fix(t!(
                    Msg::DoctorRegisteredMissingLibFix,
                    dir = dir_s,
                    name = m.name
                ))
                .details(details(m)),
            );
        }
    }
    if ours.len() > 1 {
        let last = ours[ours.len() - 1];
        out.push(
            Check::new(
                id,
                Status::Fail,
                t!(Msg::DoctorDuplicate, db = db, count = ours.len()),
            )
            .fix(t!(Msg::DoctorDuplicateFix, dir = dir_s, name = last.name))
            .details(json!({ "db": dir_s, "count": ours.len() })),
        );
    }
    if ours.is_empty() {
        let by_policy: Vec<&PolicyModule> = policies
            .iter()
            .filter(|p| classify(&p.name, &p.library) == ModuleKind::Ours)
            .collect();
        match by_policy.first() {
            Some(p) => out.push(
                Check::new(
                    id,
                    Status::Ok,
                    t!(Msg::DoctorRegisteredByPolicy, db = db, policy = p.file.display()),
                )
                .details(json!({ "db": dir_s, "policy": p.file.display().to_string(), "library": p.library })),
            ),
            None => {
                let msg = if missing == Status::Fail {
                    Msg::DoctorNotRegistered
                } else {
                    Msg::DoctorNssDbNotRegistered
                };
                out.push(
                    Check::new(id, missing, t!(msg, db = db))
                        .fix(t!(
                            Msg::DoctorNotRegisteredFix,
                            dir = dir_s,
                            module = ctx.module_for_fix()
                        ))
                        .details(json!({ "db": dir_s })),
                );
            }
        }
    }
    for m in &modules {
        match classify(&m.name, &m.library) {
            ModuleKind::Cryptolib => out.push(
                Check::new(
                    id,
                    Status::Fail,
                    t!(
                        Msg::DoctorStale,
                        db = db,
                        name = m.name,
                        library = m.library
                    ),
                )
                .fix(t!(Msg::DoctorStaleFix, dir = dir_s, name = m.name))
                .details(details(m)),
            ),
            ModuleKind::OpenSc => out.push(
                Check::new(
                    id,
                    Status::Warn,
                    t!(Msg::DoctorOtherModule, db = db, name = m.name),
                )
                .fix(t!(Msg::DoctorStaleFix, dir = dir_s, name = m.name))
                .details(details(m)),
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "library=\nname=NSS Internal PKCS #11 Module\nparameters=configdir='sql:/x' certPrefix=''\nNSS=Flags=internal,critical trustOrder=75\n\nlibrary=/usr/lib/x86_64-linux-gnu/pkcs11/libcps_pkcs11.so\nname=CPS (cpscard)\n\nlibrary=/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so\nname=cps3\nNSS=trustOrder=100\n";

    #[test]
    fn pkcs11_txt_blocks() {
        let m = parse_pkcs11_txt(SAMPLE);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "CPS (cpscard)");
        assert_eq!(classify(&m[0].name, &m[0].library), ModuleKind::Ours);
        assert_eq!(classify(&m[1].name, &m[1].library), ModuleKind::Cryptolib);
        assert_eq!(
            classify("OpenSC", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"),
            ModuleKind::OpenSc
        );
        assert_eq!(classify("cps_2ter_pcsc", "/x/y.so"), ModuleKind::Cryptolib);
        assert_eq!(
            classify("p11-kit-proxy", "p11-kit-proxy.so"),
            ModuleKind::Other
        );
    }
}
