//! p11-kit registration: a `NAME.module` file (pkcs11.conf(5): `module:` = the library) in the
//! user's `~/.config/pkcs11/modules/` or, for root, the system's `/etc/pkcs11/modules/`
//! (p11-kit ignores user configuration when run as root). p11-kit-aware programs (GnuTLS
//! applications, p11-kit-proxy.so users) then find the module without being told its path.

use std::path::{Path, PathBuf};

/// First line of the files we write: `--remove` deletes only files that carry it.
pub const MARKER: &str =
    "# Written by `cps-tool register` (cpscard); `cps-tool register --remove` deletes it.";

/// p11-kit's user and system module directories (p11-kit 0.24: `$XDG_CONFIG_HOME/pkcs11/modules`,
/// `~/.config/pkcs11/modules` when unset, as the doctor reads them; `$sysconfdir/pkcs11/modules`
/// with sysconfdir `/etc` on Debian).
pub fn default_dir(home: &Path, xdg_config_home: Option<&Path>, root: bool) -> PathBuf {
    match crate::doctor::p11kit::user_config_dir(Some(home), xdg_config_home) {
        Some(dir) if !root => dir.join("modules"),
        _ => PathBuf::from("/etc/pkcs11/modules"),
    }
}

/// The file content for `library`.
pub fn module_file(library: &str) -> String {
    [MARKER, "\nmodule: ", library, "\ncritical: no\n"].concat()
}

/// Whether an existing file is one of ours (so that `--remove` may delete it).
pub fn is_ours(text: &str) -> bool {
    text.lines().next() == Some(MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_the_module_and_is_recognised() {
        let f = module_file("/usr/lib/libcps_pkcs11.so");
        assert!(is_ours(&f));
        // what the doctor (and p11-kit) read back
        assert_eq!(
            crate::doctor::p11kit::module_path(&f).as_deref(),
            Some("/usr/lib/libcps_pkcs11.so")
        );
        assert!(f.ends_with("critical: no\n"));
        assert!(!is_ours(
            "module: /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\n"
        ));
    }

    #[test]
    fn user_or_system_directory() {
        assert_eq!(
            default_dir(Path::new("/home/u"), None, false),
            PathBuf::from("/home/u/.config/pkcs11/modules")
        );
        assert_eq!(
            default_dir(Path::new("/home/u"), Some(Path::new("/x/cfg")), false),
            PathBuf::from("/x/cfg/pkcs11/modules")
        );
        assert_eq!(
            default_dir(Path::new("/root"), None, true),
            PathBuf::from("/etc/pkcs11/modules")
        );
    }
}
