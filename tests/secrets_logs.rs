//! Secrets never reach the logs (issue 6 item 7): driver and token operations — login (given
//! and typed in a dialog), wrong codes, change PIN, unblock with the PUK, sign, decrypt — run on
//! both emulated cards with every `log` record captured at trace level (APDU traces of target
//! `apdu` included), and no record holds a PIN, PUK or new PIN value, as ASCII or hex (plain,
//! padded, spaced, lower case) or as a Rust byte list, nor the deciphered plaintext.
//!
//! The cards are images with codes that cannot be mistaken for other data (PIN `4826`, PUK
//! `90817263`), and the decipher cryptogram is made with a seeded RNG, so the whole run is
//! deterministic: what passes once passes always.

use cpscard::card::{
    connect, CardDriver, DecipherPadding, HashAlg as CardHash, KeyRef, Pin, SignAlgorithm,
};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
use cpscard::sign::{
    Mechanism, MechanismKind, PinEntry, PinRequest, PinSource, PinentryProgram, PublicKey,
};
use cpscard::token::{Token, TokenError, TokenOptions};
use rand::SeedableRng;
use std::sync::{Mutex, Once};
use std::thread::ThreadId;
use zeroize::Zeroizing;

const PIN: &str = "4826";
const PUK: &str = "90817263";
const NEW_PIN: &str = "7395";
/// Wrong codes typed by the user are secrets too.
const WRONG_PIN: &str = "5061";
const WRONG_PUK: &str = "38164257";
const PLAINTEXT: &[u8] = b"deciphered secret 5f2c0b7e: never in a log record";
const GENERATIONS: [Generation; 2] = [Generation::Cps3, Generation::Cps4];

/// Every record, with the thread that logged it (tests run in parallel threads).
static RECORDS: Mutex<Vec<(ThreadId, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let line = format!(
            "{} {} [{}:{}] {}",
            r.level(),
            r.target(),
            r.module_path().unwrap_or("?"),
            r.line().unwrap_or(0),
            r.args()
        );
        if let Ok(mut v) = RECORDS.lock() {
            v.push((std::thread::current().id(), line));
        }
    }
    fn flush(&self) {}
}

fn capture() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// This thread's records so far.
fn records() -> Vec<String> {
    let me = std::thread::current().id();
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t == me)
        .map(|(_, l)| l.clone())
        .collect()
}

/// Every form a secret could take in a log line.
fn forms(secret: &[u8]) -> Vec<String> {
    let hex_upper = hex::encode_upper(secret);
    let spaced: Vec<String> = secret.iter().map(|b| format!("{b:02X}")).collect();
    let list: Vec<String> = secret.iter().map(|b| b.to_string()).collect();
    let mut padded = secret.to_vec();
    padded.resize(8, 0xFF);
    let mut v = vec![
        hex_upper.clone(),
        hex_upper.to_lowercase(),
        spaced.join(" "),
        spaced.join(" ").to_lowercase(),
        spaced.join(":"),
        format!("[{}", list.join(", ")),
        hex::encode_upper(&padded),
        hex::encode(&padded),
    ];
    if secret.len() > 8 {
        v.push(String::from_utf8_lossy(secret).into_owned());
    }
    v
}

/// True when `code` appears in `line` as a number of its own: not inside a longer run of hex
/// digits (a hex dump of a certificate contains any 4 digits by chance; a hex dump of the
/// code itself is caught by [`forms`]).
fn has_code(line: &str, code: &str) -> bool {
    let b = line.as_bytes();
    line.match_indices(code).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + code.len()).copied();
        !before.is_some_and(|c| c.is_ascii_hexdigit())
            && !after.is_some_and(|c| c.is_ascii_hexdigit())
    })
}

/// Fails when a record of this thread holds a secret; returns how many records were checked.
fn assert_no_secret(what: &str) -> usize {
    let lines = records();
    for line in &lines {
        for code in [PIN, PUK, NEW_PIN, WRONG_PIN, WRONG_PUK] {
            assert!(
                !has_code(line, code),
                "{what}: code {code} in a log record: {line}"
            );
            for f in forms(code.as_bytes()) {
                assert!(
                    !line.contains(&f),
                    "{what}: code {code} as {f:?} in: {line}"
                );
            }
        }
        for f in forms(PLAINTEXT) {
            assert!(!line.contains(&f), "{what}: plaintext as {f:?} in: {line}");
        }
    }
    let apdu = lines.iter().filter(|l| l.contains(" apdu [")).count();
    assert!(
        apdu > 20,
        "{what}: only {apdu} APDU trace records: is logging captured?"
    );
    lines.len()
}

/// A built-in card with this test's codes.
fn card(g: Generation) -> EmulatedCard {
    let mut image = EmulatedCard::builtin(g, "cps").unwrap().image().clone();
    image.pin = PIN.into();
    image.puk = PUK.into();
    EmulatedCard::from_image(image, None).unwrap()
}

/// The PKCS#1 v1.5 cryptogram of [`PLAINTEXT`] for the authentication key (seeded padding).
fn cryptogram(c: &EmulatedCard) -> Vec<u8> {
    let (_, cert) = x509_parser::parse_x509_certificate(&c.image().auth.cert).unwrap();
    let key = PublicKey::from_spki_der(cert.public_key().raw).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    rsa::RsaPublicKey::encrypt(key.rsa(), &mut rng, rsa::Pkcs1v15Encrypt, PLAINTEXT).unwrap()
}

fn keys(g: Generation) -> (KeyRef, KeyRef) {
    match g {
        Generation::Cps3 => (KeyRef::CPS3_SIGNATURE, KeyRef::CPS3_AUTHENTICATION),
        Generation::Cps4 => (KeyRef::CPS4_SIGNATURE, KeyRef::CPS4_AUTHENTICATION),
    }
}

#[test]
fn driver_operations_log_no_secret() {
    capture();
    for g in GENERATIONS {
        let c = card(g);
        let crypt = cryptogram(&c);
        let mut d: Box<dyn CardDriver> = connect(Box::new(EmulatedReader::new(c))).unwrap();
        let (sig, aut) = keys(g);
        d.bind(None).unwrap();
        let pin = Pin::user(PIN).unwrap();
        let new_pin = Pin::user(NEW_PIN).unwrap();
        let puk = Pin::puk(PUK).unwrap();
        assert!(d.verify(&Pin::user(WRONG_PIN).unwrap()).is_err());
        d.verify(&pin).unwrap();
        d.sign(
            sig,
            SignAlgorithm::Pkcs1Digest(CardHash::Sha256),
            &[0x5A; 32],
        )
        .unwrap();
        let plain = d.decipher(aut, DecipherPadding::Pkcs1v15, &crypt).unwrap();
        assert_eq!(&plain[..], PLAINTEXT, "{g}");
        d.change_pin(&pin, &new_pin).unwrap();
        d.verify(&new_pin).unwrap();
        assert!(d.unblock_pin(&Pin::puk(WRONG_PUK).unwrap(), &pin).is_err());
        d.unblock_pin(&puk, &pin).unwrap();
        d.verify(&pin).unwrap();
        d.reset_security_state().unwrap();
    }
    let n = assert_no_secret("driver");
    println!("driver: {n} log records checked");
}

/// A PIN dialog typing these codes in turn.
struct Dialog(Vec<&'static str>);

impl PinEntry for Dialog {
    fn get_pin(&mut self, _: &PinRequest) -> Result<Zeroizing<String>, TokenError> {
        Ok(Zeroizing::new(self.0.remove(0).to_owned()))
    }
}

#[test]
fn token_operations_log_no_secret() {
    capture();
    for g in GENERATIONS {
        let c = card(g);
        let crypt = cryptogram(&c);
        let mut t = Token::open(Box::new(EmulatedReader::new(c)), TokenOptions::default()).unwrap();
        let _ = t.identity().unwrap();
        let given = |code: &str| PinSource::given(code).unwrap();
        assert!(t.login(given(WRONG_PIN)).is_err());
        let mut dialog = Dialog(vec![PIN]);
        t.login(PinSource::Entry(&mut dialog)).unwrap();
        let aut = t.authentication_key().unwrap().id.clone();
        t.sign(&aut, Mechanism::Sha256RsaPkcs, b"to be signed")
            .unwrap();
        let plain = t.decrypt(&aut, MechanismKind::RsaPkcs, &crypt).unwrap();
        assert_eq!(&plain[..], PLAINTEXT, "{g}");
        if let Some(sig) = t.signature_key().map(|k| k.id.clone()) {
            t.sign(&sig, Mechanism::Sha256RsaPkcs, b"signed").unwrap();
        }
        t.change_pin(given(PIN), given(NEW_PIN)).unwrap();
        t.logout().unwrap();
        t.login(given(NEW_PIN)).unwrap();
        assert!(t
            .unblock_pin(PinSource::given_puk(WRONG_PUK).unwrap(), given(PIN))
            .is_err());
        t.unblock_pin(PinSource::given_puk(PUK).unwrap(), given(PIN))
            .unwrap();
        t.login_puk(PinSource::given_puk(PUK).unwrap()).unwrap();
        t.reset_pin(given(NEW_PIN)).unwrap();
        let mut dialog = Dialog(vec![NEW_PIN, PIN]);
        t.change_pin(PinSource::Entry(&mut dialog), given(PIN))
            .unwrap();
        t.login(given(PIN)).unwrap();
        t.logout().unwrap();
    }
    let n = assert_no_secret("token");
    println!("token: {n} log records checked");
}

/// A pinentry program (Assuan) that answers every GETPIN with `code`.
fn pinentry(code: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("cpscard-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("pinentry-{code}"));
    let script = format!(
        "#!/bin/sh\necho OK\nwhile read -r cmd rest; do\n  case $cmd in\n    \
         GETPIN) echo 'D {code}'; echo OK ;;\n    BYE) echo OK; exit 0 ;;\n    *) echo OK ;;\n  \
         esac\ndone\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn pin_entry_programs_and_pinpads_log_no_secret() {
    capture();
    for g in GENERATIONS {
        // a pinentry program types the PIN
        let mut t = Token::open(
            Box::new(EmulatedReader::new(card(g))),
            TokenOptions::default(),
        )
        .unwrap();
        let mut program = PinentryProgram::new(pinentry(WRONG_PIN));
        assert!(t.login(PinSource::Entry(&mut program)).is_err());
        let mut program = PinentryProgram::new(pinentry(PIN));
        t.login(PinSource::Entry(&mut program)).unwrap();
        let aut = t.authentication_key().unwrap().id.clone();
        t.sign(&aut, Mechanism::Sha256RsaPkcs, b"pinentry").unwrap();
        // a pinpad reader: the code never goes through the host
        let (reader, pad) = EmulatedReader::new(card(g)).with_pinpad();
        let mut t = Token::open(Box::new(reader), TokenOptions::default()).unwrap();
        pad.lock().unwrap().type_digits(PIN);
        t.login(PinSource::Pinpad).unwrap();
        pad.lock().unwrap().type_digits(PIN);
        pad.lock().unwrap().type_digits(NEW_PIN);
        pad.lock().unwrap().type_digits(NEW_PIN);
        let _ = t.change_pin(PinSource::Pinpad, PinSource::Pinpad);
        t.sign(&aut, Mechanism::Sha256RsaPkcs, b"pinpad").unwrap();
    }
    let n = assert_no_secret("pin entry");
    println!("pin entry: {n} log records checked");
}

#[test]
fn the_checker_finds_a_leak() {
    // the assertion itself can fail: every form is caught, a hex dump is not a false alarm
    let pin_hex = hex::encode_upper(PIN);
    let leaks = [
        format!("verify with {PIN}"),
        format!("> 0020000108{pin_hex}FFFFFFFF"),
        format!("data {}", pin_hex.to_lowercase()),
        format!("{:?}", PIN.as_bytes()),
        format!("{}", String::from_utf8_lossy(PLAINTEXT)),
    ];
    for leak in &leaks {
        let caught = has_code(leak, PIN)
            || forms(PIN.as_bytes()).iter().any(|f| leak.contains(f))
            || forms(PLAINTEXT).iter().any(|f| leak.contains(f));
        assert!(caught, "not caught: {leak}");
    }
    assert!(
        !has_code("< 3082A4826B1F 9000", PIN),
        "a hex dump is not the PIN"
    );
}
