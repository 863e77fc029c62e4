//! Slot events from PC/SC (the built module over pcscd + vpcd, objects.md §1, DESIGN §4): a card
//! appearing in and leaving a vpcd reader wakes a blocked `C_WaitForSlotEvent`, `CKF_DONT_BLOCK`
//! answers at once, `C_Finalize` cancels a blocked wait (SCardCancel). The card is
//! `cps-tool emulate --vpcd`, started and stopped by the test.
//!
//! Needs a running pcscd with vpcd: run by `tests/e2e/pkcs11_events.sh` (`--ignored`), which
//! starts a private one and exports `PCSCLITE_CSOCK_NAME`, `CPSCARD_VPCD_ADDR` and `CPS_TOOL`.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use common::{serial, text, Module};
use cryptoki_sys::*;

const READER: &str = "Virtual PCD 00 00";

fn emulator(generation: &str, image: &std::path::Path) -> Child {
    let tool = std::env::var("CPS_TOOL").expect("CPS_TOOL (set by tests/e2e/pkcs11_events.sh)");
    let addr = std::env::var("CPSCARD_VPCD_ADDR").expect("CPSCARD_VPCD_ADDR");
    Command::new(tool)
        .args(["emulate", "--card", generation, "--image"])
        .arg(image)
        .args(["--vpcd", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cps-tool emulate starts")
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
}

fn slots(m: &Module, present: bool) -> Vec<CK_SLOT_ID> {
    common::slot_ids(m.f, present)
}

fn slot_named(m: &Module, name: &str) -> CK_SLOT_ID {
    for id in slots(m, false) {
        let mut si = CK_SLOT_INFO::default();
        assert_eq!(unsafe { (m.f.C_GetSlotInfo.unwrap())(id, &mut si) }, CKR_OK);
        if text(&si.slotDescription) == name {
            return id;
        }
    }
    panic!("no slot {name}");
}

/// A blocking `C_WaitForSlotEvent` until an event on `slot` (others are skipped), with a limit.
fn wait_for(m: &Module, slot: CK_SLOT_ID, limit: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let mut s: CK_SLOT_ID = 0;
        let r = unsafe { (m.f.C_WaitForSlotEvent.unwrap())(0, &mut s, null_mut()) };
        assert_eq!(r, CKR_OK, "{}", common::rv(r));
        if s == slot {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < limit,
            "no event on slot {slot} within {limit:?}"
        );
    }
}

fn drain(m: &Module) {
    let mut s: CK_SLOT_ID = 0;
    while unsafe { (m.f.C_WaitForSlotEvent.unwrap())(CKF_DONT_BLOCK, &mut s, null_mut()) } == CKR_OK
    {
    }
}

fn token_label(m: &Module, slot: CK_SLOT_ID) -> Result<String, CK_RV> {
    let mut ti = CK_TOKEN_INFO::default();
    match unsafe { (m.f.C_GetTokenInfo.unwrap())(slot, &mut ti) } {
        CKR_OK => Ok(text(&ti.label)),
        r => Err(r),
    }
}

#[test]
#[ignore = "needs pcscd + vpcd: tests/e2e/pkcs11_events.sh"]
fn cards_coming_and_going_in_a_pcsc_reader_are_slot_events() {
    let m = Module::load();
    let _g = serial(&m);
    std::env::set_var("CPSCARD_PCSC", "1");
    let dir = std::env::temp_dir().join(format!("cps-pkcs11-pcsc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(m.initialize(), CKR_OK);
    let slot = slot_named(&m, READER);
    assert!(slots(&m, true).is_empty(), "no card yet");
    assert_eq!(token_label(&m, slot), Err(CKR_TOKEN_NOT_PRESENT));
    drain(&m);
    let mut s: CK_SLOT_ID = 0;
    assert_eq!(
        unsafe { (m.f.C_WaitForSlotEvent.unwrap())(CKF_DONT_BLOCK, &mut s, null_mut()) },
        CKR_NO_EVENT
    );

    for (generation, label) in [("cps3", "CPS3v3-12345678"), ("cps4", "CPS4-12345678")] {
        let card = emulator(generation, &dir.join(format!("{generation}.json")));
        let took = wait_for(&m, slot, Duration::from_secs(20));
        println!("{generation}: insertion seen after {took:?}");
        assert_eq!(token_label(&m, slot).as_deref(), Ok(label));
        assert_eq!(slots(&m, true), vec![slot]);
        let mut h = 0;
        assert_eq!(
            unsafe {
                (m.f.C_OpenSession.unwrap())(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h)
            },
            CKR_OK
        );
        let mut pin = *b"1234";
        assert_eq!(
            unsafe { (m.f.C_Login.unwrap())(h, CKU_USER, pin.as_mut_ptr(), 4) },
            CKR_OK
        );
        drain(&m);
        stop(card);
        let took = wait_for(&m, slot, Duration::from_secs(20));
        println!("{generation}: removal seen after {took:?}");
        assert!(slots(&m, true).is_empty());
        let mut info = CK_SESSION_INFO::default();
        let r = unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut info) };
        assert!(
            r == CKR_SESSION_HANDLE_INVALID || r == CKR_DEVICE_REMOVED,
            "{}",
            common::rv(r)
        );
        drain(&m);
    }

    // C_Finalize cancels a blocked wait at once (SCardCancel on the waiting context).
    let m2 = Module::load();
    let waiter = std::thread::spawn(move || {
        let mut s: CK_SLOT_ID = 0;
        unsafe { (m2.f.C_WaitForSlotEvent.unwrap())(0, &mut s, null_mut()) }
    });
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    assert_eq!(m.finalize(), CKR_OK);
    assert_eq!(waiter.join().unwrap(), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}
