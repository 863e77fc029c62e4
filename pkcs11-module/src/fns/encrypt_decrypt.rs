//! Encryption and decryption (PKCS#11 3.0 §5.8, §5.9): C_EncryptInit, C_Encrypt,
//! C_DecryptInit, C_Decrypt — single part only (RSA; objects.md §6: multi-part decryption is
//! `CKR_FUNCTION_NOT_SUPPORTED`, see `not_supported`).

use cryptoki_sys::*;

use crate::args;
use crate::keyop::{self, Kind};
use crate::session::{ends_on_error, Active};
use crate::shim::pkcs11_fn;
use crate::state;
use crate::twocall;

pkcs11_fn! {
    /// PKCS#11 3.0 §5.8.1.
    fn C_EncryptInit(h_session: CK_SESSION_HANDLE, p_mechanism: *mut CK_MECHANISM, h_key: CK_OBJECT_HANDLE) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let m = keyop::mechanism(args::input(p_mechanism.cast_const(), "pMechanism is NULL")?)?;
        keyop::init(Kind::Encrypt, h_session, m, h_key)
    }

    /// PKCS#11 3.0 §5.8.2. Bad arguments end the operation (`crate::session`).
    fn C_Encrypt(
        h_session: CK_SESSION_HANDLE,
        p_data: *mut CK_BYTE,
        ul_data_len: CK_ULONG,
        p_encrypted_data: *mut CK_BYTE,
        pul_encrypted_data_len: *mut CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let (data, room) = ends_on_error(h_session, Active::Key(Kind::Encrypt), || {
            Ok((
                args::slice(p_data.cast_const(), ul_data_len, "pData is NULL")?,
                twocall::room(p_encrypted_data, pul_encrypted_data_len)?,
            ))
        })?;
        let out = keyop::finish(Kind::Encrypt, h_session, Some(data), room)?;
        keyop::deliver(p_encrypted_data, pul_encrypted_data_len, out)
    }

    /// PKCS#11 3.0 §5.9.1.
    fn C_DecryptInit(h_session: CK_SESSION_HANDLE, p_mechanism: *mut CK_MECHANISM, h_key: CK_OBJECT_HANDLE) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let m = keyop::mechanism(args::input(p_mechanism.cast_const(), "pMechanism is NULL")?)?;
        keyop::init(Kind::Decrypt, h_session, m, h_key)
    }

    /// PKCS#11 3.0 §5.9.2: a NULL buffer gets the modulus size (enough for any plaintext). Bad
    /// arguments end the operation (`crate::session`).
    fn C_Decrypt(
        h_session: CK_SESSION_HANDLE,
        p_encrypted_data: *mut CK_BYTE,
        ul_encrypted_data_len: CK_ULONG,
        p_data: *mut CK_BYTE,
        pul_data_len: *mut CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let (input, room) = ends_on_error(h_session, Active::Key(Kind::Decrypt), || {
            Ok((
                args::slice(p_encrypted_data.cast_const(), ul_encrypted_data_len, "pEncryptedData is NULL")?,
                twocall::room(p_data, pul_data_len)?,
            ))
        })?;
        let out = keyop::finish(Kind::Decrypt, h_session, Some(input), room)?;
        keyop::deliver(p_data, pul_data_len, out)
    }
}
