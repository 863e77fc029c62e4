//! Shared by the `tests/cli/` tests: run the built `cps-tool` (never reaching a real pcscd
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
    .env_remove("CPSCARD_MODULE")
    // the user's p11-kit configuration is under it when set: HOME's only in tests
    .env_remove("XDG_CONFIG_HOME");
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

/// The errors of `doc` against `docs/schema/<name>.json` (none: valid).
pub fn schema_errors(name: &str, doc: &serde_json::Value) -> Vec<String> {
    let path = Path::new(ROOT)
        .join("docs/schema")
        .join(format!("{name}.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// Validates `doc` against `docs/schema/<name>.json`; panics with every error.
pub fn assert_schema(name: &str, doc: &serde_json::Value) {
    let errors = schema_errors(name, doc);
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

/// Asserts that `text` is in the command's stderr.
#[track_caller]
pub fn assert_stderr_has(o: &Output, text: &str) {
    let err = stderr(o);
    assert!(err.contains(text), "{text:?} not in stderr:\n{err}");
}

/// Asserts that `text` is in the command's stdout.
#[track_caller]
pub fn assert_stdout_has(o: &Output, text: &str) {
    let out = stdout(o);
    assert!(out.contains(text), "{text:?} not in stdout:\n{out}");
}

/// Asserts that the card did nothing a PIN or a key guards: no VERIFY with a code, no RSA
/// operation (emulator counters of `--emulated-fault stats=PATH`).
#[track_caller]
pub fn assert_nothing_used(stats: &serde_json::Value, what: &str) {
    assert_eq!(verifies_with_code(stats), 0, "{what}: {stats}");
    assert_eq!(stats["rsa_ops"], 0, "{what}: {stats}");
}

/// One emulated card with its image (so that its counters persist), in its own directory.
/// `env` is added to every command (e.g. the card's `CPS_PIN`).
pub struct EmuCard {
    pub home: TempDir,
    pub generation: &'static str,
    pub holder: &'static str,
    env: Vec<(String, String)>,
}

impl EmuCard {
    pub fn new(tag: &str, generation: &'static str, holder: &'static str) -> EmuCard {
        EmuCard {
            home: TempDir::new(&format!("{tag}-{generation}-{holder}")),
            generation,
            holder,
            env: Vec::new(),
        }
    }

    /// Every command gets `key=value`.
    pub fn with_env(mut self, key: &str, value: &str) -> EmuCard {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn image(&self) -> PathBuf {
        self.home.join("card.json")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// `cps-tool --emulated GEN --card HOLDER --image IMG ARGS`, with `env` added.
    pub fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let img = self.image();
        let mut all = card_args(self.generation, self.holder, &img);
        all.extend_from_slice(args);
        let mut c = cmd(self.home.path());
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.envs(env.iter().copied());
        c.args(&all).output().unwrap()
    }

    /// The same, with the emulator's counters.
    pub fn run_counted(&self, env: &[(&str, &str)], args: &[&str]) -> (Output, serde_json::Value) {
        let path = self.path("stats.json");
        let _ = std::fs::remove_file(&path);
        let spec = format!("stats={}", path.display());
        let mut all = vec!["--emulated-fault", spec.as_str()];
        all.extend_from_slice(args);
        let o = self.run(env, &all);
        (o, stats(&path))
    }

    /// Runs ARGS, which must succeed; its stdout.
    #[track_caller]
    pub fn out(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let o = self.run(env, args);
        assert_code(&o, 0);
        stdout(&o)
    }

    /// Runs `ARGS --json`, which must succeed; the document, valid against
    /// `docs/schema/<schema>.json`.
    #[track_caller]
    pub fn json(&self, env: &[(&str, &str)], args: &[&str], schema: &str) -> serde_json::Value {
        let o = self.run(env, &[args, &["--json"]].concat());
        assert_code(&o, 0);
        let doc = json_out(&o);
        assert_schema(schema, &doc);
        doc
    }

    /// Runs the steps in order, each checked as it says.
    pub fn play(&self, steps: &[Step]) {
        for (i, s) in steps.iter().enumerate() {
            let what = format!("step {i} {:?} {:?}", s.env, s.args);
            let (o, stats) = self.run_counted(s.env, s.args);
            assert_eq!(
                o.status.code(),
                Some(s.code),
                "{what}\nstdout: {}\nstderr: {}",
                stdout(&o),
                stderr(&o)
            );
            for text in &s.out {
                assert!(
                    stdout(&o).contains(text),
                    "{what}: {text:?} not in {}",
                    stdout(&o)
                );
            }
            for text in &s.err {
                assert!(
                    stderr(&o).contains(text),
                    "{what}: {text:?} not in {}",
                    stderr(&o)
                );
            }
            for text in &s.err_not {
                assert!(
                    !stderr(&o).contains(text),
                    "{what}: {text:?} in {}",
                    stderr(&o)
                );
            }
            if s.sends_nothing {
                assert_eq!(stats["apdus"], 0, "{what}: {stats}");
            }
            if s.pin.is_some() || s.puk.is_some() {
                let (pin, puk) = counters(&self.image());
                assert_eq!(s.pin.unwrap_or(pin), pin, "{what}: PIN tries");
                assert_eq!(s.puk.unwrap_or(puk), puk, "{what}: PUK tries");
            }
        }
    }
}

/// One command of a scenario ([`EmuCard::play`]): its environment and arguments, the exit code,
/// texts its stdout/stderr must (or must not) contain, the tries left after it.
#[derive(Debug, Default)]
pub struct Step<'a> {
    pub env: &'a [(&'a str, &'a str)],
    pub args: &'a [&'a str],
    pub code: i32,
    pub out: Vec<&'a str>,
    pub err: Vec<&'a str>,
    pub err_not: Vec<&'a str>,
    pub sends_nothing: bool,
    pub pin: Option<u64>,
    pub puk: Option<u64>,
}

pub fn step<'a>(env: &'a [(&'a str, &'a str)], args: &'a [&'a str], code: i32) -> Step<'a> {
    Step {
        env,
        args,
        code,
        ..Step::default()
    }
}

impl<'a> Step<'a> {
    pub fn out(mut self, text: &'a str) -> Self {
        self.out.push(text);
        self
    }
    pub fn err(mut self, text: &'a str) -> Self {
        self.err.push(text);
        self
    }
    pub fn err_not(mut self, text: &'a str) -> Self {
        self.err_not.push(text);
        self
    }
    /// No APDU at all reached the card.
    pub fn sends_nothing(mut self) -> Self {
        self.sends_nothing = true;
        self
    }
    pub fn pin(mut self, tries: u64) -> Self {
        self.pin = Some(tries);
        self
    }
    pub fn puk(mut self, tries: u64) -> Self {
        self.puk = Some(tries);
        self
    }
}

/// One test per fixture card (both generations, every holder) running `$check(generation,
/// holder)`: the names say which card failed.
#[allow(unused_macros)]
macro_rules! per_fixture_card {
    ($check:path) => {
        #[test]
        fn cps3_cps() {
            $check("cps3", "cps")
        }
        #[test]
        fn cps3_cpf() {
            $check("cps3", "cpf")
        }
        #[test]
        fn cps3_cpe() {
            $check("cps3", "cpe")
        }
        #[test]
        fn cps3_cpa() {
            $check("cps3", "cpa")
        }
        #[test]
        fn cps3_cde() {
            $check("cps3", "cde")
        }
        #[test]
        fn cps4_cps() {
            $check("cps4", "cps")
        }
        #[test]
        fn cps4_cpf() {
            $check("cps4", "cpf")
        }
        #[test]
        fn cps4_cpe() {
            $check("cps4", "cpe")
        }
        #[test]
        fn cps4_cpa() {
            $check("cps4", "cpa")
        }
        #[test]
        fn cps4_cde() {
            $check("cps4", "cde")
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_fixture_card;
