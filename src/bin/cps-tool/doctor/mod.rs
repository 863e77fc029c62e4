//! `cps-tool doctor` (issue 8 item 1): walks the whole chain, one line per check with ✓/!/✗
//! and, for each problem, the exact fix. Card checks are status queries only: no PIN is asked,
//! no try is used (`pin_status` is an empty VERIFY, CPS3.md §5.3 / CPS4.md §6.2).
//!
//! Checks, in order: PC/SC service (`pcsc.rs`), readers and cards (`card.rs`: recognized,
//! certificates and days left, PIN/PUK tries, TLS 1.3 or 1.2, clock), the PKCS#11 module
//! (`module.rs`: dlopen + C_GetFunctionList in a child process), its registrations (`nss.rs`:
//! Firefox profiles and `~/.pki/nssdb`; `p11kit.rs`; `firefox.rs`: policies and the prefs that
//! matter).

pub mod card;
pub mod firefox;
pub mod module;
pub mod nss;
pub mod p11kit;
pub mod pcsc;

use std::path::{Path, PathBuf};

use cpscard::card::Generation;
use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::{self, JsonArg};
use crate::select::CardArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub out: JsonArg,

    #[arg(long, value_name = "PATH", help = Msg::HelpModule.text())]
    pub module: Option<PathBuf>,

    /// Test hook (hidden): system files (/etc, /usr) are looked for under this directory.
    #[arg(long, value_name = "DIR", hide = true, default_value = "/")]
    pub sysroot: PathBuf,

    /// Test hook (hidden): the doctor's clock, in seconds since 1970 (clock skew, expiry soon).
    #[arg(long, value_name = "UNIX", hide = true)]
    pub now: Option<i64>,
}

/// Result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    /// Stable id (`pcsc.service`, `card.pin`, ...: docs/json-schema.md).
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    pub fix: Option<String>,
    /// Machine-readable facts (reader, days left, tries, paths...).
    pub details: Value,
}

impl Check {
    pub fn new(id: &'static str, status: Status, message: String) -> Check {
        Check {
            id,
            status,
            message,
            fix: None,
            details: json!({}),
        }
    }

    pub fn fix(mut self, fix: String) -> Check {
        self.fix = Some(fix);
        self
    }

    /// The fix when there is one (`None`: a check that passed needs none).
    pub fn fix_from(mut self, fix: Option<Msg>) -> Check {
        self.fix = fix.map(|m| m.text());
        self
    }

    pub fn details(mut self, details: Value) -> Check {
        self.details = details;
        self
    }
}

/// What the checks share: where to look, and what was found so far.
pub struct Context {
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (p11-kit's user configuration is under it when set).
    pub xdg_config_home: Option<PathBuf>,
    pub sysroot: PathBuf,
    pub module: Option<PathBuf>,
    /// Generations of the CPS cards found (for the TLS advice on Firefox prefs).
    pub generations: Vec<Generation>,
    /// The module found (for fixes that name it).
    pub module_found: Option<PathBuf>,
    /// The clock the certificates are compared with (Unix time).
    pub now: i64,
}

impl Context {
    /// Nothing found yet; the clock is the system's.
    pub fn new(home: Option<PathBuf>, sysroot: PathBuf, module: Option<PathBuf>) -> Context {
        Context {
            home,
            xdg_config_home: None,
            sysroot,
            module,
            generations: Vec::new(),
            module_found: None,
            now: output::now_unix(),
        }
    }

    /// A system path under the sysroot.
    pub fn sys(&self, path: &str) -> PathBuf {
        self.sysroot.join(path.trim_start_matches('/'))
    }

    /// The path to put into a fix: the module found, or the usual install path.
    pub fn module_for_fix(&self) -> String {
        match &self.module_found {
            Some(p) => p.display().to_string(),
            None => module::INSTALL_PATH.to_string(),
        }
    }
}

pub fn run(card_args: &CardArgs, args: &Args) -> Result<(), CliError> {
    let mut ctx = Context::new(
        std::env::var_os("HOME").map(PathBuf::from),
        args.sysroot.clone(),
        args.module.clone(),
    );
    ctx.xdg_config_home = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
    if let Some(now) = args.now {
        ctx.now = now;
    }
    let mut checks = Vec::new();
    let live = !args.out.json;
    let mut report = |group: Vec<Check>| {
        for c in group {
            if live {
                print_line(&c);
            }
            checks.push(c);
        }
    };
    report(pcsc::checks(card_args, &mut ctx)?);
    // Ctrl-C during a card read was only noted: the card is released now, stop here
    crate::interrupt::checkpoint()?;
    report(module::checks(&mut ctx));
    report(nss::checks(&ctx));
    report(p11kit::checks(&ctx));
    report(firefox::checks(&ctx));
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (ok, warn, fail) = (count(Status::Ok), count(Status::Warn), count(Status::Fail));
    if args.out.json {
        output::print_json(&to_json(&checks, ok, warn, fail));
    } else {
        println!();
        println!(
            "{}",
            t!(Msg::DoctorTitle, ok = ok, warn = warn, fail = fail)
        );
        if fail == 0 && warn == 0 {
            println!("{}", Msg::DoctorAllGood);
        }
    }
    if fail > 0 {
        Err(CliError::DoctorProblems { ok, warn, fail })
    } else {
        Ok(())
    }
}

fn print_line(c: &Check) {
    println!("{} {}", c.status.symbol(), c.message);
    if let Some(fix) = &c.fix {
        if c.status != Status::Ok {
            println!("    → {fix}");
        }
    }
}

fn to_json(checks: &[Check], ok: usize, warn: usize, fail: usize) -> Value {
    json!({
        "schema": "cps-tool/doctor/1",
        "ok": fail == 0,
        "summary": { "ok": ok, "warn": warn, "fail": fail },
        "checks": checks.iter().map(|c| json!({
            "id": c.id,
            "status": c.status.name(),
            "message": c.message,
            "fix": c.fix,
            "details": c.details,
        })).collect::<Vec<_>>(),
    })
}

/// Reads a text file; `Ok(None)` when absent.
pub fn read_optional(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
