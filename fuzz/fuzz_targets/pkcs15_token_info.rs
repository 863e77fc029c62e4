//! TokenInfo (ISO 7816-15 §8.6): the tolerant parser never panics.
#![no_main]
use cpscard::card::pkcs15::parse_token_info;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ti) = parse_token_info(data) {
        let _ = format!("{ti:?}");
    }
});
