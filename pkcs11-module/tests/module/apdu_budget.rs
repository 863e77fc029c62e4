//! APDU budget (issue 7 item 1, DESIGN §8): what each step costs through the module exactly as
//! Firefox calls it, counted by the emulator, with the exact numbers asserted so that any
//! regression (or improvement) shows. Both cards:
//! - first enumeration of a new card (token info + every public object and its attributes),
//!   cold persistent cache;
//! - the same enumeration repeated in the same process: 0;
//! - a fresh library (`C_Finalize` + `C_Initialize`, as a new process) with the warm persistent
//!   cache: what proves it is the same card (SELECT + READ BINARY of a cached certificate's
//!   head; a CPS4 opens its logical channel first), plus the PIN counter C_GetTokenInfo
//!   reports (a status query, never taken from another process);
//! - `C_Login`; one signature after login with each key; one PSS signature on CPS4.
//!
//! Run with `--nocapture` to see the table.

#![cfg(feature = "emulator")]

use crate::common;

use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

use common::raw::{enumerate, f, key, login, mech, open, slot_list};
use cps_pkcs11::emulated::EmulatedSource;
use cps_pkcs11::token_adapter::TokenSettings;
use cps_pkcs11::SlotSource;
use cpscard::emulator::{EmulatedCard, Generation};
use cpscard::token::CacheChoice;
use cryptoki_sys::*;

/// The counted steps of one card.
#[derive(Debug, PartialEq, Eq)]
struct Budget {
    first_enumeration: u64,
    repeated_enumeration: u64,
    warm_enumeration: u64,
    /// Of which PIN status queries (VERIFY without data).
    warm_pin_status: u64,
    warm_repeated: u64,
    login: u64,
    sign_sig: u64,
    sign_aut: u64,
    pss: Option<u64>,
}

/// A browser's look at the token ([`enumerate`]); a CPS has at least four public objects.
fn browse(slot: CK_SLOT_ID) {
    let n = enumerate(slot);
    assert!(n >= 4, "{n} public objects");
}

fn sign(h: CK_SESSION_HANDLE, key: CK_OBJECT_HANDLE, mut m: CK_MECHANISM, data: &[u8]) {
    let ff = f();
    assert_eq!(unsafe { (ff.C_SignInit.unwrap())(h, &mut m, key) }, CKR_OK);
    let mut sig = vec![0u8; 512];
    let mut n: CK_ULONG = 512;
    let mut d = data.to_vec();
    let r =
        unsafe { (ff.C_Sign.unwrap())(h, d.as_mut_ptr(), d.len() as _, sig.as_mut_ptr(), &mut n) };
    assert_eq!(r, CKR_OK, "{}", common::rv(r));
    assert_eq!(n, 256, "a 2048-bit signature");
}

fn measure(generation: Generation) -> Budget {
    // One library state per process: the two cards are measured one after the other.
    let _g = common::lock();
    unsafe { (f().C_Finalize.unwrap())(null_mut()) };
    let dir = std::env::temp_dir().join(format!(
        "cps-apdu-budget-{generation}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let card = EmulatedCard::builtin(generation, "cps").unwrap();
    let source = Arc::new(EmulatedSource::with_settings(
        card,
        TokenSettings {
            cache: CacheChoice::Dir(dir.clone()),
            ..TokenSettings::default()
        },
    ));
    let handle: Arc<Mutex<EmulatedCard>> = source.card();
    cps_pkcs11::set_slot_sources(move || Ok(vec![source.clone() as Arc<dyn SlotSource>]));
    let apdus = || handle.lock().unwrap().stats().apdus;
    let status_queries = || {
        let card = handle.lock().unwrap();
        let s = card.stats();
        s.verify.values().sum::<u64>() - s.verify_with_data.values().sum::<u64>()
    };
    let cost = |op: &mut dyn FnMut()| {
        let before = apdus();
        op();
        apdus() - before
    };
    let ff = f();
    let start = |slot: &mut CK_SLOT_ID| {
        assert_eq!(unsafe { (ff.C_Initialize.unwrap())(null_mut()) }, CKR_OK);
        let slots = slot_list(true);
        assert_eq!(slots.len(), 1);
        *slot = slots[0];
        browse(*slot);
    };
    let mut slot = 0;
    let first_enumeration = cost(&mut || start(&mut slot));
    let repeated_enumeration = cost(&mut || browse(slot));
    assert_eq!(unsafe { (ff.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
    let queries_before = status_queries();
    let warm_enumeration = cost(&mut || start(&mut slot));
    let warm_pin_status = status_queries() - queries_before;
    let warm_repeated = cost(&mut || browse(slot));
    let h = open(slot, true);
    let login = cost(&mut || assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK));
    let sig_key = key(h, "CPS_PRIV_SIG");
    let aut_key = key(h, "CPS_PRIV_AUT");
    let sign_sig = cost(&mut || sign(h, sig_key, mech(CKM_SHA256_RSA_PKCS), b"hello"));
    let sign_aut = cost(&mut || {
        let di = cpscard::crypto::HashAlg::Sha256.digest_info(&[7; 32]);
        sign(h, aut_key, mech(CKM_RSA_PKCS), &di)
    });
    let pss = (generation == Generation::Cps4).then(|| {
        cost(&mut || {
            let mut params = CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: CKM_SHA256,
                mgf: CKG_MGF1_SHA256,
                sLen: 32,
            };
            let m = CK_MECHANISM {
                mechanism: CKM_SHA256_RSA_PKCS_PSS,
                pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
                ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
            };
            sign(h, aut_key, m, b"tls13 handshake")
        })
    });
    assert_eq!(unsafe { (ff.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
    cps_pkcs11::clear_slot_sources();
    let _ = std::fs::remove_dir_all(&dir);
    let b = Budget {
        first_enumeration,
        repeated_enumeration,
        warm_enumeration,
        warm_pin_status,
        warm_repeated,
        login,
        sign_sig,
        sign_aut,
        pss,
    };
    println!("{generation}: {b:?}");
    b
}

#[test]
fn cps3_apdu_budget() {
    assert_eq!(
        measure(Generation::Cps3),
        Budget {
            first_enumeration: 33,
            repeated_enumeration: 0,
            warm_enumeration: 3,
            warm_pin_status: 1,
            warm_repeated: 0,
            login: 1,
            sign_sig: 5,
            sign_aut: 3,
            pss: None,
        }
    );
}

#[test]
fn cps4_apdu_budget() {
    assert_eq!(
        measure(Generation::Cps4),
        Budget {
            first_enumeration: 28,
            repeated_enumeration: 0,
            warm_enumeration: 4,
            warm_pin_status: 1,
            warm_repeated: 0,
            login: 1,
            sign_sig: 2,
            sign_aut: 3,
            pss: Some(2),
        }
    );
}
