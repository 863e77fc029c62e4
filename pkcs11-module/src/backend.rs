//! The boundary between the PKCS#11 module and the token layer (DESIGN §1: "the module is a thin,
//! checked translation of the C ABI to token/sign calls").
//!
//! Readers come from a [`SlotSource`]; each opened reader is a [`SlotDevice`]; the card in it,
//! once recognised, is a [`TokenBackend`]. The module owns everything PKCS#11-specific: slot IDs,
//! session and object handles, login state shared by the sessions of a token, operation state,
//! templates and the two-call convention. A backend only answers questions about its reader and
//! card, in the module's [`Error`] vocabulary (the adapter of the real
//! `cpscard` token converts its own errors once, in its own file).
//!
//! Locking: the module calls a `SlotDevice`/`TokenBackend` under that slot's lock only, never
//! under the library's global lock (DESIGN §4), so a backend may block on APDUs.

use cryptoki_sys::{
    CK_ATTRIBUTE_TYPE, CK_FLAGS, CK_MECHANISM_TYPE, CK_RSA_PKCS_MGF_TYPE, CK_ULONG,
};

use crate::error::{Error, Result};

/// Where slots come from: PC/SC readers, the emulated reader, ... Created at `C_Initialize`,
/// dropped at `C_Finalize`.
pub trait SlotSource: Send + Sync {
    /// Names of the readers connected now. A name identifies its reader for the library's life:
    /// the module gives each new name a new slot ID and keeps it.
    fn reader_names(&self) -> Result<Vec<String>>;
    /// Opens the reader called `name` (no card access yet).
    fn open(&self, name: &str) -> Result<Box<dyn SlotDevice>>;
    /// Blocks up to `timeout` until a reader or a card of this source may have changed
    /// (`C_WaitForSlotEvent`); `Ok(false)` when this source cannot wait (the module then
    /// polls). Called without any lock held; [`SlotSource::cancel`] ends it early.
    fn wait(&self, timeout: std::time::Duration) -> Result<bool> {
        let _ = timeout;
        Ok(false)
    }
    /// Ends a [`SlotSource::wait`] blocked in another thread (`C_Finalize`).
    fn cancel(&self) {}
}

/// One reader (= one slot, objects.md §1).
pub trait SlotDevice: Send {
    /// Fixed facts about the reader for `C_GetSlotInfo`.
    fn description(&self) -> SlotDescription;
    /// Whether a card is in the reader now. Cheap (no APDU): the module asks it on
    /// `C_GetSlotList`, `C_GetSlotInfo`, `C_GetTokenInfo`, `C_OpenSession` and while
    /// `C_WaitForSlotEvent` waits.
    fn card_state(&mut self) -> Result<CardState>;
    /// Builds the token of the card now present (may send APDUs). `Err(TokenNotRecognized)` for a
    /// card that is not a CPS card (objects.md §1), `Err(TokenNotPresent)` when there is no card.
    fn token(&mut self) -> Result<Box<dyn TokenBackend>>;
}

/// Facts about a reader for `CK_SLOT_INFO` (objects.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDescription {
    /// Reader name; the module shortens names over 64 bytes as objects.md §1 says.
    pub description: String,
    /// Blank in the original (objects.md §1).
    pub manufacturer: String,
    /// `CKF_REMOVABLE_DEVICE`.
    pub removable: bool,
    /// `CKF_HW_SLOT`.
    pub hardware: bool,
}

impl SlotDescription {
    /// A removable hardware reader with a blank manufacturer, as the original shows every reader.
    pub fn reader(name: &str) -> Self {
        SlotDescription {
            description: name.to_string(),
            manufacturer: String::new(),
            removable: true,
            hardware: true,
        }
    }
}

/// Presence of a card in a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// No card.
    Absent,
    /// A card is present. `insertion` changes whenever a card is inserted (the same card
    /// re-inserted, or another one), so that the module knows its token and sessions are stale.
    Present { insertion: u64 },
}

/// Token facts for `CK_TOKEN_INFO` (objects.md §2). The module blank-pads the texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDescription {
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial_number: String,
    /// `CKF_*` token flags, including the PIN state flags read from the card.
    pub flags: CK_FLAGS,
    pub min_pin_len: CK_ULONG,
    pub max_pin_len: CK_ULONG,
}

/// One entry of `C_GetMechanismList` / `C_GetMechanismInfo` (objects.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MechanismDescription {
    pub mechanism: CK_MECHANISM_TYPE,
    pub min_key_bits: CK_ULONG,
    pub max_key_bits: CK_ULONG,
    /// `CKF_SIGN`, `CKF_DECRYPT`, `CKF_HW`, ...
    pub flags: CK_FLAGS,
}

/// Identity of an object within one token (one insertion of one card). The module maps it to an
/// object handle that stays the same for the token's life.
pub type ObjectKey = u64;

/// One object as a set of attributes (objects.md §3-§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: ObjectKey,
    pub attributes: Vec<Attribute>,
}

/// One attribute of an object. Values of `CK_ULONG` and `CK_BBOOL` attributes are stored in the
/// caller's native layout (use [`Attribute::ulong`] and [`Attribute::bool`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub kind: CK_ATTRIBUTE_TYPE,
    pub value: AttributeValue,
}

/// What an attribute holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// The value, ready.
    Bytes(Vec<u8>),
    /// Exists but can never be revealed (`CKR_ATTRIBUTE_SENSITIVE`: private key components).
    Sensitive,
    /// Exists, read from the card only when asked ([`TokenBackend::read_attribute`]); `len`
    /// answers a size query without reading, when known (objects.md §5: a CKA_VALUE size query
    /// is answered from the FCP size).
    Deferred { len: Option<usize> },
}

impl Attribute {
    pub fn bytes(kind: CK_ATTRIBUTE_TYPE, value: impl Into<Vec<u8>>) -> Self {
        Attribute {
            kind,
            value: AttributeValue::Bytes(value.into()),
        }
    }
    pub fn ulong(kind: CK_ATTRIBUTE_TYPE, value: CK_ULONG) -> Self {
        Self::bytes(kind, value.to_ne_bytes())
    }
    pub fn bool(kind: CK_ATTRIBUTE_TYPE, value: bool) -> Self {
        Self::bytes(kind, [u8::from(value)])
    }
    pub fn sensitive(kind: CK_ATTRIBUTE_TYPE) -> Self {
        Attribute {
            kind,
            value: AttributeValue::Sensitive,
        }
    }
    pub fn deferred(kind: CK_ATTRIBUTE_TYPE, len: Option<usize>) -> Self {
        Attribute {
            kind,
            value: AttributeValue::Deferred { len },
        }
    }
}

impl ObjectEntry {
    /// The attribute of type `kind`, if the object has it.
    pub fn get(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<&AttributeValue> {
        self.attributes
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| &a.value)
    }
    /// A ready `CK_BBOOL` attribute as `bool` (absent or not ready → `None`).
    pub fn get_bool(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<bool> {
        match self.get(kind) {
            Some(AttributeValue::Bytes(v)) if v.len() == 1 => Some(v[0] != 0),
            _ => None,
        }
    }
    /// A ready `CK_ULONG` attribute (absent or malformed → `None`).
    pub fn get_ulong(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<CK_ULONG> {
        match self.get(kind) {
            Some(AttributeValue::Bytes(v)) => {
                let b: [u8; std::mem::size_of::<CK_ULONG>()] = v.as_slice().try_into().ok()?;
                Some(CK_ULONG::from_ne_bytes(b))
            }
            _ => None,
        }
    }
}

/// `CKU_USER` or `CKU_SO` (objects.md §6: `C_Login(CKU_SO)` + `C_InitPIN` unblock the PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    User,
    So,
}

/// A PIN as given by the application, or none when the token has a protected authentication
/// path (pinpad, pinentry: DESIGN §5). The module zeroizes its copy after the call.
#[derive(Debug, Clone, Copy)]
pub enum Pin<'a> {
    Given(&'a [u8]),
    ProtectedPath,
}

/// The four operations with a token key (`C_SignInit`, `C_VerifyInit`, `C_EncryptInit`,
/// `C_DecryptInit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Sign,
    Verify,
    Encrypt,
    Decrypt,
}

/// A mechanism with its parameter, checked by the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mechanism {
    pub kind: CK_MECHANISM_TYPE,
    pub param: MechanismParam,
}

/// Mechanism parameters the module understands; anything else reaches the backend raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MechanismParam {
    None,
    /// `CK_RSA_PKCS_PSS_PARAMS` (PKCS#11 3.0 mechanisms §2.1.3).
    Pss {
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        salt_len: CK_ULONG,
    },
    Raw(Vec<u8>),
}

/// The card in a slot, seen as a token (DESIGN §3 `Token`). Methods may send APDUs.
pub trait TokenBackend: Send {
    /// Token info; the PIN flags come from the live tries counter (objects.md §2).
    fn info(&mut self) -> Result<TokenDescription>;
    /// What this card can really do, in `C_GetMechanismList` order (objects.md §6). The module
    /// adds its software digests in front.
    fn mechanisms(&self) -> Vec<MechanismDescription>;
    /// The token's objects. Called again after login and logout (`logged_in`): private objects
    /// may only be readable then. Keys must identify the same object across calls.
    fn objects(&mut self, logged_in: bool) -> Result<Vec<ObjectEntry>>;
    /// Checks at `C_xInit` that `key` can do `operation` with `mechanism` and its parameters
    /// (no APDU): PSS parameters that do not fit the mechanism or the key are
    /// `CKR_MECHANISM_PARAM_INVALID` here, before any data is given.
    fn check(&mut self, operation: Operation, key: ObjectKey, mechanism: &Mechanism) -> Result<()> {
        let _ = (operation, key, mechanism);
        Ok(())
    }
    /// Length of a [`AttributeValue::Deferred`] attribute without its value, if the backend
    /// can tell (objects.md §5: a data object's size comes from its FCP, not from reading it).
    fn attribute_len(&mut self, key: ObjectKey, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<usize>> {
        let _ = (key, kind);
        Ok(None)
    }
    /// Value of a [`AttributeValue::Deferred`] attribute.
    fn read_attribute(&mut self, key: ObjectKey, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>> {
        let _ = (key, kind);
        Err(Error::AttributeTypeInvalid)
    }
    /// `C_SetAttributeValue` (objects.md §5: only CKA_VALUE of CPS_DATA).
    fn write_attribute(
        &mut self,
        key: ObjectKey,
        kind: CK_ATTRIBUTE_TYPE,
        value: &[u8],
    ) -> Result<()> {
        let _ = (key, kind, value);
        Err(Error::AttributeReadOnly)
    }
    /// Presents the PIN. Never retried by the module (COMMON: PIN tries are precious).
    fn login(&mut self, user: UserType, pin: Pin<'_>) -> Result<()>;
    /// Resets the card's security state.
    fn logout(&mut self) -> Result<()>;
    /// `C_InitPIN` (after `C_Login(CKU_SO)`: unblock with the PUK).
    fn init_pin(&mut self, pin: Pin<'_>) -> Result<()> {
        let _ = pin;
        Err(Error::FunctionNotSupported)
    }
    /// `C_SetPIN`.
    fn set_pin(&mut self, user: Option<UserType>, old: Pin<'_>, new: Pin<'_>) -> Result<()> {
        let _ = (user, old, new);
        Err(Error::FunctionNotSupported)
    }
    /// Signs `data` (the whole message for hash-and-sign mechanisms) with private key `key`.
    fn sign(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>>;
    /// Verifies with public key `key` (software).
    fn verify(
        &mut self,
        key: ObjectKey,
        mechanism: &Mechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let _ = (key, mechanism, data, signature);
        Err(Error::FunctionNotSupported)
    }
    /// Encrypts with public key `key` (software, objects.md §6).
    fn encrypt(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let _ = (key, mechanism, data);
        Err(Error::FunctionNotSupported)
    }
    /// Deciphers with private key `key`.
    fn decrypt(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let _ = (key, mechanism, data);
        Err(Error::FunctionNotSupported)
    }
    /// Fills `out` from the card's RNG (GET CHALLENGE).
    fn generate_random(&mut self, out: &mut [u8]) -> Result<()> {
        let _ = out;
        Err(Error::RandomNoRng)
    }
}
