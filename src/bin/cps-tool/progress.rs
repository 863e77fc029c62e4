//! Progress on a terminal (issue 8 item 6): anything that may take more than a second (the first
//! read of a card on a slow reader, waiting for a card) shows a spinner on stderr — only when
//! stderr is a terminal, and only after 400 ms, so that quick commands and pipes stay quiet.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
const DELAY: Duration = Duration::from_millis(400);
const TICK: Duration = Duration::from_millis(100);

/// A spinner line on stderr, erased when dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Shows `text` with a spinner after a short delay, if stderr is a terminal.
    pub fn start(text: String) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = if std::io::stderr().is_terminal() {
            let stop = Arc::clone(&stop);
            Some(std::thread::spawn(move || spin(&text, &stop)))
        } else {
            None
        };
        Spinner { stop, thread }
    }
}

fn spin(text: &str, stop: &AtomicBool) {
    let started = Instant::now();
    let mut shown = false;
    let mut frame = 0usize;
    while !stop.load(Ordering::SeqCst) {
        if started.elapsed() >= DELAY {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{} {text}", FRAMES[frame % FRAMES.len()]);
            let _ = err.flush();
            shown = true;
            frame += 1;
        }
        std::thread::sleep(TICK);
    }
    if shown {
        // erase the line: the spinner, a space, the text
        let width = text.chars().count() + 2;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{}\r", " ".repeat(width));
        let _ = err.flush();
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
