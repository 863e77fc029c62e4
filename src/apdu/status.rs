//! ISO 7816-4 status words (§5.1.3) with the values CPS cards use named.
//!
//! `StatusWord` is lossless: `StatusWord::from(u16)` then `u16::from` gives back every one of the
//! 65536 values, so a card answer is never altered by being typed.

use std::fmt;

/// A status word SW1 SW2. Variants carry the data SW2 encodes where it has a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `90 00`: normal processing.
    Success,
    /// `61 xx`: `xx` bytes still available through GET RESPONSE (`00` = 256 or more).
    BytesRemaining(u8),
    /// `9F xx`: the CPS2ter form of `61 xx` (CLA `A0` commands).
    Cps2terBytesRemaining(u8),
    /// `62 82`: end of file reached before Le bytes (data returned is shorter).
    EndOfFile,
    /// `63 Cx`: verification failed, `x` tries left (0 = now blocked).
    VerifyFailed { tries_left: u8 },
    /// `67 00`: wrong length (Lc or Le).
    WrongLength,
    /// `68 81`: logical channel not supported / not open.
    LogicalChannelNotSupported,
    /// `69 82`: security status not satisfied (PIN needed).
    SecurityNotSatisfied,
    /// `69 83`: authentication method blocked (PIN/PUK blocked).
    AuthBlocked,
    /// `69 84`: reference data not usable.
    RefDataNotUsable,
    /// `69 85`: conditions of use not satisfied (wrong order, no security environment).
    ConditionsNotSatisfied,
    /// `69 86`: command not allowed (no current EF).
    CommandNotAllowed,
    /// `6A 80`: incorrect parameters in the data field.
    IncorrectData,
    /// `6A 81`: function not supported.
    FunctionNotSupported,
    /// `6A 82`: file or application not found.
    FileNotFound,
    /// `6A 83`: record not found.
    RecordNotFound,
    /// `6A 86`: incorrect P1/P2.
    IncorrectP1P2,
    /// `6A 87`: Lc inconsistent with P1/P2.
    LcInconsistent,
    /// `6A 88`: referenced data (SDO, key) not found.
    DataNotFound,
    /// `6B 00`: wrong parameters P1/P2 (offset outside the EF).
    WrongP1P2,
    /// `6C xx`: wrong Le, `xx` is the exact length available.
    WrongLe(u8),
    /// `6D 00`: instruction not supported.
    InsNotSupported,
    /// `6E 00`: class not supported.
    ClaNotSupported,
    /// `6F 00`: no precise diagnosis.
    NoPreciseDiagnosis,
    /// Any other value, kept as it came.
    Other(u16),
}

impl StatusWord {
    /// Builds from the two bytes the card sent.
    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self::from(u16::from_be_bytes([sw1, sw2]))
    }

    /// The two bytes, SW1 first.
    pub fn to_bytes(self) -> [u8; 2] {
        u16::from(self).to_be_bytes()
    }

    /// SW1.
    pub fn sw1(self) -> u8 {
        self.to_bytes()[0]
    }

    /// SW2.
    pub fn sw2(self) -> u8 {
        self.to_bytes()[1]
    }

    /// True for `90 00` only.
    pub fn is_success(self) -> bool {
        self == StatusWord::Success
    }

    /// A short English meaning, for traces and the `apdu` command.
    pub fn meaning(self) -> String {
        match self {
            StatusWord::Success => "success".into(),
            StatusWord::BytesRemaining(0) => "256 or more bytes available (GET RESPONSE)".into(),
            StatusWord::BytesRemaining(n) => format!("{n} bytes available (GET RESPONSE)"),
            StatusWord::Cps2terBytesRemaining(n) => format!("CPS2ter: {n} bytes available"),
            StatusWord::EndOfFile => "end of file reached before Le bytes".into(),
            StatusWord::VerifyFailed { tries_left: 0 } => {
                "verification failed, no try left (blocked)".into()
            }
            StatusWord::VerifyFailed { tries_left } => {
                format!("verification failed, {tries_left} tries left")
            }
            StatusWord::WrongLength => "wrong length".into(),
            StatusWord::LogicalChannelNotSupported => "logical channel not supported".into(),
            StatusWord::SecurityNotSatisfied => "security status not satisfied".into(),
            StatusWord::AuthBlocked => "authentication method blocked".into(),
            StatusWord::RefDataNotUsable => "reference data not usable".into(),
            StatusWord::ConditionsNotSatisfied => "conditions of use not satisfied".into(),
            StatusWord::CommandNotAllowed => "command not allowed (no current EF)".into(),
            StatusWord::IncorrectData => "incorrect parameters in the data field".into(),
            StatusWord::FunctionNotSupported => "function not supported".into(),
            StatusWord::FileNotFound => "file or application not found".into(),
            StatusWord::RecordNotFound => "record not found".into(),
            StatusWord::IncorrectP1P2 => "incorrect parameters P1-P2".into(),
            StatusWord::LcInconsistent => "Lc inconsistent with P1-P2".into(),
            StatusWord::DataNotFound => "referenced data not found".into(),
            StatusWord::WrongP1P2 => "wrong parameters P1-P2 (offset)".into(),
            StatusWord::WrongLe(0) => "wrong Le, 256 bytes available".into(),
            StatusWord::WrongLe(n) => format!("wrong Le, {n} bytes available"),
            StatusWord::InsNotSupported => "instruction not supported".into(),
            StatusWord::ClaNotSupported => "class not supported".into(),
            StatusWord::NoPreciseDiagnosis => "no precise diagnosis".into(),
            StatusWord::Other(v) => match v >> 8 {
                0x62 | 0x63 => "warning".into(),
                0x64..=0x66 => "execution error".into(),
                0x94 | 0x98 => "CPS2ter error".into(),
                _ => "unknown status".into(),
            },
        }
    }
}

impl From<u16> for StatusWord {
    fn from(v: u16) -> Self {
        let [sw1, sw2] = v.to_be_bytes();
        match (sw1, sw2) {
            (0x90, 0x00) => StatusWord::Success,
            (0x61, n) => StatusWord::BytesRemaining(n),
            (0x9F, n) => StatusWord::Cps2terBytesRemaining(n),
            (0x62, 0x82) => StatusWord::EndOfFile,
            (0x63, n) if n & 0xF0 == 0xC0 => StatusWord::VerifyFailed {
                tries_left: n & 0x0F,
            },
            (0x67, 0x00) => StatusWord::WrongLength,
            (0x68, 0x81) => StatusWord::LogicalChannelNotSupported,
            (0x69, 0x82) => StatusWord::SecurityNotSatisfied,
            (0x69, 0x83) => StatusWord::AuthBlocked,
            (0x69, 0x84) => StatusWord::RefDataNotUsable,
            (0x69, 0x85) => StatusWord::ConditionsNotSatisfied,
            (0x69, 0x86) => StatusWord::CommandNotAllowed,
            (0x6A, 0x80) => StatusWord::IncorrectData,
            (0x6A, 0x81) => StatusWord::FunctionNotSupported,
            (0x6A, 0x82) => StatusWord::FileNotFound,
            (0x6A, 0x83) => StatusWord::RecordNotFound,
            (0x6A, 0x86) => StatusWord::IncorrectP1P2,
            (0x6A, 0x87) => StatusWord::LcInconsistent,
            (0x6A, 0x88) => StatusWord::DataNotFound,
            (0x6B, 0x00) => StatusWord::WrongP1P2,
            (0x6C, n) => StatusWord::WrongLe(n),
            (0x6D, 0x00) => StatusWord::InsNotSupported,
            (0x6E, 0x00) => StatusWord::ClaNotSupported,
            (0x6F, 0x00) => StatusWord::NoPreciseDiagnosis,
            _ => StatusWord::Other(v),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        match sw {
            StatusWord::Success => 0x9000,
            StatusWord::BytesRemaining(n) => 0x6100 | n as u16,
            StatusWord::Cps2terBytesRemaining(n) => 0x9F00 | n as u16,
            StatusWord::EndOfFile => 0x6282,
            StatusWord::VerifyFailed { tries_left } => 0x63C0 | (tries_left & 0x0F) as u16,
            StatusWord::WrongLength => 0x6700,
            StatusWord::LogicalChannelNotSupported => 0x6881,
            StatusWord::SecurityNotSatisfied => 0x6982,
            StatusWord::AuthBlocked => 0x6983,
            StatusWord::RefDataNotUsable => 0x6984,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::CommandNotAllowed => 0x6986,
            StatusWord::IncorrectData => 0x6A80,
            StatusWord::FunctionNotSupported => 0x6A81,
            StatusWord::FileNotFound => 0x6A82,
            StatusWord::RecordNotFound => 0x6A83,
            StatusWord::IncorrectP1P2 => 0x6A86,
            StatusWord::LcInconsistent => 0x6A87,
            StatusWord::DataNotFound => 0x6A88,
            StatusWord::WrongP1P2 => 0x6B00,
            StatusWord::WrongLe(n) => 0x6C00 | n as u16,
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::NoPreciseDiagnosis => 0x6F00,
            StatusWord::Other(v) => v,
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.to_bytes();
        write!(f, "{a:02X} {b:02X} ({})", self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_u16_round_trips() {
        for v in 0..=u16::MAX {
            let sw = StatusWord::from(v);
            assert_eq!(u16::from(sw), v, "{v:04X} -> {sw:?}");
            assert_eq!(StatusWord::from_bytes(sw.sw1(), sw.sw2()), sw);
        }
    }

    #[test]
    fn named_values() {
        assert_eq!(StatusWord::from(0x9000), StatusWord::Success);
        assert_eq!(StatusWord::from(0x6127), StatusWord::BytesRemaining(0x27));
        assert_eq!(StatusWord::from(0x6C0C), StatusWord::WrongLe(12));
        assert_eq!(
            StatusWord::from(0x63C2),
            StatusWord::VerifyFailed { tries_left: 2 }
        );
        assert_eq!(StatusWord::from(0x6300), StatusWord::Other(0x6300));
        assert_eq!(StatusWord::from(0x6983), StatusWord::AuthBlocked);
        assert_eq!(StatusWord::from(0x6A82), StatusWord::FileNotFound);
        assert_eq!(StatusWord::from(0x6282), StatusWord::EndOfFile);
        assert!(StatusWord::Success.is_success());
        assert!(!StatusWord::BytesRemaining(0).is_success());
    }

    #[test]
    fn display_has_hex_and_meaning() {
        assert_eq!(
            StatusWord::VerifyFailed { tries_left: 1 }.to_string(),
            "63 C1 (verification failed, 1 tries left)"
        );
    }
}
