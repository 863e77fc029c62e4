//! Message digesting in software (PKCS#11 3.0 §5.10): C_DigestInit, C_Digest, C_DigestUpdate,
//! C_DigestFinal; SHA-1, SHA-256, SHA-384, SHA-512 ([`crate::digest`]). (C_DigestKey:
//! `not_supported`.)

use cryptoki_sys::*;

use crate::args;
use crate::digest::Hasher;
use crate::error::{Error, Result};
use crate::keyop::{self, Output};
use crate::session::{ends_on_error, Active, DigestOp};
use crate::shim::pkcs11_fn;
use crate::state;
use crate::twocall::{self, Room};

/// `C_DigestInit`: digest mechanisms take no parameter.
pub fn init(h: CK_SESSION_HANDLE, m: &CK_MECHANISM) -> Result<()> {
    state::with(|lib| {
        let s = lib.session_mut(h)?;
        if s.ops.digest.is_some() {
            return Err(Error::OperationActive);
        }
        let hasher = Hasher::new(m.mechanism)?;
        if !m.pParameter.is_null() || m.ulParameterLen != 0 {
            return Err(Error::MechanismParamInvalid);
        }
        s.ops.digest = Some(DigestOp {
            hasher,
            multipart: false,
        });
        Ok(())
    })
}

/// Takes the running digest out of the session (hashing runs without the global lock).
fn take(h: CK_SESSION_HANDLE) -> Result<DigestOp> {
    state::with(|lib| {
        lib.session_mut(h)?
            .ops
            .digest
            .take()
            .ok_or(Error::OperationNotInitialized)
    })
}

/// `C_DigestUpdate`.
pub fn update(h: CK_SESSION_HANDLE, data: &[u8]) -> Result<()> {
    let mut op = take(h)?;
    op.hasher.update(data);
    op.multipart = true;
    state::with(|lib| {
        lib.session_mut(h)?.ops.digest = Some(op);
        Ok(())
    })
}

/// `C_Digest` (`data` = Some) or `C_DigestFinal`: a length query or a too small buffer keeps
/// the operation (PKCS#11 3.0 §5.2); anything else ends it ([`crate::session`]; the arguments
/// are checked with [`ends_on_error`]).
pub fn finish(h: CK_SESSION_HANDLE, data: Option<&[u8]>, room: Room) -> Result<Output> {
    let op = state::with(|lib| {
        let slot = &mut lib.session_mut(h)?.ops.digest;
        let op = slot.as_ref().ok_or(Error::OperationNotInitialized)?;
        if data.is_some() && op.multipart {
            *slot = None;
            return Err(Error::OperationActive);
        }
        let n = op.hasher.output_len();
        match room {
            Room::Query => Ok(Err(Output::Length(n))),
            Room::Buffer(b) if b < n => Ok(Err(Output::TooSmall(n))),
            Room::Buffer(_) => Ok(Ok(slot.take())),
        }
    })?;
    match op {
        Err(answer) => Ok(answer),
        Ok(Some(mut op)) => {
            if let Some(d) = data {
                op.hasher.update(d);
            }
            Ok(Output::Data(op.hasher.finish()))
        }
        Ok(None) => Err(Error::OperationNotInitialized),
    }
}

pkcs11_fn! {
    /// PKCS#11 3.0 §5.10.1.
    fn C_DigestInit(h_session: CK_SESSION_HANDLE, p_mechanism: *mut CK_MECHANISM) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        init(h_session, args::input(p_mechanism.cast_const(), "pMechanism is NULL")?)
    }

    /// PKCS#11 3.0 §5.10.2.
    fn C_Digest(
        h_session: CK_SESSION_HANDLE,
        p_data: *mut CK_BYTE,
        ul_data_len: CK_ULONG,
        p_digest: *mut CK_BYTE,
        pul_digest_len: *mut CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let (data, room) = ends_on_error(h_session, Active::Digest, || {
            Ok((
                args::slice(p_data.cast_const(), ul_data_len, "pData is NULL")?,
                twocall::room(p_digest, pul_digest_len)?,
            ))
        })?;
        let out = finish(h_session, Some(data), room)?;
        keyop::deliver(p_digest, pul_digest_len, out)
    }

    /// PKCS#11 3.0 §5.10.3.
    fn C_DigestUpdate(h_session: CK_SESSION_HANDLE, p_part: *mut CK_BYTE, ul_part_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let part = ends_on_error(h_session, Active::Digest, || {
            args::slice(p_part.cast_const(), ul_part_len, "pPart is NULL")
        })?;
        update(h_session, part)
    }

    /// PKCS#11 3.0 §5.10.5.
    fn C_DigestFinal(h_session: CK_SESSION_HANDLE, p_digest: *mut CK_BYTE, pul_digest_len: *mut CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let room = ends_on_error(h_session, Active::Digest, || twocall::room(p_digest, pul_digest_len))?;
        let out = finish(h_session, None, room)?;
        keyop::deliver(p_digest, pul_digest_len, out)
    }
}
