//! Sending a command and getting its whole answer: the T=0 rules and command chaining in one
//! place (ISO 7816-3 §10.3.3, ISO 7816-4 §5.1.1.1, §5.3.2).
//!
//! - `61 xx` → GET RESPONSE (`CLA C0 00 00 Le`, same class byte, chaining bit cleared) until the
//!   card answers anything else; `00` means 256 or more.
//! - `6C xx` → the same command sent once more with Le = xx.
//! - data longer than the card's block size → command chaining, intermediate blocks must answer
//!   `90 00`.
//!
//! Every APDU is traced with `log` target `apdu`, PIN data masked.

use super::{ApduError, Command, Response, StatusWord};
use crate::transport::Transmit;

/// INS of GET RESPONSE.
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// How a card wants to be talked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeRules {
    /// Largest data block before chaining (Lc), 1..=255.
    pub max_send: usize,
    /// Largest Le asked in GET RESPONSE, 1..=256 (the ANS CPS3 driver uses 0xE7).
    pub max_recv: usize,
    /// Follow `61 xx` with GET RESPONSE (false: return it as the card said it, for testers).
    pub follow_61: bool,
}

impl Default for ExchangeRules {
    fn default() -> Self {
        ExchangeRules {
            max_send: 255,
            max_recv: 256,
            follow_61: true,
        }
    }
}

/// Upper bound of GET RESPONSE rounds: 64 KiB of answer at one byte a round is absurd; a card
/// that keeps answering `61 xx` beyond this is broken, not slow.
const MAX_GET_RESPONSE_ROUNDS: usize = 300;

/// Sends one raw APDU (no T=0 handling) and traces it.
pub fn transmit_raw(
    t: &mut dyn Transmit,
    cmd: &Command,
    mask_response: bool,
) -> Result<Response, ApduError> {
    let bytes = cmd.to_bytes()?;
    log::trace!(target: "apdu", "> {}", cmd.trace_hex());
    let raw = t.transmit(&bytes)?;
    let resp = Response::parse(&raw)?;
    if mask_response && !resp.data().is_empty() {
        log::trace!(target: "apdu", "< <{} bytes masked> {:04X}", resp.data().len(), u16::from(resp.sw));
    } else {
        log::trace!(target: "apdu", "< {} {:04X}", hex::encode_upper(resp.data()), u16::from(resp.sw));
    }
    Ok(resp)
}

/// Sends a command with the T=0 rules and chaining; returns the final answer (data gathered
/// across GET RESPONSE rounds, last status word).
pub fn transceive(
    t: &mut dyn Transmit,
    cmd: &Command,
    rules: &ExchangeRules,
) -> Result<Response, ApduError> {
    transceive_inner(t, cmd, rules, false)
}

/// As [`transceive`], with the response data masked in traces (deciphered plaintext).
pub fn transceive_masked(
    t: &mut dyn Transmit,
    cmd: &Command,
    rules: &ExchangeRules,
) -> Result<Response, ApduError> {
    transceive_inner(t, cmd, rules, true)
}

fn transceive_inner(
    t: &mut dyn Transmit,
    cmd: &Command,
    rules: &ExchangeRules,
    mask: bool,
) -> Result<Response, ApduError> {
    // The usual command fits one block: sent as it is, without building a chain.
    let chain;
    let (last, head): (&Command, &[Command]) =
        if cmd.data().len() <= rules.max_send.clamp(1, super::MAX_SHORT_LC) {
            (cmd, &[])
        } else {
            chain = cmd.chained(rules.max_send);
            chain
                .split_last()
                .ok_or(ApduError::Malformed("empty chain"))?
        };
    for block in head {
        let r = transmit_raw(t, block, mask)?;
        if !r.is_success() {
            return Ok(r);
        }
    }
    let mut resp = transmit_raw(t, last, mask)?;
    if let StatusWord::WrongLe(n) = resp.sw {
        // A PIN command is never sent twice: a card answering `6C xx` to VERIFY would
        // otherwise cost a second try (found by fuzzing, fuzz/README.md).
        if last.is_secret() {
            return Ok(resp);
        }
        let le = if n == 0 { 256 } else { n as usize };
        resp = transmit_raw(t, &last.clone().with_le(le), mask)?;
    }
    if !rules.follow_61 || !matches!(resp.sw, StatusWord::BytesRemaining(_)) {
        return Ok(resp);
    }
    let mut data = resp.data().to_vec();
    let mut sw = resp.sw;
    let mut rounds = 0;
    while let StatusWord::BytesRemaining(n) = sw {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE_ROUNDS {
            return Err(ApduError::Malformed(
                "card never ends its GET RESPONSE chain",
            ));
        }
        let available = if n == 0 { 256 } else { n as usize };
        let gr = Command::new(
            cmd.cla & !super::command::CLA_CHAINING,
            INS_GET_RESPONSE,
            0,
            0,
        )
        .with_le(available.min(rules.max_recv));
        let mut r = transmit_raw(t, &gr, mask)?;
        if let StatusWord::WrongLe(m) = r.sw {
            let le = if m == 0 { 256 } else { m as usize };
            r = transmit_raw(t, &gr.with_le(le), mask)?;
        }
        data.extend_from_slice(r.data());
        sw = r.sw;
    }
    let out = Response::new(std::mem::take(&mut data), sw);
    zeroize::Zeroize::zeroize(&mut data);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportError;
    use std::collections::VecDeque;

    /// A scripted card: expects these commands in order and gives these answers.
    struct Script {
        steps: VecDeque<(&'static str, &'static str)>,
    }

    impl Transmit for Script {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            let (want, answer) = self.steps.pop_front().expect("unexpected extra APDU");
            assert_eq!(hex::encode_upper(apdu), want.replace(' ', ""));
            Ok(hex::decode(answer.replace(' ', "")).unwrap())
        }
    }

    fn script(steps: &[(&'static str, &'static str)]) -> Script {
        Script {
            steps: steps.iter().copied().collect(),
        }
    }

    #[test]
    fn get_response_loop_follows_61xx() {
        // CPS3 PSO CDS as the ANS driver reads it: 61 00 → E7 bytes + 61 19 → 19 bytes.
        let sig_part1 = "AA".repeat(0xE7);
        let sig_part2 = "BB".repeat(0x19);
        let a1: &'static str = Box::leak(format!("{sig_part1}6119").into_boxed_str());
        let a2: &'static str = Box::leak(format!("{sig_part2}9000").into_boxed_str());
        let mut card = script(&[("002A9E9A", "6100"), ("00C00000E7", a1), ("00C0000019", a2)]);
        let rules = ExchangeRules {
            max_recv: 0xE7,
            ..Default::default()
        };
        let r = transceive(&mut card, &Command::new(0, 0x2A, 0x9E, 0x9A), &rules).unwrap();
        assert!(r.is_success());
        assert_eq!(r.data().len(), 256);
        assert!(card.steps.is_empty());
    }

    #[test]
    fn get_response_uses_the_card_class() {
        let mut card = script(&[
            ("01A408000400015031", "6104"),
            ("01C0000004", "01020304 9000"),
        ]);
        let cmd = Command::new(1, 0xA4, 8, 0).with_data(vec![0, 1, 0x50, 0x31]);
        let r = transceive(&mut card, &cmd, &ExchangeRules::default()).unwrap();
        assert_eq!(r.data(), &[1, 2, 3, 4]);
    }

    #[test]
    fn wrong_le_is_resent_with_the_right_length() {
        // OpenSC's EF.SN read: Le C0 -> 6C 0C -> Le 0C.
        let mut card = script(&[
            ("00B09C00C0", "6C0C"),
            ("00B09C000C", "5A0A802500000112345678 9F 9000"),
        ]);
        let cmd = Command::new(0, 0xB0, 0x9C, 0).with_le(0xC0);
        let r = transceive(&mut card, &cmd, &ExchangeRules::default()).unwrap();
        assert_eq!(r.data().len(), 12);
        assert!(r.is_success());
    }

    #[test]
    fn a_pin_command_answered_6c_is_not_sent_again() {
        // fuzz/artifacts card_driver: VERIFY answered 6C 6F was resent with Le 6F, two tries
        for ins in ["20", "24", "2C"] {
            let cmd_hex: &'static str = format!("00{ins}00010831323334FFFFFFFF").leak();
            let mut card = script(&[(cmd_hex, "6C6F")]);
            let cmd = Command::parse(&hex::decode(cmd_hex).unwrap()).unwrap();
            let r = transceive(&mut card, &cmd, &ExchangeRules::default()).unwrap();
            assert_eq!(r.sw, StatusWord::WrongLe(0x6F));
            assert!(card.steps.is_empty());
        }
    }

    #[test]
    fn chaining_sends_blocks_then_collects_answer() {
        struct Counter(Vec<Vec<u8>>);
        impl Transmit for Counter {
            fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
                self.0.push(apdu.to_vec());
                Ok(if apdu[0] & 0x10 != 0 {
                    vec![0x90, 0]
                } else if apdu[1] == 0x2A {
                    vec![0x61, 0x03]
                } else {
                    vec![9, 8, 7, 0x90, 0]
                })
            }
        }
        let mut data = vec![0x81];
        data.extend(vec![0x55; 256]);
        let cmd = Command::new(0, 0x2A, 0x80, 0x86).with_data(data);
        let mut card = Counter(Vec::new());
        let r = transceive_masked(&mut card, &cmd, &ExchangeRules::default()).unwrap();
        assert_eq!(r.data(), &[9, 8, 7]);
        assert_eq!(card.0.len(), 3);
        assert_eq!(card.0[0].len(), 5 + 255);
        assert_eq!(&card.0[0][..5], &[0x10, 0x2A, 0x80, 0x86, 0xFF]);
        assert_eq!(&card.0[1][..5], &[0x00, 0x2A, 0x80, 0x86, 0x02]);
        assert_eq!(card.0[2], vec![0x00, 0xC0, 0, 0, 3]);
    }

    #[test]
    fn an_intermediate_block_error_ends_the_chain() {
        let mut card = script(
            &[("102A8086FF".to_owned() + &"00".repeat(255)).leak() as &str]
                .iter()
                .map(|c| (*c, "6982"))
                .collect::<Vec<_>>(),
        );
        let cmd = Command::new(0, 0x2A, 0x80, 0x86).with_data(vec![0; 257]);
        let r = transceive(&mut card, &cmd, &ExchangeRules::default()).unwrap();
        assert_eq!(r.sw, StatusWord::SecurityNotSatisfied);
        assert!(card.steps.is_empty());
    }

    #[test]
    fn no_follow_returns_61xx_as_is() {
        let mut card = script(&[("00A4090402 3F00", "6127")]);
        let rules = ExchangeRules {
            follow_61: false,
            ..Default::default()
        };
        let cmd = Command::new(0, 0xA4, 9, 4).with_data(vec![0x3F, 0]);
        assert_eq!(
            transceive(&mut card, &cmd, &rules).unwrap().sw,
            StatusWord::BytesRemaining(0x27)
        );
    }

    #[test]
    fn endless_61_is_an_error() {
        struct Endless;
        impl Transmit for Endless {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                Ok(vec![0x00, 0x61, 0x01])
            }
        }
        let r = transceive(
            &mut Endless,
            &Command::new(0, 0xCA, 0, 0),
            &ExchangeRules::default(),
        );
        assert!(r.is_err());
    }
}
