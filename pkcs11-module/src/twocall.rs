//! The two-call convention of PKCS#11 3.0 §5.2 ("Conventions for functions returning output in a
//! variable-length buffer"), exactly as `pkcs11-tool --test` checks it:
//! NULL buffer → the needed length and `CKR_OK`; a buffer too small → the needed length and
//! `CKR_BUFFER_TOO_SMALL`; otherwise the data is copied and the length set to what was written.

use cryptoki_sys::CK_ULONG;

use crate::args::ulong;
use crate::error::{Error, Result};

/// What the caller's buffer allows, read before doing any work (so a length query never signs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// NULL buffer: the caller asks for the length only.
    Query,
    /// A buffer of this many elements.
    Buffer(usize),
}

impl Room {
    /// Whether `needed` elements fit.
    pub fn fits(self, needed: usize) -> bool {
        matches!(self, Room::Buffer(n) if n >= needed)
    }
}

/// Reads the room the caller offers: `len` must not be NULL.
///
/// # Safety
/// `len` is NULL or points to a valid `CK_ULONG`.
pub unsafe fn room<T>(buf: *mut T, len: *mut CK_ULONG) -> Result<Room> {
    let n = len
        .as_ref()
        .ok_or(Error::ArgumentsBad("length pointer is NULL"))?;
    if buf.is_null() {
        Ok(Room::Query)
    } else {
        Ok(Room::Buffer(usize::try_from(*n).unwrap_or(usize::MAX)))
    }
}

/// Writes `data` following the two-call convention.
///
/// # Safety
/// `len` is NULL or points to a valid `CK_ULONG`; `buf` is NULL or points to `*len` writable `T`.
pub unsafe fn write<T: Copy>(buf: *mut T, len: *mut CK_ULONG, data: &[T]) -> Result<()> {
    let room = room(buf, len)?;
    // `room` checked `len` is not NULL.
    let len = &mut *len;
    *len = ulong(data.len());
    match room {
        Room::Query => Ok(()),
        Room::Buffer(n) if n < data.len() => Err(Error::BufferTooSmall),
        Room::Buffer(_) => {
            std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn null_buffer_gives_the_length() {
        let mut len: CK_ULONG = 0;
        unsafe { write(ptr::null_mut(), &mut len, &[1u8, 2, 3]).unwrap() };
        assert_eq!(len, 3);
    }

    #[test]
    fn too_small_gives_the_length_and_writes_nothing() {
        let mut buf = [0u8; 2];
        let mut len: CK_ULONG = 2;
        let r = unsafe { write(buf.as_mut_ptr(), &mut len, &[1u8, 2, 3]) };
        assert_eq!(r, Err(Error::BufferTooSmall));
        assert_eq!(len, 3);
        assert_eq!(buf, [0, 0]);
    }

    #[test]
    fn big_enough_copies() {
        let mut buf = [0u8; 8];
        let mut len: CK_ULONG = 8;
        unsafe { write(buf.as_mut_ptr(), &mut len, &[1u8, 2, 3]).unwrap() };
        assert_eq!(len, 3);
        assert_eq!(&buf[..3], &[1, 2, 3]);
    }

    #[test]
    fn null_length_is_arguments_bad() {
        let r = unsafe { write(ptr::null_mut(), ptr::null_mut(), &[1u8]) };
        assert!(matches!(r, Err(Error::ArgumentsBad(_))));
    }
}
