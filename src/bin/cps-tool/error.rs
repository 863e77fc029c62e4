//! CLI errors, the text and fix a user reads for each (from the message table), and their exit
//! codes (listed in `--help` by `Msg::ExitCodesHelp` and in the README).

use cpscard::apdu::ApduError;
use cpscard::card::{CardError, PinKind};
use cpscard::emulator::EmulatorError;
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::TokenError;
use cpscard::transport::TransportError;

/// Exit codes (stable: scripts test them).
#[allow(dead_code)] // OK documents 0
pub mod code {
    pub const OK: i32 = 0;
    pub const OTHER: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NO_SERVICE: i32 = 3;
    pub const NO_READER: i32 = 4;
    pub const NO_CARD: i32 = 5;
    pub const UNKNOWN_CARD: i32 = 6;
    pub const PIN_WRONG: i32 = 7;
    pub const PIN_BLOCKED: i32 = 8;
    pub const DOCTOR_PROBLEMS: i32 = 9;
    pub const BAD_SIGNATURE: i32 = 10;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input from the user (exit 2): nothing was sent to a card. The text is localized.
    #[error("{0}")]
    Usage(String),
    #[error("{}", transport_text(.0))]
    Transport(TransportError),
    #[error("{}", card_text(.0))]
    Card(CardError),
    #[error("{}", t!(Msg::ErrEmulator, detail = .0))]
    Emulator(EmulatorError),
    /// A PIN/PUK of the wrong format, refused before any APDU (exit 2).
    #[error("{}", pin_format_text(*.0))]
    PinFormat(PinKind),
    /// Wrong PIN or PUK (exit 7).
    #[error("{}", pin_wrong_text(*.kind, *.tries_left))]
    PinWrong { kind: PinKind, tries_left: u8 },
    /// PIN or PUK blocked (exit 8).
    #[error("{}", pin_blocked_text(*.0))]
    PinBlocked(PinKind),
    /// A signature checked in software does not verify (exit 10); localized text.
    #[error("{0}")]
    BadSignature(String),
    /// `doctor` found problems; they were printed (exit 9).
    #[error("{}", t!(Msg::DoctorTitle, ok = .ok, warn = .warn, fail = .fail))]
    DoctorProblems { ok: usize, warn: usize, fail: usize },
    /// Ctrl-C (exit 130).
    #[error("{}", Msg::ErrInterrupted)]
    Interrupted,
    /// A localized message with its fix and exit code.
    #[error("{text}")]
    Message {
        text: String,
        fix: Option<String>,
        code: i32,
    },
    /// Anything else (exit 1); localized text.
    #[error("{0}")]
    Other(String),
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        CliError::Transport(e)
    }
}

impl From<CardError> for CliError {
    /// PIN errors of the card layer concern the user PIN unless the caller says otherwise
    /// ([`CliError::for_pin`]).
    fn from(e: CardError) -> Self {
        match e {
            CardError::Transport(t) => CliError::Transport(t),
            CardError::PinIncorrect { tries_left: 0 } | CardError::PinBlocked => {
                CliError::PinBlocked(PinKind::User)
            }
            CardError::PinIncorrect { tries_left } => CliError::PinWrong {
                kind: PinKind::User,
                tries_left,
            },
            CardError::PinFormat(_) => CliError::PinFormat(PinKind::User),
            other => CliError::Card(other),
        }
    }
}

impl From<TokenError> for CliError {
    /// PIN errors of the token concern the user PIN unless the caller says otherwise
    /// ([`CliError::for_pin`]); refusals made before any APDU (mechanism, key, input) are
    /// usage errors (exit 2).
    fn from(e: TokenError) -> Self {
        let msg = |text: String, code: i32| CliError::Message {
            text,
            fix: None,
            code,
        };
        match e {
            TokenError::NotRecognized(d) => CliError::Card(CardError::NotRecognized(d)),
            TokenError::PinFormat(_) => CliError::PinFormat(PinKind::User),
            TokenError::PinIncorrect { tries_left: 0 } | TokenError::PinLocked => {
                CliError::PinBlocked(PinKind::User)
            }
            TokenError::PinIncorrect { tries_left } => CliError::PinWrong {
                kind: PinKind::User,
                tries_left,
            },
            TokenError::CardRemoved => CliError::Transport(TransportError::CardRemoved),
            TokenError::CardReset => CliError::Card(CardError::CardReset),
            TokenError::Card(c) => CliError::from(c),
            TokenError::NotLoggedIn => msg(Msg::PinNotVerified.text(), code::OTHER),
            TokenError::NoPin => msg(Msg::ErrNoPin.text(), code::USAGE),
            TokenError::MechanismInvalid(_) | TokenError::KeyFunctionNotPermitted(_) => {
                msg(Msg::ErrKeyCannot.text(), code::USAGE)
            }
            TokenError::MechanismParamInvalid(_) => {
                msg(Msg::ErrMechanismParams.text(), code::USAGE)
            }
            TokenError::DataLenRange { len, max } => {
                CliError::Usage(t!(Msg::ErrDataLen, len = len, max = max))
            }
            TokenError::DataInvalid(_) => CliError::Usage(Msg::ErrDataInvalid.text()),
            TokenError::EncryptedDataInvalid => msg(Msg::ErrDecryptFailed.text(), code::OTHER),
            TokenError::SignatureInvalid => CliError::BadSignature(Msg::ErrSignatureInvalid.text()),
            TokenError::CardSignatureInvalid => msg(Msg::SignBadSignature.text(), code::OTHER),
            TokenError::ReadOnly => msg(Msg::ErrReadOnly.text(), code::USAGE),
            TokenError::PinEntryCancelled => CliError::Transport(TransportError::Cancelled),
            TokenError::PinEntry(detail) => msg(t!(Msg::ErrPinEntry, detail = detail), code::OTHER),
            TokenError::BadCertificate { reason, .. } => {
                msg(t!(Msg::ErrBadCertificate, detail = reason), code::OTHER)
            }
            TokenError::NoCertificate => msg(Msg::ErrKeyNoCertificate.text(), code::OTHER),
            TokenError::ObjectNotFound => msg(Msg::ErrObjectNotFound.text(), code::OTHER),
        }
    }
}

impl From<EmulatorError> for CliError {
    /// An unknown generation or holder kind is bad input (exit 2); image errors are not.
    fn from(e: EmulatorError) -> Self {
        match e {
            EmulatorError::UnknownGeneration(_) | EmulatorError::UnknownCard { .. } => {
                CliError::Usage(e.to_string())
            }
            other => CliError::Emulator(other),
        }
    }
}

impl From<ApduError> for CliError {
    fn from(e: ApduError) -> Self {
        match e {
            ApduError::Transport(t) => CliError::Transport(t),
            other => CliError::Card(CardError::from(other)),
        }
    }
}

impl CliError {
    /// Re-labels a PIN error as concerning `kind` (a failed PUK VERIFY of `pin unblock`).
    pub fn for_pin(self, kind: PinKind) -> Self {
        match self {
            CliError::PinWrong { tries_left, .. } => CliError::PinWrong { kind, tries_left },
            CliError::PinBlocked(_) => CliError::PinBlocked(kind),
            CliError::PinFormat(_) => CliError::PinFormat(kind),
            other => other,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::PinFormat(_) => code::USAGE,
            CliError::Transport(t) => transport_code(t),
            CliError::Card(CardError::NotRecognized(_)) => code::UNKNOWN_CARD,
            CliError::Card(CardError::CardRemoved) => code::NO_CARD,
            CliError::Card(CardError::Transport(t)) => transport_code(t),
            CliError::Card(CardError::PinFormat(_)) => code::USAGE,
            CliError::Card(_) | CliError::Emulator(_) | CliError::Other(_) => code::OTHER,
            CliError::PinWrong { .. } => code::PIN_WRONG,
            CliError::PinBlocked(_) => code::PIN_BLOCKED,
            CliError::BadSignature(_) => code::BAD_SIGNATURE,
            CliError::DoctorProblems { .. } => code::DOCTOR_PROBLEMS,
            CliError::Interrupted => code::INTERRUPTED,
            CliError::Message { code, .. } => *code,
        }
    }

    /// What the user should do next, when there is something to do.
    pub fn fix(&self) -> Option<String> {
        let msg = match self {
            CliError::Transport(t) => transport_fix(t)?,
            CliError::Card(c) => match c {
                CardError::NotRecognized(_) => Msg::ErrNotCpsFix,
                CardError::CardRemoved => Msg::ErrCardRemovedFix,
                CardError::CardReset | CardError::ChannelClosed => Msg::ErrRepeat,
                CardError::Transport(t) => transport_fix(t)?,
                _ => return None,
            },
            CliError::PinFormat(_) => Msg::PinFormatFix,
            CliError::PinWrong { .. } => return None,
            CliError::PinBlocked(PinKind::User) => Msg::PinBlockedFix,
            CliError::PinBlocked(PinKind::Puk) => Msg::PukBlockedFix,
            CliError::Message { fix, .. } => return fix.clone(),
            _ => return None,
        };
        Some(msg.text())
    }

    /// A stable name of the error kind, for `--json` error documents.
    pub fn kind(&self) -> &'static str {
        match self.exit_code() {
            code::USAGE => "usage",
            code::NO_SERVICE => "no_service",
            code::NO_READER => "no_reader",
            code::NO_CARD => "no_card",
            code::UNKNOWN_CARD => "unknown_card",
            code::PIN_WRONG => "pin_wrong",
            code::PIN_BLOCKED => "pin_blocked",
            code::DOCTOR_PROBLEMS => "doctor_problems",
            code::BAD_SIGNATURE => "bad_signature",
            code::INTERRUPTED => "interrupted",
            _ => "other",
        }
    }

    /// The JSON error document (`docs/schema/error.json`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "schema": "cps-tool/error/1",
            "error": {
                "code": self.exit_code(),
                "kind": self.kind(),
                "message": self.to_string(),
                "fix": self.fix(),
            }
        });
        if let CliError::PinWrong { kind, tries_left } = self {
            v["error"]["pin"] = pin_kind_name(*kind).into();
            v["error"]["tries_left"] = (*tries_left).into();
        }
        if let CliError::PinBlocked(kind) = self {
            v["error"]["pin"] = pin_kind_name(*kind).into();
            v["error"]["tries_left"] = 0.into();
        }
        v
    }
}

pub fn pin_kind_name(kind: PinKind) -> &'static str {
    match kind {
        PinKind::User => "pin",
        PinKind::Puk => "puk",
    }
}

fn transport_code(t: &TransportError) -> i32 {
    match t {
        TransportError::NoService => code::NO_SERVICE,
        TransportError::NoReaders | TransportError::ReaderNotFound(_) => code::NO_READER,
        TransportError::NoCard | TransportError::CardRemoved => code::NO_CARD,
        TransportError::Cancelled => code::INTERRUPTED,
        _ => code::OTHER,
    }
}

fn transport_fix(t: &TransportError) -> Option<Msg> {
    Some(match t {
        TransportError::NoService => Msg::ErrNoServiceFix,
        TransportError::NoReaders => Msg::ErrNoReadersFix,
        TransportError::ReaderNotFound(_) => Msg::ErrReaderNotFoundFix,
        TransportError::NoCard => Msg::ErrNoCardFix,
        TransportError::CardRemoved => Msg::ErrCardRemovedFix,
        TransportError::CardReset => Msg::ErrRepeat,
        TransportError::Unresponsive => Msg::ErrUnresponsiveFix,
        TransportError::Sharing => Msg::ErrSharingFix,
        _ => return None,
    })
}

/// The localized text of a transport error.
pub fn transport_text(t: &TransportError) -> String {
    match t {
        TransportError::NoService => Msg::ErrNoService.text(),
        TransportError::NoReaders => Msg::ErrNoReaders.text(),
        TransportError::ReaderNotFound(name) => t!(Msg::ErrReaderNotFound, name = name),
        TransportError::NoCard => Msg::ErrNoCard.text(),
        TransportError::CardRemoved => Msg::ErrCardRemoved.text(),
        TransportError::CardReset => Msg::ErrCardReset.text(),
        TransportError::Unresponsive => Msg::ErrUnresponsive.text(),
        TransportError::Sharing => Msg::ErrSharing.text(),
        TransportError::Timeout => Msg::ErrTimeout.text(),
        TransportError::Cancelled => Msg::ErrCancelled.text(),
        TransportError::Unsupported(what) => t!(Msg::ErrReaderUnsupported, what = what),
        TransportError::Io(detail) => t!(Msg::ErrReader, detail = detail),
    }
}

/// The localized text of a card error (details from the card layer stay as they are: bytes,
/// status words, file names).
pub fn card_text(c: &CardError) -> String {
    match c {
        CardError::NotRecognized(detail) => t!(Msg::ErrNotCps, detail = detail),
        CardError::PinFormat(_) => pin_format_text(PinKind::User),
        CardError::PinIncorrect { tries_left } => pin_wrong_text(PinKind::User, *tries_left),
        CardError::PinBlocked => pin_blocked_text(PinKind::User),
        CardError::SecurityNotSatisfied => Msg::PinNotVerified.text(),
        CardError::NotFound => Msg::ErrObjectNotFound.text(),
        CardError::Unsupported(what) => t!(Msg::ErrCardUnsupported, what = what),
        CardError::CardRemoved => Msg::ErrCardRemoved.text(),
        CardError::CardReset => Msg::ErrCardReset.text(),
        CardError::ChannelClosed => Msg::ErrCardChannel.text(),
        CardError::Refused { op, sw } => t!(Msg::ErrCardRefused, op = op, sw = sw),
        CardError::BadFile(e) => t!(Msg::ErrCardFile, detail = e),
        CardError::Transport(t) => transport_text(t),
        other => t!(Msg::ErrCardOther, detail = other),
    }
}

fn pin_format_text(kind: PinKind) -> String {
    match kind {
        PinKind::User => Msg::PinFormat.text(),
        PinKind::Puk => Msg::PukFormat.text(),
    }
}

fn pin_wrong_text(kind: PinKind, tries_left: u8) -> String {
    match (kind, tries_left) {
        (_, 0) => pin_blocked_text(kind),
        (PinKind::User, 1) => Msg::PinWrongLastTry.text(),
        (PinKind::User, n) => t!(Msg::PinWrongTriesLeft, tries = n),
        (PinKind::Puk, n) => t!(Msg::PukWrongTriesLeft, tries = n),
    }
}

fn pin_blocked_text(kind: PinKind) -> String {
    match kind {
        PinKind::User => Msg::PinBlocked.text(),
        PinKind::Puk => Msg::PukBlocked.text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_codes() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::from(TransportError::NoService).exit_code(), 3);
        assert_eq!(CliError::from(TransportError::NoReaders).exit_code(), 4);
        assert_eq!(
            CliError::from(TransportError::ReaderNotFound("r".into())).exit_code(),
            4
        );
        assert_eq!(CliError::from(TransportError::NoCard).exit_code(), 5);
        assert_eq!(CliError::from(TransportError::CardRemoved).exit_code(), 5);
        assert_eq!(CliError::from(TransportError::Sharing).exit_code(), 1);
        assert_eq!(
            CliError::from(ApduError::Transport(TransportError::NoService)).exit_code(),
            3
        );
        assert_eq!(
            CliError::from(CardError::NotRecognized("x".into())).exit_code(),
            6
        );
        assert_eq!(CliError::from(CardError::CardRemoved).exit_code(), 5);
        assert_eq!(
            CliError::from(CardError::PinIncorrect { tries_left: 2 }).exit_code(),
            7
        );
        assert_eq!(
            CliError::from(CardError::PinIncorrect { tries_left: 0 }).exit_code(),
            8
        );
        assert_eq!(CliError::from(CardError::PinBlocked).exit_code(), 8);
        assert_eq!(CliError::PinFormat(PinKind::Puk).exit_code(), 2);
        assert_eq!(CliError::BadSignature(String::new()).exit_code(), 10);
        assert_eq!(CliError::Interrupted.exit_code(), 130);
    }

    #[test]
    fn puk_errors_are_relabelled() {
        let e = CliError::from(CardError::PinIncorrect { tries_left: 9 }).for_pin(PinKind::Puk);
        assert!(matches!(
            e,
            CliError::PinWrong {
                kind: PinKind::Puk,
                tries_left: 9
            }
        ));
        let j = e.to_json();
        assert_eq!(j["error"]["pin"], "puk");
        assert_eq!(j["error"]["tries_left"], 9);
        assert_eq!(j["error"]["kind"], "pin_wrong");
    }

    #[test]
    fn blocked_pin_tells_how_to_unblock() {
        let e = CliError::from(CardError::PinBlocked);
        assert!(e.fix().unwrap().contains("cps-tool pin unblock"));
    }
}
