//! Shared pieces of the fuzz targets: how a fuzz input is cut into records, and two fake cards
//! that put fuzzer bytes where a real card's answers would be:
//!
//! - [`ReplayCard`] answers every APDU with the next record of the input (the "fuzzed card
//!   answer stream"), then either fails like a removed card or repeats its last answer
//!   forever, so that a caller's loop that never ends is caught by a hard cap;
//! - [`FileCard`] serves fuzzed file contents (SELECT by path, READ BINARY, SFI) to the real
//!   drivers, as a CPS3 (FCP `62`) or CPS4 (FCI `6F`) would.
//!
//! Both check what the driver sends: every APDU is a well-formed short APDU, and a VERIFY
//! carrying a code is counted so that targets can assert it is never replayed.

pub mod ops;

use cpscard::apdu::Command;
use cpscard::card::detect::KNOWN_ATRS;
use cpscard::card::CardKind;
use cpscard::transport::{CardLink, Protocol, Transmit, TransportError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// More APDUs than any driver operation sends: a caller still transmitting past this loops.
pub const MAX_APDUS: usize = 20_000;

/// Cuts `data` into records of `[len_hi len_lo] bytes…` (a length past the end takes what is
/// left). Records of the seeds are written by [`encode_records`].
pub fn records(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let len = (u16::from_be_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
        out.push(&data[2..2 + len]);
        data = &data[2 + len..];
    }
    out
}

/// The inverse of [`records`].
pub fn encode_records<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in items {
        let len = u16::try_from(r.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&r[..len as usize]);
    }
    out
}

/// A recognised card kind, its ATR and protocol, chosen by one input byte.
pub fn card_kind(selector: u8) -> (CardKind, Vec<u8>, Protocol) {
    let (kind, atr) = KNOWN_ATRS[selector as usize % KNOWN_ATRS.len()];
    let protocol = match kind {
        CardKind::Cps3Contact | CardKind::Cps4(cpscard::card::Cps4Atr::T0Only) => Protocol::T0,
        _ => Protocol::T1,
    };
    (kind, atr.to_vec(), protocol)
}

/// The reader and card of a fake card.
fn link(reader: &str, atr: Vec<u8>, protocol: Protocol) -> CardLink {
    CardLink {
        reader: reader.into(),
        atr,
        protocol,
    }
}

/// Checks one APDU a driver sent: it must parse as a short APDU and fit one.
fn check_sent(apdu: &[u8]) {
    assert!(apdu.len() <= 5 + 255 + 1, "APDU of {} bytes", apdu.len());
    if let Err(e) = Command::parse(apdu) {
        panic!(
            "the driver sent a malformed APDU {}: {e}",
            hex::encode(apdu)
        );
    }
}

/// What a fake card saw, shared with the target after the driver took the transport.
#[derive(Debug, Default)]
pub struct Counts {
    sent: AtomicUsize,
    verifies_with_data: AtomicUsize,
    pin_changes: AtomicUsize,
}

impl Counts {
    /// APDUs sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
    /// VERIFY commands carrying a code (each costs a try on a real card).
    pub fn verifies_with_data(&self) -> usize {
        self.verifies_with_data.load(Ordering::Relaxed)
    }
    /// CHANGE REFERENCE DATA and RESET RETRY COUNTER commands.
    pub fn pin_changes(&self) -> usize {
        self.pin_changes.load(Ordering::Relaxed)
    }

    /// Nothing `what` did cost a PIN or PUK try or changed a code.
    pub fn assert_no_pin_use(&self, what: &str) {
        assert_eq!(
            self.verifies_with_data(),
            0,
            "{what} sent a VERIFY with a code"
        );
        assert_eq!(self.pin_changes(), 0, "{what} changed or unblocked a PIN");
    }

    /// Counts one APDU and checks it (well-formed, no endless loop).
    fn record(&self, apdu: &[u8]) {
        check_sent(apdu);
        let n = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
        assert!(
            n <= MAX_APDUS,
            "more than {MAX_APDUS} APDUs: a loop never ends"
        );
        if is_verify_with_data(apdu) {
            self.verifies_with_data.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(apdu.get(1), Some(0x24 | 0x2C)) {
            self.pin_changes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// True for an APDU that costs a PIN/PUK try: VERIFY (`20`) with data.
pub fn is_verify_with_data(apdu: &[u8]) -> bool {
    apdu.len() > 5 && apdu[1] == 0x20
}

/// What happens once the recorded answers are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenDone {
    /// Every further transmit fails as if the card were pulled out.
    Removed,
    /// The last answer comes again and again (a stuck card).
    RepeatLast,
}

/// A transport whose card answers with the fuzzer's records, in order.
///
/// A record of 0 bytes is "no answer" (`TransportError::Unresponsive`); a record of one byte
/// is a transport event chosen by its value (reset by another application, removal, …), so
/// that the drivers' reconnect/replay paths are fuzzed too.
pub struct ReplayCard {
    link: CardLink,
    answers: Vec<Vec<u8>>,
    next: usize,
    when_done: WhenDone,
    pub counts: Arc<Counts>,
}

impl ReplayCard {
    pub fn new(
        atr: Vec<u8>,
        protocol: Protocol,
        answers: Vec<Vec<u8>>,
        when_done: WhenDone,
    ) -> Self {
        ReplayCard {
            link: link("fuzz replay", atr, protocol),
            answers,
            next: 0,
            when_done,
            counts: Arc::default(),
        }
    }
}

impl Transmit for ReplayCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.counts.record(apdu);
        let answer = match self.answers.get(self.next) {
            Some(a) => {
                self.next += 1;
                a.clone()
            }
            None => match (self.when_done, self.answers.last()) {
                (WhenDone::RepeatLast, Some(a)) => a.clone(),
                _ => return Err(TransportError::CardRemoved),
            },
        };
        match answer.as_slice() {
            [] => Err(TransportError::Unresponsive),
            [event] => Err(match event % 4 {
                0 => TransportError::CardReset,
                1 => TransportError::CardRemoved,
                2 => TransportError::Timeout,
                _ => TransportError::Io("fuzzed reader failure".into()),
            }),
            _ => Ok(answer),
        }
    }
}

cpscard::bare_card_transport!(ReplayCard, link);

/// A card that holds fuzzed files and answers SELECT by path / by AID, READ BINARY (by offset
/// or by SFI) and GET RESPONSE the way CPS3 and CPS4 do; anything else is `6D 00`.
pub struct FileCard {
    link: CardLink,
    /// File contents by FID (the last FID of the selected path).
    files: HashMap<u16, Vec<u8>>,
    current: Option<u16>,
    /// T=0: data waiting for GET RESPONSE.
    pending: Vec<u8>,
    /// Answer a READ BINARY past the end with `6C xx` (else the bytes left and `62 82`).
    wrong_le_past_end: bool,
    pub counts: Arc<Counts>,
}

/// FID of EF.SN.ICC (SFI `1C` of the MF on CPS3, CPS3.md §3.1).
pub const FID_EF_SN: u16 = 0xD003;

impl FileCard {
    pub fn new(
        atr: Vec<u8>,
        protocol: Protocol,
        files: HashMap<u16, Vec<u8>>,
        wrong_le_past_end: bool,
    ) -> Self {
        FileCard {
            link: link("fuzz files", atr, protocol),
            files,
            current: None,
            pending: Vec::new(),
            wrong_le_past_end,
            counts: Arc::default(),
        }
    }

    /// The card of the input of `card_binding` and `token_open`: `selector` chooses the ATR
    /// ([`card_kind`]) and, by bit `80`, [`FileCard::new`]'s `wrong_le_past_end`; the files are
    /// the records of `rest` ([`files_from_records`]).
    pub fn from_input(selector: u8, rest: &[u8]) -> Self {
        let (_, atr, protocol) = card_kind(selector);
        let files = files_from_records(&records(rest));
        FileCard::new(atr, protocol, files, selector & 0x80 != 0)
    }

    /// Data + `90 00`, or under T=0 for a command without Le, `61 xx` and the data kept for
    /// GET RESPONSE.
    fn answer(&mut self, cmd: &Command, data: Vec<u8>) -> Vec<u8> {
        if self.link.protocol == Protocol::T0 && cmd.le().is_none() && !data.is_empty() {
            let n = data.len().min(256);
            self.pending = data;
            return vec![0x61, (n % 256) as u8];
        }
        let mut out = data;
        out.extend_from_slice(&[0x90, 0x00]);
        out
    }

    fn select(&mut self, cmd: &Command) -> Vec<u8> {
        match cmd.p1 {
            // by AID (ChipDoc, root application): a DF, no FCI asked
            0x04 => {
                self.current = None;
                vec![0x90, 0x00]
            }
            0x08 | 0x09 => {
                let path = cmd.data();
                if path.len() < 2 || path.len() % 2 != 0 {
                    return vec![0x6A, 0x87];
                }
                let fid = u16::from_be_bytes([path[path.len() - 2], path[path.len() - 1]]);
                let Some(content) = self.files.get(&fid) else {
                    // no such EF: a DF when no FCP is asked, else not found
                    self.current = None;
                    return if cmd.p2 == 0x0C {
                        vec![0x90, 0x00]
                    } else {
                        vec![0x6A, 0x82]
                    };
                };
                self.current = Some(fid);
                if cmd.p2 == 0x0C {
                    return vec![0x90, 0x00];
                }
                let size = u16::try_from(content.len())
                    .unwrap_or(u16::MAX)
                    .to_be_bytes();
                let tag = if cmd.p1 == 0x09 { 0x62 } else { 0x6F };
                let fcp = vec![tag, 0x07, 0x80, 0x02, size[0], size[1], 0x82, 0x01, 0x01];
                self.answer(cmd, fcp)
            }
            _ => vec![0x6A, 0x86],
        }
    }

    fn read_binary(&mut self, cmd: &Command) -> Vec<u8> {
        let (fid, offset) = if cmd.p1 & 0x80 != 0 {
            // SFI 1C: EF.SN.ICC; other SFIs name nothing here
            if cmd.p1 & 0x1F != 0x1C {
                return vec![0x6A, 0x82];
            }
            self.current = Some(FID_EF_SN);
            (FID_EF_SN, cmd.p2 as usize)
        } else {
            match self.current {
                Some(f) => (f, ((cmd.p1 as usize) << 8) | cmd.p2 as usize),
                None => return vec![0x69, 0x86],
            }
        };
        let content = self.files.get(&fid).cloned().unwrap_or_default();
        let le = cmd.le().unwrap_or(256);
        if offset >= content.len() {
            return vec![0x6B, 0x00];
        }
        let rest = &content[offset..];
        if rest.len() >= le {
            return self.answer(cmd, rest[..le].to_vec());
        }
        if self.wrong_le_past_end {
            return vec![0x6C, rest.len() as u8];
        }
        let mut out = rest.to_vec();
        out.extend_from_slice(&[0x62, 0x82]);
        out
    }

    fn get_response(&mut self, cmd: &Command) -> Vec<u8> {
        if self.pending.is_empty() {
            return vec![0x6F, 0x00];
        }
        let le = cmd.le().unwrap_or(256);
        let n = le.min(self.pending.len());
        let mut out: Vec<u8> = self.pending.drain(..n).collect();
        match self.pending.len() {
            0 => out.extend_from_slice(&[0x90, 0x00]),
            left => out.extend_from_slice(&[0x61, left.min(256) as u8]),
        }
        out
    }
}

impl Transmit for FileCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.counts.record(apdu);
        let Ok(cmd) = Command::parse(apdu) else {
            return Ok(vec![0x67, 0x00]);
        };
        if cmd.ins != 0xC0 {
            self.pending.clear();
        }
        Ok(match cmd.ins {
            0xA4 => self.select(&cmd),
            0xB0 => self.read_binary(&cmd),
            0xC0 => self.get_response(&cmd),
            _ => vec![0x6D, 0x00],
        })
    }
}

cpscard::bare_card_transport!(FileCard, link);

/// The files of a [`FileCard`] from records `[fid_hi fid_lo] content…`.
pub fn files_from_records(recs: &[&[u8]]) -> HashMap<u16, Vec<u8>> {
    let mut files = HashMap::new();
    for r in recs {
        if let [hi, lo, content @ ..] = r {
            files.insert(u16::from_be_bytes([*hi, *lo]), content.to_vec());
        }
    }
    files
}
