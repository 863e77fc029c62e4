//! AODF (ISO 7816-15 §8.4): the tolerant parser never panics.
#![no_main]
use cpscard::card::pkcs15::parse_aodf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pins) = parse_aodf(data) {
        for p in &pins {
            let _ = (p.is_so_pin(), p.is_unblocking_pin(), p.needs_padding());
            let _ = (p.is_initialized(), p.is_puk());
        }
        let _ = format!("{pins:?}");
    }
});
