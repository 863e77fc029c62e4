//! Opening the token of the selected card (with progress on a slow first read), and getting the
//! codes the card commands need: PIN, PUK, new PIN.
//!
//! Where a code comes from, in this order (DESIGN §5): `--pin-file`/`--puk-file`/
//! `--new-pin-file`, then `CPS_PIN`/`CPS_PUK`/`CPS_NEW_PIN`, then `--pinentry PROGRAM` (or
//! `CPS_PINENTRY`), then the reader's pinpad (login only), then a prompt on the terminal
//! without echo. The tries left are read first (a status query, no try used): a blocked code is
//! reported without asking for it, and every prompt shows them. A VERIFY is never retried.

use std::path::{Path, PathBuf};

use cpscard::card::{Pin, PinKind, PinState, PinStatus};
use cpscard::i18n::Msg;
use cpscard::sign::{PinEntry, PinPurpose, PinRequest, PinSource, PinentryProgram, PromptTexts};
use cpscard::t;
use cpscard::token::{Token, TokenOptions};

use crate::error::CliError;
use crate::interrupt;
use crate::pin_source::{self, PinArgs, PinentryArg, Wanted};
use crate::progress::Spinner;
use crate::select::{self, CardArgs};

/// Connects and reads the card (a spinner on a terminal after 400 ms).
pub fn open(card: &CardArgs) -> Result<Token, CliError> {
    let transport = select::open(card)?;
    interrupt::card(|| {
        let _spinner = Spinner::start(Msg::ReadingCard.text());
        Token::open(transport, TokenOptions::default()).map_err(CliError::from)
    })
}

/// The words of a pinentry dialog, from the message table, so that they follow the locale
/// (`{serial}` and `{n}` are left for [`PromptTexts::describe`] to fill).
pub fn prompt_texts() -> PromptTexts {
    PromptTexts {
        title: Msg::PinentryTitle.text(),
        card: Msg::PinentryCard.text(),
        pin: Msg::PinWordPin.text(),
        puk: Msg::PinWordPuk.text(),
        old_pin: Msg::PinentryOldPin.text(),
        new_pin: Msg::PinWordNewPin.text(),
        tries_many: Msg::PinentryTriesMany.text(),
        tries_one: Msg::PinentryTriesOne.text(),
        prompt: Msg::PinentryLabel.text(),
    }
}

/// A code ready to be handed to the token.
pub enum Code {
    /// Typed, or read from a file or the environment: format already checked.
    Given(Pin),
    /// Asked by a pinentry program when the token needs it (with the tries left).
    Pinentry(Box<PinentryProgram>),
    /// Typed on the reader's keypad; never seen by the host.
    Pinpad,
}

impl Code {
    pub fn source(&mut self) -> PinSource<'_> {
        match self {
            Code::Given(pin) => PinSource::Given(pin.clone()),
            Code::Pinentry(p) => PinSource::Entry(p.as_mut()),
            Code::Pinpad => PinSource::Pinpad,
        }
    }
}

/// The status of `kind`, or [`CliError::PinBlocked`] when it is blocked (nothing else sent).
pub fn status_unless_blocked(token: &mut Token, kind: PinKind) -> Result<PinStatus, CliError> {
    let status = interrupt::card(|| Ok(token.pin_status(kind)?))?;
    if status.state == PinState::Blocked {
        return Err(CliError::PinBlocked(kind));
    }
    Ok(status)
}

/// The terminal prompt for `wanted`, with the card label and the tries left.
fn prompt(wanted: Wanted, label: &str, tries: u8) -> String {
    match (wanted, tries) {
        (Wanted::Puk, n) => t!(Msg::PromptPuk, label = label, tries = n),
        (_, 1) => t!(Msg::PromptPinLastTry, label = label),
        (_, n) => t!(Msg::PromptPin, label = label, tries = n),
    }
}

fn pinentry_program(arg: &PinentryArg) -> Option<PinentryProgram> {
    arg.pinentry.as_ref().map(|program| PinentryProgram {
        program: program.clone(),
        texts: prompt_texts(),
    })
}

/// Gets the PIN or the PUK to verify (`wanted` is [`Wanted::Pin`] or [`Wanted::Puk`]), after
/// checking its counter. `pinpad` allows the reader's keypad.
pub fn code(
    token: &mut Token,
    wanted: Wanted,
    file: Option<&Path>,
    pinentry: &PinentryArg,
    pinpad: bool,
) -> Result<Code, CliError> {
    let kind = wanted.kind();
    let status = status_unless_blocked(token, kind)?;
    if let Some(pin) = pin_source::from_file_or_env(wanted, file)? {
        return Ok(Code::Given(pin));
    }
    if let Some(p) = pinentry_program(pinentry) {
        return Ok(Code::Pinentry(Box::new(p)));
    }
    let keypad = token
        .info()
        .pinpad
        .is_some_and(|p| p.verify_pin_direct.is_some());
    if pinpad && keypad && kind == PinKind::User {
        eprintln!("{}", t!(Msg::PinpadPrompt, tries = status.tries_left()));
        return Ok(Code::Pinpad);
    }
    let label = token.info().label.clone();
    let text = prompt(wanted, &label, status.tries_left());
    Ok(Code::Given(pin_source::get(wanted, None, &text)?))
}

/// The new PIN of a change or an unblock: file, environment, pinentry, or typed twice.
///
/// Asked here rather than through the token's provider path: the token shows the PIN's tries
/// left with a request and refuses when they are 0, which is the very state an unblock is for.
pub fn new_pin(
    token: &Token,
    file: Option<&Path>,
    pinentry: &PinentryArg,
) -> Result<Code, CliError> {
    if let Some(pin) = pin_source::from_file_or_env(Wanted::NewPin, file)? {
        return Ok(Code::Given(pin));
    }
    if let Some(mut p) = pinentry_program(pinentry) {
        let request = PinRequest {
            kind: PinKind::User,
            purpose: PinPurpose::NewPin,
            label: token.info().label.clone(),
            serial: token.info().serial.clone(),
            tries_left: None,
            max_tries: PinKind::User.max_tries(),
        };
        let typed = p.get_pin(&request)?;
        return Ok(Code::Given(pin_source::check(
            Wanted::NewPin,
            typed.as_bytes(),
        )?));
    }
    Ok(Code::Given(pin_source::get_new_pin(None)?))
}

/// Logs in with the user PIN (one VERIFY, never retried).
pub fn login(token: &mut Token, pins: &PinArgs) -> Result<(), CliError> {
    let mut code = code(
        token,
        Wanted::Pin,
        pins.pin_file.as_deref(),
        &pins.pinentry,
        true,
    )?;
    interrupt::card(|| Ok(token.login(code.source())?))
}

/// Checks the codes given in files or the environment before the card is even opened, so that
/// a code of the wrong format costs nothing at all.
pub fn precheck(codes: &[(Wanted, Option<&PathBuf>)]) -> Result<(), CliError> {
    for (wanted, file) in codes {
        pin_source::from_file_or_env(*wanted, file.map(PathBuf::as_path))?;
    }
    Ok(())
}
