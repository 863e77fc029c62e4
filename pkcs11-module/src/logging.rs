//! The module's logger (DESIGN §4: "logging through `log` with PIN/PUK masked"): one line per
//! record, `time pid/thread LEVEL target: message`, to the configured file or to standard error.
//!
//! Secrets never reach it: no layer formats a PIN, and APDUs are traced through
//! `cpscard::apdu::Command::trace_hex`, which masks the data of VERIFY, CHANGE/RESET RETRY
//! COUNTER, PSO and INTERNAL AUTHENTICATE (objects.md §9). An application that installed its own
//! `log` logger keeps it (a Rust program linking the module as a library).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use log::{LevelFilter, Log, Metadata, Record};

use crate::config::Config;

/// Where the records go.
enum Sink {
    Stderr,
    File(File),
}

struct ModuleLogger {
    sink: Mutex<Sink>,
}

static LOGGER: OnceLock<&'static ModuleLogger> = OnceLock::new();
/// Whether our logger is the process's (`log::set_logger` succeeded).
static OURS: OnceLock<bool> = OnceLock::new();

/// Applies the configuration's level and file (called at every `C_Initialize`). A log file
/// that cannot be opened is reported on standard error and logging goes there instead.
pub fn configure(config: &Config) {
    let logger = *LOGGER.get_or_init(|| {
        Box::leak(Box::new(ModuleLogger {
            sink: Mutex::new(Sink::Stderr),
        }))
    });
    let ours = *OURS.get_or_init(|| log::set_logger(logger).is_ok());
    if !ours {
        return;
    }
    let sink = match &config.log_file {
        Some(path) => match open(path) {
            Ok(f) => Sink::File(f),
            Err(e) => {
                eprintln!("cps-pkcs11: cannot open log file {}: {e}", path.display());
                Sink::Stderr
            }
        },
        None => Sink::Stderr,
    };
    if let Ok(mut s) = logger.sink.lock() {
        *s = sink;
    }
    log::set_max_level(config.log_level.unwrap_or(LevelFilter::Warn));
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Log for ModuleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{} {}/{} {:<5} {}: {}\n",
            timestamp(),
            std::process::id(),
            thread_id(),
            record.level(),
            record.target(),
            record.args()
        );
        // Logging must never fail a PKCS#11 call: write errors are dropped.
        if let Ok(mut sink) = self.sink.lock() {
            let _ = match &mut *sink {
                Sink::Stderr => std::io::stderr().write_all(line.as_bytes()),
                Sink::File(f) => f.write_all(line.as_bytes()),
            };
        }
    }

    fn flush(&self) {
        if let Ok(mut sink) = self.sink.lock() {
            let _ = match &mut *sink {
                Sink::Stderr => std::io::stderr().flush(),
                Sink::File(f) => f.flush(),
            };
        }
    }
}

/// The kernel's id of the calling thread. Not `std::thread::current()`: that registers a
/// thread-local destructor in the caller's thread, which would run after an application has
/// unloaded the module (dlclose after C_Finalize) and crash it.
fn thread_id() -> u64 {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    u64::try_from(tid).unwrap_or(0)
}

/// UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` from the system clock.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(0);
    let d = cpscard::token::Date::from_unix(secs);
    let t = secs.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year,
        d.month,
        d.day,
        t / 3600,
        t / 60 % 60,
        t % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_iso_8601_utc() {
        let t = super::timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
