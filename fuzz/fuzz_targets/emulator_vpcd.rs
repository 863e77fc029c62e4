//! The vpcd bridge (`vpcd::serve_connection`) reading a fuzzed byte stream from "vpcd" over
//! loopback TCP: any framing (lengths, controls, APDUs, truncated messages) ends the session
//! cleanly — never a panic, never a hang, never a frame shorter than SW1 SW2 back.
#![no_main]
use cpscard::emulator::vpcd::serve_connection;
use cpscard::emulator::{EmulatedCard, Generation};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;
use std::time::Duration;

fn listener() -> &'static TcpListener {
    static L: OnceLock<TcpListener> = OnceLock::new();
    L.get_or_init(|| TcpListener::bind("127.0.0.1:0").expect("loopback listener"))
}

/// Checks the frames the bridge sent back: 2-byte length + payload, payload ≥ 2 bytes unless
/// it is an ATR (answer to `04`).
fn check_frames(mut out: &[u8]) {
    while !out.is_empty() {
        assert!(out.len() >= 2, "half a length");
        let len = u16::from_be_bytes([out[0], out[1]]) as usize;
        assert!(out.len() >= 2 + len, "truncated frame");
        assert!(len >= 2, "a {len}-byte frame would hang vpcd");
        out = &out[2 + len..];
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&gen, stream_bytes)) = data.split_first() else {
        return;
    };
    let generation = if gen & 1 == 0 {
        Generation::Cps3
    } else {
        Generation::Cps4
    };
    let mut card = EmulatedCard::builtin(generation, "cps").expect("built-in card");
    let l = listener();
    let addr = l.local_addr().expect("address");
    let mut vpcd = TcpStream::connect(addr).expect("connect");
    let (bridge_side, _) = l.accept().expect("accept");
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let payload = stream_bytes.to_vec();
    // "vpcd": one thread writes the stream and closes its sending side, another reads every
    // answer until EOF (so that neither side can block the other on a full socket buffer)
    let mut writer = vpcd.try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&payload);
        let _ = writer.shutdown(Shutdown::Write);
    });
    let peer = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = vpcd.read_to_end(&mut out);
        out
    });
    let stop = AtomicBool::new(false);
    let end = serve_connection(bridge_side, &mut card, Duration::from_millis(50), &stop);
    sender.join().expect("sender thread");
    let out = peer.join().expect("peer thread");
    let _ = end;
    check_frames(&out);
});
