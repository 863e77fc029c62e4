//! Checked conversions of the raw pointers a PKCS#11 caller hands us (PKCS#11 3.0 §5.1:
//! `CKR_ARGUMENTS_BAD` for a NULL where a value is required).

use cryptoki_sys::CK_ULONG;

use crate::error::{Error, Result};

/// The value behind a required input pointer.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for the lifetime `'a`.
pub unsafe fn input<'a, T>(p: *const T, what: &'static str) -> Result<&'a T> {
    p.as_ref().ok_or(Error::ArgumentsBad(what))
}

/// The place behind a required output pointer.
///
/// # Safety
/// `p` is NULL or points to a valid, writable `T` for the lifetime `'a`.
pub unsafe fn output<'a, T>(p: *mut T, what: &'static str) -> Result<&'a mut T> {
    p.as_mut().ok_or(Error::ArgumentsBad(what))
}

/// An input array: NULL is accepted only with a zero length.
///
/// # Safety
/// `p` is NULL or points to `len` valid `T` for the lifetime `'a`.
pub unsafe fn slice<'a, T>(p: *const T, len: CK_ULONG, what: &'static str) -> Result<&'a [T]> {
    let n = usize::try_from(len).map_err(|_| Error::ArgumentsBad(what))?;
    if p.is_null() {
        if n == 0 {
            Ok(&[])
        } else {
            Err(Error::ArgumentsBad(what))
        }
    } else {
        Ok(std::slice::from_raw_parts(p, n))
    }
}

/// A mutable array (templates whose entries we update): NULL only with a zero length.
///
/// # Safety
/// `p` is NULL or points to `len` valid, writable `T` for the lifetime `'a`.
pub unsafe fn slice_mut<'a, T>(
    p: *mut T,
    len: CK_ULONG,
    what: &'static str,
) -> Result<&'a mut [T]> {
    let n = usize::try_from(len).map_err(|_| Error::ArgumentsBad(what))?;
    if p.is_null() {
        if n == 0 {
            Ok(&mut [])
        } else {
            Err(Error::ArgumentsBad(what))
        }
    } else {
        Ok(std::slice::from_raw_parts_mut(p, n))
    }
}

/// `usize` → `CK_ULONG` (lossless on every platform we build for).
pub fn ulong(n: usize) -> CK_ULONG {
    CK_ULONG::try_from(n).unwrap_or(CK_ULONG::MAX)
}
