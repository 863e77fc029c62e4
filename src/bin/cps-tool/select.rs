//! Which card a command talks to: a PC/SC reader, or the in-process emulated card.

use std::path::PathBuf;

use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
use cpscard::transport::pcsc::PcscContext;
use cpscard::transport::{Transport, TransportError};

use crate::error::CliError;

/// Card selection, given before the command (`cps-tool --reader NAME apdu …`).
#[derive(clap::Args, Debug)]
pub struct CardArgs {
    /// PC/SC reader to use (default: the first reader holding a card).
    #[arg(long, value_name = "NAME", conflicts_with = "emulated")]
    pub reader: Option<String>,

    /// Use a built-in emulated card in an in-process reader instead (no pcscd needed).
    /// Its keys are TEST keys.
    #[arg(long, value_name = "cps3|cps4")]
    pub emulated: Option<Generation>,

    /// Holder kind of the emulated card: cps, cpf, cpe, cpa, cde or cps-expired.
    #[arg(
        long = "card",
        value_name = "KIND",
        default_value = "cps",
        requires = "emulated"
    )]
    pub holder: String,

    /// Card image of the emulated card: loaded, or created from the built-in card; its
    /// counters (PIN tries, ...) are saved back at every change.
    #[arg(long, value_name = "PATH", requires = "emulated")]
    pub image: Option<PathBuf>,
}

/// Builds the emulated card these options ask for (also used by `emulate`).
pub fn emulated_card(
    generation: Generation,
    holder: &str,
    image: Option<&std::path::Path>,
) -> Result<EmulatedCard, CliError> {
    Ok(match image {
        Some(path) => EmulatedCard::open_image(path, generation, holder)?,
        None => EmulatedCard::builtin(generation, holder)?,
    })
}

/// Connects to the selected card.
pub fn open(args: &CardArgs) -> Result<Box<dyn Transport>, CliError> {
    if let Some(generation) = args.emulated {
        let card = emulated_card(generation, &args.holder, args.image.as_deref())?;
        return Ok(Box::new(EmulatedReader::new(card)));
    }
    let ctx = PcscContext::establish()?;
    let name = match &args.reader {
        Some(name) => name.clone(),
        None => first_reader_with_card(&ctx)?,
    };
    Ok(Box::new(ctx.connect(&name)?))
}

fn first_reader_with_card(ctx: &PcscContext) -> Result<String, CliError> {
    let readers = ctx.readers()?;
    if readers.is_empty() {
        return Err(TransportError::NoReaders.into());
    }
    readers
        .into_iter()
        .find(|r| r.card_present())
        .map(|r| r.name)
        .ok_or(CliError::Transport(TransportError::NoCard))
}
