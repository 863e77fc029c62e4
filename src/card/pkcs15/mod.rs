//! PKCS#15 (ISO 7816-15) and ISO 7816-4 card files of CPS cards: EF.ATR, EF.DIR, EF.SN.ICC,
//! ODF, TokenInfo, AODF, PrKDF, CDF, DODF.
//!
//! Lenient where real cards are not strict DER (CPS3.md §3.2): a tolerant TLV reader
//! ([`tlv`]) and typed decoders that skip unknown tags, accept 1-byte BIT STRINGs, INTEGERs
//! with leading zeros and missing optional fields. No parser panics, whatever the input.

pub mod aodf;
pub mod cdf;
pub mod common;
pub mod dodf;
pub mod ef_atr;
pub mod ef_dir;
pub mod ef_sn;
pub mod odf;
pub mod prkdf;
pub mod tlv;
pub mod token_info;

#[cfg(test)]
pub(crate) mod samples;

pub use aodf::{parse_aodf, AuthObject, PinType};
pub use cdf::{parse_cdf, CertificateObject};
pub use common::{AccessRule, CommonObject, Pkcs15Id};
pub use dodf::{parse_dodf, DataObject};
pub use ef_atr::{parse_ef_atr, EfAtr};
pub use ef_dir::{parse_ef_dir, Application};
pub use ef_sn::{parse_ef_sn, CardSerial};
pub use odf::{parse_odf, DirectoryKind, Odf, OdfEntry};
pub use prkdf::{parse_prkdf, PrivateKeyObject};
pub use tlv::{BitFlags, ParseError};
pub use token_info::{parse_token_info, AlgorithmInfo, TokenInfo};

#[cfg(test)]
mod robustness {
    //! Property-style test: every parser on truncated and mutated versions of every sample
    //! must return (Ok or Err), never panic.
    use super::*;
    use crate::card::path::FilePath;
    use rand::{Rng, SeedableRng};

    fn run_all(data: &[u8]) {
        let app = FilePath::from_fids(&[1]);
        let _ = parse_ef_atr(data);
        let _ = parse_ef_dir(data);
        let _ = parse_ef_sn(data);
        let _ = parse_odf(data, &app);
        let _ = parse_token_info(data);
        let _ = parse_aodf(data);
        let _ = parse_prkdf(data, &app);
        let _ = parse_cdf(data, &app);
        let _ = parse_dodf(data, &app);
    }

    #[test]
    fn truncated_samples_never_panic() {
        for (_, sample) in samples::all() {
            for len in 0..=sample.len() {
                run_all(&sample[..len]);
                run_all(&sample[len..]);
            }
        }
    }

    #[test]
    fn mutated_samples_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_c0de);
        for (_, sample) in samples::all() {
            for _ in 0..2000 {
                let mut m = sample.clone();
                let edits = rng.gen_range(1..4);
                for _ in 0..edits {
                    match rng.gen_range(0..4) {
                        0 if !m.is_empty() => {
                            let i = rng.gen_range(0..m.len());
                            m[i] = rng.gen();
                        }
                        1 if !m.is_empty() => {
                            let i = rng.gen_range(0..m.len());
                            m[i] ^= 1 << rng.gen_range(0..8);
                        }
                        2 if !m.is_empty() => {
                            let i = rng.gen_range(0..m.len());
                            m.remove(i);
                        }
                        _ => {
                            let i = rng.gen_range(0..=m.len());
                            m.insert(i, rng.gen());
                        }
                    }
                }
                run_all(&m);
            }
        }
        for _ in 0..5000 {
            let len = rng.gen_range(0..64);
            let junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            run_all(&junk);
        }
    }
}
