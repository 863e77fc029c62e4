//! The module's configuration (DESIGN §4): environment variables over an optional TOML file
//! over the defaults, read at every `C_Initialize`.
//!
//! File: `$CPSCARD_CONFIG`, else the first of `$XDG_CONFIG_HOME/cpscard/config.toml` (or
//! `~/.config/cpscard/config.toml`) and `/etc/cpscard/config.toml` that exists:
//!
//! ```toml
//! [reader]
//! pcsc = true                      # CPSCARD_PCSC=0 hides the PC/SC readers
//! emulated = "cps4:/tmp/card.json" # CPSCARD_EMULATED (cps3 | cps4 [:image])
//! [pin]
//! pinentry = "/usr/bin/pinentry"   # CPSCARD_PINENTRY: asks the PIN (protected path)
//! [log]
//! level = "info"                   # CPSCARD_LOG: off|error|warn|info|debug|trace
//! file = "/tmp/cpscard.log"        # CPSCARD_LOG_FILE (default: standard error)
//! [cache]
//! enabled = true                   # CPSCARD_NO_CACHE=1 turns it off
//! dir = "/var/cache/cpscard"       # CPSCARD_CACHE_DIR (default: $XDG_CACHE_HOME/cpscard)
//! ```
//!
//! The vendor's variables are accepted too (objects.md §9): `CPS3_PKCS11_TRACES` /
//! `CPS3_PCS11_TRACES` = `true`/`1` turn logging on, `CPS3_DEBUG` = 0..10 sets how much
//! (10 = every APDU). `CPSCARD_LOG` wins over them.

use std::path::{Path, PathBuf};

use cpscard::token::CacheChoice;
use serde::Deserialize;

/// Everything the module takes from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `CPSCARD_EMULATED`: the emulated reader's card (`cps3`, `cps4`, `cps4:<image>`).
    pub emulated: Option<String>,
    /// Whether PC/SC readers are slots.
    pub pcsc: bool,
    /// A pinentry program that asks for the PIN (`CKF_PROTECTED_AUTHENTICATION_PATH`).
    pub pinentry: Option<PathBuf>,
    /// Log level; `None` = warnings only.
    pub log_level: Option<log::LevelFilter>,
    /// Log file; `None` = standard error.
    pub log_file: Option<PathBuf>,
    /// The token layer's persistent cache of public card files (on by default).
    pub cache: CacheChoice,
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            emulated: None,
            pcsc: true,
            pinentry: None,
            log_level: None,
            log_file: None,
            cache: CacheChoice::Default,
            file: None,
        }
    }
}

/// A configuration that cannot be used: `C_Initialize` fails (`CKR_FUNCTION_FAILED`) rather
/// than run with something the user did not ask for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("{variable}={value}: {reason}")]
    Variable {
        variable: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// The TOML file, every section and key optional; unknown keys are errors (typos).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    reader: ReaderSection,
    #[serde(default)]
    pin: PinSection,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    cache: CacheSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReaderSection {
    pcsc: Option<bool>,
    emulated: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinSection {
    pinentry: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    level: Option<String>,
    file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheSection {
    enabled: Option<bool>,
    dir: Option<PathBuf>,
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::load(&|name| std::env::var(name).ok())
    }

    /// From the variables `env` gives (tests pass their own).
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut c = Config::default();
        if let Some(path) = config_file(&var)? {
            c.apply_file(&path)?;
            c.file = Some(path);
        }
        // Vendor variables first, so that ours win.
        let traces = ["CPS3_PKCS11_TRACES", "CPS3_PCS11_TRACES"]
            .iter()
            .filter_map(|n| var(n))
            .any(|v| truthy(&v));
        if traces {
            c.log_level = Some(match var("CPS3_DEBUG") {
                Some(v) => vendor_debug_level(&v)?,
                None => log::LevelFilter::Debug,
            });
        }
        if let Some(v) = var("CPSCARD_EMULATED") {
            c.emulated = Some(v.trim().to_string());
        }
        if let Some(v) = var("CPSCARD_PCSC") {
            c.pcsc = parse_bool(&v).ok_or(ConfigError::Variable {
                variable: "CPSCARD_PCSC",
                value: v.clone(),
                reason: "expected 1/0, true/false, on/off",
            })?;
        }
        if let Some(v) = var("CPSCARD_PINENTRY") {
            c.pinentry = Some(PathBuf::from(v));
        }
        if let Some(v) = var("CPSCARD_LOG") {
            c.log_level = Some(parse_level(&v).ok_or(ConfigError::Variable {
                variable: "CPSCARD_LOG",
                value: v.clone(),
                reason: "expected off, error, warn, info, debug or trace",
            })?);
        }
        if let Some(v) = var("CPSCARD_LOG_FILE") {
            c.log_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("CPSCARD_CACHE_DIR") {
            c.cache = CacheChoice::Dir(PathBuf::from(v));
        }
        if var("CPSCARD_NO_CACHE").is_some_and(|v| truthy(&v)) {
            c.cache = CacheChoice::Off;
        }
        Ok(c)
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let err = |reason: String| ConfigError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let f: FileConfig = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        if let Some(p) = f.reader.pcsc {
            self.pcsc = p;
        }
        if let Some(e) = f.reader.emulated.filter(|e| !e.trim().is_empty()) {
            self.emulated = Some(e.trim().to_string());
        }
        if let Some(p) = f.pin.pinentry {
            self.pinentry = Some(p);
        }
        if let Some(l) = f.log.level {
            self.log_level =
                Some(parse_level(&l).ok_or_else(|| err(format!("log.level {l:?} unknown")))?);
        }
        if let Some(file) = f.log.file {
            self.log_file = Some(file);
        }
        if let Some(dir) = f.cache.dir {
            self.cache = CacheChoice::Dir(dir);
        }
        if f.cache.enabled == Some(false) {
            self.cache = CacheChoice::Off;
        }
        Ok(())
    }
}

/// The file to read: `CPSCARD_CONFIG` (must exist), else the first existing default.
fn config_file(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = var("CPSCARD_CONFIG") {
        let path = PathBuf::from(p);
        if !path.is_file() {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                reason: "CPSCARD_CONFIG names no such file".into(),
            });
        }
        return Ok(Some(path));
    }
    let user = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| Path::new(&h).join(".config")))
        .map(|d| d.join("cpscard").join("config.toml"));
    let system = PathBuf::from("/etc/cpscard/config.toml");
    Ok(user.into_iter().chain([system]).find(|p| p.is_file()))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn truthy(v: &str) -> bool {
    parse_bool(v) == Some(true)
}

fn parse_level(v: &str) -> Option<log::LevelFilter> {
    v.trim().parse().ok()
}

/// `CPS3_DEBUG` 0..10 (objects.md §9): 0-2 info, 3-7 debug, 8-10 trace (10 = APDU level).
fn vendor_debug_level(v: &str) -> Result<log::LevelFilter, ConfigError> {
    match v.trim().parse::<u8>() {
        Ok(0..=2) => Ok(log::LevelFilter::Info),
        Ok(3..=7) => Ok(log::LevelFilter::Debug),
        Ok(8..=10) => Ok(log::LevelFilter::Trace),
        _ => Err(ConfigError::Variable {
            variable: "CPS3_DEBUG",
            value: v.to_string(),
            reason: "expected 0 to 10",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // No HOME/XDG given: only /etc/cpscard/config.toml could be read, which tests do not
        // create.
        Config::load(&move |n| map.get(n).cloned())
    }

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cps-pkcs11-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn defaults_pcsc_on_cache_on_no_emulator() {
        let c = load(&[]).unwrap();
        assert!(c.pcsc);
        assert_eq!(c.cache, CacheChoice::Default);
        assert_eq!(c.emulated, None);
        assert_eq!(c.log_level, None);
    }

    #[test]
    fn environment() {
        let c = load(&[
            ("CPSCARD_EMULATED", " cps4:/tmp/x.json "),
            ("CPSCARD_PCSC", "off"),
            ("CPSCARD_PINENTRY", "/usr/bin/pinentry"),
            ("CPSCARD_LOG", "TRACE"),
            ("CPSCARD_LOG_FILE", "/tmp/l.log"),
            ("CPSCARD_CACHE_DIR", "/tmp/cache"),
        ])
        .unwrap();
        assert_eq!(c.emulated.as_deref(), Some("cps4:/tmp/x.json"));
        assert!(!c.pcsc);
        assert_eq!(c.pinentry, Some(PathBuf::from("/usr/bin/pinentry")));
        assert_eq!(c.log_level, Some(log::LevelFilter::Trace));
        assert_eq!(c.log_file, Some(PathBuf::from("/tmp/l.log")));
        assert_eq!(c.cache, CacheChoice::Dir("/tmp/cache".into()));
        let c = load(&[
            ("CPSCARD_CACHE_DIR", "/tmp/cache"),
            ("CPSCARD_NO_CACHE", "1"),
        ])
        .unwrap();
        assert_eq!(c.cache, CacheChoice::Off);
        assert!(load(&[("CPSCARD_LOG", "loud")]).is_err());
        assert!(load(&[("CPSCARD_PCSC", "maybe")]).is_err());
    }

    #[test]
    fn vendor_trace_variables() {
        let c = load(&[("CPS3_PCS11_TRACES", "true")]).unwrap();
        assert_eq!(c.log_level, Some(log::LevelFilter::Debug));
        let c = load(&[("CPS3_PKCS11_TRACES", "1"), ("CPS3_DEBUG", "10")]).unwrap();
        assert_eq!(c.log_level, Some(log::LevelFilter::Trace));
        let c = load(&[("CPS3_PKCS11_TRACES", "1"), ("CPS3_DEBUG", "0")]).unwrap();
        assert_eq!(c.log_level, Some(log::LevelFilter::Info));
        // Without the switch, CPS3_DEBUG alone does nothing (as the vendor's).
        assert_eq!(load(&[("CPS3_DEBUG", "10")]).unwrap().log_level, None);
        // Ours wins.
        let c = load(&[("CPS3_PKCS11_TRACES", "1"), ("CPSCARD_LOG", "warn")]).unwrap();
        assert_eq!(c.log_level, Some(log::LevelFilter::Warn));
        assert!(load(&[("CPS3_PKCS11_TRACES", "1"), ("CPS3_DEBUG", "11")]).is_err());
    }

    #[test]
    fn file_then_environment() {
        let p = temp_file(
            "ok.toml",
            "[reader]\npcsc = false\nemulated = \"cps3\"\n[pin]\npinentry = \"/bin/pe\"\n\
             [log]\nlevel = \"debug\"\nfile = \"/tmp/f.log\"\n[cache]\ndir = \"/tmp/c\"\n",
        );
        let path = p.display().to_string();
        let c = load(&[("CPSCARD_CONFIG", &path)]).unwrap();
        assert_eq!(c.file.as_deref(), Some(p.as_path()));
        assert!(!c.pcsc);
        assert_eq!(c.emulated.as_deref(), Some("cps3"));
        assert_eq!(c.pinentry, Some(PathBuf::from("/bin/pe")));
        assert_eq!(c.log_level, Some(log::LevelFilter::Debug));
        assert_eq!(c.cache, CacheChoice::Dir("/tmp/c".into()));
        let c = load(&[("CPSCARD_CONFIG", &path), ("CPSCARD_EMULATED", "cps4")]).unwrap();
        assert_eq!(c.emulated.as_deref(), Some("cps4"));
        let off = temp_file("off.toml", "[cache]\nenabled = false\n");
        let c = load(&[("CPSCARD_CONFIG", &off.display().to_string())]).unwrap();
        assert_eq!(c.cache, CacheChoice::Off);
    }

    #[test]
    fn a_bad_file_is_an_error() {
        let typo = temp_file("typo.toml", "[log]\nlevl = \"debug\"\n");
        assert!(matches!(
            load(&[("CPSCARD_CONFIG", &typo.display().to_string())]),
            Err(ConfigError::File { .. })
        ));
        let bad = temp_file("bad.toml", "[log\n");
        assert!(load(&[("CPSCARD_CONFIG", &bad.display().to_string())]).is_err());
        assert!(load(&[("CPSCARD_CONFIG", "/nonexistent/cpscard.toml")]).is_err());
    }

    #[test]
    fn the_user_file_is_found_by_xdg_config_home() {
        let dir = std::env::temp_dir().join(format!("cps-pkcs11-xdg-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cpscard")).unwrap();
        std::fs::write(dir.join("cpscard/config.toml"), "[reader]\npcsc = false\n").unwrap();
        let d = dir.display().to_string();
        let c = load(&[("XDG_CONFIG_HOME", &d)]).unwrap();
        assert!(!c.pcsc);
        assert_eq!(c.file, Some(dir.join("cpscard/config.toml")));
    }
}
