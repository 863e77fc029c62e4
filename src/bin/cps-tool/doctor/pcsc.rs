//! Doctor: the PC/SC service, the readers (pinpad or not) and the card in each.

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::pcsc::{CardPresence, PcscContext};
use cpscard::transport::{Transport, TransportError};
use serde_json::json;

use super::{card, Check, Context, Status};
use crate::error::{transport_text, CliError};
use crate::select::{self, CardArgs};

pub fn checks(card_args: &CardArgs, ctx: &mut Context) -> Vec<Check> {
    let mut out = Vec::new();
    if card_args.emulated.is_some() {
        out.push(Check::new(
            "pcsc.service",
            Status::Skip,
            Msg::DoctorPcscEmulated.text(),
        ));
        match select::open(card_args) {
            Ok(t) => {
                let name = t.reader_name().to_string();
                out.push(
                    Check::new(
                        "pcsc.reader",
                        Status::Ok,
                        t!(Msg::DoctorReaderNoPinpad, reader = name),
                    )
                    .details(json!({ "reader": name, "pinpad": false, "emulated": true })),
                );
                out.extend(card::checks(t, ctx));
            }
            Err(e) => out.push(open_failed(card_args, e)),
        }
        return out;
    }
    let pcsc = match PcscContext::establish() {
        Ok(c) => c,
        Err(e) => {
            out.push(service_failed(&e));
            return out;
        }
    };
    let readers = match pcsc.readers() {
        Ok(r) => r,
        Err(e) => {
            out.push(service_failed(&e));
            return out;
        }
    };
    out.push(Check::new(
        "pcsc.service",
        Status::Ok,
        Msg::DoctorPcscOk.text(),
    ));
    if readers.is_empty() {
        out.push(
            Check::new("pcsc.reader", Status::Fail, Msg::ErrNoReaders.text())
                .fix(Msg::ErrNoReadersFix.text()),
        );
        return out;
    }
    let mut cards = 0;
    for r in &readers {
        let name = r.name.clone();
        // The pinpad features are only read through a connection (with a card).
        let connected: Option<Result<Box<dyn Transport>, TransportError>> = match r.card {
            CardPresence::Present => Some(
                pcsc.connect(&name)
                    .map(|t| Box::new(t) as Box<dyn Transport>),
            ),
            _ => None,
        };
        let reader_line = match &connected {
            Some(Ok(t)) if t.pinpad().is_some() => (Msg::DoctorReaderPinpad, json!(true)),
            Some(Ok(_)) => (Msg::DoctorReaderNoPinpad, json!(false)),
            _ => (Msg::DoctorReaderPinpadUnknown, json!(null)),
        };
        out.push(
            Check::new("pcsc.reader", Status::Ok, t!(reader_line.0, reader = name))
                .details(json!({ "reader": name, "pinpad": reader_line.1, "emulated": false })),
        );
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
    out
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
