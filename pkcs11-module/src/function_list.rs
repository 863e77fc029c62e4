//! `CK_FUNCTION_LIST` (2.40) and `CK_FUNCTION_LIST_3_0`, and the interfaces that offer them
//! (PKCS#11 3.0 §5.4.4-§5.4.6). Every slot of both lists is filled: unsupported functions are
//! stubs answering `CKR_FUNCTION_NOT_SUPPORTED` (PKCS#11 3.0 §5.1.6).

use std::ffi::c_void;

use cryptoki_sys::{CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_INTERFACE, CK_VERSION};

use crate::fns::{
    digest::*, encrypt_decrypt::*, general::*, not_supported::*, object::*, random::*, session::*,
    sign_verify::*, slot_token::*,
};

/// The Cryptoki versions we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2_40,
    V3_0,
}

impl Version {
    pub fn ck(self) -> CK_VERSION {
        match self {
            Version::V2_40 => CK_VERSION {
                major: 2,
                minor: 40,
            },
            Version::V3_0 => CK_VERSION { major: 3, minor: 0 },
        }
    }
}

macro_rules! function_list {
    ($ty:ident, $version:expr, $get_info:ident { $($extra:ident),* }) => {
        $ty {
            version: $version,
            C_Initialize: Some(C_Initialize),
            C_Finalize: Some(C_Finalize),
            C_GetInfo: Some($get_info),
            C_GetFunctionList: Some(C_GetFunctionList),
            C_GetSlotList: Some(C_GetSlotList),
            C_GetSlotInfo: Some(C_GetSlotInfo),
            C_GetTokenInfo: Some(C_GetTokenInfo),
            C_GetMechanismList: Some(C_GetMechanismList),
            C_GetMechanismInfo: Some(C_GetMechanismInfo),
            C_InitToken: Some(C_InitToken),
            C_InitPIN: Some(C_InitPIN),
            C_SetPIN: Some(C_SetPIN),
            C_OpenSession: Some(C_OpenSession),
            C_CloseSession: Some(C_CloseSession),
            C_CloseAllSessions: Some(C_CloseAllSessions),
            C_GetSessionInfo: Some(C_GetSessionInfo),
            C_GetOperationState: Some(C_GetOperationState),
            C_SetOperationState: Some(C_SetOperationState),
            C_Login: Some(C_Login),
            C_Logout: Some(C_Logout),
            C_CreateObject: Some(C_CreateObject),
            C_CopyObject: Some(C_CopyObject),
            C_DestroyObject: Some(C_DestroyObject),
            C_GetObjectSize: Some(C_GetObjectSize),
            C_GetAttributeValue: Some(C_GetAttributeValue),
            C_SetAttributeValue: Some(C_SetAttributeValue),
            C_FindObjectsInit: Some(C_FindObjectsInit),
            C_FindObjects: Some(C_FindObjects),
            C_FindObjectsFinal: Some(C_FindObjectsFinal),
            C_EncryptInit: Some(C_EncryptInit),
            C_Encrypt: Some(C_Encrypt),
            C_EncryptUpdate: Some(C_EncryptUpdate),
            C_EncryptFinal: Some(C_EncryptFinal),
            C_DecryptInit: Some(C_DecryptInit),
            C_Decrypt: Some(C_Decrypt),
            C_DecryptUpdate: Some(C_DecryptUpdate),
            C_DecryptFinal: Some(C_DecryptFinal),
            C_DigestInit: Some(C_DigestInit),
            C_Digest: Some(C_Digest),
            C_DigestUpdate: Some(C_DigestUpdate),
            C_DigestKey: Some(C_DigestKey),
            C_DigestFinal: Some(C_DigestFinal),
            C_SignInit: Some(C_SignInit),
            C_Sign: Some(C_Sign),
            C_SignUpdate: Some(C_SignUpdate),
            C_SignFinal: Some(C_SignFinal),
            C_SignRecoverInit: Some(C_SignRecoverInit),
            C_SignRecover: Some(C_SignRecover),
            C_VerifyInit: Some(C_VerifyInit),
            C_Verify: Some(C_Verify),
            C_VerifyUpdate: Some(C_VerifyUpdate),
            C_VerifyFinal: Some(C_VerifyFinal),
            C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
            C_VerifyRecover: Some(C_VerifyRecover),
            C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
            C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
            C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
            C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
            C_GenerateKey: Some(C_GenerateKey),
            C_GenerateKeyPair: Some(C_GenerateKeyPair),
            C_WrapKey: Some(C_WrapKey),
            C_UnwrapKey: Some(C_UnwrapKey),
            C_DeriveKey: Some(C_DeriveKey),
            C_SeedRandom: Some(C_SeedRandom),
            C_GenerateRandom: Some(C_GenerateRandom),
            C_GetFunctionStatus: Some(C_GetFunctionStatus),
            C_CancelFunction: Some(C_CancelFunction),
            C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
            $($extra: Some($extra),)*
        }
    };
}

static LIST_2_40: CK_FUNCTION_LIST = function_list!(
    CK_FUNCTION_LIST,
    CK_VERSION {
        major: 2,
        minor: 40
    },
    C_GetInfo {}
);

static LIST_3_0: CK_FUNCTION_LIST_3_0 = function_list!(
    CK_FUNCTION_LIST_3_0,
    CK_VERSION { major: 3, minor: 0 },
    get_info_v3 {
        C_GetInterfaceList,
        C_GetInterface,
        C_LoginUser,
        C_SessionCancel,
        C_MessageEncryptInit,
        C_EncryptMessage,
        C_EncryptMessageBegin,
        C_EncryptMessageNext,
        C_MessageEncryptFinal,
        C_MessageDecryptInit,
        C_DecryptMessage,
        C_DecryptMessageBegin,
        C_DecryptMessageNext,
        C_MessageDecryptFinal,
        C_MessageSignInit,
        C_SignMessage,
        C_SignMessageBegin,
        C_SignMessageNext,
        C_MessageSignFinal,
        C_MessageVerifyInit,
        C_VerifyMessage,
        C_VerifyMessageBegin,
        C_VerifyMessageNext,
        C_MessageVerifyFinal
    }
);

/// The name of both interfaces (PKCS#11 3.0 §5.4.5).
const NAME: &[u8] = b"PKCS 11\0";

/// `CK_INTERFACE` holds raw pointers; ours point to immutable statics.
struct Interface(CK_INTERFACE);
// SAFETY: the pointers inside are to 'static, never-written data.
unsafe impl Sync for Interface {}

static INTERFACES: [Interface; 2] = [
    Interface(CK_INTERFACE {
        pInterfaceName: NAME.as_ptr().cast_mut(),
        pFunctionList: &LIST_3_0 as *const CK_FUNCTION_LIST_3_0 as *mut c_void,
        flags: 0,
    }),
    Interface(CK_INTERFACE {
        pInterfaceName: NAME.as_ptr().cast_mut(),
        pFunctionList: &LIST_2_40 as *const CK_FUNCTION_LIST as *mut c_void,
        flags: 0,
    }),
];

/// The 2.40 list, as `C_GetFunctionList` hands it out (callers must not write to it).
pub fn v2_40() -> *mut CK_FUNCTION_LIST {
    (&LIST_2_40 as *const CK_FUNCTION_LIST).cast_mut()
}

/// Copies of our interfaces, default (3.0) first.
pub fn interfaces() -> [CK_INTERFACE; 2] {
    [INTERFACES[0].0, INTERFACES[1].0]
}

/// The interface called `name` (None: any) at `version` (None: the default), having all `flags`.
pub fn find(
    name: Option<&[u8]>,
    version: Option<(u8, u8)>,
    flags: cryptoki_sys::CK_FLAGS,
) -> Option<*mut CK_INTERFACE> {
    let versions = [Version::V3_0, Version::V2_40];
    INTERFACES.iter().zip(versions).find_map(|(i, v)| {
        let name_ok = name.map_or(true, |n| n == &NAME[..NAME.len() - 1]);
        let version_ok = version.map_or(true, |(major, minor)| {
            v.ck().major == major && v.ck().minor == minor
        });
        let flags_ok = i.0.flags & flags == flags;
        (name_ok && version_ok && flags_ok).then(|| (&i.0 as *const CK_INTERFACE).cast_mut())
    })
}
