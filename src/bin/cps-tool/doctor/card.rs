//! Doctor: one card — recognized or not, its certificates (expiry, days left, the clock against
//! their validity), PIN and PUK tries left (status queries only: never a VERIFY with a code),
//! TLS 1.3 (CPS4, RSA-PSS on the card) or TLS 1.2 only (CPS3, README §4 of the card profiles).
//!
//! Works on the card layer directly (not the token): it must say what is wrong even with a card
//! the token layer would refuse, and it must send nothing but reads and status queries.

use cpscard::card::{
    self, CardBinding, CardDriver, CardKind, Generation, KeyRole, PinKind, PinState, PinStatus,
};
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::transport::Transport;
use serde_json::json;

use super::{Check, Context, Status};
use crate::error::CliError;
use crate::interrupt;
use crate::output::{self, date, days_until, generation_name, kind_name};
use crate::progress::Spinner;

/// Days before expiry from which the doctor warns.
const EXPIRY_WARNING_DAYS: i64 = 30;

pub fn checks(t: Box<dyn Transport>, ctx: &mut Context) -> Vec<Check> {
    let reader = t.reader_name().to_string();
    let atr = hex::encode_upper(t.atr());
    let Some(kind) = card::detect(t.atr()) else {
        return vec![Check::new(
            "card.present",
            Status::Fail,
            t!(Msg::DoctorCardUnknown, reader = reader, atr = atr),
        )
        .fix(Msg::ErrNotCpsFix.text())
        .details(json!({ "reader": reader, "atr": atr, "recognized": false }))];
    };
    let read = interrupt::card(|| {
        let _spinner = Spinner::start(Msg::ReadingCard.text());
        let mut driver = card::connect(t)?;
        let binding = driver.bind(None)?;
        Ok::<_, CliError>((driver, binding))
    });
    let (mut driver, binding) = match read {
        Ok(x) => x,
        Err(e) => {
            return vec![Check::new(
                "card.present",
                Status::Fail,
                t!(Msg::DoctorCardUnreadable, reader = reader, detail = e),
            )
            .details(json!({ "reader": reader, "atr": atr, "recognized": false }))
            .fix(e.fix().unwrap_or_else(|| Msg::ErrUnresponsiveFix.text()))];
        }
    };
    ctx.generations.push(kind.generation());
    let label = binding.token_info.label.clone().unwrap_or_default();
    let mut out = vec![Check::new(
        "card.present",
        Status::Ok,
        t!(
            Msg::DoctorCardRecognized,
            reader = reader,
            kind = kind,
            serial = binding.serial.serial,
            label = label
        ),
    )
    .details(json!({
        "reader": reader,
        "atr": atr,
        "recognized": true,
        "kind": kind_name(kind),
        "generation": generation_name(kind.generation()),
        "serial": binding.serial.serial,
        "label": label,
    }))];
    out.extend(certificate_checks(
        driver.as_mut(),
        &binding,
        &reader,
        ctx.now,
    ));
    out.extend(pin_checks(driver.as_mut(), kind, &reader));
    out.push(tls_check(kind, &reader));
    out
}

/// The role of a certificate: that of the private key with the same id (objects.md §4.1).
fn role_of(
    binding: &CardBinding,
    kind: CardKind,
    cert: &card::pkcs15::CertificateObject,
) -> KeyRole {
    if kind == CardKind::Cps3Contactless {
        return KeyRole::Technical;
    }
    match binding.private_keys.iter().find(|k| k.id == cert.id) {
        Some(k) if k.is_non_repudiation() => KeyRole::Signature,
        _ => KeyRole::Authentication,
    }
}

pub fn role_text(role: KeyRole) -> String {
    match role {
        KeyRole::Signature => Msg::CertSignature.text(),
        KeyRole::Authentication => Msg::CertAuthentication.text(),
        KeyRole::Technical => Msg::CertTechnical.text(),
    }
}

pub fn role_name(role: KeyRole) -> &'static str {
    match role {
        KeyRole::Signature => "signature",
        KeyRole::Authentication => "authentication",
        KeyRole::Technical => "technical",
    }
}

fn certificate_checks(
    driver: &mut dyn CardDriver,
    binding: &CardBinding,
    reader: &str,
    now: i64,
) -> Vec<Check> {
    let mut out = Vec::new();
    let mut latest_start: Option<i64> = None;
    for cert in binding.certificates.iter().filter(|c| !c.authority) {
        let role = role_of(binding, driver.kind(), cert);
        let role_t = role_text(role);
        let der = interrupt::card(|| Ok(driver.read_file(&cert.path)?));
        let validity = der.map_err(|e| e.to_string()).and_then(|der| {
            x509_parser::parse_x509_certificate(&der)
                .map(|(_, c)| {
                    (
                        c.validity().not_before.timestamp(),
                        c.validity().not_after.timestamp(),
                    )
                })
                .map_err(|e| e.to_string())
        });
        let (from, to) = match validity {
            Ok(v) => v,
            Err(detail) => {
                out.push(
                    Check::new(
                        "card.certificate",
                        Status::Fail,
                        t!(Msg::DoctorCertUnreadable, role = role_t, detail = detail),
                    )
                    .fix(Msg::DoctorCertUnreadableFix.text())
                    .details(json!({ "reader": reader, "role": role_name(role) })),
                );
                continue;
            }
        };
        latest_start = Some(latest_start.map_or(from, |l: i64| l.max(from)));
        let days = days_until(to, now);
        let details = json!({
            "reader": reader,
            "role": role_name(role),
            "not_before": output::datetime(from),
            "not_after": output::datetime(to),
            "days_left": days,
        });
        let (status, msg, fix) = if to <= now {
            (
                Status::Fail,
                Msg::DoctorCertExpired,
                Some(Msg::DoctorCertExpiredFix),
            )
        } else if days < EXPIRY_WARNING_DAYS {
            (
                Status::Warn,
                Msg::DoctorCertSoon,
                Some(Msg::DoctorCertSoonFix),
            )
        } else {
            (Status::Ok, Msg::DoctorCertValid, None)
        };
        // days left, or days ago once expired
        let text = t!(msg, role = role_t, date = date(to), days = days.abs());
        out.push(
            Check::new("card.certificate", status, text)
                .fix_from(fix)
                .details(details),
        );
    }
    if let Some(start) = latest_start {
        let (now_t, from) = (output::datetime(now), output::datetime(start));
        let (status, msg, fix) = if now < start {
            (
                Status::Fail,
                Msg::DoctorClockBehind,
                Some(Msg::DoctorClockFix),
            )
        } else {
            (Status::Ok, Msg::DoctorClockOk, None)
        };
        out.push(
            Check::new("clock", status, t!(msg, now = now_t, from = from))
                .fix_from(fix)
                .details(json!({ "reader": reader, "now": now_t, "not_before": from })),
        );
    }
    out
}

fn pin_checks(driver: &mut dyn CardDriver, kind: CardKind, reader: &str) -> Vec<Check> {
    if !kind.has_pin() {
        return vec![Check::new(
            "card.pin",
            Status::Skip,
            Msg::DoctorNoPinContactless.text(),
        )];
    }
    [PinKind::User, PinKind::Puk]
        .into_iter()
        .map(|pin| {
            let id = match pin {
                PinKind::User => "card.pin",
                PinKind::Puk => "card.puk",
            };
            match interrupt::card(|| Ok(driver.pin_status(pin)?)) {
                Ok(status) => pin_check(id, pin, &status, reader),
                Err(e) => Check::new(
                    id,
                    Status::Fail,
                    t!(
                        Msg::DoctorPinUnknown,
                        what = match pin {
                            PinKind::User => Msg::InfoPin.text(),
                            PinKind::Puk => Msg::InfoPuk.text(),
                        },
                        detail = e
                    ),
                )
                .fix(e.fix().unwrap_or_else(|| Msg::ErrUnresponsiveFix.text()))
                .details(json!({ "reader": reader })),
            }
        })
        .collect()
}

fn pin_check(id: &'static str, pin: PinKind, s: &PinStatus, reader: &str) -> Check {
    let (tries, max) = (s.tries_left(), s.max_tries);
    let details = json!({
        "reader": reader,
        "state": crate::output::pin_state_name(s.state),
        "tries_left": tries,
        "max_tries": max,
    });
    let (blocked, blocked_fix, low, low_fix, ok) = match pin {
        PinKind::User => (
            Msg::PinBlocked,
            Msg::PinBlockedFix,
            Msg::DoctorPinLow,
            Msg::DoctorPinLowFix,
            Msg::DoctorPinOk,
        ),
        PinKind::Puk => (
            Msg::PukBlocked,
            Msg::PukBlockedFix,
            Msg::DoctorPukLow,
            Msg::DoctorPukLowFix,
            Msg::DoctorPukOk,
        ),
    };
    let check = match s.state {
        PinState::Blocked => Check::new(id, Status::Fail, blocked.text()).fix(blocked_fix.text()),
        PinState::Verified if pin == PinKind::User => {
            Check::new(id, Status::Ok, Msg::DoctorPinVerified.text())
        }
        _ if tries < max => {
            Check::new(id, Status::Warn, t!(low, tries = tries, max = max)).fix(low_fix.text())
        }
        _ => Check::new(id, Status::Ok, t!(ok, tries = tries, max = max)),
    };
    check.details(details)
}

fn tls_check(kind: CardKind, reader: &str) -> Check {
    let details = json!({
        "reader": reader,
        "tls13": kind.generation() == Generation::Cps4,
        "rsa_pss": kind.generation() == Generation::Cps4,
    });
    match kind.generation() {
        Generation::Cps4 => Check::new("card.tls", Status::Ok, Msg::DoctorTls13.text()),
        Generation::Cps3 => Check::new("card.tls", Status::Warn, Msg::DoctorTls12Only.text())
            .fix(Msg::DoctorTls12OnlyFix.text()),
    }
    .details(details)
}
