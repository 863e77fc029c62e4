//! A whole token from fuzzed card files (`Token::open` over the real driver and a card that
//! serves the fuzzer's files): binding, certificates, holder identity, objects, mechanisms —
//! never a panic, never a VERIFY with a code.
//!
//! Input: as `card_binding`: `selector` then records `[len u16] fid_hi fid_lo content…`.
//! With bit 0x40 of the selector the token uses a persistent cache shared by the inputs of
//! this process (emptied every 64 of them): identity records, cached certificates and files
//! of earlier fuzzed cards meet this one (warm opens, heads that match or not, same serials
//! with other content).
#![no_main]
use cpscard::token::{DiskCache, Token, TokenOptions};
use cpscard_fuzz::FileCard;
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU32, Ordering};

fuzz_target!(|data: &[u8]| {
    let [selector, rest @ ..] = data else {
        return;
    };
    let card = FileCard::from_input(*selector, rest);
    let counts = card.counts.clone();
    let options = if selector & 0x40 != 0 {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!("cpscard-fuzz-cache-{}", std::process::id()));
        if RUNS.fetch_add(1, Ordering::Relaxed) % 64 == 0 {
            let _ = DiskCache::new(&dir).clear();
        }
        TokenOptions::with_cache_dir(&dir)
    } else {
        TokenOptions::default()
    };
    if let Ok(mut token) = Token::open(Box::new(card), options) {
        let _ = format!("{:?}", token.info());
        for id in token.object_ids() {
            let _ = token.object_by_key(id.key());
        }
        let _ = (token.mechanisms(), token.identity_from_certificate());
        let _ = token.identity();
        for key in token.private_keys() {
            let _ = (key.mechanisms(), token.certificate_of(key));
        }
        let ids: Vec<_> = token.data_objects().iter().map(|d| d.id.clone()).collect();
        for id in ids.iter().take(4) {
            let _ = token.data_size(id);
            let _ = token.read_data(id);
        }
    }
    counts.assert_no_pin_use("opening a token");
});
