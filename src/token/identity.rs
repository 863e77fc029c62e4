//! The holder of the card, decoded from the authentication certificate's subject (objects.md
//! §8, card profiles README §1) and, for the card type code, from the `CPS_ID_CARD` data
//! object where its encoding can be read.
//!
//! What the card tells, and what it does not:
//! - IdNat (CN): its first character is the identifier type — `8` RPPS, `0` ADELI, `3` FINESS
//!   (`3<FINESS>/<n°>`), `5` SIRET / `4` SIREN (`…/<n°>`). That splits the cards into health
//!   professionals (CPS, CPF), establishment staff (CPE, CDE) and structure staff (CPA, CDA).
//! - The TRE_G02 type code (`00` CPS, `01` CPF, `02` CDE/CPE, `03` CDA/CPA) separates CPS from
//!   CPF. It lives in `CPS_ID_CARD`, whose real encoding ("ASIP_CPS3_Données-métier", not
//!   public) we cannot decode; only the project emulator's placeholder `30 { 0C "CPS_ID_CARD
//!   type=NN …" }` \[S\] is read.
//! - CDE vs CPE (and CDA vs CPA) share one type code and one certificate shape: **no card
//!   data tells them apart** (README §1), so the kind stays [`CardCategory::CpeOrCde`] /
//!   [`CardCategory::CpaOrCda`]. Policy OIDs could, but their values are unknown (objects.md §8).
//! - Profession codes (TRE_G15) and specialties are not in the certificate; the profession
//!   label is the `title` of CPS/CPF certificates.

use super::certificate::ParsedCertificate;
use super::name::{oid, DistinguishedName};
use std::fmt;

/// Kind of national identifier (its first character, objects.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdType {
    /// `8` + 11-digit RPPS.
    Rpps,
    /// `0` + 9-character ADELI.
    Adeli,
    /// `3` + FINESS + `/` + staff number (CPE, CDE).
    Finess,
    /// `5` + SIRET + `/` + number (CPA).
    Siret,
    /// `4` + SIREN + `/` + number (CPA).
    Siren,
    /// Anything else.
    Unknown,
}

impl IdType {
    /// The name card.json and ANS documents use (`RPPS`, `ADELI`, `FINESS`, `SIRET`, `SIREN`).
    pub fn name(self) -> &'static str {
        match self {
            IdType::Rpps => "RPPS",
            IdType::Adeli => "ADELI",
            IdType::Finess => "FINESS",
            IdType::Siret => "SIRET",
            IdType::Siren => "SIREN",
            IdType::Unknown => "unknown",
        }
    }

    /// Classifies an IdNat.
    pub fn of(id_nat: &str) -> IdType {
        let b = id_nat.as_bytes();
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        let staff = |s: &[u8], n: usize| {
            let mut parts = s.splitn(2, |c| *c == b'/');
            let head = parts.next().unwrap_or_default();
            let tail = parts.next().unwrap_or_default();
            head.len() == n && digits(head) && !tail.is_empty()
        };
        match b.first() {
            Some(b'8') if b.len() == 12 && digits(&b[1..]) => IdType::Rpps,
            Some(b'0') if b.len() == 10 && b[1..].iter().all(u8::is_ascii_alphanumeric) => {
                IdType::Adeli
            }
            Some(b'3') if staff(&b[1..], 9) => IdType::Finess,
            Some(b'5') if staff(&b[1..], 14) => IdType::Siret,
            Some(b'4') if staff(&b[1..], 9) => IdType::Siren,
            _ => IdType::Unknown,
        }
    }

    fn is_professional(self) -> bool {
        matches!(self, IdType::Rpps | IdType::Adeli)
    }
}

/// What kind of card this is, as far as the card tells (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardCategory {
    /// Carte de Professionnel de Santé (type code 00).
    Cps,
    /// Carte de Professionnel en Formation (type code 01).
    Cpf,
    /// A health professional's card whose type code could not be read: CPS or CPF.
    CpsOrCpf,
    /// Establishment staff (type code 02 or a FINESS identifier): CPE, or the director's CDE —
    /// the card does not say which.
    CpeOrCde,
    /// Structure staff (type code 03 or a SIRET/SIREN identifier): CPA, or the legal
    /// representative's CDA — the card does not say which.
    CpaOrCda,
    /// Nothing recognisable.
    Unknown,
}

impl CardCategory {
    /// The card kinds (`CPS`, `CPF`, `CPE`, `CDE`, `CPA`, `CDA`) this category may be.
    pub fn possible_kinds(self) -> &'static [&'static str] {
        match self {
            CardCategory::Cps => &["CPS"],
            CardCategory::Cpf => &["CPF"],
            CardCategory::CpsOrCpf => &["CPS", "CPF"],
            CardCategory::CpeOrCde => &["CPE", "CDE"],
            CardCategory::CpaOrCda => &["CPA", "CDA"],
            CardCategory::Unknown => &[],
        }
    }

    /// True when the card may be of `kind`.
    pub fn may_be(self, kind: &str) -> bool {
        self.possible_kinds().contains(&kind)
    }

    /// The kind when exactly one is possible.
    pub fn exact(self) -> Option<&'static str> {
        match self.possible_kinds() {
            [one] => Some(one),
            _ => None,
        }
    }

    fn from_type_code(code: &str) -> Option<CardCategory> {
        match code {
            "00" => Some(CardCategory::Cps),
            "01" => Some(CardCategory::Cpf),
            "02" => Some(CardCategory::CpeOrCde),
            "03" => Some(CardCategory::CpaOrCda),
            _ => None,
        }
    }

    fn from_id_type(t: IdType) -> CardCategory {
        match t {
            IdType::Rpps | IdType::Adeli => CardCategory::CpsOrCpf,
            IdType::Finess => CardCategory::CpeOrCde,
            IdType::Siret | IdType::Siren => CardCategory::CpaOrCda,
            IdType::Unknown => CardCategory::Unknown,
        }
    }

    /// True when `self` (from a type code) agrees with `family` (from the identifier).
    fn agrees_with(self, family: CardCategory) -> bool {
        family == CardCategory::Unknown
            || self
                .possible_kinds()
                .iter()
                .all(|k| family.possible_kinds().contains(k))
    }
}

impl fmt::Display for CardCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.possible_kinds() {
            [] => f.write_str("unknown"),
            kinds => f.write_str(&kinds.join(" or ")),
        }
    }
}

/// The holder of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderIdentity {
    /// National identifier, as in the certificate CN (e.g. `899700000013`).
    pub id_nat: String,
    pub id_type: IdType,
    /// The identifier without its type digit (`99700000013`, `990000010/000000042`).
    pub id: String,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    /// Profession label: the `title` of a CPS/CPF certificate (`Médecin`), or the `OU` of the
    /// older layout. `None` on staff cards.
    pub profession: Option<String>,
    /// The certificate `title` as written.
    pub title: Option<String>,
    /// Structure name (`O`), staff cards.
    pub structure: Option<String>,
    /// Structure identifier (`OU`), staff cards.
    pub structure_id: Option<String>,
    /// Kind of the structure identifier (FINESS for CPE/CDE, SIRET/SIREN for CPA).
    pub structure_id_type: Option<IdType>,
    /// `pseudonym` (CPE/CDE: `EMPLOYE<n°>`).
    pub pseudonym: Option<String>,
    /// TRE_G02 type code, when the card data could be decoded (`00`..`03`).
    pub type_code: Option<String>,
    /// The card kind, as precise as the card allows.
    pub category: CardCategory,
    /// Validity of the authentication certificate (Unix seconds).
    pub not_before: i64,
    pub not_after: i64,
    /// The subject, every attribute kept.
    pub subject: DistinguishedName,
}

impl HolderIdentity {
    /// True when the certificate has expired now.
    pub fn is_expired(&self) -> bool {
        super::certificate::unix_now() > self.not_after
    }

    /// Decodes the holder from a certificate, and the type code from the raw `CPS_ID_CARD`
    /// content when given.
    pub fn decode(cert: &ParsedCertificate, id_card: Option<&[u8]>) -> HolderIdentity {
        let dn = &cert.subject;
        let cn = dn.first(oid::COMMON_NAME).unwrap_or_default().to_owned();
        let serial_number = dn.first(oid::SERIAL_NUMBER).map(str::to_owned);
        let surname = dn.first(oid::SURNAME).map(str::to_owned);
        let given_name = dn.first(oid::GIVEN_NAME).map(str::to_owned);
        let title = dn.first(oid::TITLE).map(str::to_owned);
        let o = dn.first(oid::ORGANIZATION).map(str::to_owned);
        let ou = dn.first(oid::ORGANIZATIONAL_UNIT).map(str::to_owned);

        // Current layout: CN = IdNat. Older IGC-CPS2ter layout: CN = "NAME FIRSTNAME",
        // SERIALNUMBER = IdNat, OU = profession (objects.md §8).
        let older = IdType::of(&cn) == IdType::Unknown
            && serial_number
                .as_deref()
                .is_some_and(|s| IdType::of(s) != IdType::Unknown);
        let (id_nat, surname, given_name, profession_ou) = if older {
            let (sn, gn) = split_name(&cn);
            (
                serial_number.clone().unwrap_or_default(),
                surname.or(sn),
                given_name.or(gn),
                ou.clone(),
            )
        } else {
            (cn, surname, given_name, None)
        };
        let id_type = IdType::of(&id_nat);
        let id = match id_type {
            IdType::Unknown => id_nat.clone(),
            _ => id_nat[1..].to_owned(),
        };
        let family = CardCategory::from_id_type(id_type);
        let type_code = id_card.and_then(type_code_from_id_card);
        let category = match type_code.as_deref().and_then(CardCategory::from_type_code) {
            Some(c) if c.agrees_with(family) => c,
            Some(c) => {
                log::warn!(
                    target: "token",
                    "card type code says {c}, the identifier {id_nat} says {family}: unknown"
                );
                CardCategory::Unknown
            }
            None => family,
        };
        let professional = id_type.is_professional();
        let (structure, structure_id) = if professional || older {
            (None, None)
        } else {
            (o, ou)
        };
        HolderIdentity {
            profession: if older {
                profession_ou
            } else if professional {
                title.clone()
            } else {
                None
            },
            structure_id_type: structure_id.as_ref().map(|_| id_type),
            structure,
            structure_id,
            pseudonym: dn.first(oid::PSEUDONYM).map(str::to_owned),
            title,
            id_nat,
            id_type,
            id,
            surname,
            given_name,
            type_code,
            category,
            not_before: cert.validity.not_before,
            not_after: cert.validity.not_after,
            subject: dn.clone(),
        }
    }
}

/// `NAME FIRSTNAME` → (surname, given name): the last word is the given name.
fn split_name(cn: &str) -> (Option<String>, Option<String>) {
    let cn = cn.trim();
    match cn.rsplit_once(' ') {
        Some((sn, gn)) => (Some(sn.trim().to_owned()), Some(gn.to_owned())),
        None if cn.is_empty() => (None, None),
        None => (Some(cn.to_owned()), None),
    }
}

/// The TRE_G02 type code in a `CPS_ID_CARD` content. Only the project emulator's placeholder
/// layout `30 L 0C L "CPS_ID_CARD type=NN …"` \[S\] is understood; the real card's encoding is
/// not public, so a real card gives `None`.
pub fn type_code_from_id_card(content: &[u8]) -> Option<String> {
    use crate::card::pkcs15::tlv::{Reader, Tag};
    let outer = Reader::new(content, "CPS_ID_CARD").next_tlv().ok()??;
    if outer.tag != Tag::SEQUENCE {
        return None;
    }
    let inner = Reader::new(outer.value, "CPS_ID_CARD").next_tlv().ok()??;
    if inner.tag != Tag::UTF8_STRING {
        return None;
    }
    let text = std::str::from_utf8(inner.value).ok()?;
    let mut words = text.split_whitespace();
    if words.next()? != "CPS_ID_CARD" {
        return None;
    }
    let code = words.find_map(|w| w.strip_prefix("type="))?;
    if code.is_empty() || code.len() > 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{code:0>2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_classified() {
        assert_eq!(IdType::of("899700000013"), IdType::Rpps);
        assert_eq!(IdType::of("810002813839"), IdType::Rpps);
        assert_eq!(IdType::of("00B7010446"), IdType::Adeli);
        assert_eq!(IdType::of("0996001234"), IdType::Adeli);
        assert_eq!(IdType::of("3760021832/000000018"), IdType::Finess);
        assert_eq!(IdType::of("500000000029751/CPAT0001"), IdType::Siret);
        assert_eq!(IdType::of("4999000003/7"), IdType::Siren);
        for bad in [
            "",
            "8",
            "89970000001",
            "8997000000134",
            "3760021832",
            "9xyz",
            "0/",
        ] {
            assert_eq!(IdType::of(bad), IdType::Unknown, "{bad}");
        }
    }

    #[test]
    fn type_code_of_the_emulator_placeholder_only() {
        let text = b"CPS_ID_CARD type=01 kind=CPF serial=30000001";
        let mut v = vec![0x30, (text.len() + 2) as u8, 0x0C, text.len() as u8];
        v.extend_from_slice(text);
        assert_eq!(type_code_from_id_card(&v).as_deref(), Some("01"));
        let text = b"CPS_ID_CARD type=2 kind=CDE";
        let mut v = vec![0x30, (text.len() + 2) as u8, 0x0C, text.len() as u8];
        v.extend_from_slice(text);
        assert_eq!(type_code_from_id_card(&v).as_deref(), Some("02"));
        assert_eq!(
            type_code_from_id_card(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            None
        );
        assert_eq!(type_code_from_id_card(b""), None);
    }

    #[test]
    fn categories_combine_type_code_and_identifier() {
        assert!(CardCategory::Cps.agrees_with(CardCategory::CpsOrCpf));
        assert!(!CardCategory::Cps.agrees_with(CardCategory::CpeOrCde));
        assert!(CardCategory::CpeOrCde.may_be("CDE"));
        assert_eq!(CardCategory::CpeOrCde.exact(), None);
        assert_eq!(CardCategory::Cpf.exact(), Some("CPF"));
        assert_eq!(CardCategory::CpaOrCda.to_string(), "CPA or CDA");
        assert_eq!(
            split_name("DUPONT JEAN"),
            (Some("DUPONT".into()), Some("JEAN".into()))
        );
    }
}
