//! `cps-tool readers`: the readers, whether a card is in each, its ATR and what card it is.

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::{CardPresence, PcscContext, ReaderInfo};
use cpscard::transport::TransportError;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::{self, JsonArg};
use crate::select::{self, CardArgs};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub out: JsonArg,
}

/// One line per reader: `NAME: card present, ATR HEX [KIND]` / `NAME: no card` / …, KIND
/// being the card recognised by its ATR (`card::detect`), or `unknown card`.
pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    if card.emulated.is_some() {
        let t = select::open(card)?;
        let atr = t.atr().to_vec();
        if args.out.json {
            let (kind, generation) = output::kind_json(&atr);
            output::print_json(&json!({
                "schema": "cps-tool/readers/1",
                "readers": [{
                    "name": t.reader_name(),
                    "emulated": true,
                    "card": "present",
                    "atr": hex::encode_upper(&atr),
                    "kind": kind,
                    "generation": generation,
                    "in_use": false,
                    "exclusive": false,
                }]
            }));
        } else {
            println!(
                "{}",
                t!(
                    Msg::ReaderCardPresent,
                    reader = t.reader_name(),
                    atr = hex::encode_upper(&atr),
                    kind = output::kind_text(&atr)
                )
            );
        }
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
    if args.out.json {
        output::print_json(&json!({
            "schema": "cps-tool/readers/1",
            "readers": readers.iter().map(reader_json).collect::<Vec<_>>(),
        }));
    } else {
        for r in &readers {
            println!("{}", line(r));
        }
    }
    Ok(())
}

pub fn presence_name(p: CardPresence) -> &'static str {
    match p {
        CardPresence::Present => "present",
        CardPresence::Mute => "mute",
        CardPresence::Empty => "empty",
        CardPresence::Unavailable => "unavailable",
    }
}

fn reader_json(r: &ReaderInfo) -> Value {
    let (kind, generation) = if r.card == CardPresence::Present {
        output::kind_json(&r.atr)
    } else {
        (Value::Null, Value::Null)
    };
    json!({
        "name": r.name,
        "emulated": false,
        "card": presence_name(r.card),
        "atr": if r.card_present() { Value::from(hex::encode_upper(&r.atr)) } else { Value::Null },
        "kind": kind,
        "generation": generation,
        "in_use": r.in_use,
        "exclusive": r.exclusive,
    })
}

fn line(r: &ReaderInfo) -> String {
    let atr = hex::encode_upper(&r.atr);
    let mut s = match r.card {
        CardPresence::Present => t!(
            Msg::ReaderCardPresent,
            reader = r.name,
            atr = atr,
            kind = output::kind_text(&r.atr)
        ),
        CardPresence::Mute => t!(Msg::ReaderCardMute, reader = r.name, atr = atr),
        CardPresence::Empty => t!(Msg::ReaderEmpty, reader = r.name),
        CardPresence::Unavailable => t!(Msg::ReaderUnavailable, reader = r.name),
    };
    if r.exclusive {
        s.push_str(&Msg::ReaderExclusive.text());
    } else if r.in_use {
        s.push_str(&Msg::ReaderInUse.text());
    }
    s
}
