//! Certificates → holder identity (`cpscard::token`, objects.md §8): any DER is parsed or
//! refused, never a panic; the identity of what parses, with any `CPS_ID_CARD` content, is
//! decoded and printed without a panic.
//!
//! Input: records (`[len u16] bytes`): the certificate DER, then the `CPS_ID_CARD` content.
#![no_main]
use cpscard::token::{type_code_from_id_card, HolderIdentity, IdType, ParsedCertificate};
use cpscard_fuzz::records;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let recs = records(data);
    let Some((der, rest)) = recs.split_first() else {
        return;
    };
    let id_card = rest.first().copied();
    if let Some(card) = id_card {
        let _ = type_code_from_id_card(card);
    }
    let Ok(cert) = ParsedCertificate::parse(der) else {
        return;
    };
    let _ = (cert.subject.to_rfc4514(), cert.issuer.to_rfc4514());
    let _ = (cert.validity.is_expired(), cert.validity.valid_at(0));
    let _ = cpscard::token::Date::from_unix(cert.validity.not_after).ck_date();
    let who = HolderIdentity::decode(&cert, id_card);
    let _ = IdType::of(&who.id_nat);
    let _ = (
        who.category.possible_kinds(),
        who.category.exact(),
        who.is_expired(),
    );
    let _ = format!("{who:?} {}", who.category);
});
