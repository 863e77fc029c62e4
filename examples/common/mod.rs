//! What the examples share: opening a token from the command line, either an emulated card
//! (`--emulated cps3|cps4[:cps|cpf|cpe|cpa|cde|cps-expired]`, TEST keys) or a PC/SC reader
//! (`--reader NAME`, or the first reader with a card).

use cpscard::token::{Token, TokenOptions};
use std::error::Error;

/// Takes `--emulated …` / `--reader …` / `--cache` out of `args` and opens the token.
pub fn open_token(args: &mut Vec<String>) -> Result<Token, Box<dyn Error>> {
    let emulated = take_value(args, "--emulated");
    let reader = take_value(args, "--reader");
    let options = if take_flag(args, "--cache") {
        TokenOptions::with_default_cache()
    } else {
        TokenOptions::default()
    };
    if let Some(spec) = emulated {
        return open_emulated(&spec, options);
    }
    let ctx = cpscard::transport::pcsc::PcscContext::establish()?;
    let name = match reader {
        Some(r) => r,
        None => ctx
            .readers()?
            .into_iter()
            .find(|r| r.card_present())
            .map(|r| r.name)
            .ok_or("no reader with a card (or use --emulated cps3|cps4)")?,
    };
    let transport = ctx.connect(&name)?;
    Ok(Token::open(Box::new(transport), options)?)
}

#[cfg(feature = "emulator")]
fn open_emulated(spec: &str, options: TokenOptions) -> Result<Token, Box<dyn Error>> {
    use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
    let (generation, card) = spec.split_once(':').unwrap_or((spec, "cps"));
    let generation = match generation {
        "cps3" => Generation::Cps3,
        "cps4" => Generation::Cps4,
        other => return Err(format!("--emulated cps3 or cps4, not {other}").into()),
    };
    let card = EmulatedCard::builtin(generation, card)?;
    eprintln!("(emulated card: TEST keys)");
    Ok(Token::open(Box::new(EmulatedReader::new(card)), options)?)
}

#[cfg(not(feature = "emulator"))]
fn open_emulated(_: &str, _: TokenOptions) -> Result<Token, Box<dyn Error>> {
    Err("built without the emulator feature".into())
}

/// Removes `name VALUE` from `args`.
pub fn take_value(args: &mut Vec<String>, name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    if i + 1 >= args.len() {
        return None;
    }
    let v = args.remove(i + 1);
    args.remove(i);
    Some(v)
}

/// Removes the flag `name` from `args`; true if it was there.
pub fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    match args.iter().position(|a| a == name) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    }
}
