//! The `CardDriver` trait (DESIGN §3): one implementation per card generation, owning the
//! transport of its card. Every operation is one PC/SC transaction; inputs are checked before
//! any APDU; PIN commands are never replayed.

use super::binding::{CardBinding, FileCache};
use super::detect::CardKind;
use super::hash::MessageHasher;
use super::path::FilePath;
use super::pin::Pin;
use super::types::{
    Cps2terFile, DecipherPadding, KeyRef, KeyRole, PinChangeTemplate, PinKind, PinStatus,
    SignAlgorithm,
};
use super::CardError;
use crate::transport::Transport;
use zeroize::Zeroizing;

/// What the token and signing layers ask of a card.
pub trait CardDriver: Send {
    /// Which card and interface.
    fn kind(&self) -> CardKind;

    /// Reads EF.SN.ICC and the PKCS#15 application (ODF, TokenInfo, AODF, PrKDF, CDF, DODF),
    /// taking public files from `cache` when it has them. Fails with
    /// [`CardError::NotRecognized`] when EF.SN.ICC is not a CPS serial.
    fn bind(&mut self, cache: Option<&mut dyn FileCache>) -> Result<CardBinding, CardError>;

    /// [`CardDriver::bind`] for a card whose EF.SN.ICC the caller already knows (it proved
    /// which card this is another way: the token's warm open, which compares the head of a
    /// cached certificate): EF.SN.ICC is not read again.
    fn bind_known(
        &mut self,
        ef_sn: &[u8],
        cache: Option<&mut dyn FileCache>,
    ) -> Result<CardBinding, CardError>;

    /// The whole content of a transparent EF (certificates, data objects), read in the largest
    /// chunks the card allows.
    fn read_file(&mut self, path: &FilePath) -> Result<Vec<u8>, CardError>;

    /// The first `len` bytes of a transparent EF (fewer if the file is shorter): the token's
    /// check of a cached certificate (its header, serial number and issuer). The
    /// default reads the whole file.
    fn read_file_start(&mut self, path: &FilePath, len: usize) -> Result<Vec<u8>, CardError> {
        let mut content = self.read_file(path)?;
        content.truncate(len);
        Ok(content)
    }

    /// Resets the card's security state (PIN and PUK no longer verified) for the logout of
    /// issue 6 item 8. CPS3: SELECT of the root AID by name (IAS-ECC, CPS3.md §6.1, §7).
    /// The default: [`CardError::Unsupported`].
    fn reset_security_state(&mut self) -> Result<(), CardError> {
        Err(CardError::Unsupported("resetting the security state"))
    }

    /// The VERIFY APDU a pinpad reader completes with the digits it reads (PC/SC part 10
    /// `FEATURE_VERIFY_PIN_DIRECT`): header, `Lc` = 8 and an `FF`-filled block (CPS3.md §5.2,
    /// CPS4.md §6.2). `None`: no PIN of this kind.
    fn pin_verify_template(&self, kind: PinKind) -> Option<Vec<u8>> {
        let _ = kind;
        None
    }

    /// How a pinpad changes the user PIN on this card.
    fn pin_change_templates(&self) -> Option<PinChangeTemplate> {
        None
    }

    /// How many resets by another application the driver has recovered from (reconnected,
    /// operation replayed or refused): when it moves, the card's PIN state was lost.
    fn card_resets(&self) -> u64 {
        0
    }

    /// The size of an EF from its FCP/FCI, without reading it.
    fn file_size(&mut self, path: &FilePath) -> Result<usize, CardError>;

    /// Replaces the whole content of an EF (CPS_DATA): `data` zero-padded to the file size
    /// and written from offset 0 (CPS3.md §6.2, CPS4.md §6.1). Needs the PIN.
    fn write_file(&mut self, path: &FilePath, data: &[u8]) -> Result<(), CardError>;

    /// A CPS2ter file (CPS3 volet, CLA `A0`, CPS3.md §9). CPS4 keeps these in ChipDoc files
    /// listed in its DODF: [`CardError::Unsupported`] there.
    fn read_cps2ter(&mut self, file: Cps2terFile) -> Result<Vec<u8>, CardError>;

    /// The state of the PIN or PUK: verified, tries left, blocked (one APDU).
    fn pin_status(&mut self, kind: PinKind) -> Result<PinStatus, CardError>;

    /// VERIFY the PIN or the PUK (the kind of `pin` says which). `PinIncorrect { tries_left }`
    /// on a wrong code; never retried.
    fn verify(&mut self, pin: &Pin) -> Result<(), CardError>;

    /// Changes the user PIN (the old one is checked by the card).
    fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError>;

    /// Sets a new user PIN and resets its counter; the PUK must have been verified in this
    /// card session ([`CardDriver::verify`] with the PUK, as C_Login(CKU_SO) does).
    fn reset_pin(&mut self, new: &Pin) -> Result<(), CardError>;

    /// Unblocks: VERIFY the PUK, then [`CardDriver::reset_pin`].
    fn unblock_pin(&mut self, puk: &Pin, new: &Pin) -> Result<(), CardError> {
        if puk.kind() != PinKind::Puk || new.kind() != PinKind::User {
            return Err(CardError::InvalidInput(
                "unblock takes the PUK and a new user PIN",
            ));
        }
        self.verify(puk)?;
        self.reset_pin(new)
    }

    /// The role of a key reference on this card, `None` if the card has no such key.
    fn key_role(&self, key: KeyRef) -> Option<KeyRole>;

    /// True when this card can sign with `key` and `alg` (what the token lists as mechanisms).
    fn supports(&self, key: KeyRef, alg: SignAlgorithm) -> bool;

    /// True when this card can decipher with `key` and `padding`.
    fn supports_decipher(&self, key: KeyRef, padding: DecipherPadding) -> bool;

    /// Signs `input` (meaning per [`SignAlgorithm`]) with `key`; returns the signature
    /// (modulus-length bytes).
    fn sign(&mut self, key: KeyRef, alg: SignAlgorithm, input: &[u8])
        -> Result<Vec<u8>, CardError>;

    /// RSASSA-PKCS1-v1_5 over a message fed incrementally (C_SignUpdate): as
    /// `sign(key, Pkcs1Message(hasher.alg()), message)`.
    fn sign_message(&mut self, key: KeyRef, hasher: &MessageHasher) -> Result<Vec<u8>, CardError>;

    /// Deciphers an RSA cryptogram (modulus length) with `key`.
    fn decipher(
        &mut self,
        key: KeyRef,
        padding: DecipherPadding,
        cryptogram: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CardError>;

    /// `len` random bytes from the card (GET CHALLENGE in 8-byte steps).
    fn get_challenge(&mut self, len: usize) -> Result<Vec<u8>, CardError>;

    /// The transport (reader name, ATR, pinpad).
    fn transport(&self) -> &dyn Transport;

    /// The transport, mutable.
    fn transport_mut(&mut self) -> &mut dyn Transport;

    /// Gives the transport back.
    fn into_transport(self: Box<Self>) -> Box<dyn Transport>;
}
