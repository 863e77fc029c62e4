//! `cps-tool pin status|verify|change|unblock` (CPS3.md §5, CPS4.md §6.2). Codes from
//! `--pin-file`/`--puk-file`/`--new-pin-file`, `CPS_PIN`/`CPS_PUK`/`CPS_NEW_PIN`, a pinentry
//! program, or a prompt showing the tries left (`token_open`); a code of the wrong format is
//! refused before any APDU; a VERIFY is never retried; the messages say what to do next.

use std::path::PathBuf;

use cpscard::card::PinKind;
use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::json;

use crate::error::CliError;
use crate::info::{pin_json, pin_text};
use crate::output::{self, JsonArg};
use crate::pin_source::{PinArgs, PinentryArg, Wanted};
use crate::select::CardArgs;
use crate::{interrupt, token_open};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    #[command(about = Msg::HelpCmdPinStatus.text())]
    Status(StatusArgs),
    #[command(about = Msg::HelpCmdPinVerify.text())]
    Verify(PinArgs),
    #[command(about = Msg::HelpCmdPinChange.text())]
    Change(ChangeArgs),
    #[command(about = Msg::HelpCmdPinUnblock.text())]
    Unblock(UnblockArgs),
}

impl Command {
    pub fn json(&self) -> bool {
        matches!(self, Command::Status(a) if a.out.json)
    }
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub out: JsonArg,
}

#[derive(clap::Args, Debug)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub pin: PinArgs,
    #[arg(long, value_name = "FILE", help = Msg::HelpNewPinFile.text())]
    pub new_pin_file: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct UnblockArgs {
    #[arg(long, value_name = "FILE", help = Msg::HelpPukFile.text())]
    pub puk_file: Option<PathBuf>,
    #[arg(long, value_name = "FILE", help = Msg::HelpNewPinFile.text())]
    pub new_pin_file: Option<PathBuf>,
    #[command(flatten)]
    pub pinentry: PinentryArg,
}

pub fn run(card: &CardArgs, cmd: &Command) -> Result<(), CliError> {
    // Codes given in files or the environment are checked before the card is even opened.
    match cmd {
        Command::Verify(a) => token_open::precheck(&[(Wanted::Pin, a.pin_file.as_ref())])?,
        Command::Change(a) => token_open::precheck(&[
            (Wanted::Pin, a.pin.pin_file.as_ref()),
            (Wanted::NewPin, a.new_pin_file.as_ref()),
        ])?,
        Command::Unblock(a) => token_open::precheck(&[
            (Wanted::Puk, a.puk_file.as_ref()),
            (Wanted::NewPin, a.new_pin_file.as_ref()),
        ])?,
        Command::Status(_) => {}
    }
    let mut token = token_open::open(card)?;
    match cmd {
        Command::Status(a) => {
            let pin = interrupt::card(|| Ok(token.pin_status(PinKind::User)?))?;
            let puk = interrupt::card(|| Ok(token.pin_status(PinKind::Puk)?))?;
            if a.out.json {
                output::print_json(&json!({
                    "schema": "cps-tool/pin-status/1",
                    "pin": pin_json(&pin),
                    "puk": pin_json(&puk),
                }));
            } else {
                println!("{}: {}", Msg::InfoPin, pin_text(&pin));
                println!("{}: {}", Msg::InfoPuk, pin_text(&puk));
            }
        }
        Command::Verify(a) => {
            token_open::login(&mut token, a)?;
            println!("{}", Msg::PinVerified);
        }
        Command::Change(a) => {
            let mut old = token_open::code(
                &mut token,
                Wanted::Pin,
                a.pin.pin_file.as_deref(),
                &a.pin.pinentry,
                false,
            )?;
            let mut new = token_open::new_pin(&token, a.new_pin_file.as_deref(), &a.pin.pinentry)?;
            interrupt::card(|| Ok(token.change_pin(old.source(), new.source())?))?;
            println!("{}", Msg::PinChanged);
        }
        Command::Unblock(a) => {
            let mut puk = token_open::code(
                &mut token,
                Wanted::Puk,
                a.puk_file.as_deref(),
                &a.pinentry,
                false,
            )?;
            let mut new = token_open::new_pin(&token, a.new_pin_file.as_deref(), &a.pinentry)?;
            interrupt::card(|| {
                token
                    .login_puk(puk.source())
                    .map_err(|e| CliError::from(e).for_pin(PinKind::Puk))
            })?;
            interrupt::card(|| Ok(token.reset_pin(new.source())?))?;
            println!(
                "{}",
                t!(Msg::PinUnblocked, tries = PinKind::User.max_tries())
            );
        }
    }
    Ok(())
}
