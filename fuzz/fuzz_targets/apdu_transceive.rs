//! `transceive` (T=0 `61 xx` / `6C xx`, command chaining) over a card whose answers are the
//! fuzzer's: never panics and always ends, even against a card that repeats one answer
//! forever (bounded GET RESPONSE rounds).
//!
//! Input: `flags max_send max_recv` then records (`[len u16] bytes`): the command (parsed as
//! an APDU, else used as the data of a chained PSO), then the card's answers.
#![no_main]
use cpscard::apdu::{transceive, transceive_masked, Command, ExchangeRules, StatusWord};
use cpscard::transport::Protocol;
use cpscard_fuzz::{records, ReplayCard, WhenDone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [flags, max_send, max_recv, rest @ ..] = data else {
        return;
    };
    let recs = records(rest);
    let Some((first, answers)) = recs.split_first() else {
        return;
    };
    let cmd = Command::parse(first).unwrap_or_else(|_| {
        Command::new(0x00, 0x2A, 0x80, 0x86)
            .with_data(first.to_vec())
            .with_le(256)
    });
    let rules = ExchangeRules {
        max_send: 1 + *max_send as usize % 255,
        max_recv: 1 + *max_recv as usize,
        follow_61: flags & 1 == 0,
    };
    let when_done = if flags & 2 == 0 {
        WhenDone::Removed
    } else {
        WhenDone::RepeatLast
    };
    let mut card = ReplayCard::new(
        Vec::new(),
        Protocol::T0,
        answers.iter().map(|a| a.to_vec()).collect(),
        when_done,
    );
    let r = if flags & 4 == 0 {
        transceive(&mut card, &cmd, &rules)
    } else {
        transceive_masked(&mut card, &cmd, &rules)
    };
    let blocks = cmd.chained(rules.max_send).len();
    // chain blocks, one 6C resend, then at most 300 GET RESPONSE rounds with a resend each
    assert!(
        card.counts.sent() <= blocks + 1 + 2 * 301,
        "{} APDUs",
        card.counts.sent()
    );
    if let Ok(resp) = r {
        if rules.follow_61 && card.counts.sent() > blocks + 1 {
            assert!(!matches!(resp.sw, StatusWord::BytesRemaining(_)));
        }
    }
});
