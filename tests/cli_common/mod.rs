//! Shared by the `tests/cli_*.rs` tests: run the built `cps-tool` (never reaching a real pcscd
//! unless asked), temporary directories, the fixture cards, JSON schema validation.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
pub const HOLDERS: [&str; 5] = ["cps", "cpf", "cpe", "cpa", "cde"];
pub const GENERATIONS: [&str; 2] = ["cps3", "cps4"];

/// A `cps-tool` command with a clean environment: English, no pcscd, HOME in `home`.
pub fn cmd(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cps-tool"));
    c.env(
        "PCSCLITE_CSOCK_NAME",
        "/nonexistent/cpscard-test/pcscd.comm",
    )
    .env("HOME", home)
    .env("LANG", "C.UTF-8")
    .env_remove("LC_ALL")
    .env_remove("LC_MESSAGES")
    .env_remove("RUST_LOG")
    .env_remove("CPS_PIN")
    .env_remove("CPS_PUK")
    .env_remove("CPS_NEW_PIN")
    .env_remove("CPS_PINENTRY")
    .env_remove("CPSCARD_MODULE");
    c
}

pub fn run(home: &Path, args: &[&str]) -> Output {
    cmd(home).args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh temporary directory (removed when dropped).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cps-tool-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    pub fn write(&self, p: &str, content: &str) -> PathBuf {
        let path = self.0.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn fixture_dir(generation: &str, holder: &str) -> PathBuf {
    Path::new(ROOT)
        .join("fixtures/cards")
        .join(generation)
        .join(holder)
}

pub fn card_json(generation: &str, holder: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir(generation, holder).join("card.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Validates `doc` against `docs/schema/<name>.json`; panics with every error.
pub fn assert_schema(name: &str, doc: &serde_json::Value) {
    let path = Path::new(ROOT)
        .join("docs/schema")
        .join(format!("{name}.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}.json: {errors:#?}\nin {}",
        serde_json::to_string_pretty(doc).unwrap()
    );
}

pub fn json_out(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(o), stderr(o)))
}

/// Our built PKCS#11 module: from this test run's target dir, built if needed.
pub fn built_module() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_cps-tool"));
    let profile_dir = exe.parent().unwrap().to_path_buf();
    let candidates = [
        profile_dir.join("libcps_pkcs11.so"),
        profile_dir.join("deps/libcps_pkcs11.so"),
    ];
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return p.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", "cps-pkcs11"])
        .current_dir(ROOT)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p cps-pkcs11 failed");
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .expect("libcps_pkcs11.so after cargo build -p cps-pkcs11")
}

/// The JSON card image at `path` (created by any command with `--image`).
pub fn image(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn set_image(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// The emulated card options: `--emulated GEN --card HOLDER --image IMAGE`.
pub fn card_args<'a>(generation: &'a str, holder: &'a str, image: &'a Path) -> Vec<&'a str> {
    vec![
        "--emulated",
        generation,
        "--card",
        holder,
        "--image",
        image.to_str().unwrap(),
    ]
}

/// Runs `cps-tool` with `env` added to the clean environment.
pub fn run_env(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = cmd(home);
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

/// Runs openssl; a missing openssl fails the test loudly.
pub fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed by this test (apt install openssl): {e}"))
}

/// The emulator counters a command wrote with `--emulated-fault stats=PATH`.
pub fn stats(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no stats in {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// APDUs with this INS (hex, upper case) in `stats`.
pub fn ins_count(stats: &serde_json::Value, ins: &str) -> u64 {
    stats["by_ins"][ins].as_u64().unwrap_or(0)
}

/// VERIFY commands that carried a code (what costs a try).
pub fn verifies_with_code(stats: &serde_json::Value) -> u64 {
    stats["verify_with_data"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0)
}

/// `(pin_tries, puk_tries)` saved in a card image.
pub fn counters(image_path: &Path) -> (u64, u64) {
    let v = image(image_path);
    (
        v["counters"]["pin_tries"].as_u64().unwrap(),
        v["counters"]["puk_tries"].as_u64().unwrap(),
    )
}

/// Asserts the exit code, showing both outputs otherwise.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}
