//! Functions the module does not offer: each a stub answering `CKR_FUNCTION_NOT_SUPPORTED`
//! (PKCS#11 3.0 §5.1.6: "Even unsupported functions in the Cryptoki API should have a stub").
//! The list follows the original (objects.md §6: no object creation, copy, destruction or size,
//! no operation state, no key generation/wrapping/derivation, no C_InitToken, no C_SeedRandom;
//! multi-part decryption refused \[V\]) and the 3.0 message-based functions (no AEAD on a CPS).
//! The legacy C_GetFunctionStatus / C_CancelFunction answer `CKR_FUNCTION_NOT_PARALLEL` as the
//! specification requires (PKCS#11 3.0 §5.16).

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::error::Error;
use crate::shim::pkcs11_fn;

macro_rules! stubs {
    ($rv:expr; $(fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? );)*) => {
        pkcs11_fn! {$(
            /// Not offered by this module.
            fn $name($($arg: $ty),*) {
                $(let _ = $arg;)*
                Err($rv)
            }
        )*}
    };
}

stubs! { Error::FunctionNotParallel;
    fn C_GetFunctionStatus(h: CK_SESSION_HANDLE);
    fn C_CancelFunction(h: CK_SESSION_HANDLE);
}

stubs! { Error::FunctionNotSupported;
    fn C_InitToken(slot: CK_SLOT_ID, pin: *mut CK_UTF8CHAR, pin_len: CK_ULONG, label: *mut CK_UTF8CHAR);
    fn C_GetOperationState(h: CK_SESSION_HANDLE, state: *mut CK_BYTE, len: *mut CK_ULONG);
    fn C_SetOperationState(h: CK_SESSION_HANDLE, state: *mut CK_BYTE, len: CK_ULONG, enc: CK_OBJECT_HANDLE, auth: CK_OBJECT_HANDLE);
    fn C_CreateObject(h: CK_SESSION_HANDLE, t: *mut CK_ATTRIBUTE, n: CK_ULONG, o: *mut CK_OBJECT_HANDLE);
    fn C_CopyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, t: *mut CK_ATTRIBUTE, n: CK_ULONG, new: *mut CK_OBJECT_HANDLE);
    fn C_DestroyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE);
    fn C_GetObjectSize(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, size: *mut CK_ULONG);
    fn C_EncryptUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_EncryptFinal(h: CK_SESSION_HANDLE, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DecryptUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DecryptFinal(h: CK_SESSION_HANDLE, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DigestKey(h: CK_SESSION_HANDLE, key: CK_OBJECT_HANDLE);
    fn C_SignRecoverInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_SignRecover(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_VerifyRecoverInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_VerifyRecover(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DigestEncryptUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DecryptDigestUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_SignEncryptUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_DecryptVerifyUpdate(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_GenerateKey(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, t: *mut CK_ATTRIBUTE, n: CK_ULONG, key: *mut CK_OBJECT_HANDLE);
    fn C_GenerateKeyPair(
        h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, pub_t: *mut CK_ATTRIBUTE, pub_n: CK_ULONG,
        priv_t: *mut CK_ATTRIBUTE, priv_n: CK_ULONG, pub_key: *mut CK_OBJECT_HANDLE, priv_key: *mut CK_OBJECT_HANDLE,
    );
    fn C_WrapKey(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, wrapping: CK_OBJECT_HANDLE, key: CK_OBJECT_HANDLE, out: *mut CK_BYTE, out_len: *mut CK_ULONG);
    fn C_UnwrapKey(
        h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, unwrapping: CK_OBJECT_HANDLE, wrapped: *mut CK_BYTE,
        wrapped_len: CK_ULONG, t: *mut CK_ATTRIBUTE, n: CK_ULONG, key: *mut CK_OBJECT_HANDLE,
    );
    fn C_DeriveKey(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, base: CK_OBJECT_HANDLE, t: *mut CK_ATTRIBUTE, n: CK_ULONG, key: *mut CK_OBJECT_HANDLE);
    fn C_SeedRandom(h: CK_SESSION_HANDLE, seed: *mut CK_BYTE, n: CK_ULONG);
    fn C_LoginUser(h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: *mut CK_UTF8CHAR, pin_len: CK_ULONG, name: *mut CK_UTF8CHAR, name_len: CK_ULONG);
    fn C_MessageEncryptInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_EncryptMessage(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, aad: *mut CK_BYTE, aad_len: CK_ULONG,
        p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG,
    );
    fn C_EncryptMessageBegin(h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, aad: *mut CK_BYTE, aad_len: CK_ULONG);
    fn C_EncryptMessageNext(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        out: *mut CK_BYTE, out_len: *mut CK_ULONG, flags: CK_FLAGS,
    );
    fn C_MessageEncryptFinal(h: CK_SESSION_HANDLE);
    fn C_MessageDecryptInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_DecryptMessage(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, aad: *mut CK_BYTE, aad_len: CK_ULONG,
        p: *mut CK_BYTE, n: CK_ULONG, out: *mut CK_BYTE, out_len: *mut CK_ULONG,
    );
    fn C_DecryptMessageBegin(h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, aad: *mut CK_BYTE, aad_len: CK_ULONG);
    fn C_DecryptMessageNext(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        out: *mut CK_BYTE, out_len: *mut CK_ULONG, flags: CK_FLAGS,
    );
    fn C_MessageDecryptFinal(h: CK_SESSION_HANDLE);
    fn C_MessageSignInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_SignMessage(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        sig: *mut CK_BYTE, sig_len: *mut CK_ULONG,
    );
    fn C_SignMessageBegin(h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG);
    fn C_SignMessageNext(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        sig: *mut CK_BYTE, sig_len: *mut CK_ULONG,
    );
    fn C_MessageSignFinal(h: CK_SESSION_HANDLE);
    fn C_MessageVerifyInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE);
    fn C_VerifyMessage(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        sig: *mut CK_BYTE, sig_len: CK_ULONG,
    );
    fn C_VerifyMessageBegin(h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG);
    fn C_VerifyMessageNext(
        h: CK_SESSION_HANDLE, param: *mut c_void, param_len: CK_ULONG, p: *mut CK_BYTE, n: CK_ULONG,
        sig: *mut CK_BYTE, sig_len: CK_ULONG,
    );
    fn C_MessageVerifyFinal(h: CK_SESSION_HANDLE);
}
