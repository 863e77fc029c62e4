//! The real CPS3/CPS4 drivers over a card whose every answer is the fuzzer's (including
//! transport events: reset by another application, removal, no answer), running a fuzzed
//! sequence of operations. Never panics, never loops (also against a card that repeats its
//! last answer forever), and PIN tries stay precious: an operation that carries no code sends
//! no VERIFY with data, and one that carries a code sends it at most once (never replayed
//! after a reset or a closed channel).
//!
//! Input: `selector flags n op…(n ≤ 6)` then records (`[len u16] answer…`).
#![no_main]
use cpscard::card::connect;
use cpscard_fuzz::{card_kind, ops, records, ReplayCard, WhenDone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, flags, n, rest @ ..] = data else {
        return;
    };
    let (program, rest) = rest.split_at(rest.len().min(*n as usize % 7));
    let (_, atr, protocol) = card_kind(*selector);
    let when_done = if flags & 1 == 0 {
        WhenDone::Removed
    } else {
        WhenDone::RepeatLast
    };
    let answers = records(rest).into_iter().map(<[u8]>::to_vec).collect();
    let card = ReplayCard::new(atr, protocol, answers, when_done);
    let counts = card.counts.clone();
    let mut d = connect(Box::new(card)).expect("a known ATR is always recognised");
    for &op in program {
        let (v0, c0) = (counts.verifies_with_data(), counts.pin_changes());
        let allowed = ops::run(&mut *d, op);
        let spent = (counts.verifies_with_data() - v0, counts.pin_changes() - c0);
        assert!(
            spent.0 <= allowed.0 && spent.1 <= allowed.1,
            "operation {op:#04x} sent {spent:?} PIN commands, at most {allowed:?} allowed"
        );
    }
});
