//! The error of the token and signing layers. Each variant means one thing a caller (the
//! PKCS#11 module maps them to `CK_RV` in one place, objects.md §7) can act upon.

use crate::card::CardError;
use crate::crypto::CryptoError;

/// Everything a token or signing operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a CPS card: unknown ATR, or EF.SN.ICC without the CPS issuer prefix
    /// (CKR_TOKEN_NOT_RECOGNIZED; objects.md §1). No token exists.
    #[error("card not recognized: {0}")]
    NotRecognized(String),
    /// No such object on this token (stale or foreign [`ObjectId`](super::ObjectId)).
    #[error("no such object on this token")]
    ObjectNotFound,
    /// The card cannot do this mechanism at all (e.g. PSS on a CPS3, README §4), checked
    /// before any APDU (CKR_MECHANISM_INVALID).
    #[error("mechanism not supported by this card: {0}")]
    MechanismInvalid(String),
    /// The key exists and the card knows the mechanism, but not with this key or for this
    /// use (signature key asked to decrypt, raw RSA with the signature key...)
    /// (CKR_KEY_FUNCTION_NOT_PERMITTED).
    #[error("this key cannot do that: {0}")]
    KeyFunctionNotPermitted(&'static str),
    /// Mechanism parameters this key cannot honour (PSS hash/MGF/salt, CKR_MECHANISM_PARAM_INVALID).
    #[error("invalid mechanism parameters: {0}")]
    MechanismParamInvalid(&'static str),
    /// Input longer (or shorter) than the mechanism allows with this key (CKR_DATA_LEN_RANGE).
    #[error("input of {len} bytes is out of range for this mechanism and key (at most {max})")]
    DataLenRange { len: usize, max: usize },
    /// Input the mechanism cannot take (CKR_DATA_INVALID).
    #[error("invalid input: {0}")]
    DataInvalid(&'static str),
    /// A cryptogram that does not decrypt to a valid padding (CKR_ENCRYPTED_DATA_INVALID).
    #[error("the encrypted data is invalid")]
    EncryptedDataInvalid,
    /// Software verification failed (C_Verify: CKR_SIGNATURE_INVALID).
    #[error("the signature is invalid")]
    SignatureInvalid,
    /// The card returned a signature that does not verify with the certificate's public key
    /// (card fault): nothing is returned (CKR_DEVICE_ERROR).
    #[error("the card returned a signature that does not verify with its certificate; discarded")]
    CardSignatureInvalid,
    /// The key has no certificate, so its signatures cannot be checked before they are
    /// returned: refused (CKR_KEY_FUNCTION_NOT_PERMITTED).
    #[error("the key has no certificate: its signatures could not be verified")]
    NoCertificate,
    /// A PIN or PUK of the wrong format, refused before any APDU (CKR_PIN_LEN_RANGE /
    /// CKR_PIN_INCORRECT, DESIGN §5).
    #[error("wrong PIN format: {0}")]
    PinFormat(&'static str),
    /// Wrong PIN or PUK; `tries_left` 0 means it is now blocked (CKR_PIN_INCORRECT, CPS4 0 →
    /// CKR_PIN_LOCKED, objects.md §7).
    #[error("incorrect PIN, {tries_left} tries left")]
    PinIncorrect { tries_left: u8 },
    /// The PIN (or PUK) is blocked (CKR_PIN_LOCKED).
    #[error("the PIN is blocked")]
    PinLocked,
    /// The operation needs the PIN verified (CKR_USER_NOT_LOGGED_IN); after a card reset the
    /// card has forgotten it.
    #[error("the PIN must be verified first")]
    NotLoggedIn,
    /// The card (interface) has no PIN: CPS3 contactless (CKR_USER_PIN_NOT_INITIALIZED).
    #[error("this card has no PIN")]
    NoPin,
    /// Write to an object that is not modifiable (CKR_ATTRIBUTE_READ_ONLY).
    #[error("the object is not modifiable")]
    ReadOnly,
    /// The user cancelled the PIN entry (pinentry, pinpad) (CKR_FUNCTION_CANCELED).
    #[error("the PIN entry was cancelled")]
    PinEntryCancelled,
    /// The pinpad or pinentry program failed (CKR_FUNCTION_FAILED).
    #[error("PIN entry failed: {0}")]
    PinEntry(String),
    /// The card was removed (CKR_DEVICE_REMOVED / CKR_TOKEN_NOT_PRESENT).
    #[error("the card was removed")]
    CardRemoved,
    /// Another application reset the card: its PIN state is lost; nothing was replayed that
    /// carries a PIN (CKR_DEVICE_ERROR; the token is logged out).
    #[error("the card was reset by another application; log in again")]
    CardReset,
    /// A certificate on the card cannot be parsed.
    #[error("unreadable certificate {path}: {reason}")]
    BadCertificate { path: String, reason: String },
    /// Any other card failure.
    #[error(transparent)]
    Card(CardError),
}

impl From<CardError> for TokenError {
    fn from(e: CardError) -> Self {
        match e {
            CardError::NotRecognized(m) => TokenError::NotRecognized(m),
            CardError::PinFormat(m) => TokenError::PinFormat(m),
            CardError::PinIncorrect { tries_left } => TokenError::PinIncorrect { tries_left },
            CardError::PinBlocked => TokenError::PinLocked,
            CardError::SecurityNotSatisfied => TokenError::NotLoggedIn,
            CardError::CardRemoved => TokenError::CardRemoved,
            CardError::CardReset => TokenError::CardReset,
            e => TokenError::Card(e),
        }
    }
}

impl From<CryptoError> for TokenError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::InputTooLong { len, max } => TokenError::DataLenRange { len, max },
            CryptoError::WrongHashLength { expected, got } => TokenError::DataLenRange {
                len: got,
                max: expected,
            },
            CryptoError::BadParameters(m) => TokenError::MechanismParamInvalid(m),
            CryptoError::BadSignature => TokenError::SignatureInvalid,
            CryptoError::BadPadding => TokenError::EncryptedDataInvalid,
            CryptoError::BadKey(m) => TokenError::BadCertificate {
                path: String::new(),
                reason: m.to_string(),
            },
        }
    }
}

impl TokenError {
    /// True when the card's state was lost (reset, removal): cached PIN state is stale.
    pub fn is_card_event(&self) -> bool {
        matches!(self, TokenError::CardRemoved | TokenError::CardReset)
    }
}
