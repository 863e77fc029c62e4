//! Secret codes: format-checked before any APDU (CPS3.md §5.2: a PIN outside \[4,4\] never
//! reaches the card), held in zeroizing buffers, never printed.

use super::types::PinKind;
use super::CardError;
use zeroize::Zeroizing;

/// Length of the PIN reference data block: the PIN is ASCII padded with `FF` to 8 bytes
/// (AODF: needs-padding, stored length 8, padChar `FF`); the PUK is 8 ASCII digits.
pub const STORED_LENGTH: usize = 8;
/// Padding byte of the PIN.
pub const PAD_CHAR: u8 = 0xFF;

/// A PIN or PUK whose format is valid: exactly 4 (PIN) or 8 (PUK) ASCII digits.
#[derive(Clone)]
pub struct Pin {
    kind: PinKind,
    digits: Zeroizing<Vec<u8>>,
}

impl Pin {
    /// Checks and wraps a code given as bytes (PKCS#11 passes bytes).
    pub fn from_bytes(kind: PinKind, code: &[u8]) -> Result<Pin, CardError> {
        if code.len() != kind.digits() {
            return Err(CardError::PinFormat(match kind {
                PinKind::User => "the PIN has exactly 4 digits",
                PinKind::Puk => "the PUK has exactly 8 digits",
            }));
        }
        if !code.iter().all(u8::is_ascii_digit) {
            return Err(CardError::PinFormat("a PIN has digits only"));
        }
        Ok(Pin {
            kind,
            digits: Zeroizing::new(code.to_vec()),
        })
    }

    /// The user PIN.
    pub fn user(code: &str) -> Result<Pin, CardError> {
        Self::from_bytes(PinKind::User, code.as_bytes())
    }

    /// The PUK.
    pub fn puk(code: &str) -> Result<Pin, CardError> {
        Self::from_bytes(PinKind::Puk, code.as_bytes())
    }

    pub fn kind(&self) -> PinKind {
        self.kind
    }

    /// The 8-byte reference data block the card compares: ASCII digits, `FF`-padded.
    pub(crate) fn block(&self) -> Zeroizing<Vec<u8>> {
        let mut b = Zeroizing::new(Vec::with_capacity(STORED_LENGTH));
        b.extend_from_slice(&self.digits);
        b.resize(STORED_LENGTH, PAD_CHAR);
        b
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pin({:?}, {})", self.kind, "*".repeat(self.digits.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_checked() {
        assert!(Pin::user("1234").is_ok());
        for bad in ["123", "12345", "12a4", "", "１２３４"] {
            assert!(
                matches!(Pin::user(bad), Err(CardError::PinFormat(_))),
                "{bad}"
            );
        }
        assert!(Pin::puk("12345678").is_ok());
        assert!(Pin::puk("1234").is_err());
        assert!(Pin::puk("1234567x").is_err());
    }

    #[test]
    fn blocks_are_padded_and_debug_is_masked() {
        let pin = Pin::user("1234").unwrap();
        assert_eq!(
            &*pin.block(),
            &[0x31, 0x32, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(&*Pin::puk("12345678").unwrap().block(), b"12345678");
        let dbg = format!("{pin:?}");
        assert!(!dbg.contains("1234"), "{dbg}");
    }
}
