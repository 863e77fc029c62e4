//! SELECT answers (FCP `62`, FCI `6F`, FMD `64`, CPS2ter FCI `85`): never panic.
#![no_main]
use cpscard::card::fcp::{parse_cps2ter_fci, parse_fcp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(info) = parse_fcp(data) {
        let _ = info.is_df();
    }
    let _ = parse_cps2ter_fci(data);
});
