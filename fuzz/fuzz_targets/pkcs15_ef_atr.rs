//! EF.ATR (CPS3.md §2): the tolerant parser never panics.
#![no_main]
use cpscard::card::pkcs15::parse_ef_atr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(atr) = parse_ef_atr(data) {
        let _ = (atr.max_command_apdu(), atr.max_response());
        let _ = (atr.supports_chaining(), atr.is_ias_ecc());
        let _ = format!("{atr:?}");
    }
});
