//! Reading and writing a whole transparent EF in the largest chunks a card allows, shared by
//! both drivers (CPS3.md §6.2, CPS4.md §6.1). The size comes from the FCP/FCI when the
//! SELECT gave it; otherwise the read goes on until the card says the file ended (short
//! answer, `62 82`, or `6B 00` past the end).

use super::link::Io;
use super::CardError;
use crate::apdu::{Command, StatusWord};

/// Largest offset READ/UPDATE BINARY can address with P1-P2 (15 bits).
const MAX_OFFSET: usize = 0x7FFF;

impl<S> Io<'_, S> {
    /// Reads the current EF from offset 0. `read(offset, le)` builds the READ BINARY command.
    pub(crate) fn read_body(
        &mut self,
        read: impl Fn(usize, usize) -> Command,
        size: Option<usize>,
        chunk: usize,
    ) -> Result<Vec<u8>, CardError> {
        let mut out = Vec::with_capacity(size.unwrap_or(chunk));
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
