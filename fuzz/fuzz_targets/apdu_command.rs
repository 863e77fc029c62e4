//! `Command::parse` (ISO 7816-4 §5.1 short APDUs): never panics; what parses encodes back to
//! the same bytes, splits into a chain that carries the same data, and traces secret data
//! masked.
#![no_main]
use cpscard::apdu::{Command, CLA_CHAINING};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cmd) = Command::parse(data) else {
        return;
    };
    let bytes = cmd.to_bytes().expect("a parsed command encodes");
    assert_eq!(&bytes[..], data, "parse/encode round trip");
    let trace = cmd.trace_hex();
    if cmd.is_secret() && !cmd.data().is_empty() {
        let mut masked = hex::encode_upper(&data[..5]);
        masked.push_str(&"**".repeat(cmd.data().len()));
        if cmd.le().is_some() {
            masked.push_str(&hex::encode_upper(&data[data.len() - 1..]));
        }
        assert_eq!(trace, masked, "secret data must be masked");
    } else {
        assert_eq!(trace, hex::encode_upper(data));
    }
    // chaining: blocks of any size carry the data in order, only the last has Le
    let block = 1 + (data[data.len() - 1] as usize % 255);
    let chain = cmd.chained(block);
    let mut joined = Vec::new();
    for (i, c) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        assert!(c.data().len() <= block || chain.len() == 1);
        assert_eq!(c.le(), if last { cmd.le() } else { None });
        assert_eq!(
            c.cla & CLA_CHAINING != 0,
            !last || cmd.cla & CLA_CHAINING != 0
        );
        joined.extend_from_slice(c.data());
    }
    assert_eq!(joined, cmd.data());
});
