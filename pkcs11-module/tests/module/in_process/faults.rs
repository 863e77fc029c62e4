//! Pulled card / reset matrix through the module's C ABI (issue 6 item 1), in-process over the
//! emulated card the test holds, on both card generations.
//!
//! For each operation — the first enumeration of a newly inserted card (C_GetSlotList,
//! C_GetSlotInfo, C_GetTokenInfo, C_OpenSession, C_FindObjects and the attributes a browser
//! reads), the same with a warm persistent cache (the card recognised by a cached
//! certificate's head; after the fault and re-insertion it is still recognised), C_Login, C_SignInit + C_Sign with each key (SHA256-RSA-PKCS; on CPS4 also
//! SHA256-RSA-PKCS-PSS with each key), C_DecryptInit + C_Decrypt, the value of a private data
//! object after login — the operation's APDUs are counted first; then for every APDU index k the
//! card is pulled out after k answered APDUs, and separately reset by another application after
//! k. Asserted for each case:
//! - removal: the call that meets it answers CKR_DEVICE_REMOVED (CKR_TOKEN_NOT_PRESENT / no
//!   token listed when the module meets it while reading a new card) and the session is gone
//!   afterwards (CKR_SESSION_HANDLE_INVALID);
//! - reset: CKR_OK (the module re-selected transparently), or CKR_USER_NOT_LOGGED_IN with the
//!   session logged out (the card forgot the PIN: a signature, a decipherment or a private read
//!   needs a new C_Login), or CKR_DEVICE_ERROR for a C_Login whose VERIFY met the reset (a VERIFY
//!   is never replayed on the user's behalf: the application must ask again);
//! - never CKR_GENERAL_ERROR or any other code (a panic would come out as CKR_GENERAL_ERROR);
//! - no PIN try consumed: no VERIFY with data sent for anything but C_Login (emulator
//!   `Stats::verify_with_data`), the card's tries counter unchanged;
//! - after re-insertion (or once the other application is done) the same operation succeeds in
//!   a new session.
//!
//! Run with `--nocapture` for the numbers.

use super::*;
use common::raw::session_state;
use cpscard::crypto::{HashAlg, PublicKey};
use cpscard::token::ParsedCertificate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Enumerate,
    WarmEnumerate,
    Login,
    Sign { key: Key, pss: bool },
    Decrypt,
    ReadPrivate,
}

impl Op {
    /// A newly inserted card read by the module (no session before).
    fn is_enumeration(self) -> bool {
        matches!(self, Op::Enumerate | Op::WarmEnumerate)
    }
}

/// A persistent cache directory of its own for each warm case (removed at the end).
fn warm_cache_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("{}{n}", warm_cache_prefix()))
}

fn warm_cache_prefix() -> String {
    format!("cps-pkcs11-faults-warm-{}-", std::process::id())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Sig,
    Aut,
}

impl Key {
    fn label(self) -> &'static str {
        match self {
            Key::Sig => "CPS_PRIV_SIG",
            Key::Aut => "CPS_PRIV_AUT",
        }
    }
    fn certificate(self) -> &'static str {
        match self {
            Key::Sig => "sign",
            Key::Aut => "auth",
        }
    }
}

fn ops(generation: Generation) -> Vec<Op> {
    let mut ops = vec![Op::Enumerate, Op::WarmEnumerate, Op::Login];
    for key in [Key::Aut, Key::Sig] {
        ops.push(Op::Sign { key, pss: false });
        if generation == Generation::Cps4 {
            ops.push(Op::Sign { key, pss: true });
        }
    }
    ops.extend([Op::Decrypt, Op::ReadPrivate]);
    ops
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Removal,
    Reset,
}

/// The call that failed and what it answered.
type Outcome = Result<(), (&'static str, CK_RV)>;

fn ck(step: &'static str, r: CK_RV) -> Outcome {
    if r == CKR_OK {
        Ok(())
    } else {
        Err((step, r))
    }
}

fn try_find(
    h: CK_SESSION_HANDLE,
    template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)],
) -> Result<Vec<CK_OBJECT_HANDLE>, (&'static str, CK_RV)> {
    let ff = f();
    let mut t: Vec<CK_ATTRIBUTE> = template
        .iter()
        .map(|(k, v)| CK_ATTRIBUTE {
            type_: *k,
            pValue: v.as_ptr() as *mut _,
            ulValueLen: v.len() as CK_ULONG,
        })
        .collect();
    ck("C_FindObjectsInit", unsafe {
        (ff.C_FindObjectsInit.unwrap())(h, t.as_mut_ptr(), t.len() as CK_ULONG)
    })?;
    let mut out = Vec::new();
    loop {
        let mut buf = [0; 8];
        let mut n = 0;
        ck("C_FindObjects", unsafe {
            (ff.C_FindObjects.unwrap())(h, buf.as_mut_ptr(), 8, &mut n)
        })?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    ck("C_FindObjectsFinal", unsafe {
        (ff.C_FindObjectsFinal.unwrap())(h)
    })?;
    Ok(out)
}

fn try_key(h: CK_SESSION_HANDLE, key: Key) -> Result<CK_OBJECT_HANDLE, (&'static str, CK_RV)> {
    let found = try_find(
        h,
        &[
            (CKA_CLASS, ulong(CKO_PRIVATE_KEY)),
            (CKA_LABEL, key.label().as_bytes().to_vec()),
        ],
    )?;
    assert_eq!(found.len(), 1, "{}", key.label());
    Ok(found[0])
}

fn public_key(generation: Generation, key: Key) -> PublicKey {
    let der = common::fixture_certificate(&generation.to_string(), key.certificate());
    ParsedCertificate::parse(&der).unwrap().public_key
}

/// The first enumeration of a card, as a browser does it; `Err` at the first call that fails
/// (a slot listed without its token counts as CKR_TOKEN_NOT_PRESENT from C_GetSlotList).
fn enumerate_rv(slot: CK_SLOT_ID) -> Outcome {
    let ff = f();
    if !slot_list(true).contains(&slot) {
        return Err(("C_GetSlotList (no token listed)", CKR_TOKEN_NOT_PRESENT));
    }
    let mut si = CK_SLOT_INFO::default();
    ck("C_GetSlotInfo", unsafe {
        (ff.C_GetSlotInfo.unwrap())(slot, &mut si)
    })?;
    let mut ti = CK_TOKEN_INFO::default();
    ck("C_GetTokenInfo", unsafe {
        (ff.C_GetTokenInfo.unwrap())(slot, &mut ti)
    })?;
    let mut h = 0;
    ck("C_OpenSession", unsafe {
        (ff.C_OpenSession.unwrap())(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h)
    })?;
    let objects = try_find(h, &[])?;
    assert!(objects.len() >= 4, "{} public objects", objects.len());
    for o in &objects {
        for kind in [CKA_CLASS, CKA_LABEL, CKA_PRIVATE, CKA_TOKEN] {
            attr(h, *o, kind).map_err(|r| ("C_GetAttributeValue", r))?;
        }
        if attr(h, *o, CKA_CLASS).map_err(|r| ("C_GetAttributeValue", r))? == ulong(CKO_CERTIFICATE)
        {
            for kind in [
                CKA_VALUE,
                CKA_ID,
                CKA_SUBJECT,
                CKA_ISSUER,
                CKA_SERIAL_NUMBER,
            ] {
                attr(h, *o, kind).map_err(|r| ("C_GetAttributeValue", r))?;
            }
        }
    }
    ck("C_CloseSession", unsafe { (ff.C_CloseSession.unwrap())(h) })
}

/// Runs `op` in session `h` (logged in, except for the login itself; none for `Enumerate`).
fn run(generation: Generation, slot: CK_SLOT_ID, h: CK_SESSION_HANDLE, op: Op) -> Outcome {
    let ff = f();
    match op {
        Op::Enumerate | Op::WarmEnumerate => enumerate_rv(slot),
        Op::Login => ck("C_Login", login(h, CKU_USER, b"1234")),
        Op::Sign { key, pss } => {
            let k = try_key(h, key)?;
            let msg = b"pulled card matrix";
            let mut params = CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: CKM_SHA256,
                mgf: CKG_MGF1_SHA256,
                sLen: 32,
            };
            let mut m = if pss {
                CK_MECHANISM {
                    mechanism: CKM_SHA256_RSA_PKCS_PSS,
                    pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
                    ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
                }
            } else {
                mech(CKM_SHA256_RSA_PKCS)
            };
            ck("C_SignInit", unsafe {
                (ff.C_SignInit.unwrap())(h, &mut m, k)
            })?;
            let mut sig = vec![0u8; 256];
            let mut n: CK_ULONG = 256;
            let mut d = msg.to_vec();
            ck("C_Sign", unsafe {
                (ff.C_Sign.unwrap())(h, d.as_mut_ptr(), d.len() as _, sig.as_mut_ptr(), &mut n)
            })?;
            sig.truncate(n as usize);
            let public = public_key(generation, key);
            let hash = HashAlg::Sha256.digest(msg);
            let verified = if pss {
                public.verify_pss(&hash, &sig, HashAlg::Sha256, HashAlg::Sha256, Some(32))
            } else {
                public.verify_pkcs1(&HashAlg::Sha256.digest_info(&hash), &sig)
            };
            assert!(
                verified.is_ok(),
                "{generation} {op:?}: the signature verifies"
            );
            Ok(())
        }
        Op::Decrypt => {
            let k = try_key(h, Key::Aut)?;
            let secret = b"matrix secret";
            let mut c = public_key(generation, Key::Aut)
                .encrypt_pkcs1(secret)
                .unwrap();
            let mut m = mech(CKM_RSA_PKCS);
            ck("C_DecryptInit", unsafe {
                (ff.C_DecryptInit.unwrap())(h, &mut m, k)
            })?;
            let mut out = vec![0u8; 256];
            let mut n: CK_ULONG = 256;
            ck("C_Decrypt", unsafe {
                (ff.C_Decrypt.unwrap())(h, c.as_mut_ptr(), c.len() as _, out.as_mut_ptr(), &mut n)
            })?;
            assert_eq!(&out[..n as usize], secret, "{generation}: deciphered");
            Ok(())
        }
        Op::ReadPrivate => {
            let private = try_find(
                h,
                &[(CKA_CLASS, ulong(CKO_DATA)), (CKA_PRIVATE, vec![CK_TRUE])],
            )?;
            assert!(!private.is_empty(), "{generation}: private data objects");
            attr(h, private[0], CKA_VALUE)
                .map(|_| ())
                .map_err(|r| ("C_GetAttributeValue(CKA_VALUE)", r))
        }
    }
}

/// A library over a fresh card, ready for `op`: for an enumeration a card newly inserted (the
/// module read the previous one — for `WarmEnumerate` into its persistent cache —, the card
/// was pulled and put back), otherwise a session (logged in unless `op` is the login).
/// Counters reset.
fn prepare(generation: Generation, op: Op) -> (Env, CK_SESSION_HANDLE) {
    let e = if op == Op::WarmEnumerate {
        let settings = TokenSettings {
            cache: cpscard::token::CacheChoice::Dir(warm_cache_dir()),
            ..TokenSettings::default()
        };
        env_with(generation, settings)
    } else {
        env(generation)
    };
    let h = match op {
        Op::Enumerate | Op::WarmEnumerate => {
            e.card.lock().unwrap().remove();
            assert!(slot_list(true).is_empty());
            e.card.lock().unwrap().reinsert();
            0
        }
        _ => {
            let h = open(e.slot, false);
            if op != Op::Login {
                assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
            }
            h
        }
    };
    e.card.lock().unwrap().reset_stats();
    (e, h)
}

/// Arms `fault` to happen after `k` more APDUs. A reset "after 0" is one by another application
/// before our first APDU: one harmless APDU of its own, after which the card resets.
fn arm(card: &Arc<Mutex<EmulatedCard>>, fault: Fault, k: u64) {
    let k = u32::try_from(k).unwrap();
    match (fault, k) {
        (Fault::Removal, 0) => card.lock().unwrap().remove(),
        (Fault::Removal, k) => card.lock().unwrap().faults_mut().remove_after = Some(k),
        (Fault::Reset, 0) => {
            card.lock().unwrap().faults_mut().reset_after = Some(1);
            let mut other = EmulatedReader::from_shared(card.clone());
            use cpscard::transport::Transport;
            other
                .transaction(&mut |tx| tx.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).map(|_| ()))
                .unwrap();
            card.lock().unwrap().reset_stats();
        }
        (Fault::Reset, k) => card.lock().unwrap().faults_mut().reset_after = Some(k),
    }
}

/// Whether the armed fault happened (it always should: k is below the operation's count).
fn fired(card: &Arc<Mutex<EmulatedCard>>, fault: Fault) -> bool {
    let c = card.lock().unwrap();
    match fault {
        Fault::Removal => !c.is_present(),
        Fault::Reset => c.faults().reset_after.is_none(),
    }
}

#[derive(Default)]
struct Tally {
    cases: u32,
    faults: u32,
    /// What the operations answered, per fault.
    answers: std::collections::BTreeMap<(String, String), u32>,
}

fn rv_name(r: CK_RV) -> &'static str {
    match r {
        CKR_OK => "CKR_OK",
        CKR_DEVICE_REMOVED => "CKR_DEVICE_REMOVED",
        CKR_TOKEN_NOT_PRESENT => "CKR_TOKEN_NOT_PRESENT",
        CKR_SESSION_HANDLE_INVALID => "CKR_SESSION_HANDLE_INVALID",
        CKR_USER_NOT_LOGGED_IN => "CKR_USER_NOT_LOGGED_IN",
        CKR_DEVICE_ERROR => "CKR_DEVICE_ERROR",
        CKR_GENERAL_ERROR => "CKR_GENERAL_ERROR",
        _ => "other",
    }
}

fn one_case(tally: &mut Tally, generation: Generation, op: Op, fault: Fault, k: u64, n: u64) {
    let (e, h) = prepare(generation, op);
    let tries_before = e.card.lock().unwrap().image().counters.pin_tries;
    arm(&e.card, fault, k);
    let r = run(generation, e.slot, h, op);
    let what = format!("{generation} {op:?} {fault:?} after {k} of {n}: {r:?}");
    assert!(fired(&e.card, fault), "the fault happened: {what}");
    tally.cases += 1;
    tally.faults += 1;
    let rv = r.map_or_else(|(_, rv)| rv, |()| CKR_OK);
    *tally
        .answers
        .entry((format!("{fault:?}"), rv_name(rv).to_string()))
        .or_default() += 1;
    match fault {
        Fault::Removal => {
            assert!(
                rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT,
                "removal: {what}"
            );
            if h != 0 {
                let mut info = CK_SESSION_INFO::default();
                let r = unsafe { (f().C_GetSessionInfo.unwrap())(h, &mut info) };
                assert_eq!(r, CKR_SESSION_HANDLE_INVALID, "the session is gone: {what}");
            }
        }
        Fault::Reset => match rv {
            CKR_OK => {}
            CKR_USER_NOT_LOGGED_IN if op != Op::Login && !op.is_enumeration() => {
                assert_eq!(
                    session_state(h),
                    CKS_RO_PUBLIC_SESSION,
                    "logged out by the card's reset: {what}"
                );
            }
            CKR_DEVICE_ERROR if op == Op::Login => {}
            _ => panic!("reset: {what}"),
        },
    }
    {
        let c = e.card.lock().unwrap();
        let sent: u64 = c.stats().verify_with_data.values().sum();
        let allowed = u64::from(op == Op::Login);
        assert!(sent <= allowed, "{sent} VERIFY with a PIN: {what}");
        assert_eq!(
            c.image().counters.pin_tries,
            tries_before,
            "no try consumed: {what}"
        );
    }
    // Re-insertion / the other application is done: the same operation in a new session.
    {
        let mut c = e.card.lock().unwrap();
        c.faults_mut().remove_after = None;
        c.faults_mut().reset_after = None;
        if !c.is_present() {
            c.reinsert();
        }
    }
    let _ = unsafe { (f().C_CloseAllSessions.unwrap())(e.slot) };
    let before = e.apdus();
    assert_eq!(slot_list(true), vec![e.slot], "{what}");
    let h2 = if op.is_enumeration() {
        0
    } else {
        let h2 = open(e.slot, false);
        if op != Op::Login {
            assert_eq!(login(h2, CKU_USER, b"1234"), CKR_OK, "{what}");
        }
        h2
    };
    assert_eq!(
        run(generation, e.slot, h2, op),
        Ok(()),
        "after re-insertion: {what}"
    );
    if op == Op::WarmEnumerate && fault == Fault::Removal {
        // re-inserted: a new token, from the cache again
        let again = e.apdus() - before;
        assert_eq!(again, n, "the cache still recognises the card: {what}");
    }
    assert_eq!(
        e.card.lock().unwrap().image().counters.pin_tries,
        tries_before,
        "{what}"
    );
}

#[test]
fn removal_and_reset_at_every_apdu_of_every_operation() {
    let mut tally = Tally::default();
    let t0 = Instant::now();
    for generation in [Generation::Cps3, Generation::Cps4] {
        for op in ops(generation) {
            let n = {
                let (e, h) = prepare(generation, op);
                assert_eq!(
                    run(generation, e.slot, h, op),
                    Ok(()),
                    "{generation} {op:?}"
                );
                e.apdus()
            };
            println!("{generation} {op:?}: {n} APDUs");
            assert!(n >= 1, "{generation} {op:?} talks to the card");
            for fault in [Fault::Removal, Fault::Reset] {
                for k in 0..n {
                    one_case(&mut tally, generation, op, fault, k, n);
                }
            }
        }
    }
    println!(
        "module pulled card / reset matrix: {} cases, {} faults injected, {:.1} s",
        tally.cases,
        tally.faults,
        t0.elapsed().as_secs_f64()
    );
    for ((fault, rv), count) in &tally.answers {
        println!("  {fault}: {rv} x {count}");
    }
    assert_eq!(tally.cases, tally.faults);
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        let prefix = warm_cache_prefix();
        for d in entries.flatten() {
            if d.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(d.path());
            }
        }
    }
}
