//! Which card is this? By exact ATR comparison, as the ANS driver does (CPS3.md §1, CPS4.md
//! §1). No APDU is sent: an unknown card is "not recognized", never probed.

use std::fmt;

/// Card generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// IAS-ECC.
    Cps3,
    /// NXP ChipDoc.
    Cps4,
}

/// Which of the three CPS4 ATRs (CPS4.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cps4Atr {
    /// `CPS4_C_ATR`, T=0 and T=1.
    Production,
    /// `CPS4RC_C_ATR`, T=0 and T=1.
    ReleaseCandidate,
    /// `CPS4TO_C_ATR`, T=0 only.
    T0Only,
}

/// A recognised card and interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// CPS3 through the contacts (T=0): application `3F00/0001`.
    Cps3Contact,
    /// CPS3 through ISO 14443: application `3F00/0002`, no PIN, technical key only.
    Cps3Contactless,
    /// CPS4 (contact only).
    Cps4(Cps4Atr),
}

impl CardKind {
    pub fn generation(self) -> Generation {
        match self {
            CardKind::Cps3Contact | CardKind::Cps3Contactless => Generation::Cps3,
            CardKind::Cps4(_) => Generation::Cps4,
        }
    }

    /// Token model text (objects.md §2: `IAS ECC` / `ChipDoc`, the intended values).
    pub fn model(self) -> &'static str {
        match self.generation() {
            Generation::Cps3 => "IAS ECC",
            Generation::Cps4 => "ChipDoc",
        }
    }

    /// True when the card has a PIN (not the CPS3 contactless interface, CPS3.md §10).
    pub fn has_pin(self) -> bool {
        self != CardKind::Cps3Contactless
    }
}

impl fmt::Display for CardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CardKind::Cps3Contact => "CPS3 (contact)",
            CardKind::Cps3Contactless => "CPS3 (contactless)",
            CardKind::Cps4(Cps4Atr::Production) => "CPS4",
            CardKind::Cps4(Cps4Atr::ReleaseCandidate) => "CPS4 (release candidate)",
            CardKind::Cps4(Cps4Atr::T0Only) => "CPS4 (T=0)",
        })
    }
}

/// Every ATR we recognise.
pub const KNOWN_ATRS: [(CardKind, &[u8]); 5] = [
    (
        CardKind::Cps3Contact,
        &[
            0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10,
            0x00, 0x90, 0x00,
        ],
    ),
    (
        CardKind::Cps3Contactless,
        &[
            0x3B, 0x8F, 0x80, 0x01, 0x00, 0x31, 0xB8, 0x64, 0x04, 0xB0, 0xEC, 0xC1, 0x73, 0x94,
            0x01, 0x80, 0x82, 0x90, 0x00, 0x0E,
        ],
    ),
    (
        CardKind::Cps4(Cps4Atr::Production),
        &[
            0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00,
            0x00, 0x90, 0x44,
        ],
    ),
    (
        CardKind::Cps4(Cps4Atr::ReleaseCandidate),
        &[
            0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01,
            0x00, 0x90, 0x44,
        ],
    ),
    (
        CardKind::Cps4(Cps4Atr::T0Only),
        &[
            0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01,
            0x00, 0x90, 0x00,
        ],
    ),
];

/// The card kind for an ATR (exact comparison), or `None`.
pub fn detect(atr: &[u8]) -> Option<CardKind> {
    KNOWN_ATRS
        .iter()
        .find(|(_, known)| *known == atr)
        .map(|(kind, _)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_atrs_are_recognised_exactly() {
        let h = |s: &str| hex::decode(s.replace(' ', "")).unwrap();
        assert_eq!(
            detect(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")),
            Some(CardKind::Cps3Contact)
        );
        assert_eq!(
            detect(&h(
                "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"
            )),
            Some(CardKind::Cps3Contactless)
        );
        assert_eq!(
            detect(&h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44")),
            Some(CardKind::Cps4(Cps4Atr::Production))
        );
        assert_eq!(
            detect(&h("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44")),
            Some(CardKind::Cps4(Cps4Atr::ReleaseCandidate))
        );
        assert_eq!(
            detect(&h("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00")),
            Some(CardKind::Cps4(Cps4Atr::T0Only))
        );
        // OpenSC's typo'd contactless ATR, a prefix, an extension and nothing: unknown.
        assert_eq!(
            detect(&h(
                "2B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"
            )),
            None
        );
        assert_eq!(
            detect(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90")),
            None
        );
        assert_eq!(
            detect(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00 00")),
            None
        );
        assert_eq!(detect(&[]), None);
        // every known ATR has a valid TCK when it has one (T=1 offered)
        for (kind, atr) in KNOWN_ATRS {
            if matches!(
                kind,
                CardKind::Cps3Contactless
                    | CardKind::Cps4(Cps4Atr::Production | Cps4Atr::ReleaseCandidate)
            ) {
                assert_eq!(atr[1..].iter().fold(0u8, |a, b| a ^ b), 0, "{kind}");
            }
        }
    }
}
