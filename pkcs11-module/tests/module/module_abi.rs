//! The built `libcps_pkcs11.so`, loaded as an application loads it, with no slot source (no card
//! layer yet): life cycle, info, function lists and interfaces, argument misuse, slot events;
//! the misuse matrix over both emulated cards (`module_abi/misuse.rs`) and the resident set over
//! 10 000 signatures (`module_abi/memory.rs`).

#[cfg(feature = "emulator")]
mod memory;
#[cfg(feature = "emulator")]
mod misuse;

use crate::common;

use std::ffi::c_void;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use common::{rv, serial, text, Module};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki_sys::*;

fn cryptoki() -> Pkcs11 {
    Pkcs11::new(common::module_path()).expect("cryptoki loads the module")
}

fn os_locking() -> CInitializeArgs {
    CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)
}

fn rv_of<T: std::fmt::Debug>(r: cryptoki::error::Result<T>) -> RvError {
    match r {
        Err(CkError::Pkcs11(e, _)) => e,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn initialize_finalize_and_their_misuse() {
    let m = Module::load();
    let _g = serial(&m);
    let p = cryptoki();
    p.initialize(os_locking()).unwrap();
    assert_eq!(
        rv_of(p.initialize(os_locking())),
        RvError::CryptokiAlreadyInitialized
    );
    p.get_library_info().unwrap();
    p.clone().finalize().unwrap();
    assert_eq!(rv_of(p.get_library_info()), RvError::CryptokiNotInitialized);
    assert_eq!(rv_of(p.clone().finalize()), RvError::CryptokiNotInitialized);
    assert_eq!(rv_of(p.get_all_slots()), RvError::CryptokiNotInitialized);
    // A new cycle works.
    p.initialize(CInitializeArgs::new(CInitializeFlags::empty()))
        .unwrap();
    p.clone().finalize().unwrap();
}

#[test]
fn info_is_ours_and_blank_padded() {
    let m = Module::load();
    let _g = serial(&m);
    // Through cryptoki, which takes the 3.0 interface.
    let p = cryptoki();
    p.initialize(os_locking()).unwrap();
    let info = p.get_library_info().unwrap();
    assert_eq!(
        (
            info.cryptoki_version().major(),
            info.cryptoki_version().minor()
        ),
        (3, 0)
    );
    assert_eq!(info.manufacturer_id(), "cpscard");
    assert!(
        info.library_description().contains("cpscard"),
        "{}",
        info.library_description()
    );
    let version: Vec<u8> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(
        (
            info.library_version().major(),
            info.library_version().minor()
        ),
        (version[0], version[1])
    );
    // Through the 2.40 list: raw bytes, blank-padded, version 2.40.
    let mut raw = CK_INFO::default();
    assert_eq!(unsafe { (m.f.C_GetInfo.unwrap())(&mut raw) }, CKR_OK);
    assert_eq!(
        (raw.cryptokiVersion.major, raw.cryptokiVersion.minor),
        (2, 40)
    );
    assert_eq!(&raw.manufacturerID[..7], b"cpscard");
    assert!(
        raw.manufacturerID[7..].iter().all(|b| *b == b' '),
        "blank padding"
    );
    let desc = text(&raw.libraryDescription);
    assert!(raw.libraryDescription[desc.len()..]
        .iter()
        .all(|b| *b == b' '));
    assert!(!desc.contains("ANS") && !desc.contains('\0'));
    assert_eq!(raw.flags, 0);
    assert_eq!(
        unsafe { (m.f.C_GetInfo.unwrap())(null_mut()) },
        CKR_ARGUMENTS_BAD
    );
    p.finalize().unwrap();
}

/// Every pointer of a function list after `version`, as addresses.
fn entries<T>(list: &T) -> Vec<usize> {
    let n =
        (std::mem::size_of::<T>() - std::mem::size_of::<usize>()) / std::mem::size_of::<usize>();
    // SAFETY: the lists are `CK_VERSION` (padded to a pointer) followed by `n` function pointers.
    let base = (list as *const T).cast::<usize>();
    (1..=n).map(|i| unsafe { *base.add(i) }).collect()
}

#[test]
fn function_lists_are_complete() {
    let m = Module::load();
    let _g = serial(&m);
    assert_eq!((m.f.version.major, m.f.version.minor), (2, 40));
    let v2 = entries(m.f);
    assert_eq!(v2.len(), 68, "PKCS#11 2.40 has 68 functions");
    let nulls: Vec<usize> = (0..v2.len()).filter(|i| v2[*i] == 0).collect();
    assert!(
        nulls.is_empty(),
        "NULL entries in the 2.40 list at {nulls:?}"
    );
    // Exported by name too (applications that link directly).
    for name in [
        "C_Initialize",
        "C_GetInfo",
        "C_GetFunctionList",
        "C_GetInterface",
        "C_WaitForSlotEvent",
        "C_MessageVerifyFinal",
    ] {
        let _ = m.symbol::<unsafe extern "C" fn()>(name);
    }
    let mut iface: *mut CK_INTERFACE = null_mut();
    assert_eq!(
        unsafe {
            (m.symbol::<CK_C_GetInterface>("C_GetInterface").unwrap())(
                null_mut(),
                null_mut(),
                &mut iface,
                0,
            )
        },
        CKR_OK
    );
    let list3 = unsafe { &*((*iface).pFunctionList as *const CK_FUNCTION_LIST_3_0) };
    assert_eq!((list3.version.major, list3.version.minor), (3, 0));
    let v3 = entries(list3);
    assert_eq!(v3.len(), 92, "PKCS#11 3.0 has 92 functions");
    assert!(v3.iter().all(|p| *p != 0));
}

#[test]
fn interfaces_follow_the_two_call_convention() {
    let m = Module::load();
    let _g = serial(&m);
    let list_fn = *m.symbol::<CK_C_GetInterfaceList>("C_GetInterfaceList");
    let get_fn = *m.symbol::<CK_C_GetInterface>("C_GetInterface");
    let (list_fn, get_fn) = (list_fn.unwrap(), get_fn.unwrap());
    let mut n: CK_ULONG = 0;
    assert_eq!(unsafe { list_fn(null_mut(), &mut n) }, CKR_OK);
    assert_eq!(n, 2);
    let mut buf = [CK_INTERFACE::default(); 2];
    let mut small: CK_ULONG = 1;
    assert_eq!(
        unsafe { list_fn(buf.as_mut_ptr(), &mut small) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(small, 2);
    assert_eq!(unsafe { list_fn(buf.as_mut_ptr(), &mut n) }, CKR_OK);
    assert_eq!(
        unsafe { list_fn(buf.as_mut_ptr(), null_mut()) },
        CKR_ARGUMENTS_BAD
    );
    let mut versions = Vec::new();
    for i in &buf {
        let name = unsafe { std::ffi::CStr::from_ptr(i.pInterfaceName as *const std::ffi::c_char) };
        assert_eq!(name.to_bytes(), b"PKCS 11");
        let v = unsafe { &*(i.pFunctionList as *const CK_FUNCTION_LIST) }.version;
        versions.push((v.major, v.minor));
    }
    assert_eq!(versions, [(3, 0), (2, 40)]);

    let name = c"PKCS 11".as_ptr() as *mut CK_UTF8CHAR;
    let mut iface: *mut CK_INTERFACE = null_mut();
    let mut v240 = CK_VERSION {
        major: 2,
        minor: 40,
    };
    assert_eq!(unsafe { get_fn(name, &mut v240, &mut iface, 0) }, CKR_OK);
    assert_eq!(
        unsafe { (*iface).pFunctionList } as usize,
        m.f as *const CK_FUNCTION_LIST as usize,
        "2.40 interface = C_GetFunctionList's list"
    );
    let mut v30 = CK_VERSION { major: 3, minor: 0 };
    assert_eq!(unsafe { get_fn(name, &mut v30, &mut iface, 0) }, CKR_OK);
    assert_eq!(
        unsafe { &*((*iface).pFunctionList as *const CK_FUNCTION_LIST) }
            .version
            .major,
        3
    );
    let mut v31 = CK_VERSION { major: 3, minor: 1 };
    assert_eq!(
        unsafe { get_fn(name, &mut v31, &mut iface, 0) },
        CKR_ARGUMENTS_BAD
    );
    let other = c"Vendor X".as_ptr() as *mut CK_UTF8CHAR;
    assert_eq!(
        unsafe { get_fn(other, null_mut(), &mut iface, 0) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        unsafe { get_fn(null_mut(), null_mut(), &mut iface, CKF_INTERFACE_FORK_SAFE) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        unsafe { get_fn(null_mut(), null_mut(), null_mut(), 0) },
        CKR_ARGUMENTS_BAD
    );
}

unsafe extern "C" fn create_mutex(_m: *mut *mut c_void) -> CK_RV {
    CKR_OK
}
unsafe extern "C" fn mutex_op(_m: *mut c_void) -> CK_RV {
    CKR_OK
}

fn init_args(flags: CK_FLAGS, callbacks: [bool; 4], reserved: *mut c_void) -> CK_C_INITIALIZE_ARGS {
    CK_C_INITIALIZE_ARGS {
        CreateMutex: callbacks[0]
            .then_some(create_mutex as unsafe extern "C" fn(*mut *mut c_void) -> CK_RV),
        DestroyMutex: callbacks[1]
            .then_some(mutex_op as unsafe extern "C" fn(*mut c_void) -> CK_RV),
        LockMutex: callbacks[2].then_some(mutex_op as unsafe extern "C" fn(*mut c_void) -> CK_RV),
        UnlockMutex: callbacks[3].then_some(mutex_op as unsafe extern "C" fn(*mut c_void) -> CK_RV),
        flags,
        pReserved: reserved,
    }
}

#[test]
fn initialize_args_are_checked() {
    let m = Module::load();
    let _g = serial(&m);
    let init = m.f.C_Initialize.unwrap();
    let call = |mut a: CK_C_INITIALIZE_ARGS| unsafe {
        init(&mut a as *mut CK_C_INITIALIZE_ARGS as *mut c_void)
    };
    let all = [true; 4];
    let none = [false; 4];
    assert_eq!(
        call(init_args(
            CKF_OS_LOCKING_OK,
            [true, true, false, true],
            null_mut()
        )),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        call(init_args(0, [false, false, false, true], null_mut())),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        call(init_args(0, all, null_mut())),
        CKR_CANT_LOCK,
        "callbacks without OS locking"
    );
    let mut junk = 42u64;
    assert_eq!(
        call(init_args(0, none, (&mut junk as *mut u64).cast())),
        CKR_ARGUMENTS_BAD,
        "pReserved"
    );
    // Nothing above initialized the library.
    assert_eq!(m.finalize(), CKR_CRYPTOKI_NOT_INITIALIZED);

    for (flags, cb) in [
        (CKF_OS_LOCKING_OK, all),
        (CKF_OS_LOCKING_OK, none),
        (0, none),
        (CKF_LIBRARY_CANT_CREATE_OS_THREADS, none),
        (CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK, all),
    ] {
        assert_eq!(
            call(init_args(flags, cb, null_mut())),
            CKR_OK,
            "flags {flags:#x}"
        );
        assert_eq!(m.finalize(), CKR_OK);
    }
    // The vendor's Windows logon marker (objects.md §9).
    let marker = b"winlogonDecrypt\0";
    assert_eq!(
        call(init_args(
            CKF_OS_LOCKING_OK,
            none,
            marker.as_ptr() as *mut c_void
        )),
        CKR_OK
    );
    let not_quite = b"winlogonDecrypX\0";
    assert_eq!(m.finalize(), CKR_OK);
    assert_eq!(
        call(init_args(
            CKF_OS_LOCKING_OK,
            none,
            not_quite.as_ptr() as *mut c_void
        )),
        CKR_ARGUMENTS_BAD
    );

    assert_eq!(m.initialize(), CKR_OK);
    assert_eq!(m.initialize(), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    let mut x = 0u8;
    assert_eq!(
        unsafe { (m.f.C_Finalize.unwrap())((&mut x as *mut u8).cast()) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(m.finalize(), CKR_OK);
}

#[test]
fn everything_needs_initialize() {
    let m = Module::load();
    let _g = serial(&m);
    let f = m.f;
    let mut info = CK_INFO::default();
    let mut n: CK_ULONG = 0;
    let mut slot_info = CK_SLOT_INFO::default();
    let mut token_info = CK_TOKEN_INFO::default();
    let mut h: CK_SESSION_HANDLE = 0;
    let mut sinfo = CK_SESSION_INFO::default();
    let mut mech = CK_MECHANISM {
        mechanism: CKM_SHA256,
        pParameter: null_mut(),
        ulParameterLen: 0,
    };
    let mut buf = [0u8; 64];
    let mut slot: CK_SLOT_ID = 0;
    unsafe {
        let results = [
            ("C_GetInfo", (f.C_GetInfo.unwrap())(&mut info)),
            (
                "C_GetSlotList",
                (f.C_GetSlotList.unwrap())(CK_FALSE, null_mut(), &mut n),
            ),
            (
                "C_GetSlotInfo",
                (f.C_GetSlotInfo.unwrap())(0, &mut slot_info),
            ),
            (
                "C_GetTokenInfo",
                (f.C_GetTokenInfo.unwrap())(0, &mut token_info),
            ),
            (
                "C_GetMechanismList",
                (f.C_GetMechanismList.unwrap())(0, null_mut(), &mut n),
            ),
            (
                "C_OpenSession",
                (f.C_OpenSession.unwrap())(0, CKF_SERIAL_SESSION, null_mut(), None, &mut h),
            ),
            ("C_CloseSession", (f.C_CloseSession.unwrap())(1)),
            ("C_CloseAllSessions", (f.C_CloseAllSessions.unwrap())(0)),
            (
                "C_GetSessionInfo",
                (f.C_GetSessionInfo.unwrap())(1, &mut sinfo),
            ),
            (
                "C_Login",
                (f.C_Login.unwrap())(1, CKU_USER, b"1234".as_ptr() as *mut u8, 4),
            ),
            ("C_Logout", (f.C_Logout.unwrap())(1)),
            (
                "C_FindObjectsInit",
                (f.C_FindObjectsInit.unwrap())(1, null_mut(), 0),
            ),
            ("C_DigestInit", (f.C_DigestInit.unwrap())(1, &mut mech)),
            ("C_SignInit", (f.C_SignInit.unwrap())(1, &mut mech, 1)),
            (
                "C_GenerateRandom",
                (f.C_GenerateRandom.unwrap())(1, buf.as_mut_ptr(), 8),
            ),
            (
                "C_WaitForSlotEvent",
                (f.C_WaitForSlotEvent.unwrap())(CKF_DONT_BLOCK, &mut slot, null_mut()),
            ),
            ("C_Finalize", (f.C_Finalize.unwrap())(null_mut())),
        ];
        for (name, r) in results {
            assert_eq!(
                r,
                CKR_CRYPTOKI_NOT_INITIALIZED,
                "{name} before C_Initialize: {}",
                rv(r)
            );
        }
    }
    // C_GetFunctionList works before C_Initialize.
    let mut list: *mut CK_FUNCTION_LIST = null_mut();
    assert_eq!(unsafe { (f.C_GetFunctionList.unwrap())(&mut list) }, CKR_OK);
    assert_eq!(
        unsafe { (f.C_GetFunctionList.unwrap())(null_mut()) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn no_slots_without_a_backend() {
    let m = Module::load();
    let _g = serial(&m);
    let p = cryptoki();
    p.initialize(os_locking()).unwrap();
    assert!(p.get_all_slots().unwrap().is_empty());
    assert!(p.get_slots_with_token().unwrap().is_empty());
    let f = m.f;
    let mut n: CK_ULONG = 99;
    assert_eq!(
        unsafe { (f.C_GetSlotList.unwrap())(CK_TRUE, null_mut(), &mut n) },
        CKR_OK
    );
    assert_eq!(n, 0);
    let mut ids = [0 as CK_SLOT_ID; 4];
    n = 4;
    assert_eq!(
        unsafe { (f.C_GetSlotList.unwrap())(CK_FALSE, ids.as_mut_ptr(), &mut n) },
        CKR_OK
    );
    assert_eq!(n, 0);
    assert_eq!(
        unsafe { (f.C_GetSlotList.unwrap())(CK_FALSE, ids.as_mut_ptr(), null_mut()) },
        CKR_ARGUMENTS_BAD
    );
    p.finalize().unwrap();
}

#[test]
fn invalid_handles_and_null_arguments() {
    let m = Module::load();
    let _g = serial(&m);
    assert_eq!(m.initialize(), CKR_OK);
    let f = m.f;
    let bad_slot: CK_SLOT_ID = 4242;
    let bad: CK_SESSION_HANDLE = 0x5eed;
    let mut n: CK_ULONG = 0;
    let mut slot_info = CK_SLOT_INFO::default();
    let mut token_info = CK_TOKEN_INFO::default();
    let mut mech_info = CK_MECHANISM_INFO::default();
    let mut h: CK_SESSION_HANDLE = 0;
    let mut sinfo = CK_SESSION_INFO::default();
    let mut mech = CK_MECHANISM {
        mechanism: CKM_SHA256,
        pParameter: null_mut(),
        ulParameterLen: 0,
    };
    let mut buf = [0u8; 64];
    let mut len: CK_ULONG = 64;
    let mut objs = [0 as CK_OBJECT_HANDLE; 4];
    let mut attr = [CK_ATTRIBUTE {
        type_: CKA_CLASS,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    let data = buf.as_mut_ptr();
    unsafe {
        let slot_calls = [
            (
                "C_GetSlotInfo",
                (f.C_GetSlotInfo.unwrap())(bad_slot, &mut slot_info),
            ),
            (
                "C_GetTokenInfo",
                (f.C_GetTokenInfo.unwrap())(bad_slot, &mut token_info),
            ),
            (
                "C_GetMechanismList",
                (f.C_GetMechanismList.unwrap())(bad_slot, null_mut(), &mut n),
            ),
            (
                "C_GetMechanismInfo",
                (f.C_GetMechanismInfo.unwrap())(bad_slot, CKM_SHA256, &mut mech_info),
            ),
            (
                "C_OpenSession",
                (f.C_OpenSession.unwrap())(bad_slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h),
            ),
            (
                "C_CloseAllSessions",
                (f.C_CloseAllSessions.unwrap())(bad_slot),
            ),
        ];
        for (name, r) in slot_calls {
            assert_eq!(r, CKR_SLOT_ID_INVALID, "{name}: {}", rv(r));
        }
        let session_calls = [
            ("C_CloseSession", (f.C_CloseSession.unwrap())(bad)),
            (
                "C_GetSessionInfo",
                (f.C_GetSessionInfo.unwrap())(bad, &mut sinfo),
            ),
            (
                "C_Login",
                (f.C_Login.unwrap())(bad, CKU_USER, b"1234".as_ptr() as *mut u8, 4),
            ),
            ("C_Logout", (f.C_Logout.unwrap())(bad)),
            (
                "C_InitPIN",
                (f.C_InitPIN.unwrap())(bad, b"1234".as_ptr() as *mut u8, 4),
            ),
            (
                "C_SetPIN",
                (f.C_SetPIN.unwrap())(
                    bad,
                    b"1234".as_ptr() as *mut u8,
                    4,
                    b"5678".as_ptr() as *mut u8,
                    4,
                ),
            ),
            (
                "C_FindObjectsInit",
                (f.C_FindObjectsInit.unwrap())(bad, attr.as_mut_ptr(), 1),
            ),
            (
                "C_FindObjects",
                (f.C_FindObjects.unwrap())(bad, objs.as_mut_ptr(), 4, &mut n),
            ),
            ("C_FindObjectsFinal", (f.C_FindObjectsFinal.unwrap())(bad)),
            (
                "C_GetAttributeValue",
                (f.C_GetAttributeValue.unwrap())(bad, 1, attr.as_mut_ptr(), 1),
            ),
            (
                "C_SetAttributeValue",
                (f.C_SetAttributeValue.unwrap())(bad, 1, attr.as_mut_ptr(), 1),
            ),
            ("C_DigestInit", (f.C_DigestInit.unwrap())(bad, &mut mech)),
            (
                "C_Digest",
                (f.C_Digest.unwrap())(bad, data, 4, data, &mut len),
            ),
            ("C_DigestUpdate", (f.C_DigestUpdate.unwrap())(bad, data, 4)),
            (
                "C_DigestFinal",
                (f.C_DigestFinal.unwrap())(bad, data, &mut len),
            ),
            ("C_SignInit", (f.C_SignInit.unwrap())(bad, &mut mech, 1)),
            ("C_Sign", (f.C_Sign.unwrap())(bad, data, 4, data, &mut len)),
            ("C_SignUpdate", (f.C_SignUpdate.unwrap())(bad, data, 4)),
            ("C_SignFinal", (f.C_SignFinal.unwrap())(bad, data, &mut len)),
            ("C_VerifyInit", (f.C_VerifyInit.unwrap())(bad, &mut mech, 1)),
            ("C_Verify", (f.C_Verify.unwrap())(bad, data, 4, data, 4)),
            ("C_VerifyUpdate", (f.C_VerifyUpdate.unwrap())(bad, data, 4)),
            ("C_VerifyFinal", (f.C_VerifyFinal.unwrap())(bad, data, 4)),
            (
                "C_EncryptInit",
                (f.C_EncryptInit.unwrap())(bad, &mut mech, 1),
            ),
            (
                "C_Encrypt",
                (f.C_Encrypt.unwrap())(bad, data, 4, data, &mut len),
            ),
            (
                "C_DecryptInit",
                (f.C_DecryptInit.unwrap())(bad, &mut mech, 1),
            ),
            (
                "C_Decrypt",
                (f.C_Decrypt.unwrap())(bad, data, 4, data, &mut len),
            ),
            (
                "C_GenerateRandom",
                (f.C_GenerateRandom.unwrap())(bad, data, 4),
            ),
        ];
        for (name, r) in session_calls {
            assert_eq!(r, CKR_SESSION_HANDLE_INVALID, "{name}: {}", rv(r));
        }
        let null_calls = [
            ("C_GetInfo", (f.C_GetInfo.unwrap())(null_mut())),
            (
                "C_GetSlotList",
                (f.C_GetSlotList.unwrap())(CK_FALSE, null_mut(), null_mut()),
            ),
            ("C_GetSlotInfo", (f.C_GetSlotInfo.unwrap())(0, null_mut())),
            ("C_GetTokenInfo", (f.C_GetTokenInfo.unwrap())(0, null_mut())),
            (
                "C_GetMechanismList",
                (f.C_GetMechanismList.unwrap())(0, null_mut(), null_mut()),
            ),
            (
                "C_GetMechanismInfo",
                (f.C_GetMechanismInfo.unwrap())(0, CKM_SHA256, null_mut()),
            ),
            (
                "C_OpenSession",
                (f.C_OpenSession.unwrap())(0, CKF_SERIAL_SESSION, null_mut(), None, null_mut()),
            ),
            (
                "C_WaitForSlotEvent",
                (f.C_WaitForSlotEvent.unwrap())(CKF_DONT_BLOCK, null_mut(), null_mut()),
            ),
            (
                "C_WaitForSlotEvent pReserved",
                (f.C_WaitForSlotEvent.unwrap())(CKF_DONT_BLOCK, &mut h, data.cast()),
            ),
        ];
        for (name, r) in null_calls {
            assert_eq!(r, CKR_ARGUMENTS_BAD, "{name} with NULL: {}", rv(r));
        }
    }
    assert_eq!(m.finalize(), CKR_OK);
}

#[test]
fn unsupported_functions_are_stubs() {
    let m = Module::load();
    let _g = serial(&m);
    assert_eq!(m.initialize(), CKR_OK);
    let f = m.f;
    let n = null_mut();
    unsafe {
        let results = [
            ("C_InitToken", (f.C_InitToken.unwrap())(0, n, 0, n)),
            (
                "C_GetOperationState",
                (f.C_GetOperationState.unwrap())(1, n, null_mut()),
            ),
            (
                "C_SetOperationState",
                (f.C_SetOperationState.unwrap())(1, n, 0, 0, 0),
            ),
            (
                "C_CreateObject",
                (f.C_CreateObject.unwrap())(1, null_mut(), 0, null_mut()),
            ),
            (
                "C_CopyObject",
                (f.C_CopyObject.unwrap())(1, 1, null_mut(), 0, null_mut()),
            ),
            ("C_DestroyObject", (f.C_DestroyObject.unwrap())(1, 1)),
            (
                "C_GetObjectSize",
                (f.C_GetObjectSize.unwrap())(1, 1, null_mut()),
            ),
            (
                "C_EncryptUpdate",
                (f.C_EncryptUpdate.unwrap())(1, n, 0, n, null_mut()),
            ),
            (
                "C_DecryptUpdate",
                (f.C_DecryptUpdate.unwrap())(1, n, 0, n, null_mut()),
            ),
            (
                "C_DecryptFinal",
                (f.C_DecryptFinal.unwrap())(1, n, null_mut()),
            ),
            ("C_DigestKey", (f.C_DigestKey.unwrap())(1, 1)),
            (
                "C_SignRecoverInit",
                (f.C_SignRecoverInit.unwrap())(1, null_mut(), 1),
            ),
            (
                "C_VerifyRecover",
                (f.C_VerifyRecover.unwrap())(1, n, 0, n, null_mut()),
            ),
            (
                "C_GenerateKeyPair",
                (f.C_GenerateKeyPair.unwrap())(
                    1,
                    null_mut(),
                    null_mut(),
                    0,
                    null_mut(),
                    0,
                    null_mut(),
                    null_mut(),
                ),
            ),
            (
                "C_WrapKey",
                (f.C_WrapKey.unwrap())(1, null_mut(), 1, 1, n, null_mut()),
            ),
            (
                "C_UnwrapKey",
                (f.C_UnwrapKey.unwrap())(1, null_mut(), 1, n, 0, null_mut(), 0, null_mut()),
            ),
            (
                "C_DeriveKey",
                (f.C_DeriveKey.unwrap())(1, null_mut(), 1, null_mut(), 0, null_mut()),
            ),
            ("C_SeedRandom", (f.C_SeedRandom.unwrap())(1, n, 0)),
        ];
        for (name, r) in results {
            assert_eq!(r, CKR_FUNCTION_NOT_SUPPORTED, "{name}: {}", rv(r));
        }
        assert_eq!(
            (f.C_GetFunctionStatus.unwrap())(1),
            CKR_FUNCTION_NOT_PARALLEL
        );
        assert_eq!((f.C_CancelFunction.unwrap())(1), CKR_FUNCTION_NOT_PARALLEL);
    }
    assert_eq!(m.finalize(), CKR_OK);
}

#[test]
fn slot_event_dont_block_and_cancel_by_finalize() {
    let m = Module::load();
    let _g = serial(&m);
    let p = cryptoki();
    p.initialize(os_locking()).unwrap();
    assert_eq!(
        p.get_slot_event().unwrap(),
        None,
        "CKF_DONT_BLOCK → CKR_NO_EVENT"
    );
    let wait = m.f.C_WaitForSlotEvent.unwrap();
    let mut slot: CK_SLOT_ID = 0;
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_NO_EVENT
    );

    let waiter = std::thread::spawn(move || {
        let mut slot: CK_SLOT_ID = 0;
        let started = Instant::now();
        let r = unsafe { wait(0, &mut slot, null_mut()) };
        (r, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        !waiter.is_finished(),
        "a blocking C_WaitForSlotEvent returned with no event"
    );
    let finalized = Instant::now();
    assert_eq!(m.finalize(), CKR_OK);
    let (r, waited) = waiter.join().unwrap();
    assert_eq!(r, CKR_CRYPTOKI_NOT_INITIALIZED, "{}", rv(r));
    assert!(waited >= Duration::from_millis(500));
    assert!(
        finalized.elapsed() < Duration::from_secs(2),
        "C_Finalize did not wake the waiter promptly"
    );
}

#[test]
fn a_forked_child_must_initialize_again() {
    let m = Module::load();
    let _g = serial(&m);
    assert_eq!(m.initialize(), CKR_OK);
    let f = m.f;
    // SAFETY: the child only calls the module and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut info = CK_INFO::default();
        let code = unsafe {
            if (f.C_GetInfo.unwrap())(&mut info) != CKR_CRYPTOKI_NOT_INITIALIZED {
                1
            } else if (f.C_Initialize.unwrap())(null_mut()) != CKR_OK {
                2
            } else if (f.C_GetInfo.unwrap())(&mut info) != CKR_OK {
                3
            } else if (f.C_Finalize.unwrap())(null_mut()) != CKR_OK {
                4
            } else {
                0
            }
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child crashed: {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child step that failed");
    // The parent is still initialized.
    let mut info = CK_INFO::default();
    assert_eq!(unsafe { (f.C_GetInfo.unwrap())(&mut info) }, CKR_OK);
    assert_eq!(m.finalize(), CKR_OK);
}
