//! The misuse matrix of the C ABI (issue 6 item 5): one table row per (function, argument)
//! case, run on both emulated cards through the built module (and the card-removal rows
//! in-process, where the test holds the card). Each row starts from a fresh read/write session
//! of a logged-in token; its body puts the session into the state it needs, makes the call
//! under test and returns its `CK_RV`, checked against the row's expected code. Rows about
//! lengths also check the length handed back and that the operation is still usable
//! (PKCS#11 2.40 §5.2: `CKR_BUFFER_TOO_SMALL` and a successful length query do not end it).
//! The [`ENDINGS`] table (and [`CARD_ENDINGS`] in-process, [`login_rows`] for C_Login and
//! C_Logout) is about how calls end operations: each row starts an operation, makes the call,
//! and checks the operation is over (the next call answers `CKR_OPERATION_NOT_INITIALIZED`) or
//! goes on (it finishes and gives the right output).
//!
//! Expected codes are those of PKCS#11 2.40 (base §5.x return values, §11 for the operation
//! rules; curr §2.1 for the RSA mechanisms' length limits), as OpenSC and kryoptic answer.
//! At the end of each card the PIN and PUK counters are checked untouched: no row cost a try.

use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

use cps_pkcs11::emulated::EmulatedSource;
use cps_pkcs11::SlotSource;
use cpscard::emulator::{EmulatedCard as Card, Generation};
use cryptoki_sys::*;
use sha2::{Digest, Sha256};

use crate::common::raw::{find_with, ulong};
use crate::common::{rv, serial, slot_ids, EmulatedCard, Module};

const PIN: &[u8] = b"1234";
const PUK: &[u8] = b"12345678";
const AID: &str = "e828bd080f8025000001ff0010";
/// A message to sign, digest, encrypt.
const DATA: &[u8] = b"misuse matrix";

/// `unsafe { (x.f.C_Name)(args) }`.
macro_rules! call {
    ($x:expr, $name:ident $(, $a:expr)* $(,)?) => {
        unsafe { ($x.f.$name.expect(stringify!($name)))($($a),*) }
    };
}

/// Which cards a row runs on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum On {
    Both,
    Cps3,
    Cps4,
}

struct Case {
    on: On,
    name: &'static str,
    expect: CK_RV,
    run: fn(&Fx) -> CK_RV,
}

macro_rules! case {
    ($on:ident, $name:expr, $expect:expr, $run:expr) => {
        Case {
            on: On::$on,
            name: $name,
            expect: $expect,
            run: $run,
        }
    };
}

/// What a row starts with: a fresh read/write session `h` of the logged-in token, the keys.
pub(crate) struct Fx {
    pub(crate) f: &'static CK_FUNCTION_LIST,
    /// The most CKM_RSA_PKCS signs with the authentication key: k-11 = 245 bytes (PKCS#11 2.40
    /// curr §2.1.6), but 102 on a CPS3, whose INTERNAL AUTHENTICATE takes 40 % of the modulus.
    pub(crate) raw_max: usize,
    pub(crate) slot: CK_SLOT_ID,
    pub(crate) h: CK_SESSION_HANDLE,
    pub(crate) sig: CK_OBJECT_HANDLE,
    pub(crate) aut: CK_OBJECT_HANDLE,
    pub(crate) sig_pub: CK_OBJECT_HANDLE,
    pub(crate) aut_pub: CK_OBJECT_HANDLE,
    pub(crate) cert: CK_OBJECT_HANDLE,
    pub(crate) cps_data: CK_OBJECT_HANDLE,
    /// The card, when the module runs in-process over it (removal rows).
    pub(crate) card: Option<Arc<Mutex<Card>>>,
}

fn p(d: &[u8]) -> *mut u8 {
    d.as_ptr() as *mut u8
}

fn n(d: &[u8]) -> CK_ULONG {
    d.len() as CK_ULONG
}

fn mech(kind: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: kind,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

fn attr(kind: CK_ATTRIBUTE_TYPE, value: *mut u8, len: CK_ULONG) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: kind,
        pValue: value.cast(),
        ulValueLen: len,
    }
}

/// An output call with a buffer of `room` bytes (None: NULL, a length query): the return value,
/// the length handed back, the output (cut to that length when `CKR_OK`).
fn two(
    room: Option<usize>,
    call: impl FnOnce(*mut u8, *mut CK_ULONG) -> CK_RV,
) -> (CK_RV, CK_ULONG, Vec<u8>) {
    let mut buf = vec![0u8; room.unwrap_or(0).max(1)];
    let mut len = room.unwrap_or(0) as CK_ULONG;
    let ptr = if room.is_some() {
        buf.as_mut_ptr()
    } else {
        null_mut()
    };
    let r = call(ptr, &mut len);
    if r == CKR_OK && room.is_some() {
        buf.truncate(len as usize);
    }
    (r, len, buf)
}

impl Fx {
    pub(crate) fn ok(&self, r: CK_RV, what: &str) {
        assert_eq!(r, CKR_OK, "{what}: {}", rv(r));
    }

    fn open(&self, rw: bool) -> CK_SESSION_HANDLE {
        let mut h = 0;
        let flags = CKF_SERIAL_SESSION | if rw { CKF_RW_SESSION } else { 0 };
        self.ok(
            call!(
                self,
                C_OpenSession,
                self.slot,
                flags,
                null_mut(),
                None,
                &mut h
            ),
            "C_OpenSession",
        );
        h
    }

    fn state(&self, h: CK_SESSION_HANDLE) -> CK_STATE {
        let mut i = CK_SESSION_INFO::default();
        self.ok(call!(self, C_GetSessionInfo, h, &mut i), "C_GetSessionInfo");
        i.state
    }

    fn close(&self) {
        self.ok(call!(self, C_CloseSession, self.h), "C_CloseSession");
    }

    fn close_all(&self) {
        self.ok(
            call!(self, C_CloseAllSessions, self.slot),
            "C_CloseAllSessions",
        );
    }

    fn finalize(&self) {
        self.ok(call!(self, C_Finalize, null_mut()), "C_Finalize");
    }

    fn login(&self, user: CK_USER_TYPE, pin: &[u8]) -> CK_RV {
        call!(self, C_Login, self.h, user, p(pin), n(pin))
    }

    fn logout(&self) {
        self.ok(call!(self, C_Logout, self.h), "C_Logout");
    }

    fn remove(&self) {
        let card = self.card.as_ref().expect("a removal row runs in-process");
        card.lock().unwrap().remove();
    }

    /// Pulls the card and lets the module see it, as an application's slot poll does.
    fn remove_seen(&self) {
        self.remove();
        assert!(
            slot_ids(self.f, true).is_empty(),
            "the module sees the card gone"
        );
    }

    fn reinsert(&self) {
        let card = self.card.as_ref().expect("a removal row runs in-process");
        card.lock().unwrap().reinsert();
        assert_eq!(slot_ids(self.f, true), vec![self.slot], "the card is back");
    }

    fn init(&self, which: CK_C_SignInit, kind: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) {
        let mut m = mech(kind);
        let r = unsafe { (which.unwrap())(self.h, &mut m, key) };
        self.ok(r, "the operation's C_xInit");
    }

    pub(crate) fn sign_init(&self, kind: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) {
        self.init(self.f.C_SignInit, kind, key);
    }

    fn digest_init(&self) {
        let mut m = mech(CKM_SHA256);
        self.ok(call!(self, C_DigestInit, self.h, &mut m), "C_DigestInit");
    }

    fn find_init(&self) {
        self.ok(
            call!(self, C_FindObjectsInit, self.h, null_mut(), 0),
            "C_FindObjectsInit",
        );
    }

    /// `C_Sign` of [`DATA`] with a buffer of `room` bytes.
    pub(crate) fn sign(&self, room: Option<usize>) -> (CK_RV, CK_ULONG, Vec<u8>) {
        two(room, |b, l| {
            call!(self, C_Sign, self.h, p(DATA), n(DATA), b, l)
        })
    }

    /// `C_VerifyInit` + `C_Verify` in a session of its own.
    pub(crate) fn verify(
        &self,
        kind: CK_MECHANISM_TYPE,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        sig: &[u8],
    ) -> CK_RV {
        let h = self.open(false);
        let mut m = mech(kind);
        self.ok(call!(self, C_VerifyInit, h, &mut m, key), "C_VerifyInit");
        let r = call!(self, C_Verify, h, p(data), n(data), p(sig), n(sig));
        call!(self, C_CloseSession, h);
        r
    }

    /// An RSA-PKCS cryptogram of `data` for the authentication key (a session of its own).
    fn cryptogram(&self, data: &[u8]) -> Vec<u8> {
        let h = self.open(false);
        let mut m = mech(CKM_RSA_PKCS);
        self.ok(
            call!(self, C_EncryptInit, h, &mut m, self.aut_pub),
            "C_EncryptInit",
        );
        let (r, _, c) = two(Some(256), |b, l| {
            call!(self, C_Encrypt, h, p(data), n(data), b, l)
        });
        self.ok(r, "C_Encrypt");
        call!(self, C_CloseSession, h);
        c
    }

    /// `C_Decrypt` of `cipher` with a buffer of `room` bytes.
    fn decrypt(&self, cipher: &[u8], room: Option<usize>) -> (CK_RV, CK_ULONG, Vec<u8>) {
        two(room, |b, l| {
            call!(self, C_Decrypt, self.h, p(cipher), n(cipher), b, l)
        })
    }

    /// A PSS `C_SignInit` with these parameters; `len` overrides `ulParameterLen`, `null`
    /// passes no parameter block.
    fn pss_init(
        &self,
        kind: CK_MECHANISM_TYPE,
        params: (CK_MECHANISM_TYPE, CK_RSA_PKCS_MGF_TYPE, CK_ULONG),
        len: Option<CK_ULONG>,
        null: bool,
        key: CK_OBJECT_HANDLE,
    ) -> CK_RV {
        let mut pss = CK_RSA_PKCS_PSS_PARAMS {
            hashAlg: params.0,
            mgf: params.1,
            sLen: params.2,
        };
        let mut m = CK_MECHANISM {
            mechanism: kind,
            pParameter: if null {
                null_mut()
            } else {
                (&mut pss as *mut CK_RSA_PKCS_PSS_PARAMS).cast()
            },
            ulParameterLen: len
                .unwrap_or(std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG),
        };
        call!(self, C_SignInit, self.h, &mut m, key)
    }

    /// `kind` with a parameter block the mechanism does not take.
    fn init_with_junk_param(&self, kind: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) -> CK_RV {
        let mut junk = [1u8, 2, 3, 4];
        let mut m = CK_MECHANISM {
            mechanism: kind,
            pParameter: junk.as_mut_ptr().cast(),
            ulParameterLen: 4,
        };
        call!(self, C_SignInit, self.h, &mut m, key)
    }

    /// `C_Sign` (or `C_SignUpdate` + `C_SignFinal`) with a buffer one byte short: the length
    /// comes back, then the same operation signs into a big enough buffer and it verifies.
    fn sign_one_short(
        &self,
        key: CK_OBJECT_HANDLE,
        pubkey: CK_OBJECT_HANDLE,
        multi: bool,
    ) -> CK_RV {
        self.sign_init(CKM_SHA256_RSA_PKCS, key);
        let out = |room| {
            if multi {
                two(room, |b, l| call!(self, C_SignFinal, self.h, b, l))
            } else {
                self.sign(room)
            }
        };
        if multi {
            self.ok(
                call!(self, C_SignUpdate, self.h, p(DATA), n(DATA)),
                "C_SignUpdate",
            );
        }
        let (r, len, _) = out(Some(255));
        assert_eq!(len, 256, "the signature length back with the error");
        let (r2, len2, sig) = out(Some(256));
        self.ok(r2, "the same operation with a big enough buffer");
        assert_eq!(len2, 256);
        self.ok(
            self.verify(CKM_SHA256_RSA_PKCS, pubkey, DATA, &sig),
            "the signature verifies",
        );
        r
    }

    /// Starts operation `s` in `h` (the C_xInit, and for the multi-part ones a C_xUpdate of
    /// [`DATA`]).
    fn begin(&self, s: Start) {
        match s {
            Start::Sign | Start::SignParts => self.sign_init(CKM_SHA256_RSA_PKCS, self.aut),
            Start::RawSign => self.sign_init(CKM_RSA_PKCS, self.aut),
            Start::Verify | Start::VerifyParts => {
                self.init(self.f.C_VerifyInit, CKM_SHA256_RSA_PKCS, self.aut_pub)
            }
            Start::Encrypt => self.init(self.f.C_EncryptInit, CKM_RSA_PKCS, self.aut_pub),
            Start::Decrypt => self.init(self.f.C_DecryptInit, CKM_RSA_PKCS, self.aut),
            Start::Digest | Start::DigestParts => self.digest_init(),
            Start::Find => self.find_init(),
        }
        let update = match s {
            Start::SignParts => self.f.C_SignUpdate,
            Start::VerifyParts => self.f.C_VerifyUpdate,
            Start::DigestParts => self.f.C_DigestUpdate,
            _ => None,
        };
        if let Some(update) = update {
            self.ok(unsafe { update(self.h, p(DATA), n(DATA)) }, "C_xUpdate");
        }
    }

    /// The next call of `s`'s kind with good arguments: `CKR_OPERATION_NOT_INITIALIZED` once
    /// the operation is over (anything else while it is active).
    fn next_call(&self, s: Start) -> CK_RV {
        let junk = [0x5au8; 256];
        match s {
            Start::Sign | Start::SignParts | Start::RawSign => self.sign(Some(256)).0,
            Start::Verify | Start::VerifyParts => {
                call!(self, C_Verify, self.h, p(DATA), n(DATA), p(&junk), n(&junk))
            }
            Start::Encrypt => {
                two(Some(256), |b, l| {
                    call!(self, C_Encrypt, self.h, p(DATA), n(DATA), b, l)
                })
                .0
            }
            Start::Decrypt => self.decrypt(&junk, Some(256)).0,
            Start::Digest | Start::DigestParts => {
                two(Some(64), |b, l| {
                    call!(self, C_Digest, self.h, p(DATA), n(DATA), b, l)
                })
                .0
            }
            Start::Find => {
                let (mut o, mut found) = ([0; 4], 0);
                call!(self, C_FindObjects, self.h, o.as_mut_ptr(), 4, &mut found)
            }
        }
    }

    /// Finishes operation `s` with good arguments and checks what it gives: the operation was
    /// still active and whole.
    fn complete(&self, s: Start) {
        let bad_sig = [0x5au8; 256];
        match s {
            Start::Sign | Start::SignParts | Start::RawSign => {
                let (r, _, sig) = if s == Start::SignParts {
                    two(Some(256), |b, l| call!(self, C_SignFinal, self.h, b, l))
                } else {
                    self.sign(Some(256))
                };
                self.ok(r, "the operation signs");
                let kind = if s == Start::RawSign {
                    CKM_RSA_PKCS
                } else {
                    CKM_SHA256_RSA_PKCS
                };
                self.ok(self.verify(kind, self.aut_pub, DATA, &sig), "it verifies");
            }
            // A wrong signature: CKR_SIGNATURE_INVALID says the operation ran.
            Start::Verify => {
                let r = call!(self, C_Verify, self.h, p(DATA), n(DATA), p(&bad_sig), 256);
                assert_eq!(
                    r,
                    CKR_SIGNATURE_INVALID,
                    "the operation verifies: {}",
                    rv(r)
                );
            }
            Start::VerifyParts => {
                let r = call!(self, C_VerifyFinal, self.h, p(&bad_sig), 256);
                assert_eq!(
                    r,
                    CKR_SIGNATURE_INVALID,
                    "the operation verifies: {}",
                    rv(r)
                );
            }
            Start::Encrypt => {
                let (r, len, _) = two(Some(256), |b, l| {
                    call!(self, C_Encrypt, self.h, p(DATA), n(DATA), b, l)
                });
                self.ok(r, "the operation encrypts");
                assert_eq!(len, 256, "a cryptogram of the modulus size");
            }
            Start::Decrypt => {
                let c = self.cryptogram(DATA);
                let (r, _, plain) = self.decrypt(&c, Some(256));
                self.ok(r, "the operation deciphers");
                assert_eq!(plain, DATA);
            }
            Start::Digest | Start::DigestParts => {
                let (r, _, d) = if s == Start::DigestParts {
                    two(Some(64), |b, l| call!(self, C_DigestFinal, self.h, b, l))
                } else {
                    two(Some(64), |b, l| {
                        call!(self, C_Digest, self.h, p(DATA), n(DATA), b, l)
                    })
                };
                self.ok(r, "the operation digests");
                assert_eq!(d, Sha256::digest(DATA).to_vec());
            }
            Start::Find => {
                let (mut o, mut found) = ([0; 64], 0);
                let r = call!(self, C_FindObjects, self.h, o.as_mut_ptr(), 64, &mut found);
                self.ok(r, "the search goes on");
                assert!(found > 0, "it finds the public objects");
                self.ok(
                    call!(self, C_FindObjectsFinal, self.h),
                    "C_FindObjectsFinal",
                );
            }
        }
    }

    /// Asserts what a call left of operation `s`.
    fn check(&self, s: Start, after: After) {
        match after {
            After::Over => {
                let r = self.next_call(s);
                assert_eq!(
                    r,
                    CKR_OPERATION_NOT_INITIALIZED,
                    "the operation is over: {}",
                    rv(r)
                );
            }
            After::GoesOn => self.complete(s),
        }
    }

    /// Sets the card's faults (in-process rows).
    fn faults(&self, set: impl FnOnce(&mut cpscard::emulator::Faults)) {
        let card = self.card.as_ref().expect("a fault row runs in-process");
        set(card.lock().unwrap().faults_mut());
    }
}

/// The matrix. Rows marked Cps3/Cps4 are about what one card can (not) do.
const CASES: &[Case] = &[
    // --- NULL for each pointer (everything else valid): CKR_ARGUMENTS_BAD, never a crash.
    case!(Both, "C_GetInfo pInfo NULL", CKR_ARGUMENTS_BAD, |x| call!(
        x,
        C_GetInfo,
        null_mut()
    )),
    case!(
        Both,
        "C_GetFunctionList ppFunctionList NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetFunctionList, null_mut())
    ),
    case!(
        Both,
        "C_GetSlotList pulCount NULL",
        CKR_ARGUMENTS_BAD,
        |x| {
            let mut ids = [0; 4];
            call!(x, C_GetSlotList, CK_TRUE, ids.as_mut_ptr(), null_mut())
        }
    ),
    case!(
        Both,
        "C_GetSlotInfo pInfo NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetSlotInfo, x.slot, null_mut())
    ),
    case!(
        Both,
        "C_GetTokenInfo pInfo NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetTokenInfo, x.slot, null_mut())
    ),
    case!(
        Both,
        "C_GetMechanismList pulCount NULL (length query)",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetMechanismList, x.slot, null_mut(), null_mut())
    ),
    case!(
        Both,
        "C_GetMechanismList pulCount NULL (with a list)",
        CKR_ARGUMENTS_BAD,
        |x| {
            let mut l = [0; 64];
            call!(x, C_GetMechanismList, x.slot, l.as_mut_ptr(), null_mut())
        }
    ),
    case!(
        Both,
        "C_GetMechanismInfo pInfo NULL",
        CKR_ARGUMENTS_BAD,
        |x| { call!(x, C_GetMechanismInfo, x.slot, CKM_RSA_PKCS, null_mut()) }
    ),
    case!(
        Both,
        "C_OpenSession phSession NULL",
        CKR_ARGUMENTS_BAD,
        |x| {
            let flags = CKF_SERIAL_SESSION;
            call!(
                x,
                C_OpenSession,
                x.slot,
                flags,
                null_mut(),
                None,
                null_mut()
            )
        }
    ),
    case!(
        Both,
        "C_GetSessionInfo pInfo NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetSessionInfo, x.h, null_mut())
    ),
    case!(
        Both,
        "C_Login pPin NULL with a length",
        CKR_ARGUMENTS_BAD,
        |x| {
            x.logout();
            call!(x, C_Login, x.h, CKU_USER, null_mut(), 4)
        }
    ),
    case!(
        Both,
        "C_InitPIN pPin NULL with a length",
        CKR_ARGUMENTS_BAD,
        |x| {
            x.logout();
            x.ok(x.login(CKU_SO, PUK), "C_Login SO");
            call!(x, C_InitPIN, x.h, null_mut(), 4)
        }
    ),
    case!(Both, "C_SetPIN pOldPin NULL", CKR_ARGUMENTS_BAD, |x| {
        let new = *b"5678";
        call!(x, C_SetPIN, x.h, null_mut(), 4, p(&new), 4)
    }),
    case!(Both, "C_SetPIN pNewPin NULL", CKR_ARGUMENTS_BAD, |x| {
        call!(x, C_SetPIN, x.h, p(PIN), n(PIN), null_mut(), 4)
    }),
    case!(
        Both,
        "C_FindObjectsInit pTemplate NULL with a count",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_FindObjectsInit, x.h, null_mut(), 1)
    ),
    case!(
        Both,
        "C_FindObjectsInit an attribute's pValue NULL with a length",
        CKR_ARGUMENTS_BAD,
        |x| {
            let mut t = [attr(CKA_LABEL, null_mut(), 4)];
            call!(x, C_FindObjectsInit, x.h, t.as_mut_ptr(), 1)
        }
    ),
    case!(
        Both,
        "C_GetAttributeValue pTemplate NULL with a count",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GetAttributeValue, x.h, x.cert, null_mut(), 1)
    ),
    case!(
        Both,
        "C_SetAttributeValue pTemplate NULL with a count",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_SetAttributeValue, x.h, x.cps_data, null_mut(), 1)
    ),
    case!(
        Both,
        "C_SetAttributeValue an attribute's pValue NULL with a length",
        CKR_ARGUMENTS_BAD,
        |x| {
            let mut t = [attr(CKA_VALUE, null_mut(), 4)];
            call!(x, C_SetAttributeValue, x.h, x.cps_data, t.as_mut_ptr(), 1)
        }
    ),
    case!(
        Both,
        "C_DigestInit pMechanism NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_DigestInit, x.h, null_mut())
    ),
    case!(
        Both,
        "C_SignInit pMechanism NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_SignInit, x.h, null_mut(), x.aut)
    ),
    case!(
        Both,
        "C_VerifyInit pMechanism NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_VerifyInit, x.h, null_mut(), x.aut_pub)
    ),
    case!(
        Both,
        "C_EncryptInit pMechanism NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_EncryptInit, x.h, null_mut(), x.aut_pub)
    ),
    case!(
        Both,
        "C_DecryptInit pMechanism NULL",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_DecryptInit, x.h, null_mut(), x.aut)
    ),
    case!(
        Both,
        "C_GenerateRandom pRandomData NULL with a length",
        CKR_ARGUMENTS_BAD,
        |x| call!(x, C_GenerateRandom, x.h, null_mut(), 8)
    ),
    case!(
        Both,
        "C_WaitForSlotEvent pSlot NULL",
        CKR_ARGUMENTS_BAD,
        |x| {
            call!(
                x,
                C_WaitForSlotEvent,
                CKF_DONT_BLOCK,
                null_mut(),
                null_mut()
            )
        }
    ),
    // --- Buffers too small: CKR_BUFFER_TOO_SMALL, the right length back, still usable.
    case!(
        Both,
        "C_GetSlotList buffer too small",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            let mut ids = [0; 4];
            let mut count = 0;
            let r = call!(x, C_GetSlotList, CK_TRUE, ids.as_mut_ptr(), &mut count);
            assert_eq!(count, 1, "the count back");
            r
        }
    ),
    case!(
        Both,
        "C_GetMechanismList buffer too small, then the list",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            let mut all = 0;
            let q = call!(x, C_GetMechanismList, x.slot, null_mut(), &mut all);
            x.ok(q, "length query");
            let mut list = vec![0; all as usize];
            let mut count = all - 1;
            let r = call!(x, C_GetMechanismList, x.slot, list.as_mut_ptr(), &mut count);
            assert_eq!(count, all, "the count back");
            let r2 = call!(x, C_GetMechanismList, x.slot, list.as_mut_ptr(), &mut count);
            x.ok(r2, "then the list");
            assert!(list.contains(&CKM_SHA256_RSA_PKCS));
            r
        }
    ),
    case!(
        Both,
        "C_GetAttributeValue value buffer too small, then the value",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            let get = x.f.C_GetAttributeValue.unwrap();
            let mut t = [attr(CKA_VALUE, null_mut(), 0)];
            x.ok(
                unsafe { get(x.h, x.cert, t.as_mut_ptr(), 1) },
                "length query",
            );
            let size = t[0].ulValueLen;
            let mut v = vec![0u8; size as usize];
            t[0] = attr(CKA_VALUE, v.as_mut_ptr(), size - 1);
            let r = unsafe { get(x.h, x.cert, t.as_mut_ptr(), 1) };
            assert_eq!(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION, "2.40 §5.7");
            t[0] = attr(CKA_VALUE, v.as_mut_ptr(), size);
            x.ok(unsafe { get(x.h, x.cert, t.as_mut_ptr(), 1) }, "the value");
            assert_eq!((t[0].ulValueLen, v[0]), (size, 0x30), "a DER certificate");
            r
        }
    ),
    case!(
        Both,
        "C_Digest buffer too small, then the digest",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            x.digest_init();
            let digest = |room| two(room, |b, l| call!(x, C_Digest, x.h, p(DATA), n(DATA), b, l));
            let (q, len, _) = digest(None);
            x.ok(q, "length query");
            assert_eq!(len, 32);
            let (r, len, _) = digest(Some(31));
            assert_eq!(len, 32, "the length back");
            let (r2, _, d) = digest(Some(32));
            x.ok(r2, "the same operation with a big enough buffer");
            assert_eq!(d, Sha256::digest(DATA).to_vec());
            r
        }
    ),
    case!(
        Both,
        "C_DigestFinal buffer too small, then the digest",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            x.digest_init();
            x.ok(call!(x, C_DigestUpdate, x.h, p(DATA), n(DATA)), "update");
            let (r, len, _) = two(Some(8), |b, l| call!(x, C_DigestFinal, x.h, b, l));
            assert_eq!(len, 32, "the length back");
            let (r2, _, d) = two(Some(64), |b, l| call!(x, C_DigestFinal, x.h, b, l));
            x.ok(r2, "the same operation with a big enough buffer");
            assert_eq!(d, Sha256::digest(DATA).to_vec());
            r
        }
    ),
    case!(
        Both,
        "C_Sign buffer too small, then the signature (authentication key)",
        CKR_BUFFER_TOO_SMALL,
        |x| x.sign_one_short(x.aut, x.aut_pub, false)
    ),
    case!(
        Both,
        "C_Sign buffer too small, then the signature (signature key)",
        CKR_BUFFER_TOO_SMALL,
        |x| x.sign_one_short(x.sig, x.sig_pub, false)
    ),
    case!(
        Both,
        "C_SignFinal buffer too small, then the signature",
        CKR_BUFFER_TOO_SMALL,
        |x| x.sign_one_short(x.aut, x.aut_pub, true)
    ),
    case!(
        Both,
        "C_Sign empty buffer (not NULL), then the signature",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.sig);
            let (r, len, _) = x.sign(Some(0));
            assert_eq!(len, 256);
            let (r2, _, sig) = x.sign(Some(300));
            x.ok(r2, "the same operation with a big enough buffer");
            assert_eq!(sig.len(), 256);
            r
        }
    ),
    case!(
        Both,
        "C_Sign length query (NULL buffer) leaves the operation active",
        CKR_OK,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
            let (r, len, _) = x.sign(None);
            assert_eq!(len, 256);
            let (r2, _, sig) = x.sign(Some(256));
            x.ok(r2, "then the signature");
            x.ok(
                x.verify(CKM_SHA256_RSA_PKCS, x.aut_pub, DATA, &sig),
                "verifies",
            );
            r
        }
    ),
    case!(
        Both,
        "C_Encrypt buffer too small, then the cryptogram",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            x.init(x.f.C_EncryptInit, CKM_RSA_PKCS, x.aut_pub);
            let enc = |room| {
                two(room, |b, l| {
                    call!(x, C_Encrypt, x.h, p(DATA), n(DATA), b, l)
                })
            };
            let (r, len, _) = enc(Some(100));
            assert_eq!(len, 256, "the length back");
            let (r2, _, c) = enc(Some(256));
            x.ok(r2, "the same operation with a big enough buffer");
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            let (r3, _, plain) = x.decrypt(&c, Some(256));
            x.ok(r3, "the card deciphers it");
            assert_eq!(plain, DATA);
            r
        }
    ),
    case!(
        Both,
        "C_Decrypt buffer too small, then the plaintext",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            let c = x.cryptogram(DATA);
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            let (r, len, _) = x.decrypt(&c, Some(5));
            assert_eq!(len, n(DATA), "the plaintext's length back");
            let (r2, _, plain) = x.decrypt(&c, Some(len as usize));
            x.ok(r2, "the same operation with that length");
            assert_eq!(plain, DATA);
            r
        }
    ),
    case!(
        Both,
        "C_Decrypt buffer too small, then another cryptogram: its own plaintext, not the kept one",
        CKR_BUFFER_TOO_SMALL,
        |x| {
            const OTHER: &[u8] = b"another message, another key";
            let (c, other) = (x.cryptogram(DATA), x.cryptogram(OTHER));
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            let (r, len, _) = x.decrypt(&c, Some(5));
            assert_eq!(len, n(DATA), "the plaintext's length back");
            let (r2, _, plain) = x.decrypt(&other, Some(256));
            x.ok(r2, "the second cryptogram deciphered");
            assert_eq!(plain, OTHER);
            r
        }
    ),
    case!(
        Both,
        "C_Decrypt length query (NULL buffer) leaves the operation active",
        CKR_OK,
        |x| {
            let c = x.cryptogram(DATA);
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            let (r, len, _) = x.decrypt(&c, None);
            assert!(len >= n(DATA), "room enough for the plaintext");
            let (r2, _, plain) = x.decrypt(&c, Some(len as usize));
            x.ok(r2, "then the plaintext");
            assert_eq!(plain, DATA);
            r
        }
    ),
    // --- Stale handles (and STALE_SESSION_PROBES after C_CloseSession).
    case!(
        Both,
        "after C_CloseAllSessions: C_GetSessionInfo",
        CKR_SESSION_HANDLE_INVALID,
        |x| {
            x.close_all();
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        }
    ),
    case!(
        Both,
        "after C_CloseAllSessions: C_Decrypt of its operation",
        CKR_SESSION_HANDLE_INVALID,
        |x| {
            let c = x.cryptogram(DATA);
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            x.close_all();
            x.decrypt(&c, Some(256)).0
        }
    ),
    case!(
        Both,
        "after C_CloseAllSessions: C_Logout of a new session (the login went with them)",
        CKR_USER_NOT_LOGGED_IN,
        |x| {
            x.close_all();
            let h = x.open(true);
            assert_eq!(x.state(h), CKS_RW_PUBLIC_SESSION);
            call!(x, C_Logout, h)
        }
    ),
    case!(
        Both,
        "after C_Logout: C_SignInit with the private key's handle",
        CKR_KEY_HANDLE_INVALID,
        |x| {
            x.logout();
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "after C_Logout: C_GetAttributeValue of the private key's handle",
        CKR_OBJECT_HANDLE_INVALID,
        |x| {
            x.logout();
            let mut t = [attr(CKA_LABEL, null_mut(), 0)];
            call!(x, C_GetAttributeValue, x.h, x.sig, t.as_mut_ptr(), 1)
        }
    ),
    case!(
        Both,
        "after C_Logout and C_Login again: the old private key handle (2.40 §5.6 C_Logout)",
        CKR_KEY_HANDLE_INVALID,
        |x| {
            x.logout();
            x.ok(x.login(CKU_USER, PIN), "C_Login");
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "after C_Logout: C_Logout",
        CKR_USER_NOT_LOGGED_IN,
        |x| {
            x.logout();
            call!(x, C_Logout, x.h)
        }
    ),
    case!(
        Both,
        "after C_Finalize: C_GetSessionInfo",
        CKR_CRYPTOKI_NOT_INITIALIZED,
        |x| {
            x.finalize();
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        }
    ),
    case!(
        Both,
        "after C_Finalize: C_Sign of an operation",
        CKR_CRYPTOKI_NOT_INITIALIZED,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
            x.finalize();
            x.sign(Some(256)).0
        }
    ),
    case!(
        Both,
        "after C_Finalize: C_GetTokenInfo",
        CKR_CRYPTOKI_NOT_INITIALIZED,
        |x| {
            x.finalize();
            let mut t = CK_TOKEN_INFO::default();
            call!(x, C_GetTokenInfo, x.slot, &mut t)
        }
    ),
    case!(
        Both,
        "after C_Finalize and C_Initialize: the old session handle",
        CKR_SESSION_HANDLE_INVALID,
        |x| {
            x.finalize();
            x.ok(call!(x, C_Initialize, null_mut()), "C_Initialize");
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        }
    ),
    // --- Operations in the wrong state.
    case!(
        Both,
        "C_SignUpdate without C_SignInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| call!(x, C_SignUpdate, x.h, p(DATA), n(DATA))
    ),
    case!(
        Both,
        "C_SignFinal without C_SignInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| two(Some(256), |b, l| call!(x, C_SignFinal, x.h, b, l)).0
    ),
    case!(
        Both,
        "C_Sign without C_SignInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| x.sign(Some(256)).0
    ),
    case!(
        Both,
        "C_Sign after C_SignFinal",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
            x.ok(call!(x, C_SignUpdate, x.h, p(DATA), n(DATA)), "update");
            let (r, _, _) = two(Some(256), |b, l| call!(x, C_SignFinal, x.h, b, l));
            x.ok(r, "C_SignFinal");
            x.sign(Some(256)).0
        }
    ),
    case!(
        Both,
        "C_Sign after a C_Sign that signed",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
            x.ok(x.sign(Some(256)).0, "C_Sign");
            x.sign(Some(256)).0
        }
    ),
    case!(
        Both,
        "C_FindObjects without C_FindObjectsInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            let (mut o, mut found) = ([0; 4], 0);
            call!(x, C_FindObjects, x.h, o.as_mut_ptr(), 4, &mut found)
        }
    ),
    case!(
        Both,
        "C_FindObjectsFinal without C_FindObjectsInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| call!(x, C_FindObjectsFinal, x.h)
    ),
    case!(
        Both,
        "C_FindObjects after C_FindObjectsFinal",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            x.find_init();
            x.ok(call!(x, C_FindObjectsFinal, x.h), "C_FindObjectsFinal");
            let (mut o, mut found) = ([0; 4], 0);
            call!(x, C_FindObjects, x.h, o.as_mut_ptr(), 4, &mut found)
        }
    ),
    case!(
        Both,
        "C_Decrypt without C_DecryptInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| x.decrypt(&[0u8; 256], Some(256)).0
    ),
    case!(
        Both,
        "C_Encrypt without C_EncryptInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| two(Some(256), |b, l| call!(
            x,
            C_Encrypt,
            x.h,
            p(DATA),
            n(DATA),
            b,
            l
        ))
        .0
    ),
    case!(
        Both,
        "C_Verify without C_VerifyInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            let s = [0u8; 256];
            call!(x, C_Verify, x.h, p(DATA), n(DATA), p(&s), 256)
        }
    ),
    case!(
        Both,
        "C_VerifyFinal without C_VerifyInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| {
            let s = [0u8; 256];
            call!(x, C_VerifyFinal, x.h, p(&s), 256)
        }
    ),
    case!(
        Both,
        "C_Digest without C_DigestInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| two(Some(64), |b, l| call!(
            x,
            C_Digest,
            x.h,
            p(DATA),
            n(DATA),
            b,
            l
        ))
        .0
    ),
    case!(
        Both,
        "C_DigestUpdate without C_DigestInit",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| call!(x, C_DigestUpdate, x.h, p(DATA), n(DATA))
    ),
    case!(Both, "C_Login twice", CKR_USER_ALREADY_LOGGED_IN, |x| x
        .login(CKU_USER, PIN)),
    case!(
        Both,
        "C_Login with an unknown user type",
        CKR_USER_TYPE_INVALID,
        |x| {
            x.logout();
            x.login(77, PIN)
        }
    ),
    case!(
        Both,
        "C_Login CKU_SO while the user is logged in",
        CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
        |x| x.login(CKU_SO, PUK)
    ),
    case!(
        Both,
        "C_Login CKU_CONTEXT_SPECIFIC without an operation",
        CKR_OPERATION_NOT_INITIALIZED,
        |x| x.login(CKU_CONTEXT_SPECIFIC, PIN)
    ),
    case!(
        Both,
        "C_Login CKU_SO with a read-only session open",
        CKR_SESSION_READ_ONLY_EXISTS,
        |x| {
            x.logout();
            x.open(false);
            x.login(CKU_SO, PUK)
        }
    ),
    case!(
        Both,
        "C_OpenSession read-only while the SO is logged in",
        CKR_SESSION_READ_WRITE_SO_EXISTS,
        |x| {
            x.logout();
            x.ok(x.login(CKU_SO, PUK), "C_Login SO");
            let mut h = 0;
            let flags = CKF_SERIAL_SESSION;
            call!(x, C_OpenSession, x.slot, flags, null_mut(), None, &mut h)
        }
    ),
    case!(
        Both,
        "C_OpenSession without CKF_SERIAL_SESSION",
        CKR_SESSION_PARALLEL_NOT_SUPPORTED,
        |x| {
            let mut h = 0;
            call!(
                x,
                C_OpenSession,
                x.slot,
                CKF_RW_SESSION,
                null_mut(),
                None,
                &mut h
            )
        }
    ),
    case!(
        Both,
        "C_InitPIN by the user (not the SO)",
        CKR_USER_NOT_LOGGED_IN,
        |x| call!(x, C_InitPIN, x.h, p(PIN), n(PIN))
    ),
    case!(
        Both,
        "C_SetPIN in a read-only session",
        CKR_SESSION_READ_ONLY,
        |x| {
            let h = x.open(false);
            let new = *b"5678";
            call!(x, C_SetPIN, h, p(PIN), n(PIN), p(&new), 4)
        }
    ),
    case!(
        Both,
        "C_SetAttributeValue of CPS_DATA in a read-only session",
        CKR_SESSION_READ_ONLY,
        |x| {
            let h = x.open(false);
            let v = *b"data";
            let mut t = [attr(CKA_VALUE, p(&v), 4)];
            call!(x, C_SetAttributeValue, h, x.cps_data, t.as_mut_ptr(), 1)
        }
    ),
    // --- Mechanisms and their parameters.
    case!(
        Both,
        "C_SignInit with an unknown mechanism",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(0x8000_1234);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "C_SignInit with a digest mechanism",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(CKM_SHA256);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "C_DigestInit with a signature mechanism",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(CKM_RSA_PKCS);
            call!(x, C_DigestInit, x.h, &mut m)
        }
    ),
    case!(
        Both,
        "C_DecryptInit with a sign-only mechanism",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_DecryptInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "C_DecryptInit with the signature key (CKA_DECRYPT false)",
        CKR_KEY_FUNCTION_NOT_PERMITTED,
        |x| {
            let mut m = mech(CKM_RSA_PKCS);
            call!(x, C_DecryptInit, x.h, &mut m, x.sig)
        }
    ),
    case!(
        Both,
        "C_EncryptInit with the signature public key (CKA_ENCRYPT false)",
        CKR_KEY_FUNCTION_NOT_PERMITTED,
        |x| {
            let mut m = mech(CKM_RSA_PKCS);
            call!(x, C_EncryptInit, x.h, &mut m, x.sig_pub)
        }
    ),
    case!(
        Both,
        "C_SignInit with a public key",
        CKR_KEY_TYPE_INCONSISTENT,
        |x| {
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, x.h, &mut m, x.aut_pub)
        }
    ),
    case!(
        Both,
        "C_SignInit with a certificate",
        CKR_KEY_TYPE_INCONSISTENT,
        |x| {
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, x.h, &mut m, x.cert)
        }
    ),
    case!(
        Both,
        "C_SignInit CKM_RSA_PKCS with a parameter",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.init_with_junk_param(CKM_RSA_PKCS, x.aut)
    ),
    case!(
        Both,
        "C_SignInit CKM_SHA256_RSA_PKCS with a parameter",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.init_with_junk_param(CKM_SHA256_RSA_PKCS, x.sig)
    ),
    case!(
        Cps4,
        "C_SignInit CKM_RSA_X_509 with the signature key (not in its CKA_ALLOWED_MECHANISMS)",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(CKM_RSA_X_509);
            call!(x, C_SignInit, x.h, &mut m, x.sig)
        }
    ),
    case!(
        Cps3,
        "C_SignInit CKM_RSA_X_509 (no raw RSA on a CPS3)",
        CKR_MECHANISM_INVALID,
        |x| {
            let mut m = mech(CKM_RSA_X_509);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        }
    ),
    case!(
        Cps3,
        "C_SignInit CKM_SHA256_RSA_PKCS_PSS (no PSS on a CPS3)",
        CKR_MECHANISM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 32),
            None,
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: ulParameterLen too small",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 32),
            Some(8),
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: ulParameterLen too big",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 32),
            Some(32),
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: pParameter NULL with the right ulParameterLen",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 32),
            None,
            true,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: no parameter at all",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 32),
            Some(0),
            true,
            x.sig
        )
    ),
    case!(
        Cps4,
        "PSS: hashAlg not the mechanism's hash",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA_1, CKG_MGF1_SHA1, 20),
            None,
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: hashAlg that is no hash",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_RSA_PKCS_PSS,
            (CKM_RSA_PKCS, CKG_MGF1_SHA256, 32),
            None,
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: an unknown MGF",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, 0x99, 32),
            None,
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: MGF1-SHA1 with SHA-256 on the signature key (the card's PSS only)",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA1, 32),
            None,
            false,
            x.sig
        )
    ),
    case!(
        Cps4,
        "PSS: sLen 223 > emLen - hLen - 2 = 222 (SHA-256, 2048 bits)",
        CKR_MECHANISM_PARAM_INVALID,
        |x| x.pss_init(
            CKM_SHA256_RSA_PKCS_PSS,
            (CKM_SHA256, CKG_MGF1_SHA256, 223),
            None,
            false,
            x.aut
        )
    ),
    case!(
        Cps4,
        "PSS: sLen 222, the largest that fits, signs and verifies",
        CKR_OK,
        |x| {
            let params = (CKM_SHA256, CKG_MGF1_SHA256, 222);
            let r = x.pss_init(CKM_SHA256_RSA_PKCS_PSS, params, None, false, x.aut);
            x.ok(r, "C_SignInit");
            let (r2, _, sig) = x.sign(Some(256));
            x.ok(r2, "C_Sign");
            let mut pss = CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: params.0,
                mgf: params.1,
                sLen: params.2,
            };
            let mut m = CK_MECHANISM {
                mechanism: CKM_SHA256_RSA_PKCS_PSS,
                pParameter: (&mut pss as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
                ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
            };
            x.ok(
                call!(x, C_VerifyInit, x.h, &mut m, x.aut_pub),
                "C_VerifyInit",
            );
            call!(x, C_Verify, x.h, p(DATA), n(DATA), p(&sig), n(&sig))
        }
    ),
    // --- Data lengths.
    case!(
        Both,
        "CKM_RSA_PKCS sign, data at the key's limit signs and verifies",
        CKR_OK,
        |x| {
            x.sign_init(CKM_RSA_PKCS, x.aut);
            let d = vec![7u8; x.raw_max];
            let (r, _, sig) = two(Some(256), |b, l| call!(x, C_Sign, x.h, p(&d), n(&d), b, l));
            x.ok(r, "C_Sign");
            x.ok(x.verify(CKM_RSA_PKCS, x.aut_pub, &d, &sig), "verifies");
            r
        }
    ),
    case!(
        Both,
        "CKM_RSA_PKCS sign with the signature key, data longer than the modulus",
        CKR_DATA_LEN_RANGE,
        |x| {
            x.sign_init(CKM_RSA_PKCS, x.sig);
            let d = [7u8; 300];
            two(Some(256), |b, l| call!(x, C_Sign, x.h, p(&d), n(&d), b, l)).0
        }
    ),
    case!(
        Cps4,
        "CKM_RSA_X_509 sign, data longer than the modulus",
        CKR_DATA_LEN_RANGE,
        |x| {
            x.sign_init(CKM_RSA_X_509, x.aut);
            let d = [7u8; 257];
            two(Some(256), |b, l| call!(x, C_Sign, x.h, p(&d), n(&d), b, l)).0
        }
    ),
    case!(
        Cps4,
        "CKM_RSA_PKCS_PSS sign, a hash of the wrong length for hashAlg",
        CKR_DATA_LEN_RANGE,
        |x| {
            let params = (CKM_SHA256, CKG_MGF1_SHA256, 32);
            let r = x.pss_init(CKM_RSA_PKCS_PSS, params, None, false, x.aut);
            x.ok(r, "C_SignInit");
            let d = [7u8; 20];
            two(Some(256), |b, l| call!(x, C_Sign, x.h, p(&d), n(&d), b, l)).0
        }
    ),
];

/// The operation an [`Ending`] row starts (all with the authentication key).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Start {
    /// C_SignInit CKM_SHA256_RSA_PKCS.
    Sign,
    /// The same, and a C_SignUpdate of [`DATA`].
    SignParts,
    /// C_SignInit CKM_RSA_PKCS (the data is the DigestInfo, up to `raw_max` bytes).
    RawSign,
    /// C_VerifyInit CKM_SHA256_RSA_PKCS with the public key.
    Verify,
    /// The same, and a C_VerifyUpdate of [`DATA`].
    VerifyParts,
    /// C_EncryptInit CKM_RSA_PKCS with the public key.
    Encrypt,
    /// C_DecryptInit CKM_RSA_PKCS.
    Decrypt,
    /// C_DigestInit CKM_SHA256.
    Digest,
    /// The same, and a C_DigestUpdate of [`DATA`].
    DigestParts,
    /// C_FindObjectsInit of everything.
    Find,
}

const STARTS: [Start; 10] = [
    Start::Sign,
    Start::SignParts,
    Start::RawSign,
    Start::Verify,
    Start::VerifyParts,
    Start::Encrypt,
    Start::Decrypt,
    Start::Digest,
    Start::DigestParts,
    Start::Find,
];

impl Start {
    /// What C_Logout leaves of it: the operations of the login (private key, search) end, the
    /// others go on (PKCS#11 2.40 §5.6 C_Logout leaves the choice to the module; see the
    /// module's `session.rs`).
    fn after_logout(self) -> After {
        match self {
            Start::Sign | Start::SignParts | Start::RawSign | Start::Decrypt | Start::Find => {
                After::Over
            }
            _ => After::GoesOn,
        }
    }
}

/// What a row asserts of its operation after the call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum After {
    /// The next call of its kind answers `CKR_OPERATION_NOT_INITIALIZED`.
    Over,
    /// It finishes with good arguments and gives the right output.
    GoesOn,
}

/// A row about how a call ends an operation (PKCS#11 2.40 §5.2, §5.8-§5.12): `C_Sign`,
/// `C_SignFinal`, `C_Encrypt`, `C_Decrypt`, `C_Digest`, `C_DigestFinal` end it on any answer but
/// `CKR_BUFFER_TOO_SMALL` or a successful length query; `C_xUpdate` on any error; `C_Verify`,
/// `C_VerifyFinal` on any answer; `C_xInit` on an active operation does not touch it.
struct Ending {
    name: &'static str,
    start: Start,
    expect: CK_RV,
    call: fn(&Fx) -> CK_RV,
    after: After,
}

macro_rules! ending {
    ($start:ident, $name:expr, $expect:expr, $after:ident, $call:expr) => {
        Ending {
            name: $name,
            start: Start::$start,
            expect: $expect,
            call: $call,
            after: After::$after,
        }
    };
}

/// C_xInit while an operation of that kind is active (`CKR_OPERATION_ACTIVE`).
fn init_again(
    x: &Fx,
    init: CK_C_SignInit,
    kind: CK_MECHANISM_TYPE,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    let mut m = mech(kind);
    unsafe { (init.unwrap())(x.h, &mut m, key) }
}

const ENDINGS: &[Ending] = &[
    // --- CKR_ARGUMENTS_BAD ends the operation like any other error.
    ending!(
        Sign,
        "C_Sign pData NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { two(Some(256), |b, l| call!(x, C_Sign, x.h, null_mut(), 5, b, l)).0 }
    ),
    ending!(
        Sign,
        "C_Sign pulSignatureLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let mut b = [0u8; 256];
            call!(x, C_Sign, x.h, p(DATA), n(DATA), b.as_mut_ptr(), null_mut())
        }
    ),
    ending!(
        Sign,
        "C_Sign pulSignatureLen NULL (length query)",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_Sign, x.h, p(DATA), n(DATA), null_mut(), null_mut()) }
    ),
    ending!(
        Sign,
        "C_SignUpdate pPart NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_SignUpdate, x.h, null_mut(), 5) }
    ),
    ending!(
        SignParts,
        "C_SignUpdate pPart NULL with a length, after a part",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_SignUpdate, x.h, null_mut(), 5) }
    ),
    ending!(
        SignParts,
        "C_SignFinal pulSignatureLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let mut b = [0u8; 256];
            call!(x, C_SignFinal, x.h, b.as_mut_ptr(), null_mut())
        }
    ),
    ending!(
        Verify,
        "C_Verify pData NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let s = [0u8; 256];
            call!(x, C_Verify, x.h, null_mut(), 5, p(&s), 256)
        }
    ),
    ending!(
        Verify,
        "C_Verify pSignature NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_Verify, x.h, p(DATA), n(DATA), null_mut(), 256) }
    ),
    ending!(
        Verify,
        "C_VerifyUpdate pPart NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_VerifyUpdate, x.h, null_mut(), 5) }
    ),
    ending!(
        VerifyParts,
        "C_VerifyFinal pSignature NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_VerifyFinal, x.h, null_mut(), 256) }
    ),
    ending!(
        Encrypt,
        "C_Encrypt pData NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            two(Some(256), |b, l| {
                call!(x, C_Encrypt, x.h, null_mut(), 5, b, l)
            })
            .0
        }
    ),
    ending!(
        Encrypt,
        "C_Encrypt pulEncryptedDataLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let mut b = [0u8; 256];
            call!(
                x,
                C_Encrypt,
                x.h,
                p(DATA),
                n(DATA),
                b.as_mut_ptr(),
                null_mut()
            )
        }
    ),
    ending!(
        Decrypt,
        "C_Decrypt pEncryptedData NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            two(Some(256), |b, l| {
                call!(x, C_Decrypt, x.h, null_mut(), 256, b, l)
            })
            .0
        }
    ),
    ending!(
        Decrypt,
        "C_Decrypt pulDataLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let (c, mut b) = ([0u8; 256], [0u8; 256]);
            call!(x, C_Decrypt, x.h, p(&c), n(&c), b.as_mut_ptr(), null_mut())
        }
    ),
    ending!(
        Digest,
        "C_Digest pData NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            two(Some(64), |b, l| {
                call!(x, C_Digest, x.h, null_mut(), 4, b, l)
            })
            .0
        }
    ),
    ending!(
        Digest,
        "C_Digest pulDigestLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let mut b = [0u8; 64];
            call!(
                x,
                C_Digest,
                x.h,
                p(DATA),
                n(DATA),
                b.as_mut_ptr(),
                null_mut()
            )
        }
    ),
    ending!(
        Digest,
        "C_DigestUpdate pPart NULL with a length",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| { call!(x, C_DigestUpdate, x.h, null_mut(), 4) }
    ),
    ending!(
        DigestParts,
        "C_DigestFinal pulDigestLen NULL",
        CKR_ARGUMENTS_BAD,
        Over,
        |x| {
            let mut b = [0u8; 64];
            call!(x, C_DigestFinal, x.h, b.as_mut_ptr(), null_mut())
        }
    ),
    // --- C_FindObjects has no such rule (2.40 §5.7): a search ends with C_FindObjectsFinal only.
    ending!(
        Find,
        "C_FindObjects phObject NULL",
        CKR_ARGUMENTS_BAD,
        GoesOn,
        |x| {
            let mut found = 0;
            call!(x, C_FindObjects, x.h, null_mut(), 4, &mut found)
        }
    ),
    ending!(
        Find,
        "C_FindObjects pulObjectCount NULL",
        CKR_ARGUMENTS_BAD,
        GoesOn,
        |x| {
            let mut o = [0; 4];
            call!(x, C_FindObjects, x.h, o.as_mut_ptr(), 4, null_mut())
        }
    ),
    // --- A single-part call on a multi-part operation ends it (2.40 §5.2 "always terminates").
    ending!(
        SignParts,
        "C_Sign after C_SignUpdate",
        CKR_OPERATION_ACTIVE,
        Over,
        |x| x.sign(Some(256)).0
    ),
    ending!(
        VerifyParts,
        "C_Verify after C_VerifyUpdate",
        CKR_OPERATION_ACTIVE,
        Over,
        |x| {
            let s = [0u8; 256];
            call!(x, C_Verify, x.h, p(DATA), n(DATA), p(&s), 256)
        }
    ),
    ending!(
        DigestParts,
        "C_Digest after C_DigestUpdate",
        CKR_OPERATION_ACTIVE,
        Over,
        |x| {
            two(Some(64), |b, l| {
                call!(x, C_Digest, x.h, p(DATA), n(DATA), b, l)
            })
            .0
        }
    ),
    // --- Data the mechanism refuses (curr §2.1: the RSA length limits), wrong signatures.
    ending!(
        RawSign,
        "CKM_RSA_PKCS sign, data one byte over the key's limit",
        CKR_DATA_LEN_RANGE,
        Over,
        |x| {
            let d = vec![7u8; x.raw_max + 1];
            two(Some(256), |b, l| call!(x, C_Sign, x.h, p(&d), n(&d), b, l)).0
        }
    ),
    ending!(
        Encrypt,
        "CKM_RSA_PKCS encrypt, data of k-10 bytes",
        CKR_DATA_LEN_RANGE,
        Over,
        |x| {
            let d = [7u8; 246];
            two(Some(256), |b, l| {
                call!(x, C_Encrypt, x.h, p(&d), n(&d), b, l)
            })
            .0
        }
    ),
    ending!(
        Decrypt,
        "CKM_RSA_PKCS decrypt, cryptogram of k-1 bytes",
        CKR_ENCRYPTED_DATA_LEN_RANGE,
        Over,
        |x| {
            let c = x.cryptogram(DATA);
            x.decrypt(&c[..255], Some(256)).0
        }
    ),
    ending!(
        Decrypt,
        "CKM_RSA_PKCS decrypt, cryptogram of k+1 bytes",
        CKR_ENCRYPTED_DATA_LEN_RANGE,
        Over,
        |x| {
            let mut c = x.cryptogram(DATA);
            c.push(0);
            x.decrypt(&c, Some(256)).0
        }
    ),
    ending!(
        Decrypt,
        "CKM_RSA_PKCS decrypt, empty cryptogram",
        CKR_ENCRYPTED_DATA_LEN_RANGE,
        Over,
        |x| { x.decrypt(&[], Some(256)).0 }
    ),
    ending!(
        Decrypt,
        "CKM_RSA_PKCS decrypt, a cryptogram that is no PKCS#1 block",
        CKR_ENCRYPTED_DATA_INVALID,
        Over,
        |x| {
            let mut c = [0x11u8; 256];
            c[0] = 0x00;
            x.decrypt(&c, Some(256)).0
        }
    ),
    ending!(
        Verify,
        "C_Verify with a signature one byte short",
        CKR_SIGNATURE_LEN_RANGE,
        Over,
        |x| {
            let s = [0u8; 255];
            call!(x, C_Verify, x.h, p(DATA), n(DATA), p(&s), 255)
        }
    ),
    ending!(
        Verify,
        "C_Verify with a wrong signature",
        CKR_SIGNATURE_INVALID,
        Over,
        |x| {
            let s = [0x5au8; 256];
            call!(x, C_Verify, x.h, p(DATA), n(DATA), p(&s), 256)
        }
    ),
    ending!(
        VerifyParts,
        "C_VerifyFinal with a wrong signature",
        CKR_SIGNATURE_INVALID,
        Over,
        |x| {
            let s = [0x5au8; 256];
            call!(x, C_VerifyFinal, x.h, p(&s), 256)
        }
    ),
    ending!(
        VerifyParts,
        "C_VerifyFinal with a signature one byte short",
        CKR_SIGNATURE_LEN_RANGE,
        Over,
        |x| {
            let s = [0u8; 255];
            call!(x, C_VerifyFinal, x.h, p(&s), 255)
        }
    ),
    // --- A successful length query keeps the operation (the buffer-too-small rows above too).
    ending!(SignParts, "C_SignFinal length query", CKR_OK, GoesOn, |x| {
        let (r, len, _) = two(None, |b, l| call!(x, C_SignFinal, x.h, b, l));
        assert_eq!(len, 256, "the signature length");
        r
    }),
    ending!(Encrypt, "C_Encrypt length query", CKR_OK, GoesOn, |x| {
        let (r, len, _) = two(None, |b, l| {
            call!(x, C_Encrypt, x.h, p(DATA), n(DATA), b, l)
        });
        assert_eq!(len, 256, "the cryptogram length");
        r
    }),
    ending!(
        DigestParts,
        "C_DigestFinal length query",
        CKR_OK,
        GoesOn,
        |x| {
            let (r, len, _) = two(None, |b, l| call!(x, C_DigestFinal, x.h, b, l));
            assert_eq!(len, 32, "the digest length");
            r
        }
    ),
    ending!(
        SignParts,
        "C_SignFinal buffer too small (2.40 §5.2)",
        CKR_BUFFER_TOO_SMALL,
        GoesOn,
        |x| { two(Some(255), |b, l| call!(x, C_SignFinal, x.h, b, l)).0 }
    ),
    // --- C_xInit on an active operation: CKR_OPERATION_ACTIVE, the active one goes on (with
    // its own mechanism and key: the second C_xInit asks for others).
    ending!(
        Sign,
        "C_SignInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { init_again(x, x.f.C_SignInit, CKM_SHA1_RSA_PKCS, x.sig) }
    ),
    ending!(
        SignParts,
        "C_SignInit during a multi-part signature",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { init_again(x, x.f.C_SignInit, CKM_SHA1_RSA_PKCS, x.sig) }
    ),
    ending!(
        Verify,
        "C_VerifyInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { init_again(x, x.f.C_VerifyInit, CKM_SHA1_RSA_PKCS, x.sig_pub) }
    ),
    ending!(
        Encrypt,
        "C_EncryptInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { init_again(x, x.f.C_EncryptInit, CKM_RSA_PKCS, x.aut_pub) }
    ),
    ending!(
        Decrypt,
        "C_DecryptInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { init_again(x, x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut) }
    ),
    ending!(
        DigestParts,
        "C_DigestInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| {
            let mut m = mech(CKM_SHA_1);
            call!(x, C_DigestInit, x.h, &mut m)
        }
    ),
    ending!(
        Find,
        "C_FindObjectsInit twice",
        CKR_OPERATION_ACTIVE,
        GoesOn,
        |x| { call!(x, C_FindObjectsInit, x.h, null_mut(), 0) }
    ),
];

/// The same with the card in hand (in-process): a card error during the operation ends it.
const CARD_ENDINGS: &[Ending] = &[
    ending!(
        Sign,
        "the card's signature does not verify: C_Sign",
        CKR_DEVICE_ERROR,
        Over,
        |x| {
            x.faults(|f| f.corrupt_next_signature = true);
            x.sign(Some(256)).0
        }
    ),
    ending!(
        Decrypt,
        "the card answers 6F00 to PSO DECIPHER: C_Decrypt",
        CKR_DEVICE_ERROR,
        Over,
        |x| {
            let c = x.cryptogram(DATA);
            x.faults(|f| f.status_for_ins = Some((0x2A, 0x6F00)));
            let r = x.decrypt(&c, Some(256)).0;
            x.faults(|f| f.status_for_ins = None);
            r
        }
    ),
    ending!(
        Sign,
        "the card forgot the PIN (reset by another application): C_Sign",
        CKR_USER_NOT_LOGGED_IN,
        Over,
        |x| {
            x.faults(|f| f.reset_after = Some(1));
            x.sign(Some(256)).0
        }
    ),
];

/// Rows of an [`Ending`] table: start, call, then what is left of the operation.
fn ending_rows(table: &'static [Ending]) -> impl Iterator<Item = Row> {
    table.iter().map(|e| Row {
        on: On::Both,
        name: format!("{} ({:?} operation: {:?})", e.name, e.start, e.after),
        expect: e.expect,
        run: Box::new(move |x| {
            x.begin(e.start);
            let r = (e.call)(x);
            if r == e.expect {
                x.check(e.start, e.after);
            }
            r
        }),
    })
}

/// C_Logout with each operation active (those of the login end, [`Start::after_logout`]), and
/// C_Login with each operation a logged-out session can start (they go on).
fn login_rows() -> impl Iterator<Item = Row> {
    let logout = STARTS.into_iter().map(|s| Row {
        on: On::Both,
        name: format!(
            "C_Logout with a {s:?} operation active ({:?})",
            s.after_logout()
        ),
        expect: CKR_OK,
        run: Box::new(move |x| {
            x.begin(s);
            let r = call!(x, C_Logout, x.h);
            if r == CKR_OK {
                x.check(s, s.after_logout());
            }
            r
        }),
    });
    let public = [
        Start::Verify,
        Start::Encrypt,
        Start::Digest,
        Start::DigestParts,
        Start::Find,
    ];
    let login = public.into_iter().map(|s| Row {
        on: On::Both,
        name: format!("C_Login with a {s:?} operation active (GoesOn)"),
        expect: CKR_OK,
        run: Box::new(move |x| {
            x.logout();
            x.begin(s);
            let r = x.login(CKU_USER, PIN);
            if r == CKR_OK {
                x.check(s, After::GoesOn);
            }
            r
        }),
    });
    logout.chain(login)
}

/// Calls on a session made stale by an event (closed; its card removed and the removal seen by a
/// slot call): the same probes after each event, all `CKR_SESSION_HANDLE_INVALID`.
struct StaleProbe {
    name: &'static str,
    /// What the session starts before the event (an operation, a search).
    before: fn(&Fx),
    call: fn(&Fx) -> CK_RV,
}

const STALE_SESSION_PROBES: &[StaleProbe] = &[
    StaleProbe {
        name: "C_GetSessionInfo",
        before: |_| {},
        call: |x| {
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        },
    },
    StaleProbe {
        name: "C_SignInit",
        before: |_| {},
        call: |x| {
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, x.h, &mut m, x.aut)
        },
    },
    StaleProbe {
        name: "C_Sign of an operation started before",
        before: |x| x.sign_init(CKM_SHA256_RSA_PKCS, x.aut),
        call: |x| x.sign(Some(256)).0,
    },
    StaleProbe {
        name: "C_FindObjects of a search started before",
        before: |x| x.find_init(),
        call: |x| {
            let (mut o, mut found) = ([0; 4], 0);
            call!(x, C_FindObjects, x.h, o.as_mut_ptr(), 4, &mut found)
        },
    },
    StaleProbe {
        name: "C_CloseSession",
        before: |_| {},
        call: |x| call!(x, C_CloseSession, x.h),
    },
];

/// A row as the runner takes it: a [`Case`] of a table, or a stale-session probe after an event.
struct Row {
    on: On,
    name: String,
    expect: CK_RV,
    run: Box<dyn Fn(&Fx) -> CK_RV>,
}

fn rows(cases: &'static [Case]) -> impl Iterator<Item = Row> {
    cases.iter().map(|c| Row {
        on: c.on,
        name: c.name.to_string(),
        expect: c.expect,
        run: Box::new(c.run),
    })
}

/// Every stale-session probe after `event` (on both cards).
fn stale_rows(event: &'static str, act: fn(&Fx)) -> impl Iterator<Item = Row> {
    STALE_SESSION_PROBES.iter().map(move |p| Row {
        on: On::Both,
        name: format!("{event}: {}", p.name),
        expect: CKR_SESSION_HANDLE_INVALID,
        run: Box::new(move |x| {
            (p.before)(x);
            act(x);
            (p.call)(x)
        }),
    })
}

/// Rows that pull the card: in-process only, where the test holds it. An application learns of
/// a removal from a slot call (`C_GetSlotList`, `C_GetSlotInfo`, `C_WaitForSlotEvent`): from
/// then on the sessions of the card are gone (`CKR_SESSION_HANDLE_INVALID`, PKCS#11 2.40 §5.1:
/// "removing a token closes all sessions with it"). A call that reaches the card before any
/// such look finds it gone: `CKR_DEVICE_REMOVED`, and its sessions are gone too. With them:
/// STALE_SESSION_PROBES after the removal was seen.
const REMOVAL: &[Case] = &[
    case!(
        Both,
        "card removed: C_GetTokenInfo",
        CKR_TOKEN_NOT_PRESENT,
        |x| {
            x.remove();
            let mut t = CK_TOKEN_INFO::default();
            call!(x, C_GetTokenInfo, x.slot, &mut t)
        }
    ),
    case!(
        Both,
        "card removed: C_OpenSession",
        CKR_TOKEN_NOT_PRESENT,
        |x| {
            x.remove();
            let mut h = 0;
            let flags = CKF_SERIAL_SESSION;
            call!(x, C_OpenSession, x.slot, flags, null_mut(), None, &mut h)
        }
    ),
    case!(
        Both,
        "card removed, not seen yet: C_Sign reaches the card (then the session is gone)",
        CKR_DEVICE_REMOVED,
        |x| {
            x.sign_init(CKM_SHA256_RSA_PKCS, x.aut);
            x.remove();
            let r = x.sign(Some(256)).0;
            let mut i = CK_SESSION_INFO::default();
            let after = call!(x, C_GetSessionInfo, x.h, &mut i);
            assert_eq!(after, CKR_SESSION_HANDLE_INVALID, "then: {}", rv(after));
            r
        }
    ),
    case!(
        Both,
        "card removed, not seen yet: C_GetSessionInfo sees it (then the session is gone)",
        CKR_DEVICE_REMOVED,
        |x| {
            x.remove();
            let mut i = CK_SESSION_INFO::default();
            let r = call!(x, C_GetSessionInfo, x.h, &mut i);
            let after = call!(x, C_GetSessionInfo, x.h, &mut i);
            assert_eq!(after, CKR_SESSION_HANDLE_INVALID, "then: {}", rv(after));
            r
        }
    ),
    case!(
        Both,
        "card removed, not seen yet: C_Decrypt reaches the card",
        CKR_DEVICE_REMOVED,
        |x| {
            let c = x.cryptogram(DATA);
            x.init(x.f.C_DecryptInit, CKM_RSA_PKCS, x.aut);
            x.remove();
            x.decrypt(&c, Some(256)).0
        }
    ),
    case!(
        Both,
        "card removed, not seen yet: C_Login reaches the card",
        CKR_DEVICE_REMOVED,
        |x| {
            x.logout();
            x.remove();
            x.login(CKU_USER, PIN)
        }
    ),
    case!(
        Both,
        "card removed and reinserted: the old session handle",
        CKR_SESSION_HANDLE_INVALID,
        |x| {
            x.remove_seen();
            x.reinsert();
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        }
    ),
    case!(
        Both,
        "card swapped between two looks: the old session handle",
        CKR_SESSION_HANDLE_INVALID,
        |x| {
            x.remove();
            x.reinsert();
            let mut i = CK_SESSION_INFO::default();
            call!(x, C_GetSessionInfo, x.h, &mut i)
        }
    ),
    case!(
        Both,
        "card reinserted: the old private key handle, logged in again",
        CKR_KEY_HANDLE_INVALID,
        |x| {
            x.remove();
            x.reinsert();
            let h = x.open(true);
            let r = call!(x, C_Login, h, CKU_USER, p(PIN), n(PIN));
            x.ok(r, "C_Login");
            let mut m = mech(CKM_SHA256_RSA_PKCS);
            call!(x, C_SignInit, h, &mut m, x.aut)
        }
    ),
    case!(
        Both,
        "card reinserted: a new session is logged out",
        CKR_USER_NOT_LOGGED_IN,
        |x| {
            x.remove();
            x.reinsert();
            let h = x.open(true);
            call!(x, C_Logout, h)
        }
    ),
];

/// Runs rows on one card, each from a fresh read/write session of the logged-in token (what a
/// row left open is closed first).
pub(crate) struct Runner {
    f: &'static CK_FUNCTION_LIST,
    cps4: bool,
    card: Option<Arc<Mutex<Card>>>,
}

impl Runner {
    pub(crate) fn new(
        f: &'static CK_FUNCTION_LIST,
        generation: &str,
        card: Option<Arc<Mutex<Card>>>,
    ) -> Self {
        Runner {
            f,
            cps4: generation == "cps4",
            card,
        }
    }

    pub(crate) fn prepare(&self) -> Fx {
        let f = self.f;
        let mut info = CK_INFO::default();
        if unsafe { (f.C_GetInfo.unwrap())(&mut info) } == CKR_CRYPTOKI_NOT_INITIALIZED {
            assert_eq!(unsafe { (f.C_Initialize.unwrap())(null_mut()) }, CKR_OK);
        }
        if let Some(card) = &self.card {
            let mut card = card.lock().unwrap();
            if !card.is_present() {
                card.reinsert();
            }
            *card.faults_mut() = Default::default();
        }
        let slots = slot_ids(f, true);
        assert_eq!(slots.len(), 1, "one emulated token");
        let mut x = Fx {
            f,
            raw_max: if self.cps4 { 245 } else { 102 },
            slot: slots[0],
            h: 0,
            sig: 0,
            aut: 0,
            sig_pub: 0,
            aut_pub: 0,
            cert: 0,
            cps_data: 0,
            card: self.card.clone(),
        };
        x.close_all();
        x.h = x.open(true);
        x.ok(x.login(CKU_USER, PIN), "C_Login");
        let (sig_id, aut_id) = if self.cps4 {
            ("10", "20")
        } else {
            ("01", "02")
        };
        let one = |class: CK_OBJECT_CLASS, id: &str| {
            let bytes = hex::decode(format!("{AID}{id}")).unwrap();
            let found = find_with(f, x.h, &[(CKA_CLASS, ulong(class)), (CKA_ID, bytes)]);
            assert_eq!(found.len(), 1, "class {class} id {AID}{id}");
            found[0]
        };
        x.sig = one(CKO_PRIVATE_KEY, sig_id);
        x.aut = one(CKO_PRIVATE_KEY, aut_id);
        x.sig_pub = one(CKO_PUBLIC_KEY, sig_id);
        x.aut_pub = one(CKO_PUBLIC_KEY, aut_id);
        x.cert = one(CKO_CERTIFICATE, aut_id);
        let data = find_with(
            f,
            x.h,
            &[
                (CKA_CLASS, ulong(CKO_DATA)),
                (CKA_LABEL, b"CPS_DATA".to_vec()),
            ],
        );
        assert_eq!(data.len(), 1, "CPS_DATA");
        x.cps_data = data[0];
        x
    }

    /// Runs the rows for this card; returns how many ran. Failures are gathered and reported
    /// together.
    fn run(&self, generation: &str, cases: impl IntoIterator<Item = Row>) -> usize {
        let mut failures = Vec::new();
        let mut ran = 0;
        for case in cases {
            let mine = match case.on {
                On::Both => true,
                On::Cps3 => !self.cps4,
                On::Cps4 => self.cps4,
            };
            if !mine {
                continue;
            }
            ran += 1;
            let x = self.prepare();
            // A follow-up check that fails in a row is that row's failure; the others still run.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.run)(&x))) {
                Ok(got) if got == case.expect => {}
                Ok(got) => failures.push(format!(
                    "{generation}: {}: expected {}, got {}",
                    case.name,
                    rv(case.expect),
                    rv(got)
                )),
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{generation}: {}: {why}", case.name));
                }
            }
        }
        // No row cost a PIN or PUK try.
        let x = self.prepare();
        let mut ti = CK_TOKEN_INFO::default();
        x.ok(call!(x, C_GetTokenInfo, x.slot, &mut ti), "C_GetTokenInfo");
        let counters = CKF_USER_PIN_COUNT_LOW
            | CKF_USER_PIN_FINAL_TRY
            | CKF_USER_PIN_LOCKED
            | CKF_SO_PIN_COUNT_LOW
            | CKF_SO_PIN_FINAL_TRY
            | CKF_SO_PIN_LOCKED;
        assert_eq!(
            ti.flags & counters,
            0,
            "{generation}: a PIN or PUK try was used"
        );
        assert!(
            failures.is_empty(),
            "{} of {ran} rows failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        ran
    }
}

#[test]
fn misuse_matrix_through_the_built_module() {
    let mut total = 0;
    for generation in ["cps3", "cps4"] {
        let m = Module::load();
        let _g = serial(&m);
        let _card = EmulatedCard::new(generation, "misuse");
        let cases = rows(CASES)
            .chain(ending_rows(ENDINGS))
            .chain(login_rows())
            .chain(stale_rows("after C_CloseSession", |x| x.close()));
        let ran = Runner::new(m.f, generation, None).run(generation, cases);
        println!("misuse matrix, built module, {generation}: {ran} cases");
        total += ran;
        assert_eq!(m.finalize(), CKR_OK);
    }
    println!("misuse matrix, built module: {total} cases on both cards");
}

#[test]
fn misuse_matrix_card_removal_in_process() {
    let m = Module::load();
    let _g = serial(&m);
    let f = crate::common::raw::f();
    let mut total = 0;
    for (generation, g) in [("cps3", Generation::Cps3), ("cps4", Generation::Cps4)] {
        let source = Arc::new(EmulatedSource::new(Card::builtin(g, "cps").unwrap()));
        let card = source.card();
        cps_pkcs11::set_slot_sources(move || Ok(vec![source.clone() as Arc<dyn SlotSource>]));
        let cases = rows(REMOVAL)
            .chain(ending_rows(CARD_ENDINGS))
            .chain(stale_rows("card removed, seen", |x| x.remove_seen()));
        let ran = Runner::new(f, generation, Some(card)).run(generation, cases);
        println!("misuse matrix, card removal in-process, {generation}: {ran} cases");
        total += ran;
        assert_eq!(unsafe { (f.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
        cps_pkcs11::clear_slot_sources();
    }
    println!("misuse matrix, card removal in-process: {total} cases on both cards");
}
