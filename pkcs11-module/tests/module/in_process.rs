//! The module in-process over an emulated card the test holds (`EmulatedSource` registered with
//! `set_slot_sources`), so that the card's APDU counter and state can be read (DESIGN §4, §8):
//! what each operation costs, that repeated enumeration costs nothing, that a length query
//! never signs, that logout resets the card, removal and re-insertion, slot events, and the
//! protected authentication path through a pinentry program; and (module `faults`) the pulled
//! card / reset matrix.

#![cfg(feature = "emulator")]

/// The pulled card / reset matrix through the C ABI (issue 6 item 1).
mod faults;

use crate::common;

use std::ptr::null_mut;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::raw::{attr, enumerate, f, find, key, login, mech, open, slot_list, ulong};
use cps_pkcs11::emulated::EmulatedSource;
use cps_pkcs11::token_adapter::TokenSettings;
use cps_pkcs11::SlotSource;
use cpscard::card::PinKind;
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Interface};
use cpscard::token::{Token, TokenOptions};
use cryptoki_sys::*;

/// An initialized library over an emulated card of `generation`; finalized when dropped.
struct Env {
    card: Arc<Mutex<EmulatedCard>>,
    slot: CK_SLOT_ID,
    _g: MutexGuard<'static, ()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        unsafe { (f().C_Finalize.unwrap())(null_mut()) };
        cps_pkcs11::clear_slot_sources();
    }
}

fn env_with(generation: Generation, settings: TokenSettings) -> Env {
    env_on(generation, None, settings)
}

fn env_on(generation: Generation, interface: Option<Interface>, settings: TokenSettings) -> Env {
    let g = common::lock();
    unsafe { (f().C_Finalize.unwrap())(null_mut()) };
    let mut card = EmulatedCard::builtin(generation, "cps").unwrap();
    if let Some(i) = interface {
        card.set_interface(i).unwrap();
    }
    let source = Arc::new(EmulatedSource::with_settings(card, settings));
    let handle = source.card();
    cps_pkcs11::set_slot_sources(move || Ok(vec![source.clone() as Arc<dyn SlotSource>]));
    handle.lock().unwrap().reset_stats();
    assert_eq!(unsafe { (f().C_Initialize.unwrap())(null_mut()) }, CKR_OK);
    let slots = slot_list(true);
    assert_eq!(slots.len(), 1);
    Env {
        card: handle,
        slot: slots[0],
        _g: g,
    }
}

fn env(generation: Generation) -> Env {
    env_with(generation, TokenSettings::default())
}

impl Env {
    fn apdus(&self) -> u64 {
        self.card.lock().unwrap().stats().apdus
    }
    fn rsa_ops(&self) -> u64 {
        self.card.lock().unwrap().stats().rsa_ops
    }
    /// APDUs `op` costs.
    fn cost(&self, op: impl FnOnce()) -> u64 {
        let before = self.apdus();
        op();
        self.apdus() - before
    }
}

fn sign(
    h: CK_SESSION_HANDLE,
    key: CK_OBJECT_HANDLE,
    kind: CK_MECHANISM_TYPE,
    data: &[u8],
) -> Vec<u8> {
    let ff = f();
    let mut m = mech(kind);
    assert_eq!(unsafe { (ff.C_SignInit.unwrap())(h, &mut m, key) }, CKR_OK);
    let mut sig = vec![0u8; 256];
    let mut n: CK_ULONG = 256;
    let mut d = data.to_vec();
    let r =
        unsafe { (ff.C_Sign.unwrap())(h, d.as_mut_ptr(), d.len() as _, sig.as_mut_ptr(), &mut n) };
    assert_eq!(r, CKR_OK, "{}", common::rv(r));
    sig.truncate(n as usize);
    sig
}

/// The PIN state as the card says it, through a second, independent token on the same card.
fn card_pin_verified(card: &Arc<Mutex<EmulatedCard>>) -> bool {
    let reader = EmulatedReader::from_shared(card.clone());
    let mut t = Token::open(Box::new(reader), TokenOptions::default()).unwrap();
    t.refresh_pin_status(PinKind::User).unwrap().is_verified()
}

#[test]
fn apdu_counts_enumeration_login_signature() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let e = env(generation);
        // C_Initialize and C_GetSlotList(true) above opened the token (no persistent cache here).
        let open = e.apdus();
        let first = e.cost(|| {
            enumerate(e.slot);
        });
        let repeated = e.cost(|| {
            enumerate(e.slot);
        });
        assert_eq!(
            repeated, 0,
            "{generation}: repeated enumeration costs no APDU"
        );
        let h = open_session_rw(e.slot);
        let login_cost = e.cost(|| assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK));
        assert!(login_cost >= 1, "{generation}: a VERIFY at least");
        let verify_with_pin = e.card.lock().unwrap().stats().verify_with_data.clone();
        let sig_key = key(h, "CPS_PRIV_SIG");
        let aut_key = key(h, "CPS_PRIV_AUT");
        let sig_cost = e.cost(|| {
            sign(h, sig_key, CKM_SHA256_RSA_PKCS, b"hello");
        });
        let aut_cost = e.cost(|| {
            sign(
                h,
                aut_key,
                CKM_RSA_PKCS,
                &cpscard::crypto::HashAlg::Sha256.digest_info(&[7; 32]),
            );
        });
        assert_eq!(
            e.card.lock().unwrap().stats().verify_with_data,
            verify_with_pin,
            "{generation}: signing never presents the PIN again"
        );
        // Enumeration after login: the private objects were listed from memory.
        let after_login = e.cost(|| {
            find(h, &[]);
        });
        assert_eq!(
            after_login, 0,
            "{generation}: objects after login without APDU"
        );
        println!(
            "{generation}: open {open} + first enumeration {first} APDUs, repeated {repeated}, \
             login {login_cost}, signature SIG (SHA256-RSA-PKCS) {sig_cost}, AUT (RSA-PKCS) {aut_cost}"
        );
        assert!(
            sig_cost <= 8 && aut_cost <= 8,
            "{generation}: {sig_cost} {aut_cost}"
        );
    }
}

fn open_session_rw(slot: CK_SLOT_ID) -> CK_SESSION_HANDLE {
    open(slot, true)
}

#[test]
fn polling_after_the_pin_cache_expired_still_costs_nothing_but_token_info() {
    let e = env(Generation::Cps3);
    enumerate(e.slot);
    std::thread::sleep(Duration::from_millis(2200));
    let h = open(e.slot, false);
    let cost = e.cost(|| {
        assert_eq!(slot_list(true), vec![e.slot]);
        let mut si = CK_SLOT_INFO::default();
        assert_eq!(
            unsafe { (f().C_GetSlotInfo.unwrap())(e.slot, &mut si) },
            CKR_OK
        );
        for o in find(h, &[]) {
            attr(h, o, CKA_LABEL).unwrap();
        }
    });
    assert_eq!(cost, 0);
    // The tries counter is read again after a while (objects.md §2): PIN and PUK.
    let cost = e.cost(|| {
        let mut ti = CK_TOKEN_INFO::default();
        assert_eq!(
            unsafe { (f().C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
            CKR_OK
        );
    });
    assert!((1..=8).contains(&cost), "{cost}");
}

#[test]
fn a_length_query_never_signs() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let e = env(generation);
        let h = open(e.slot, false);
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        let k = key(h, "CPS_PRIV_AUT");
        let ff = f();
        let mut m = mech(CKM_SHA256_RSA_PKCS);
        let before = (e.apdus(), e.rsa_ops());
        assert_eq!(unsafe { (ff.C_SignInit.unwrap())(h, &mut m, k) }, CKR_OK);
        let mut data = *b"data";
        let mut n: CK_ULONG = 0;
        for _ in 0..3 {
            assert_eq!(
                unsafe { (ff.C_Sign.unwrap())(h, data.as_mut_ptr(), 4, null_mut(), &mut n) },
                CKR_OK
            );
        }
        assert_eq!(n, 256);
        let mut small = [0u8; 10];
        let mut n: CK_ULONG = 10;
        assert_eq!(
            unsafe { (ff.C_Sign.unwrap())(h, data.as_mut_ptr(), 4, small.as_mut_ptr(), &mut n) },
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(
            (e.apdus(), e.rsa_ops()),
            before,
            "{generation}: C_SignInit and length queries send nothing"
        );
        let mut sig = [0u8; 256];
        let mut n: CK_ULONG = 256;
        assert_eq!(
            unsafe { (ff.C_Sign.unwrap())(h, data.as_mut_ptr(), 4, sig.as_mut_ptr(), &mut n) },
            CKR_OK
        );
        assert_eq!(e.rsa_ops(), before.1 + 1, "{generation}: one RSA operation");
    }
}

#[test]
fn logout_and_the_last_session_reset_the_card() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let e = env(generation);
        let ff = f();
        let h = open(e.slot, false);
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        assert!(
            card_pin_verified(&e.card),
            "{generation}: verified after C_Login"
        );
        assert_eq!(unsafe { (ff.C_Logout.unwrap())(h) }, CKR_OK);
        assert!(
            !card_pin_verified(&e.card),
            "{generation}: C_Logout resets the card"
        );

        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        let h2 = open(e.slot, false);
        assert_eq!(unsafe { (ff.C_CloseSession.unwrap())(h) }, CKR_OK);
        assert!(
            card_pin_verified(&e.card),
            "{generation}: another session still open"
        );
        assert_eq!(unsafe { (ff.C_CloseSession.unwrap())(h2) }, CKR_OK);
        assert!(
            !card_pin_verified(&e.card),
            "{generation}: the last C_CloseSession resets the card"
        );

        let h = open(e.slot, false);
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        assert_eq!(unsafe { (ff.C_CloseAllSessions.unwrap())(e.slot) }, CKR_OK);
        assert!(
            !card_pin_verified(&e.card),
            "{generation}: C_CloseAllSessions"
        );

        let h = open(e.slot, false);
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        assert_eq!(unsafe { (ff.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
        assert!(!card_pin_verified(&e.card), "{generation}: C_Finalize");
    }
}

#[test]
fn a_pin_left_verified_by_another_process_is_reset_when_the_module_opens_the_card() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let e = env(generation);
        // A new card for the module to open, then "another process" verifies the PIN and goes
        // away without logging out (killed): the card stays verified.
        e.card.lock().unwrap().remove();
        assert!(slot_list(true).is_empty());
        e.card.lock().unwrap().reinsert();
        let reader = EmulatedReader::from_shared(e.card.clone());
        let mut other = Token::open(Box::new(reader), TokenOptions::default()).unwrap();
        other
            .login(cpscard::sign::PinSource::given("1234").unwrap())
            .unwrap();
        drop(other);
        assert!(card_pin_verified(&e.card), "{generation}: left verified");
        let verifies = e.card.lock().unwrap().stats().verify_with_data.clone();
        let cost = e.cost(|| assert_eq!(slot_list(true), vec![e.slot]));
        assert!(
            !card_pin_verified(&e.card),
            "{generation}: the module's open reset the card's security state"
        );
        println!("{generation}: open of a card left verified: {cost} APDUs");
        // Nothing private without a login, and the login works as usual.
        let h = open(e.slot, false);
        assert!(find(h, &[(CKA_PRIVATE, vec![CK_TRUE])]).is_empty());
        assert_eq!(
            e.card.lock().unwrap().stats().verify_with_data,
            verifies,
            "{generation}: no VERIFY on the user's behalf"
        );
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        let k = key(h, "CPS_PRIV_SIG");
        sign(h, k, CKM_SHA256_RSA_PKCS, b"after a login of our own");
    }
}

#[test]
fn removal_and_reinsertion_rebuild_the_token_and_raise_events() {
    let e = env(Generation::Cps4);
    let ff = f();
    let wait = ff.C_WaitForSlotEvent.unwrap();
    let mut slot: CK_SLOT_ID = 99;
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_NO_EVENT,
        "nothing happened yet"
    );
    enumerate(e.slot);
    let h = open(e.slot, false);
    e.card.lock().unwrap().remove();
    assert_eq!(
        e.cost(|| assert!(slot_list(true).is_empty())),
        0,
        "presence costs no APDU"
    );
    let mut si = CK_SLOT_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(e.slot, &mut si) },
        CKR_OK
    );
    assert_eq!(si.flags & CKF_TOKEN_PRESENT, 0);
    let mut info = CK_SESSION_INFO::default();
    let r = unsafe { (ff.C_GetSessionInfo.unwrap())(h, &mut info) };
    assert!(
        r == CKR_SESSION_HANDLE_INVALID || r == CKR_DEVICE_REMOVED,
        "{}",
        common::rv(r)
    );
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_OK
    );
    assert_eq!(slot, e.slot);
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_NO_EVENT
    );
    // Re-inserted: a new token, read from the card again (the object cache went with the old).
    e.card.lock().unwrap().reinsert();
    let reread = e.cost(|| assert_eq!(slot_list(true), vec![e.slot]));
    assert!(reread > 0, "the new card is read");
    assert_eq!(
        unsafe { wait(CKF_DONT_BLOCK, &mut slot, null_mut()) },
        CKR_OK
    );
    assert_eq!(
        enumerate(e.slot),
        16,
        "CPS4: 2 certificates, 2 public keys, 12 public data objects"
    );

    // A blocking wait returns when the card goes.
    let card = e.card.clone();
    let remover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        card.lock().unwrap().remove();
    });
    let t0 = Instant::now();
    let mut slot: CK_SLOT_ID = 99;
    assert_eq!(unsafe { wait(0, &mut slot, null_mut()) }, CKR_OK);
    assert_eq!(slot, e.slot);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    remover.join().unwrap();

    // C_Finalize ends a blocked wait.
    let waiter = std::thread::spawn(move || {
        let mut slot: CK_SLOT_ID = 0;
        unsafe { (f().C_WaitForSlotEvent.unwrap())(0, &mut slot, null_mut()) }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    assert_eq!(unsafe { (ff.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
    assert_eq!(waiter.join().unwrap(), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

/// A pinentry program speaking just enough Assuan: greets, acknowledges every setting, answers
/// GETPIN with `pin`, and records that it was asked.
fn scripted_pinentry(dir: &std::path::Path, pin: &str) -> std::path::PathBuf {
    let script = dir.join("pinentry.sh");
    let asked = dir.join("asked");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho 'OK ready'\nwhile read -r cmd rest; do\n  case \"$cmd\" in\n    \
             GETPIN) echo \"$rest\" >> '{}'; echo 'D {pin}'; echo OK ;;\n    \
             BYE) echo OK; exit 0 ;;\n    *) echo OK ;;\n  esac\ndone\n",
            asked.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn a_null_pin_asks_the_pinentry_program() {
    let dir = std::env::temp_dir().join(format!("cps-pkcs11-pinentry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let program = scripted_pinentry(&dir, "1234");
    let e = env_with(
        Generation::Cps3,
        TokenSettings {
            pinentry: Some(program),
            ..TokenSettings::default()
        },
    );
    let ff = f();
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_OK
    );
    assert_ne!(
        ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH,
        0,
        "Firefox must not ask for the PIN itself"
    );
    let h = open(e.slot, false);
    let r = unsafe { (ff.C_Login.unwrap())(h, CKU_USER, null_mut(), 0) };
    assert_eq!(r, CKR_OK, "{}", common::rv(r));
    assert!(dir.join("asked").exists(), "the pinentry program was asked");
    let k = key(h, "CPS_PRIV_SIG");
    sign(h, k, CKM_SHA256_RSA_PKCS, b"signed after a pinentry login");
    // A PIN given by the application is still taken as is.
    assert_eq!(unsafe { (ff.C_Logout.unwrap())(h) }, CKR_OK);
    assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
    drop(e);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_pin_from_the_pinentry_costs_one_try_only() {
    let dir = std::env::temp_dir().join(format!("cps-pkcs11-pinentry2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let program = scripted_pinentry(&dir, "0000");
    let e = env_with(
        Generation::Cps4,
        TokenSettings {
            pinentry: Some(program),
            ..TokenSettings::default()
        },
    );
    let h = open(e.slot, false);
    let before = e.card.lock().unwrap().stats().verify_with_data.clone();
    let r = unsafe { (f().C_Login.unwrap())(h, CKU_USER, null_mut(), 0) };
    assert_eq!(r, CKR_PIN_INCORRECT);
    let after = e.card.lock().unwrap().stats().verify_with_data.clone();
    let spent: u64 = after.values().sum::<u64>() - before.values().sum::<u64>();
    assert_eq!(spent, 1, "never retried on the user's behalf");
    drop(e);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_persistent_cache_makes_the_next_open_cheap() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let dir = std::env::temp_dir().join(format!(
            "cps-pkcs11-cache-{generation}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let e = env_with(
            generation,
            TokenSettings {
                cache: cpscard::token::CacheChoice::Dir(dir.clone()),
                ..TokenSettings::default()
            },
        );
        let cold = e.apdus();
        let ff = f();
        assert_eq!(unsafe { (ff.C_Finalize.unwrap())(null_mut()) }, CKR_OK);
        let warm = e.cost(|| {
            assert_eq!(unsafe { (ff.C_Initialize.unwrap())(null_mut()) }, CKR_OK);
            assert_eq!(slot_list(true), vec![e.slot]);
        });
        assert!(warm < cold, "{generation}: cold {cold}, warm {warm}");
        // The objects are the same, from the cache.
        let h = open(e.slot, false);
        let certs = find(h, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))]);
        assert_eq!(certs.len(), 2);
        println!("{generation}: token open cold {cold} APDUs, warm (cache) {warm}");
        drop(e);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_reset_by_another_application_logs_the_user_out() {
    for generation in [Generation::Cps3, Generation::Cps4] {
        let e = env(generation);
        let h = open(e.slot, false);
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        let k = key(h, "CPS_PRIV_SIG");
        sign(h, k, CKM_SHA256_RSA_PKCS, b"before");
        // Another application resets the card: the PIN verification is gone.
        e.card.lock().unwrap().faults_mut().reset_after = Some(0);
        let ff = f();
        let mut m = mech(CKM_SHA256_RSA_PKCS);
        let mut r = CKR_OK;
        for _ in 0..2 {
            r = unsafe { (ff.C_SignInit.unwrap())(h, &mut m, k) };
            if r != CKR_OK {
                break;
            }
            let mut data = *b"after";
            let mut sig = [0u8; 256];
            let mut n: CK_ULONG = 256;
            r = unsafe { (ff.C_Sign.unwrap())(h, data.as_mut_ptr(), 5, sig.as_mut_ptr(), &mut n) };
            if r == CKR_USER_NOT_LOGGED_IN {
                break;
            }
        }
        println!("{generation}: signing after the reset: {}", common::rv(r));
        assert!(
            r == CKR_USER_NOT_LOGGED_IN || r == CKR_KEY_HANDLE_INVALID,
            "{generation}: {}",
            common::rv(r)
        );
        let mut info = CK_SESSION_INFO::default();
        assert_eq!(
            unsafe { (ff.C_GetSessionInfo.unwrap())(h, &mut info) },
            CKR_OK
        );
        assert_eq!(
            info.state, CKS_RO_PUBLIC_SESSION,
            "{generation}: logged out"
        );
        // Logging in again works (not CKR_USER_ALREADY_LOGGED_IN), and so does signing.
        assert_eq!(login(h, CKU_USER, b"1234"), CKR_OK);
        let k = key(h, "CPS_PRIV_SIG");
        sign(h, k, CKM_SHA256_RSA_PKCS, b"after a new login");
    }
}

/// A reader holding a card that is not a CPS card (a bank card's ATR): it counts what it gets.
struct ForeignCard {
    sent: Arc<Mutex<u32>>,
    link: cpscard::transport::CardLink,
}

impl ForeignCard {
    fn new(sent: Arc<Mutex<u32>>) -> Self {
        let link = cpscard::transport::CardLink {
            reader: "Foreign card reader".into(),
            atr: vec![
                0x3B, 0x6E, 0x00, 0x00, 0x80, 0x31, 0x80, 0x66, 0xB0, 0x84, 0x0C, 0x01, 0x6E, 0x01,
                0x83, 0x00, 0x90, 0x00,
            ],
            protocol: cpscard::transport::Protocol::T0,
        };
        ForeignCard { sent, link }
    }
}

impl cpscard::transport::Transmit for ForeignCard {
    fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, cpscard::transport::TransportError> {
        *self.sent.lock().unwrap() += 1;
        Ok(vec![0x6D, 0x00])
    }
}

cpscard::bare_card_transport!(ForeignCard, link);

struct ForeignSource(Arc<Mutex<u32>>);

impl SlotSource for ForeignSource {
    fn reader_names(&self) -> cps_pkcs11::error::Result<Vec<String>> {
        Ok(vec!["Foreign card reader".into()])
    }
    fn open(&self, _name: &str) -> cps_pkcs11::error::Result<Box<dyn cps_pkcs11::SlotDevice>> {
        Ok(Box::new(ForeignSlot(self.0.clone())))
    }
}

struct ForeignSlot(Arc<Mutex<u32>>);

impl cps_pkcs11::SlotDevice for ForeignSlot {
    fn description(&self) -> cps_pkcs11::backend::SlotDescription {
        cps_pkcs11::backend::SlotDescription::reader("Foreign card reader")
    }
    fn card_state(&mut self) -> cps_pkcs11::error::Result<cps_pkcs11::backend::CardState> {
        Ok(cps_pkcs11::backend::CardState::Present { insertion: 1 })
    }
    fn token(&mut self) -> cps_pkcs11::error::Result<Box<dyn cps_pkcs11::TokenBackend>> {
        cps_pkcs11::token_adapter::open_token(
            Box::new(ForeignCard::new(self.0.clone())),
            &TokenSettings::default(),
        )
    }
}

#[test]
fn a_card_that_is_not_a_cps_card_is_no_token() {
    let _g = common::lock();
    let ff = f();
    unsafe { (ff.C_Finalize.unwrap())(null_mut()) };
    let apdus = Arc::new(Mutex::new(0u32));
    let a = apdus.clone();
    cps_pkcs11::set_slot_sources(move || {
        Ok(vec![
            Arc::new(ForeignSource(a.clone())) as Arc<dyn SlotSource>
        ])
    });
    assert_eq!(unsafe { (ff.C_Initialize.unwrap())(null_mut()) }, CKR_OK);
    assert!(slot_list(true).is_empty());
    let all = slot_list(false);
    assert_eq!(all.len(), 1);
    let mut si = CK_SLOT_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetSlotInfo.unwrap())(all[0], &mut si) },
        CKR_OK
    );
    assert_eq!(si.flags & CKF_TOKEN_PRESENT, 0);
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(all[0], &mut ti) },
        CKR_TOKEN_NOT_RECOGNIZED
    );
    let mut h = 0;
    assert_eq!(
        unsafe {
            (ff.C_OpenSession.unwrap())(all[0], CKF_SERIAL_SESSION, null_mut(), None, &mut h)
        },
        CKR_TOKEN_NOT_RECOGNIZED
    );
    assert_eq!(
        *apdus.lock().unwrap(),
        0,
        "an unknown ATR gets no APDU (objects.md §1)"
    );
    unsafe { (ff.C_Finalize.unwrap())(null_mut()) };
    cps_pkcs11::clear_slot_sources();
}

#[test]
fn the_cps3_contactless_interface_has_the_technical_key_and_no_pin() {
    let e = env_on(
        Generation::Cps3,
        Some(Interface::Cps3Contactless),
        TokenSettings::default(),
    );
    let ff = f();
    let mut ti = CK_TOKEN_INFO::default();
    assert_eq!(
        unsafe { (ff.C_GetTokenInfo.unwrap())(e.slot, &mut ti) },
        CKR_OK
    );
    assert_eq!(
        ti.flags & (CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED),
        0
    );
    assert_ne!(ti.flags & CKF_TOKEN_INITIALIZED, 0);
    let h = open(e.slot, false);
    // objects.md §3: CPS_PRIV_TECH_AUT, not private (CL-test), and "Certificat Technique CPS".
    let k = key(h, "CPS_PRIV_TECH_AUT");
    let certs = find(h, &[(CKA_CLASS, ulong(CKO_CERTIFICATE))]);
    assert_eq!(certs.len(), 1);
    assert_eq!(
        attr(h, certs[0], CKA_LABEL).unwrap(),
        b"Certificat Technique CPS"
    );
    assert_eq!(
        attr(h, k, CKA_ID).unwrap(),
        hex::decode("e828bd080f8025000001ff001003").unwrap()
    );
    // objects.md §6: contactless = CKM_RSA_PKCS, without any PIN.
    let di = cpscard::crypto::HashAlg::Sha256.digest_info(&[9; 32]);
    sign(h, k, CKM_RSA_PKCS, &di);
    assert_eq!(login(h, CKU_USER, b"1234"), CKR_USER_PIN_NOT_INITIALIZED);
}
