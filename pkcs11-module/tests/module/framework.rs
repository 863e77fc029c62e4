//! The module's framework in-process, over a test double of the token layer registered with
//! `set_slot_sources` (the built `.so` has no slot source until the token layer lands; these
//! calls go through the same exported functions, taken from `C_GetFunctionList`).

use crate::common;

use std::ptr::null_mut;
use std::sync::MutexGuard;
use std::time::Duration;

use common::double::{self, Handle, MODULUS_LEN};
use common::raw::{attr, f, find, login, mech, open, session_state, slot_list, ulong};
use common::rv;
use cryptoki_sys::*;
use sha2::Digest;

/// An initialized library over a fresh double; finalized when dropped.
struct Env {
    card: Handle,
    slot: CK_SLOT_ID,
    _g: MutexGuard<'static, ()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        unsafe { (f().C_Finalize.unwrap())(null_mut()) };
        cps_pkcs11::clear_slot_sources();
    }
}

fn env() -> Env {
    let g = common::lock();
    unsafe { (f().C_Finalize.unwrap())(null_mut()) };
    let card = double::install();
    assert_eq!(unsafe { (f().C_Initialize.unwrap())(null_mut()) }, CKR_OK);
    let slots = slot_list(true);
    assert_eq!(slots.len(), 1, "the double's reader");
    Env {
        card,
        slot: slots[0],
        _g: g,
    }
}

fn private_key(h: CK_SESSION_HANDLE) -> CK_OBJECT_HANDLE {
    let keys = find(h, &[(CKA_CLASS, ulong(CKO_PRIVATE_KEY))]);
    assert_eq!(keys.len(), 1);
    keys[0]
}

#[test]
fn slot_token_and_mechanism_info() {
    let e = env();
    let ff = f();
    let mut si = CK_SLOT_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(e.slot, &mut si) },
        CKR_OK
    );
    assert_eq!(common::text(&si.slotDescription), double::READER);
    assert_eq!(
        si.manufacturerID, [b' '; 32],
        "blank manufacturer (objects.md §1)"
    );
    assert_eq!(
        si.flags,
        CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT
    );
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_OK
    );
    assert_eq!(common::text(&ti.label), "TEST DOUBLE");
    assert_eq!(common::text(&ti.serialNumber), "00000001");
    assert_eq!((ti.ulMinPinLen, ti.ulMaxPinLen), (4, 4));
    assert_eq!(ti.ulMaxSessionCount, CK_EFFECTIVELY_INFINITE);
    assert_eq!(ti.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
    let _h = open(e.slot, true);
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_OK
    );
    assert_eq!((ti.ulSessionCount, ti.ulRwSessionCount), (1, 1));

    // Mechanisms: software digests first, then the token's; two-call convention.
    let list = ff.C_GetMechanismList.unwrap();
    let mut n = 0;
    assert_eq!(unsafe { list(e.slot, null_mut(), &mut n) }, CKR_OK);
    assert_eq!(n, 7);
    let mut small = [0; 3];
    let mut n3 = 3;
    assert_eq!(
        unsafe { list(e.slot, small.as_mut_ptr(), &mut n3) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n3, 7);
    let mut all = [0; 7];
    assert_eq!(unsafe { list(e.slot, all.as_mut_ptr(), &mut n) }, CKR_OK);
    assert_eq!(
        &all[..5],
        &[CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_RSA_PKCS]
    );
    let mut mi = CK_MECHANISM_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetMechanismInfo.unwrap())(e.slot, CKM_RSA_PKCS, &mut mi) },
        CKR_OK
    );
    assert_eq!(
        (mi.ulMinKeySize, mi.ulMaxKeySize, mi.flags),
        (2048, 2048, CKF_HW | CKF_SIGN | CKF_DECRYPT)
    );
    assert_eq!(
        unsafe { (ff.C_GetMechanismInfo.unwrap())(e.slot, CKM_SHA256, &mut mi) },
        CKR_OK
    );
    assert_eq!(mi.flags, CKF_DIGEST);
    assert_eq!(
        unsafe { (ff.C_GetMechanismInfo.unwrap())(e.slot, CKM_MD5, &mut mi) },
        CKR_MECHANISM_INVALID
    );
}

#[test]
fn sessions_share_the_login_state_and_handles_are_never_reused() {
    let e = env();
    let ff = f();
    let ro = open(e.slot, false);
    let rw = open(e.slot, true);
    assert_ne!(ro, rw);
    let mut h = 0;
    assert_eq!(
        unsafe { (ff.C_OpenSession.unwrap())(e.slot, 0, null_mut(), None, &mut h) },
        CKR_SESSION_PARALLEL_NOT_SUPPORTED
    );
    assert_eq!(
        (session_state(ro), session_state(rw)),
        (CKS_RO_PUBLIC_SESSION, CKS_RW_PUBLIC_SESSION)
    );

    assert_eq!(login(ro, CKU_USER, b"0000"), CKR_PIN_INCORRECT);
    assert_eq!(login(ro, CKU_USER, b"12345"), CKR_PIN_LEN_RANGE);
    assert_eq!(login(ro, 77, b"1234"), CKR_USER_TYPE_INVALID);
    assert_eq!(
        login(ro, CKU_CONTEXT_SPECIFIC, b"1234"),
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(login(ro, CKU_SO, b"1234"), CKR_SESSION_READ_ONLY_EXISTS);
    assert_eq!(
        e.card.lock().unwrap().login_calls,
        2,
        "refusals made by the module never reach the card"
    );
    assert_eq!(login(ro, CKU_USER, b"1234"), CKR_OK);
    assert_eq!(
        (session_state(ro), session_state(rw)),
        (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS)
    );
    assert_eq!(login(rw, CKU_USER, b"1234"), CKR_USER_ALREADY_LOGGED_IN);
    assert_eq!(
        login(rw, CKU_SO, b"1234"),
        CKR_USER_ANOTHER_ALREADY_LOGGED_IN
    );
    assert_eq!(e.card.lock().unwrap().login_calls, 3);
    // A new session sees the login.
    let third = open(e.slot, false);
    assert_eq!(session_state(third), CKS_RO_USER_FUNCTIONS);
    assert_eq!(unsafe { (ff.C_Logout.unwrap())(rw) }, CKR_OK);
    assert_eq!(session_state(ro), CKS_RO_PUBLIC_SESSION);
    assert_eq!(
        unsafe { (ff.C_Logout.unwrap())(rw) },
        CKR_USER_NOT_LOGGED_IN
    );

    // Closing the last session logs the token out, on the card too.
    assert_eq!(login(ro, CKU_USER, b"1234"), CKR_OK);
    for s in [ro, rw, third] {
        assert_eq!(unsafe { (ff.C_CloseSession.unwrap())(s) }, CKR_OK);
        assert_eq!(
            unsafe { (ff.C_CloseSession.unwrap())(s) },
            CKR_SESSION_HANDLE_INVALID
        );
    }
    assert_eq!(e.card.lock().unwrap().logged_in, None);
    let again = open(e.slot, false);
    assert_eq!(session_state(again), CKS_RO_PUBLIC_SESSION);
    assert!(again > third, "session handles are not reused");
    assert_eq!(unsafe { (ff.C_CloseAllSessions.unwrap())(e.slot) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_CloseSession.unwrap())(again) },
        CKR_SESSION_HANDLE_INVALID
    );
}

#[test]
fn objects_private_ones_after_login_and_stable_handles() {
    let e = env();
    let h = open(e.slot, false);
    let public = find(h, &[]);
    assert_eq!(public.len(), 3, "cert, public key, public data object");
    assert_eq!(
        find(h, &[(CKA_CLASS, ulong(CKO_PRIVATE_KEY))]),
        Vec::<CK_OBJECT_HANDLE>::new()
    );
    let cert = find(h, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))]);
    assert_eq!(cert.len(), 1);
    assert_eq!(
        find(h, &[(CKA_LABEL, b"Certificat de Signature CPS".to_vec())]),
        cert
    );
    assert_eq!(
        find(h, &[(CKA_LABEL, b"nothing".to_vec())]),
        Vec::<CK_OBJECT_HANDLE>::new()
    );
    assert_eq!(login(h, CKU_USER, double::PIN), CKR_OK);
    let all = find(h, &[]);
    assert_eq!(all.len(), 5);
    assert!(
        public.iter().all(|o| all.contains(o)),
        "handles stay the same after login"
    );
    let key = private_key(h);
    assert_eq!(attr(h, key, CKA_LABEL).unwrap(), b"CPS_PRIV_SIG");
    assert_eq!(unsafe { (f().C_Logout.unwrap())(h) }, CKR_OK);
    assert_eq!(attr(h, key, CKA_LABEL), Err(CKR_OBJECT_HANDLE_INVALID));
    assert_eq!(login(h, CKU_USER, double::PIN), CKR_OK);
    assert_ne!(
        private_key(h),
        key,
        "handles of private objects die at logout"
    );
    assert_eq!(
        find(h, &[]).iter().filter(|o| public.contains(o)).count(),
        3
    );

    // Find misuse.
    let ff = f();
    let mut n = 0;
    let mut buf = [0; 4];
    assert_eq!(
        unsafe { (ff.C_FindObjects.unwrap())(h, buf.as_mut_ptr(), 4, &mut n) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        unsafe { (ff.C_FindObjectsFinal.unwrap())(h) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        unsafe { (ff.C_FindObjectsInit.unwrap())(h, null_mut(), 0) },
        CKR_OK
    );
    assert_eq!(
        unsafe { (ff.C_FindObjectsInit.unwrap())(h, null_mut(), 0) },
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        unsafe { (ff.C_FindObjects.unwrap())(h, null_mut(), 4, &mut n) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        unsafe { (ff.C_FindObjects.unwrap())(h, buf.as_mut_ptr(), 4, null_mut()) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        unsafe { (ff.C_FindObjectsInit.unwrap())(h, null_mut(), 1) },
        CKR_ARGUMENTS_BAD,
        "NULL template, count 1"
    );
    assert_eq!(unsafe { (ff.C_FindObjectsFinal.unwrap())(h) }, CKR_OK);
}

#[test]
fn get_attribute_value_rules() {
    let e = env();
    let h = open(e.slot, false);
    assert_eq!(login(h, CKU_USER, double::PIN), CKR_OK);
    let key = private_key(h);
    let get = f().C_GetAttributeValue.unwrap();
    let mut label = [0u8; 32];
    let mut small = [0u8; 2];
    let mut t = [
        CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: label.as_mut_ptr().cast(),
            ulValueLen: 32,
        },
        CK_ATTRIBUTE {
            type_: CKA_PRIVATE_EXPONENT,
            pValue: null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_ALWAYS_AUTHENTICATE,
            pValue: null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_MODULUS,
            pValue: small.as_mut_ptr().cast(),
            ulValueLen: 2,
        },
        CK_ATTRIBUTE {
            type_: CKA_MODULUS,
            pValue: null_mut(),
            ulValueLen: 0,
        },
    ];
    let r = unsafe { get(h, key, t.as_mut_ptr(), t.len() as CK_ULONG) };
    assert_eq!(r, CKR_ATTRIBUTE_SENSITIVE, "{}", rv(r));
    assert_eq!(t[0].ulValueLen, 12);
    assert_eq!(&label[..12], b"CPS_PRIV_SIG");
    assert_eq!(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(t[4].ulValueLen, MODULUS_LEN as CK_ULONG);

    let mut t = [CK_ATTRIBUTE {
        type_: CKA_ALWAYS_AUTHENTICATE,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    assert_eq!(
        unsafe { get(h, key, t.as_mut_ptr(), 1) },
        CKR_ATTRIBUTE_TYPE_INVALID
    );
    let mut t = [CK_ATTRIBUTE {
        type_: CKA_MODULUS,
        pValue: small.as_mut_ptr().cast(),
        ulValueLen: 2,
    }];
    assert_eq!(
        unsafe { get(h, key, t.as_mut_ptr(), 1) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(unsafe { get(h, key, null_mut(), 1) }, CKR_ARGUMENTS_BAD);
    assert_eq!(
        unsafe { get(h, 0xdead, t.as_mut_ptr(), 1) },
        CKR_OBJECT_HANDLE_INVALID
    );

    // Deferred CKA_VALUE: the size query reads nothing, the value is read once per call.
    let data = find(h, &[(CKA_LABEL, b"CPS_DATA".to_vec())]);
    assert_eq!(data.len(), 1);
    let mut t = [CK_ATTRIBUTE {
        type_: CKA_VALUE,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    assert_eq!(unsafe { get(h, data[0], t.as_mut_ptr(), 1) }, CKR_OK);
    assert_eq!(t[0].ulValueLen, 5);
    assert_eq!(e.card.lock().unwrap().reads, 0);
    assert_eq!(attr(h, data[0], CKA_VALUE).unwrap(), b"hello");
    assert_eq!(e.card.lock().unwrap().reads, 1);
    // Repeated enumeration is answered from the cache.
    let before = find(h, &[]);
    assert_eq!(find(h, &[]), before);
}

#[test]
fn signing_two_call_convention_never_signs_for_a_length() {
    let e = env();
    let ff = f();
    let h = open(e.slot, false);
    let mut buf = [0u8; 512];
    let mut len: CK_ULONG = 512;
    let data = b"0123456789abcdef0123456789abcdef";
    let dp = data.as_ptr() as *mut u8;
    assert_eq!(
        unsafe { (ff.C_SignUpdate.unwrap())(h, dp, 4) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        unsafe { (ff.C_SignFinal.unwrap())(h, buf.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    let cert = find(h, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))])[0];
    let mut m = mech(CKM_RSA_PKCS);
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut m, cert) },
        CKR_KEY_TYPE_INCONSISTENT
    );
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut m, 0xdead) },
        CKR_KEY_HANDLE_INVALID
    );
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, null_mut(), 0xdead) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(login(h, CKU_USER, double::PIN), CKR_OK);
    let key = private_key(h);
    let mut md5 = mech(CKM_MD5_RSA_PKCS);
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut md5, key) },
        CKR_MECHANISM_INVALID
    );
    let mut pss = mech(CKM_SHA256_RSA_PKCS_PSS);
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut pss, key) },
        CKR_MECHANISM_PARAM_INVALID
    );

    assert_eq!(unsafe { (ff.C_SignInit.unwrap())(h, &mut m, key) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut m, key) },
        CKR_OPERATION_ACTIVE
    );
    let mut len: CK_ULONG = 0;
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, null_mut(), &mut len) },
        CKR_OK
    );
    assert_eq!(len, MODULUS_LEN as CK_ULONG);
    len = 10;
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(len, MODULUS_LEN as CK_ULONG);
    assert_eq!(
        e.card.lock().unwrap().sign_calls,
        0,
        "length queries never sign"
    );
    // A NULL length pointer is CKR_ARGUMENTS_BAD and ends the operation (2.40 §5.2: only a too
    // small buffer or a length query keep it), without signing.
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, null_mut(), null_mut()) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(e.card.lock().unwrap().sign_calls, 0);
    assert_eq!(unsafe { (ff.C_SignInit.unwrap())(h, &mut m, key) }, CKR_OK);
    len = 512;
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_OK
    );
    assert_eq!(len, MODULUS_LEN as CK_ULONG);
    assert_eq!(&buf[1..33], data);
    assert_eq!(e.card.lock().unwrap().sign_calls, 1);
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED,
        "C_Sign ended it"
    );

    // Multi-part: the backend receives the whole message once.
    let mut sha = mech(CKM_SHA256_RSA_PKCS);
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut sha, key) },
        CKR_OK
    );
    assert_eq!(unsafe { (ff.C_SignUpdate.unwrap())(h, dp, 10) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_SignUpdate.unwrap())(h, dp.wrapping_add(10), 22) },
        CKR_OK
    );
    let mut len: CK_ULONG = 0;
    assert_eq!(
        unsafe { (ff.C_SignFinal.unwrap())(h, null_mut(), &mut len) },
        CKR_OK
    );
    assert_eq!(e.card.lock().unwrap().sign_calls, 1);
    len = 512;
    assert_eq!(
        unsafe { (ff.C_SignFinal.unwrap())(h, buf.as_mut_ptr(), &mut len) },
        CKR_OK
    );
    assert_eq!(e.card.lock().unwrap().last_signed, data);
    assert_eq!(e.card.lock().unwrap().sign_calls, 2);
    // A single-part call cannot end a multi-part operation.
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut sha, key) },
        CKR_OK
    );
    assert_eq!(unsafe { (ff.C_SignUpdate.unwrap())(h, dp, 10) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        unsafe { (ff.C_SignUpdate.unwrap())(h, dp, 10) },
        CKR_OPERATION_NOT_INITIALIZED
    );

    // PSS with its parameters reaches the backend.
    let mut params = CK_RSA_PKCS_PSS_PARAMS {
        hashAlg: CKM_SHA256,
        mgf: CKG_MGF1_SHA256,
        sLen: 32,
    };
    let mut pss = CK_MECHANISM {
        mechanism: CKM_SHA256_RSA_PKCS_PSS,
        pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
        ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
    };
    assert_eq!(
        unsafe { (ff.C_SignInit.unwrap())(h, &mut pss, key) },
        CKR_OK
    );
    len = 512;
    assert_eq!(
        unsafe { (ff.C_Sign.unwrap())(h, dp, 32, buf.as_mut_ptr(), &mut len) },
        CKR_OK
    );
    assert_eq!(buf[0], CKM_SHA256_RSA_PKCS_PSS as u8);
}

#[test]
fn decrypt_output_kept_when_the_buffer_is_too_small() {
    let e = env();
    let ff = f();
    let h = open(e.slot, false);
    assert_eq!(login(h, CKU_USER, double::PIN), CKR_OK);
    let key = private_key(h);
    let mut m = mech(CKM_RSA_PKCS);
    let cipher = [7u8; MODULUS_LEN];
    let cp = cipher.as_ptr() as *mut u8;
    assert_eq!(
        unsafe { (ff.C_DecryptInit.unwrap())(h, &mut m, key) },
        CKR_OK
    );
    let mut len: CK_ULONG = 0;
    assert_eq!(
        unsafe { (ff.C_Decrypt.unwrap())(h, cp, 256, null_mut(), &mut len) },
        CKR_OK
    );
    assert_eq!(
        len, MODULUS_LEN as CK_ULONG,
        "upper bound for the plaintext"
    );
    let mut out = [0u8; 16];
    len = 4;
    assert_eq!(
        unsafe { (ff.C_Decrypt.unwrap())(h, cp, 256, out.as_mut_ptr(), &mut len) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(len, 10);
    len = 16;
    assert_eq!(
        unsafe { (ff.C_Decrypt.unwrap())(h, cp, 256, out.as_mut_ptr(), &mut len) },
        CKR_OK
    );
    assert_eq!(len, 10);
    assert_eq!(&out[..10], &[7u8; 10]);
    assert_eq!(
        e.card.lock().unwrap().decrypt_calls,
        1,
        "the kept output is handed out, the card asked once"
    );
    assert_eq!(
        unsafe { (ff.C_DecryptUpdate.unwrap())(h, cp, 256, out.as_mut_ptr(), &mut len) },
        CKR_FUNCTION_NOT_SUPPORTED
    );
    // Verify through a key without CKA_VERIFY support in the backend: not supported, op ended.
    let pubkey = find(h, &[(CKA_CLASS, ulong(CKO_PUBLIC_KEY))])[0];
    let mut sha = mech(CKM_SHA256_RSA_PKCS);
    assert_eq!(
        unsafe { (ff.C_VerifyInit.unwrap())(h, &mut sha, pubkey) },
        CKR_MECHANISM_INVALID,
        "the double lists no VERIFY mechanism"
    );
    assert_eq!(
        unsafe { (ff.C_EncryptInit.unwrap())(h, &mut m, key) },
        CKR_MECHANISM_INVALID,
        "no ENCRYPT flag"
    );
}

fn digest_all(
    h: CK_SESSION_HANDLE,
    m: CK_MECHANISM_TYPE,
    parts: &[&[u8]],
    single: bool,
) -> Vec<u8> {
    let ff = f();
    let mut mm = mech(m);
    assert_eq!(unsafe { (ff.C_DigestInit.unwrap())(h, &mut mm) }, CKR_OK);
    let mut out = [0u8; 64];
    let mut len: CK_ULONG = 0;
    if single {
        let data: Vec<u8> = parts.concat();
        assert_eq!(
            unsafe {
                (ff.C_Digest.unwrap())(
                    h,
                    data.as_ptr() as *mut u8,
                    data.len() as CK_ULONG,
                    null_mut(),
                    &mut len,
                )
            },
            CKR_OK
        );
        let mut small: CK_ULONG = 1;
        assert_eq!(
            unsafe {
                (ff.C_Digest.unwrap())(
                    h,
                    data.as_ptr() as *mut u8,
                    data.len() as CK_ULONG,
                    out.as_mut_ptr(),
                    &mut small,
                )
            },
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(small, len);
        assert_eq!(
            unsafe {
                (ff.C_Digest.unwrap())(
                    h,
                    data.as_ptr() as *mut u8,
                    data.len() as CK_ULONG,
                    out.as_mut_ptr(),
                    &mut len,
                )
            },
            CKR_OK
        );
    } else {
        for p in parts {
            assert_eq!(
                unsafe {
                    (ff.C_DigestUpdate.unwrap())(h, p.as_ptr() as *mut u8, p.len() as CK_ULONG)
                },
                CKR_OK
            );
        }
        assert_eq!(
            unsafe { (ff.C_DigestFinal.unwrap())(h, null_mut(), &mut len) },
            CKR_OK
        );
        assert_eq!(
            unsafe { (ff.C_DigestFinal.unwrap())(h, out.as_mut_ptr(), &mut len) },
            CKR_OK
        );
    }
    out[..len as usize].to_vec()
}

#[test]
fn digests_match_sha1_and_sha2_single_and_multi_part() {
    let e = env();
    let h = open(e.slot, false);
    let parts: [&[u8]; 3] = [b"The quick brown fox ", b"", b"jumps over the lazy dog"];
    let whole = parts.concat();
    let expected: [(CK_MECHANISM_TYPE, Vec<u8>); 4] = [
        (CKM_SHA_1, <sha1::Sha1 as Digest>::digest(&whole).to_vec()),
        (CKM_SHA256, sha2::Sha256::digest(&whole).to_vec()),
        (CKM_SHA384, sha2::Sha384::digest(&whole).to_vec()),
        (CKM_SHA512, sha2::Sha512::digest(&whole).to_vec()),
    ];
    for (m, want) in &expected {
        assert_eq!(&digest_all(h, *m, &parts, true), want, "single-part {m:#x}");
        assert_eq!(&digest_all(h, *m, &parts, false), want, "multi-part {m:#x}");
    }
    let ff = f();
    let mut out = [0u8; 64];
    let mut len: CK_ULONG = 64;
    assert_eq!(
        unsafe { (ff.C_DigestUpdate.unwrap())(h, out.as_mut_ptr(), 1) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        unsafe { (ff.C_DigestFinal.unwrap())(h, out.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    let mut md5 = mech(CKM_MD5);
    assert_eq!(
        unsafe { (ff.C_DigestInit.unwrap())(h, &mut md5) },
        CKR_MECHANISM_INVALID
    );
    let mut sha = mech(CKM_SHA256);
    assert_eq!(unsafe { (ff.C_DigestInit.unwrap())(h, &mut sha) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_DigestInit.unwrap())(h, &mut sha) },
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        unsafe { (ff.C_DigestUpdate.unwrap())(h, out.as_mut_ptr(), 1) },
        CKR_OK
    );
    assert_eq!(
        unsafe { (ff.C_Digest.unwrap())(h, out.as_mut_ptr(), 1, out.as_mut_ptr(), &mut len) },
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        unsafe { (ff.C_DigestFinal.unwrap())(h, out.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED,
        "ended by the refused C_Digest"
    );
    // C_SessionCancel ends an operation.
    assert_eq!(unsafe { (ff.C_DigestInit.unwrap())(h, &mut sha) }, CKR_OK);
    let cancel = cps_pkcs11::fns::session::C_SessionCancel;
    assert_eq!(unsafe { cancel(h, CKF_DIGEST) }, CKR_OK);
    assert_eq!(
        unsafe { (ff.C_DigestFinal.unwrap())(h, out.as_mut_ptr(), &mut len) },
        CKR_OPERATION_NOT_INITIALIZED
    );
    // Random numbers from the token.
    let mut r = [0u8; 8];
    assert_eq!(
        unsafe { (ff.C_GenerateRandom.unwrap())(h, r.as_mut_ptr(), 8) },
        CKR_OK
    );
    assert_eq!(r, [0xAB; 8]);
    assert_eq!(
        unsafe { (ff.C_GenerateRandom.unwrap())(h, null_mut(), 8) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn card_removal_closes_sessions_and_raises_slot_events() {
    let e = env();
    let ff = f();
    let wait = ff.C_WaitForSlotEvent.unwrap();
    let mut slot = 99;
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_NO_EVENT,
        "the initial state is no event"
    );
    let h = open(e.slot, false);
    let cert = find(h, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))])[0];
    e.card.lock().unwrap().present = false;
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_OK
    );
    assert_eq!(slot, e.slot);
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_NO_EVENT
    );
    let mut si = CK_SLOT_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(e.slot, &mut si) },
        CKR_OK
    );
    assert_eq!(si.flags & CKF_TOKEN_PRESENT, 0);
    assert_eq!(session_state_rv(h), CKR_SESSION_HANDLE_INVALID);
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_TOKEN_NOT_PRESENT
    );
    assert!(slot_list(true).is_empty());
    assert_eq!(slot_list(false), vec![e.slot]);

    // A blocked wait sees the next insertion.
    let card = e.card.clone();
    let waiter = std::thread::spawn(move || {
        let mut slot = 99;
        let r = unsafe { wait(0, &mut slot, null_mut()) };
        (r, slot)
    });
    std::thread::sleep(Duration::from_millis(400));
    assert!(!waiter.is_finished());
    {
        let mut c = card.lock().unwrap();
        c.present = true;
        c.insertion += 1;
    }
    assert_eq!(waiter.join().unwrap(), (CKR_OK, e.slot));
    let h2 = open(e.slot, false);
    let cert2 = find(h2, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))])[0];
    assert_ne!(cert, cert2, "a new token gets new object handles");

    // Swapping the card for an unrecognised one.
    {
        let mut c = card.lock().unwrap();
        c.recognized = false;
        c.insertion += 1;
    }
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_TOKEN_NOT_RECOGNIZED
    );
    assert_eq!(session_state_rv(h2), CKR_SESSION_HANDLE_INVALID);
    let mut h3 = 0;
    assert_eq!(
        unsafe {
            (ff.C_OpenSession.unwrap())(e.slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h3)
        },
        CKR_TOKEN_NOT_RECOGNIZED
    );
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(e.slot, &mut si) },
        CKR_OK
    );
    assert_eq!(
        si.flags & CKF_TOKEN_PRESENT,
        0,
        "token present only when recognised"
    );
}

fn session_state_rv(h: CK_SESSION_HANDLE) -> CK_RV {
    let mut i = CK_SESSION_INFO::default();
    unsafe { (f().C_GetSessionInfo.unwrap())(h, &mut i) }
}
