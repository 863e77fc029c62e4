//! A pinpad for the in-process reader (test aid): it answers PC/SC part 10
//! `FEATURE_VERIFY_PIN_DIRECT` / `FEATURE_MODIFY_PIN_DIRECT` control codes by parsing the
//! host's `PIN_VERIFY_STRUCTURE` / `PIN_MODIFY_STRUCTURE` itself (its own code, not the host
//! library's: a misread field on one side shows), "typing" the digits the test scripted into
//! the APDU template, and sending that APDU to the card.
//!
//! Reader answers besides the card's status word (PC/SC part 10 §2.5.2, CCID 6.1.11.7):
//! `64 00` timeout, `64 01` cancelled, `64 02` the two new PINs differ, `64 03` PIN length
//! out of the structure's bounds, `6B 80` a structure it cannot use.

use std::collections::VecDeque;

/// Control code of `FEATURE_VERIFY_PIN_DIRECT` this reader reports (pcsc-lite CCID style
/// `0x42330000 + tag`).
pub const IOCTL_VERIFY_PIN_DIRECT: u32 = 0x4233_0006;
/// Control code of `FEATURE_MODIFY_PIN_DIRECT`.
pub const IOCTL_MODIFY_PIN_DIRECT: u32 = 0x4233_0007;

/// What the user does at the next prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPress {
    /// Types these digits and validates.
    Digits(String),
    /// Presses Cancel.
    Cancel,
    /// Does nothing until the reader times out.
    Timeout,
}

/// One request the pinpad received, as the pinpad understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinpadRequest {
    /// `true` for MODIFY, `false` for VERIFY.
    pub modify: bool,
    pub min_digits: u8,
    pub max_digits: u8,
    /// The APDU template as received (`FF` blocks).
    pub template: Vec<u8>,
    /// What the reader answered (card SW or its own).
    pub answer: [u8; 2],
}

/// The pinpad's script and log.
#[derive(Debug, Default)]
pub struct Pinpad {
    presses: VecDeque<KeyPress>,
    /// Every request, in order.
    pub requests: Vec<PinpadRequest>,
}

impl Pinpad {
    /// The user will type `digits` at the next prompt.
    pub fn type_digits(&mut self, digits: &str) {
        self.presses.push_back(KeyPress::Digits(digits.to_owned()));
    }

    /// The user will do this at the next prompt.
    pub fn press(&mut self, p: KeyPress) {
        self.presses.push_back(p);
    }

    /// Prompts not used yet.
    pub fn pending(&self) -> usize {
        self.presses.len()
    }

    /// Handles one control code: `Ok(apdu)` to send to the card, or `Err(reader answer)`.
    /// `finish` records the answer.
    pub(crate) fn build(
        &mut self,
        code: u32,
        input: &[u8],
    ) -> Result<(Vec<u8>, PinpadRequest), [u8; 2]> {
        const BAD: [u8; 2] = [0x6B, 0x80];
        let modify = match code {
            IOCTL_VERIFY_PIN_DIRECT => false,
            IOCTL_MODIFY_PIN_DIRECT => true,
            _ => return Err(BAD),
        };
        let header = if modify { 24 } else { 19 };
        if input.len() < header {
            return Err(BAD);
        }
        let format = input[2];
        let block = input[3];
        // units in bytes, ASCII digits, left-justified: what a CPS PIN block needs
        if format & 0x80 == 0 || format & 0x03 != 0x02 || format & 0x04 != 0 {
            return Err(BAD);
        }
        let position = usize::from((format >> 3) & 0x0F);
        let block_len = usize::from(block & 0x0F);
        let (offsets, digits_at, len_at) = if modify {
            (Some((input[5], input[6])), 7, 20)
        } else {
            (None, 5, 15)
        };
        let max_digits = input[digits_at];
        let min_digits = input[digits_at + 1];
        let data_len = u32::from_le_bytes([
            input[len_at],
            input[len_at + 1],
            input[len_at + 2],
            input[len_at + 3],
        ]) as usize;
        let template = &input[header..];
        if template.len() != data_len || template.len() < 5 {
            return Err(BAD);
        }
        let mut request = PinpadRequest {
            modify,
            min_digits,
            max_digits,
            template: template.to_vec(),
            answer: [0, 0],
        };
        let mut apdu = template.to_vec();
        let put = |apdu: &mut Vec<u8>, at: usize, digits: &str| -> Result<(), [u8; 2]> {
            let start = 5 + at;
            if digits.len() > block_len || start + block_len > apdu.len() {
                return Err(BAD);
            }
            apdu[start..start + digits.len()].copy_from_slice(digits.as_bytes());
            Ok(())
        };
        let next = |pad: &mut Pinpad| -> Result<String, [u8; 2]> {
            match pad.presses.pop_front() {
                Some(KeyPress::Digits(d)) => {
                    let n = d.len();
                    if n < usize::from(min_digits) || n > usize::from(max_digits) {
                        return Err([0x64, 0x03]);
                    }
                    Ok(d)
                }
                Some(KeyPress::Cancel) => Err([0x64, 0x01]),
                Some(KeyPress::Timeout) | None => Err([0x64, 0x00]),
            }
        };
        let outcome = (|| {
            match offsets {
                None => {
                    let d = next(self)?;
                    put(&mut apdu, position, &d)?;
                }
                Some((old_at, new_at)) => {
                    let confirm = input[9];
                    if confirm & 0x02 != 0 {
                        let old = next(self)?;
                        put(&mut apdu, position + usize::from(old_at), &old)?;
                    }
                    let new = next(self)?;
                    if confirm & 0x01 != 0 {
                        // the user types it again
                        let again = next(self)?;
                        if again != new {
                            return Err([0x64, 0x02]);
                        }
                    }
                    put(&mut apdu, position + usize::from(new_at), &new)?;
                }
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => Ok((apdu, request)),
            Err(answer) => {
                request.answer = answer;
                self.requests.push(request);
                Err(answer)
            }
        }
    }

    pub(crate) fn record(&mut self, mut request: PinpadRequest, answer: [u8; 2]) {
        request.answer = answer;
        self.requests.push(request);
    }
}
