//! Where a PIN, a PUK or a new PIN comes from: `--pin-file`/`--puk-file`/`--new-pin-file`
//! (first line), the environment for scripts (`CPS_PIN`, `CPS_PUK`, `CPS_NEW_PIN`), or a prompt
//! on the terminal without echo. The format (4 or 8 digits) is checked here, before any APDU
//! (CPS3.md §5.2); codes live only in zeroizing buffers.
//!
//! The prompt uses termios on `/dev/tty` directly rather than the `rpassword` crate: the echo
//! must also be restored from the Ctrl-C path (`interrupt.rs` exits from its signal thread, where
//! no `Drop` of a prompt guard would run), so the saved terminal state has to be ours.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cpscard::card::{Pin, PinKind};
use cpscard::i18n::Msg;
use cpscard::t;
use zeroize::Zeroizing;

use crate::error::CliError;

/// Where a command that needs the PIN takes it from (besides `CPS_PIN` and the terminal).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct PinArgs {
    #[arg(long, value_name = "FILE", help = Msg::HelpPinFile.text())]
    pub pin_file: Option<PathBuf>,
    #[command(flatten)]
    pub pinentry: PinentryArg,
}

/// `--pinentry PROGRAM` (or `CPS_PINENTRY`): the codes are asked by a pinentry program, its
/// texts from the message table (`token_open::prompt_texts`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct PinentryArg {
    #[arg(long, value_name = "PROGRAM", env = "CPS_PINENTRY", help = Msg::HelpPinentry.text())]
    pub pinentry: Option<PathBuf>,
}

/// Which code is wanted, and how to ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Pin,
    Puk,
    NewPin,
}

impl Wanted {
    pub fn kind(self) -> PinKind {
        match self {
            Wanted::Puk => PinKind::Puk,
            Wanted::Pin | Wanted::NewPin => PinKind::User,
        }
    }

    fn env_var(self) -> &'static str {
        match self {
            Wanted::Pin => "CPS_PIN",
            Wanted::Puk => "CPS_PUK",
            Wanted::NewPin => "CPS_NEW_PIN",
        }
    }

    fn word(self) -> Msg {
        match self {
            Wanted::Pin => Msg::PinWordPin,
            Wanted::Puk => Msg::PinWordPuk,
            Wanted::NewPin => Msg::PinWordNewPin,
        }
    }
}

/// Gets a code without a prompt: from `file`, else from the environment. `Ok(None)` when
/// neither is given (the caller then prompts).
pub fn from_file_or_env(wanted: Wanted, file: Option<&Path>) -> Result<Option<Pin>, CliError> {
    if let Some(path) = file {
        let mut raw = Zeroizing::new(Vec::new());
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut raw))
            .map_err(|e| {
                CliError::Usage(t!(
                    Msg::PinSourceUnreadable,
                    path = path.display(),
                    error = e
                ))
            })?;
        let line_end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
        let mut line = &raw[..line_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.is_empty() {
            return Err(CliError::Usage(t!(
                Msg::PinSourceEmpty,
                source = path.display()
            )));
        }
        return check(wanted, line).map(Some);
    }
    match std::env::var_os(wanted.env_var()) {
        Some(value) => {
            let value = Zeroizing::new(value.into_encoded_bytes());
            check(wanted, &value).map(Some)
        }
        None => Ok(None),
    }
}

/// Gets a code: file, environment, or a prompt on the terminal (`prompt` is the localized
/// question).
pub fn get(wanted: Wanted, file: Option<&Path>, prompt: &str) -> Result<Pin, CliError> {
    if let Some(pin) = from_file_or_env(wanted, file)? {
        return Ok(pin);
    }
    let typed = prompt_raw(wanted, prompt)?;
    check(wanted, typed.as_bytes())
}

/// The new PIN: file/environment, or typed twice.
pub fn get_new_pin(file: Option<&Path>) -> Result<Pin, CliError> {
    if let Some(pin) = from_file_or_env(Wanted::NewPin, file)? {
        return Ok(pin);
    }
    let first = prompt_raw(Wanted::NewPin, &Msg::PromptNewPin.text())?;
    let pin = check(Wanted::NewPin, first.as_bytes())?;
    let again = prompt_raw(Wanted::NewPin, &Msg::PromptNewPinAgain.text())?;
    if first.as_bytes() != again.as_bytes() {
        return Err(CliError::Usage(Msg::PinMismatch.text()));
    }
    Ok(pin)
}

fn prompt_raw(wanted: Wanted, prompt: &str) -> Result<Zeroizing<String>, CliError> {
    read_hidden(prompt).map_err(|_| {
        CliError::Usage(t!(
            Msg::PinNoTerminal,
            what = wanted.word().text(),
            var = wanted.env_var()
        ))
    })
}

/// Checks the format: exactly 4 (PIN) or 8 (PUK) ASCII digits. Nothing reaches a card otherwise.
pub fn check(wanted: Wanted, code: &[u8]) -> Result<Pin, CliError> {
    let kind = wanted.kind();
    if code.len() != kind.digits() || !code.iter().all(u8::is_ascii_digit) {
        return Err(CliError::PinFormat(kind));
    }
    Pin::from_bytes(kind, code).map_err(|_| CliError::PinFormat(kind))
}

/// The terminal state saved while a prompt has the echo off (restored by Ctrl-C too).
static SAVED: Mutex<Option<(i32, libc::termios)>> = Mutex::new(None);

/// Restores the terminal if a prompt turned its echo off (called from the signal thread).
pub fn restore_terminal() {
    if let Ok(mut saved) = SAVED.lock() {
        if let Some((fd, state)) = saved.take() {
            // SAFETY: `fd` is the open /dev/tty of the prompt (kept open while SAVED is set)
            // and `state` a termios filled by tcgetattr on it.
            unsafe {
                libc::tcsetattr(fd, libc::TCSANOW, &state);
            }
        }
    }
}

/// Reads one line from `/dev/tty` with the echo off. Fails when there is no terminal.
fn read_hidden(prompt: &str) -> std::io::Result<Zeroizing<String>> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for the open terminal `fd`.
    let mut state: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut state) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = state;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    if let Ok(mut saved) = SAVED.lock() {
        *saved = Some((fd, state));
    }
    // SAFETY: as above; `quiet` is a copy of the terminal's own state with ECHO cleared.
    if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
        restore_terminal();
        return Err(std::io::Error::last_os_error());
    }
    let result = (|| {
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        let mut line = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        loop {
            match tty.read(&mut byte)? {
                0 => break,
                _ if byte[0] == b'\n' => break,
                _ => line.push(byte[0]),
            }
            if line.len() > 64 {
                break;
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Zeroizing::new(String::from_utf8_lossy(&line).into_owned()))
    })();
    restore_terminal();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_checked_before_any_card() {
        assert!(check(Wanted::Pin, b"1234").is_ok());
        assert!(check(Wanted::Puk, b"12345678").is_ok());
        for bad in [&b"123"[..], b"12345", b"12a4", b"", b" 1234"] {
            assert!(
                matches!(
                    check(Wanted::Pin, bad),
                    Err(CliError::PinFormat(PinKind::User))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check(Wanted::Puk, b"1234"),
            Err(CliError::PinFormat(PinKind::Puk))
        ));
    }

    #[test]
    fn pin_file_first_line() {
        let dir = std::env::temp_dir().join(format!("cps-tool-pin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pin");
        std::fs::write(&f, "4321\r\nignored\n").unwrap();
        assert!(from_file_or_env(Wanted::Pin, Some(&f)).unwrap().is_some());
        std::fs::write(&f, "\n").unwrap();
        assert!(matches!(
            from_file_or_env(Wanted::Pin, Some(&f)),
            Err(CliError::Usage(_))
        ));
        std::fs::write(&f, "12345\n").unwrap();
        assert!(matches!(
            from_file_or_env(Wanted::Pin, Some(&f)),
            Err(CliError::PinFormat(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
