//! Doctor: Firefox policies (`policies.json`: SecurityDevices, SSLVersionMax, Preferences) and
//! the prefs that matter for a CPS card in each profile (`prefs.js`, then `user.js`, then the
//! policies, later ones winning): `security.tls.version.max` (3 = TLS 1.2, 4 = TLS 1.3: a CPS3
//! has no RSA-PSS, cards/README.md §4) and `security.default_personal_cert`. Also the old
//! Cryptolib's native manifest (`/usr/lib/mozilla/pkcs11-modules/cps3.json`, cards/README.md §5).

use std::path::{Path, PathBuf};

use cpscard::card::Generation;
use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::{json, Value};

use super::nss::{self, classify, ModuleKind};
use super::{read_optional, Check, Context, Status};

/// Where Firefox reads enterprise policies on Linux.
const POLICY_FILES: [&str; 5] = [
    "/etc/firefox/policies/policies.json",
    "/etc/firefox-esr/policies/policies.json",
    "/usr/lib/firefox/distribution/policies.json",
    "/usr/lib/firefox-esr/distribution/policies.json",
    "/usr/lib64/firefox/distribution/policies.json",
];

/// Firefox native PKCS#11 manifests (the Cryptolib installs `cps3.json` there).
const MANIFEST_DIRS: [&str; 3] = [
    "/usr/lib/mozilla/pkcs11-modules",
    "/usr/lib64/mozilla/pkcs11-modules",
    "/etc/opt/santesocial/mozilla/pkcs11-modules",
];

/// A module a policy file adds (SecurityDevices).
#[derive(Debug, Clone)]
pub struct PolicyModule {
    pub file: PathBuf,
    pub name: String,
    pub library: String,
}

fn policies(ctx: &Context) -> Vec<(PathBuf, Result<Value, String>)> {
    POLICY_FILES
        .iter()
        .map(|p| ctx.sys(p))
        .filter_map(|p| match read_optional(&p) {
            Ok(Some(text)) => {
                let v = serde_json::from_str::<Value>(&text).map_err(|e| e.to_string());
                Some((p, v))
            }
            Ok(None) => None,
            Err(e) => Some((p, Err(e.to_string()))),
        })
        .collect()
}

/// The modules added by policy files: `SecurityDevices: {"Add": {name: path}}` or the older
/// `SecurityDevices: {name: path}`.
pub fn policy_modules(ctx: &Context) -> Vec<PolicyModule> {
    let mut out = Vec::new();
    for (file, v) in policies(ctx) {
        let Ok(v) = v else { continue };
        let Some(devices) = v["policies"]["SecurityDevices"].as_object() else {
            continue;
        };
        let entries = match devices.get("Add").and_then(Value::as_object) {
            Some(add) => add.clone(),
            None => devices.clone(),
        };
        for (name, lib) in entries {
            if let Some(library) = lib.as_str() {
                out.push(PolicyModule {
                    file: file.clone(),
                    name,
                    library: library.to_string(),
                });
            }
        }
    }
    out
}

/// A pref value as Firefox writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pref {
    Int(i64),
    Str(String),
    Bool(bool),
}

impl std::fmt::Display for Pref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pref::Int(i) => write!(f, "{i}"),
            Pref::Str(s) => f.write_str(s),
            Pref::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The value of `name` in a prefs.js / user.js text (`user_pref("name", value);`, also `pref(`),
/// the last one winning.
pub fn pref_value(text: &str, name: &str) -> Option<Pref> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line
            .strip_prefix("user_pref(")
            .or_else(|| line.strip_prefix("pref("))
        else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find('"') else { continue };
        if &rest[..end] != name {
            continue;
        }
        let value = rest[end + 1..].trim_start().trim_start_matches(',').trim();
        let value = value.strip_suffix(';').unwrap_or(value).trim();
        let value = value.strip_suffix(')').unwrap_or(value).trim();
        found = if let Some(s) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(Pref::Str(s.replace("\\\"", "\"").replace("\\\\", "\\")))
        } else if value == "true" || value == "false" {
            Some(Pref::Bool(value == "true"))
        } else {
            value.parse().ok().map(Pref::Int)
        };
    }
    found
}

/// The effective value of `name` in `profile`: prefs.js, then user.js, then policies.
fn effective(profile: &Path, name: &str, policy_prefs: &[(PathBuf, String, Pref)]) -> Option<Pref> {
    let mut v = None;
    for f in ["prefs.js", "user.js"] {
        if let Ok(Some(text)) = read_optional(&profile.join(f)) {
            if let Some(p) = pref_value(&text, name) {
                v = Some(p);
            }
        }
    }
    for (_, n, p) in policy_prefs {
        if n == name {
            v = Some(p.clone());
        }
    }
    v
}

/// Prefs set by policies: `Preferences: {name: {"Value": v}}` or `{name: v}`; `SSLVersionMax`.
fn policy_prefs(ctx: &Context) -> Vec<(PathBuf, String, Pref)> {
    let mut out = Vec::new();
    for (file, v) in policies(ctx) {
        let Ok(v) = v else { continue };
        let p = &v["policies"];
        if let Some(max) = p["SSLVersionMax"].as_str() {
            let n = match max {
                "tls1" => 1,
                "tls1.1" => 2,
                "tls1.2" => 3,
                _ => 4,
            };
            out.push((
                file.clone(),
                "security.tls.version.max".into(),
                Pref::Int(n),
            ));
        }
        if let Some(prefs) = p["Preferences"].as_object() {
            for (name, val) in prefs {
                let val = val.get("Value").unwrap_or(val);
                let pref = match val {
                    Value::String(s) => Pref::Str(s.clone()),
                    Value::Bool(b) => Pref::Bool(*b),
                    Value::Number(n) => match n.as_i64() {
                        Some(i) => Pref::Int(i),
                        None => continue,
                    },
                    _ => continue,
                };
                out.push((file.clone(), name.clone(), pref));
            }
        }
    }
    out
}

pub fn checks(ctx: &Context) -> Vec<Check> {
    let mut out = Vec::new();
    for (file, v) in policies(ctx) {
        let path = file.display().to_string();
        match v {
            Err(detail) => out.push(
                Check::new(
                    "firefox.policy",
                    Status::Fail,
                    t!(Msg::DoctorPolicyUnreadable, path = path, detail = detail),
                )
                .fix(t!(Msg::DoctorPolicyUnreadableFix, path = path))
                .details(json!({ "path": path })),
            ),
            Ok(v) => {
                if let Some(max) = v["policies"]["SSLVersionMax"].as_str() {
                    out.push(
                        Check::new(
                            "firefox.policy",
                            Status::Ok,
                            t!(Msg::DoctorPolicyTlsMax, path = path, value = max),
                        )
                        .details(json!({ "path": path, "SSLVersionMax": max })),
                    );
                }
            }
        }
    }
    for m in policy_modules(ctx) {
        if classify(&m.name, &m.library) == ModuleKind::Cryptolib {
            let path = m.file.display().to_string();
            out.push(
                Check::new(
                    "firefox.policy",
                    Status::Fail,
                    t!(
                        Msg::DoctorPolicyRegistersStale,
                        path = path,
                        library = m.library
                    ),
                )
                .fix(t!(Msg::DoctorPolicyRegistersStaleFix, path = path))
                .details(json!({ "path": path, "name": m.name, "library": m.library })),
            );
        }
    }
    out.extend(stale_manifests(ctx));
    let Some(home) = &ctx.home else { return out };
    let policy_prefs = policy_prefs(ctx);
    let (_, profiles) = nss::firefox_profiles(home);
    for dir in profiles {
        let profile = t!(Msg::DoctorProfileName, name = nss::profile_name(&dir));
        out.push(tls_pref_check(ctx, &dir, &profile, &policy_prefs));
        out.push(personal_cert_check(&dir, &profile, &policy_prefs));
    }
    out
}

fn tls_pref_check(
    ctx: &Context,
    dir: &Path,
    profile: &str,
    policy_prefs: &[(PathBuf, String, Pref)],
) -> Check {
    let value = match effective(dir, "security.tls.version.max", policy_prefs) {
        Some(Pref::Int(i)) => i,
        _ => 4,
    };
    let details =
        json!({ "profile": dir.display().to_string(), "security.tls.version.max": value });
    let has = |g: Generation| ctx.generations.contains(&g);
    let check = if value < 3 {
        Check::new(
            "firefox.tls_version_max",
            Status::Fail,
            t!(Msg::DoctorPrefTlsMaxLow, profile = profile, value = value),
        )
        .fix(Msg::DoctorPrefTlsMaxLowFix.text())
    } else if value == 3 && has(Generation::Cps4) && !has(Generation::Cps3) {
        Check::new(
            "firefox.tls_version_max",
            Status::Warn,
            t!(
                Msg::DoctorPrefTlsMax12Cps4,
                profile = profile,
                value = value
            ),
        )
        .fix(Msg::DoctorPrefTlsMax12Cps4Fix.text())
    } else if value == 3 {
        Check::new(
            "firefox.tls_version_max",
            Status::Ok,
            t!(Msg::DoctorPrefTlsMax12Cps3, profile = profile),
        )
    } else {
        Check::new(
            "firefox.tls_version_max",
            Status::Ok,
            t!(
                Msg::DoctorPrefTlsMaxDefault,
                profile = profile,
                value = value
            ),
        )
    };
    check.details(details)
}

fn personal_cert_check(
    dir: &Path,
    profile: &str,
    policy_prefs: &[(PathBuf, String, Pref)],
) -> Check {
    let value = match effective(dir, "security.default_personal_cert", policy_prefs) {
        Some(p) => p.to_string(),
        None => "Ask Every Time".to_string(),
    };
    let details =
        json!({ "profile": dir.display().to_string(), "security.default_personal_cert": value });
    if value == "Ask Every Time" || value == "Select Automatically" {
        Check::new(
            "firefox.default_personal_cert",
            Status::Ok,
            t!(
                Msg::DoctorPrefPersonalCert,
                profile = profile,
                value = value
            ),
        )
        .details(details)
    } else {
        Check::new(
            "firefox.default_personal_cert",
            Status::Warn,
            t!(
                Msg::DoctorPrefPersonalCertOdd,
                profile = profile,
                value = value
            ),
        )
        .fix(Msg::DoctorPrefPersonalCertFix.text())
        .details(details)
    }
}

/// The Cryptolib's Firefox native manifests still installed.
fn stale_manifests(ctx: &Context) -> Vec<Check> {
    let mut out = Vec::new();
    for dir in MANIFEST_DIRS.iter().map(|d| ctx.sys(d)) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let Ok(Some(text)) = read_optional(&file) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let name = v["name"].as_str().unwrap_or_default();
            let library = v["path"].as_str().unwrap_or_default();
            if classify(name, library) == ModuleKind::Cryptolib {
                let path = file.display().to_string();
                out.push(
                    Check::new(
                        "firefox.manifest",
                        Status::Fail,
                        t!(Msg::DoctorStaleFile, path = path, library = library),
                    )
                    .fix(t!(Msg::DoctorStaleFileFix, path = path))
                    .details(json!({ "path": path, "name": name, "library": library })),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefs_are_read_last_one_winning() {
        let text = "// Mozilla User Preferences\nuser_pref(\"security.tls.version.max\", 4);\nuser_pref(\"browser.x\", \"y\");\nuser_pref(\"security.tls.version.max\", 3);\nuser_pref(\"security.default_personal_cert\", \"Select Automatically\");\n";
        assert_eq!(
            pref_value(text, "security.tls.version.max"),
            Some(Pref::Int(3))
        );
        assert_eq!(
            pref_value(text, "security.default_personal_cert"),
            Some(Pref::Str("Select Automatically".into()))
        );
        assert_eq!(pref_value(text, "nope"), None);
        assert_eq!(
            pref_value("pref(\"a.b\", true);", "a.b"),
            Some(Pref::Bool(true))
        );
    }
}
