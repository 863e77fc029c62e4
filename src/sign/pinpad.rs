//! Pinpad readers (PC/SC part 10 v2.02.09 §2.5.2-2.5.3): the `PIN_VERIFY_STRUCTURE` and
//! `PIN_MODIFY_STRUCTURE` sent with `SCardControl`, for the CPS PIN: 4 ASCII digits,
//! `FF`-padded to an 8-byte block at data offset 0 (AODF: ascii-numeric, stored length 8,
//! padChar FF; CPS3.md §5.2, CPS4.md §6.2). The reader answers the card's status word.

use crate::card::{CardDriver, PinChangeTemplate};
use crate::token::TokenError;
use crate::transport::PinpadCaps;

/// `bmFormatString`: units in bytes (bit 7), PIN at byte 0 of the data (bits 6-3),
/// left-justified (bit 2 = 0), ASCII (bits 1-0 = 10).
const FORMAT_ASCII_AT_0: u8 = 0x80 | 0x02;
/// `bmPINBlockString`: no length field (bits 7-4 = 0), 8-byte PIN block.
const PIN_BLOCK_8: u8 = 0x08;
/// `bEntryValidationCondition`: the validation key.
const VALIDATE_ON_KEY: u8 = 0x02;
/// `wLangId`: French (0x040C).
const LANG_FR: u16 = 0x040C;

/// `PIN_VERIFY_STRUCTURE` for `template` (a VERIFY APDU with an `FF`-filled 8-byte block),
/// `digits` long PINs (minimum = maximum).
pub fn verify_structure(template: &[u8], digits: usize) -> Result<Vec<u8>, TokenError> {
    check_template(template, 8)?;
    let mut s = vec![
        0x00, // bTimerOut: reader default
        0x00, // bTimerOut2
        FORMAT_ASCII_AT_0,
        PIN_BLOCK_8,
        0x00, // bmPINLengthFormat: no length inserted
    ];
    s.extend(max_extra_digit(digits));
    s.push(VALIDATE_ON_KEY);
    s.push(0x01); // bNumberMessage
    s.extend(LANG_FR.to_le_bytes());
    s.push(0x00); // bMsgIndex
    s.extend([0x00; 3]); // bTeoPrologue (T=1 readers fill it)
    s.extend((template.len() as u32).to_le_bytes());
    s.extend_from_slice(template);
    Ok(s)
}

/// `PIN_MODIFY_STRUCTURE`. `old_offset` is `Some` when the reader must also ask the current
/// PIN (`bConfirmPIN` bit 1) and insert it there; the new PIN goes at `new_offset`; the new
/// PIN is always asked twice (bit 0).
pub fn modify_structure(
    template: &[u8],
    digits: usize,
    old_offset: Option<u8>,
    new_offset: u8,
) -> Result<Vec<u8>, TokenError> {
    let needed = usize::from(new_offset) + 8;
    check_template(
        template,
        needed.max(old_offset.map_or(0, |o| usize::from(o) + 8)),
    )?;
    let mut s = vec![
        0x00,
        0x00,
        FORMAT_ASCII_AT_0,
        PIN_BLOCK_8,
        0x00,
        old_offset.unwrap_or(0),
        new_offset,
    ];
    s.extend(max_extra_digit(digits));
    s.push(if old_offset.is_some() { 0x03 } else { 0x01 }); // bConfirmPIN
    s.push(VALIDATE_ON_KEY);
    s.push(if old_offset.is_some() { 0x03 } else { 0x02 }); // bNumberMessage
    s.extend(LANG_FR.to_le_bytes());
    s.extend([0x00, 0x01, 0x02]); // bMsgIndex1..3
    s.extend([0x00; 3]);
    s.extend((template.len() as u32).to_le_bytes());
    s.extend_from_slice(template);
    Ok(s)
}

/// `wPINMaxExtraDigit` = min digits (high byte) ‖ max digits (low byte), little-endian.
fn max_extra_digit(digits: usize) -> [u8; 2] {
    let d = digits.min(255) as u16;
    ((d << 8) | d).to_le_bytes()
}

fn check_template(template: &[u8], data_len: usize) -> Result<(), TokenError> {
    match template {
        [_, _, _, _, lc, data @ ..] if usize::from(*lc) == data.len() && data.len() >= data_len => {
            Ok(())
        }
        _ => Err(TokenError::PinEntry(
            "PIN APDU template has an unexpected shape".into(),
        )),
    }
}

/// The meaning of the reader's answer: the card's SW, or the reader's own `64 00` (timeout),
/// `64 01` (cancelled), `64 02` (the two new PINs differ), `6B 80` (bad structure).
pub fn result(answer: &[u8]) -> Result<(), TokenError> {
    let [.., sw1, sw2] = answer else {
        return Err(TokenError::PinEntry("the pinpad gave no status".into()));
    };
    match (*sw1, *sw2) {
        (0x90, 0x00) => Ok(()),
        (0x64, 0x00) => Err(TokenError::PinEntry("no PIN typed in time".into())),
        (0x64, 0x01) => Err(TokenError::PinEntryCancelled),
        (0x64, 0x02) => Err(TokenError::PinEntry("the two new PINs differ".into())),
        (0x6B, 0x80) => Err(TokenError::PinEntry(
            "the reader refused the PIN structure".into(),
        )),
        (0x63, n) if n & 0xF0 == 0xC0 => Err(TokenError::PinIncorrect {
            tries_left: n & 0x0F,
        }),
        (0x69, 0x83) => Err(TokenError::PinLocked),
        (0x69, 0x82) => Err(TokenError::NotLoggedIn),
        (a, b) => Err(TokenError::PinEntry(format!(
            "the card refused the pinpad command: {a:02X} {b:02X}"
        ))),
    }
}

/// Changes the PIN through the pinpad per the card's [`PinChangeTemplate`].
pub fn change(
    driver: &mut dyn CardDriver,
    caps: PinpadCaps,
    plan: &PinChangeTemplate,
) -> Result<(), TokenError> {
    let modify = caps.modify_pin_direct.ok_or(TokenError::PinEntry(
        "this pinpad cannot change a PIN".into(),
    ))?;
    let control = |d: &mut dyn CardDriver, code: u32, s: &[u8]| {
        d.transport_mut()
            .control(code, s)
            .map_err(|e| TokenError::from(crate::card::CardError::from(e)))
    };
    match plan {
        PinChangeTemplate::OldAndNew(t) => {
            let s = modify_structure(t, 4, Some(0), 8)?;
            result(&control(driver, modify, &s)?)
        }
        PinChangeTemplate::VerifyThenNew { verify, change } => {
            let v = caps.verify_pin_direct.ok_or(TokenError::PinEntry(
                "this pinpad cannot verify a PIN".into(),
            ))?;
            result(&control(driver, v, &verify_structure(verify, 4)?)?)?;
            let s = modify_structure(change, 4, None, 0)?;
            result(&control(driver, modify, &s)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_structure_layout() {
        let t = [
            0x00, 0x20, 0x00, 0x01, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let s = verify_structure(&t, 4).unwrap();
        assert_eq!(s.len(), 19 + t.len());
        assert_eq!(&s[..5], &[0, 0, 0x82, 0x08, 0x00]);
        assert_eq!(&s[5..7], &[0x04, 0x04]);
        assert_eq!(s[7], 0x02);
        assert_eq!(&s[9..11], &[0x0C, 0x04]);
        assert_eq!(&s[15..19], &[13, 0, 0, 0]);
        assert_eq!(&s[19..], &t);
        assert!(verify_structure(&t[..8], 4).is_err());
    }

    #[test]
    fn modify_structure_layout() {
        let mut t = vec![0x00, 0x24, 0x00, 0x01, 0x10];
        t.extend([0xFF; 16]);
        let s = modify_structure(&t, 4, Some(0), 8).unwrap();
        assert_eq!(s.len(), 24 + t.len());
        assert_eq!(&s[5..7], &[0, 8]);
        assert_eq!(s[9], 0x03);
        assert_eq!(&s[20..24], &[21, 0, 0, 0]);
        assert!(modify_structure(&t[..13], 4, Some(0), 8).is_err());
    }

    #[test]
    fn answers() {
        assert_eq!(result(&[0x90, 0x00]), Ok(()));
        assert_eq!(
            result(&[0x63, 0xC1]),
            Err(TokenError::PinIncorrect { tries_left: 1 })
        );
        assert_eq!(result(&[0x64, 0x01]), Err(TokenError::PinEntryCancelled));
        assert_eq!(result(&[0x69, 0x83]), Err(TokenError::PinLocked));
        assert!(result(&[]).is_err());
    }
}
