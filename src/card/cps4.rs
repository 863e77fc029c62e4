//! CPS4 (NXP ChipDoc) driver, after CPS4.md. Every APDU on logical channel 1 (CLA `01`),
//! opened implicitly by selecting the ChipDoc AID (§2); files selected by path from the MF
//! with `P1=08 P2=00` and an FCI `6F` answer (§4); 256-byte reads (§3).
//!
//! - `68 81` (channel closed) → the channel is reopened and the command sent once more,
//!   except a command carrying a PIN (VERIFY with data, CHANGE): that one gives
//!   [`CardError::ChannelClosed`] — the card did not check it, the user decides.
//! - Signature key: MSE DST + PSO CDS over a host hash (PKCS#1 v1.5 `0A`/`28`, PSS
//!   `15`/`2C`). Authentication key: PSS through PSO CDS; PKCS#1 v1.5 (any DigestInfo, TLS)
//!   and raw RSA through a raw PSO DECIPHER of a block the host padded (§6.4-6.5).
//! - The application DF `0001` is reselected before a key operation only when the driver does
//!   not know it is current, with the same fallback as CPS3 (vendor: before each, §6.3).

mod apdus;

use super::detect::{CardKind, Generation};
use super::driver::CardDriver;
use super::driver_core::{
    common_card_driver_methods, require_digest_len, signature, signature_key_digest,
    template_bytes, verify_template, Dialect, State, BLANK_PIN_BLOCK,
};
use super::hash::{HashAlg, MessageHasher};
use super::link::{Io, Link, Replay};
use super::path::FilePath;
use super::pin::Pin;
use super::rsa_pad::{digest_info, pad_type1, unpad_type2};
use super::types::{
    Cps2terFile, DecipherPadding, KeyRef, KeyRole, PinChangeTemplate, PinKind, PinStatus,
    SignAlgorithm,
};
use super::CardError;
use crate::apdu::{Command, ExchangeRules, Response, StatusWord};
use crate::transport::Transport;
use zeroize::Zeroizing;

/// Exchange rules of CPS4 (§3): 255-byte chaining blocks, 256-byte answers.
pub const RULES: ExchangeRules = ExchangeRules {
    max_send: 255,
    max_recv: apdus::MAX_READ,
    follow_61: true,
};

/// How CPS4 says what both generations say: CLA `01`, SELECT `P1=08 P2=00` (§4), FCI `6F`,
/// every command on logical channel 1 — and the state of that channel.
pub(crate) struct Cps4 {
    /// Channel 1 is open with ChipDoc selected. While it is closed, the current DF is unknown.
    channel_open: bool,
}

type Cps4State = State<Cps4>;

/// Whether a command may be resent after the channel was reopened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secret {
    No,
    Pin,
}

impl Dialect for Cps4 {
    const CLA: u8 = apdus::CLA;
    const MAX_READ: usize = apdus::MAX_READ;
    const MAX_WRITE: usize = apdus::MAX_WRITE;
    const NO_FILE_INFO: &'static str = "SELECT of an EF returned no FCI";
    const NO_FILE_SIZE: &'static str = "FCI without a file size";

    /// `01 A4 08 00 <path> [00]`: an EF and its FCI (a `62` FCP also gives the size).
    fn select_ef(path: &FilePath) -> Command {
        apdus::select_path(path)
    }

    /// `01 A4 08 00 <path>` (case 3): a DF below the MF.
    fn select_df(df: &FilePath) -> Command {
        apdus::select_path(df)
    }

    /// AODF `80 02 00 81` / `00 82` (§4.1, §6.2).
    fn pin_reference(kind: PinKind) -> u8 {
        match kind {
            PinKind::User => 0x81,
            PinKind::Puk => 0x82,
        }
    }

    /// EF.SN.ICC `3F00/D003` selected and read (§4).
    fn read_serial(io: &mut Io<'_, Cps4State>) -> Result<Vec<u8>, CardError> {
        io.read_ef(&FilePath::from_fids(&[0xD003]))
    }

    fn send(io: &mut Io<'_, Cps4State>, cmd: &Command) -> Result<Response, CardError> {
        io.send_on_channel(cmd, Secret::No, false)
    }

    fn send_pin(io: &mut Io<'_, Cps4State>, cmd: &Command) -> Result<Response, CardError> {
        io.send_on_channel(cmd, Secret::Pin, false)
    }

    /// Channels close on a card reset (§2).
    fn forget(&mut self) {
        self.channel_open = false;
    }
}

/// A CPS4 card.
pub struct Cps4Driver {
    link: Link<Cps4State>,
}

impl Cps4Driver {
    /// Wraps a transport whose card is a CPS4. No APDU is sent (the channel opens with the
    /// first operation).
    pub fn new(transport: Box<dyn Transport>, kind: CardKind) -> Result<Self, CardError> {
        if kind.generation() != Generation::Cps4 {
            return Err(CardError::NotRecognized(format!("{kind} is not a CPS4")));
        }
        let own = Cps4 {
            channel_open: false,
        };
        let state = State::new(kind, FilePath::from_fids(&[0x0001]), own);
        Ok(Cps4Driver {
            link: Link::new(transport, state, RULES),
        })
    }

    fn role(&self, key: KeyRef) -> Result<KeyRole, CardError> {
        self.key_role(key).ok_or(CardError::NotFound)
    }

    /// MSE DST + PSO CDS over a hash (`alg` = ChipDoc algorithm id).
    fn cds(&mut self, key: KeyRef, alg: u8, hash: &[u8]) -> Result<Vec<u8>, CardError> {
        let k = self.link.state.modulus_bytes(key);
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.check("MSE SET DST", &apdus::mse_dst(alg, key))?;
                let cmd = io.with_case4_le(apdus::pso_cds(hash));
                let r = io.check("PSO COMPUTE DIGITAL SIGNATURE", &cmd)?;
                signature(r, k)
            })
        })
    }

    /// MSE CT + raw PSO DECIPHER of a modulus-length block: `block^d mod n`.
    fn raw_rsa(&mut self, key: KeyRef, block: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        let k = self.link.state.modulus_bytes(key);
        if block.len() != k {
            return Err(CardError::InvalidInput(
                "the RSA block must be as long as the modulus",
            ));
        }
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.check("MSE SET CT", &apdus::mse_ct())?;
                let cmd = io.with_case4_le(apdus::pso_decipher_raw(block));
                let r = io.send_on_channel(&cmd, Secret::No, true)?;
                if !r.is_success() {
                    return Err(CardError::from_status("PSO DECIPHER", r.sw));
                }
                if r.data().len() != k {
                    return Err(CardError::BadAnswer(
                        "raw RSA result length differs from the modulus",
                    ));
                }
                Ok(r.into_data())
            })
        })
    }

    /// PKCS#1 v1.5 signature with the authentication key: host padding + raw RSA.
    fn sign_padded(&mut self, key: KeyRef, data: &[u8]) -> Result<Vec<u8>, CardError> {
        let block = pad_type1(data, self.link.state.modulus_bytes(key))?;
        Ok(self.raw_rsa(key, &block)?.to_vec())
    }

    fn sign_digest(
        &mut self,
        key: KeyRef,
        role: KeyRole,
        h: HashAlg,
        digest: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        require_digest_len(h, digest)?;
        match role {
            KeyRole::Signature => self.cds(key, apdus::pkcs1_alg(h), digest),
            _ => self.sign_padded(key, &digest_info(h, digest)?),
        }
    }
}

impl Io<'_, Cps4State> {
    /// Opens channel 1 by selecting ChipDoc; on failure, the vendor's recovery once (each
    /// command's status ignored), then ChipDoc again (§2). Never a loop.
    fn open_channel(&mut self) -> Result<(), CardError> {
        let r = self.send(&apdus::select_chipdoc())?;
        let r = if r.is_success() {
            r
        } else {
            log::info!(target: "card", "ChipDoc selection failed ({}): recovery", r.sw);
            let [isd, cps2ter, chipdoc] = apdus::recovery();
            self.raw(&isd)?;
            self.raw(&cps2ter)?;
            self.send(&chipdoc)?
        };
        if !r.is_success() {
            self.st.own.channel_open = false;
            return Err(CardError::from_status("SELECT ChipDoc", r.sw));
        }
        self.st.own.channel_open = true;
        self.st.current_df = Some(FilePath::mf());
        Ok(())
    }

    /// Sends on channel 1, opening it first if needed; `68 81` reopens it and resends once
    /// unless the command carries a PIN.
    fn send_on_channel(
        &mut self,
        cmd: &Command,
        secret: Secret,
        masked: bool,
    ) -> Result<Response, CardError> {
        if !self.st.own.channel_open {
            self.open_channel()?;
        }
        let send = |io: &mut Self| {
            if masked {
                io.send_masked(cmd)
            } else {
                io.send(cmd)
            }
        };
        let r = send(self)?;
        if r.sw != StatusWord::LogicalChannelNotSupported {
            return Ok(r);
        }
        log::info!(target: "card", "logical channel 1 closed (68 81): reopening");
        self.st.own.channel_open = false;
        self.st.current_df = None;
        self.open_channel()?;
        if secret == Secret::Pin {
            return Err(CardError::ChannelClosed);
        }
        send(self)
    }

    /// `01 24 01 81 08 <new>`: the new value only (§6.2).
    fn set_new_pin(&mut self, new: &Pin) -> Result<(), CardError> {
        let cmd = apdus::change_new_only(Cps4::pin_reference(PinKind::User), &new.block());
        self.check_pin("CHANGE REFERENCE DATA", &cmd).map(drop)
    }
}

impl CardDriver for Cps4Driver {
    // kind, bind, read_file, file_size, write_file, get_challenge, transport, transport_mut,
    // into_transport: the same for both generations (driver_core.rs)
    common_card_driver_methods!();

    fn read_cps2ter(&mut self, _file: Cps2terFile) -> Result<Vec<u8>, CardError> {
        Err(CardError::Unsupported(
            "CPS4 keeps the CPS2ter data in ChipDoc files listed in its DODF",
        ))
    }

    fn pin_status(&mut self, kind: PinKind) -> Result<PinStatus, CardError> {
        self.link.pin_status(kind)
    }

    fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        self.link.verify(pin)
    }

    /// VERIFY the old PIN, then `01 24 01 81 08 <new>` (§6.2); nothing is changed when the
    /// old PIN is wrong.
    fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError> {
        if old.kind() != PinKind::User || new.kind() != PinKind::User {
            return Err(CardError::InvalidInput("change_pin changes the user PIN"));
        }
        self.link.run(Replay::Never, |io| {
            io.verify_pin(old)?;
            io.set_new_pin(new)
        })
    }

    /// `01 2C 03 81` then `01 24 01 81 08 <new>` (§6.2), the PUK verified before.
    fn reset_pin(&mut self, new: &Pin) -> Result<(), CardError> {
        if new.kind() != PinKind::User {
            return Err(CardError::InvalidInput("reset_pin sets the user PIN"));
        }
        self.link.run(Replay::Never, |io| {
            io.check(
                "RESET RETRY COUNTER",
                &apdus::reset_retry_counter(Cps4::pin_reference(PinKind::User)),
            )?;
            io.set_new_pin(new)
        })
    }

    /// SELECT (FCI) + one READ BINARY.
    fn read_file_start(&mut self, path: &FilePath, len: usize) -> Result<Vec<u8>, CardError> {
        self.link.run(Replay::Allowed, |io| {
            let info = io.select_ef(path)?;
            io.read_current(Some(info.size.map_or(len, |s| s.min(len))))
        })
    }

    /// ChipDoc has no known command that clears the PIN state without a reset (§7: lost on
    /// reset only): the card is reset (`SCardReconnect` with reset), which also logs out any
    /// other application using it — the PIN state is card-global anyway.
    fn reset_security_state(&mut self) -> Result<(), CardError> {
        use super::link::CardState;
        self.link.state.forget_card_state();
        self.link.transport.reconnect(true)?;
        Ok(())
    }

    /// On logical channel 1: the caller opens it first (a PIN status query) before the
    /// reader sends this.
    fn pin_verify_template(&self, kind: PinKind) -> Option<Vec<u8>> {
        verify_template::<Cps4>(kind)
    }

    /// VERIFY of the old PIN, then `01 24 01 81 08 <new>` (§6.2).
    fn pin_change_templates(&self) -> Option<PinChangeTemplate> {
        let user = Cps4::pin_reference(PinKind::User);
        Some(PinChangeTemplate::VerifyThenNew {
            verify: verify_template::<Cps4>(PinKind::User)?,
            change: template_bytes(&apdus::change_new_only(user, &BLANK_PIN_BLOCK))?,
        })
    }

    fn key_role(&self, key: KeyRef) -> Option<KeyRole> {
        match key {
            KeyRef::CPS4_SIGNATURE => Some(KeyRole::Signature),
            KeyRef::CPS4_AUTHENTICATION => Some(KeyRole::Authentication),
            _ => None,
        }
    }

    fn supports(&self, key: KeyRef, alg: SignAlgorithm) -> bool {
        match (self.key_role(key), alg) {
            (None, _) => false,
            // raw RSA goes through PSO DECIPHER, whose CT key is always 20 (§5)
            (Some(KeyRole::Signature), SignAlgorithm::RawRsa) => false,
            (Some(_), _) => true,
        }
    }

    fn supports_decipher(&self, key: KeyRef, _padding: DecipherPadding) -> bool {
        self.key_role(key) == Some(KeyRole::Authentication)
    }

    fn sign(
        &mut self,
        key: KeyRef,
        alg: SignAlgorithm,
        input: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let role = self.role(key)?;
        if !self.supports(key, alg) {
            return Err(CardError::Unsupported(
                "raw RSA with the signature key (PSO DECIPHER uses the authentication key)",
            ));
        }
        match (role, alg) {
            (_, SignAlgorithm::Pkcs1Message(h)) => {
                let mut hasher = MessageHasher::new(h);
                hasher.update(input);
                self.sign_message(key, &hasher)
            }
            (_, SignAlgorithm::Pkcs1Digest(h)) => self.sign_digest(key, role, h, input),
            (KeyRole::Signature, SignAlgorithm::Pkcs1Raw) => {
                let (h, digest) = signature_key_digest(input)?;
                self.cds(key, apdus::pkcs1_alg(h), &digest)
            }
            (_, SignAlgorithm::Pkcs1Raw) => self.sign_padded(key, input),
            (_, SignAlgorithm::PssDigest(h)) => {
                require_digest_len(h, input)?;
                self.cds(key, apdus::pss_alg(h), input)
            }
            (_, SignAlgorithm::RawRsa) => Ok(self.raw_rsa(key, input)?.to_vec()),
        }
    }

    fn sign_message(&mut self, key: KeyRef, hasher: &MessageHasher) -> Result<Vec<u8>, CardError> {
        let role = self.role(key)?;
        let h = hasher.alg();
        let digest = hasher.clone().finish();
        self.sign_digest(key, role, h, &digest)
    }

    fn decipher(
        &mut self,
        key: KeyRef,
        padding: DecipherPadding,
        cryptogram: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CardError> {
        self.role(key)?;
        if !self.supports_decipher(key, padding) {
            return Err(CardError::Unsupported(
                "CPS4 deciphers with the authentication key only",
            ));
        }
        let block = self.raw_rsa(key, cryptogram)?;
        match padding {
            DecipherPadding::Raw => Ok(block),
            DecipherPadding::Pkcs1v15 => unpad_type2(&block),
        }
    }
}

#[cfg(test)]
mod tests;
