//! `cps-tool bench` (hidden; issue 7 items 3-4): the performance measures of README
//! "Performance", printed next to their targets, against an emulated CPS3 served through
//! pcscd + vpcd (`cps-tool emulate --latency realistic --stats PATH`, tests/e2e/bench.sh):
//!
//! - time to first signature (load the module, find the authentication key, login, sign),
//!   ours against OpenSC's `opensc-pkcs11.so` (and the vendor's module when given), each run in
//!   a fresh process, median of `--runs`;
//! - the APDUs of that sequence, counted by the emulator;
//! - a browser-like polling loop (slot list, token info, every object and its attributes);
//! - the RSS of a process that loaded the module and enumerated;
//! - signatures per second with 1, 2 and 8 threads;
//! - with `--overhead-reader` (a second emulated card, no latency): the per-APDU cost of our
//!   transport + APDU layer over a bare `SCardTransmit`.
//!
//! Nothing here judges time: targets are printed as met or not. The command fails only when a
//! step fails (a module does not load, a signature does not verify, no emulator counts).

mod overhead;
mod p11;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::PcscContext;
use serde_json::Value;

use crate::error::CliError;

/// OpenSC's module on Debian/Ubuntu x86-64.
const OPENSC: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";

/// The emulated card the bench measures.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchCard {
    /// CKM_RSA_PKCS over a SHA-256 DigestInfo with the authentication key (TLS 1.2 client
    /// authentication); ours against OpenSC and the vendor's module.
    Cps3,
    /// CKM_SHA256_RSA_PKCS_PSS with the authentication key (TLS 1.3); ours against the
    /// vendor's module: OpenSC cannot sign with a CPS4.
    Cps4,
}

impl BenchCard {
    /// CKA_ID of CPS_PRIV_AUT (objects.md); on a CPS3 the only key OpenSC signs with.
    fn key_id(self) -> &'static str {
        match self {
            BenchCard::Cps3 => "e828bd080f8025000001ff001002",
            BenchCard::Cps4 => "e828bd080f8025000001ff001020",
        }
    }

    fn name(self) -> &'static str {
        match self {
            BenchCard::Cps3 => "CPS3",
            BenchCard::Cps4 => "CPS4",
        }
    }

    /// The vendor's number for login + one signature with the authentication key from a
    /// fresh process, warm cache (cryptolib-reference.md, measured 2026-11-23; OpenSC 0.23
    /// needed 94 on the CPS3).
    fn vendor_quoted_apdus(self) -> u64 {
        match self {
            BenchCard::Cps3 => 30,
            BenchCard::Cps4 => 14,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    FirstSignature,
    Polling,
    Threads,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Our module (default: libcps_pkcs11.so next to cps-tool).
    #[arg(long, value_name = "PATH")]
    pub module: Option<PathBuf>,
    /// OpenSC's PKCS#11 module.
    #[arg(long, value_name = "PATH", default_value = OPENSC)]
    pub opensc: PathBuf,
    /// The vendor's module (libcps3_pkcs11_lux.so), measured too when given.
    #[arg(long, value_name = "PATH", env = "CPSCARD_VENDOR_MODULE")]
    pub vendor: Option<PathBuf>,
    /// The generation of the emulated card in `--reader`.
    #[arg(long, value_enum, default_value_t = BenchCard::Cps3)]
    pub generation: BenchCard,
    /// Reader of the emulated card (`cps-tool emulate --latency realistic`).
    #[arg(long, value_name = "NAME", default_value = "Virtual PCD 00 00")]
    pub reader: String,
    /// The counters file of that emulator (`cps-tool emulate --stats PATH`); without it, only
    /// the per-APDU overhead is measured.
    #[arg(long, value_name = "PATH")]
    pub stats: Option<PathBuf>,
    /// Runs of the first signature per module (after one warm-up run).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: u32,
    /// Rounds of the polling loop.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub poll_rounds: u32,
    /// Signatures per thread count (shared among the threads).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub signatures: u32,
    /// vpcd slot where the bench serves a CPS3 without latency for the per-APDU overhead
    /// (e.g. 127.0.0.1:35964, slot 1); not measured without it.
    #[arg(long, value_name = "HOST:PORT")]
    pub overhead_vpcd: Option<String>,
    /// The reader of that slot.
    #[arg(long, value_name = "NAME", default_value = "Virtual PCD 00 01")]
    pub overhead_reader: String,
    /// APDUs per side in the overhead measure.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub overhead_apdus: u32,
    /// Print the measures as one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// PIN of the emulated card.
    #[arg(long, env = "CPS_PIN", default_value = "1234", hide_env_values = true)]
    pub pin: String,
    /// Internal: run one measure in this (child) process and print its JSON.
    #[arg(long, value_enum, hide = true)]
    pub child: Option<Child>,
}

fn failed(step: &str, detail: impl std::fmt::Display) -> CliError {
    CliError::Other(t!(Msg::BenchStepFailed, step = step, detail = detail))
}

/// Runs one child measure of `module` and returns its JSON.
fn child(args: &Args, which: &str, module: &Path, cache: &Path) -> Result<Value, CliError> {
    let exe = std::env::current_exe().map_err(|e| failed(which, e))?;
    let mut c = Process::new(exe);
    c.arg("bench")
        .arg("--child")
        .arg(which)
        .arg("--module")
        .arg(module)
        .arg("--reader")
        .arg(&args.reader)
        .arg("--generation")
        .arg(format!("{:?}", args.generation).to_lowercase())
        .arg("--stats")
        .arg(args.stats.as_deref().unwrap_or(Path::new("")))
        .arg("--poll-rounds")
        .arg(args.poll_rounds.to_string())
        .arg("--signatures")
        .arg(args.signatures.to_string())
        .env("CPS_PIN", &args.pin)
        // our module's persistent cache: the bench's own, cold at the first run
        .env("CPSCARD_CACHE_DIR", cache)
        .env_remove("CPSCARD_EMULATED");
    let out = c.output().map_err(|e| failed(which, e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(failed(&format!("{which} {}", module.display()), err.trim()));
    }
    serde_json::from_str(text.trim()).map_err(|e| failed(which, e))
}

/// The child side: one measure, its JSON on stdout.
fn run_child(args: &Args, which: Child) -> Result<(), CliError> {
    let module = args.module.clone().unwrap_or_default();
    let key_id = hex::decode(args.generation.key_id()).unwrap_or_default();
    let target = p11::Target {
        module: &module,
        reader: &args.reader,
        key_id: &key_id,
        pss: args.generation == BenchCard::Cps4,
        pin: &args.pin,
        stats: args.stats.as_deref().unwrap_or(Path::new("")),
    };
    let r = match which {
        Child::FirstSignature => p11::first_signature(&target),
        Child::Polling => p11::polling(&target, args.poll_rounds.max(2)),
        Child::Threads => p11::threads(&target, &[1, 2, 8], args.signatures.max(1)),
    };
    let doc = r.map_err(|e| failed(&format!("{which:?}"), e))?;
    println!("{doc}");
    Ok(())
}

fn median_f(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// First-signature runs of one module: the warm-up (ours: cold cache) and the others.
struct FirstSig {
    cold_ms: f64,
    cold_apdus: u64,
    ms: Vec<f64>,
    apdus: Vec<u64>,
    rss_kib: u64,
}

impl FirstSig {
    fn median_ms(&self) -> f64 {
        median_f(self.ms.clone())
    }
    fn median_apdus(&self) -> u64 {
        let mut a = self.apdus.clone();
        a.sort();
        a.get(a.len() / 2).copied().unwrap_or(self.cold_apdus)
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// A card reset between two measured processes (not an APDU: the counts do not see it), so that
/// every module starts from a card as inserted: a module that leaves the PIN verified on the
/// card (OpenSC's and the vendor's `C_Logout` do not reset it) does not change the next run.
fn reset_card(reader: &str) -> Result<(), CliError> {
    PcscContext::establish()
        .and_then(|c| c.connect(reader))
        .and_then(|t| t.disconnect(true))
        .map_err(|e| failed("reset", e))
}

fn first_signatures(
    args: &Args,
    modules: &[&Path],
    cache: &Path,
) -> Result<Vec<FirstSig>, CliError> {
    let mut out: Vec<FirstSig> = Vec::new();
    // run 0 is the warm-up; modules alternate so that a drift of the machine hits all
    for run in 0..=args.runs {
        for (i, m) in modules.iter().enumerate() {
            reset_card(&args.reader)?;
            let v = child(args, "first-signature", m, cache)?;
            let (ms, apdus) = (num(&v, "ms"), v["apdus"].as_u64().unwrap_or(0));
            if run == 0 {
                out.push(FirstSig {
                    cold_ms: ms,
                    cold_apdus: apdus,
                    ms: Vec::new(),
                    apdus: Vec::new(),
                    rss_kib: v["rss_kib"].as_u64().unwrap_or(0),
                });
            } else {
                out[i].ms.push(ms);
                out[i].apdus.push(apdus);
            }
        }
    }
    Ok(out)
}

/// "yes"/"no" in the current language.
fn met(ok: bool) -> String {
    if ok {
        Msg::BenchMet.text()
    } else {
        Msg::BenchNotMet.text()
    }
}

fn row(measure: &str, values: &str, target: Msg, verdict: &str) {
    println!("| {measure} | {values} | {} | {verdict} |", target.text());
}

/// Whether `ours` needed no more APDUs than `other` in each part of the polling loop.
fn fewer_apdus(ours: &Value, other: &Value) -> bool {
    ["first_apdus", "rest_apdus"]
        .iter()
        .all(|k| match (ours[k].as_u64(), other[k].as_u64()) {
            (Some(a), Some(b)) => a <= b,
            _ => false,
        })
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

pub fn run(args: &Args) -> Result<(), CliError> {
    if let Some(which) = args.child {
        return run_child(args, which);
    }
    let ours = match &args.module {
        Some(m) => m.clone(),
        None => std::env::current_exe()
            .map_err(|e| failed("module", e))?
            .with_file_name("libcps_pkcs11.so"),
    };
    for m in [Some(&ours), opensc(args), args.vendor.as_ref()]
        .into_iter()
        .flatten()
    {
        if !m.is_file() {
            return Err(failed("module", m.display()));
        }
    }
    match &args.stats {
        Some(stats) => {
            p11::apdus(stats).map_err(|e| failed("stats", e))?;
        }
        None if args.overhead_vpcd.is_none() => {
            return Err(CliError::Usage(Msg::BenchNothing.text()));
        }
        None => {}
    }
    let cache = std::env::temp_dir()
        .join(["cps-tool-bench-cache", &std::process::id().to_string()].join("-"));
    let _ = std::fs::remove_dir_all(&cache);
    let result = measure(args, &ours, &cache);
    let _ = std::fs::remove_dir_all(&cache);
    result
}

/// OpenSC's module, when it can sign with the card measured.
fn opensc(args: &Args) -> Option<&PathBuf> {
    (args.generation == BenchCard::Cps3).then_some(&args.opensc)
}

/// One measure of each module: ours, OpenSC's (CPS3 only), the vendor's (when given).
struct PerModule<T> {
    ours: T,
    opensc: Option<T>,
    vendor: Option<T>,
}

impl<T> PerModule<T> {
    /// `f` on ours, OpenSC's and the vendor's module, in that order.
    fn measure(
        args: &Args,
        ours: &Path,
        mut f: impl FnMut(&Path) -> Result<T, CliError>,
    ) -> Result<PerModule<T>, CliError> {
        Ok(PerModule {
            ours: f(ours)?,
            opensc: opensc(args).map(|m| f(m)).transpose()?,
            vendor: args.vendor.as_deref().map(&mut f).transpose()?,
        })
    }

    /// The others' measures, present ones only.
    fn others(&self) -> impl Iterator<Item = &T> {
        self.opensc.iter().chain(self.vendor.iter())
    }
}

/// The PKCS#11 measures (with `--stats`).
struct ModuleMeasures {
    first: PerModule<FirstSig>,
    polling: PerModule<Value>,
    threads: Value,
}

fn module_measures(args: &Args, ours: &Path, cache: &Path) -> Result<ModuleMeasures, CliError> {
    let mut modules: Vec<&Path> = vec![ours];
    modules.extend(opensc(args).map(PathBuf::as_path));
    modules.extend(args.vendor.as_deref());
    eprintln!(
        "cps-tool: {}",
        t!(Msg::BenchFirstSignature, runs = args.runs)
    );
    let mut firsts = first_signatures(args, &modules, cache)?.into_iter();
    let mut next = |_: &Path| firsts.next().ok_or_else(|| failed("first-signature", "?"));
    let first = PerModule::measure(args, ours, &mut next)?;
    eprintln!(
        "cps-tool: {}",
        t!(Msg::BenchPolling, rounds = args.poll_rounds)
    );
    let polling = PerModule::measure(args, ours, |m| {
        reset_card(&args.reader)?;
        child(args, "polling", m, cache)
    })?;
    reset_card(&args.reader)?;
    eprintln!(
        "cps-tool: {}",
        t!(Msg::BenchThreads, signatures = args.signatures)
    );
    let threads = child(args, "threads", ours, cache)?;
    Ok(ModuleMeasures {
        first,
        polling,
        threads,
    })
}

fn measure(args: &Args, ours: &Path, cache: &Path) -> Result<(), CliError> {
    let modules = match args.stats {
        Some(_) => Some(module_measures(args, ours, cache)?),
        None => None,
    };
    let overhead = match &args.overhead_vpcd {
        Some(addr) => {
            let r = &args.overhead_reader;
            eprintln!("cps-tool: {}", t!(Msg::BenchOverhead, reader = r));
            let v = overhead::with_card(addr, r, || overhead::run(r, args.overhead_apdus))
                .map_err(|e| failed("overhead", e))?;
            Some(v)
        }
        None => None,
    };
    let thread_rows: Vec<&Value> = modules
        .as_ref()
        .and_then(|m| m.threads.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let errors: u64 = thread_rows
        .iter()
        .map(|t| t["errors"].as_u64().unwrap_or(1))
        .sum();

    if args.json {
        let fs = |f: &FirstSig| {
            serde_json::json!({
                "cold_ms": f.cold_ms, "cold_apdus": f.cold_apdus, "median_ms": f.median_ms(),
                "runs_ms": f.ms, "apdus": f.median_apdus(), "rss_kib": f.rss_kib,
            })
        };
        let m = modules.as_ref();
        crate::output::print_json(&serde_json::json!({
            "schema": "cps-tool/bench/1",
            "card": args.generation.name(),
            "first_signature": m.map(|m| serde_json::json!({
                "ours": fs(&m.first.ours),
                "opensc": m.first.opensc.as_ref().map(fs),
                "vendor": m.first.vendor.as_ref().map(fs),
            })),
            "polling": m.map(|m| serde_json::json!({
                "ours": m.polling.ours, "opensc": m.polling.opensc, "vendor": m.polling.vendor,
            })),
            "threads": m.map(|m| &m.threads),
            "overhead": overhead,
        }));
    } else {
        println!(
            "{}",
            t!(
                Msg::BenchTitle,
                card = args.generation.name(),
                reader = args.reader,
                runs = args.runs
            )
        );
        println!();
        println!("{}", Msg::BenchHeader.text());
        println!("|---|---|---|---|");
        if let Some(m) = &modules {
            print_modules(args, m, &thread_rows);
        }
        if let Some(ov) = &overhead {
            print_overhead(ov);
        }
    }
    if errors > 0 {
        let detail = thread_rows
            .iter()
            .find_map(|t| t["error"].as_str())
            .unwrap_or("?");
        return Err(failed("threads", detail));
    }
    Ok(())
}

fn print_overhead(ov: &Value) {
    let r = num(ov, "ratio");
    row(
        &Msg::BenchRowOverhead.text(),
        &t!(
            Msg::BenchOverheadCell,
            ours = format!("{:.1}", num(ov, "ours_us")),
            raw = format!("{:.1}", num(ov, "raw_us")),
            ratio = format!("{r:.3}"),
            transport = format!("{:.1}", num(ov, "transport_us")),
            ours_median = format!("{:.1}", num(ov, "ours_median_us")),
            raw_median = format!("{:.1}", num(ov, "raw_median_us"))
        ),
        Msg::BenchTargetOverhead,
        &met(r <= 1.05),
    );
}

/// "ours / OpenSC / vendor" with `sep`: each module's value, "—" for one not measured.
fn cells<T>(m: &PerModule<T>, sep: &str, f: impl Fn(&T) -> String) -> String {
    let dash = || String::from("—");
    [
        f(&m.ours),
        m.opensc.as_ref().map_or_else(dash, &f),
        m.vendor.as_ref().map_or_else(dash, &f),
    ]
    .join(sep)
}

fn print_modules(args: &Args, m: &ModuleMeasures, threads: &[&Value]) {
    let (first, polling) = (&m.first, &m.polling);
    let o = &first.ours;
    // against OpenSC when it signs with this card, else against the vendor's module
    let (ratio, target) = match (&first.opensc, &first.vendor) {
        (Some(s), _) => (o.median_ms() / s.median_ms(), Msg::BenchTargetHalf),
        (None, Some(v)) => (o.median_ms() / v.median_ms(), Msg::BenchTargetNone),
        (None, None) => (f64::NAN, Msg::BenchTargetNone),
    };
    row(
        &Msg::BenchRowFirstSig.text(),
        &format!(
            "{} ({ratio:.2}×)",
            cells(first, " / ", |f| format!("{:.0}", f.median_ms()))
        ),
        target,
        &if first.opensc.is_some() {
            met(ratio <= 0.5)
        } else {
            String::new()
        },
    );
    row(
        &Msg::BenchRowFirstSigCold.text(),
        &cells(first, " / ", |f| format!("{:.0}", f.cold_ms)),
        Msg::BenchTargetNone,
        "",
    );
    let quoted = args.generation.vendor_quoted_apdus();
    let vendor_apdus = match &first.vendor {
        Some(v) => t!(
            Msg::BenchVendorMeasured,
            measured = v.median_apdus(),
            quoted = quoted
        ),
        None => t!(Msg::BenchVendorQuoted, quoted = quoted),
    };
    row(
        &Msg::BenchRowApdus.text(),
        &t!(
            Msg::BenchApduCell,
            ours = o.median_apdus(),
            cold = o.cold_apdus,
            opensc = first
                .opensc
                .as_ref()
                .map_or(String::from("—"), |s| s.median_apdus().to_string()),
            vendor = vendor_apdus
        ),
        Msg::BenchTargetFewer,
        &met(o.median_apdus()
            < first
                .opensc
                .iter()
                .map(FirstSig::median_apdus)
                .chain([first.vendor.as_ref().map_or(quoted, FirstSig::median_apdus)])
                .min()
                .unwrap_or(quoted)),
    );
    let poll = |v: &Value| {
        t!(
            Msg::BenchPollCell,
            first_ms = format!("{:.0}", num(v, "first_ms")),
            first_apdus = v["first_apdus"],
            rest_ms = format!("{:.1}", num(v, "rest_ms")),
            rest_apdus = v["rest_apdus"]
        )
    };
    row(
        &t!(
            Msg::BenchRowPolling,
            rest = args.poll_rounds.saturating_sub(1)
        ),
        &cells(polling, " ‖ ", poll),
        Msg::BenchTargetZero,
        &met(polling.ours["rest_apdus"].as_u64() == Some(0)
            && polling
                .others()
                .all(|other| fewer_apdus(&polling.ours, other))),
    );
    let rss = |v: &Value| mib(v["rss_kib"].as_u64().unwrap_or(0));
    row(
        &Msg::BenchRowRss.text(),
        &format!(
            "{} ({} → {})",
            cells(polling, " / ", rss),
            mib(polling.ours["rss_base_kib"].as_u64().unwrap_or(0)),
            mib(polling.ours["rss_end_kib"].as_u64().unwrap_or(0)),
        ),
        Msg::BenchTargetNone,
        "",
    );
    let rate = |n: u64| {
        threads
            .iter()
            .find(|t| t["threads"].as_u64() == Some(n))
            .map_or(f64::NAN, |t| num(t, "per_sec"))
    };
    let errors: u64 = threads
        .iter()
        .map(|t| t["errors"].as_u64().unwrap_or(1))
        .sum();
    row(
        &Msg::BenchRowThreads.text(),
        &t!(
            Msg::BenchThreadsCell,
            one = format!("{:.2}", rate(1)),
            two = format!("{:.2}", rate(2)),
            eight = format!("{:.2}", rate(8)),
            ratio = format!("{:.2}", rate(8) / rate(1)),
            errors = errors
        ),
        Msg::BenchTargetThreads,
        &met(rate(8) >= 0.9 * rate(1) && errors == 0),
    );
}
