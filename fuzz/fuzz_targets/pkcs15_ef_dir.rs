//! EF.DIR (ISO 7816-4 §8.2.1.1): the tolerant parser never panics.
#![no_main]
use cpscard::card::pkcs15::parse_ef_dir;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(apps) = parse_ef_dir(data) {
        let _ = format!("{apps:?}");
    }
});
