//! Sessions and the operation state each carries (PKCS#11 3.0 §5.6, §5.8-§5.12: one active
//! operation of each kind per session; `C_xUpdate` without `C_xInit` →
//! `CKR_OPERATION_NOT_INITIALIZED`), and how operations end.
//!
//! Ending (PKCS#11 2.40 and 3.0 §5.8-§5.12, the same words for each function):
//! - `C_Sign`, `C_SignFinal`, `C_Encrypt`, `C_Decrypt`, `C_Digest`, `C_DigestFinal` "always
//!   terminate the active operation unless \[they return\] CKR_BUFFER_TOO_SMALL or \[are\] a
//!   successful call (i.e., one which returns CKR_OK) to determine the length of the buffer";
//! - `C_SignUpdate`, `C_VerifyUpdate`, `C_DigestUpdate`: "a call which results in an error
//!   terminates the current operation";
//! - `C_Verify`, `C_VerifyFinal` end it whatever they answer.
//!
//! So an error in the caller's arguments (a NULL `pulSignatureLen`, a NULL `pData` with a
//! length) ends the operation too: the module checks the arguments of these calls with
//! [`ends_on_error`]. OpenSC answers `CKR_ARGUMENTS_BAD` before it looks at the session and
//! leaves the operation active; the specification has no such exception, and we follow it.
//! Errors that cannot touch an operation leave it alone: `CKR_CRYPTOKI_NOT_INITIALIZED`,
//! `CKR_SESSION_HANDLE_INVALID` (checked before the arguments), `CKR_OPERATION_NOT_INITIALIZED`
//! (nothing to end). A card error during the operation (`CKR_DEVICE_ERROR`,
//! `CKR_USER_NOT_LOGGED_IN`, `CKR_DATA_LEN_RANGE` …) ends it like any other error; a removed card
//! (`CKR_DEVICE_REMOVED`) takes its sessions along. `C_xInit` while an operation of that kind is
//! active answers `CKR_OPERATION_ACTIVE` and the active one goes on. The functions the module
//! does not offer (`C_DecryptUpdate`, `C_EncryptUpdate`, `C_DigestKey` …) are stubs (§5.1.6,
//! `fns::not_supported`): their `CKR_FUNCTION_NOT_SUPPORTED` touches no operation.
//!
//! Login state (PKCS#11 3.0 §5.6.8 C_Login, §5.6.10 C_Logout: active operations "may or may not"
//! still be active afterwards): `C_Login` keeps them. When the login ends (`C_Logout`, the card
//! forgot the PIN, the last session closed) the operations that belong to it end in every
//! session of the token: signing and decrypting (their private key's handle is dead, §5.6.10)
//! and searches (their pending handles may be private objects'). Digesting, verifying and
//! encrypting need no login and go on.

use cryptoki_sys::{CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_SLOT_ID};

use crate::backend::{Mechanism, ObjectKey, Operation as Kind};
use crate::digest::Hasher;
use crate::error::Result;
use crate::state;

/// One open session.
pub struct Session {
    pub slot: CK_SLOT_ID,
    /// Generation of the token it was opened on.
    pub generation: u64,
    /// `CKF_RW_SESSION`.
    pub rw: bool,
    pub ops: Operations,
}

impl Session {
    pub fn new(slot: CK_SLOT_ID, generation: u64, rw: bool) -> Self {
        Session {
            slot,
            generation,
            rw,
            ops: Operations::default(),
        }
    }
}

/// The active operations of a session, one of each kind.
#[derive(Default)]
pub struct Operations {
    pub find: Option<FindOp>,
    pub digest: Option<DigestOp>,
    pub sign: Option<KeyOp>,
    pub verify: Option<KeyOp>,
    pub encrypt: Option<KeyOp>,
    pub decrypt: Option<KeyOp>,
}

/// One kind of operation of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    Find,
    Digest,
    Key(Kind),
}

impl Operations {
    /// The sign, verify, encrypt or decrypt operation.
    pub fn key(&mut self, kind: Kind) -> &mut Option<KeyOp> {
        match kind {
            Kind::Sign => &mut self.sign,
            Kind::Verify => &mut self.verify,
            Kind::Encrypt => &mut self.encrypt,
            Kind::Decrypt => &mut self.decrypt,
        }
    }

    /// Ends the operation of this kind, if one is active.
    pub fn end(&mut self, which: Active) {
        match which {
            Active::Find => self.find = None,
            Active::Digest => self.digest = None,
            Active::Key(kind) => *self.key(kind) = None,
        }
    }

    /// The login ended: the operations that need it end (module doc).
    pub fn end_logged_in(&mut self) {
        for which in [
            Active::Find,
            Active::Key(Kind::Sign),
            Active::Key(Kind::Decrypt),
        ] {
            self.end(which);
        }
    }
}

/// The argument checks of a call that ends operation `which` of session `h` when it fails
/// (module doc): an error ends the operation, if the session has one, and is returned.
pub fn ends_on_error<T>(
    h: CK_SESSION_HANDLE,
    which: Active,
    check: impl FnOnce() -> Result<T>,
) -> Result<T> {
    check().inspect_err(|_| {
        // The library may be gone meanwhile (C_Finalize from another thread): nothing to end.
        let _ = state::with(|lib| {
            lib.session_mut(h)?.ops.end(which);
            Ok(())
        });
    })
}

/// `C_FindObjectsInit` … `C_FindObjectsFinal`: the matching handles not returned yet.
pub struct FindOp {
    pub remaining: std::collections::VecDeque<CK_OBJECT_HANDLE>,
}

/// `C_DigestInit` …: the running hash.
pub struct DigestOp {
    pub hasher: Hasher,
    /// `C_DigestUpdate` was called: only `C_DigestFinal` may end it.
    pub multipart: bool,
}

/// A sign, verify, encrypt or decrypt operation with a token key.
pub struct KeyOp {
    /// Unique in the process: a call that worked on the card without the library lock finds
    /// out whether the operation it started from is still the session's (another thread may
    /// have cancelled it and started another meanwhile).
    pub serial: u64,
    pub key: ObjectKey,
    pub mechanism: Mechanism,
    /// Input gathered by `C_xUpdate` (the backend receives the whole message).
    pub data: Vec<u8>,
    pub multipart: bool,
    /// Output size known before the operation runs (the modulus size for RSA), so that a length
    /// query never signs.
    pub out_len: usize,
    /// An output computed but not yet delivered (the caller's buffer was too small): the next
    /// call returns it instead of asking the card again.
    pub done: Option<Kept>,
}

/// A decryption's output kept after CKR_BUFFER_TOO_SMALL, with the input it answers. PKCS#11
/// §5.2 expects the next call to pass the same input; one that passes another is worked anew,
/// never answered with the first one's plaintext. Wiped when dropped (a plaintext, maybe a
/// session key).
pub struct Kept {
    pub input: Vec<u8>,
    pub output: zeroize::Zeroizing<Vec<u8>>,
}
