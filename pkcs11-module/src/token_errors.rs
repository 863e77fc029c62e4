//! The token layer's errors in PKCS#11's words: the one conversion from
//! `cpscard::token::TokenError` to the module's [`Error`] (DESIGN §3: "the module maps the token
//! error to `CK_RV` in exactly one place"; [`Error`] → `CK_RV` is `error.rs`). Refusals follow
//! objects.md §7.

use cpscard::apdu::StatusWord;
use cpscard::card::{CardError, Generation};
use cpscard::token::TokenError;
use cpscard::transport::TransportError;

use crate::error::Error;

/// `e` as a PKCS#11 error, for a card of `generation` (a wrong PIN that used the last try is
/// `CKR_PIN_INCORRECT` on CPS3 and `CKR_PIN_LOCKED` on CPS4, as the original answers, §7).
pub fn convert(e: TokenError, generation: Generation) -> Error {
    match e {
        TokenError::NotRecognized(_) => Error::TokenNotRecognized,
        TokenError::ObjectNotFound => Error::ObjectHandleInvalid,
        TokenError::MechanismInvalid(_) => Error::MechanismInvalid,
        TokenError::KeyFunctionNotPermitted(_) => Error::KeyFunctionNotPermitted,
        TokenError::MechanismParamInvalid(_) => Error::MechanismParamInvalid,
        TokenError::DataLenRange { .. } => Error::DataLenRange,
        TokenError::DataInvalid(_) => Error::DataInvalid,
        TokenError::EncryptedDataInvalid => Error::EncryptedDataInvalid,
        TokenError::SignatureInvalid => Error::SignatureInvalid,
        // A card fault: the bad signature was discarded by the token layer.
        TokenError::CardSignatureInvalid => {
            Error::DeviceError("the card returned a signature that does not verify".into())
        }
        TokenError::NoCertificate => Error::KeyFunctionNotPermitted,
        TokenError::PinFormat(_) => Error::PinLenRange,
        TokenError::PinIncorrect { tries_left: 0 } if generation == Generation::Cps4 => {
            Error::PinLocked
        }
        TokenError::PinIncorrect { .. } => Error::PinIncorrect,
        TokenError::PinLocked => Error::PinLocked,
        TokenError::NotLoggedIn => Error::UserNotLoggedIn,
        TokenError::NoPin => Error::UserPinNotInitialized,
        TokenError::ReadOnly => Error::AttributeReadOnly,
        TokenError::PinEntryCancelled => Error::FunctionCanceled,
        TokenError::PinEntry(m) => Error::FunctionFailed(format!("PIN entry: {m}")),
        TokenError::CardRemoved => Error::DeviceRemoved,
        TokenError::CardReset => {
            Error::DeviceError("the card was reset by another application; log in again".into())
        }
        TokenError::BadCertificate { path, reason } => {
            Error::FunctionFailed(format!("certificate {path}: {reason}"))
        }
        TokenError::Card(c) => card(c),
    }
}

/// Card refusals (objects.md §7).
fn card(e: CardError) -> Error {
    match e {
        CardError::NotRecognized(_) => Error::TokenNotRecognized,
        CardError::PinFormat(_) => Error::PinLenRange,
        CardError::PinIncorrect { .. } => Error::PinIncorrect,
        CardError::PinBlocked => Error::PinLocked,
        CardError::SecurityNotSatisfied => Error::UserNotLoggedIn,
        CardError::NotFound => Error::DeviceError("file or key not found on the card".into()),
        CardError::Unsupported(_) => Error::FunctionNotSupported,
        CardError::InvalidInput(_) => Error::DataInvalid,
        CardError::CardRemoved => Error::DeviceRemoved,
        CardError::CardReset => Error::DeviceError("the card was reset".into()),
        CardError::ChannelClosed => Error::DeviceError(e.to_string()),
        CardError::Refused { sw, .. } => status(sw, &e),
        CardError::BadFile(_) | CardError::BadAnswer(_) => Error::DeviceError(e.to_string()),
        CardError::Transport(t) => transport(t),
    }
}

/// objects.md §7: `69 84/85/86`, `69 00` → KEY_TYPE_INCONSISTENT; `6A 80/86/87`, `6B 00` →
/// DATA_INVALID; `67 00`, `6C xx` → DATA_LEN_RANGE; the rest → DEVICE_ERROR (the card said no
/// for a reason PKCS#11 has no word for).
fn status(sw: StatusWord, e: &CardError) -> Error {
    match u16::from(sw) {
        0x6984..=0x6986 | 0x6900 => Error::KeyTypeInconsistent,
        0x6A80 | 0x6A86 | 0x6A87 | 0x6B00 => Error::DataInvalid,
        0x6700 => Error::DataLenRange,
        v if v & 0xFF00 == 0x6C00 => Error::DataLenRange,
        _ => Error::DeviceError(e.to_string()),
    }
}

fn transport(e: TransportError) -> Error {
    match e {
        TransportError::CardRemoved | TransportError::NoCard => Error::DeviceRemoved,
        TransportError::ReaderNotFound(_) => Error::DeviceRemoved,
        TransportError::Cancelled => Error::FunctionCanceled,
        e => Error::DeviceError(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_errors_per_generation() {
        let wrong = |n| TokenError::PinIncorrect { tries_left: n };
        assert_eq!(convert(wrong(2), Generation::Cps3), Error::PinIncorrect);
        assert_eq!(convert(wrong(0), Generation::Cps3), Error::PinIncorrect);
        assert_eq!(convert(wrong(2), Generation::Cps4), Error::PinIncorrect);
        assert_eq!(convert(wrong(0), Generation::Cps4), Error::PinLocked);
        assert_eq!(
            convert(TokenError::PinLocked, Generation::Cps3),
            Error::PinLocked
        );
        assert_eq!(
            convert(TokenError::NotLoggedIn, Generation::Cps3),
            Error::UserNotLoggedIn
        );
    }

    #[test]
    fn card_status_words() {
        let refused = |v: u16| {
            convert(
                TokenError::Card(CardError::Refused {
                    op: "PSO",
                    sw: StatusWord::from(v),
                }),
                Generation::Cps3,
            )
        };
        assert_eq!(refused(0x6985), Error::KeyTypeInconsistent);
        assert_eq!(refused(0x6A80), Error::DataInvalid);
        assert_eq!(refused(0x6700), Error::DataLenRange);
        assert_eq!(refused(0x6C10), Error::DataLenRange);
        assert!(matches!(refused(0x6F00), Error::DeviceError(_)));
        assert_eq!(
            convert(TokenError::CardRemoved, Generation::Cps4),
            Error::DeviceRemoved
        );
    }
}
