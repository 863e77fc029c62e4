//! PC/SC part 10 reader features (pinpad detection).
//!
//! PC/SC v2 part 10 §2.2: `SCardControl(CM_IOCTL_GET_FEATURE_REQUEST)` answers a list of
//! TLVs `tag (1) | length (1) = 4 | control code (4, big-endian)`; tag `0x06` is
//! `FEATURE_VERIFY_PIN_DIRECT`, `0x07` `FEATURE_MODIFY_PIN_DIRECT`.

use crate::transport::PinpadCaps;

/// `CM_IOCTL_GET_FEATURE_REQUEST` = `SCARD_CTL_CODE(3400)` (pcsclite: `0x42000000 + 3400`).
pub const CM_IOCTL_GET_FEATURE_REQUEST: u32 = ::pcsc::ctl_code(3400) as u32;

/// Feature tag of `FEATURE_VERIFY_PIN_DIRECT`.
pub const FEATURE_VERIFY_PIN_DIRECT: u8 = 0x06;
/// Feature tag of `FEATURE_MODIFY_PIN_DIRECT`.
pub const FEATURE_MODIFY_PIN_DIRECT: u8 = 0x07;

/// Parses the feature TLV list into `(tag, control code)` pairs. Entries whose length is not 4
/// are skipped (they are not control codes); a truncated tail is ignored — readers are not
/// always tidy, and a missing feature only means "no pinpad".
pub fn parse_features(mut tlv: &[u8]) -> Vec<(u8, u32)> {
    let mut out = Vec::new();
    while let [tag, len, rest @ ..] = tlv {
        let len = *len as usize;
        let Some(value) = rest.get(..len) else {
            log::debug!("reader feature list truncated at tag {tag:#04x}");
            break;
        };
        if let Ok(code) = <[u8; 4]>::try_from(value) {
            out.push((*tag, u32::from_be_bytes(code)));
        }
        tlv = &rest[len..];
    }
    out
}

/// The pinpad capabilities in a feature list, or `None` when the reader has neither
/// VERIFY nor MODIFY PIN DIRECT.
pub fn pinpad_caps(features: &[(u8, u32)]) -> Option<PinpadCaps> {
    let find = |wanted: u8| {
        features
            .iter()
            .find(|(tag, _)| *tag == wanted)
            .map(|(_, code)| *code)
    };
    let caps = PinpadCaps {
        verify_pin_direct: find(FEATURE_VERIFY_PIN_DIRECT),
        modify_pin_direct: find(FEATURE_MODIFY_PIN_DIRECT),
    };
    (caps != PinpadCaps::default()).then_some(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_code_is_pcsclite_s() {
        assert_eq!(CM_IOCTL_GET_FEATURE_REQUEST, 0x4200_0D48);
    }

    #[test]
    fn pinpad_reader_feature_list() {
        // As a CCID pinpad reader answers: VERIFY, MODIFY, IFD_PIN_PROPERTIES, GET_TLV_PROPERTIES.
        let tlv = hex::decode("060442330006070442330007 0a044233000a120442330012".replace(' ', ""))
            .unwrap();
        let features = parse_features(&tlv);
        assert_eq!(
            features,
            vec![
                (0x06, 0x4233_0006),
                (0x07, 0x4233_0007),
                (0x0A, 0x4233_000A),
                (0x12, 0x4233_0012)
            ]
        );
        assert_eq!(
            pinpad_caps(&features),
            Some(PinpadCaps {
                verify_pin_direct: Some(0x4233_0006),
                modify_pin_direct: Some(0x4233_0007),
            })
        );
    }

    #[test]
    fn verify_only_reader() {
        let features = parse_features(&hex::decode("06044233000612044233001200").unwrap());
        assert_eq!(
            pinpad_caps(&features),
            Some(PinpadCaps {
                verify_pin_direct: Some(0x4233_0006),
                modify_pin_direct: None,
            })
        );
    }

    #[test]
    fn no_pinpad_features() {
        assert_eq!(parse_features(&[]), vec![]);
        assert_eq!(pinpad_caps(&parse_features(&[])), None);
        let features = parse_features(&hex::decode("120442330012").unwrap());
        assert_eq!(pinpad_caps(&features), None);
    }

    #[test]
    fn odd_lengths_are_skipped_and_truncation_ignored() {
        // 0x13 with 2 bytes (skipped), then VERIFY, then a truncated MODIFY.
        let tlv = hex::decode("13020102060442330006070442").unwrap();
        assert_eq!(parse_features(&tlv), vec![(0x06, 0x4233_0006)]);
    }
}
