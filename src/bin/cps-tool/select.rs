//! Which card a command talks to: a PC/SC reader, or the in-process emulated card; `--wait`
//! for a card to be inserted.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpscard::emulator::{EmulatedCard, Generation};
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::{PcscContext, ReaderInfo};
use cpscard::transport::{Transport, TransportError};

use crate::error::CliError;
use crate::faults::{FaultSpec, ForeignAtr};
use crate::{interrupt, progress};

/// Card selection, given before the command (`cps-tool --reader NAME info`).
#[derive(clap::Args, Debug, Default)]
pub struct CardArgs {
    #[arg(long, value_name = "NAME", conflicts_with = "emulated", global = true,
          help = Msg::HelpReader.text())]
    pub reader: Option<String>,

    #[arg(long, value_name = "cps3|cps4", global = true, help = Msg::HelpEmulated.text())]
    pub emulated: Option<Generation>,

    #[arg(long = "card", value_name = "KIND", default_value = "cps", requires = "emulated",
          global = true, help = Msg::HelpCard.text())]
    pub holder: String,

    #[arg(long, value_name = "PATH", requires = "emulated", global = true,
          help = Msg::HelpImage.text())]
    pub image: Option<PathBuf>,

    #[arg(long, global = true, help = Msg::HelpWait.text())]
    pub wait: bool,

    /// Test hook (hidden): faults injected into the emulated card, see `faults.rs`.
    #[arg(long = "emulated-fault", value_name = "SPEC", requires = "emulated", global = true,
          hide = true, help = Msg::HelpFault.text())]
    pub faults: Vec<FaultSpec>,
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
        return open_emulated(args, generation);
    }
    let ctx = PcscContext::establish()?;
    let name = match &args.reader {
        Some(name) => {
            if args.wait {
                wait_for_card(&ctx, Some(name))?;
            }
            name.clone()
        }
        None => match first_reader_with_card(&ctx) {
            Err(CliError::Transport(TransportError::NoCard | TransportError::NoReaders))
                if args.wait =>
            {
                wait_for_card(&ctx, None)?
            }
            other => other?,
        },
    };
    Ok(Box::new(ctx.connect(&name)?))
}

fn open_emulated(args: &CardArgs, generation: Generation) -> Result<Box<dyn Transport>, CliError> {
    let mut card = emulated_card(generation, &args.holder, args.image.as_deref())?;
    let mut atr = None;
    let mut insert_after = None;
    for spec in &args.faults {
        spec.apply(&mut card, &mut atr, &mut insert_after);
    }
    let shared = Arc::new(Mutex::new(card));
    crate::faults::watch(&args.faults, &shared);
    if let Some(delay) = insert_after {
        insert_later(Arc::clone(&shared), delay);
        if !args.wait {
            return Err(TransportError::NoCard.into());
        }
        let _spinner = progress::Spinner::start(Msg::WaitingForAnyCard.text());
        loop {
            let present = shared.lock().map(|c| c.is_present()).unwrap_or(false);
            if present {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let reader = crate::faults::reader(&args.faults, shared);
    Ok(match atr {
        Some(atr) => Box::new(ForeignAtr::new(Box::new(reader), atr)),
        None => Box::new(reader),
    })
}

/// The card is "out" now and inserted after `delay` (fault `insert-after`).
fn insert_later(card: Arc<Mutex<EmulatedCard>>, delay: Duration) {
    if let Ok(mut c) = card.lock() {
        c.remove();
    }
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        if let Ok(mut c) = card.lock() {
            c.reinsert();
        }
    });
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

/// Waits (showing so on a terminal) until a card is in `reader`, or in any reader; returns the
/// reader's name. Ctrl-C ends the wait (nothing is connected yet).
pub fn wait_for_card(ctx: &PcscContext, reader: Option<&str>) -> Result<String, CliError> {
    let mut known: Vec<ReaderInfo> = ctx.readers()?;
    let wanted = |r: &ReaderInfo| r.card_present() && reader.map_or(true, |n| r.name == n);
    if let Some(r) = known.iter().find(|r| wanted(r)) {
        return Ok(r.name.clone());
    }
    if let Some(name) = reader {
        if !known.iter().any(|r| r.name == name) {
            return Err(TransportError::ReaderNotFound(name.into()).into());
        }
    }
    let text = match reader {
        Some(name) => t!(Msg::WaitingForCard, reader = name),
        None => Msg::WaitingForAnyCard.text(),
    };
    let _spinner = progress::Spinner::start(text);
    loop {
        interrupt::checkpoint()?;
        let events = ctx.wait_for_change(&known, Some(Duration::from_millis(250)))?;
        cpscard::transport::pcsc::apply_events(&mut known, &events);
        if let Some(r) = known.iter().find(|r| wanted(r)) {
            return Ok(r.name.clone());
        }
    }
}
