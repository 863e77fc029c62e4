//! cps-tool: the card CLI for health professionals, testers and integrators.
//!
//! Picks a card (`--reader NAME`, `--emulated cps3|cps4`, or the first reader holding a card),
//! then runs one command. One file per command group; errors and exit codes in `error.rs`;
//! every text from the message table (`cpscard::i18n`), English or French by the locale.

mod apdu;
mod bench;
mod cache;
mod certs;
mod completions;
mod decrypt;
mod doctor;
mod emulate;
mod error;
mod faults;
mod info;
mod interrupt;
mod objects;
mod output;
mod pin;
mod pin_source;
mod progress;
mod readers;
mod register;
mod select;
mod sign;
mod sign_args;
mod token_open;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use cpscard::i18n::Msg;

use crate::error::CliError;

#[derive(Parser)]
#[command(name = "cps-tool", version, about = Msg::AboutTool.text(),
          after_help = Msg::ExitCodesHelp.text())]
struct Cli {
    #[command(flatten)]
    card: select::CardArgs,

    #[arg(short, long, action = clap::ArgAction::Count, global = true,
          help = Msg::HelpVerbose.text())]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(about = Msg::HelpCmdReaders.text())]
    Readers(readers::Args),
    #[command(about = Msg::HelpCmdInfo.text())]
    Info(info::Args),
    #[command(about = Msg::HelpCmdCerts.text())]
    Certs(certs::Args),
    #[command(about = Msg::HelpCmdObjects.text())]
    Objects(objects::Args),
    #[command(about = Msg::HelpCmdPin.text(), subcommand)]
    Pin(pin::Command),
    #[command(about = Msg::HelpCmdSign.text())]
    Sign(sign::SignArgs),
    #[command(about = Msg::HelpCmdVerify.text())]
    Verify(sign::VerifyArgs),
    #[command(about = Msg::HelpCmdDecrypt.text())]
    Decrypt(decrypt::Args),
    #[command(about = Msg::HelpCmdDoctor.text())]
    Doctor(doctor::Args),
    #[command(about = Msg::HelpCmdApdu.text())]
    Apdu(apdu::Args),
    #[command(about = Msg::HelpCmdEmulate.text())]
    Emulate(emulate::Args),
    #[command(about = Msg::HelpCmdCache.text(), subcommand)]
    Cache(cache::Command),
    #[command(about = Msg::HelpCmdCompletions.text())]
    Completions(completions::CompletionArgs),
    #[command(about = Msg::HelpCmdManpage.text())]
    Manpage,
    #[command(about = Msg::HelpCmdRegister.text())]
    Register(register::Args),
    /// Performance measures against an emulated card through pcscd (hidden: for developers,
    /// tests/e2e/bench.sh; README "Performance").
    #[command(hide = true)]
    Bench(bench::Args),
    /// Test hook (hidden): loads a PKCS#11 module in this process and reports on stdout
    /// (`doctor` runs it as a child, so that a crashing module cannot take doctor down).
    #[command(hide = true)]
    ProbeModule(doctor::module::ProbeArgs),
}

impl Command {
    /// Whether the command's output is JSON (errors then also go out as JSON documents).
    fn json(&self) -> bool {
        match self {
            Command::Readers(a) => a.out.json,
            Command::Doctor(a) => a.out.json,
            Command::Info(a) => a.out.json,
            Command::Certs(a) => a.out.json,
            Command::Objects(a) => a.out.json,
            Command::Pin(p) => p.json(),
            _ => false,
        }
    }
}

fn main() {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp_millis()
        .init();
    let json = cli.command.json();
    let stats = faults::stats_path(&cli.card.faults);
    let result = run(cli);
    faults::write_stats(stats);
    if let Err(e) = result {
        if !matches!(e, CliError::DoctorProblems { .. }) {
            output::report_error(&e, json);
        }
        std::process::exit(e.exit_code());
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    // `emulate` handles its own signals (a clean vpcd stop, the image saved).
    if !matches!(cli.command, Command::Emulate(_)) {
        interrupt::install()?;
    }
    match cli.command {
        Command::Readers(args) => readers::run(&cli.card, &args),
        Command::Info(args) => info::run(&cli.card, &args),
        Command::Certs(args) => certs::run(&cli.card, &args),
        Command::Objects(args) => objects::run(&cli.card, &args),
        Command::Pin(cmd) => pin::run(&cli.card, &cmd),
        Command::Sign(args) => sign::sign(&cli.card, &args),
        Command::Verify(args) => sign::verify(&cli.card, &args),
        Command::Decrypt(args) => decrypt::run(&cli.card, &args),
        Command::Doctor(args) => doctor::run(&cli.card, &args),
        Command::Apdu(args) => apdu::run(&cli.card, &args),
        Command::Emulate(args) => emulate::run(&cli.card, &args),
        Command::Bench(args) => bench::run(&args),
        Command::Cache(cmd) => cache::run(&cmd),
        Command::Completions(args) => completions::completions(Cli::command(), &args),
        Command::Manpage => completions::manpage(Cli::command()),
        Command::Register(args) => register::run(&args),
        Command::ProbeModule(args) => doctor::module::probe_main(&args),
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's options are consistent (clap's own checks: no option name used
    /// twice, hidden ones included, e.g. a subcommand `--card` beside the global one).
    #[test]
    fn the_command_line_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
