//! cps-tool: the card CLI for testers and integrators.
//!
//! Picks a card (`--reader NAME`, `--emulated cps3|cps4`, or the first reader holding a card),
//! then runs one command. One file per command group; errors and exit codes in `error.rs`.

mod apdu;
mod emulate;
mod error;
mod readers;
mod select;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (card or reader error, card image error)
  2  usage error or bad input (e.g. a malformed APDU); nothing was sent
  3  no PC/SC service (pcscd is not running)
  4  no reader (none at all, or the one named by --reader)
  5  no card (empty reader, or the card was removed)";

#[derive(Parser)]
#[command(name = "cps-tool", version, about = "CPS3/CPS4 card tool", after_help = EXIT_CODES)]
struct Cli {
    #[command(flatten)]
    card: select::CardArgs,

    /// More log output (-v info, -vv debug, -vvv APDU traces with PINs masked); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the PC/SC readers (or the emulated one) with card presence and ATR.
    Readers(readers::Args),
    /// Sends raw APDUs in order, in one card transaction (no automatic GET RESPONSE).
    Apdu(apdu::Args),
    /// Serves an emulated card to pcscd through vpcd until SIGTERM/SIGINT.
    Emulate(emulate::Args),
}

fn main() {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp_millis()
        .init();
    let result = match cli.command {
        Command::Readers(args) => readers::run(&cli.card, &args),
        Command::Apdu(args) => apdu::run(&cli.card, &args),
        Command::Emulate(args) => emulate::run(&cli.card, &args),
    };
    if let Err(e) = result {
        eprintln!("cps-tool: {e}");
        std::process::exit(e.exit_code());
    }
}
