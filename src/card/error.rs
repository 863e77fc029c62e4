//! The error of the card layer: status words turned into what they mean for a CPS card
//! (objects.md §7 lists how the original maps them; the token layer maps these to CK_RV).

use super::pkcs15::ParseError;
use crate::apdu::{ApduError, StatusWord};
use crate::transport::TransportError;

/// Everything a card operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// ATR unknown, or EF.SN.ICC without the CPS issuer prefix (no APDU loop, no token).
    #[error("card not recognized: {0}")]
    NotRecognized(String),
    /// PIN/PUK refused before any APDU (wrong length or not digits).
    #[error("wrong PIN format: {0}")]
    PinFormat(&'static str),
    /// `63 Cx`: wrong PIN; `tries_left` 0 means it is now blocked.
    #[error("incorrect PIN, {tries_left} tries left")]
    PinIncorrect { tries_left: u8 },
    /// `69 83`: the PIN (or the PUK) is blocked.
    #[error("PIN blocked")]
    PinBlocked,
    /// `69 82`: the operation needs the PIN (or the PUK) verified.
    #[error("security status not satisfied (PIN not verified)")]
    SecurityNotSatisfied,
    /// `6A 82` / `6A 88` / CPS2ter `94 04`: file, key or object not found.
    #[error("file or object not found on the card")]
    NotFound,
    /// The card (or this driver for this card) cannot do it; no APDU was sent, or the card
    /// does not know the instruction.
    #[error("not supported by this card: {0}")]
    Unsupported(&'static str),
    /// The caller's input is unusable (no APDU sent).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The card was removed.
    #[error("the card was removed")]
    CardRemoved,
    /// Another application reset the card: its security state (PIN verified) is lost. The
    /// driver has reconnected; the operation was not replayed (VERIFY never is).
    #[error("the card was reset by another application; log in again")]
    CardReset,
    /// CPS4: the card closed logical channel 1 (`68 81`) under a PIN command; the channel is
    /// reopened, the PIN was not checked. Try again.
    #[error("the card closed its logical channel; nothing was verified, try again")]
    ChannelClosed,
    /// Any other refusal, with the operation and the status word.
    #[error("the card refused {op}: {sw}")]
    Refused { op: &'static str, sw: StatusWord },
    /// A card file could not be decoded.
    #[error("unreadable card file: {0}")]
    BadFile(#[from] ParseError),
    /// An answer the driver cannot use (wrong length, missing FCP, ...).
    #[error("unexpected card answer: {0}")]
    BadAnswer(&'static str),
    /// Reader or PC/SC failure.
    #[error(transparent)]
    Transport(TransportError),
}

impl CardError {
    /// The meaning of a non-success status word for operation `op`.
    pub fn from_status(op: &'static str, sw: StatusWord) -> CardError {
        match sw {
            StatusWord::VerifyFailed { tries_left } => CardError::PinIncorrect { tries_left },
            StatusWord::AuthBlocked => CardError::PinBlocked,
            StatusWord::SecurityNotSatisfied => CardError::SecurityNotSatisfied,
            StatusWord::FileNotFound | StatusWord::DataNotFound | StatusWord::RecordNotFound => {
                CardError::NotFound
            }
            StatusWord::InsNotSupported
            | StatusWord::ClaNotSupported
            | StatusWord::FunctionNotSupported => CardError::Unsupported(op),
            StatusWord::LogicalChannelNotSupported => CardError::ChannelClosed,
            sw => CardError::Refused { op, sw },
        }
    }

    /// True for errors after which the card's state is unknown or lost (reset, removal).
    pub fn is_card_event(&self) -> bool {
        matches!(self, CardError::CardRemoved | CardError::CardReset)
    }
}

impl From<TransportError> for CardError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved | TransportError::NoCard => CardError::CardRemoved,
            TransportError::CardReset => CardError::CardReset,
            e => CardError::Transport(e),
        }
    }
}

impl From<ApduError> for CardError {
    fn from(e: ApduError) -> Self {
        match e {
            ApduError::Transport(t) => t.into(),
            ApduError::Malformed(m) => CardError::BadAnswer(m),
            ApduError::DataTooLong(_) => CardError::InvalidInput("data too long for the card"),
            ApduError::Status(sw) => CardError::from_status("command", sw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_mean_what_the_profiles_say() {
        let f = |v: u16| CardError::from_status("op", StatusWord::from(v));
        assert_eq!(f(0x63C2), CardError::PinIncorrect { tries_left: 2 });
        assert_eq!(f(0x63C0), CardError::PinIncorrect { tries_left: 0 });
        assert_eq!(f(0x6983), CardError::PinBlocked);
        assert_eq!(f(0x6982), CardError::SecurityNotSatisfied);
        assert_eq!(f(0x6A82), CardError::NotFound);
        assert_eq!(f(0x6A88), CardError::NotFound);
        assert_eq!(f(0x6D00), CardError::Unsupported("op"));
        assert_eq!(f(0x6881), CardError::ChannelClosed);
        assert_eq!(
            f(0x6985),
            CardError::Refused {
                op: "op",
                sw: StatusWord::ConditionsNotSatisfied
            }
        );
        assert_eq!(
            CardError::from(TransportError::CardReset),
            CardError::CardReset
        );
        assert_eq!(
            CardError::from(ApduError::Transport(TransportError::CardRemoved)),
            CardError::CardRemoved
        );
    }
}
