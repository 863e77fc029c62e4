//! The module's error type and its one mapping to `CK_RV` (DESIGN §3, §9: "errors to `CK_RV` in
//! one `From` impl").
//!
//! Every layer below speaks its own error; the adapter that plugs the token layer in converts
//! those into [`Error`], and the shim turns [`Error`] into a `CK_RV` here and nowhere else.

use cryptoki_sys::*;

/// What can go wrong in a PKCS#11 call, in PKCS#11's words (PKCS#11 3.0 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cryptoki not initialized")]
    NotInitialized,
    #[error("cryptoki already initialized")]
    AlreadyInitialized,
    #[error("bad arguments: {0}")]
    ArgumentsBad(&'static str),
    #[error("cannot use the application's locking callbacks")]
    CantLock,
    #[error("function not supported")]
    FunctionNotSupported,
    #[error("internal error: {0}")]
    General(&'static str),
    #[error("buffer too small")]
    BufferTooSmall,
    #[error("invalid slot id")]
    SlotIdInvalid,
    #[error("no token in the slot")]
    TokenNotPresent,
    #[error("the card in the slot is not a CPS card")]
    TokenNotRecognized,
    #[error("the token was removed")]
    DeviceRemoved,
    #[error("device error: {0}")]
    DeviceError(String),
    #[error("device memory")]
    DeviceMemory,
    #[error("invalid session handle")]
    SessionHandleInvalid,
    #[error("parallel sessions not supported")]
    SessionParallelNotSupported,
    #[error("a read-only session exists")]
    SessionReadOnlyExists,
    #[error("a read/write SO session exists")]
    SessionReadWriteSoExists,
    #[error("the session is read-only")]
    SessionReadOnly,
    #[error("the token is write-protected")]
    TokenWriteProtected,
    #[error("invalid object handle")]
    ObjectHandleInvalid,
    #[error("invalid key handle")]
    KeyHandleInvalid,
    #[error("the key cannot do this")]
    KeyFunctionNotPermitted,
    #[error("the key type does not fit the mechanism or the operation")]
    KeyTypeInconsistent,
    #[error("invalid mechanism")]
    MechanismInvalid,
    #[error("invalid mechanism parameter")]
    MechanismParamInvalid,
    #[error("an operation of this kind is already active")]
    OperationActive,
    #[error("no operation of this kind is active")]
    OperationNotInitialized,
    #[error("attribute type invalid")]
    AttributeTypeInvalid,
    #[error("attribute value invalid")]
    AttributeValueInvalid,
    #[error("attribute is sensitive")]
    AttributeSensitive,
    #[error("attribute is read-only")]
    AttributeReadOnly,
    #[error("template incomplete")]
    TemplateIncomplete,
    #[error("template inconsistent")]
    TemplateInconsistent,
    #[error("invalid input data")]
    DataInvalid,
    #[error("input data length out of range")]
    DataLenRange,
    #[error("invalid encrypted data")]
    EncryptedDataInvalid,
    #[error("encrypted data length out of range")]
    EncryptedDataLenRange,
    #[error("invalid signature")]
    SignatureInvalid,
    #[error("signature length out of range")]
    SignatureLenRange,
    #[error("incorrect PIN")]
    PinIncorrect,
    #[error("PIN locked")]
    PinLocked,
    #[error("PIN length out of range")]
    PinLenRange,
    #[error("invalid PIN characters")]
    PinInvalid,
    #[error("PIN expired")]
    PinExpired,
    #[error("user not logged in")]
    UserNotLoggedIn,
    #[error("user already logged in")]
    UserAlreadyLoggedIn,
    #[error("another user already logged in")]
    UserAnotherAlreadyLoggedIn,
    #[error("user PIN not initialized")]
    UserPinNotInitialized,
    #[error("invalid user type")]
    UserTypeInvalid,
    #[error("no slot event")]
    NoEvent,
    #[error("random number generation not supported")]
    RandomNoRng,
    #[error("random seeding not supported")]
    RandomSeedNotSupported,
    #[error("cancelled")]
    FunctionCanceled,
    #[error("function not parallel")]
    FunctionNotParallel,
    #[error("function failed: {0}")]
    FunctionFailed(String),
    /// A vendor-defined return value (`CKR_VENDOR_DEFINED + n`, objects.md §7).
    #[error("vendor error {0:#x}")]
    Vendor(CK_ULONG),
}

/// Result of the safe functions behind the shims.
pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for CK_RV {
    fn from(e: Error) -> CK_RV {
        match e {
            Error::NotInitialized => CKR_CRYPTOKI_NOT_INITIALIZED,
            Error::AlreadyInitialized => CKR_CRYPTOKI_ALREADY_INITIALIZED,
            Error::ArgumentsBad(_) => CKR_ARGUMENTS_BAD,
            Error::CantLock => CKR_CANT_LOCK,
            Error::FunctionNotSupported => CKR_FUNCTION_NOT_SUPPORTED,
            Error::General(_) => CKR_GENERAL_ERROR,
            Error::BufferTooSmall => CKR_BUFFER_TOO_SMALL,
            Error::SlotIdInvalid => CKR_SLOT_ID_INVALID,
            Error::TokenNotPresent => CKR_TOKEN_NOT_PRESENT,
            Error::TokenNotRecognized => CKR_TOKEN_NOT_RECOGNIZED,
            Error::DeviceRemoved => CKR_DEVICE_REMOVED,
            Error::DeviceError(_) => CKR_DEVICE_ERROR,
            Error::DeviceMemory => CKR_DEVICE_MEMORY,
            Error::SessionHandleInvalid => CKR_SESSION_HANDLE_INVALID,
            Error::SessionParallelNotSupported => CKR_SESSION_PARALLEL_NOT_SUPPORTED,
            Error::SessionReadOnlyExists => CKR_SESSION_READ_ONLY_EXISTS,
            Error::SessionReadWriteSoExists => CKR_SESSION_READ_WRITE_SO_EXISTS,
            Error::SessionReadOnly => CKR_SESSION_READ_ONLY,
            Error::TokenWriteProtected => CKR_TOKEN_WRITE_PROTECTED,
            Error::ObjectHandleInvalid => CKR_OBJECT_HANDLE_INVALID,
            Error::KeyHandleInvalid => CKR_KEY_HANDLE_INVALID,
            Error::KeyFunctionNotPermitted => CKR_KEY_FUNCTION_NOT_PERMITTED,
            Error::KeyTypeInconsistent => CKR_KEY_TYPE_INCONSISTENT,
            Error::MechanismInvalid => CKR_MECHANISM_INVALID,
            Error::MechanismParamInvalid => CKR_MECHANISM_PARAM_INVALID,
            Error::OperationActive => CKR_OPERATION_ACTIVE,
            Error::OperationNotInitialized => CKR_OPERATION_NOT_INITIALIZED,
            Error::AttributeTypeInvalid => CKR_ATTRIBUTE_TYPE_INVALID,
            Error::AttributeValueInvalid => CKR_ATTRIBUTE_VALUE_INVALID,
            Error::AttributeSensitive => CKR_ATTRIBUTE_SENSITIVE,
            Error::AttributeReadOnly => CKR_ATTRIBUTE_READ_ONLY,
            Error::TemplateIncomplete => CKR_TEMPLATE_INCOMPLETE,
            Error::TemplateInconsistent => CKR_TEMPLATE_INCONSISTENT,
            Error::DataInvalid => CKR_DATA_INVALID,
            Error::DataLenRange => CKR_DATA_LEN_RANGE,
            Error::EncryptedDataInvalid => CKR_ENCRYPTED_DATA_INVALID,
            Error::EncryptedDataLenRange => CKR_ENCRYPTED_DATA_LEN_RANGE,
            Error::SignatureInvalid => CKR_SIGNATURE_INVALID,
            Error::SignatureLenRange => CKR_SIGNATURE_LEN_RANGE,
            Error::PinIncorrect => CKR_PIN_INCORRECT,
            Error::PinLocked => CKR_PIN_LOCKED,
            Error::PinLenRange => CKR_PIN_LEN_RANGE,
            Error::PinInvalid => CKR_PIN_INVALID,
            Error::PinExpired => CKR_PIN_EXPIRED,
            Error::UserNotLoggedIn => CKR_USER_NOT_LOGGED_IN,
            Error::UserAlreadyLoggedIn => CKR_USER_ALREADY_LOGGED_IN,
            Error::UserAnotherAlreadyLoggedIn => CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
            Error::UserPinNotInitialized => CKR_USER_PIN_NOT_INITIALIZED,
            Error::UserTypeInvalid => CKR_USER_TYPE_INVALID,
            Error::NoEvent => CKR_NO_EVENT,
            Error::RandomNoRng => CKR_RANDOM_NO_RNG,
            Error::RandomSeedNotSupported => CKR_RANDOM_SEED_NOT_SUPPORTED,
            Error::FunctionCanceled => CKR_FUNCTION_CANCELED,
            Error::FunctionNotParallel => CKR_FUNCTION_NOT_PARALLEL,
            Error::FunctionFailed(_) => CKR_FUNCTION_FAILED,
            Error::Vendor(n) => CKR_VENDOR_DEFINED + n,
        }
    }
}

impl<T> From<std::sync::PoisonError<T>> for Error {
    /// A lock poisoned by a panic in another call: the state may be half-updated, so every call
    /// answers `CKR_GENERAL_ERROR` (DESIGN §9), never a panic across the FFI boundary.
    fn from(_: std::sync::PoisonError<T>) -> Self {
        Error::General("lock poisoned by an earlier panic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_the_spec_values() {
        assert_eq!(CK_RV::from(Error::NotInitialized), 0x190);
        assert_eq!(CK_RV::from(Error::AlreadyInitialized), 0x191);
        assert_eq!(CK_RV::from(Error::ArgumentsBad("x")), 0x7);
        assert_eq!(CK_RV::from(Error::BufferTooSmall), 0x150);
        assert_eq!(CK_RV::from(Error::Vendor(1)), 0x8000_0001);
    }

    #[test]
    fn poisoned_lock_is_general_error() {
        let m = std::sync::Arc::new(std::sync::Mutex::new(0));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("poison it");
        })
        .join();
        let e: Error = m.lock().map(|_| ()).unwrap_err().into();
        assert_eq!(CK_RV::from(e), CKR_GENERAL_ERROR);
    }
}
