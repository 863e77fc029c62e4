//! vpcd bridge: serves a [`VirtualCard`] to pcscd through vsmartcard's `vpcd` reader driver, so
//! that every PC/SC application sees the emulated card in "Virtual PCD 00 00" (DESIGN §6).
//!
//! Wire protocol and timing facts (recipes/pcsc-vpcd/README.md, verified with vpcd 3.3):
//! - we are the TCP client; vpcd listens on `127.0.0.1:35963` (slot 0) and `:35964` (slot 1);
//! - every message both ways is a 2-byte big-endian length then the payload;
//! - from vpcd, a 1-byte payload is a control: `00` power off, `01` power on, `02` reset (no
//!   reply to these three), `04` get ATR (reply: the framed ATR); a longer payload is a command
//!   APDU, answered by the framed response (data + SW1 SW2);
//! - "44 ms per APDU" trap: `TCP_NODELAY`, length and payload in ONE write, and `TCP_QUICKACK`
//!   set again before EVERY read (Linux clears it); lengths and payloads may arrive separately,
//!   so exact byte counts are read;
//! - closing the socket is how a card is "removed"; pcscd sees a new connection as an insertion.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::SockRef;
use zeroize::Zeroizing;

use super::VirtualCard;

/// Where vpcd listens for slot 0 (`/etc/reader.conf.d/vpcd`: `CHANNELID 0x8C7B`).
pub const DEFAULT_ADDR: &str = "127.0.0.1:35963";

/// Control bytes sent by vpcd.
pub const CTRL_POWER_OFF: u8 = 0x00;
pub const CTRL_POWER_ON: u8 = 0x01;
pub const CTRL_RESET: u8 = 0x02;
pub const CTRL_GET_ATR: u8 = 0x04;

/// How to reach vpcd and how patiently.
#[derive(Debug, Clone)]
pub struct VpcdOptions {
    /// `host:port` of vpcd.
    pub addr: String,
    /// First wait after a failed connection; doubled up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// How often a blocked read wakes up to look at the stop flag.
    pub poll: Duration,
    /// After a fault pulled the card out (the connection closed): how long before it is put
    /// back (a new connection, which pcscd sees as an insertion).
    pub reinsert_after: Duration,
}

impl Default for VpcdOptions {
    fn default() -> Self {
        VpcdOptions {
            addr: DEFAULT_ADDR.into(),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            poll: Duration::from_millis(100),
            reinsert_after: Duration::from_secs(1),
        }
    }
}

/// Failures that end [`serve`] (connection failures do not: they are retried).
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    #[error("bad vpcd address {0:?}")]
    BadAddress(String),
}

/// Why one connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The stop flag was raised.
    Stopped,
    /// vpcd closed the connection (pcscd stopped, or the slot was reset).
    PeerClosed,
    /// The card was pulled out (a fault): we closed the connection.
    Removed,
}

/// Serves `card` until `stop` is raised: connects to vpcd, answers it, and when the connection
/// drops (vpcd/pcscd restarted) powers the card off and connects again, with a growing pause
/// between failed attempts.
pub fn serve(
    card: &mut dyn VirtualCard,
    opts: &VpcdOptions,
    stop: &AtomicBool,
) -> Result<(), VpcdError> {
    let addrs: Vec<_> = opts
        .addr
        .to_socket_addrs()
        .map_err(|_| VpcdError::BadAddress(opts.addr.clone()))?
        .collect();
    if addrs.is_empty() {
        return Err(VpcdError::BadAddress(opts.addr.clone()));
    }
    let mut backoff = opts.min_backoff;
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        match TcpStream::connect(&addrs[..]) {
            Ok(stream) => {
                log::info!("connected to vpcd at {}", opts.addr);
                failures = 0;
                backoff = opts.min_backoff;
                let end = serve_connection(stream, card, opts.poll, stop);
                card.power_off(); // the "card" leaves the reader with the connection
                match end {
                    Ok(SessionEnd::Stopped) => break,
                    Ok(SessionEnd::PeerClosed) => log::info!("vpcd closed the connection"),
                    Ok(SessionEnd::Removed) => {
                        log::info!("card pulled out; back in {:?}", opts.reinsert_after);
                        sleep_unless_stopped(opts.reinsert_after, stop);
                        card.reinsert();
                    }
                    Err(e) => log::warn!("vpcd connection lost: {e}"),
                }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    log::warn!("cannot reach vpcd at {} ({e}); retrying", opts.addr);
                } else {
                    log::debug!("vpcd at {}: {e} (attempt {failures})", opts.addr);
                }
                sleep_unless_stopped(backoff, stop);
                backoff = (backoff * 2).min(opts.max_backoff);
            }
        }
    }
    log::info!("vpcd bridge stopped");
    Ok(())
}

/// Serves one vpcd connection until vpcd closes it or `stop` is raised.
pub fn serve_connection(
    mut stream: TcpStream,
    card: &mut dyn VirtualCard,
    poll: Duration,
    stop: &AtomicBool,
) -> io::Result<SessionEnd> {
    configure(&stream, poll)?;
    loop {
        let mut len = [0u8; 2];
        match read_exact(&mut stream, &mut len, stop, true)? {
            Some(()) => {}
            None if stop.load(Ordering::SeqCst) => return Ok(SessionEnd::Stopped),
            None => return Ok(SessionEnd::PeerClosed),
        }
        let mut msg = Zeroizing::new(vec![0u8; u16::from_be_bytes(len) as usize]);
        if read_exact(&mut stream, &mut msg, stop, false)?.is_none() {
            return Ok(SessionEnd::Stopped);
        }
        match msg.as_slice() {
            [] => log::debug!("vpcd: empty message ignored"),
            [CTRL_POWER_OFF] => {
                log::debug!("vpcd: power off");
                card.power_off();
            }
            [CTRL_POWER_ON] => {
                log::debug!("vpcd: power on");
                card.power_on();
            }
            [CTRL_RESET] => {
                log::debug!("vpcd: reset");
                card.reset();
            }
            [CTRL_GET_ATR] => write_frame(&mut stream, &card.atr())?,
            [other] => log::warn!("vpcd: unknown control byte {other:#04x} ignored"),
            apdu => {
                if log::log_enabled!(log::Level::Trace) {
                    match crate::apdu::Command::parse(apdu) {
                        Ok(c) => log::trace!("vpcd > {}", c.trace_hex()),
                        Err(_) => log::trace!("vpcd > {} bytes (not a short APDU)", apdu.len()),
                    }
                }
                let mut response = Zeroizing::new(card.process(apdu));
                if response.len() < 2 {
                    // vpcd 3.3 waits forever on a 0-length frame (pcscd hangs in
                    // SCardTransmit): answer "no precise diagnosis" instead.
                    log::warn!(
                        "the card gave a {}-byte answer; sending 6F 00",
                        response.len()
                    );
                    *response = vec![0x6F, 0x00];
                }
                write_frame(&mut stream, &response)?;
                if !card.is_present() {
                    return Ok(SessionEnd::Removed);
                }
            }
        }
    }
}

/// TCP settings for vpcd: no Nagle, a read timeout to look at the stop flag.
pub fn configure(stream: &TcpStream, poll: Duration) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(poll.max(Duration::from_millis(1))))?;
    quickack(stream);
    Ok(())
}

/// Re-arms `TCP_QUICKACK` (the kernel drops it after a while): vpcd's length and payload come
/// in two writes and must be acknowledged at once.
fn quickack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = SockRef::from(stream).set_quickack(true) {
        log::debug!("TCP_QUICKACK: {e}");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = SockRef::from(stream);
}

/// Reads exactly `buf.len()` bytes. `Ok(None)`: the stop flag was raised, or — only when
/// `at_boundary` and nothing was read yet — vpcd closed the connection.
fn read_exact(
    stream: &mut TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
    at_boundary: bool,
) -> io::Result<Option<()>> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        quickack(stream);
        match stream.read(&mut buf[got..]) {
            Ok(0) if at_boundary && got == 0 => return Ok(None),
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "vpcd closed mid-message",
                ))
            }
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(()))
}

/// Length and payload in one write (two writes stall on delayed ACK).
fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(|_| {
        io::Error::new(
            ErrorKind::InvalidData,
            format!("a {}-byte message does not fit a vpcd frame", payload.len()),
        )
    })?;
    let mut frame = Zeroizing::new(Vec::with_capacity(2 + payload.len()));
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let end = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Protocol;
    use std::net::{SocketAddr, TcpListener};
    use std::sync::{Arc, Mutex};

    const ATR: [u8; 5] = [0x3B, 0x03, 0x01, 0x02, 0x03];

    /// Records what the bridge did to it; answers an APDU with its INS echoed + 90 00.
    struct Probe(Arc<Mutex<Vec<String>>>);

    impl VirtualCard for Probe {
        fn atr(&self) -> Vec<u8> {
            ATR.to_vec()
        }
        fn protocol(&self) -> Protocol {
            Protocol::T1
        }
        fn power_on(&mut self) {
            self.0.lock().unwrap().push("on".into());
        }
        fn power_off(&mut self) {
            self.0.lock().unwrap().push("off".into());
        }
        fn reset(&mut self) {
            self.0.lock().unwrap().push("reset".into());
        }
        fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
            self.0
                .lock()
                .unwrap()
                .push(format!("apdu {}", hex::encode_upper(apdu)));
            match apdu[1] {
                0xEE => Vec::new(),
                ins => vec![ins, 0x90, 0x00],
            }
        }
    }

    fn send(s: &mut TcpStream, payload: &[u8]) {
        let mut f = (payload.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        s.write_all(&f).unwrap();
    }

    fn recv(s: &mut TcpStream) -> Vec<u8> {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut buf).unwrap();
        buf
    }

    fn fast(addr: SocketAddr) -> VpcdOptions {
        VpcdOptions {
            addr: addr.to_string(),
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            poll: Duration::from_millis(20),
            reinsert_after: Duration::from_millis(50),
        }
    }

    fn accept(l: &TcpListener) -> TcpStream {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    #[test]
    fn power_atr_apdu_reset_then_reconnect_after_vpcd_restart() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut card = Probe(log.clone());
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let bridge = scope.spawn(|| serve(&mut card, &fast(addr), &stop));

            // First vpcd session, as pcscd's insertion: ATR, ATR, power on, ATR.
            let mut s = accept(&listener);
            send(&mut s, &[CTRL_GET_ATR]);
            assert_eq!(recv(&mut s), ATR);
            send(&mut s, &[CTRL_POWER_ON]);
            send(&mut s, &[CTRL_GET_ATR]);
            assert_eq!(recv(&mut s), ATR);
            send(&mut s, &hex::decode("00A4040C02AABB").unwrap());
            assert_eq!(recv(&mut s), [0xA4, 0x90, 0x00]);
            // Length and payload in two writes, as Debian's vpcd sends them.
            s.write_all(&[0x00, 0x05]).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            s.write_all(&hex::decode("00B0000010").unwrap()).unwrap();
            assert_eq!(recv(&mut s), [0xB0, 0x90, 0x00]);
            // A card that answers nothing: never a 0-length frame (vpcd would hang).
            send(&mut s, &hex::decode("00EE0000").unwrap());
            assert_eq!(recv(&mut s), [0x6F, 0x00]);
            send(&mut s, &[CTRL_RESET]);
            send(&mut s, &[CTRL_GET_ATR]);
            assert_eq!(recv(&mut s), ATR);
            drop(s); // vpcd goes away

            // vpcd is back: the bridge connects again by itself.
            let mut s = accept(&listener);
            send(&mut s, &[CTRL_POWER_ON]);
            send(&mut s, &hex::decode("0084000008").unwrap());
            assert_eq!(recv(&mut s), [0x84, 0x90, 0x00]);
            send(&mut s, &[CTRL_POWER_OFF]);
            send(&mut s, &[CTRL_GET_ATR]);
            assert_eq!(recv(&mut s), ATR);

            let t0 = Instant::now();
            stop.store(true, Ordering::SeqCst);
            bridge.join().unwrap().unwrap();
            assert!(t0.elapsed() < Duration::from_secs(1), "stop is prompt");
            // The bridge closed its end: vpcd sees the card removed.
            let mut byte = [0u8; 1];
            assert_eq!(s.read(&mut byte).unwrap(), 0);
        });
        assert_eq!(
            *log.lock().unwrap(),
            [
                "on",
                "apdu 00A4040C02AABB",
                "apdu 00B0000010",
                "apdu 00EE0000",
                "reset",
                "off", // connection lost
                "on",
                "apdu 0084000008",
                "off",
                "off", // stopped
            ]
        );
    }

    #[test]
    fn a_card_pulled_by_a_fault_closes_the_connection_and_comes_back() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut card =
            crate::emulator::EmulatedCard::builtin(crate::emulator::Generation::Cps3, "cps")
                .unwrap();
        card.faults_mut().remove_after = Some(2);
        let stop = AtomicBool::new(false);
        let challenge = hex::decode("0084000008").unwrap();
        std::thread::scope(|scope| {
            let bridge = scope.spawn(|| serve(&mut card, &fast(addr), &stop));
            let mut s = accept(&listener);
            send(&mut s, &[CTRL_POWER_ON]);
            for _ in 0..2 {
                send(&mut s, &challenge);
                assert_eq!(recv(&mut s).len(), 10, "8 bytes + 90 00");
            }
            // Pulled out after its second answer: the bridge closed the connection.
            let mut byte = [0u8; 1];
            assert_eq!(s.read(&mut byte).unwrap(), 0);
            // Put back: a new connection (pcscd's insertion), a powered card again.
            let mut s = accept(&listener);
            send(&mut s, &[CTRL_POWER_ON]);
            send(&mut s, &challenge);
            assert_eq!(recv(&mut s).len(), 10);
            stop.store(true, Ordering::SeqCst);
            bridge.join().unwrap().unwrap();
        });
        assert!(card.is_present());
    }

    #[test]
    fn waits_for_vpcd_to_start() {
        // Find a free port, close it: the bridge meets "connection refused" first.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut card = Probe(log.clone());
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let bridge = scope.spawn(|| serve(&mut card, &fast(addr), &stop));
            std::thread::sleep(Duration::from_millis(150));
            let listener = TcpListener::bind(addr).unwrap();
            let mut s = accept(&listener);
            send(&mut s, &[CTRL_GET_ATR]);
            assert_eq!(recv(&mut s), ATR);
            stop.store(true, Ordering::SeqCst);
            bridge.join().unwrap().unwrap();
        });
    }

    #[test]
    fn stop_while_vpcd_is_absent() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut card = Probe(Arc::new(Mutex::new(Vec::new())));
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let bridge = scope.spawn(|| serve(&mut card, &fast(addr), &stop));
            std::thread::sleep(Duration::from_millis(100));
            stop.store(true, Ordering::SeqCst);
            bridge.join().unwrap().unwrap();
        });
    }

    #[test]
    fn bad_address_is_an_error() {
        let mut card = Probe(Arc::new(Mutex::new(Vec::new())));
        let opts = VpcdOptions {
            addr: "no port here".into(),
            ..VpcdOptions::default()
        };
        assert!(matches!(
            serve(&mut card, &opts, &AtomicBool::new(false)),
            Err(VpcdError::BadAddress(_))
        ));
    }

    #[test]
    fn socket_is_configured_for_latency() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        configure(&s, Duration::from_millis(100)).unwrap();
        assert!(s.nodelay().unwrap());
        assert_eq!(s.read_timeout().unwrap(), Some(Duration::from_millis(100)));
    }

    #[test]
    fn oversized_answer_is_refused_not_truncated() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let err = write_frame(&mut s, &vec![0u8; 70_000]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }
}
