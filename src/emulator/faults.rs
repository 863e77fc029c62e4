//! Fault injection, latency and counters (DESIGN §6, issue 2 item 4): what a test sets on a card
//! to see the upper layers cope, and what it reads back to count APDUs.

use std::collections::BTreeMap;
use std::time::Duration;

/// What happens when a READ BINARY asks past the end of the file (CPS3.md §6.2 \[S\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadPastEnd {
    /// `6C <bytes available>` (default).
    #[default]
    WrongLe,
    /// ISO: the bytes available and `62 82`.
    EndOfFile,
}

/// Fault injection settings. Countdowns count APDUs from the moment they are set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// The card is pulled out after this many more APDUs: the next transmit through the
    /// in-process reader gives `TransportError::CardRemoved` until `EmulatedCard::reinsert`.
    pub remove_after: Option<u32>,
    /// "Another application" resets the card after this many more APDUs: state lost, the next
    /// transmit gives `TransportError::CardReset` (until the reader reconnects).
    pub reset_after: Option<u32>,
    /// `(n, sw)`: the n-th APDU from now (n ≥ 1) is not processed and answers `sw`.
    pub status_at: Option<(u32, u16)>,
    /// `(ins, sw)`: every APDU with this INS answers `sw` (not processed), until cleared.
    pub status_for_ins: Option<(u8, u16)>,
    /// Flip one bit of the next signature the card returns (PSO CDS, INTERNAL AUTHENTICATE,
    /// CPS4 raw PSO DECIPHER): the upper layer must notice.
    pub corrupt_next_signature: bool,
    /// Each PSO CDS / INTERNAL AUTHENTICATE consumes the PIN verification (CPS3.md §7: the
    /// vendor module then re-VERIFYs and retries once).
    pub pin_per_signature: bool,
    /// Pinpad reader mode (for the pinpad path, later): recorded, not yet acted upon.
    pub pinpad: bool,
    /// READ BINARY past the end of the file.
    pub read_past_end: ReadPastEnd,
}

/// Counters a test reads back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every APDU the card received (faulted ones included).
    pub apdus: u64,
    /// APDUs per INS byte.
    pub by_ins: BTreeMap<u8, u64>,
    /// VERIFY commands per reference (P2), status queries included.
    pub verify: BTreeMap<u8, u64>,
    /// VERIFY commands carrying a PIN/PUK value, per reference (what costs a try).
    pub verify_with_data: BTreeMap<u8, u64>,
    /// RSA private-key operations.
    pub rsa_ops: u64,
}

impl Stats {
    /// APDUs seen with this INS.
    pub fn ins(&self, ins: u8) -> u64 {
        self.by_ins.get(&ins).copied().unwrap_or(0)
    }

    pub(crate) fn record(&mut self, apdu: &[u8]) {
        self.apdus += 1;
        if let [_, ins, _, p2, rest @ ..] = apdu {
            *self.by_ins.entry(*ins).or_default() += 1;
            if *ins == 0x20 {
                *self.verify.entry(*p2).or_default() += 1;
                // A P3 of 00 alone is the T=0 form of the status query (no data).
                if rest.len() > 1 {
                    *self.verify_with_data.entry(*p2).or_default() += 1;
                }
            }
        }
    }
}

/// Time the card takes (off by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latency {
    #[default]
    None,
    /// ≈ 20-40 ms per APDU and ≈ 300 ms per RSA-2048 private operation (a real card behind a
    /// CCID reader), so that benchmarks reward fewer APDUs.
    Realistic,
    Custom {
        per_apdu: Duration,
        per_rsa: Duration,
    },
}

impl Latency {
    pub(crate) fn apdu_delay(&self) -> Duration {
        match self {
            Latency::None => Duration::ZERO,
            Latency::Realistic => {
                Duration::from_millis(20 + rand::Rng::gen_range(&mut rand::thread_rng(), 0..=20))
            }
            Latency::Custom { per_apdu, .. } => *per_apdu,
        }
    }

    pub(crate) fn rsa_delay(&self) -> Duration {
        match self {
            Latency::None => Duration::ZERO,
            Latency::Realistic => Duration::from_millis(300),
            Latency::Custom { per_rsa, .. } => *per_rsa,
        }
    }
}

/// Decrements a countdown; true when it reaches zero (and clears it).
pub(crate) fn tick(countdown: &mut Option<u32>) -> bool {
    match countdown {
        Some(n) if *n <= 1 => {
            *countdown = None;
            true
        }
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_fire_once() {
        let mut c = Some(2);
        assert!(!tick(&mut c));
        assert!(tick(&mut c));
        assert!(!tick(&mut c));
    }

    #[test]
    fn stats_count_verify_forms() {
        let mut s = Stats::default();
        s.record(&[0, 0x20, 0, 1, 0]);
        s.record(&[0, 0x20, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        s.record(&[1, 0x20, 0, 0x81]);
        assert_eq!(s.verify[&1], 2);
        assert_eq!(s.verify_with_data[&1], 1);
        assert_eq!(s.verify[&0x81], 1);
        assert_eq!(s.ins(0x20), 3);
        assert_eq!(s.apdus, 3);
    }
}
