//! Signing and verifying (PKCS#11 3.0 §5.11, §5.12): C_SignInit, C_Sign, C_SignUpdate,
//! C_SignFinal, C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal. (Sign/verify with
//! recovery: `not_supported`.)

use cryptoki_sys::*;

use crate::args;
use crate::keyop::{self, Kind};
use crate::session::{ends_on_error, Active};
use crate::shim::pkcs11_fn;
use crate::state;
use crate::twocall;

const SIGN: Active = Active::Key(Kind::Sign);
const VERIFY: Active = Active::Key(Kind::Verify);

pkcs11_fn! {
    /// PKCS#11 3.0 §5.11.1.
    fn C_SignInit(h_session: CK_SESSION_HANDLE, p_mechanism: *mut CK_MECHANISM, h_key: CK_OBJECT_HANDLE) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let m = keyop::mechanism(args::input(p_mechanism.cast_const(), "pMechanism is NULL")?)?;
        keyop::init(Kind::Sign, h_session, m, h_key)
    }

    /// PKCS#11 3.0 §5.11.2: NULL `pSignature` → the signature length, without signing. Bad
    /// arguments end the operation (`crate::session`).
    fn C_Sign(
        h_session: CK_SESSION_HANDLE,
        p_data: *mut CK_BYTE,
        ul_data_len: CK_ULONG,
        p_signature: *mut CK_BYTE,
        pul_signature_len: *mut CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let (data, room) = ends_on_error(h_session, SIGN, || {
            Ok((
                args::slice(p_data.cast_const(), ul_data_len, "pData is NULL")?,
                twocall::room(p_signature, pul_signature_len)?,
            ))
        })?;
        let out = keyop::finish(Kind::Sign, h_session, Some(data), room)?;
        keyop::deliver(p_signature, pul_signature_len, out)
    }

    /// PKCS#11 3.0 §5.11.3.
    fn C_SignUpdate(h_session: CK_SESSION_HANDLE, p_part: *mut CK_BYTE, ul_part_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let part = ends_on_error(h_session, SIGN, || {
            args::slice(p_part.cast_const(), ul_part_len, "pPart is NULL")
        })?;
        keyop::update(Kind::Sign, h_session, part)
    }

    /// PKCS#11 3.0 §5.11.4.
    fn C_SignFinal(h_session: CK_SESSION_HANDLE, p_signature: *mut CK_BYTE, pul_signature_len: *mut CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let room = ends_on_error(h_session, SIGN, || twocall::room(p_signature, pul_signature_len))?;
        let out = keyop::finish(Kind::Sign, h_session, None, room)?;
        keyop::deliver(p_signature, pul_signature_len, out)
    }

    /// PKCS#11 3.0 §5.12.1.
    fn C_VerifyInit(h_session: CK_SESSION_HANDLE, p_mechanism: *mut CK_MECHANISM, h_key: CK_OBJECT_HANDLE) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let m = keyop::mechanism(args::input(p_mechanism.cast_const(), "pMechanism is NULL")?)?;
        keyop::init(Kind::Verify, h_session, m, h_key)
    }

    /// PKCS#11 3.0 §5.12.2.
    fn C_Verify(
        h_session: CK_SESSION_HANDLE,
        p_data: *mut CK_BYTE,
        ul_data_len: CK_ULONG,
        p_signature: *mut CK_BYTE,
        ul_signature_len: CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let (data, signature) = ends_on_error(h_session, VERIFY, || {
            Ok((
                args::slice(p_data.cast_const(), ul_data_len, "pData is NULL")?,
                args::slice(p_signature.cast_const(), ul_signature_len, "pSignature is NULL")?,
            ))
        })?;
        keyop::verify(h_session, Some(data), signature)
    }

    /// PKCS#11 3.0 §5.12.3.
    fn C_VerifyUpdate(h_session: CK_SESSION_HANDLE, p_part: *mut CK_BYTE, ul_part_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let part = ends_on_error(h_session, VERIFY, || {
            args::slice(p_part.cast_const(), ul_part_len, "pPart is NULL")
        })?;
        keyop::update(Kind::Verify, h_session, part)
    }

    /// PKCS#11 3.0 §5.12.4.
    fn C_VerifyFinal(h_session: CK_SESSION_HANDLE, p_signature: *mut CK_BYTE, ul_signature_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let signature = ends_on_error(h_session, VERIFY, || {
            args::slice(p_signature.cast_const(), ul_signature_len, "pSignature is NULL")
        })?;
        keyop::verify(h_session, None, signature)
    }
}
