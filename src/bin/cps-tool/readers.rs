//! `cps-tool readers`: the readers, whether a card is in each, and its ATR.

use cpscard::transport::pcsc::{CardPresence, PcscContext, ReaderInfo};
use cpscard::transport::TransportError;

use crate::error::CliError;
use crate::select::{self, CardArgs};

#[derive(clap::Args, Debug)]
pub struct Args {}

/// One line per reader: `NAME: card present, ATR HEX [KIND]` / `NAME: no card` / …, KIND
/// being the card recognised by its ATR (`card::detect`), or `unknown card`.
pub fn run(card: &CardArgs, _args: &Args) -> Result<(), CliError> {
    if card.emulated.is_some() {
        let t = select::open(card)?;
        println!(
            "{}: card present, ATR {} [{}]",
            t.reader_name(),
            hex::encode_upper(t.atr()),
            kind(t.atr())
        );
        return Ok(());
    }
    let ctx = PcscContext::establish()?;
    let mut readers = ctx.readers()?;
    if let Some(name) = &card.reader {
        readers.retain(|r| &r.name == name);
        if readers.is_empty() {
            return Err(TransportError::ReaderNotFound(name.clone()).into());
        }
    }
    if readers.is_empty() {
        return Err(TransportError::NoReaders.into());
    }
    for r in &readers {
        println!("{}", line(r));
    }
    Ok(())
}

fn kind(atr: &[u8]) -> String {
    match cpscard::card::detect(atr) {
        Some(k) => k.to_string(),
        None => "unknown card".into(),
    }
}

fn line(r: &ReaderInfo) -> String {
    let mut s = match r.card {
        CardPresence::Present => format!(
            "{}: card present, ATR {} [{}]",
            r.name,
            hex::encode_upper(&r.atr),
            kind(&r.atr)
        ),
        CardPresence::Mute => format!(
            "{}: card present but mute, ATR {}",
            r.name,
            hex::encode_upper(&r.atr)
        ),
        CardPresence::Empty => format!("{}: no card", r.name),
        CardPresence::Unavailable => format!("{}: reader unavailable", r.name),
    };
    if r.exclusive {
        s.push_str(" (used exclusively by another application)");
    } else if r.in_use {
        s.push_str(" (in use)");
    }
    s
}
