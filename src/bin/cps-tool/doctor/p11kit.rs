//! Doctor: the p11-kit module configuration (pkcs11.conf(5)), read the way p11-kit 0.24 reads
//! it, so that what GnuTLS programs and p11-kit-proxy users load is what the doctor reports:
//!
//! - the directories, highest precedence first: the user's `$XDG_CONFIG_HOME/pkcs11/modules`
//!   (`~/.config/pkcs11/modules` when unset), `/etc/pkcs11/modules`, `/usr/share/p11-kit/modules`
//!   (Debian's package directory); `user-config: none|merge|only` of `/etc/pkcs11/pkcs11.conf`,
//!   then of the user's `pkcs11.conf` unless the system's says `none`, drops the user's or the
//!   system's directories. p11-kit ignores user files in root processes; the doctor reads them
//!   anyway, as it diagnoses the user's own programs;
//! - the files: regular files named `NAME.module`; one module per NAME, the files of that name
//!   merged key by key, the more precedent file winning (a user file holding only
//!   `disable-in: firefox` keeps the system file's `module:`); in a file the last line of a key
//!   wins;
//! - a line: `key: value`, blanks trimmed, `#` lines and blank lines skipped; a line without a
//!   colon makes p11-kit fail to load any module at all (`p11-kit list-modules` exits 1);
//! - whether a module is loaded: not at all when `module:` is empty; with `enable-in:` only in
//!   the programs it lists (none when empty), `disable-in:` then not looked at; with
//!   `disable-in:` in every program but those; names are executable base names, case sensitive,
//!   separated by commas or blanks, `p11-kit-proxy` standing for the proxy module.
//!
//! Reported: our module (registered, where not loaded, or its library gone), and every module
//! that also drives CPS cards — OpenSC (`opensc-pkcs11.so`, Debian's opensc-pkcs11 package
//! installs `/usr/share/p11-kit/modules/opensc-pkcs11.module`) and the old Cryptolib — with
//! whether and where it is loaded and how to keep it out; malformed or unreadable files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::json;

use super::nss::{classify, ModuleKind};
use super::{read_optional, Check, Context, Status};

/// The system module directories, the more precedent first.
const SYSTEM_DIRS: [&str; 2] = ["/etc/pkcs11/modules", "/usr/share/p11-kit/modules"];
/// Where the package directory is (its files come with a package: uninstall rather than rm).
const PACKAGE_DIR: &str = "/usr/share/p11-kit/modules";
/// The system global configuration.
const SYSTEM_CONF: &str = "/etc/pkcs11/pkcs11.conf";
/// Where p11-kit resolves a relative `module:` path (Debian amd64).
const MODULE_DIR: &str = "/usr/lib/x86_64-linux-gnu/pkcs11";
/// Where the fix proposes to register.
const FIX_FILE: &str = "/etc/pkcs11/modules/cpscard.module";

/// A line p11-kit refuses (no colon): it then loads nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// 1-based.
    pub line: usize,
    pub text: String,
}

/// The `key: value` pairs of a p11-kit config file, in file order.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, Malformed> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(Malformed {
                line: i + 1,
                text: line.to_string(),
            });
        };
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// The value of `key` (the last line of it wins).
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The `module:` value of a `.module` file, when the file parses and names one.
pub fn module_path(text: &str) -> Option<String> {
    let pairs = parse(text).ok()?;
    value(&pairs, "module")
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Program names of `enable-in:` / `disable-in:` (commas and/or blanks).
fn programs(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `user-config:` of a global file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserConfig {
    None,
    Merge,
    Only,
}

/// Where a module file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    User,
    System,
    Package,
}

/// One module file read.
#[derive(Debug, Clone)]
struct ModuleFile {
    path: PathBuf,
    origin: Origin,
    pairs: Vec<(String, String)>,
}

/// Where a module is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loaded {
    Everywhere,
    /// `disable-in:` (set by that file).
    Except(Vec<String>, PathBuf),
    /// `enable-in:` (set by that file).
    Only(Vec<String>, PathBuf),
    /// Not at all: that key of that file (`module` empty, `enable-in` empty).
    Nowhere(&'static str, PathBuf),
}

impl Loaded {
    fn name(&self) -> &'static str {
        match self {
            Loaded::Everywhere => "everywhere",
            Loaded::Except(..) => "except",
            Loaded::Only(..) => "only",
            Loaded::Nowhere(..) => "nowhere",
        }
    }

    fn programs(&self) -> &[String] {
        match self {
            Loaded::Except(p, _) | Loaded::Only(p, _) => p,
            _ => &[],
        }
    }

    /// The file whose line decided (none when loaded everywhere).
    fn set_by(&self) -> Option<&Path> {
        match self {
            Loaded::Everywhere => None,
            Loaded::Except(_, f) | Loaded::Only(_, f) | Loaded::Nowhere(_, f) => Some(f),
        }
    }
}

/// One module as p11-kit sees it: the files of one name merged.
#[derive(Debug, Clone)]
struct Module<'a> {
    name: &'a str,
    /// The more precedent first.
    files: Vec<&'a ModuleFile>,
}

impl Module<'_> {
    /// The value of `key` and the file it comes from: the most precedent file that has it.
    fn get(&self, key: &str) -> Option<(&str, &Path)> {
        self.files
            .iter()
            .find_map(|f| value(&f.pairs, key).map(|v| (v, f.path.as_path())))
    }

    /// The library the module names, and the file: the effective `module:` or, when that is
    /// empty, the one it blanks out (so that a disabled OpenSC is still known as OpenSC).
    fn library(&self) -> Option<(&str, &ModuleFile)> {
        self.files.iter().find_map(|f| {
            value(&f.pairs, "module")
                .filter(|v| !v.is_empty())
                .map(|v| (v, *f))
        })
    }

    fn loaded(&self) -> Loaded {
        match self.get("module") {
            Some(("", file)) => return Loaded::Nowhere("module", file.to_path_buf()),
            None => {
                // no `module:` at all: nothing to load (reported as such for its first file)
                let file = self.files[0].path.clone();
                return Loaded::Nowhere("module", file);
            }
            Some(_) => {}
        }
        if let Some((v, file)) = self.get("enable-in") {
            let list = programs(v);
            return if list.is_empty() {
                Loaded::Nowhere("enable-in", file.to_path_buf())
            } else {
                Loaded::Only(list, file.to_path_buf())
            };
        }
        if let Some((v, file)) = self.get("disable-in") {
            let list = programs(v);
            if !list.is_empty() {
                return Loaded::Except(list, file.to_path_buf());
            }
        }
        Loaded::Everywhere
    }
}

/// The user's p11-kit configuration directory (`$XDG_CONFIG_HOME/pkcs11`, else
/// `~/.config/pkcs11`), as p11-kit expands `~/.config`.
pub fn user_config_dir(home: Option<&Path>, xdg_config_home: Option<&Path>) -> Option<PathBuf> {
    match xdg_config_home.filter(|x| !x.as_os_str().is_empty()) {
        Some(x) => Some(x.join("pkcs11")),
        None => home.map(|h| h.join(".config/pkcs11")),
    }
}

/// The `.module` files of `dir`, sorted (a missing directory has none).
fn module_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "module") && p.is_file())
        .collect();
    files.sort();
    files
}

/// What reading a config file gave.
enum Read {
    Absent,
    Pairs(Vec<(String, String)>),
    /// Already reported (malformed, unreadable).
    Bad,
}

fn read_config(path: &Path, out: &mut Vec<Check>) -> Read {
    let shown = path.display().to_string();
    match read_optional(path) {
        Ok(None) => Read::Absent,
        Ok(Some(text)) => match parse(&text) {
            Ok(pairs) => Read::Pairs(pairs),
            Err(m) => {
                out.push(
                    Check::new(
                        "p11kit.config",
                        Status::Fail,
                        t!(
                            Msg::DoctorP11kitMalformed,
                            path = shown,
                            line = m.line,
                            text = m.text
                        ),
                    )
                    .fix(t!(
                        Msg::DoctorP11kitMalformedFix,
                        path = shown,
                        line = m.line
                    ))
                    .details(json!({ "path": shown, "line": m.line, "text": m.text })),
                );
                Read::Bad
            }
        },
        Err(e) => {
            out.push(
                Check::new(
                    "p11kit.config",
                    Status::Warn,
                    t!(Msg::DoctorP11kitUnreadable, path = shown, detail = e),
                )
                .fix(t!(Msg::DoctorP11kitUnreadableFix, path = shown))
                .details(json!({ "path": shown })),
            );
            Read::Bad
        }
    }
}

/// `user-config:` of the global files, and the file that set it.
fn user_config(ctx: &Context, user_dir: Option<&Path>, out: &mut Vec<Check>) -> UserConfig {
    let parse_mode = |pairs: &[(String, String)]| match value(pairs, "user-config") {
        Some("none") => Some(UserConfig::None),
        Some("only") => Some(UserConfig::Only),
        Some("merge") => Some(UserConfig::Merge),
        _ => None,
    };
    let system = ctx.sys(SYSTEM_CONF);
    let mut mode = UserConfig::Merge;
    let mut set_by = None;
    if let Read::Pairs(pairs) = read_config(&system, out) {
        if let Some(m) = parse_mode(&pairs) {
            mode = m;
            set_by = Some(system);
        }
    }
    if mode != UserConfig::None {
        if let Some(dir) = user_dir {
            let file = dir.join("pkcs11.conf");
            if let Read::Pairs(pairs) = read_config(&file, out) {
                if let Some(m) = parse_mode(&pairs) {
                    mode = m;
                    set_by = Some(file);
                }
            }
        }
    }
    if let Some(file) = set_by {
        let path = file.display().to_string();
        let msg = match mode {
            UserConfig::None => Some(Msg::DoctorP11kitUserConfigNone),
            UserConfig::Only => Some(Msg::DoctorP11kitUserConfigOnly),
            UserConfig::Merge => None,
        };
        if let Some(msg) = msg {
            out.push(
                Check::new("p11kit.config", Status::Ok, t!(msg, path = path))
                    .details(json!({ "path": path })),
            );
        }
    }
    mode
}

fn shown(files: &[&ModuleFile]) -> String {
    files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

pub fn checks(ctx: &Context) -> Vec<Check> {
    let mut out = Vec::new();
    let conf_dir = user_config_dir(ctx.home.as_deref(), ctx.xdg_config_home.as_deref());
    let mode = user_config(ctx, conf_dir.as_deref(), &mut out);
    let user_modules = conf_dir.as_ref().map(|d| d.join("modules"));
    let mut dirs: Vec<(PathBuf, Origin)> = Vec::new();
    if mode != UserConfig::None {
        if let Some(d) = &user_modules {
            dirs.push((d.clone(), Origin::User));
        }
    }
    if mode != UserConfig::Only {
        for d in SYSTEM_DIRS {
            let origin = if d == PACKAGE_DIR {
                Origin::Package
            } else {
                Origin::System
            };
            dirs.push((ctx.sys(d), origin));
        }
    }
    let mut files = Vec::new();
    for (dir, origin) in &dirs {
        for path in module_files(dir) {
            if let Read::Pairs(pairs) = read_config(&path, &mut out) {
                files.push(ModuleFile {
                    path,
                    origin: *origin,
                    pairs,
                });
            }
        }
    }
    // one module per file name, its files in precedence order (the order they were read)
    let mut modules: BTreeMap<String, Vec<&ModuleFile>> = BTreeMap::new();
    for f in &files {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".module").to_string())
            .unwrap_or_default();
        modules.entry(name).or_default().push(f);
    }
    let mut ours = 0;
    for (name, files) in &modules {
        let m = Module {
            name,
            files: files.clone(),
        };
        let Some((library, declared)) = m.library() else {
            continue;
        };
        let kind = classify(name, library);
        if kind == ModuleKind::Other {
            continue;
        }
        let loaded = m.loaded();
        let resolved = if Path::new(library).is_absolute() {
            // an absolute path is used as it is (the sysroot only moves the config files)
            PathBuf::from(library)
        } else {
            ctx.sys(MODULE_DIR).join(library)
        };
        let path = shown(&m.files);
        let details = json!({
            "name": name,
            "path": declared.path.display().to_string(),
            "files": m.files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
            "module": library,
            "library": resolved.display().to_string(),
            "kind": match kind {
                ModuleKind::Ours => "cpscard",
                ModuleKind::OpenSc => "opensc",
                _ => "cryptolib",
            },
            "loaded": loaded.name(),
            "programs": loaded.programs(),
            "set_by": loaded.set_by().map(|p| p.display().to_string()),
        });
        let check = if kind == ModuleKind::Ours {
            if !matches!(loaded, Loaded::Nowhere(..)) {
                ours += 1;
            }
            ours_check(&path, library, &resolved, &loaded)
        } else {
            // the file of the same name in the user's directory overrides it
            let file_name = [name.as_str(), ".module"].concat();
            let user_file = user_modules
                .as_deref()
                .unwrap_or(Path::new("~/.config/pkcs11/modules"))
                .join(file_name)
                .display()
                .to_string();
            conflict_check(&m, kind, &path, library, declared, &loaded, &user_file)
        };
        out.push(check.details(details));
    }
    if ours == 0 && !out.iter().any(|c| c.id == "p11kit.registration") {
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

/// Our own module's registration.
fn ours_check(path: &str, library: &str, resolved: &Path, loaded: &Loaded) -> Check {
    let id = "p11kit.registration";
    match loaded {
        Loaded::Nowhere(key, file) => Check::new(
            id,
            Status::Warn,
            t!(
                Msg::DoctorP11kitOursOff,
                path = path,
                key = key,
                file = file.display()
            ),
        )
        .fix(t!(
            Msg::DoctorP11kitOursOffFix,
            key = key,
            file = file.display()
        )),
        _ if !resolved.is_file() => Check::new(
            id,
            Status::Fail,
            t!(Msg::DoctorP11kitMissingLib, path = path, library = library),
        )
        .fix(t!(Msg::DoctorP11kitMissingLibFix, path = path)),
        Loaded::Everywhere => {
            Check::new(id, Status::Ok, t!(Msg::DoctorP11kitRegistered, path = path))
        }
        Loaded::Except(programs, file) | Loaded::Only(programs, file) => {
            let (msg, key) = if matches!(loaded, Loaded::Except(..)) {
                (Msg::DoctorP11kitOursExcept, "disable-in")
            } else {
                (Msg::DoctorP11kitOursOnly, "enable-in")
            };
            Check::new(
                id,
                Status::Warn,
                t!(
                    msg,
                    path = path,
                    programs = programs.join(", "),
                    file = file.display()
                ),
            )
            .fix(t!(
                Msg::DoctorP11kitOursPartialFix,
                key = key,
                file = file.display()
            ))
        }
    }
}

/// OpenSC or the old Cryptolib, which drive CPS cards too.
fn conflict_check(
    m: &Module,
    kind: ModuleKind,
    path: &str,
    library: &str,
    declared: &ModuleFile,
    loaded: &Loaded,
    user_file: &str,
) -> Check {
    let id = "p11kit.conflict";
    let what = if kind == ModuleKind::OpenSc {
        Msg::DoctorP11kitOpensc.text()
    } else {
        Msg::DoctorP11kitCryptolib.text()
    };
    let (msg, programs, file) = match loaded {
        Loaded::Nowhere(key, file) => {
            return Check::new(
                id,
                Status::Ok,
                t!(
                    Msg::DoctorP11kitConflictOff,
                    path = path,
                    what = what,
                    module = library,
                    key = key,
                    file = file.display()
                ),
            );
        }
        Loaded::Everywhere => (Msg::DoctorP11kitConflict, String::new(), String::new()),
        Loaded::Except(p, f) => (
            Msg::DoctorP11kitConflictExcept,
            p.join(", "),
            f.display().to_string(),
        ),
        Loaded::Only(p, f) => (
            Msg::DoctorP11kitConflictOnly,
            p.join(", "),
            f.display().to_string(),
        ),
    };
    let message = t!(
        msg,
        path = path,
        what = what,
        module = library,
        programs = programs,
        file = file
    );
    // the old Cryptolib is a stale install (as in the NSS databases); OpenSC worth knowing
    let status = if kind == ModuleKind::Cryptolib {
        Status::Fail
    } else {
        Status::Warn
    };
    let declared_path = declared.path.display().to_string();
    let fix = match declared.origin {
        Origin::User => t!(Msg::DoctorP11kitConflictFixOwn, path = declared_path),
        origin => {
            let system = if origin == Origin::Package {
                t!(Msg::DoctorP11kitSystemPackage, path = declared_path)
            } else {
                t!(Msg::DoctorP11kitSystemFile, path = declared_path)
            };
            t!(
                Msg::DoctorP11kitConflictFix,
                user_file = user_file,
                name = m.name,
                system = system
            )
        }
    };
    Check::new(id, status, message).fix(fix)
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
        // the last line wins; an empty value names nothing; a line without colon: no file
        assert_eq!(
            module_path("module: a.so\nmodule: b.so\n").as_deref(),
            Some("b.so")
        );
        assert_eq!(module_path("module:\r\n"), None);
        assert_eq!(module_path("module: a.so\njunk\n"), None);
        assert_eq!(
            parse("  # c\n\nx-key : v : w\n\nbad line\n"),
            Err(Malformed {
                line: 5,
                text: "bad line".into()
            })
        );
    }

    #[test]
    fn program_lists() {
        assert_eq!(
            programs(" firefox,  p11-kit-proxy ,,seahorse\tssh "),
            ["firefox", "p11-kit-proxy", "seahorse", "ssh"]
        );
        assert!(programs(" , ").is_empty());
    }

    #[test]
    fn user_dir_follows_xdg() {
        let home = Path::new("/home/u");
        assert_eq!(
            user_config_dir(Some(home), None),
            Some(PathBuf::from("/home/u/.config/pkcs11"))
        );
        assert_eq!(
            user_config_dir(Some(home), Some(Path::new("/x/cfg"))),
            Some(PathBuf::from("/x/cfg/pkcs11"))
        );
        assert_eq!(
            user_config_dir(Some(home), Some(Path::new(""))),
            Some(PathBuf::from("/home/u/.config/pkcs11"))
        );
        assert_eq!(user_config_dir(None, None), None);
    }
}
