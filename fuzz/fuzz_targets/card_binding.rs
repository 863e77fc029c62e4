//! A whole card binding from fuzzed files: the real CPS3/CPS4 driver (chosen by ATR) reads
//! EF.SN.ICC, ODF, TokenInfo and the directory files the ODF names from a card that serves
//! the fuzzer's file contents, then reads every certificate and data object it declares.
//! Never panics, never loops, never sends a VERIFY with a code; with a cache, binding again
//! gives the same binding.
//!
//! Input: `selector` then records `[len u16] fid_hi fid_lo content…`.
#![no_main]
use cpscard::card::{connect, CardBinding, FilePath, MemoryCache};
use cpscard_fuzz::FileCard;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, rest @ ..] = data else {
        return;
    };
    let card = FileCard::from_input(*selector, rest);
    let counts = card.counts.clone();
    let Ok(mut driver) = connect(Box::new(card)) else {
        panic!("a known ATR is always recognised");
    };
    let mut cache = MemoryCache::default();
    let with_cache = selector & 0x40 != 0;
    let bound = if with_cache {
        driver.bind(Some(&mut cache))
    } else {
        driver.bind(None)
    };
    if let Ok(b) = bound {
        let _ = (b.user_pin(), b.puk(), b.cache_key(), b.keys().count());
        if let Some(p) = b.user_pin() {
            let _ = b.pin_kind(p);
        }
        let mut paths: Vec<FilePath> = b.certificates.iter().map(|c| c.path.clone()).collect();
        paths.extend(b.data_objects.iter().map(|d| d.path.clone()));
        for key in &b.private_keys {
            let _ = (CardBinding::key_ref(key), b.certificate_of(key));
            let _ = (key.can_sign(), key.can_decrypt(), key.is_non_repudiation());
        }
        for p in paths.iter().take(8) {
            let _ = driver.read_file(p);
            let _ = driver.file_size(p);
        }
        if with_cache {
            let again = driver.bind(Some(&mut cache));
            assert_eq!(
                again.as_ref().ok(),
                Some(&b),
                "a warm bind differs from the cold one"
            );
        }
    }
    counts.assert_no_pin_use("binding");
});
