//! Reading and writing a whole transparent EF in the largest chunks a card allows, shared by
//! both drivers (CPS3.md §6.2, CPS4.md §6.1). The size comes from the FCP/FCI when the
//! SELECT gave it; otherwise the read goes on until the card says the file ended (short
//! answer, `62 82`, or `6B 00` past the end).

use super::link::Io;
use super::CardError;
use crate::apdu::{Command, StatusWord};
use zeroize::Zeroizing;

/// Largest offset READ/UPDATE BINARY can address with P1-P2 (15 bits).
const MAX_OFFSET: usize = 0x7FFF;

/// `data` zero-padded to `size`, the file size the card gave, for a whole-file write.
/// A size beyond what UPDATE BINARY can address is refused before any allocation (found
/// by fuzzing: an FCI claiming 4 GiB made the host zero-fill 4 GiB).
pub(crate) fn padded_body(data: &[u8], size: usize) -> Result<Zeroizing<Vec<u8>>, CardError> {
    if size > MAX_OFFSET + 1 {
        return Err(CardError::Unsupported("file larger than 32 KiB"));
    }
    if data.len() > size {
        return Err(CardError::InvalidInput("data larger than the file"));
    }
    let mut body = Zeroizing::new(data.to_vec());
    body.resize(size, 0);
    Ok(body)
}

impl<S> Io<'_, S> {
    /// Reads the current EF from offset 0. `read(offset, le)` builds the READ BINARY command.
    pub(crate) fn read_body(
        &mut self,
        read: impl Fn(usize, usize) -> Command,
        size: Option<usize>,
        chunk: usize,
    ) -> Result<Vec<u8>, CardError> {
        // the size is the card's word: never reserve more than a file can hold (fuzzing)
        let mut out = Vec::with_capacity(size.unwrap_or(chunk).min(MAX_OFFSET + 1));
        loop {
            let want = match size {
                Some(s) => s.saturating_sub(out.len()).min(chunk),
                None => chunk,
            };
            if want == 0 {
                break;
            }
            if out.len() > MAX_OFFSET {
                return Err(CardError::Unsupported("file larger than 32 KiB"));
            }
            let r = self.send(&read(out.len(), want))?;
            let end = match r.sw {
                StatusWord::Success => false,
                StatusWord::EndOfFile => true,
                StatusWord::WrongP1P2 if size.is_none() && !out.is_empty() => break,
                sw => return Err(CardError::from_status("READ BINARY", sw)),
            };
            if r.data().len() > want {
                return Err(CardError::BadAnswer(
                    "READ BINARY returned more bytes than asked",
                ));
            }
            out.extend_from_slice(r.data());
            if end || r.data().len() < want {
                break;
            }
        }
        Ok(out)
    }

    /// Writes `data` to the current EF from offset 0 in chunks of `chunk` bytes.
    pub(crate) fn write_body(
        &mut self,
        update: impl Fn(usize, &[u8]) -> Command,
        data: &[u8],
        chunk: usize,
    ) -> Result<(), CardError> {
        if data.len() > MAX_OFFSET + 1 {
            return Err(CardError::Unsupported("file larger than 32 KiB"));
        }
        for (i, part) in data.chunks(chunk).enumerate() {
            let r = self.send(&update(i * chunk, part))?;
            if !r.is_success() {
                return Err(CardError::from_status("UPDATE BINARY", r.sw));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_body_checks_the_card_size_first() {
        assert_eq!(&*padded_body(b"AB", 4).unwrap(), b"AB\0\0");
        assert_eq!(&*padded_body(b"", 0).unwrap(), b"");
        assert_eq!(padded_body(&[1; 0x8000], 0x8000).unwrap().len(), 0x8000);
        assert!(matches!(
            padded_body(b"ABC", 2),
            Err(CardError::InvalidInput(_))
        ));
        // sizes the card may claim (FCP tag 80 of up to 4 bytes): refused, nothing allocated
        for size in [0x8001, 0xFFFF_FFFF, usize::MAX] {
            assert!(matches!(
                padded_body(b"AB", size),
                Err(CardError::Unsupported(_))
            ));
        }
    }
}
