//! Doctor: the PC/SC service, the readers (pinpad or not) and the card in each; `--wait` waits
//! for a card first when none is in (the named reader, or any reader).

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::{CardPresence, PcscContext};
use cpscard::transport::{Transport, TransportError};
use serde_json::json;

use super::{card, Check, Context, Status};
use crate::error::{transport_text, CliError};
use crate::select::{self, CardArgs};

/// The checks of the PC/SC part; `Err` only when Ctrl-C ends `--wait`.
pub fn checks(card_args: &CardArgs, ctx: &mut Context) -> Result<Vec<Check>, CliError> {
    let mut out = Vec::new();
    if card_args.emulated.is_some() {
        out.push(Check::new(
            "pcsc.service",
            Status::Skip,
            Msg::DoctorPcscEmulated.text(),
        ));
        match select::open(card_args) {
            Ok(t) => {
                out.push(reader_check(
                    t.reader_name(),
                    Some(t.pinpad().is_some()),
                    true,
                ));
                out.extend(card::checks(t, ctx));
            }
            Err(CliError::Interrupted) => return Err(CliError::Interrupted),
            Err(e) => out.push(open_failed(card_args, e)),
        }
        return Ok(out);
    }
    let readers = PcscContext::establish().and_then(|pcsc| Ok((pcsc.readers()?, pcsc)));
    let (mut readers, pcsc) = match readers {
        Ok(r) => r,
        Err(e) => {
            out.push(service_failed(&e));
            return Ok(out);
        }
    };
    out.push(Check::new(
        "pcsc.service",
        Status::Ok,
        Msg::DoctorPcscOk.text(),
    ));
    let wanted = |name: &str| card_args.reader.as_deref().map_or(true, |r| r == name);
    if card_args.wait && !readers.iter().any(|r| r.card_present() && wanted(&r.name)) {
        match select::wait_for_card(&pcsc, card_args.reader.as_deref())
            .and_then(|_| Ok(pcsc.readers()?))
        {
            Ok(r) => readers = r,
            Err(CliError::Interrupted) => return Err(CliError::Interrupted),
            // the named reader is not there: the lines below say so
            Err(_) => {}
        }
    }
    if readers.is_empty() {
        out.push(
            Check::new("pcsc.reader", Status::Fail, Msg::ErrNoReaders.text())
                .fix(Msg::ErrNoReadersFix.text()),
        );
        return Ok(out);
    }
    if let Some(name) = &card_args.reader {
        if !readers.iter().any(|r| &r.name == name) {
            let err = CliError::from(TransportError::ReaderNotFound(name.clone()));
            out.push(
                Check::new("pcsc.reader", Status::Fail, err.to_string())
                    .fix(err.fix().unwrap_or_else(|| Msg::ErrNoReadersFix.text()))
                    .details(json!({ "reader": name })),
            );
        }
    }
    let mut cards = 0;
    for r in readers.iter().filter(|r| wanted(&r.name)) {
        let name = r.name.clone();
        // The pinpad features are only read through a connection (with a card).
        let connected: Option<Result<Box<dyn Transport>, TransportError>> = match r.card {
            CardPresence::Present => Some(
                pcsc.connect(&name)
                    .map(|t| Box::new(t) as Box<dyn Transport>),
            ),
            _ => None,
        };
        let pinpad = match &connected {
            Some(Ok(t)) => Some(t.pinpad().is_some()),
            _ => None,
        };
        out.push(reader_check(&name, pinpad, false));
        match (r.card, connected) {
            (CardPresence::Present, Some(Ok(t))) => {
                cards += 1;
                out.extend(card::checks(t, ctx));
            }
            (CardPresence::Present, Some(Err(e))) => {
                cards += 1;
                let err = CliError::from(e);
                out.push(
                    Check::new(
                        "card.present",
                        Status::Fail,
                        t!(Msg::DoctorCardUnreadable, reader = name, detail = err),
                    )
                    .fix(err.fix().unwrap_or_else(|| Msg::ErrUnresponsiveFix.text()))
                    .details(json!({ "reader": name })),
                );
            }
            (CardPresence::Mute, _) => {
                cards += 1;
                out.push(
                    Check::new(
                        "card.present",
                        Status::Fail,
                        t!(Msg::DoctorCardMute, reader = name),
                    )
                    .fix(Msg::ErrUnresponsiveFix.text())
                    .details(json!({ "reader": name, "atr": hex::encode_upper(&r.atr) })),
                );
            }
            _ => out.push(
                Check::new(
                    "card.present",
                    Status::Skip,
                    t!(Msg::ReaderEmpty, reader = name),
                )
                .details(json!({ "reader": name })),
            ),
        }
    }
    if cards == 0 {
        out.push(
            Check::new(
                "card.present",
                Status::Fail,
                Msg::DoctorNoReaderWithCard.text(),
            )
            .fix(Msg::ErrNoCardFix.text()),
        );
    }
    Ok(out)
}

/// The line of one reader: pinpad or not (`None`: not known, no card to connect to).
fn reader_check(name: &str, pinpad: Option<bool>, emulated: bool) -> Check {
    let msg = match pinpad {
        Some(true) => Msg::DoctorReaderPinpad,
        Some(false) => Msg::DoctorReaderNoPinpad,
        None => Msg::DoctorReaderPinpadUnknown,
    };
    Check::new("pcsc.reader", Status::Ok, t!(msg, reader = name))
        .details(json!({ "reader": name, "pinpad": pinpad, "emulated": emulated }))
}

fn service_failed(e: &TransportError) -> Check {
    match e {
        TransportError::NoService => {
            Check::new("pcsc.service", Status::Fail, Msg::ErrNoService.text())
                .fix(Msg::ErrNoServiceFix.text())
        }
        other => Check::new(
            "pcsc.service",
            Status::Fail,
            t!(Msg::DoctorPcscOtherError, detail = transport_text(other)),
        )
        .fix(Msg::DoctorPcscOtherFix.text()),
    }
}

/// The emulated card could not be opened (absent: `--emulated-fault insert-after`, bad image).
fn open_failed(card_args: &CardArgs, e: CliError) -> Check {
    let reader = match card_args.emulated {
        Some(g) => format!("{g}"),
        None => String::new(),
    };
    Check::new(
        "card.present",
        Status::Fail,
        t!(Msg::DoctorCardUnreadable, reader = reader, detail = e),
    )
    .fix(e.fix().unwrap_or_else(|| Msg::ErrUnresponsiveFix.text()))
}
