//! Helpers shared by the emulator tests: declarative APDU transcripts and certificate keys.
#![allow(dead_code)]

use cpscard::emulator::{EmulatedCard, VirtualCard};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;

/// Hex with spaces, `"..."` ASCII runs allowed: `"00 A4" "text"`.
pub fn hx(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('"') {
        out.extend(hex_only(&rest[..start]));
        let after = &rest[start + 1..];
        let end = after.find('"').expect("unterminated string");
        out.extend_from_slice(&after.as_bytes()[..end]);
        rest = &after[end + 1..];
    }
    out.extend(hex_only(rest));
    out
}

fn hex_only(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&clean).unwrap_or_else(|e| panic!("bad hex {clean:?}: {e}"))
}

/// Does `got` match `pattern`? Pattern tokens: hex bytes, `xx` = any byte, `*` = any run of
/// bytes (at most one), `"text"` = ASCII.
pub fn matches(pattern: &str, got: &[u8]) -> bool {
    let (head, tail) = match pattern.split_once('*') {
        Some((h, t)) => (h, Some(t)),
        None => (pattern, None),
    };
    let head = tokens(head);
    let tail_t = tail.map(tokens).unwrap_or_default();
    let fits = |toks: &[Option<u8>], bytes: &[u8]| {
        toks.len() == bytes.len()
            && toks
                .iter()
                .zip(bytes)
                .all(|(t, b)| t.map_or(true, |v| v == *b))
    };
    match tail {
        None => fits(&head, got),
        Some(_) => {
            got.len() >= head.len() + tail_t.len()
                && fits(&head, &got[..head.len()])
                && fits(&tail_t, &got[got.len() - tail_t.len()..])
        }
    }
}

fn tokens(s: &str) -> Vec<Option<u8>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('"') {
        out.extend(hex_tokens(&rest[..start]));
        let after = &rest[start + 1..];
        let end = after.find('"').expect("unterminated string");
        out.extend(after[..end].bytes().map(Some));
        rest = &after[end + 1..];
    }
    out.extend(hex_tokens(rest));
    out
}

fn hex_tokens(s: &str) -> Vec<Option<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    clean
        .as_bytes()
        .chunks(2)
        .map(|c| {
            let t = std::str::from_utf8(c).unwrap();
            if t.eq_ignore_ascii_case("xx") {
                None
            } else {
                Some(u8::from_str_radix(t, 16).unwrap_or_else(|_| panic!("bad token {t}")))
            }
        })
        .collect()
}

/// Sends one APDU (hex) and returns the raw answer.
pub fn send(card: &mut EmulatedCard, apdu: &str) -> Vec<u8> {
    card.process(&hx(apdu))
}

/// Runs a transcript: each step is (command hex, expected answer pattern). Returns the answers.
pub fn run(card: &mut EmulatedCard, steps: &[(&str, &str)]) -> Vec<Vec<u8>> {
    let mut answers = Vec::new();
    for (i, (cmd, want)) in steps.iter().enumerate() {
        let got = card.process(&hx(cmd));
        assert!(
            matches(want, &got),
            "step {i}: > {cmd}\n  expected < {want}\n  got      < {}",
            hex::encode_upper(&got)
        );
        answers.push(got);
    }
    answers
}

/// Public key of a DER certificate.
pub fn cert_key(der: &[u8]) -> RsaPublicKey {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("certificate");
    RsaPublicKey::from_public_key_der(cert.public_key().raw).expect("RSA key")
}

/// The fixture file bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Data of an answer (without SW).
pub fn data(answer: &[u8]) -> &[u8] {
    &answer[..answer.len() - 2]
}

/// A fresh temporary path for a card image.
pub fn temp_image(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cpscard-emu-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("card.json")
}

#[test]
fn patterns() {
    assert!(matches("61 xx", &[0x61, 0x27]));
    assert!(matches("* 90 00", &[1, 2, 0x90, 0]));
    assert!(matches("5A 0A * 90 00", &[0x5A, 0x0A, 0x90, 0]));
    assert!(!matches("90 00", &[0x61, 0]));
    assert!(matches("\"AB\" 90 00", &[0x41, 0x42, 0x90, 0]));
}
