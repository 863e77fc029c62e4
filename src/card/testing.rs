//! A scripted `Transport` for driver unit tests: it expects exact command bytes in order and
//! gives the scripted answers; it can report a reset by another application. Also the small
//! hex helpers the APDU tests share.

use crate::apdu::Command;
use crate::card::{CardDriver, CardError, FilePath, KeyRef, SignAlgorithm};
use crate::transport::{CardLink, Protocol, Transmit, Transport, TransportError};
use std::collections::VecDeque;

/// One scripted step.
pub enum Step {
    /// Expect this command (hex, spaces ignored) and answer this (hex).
    Apdu(String, String),
    /// The next transmit fails with `CardReset` (another application reset the card).
    Reset,
}

/// Builds an APDU step from hex text.
pub fn ex(cmd: &str, answer: &str) -> Step {
    Step::Apdu(cmd.replace(' ', "").to_uppercase(), answer.replace(' ', ""))
}

pub struct Scripted {
    pub atr: Vec<u8>,
    pub protocol: Protocol,
    pub steps: VecDeque<Step>,
    pub sent: Vec<String>,
    pub reconnects: usize,
    pub transactions: usize,
}

impl Scripted {
    pub fn new(atr_hex: &str, protocol: Protocol, steps: Vec<Step>) -> Self {
        Scripted {
            atr: hex::decode(atr_hex.replace(' ', "")).unwrap(),
            protocol,
            steps: steps.into(),
            sent: Vec::new(),
            reconnects: 0,
            transactions: 0,
        }
    }

    pub fn cps3(steps: Vec<Step>) -> Self {
        Self::new(
            "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00",
            Protocol::T0,
            steps,
        )
    }

    pub fn cps4(steps: Vec<Step>) -> Self {
        Self::new(
            "3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44",
            Protocol::T1,
            steps,
        )
    }

    pub fn cps4_t0(steps: Vec<Step>) -> Self {
        Self::new(
            "3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00",
            Protocol::T0,
            steps,
        )
    }
}

impl Transmit for Scripted {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let got = hex::encode_upper(apdu);
        match self.steps.pop_front() {
            Some(Step::Apdu(want, answer)) => {
                assert_eq!(
                    got,
                    want,
                    "APDU #{} differs from the script (sent so far: {:?})",
                    self.sent.len() + 1,
                    self.sent
                );
                self.sent.push(got);
                Ok(hex::decode(answer).unwrap())
            }
            Some(Step::Reset) => Err(TransportError::CardReset),
            None => panic!("unexpected extra APDU {got} (sent so far: {:?})", self.sent),
        }
    }
}

/// A shared handle so a test can inspect the transport after the driver took it.
#[derive(Clone)]
pub struct Shared(pub std::sync::Arc<std::sync::Mutex<Scripted>>);

impl Shared {
    pub fn new(s: Scripted) -> Self {
        Shared(std::sync::Arc::new(std::sync::Mutex::new(s)))
    }

    /// Every scripted step was used.
    pub fn assert_done(&self) {
        let s = self.0.lock().unwrap();
        assert!(
            s.steps.is_empty(),
            "{} scripted steps not sent (sent: {:?})",
            s.steps.len(),
            s.sent
        );
    }

    pub fn sent(&self) -> Vec<String> {
        self.0.lock().unwrap().sent.clone()
    }

    pub fn reconnects(&self) -> usize {
        self.0.lock().unwrap().reconnects
    }

    /// Appends steps.
    pub fn push(&self, steps: Vec<Step>) {
        self.0.lock().unwrap().steps.extend(steps);
    }
}

/// A `Transport` view of a [`Shared`] script (what the driver owns).
pub struct SharedTransport {
    inner: Shared,
    link: CardLink,
}

impl Shared {
    pub fn transport(&self) -> Box<dyn Transport> {
        let s = self.0.lock().unwrap();
        Box::new(SharedTransport {
            inner: self.clone(),
            link: CardLink {
                reader: "Scripted reader".into(),
                atr: s.atr.clone(),
                protocol: s.protocol,
            },
        })
    }
}

impl Transmit for SharedTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.inner.0.lock().unwrap().transmit(apdu)
    }
}

impl Transport for SharedTransport {
    crate::transport_accessors!(link);
    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        self.inner.0.lock().unwrap().transactions += 1;
        f(self)
    }
    fn reconnect(&mut self, _reset: bool) -> Result<(), TransportError> {
        self.inner.0.lock().unwrap().reconnects += 1;
        Ok(())
    }
}

/// A CPS3 EF FCP of the profile template (CPS3.md §3.1), 0x27 bytes.
pub fn cps3_fcp(fid: u16, size: usize) -> String {
    format!(
        "6225 8002{size:04X} 820101 8302{fid:04X} 880100 A112 8C077BFFFFFFFFFF00 9C077BFFFFFFFFFF00 8A0105"
    )
    .replace(' ', "")
}

/// A CPS4 EF FCI (CPS4.md §4), 0x10 bytes.
pub fn cps4_fci(fid: u16, size: usize) -> String {
    format!("6F0E 8002{size:04X} 820101 8302{fid:04X} 8A0105").replace(' ', "")
}

pub fn hx(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// The bytes of a command, upper-case hex.
pub fn cmd_hex(c: &Command) -> String {
    hx(&c.to_bytes().unwrap())
}

/// Hex written with spaces, without them.
pub fn h(s: &str) -> String {
    s.replace(' ', "")
}

/// A file of the PKCS#15 application DF `3F00/0001`.
pub fn app(fid: u16) -> FilePath {
    FilePath::from_fids(&[0x0001, fid])
}

/// The files a binding reads after EF.SN.ICC, in order, with their contents: ODF, TokenInfo,
/// AODF, PrKDF, CDF, DODF (CPS3.md §3.2, CPS4.md §4.1).
pub fn bind_files(contents: [Vec<u8>; 6]) -> impl Iterator<Item = (FilePath, Vec<u8>)> {
    [0x5031, 0x5032, 0x7001, 0x7002, 0x7005, 0x7006]
        .map(app)
        .into_iter()
        .zip(contents)
}

/// READ BINARY of the whole `content` from offset 0 in 256-byte chunks, each answered.
pub fn read_binary_steps(cla: u8, content: &[u8]) -> Vec<Step> {
    content
        .chunks(256)
        .enumerate()
        .map(|(i, chunk)| {
            ex(
                &format!("{cla:02X}B0{:04X}{:02X}", i * 256, chunk.len() % 256),
                &(hx(chunk) + "9000"),
            )
        })
        .collect()
}

/// The error a refusal must be.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    InvalidInput,
    Unsupported,
    NotFound,
}

/// Each `sign(key, algorithm, <length> zero bytes)` fails with its [`Refusal`].
pub fn assert_sign_refusals(
    d: &mut dyn CardDriver,
    cases: &[(KeyRef, SignAlgorithm, usize, Refusal)],
) {
    for &(key, alg, len, want) in cases {
        let got = d.sign(key, alg, &vec![0; len]);
        let ok = matches!(
            (&got, want),
            (Err(CardError::InvalidInput(_)), Refusal::InvalidInput)
                | (Err(CardError::Unsupported(_)), Refusal::Unsupported)
                | (Err(CardError::NotFound), Refusal::NotFound)
        );
        assert!(
            ok,
            "sign({key:?}, {alg:?}, {len} bytes) gave {got:?}, not {want:?}"
        );
    }
}
