//! Output plumbing: `--json` documents (schemas in `docs/schema/`, described in
//! `docs/json-schema.md`), the shared words of card descriptions, and error reporting.

use cpscard::card::{detect, CardKind, Generation};
use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::Value;
use std::path::Path;

use crate::error::CliError;

/// `--json`, on every read command.
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct JsonArg {
    #[arg(long, help = Msg::HelpJson.text())]
    pub json: bool,
}

/// Prints one JSON document on stdout.
pub fn print_json(doc: &Value) {
    match serde_json::to_string_pretty(doc) {
        Ok(text) => println!("{text}"),
        // a serde_json::Value always serializes; keep the output valid JSON anyway
        Err(_) => println!("{}", Value::Null),
    }
}

/// Prints an error on stderr (and its fix), and in `--json` mode its JSON document on stdout.
pub fn report_error(e: &CliError, json: bool) {
    eprintln!("cps-tool: {e}");
    if let Some(fix) = e.fix() {
        eprintln!("  {}", t!(Msg::FixPrefix, fix = fix));
    }
    if json {
        print_json(&e.to_json());
    }
}

/// The content of an input file (`--in`, `--sig`); unreadable → a usage error (exit 2).
pub fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::Usage(t!(Msg::ErrFile, path = path.display(), detail = e)))
}

/// Writes an output file (`--out`), readable by its owner only: it may be a plaintext.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| CliError::Other(t!(Msg::ErrFile, path = path.display(), detail = e)))
}

/// `--in` and `--out` naming one file would lose the input: refused before anything.
pub fn refuse_same_file(input: &Path, output: &Path) -> Result<(), CliError> {
    match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(a), Ok(b)) if a == b => Err(CliError::Usage(Msg::ErrSameFile.text())),
        _ => Ok(()),
    }
}

/// `"cps3"` / `"cps4"`.
pub fn generation_name(g: Generation) -> &'static str {
    match g {
        Generation::Cps3 => "cps3",
        Generation::Cps4 => "cps4",
    }
}

/// A stable name of the card kind for JSON: `cps3`, `cps3-contactless`, `cps4`, `cps4-rc`,
/// `cps4-t0`.
pub fn kind_name(k: CardKind) -> &'static str {
    use cpscard::card::Cps4Atr;
    match k {
        CardKind::Cps3Contact => "cps3",
        CardKind::Cps3Contactless => "cps3-contactless",
        CardKind::Cps4(Cps4Atr::Production) => "cps4",
        CardKind::Cps4(Cps4Atr::ReleaseCandidate) => "cps4-rc",
        CardKind::Cps4(Cps4Atr::T0Only) => "cps4-t0",
    }
}

/// The card recognised by `atr`, as text for humans.
pub fn kind_text(atr: &[u8]) -> String {
    match detect(atr) {
        Some(k) => k.to_string(),
        None => Msg::UnknownCard.text(),
    }
}

/// `{"kind": ..., "generation": ...}` (nulls for an unknown card).
pub fn kind_json(atr: &[u8]) -> (Value, Value) {
    match detect(atr) {
        Some(k) => (kind_name(k).into(), generation_name(k.generation()).into()),
        None => (Value::Null, Value::Null),
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(ts: i64) -> String {
    let d = cpscard::token::Date::from_unix(ts);
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn datetime(ts: i64) -> String {
    let secs = ts.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(ts),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Whole days from `now` to `ts` (negative when past).
pub fn days_until(ts: i64, now: i64) -> i64 {
    (ts - now).div_euclid(86_400)
}

/// `verified` / `not_verified` / `blocked`.
pub fn pin_state_name(s: cpscard::card::PinState) -> &'static str {
    match s {
        cpscard::card::PinState::Verified => "verified",
        cpscard::card::PinState::NotVerified { .. } => "not_verified",
        cpscard::card::PinState::Blocked => "blocked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(datetime(1_861_920_000), "2029-01-01T00:00:00Z");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
        assert_eq!(days_until(86_400 * 3, 0), 3);
        assert_eq!(days_until(0, 86_400 * 3 - 1), -3);
    }
}
