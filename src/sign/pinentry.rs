//! PIN entry through a pinentry program (`pinentry-gtk2`, `pinentry-curses`, …), speaking the
//! Assuan protocol as gpg-agent does: greeting `OK`, `SETTITLE` / `SETDESC` / `SETPROMPT` /
//! `SETERROR`, `GETPIN` answered by `D <pin>` then `OK` (or `ERR <code>`), `BYE`.
//! Lines are percent-escaped both ways (Assuan: `%`, CR, LF and, in data, any byte < 0x20).
//! The PIN only ever lives in zeroizing buffers.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use zeroize::Zeroizing;

/// What the user is asked.
#[derive(Debug, Clone, Default)]
pub struct PinPrompt<'a> {
    /// Window title.
    pub title: &'a str,
    /// The explanation shown above the entry (e.g. which card, how many tries are left).
    pub description: &'a str,
    /// Label before the entry field ("PIN:").
    pub prompt: &'a str,
    /// An error shown with the request (e.g. "Wrong PIN").
    pub error: Option<&'a str>,
}

/// Errors of a pinentry session.
#[derive(Debug, thiserror::Error)]
pub enum PinentryError {
    #[error("cannot start the pinentry program {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the user cancelled the PIN entry")]
    Cancelled,
    #[error("pinentry failed: {0}")]
    Failed(String),
    #[error("pinentry protocol error: {0}")]
    Protocol(String),
    #[error("pinentry I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// GPG_ERR_CANCELED (99) from source pinentry (5): `ERR 83886179`.
const ERR_CANCELLED: u32 = (5 << 24) | 99;
/// GPG_ERR_FULLY_CANCELED (198), also sent by some pinentries.
const ERR_FULLY_CANCELLED: u32 = (5 << 24) | 198;

/// Asks `program` for a PIN. Returns it zeroizing; the program is always reaped.
pub fn get_pin(program: &Path, prompt: &PinPrompt<'_>) -> Result<Zeroizing<String>, PinentryError> {
    let mut child = Command::new(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| PinentryError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    let result = converse(&mut child, prompt);
    // closing stdin ends any pinentry still waiting; then reap it
    drop(child.stdin.take());
    if result.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    result
}

fn converse(child: &mut Child, prompt: &PinPrompt<'_>) -> Result<Zeroizing<String>, PinentryError> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| PinentryError::Protocol("no stdout".into()))?;
    let mut reader = BufReader::new(stdout);
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| PinentryError::Protocol("no stdin".into()))?;

    expect_ok(&mut reader, None)?;
    let mut commands: Vec<String> = Vec::new();
    if !prompt.title.is_empty() {
        commands.push(format!("SETTITLE {}", escape(prompt.title)));
    }
    if !prompt.description.is_empty() {
        commands.push(format!("SETDESC {}", escape(prompt.description)));
    }
    if !prompt.prompt.is_empty() {
        commands.push(format!("SETPROMPT {}", escape(prompt.prompt)));
    }
    if let Some(err) = prompt.error {
        commands.push(format!("SETERROR {}", escape(err)));
    }
    for c in commands {
        writeln!(stdin, "{c}")?;
        stdin.flush()?;
        expect_ok(&mut reader, None)?;
    }
    writeln!(stdin, "GETPIN")?;
    stdin.flush()?;
    let mut pin = Zeroizing::new(String::new());
    expect_ok(&mut reader, Some(&mut pin))?;
    let _ = writeln!(stdin, "BYE");
    let _ = stdin.flush();
    Ok(pin)
}

/// Reads lines until `OK` (success) or `ERR`; `D` lines are appended, decoded, to `data`.
fn expect_ok(
    reader: &mut impl BufRead,
    mut data: Option<&mut Zeroizing<String>>,
) -> Result<(), PinentryError> {
    loop {
        let mut line = Zeroizing::new(String::new());
        if reader.read_line(&mut line)? == 0 {
            return Err(PinentryError::Protocol(
                "pinentry closed the connection".into(),
            ));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l == "OK" || l.starts_with("OK ") {
            return Ok(());
        }
        if let Some(rest) = l.strip_prefix("ERR ") {
            let code: u32 = rest
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if code == ERR_CANCELLED || code == ERR_FULLY_CANCELLED || code & 0xFFFF == 99 {
                return Err(PinentryError::Cancelled);
            }
            return Err(PinentryError::Failed(rest.to_string()));
        }
        if let Some(d) = l.strip_prefix("D ") {
            match data.as_deref_mut() {
                Some(buf) => unescape_into(d, buf)?,
                None => return Err(PinentryError::Protocol("unexpected data line".into())),
            }
            continue;
        }
        if l.starts_with('S') || l.starts_with('#') || l.is_empty() {
            continue; // status and comment lines
        }
        if l.starts_with("INQUIRE") {
            return Err(PinentryError::Protocol("unexpected INQUIRE".into()));
        }
        return Err(PinentryError::Protocol(
            "unexpected line from pinentry".into(),
        ));
    }
}

/// Percent-escapes `%`, CR, LF (Assuan command arguments).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

fn unescape_into(s: &str, out: &mut Zeroizing<String>) -> Result<(), PinentryError> {
    let bytes = s.as_bytes();
    let mut decoded = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| PinentryError::Protocol("bad escape in data line".into()))?;
            decoded.push(hex);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let text = std::str::from_utf8(&decoded)
        .map_err(|_| PinentryError::Protocol("data line is not UTF-8".into()))?;
    out.push_str(text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Writes an executable scripted pinentry that logs what it was told to `log` and answers
    /// GETPIN with `answer` (an Assuan line sequence).
    fn script(dir: &Path, name: &str, getpin_answer: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        let log = dir.join(format!("{name}.log"));
        let body = format!(
            "#!/bin/sh\necho 'OK Pleased to meet you'\nwhile read -r line; do\n  echo \"$line\" >> '{}'\n  case \"$line\" in\n    GETPIN) printf '%s' '{}' ;;\n    BYE) echo OK; exit 0 ;;\n    *) echo OK ;;\n  esac\ndone\n",
            log.display(),
            getpin_answer
        );
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cpscard-pinentry-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn gets_an_escaped_pin_and_sends_the_description() {
        let dir = tmpdir("ok");
        let prog = script(
            &dir,
            "ok",
            "S PASSWORD_FROM_CACHE\n# comment\nD 12%334\nOK\n",
        );
        let pin = get_pin(
            &prog,
            &PinPrompt {
                title: "Carte CPS",
                description: "PIN of card 12345678\n2 tries left, 100%",
                prompt: "PIN:",
                error: Some("Wrong PIN"),
            },
        )
        .unwrap();
        assert_eq!(pin.as_str(), "1234");
        let log = std::fs::read_to_string(dir.join("ok.log")).unwrap();
        assert!(
            log.contains("SETDESC PIN of card 12345678%0A2 tries left, 100%25"),
            "{log}"
        );
        assert!(log.contains("SETERROR Wrong PIN"));
        assert!(log.contains("GETPIN"));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn cancel_is_reported_as_such() {
        let dir = tmpdir("cancel");
        let prog = script(
            &dir,
            "cancel",
            "ERR 83886179 Operation cancelled <Pinentry>\n",
        );
        assert!(matches!(
            get_pin(&prog, &PinPrompt::default()),
            Err(PinentryError::Cancelled)
        ));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_missing_program_and_a_dead_one_are_errors() {
        assert!(matches!(
            get_pin(Path::new("/nonexistent/pinentry"), &PinPrompt::default()),
            Err(PinentryError::Spawn { .. })
        ));
        assert!(matches!(
            get_pin(Path::new("/bin/true"), &PinPrompt::default()),
            Err(PinentryError::Protocol(_))
        ));
    }
}
