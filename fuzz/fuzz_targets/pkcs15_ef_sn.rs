//! EF.SN.ICC (CPS3.md §3.2): the parser never panics; a serial it accepts has 19 PAN digits
//! starting with the CPS issuer and 8 serial digits.
#![no_main]
use cpscard::card::pkcs15::parse_ef_sn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sn) = parse_ef_sn(data) {
        assert_eq!(sn.pan.len(), 19);
        assert!(sn.pan.starts_with("8025000001"));
        assert_eq!(sn.serial.len(), 8);
        assert!(sn.pan.bytes().all(|b| b.is_ascii_digit()));
    }
});
