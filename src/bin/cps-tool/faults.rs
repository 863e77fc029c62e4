//! `--emulated-fault SPEC` (hidden, for tests): the emulator's fault injection from the command
//! line, so that the binary itself is tested against removal, resets, status words, corrupted
//! signatures, a late insertion and a foreign (non-CPS) ATR.
//!
//! SPEC: `remove-after=N`, `reset-after=N` (APDUs), `status-at=N:SW`, `status-for-ins=INS:SW`
//! (hex), `corrupt-signature`, `pin-per-signature`, `latency=none|realistic`,
//! `insert-after=MS` (the card is out, then inserted), `atr=HEX` (the reader shows this ATR),
//! `pinpad=DIGITS[,DIGITS...]` (the reader has a pinpad on which the user types these codes,
//! one per prompt), and `stats=PATH`: no fault, the card's counters (APDUs, VERIFYs carrying a code, RSA
//! operations) written as JSON to PATH when the command ends, so that a test can check that a
//! refused input sent nothing.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpscard::emulator::{EmulatedCard, EmulatedReader, Latency};
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::{PinpadCaps, Protocol, Transmit, Transport, TransportError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultSpec {
    RemoveAfter(u32),
    ResetAfter(u32),
    StatusAt(u32, u16),
    StatusForIns(u8, u16),
    CorruptSignature,
    PinPerSignature,
    Latency(bool),
    InsertAfter(Duration),
    Atr(Vec<u8>),
    Stats(PathBuf),
    Pinpad(Vec<String>),
}

fn bad(spec: &str, detail: &str) -> String {
    t!(Msg::ErrFaultSpec, spec = spec, detail = detail)
}

impl FromStr for FaultSpec {
    type Err = String;
    fn from_str(spec: &str) -> Result<Self, String> {
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (spec, None),
        };
        let num = |v: Option<&str>| -> Result<u32, String> {
            v.and_then(|v| v.parse().ok()).ok_or_else(|| bad(spec, "N"))
        };
        let hex_u16 = |v: &str| u16::from_str_radix(v, 16).map_err(|e| bad(spec, &e.to_string()));
        Ok(match name {
            "remove-after" => FaultSpec::RemoveAfter(num(value)?),
            "reset-after" => FaultSpec::ResetAfter(num(value)?),
            "insert-after" => FaultSpec::InsertAfter(Duration::from_millis(num(value)?.into())),
            "status-at" => {
                let (n, sw) = value
                    .and_then(|v| v.split_once(':'))
                    .ok_or_else(|| bad(spec, "N:SW"))?;
                FaultSpec::StatusAt(num(Some(n))?, hex_u16(sw)?)
            }
            "status-for-ins" => {
                let (ins, sw) = value
                    .and_then(|v| v.split_once(':'))
                    .ok_or_else(|| bad(spec, "INS:SW"))?;
                let ins = u8::from_str_radix(ins, 16).map_err(|e| bad(spec, &e.to_string()))?;
                FaultSpec::StatusForIns(ins, hex_u16(sw)?)
            }
            "corrupt-signature" => FaultSpec::CorruptSignature,
            "pin-per-signature" => FaultSpec::PinPerSignature,
            "latency" => match value {
                Some("realistic") => FaultSpec::Latency(true),
                Some("none") => FaultSpec::Latency(false),
                _ => return Err(bad(spec, "none|realistic")),
            },
            "atr" => FaultSpec::Atr(
                hex::decode(value.unwrap_or_default()).map_err(|e| bad(spec, &e.to_string()))?,
            ),
            "stats" => FaultSpec::Stats(PathBuf::from(value.unwrap_or_default())),
            "pinpad" => FaultSpec::Pinpad(
                value
                    .unwrap_or_default()
                    .split(',')
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => return Err(bad(spec, "?")),
        })
    }
}

impl FaultSpec {
    /// Sets the fault on `card`; the ATR and the late insertion are the reader's business.
    pub fn apply(
        &self,
        card: &mut EmulatedCard,
        atr: &mut Option<Vec<u8>>,
        insert_after: &mut Option<Duration>,
    ) {
        let f = card.faults_mut();
        match self {
            FaultSpec::RemoveAfter(n) => f.remove_after = Some(*n),
            FaultSpec::ResetAfter(n) => f.reset_after = Some(*n),
            FaultSpec::StatusAt(n, sw) => f.status_at = Some((*n, *sw)),
            FaultSpec::StatusForIns(ins, sw) => f.status_for_ins = Some((*ins, *sw)),
            FaultSpec::CorruptSignature => f.corrupt_next_signature = true,
            FaultSpec::PinPerSignature => f.pin_per_signature = true,
            FaultSpec::Latency(on) => card.set_latency(if *on {
                Latency::Realistic
            } else {
                Latency::None
            }),
            FaultSpec::InsertAfter(d) => *insert_after = Some(*d),
            FaultSpec::Atr(a) => *atr = Some(a.clone()),
            FaultSpec::Stats(_) | FaultSpec::Pinpad(_) => {}
        }
    }
}

/// `cps-tool emulate --fault SPEC` (hidden): the faults the vpcd bridge can carry out faithfully
/// are set on `card` — `remove-after=N` (the bridge closes its connection after the N-th answer:
/// pcscd sees the card pulled; it comes back after `insert-after=MS`, default 1000), and the
/// card's own `status-at`, `status-for-ins`, `corrupt-signature`, `pin-per-signature`,
/// `latency`. The rest is refused (`reset-after`: pcscd would not know of the reset, use a PC/SC
/// reset by another application instead). Returns the re-insertion delay.
pub fn apply_for_vpcd(specs: &[FaultSpec], card: &mut EmulatedCard) -> Result<Duration, String> {
    let mut reinsert = Duration::from_secs(1);
    for spec in specs {
        match spec {
            FaultSpec::InsertAfter(d) => reinsert = *d,
            FaultSpec::RemoveAfter(_)
            | FaultSpec::StatusAt(..)
            | FaultSpec::StatusForIns(..)
            | FaultSpec::CorruptSignature
            | FaultSpec::PinPerSignature
            | FaultSpec::Latency(_) => spec.apply(card, &mut None, &mut None),
            other => return Err(bad(&format!("{other:?}"), "not served through vpcd")),
        }
    }
    Ok(reinsert)
}

/// The reader of `card`, with a scripted pinpad when one of `specs` is `pinpad=...`.
pub fn reader(specs: &[FaultSpec], card: Arc<Mutex<EmulatedCard>>) -> EmulatedReader {
    let reader = EmulatedReader::from_shared(card);
    let Some(codes) = specs.iter().rev().find_map(|s| match s {
        FaultSpec::Pinpad(codes) => Some(codes),
        _ => None,
    }) else {
        return reader;
    };
    let (reader, pad) = reader.with_pinpad();
    if let Ok(mut pad) = pad.lock() {
        for code in codes {
            pad.type_digits(code);
        }
    }
    reader
}

/// The card whose counters `stats=PATH` asks for.
static WATCHED: Mutex<Option<Arc<Mutex<EmulatedCard>>>> = Mutex::new(None);

/// Remembers `card` for [`write_stats`] when one of `specs` is `stats=PATH`.
pub fn watch(specs: &[FaultSpec], card: &Arc<Mutex<EmulatedCard>>) {
    if stats_path(specs).is_some() {
        if let Ok(mut w) = WATCHED.lock() {
            *w = Some(Arc::clone(card));
        }
    }
}

/// The PATH of `stats=PATH`, if given.
pub fn stats_path(specs: &[FaultSpec]) -> Option<PathBuf> {
    specs.iter().rev().find_map(|s| match s {
        FaultSpec::Stats(p) => Some(p.clone()),
        _ => None,
    })
}

/// Writes the watched card's counters to `path` at the end of the command, success or not;
/// `"opened": false` and zeros when the command never reached the card.
pub fn write_stats(path: Option<PathBuf>) {
    let Some(path) = path else { return };
    let watched = WATCHED.lock().ok().and_then(|mut w| w.take());
    let doc = match watched {
        Some(card) => match card.lock() {
            Ok(card) => stats_json(card.stats()),
            Err(_) => return,
        },
        None => serde_json::json!({
            "opened": false,
            "apdus": 0,
            "by_ins": {},
            "verify": {},
            "verify_with_data": {},
            "rsa_ops": 0,
        }),
    };
    if let Err(e) = std::fs::write(&path, doc.to_string()) {
        log::error!(target: "cli", "stats {}: {e}", path.display());
    }
}

pub fn stats_json(s: &cpscard::emulator::Stats) -> serde_json::Value {
    let by_ref = |m: &std::collections::BTreeMap<u8, u64>| {
        m.iter()
            .map(|(k, v)| (hex::encode_upper([*k]), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
    };
    serde_json::json!({
        "opened": true,
        "apdus": s.apdus,
        "by_ins": by_ref(&s.by_ins),
        "verify": by_ref(&s.verify),
        "verify_with_data": by_ref(&s.verify_with_data),
        "rsa_ops": s.rsa_ops,
    })
}

/// A reader that shows another ATR than its card's: a non-CPS card as far as detection goes.
pub struct ForeignAtr {
    inner: Box<dyn Transport>,
    atr: Vec<u8>,
}

impl ForeignAtr {
    pub fn new(inner: Box<dyn Transport>, atr: Vec<u8>) -> Self {
        ForeignAtr { inner, atr }
    }
}

impl Transmit for ForeignAtr {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.inner.transmit(apdu)
    }
}

impl Transport for ForeignAtr {
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn protocol(&self) -> Protocol {
        self.inner.protocol()
    }
    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        self.inner.transaction(f)
    }
    fn reconnect(&mut self, reset: bool) -> Result<(), TransportError> {
        self.inner.reconnect(reset)
    }
    fn pinpad(&self) -> Option<PinpadCaps> {
        self.inner.pinpad()
    }
    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.inner.control(code, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("remove-after=3".parse(), Ok(FaultSpec::RemoveAfter(3)));
        assert_eq!(
            "status-at=2:6A82".parse(),
            Ok(FaultSpec::StatusAt(2, 0x6A82))
        );
        assert_eq!(
            "status-for-ins=20:6983".parse(),
            Ok(FaultSpec::StatusForIns(0x20, 0x6983))
        );
        assert_eq!("atr=3B00".parse(), Ok(FaultSpec::Atr(vec![0x3B, 0x00])));
        assert_eq!(
            "insert-after=500".parse(),
            Ok(FaultSpec::InsertAfter(Duration::from_millis(500)))
        );
        assert!("remove-after=x".parse::<FaultSpec>().is_err());
        assert!("status-at=2".parse::<FaultSpec>().is_err());
        assert!("bogus".parse::<FaultSpec>().is_err());
    }
}
