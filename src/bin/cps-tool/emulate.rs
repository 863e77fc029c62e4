//! `cps-tool emulate`: serves an emulated card to pcscd through vpcd (DESIGN §6) until
//! SIGTERM or SIGINT; the card is then "removed" (the vpcd connection closes).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use cpscard::emulator::vpcd::{self, VpcdOptions};
use cpscard::emulator::{EmulatedCard, Generation, Latency, VirtualCard};
use cpscard::transport::Protocol;

use cpscard::i18n::Msg;
use cpscard::t;

use crate::error::CliError;
use crate::select::{self, CardArgs};

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LatencyArg {
    // answers at once
    None,
    // per-APDU and per-RSA delays of a real card behind a CCID reader
    Realistic,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long = "card", value_name = "cps3|cps4", help = Msg::HelpEmulateCard.text())]
    pub generation: Generation,

    #[arg(long, value_name = "KIND", default_value = "cps", help = Msg::HelpEmulateHolder.text())]
    pub holder: String,

    #[arg(long, value_name = "PATH", help = Msg::HelpEmulateImage.text())]
    pub image: Option<PathBuf>,

    #[arg(long, value_name = "HOST:PORT", default_value = vpcd::DEFAULT_ADDR,
          help = Msg::HelpEmulateVpcd.text())]
    pub vpcd: String,

    #[arg(long, value_enum, default_value = "none", help = Msg::HelpEmulateLatency.text())]
    pub latency: LatencyArg,

    /// Testing (hidden): the card's counters as JSON in PATH, rewritten after every APDU and
    /// before its answer leaves, so that a client reads them as soon as it has its answer.
    #[arg(long, value_name = "PATH", hide = true)]
    pub stats: Option<PathBuf>,

    /// Test hook (hidden): faults the bridge carries out, see `faults::apply_for_vpcd`.
    #[arg(long = "fault", value_name = "SPEC", hide = true, help = Msg::HelpFault.text())]
    pub faults: Vec<crate::faults::FaultSpec>,
}

/// The card, with its counters written to a file after each APDU (`--stats`).
struct Counted<'a> {
    card: &'a mut EmulatedCard,
    path: PathBuf,
}

impl Counted<'_> {
    fn write(&self) {
        let tmp = self.path.with_extension("tmp");
        let doc = crate::faults::stats_json(self.card.stats()).to_string();
        if let Err(e) = std::fs::write(&tmp, doc).and_then(|_| std::fs::rename(&tmp, &self.path)) {
            log::error!(target: "cli", "stats {}: {e}", self.path.display());
        }
    }
}

impl VirtualCard for Counted<'_> {
    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }
    fn protocol(&self) -> Protocol {
        self.card.protocol()
    }
    fn power_on(&mut self) {
        self.card.power_on()
    }
    fn power_off(&mut self) {
        self.card.power_off()
    }
    fn reset(&mut self) {
        self.card.reset()
    }
    fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let answer = self.card.process(apdu);
        self.write();
        answer
    }
    fn is_present(&self) -> bool {
        VirtualCard::is_present(&*self.card)
    }
    fn reinsert(&mut self) {
        VirtualCard::reinsert(&mut *self.card)
    }
}

pub fn run(card_args: &CardArgs, args: &Args) -> Result<(), CliError> {
    if card_args.emulated.is_some() || card_args.reader.is_some() {
        return Err(CliError::Usage(Msg::ErrEmulateOwnOptions.text()));
    }
    let mut card = select::emulated_card(args.generation, &args.holder, args.image.as_deref())?;
    if let LatencyArg::Realistic = args.latency {
        card.set_latency(Latency::Realistic);
    }
    let reinsert_after =
        crate::faults::apply_for_vpcd(&args.faults, &mut card).map_err(CliError::Usage)?;

    // SIGTERM / SIGINT raise the flag the bridge polls; a second SIGINT ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
            .map_err(|e| CliError::Other(t!(Msg::ErrSignal, sig = sig, detail = e)))?;
    }

    let image = match &args.image {
        Some(p) => t!(Msg::EmulateImage, path = p.display()),
        None => String::new(),
    };
    let generation = match args.generation {
        Generation::Cps3 => "CPS3",
        Generation::Cps4 => "CPS4",
    };
    eprintln!(
        "cps-tool: {}",
        t!(
            Msg::EmulateServing,
            generation = generation,
            holder = args.holder,
            image = image,
            addr = args.vpcd
        )
    );
    let opts = VpcdOptions {
        addr: args.vpcd.clone(),
        reinsert_after,
        ..VpcdOptions::default()
    };
    let served = match &args.stats {
        Some(path) => {
            let counted = Counted {
                card: &mut card,
                path: path.clone(),
            };
            counted.write();
            let mut counted = counted;
            vpcd::serve(&mut counted, &opts, &stop)
        }
        None => vpcd::serve(&mut card, &opts, &stop),
    };
    served.map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(err) = card.save_error() {
        return Err(CliError::Other(t!(Msg::ErrImageNotSaved, detail = err)));
    }
    Ok(())
}
