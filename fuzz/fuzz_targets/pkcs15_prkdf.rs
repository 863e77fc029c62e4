//! PRKDF (ISO 7816-15): the tolerant parser never panics, under the contact and the
//! contactless application DF.
#![no_main]
use cpscard::card::pkcs15::parse_prkdf;
use cpscard::card::FilePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for app in [
        FilePath::from_fids(&[0x0001]),
        FilePath::from_fids(&[0x0002]),
    ] {
        if let Ok(v) = parse_prkdf(data, &app) {
            let _ = format!("{v:?}");
        }
    }
});
