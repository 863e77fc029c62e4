//! Memory over many signatures (issue 6 item 6): the built module signs 10 000 times through its
//! C ABI on the emulated CPS4 (no latency), and the process's resident set (VmRSS of
//! /proc/self/status) is read after 100, 1 000 and 10 000 signatures. A measurement that prints
//! its numbers; the only assertion is a generous bound on the growth between 1 000 and 10 000
//! signatures (a leak of even 400 bytes per signature would pass 4 MB there).
//!
//! VmRSS is the whole process's: the test shares its binary with the others, and measures alone
//! because every test of the binary holds `common::lock` from start to end (see `common`).

use std::time::Instant;

use cryptoki_sys::*;

use super::misuse::Runner;
use crate::common::{serial, EmulatedCard, Module};

const SIGNATURES: usize = 10_000;
const MARKS: [usize; 3] = [100, 1_000, 10_000];
/// Growth allowed between the 1 000th and the 10 000th signature.
const MAX_GROWTH_KB: u64 = 4 * 1024;

/// VmRSS of this process, in kB.
fn vm_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn rss_over_10000_signatures() {
    let m = Module::load();
    let _g = serial(&m);
    let _card = EmulatedCard::new("cps4", "rss");
    let x = Runner::new(m.f, "cps4", None).prepare();
    let start_kb = vm_rss_kb();
    let t0 = Instant::now();
    let mut marks = Vec::new();
    let mut last = Vec::new();
    for i in 1..=SIGNATURES {
        x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
        let (r, _, sig) = x.sign(Some(256));
        x.ok(r, "C_Sign");
        last = sig;
        if MARKS.contains(&i) {
            marks.push((i, vm_rss_kb(), t0.elapsed()));
        }
    }
    x.ok(
        x.verify(CKM_SHA256_RSA_PKCS, x.aut_pub, b"misuse matrix", &last),
        "the last signature verifies",
    );
    println!("RSS over {SIGNATURES} signatures (built module, emulated CPS4, SHA256-RSA-PKCS, authentication key):");
    println!("  before the first: {start_kb} kB");
    for (i, kb, t) in &marks {
        println!("  after {i:>6}: {kb} kB ({:.1} s)", t.as_secs_f64());
    }
    let at = |n: usize| marks.iter().find(|(i, _, _)| *i == n).unwrap().1;
    let growth = at(10_000).saturating_sub(at(1_000));
    println!("  growth 1 000 -> 10 000: {growth} kB");
    assert!(
        growth < MAX_GROWTH_KB,
        "VmRSS grew {growth} kB between 1 000 and 10 000 signatures"
    );
    assert_eq!(m.finalize(), CKR_OK);
}
