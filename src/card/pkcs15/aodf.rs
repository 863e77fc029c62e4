//! AODF: authentication objects (PINs), PKCS#15 v1.1 §6.8 (`AuthenticationObject`,
//! `PinAttributes`). CPS3 AODF 0001/7001 is real card bytes (CPS3.md §3.2); CPS4 uses 2-byte
//! references `80 02 00 81` (CPS4.md §4.1).

use super::common::{objects, opt_flags, opt_uint, CommonObject, Pkcs15Id};
use super::tlv::{uint, BitFlags, Fields, ParseError, Tag};

/// `PinFlags` bit numbers.
pub mod pin_flags {
    pub const CASE_SENSITIVE: u32 = 0;
    pub const LOCAL: u32 = 1;
    pub const CHANGE_DISABLED: u32 = 2;
    pub const UNBLOCK_DISABLED: u32 = 3;
    pub const INITIALIZED: u32 = 4;
    pub const NEEDS_PADDING: u32 = 5;
    pub const UNBLOCKING_PIN: u32 = 6;
    pub const SO_PIN: u32 = 7;
    pub const DISABLE_ALLOWED: u32 = 8;
    pub const INTEGRITY_PROTECTED: u32 = 9;
    pub const CONFIDENTIALITY_PROTECTED: u32 = 10;
    pub const EXCHANGE_REF_DATA: u32 = 11;
}

/// `PinType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinType {
    Bcd,
    AsciiNumeric,
    Utf8,
    HalfNibbleBcd,
    Iso9564_1,
    Other(u32),
}

impl From<u32> for PinType {
    fn from(v: u32) -> Self {
        match v {
            0 => PinType::Bcd,
            1 => PinType::AsciiNumeric,
            2 => PinType::Utf8,
            3 => PinType::HalfNibbleBcd,
            4 => PinType::Iso9564_1,
            n => PinType::Other(n),
        }
    }
}

/// One PIN object of the AODF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthObject {
    pub common: CommonObject,
    /// `CommonAuthenticationObjectAttributes.authId`: the ID other objects' authId point at.
    pub auth_id: Option<Pkcs15Id>,
    pub flags: BitFlags,
    pub pin_type: PinType,
    pub min_length: u32,
    pub stored_length: u32,
    pub max_length: Option<u32>,
    /// `pinReference [0]` (DEFAULT 0): the P2 of VERIFY (CPS3 `01`/`02`, CPS4 `81`/`82`).
    pub reference: u32,
    pub pad_char: Option<u8>,
}

impl AuthObject {
    pub fn is_so_pin(&self) -> bool {
        self.flags.has(pin_flags::SO_PIN)
    }

    pub fn is_unblocking_pin(&self) -> bool {
        self.flags.has(pin_flags::UNBLOCKING_PIN)
    }

    pub fn needs_padding(&self) -> bool {
        self.flags.has(pin_flags::NEEDS_PADDING)
    }

    pub fn is_initialized(&self) -> bool {
        self.flags.has(pin_flags::INITIALIZED)
    }

    /// True for a PUK: the SO PIN or unblocking PIN. The CPS3 PIN's own authId (`02`) matches
    /// no object (the PUK is `04`), so the PUK must be found by this flag (CPS3.md §5.4).
    pub fn is_puk(&self) -> bool {
        self.is_so_pin() || self.is_unblocking_pin()
    }
}

/// Parses an AODF. Entries other than PIN objects (`30` with `[1] PinAttributes`) are skipped.
pub fn parse_aodf(file: &[u8]) -> Result<Vec<AuthObject>, ParseError> {
    const WHAT: &str = "AODF";
    let mut out = Vec::new();
    for obj in objects(file, WHAT)? {
        if obj.tag != Tag::SEQUENCE {
            continue; // biometric/authKey templates: not on CPS cards
        }
        let Some(type_attrs) = obj.type_attrs else {
            continue;
        };
        let auth_id = match obj.class {
            Some(class) => Fields::parse(class, "CommonAuthenticationObjectAttributes")?
                .first(Tag::OCTET_STRING)
                .map(|v| Pkcs15Id(v.to_vec())),
            None => None,
        };
        // [1] { SEQUENCE PinAttributes }
        let outer = Fields::parse(type_attrs, WHAT)?;
        let pin = outer
            .sub(Tag::SEQUENCE, "PinAttributes")?
            .ok_or(ParseError::Missing {
                what: WHAT,
                field: "PinAttributes",
            })?;
        let lengths: Vec<u32> = pin
            .items()
            .iter()
            .filter(|t| t.tag == Tag::INTEGER)
            .map(|t| uint(t.value, "PinAttributes length"))
            .collect::<Result<_, _>>()?;
        let (min_length, stored_length) = match lengths.as_slice() {
            [min, stored, ..] => (*min, *stored),
            _ => {
                return Err(ParseError::Missing {
                    what: WHAT,
                    field: "minLength/storedLength",
                })
            }
        };
        let pad_char = match pin.first(Tag::OCTET_STRING) {
            Some([c]) => Some(*c),
            Some(_) => {
                return Err(ParseError::Invalid {
                    what: WHAT,
                    reason: "padChar is not one byte",
                })
            }
            None => None,
        };
        out.push(AuthObject {
            common: obj.common,
            auth_id,
            flags: opt_flags(&pin, Tag::BIT_STRING),
            pin_type: opt_uint(&pin, Tag::ENUMERATED, "pinType")?
                .map(PinType::from)
                .unwrap_or(PinType::Bcd),
            min_length,
            stored_length,
            max_length: lengths.get(2).copied(),
            reference: opt_uint(&pin, Tag::context(0), "pinReference")?.unwrap_or(0),
            pad_char,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    #[test]
    fn real_cps3_aodf() {
        let pins = parse_aodf(&samples::cps3_aodf()).unwrap();
        assert_eq!(pins.len(), 2);
        let pin = &pins[0];
        assert_eq!(
            pin.common.label.as_deref(),
            Some("Code porteur de la carte CPS")
        );
        // `03 01 08`: 1-byte BIT STRING → no object flags.
        assert_eq!(pin.common.flags, BitFlags(0));
        // the quirk: commonObjectAttributes.authId 02 points at nothing
        assert_eq!(pin.common.auth_id, Some(Pkcs15Id(vec![0x02])));
        assert_eq!(pin.common.access_rules.len(), 3);
        assert_eq!(pin.common.access_rules[2].auth_id, Some(Pkcs15Id(vec![4])));
        assert_eq!(pin.auth_id, Some(Pkcs15Id(vec![0x01])));
        assert!(pin.is_initialized() && pin.needs_padding());
        assert!(pin.flags.has(pin_flags::EXCHANGE_REF_DATA));
        assert!(!pin.is_so_pin() && !pin.is_puk());
        assert_eq!(pin.pin_type, PinType::AsciiNumeric);
        assert_eq!(
            (pin.min_length, pin.stored_length, pin.max_length),
            (4, 8, Some(4))
        );
        assert_eq!(pin.reference, 0x01);
        assert_eq!(pin.pad_char, Some(0xFF));

        let puk = &pins[1];
        assert_eq!(
            puk.common.label.as_deref(),
            Some("Code de déblocage de la carte CPS")
        );
        assert_eq!(puk.auth_id, Some(Pkcs15Id(vec![0x04])));
        assert!(puk.is_so_pin() && puk.is_puk());
        assert!(puk.flags.has(pin_flags::UNBLOCK_DISABLED));
        assert!(puk.is_initialized() && puk.needs_padding());
        assert!(puk.flags.has(pin_flags::EXCHANGE_REF_DATA));
        assert!(!puk.is_unblocking_pin());
        assert_eq!(
            (puk.min_length, puk.stored_length, puk.max_length),
            (8, 8, Some(8))
        );
        assert_eq!(puk.reference, 0x02);
        assert_eq!(puk.pad_char, None);
    }

    #[test]
    fn cps4_aodf_has_two_byte_references() {
        let pins = parse_aodf(&samples::cps4_aodf()).unwrap();
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].reference, 0x81);
        assert_eq!(pins[0].auth_id, Some(Pkcs15Id(vec![1])));
        assert_eq!(pins[0].pad_char, Some(0xFF));
        assert_eq!((pins[0].min_length, pins[0].max_length), (4, Some(4)));
        assert!(!pins[0].is_puk());
        assert_eq!(pins[1].reference, 0x82);
        assert_eq!(pins[1].auth_id, Some(Pkcs15Id(vec![2])));
        assert!(pins[1].is_so_pin() && pins[1].is_unblocking_pin());
        assert_eq!(
            pins[1].common.label.as_deref(),
            Some("Code de deblocage de la carte CPS")
        );
        assert_eq!(pins[1].stored_length, 8);
    }
}
