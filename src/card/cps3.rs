//! CPS3 (IAS-ECC) driver, after CPS3.md. T=0, CLA `00`, short APDUs, chaining for PSO
//! DECIPHER only; READ BINARY and GET RESPONSE in 256-byte chunks (EF.ATR I/O buffer `0100`,
//! §2: the ANS driver's 0xE7 cap costs one more GET RESPONSE per signature for nothing).
//!
//! APDU economy, within what the profile says the card accepts:
//! - EF.SN.ICC by SFI (`00 B0 9C 00 0C`, §6.2; what OpenSC reads on real cards), one APDU;
//! - PIN state by an empty VERIFY (`00 20 00 01`, §5.2/§3.3), one APDU instead of SELECT MF +
//!   GET DATA + GET RESPONSE (still available: [`Cps3Driver::pin_counters`]);
//! - the application DF is reselected before a key operation only when the driver does not
//!   know it is current; if the card then refuses as if it were not (`6A 88`, `6A 82`,
//!   `69 85`), the DF is selected and the operation redone once (no PIN involved, nothing
//!   consumed). MSEs are always sent: another application may have changed the SE, and a
//!   stale HT/DST would sign with the wrong hash.

mod apdus;
mod cps2ter;

pub use apdus::MAX_INTERNAL_AUTH;

use self::apdus::Template;
use super::detect::{CardKind, Generation};
use super::driver::CardDriver;
use super::driver_core::{
    common_card_driver_methods, require_digest_len, signature, signature_key_digest,
    template_bytes, verify_template, Dialect, State, BLANK_PIN_BLOCK,
};
use super::hash::{CardHashInput, HashAlg, MessageHasher};
use super::link::{Io, Link, Replay};
use super::path::FilePath;
use super::pin::Pin;
use super::pkcs15::tlv::{uint, Fields, Reader, Tag};
use super::rsa_pad::digest_info;
use super::types::{
    Cps2terFile, DecipherPadding, KeyRef, KeyRole, PinChangeTemplate, PinKind, PinStatus,
    SignAlgorithm,
};
use super::CardError;
use crate::apdu::{Command, ExchangeRules};
use crate::transport::Transport;
use zeroize::Zeroizing;

/// Exchange rules of CPS3 (§2): 255-byte blocks, 256-byte answers.
pub const RULES: ExchangeRules = ExchangeRules {
    max_send: 255,
    max_recv: apdus::MAX_READ,
    follow_61: true,
};

/// How CPS3 says what both generations say: CLA `00`, SELECT by path from the MF (§6.1), FCP
/// `62` (§3.1), EF.SN.ICC by SFI, commands sent as they are.
pub(crate) struct Cps3;

pub(crate) type Cps3State = State<Cps3>;

impl Dialect for Cps3 {
    const CLA: u8 = apdus::CLA;
    const MAX_READ: usize = apdus::MAX_READ;
    const MAX_WRITE: usize = apdus::MAX_WRITE;
    const NO_FILE_INFO: &'static str = "SELECT of an EF returned no FCP";
    const NO_FILE_SIZE: &'static str = "FCP without a file size";

    /// `00 A4 09 04 <path>`: the EF and its FCP.
    fn select_ef(path: &FilePath) -> Command {
        apdus::select_path(path, true)
    }

    /// `00 A4 09 0C <path>`: no FCP (the real MF answers none, §3.3).
    fn select_df(df: &FilePath) -> Command {
        apdus::select_path(df, false)
    }

    /// AODF `80 01 01` / `80 01 02` (§5).
    fn pin_reference(kind: PinKind) -> u8 {
        match kind {
            PinKind::User => 0x01,
            PinKind::Puk => 0x02,
        }
    }

    /// `00 B0 9C 00 0C` (SFI 1C of the MF). The SFI names an EF of the current DF: when it is
    /// not the MF the read fails (or finds another file), then the MF is selected and the read
    /// done again.
    fn read_serial(io: &mut Io<'_, Cps3State>) -> Result<Vec<u8>, CardError> {
        const LEN: usize = 12;
        let cmd = apdus::read_binary_sfi(apdus::SFI_EF_SN, LEN);
        if io.st.current_df.is_none() || io.st.current_df == Some(FilePath::mf()) {
            let r = io.send(&cmd)?;
            if r.is_success() && super::pkcs15::parse_ef_sn(r.data()).is_ok() {
                return Ok(r.data().to_vec());
            }
        }
        io.select_df(&FilePath::mf())?;
        Ok(io.check("READ BINARY", &cmd)?.data().to_vec())
    }
}

/// PIN/PUK counters from the SDO (GET DATA, §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinCounters {
    /// `9A`: tries of a fresh counter.
    pub max_tries: u8,
    /// `9B`: tries left.
    pub tries_left: u8,
    /// `9D`: PUK usages left (unblocks), when the card keeps that counter.
    pub usage_left: Option<u16>,
}

/// A CPS3 card (contact or contactless).
pub struct Cps3Driver {
    link: Link<Cps3State>,
}

impl Cps3Driver {
    /// Wraps a transport whose card is a CPS3 of `kind`. No APDU is sent.
    pub fn new(transport: Box<dyn Transport>, kind: CardKind) -> Result<Self, CardError> {
        if kind.generation() != Generation::Cps3 {
            return Err(CardError::NotRecognized(format!("{kind} is not a CPS3")));
        }
        // `3F00/0001` (contact) or `3F00/0002` (contactless, §10)
        let app = if kind == CardKind::Cps3Contactless {
            0x0002
        } else {
            0x0001
        };
        let state = State::new(kind, FilePath::from_fids(&[app]), Cps3);
        Ok(Cps3Driver {
            link: Link::new(transport, state, RULES),
        })
    }

    /// The PIN or PUK counters from the card's SDO: SELECT MF + GET DATA (+ GET RESPONSE),
    /// as the ANS driver reads them (§5.1). Gives the PUK usage counter, which the empty
    /// VERIFY of [`CardDriver::pin_status`] cannot.
    pub fn pin_counters(&mut self, kind: PinKind) -> Result<PinCounters, CardError> {
        self.require_pin()?;
        self.link.run(Replay::Allowed, |io| {
            io.select_df(&FilePath::mf())?;
            let r = io.check("GET DATA", &apdus::get_data_pin(Cps3::pin_reference(kind)))?;
            parse_pin_counters(r.data()).ok_or(CardError::BadAnswer(
                "GET DATA answer without 9A/9B counters",
            ))
        })
    }

    fn require_pin(&self) -> Result<(), CardError> {
        if self.link.state.kind.has_pin() {
            Ok(())
        } else {
            Err(CardError::Unsupported(
                "no PIN on the CPS3 contactless interface",
            ))
        }
    }

    fn key_role_of(kind: CardKind, key: KeyRef) -> Option<KeyRole> {
        match (kind, key) {
            (CardKind::Cps3Contact, KeyRef::CPS3_SIGNATURE) => Some(KeyRole::Signature),
            (CardKind::Cps3Contact, KeyRef::CPS3_AUTHENTICATION) => Some(KeyRole::Authentication),
            (CardKind::Cps3Contactless, KeyRef::CPS3_TECHNICAL) => Some(KeyRole::Technical),
            _ => None,
        }
    }

    fn role(&self, key: KeyRef) -> Result<KeyRole, CardError> {
        Self::key_role_of(self.link.state.kind, key).ok_or(CardError::NotFound)
    }

    /// PKCS#1 v1.5 with the card finishing the hash: MSE HT, PSO HASH, MSE DST, PSO CDS.
    fn sign_hash_on_card(&mut self, input: &CardHashInput) -> Result<Vec<u8>, CardError> {
        let k = self.link.state.modulus_bytes(KeyRef::CPS3_SIGNATURE);
        let h = input.alg;
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.check(
                    "MSE SET HT",
                    &apdus::mse_set(Template::Hash, apdus::hash_alg_ref(h), None),
                )?;
                io.check("PSO HASH", &apdus::pso_hash(input))?;
                io.mse_dst(h)?;
                let r = io.check(
                    "PSO COMPUTE DIGITAL SIGNATURE",
                    &apdus::pso_cds_after_hash(),
                )?;
                signature(r, k)
            })
        })
    }

    /// PKCS#1 v1.5 over a host hash: MSE DST, PSO CDS with the hash (§6.5).
    fn sign_digest(&mut self, h: HashAlg, digest: &[u8]) -> Result<Vec<u8>, CardError> {
        require_digest_len(h, digest)?;
        let k = self.link.state.modulus_bytes(KeyRef::CPS3_SIGNATURE);
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.mse_dst(h)?;
                let cmd = io.with_case4_le(apdus::pso_cds_with_hash(digest));
                let r = io.check("PSO COMPUTE DIGITAL SIGNATURE", &cmd)?;
                signature(r, k)
            })
        })
    }

    /// PKCS#1 type-1 padding done by the card over `data`: MSE AT, INTERNAL AUTHENTICATE.
    fn internal_authenticate(&mut self, key: KeyRef, data: &[u8]) -> Result<Vec<u8>, CardError> {
        if data.is_empty() || data.len() > apdus::MAX_INTERNAL_AUTH {
            return Err(CardError::InvalidInput(
                "INTERNAL AUTHENTICATE takes 1 to 102 bytes",
            ));
        }
        let k = self.link.state.modulus_bytes(key);
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.check(
                    "MSE SET AT",
                    &apdus::mse_set(
                        Template::Authentication,
                        apdus::ALG_INTERNAL_AUTH,
                        Some(key),
                    ),
                )?;
                let cmd = io.with_case4_le(apdus::internal_authenticate(data));
                let r = io.check("INTERNAL AUTHENTICATE", &cmd)?;
                signature(r, k)
            })
        })
    }
}

/// Finds `9A`, `9B`, `9D` in `70 { BF 81 xx { A0 { … } } }` (§5.1).
fn parse_pin_counters(data: &[u8]) -> Option<PinCounters> {
    let mut value = data;
    // descend through 70 and BF81xx wrappers to the A0 DOCP
    for _ in 0..3 {
        let tlv = Reader::new(value, "SDO").next_tlv().ok()??;
        if tlv.tag == Tag(0xA0) {
            value = tlv.value;
            break;
        }
        value = tlv.value;
    }
    let f = Fields::parse(value, "DOCP").ok()?;
    let byte = |t: u32| f.first(Tag(t)).and_then(|v| uint(v, "counter").ok());
    Some(PinCounters {
        max_tries: byte(0x9A)?.min(255) as u8,
        tries_left: byte(0x9B)?.min(255) as u8,
        usage_left: byte(0x9D).map(|u| u.min(0xFFFF) as u16),
    })
}

impl Io<'_, Cps3State> {
    fn mse_dst(&mut self, h: HashAlg) -> Result<(), CardError> {
        self.check(
            "MSE SET DST",
            &apdus::mse_set(
                Template::Signature,
                apdus::signature_alg_ref(h),
                Some(KeyRef::CPS3_SIGNATURE),
            ),
        )
        .map(drop)
    }
}

impl CardDriver for Cps3Driver {
    // kind, bind, read_file, file_size, write_file, get_challenge, transport, transport_mut,
    // into_transport: the same for both generations (driver_core.rs)
    common_card_driver_methods!();

    fn read_cps2ter(&mut self, file: Cps2terFile) -> Result<Vec<u8>, CardError> {
        if self.link.state.kind != CardKind::Cps3Contact {
            return Err(CardError::Unsupported(
                "the CPS2ter volet is read through the contacts",
            ));
        }
        self.link.run(Replay::Allowed, |io| cps2ter::read(io, file))
    }

    fn pin_status(&mut self, kind: PinKind) -> Result<PinStatus, CardError> {
        self.require_pin()?;
        self.link.pin_status(kind)
    }

    fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        self.require_pin()?;
        self.link.verify(pin)
    }

    /// `00 24 00 01 10 <old> <new>` (§5.3): the card checks the old PIN.
    fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError> {
        self.require_pin()?;
        if old.kind() != PinKind::User || new.kind() != PinKind::User {
            return Err(CardError::InvalidInput("change_pin changes the user PIN"));
        }
        let reference = Cps3::pin_reference(PinKind::User);
        let cmd = apdus::change_reference_data(reference, &old.block(), &new.block());
        self.link.run(Replay::Never, |io| {
            io.check_pin("CHANGE REFERENCE DATA", &cmd).map(drop)
        })
    }

    /// `00 2C 02 01 08 <new>` (§5.4), the PUK verified before.
    fn reset_pin(&mut self, new: &Pin) -> Result<(), CardError> {
        self.require_pin()?;
        if new.kind() != PinKind::User {
            return Err(CardError::InvalidInput("reset_pin sets the user PIN"));
        }
        let cmd = apdus::reset_retry_counter(Cps3::pin_reference(PinKind::User), &new.block());
        self.link.run(Replay::Never, |io| {
            io.check_pin("RESET RETRY COUNTER", &cmd).map(drop)
        })
    }

    /// Two APDUs: `00 A4 09 0C <path>` (no FCP), one READ BINARY.
    fn read_file_start(&mut self, path: &FilePath, len: usize) -> Result<Vec<u8>, CardError> {
        self.link.run(Replay::Allowed, |io| {
            io.select("SELECT", &apdus::select_path(path, false), path.parent())?;
            io.read_current(Some(len))
        })
    }

    /// SELECT of the root AID by name (§6.1: IAS-ECC's logout).
    fn reset_security_state(&mut self) -> Result<(), CardError> {
        self.link.run(Replay::Allowed, |io| {
            let cmd = io.with_case4_le(apdus::select_root_by_name());
            io.select("SELECT root AID", &cmd, FilePath::mf()).map(drop)
        })
    }

    fn pin_verify_template(&self, kind: PinKind) -> Option<Vec<u8>> {
        self.require_pin().ok()?;
        verify_template::<Cps3>(kind)
    }

    /// `00 24 00 01 10 <old> <new>` (§5.3).
    fn pin_change_templates(&self) -> Option<PinChangeTemplate> {
        self.require_pin().ok()?;
        let user = Cps3::pin_reference(PinKind::User);
        let cmd = apdus::change_reference_data(user, &BLANK_PIN_BLOCK, &BLANK_PIN_BLOCK);
        template_bytes(&cmd).map(PinChangeTemplate::OldAndNew)
    }

    fn key_role(&self, key: KeyRef) -> Option<KeyRole> {
        Self::key_role_of(self.link.state.kind, key)
    }

    fn supports(&self, key: KeyRef, alg: SignAlgorithm) -> bool {
        match (self.key_role(key), alg) {
            (None, _) | (_, SignAlgorithm::PssDigest(_)) | (_, SignAlgorithm::RawRsa) => false,
            // signature key: PSO CDS; authentication and technical keys: INTERNAL
            // AUTHENTICATE over a DigestInfo the host builds when it hashes
            (Some(_), _) => true,
        }
    }

    fn supports_decipher(&self, key: KeyRef, padding: DecipherPadding) -> bool {
        self.key_role(key) == Some(KeyRole::Authentication) && padding == DecipherPadding::Pkcs1v15
    }

    fn sign(
        &mut self,
        key: KeyRef,
        alg: SignAlgorithm,
        input: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let role = self.role(key)?;
        if !self.supports(key, alg) {
            return Err(CardError::Unsupported(match alg {
                SignAlgorithm::PssDigest(_) => "CPS3 has no RSA-PSS (TLS 1.3 needs CPS4)",
                SignAlgorithm::RawRsa => "CPS3 has no raw RSA",
                _ => "this mechanism with this key",
            }));
        }
        match (role, alg) {
            (_, SignAlgorithm::Pkcs1Message(h)) => {
                let mut hasher = MessageHasher::new(h);
                hasher.update(input);
                self.sign_message(key, &hasher)
            }
            (KeyRole::Signature, SignAlgorithm::Pkcs1Digest(h)) => self.sign_digest(h, input),
            (KeyRole::Signature, SignAlgorithm::Pkcs1Raw) => {
                let (h, digest) = signature_key_digest(input)?;
                self.sign_digest(h, &digest)
            }
            (_, SignAlgorithm::Pkcs1Digest(h)) => {
                self.internal_authenticate(key, &digest_info(h, input)?)
            }
            (_, SignAlgorithm::Pkcs1Raw) => self.internal_authenticate(key, input),
            (_, SignAlgorithm::PssDigest(_) | SignAlgorithm::RawRsa) => {
                Err(CardError::Unsupported("CPS3 has no RSA-PSS or raw RSA"))
            }
        }
    }

    fn sign_message(&mut self, key: KeyRef, hasher: &MessageHasher) -> Result<Vec<u8>, CardError> {
        let alg = SignAlgorithm::Pkcs1Message(hasher.alg());
        if !self.supports(key, alg) {
            return Err(CardError::Unsupported("this mechanism with this key"));
        }
        match self.role(key)? {
            KeyRole::Signature => {
                let input = hasher.card_input().ok_or(CardError::InvalidInput(
                    "empty message: the card cannot finish the hash of nothing \
                     (hash it on the host and sign the digest)",
                ))?;
                self.sign_hash_on_card(&input)
            }
            _ => {
                let digest = hasher.clone().finish();
                self.internal_authenticate(key, &digest_info(hasher.alg(), &digest)?)
            }
        }
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
                "CPS3 deciphers PKCS#1 v1.5 with the authentication key only",
            ));
        }
        let k = self.link.state.modulus_bytes(key);
        if cryptogram.len() != k {
            return Err(CardError::InvalidInput(
                "the cryptogram must be as long as the modulus",
            ));
        }
        self.link.run(Replay::Allowed, |io| {
            io.with_app_df(|io| {
                io.check(
                    "MSE SET CT",
                    &apdus::mse_set(Template::Confidentiality, apdus::ALG_DECIPHER, Some(key)),
                )?;
                let cmd = io.with_case4_le(apdus::pso_decipher(cryptogram));
                let r = io.send_masked(&cmd)?;
                if !r.is_success() {
                    return Err(CardError::from_status("PSO DECIPHER", r.sw));
                }
                Ok(r.into_data())
            })
        })
    }
}

#[cfg(test)]
mod tests;
