//! The module's exported functions called in-process (the rlib's own `C_GetFunctionList`), for
//! tests that need to reach inside: a test double, or the emulated card's counters.

#![allow(dead_code)]

use std::ptr::null_mut;

use cryptoki_sys::*;

use super::rv;

/// The 2.40 function list of the module linked into the test (not the built `.so`).
pub fn f() -> &'static CK_FUNCTION_LIST {
    let mut p: *mut CK_FUNCTION_LIST = null_mut();
    assert_eq!(
        unsafe { cps_pkcs11::fns::general::C_GetFunctionList(&mut p) },
        CKR_OK
    );
    unsafe { &*p }
}

pub fn slot_list(present: bool) -> Vec<CK_SLOT_ID> {
    super::slot_ids(f(), present)
}

pub fn open(slot: CK_SLOT_ID, rw: bool) -> CK_SESSION_HANDLE {
    let mut h = 0;
    let flags = CKF_SERIAL_SESSION | if rw { CKF_RW_SESSION } else { 0 };
    let r = unsafe { (f().C_OpenSession.unwrap())(slot, flags, null_mut(), None, &mut h) };
    assert_eq!(r, CKR_OK, "{}", rv(r));
    assert_ne!(h, 0);
    h
}

pub fn login(h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> CK_RV {
    unsafe { (f().C_Login.unwrap())(h, user, pin.as_ptr() as *mut u8, pin.len() as CK_ULONG) }
}

pub fn session_state(h: CK_SESSION_HANDLE) -> CK_STATE {
    let mut i = CK_SESSION_INFO::default();
    assert_eq!(
        unsafe { (f().C_GetSessionInfo.unwrap())(h, &mut i) },
        CKR_OK
    );
    i.state
}

pub fn find(
    h: CK_SESSION_HANDLE,
    template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)],
) -> Vec<CK_OBJECT_HANDLE> {
    find_with(f(), h, template)
}

/// The one private key labelled `label` (`CPS_PRIV_SIG`, `CPS_PRIV_AUT`) visible in session `h`.
pub fn key(h: CK_SESSION_HANDLE, label: &str) -> CK_OBJECT_HANDLE {
    let found = find(
        h,
        &[
            (CKA_CLASS, ulong(CKO_PRIVATE_KEY)),
            (CKA_LABEL, label.as_bytes().to_vec()),
        ],
    );
    assert_eq!(found.len(), 1, "{label}");
    found[0]
}

/// [`find`] through the function list `ff` (the in-process one or the built `.so`'s).
pub fn find_with(
    ff: &CK_FUNCTION_LIST,
    h: CK_SESSION_HANDLE,
    template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)],
) -> Vec<CK_OBJECT_HANDLE> {
    let mut t: Vec<CK_ATTRIBUTE> = template
        .iter()
        .map(|(k, v)| CK_ATTRIBUTE {
            type_: *k,
            pValue: v.as_ptr() as *mut _,
            ulValueLen: v.len() as CK_ULONG,
        })
        .collect();
    assert_eq!(
        unsafe { (ff.C_FindObjectsInit.unwrap())(h, t.as_mut_ptr(), t.len() as CK_ULONG) },
        CKR_OK
    );
    let mut out = Vec::new();
    loop {
        let mut buf = [0; 2];
        let mut n = 0;
        assert_eq!(
            unsafe { (ff.C_FindObjects.unwrap())(h, buf.as_mut_ptr(), 2, &mut n) },
            CKR_OK
        );
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    assert_eq!(unsafe { (ff.C_FindObjectsFinal.unwrap())(h) }, CKR_OK);
    out
}

pub fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

pub fn attr(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    kind: CK_ATTRIBUTE_TYPE,
) -> Result<Vec<u8>, CK_RV> {
    let get = f().C_GetAttributeValue.unwrap();
    let mut t = [CK_ATTRIBUTE {
        type_: kind,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    let r = unsafe { get(h, o, t.as_mut_ptr(), 1) };
    if r != CKR_OK {
        return Err(r);
    }
    let mut buf = vec![0u8; t[0].ulValueLen as usize];
    t[0].pValue = buf.as_mut_ptr().cast();
    let r = unsafe { get(h, o, t.as_mut_ptr(), 1) };
    if r != CKR_OK {
        return Err(r);
    }
    Ok(buf)
}

pub fn mech(kind: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: kind,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

/// What a browser does when it looks at a token: slots, slot and token info, a public session,
/// every object with the attributes it shows (a certificate's value, id, subject, issuer and
/// serial). Returns the number of objects.
pub fn enumerate(slot: CK_SLOT_ID) -> usize {
    let ff = f();
    assert_eq!(slot_list(true), vec![slot]);
    let mut si = CK_SLOT_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(slot, &mut si) },
        CKR_OK
    );
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(slot, &mut ti) },
        CKR_OK
    );
    let h = open(slot, false);
    let objects = find(h, &[]);
    for o in &objects {
        for kind in [CKA_CLASS, CKA_LABEL, CKA_PRIVATE, CKA_TOKEN] {
            attr(h, *o, kind).unwrap();
        }
        if attr(h, *o, CKA_CLASS).unwrap() == ulong(CKO_CERTIFICATE) {
            for kind in [
                CKA_VALUE,
                CKA_ID,
                CKA_SUBJECT,
                CKA_ISSUER,
                CKA_SERIAL_NUMBER,
            ] {
                attr(h, *o, kind).unwrap();
            }
        }
    }
    unsafe { (ff.C_CloseSession.unwrap())(h) };
    objects.len()
}
