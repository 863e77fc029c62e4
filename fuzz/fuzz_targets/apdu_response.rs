//! `Response::parse`: never panics, at least SW1 SW2, lossless status word.
#![no_main]
use cpscard::apdu::{Response, StatusWord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Response::parse(data) {
        Ok(r) => {
            assert!(data.len() >= 2);
            assert_eq!(r.to_bytes(), data);
            let sw = u16::from(r.sw);
            assert_eq!(StatusWord::from(sw), r.sw, "status words are lossless");
            assert_eq!(r.is_success(), sw == 0x9000);
            let _ = format!("{r:?} {}", r.sw);
        }
        Err(_) => assert!(data.len() < 2),
    }
});
