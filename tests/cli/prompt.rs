//! The PIN typed at the terminal prompt: `cps-tool` runs under `script` (util-linux), which
//! gives it a pseudo-terminal with echo ON; what the tool prints and what the terminal echoes
//! comes back to the test. The prompt shows the tries left, the typed code is never echoed
//! (the termios code of `pin_source.rs` turns the echo off), a new PIN is typed twice; the
//! spinner of slow steps shows on the terminal, and Ctrl-C typed there ends a wait with 130.

use crate::cli_common;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use cli_common::*;

/// A `cps-tool` session on a pseudo-terminal.
struct Session {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<Vec<u8>>,
    seen: String,
}

impl Session {
    fn start(home: &TempDir, args: &[&str]) -> Session {
        let tool = env!("CARGO_BIN_EXE_cps-tool");
        let mut line = String::from(tool);
        for a in args {
            line.push_str(" '");
            line.push_str(a);
            line.push('\'');
        }
        let mut child = Command::new("script")
            .args(["-q", "-e", "-f", "-E", "always", "-c", &line, "/dev/null"])
            .env("HOME", home.path())
            .env("LANG", "C.UTF-8")
            .env(
                "PCSCLITE_CSOCK_NAME",
                "/nonexistent/cpscard-test/pcscd.comm",
            )
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("CPS_PIN")
            .env_remove("CPS_PUK")
            .env_remove("CPS_NEW_PIN")
            .env_remove("CPS_PINENTRY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("`script` (util-linux) is needed by this test: {e}"));
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            stdin,
            output: rx,
            seen: String::new(),
        }
    }

    /// Waits until the output contains `text` (10 s at most).
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.seen.contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("{text:?} never came; the terminal showed:\n{}", self.seen),
            }
        }
    }

    fn type_line(&mut self, text: &str) {
        self.stdin.write_all(text.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The exit code, and everything the terminal showed.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        while let Ok(chunk) = self.output.recv_timeout(Duration::from_secs(2)) {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        (status.code().unwrap_or(-1), self.seen)
    }
}

#[test]
fn the_pin_typed_at_the_prompt_is_not_echoed() {
    for generation in GENERATIONS {
        let home = TempDir::new("prompt");
        let img = home.join("card.json");
        // a session on the card with these arguments
        let on_card = |extra: &[&str]| {
            let mut args = card_args(generation, "cps", &img);
            args.extend_from_slice(extra);
            Session::start(&home, &args)
        };
        // a PIN that appears nowhere else on the screen (the label holds 1234)
        let mut s = on_card(&["pin", "change"]);
        s.expect("PIN of the card ");
        s.expect("(3 tries left): ");
        s.type_line("1234");
        s.expect("New PIN (4 digits): ");
        s.type_line("9753");
        s.expect("New PIN again: ");
        s.type_line("9753");
        let (code, screen) = s.finish();
        assert_eq!(code, 0, "{screen}");
        assert!(screen.contains("PIN changed"), "{screen}");
        assert!(
            !screen.contains("9753"),
            "the new PIN was echoed:\n{screen}"
        );

        // a wrong PIN typed: counted, and the next prompt says so
        let mut s = on_card(&["pin", "verify"]);
        s.expect("(3 tries left): ");
        s.type_line("8642");
        let (code, screen) = s.finish();
        assert_eq!(code, 7, "{screen}");
        assert!(screen.contains("PIN wrong, 2 tries left"), "{screen}");
        assert!(!screen.contains("8642"), "the PIN was echoed:\n{screen}");

        let mut s = on_card(&["pin", "verify"]);
        s.expect("(2 tries left): ");
        s.type_line("9753");
        let (code, screen) = s.finish();
        assert_eq!(code, 0, "{screen}");
        assert!(screen.contains("PIN correct"), "{screen}");
        assert!(!screen.contains("9753"), "the PIN was echoed:\n{screen}");

        // two different new PINs: refused, nothing sent
        let mut s = on_card(&["pin", "change"]);
        s.expect("(3 tries left): ");
        s.type_line("9753");
        s.expect("New PIN (4 digits): ");
        s.type_line("1111");
        s.expect("New PIN again: ");
        s.type_line("2222");
        let (code, screen) = s.finish();
        assert_eq!(code, 2, "{screen}");
        assert!(screen.contains("the two new PINs differ"), "{screen}");
        assert_eq!(counters(&img), (3, 10));
    }
}

/// Issue 8 item 6 on a terminal: a spinner for anything slow (waiting for a card, the first read
/// of a slow card), and Ctrl-C typed on the terminal ends the command with 130.
#[test]
fn progress_on_a_terminal_and_ctrl_c() {
    let home = TempDir::new("progress");
    // `info` waiting for a card inserted MS milliseconds later
    let late = |ms: u32| {
        let fault = format!("insert-after={ms}");
        let args = [
            "--emulated",
            "cps4",
            "--emulated-fault",
            &fault,
            "--wait",
            "info",
        ];
        let mut s = Session::start(&home, &args);
        s.expect("waiting for a card (Ctrl-C to stop)…");
        s
    };
    // waiting for a card inserted 1.5 s later, then reading it
    let (code, screen) = late(1500).finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("3 of 3 tries left"), "{screen}");
    // the first read of a card with a realistic latency takes more than the spinner's delay
    let args = [
        "--emulated",
        "cps3",
        "--emulated-fault",
        "latency=realistic",
        "doctor",
    ];
    let mut s = Session::start(&home, &args);
    s.expect("reading the card…");
    let (_, screen) = s.finish();
    assert!(screen.contains("✓ PIN: 3 of 3 tries left"), "{screen}");
    // Ctrl-C (the terminal's interrupt character) while waiting for a card that never comes
    let mut s = late(600_000);
    s.stdin.write_all(b"\x03").unwrap();
    s.stdin.flush().unwrap();
    let (code, screen) = s.finish();
    assert_eq!(code, 130, "{screen}");
}
