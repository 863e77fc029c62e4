//! The PC/SC transport against the real stack: pcscd + vpcd + the vpcd bridge serving a toy
//! card. Run by `tests/e2e/pcsc_transport.sh` (it starts a private pcscd and exports
//! `PCSCLITE_CSOCK_NAME` and `CPSCARD_VPCD_ADDR`); ignored by a plain `cargo test`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use cpscard::emulator::vpcd::{serve, VpcdOptions};
use cpscard::emulator::VirtualCard;
use cpscard::transport::pcsc::{apply_events, CardPresence, PcscContext, ReaderEvent, ReaderInfo};
use cpscard::transport::{with_transaction, Protocol, Transmit, Transport, TransportError};

const READER: &str = "Virtual PCD 00 00";
/// T=0 only ATR (TS 3B, T0 = 02: no interface bytes, 2 historical bytes).
const ATR: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];

/// Answers `INS 90 00` to everything, nothing to INS `EE`, and logs power events.
struct Toy {
    log: Arc<Mutex<Vec<String>>>,
}

impl VirtualCard for Toy {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }
    fn protocol(&self) -> Protocol {
        Protocol::T0
    }
    fn power_on(&mut self) {
        self.log.lock().unwrap().push("on".into());
    }
    fn power_off(&mut self) {
        self.log.lock().unwrap().push("off".into());
    }
    fn reset(&mut self) {
        self.log.lock().unwrap().push("reset".into());
    }
    fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.log
            .lock()
            .unwrap()
            .push(format!("apdu {}", hex::encode_upper(apdu)));
        match apdu.get(1) {
            Some(0xEE) => Vec::new(),
            Some(ins) => vec![*ins, 0x90, 0x00],
            None => vec![0x67, 0x00],
        }
    }
}

struct Bridge {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    log: Arc<Mutex<Vec<String>>>,
}

fn start_bridge() -> Bridge {
    let addr =
        std::env::var("CPSCARD_VPCD_ADDR").expect("CPSCARD_VPCD_ADDR (set by the e2e script)");
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut card = Toy { log: log.clone() };
    let s = stop.clone();
    let thread = thread::spawn(move || {
        let opts = VpcdOptions {
            addr,
            ..VpcdOptions::default()
        };
        serve(&mut card, &opts, &s).unwrap();
    });
    Bridge { stop, thread, log }
}

impl Bridge {
    fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
        let log = self.log.lock().unwrap().clone();
        log
    }
}

fn reader(ctx: &PcscContext) -> ReaderInfo {
    ctx.readers()
        .unwrap()
        .into_iter()
        .find(|r| r.name == READER)
        .expect("the vpcd reader is listed")
}

/// Waits (≤ 5 s) for an event on READER matching `want`; `known` follows the events.
fn wait_event(ctx: &PcscContext, known: &mut Vec<ReaderInfo>, want: fn(&ReaderEvent) -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let events = ctx
            .wait_for_change(known, Some(Duration::from_secs(1)))
            .unwrap();
        println!("events: {events:?}");
        apply_events(known, &events);
        if events.iter().any(|e| e.reader_name() == READER && want(e)) {
            return;
        }
    }
    panic!("no expected event within 5 s");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by tests/e2e/pcsc_transport.sh"]
fn pcsc_transport_through_pcscd_and_vpcd() {
    let ctx = PcscContext::establish().expect("pcscd is running");
    let mut known = ctx.readers().unwrap();
    assert_eq!(
        reader(&ctx).card,
        CardPresence::Empty,
        "no card before the bridge"
    );
    assert_eq!(
        ctx.connect(READER).err(),
        Some(TransportError::NoCard),
        "connect to an empty reader"
    );
    assert!(matches!(
        ctx.connect("No Such Reader 00 00").err(),
        Some(TransportError::ReaderNotFound(_))
    ));

    // Insertion is an event; the reader then shows the ATR.
    let bridge = start_bridge();
    wait_event(
        &ctx,
        &mut known,
        |e| matches!(e, ReaderEvent::CardInserted(r) if r.atr == ATR),
    );
    assert_eq!(reader(&ctx).atr, ATR);

    let mut t = ctx.connect(READER).unwrap();
    assert_eq!(t.reader_name(), READER);
    assert_eq!(t.atr(), ATR);
    assert_eq!(t.protocol(), Protocol::T0);
    assert_eq!(t.pinpad(), None, "vpcd has no pinpad");
    assert_eq!(
        t.transmit(&[0x00, 0xA4, 0x04, 0x00]).unwrap(),
        [0xA4, 0x90, 0x00]
    );

    // Two APDUs in one transaction.
    let answers: Vec<Vec<u8>> = with_transaction(&mut t, |tx: &mut dyn Transmit| {
        Ok::<_, TransportError>(vec![
            tx.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x10])?,
            tx.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08])?,
        ])
    })
    .unwrap();
    assert_eq!(answers, [vec![0xB0, 0x90, 0x00], vec![0x84, 0x90, 0x00]]);

    // No 44 ms Nagle/delayed-ACK stall per APDU (TCP_NODELAY, one write, TCP_QUICKACK).
    let n = 100;
    let t0 = Instant::now();
    for _ in 0..n {
        assert_eq!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x01]).unwrap(),
            [0xB0, 0x90, 0x00]
        );
    }
    let per_apdu = t0.elapsed() / n;
    println!("round trip through pcscd + vpcd: {per_apdu:?} per APDU");
    assert!(
        per_apdu < Duration::from_millis(15),
        "{per_apdu:?} per APDU"
    );

    // A card that answers nothing: the bridge says 6F 00 (vpcd hangs on an empty frame).
    assert_eq!(t.transmit(&[0x00, 0xEE, 0x00, 0x00]).unwrap(), [0x6F, 0x00]);

    // Another application resets the card: we are told, then reconnect without resetting.
    let other = PcscContext::establish().unwrap().connect(READER).unwrap();
    other.disconnect(true).unwrap();
    assert_eq!(
        t.transmit(&[0x00, 0xCA, 0x00, 0x00, 0x00]).err(),
        Some(TransportError::CardReset)
    );
    t.reconnect(false).unwrap();
    assert_eq!(t.atr(), ATR);
    assert_eq!(
        t.transmit(&[0x00, 0xCA, 0x00, 0x00, 0x00]).unwrap(),
        [0xCA, 0x90, 0x00]
    );
    // Our own reset.
    t.reconnect(true).unwrap();
    assert_eq!(
        t.transmit(&[0x00, 0x20, 0x00, 0x01]).unwrap(),
        [0x20, 0x90, 0x00]
    );

    // The emulator stops: a removal event, and the open handle reports it.
    let log = bridge.stop();
    println!("card log: {log:?}");
    assert!(
        log.iter().filter(|l| *l == "reset").count() >= 2,
        "both resets reached the card: {log:?}"
    );
    // A transmit at once, before pcscd's next look at the reader (it polls vpcd every 400 ms):
    // vpcd fails it (SCARD_E_NOT_TRANSACTED, or an empty answer); the transport then asks
    // SCardStatus until pcscd has seen the card go, so this very transmit is CardRemoved.
    assert_eq!(
        t.transmit(&[0x00, 0xA4, 0x04, 0x00]).err(),
        Some(TransportError::CardRemoved)
    );
    wait_event(&ctx, &mut known, |e| {
        matches!(e, ReaderEvent::CardRemoved(_))
    });
    assert!(!reader(&ctx).card_present());
    assert_eq!(
        t.transmit(&[0x00, 0xA4, 0x04, 0x00]).err(),
        Some(TransportError::CardRemoved)
    );
    drop(t);

    // Restarted: inserted again.
    let bridge = start_bridge();
    wait_event(&ctx, &mut known, |e| {
        matches!(e, ReaderEvent::CardInserted(_))
    });
    let mut t = ctx.connect(READER).unwrap();
    assert_eq!(
        t.transmit(&[0x00, 0xA4, 0x04, 0x00]).unwrap(),
        [0xA4, 0x90, 0x00]
    );
    drop(t);
    bridge.stop();
}

#[test]
#[ignore = "needs pcscd + vpcd: run by tests/e2e/pcsc_transport.sh"]
fn wait_for_change_times_out_and_can_be_cancelled() {
    let ctx = PcscContext::establish().expect("pcscd is running");
    // Settle: a card removal from an earlier test may still be on its way.
    let end = Instant::now() + Duration::from_secs(3);
    while reader(&ctx).card_present() && Instant::now() < end {
        thread::sleep(Duration::from_millis(100));
    }
    thread::sleep(Duration::from_millis(500));
    let known = ctx.readers().unwrap();
    assert!(known.iter().any(|r| r.name == READER && !r.card_present()));

    let t0 = Instant::now();
    let events = ctx
        .wait_for_change(&known, Some(Duration::from_millis(300)))
        .unwrap();
    let waited = t0.elapsed();
    assert!(events.is_empty(), "{events:?}");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");

    let canceller = ctx.canceller();
    let cancel = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        canceller.cancel().unwrap();
    });
    let t0 = Instant::now();
    assert_eq!(
        ctx.wait_for_change(&known, None).err(),
        Some(TransportError::Cancelled)
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
    cancel.join().unwrap();
}
