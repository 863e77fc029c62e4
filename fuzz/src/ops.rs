//! The driver operations the `card_driver` target runs, one per input byte (low nibble: the
//! operation, high nibble: its parameter), shared with the seed writer so that a recorded
//! emulator session is a valid seed.

use cpscard::card::{
    CardDriver, Cps2terFile, DecipherPadding, FilePath, HashAlg, KeyRef, MessageHasher, Pin,
    PinKind, SignAlgorithm,
};

/// The codes the operations use (the fixture cards' own: `card.json`).
pub const PIN: &str = "1234";
pub const NEW_PIN: &str = "4321";
pub const PUK: &str = "12345678";

const KEYS: [KeyRef; 5] = [
    KeyRef::CPS3_SIGNATURE,
    KeyRef::CPS3_AUTHENTICATION,
    KeyRef::CPS3_TECHNICAL,
    KeyRef::CPS4_SIGNATURE,
    KeyRef::CPS4_AUTHENTICATION,
];

fn hash(p: u8) -> HashAlg {
    if p & 1 == 0 {
        HashAlg::Sha1
    } else {
        HashAlg::Sha256
    }
}

fn algorithm(p: u8) -> (SignAlgorithm, Vec<u8>) {
    let h = hash(p);
    let digest = vec![0xA5; if p & 1 == 0 { 20 } else { 32 }];
    match (p >> 1) % 5 {
        0 => (SignAlgorithm::Pkcs1Message(h), b"fuzzed message".to_vec()),
        1 => (SignAlgorithm::Pkcs1Digest(h), digest),
        2 => (SignAlgorithm::Pkcs1Raw, digest),
        3 => (SignAlgorithm::PssDigest(h), digest),
        _ => (SignAlgorithm::RawRsa, vec![0x5A; 256]),
    }
}

/// Runs operation `op` (errors are ignored: the card is fuzzed). Returns how many VERIFY with
/// data and how many PIN-changing APDUs the operation may send at most: a VERIFY is never
/// replayed on the user's behalf, an operation without a code sends none.
pub fn run(d: &mut dyn CardDriver, op: u8) -> (usize, usize) {
    let p = op >> 4;
    let key = KEYS[p as usize % KEYS.len()];
    let pin = Pin::user(PIN).expect("PIN format");
    let new_pin = Pin::user(NEW_PIN).expect("PIN format");
    let puk = Pin::puk(PUK).expect("PUK format");
    match op & 0x0F {
        0 => {
            let _ = d.bind(None);
            (0, 0)
        }
        1 => {
            let kind = if p & 1 == 0 {
                PinKind::User
            } else {
                PinKind::Puk
            };
            let _ = d.pin_status(kind);
            (0, 0)
        }
        2 => {
            let _ = d.verify(if p & 1 == 0 { &pin } else { &puk });
            (1, 0)
        }
        3 => {
            let (old, new) = if p & 1 == 0 {
                (&pin, &new_pin)
            } else {
                (&new_pin, &pin)
            };
            let _ = d.change_pin(old, new);
            (1, 1)
        }
        4 => {
            let _ = d.unblock_pin(&puk, if p & 1 == 0 { &pin } else { &new_pin });
            // CPS4: RESET RETRY COUNTER then CHANGE REFERENCE DATA (CPS4.md §6.2)
            (1, 2)
        }
        5 => {
            let (alg, input) = algorithm(p);
            let _ = (d.supports(key, alg), d.key_role(key));
            let _ = d.sign(key, alg, &input);
            (0, 0)
        }
        6 => {
            let mut h = MessageHasher::new(hash(p));
            h.update(&vec![0x42; 64 * p as usize + 3]);
            let _ = d.sign_message(key, &h);
            (0, 0)
        }
        7 => {
            let padding = if p & 1 == 0 {
                DecipherPadding::Pkcs1v15
            } else {
                DecipherPadding::Raw
            };
            let _ = d.supports_decipher(key, padding);
            let _ = d.decipher(key, padding, &[0x33; 256]);
            (0, 0)
        }
        8 => {
            let _ = d.get_challenge(1 + p as usize * 3);
            (0, 0)
        }
        9 => {
            let file = if p == 0 {
                Cps2terFile::SitFact
            } else {
                Cps2terFile::Activity(p)
            };
            let _ = d.read_cps2ter(file);
            (0, 0)
        }
        10 => {
            let _ = d.read_file(&FilePath::from_fids(&[0x0001, 0x7000 + p as u16]));
            (0, 0)
        }
        11 => {
            let _ = d.file_size(&FilePath::from_fids(&[0x0001, 0xD000 + p as u16]));
            (0, 0)
        }
        12 => {
            let _ = d.write_file(&FilePath::from_fids(&[0x0001, 0x7007]), &[0x77; 40]);
            (0, 0)
        }
        13 => {
            let _ = d.reset_pin(if p & 1 == 0 { &pin } else { &new_pin });
            (0, 2)
        }
        _ => (0, 0),
    }
}
