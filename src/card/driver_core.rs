//! What the CPS3 and CPS4 drivers do alike, written once over a [`Dialect`]: the few things a
//! card generation says its own way (CLA, SELECT form, where EF.SN.ICC is, how a command
//! reaches the card). Here: the driver state, SELECT of EFs and DFs with the size from the
//! FCP/FCI ([`super::fcp`]), whole transparent EFs ([`super::ef_io`]), the binding, the PIN
//! state from an empty VERIFY and VERIFY itself, the pinpad VERIFY template, GET CHALLENGE,
//! and key operations run with the application DF current; the `CardDriver` methods that only
//! delegate to these are one macro ([`common_card_driver_methods`]). What is left in
//! `cps3.rs` and `cps4.rs` is each card's own: MSE/PSO sequences, PIN changes, CPS2ter volet,
//! logical channel, logout.

use super::binding::{bind, CardBinding, FileAccess, FileCache};
use super::detect::CardKind;
use super::fcp::{parse_fcp, FileInfo};
use super::hash::HashAlg;
use super::iso_commands;
use super::link::{CardState, Io, Link, Replay};
use super::path::FilePath;
use super::pin::{Pin, PAD_CHAR, STORED_LENGTH};
use super::rsa_pad::digest_from_pkcs1_input;
use super::types::{KeyRef, PinKind, PinState, PinStatus};
use super::CardError;
use crate::apdu::{Command, Response, StatusWord};

/// How one card generation says what both say.
pub(crate) trait Dialect: Sized {
    /// CLA of the ISO commands ([`iso_commands`]).
    const CLA: u8;
    /// Largest READ BINARY answer.
    const MAX_READ: usize;
    /// Largest UPDATE BINARY data.
    const MAX_WRITE: usize;
    /// The error when a SELECT of an EF answers no FCP/FCI.
    const NO_FILE_INFO: &'static str;
    /// The error when the FCP/FCI of an EF gives no size.
    const NO_FILE_SIZE: &'static str;

    /// SELECT of an EF by path, its FCP/FCI wanted (case 3: the Le of the protocol is added).
    fn select_ef(path: &FilePath) -> Command;
    /// SELECT of a DF by path (case 3).
    fn select_df(path: &FilePath) -> Command;
    /// The P2 of VERIFY for this PIN (the AODF `pinReference`).
    fn pin_reference(kind: PinKind) -> u8;
    /// The content of EF.SN.ICC, the cheapest way the card allows.
    fn read_serial(io: &mut Io<'_, State<Self>>) -> Result<Vec<u8>, CardError>;

    /// Sends a command that carries no PIN.
    fn send(io: &mut Io<'_, State<Self>>, cmd: &Command) -> Result<Response, CardError> {
        io.send(cmd)
    }
    /// Sends a command that carries a PIN: never sent twice.
    fn send_pin(io: &mut Io<'_, State<Self>>, cmd: &Command) -> Result<Response, CardError> {
        io.send(cmd)
    }
    /// Forgets what only this generation keeps about the card (after a reset).
    fn forget(&mut self) {}
}

/// Modulus length until the PrKDF says otherwise (RSA-2048: CPS3.md §4, CPS4.md §4.1).
const DEFAULT_MODULUS_BYTES: usize = 256;

/// What a driver knows of its card between operations.
pub(crate) struct State<D> {
    pub kind: CardKind,
    /// The PKCS#15 application DF (`3F00/0001`; CPS3 contactless `3F00/0002`).
    pub app_df: FilePath,
    /// The current DF, when known for sure.
    pub current_df: Option<FilePath>,
    /// Modulus length per key, from the PrKDF.
    key_sizes: Vec<(KeyRef, usize)>,
    /// What only this generation keeps (CPS4: its logical channel).
    pub own: D,
}

impl<D> State<D> {
    pub fn new(kind: CardKind, app_df: FilePath, own: D) -> Self {
        State {
            kind,
            app_df,
            current_df: None,
            key_sizes: Vec::new(),
            own,
        }
    }

    /// The modulus length of `key` in bytes.
    pub fn modulus_bytes(&self, key: KeyRef) -> usize {
        self.key_sizes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| *s)
            .unwrap_or(DEFAULT_MODULUS_BYTES)
    }
}

impl<D: Dialect> CardState for State<D> {
    fn forget_card_state(&mut self) {
        self.current_df = None;
        self.own.forget();
    }
}

impl<D: Dialect> Io<'_, State<D>> {
    /// Sends a command without PIN and requires `90 00`.
    pub fn check(&mut self, op: &'static str, cmd: &Command) -> Result<Response, CardError> {
        let r = D::send(self, cmd)?;
        ok_or_refused(op, r)
    }

    /// Sends a command carrying a PIN and requires `90 00`.
    pub fn check_pin(&mut self, op: &'static str, cmd: &Command) -> Result<Response, CardError> {
        let r = D::send_pin(self, cmd)?;
        ok_or_refused(op, r)
    }

    /// Sends a SELECT (`op` names it in errors): on success `current` is the current DF, on
    /// a refusal the current DF is unknown.
    pub fn select(
        &mut self,
        op: &'static str,
        cmd: &Command,
        current: FilePath,
    ) -> Result<Response, CardError> {
        let r = D::send(self, cmd)?;
        if !r.is_success() {
            self.st.current_df = None;
            return Err(CardError::from_status(op, r.sw));
        }
        self.st.current_df = Some(current);
        Ok(r)
    }

    /// Makes a DF current (no FCP/FCI needed).
    pub fn select_df(&mut self, df: &FilePath) -> Result<(), CardError> {
        self.select("SELECT", &D::select_df(df), df.clone())
            .map(drop)
    }

    /// Selects an EF and returns what its FCP/FCI says (the size).
    pub fn select_ef(&mut self, path: &FilePath) -> Result<FileInfo, CardError> {
        let cmd = self.with_case4_le(D::select_ef(path));
        let r = self.select("SELECT", &cmd, path.parent())?;
        parse_fcp(r.data()).ok_or(CardError::BadAnswer(D::NO_FILE_INFO))
    }

    /// The size of an EF from its FCP/FCI.
    fn ef_size(&mut self, path: &FilePath) -> Result<usize, CardError> {
        self.select_ef(path)?
            .size
            .ok_or(CardError::BadAnswer(D::NO_FILE_SIZE))
    }

    /// The whole content of an EF.
    pub fn read_ef(&mut self, path: &FilePath) -> Result<Vec<u8>, CardError> {
        let info = self.select_ef(path)?;
        self.read_current(info.size)
    }

    /// The current EF from offset 0: `size` bytes, or until the card says it ended. READ
    /// BINARY goes straight to the card: the SELECT just sent through [`Dialect::send`] left
    /// it ready (CPS4: channel open).
    pub fn read_current(&mut self, size: Option<usize>) -> Result<Vec<u8>, CardError> {
        let read = |offset, le| iso_commands::read_binary(D::CLA, offset, le);
        self.read_body(read, size, D::MAX_READ)
    }

    /// The PIN or PUK state from a VERIFY without data (CPS3.md §5.2, CPS4.md §6.2).
    fn pin_state(&mut self, kind: PinKind) -> Result<PinState, CardError> {
        let cmd = iso_commands::verify_status(D::CLA, D::pin_reference(kind));
        let r = D::send(self, &cmd)?;
        match r.sw {
            StatusWord::Success => Ok(PinState::Verified),
            StatusWord::VerifyFailed { tries_left: 0 } | StatusWord::AuthBlocked => {
                Ok(PinState::Blocked)
            }
            StatusWord::VerifyFailed { tries_left } => Ok(PinState::NotVerified { tries_left }),
            sw => Err(CardError::from_status("VERIFY (status)", sw)),
        }
    }

    /// VERIFY of the PIN or PUK (the kind of `pin` says which).
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        let cmd = iso_commands::verify(D::CLA, D::pin_reference(pin.kind()), &pin.block());
        self.check_pin("VERIFY", &cmd).map(drop)
    }

    /// Runs a key operation with the application DF current. The DF is selected first only
    /// when the driver does not know it is current; if the card then refuses as if it were
    /// not (`6A 88`, `6A 82`, `69 85`), the DF is selected and the operation redone once (no
    /// PIN involved, nothing consumed).
    pub fn with_app_df<T>(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<T, CardError>,
    ) -> Result<T, CardError> {
        let app = self.st.app_df.clone();
        if self.st.current_df.as_ref() == Some(&app) {
            match f(self) {
                Err(e) if looks_like_wrong_df(&e) => {
                    log::debug!(target: "card", "key operation refused ({e}): reselecting {app}");
                }
                r => return r,
            }
        }
        self.select_df(&app)?;
        f(self)
    }
}

fn ok_or_refused(op: &'static str, r: Response) -> Result<Response, CardError> {
    if r.is_success() {
        Ok(r)
    } else {
        Err(CardError::from_status(op, r.sw))
    }
}

/// What a key operation answers when the key's DF is not current.
fn looks_like_wrong_df(e: &CardError) -> bool {
    matches!(
        e,
        CardError::NotFound
            | CardError::Refused {
                sw: StatusWord::ConditionsNotSatisfied,
                ..
            }
    )
}

impl<D: Dialect> FileAccess for Io<'_, State<D>> {
    fn read_serial(&mut self) -> Result<Vec<u8>, CardError> {
        D::read_serial(self)
    }

    fn read_file(&mut self, path: &FilePath) -> Result<Vec<u8>, CardError> {
        self.read_ef(path)
    }
}

/// The operations of [`super::CardDriver`] that both generations do alike.
impl<D: Dialect> Link<State<D>> {
    /// [`super::CardDriver::bind`] (`ef_sn: None`) and [`super::CardDriver::bind_known`]; keeps
    /// the key sizes the PrKDF gives.
    pub fn bind(
        &mut self,
        ef_sn: Option<&[u8]>,
        mut cache: Option<&mut dyn FileCache>,
    ) -> Result<CardBinding, CardError> {
        let binding = self.run(Replay::Allowed, |io| {
            let app = io.st.app_df.clone();
            let kind = io.st.kind;
            let cache = cache.as_mut().map(|c| &mut **c as &mut dyn FileCache);
            bind(io, kind, &app, ef_sn, cache)
        })?;
        self.state.key_sizes = binding
            .private_keys
            .iter()
            .filter_map(|k| {
                Some((
                    CardBinding::key_ref(k)?,
                    k.modulus_bits.map(|b| b.div_ceil(8) as usize)?,
                ))
            })
            .collect();
        Ok(binding)
    }

    pub fn read_file(&mut self, path: &FilePath) -> Result<Vec<u8>, CardError> {
        self.run(Replay::Allowed, |io| io.read_ef(path))
    }

    pub fn file_size(&mut self, path: &FilePath) -> Result<usize, CardError> {
        self.run(Replay::Allowed, |io| io.ef_size(path))
    }

    /// `data` zero-padded to the size in the FCP/FCI, written from offset 0 (CPS3.md §6.2,
    /// CPS4.md §6.1).
    pub fn write_file(&mut self, path: &FilePath, data: &[u8]) -> Result<(), CardError> {
        self.run(Replay::Allowed, |io| {
            let size = io.ef_size(path)?;
            let body = super::ef_io::padded_body(data, size)?;
            let update = |offset, part: &[u8]| iso_commands::update_binary(D::CLA, offset, part);
            io.write_body(update, &body, D::MAX_WRITE)
        })
    }

    pub fn pin_status(&mut self, kind: PinKind) -> Result<PinStatus, CardError> {
        let state = self.run(Replay::Allowed, |io| io.pin_state(kind))?;
        Ok(PinStatus {
            kind,
            state,
            max_tries: kind.max_tries(),
        })
    }

    /// VERIFY, never replayed after a reset.
    pub fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        self.run(Replay::Never, |io| io.verify_pin(pin))
    }

    /// GET CHALLENGE in 8-byte steps.
    pub fn get_challenge(&mut self, len: usize) -> Result<Vec<u8>, CardError> {
        self.run(Replay::Allowed, |io| {
            let mut out = Vec::with_capacity(len + 8);
            while out.len() < len {
                let r = io.check("GET CHALLENGE", &iso_commands::get_challenge(D::CLA))?;
                if r.data().len() != 8 {
                    return Err(CardError::BadAnswer("GET CHALLENGE did not give 8 bytes"));
                }
                out.extend_from_slice(r.data());
            }
            out.truncate(len);
            Ok(out)
        })
    }
}

/// The [`CardDriver`](super::CardDriver) methods both generations answer alike, for a driver
/// whose `link` field is a [`Link`] over a [`State`]: written once here, expanded in the
/// `impl CardDriver` of `cps3.rs` and `cps4.rs`.
macro_rules! common_card_driver_methods {
    () => {
        fn kind(&self) -> $crate::card::CardKind {
            self.link.state.kind
        }

        fn bind(
            &mut self,
            cache: Option<&mut dyn $crate::card::FileCache>,
        ) -> Result<$crate::card::CardBinding, $crate::card::CardError> {
            self.link.bind(None, cache)
        }

        fn bind_known(
            &mut self,
            ef_sn: &[u8],
            cache: Option<&mut dyn $crate::card::FileCache>,
        ) -> Result<$crate::card::CardBinding, $crate::card::CardError> {
            self.link.bind(Some(ef_sn), cache)
        }

        fn read_file(
            &mut self,
            path: &$crate::card::FilePath,
        ) -> Result<Vec<u8>, $crate::card::CardError> {
            self.link.read_file(path)
        }

        fn file_size(
            &mut self,
            path: &$crate::card::FilePath,
        ) -> Result<usize, $crate::card::CardError> {
            self.link.file_size(path)
        }

        fn write_file(
            &mut self,
            path: &$crate::card::FilePath,
            data: &[u8],
        ) -> Result<(), $crate::card::CardError> {
            self.link.write_file(path, data)
        }

        fn get_challenge(&mut self, len: usize) -> Result<Vec<u8>, $crate::card::CardError> {
            self.link.get_challenge(len)
        }

        fn card_resets(&self) -> u64 {
            self.link.resets
        }

        fn transport(&self) -> &dyn $crate::transport::Transport {
            &*self.link.transport
        }

        fn transport_mut(&mut self) -> &mut dyn $crate::transport::Transport {
            &mut *self.link.transport
        }

        fn into_transport(self: Box<Self>) -> Box<dyn $crate::transport::Transport> {
            self.link.transport
        }
    };
}
pub(crate) use common_card_driver_methods;

/// The VERIFY a pinpad reader completes with the digits it reads: an `FF`-filled block of
/// the stored length (CPS3.md §5.2, CPS4.md §6.2).
pub(crate) fn verify_template<D: Dialect>(kind: PinKind) -> Option<Vec<u8>> {
    template_bytes(&iso_commands::verify(
        D::CLA,
        D::pin_reference(kind),
        &BLANK_PIN_BLOCK,
    ))
}

/// A PIN block placeholder for pinpad templates.
pub(crate) const BLANK_PIN_BLOCK: [u8; STORED_LENGTH] = [PAD_CHAR; STORED_LENGTH];

/// The bytes of a pinpad template (no secret in it: blank PIN blocks only).
pub(crate) fn template_bytes(cmd: &Command) -> Option<Vec<u8>> {
    cmd.to_bytes().ok().map(|b| b.to_vec())
}

/// The signature in an answer, which must be as long as the modulus.
pub(crate) fn signature(r: Response, modulus_bytes: usize) -> Result<Vec<u8>, CardError> {
    if r.data().len() != modulus_bytes {
        return Err(CardError::BadAnswer(
            "signature length differs from the modulus",
        ));
    }
    Ok(r.data().to_vec())
}

/// A host hash must be as long as its algorithm's digest.
pub(crate) fn require_digest_len(h: HashAlg, digest: &[u8]) -> Result<(), CardError> {
    if digest.len() == h.digest_len() {
        Ok(())
    } else {
        Err(CardError::InvalidInput(
            "digest length does not match the hash",
        ))
    }
}

/// What CKM_RSA_PKCS input the signature key takes: a SHA-1/SHA-256 DigestInfo or bare hash,
/// whose hash goes to PSO CDS (the card adds the DigestInfo itself).
pub(crate) fn signature_key_digest(input: &[u8]) -> Result<(HashAlg, Vec<u8>), CardError> {
    let (h, digest) = digest_from_pkcs1_input(input).ok_or(CardError::InvalidInput(
        "the signature key signs a SHA-1/SHA-256 DigestInfo or hash only",
    ))?;
    Ok((h, digest.to_vec()))
}
