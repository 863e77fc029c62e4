//! The measured PKCS#11 sequences, each run in a child process of its own (`bench --child`):
//! a fresh process is what "first signature" and "RSS of a process" mean, and a module that
//! cannot be unloaded (OpenSC, ours) never carries state from one run into the next.
//!
//! Every module is driven the same way, through `cryptoki` (dlopen + `C_GetInterface` /
//! `C_GetFunctionList`), on the slot of one reader. The card's counters are read from the file
//! `cps-tool emulate --stats` rewrites before each answer leaves, so a count read after a call
//! returned includes every APDU of that call.

use std::path::Path;
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use serde_json::{json, Value};

use cpscard::crypto::HashAlg;
use cpscard::crypto::PublicKey;
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::ParsedCertificate;

/// A failed step: what was being done and why.
pub type StepResult<T> = Result<T, String>;

fn ck<T>(what: &str, r: cryptoki::error::Result<T>) -> StepResult<T> {
    r.map_err(|e| format!("{what}: {e}"))
}

/// APDUs the emulator has received so far (`--stats` file of `cps-tool emulate`).
pub fn apdus(stats: &Path) -> StepResult<u64> {
    let missing = |detail: &dyn std::fmt::Display| {
        t!(Msg::BenchErrStats, path = stats.display(), detail = detail)
    };
    let text = std::fs::read_to_string(stats).map_err(|e| missing(&e))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| missing(&e))?;
    doc["apdus"].as_u64().ok_or_else(|| missing(&"?"))
}

/// Resident and peak resident memory of this process, KiB (`/proc/self/status`).
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What one child needs to know.
pub struct Target<'a> {
    pub module: &'a Path,
    pub reader: &'a str,
    pub key_id: &'a [u8],
    /// Sign with CKM_SHA256_RSA_PKCS_PSS (TLS 1.3) instead of CKM_RSA_PKCS over a DigestInfo.
    pub pss: bool,
    pub pin: &'a str,
    pub stats: &'a Path,
}

fn load(module: &Path) -> StepResult<Pkcs11> {
    let p = ck("dlopen", Pkcs11::new(module))?;
    ck(
        "C_Initialize",
        p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)),
    )?;
    Ok(p)
}

/// The slot whose reader is `reader` (OpenSC's slot description is the reader name, ours
/// too; a module may pad it or add to it).
fn slot_of(p: &Pkcs11, reader: &str) -> StepResult<Slot> {
    let slots = ck("C_GetSlotList", p.get_slots_with_token())?;
    for s in &slots {
        let info = ck("C_GetSlotInfo", p.get_slot_info(*s))?;
        if info.slot_description().trim().starts_with(reader) {
            return Ok(*s);
        }
    }
    Err(t!(
        Msg::BenchErrNoToken,
        reader = reader,
        slots = slots.len()
    ))
}

fn find_one(s: &Session, class: ObjectClass, id: &[u8]) -> StepResult<Option<ObjectHandle>> {
    let found = ck(
        "C_FindObjects",
        s.find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())]),
    )?;
    Ok(found.first().copied())
}

/// The message signed: a SHA-256 DigestInfo for `CKM_RSA_PKCS` (what TLS client
/// authentication asks of the authentication key).
fn digest_info(tag: &[u8]) -> Vec<u8> {
    HashAlg::Sha256.digest_info(&HashAlg::Sha256.digest(tag))
}

/// CKM_SHA256_RSA_PKCS_PSS as TLS 1.3 asks it: SHA-256, MGF1-SHA-256, a 32-byte salt.
fn pss_sha256<'a>() -> Mechanism<'a> {
    use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
    use cryptoki::mechanism::MechanismType;
    Mechanism::Sha256RsaPkcsPss(PkcsPssParams {
        hash_alg: MechanismType::SHA256,
        mgf: PkcsMgfType::MGF1_SHA256,
        s_len: 32.into(),
    })
}

/// The public key of the certificate of `id` on the token.
fn public_key(s: &Session, id: &[u8]) -> StepResult<PublicKey> {
    let no_cert = || t!(Msg::BenchErrNoCert, id = hex::encode(id));
    let cert = find_one(s, ObjectClass::CERTIFICATE, id)?.ok_or_else(no_cert)?;
    let der = ck(
        "C_GetAttributeValue(CKA_VALUE)",
        s.get_attributes(cert, &[AttributeType::Value]),
    )?
    .into_iter()
    .find_map(|a| match a {
        Attribute::Value(v) => Some(v),
        _ => None,
    })
    .ok_or_else(no_cert)?;
    Ok(ParsedCertificate::parse(&der)?.public_key)
}

fn check(public: &PublicKey, di: &[u8], sig: &[u8]) -> StepResult<()> {
    public
        .verify_pkcs1(di, sig)
        .map_err(|e| t!(Msg::BenchErrBadSignature, detail = e))
}

fn no_key(id: &[u8]) -> String {
    t!(Msg::BenchErrNoKey, id = hex::encode(id))
}

/// Load → find the key → login → one signature; the time of all that, its APDUs, and the
/// signature checked with the certificate afterwards (not timed, not counted).
pub fn first_signature(t: &Target) -> StepResult<Value> {
    let before = apdus(t.stats)?;
    let start = Instant::now();
    let p = load(t.module)?;
    let slot = slot_of(&p, t.reader)?;
    let s = ck("C_OpenSession", p.open_rw_session(slot))?;
    // a module may show private keys only after login (the vendor's does)
    let mut key = find_one(&s, ObjectClass::PRIVATE_KEY, t.key_id)?;
    ck(
        "C_Login",
        s.login(UserType::User, Some(&AuthPin::from(t.pin.to_string()))),
    )?;
    if key.is_none() {
        key = find_one(&s, ObjectClass::PRIVATE_KEY, t.key_id)?;
    }
    let key = key.ok_or_else(|| no_key(t.key_id))?;
    const MESSAGE: &[u8] = b"cps-tool bench";
    let di = digest_info(MESSAGE);
    let sig = if t.pss {
        ck("C_Sign", s.sign(&pss_sha256(), key, MESSAGE))?
    } else {
        ck("C_Sign", s.sign(&Mechanism::RsaPkcs, key, &di))?
    };
    let elapsed = start.elapsed();
    let count = apdus(t.stats)? - before;
    let public = public_key(&s, t.key_id)?;
    if t.pss {
        let h = HashAlg::Sha256;
        public
            .verify_pss(&h.digest(MESSAGE), &sig, h, h, Some(h.output_len()))
            .map_err(|e| t!(Msg::BenchErrBadSignature, detail = e))?;
    } else {
        check(&public, &di, &sig)?;
    }
    let (rss, hwm) = rss_kib();
    let _ = s.logout();
    drop(s);
    let _ = p.finalize();
    Ok(json!({ "ms": ms(elapsed), "apdus": count, "rss_kib": rss, "hwm_kib": hwm }))
}

/// Attributes an NSS-like client reads, per object class.
fn attributes_of(class: ObjectClass) -> Vec<AttributeType> {
    use AttributeType as A;
    let mut v = vec![
        A::Class,
        A::Token,
        A::Private,
        A::Label,
        A::Id,
        A::Modifiable,
    ];
    if class == ObjectClass::CERTIFICATE {
        v.extend([
            A::CertificateType,
            A::Value,
            A::Subject,
            A::Issuer,
            A::SerialNumber,
        ]);
    } else if class == ObjectClass::PRIVATE_KEY || class == ObjectClass::PUBLIC_KEY {
        v.extend([
            A::KeyType,
            A::Modulus,
            A::PublicExponent,
            A::Sign,
            A::Decrypt,
        ]);
    } else if class == ObjectClass::DATA {
        v.extend([A::Application, A::Value]);
    }
    v
}

/// One polling round of a browser: slot list, slot and token info of each slot, a session
/// per token, every object with its attributes. Returns the number of objects seen.
fn poll_once(p: &Pkcs11) -> StepResult<usize> {
    let mut objects = 0;
    for slot in ck("C_GetSlotList", p.get_slots_with_token())? {
        ck("C_GetSlotInfo", p.get_slot_info(slot))?;
        ck("C_GetTokenInfo", p.get_token_info(slot))?;
        let s = ck("C_OpenSession", p.open_ro_session(slot))?;
        for o in ck("C_FindObjects", s.find_objects(&[]))? {
            let class = ck(
                "C_GetAttributeValue(CKA_CLASS)",
                s.get_attributes(o, &[AttributeType::Class]),
            )?
            .into_iter()
            .find_map(|a| match a {
                Attribute::Class(c) => Some(c),
                _ => None,
            })
            .ok_or_else(|| Msg::BenchErrNoClass.text())?;
            ck(
                "C_GetAttributeValue",
                s.get_attributes(o, &attributes_of(class)),
            )?;
            objects += 1;
        }
    }
    Ok(objects)
}

/// Load, then `rounds` polling rounds: the first one (with the load) and the others apart,
/// time and APDUs; RSS after the first round (a process that loaded the module and
/// enumerated) and at the end (growth over the rounds).
pub fn polling(t: &Target, rounds: u32) -> StepResult<Value> {
    let (rss_base, _) = rss_kib();
    let a0 = apdus(t.stats)?;
    let start = Instant::now();
    let p = load(t.module)?;
    slot_of(&p, t.reader)?;
    let objects = poll_once(&p)?;
    let first = start.elapsed();
    let a1 = apdus(t.stats)?;
    let (rss_first, _) = rss_kib();
    let mut times = Vec::new();
    for _ in 1..rounds {
        let t0 = Instant::now();
        let n = poll_once(&p)?;
        times.push(t0.elapsed());
        if n != objects {
            return Err(t!(Msg::BenchErrObjects, seen = n, first = objects));
        }
    }
    let a2 = apdus(t.stats)?;
    let (rss_end, hwm) = rss_kib();
    let _ = p.finalize();
    let rest: Duration = times.iter().sum();
    Ok(json!({
        "objects": objects,
        "first_ms": ms(first),
        "first_apdus": a1 - a0,
        "rest_rounds": times.len(),
        "rest_ms": ms(rest),
        "rest_median_ms": ms(median(&mut times)),
        "rest_apdus": a2 - a1,
        "rss_base_kib": rss_base,
        "rss_kib": rss_first,
        "rss_end_kib": rss_end,
        "hwm_kib": hwm,
    }))
}

/// Signatures per second with `threads` threads, each with its own session, `total`
/// signatures shared among them, every signature checked. After one login.
pub fn threads(t: &Target, counts: &[u32], total: u32) -> StepResult<Value> {
    let p = load(t.module)?;
    let slot = slot_of(&p, t.reader)?;
    let main = ck("C_OpenSession", p.open_rw_session(slot))?;
    ck(
        "C_Login",
        main.login(UserType::User, Some(&AuthPin::from(t.pin.to_string()))),
    )?;
    let key =
        find_one(&main, ObjectClass::PRIVATE_KEY, t.key_id)?.ok_or_else(|| no_key(t.key_id))?;
    let public = public_key(&main, t.key_id)?;
    // one signature before the clock starts (the key's first use)
    let di = digest_info(b"warm-up");
    check(
        &public,
        &di,
        &ck("C_Sign", main.sign(&Mechanism::RsaPkcs, key, &di))?,
    )?;
    let mut out = Vec::new();
    for &n in counts {
        let n = n.max(1);
        let per = total.div_ceil(n);
        let start = Instant::now();
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let (p, public) = (p.clone(), public.clone());
                std::thread::spawn(move || -> (u32, u32, Option<String>) {
                    let s = match p.open_ro_session(slot) {
                        Ok(s) => s,
                        Err(e) => return (0, per, ck::<()>("C_OpenSession", Err(e)).err()),
                    };
                    let (mut ok, mut bad, mut first_error) = (0, 0, None);
                    for j in 0..per {
                        let di = digest_info(&[i as u8, j as u8, n as u8]);
                        let r = ck("C_Sign", s.sign(&Mechanism::RsaPkcs, key, &di))
                            .and_then(|sig| check(&public, &di, &sig));
                        match r {
                            Ok(()) => ok += 1,
                            Err(e) => {
                                bad += 1;
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                    (ok, bad, first_error)
                })
            })
            .collect();
        let (mut ok, mut bad, mut error) = (0, 0, None);
        for w in workers {
            let (o, b, e) = w.join().map_err(|_| Msg::BenchErrPanic.text())?;
            ok += o;
            bad += b;
            if error.is_none() {
                error = e;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        out.push(json!({
            "threads": n, "signatures": ok, "errors": bad, "secs": secs,
            "per_sec": f64::from(ok) / secs, "error": error,
        }));
    }
    let _ = main.logout();
    drop(main);
    let _ = p.finalize();
    Ok(Value::Array(out))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn median(v: &mut [Duration]) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}
