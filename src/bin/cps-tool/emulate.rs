//! `cps-tool emulate`: serves an emulated card to pcscd through vpcd (DESIGN §6) until
//! SIGTERM or SIGINT; the card is then "removed" (the vpcd connection closes).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use cpscard::emulator::vpcd::{self, VpcdOptions};
use cpscard::emulator::{Generation, Latency};

use crate::error::CliError;
use crate::select::{self, CardArgs};

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LatencyArg {
    /// Answers at once.
    None,
    /// Per-APDU and per-RSA delays of a real card behind a CCID reader.
    Realistic,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Card generation to emulate.
    #[arg(long = "card", value_name = "cps3|cps4")]
    pub generation: Generation,

    /// Holder kind: cps, cpf, cpe, cpa, cde or cps-expired.
    #[arg(long, value_name = "KIND", default_value = "cps")]
    pub holder: String,

    /// Card image: loaded, or created from the built-in card; counters are saved back.
    #[arg(long, value_name = "PATH")]
    pub image: Option<PathBuf>,

    /// vpcd address (slot 0 of a Debian vpcd is 127.0.0.1:35963, slot 1 :35964).
    #[arg(long, value_name = "HOST:PORT", default_value = vpcd::DEFAULT_ADDR)]
    pub vpcd: String,

    /// Card timing.
    #[arg(long, value_enum, default_value = "none")]
    pub latency: LatencyArg,
}

pub fn run(card_args: &CardArgs, args: &Args) -> Result<(), CliError> {
    if card_args.emulated.is_some() || card_args.reader.is_some() {
        return Err(CliError::Usage(
            "emulate takes its card from its own options (emulate --card cps3|cps4 --holder ...)"
                .into(),
        ));
    }
    let mut card = select::emulated_card(args.generation, &args.holder, args.image.as_deref())?;
    if let LatencyArg::Realistic = args.latency {
        card.set_latency(Latency::Realistic);
    }

    // SIGTERM / SIGINT raise the flag the bridge polls; a second SIGINT ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
            .map_err(|e| CliError::Other(format!("cannot handle signal {sig}: {e}")))?;
    }

    eprintln!(
        "cps-tool: serving an EMULATED {} {} card (test keys{}) to vpcd at {}; stop with SIGTERM or Ctrl-C",
        match args.generation {
            Generation::Cps3 => "CPS3",
            Generation::Cps4 => "CPS4",
        },
        args.holder,
        match &args.image {
            Some(p) => format!(", image {}", p.display()),
            None => String::new(),
        },
        args.vpcd
    );
    let opts = VpcdOptions {
        addr: args.vpcd.clone(),
        ..VpcdOptions::default()
    };
    vpcd::serve(&mut card, &opts, &stop).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(err) = card.save_error() {
        return Err(CliError::Other(format!("card image not saved: {err}")));
    }
    Ok(())
}
