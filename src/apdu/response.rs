//! Response APDUs: data followed by SW1 SW2.

use super::{ApduError, StatusWord};
use zeroize::Zeroizing;

/// A response: data (zeroized on drop, it may be a deciphered secret) and the status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    data: Zeroizing<Vec<u8>>,
    pub sw: StatusWord,
}

impl Response {
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Response {
            data: Zeroizing::new(data),
            sw,
        }
    }

    /// Parses raw response bytes. Fewer than two bytes is an error: an empty answer is a
    /// failure of the reader, never a success (seen when a vpcd card is killed mid-APDU).
    pub fn parse(bytes: &[u8]) -> Result<Response, ApduError> {
        let Some(split) = bytes.len().checked_sub(2) else {
            return Err(ApduError::Malformed("a response has at least SW1 SW2"));
        };
        let (data, sw) = bytes.split_at(split);
        Ok(Response::new(
            data.to_vec(),
            StatusWord::from_bytes(sw[0], sw[1]),
        ))
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Takes the data out (the caller owns the zeroizing buffer).
    pub fn into_data(self) -> Zeroizing<Vec<u8>> {
        self.data
    }

    pub fn is_success(&self) -> bool {
        self.sw.is_success()
    }

    /// Raw bytes: data then SW.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.data.to_vec();
        v.extend_from_slice(&self.sw.to_bytes());
        v
    }

    /// `Ok(self)` on `90 00`, else the status word as an error.
    pub fn check(self) -> Result<Response, ApduError> {
        if self.sw.is_success() {
            Ok(self)
        } else {
            Err(ApduError::Status(self.sw))
        }
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Response({} bytes, {:04X})",
            self.data.len(),
            u16::from(self.sw)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_data_and_sw() {
        let r = Response::parse(&[1, 2, 3, 0x90, 0x00]).unwrap();
        assert_eq!(r.data(), &[1, 2, 3]);
        assert!(r.is_success());
        assert_eq!(r.to_bytes(), vec![1, 2, 3, 0x90, 0]);
        let r = Response::parse(&[0x61, 0x27]).unwrap();
        assert_eq!(r.sw, StatusWord::BytesRemaining(0x27));
        assert!(r.data().is_empty());
        assert!(Response::parse(&[]).is_err());
        assert!(Response::parse(&[0x90]).is_err());
        assert!(matches!(
            Response::parse(&[0x6A, 0x82]).unwrap().check(),
            Err(ApduError::Status(StatusWord::FileNotFound))
        ));
    }
}
