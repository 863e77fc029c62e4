//! Software CPS3 and CPS4 cards (DESIGN §6). Independent of the drivers: it may share the APDU
//! types, never card logic. Files come from the profiles' bytes (`profile/`) or the emulator's
//! own TLV encoder (`tlv`), keys and certificates from the fixture PKI (`builtin`).
//!
//! Layout: `cps3` / `cps4` / `cps2ter` (command sets), `fs` (file tree), `t0` (61xx / GET
//! RESPONSE per protocol), `security` (PIN/PUK), `crypto` + `sha` (RSA, paddings, resumable
//! SHA), `image` (JSON card images, write-through), `faults` (fault injection, latency,
//! counters), `reader` (in-process `Transport`).

mod builtin;
mod cps2ter;
mod cps3;
mod cps4;
pub mod crypto;
pub mod faults;
mod fs;
pub mod image;
mod ops;
pub mod pinpad;
pub mod profile;
pub mod reader;
mod security;
pub mod sha;
mod t0;
mod tlv;

pub use faults::{Faults, Latency, ReadPastEnd, Stats};
pub use image::{CardImage, CardInfo, Counters, KeyPair};
pub use reader::EmulatedReader;

pub mod vpcd;

use crate::transport::Protocol;
use crypto::{CardKey, CryptoError};
use fs::{Cursor, Fs, NodeId};
use sha::HashAlg;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use t0::Pending;
use zeroize::Zeroizing;

/// The contacts of a card: what a reader (in-process, or vpcd) needs from an emulated card.
pub trait VirtualCard: Send {
    /// ATR sent at power-on / reset.
    fn atr(&self) -> Vec<u8>;
    /// Protocol a reader would pick for that ATR.
    fn protocol(&self) -> Protocol;
    /// Cold reset (power on): security state, channels, pending data cleared.
    fn power_on(&mut self);
    /// Power off: as `power_on` for the state; the card answers nothing until powered again.
    fn power_off(&mut self);
    /// Warm reset.
    fn reset(&mut self);
    /// Processes one command APDU (raw bytes) and returns the raw response (data + SW).
    fn process(&mut self, apdu: &[u8]) -> Vec<u8>;
    /// Whether the card is in the reader (a fault may pull it out: the vpcd bridge then closes
    /// its connection, which pcscd sees as a removal).
    fn is_present(&self) -> bool {
        true
    }
    /// Puts a pulled card back (fresh state).
    fn reinsert(&mut self) {}
}

/// Card generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    Cps3,
    Cps4,
}

impl FromStr for Generation {
    type Err = EmulatorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cps3" => Ok(Generation::Cps3),
            "cps4" => Ok(Generation::Cps4),
            other => Err(EmulatorError::UnknownGeneration(other.to_string())),
        }
    }
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Generation::Cps3 => "cps3",
            Generation::Cps4 => "cps4",
        })
    }
}

/// Which ATR (and so which protocol and interface) the card presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interface {
    /// CPS3 contact, `3B AC…`, T=0 (CPS3.md §1).
    Cps3Contact,
    /// CPS3 contactless (PC/SC ISO 14443-4), `3B 8F…`, T=1 (CPS3.md §10).
    Cps3Contactless,
    /// CPS4 production `3B 9B…04 01 00 00 90 44`, T=1 (CPS4.md §1; default).
    Cps4Production,
    /// CPS4 release candidate `3B 9B…00 04 01 00 90 44`, T=1.
    Cps4ReleaseCandidate,
    /// CPS4 "T0 only" `3B DC…`, T=0.
    Cps4T0,
}

impl Interface {
    pub fn generation(self) -> Generation {
        match self {
            Interface::Cps3Contact | Interface::Cps3Contactless => Generation::Cps3,
            _ => Generation::Cps4,
        }
    }

    pub fn atr(self) -> Vec<u8> {
        match self {
            Interface::Cps3Contact => profile::cps3::ATR_CONTACT.to_vec(),
            Interface::Cps3Contactless => profile::cps3::ATR_CONTACTLESS.to_vec(),
            Interface::Cps4Production => profile::cps4::ATR_PRODUCTION.to_vec(),
            Interface::Cps4ReleaseCandidate => profile::cps4::ATR_RC.to_vec(),
            Interface::Cps4T0 => profile::cps4::ATR_T0.to_vec(),
        }
    }

    /// What pcscd negotiates for that ATR (T=1 whenever offered, CPS4.md §1 \[V\]).
    pub fn protocol(self) -> Protocol {
        match self {
            Interface::Cps3Contact | Interface::Cps4T0 => Protocol::T0,
            _ => Protocol::T1,
        }
    }

    fn default_for(generation: Generation) -> Interface {
        match generation {
            Generation::Cps3 => Interface::Cps3Contact,
            Generation::Cps4 => Interface::Cps4Production,
        }
    }
}

/// Errors of the emulator (building or loading a card, never card answers: those are SWs).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("unknown card generation {0:?} (cps3 or cps4)")]
    UnknownGeneration(String),
    #[error("no built-in {generation} card named {card:?} (cps, cpf, cpe, cpa, cde, cps-expired)")]
    UnknownCard {
        generation: Generation,
        card: String,
    },
    #[error("card image {path}: {reason}")]
    Image { path: String, reason: String },
    #[error("invalid card data: {0}")]
    InvalidCard(String),
    #[error("interface {interface:?} does not belong to a {generation} card")]
    WrongInterface {
        interface: Interface,
        generation: Generation,
    },
}

/// The card's private keys.
pub(crate) struct Keys {
    pub sign: CardKey,
    pub auth: CardKey,
    pub tech: Option<CardKey>,
}

impl Keys {
    fn from_image(img: &CardImage) -> Result<Keys, EmulatorError> {
        let load = |what: &str, der: &[u8]| {
            CardKey::from_pkcs8_der(der)
                .map_err(|e| EmulatorError::InvalidCard(format!("{what} key: {e}")))
        };
        Ok(Keys {
            sign: load("signature", &img.sign.key)?,
            auth: load("authentication", &img.auth.key)?,
            tech: match &img.tech {
                Some(t) => Some(load("technical", &t.key)?),
                None => None,
            },
        })
    }
}

/// MSE templates currently set (CPS3.md §6.3, CPS4.md §6.3-6.4): `(algorithm, key)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Mse {
    pub ht: Option<HashAlg>,
    pub dst: Option<(u8, u8)>,
    pub at: Option<(u8, u8)>,
    pub ct: Option<(u8, u8)>,
}

/// Command chaining in progress (CLA bit `10`).
pub(crate) struct Chain {
    pub header: [u8; 3],
    pub data: Zeroizing<Vec<u8>>,
}

/// CPS4 applets a logical channel can hold (CPS4.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applet {
    ChipDoc,
    Cps2ter,
    Isd,
}

/// Volatile state: lost on power-off and reset (CPS3.md §7).
pub(crate) struct Session {
    pub pin_verified: bool,
    pub puk_verified: bool,
    pub cursor: Cursor,
    pub cps2ter_cursor: Cursor,
    pub pending: Option<Pending>,
    pub chain: Option<Chain>,
    pub mse: Mse,
    /// Digest left by PSO HASH for the next PSO CDS.
    pub digest: Option<(HashAlg, Vec<u8>)>,
    /// CPS4: applet selected on channel 0 and 1; channel 1 is open when `Some`.
    pub channels: [Option<Applet>; 2],
    pub channel1_open: bool,
}

impl Session {
    fn new() -> Session {
        Session {
            pin_verified: false,
            puk_verified: false,
            cursor: Cursor::at_mf(),
            cps2ter_cursor: Cursor::at_mf(),
            pending: None,
            chain: None,
            mse: Mse::default(),
            digest: None,
            channels: [None, None],
            channel1_open: false,
        }
    }

    /// Security state only (SELECT of the CPS3 root AID, CPS3.md §6.1).
    pub fn clear_security(&mut self) {
        self.pin_verified = false;
        self.puk_verified = false;
        self.mse = Mse::default();
        self.digest = None;
    }
}

/// A software CPS3 or CPS4 card.
pub struct EmulatedCard {
    pub(crate) generation: Generation,
    pub(crate) interface: Interface,
    pub(crate) image: CardImage,
    image_path: Option<PathBuf>,
    pub(crate) keys: Keys,
    pub(crate) fs: Fs,
    pub(crate) cps2ter: Fs,
    /// DF 0001 (PKCS#15 application).
    pub(crate) app: NodeId,
    pub(crate) s: Session,
    pub(crate) faults: Faults,
    stats: Stats,
    latency: Latency,
    powered: bool,
    present: bool,
    /// Times the card was put back (a reader's event counter: a removal and reinsertion between
    /// two looks is still seen).
    insertions: u64,
    reset_notice: bool,
    save_error: Option<String>,
}

impl EmulatedCard {
    /// A fixture card (`fixtures/cards/<gen>/<card>`): `card` is "cps" (default), "cpf", "cpe",
    /// "cpa", "cde" or "cps-expired". Nothing is saved.
    pub fn builtin(generation: Generation, card: &str) -> Result<Self, EmulatorError> {
        let img = builtin::image(generation, card)?;
        Self::from_image(img, None)
    }

    /// Names of the built-in cards ("cps" first).
    pub fn builtin_names() -> Vec<&'static str> {
        builtin::names()
    }

    /// Loads the image at `path`, or creates it from the built-in card if absent. Every later
    /// change of counters, PIN/PUK or CPS_DATA is saved at once.
    pub fn open_image(
        path: &Path,
        generation: Generation,
        card: &str,
    ) -> Result<Self, EmulatorError> {
        let img = if path.exists() {
            CardImage::load(path)?
        } else {
            let img = builtin::image(generation, card)?;
            img.save(path)?;
            img
        };
        let gen: Generation = img.info.generation.parse()?;
        if gen != generation {
            return Err(EmulatorError::Image {
                path: path.display().to_string(),
                reason: format!("image holds a {gen} card, {generation} asked"),
            });
        }
        Self::from_image(img, Some(path.to_path_buf()))
    }

    /// A card from an image in memory (saved to `path` on change when given).
    pub fn from_image(image: CardImage, path: Option<PathBuf>) -> Result<Self, EmulatorError> {
        let generation: Generation = image.info.generation.parse()?;
        let keys = Keys::from_image(&image)?;
        let pan = profile::pan_bcd(&image.info).ok_or_else(|| {
            EmulatorError::InvalidCard(format!(
                "serial {:?} is not 8 digits (or bad Luhn digit)",
                image.info.serial
            ))
        })?;
        let (fs, cps2ter, app) = match generation {
            Generation::Cps3 => {
                let f = profile::cps3::build(&image, &pan);
                (f.fs, f.cps2ter, f.app)
            }
            Generation::Cps4 => {
                let f = profile::cps4::build(&image, &pan);
                (f.fs, f.cps2ter, f.app)
            }
        };
        let mut card = EmulatedCard {
            generation,
            interface: Interface::default_for(generation),
            image,
            image_path: path,
            keys,
            fs,
            cps2ter,
            app,
            s: Session::new(),
            faults: Faults::default(),
            stats: Stats::default(),
            latency: Latency::None,
            powered: false,
            present: true,
            insertions: 0,
            reset_notice: false,
            save_error: None,
        };
        card.install_ef_actua();
        card.power_on();
        Ok(card)
    }

    /// Creates, replaces or (None) deletes EF_ACTUA `3F00/D010` (CPS3.md §3.2: absent on a
    /// fresh card; present but empty or unparsable makes the vendor module fail C_OpenSession).
    /// Saved in the image.
    pub fn set_ef_actua(&mut self, content: Option<Vec<u8>>) {
        self.image.ef_actua = content;
        self.persist();
        self.install_ef_actua();
    }

    fn install_ef_actua(&mut self) {
        if let Some(id) = self.fs.child(fs::MF, 0xD010) {
            self.fs.remove(id);
            if self.s.cursor.ef == Some(id) {
                self.s.cursor = Cursor::at_mf();
            }
        }
        if let Some(data) = self.image.ef_actua.clone() {
            self.fs
                .add_ef(fs::MF, 0xD010, profile::ef(data, fs::Acl::PUBLIC));
        }
    }

    pub fn generation(&self) -> Generation {
        self.generation
    }

    pub fn interface(&self) -> Interface {
        self.interface
    }

    /// Presents another ATR of the same generation (as if moved to another reader): the card
    /// is power-cycled.
    pub fn set_interface(&mut self, interface: Interface) -> Result<(), EmulatorError> {
        if interface.generation() != self.generation {
            return Err(EmulatorError::WrongInterface {
                interface,
                generation: self.generation,
            });
        }
        self.interface = interface;
        self.power_on();
        Ok(())
    }

    /// Fault injection settings.
    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Counters (APDUs, by INS, VERIFY per reference, RSA operations).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    pub fn set_latency(&mut self, profile: Latency) {
        self.latency = profile;
    }

    /// The card image as it is now (counters, CPS_DATA…).
    pub fn image(&self) -> &CardImage {
        &self.image
    }

    /// Last error met while saving the image (the card keeps working in memory).
    pub fn save_error(&self) -> Option<&str> {
        self.save_error.as_deref()
    }

    /// Whether the card is in the reader.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Pulls the card out now.
    pub fn remove(&mut self) {
        self.present = false;
        self.powered = false;
        self.s = Session::new();
    }

    /// Puts the card back (powered, fresh state).
    pub fn reinsert(&mut self) {
        self.present = true;
        self.insertions += 1;
        self.reset_notice = false;
        self.power_on();
    }

    /// How many times the card was put back since it was made (see [`Self::reinsert`]).
    pub fn insertions(&self) -> u64 {
        self.insertions
    }

    /// True once after a reset by "another application" until the reader reconnects.
    pub fn reset_notice(&self) -> bool {
        self.reset_notice
    }

    pub(crate) fn clear_reset_notice(&mut self) {
        self.reset_notice = false;
    }

    pub(crate) fn is_powered(&self) -> bool {
        self.powered
    }

    /// Saves the image if the card has one (write-through).
    pub(crate) fn persist(&mut self) {
        if let Some(path) = &self.image_path {
            match self.image.save(path) {
                Ok(()) => self.save_error = None,
                Err(e) => {
                    log::error!(target: "emulator", "{e}");
                    self.save_error = Some(e.to_string());
                }
            }
        }
    }

    /// Runs a private-key operation: counts it, applies the RSA latency, maps refusals to
    /// status words, and corrupts the result when asked (signatures only).
    pub(crate) fn private_op(
        &mut self,
        signature: bool,
        op: impl FnOnce(&Keys) -> Result<Zeroizing<Vec<u8>>, CryptoError>,
    ) -> Result<Zeroizing<Vec<u8>>, u16> {
        self.stats.rsa_ops += 1;
        let delay = self.latency.rsa_delay();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut out = op(&self.keys).map_err(|e| match e {
            CryptoError::InputTooLarge | CryptoError::BadPadding => 0x6A80u16,
            CryptoError::Internal => 0x6F00,
        })?;
        if signature && self.faults.corrupt_next_signature {
            self.faults.corrupt_next_signature = false;
            let i = out.len() / 2;
            if let Some(b) = out.get_mut(i) {
                *b ^= 0x01;
            }
        }
        Ok(out)
    }

    /// An injected status word for this APDU, if any (counts the `status_at` countdown).
    fn injected_sw(&mut self, apdu: &[u8]) -> Option<u16> {
        let mut hit = None;
        if let Some((n, sw)) = self.faults.status_at {
            if n <= 1 {
                self.faults.status_at = None;
                hit = Some(sw);
            } else {
                self.faults.status_at = Some((n - 1, sw));
            }
        }
        if let (Some((ins, sw)), Some(&got)) = (self.faults.status_for_ins, apdu.get(1)) {
            if ins == got && hit.is_none() {
                hit = Some(sw);
            }
        }
        hit
    }

    fn dispatch(&mut self, apdu: &[u8]) -> Vec<u8> {
        let cmd = match crate::apdu::Command::parse(apdu) {
            Ok(c) => c,
            Err(_) => return 0x6700u16.to_be_bytes().to_vec(),
        };
        match self.generation {
            Generation::Cps3 => self.cps3_process(&cmd),
            Generation::Cps4 => self.cps4_process(&cmd),
        }
    }
}

impl VirtualCard for EmulatedCard {
    fn is_present(&self) -> bool {
        EmulatedCard::is_present(self)
    }

    fn reinsert(&mut self) {
        EmulatedCard::reinsert(self)
    }

    fn atr(&self) -> Vec<u8> {
        self.interface.atr()
    }

    fn protocol(&self) -> Protocol {
        self.interface.protocol()
    }

    fn power_on(&mut self) {
        self.s = Session::new();
        self.powered = self.present;
    }

    fn power_off(&mut self) {
        self.s = Session::new();
        self.powered = false;
    }

    fn reset(&mut self) {
        self.s = Session::new();
        self.powered = self.present;
    }

    fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        if !self.present || !self.powered {
            return Vec::new();
        }
        self.stats.record(apdu);
        let delay = self.latency.apdu_delay();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let out = match self.injected_sw(apdu) {
            Some(sw) => sw.to_be_bytes().to_vec(),
            None => self.dispatch(apdu),
        };
        if faults::tick(&mut self.faults.remove_after) {
            self.remove();
        }
        if faults::tick(&mut self.faults.reset_after) {
            self.reset();
            self.reset_notice = true;
        }
        out
    }
}

/// Status word bytes.
pub(crate) fn sw(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}
