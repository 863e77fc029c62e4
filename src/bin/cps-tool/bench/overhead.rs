//! Per-APDU cost of our stack (the PC/SC transport and the APDU layer: command encoding, T=0
//! rules, response parsing, traces) against one bare `SCardTransmit` through the `pcsc`
//! crate, on the same card with the same APDU, one APDU of each side in turn (each side on its
//! own connection, the order rotating); the 10th percentile of each side (medians also given). The card is a second
//! emulated CPS3 without latency that the bench itself serves to vpcd for this measure only
//! (the modules measured before never see it).

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpscard::apdu::{self, Command, ExchangeRules};
use cpscard::emulator::vpcd::{self, VpcdOptions};
use cpscard::emulator::{EmulatedCard, Generation};
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::{CardPresence, PcscContext};
use serde_json::{json, Value};

use super::p11::{median, StepResult};

/// SELECT of the CPS application by its AID (CPS3.md): no answer data, `90 00`.
fn command() -> Command {
    Command::new(0x00, 0xA4, 0x04, 0x0C)
        .with_data(hex::decode("E828BD080F8025000001FF0010").unwrap_or_default())
}

/// The 10th percentile: what an APDU costs when the machine's other load does not hold it up
/// (medians swing by tens of percent on a busy machine, the low percentiles of the sides track
/// each other).
fn low(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 10).copied().unwrap_or_default()
}

/// Serves a built-in CPS3 without latency to vpcd at `vpcd` for as long as `f` runs, and waits
/// for it in `reader` first (the card leaves when the connection closes).
pub fn with_card<T>(vpcd: &str, reader: &str, f: impl FnOnce() -> StepResult<T>) -> StepResult<T> {
    let mut card = EmulatedCard::builtin(Generation::Cps3, "cps").map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = VpcdOptions {
        addr: vpcd.to_owned(),
        ..VpcdOptions::default()
    };
    let server = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || vpcd::serve(&mut card, &opts, &stop).map_err(|e| e.to_string()))
    };
    let ctx = PcscContext::establish().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let present = || {
        ctx.readers().is_ok_and(|rs| {
            rs.iter()
                .any(|r| r.name == reader && r.card == CardPresence::Present)
        })
    };
    while !present() && Instant::now() < deadline && !server.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
    }
    // a card pcscd still shows from an earlier connection may not answer yet: probe first
    let probe = || -> StepResult<()> {
        let mut t = PcscContext::establish()
            .and_then(|c| c.connect(reader))
            .map_err(|e| e.to_string())?;
        apdu::transceive(&mut t, &command(), &ExchangeRules::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut ready = present() && probe().is_ok();
    while !ready && Instant::now() < deadline && !server.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        ready = present() && probe().is_ok();
    }
    let result = if ready {
        f()
    } else {
        Err(t!(Msg::BenchErrNoToken, reader = reader, slots = 0))
    };
    stop.store(true, Ordering::SeqCst);
    match server.join() {
        Ok(Ok(())) => result,
        Ok(Err(e)) => result.and(Err(e)),
        Err(_) => result.and(Err(Msg::BenchErrPanic.text())),
    }
}

pub fn run(reader: &str, apdus: u32) -> StepResult<Value> {
    let cmd = command();
    let bytes = cmd.to_bytes().map_err(|e| e.to_string())?;

    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(|e| e.to_string())?;
    let name = CString::new(reader).map_err(|e| e.to_string())?;
    let raw = ctx
        .connect(
            &name,
            pcsc::ShareMode::Shared,
            pcsc::Protocols::T0 | pcsc::Protocols::T1,
        )
        .map_err(|e| e.to_string())?;
    let ours_ctx = PcscContext::establish().map_err(|e| e.to_string())?;
    // one connection per side: each APDU then follows one on another connection, as the
    // raw one does (pcscd hands the card over between them)
    let mut ours = ours_ctx.connect(reader).map_err(|e| e.to_string())?;
    let mut transport = ours_ctx.connect(reader).map_err(|e| e.to_string())?;
    let rules = ExchangeRules::default();

    // a client's usual buffer (pcsc::MAX_BUFFER_SIZE, 264 bytes: a short answer fits)
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE];
    let raw_once = |buf: &mut [u8]| -> StepResult<()> {
        let answer = raw.transmit(&bytes, buf).map_err(|e| e.to_string())?;
        match answer {
            [.., 0x90, 0x00] => Ok(()),
            other => Err(t!(
                Msg::BenchErrAnswer,
                side = "SCardTransmit",
                answer = hex::encode_upper(other)
            )),
        }
    };
    // 0: raw, 1: our transport alone, 2: transport + APDU layer (what the drivers use)
    let mut once = |variant: usize| -> StepResult<()> {
        match variant {
            0 => raw_once(&mut buf),
            1 => cpscard::transport::Transmit::transmit(&mut transport, &bytes)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            _ => {
                let r = apdu::transceive(&mut ours, &cmd, &rules).map_err(|e| e.to_string())?;
                if r.is_success() {
                    Ok(())
                } else {
                    Err(t!(
                        Msg::BenchErrAnswer,
                        side = "cpscard",
                        answer = format!("{:04X}", u16::from(r.sw))
                    ))
                }
            }
        }
    };
    // warm-up: connections, caches, the card's current file
    for _ in 0..50 {
        for v in 0..3 {
            once(v)?;
        }
    }
    // one APDU of each in turn, each timed: the load of the machine hits all sides alike, and
    // the median drops the APDUs that waited for a CPU
    let mut times: [Vec<Duration>; 3] = Default::default();
    for k in 0..apdus.max(1) as usize {
        // the order turns: no side always comes first, or after the same other side
        for i in 0..3 {
            let v = (k + i) % 3;
            let start = Instant::now();
            once(v)?;
            times[v].push(start.elapsed());
        }
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let [r, tr, o] = times.clone().map(|mut t| us(low(&mut t)));
    let [rm, trm, om] = times.map(|mut t| us(median(&mut t)));
    Ok(json!({
        "apdus": apdus.max(1),
        "raw_us": r,
        "transport_us": tr,
        "ours_us": o,
        "ratio": o / r.max(f64::MIN_POSITIVE),
        "raw_median_us": rm,
        "transport_median_us": trm,
        "ours_median_us": om,
    }))
}
