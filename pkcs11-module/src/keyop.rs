//! Operations with a token key — sign, verify, encrypt, decrypt — shared by their `C_xInit`,
//! `C_x`, `C_xUpdate` and `C_xFinal` (PKCS#11 3.0 §5.9-§5.11, §5.2 for the output buffers).
//!
//! The module keeps the operation state and gathers multi-part input; the backend receives one
//! call with the whole input. The output length is known at `C_xInit` (the modulus size), so a
//! length query never reaches the card; an output computed for a buffer that turns out too small
//! is kept and handed out by the next call instead of asking the card again.

use cryptoki_sys::*;

use crate::backend::{AttributeValue, Mechanism, MechanismParam};
use crate::error::{Error, Result};
use crate::fns::object::object;
use crate::fns::slot_token::mechanisms;
use crate::session::{Kept, KeyOp};
use crate::slots;
use crate::state;
use crate::twocall::Room;

/// The four kinds of key operation.
pub use crate::backend::Operation as Kind;

impl Kind {
    /// `CK_MECHANISM_INFO` flag the mechanism must have.
    fn mechanism_flag(self) -> CK_FLAGS {
        match self {
            Kind::Sign => CKF_SIGN,
            Kind::Verify => CKF_VERIFY,
            Kind::Encrypt => CKF_ENCRYPT,
            Kind::Decrypt => CKF_DECRYPT,
        }
    }
    /// Key attribute that must be TRUE.
    fn key_usage(self) -> CK_ATTRIBUTE_TYPE {
        match self {
            Kind::Sign => CKA_SIGN,
            Kind::Verify => CKA_VERIFY,
            Kind::Encrypt => CKA_ENCRYPT,
            Kind::Decrypt => CKA_DECRYPT,
        }
    }
    fn key_class(self) -> CK_OBJECT_CLASS {
        match self {
            Kind::Sign | Kind::Decrypt => CKO_PRIVATE_KEY,
            Kind::Verify | Kind::Encrypt => CKO_PUBLIC_KEY,
        }
    }
}

/// Mechanisms whose parameter is `CK_RSA_PKCS_PSS_PARAMS`.
const PSS: [CK_MECHANISM_TYPE; 6] = [
    CKM_RSA_PKCS_PSS,
    CKM_SHA1_RSA_PKCS_PSS,
    CKM_SHA224_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS,
    CKM_SHA512_RSA_PKCS_PSS,
];

/// Reads a `CK_MECHANISM`: PSS mechanisms need their `CK_RSA_PKCS_PSS_PARAMS`
/// (`CKR_MECHANISM_PARAM_INVALID` otherwise); other parameters are passed on raw.
///
/// # Safety
/// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes.
pub unsafe fn mechanism(m: &CK_MECHANISM) -> Result<Mechanism> {
    let param = if PSS.contains(&m.mechanism) {
        let size = std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>();
        if m.pParameter.is_null() || usize::try_from(m.ulParameterLen).ok() != Some(size) {
            return Err(Error::MechanismParamInvalid);
        }
        let p = m
            .pParameter
            .cast::<CK_RSA_PKCS_PSS_PARAMS>()
            .read_unaligned();
        MechanismParam::Pss {
            hash: p.hashAlg,
            mgf: p.mgf,
            salt_len: p.sLen,
        }
    } else if m.pParameter.is_null() || m.ulParameterLen == 0 {
        MechanismParam::None
    } else {
        let bytes = crate::args::slice(
            m.pParameter.cast::<u8>().cast_const(),
            m.ulParameterLen,
            "pParameter",
        )?;
        MechanismParam::Raw(bytes.to_vec())
    };
    Ok(Mechanism {
        kind: m.mechanism,
        param,
    })
}

/// `C_xInit`: checks the mechanism against the token's list, the key's class and usage flag,
/// and starts the operation.
pub fn init(
    kind: Kind,
    h: CK_SESSION_HANDLE,
    mechanism: Mechanism,
    key: CK_OBJECT_HANDLE,
) -> Result<()> {
    let slot = state::with(|lib| {
        let s = lib.session_mut(h)?;
        if s.ops.key(kind).is_some() {
            return Err(Error::OperationActive);
        }
        Ok(s.slot)
    })?;
    let listed = mechanisms(slot)?
        .into_iter()
        .any(|m| m.mechanism == mechanism.kind && m.flags & kind.mechanism_flag() != 0);
    if !listed {
        return Err(Error::MechanismInvalid);
    }
    let (list, i) = object(h, key).map_err(|e| match e {
        Error::ObjectHandleInvalid => Error::KeyHandleInvalid,
        e => e,
    })?;
    let o = &list[i];
    if o.get_ulong(CKA_CLASS) != Some(kind.key_class()) {
        return Err(Error::KeyTypeInconsistent);
    }
    if o.get_bool(kind.key_usage()) != Some(true) {
        return Err(Error::KeyFunctionNotPermitted);
    }
    // PKCS#11 3.0 §4.8 CKA_ALLOWED_MECHANISMS: a mechanism the token lists but this key cannot
    // do (CPS4: raw RSA with the signature key) is CKR_MECHANISM_INVALID, which is also what
    // `pkcs11-tool --test` expects for "not for this key".
    if let Some(AttributeValue::Bytes(allowed)) = o.get(CKA_ALLOWED_MECHANISMS) {
        let n = std::mem::size_of::<CK_MECHANISM_TYPE>();
        let ok = allowed.chunks_exact(n).any(|c| {
            c.try_into()
                .map(CK_MECHANISM_TYPE::from_ne_bytes)
                .is_ok_and(|m| m == mechanism.kind)
        });
        if !ok {
            return Err(Error::MechanismInvalid);
        }
    }
    let out_len = match (o.get(CKA_MODULUS), o.get_ulong(CKA_MODULUS_BITS)) {
        (Some(AttributeValue::Bytes(m)), _) if !m.is_empty() => m.len(),
        (_, Some(bits)) if bits > 0 => {
            usize::try_from(bits.div_ceil(8)).map_err(|_| Error::KeyTypeInconsistent)?
        }
        _ => return Err(Error::KeyTypeInconsistent),
    };
    let key = o.key;
    // The backend's own checks (parameters against the key), still without any APDU.
    slots::session_io(h, |b| b.check(kind, key, &mechanism))?;
    state::with(|lib| {
        let op = lib.session_mut(h)?.ops.key(kind);
        if op.is_some() {
            return Err(Error::OperationActive);
        }
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        *op = Some(KeyOp {
            serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            key,
            mechanism,
            data: Vec::new(),
            multipart: false,
            out_len,
            done: None,
        });
        Ok(())
    })
}

/// `C_xUpdate`: gathers input.
pub fn update(kind: Kind, h: CK_SESSION_HANDLE, data: &[u8]) -> Result<()> {
    state::with(|lib| {
        let op = lib
            .session_mut(h)?
            .ops
            .key(kind)
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        op.multipart = true;
        op.data.extend_from_slice(data);
        Ok(())
    })
}

/// What a call producing output hands back.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// Length query answered (`CKR_OK`).
    Length(usize),
    /// Buffer too small for this many bytes (`CKR_BUFFER_TOO_SMALL`); the operation goes on.
    TooSmall(usize),
    /// The output, which fits the caller's buffer; the operation is over.
    Data(Vec<u8>),
}

/// `C_Sign`/`C_Encrypt`/`C_Decrypt` (`input` = Some: single part) or `C_SignFinal` (None):
/// a length query or a too small buffer keeps the operation, anything else ends it
/// ([`crate::session`]).
pub fn finish(
    kind: Kind,
    h: CK_SESSION_HANDLE,
    input: Option<&[u8]>,
    room: Room,
) -> Result<Output> {
    let (serial, key, mechanism, data) = match state::with(|lib| {
        let slot = lib.session_mut(h)?.ops.key(kind);
        let op = slot.as_mut().ok_or(Error::OperationNotInitialized)?;
        if input.is_some() && op.multipart {
            // A single-part call cannot end a multi-part operation; it ends it (PKCS#11 §5.2).
            *slot = None;
            return Err(Error::OperationActive);
        }
        if let Some(done) = &op.done {
            // C_xFinal (no input) or the same input again: the kept output answers
            if input.map_or(true, |d| d == done.input.as_slice()) {
                return Ok(Err(deliverable(room, done.output.len())));
            }
            op.done = None;
        }
        match room {
            Room::Query => return Ok(Err(Some(Output::Length(op.out_len)))),
            // Decryption output is shorter than the modulus: try, then judge.
            Room::Buffer(n) if n < op.out_len && kind != Kind::Decrypt => {
                return Ok(Err(Some(Output::TooSmall(op.out_len))));
            }
            Room::Buffer(_) => {}
        }
        let data = match input {
            Some(d) => d.to_vec(),
            None => std::mem::take(&mut op.data),
        };
        Ok(Ok((op.serial, op.key, op.mechanism.clone(), data)))
    })? {
        Ok(work) => work,
        Err(Some(answer)) => return Ok(answer),
        Err(None) => {
            // A kept output that fits: hand it out and end.
            return state::with(|lib| {
                let slot = lib.session_mut(h)?.ops.key(kind);
                let mut done = slot
                    .take()
                    .and_then(|op| op.done)
                    .ok_or(Error::OperationNotInitialized)?;
                Ok(Output::Data(std::mem::take(&mut *done.output)))
            });
        }
    };
    let result = slots::session_io(h, |b| match kind {
        Kind::Sign => b.sign(key, &mechanism, &data),
        Kind::Encrypt => b.encrypt(key, &mechanism, &data),
        Kind::Decrypt => b.decrypt(key, &mechanism, &data),
        Kind::Verify => Err(Error::General("verify has no output")),
    });
    state::with(|lib| {
        let slot = match lib.session_mut(h) {
            Ok(s) => s.ops.key(kind),
            // The card went during the call and took its sessions along: the call's own error
            // (CKR_DEVICE_REMOVED) says why, not the handle that just died.
            Err(e) => return Err(result.err().unwrap_or(e)),
        };
        if slot.as_ref().map(|op| op.serial) != Some(serial) {
            // cancelled meanwhile (C_SessionCancel, C_Logout…), maybe replaced by another
            // operation, which this call's outcome must not end: the outcome goes to the
            // caller only
            return match result {
                Err(e) => Err(e),
                Ok(out) if room.fits(out.len()) => Ok(Output::Data(out)),
                Ok(_) => Err(Error::OperationNotInitialized),
            };
        }
        match result {
            Err(e) => {
                *slot = None;
                Err(e)
            }
            Ok(out) if room.fits(out.len()) => {
                *slot = None;
                Ok(Output::Data(out))
            }
            Ok(out) => {
                let n = out.len();
                if let Some(op) = slot.as_mut() {
                    op.done = Some(Kept {
                        input: data,
                        output: zeroize::Zeroizing::new(out),
                    });
                }
                Ok(Output::TooSmall(n))
            }
        }
    })
}

/// For a kept output of `len` bytes: the answer now, or None when it fits (then deliver it).
fn deliverable(room: Room, len: usize) -> Option<Output> {
    match room {
        Room::Query => Some(Output::Length(len)),
        Room::Buffer(n) if n < len => Some(Output::TooSmall(len)),
        Room::Buffer(_) => None,
    }
}

/// `C_Verify` (`data` = Some) or `C_VerifyFinal`: ends the operation whatever the outcome
/// (a signature of the wrong length, `CKR_SIGNATURE_LEN_RANGE`, included).
pub fn verify(h: CK_SESSION_HANDLE, data: Option<&[u8]>, signature: &[u8]) -> Result<()> {
    let op = state::with(|lib| {
        let slot = &mut lib.session_mut(h)?.ops.verify;
        let op = slot.take().ok_or(Error::OperationNotInitialized)?;
        if data.is_some() && op.multipart {
            return Err(Error::OperationActive);
        }
        Ok(op)
    })?;
    let input = data.map(<[u8]>::to_vec).unwrap_or(op.data);
    slots::session_io(h, |b| b.verify(op.key, &op.mechanism, &input, signature))
}

/// Writes an [`Output`] to the caller's buffer and length.
///
/// # Safety
/// `len` points to a valid `CK_ULONG`; `buf` is NULL or points to `*len` writable bytes (the
/// room [`finish`] was given).
pub unsafe fn deliver(buf: *mut u8, len: *mut CK_ULONG, out: Output) -> Result<()> {
    let len = crate::args::output(len, "length pointer is NULL")?;
    match out {
        Output::Length(n) => {
            *len = crate::args::ulong(n);
            Ok(())
        }
        Output::TooSmall(n) => {
            *len = crate::args::ulong(n);
            Err(Error::BufferTooSmall)
        }
        Output::Data(v) => {
            // our copy of a signature or a plaintext is wiped once the caller has its own
            let v = zeroize::Zeroizing::new(v);
            if !v.is_empty() {
                std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len());
            }
            *len = crate::args::ulong(v.len());
            Ok(())
        }
    }
}
