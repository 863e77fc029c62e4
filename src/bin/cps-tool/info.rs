//! `cps-tool info`: card kind, generation, ATR, serial, token label (objects.md §2), holder
//! identity (objects.md §8: IdNat and its type, names, profession, structure, card type,
//! validity of the authentication certificate), PIN/PUK tries left (status queries, no try
//! used), the card's mechanisms.

use cpscard::card::{PinKind, PinState, PinStatus};
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::{CardCategory, HolderIdentity, Token};
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::{self, date, days_until, JsonArg};
use crate::select::CardArgs;
use crate::sign_args::MechanismArg;
use crate::{interrupt, token_open};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub out: JsonArg,
}

/// What `info` shows, read once.
struct Facts {
    identity: Option<HolderIdentity>,
    pin: Option<(PinStatus, PinStatus)>,
    emulated: bool,
}

pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    let mut token = token_open::open(card)?;
    let identity = interrupt::card(|| match token.identity() {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.is_card_event() => Err(e.into()),
        // no end-entity certificate: nothing to say about the holder
        Err(_) => Ok(None),
    })?;
    let pin = if token.info().has_pin {
        let pin = interrupt::card(|| Ok(token.pin_status(PinKind::User)?))?;
        let puk = interrupt::card(|| Ok(token.pin_status(PinKind::Puk)?))?;
        Some((pin, puk))
    } else {
        None
    };
    let facts = Facts {
        identity,
        pin,
        emulated: card.emulated.is_some(),
    };
    if args.out.json {
        output::print_json(&to_json(&token, &facts));
    } else {
        print_human(&token, &facts);
    }
    Ok(())
}

/// `{"state", "tries_left", "max_tries"}` (docs/schema/pin-status.json `$defs/pin`).
pub fn pin_json(s: &PinStatus) -> Value {
    json!({
        "state": output::pin_state_name(s.state),
        "tries_left": s.tries_left(),
        "max_tries": s.max_tries,
    })
}

/// `3 of 3 tries left` / `verified` / `BLOCKED`.
pub fn pin_text(s: &PinStatus) -> String {
    match s.state {
        PinState::Verified => Msg::PinStateVerified.text(),
        PinState::Blocked => Msg::PinStateBlocked.text(),
        PinState::NotVerified { tries_left } => {
            t!(Msg::PinStateTries, tries = tries_left, max = s.max_tries)
        }
    }
}

/// `CPS`, `CPE or CDE`, … in the user's language.
pub fn category_text(c: CardCategory) -> String {
    match c.possible_kinds() {
        [] => Msg::InfoKindUnknown.text(),
        [one] => (*one).to_owned(),
        [first, rest @ ..] => rest.iter().fold((*first).to_owned(), |a, b| {
            t!(Msg::InfoKindOr, a = a, b = b)
        }),
    }
}

/// `1234 days left` / `EXPIRED 3 days ago` / `not valid before 2030-01-01`.
pub fn days_text(not_before: i64, not_after: i64) -> String {
    let now = output::now_unix();
    if now < not_before {
        t!(Msg::NotYetValid, date = date(not_before))
    } else if now > not_after {
        t!(Msg::ExpiredDaysAgo, days = -days_until(not_after, now))
    } else {
        t!(Msg::DaysLeft, days = days_until(not_after, now))
    }
}

/// `2024-01-01 to 2029-01-01 (1234 days left)`.
pub fn validity_text(not_before: i64, not_after: i64) -> String {
    let days = days_text(not_before, not_after);
    t!(
        Msg::InfoValidityRange,
        from = date(not_before),
        to = date(not_after),
        days = days
    )
}

fn identity_json(id: &HolderIdentity) -> Value {
    let now = output::now_unix();
    json!({
        "id_nat": id.id_nat,
        "id_type": id.id_type.name(),
        "id": id.id,
        "surname": id.surname,
        "given_name": id.given_name,
        "profession": id.profession,
        "title": id.title,
        "structure": id.structure,
        "structure_id": id.structure_id,
        "structure_id_type": id.structure_id_type.map(|t| t.name()),
        "pseudonym": id.pseudonym,
        "type_code": id.type_code,
        "card_type": id.category.exact(),
        "card_types_possible": id.category.possible_kinds(),
        "subject": id.subject.to_rfc4514(),
        "not_before": output::datetime(id.not_before),
        "not_after": output::datetime(id.not_after),
        "expired": now > id.not_after,
        "days_left": days_until(id.not_after, now),
    })
}

fn mechanisms_json(token: &Token) -> Vec<Value> {
    token
        .mechanisms()
        .iter()
        .map(|m| {
            json!({
                "name": m.kind.name(),
                "option": MechanismArg::of_kind(m.kind).map(MechanismArg::name),
                "sign": m.sign,
                "decrypt": m.decrypt,
            })
        })
        .collect()
}

fn to_json(token: &Token, facts: &Facts) -> Value {
    let info = token.info();
    let atr = token.driver().transport().atr().to_vec();
    json!({
        "schema": "cps-tool/info/1",
        "reader": info.reader,
        "emulated": facts.emulated,
        "card": {
            "kind": output::kind_name(info.card_kind),
            "generation": output::generation_name(info.card_kind.generation()),
            "model": info.model,
            "atr": hex::encode_upper(atr),
            "serial": info.serial,
            "pan": info.pan,
            "label": info.label,
            "manufacturer": info.manufacturer,
            "pinpad": info.pinpad.is_some(),
        },
        "holder": facts.identity.as_ref().map(identity_json),
        "pin": facts.pin.map(|p| pin_json(&p.0)),
        "puk": facts.pin.map(|p| pin_json(&p.1)),
        "mechanisms": mechanisms_json(token),
    })
}

fn line(label: Msg, value: impl std::fmt::Display) {
    println!("{:<22} {value}", format!("{}:", label.text()));
}

fn print_identity(id: &HolderIdentity) {
    let kind = category_text(id.category);
    match &id.type_code {
        Some(code) => line(
            Msg::InfoCardType,
            t!(Msg::InfoCardTypeCode, kind = kind, code = code),
        ),
        None => line(Msg::InfoCardType, kind),
    }
    let name = [id.given_name.as_deref(), id.surname.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        line(Msg::InfoHolder, name);
    }
    line(
        Msg::InfoIdNat,
        format!("{} ({} {})", id.id_nat, id.id_type.name(), id.id),
    );
    if let Some(p) = &id.profession {
        line(Msg::InfoProfession, p);
    }
    if let Some(title) = id
        .title
        .as_ref()
        .filter(|t| Some(*t) != id.profession.as_ref())
    {
        line(Msg::InfoTitle, title);
    }
    if let Some(p) = &id.pseudonym {
        line(Msg::InfoPseudonym, p);
    }
    if let Some(s) = &id.structure {
        match (&id.structure_id, id.structure_id_type) {
            (Some(sid), Some(ty)) => line(Msg::InfoStructure, format!("{s} ({} {sid})", ty.name())),
            (Some(sid), None) => line(Msg::InfoStructure, format!("{s} ({sid})")),
            _ => line(Msg::InfoStructure, s),
        }
    }
    line(
        Msg::InfoValidity,
        validity_text(id.not_before, id.not_after),
    );
}

fn print_human(token: &Token, facts: &Facts) {
    let info = token.info();
    line(Msg::InfoReader, &info.reader);
    line(
        Msg::InfoCard,
        format!("{} ({})", info.card_kind, info.model),
    );
    if facts.emulated {
        line(Msg::InfoCard, Msg::InfoEmulated.text());
    }
    line(
        Msg::InfoGeneration,
        output::generation_name(info.card_kind.generation()).to_uppercase(),
    );
    line(
        Msg::InfoAtr,
        hex::encode_upper(token.driver().transport().atr()),
    );
    line(Msg::InfoSerial, &info.serial);
    line(Msg::InfoLabel, &info.label);
    if let Some(id) = &facts.identity {
        print_identity(id);
    }
    match facts.pin {
        Some((pin, puk)) => {
            line(Msg::InfoPin, pin_text(&pin));
            line(Msg::InfoPuk, pin_text(&puk));
        }
        None => line(Msg::InfoPin, Msg::InfoNoPin.text()),
    }
    let mechs: Vec<&str> = token
        .mechanisms()
        .iter()
        .filter(|m| m.sign)
        .filter_map(|m| MechanismArg::of_kind(m.kind))
        .map(MechanismArg::name)
        .collect();
    line(Msg::InfoMechanisms, mechs.join(" "));
}
