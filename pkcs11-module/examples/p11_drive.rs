//! A small C-ABI driver of a PKCS#11 module for the reliability e2e scripts (issue 6 items 1, 3,
//! 8): loads the module with `dlopen` (through `cryptoki`) exactly as an application does, and
//! prints what happens as `key=value` lines (return values as `CKR_*` names), flushed at once so
//! that a script can follow it.
//!
//! ```text
//! p11_drive MODULE sign [--pin P] [--threads T] [--count N] [--pss] [--sync DIR:PARTIES]
//!     T threads (own session each) x N signatures, SIG and AUT keys alternating (with --pss every
//!     other signature is SHA256-RSA-PKCS-PSS, CPS4), each verified with the token's certificate
//!     of the key; --sync: a barrier with the other processes after login and before the end
//!     (closing the last session logs the card out for everybody). Exit 0 only if all verify.
//! p11_drive MODULE interrupt-sign|interrupt-login --pin P --go FILE
//!     opens a session (interrupt-sign: logs in, finds the keys), prints `paused`, waits for FILE;
//!     then signs in a loop (`signing` printed after 3 signatures) until a call fails (interrupt-login: one C_Login), prints the failing
//!     call and its CKR_*; interrupt-sign then waits for FILE.next and prints what one more C_Sign
//!     in the old session answers (`after=`); then what the old session's C_GetSessionInfo
//!     answers, then waits up to 60 s for the token to come back and signs (verified) with each
//!     key in a new session: `recovered=yes`.
//! p11_drive MODULE hold --pin P
//!     logs in, signs once, prints `logged-in`, then sleeps until killed.
//! p11_drive MODULE probe
//!     without login: the private keys and private data objects visible (`private_objects=0`).
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cpscard::crypto::{HashAlg, PublicKey};
use cpscard::token::ParsedCertificate;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::Error;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

const LABELS: [&str; 2] = ["CPS_PRIV_SIG", "CPS_PRIV_AUT"];

fn out(line: String) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

/// `CKR_DEVICE_REMOVED` for cryptoki's `DeviceRemoved`; other errors as they come.
fn ckr(e: &Error) -> String {
    match e {
        // `handle` found no private key (C_FindObjects itself never answers this).
        Error::Pkcs11(cryptoki::error::RvError::KeyHandleInvalid, Function::FindObjects) => {
            "no-private-key".into()
        }
        Error::Pkcs11(rv, _) => {
            let mut s = String::from("CKR");
            for c in format!("{rv:?}").chars() {
                if c.is_ascii_uppercase() {
                    s.push('_');
                }
                s.push(c.to_ascii_uppercase());
            }
            s
        }
        e => format!("error({e})"),
    }
}

/// A key of the token and the public key of its certificate.
#[derive(Clone)]
struct Key {
    label: &'static str,
    id: Vec<u8>,
    public: PublicKey,
}

fn keys(s: &Session) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    for label in LABELS {
        let k = s.find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])?;
        let Some(k) = k.first() else {
            out(format!("error=no key {label}"));
            std::process::exit(2);
        };
        let id = match s.get_attributes(*k, &[AttributeType::Id])?.pop() {
            Some(Attribute::Id(id)) => id,
            _ => {
                out(format!("error=no CKA_ID for {label}"));
                std::process::exit(2);
            }
        };
        let cert = s.find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::Id(id.clone()),
        ])?;
        let der = match cert.first() {
            Some(c) => match s.get_attributes(*c, &[AttributeType::Value])?.pop() {
                Some(Attribute::Value(v)) => v,
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let public = match ParsedCertificate::parse(&der) {
            Ok(c) => c.public_key,
            Err(e) => {
                out(format!("error=certificate of {label}: {e}"));
                std::process::exit(2);
            }
        };
        keys.push(Key { label, id, public });
    }
    Ok(keys)
}

fn handle(s: &Session, key: &Key) -> Result<ObjectHandle, Error> {
    let found = s.find_objects(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Id(key.id.clone()),
    ])?;
    found.first().copied().ok_or(Error::Pkcs11(
        cryptoki::error::RvError::KeyHandleInvalid,
        Function::FindObjects,
    ))
}

/// One signature of `msg` with `key`, checked with its certificate; `Ok(false)`: it does not
/// verify.
fn sign_once(s: &Session, key: &Key, pss: bool, msg: &[u8]) -> Result<bool, Error> {
    let h = handle(s, key)?;
    let mechanism = if pss {
        Mechanism::Sha256RsaPkcsPss(PkcsPssParams {
            hash_alg: MechanismType::SHA256,
            mgf: PkcsMgfType::MGF1_SHA256,
            s_len: 32u64.into(),
        })
    } else {
        Mechanism::Sha256RsaPkcs
    };
    let sig = s.sign(&mechanism, h, msg)?;
    let hash = HashAlg::Sha256.digest(msg);
    Ok(if pss {
        key.public
            .verify_pss(&hash, &sig, HashAlg::Sha256, HashAlg::Sha256, Some(32))
            .is_ok()
    } else {
        key.public
            .verify_pkcs1(&HashAlg::Sha256.digest_info(&hash), &sig)
            .is_ok()
    })
}

struct Args {
    pin: Option<String>,
    threads: u32,
    count: u32,
    pss: bool,
    sync: Option<(PathBuf, usize)>,
    go: Option<PathBuf>,
}

fn parse(args: &[String]) -> Args {
    let mut a = Args {
        pin: None,
        threads: 1,
        count: 1,
        pss: false,
        sync: None,
        go: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--pin" => a.pin = Some(value()),
            "--threads" => a.threads = value().parse().unwrap_or_else(|_| usage()),
            "--count" => a.count = value().parse().unwrap_or_else(|_| usage()),
            "--pss" => a.pss = true,
            "--go" => a.go = Some(PathBuf::from(value())),
            "--sync" => {
                let v = value();
                let (dir, n) = v.rsplit_once(':').unwrap_or_else(|| usage());
                a.sync = Some((PathBuf::from(dir), n.parse().unwrap_or_else(|_| usage())));
            }
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: p11_drive MODULE sign|interrupt-sign|interrupt-login|hold|probe [--pin P] \
         [--threads T] [--count N] [--pss] [--sync DIR:PARTIES] [--go FILE]"
    );
    std::process::exit(64)
}

/// Waits until `parties` processes wrote `DIR/<step>.<pid>` (bounded: 120 s).
fn barrier(sync: &Option<(PathBuf, usize)>, step: &str) {
    let Some((dir, parties)) = sync else { return };
    let _ = std::fs::write(dir.join(format!("{step}.{}", std::process::id())), b"");
    let t0 = Instant::now();
    loop {
        let n = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with(&format!("{step}."))
                    })
                    .count()
            })
            .unwrap_or(0);
        if n >= *parties {
            return;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            out(format!("error=barrier {step}: {n} of {parties}"));
            std::process::exit(3);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_file(path: &Path) {
    let t0 = Instant::now();
    while !path.exists() {
        if t0.elapsed() > Duration::from_secs(120) {
            out(format!("error=no {}", path.display()));
            std::process::exit(3);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn first_slot(p: &Pkcs11) -> Result<Option<Slot>, Error> {
    Ok(p.get_slots_with_token()?.first().copied())
}

fn slot_or_exit(p: &Pkcs11) -> Slot {
    match first_slot(p) {
        Ok(Some(s)) => s,
        Ok(None) => {
            out("error=no token".into());
            std::process::exit(2);
        }
        Err(e) => {
            out(format!("error=C_GetSlotList {}", ckr(&e)));
            std::process::exit(2);
        }
    }
}

fn pin(a: &Args) -> AuthPin {
    AuthPin::from(a.pin.clone().unwrap_or_else(|| usage()))
}

fn die(what: &str, e: Error) -> ! {
    out(format!("error={what} {}", ckr(&e)));
    std::process::exit(1)
}

fn cmd_sign(p: &Pkcs11, a: &Args) -> i32 {
    let slot = slot_or_exit(p);
    let main = p
        .open_rw_session(slot)
        .unwrap_or_else(|e| die("C_OpenSession", e));
    barrier(&a.sync, "opened");
    main.login(UserType::User, Some(&pin(a)))
        .unwrap_or_else(|e| die("C_Login", e));
    let keys = keys(&main).unwrap_or_else(|e| die("keys", e));
    barrier(&a.sync, "logged-in");
    let t0 = Instant::now();
    let workers: Vec<_> = (0..a.threads)
        .map(|t| {
            let (p, keys, count, pss) = (p.clone(), keys.clone(), a.count, a.pss);
            std::thread::spawn(move || {
                let (mut verified, mut bad, mut errors) = (0u32, 0u32, Vec::new());
                let s = match p.open_ro_session(slot) {
                    Ok(s) => s,
                    Err(e) => return (0, 0, vec![format!("C_OpenSession {}", ckr(&e))]),
                };
                for round in 0..count {
                    let key = &keys[((t + round) % 2) as usize];
                    let pss = pss && round % 2 == 1;
                    let msg = format!("{} {t} {round} {}", std::process::id(), key.label);
                    match sign_once(&s, key, pss, msg.as_bytes()) {
                        Ok(true) => verified += 1,
                        Ok(false) => bad += 1,
                        Err(e) => errors.push(format!("{} {}", key.label, ckr(&e))),
                    }
                }
                (verified, bad, errors)
            })
        })
        .collect();
    let (mut verified, mut bad, mut errors) = (0u32, 0u32, Vec::new());
    for w in workers {
        match w.join() {
            Ok((v, b, e)) => {
                verified += v;
                bad += b;
                errors.extend(e);
            }
            Err(_) => errors.push("a thread panicked".into()),
        }
    }
    let elapsed = t0.elapsed();
    barrier(&a.sync, "done");
    out(format!(
        "threads={} signatures={} verified={verified} not_verified={bad} errors={} \
         elapsed_ms={}",
        a.threads,
        a.threads * a.count,
        errors.len(),
        elapsed.as_millis()
    ));
    for e in errors.iter().take(5) {
        out(format!("error={e}"));
    }
    i32::from(!(errors.is_empty() && bad == 0 && verified == a.threads * a.count))
}

/// After a failure: what the old session says, then a new session once the token is back.
fn recover(p: &Pkcs11, old: &Session, a: &Args) -> i32 {
    match old.get_session_info() {
        Ok(i) => out(format!(
            "old_session=CKR_OK old_state={:?}",
            i.session_state()
        )),
        Err(e) => out(format!("old_session={}", ckr(&e))),
    }
    let t0 = Instant::now();
    let slot = loop {
        match first_slot(p) {
            Ok(Some(s)) => break s,
            Ok(None) | Err(_) if t0.elapsed() < Duration::from_secs(60) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Ok(None) => {
                out("recovered=no (no token within 60 s)".into());
                return 1;
            }
            Err(e) => die("C_GetSlotList", e),
        }
    };
    let s = p
        .open_rw_session(slot)
        .unwrap_or_else(|e| die("C_OpenSession (new)", e));
    s.login(UserType::User, Some(&pin(a)))
        .unwrap_or_else(|e| die("C_Login (new)", e));
    let keys = keys(&s).unwrap_or_else(|e| die("keys (new)", e));
    for key in &keys {
        match sign_once(&s, key, false, b"after the card came back") {
            Ok(true) => {}
            Ok(false) => {
                out(format!("recovered=no ({} does not verify)", key.label));
                return 1;
            }
            Err(e) => die("C_Sign (new)", e),
        }
    }
    out("recovered=yes".into());
    0
}

fn cmd_interrupt(p: &Pkcs11, a: &Args, sign: bool) -> i32 {
    let go = a.go.clone().unwrap_or_else(|| usage());
    let slot = slot_or_exit(p);
    let s = p
        .open_rw_session(slot)
        .unwrap_or_else(|e| die("C_OpenSession", e));
    let keys = if sign {
        s.login(UserType::User, Some(&pin(a)))
            .unwrap_or_else(|e| die("C_Login", e));
        keys(&s).unwrap_or_else(|e| die("keys", e))
    } else {
        Vec::new()
    };
    out("paused".into());
    wait_file(&go);
    if sign {
        let t0 = Instant::now();
        let mut n = 0u32;
        loop {
            match sign_once(&s, &keys[(n % 2) as usize], false, b"interrupted") {
                Ok(true) => {
                    n += 1;
                    if n == 3 {
                        out("signing".into());
                    }
                }
                Ok(false) => {
                    out(format!("error=signature {n} does not verify"));
                    return 1;
                }
                Err(e) => {
                    out(format!("signed_before={n} failed=C_Sign rv={}", ckr(&e)));
                    // The script says when the card is out for good (pcscd saw it) or the
                    // other application is done: what the old session's next C_Sign answers.
                    wait_file(&go.with_extension("next"));
                    match sign_once(&s, &keys[0], false, b"interrupted, again") {
                        Ok(ok) => out(format!("after=CKR_OK verified={ok}")),
                        Err(e) => out(format!("after={}", ckr(&e))),
                    }
                    break;
                }
            }
            if t0.elapsed() > Duration::from_secs(60) {
                out(format!("error=still signing after 60 s ({n} signatures)"));
                return 1;
            }
        }
    } else {
        match s.login(UserType::User, Some(&pin(a))) {
            Ok(()) => {
                out("failed=none rv=CKR_OK".into());
                return 1;
            }
            Err(e) => out(format!("failed=C_Login rv={}", ckr(&e))),
        }
    }
    recover(p, &s, a)
}

fn cmd_hold(p: &Pkcs11, a: &Args) -> i32 {
    let slot = slot_or_exit(p);
    let s = p
        .open_rw_session(slot)
        .unwrap_or_else(|e| die("C_OpenSession", e));
    s.login(UserType::User, Some(&pin(a)))
        .unwrap_or_else(|e| die("C_Login", e));
    let keys = keys(&s).unwrap_or_else(|e| die("keys", e));
    match sign_once(&s, &keys[0], false, b"held") {
        Ok(true) => out("logged-in".into()),
        Ok(false) => die(
            "signature",
            Error::Pkcs11(cryptoki::error::RvError::SignatureInvalid, Function::Sign),
        ),
        Err(e) => die("C_Sign", e),
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn cmd_probe(p: &Pkcs11) -> i32 {
    let slot = slot_or_exit(p);
    let s = p
        .open_ro_session(slot)
        .unwrap_or_else(|e| die("C_OpenSession", e));
    let keys = s
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .unwrap_or_else(|e| die("C_FindObjects", e));
    let private = s
        .find_objects(&[Attribute::Private(true)])
        .unwrap_or_else(|e| die("C_FindObjects", e));
    let state = s
        .get_session_info()
        .map(|i| format!("{:?}", i.session_state()))
        .unwrap_or_else(|e| ckr(&e));
    out(format!(
        "private_keys={} private_objects={} session={state}",
        keys.len(),
        private.len()
    ));
    0
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [module, command, rest @ ..] = argv.as_slice() else {
        usage()
    };
    let a = parse(rest);
    let p = Pkcs11::new(module).unwrap_or_else(|e| {
        out(format!("error=loading {module}: {e}"));
        std::process::exit(2)
    });
    p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap_or_else(|e| die("C_Initialize", e));
    let rc = match command.as_str() {
        "sign" => cmd_sign(&p, &a),
        "interrupt-sign" => cmd_interrupt(&p, &a, true),
        "interrupt-login" => cmd_interrupt(&p, &a, false),
        "hold" => cmd_hold(&p, &a),
        "probe" => cmd_probe(&p),
        _ => usage(),
    };
    let _ = p.finalize();
    std::process::exit(rc)
}
