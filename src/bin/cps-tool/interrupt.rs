//! Ctrl-C (SIGINT) and SIGTERM (issue 8 item 6): the card and PC/SC are left clean.
//!
//! A signal thread (signal-hook) decides: while a card operation runs, the signal is only noted
//! (an APDU exchange, a VERIFY above all, is never cut in the middle; the operation ends, then
//! [`checkpoint`] stops the command and the normal drops end the transaction and disconnect);
//! while a PIN prompt is open, the terminal's echo is restored first; otherwise the process
//! exits at once (nothing is connected, or the connection is dropped by pcscd with the process).
//! A second signal during a card operation exits at once.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::error::{code, CliError};

const IDLE: u8 = 0;
const CARD: u8 = 1;

static STATE: AtomicU8 = AtomicU8::new(IDLE);
static PENDING: AtomicBool = AtomicBool::new(false);

/// Starts the signal thread. Without it, signals keep their default action.
pub fn install() -> Result<(), CliError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|e| {
        CliError::Other(cpscard::t!(
            cpscard::i18n::Msg::ErrSignal,
            sig = "SIGINT",
            detail = e
        ))
    })?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if STATE.load(Ordering::SeqCst) == CARD && !PENDING.swap(true, Ordering::SeqCst) {
                continue;
            }
            crate::pin_source::restore_terminal();
            eprintln!();
            std::process::exit(code::INTERRUPTED);
        }
    });
    Ok(())
}

/// Marks a card operation: signals wait for its end.
pub struct CardSection {
    previous: u8,
}

impl CardSection {
    pub fn enter() -> CardSection {
        CardSection {
            previous: STATE.swap(CARD, Ordering::SeqCst),
        }
    }
}

impl Drop for CardSection {
    fn drop(&mut self) {
        STATE.store(self.previous, Ordering::SeqCst);
    }
}

/// Runs `f` as a card operation, then stops if a signal came meanwhile.
pub fn card<T>(f: impl FnOnce() -> Result<T, CliError>) -> Result<T, CliError> {
    let out = {
        let _section = CardSection::enter();
        f()
    };
    checkpoint()?;
    out
}

/// `Err(Interrupted)` once a signal was noted.
pub fn checkpoint() -> Result<(), CliError> {
    if PENDING.load(Ordering::SeqCst) {
        Err(CliError::Interrupted)
    } else {
        Ok(())
    }
}
