//! Doctor: p11-kit module registrations (`*.module` files: `module: PATH`, a relative path being
//! relative to p11-kit's module directory) in the system and user config directories, so that
//! GnuTLS and other p11-kit clients see the card; stale Cryptolib entries; broken paths.

use std::path::{Path, PathBuf};

use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::json;

use super::nss::{classify, ModuleKind};
use super::{read_optional, Check, Context, Status};

/// p11-kit's config dirs, system first (Debian: `/usr/share/p11-kit/modules`, `/etc/pkcs11/modules`).
const SYSTEM_DIRS: [&str; 2] = ["/usr/share/p11-kit/modules", "/etc/pkcs11/modules"];
/// Where p11-kit resolves a relative `module:` path (Debian amd64).
const MODULE_DIR: &str = "/usr/lib/x86_64-linux-gnu/pkcs11";
/// Where the fix proposes to register.
const FIX_FILE: &str = "/etc/pkcs11/modules/cpscard.module";

/// The `module:` value of a `.module` file.
pub fn module_path(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        if line.starts_with('#') {
            return None;
        }
        let (key, value) = line.split_once(':')?;
        (key.trim() == "module").then(|| value.trim().to_string())
    })
}

fn module_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "module"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

pub fn checks(ctx: &Context) -> Vec<Check> {
    let mut dirs: Vec<PathBuf> = SYSTEM_DIRS.iter().map(|d| ctx.sys(d)).collect();
    if let Some(home) = &ctx.home {
        dirs.push(home.join(".config/pkcs11/modules"));
    }
    let mut out = Vec::new();
    let mut ours = 0;
    for file in module_files(&dirs) {
        let Ok(Some(text)) = read_optional(&file) else {
            continue;
        };
        let Some(module) = module_path(&text) else {
            continue;
        };
        // an absolute path is used as it is (the sysroot only moves the config files)
        let resolved = if Path::new(&module).is_absolute() {
            PathBuf::from(&module)
        } else {
            ctx.sys(MODULE_DIR).join(&module)
        };
        let path = file.display().to_string();
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let details = json!({ "path": path, "module": module });
        match classify(&name, &module) {
            ModuleKind::Ours => {
                ours += 1;
                out.push(if resolved.is_file() {
                    Check::new(
                        "p11kit.registration",
                        Status::Ok,
                        t!(Msg::DoctorP11kitRegistered, path = path),
                    )
                    .details(details)
                } else {
                    Check::new(
                        "p11kit.registration",
                        Status::Fail,
                        t!(Msg::DoctorP11kitMissingLib, path = path, library = module),
                    )
                    .fix(t!(Msg::DoctorP11kitMissingLibFix, path = path))
                    .details(details)
                });
            }
            ModuleKind::Cryptolib => out.push(
                Check::new(
                    "p11kit.registration",
                    Status::Fail,
                    t!(Msg::DoctorStaleFile, path = path, library = module),
                )
                .fix(t!(Msg::DoctorStaleFileFix, path = path))
                .details(details),
            ),
            _ => {}
        }
    }
    if ours == 0 {
        out.push(
            Check::new(
                "p11kit.registration",
                Status::Warn,
                Msg::DoctorP11kitNotRegistered.text(),
            )
            .fix(t!(
                Msg::DoctorP11kitFix,
                path = FIX_FILE,
                module = ctx.module_for_fix()
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_lines() {
        assert_eq!(
            module_path("# x\nmodule: /usr/lib/libcps_pkcs11.so\ncritical: no\n").as_deref(),
            Some("/usr/lib/libcps_pkcs11.so")
        );
        assert_eq!(
            module_path("module:opensc-pkcs11.so").as_deref(),
            Some("opensc-pkcs11.so")
        );
        assert_eq!(module_path("critical: yes"), None);
    }
}
