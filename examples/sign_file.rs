//! Signs a file with the card and writes `<file>.sig`; the signature is verified with the
//! certificate before it is written (the token does it for every signature).
//!
//! ```sh
//! cargo run --example sign_file -- --emulated cps4 --pss --pin 1234 README.md
//! cargo run --example sign_file -- --reader "…" --key sig --pinentry /usr/bin/pinentry-curses contract.pdf
//! ```
//!
//! Options: `--pss` (RSA-PSS SHA-256, CPS4 only; else PKCS#1 v1.5 SHA-256), `--key auth|sig`
//! (default `sig`, the non-repudiation key), the PIN from `--pin`, `--pinentry PROGRAM`,
//! `--pinpad`, or typed on standard input.

mod common;

use cpscard::sign::{HashAlg, Mechanism, PinSource, PinentryProgram};
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let pss = common::take_flag(&mut args, "--pss");
    let pinpad = common::take_flag(&mut args, "--pinpad");
    let key = common::take_value(&mut args, "--key").unwrap_or_else(|| "sig".into());
    let pin = common::take_value(&mut args, "--pin");
    let pinentry = common::take_value(&mut args, "--pinentry");
    let mut token = common::open_token(&mut args)?;
    let file = args.first().ok_or("which file to sign?")?.clone();
    let data = std::fs::read(&file)?;

    let key = match key.as_str() {
        "sig" => token.signature_key(),
        "auth" => token.authentication_key(),
        other => return Err(format!("--key auth or sig, not {other}").into()),
    }
    .ok_or("the card has no such key")?
    .id
    .clone();
    let mechanism = if pss {
        Mechanism::pss_of(HashAlg::Sha256)
    } else {
        Mechanism::Sha256RsaPkcs
    };
    // checked before the PIN is asked: a CPS3 has no PSS
    token.sign_init(&key, mechanism)?;

    let status = token.pin_status(cpscard::card::PinKind::User)?;
    eprintln!("PIN: {} tries left", status.tries_left());
    let mut program;
    let source: PinSource<'_> = if let Some(p) = pin {
        PinSource::given(&p)?
    } else if pinpad {
        eprintln!("type your PIN on the reader's pinpad");
        PinSource::Pinpad
    } else if let Some(prog) = pinentry {
        program = PinentryProgram::new(prog);
        PinSource::Entry(&mut program)
    } else {
        eprint!("PIN: ");
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        PinSource::given(line.trim())?
    };
    token.login(source)?;

    let signature = token.sign(&key, mechanism, &data)?;
    let out = format!("{file}.sig");
    std::fs::write(&out, &signature)?;
    println!("{mechanism}: {} bytes written to {out}", signature.len());
    Ok(())
}
