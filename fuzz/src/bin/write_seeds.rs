//! Writes the seed corpora `fuzz/seeds/<target>/` from the profile byte strings and from real
//! sessions of the drivers with the emulated cards (every built-in fixture card, every
//! interface): the files they hold, the APDUs and answers exchanged, the card images.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --features seedgen --bin write-seeds
//!
//! Deterministic for a given emulator (signatures are; challenges are not, so the seeds
//! change a little at each run: commit them only when the targets or the cards change).

use cpscard::card::{connect, CardDriver, FilePath};
use cpscard::emulator::profile::{cps3 as p3, cps4 as p4};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Interface};
use cpscard::transport::{Protocol, Transmit, Transport, TransportError};
use cpscard_fuzz::{encode_records, ops, FID_EF_SN};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

/// A transport that records every (command, answer) pair going through it.
struct Recorder {
    inner: EmulatedReader,
    log: Log,
}

struct RecTx<'a> {
    tx: &'a mut dyn Transmit,
    log: Log,
}

impl Transmit for RecTx<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let r = self.tx.transmit(apdu)?;
        self.log.lock().unwrap().push((apdu.to_vec(), r.clone()));
        Ok(r)
    }
}

impl Transmit for Recorder {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        RecTx {
            tx: &mut self.inner,
            log: self.log.clone(),
        }
        .transmit(apdu)
    }
}

impl Transport for Recorder {
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn protocol(&self) -> Protocol {
        self.inner.protocol()
    }
    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        let log = self.log.clone();
        self.inner.transaction(&mut |tx| {
            f(&mut RecTx {
                tx,
                log: log.clone(),
            })
        })
    }
    fn reconnect(&mut self, reset: bool) -> Result<(), TransportError> {
        self.inner.reconnect(reset)
    }
}

/// Seeds kept per target.
const MAX_SEEDS: usize = 48;

/// Seeds by target, deduplicated.
#[derive(Default)]
struct Seeds(BTreeMap<&'static str, BTreeSet<Vec<u8>>>);

impl Seeds {
    fn add(&mut self, target: &'static str, seed: Vec<u8>) {
        self.0.entry(target).or_default().insert(seed);
    }

    fn write(&self, root: &Path) -> std::io::Result<()> {
        for (target, seeds) in &self.0 {
            let dir = root.join(target);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            // at most MAX_SEEDS, spread over the whole set (the fuzzer finds the rest)
            let step = seeds.len().div_ceil(MAX_SEEDS).max(1);
            let kept: Vec<&Vec<u8>> = seeds.iter().step_by(step).collect();
            for (i, s) in kept.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i:03}")), s)?;
            }
            let size: usize = kept.iter().map(|s| s.len()).sum();
            let seeds = &kept;
            println!("{target}: {} seeds, {size} bytes", seeds.len());
        }
        Ok(())
    }
}

const INTERFACES: [Interface; 5] = [
    Interface::Cps3Contact,
    Interface::Cps3Contactless,
    Interface::Cps4Production,
    Interface::Cps4ReleaseCandidate,
    Interface::Cps4T0,
];

/// Index of `interface` in the targets' selector byte (`cpscard_fuzz::card_kind` and
/// `emulator_apdu` order the interfaces as `KNOWN_ATRS` does).
fn selector(interface: Interface) -> u8 {
    INTERFACES.iter().position(|i| *i == interface).unwrap() as u8
}

fn card(interface: Interface, name: &str) -> EmulatedCard {
    let mut c = EmulatedCard::builtin(interface.generation(), name).unwrap();
    c.set_interface(interface).unwrap();
    c
}

fn recorded(interface: Interface, name: &str) -> (Box<dyn CardDriver>, Log) {
    let log: Log = Arc::default();
    let rec = Recorder {
        inner: EmulatedReader::new(card(interface, name)),
        log: log.clone(),
    };
    (connect(Box::new(rec)).unwrap(), log)
}

/// Programs of the `card_driver` target recorded against the emulator.
const PROGRAMS: [&[u8]; 6] = [
    &[0x00, 0x01, 0x02, 0x15, 0x07], // bind, PIN status, VERIFY, sign, decipher
    &[0x02, 0x05, 0x25, 0x35, 0x16], // VERIFY, signatures of every kind
    &[0x03, 0x13, 0x12, 0x04, 0x01], // change PIN and back, PUK, unblock
    &[0x08, 0x09, 0x19, 0x0A, 0x0B], // challenge, CPS2ter, files
    &[0x02, 0x0C, 0x1A, 0x45, 0x17], // VERIFY, write CPS_DATA, PSS/raw
    &[0x22, 0x12, 0x12, 0x11, 0x0D], // wrong codes, status, reset
];

fn record_session(seeds: &mut Seeds, interface: Interface, name: &str) {
    let sel = selector(interface);
    // emulator_apdu: the interface, then the built-in card by its index
    let names = EmulatedCard::builtin_names();
    let card_sel = sel + 5 * names.iter().position(|n| *n == name).unwrap() as u8;
    // binding + every file it names: the parsers' seeds and the FileCard's files
    let (mut d, log) = recorded(interface, name);
    let b = d.bind(None).unwrap();
    let app = b.app_df.clone();
    let mut files: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut read = |d: &mut Box<dyn CardDriver>, path: &FilePath| {
        if let Ok(c) = d.read_file(path) {
            files.push((path.fid(), c));
        }
    };
    read(&mut d, &FilePath::from_fids(&[FID_EF_SN]));
    read(&mut d, &app.child(0x5031));
    read(&mut d, &app.child(0x5032));
    for e in &b.odf.entries {
        read(&mut d, &e.path);
    }
    for c in &b.certificates {
        read(&mut d, &c.path);
    }
    for o in b.data_objects.iter().take(3) {
        read(&mut d, &o.path);
    }
    for (fid, content) in &files {
        let target = match fid {
            0xD003 => "pkcs15_ef_sn",
            0x5031 => "pkcs15_odf",
            0x5032 => "pkcs15_token_info",
            _ => "",
        };
        if !target.is_empty() {
            seeds.add(target, content.clone());
        }
    }
    for e in &b.odf.entries {
        if let Some((_, c)) = files.iter().find(|(f, _)| *f == e.path.fid()) {
            let target = match e.kind {
                cpscard::card::pkcs15::DirectoryKind::AuthObjects => "pkcs15_aodf",
                cpscard::card::pkcs15::DirectoryKind::PrivateKeys => "pkcs15_prkdf",
                cpscard::card::pkcs15::DirectoryKind::Certificates => "pkcs15_cdf",
                cpscard::card::pkcs15::DirectoryKind::DataObjects => "pkcs15_dodf",
                _ => continue,
            };
            seeds.add(target, c.clone());
        }
    }
    // the binding target: the directory files only (small), and one with the certificates
    let small: Vec<Vec<u8>> = files
        .iter()
        .filter(|(_, c)| c.len() < 1024)
        .map(|(fid, c)| [&fid.to_be_bytes()[..], c].concat())
        .collect();
    let all: Vec<Vec<u8>> = files
        .iter()
        .map(|(fid, c)| [&fid.to_be_bytes()[..], c].concat())
        .collect();
    let sets = if name == "cps" {
        vec![(0x00u8, &small), (0x40, &small), (0x80, &all)]
    } else {
        vec![(0x00u8, &small)]
    };
    for (flags, set) in sets {
        let mut s = vec![sel | flags];
        s.extend(encode_records(set.iter().map(Vec::as_slice)));
        seeds.add("card_binding", s.clone());
        seeds.add("token_open", s);
    }
    // token_open needs the certificates to get past Token::open
    let mut s = vec![sel];
    s.extend(encode_records(all.iter().map(Vec::as_slice)));
    seeds.add("token_open", s);
    // certificates with the CPS_ID_CARD content
    let id_card = b
        .data_object("CPS_ID_CARD")
        .and_then(|o| d.read_file(&o.path).ok())
        .unwrap_or_default();
    for c in &b.certificates {
        if let Ok(der) = d.read_file(&c.path) {
            seeds.add("token_identity", encode_records([der.as_slice(), &id_card]));
        }
    }
    add_exchanges(seeds, sel, card_sel, &log.lock().unwrap());

    // the driver programs
    for program in PROGRAMS {
        let (mut d, log) = recorded(interface, name);
        for &op in program {
            ops::run(&mut *d, op);
        }
        let log = log.lock().unwrap();
        let mut s = vec![sel, 0, program.len() as u8];
        s.extend_from_slice(program);
        s.extend(encode_records(log.iter().map(|(_, r)| r.as_slice())));
        seeds.add("card_driver", s);
        add_exchanges(seeds, sel, card_sel, &log);
    }
}

/// Seeds from one recorded session: commands, answers, SELECT answers, transceive scripts,
/// the emulator's and the vpcd bridge's input.
fn add_exchanges(seeds: &mut Seeds, sel: u8, card_sel: u8, log: &[(Vec<u8>, Vec<u8>)]) {
    for (c, r) in log {
        seeds.add("apdu_command", c.clone());
        seeds.add("apdu_response", r.clone());
        let data = &r[..r.len().saturating_sub(2)];
        if matches!(data.first(), Some(0x62 | 0x64 | 0x6F | 0x85)) {
            seeds.add("card_fcp", data.to_vec());
        }
    }
    // transceive: a command and the answers of its GET RESPONSE / resend rounds
    let mut i = 0;
    while i < log.len() {
        let mut j = i + 1;
        while j < log.len() && (log[j].0.get(1) == Some(&0xC0) || log[j].0[..4] == log[i].0[..4]) {
            j += 1;
        }
        let mut s = vec![0, 254, 255];
        let items =
            std::iter::once(log[i].0.as_slice()).chain(log[i..j].iter().map(|(_, r)| r.as_slice()));
        s.extend(encode_records(items));
        seeds.add("apdu_transceive", s);
        i = j;
    }
    let cmds: Vec<&[u8]> = log.iter().map(|(c, _)| c.as_slice()).collect();
    let mut s = vec![card_sel];
    s.extend(encode_records(cmds.iter().copied()));
    seeds.add("emulator_apdu", s);
    // vpcd: power on, ATR, the APDUs, reset, ATR, power off (frames of 2-byte length)
    let mut v = vec![u8::from(sel >= 2)];
    v.extend(encode_records([&[1u8][..], &[4]]));
    v.extend(encode_records(cmds.iter().take(12).copied()));
    v.extend(encode_records([&[2u8][..], &[4], &[0]]));
    seeds.add("emulator_vpcd", v);
}

fn profile_seeds(seeds: &mut Seeds) {
    seeds.add("pkcs15_ef_atr", p3::ef_atr());
    seeds.add("pkcs15_ef_dir", p3::ef_dir());
    seeds.add("pkcs15_ef_dir", p3::ef_dir_contact_record());
    seeds.add("pkcs15_ef_dir", p3::ef_dir_contactless_record());
    seeds.add("pkcs15_odf", p3::odf());
    seeds.add("pkcs15_odf", p3::cl_odf());
    seeds.add("pkcs15_token_info", p3::token_info_algorithms());
    for (t, f) in [
        ("pkcs15_aodf", p3::aodf()),
        ("pkcs15_aodf", p4::aodf()),
        ("pkcs15_prkdf", p3::prkdf()),
        ("pkcs15_prkdf", p3::cl_prkdf()),
        ("pkcs15_prkdf", p4::prkdf()),
        ("pkcs15_cdf", p3::cdf()),
        ("pkcs15_cdf", p3::cl_cdf()),
        ("pkcs15_cdf", p4::cdf()),
    ] {
        seeds.add(t, f);
    }
    // hand-made APDUs of the four cases
    for hexs in [
        "00A4",
        "00A40000",
        "00B0000000",
        "0020000108313233FFFFFFFF",
        "002A9E9A0401020304FF",
    ] {
        seeds.add("apdu_command", hex::decode(hexs).unwrap());
    }
}

fn template_seeds(seeds: &mut Seeds) {
    // CKO_DATA-like object: class, label, a sensitive and a deferred attribute; a template
    // asking for each (label buffer of 8, NULL for the size, a 2-byte buffer for the class)
    let mut s = vec![4];
    s.extend([0, 0, 8]);
    s.extend(0u64.to_ne_bytes());
    s.extend([1, 0, 8]);
    s.extend(b"CPS_DATA");
    s.extend([5, 1, 0]);
    s.extend([2, 2, 3, 7, 8, 9]);
    s.extend([5, 1, 8, 5, 0xFF, 6, 0xFF, 0, 2, 2, 3]);
    s.push(0);
    seeds.add("pkcs11_template", s.clone());
    let n = s.len();
    for flags in [1, 2, 4] {
        s[n - 1] = flags;
        seeds.add("pkcs11_template", s.clone());
    }
}

fn image_seeds(seeds: &mut Seeds) {
    for (g, n) in [(Generation::Cps3, "cps"), (Generation::Cps4, "cpe")] {
        let c = EmulatedCard::builtin(g, n).unwrap();
        seeds.add("emulator_image", serde_json::to_vec(c.image()).unwrap());
    }
}

fn main() {
    let root: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut seeds = Seeds::default();
    profile_seeds(&mut seeds);
    for interface in INTERFACES {
        for name in ["cps", "cpe"] {
            record_session(&mut seeds, interface, name);
        }
    }
    image_seeds(&mut seeds);
    template_seeds(&mut seeds);
    seeds.write(&root).unwrap();
}
