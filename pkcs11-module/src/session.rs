//! Sessions and the operation state each carries (PKCS#11 3.0 §5.6, §5.8-§5.12: one active
//! operation of each kind per session; `C_xUpdate` without `C_xInit` →
//! `CKR_OPERATION_NOT_INITIALIZED`).

use cryptoki_sys::{CK_OBJECT_HANDLE, CK_SLOT_ID};

use crate::backend::{Mechanism, ObjectKey};
use crate::digest::Hasher;

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
    pub done: Option<Vec<u8>>,
}
