//! The BUILT module over both emulated cards (`CPSCARD_EMULATED=cps3|cps4:<image>`, each test
//! with its own image and cache in a temporary directory), driven through `cryptoki` as an
//! application drives it, plus the raw function list where `cryptoki` cannot misbehave enough.
//! Covers objects.md §2-§7 and p11test's categories (mechanism info, read-only objects,
//! multi-part, PSS parameters, usage flags).

#![cfg(feature = "emulator")]

use crate::common;

use std::ptr::null_mut;
use std::sync::MutexGuard;

use common::{serial, EmulatedCard, Module};
use cpscard::crypto::{HashAlg, PublicKey};
use cpscard::token::ParsedCertificate;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use cryptoki_sys::*;

const GENERATIONS: [&str; 2] = ["cps3", "cps4"];
const AID: &str = "e828bd080f8025000001ff0010";

/// What objects.md says of each generation.
struct Profile {
    label: &'static str,
    model: &'static str,
    sig_id: Vec<u8>,
    aut_id: Vec<u8>,
}

fn profile(generation: &str) -> Profile {
    let id = |last: &str| hex::decode(format!("{AID}{last}")).unwrap();
    match generation {
        "cps3" => Profile {
            label: "CPS3v3-12345678 (EMULATED)",
            model: "IAS ECC",
            sig_id: id("01"),
            aut_id: id("02"),
        },
        _ => Profile {
            label: "CPS4-12345678 (EMULATED)",
            model: "ChipDoc",
            sig_id: id("10"),
            aut_id: id("20"),
        },
    }
}

/// The raw module, finalized when dropped.
struct Fin(Module);

impl Drop for Fin {
    fn drop(&mut self) {
        let _ = self.0.finalize();
    }
}

impl std::ops::Deref for Fin {
    type Target = Module;
    fn deref(&self) -> &Module {
        &self.0
    }
}

/// One test's library: initialized over its own emulated card; finalized first when dropped,
/// then the card's directory goes, then the test lock is released.
struct Ctx {
    m: Fin,
    p: Pkcs11,
    slot: Slot,
    card: EmulatedCard,
    _g: MutexGuard<'static, ()>,
}

fn start(generation: &'static str, test: &str) -> Ctx {
    let m = Module::load();
    let g = serial(&m);
    let card = EmulatedCard::new(generation, test);
    init(m, g, card)
}

fn init(m: Module, g: MutexGuard<'static, ()>, card: EmulatedCard) -> Ctx {
    card.select();
    let p = Pkcs11::new(common::module_path()).expect("cryptoki loads the module");
    p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slots = p.get_slots_with_token().unwrap();
    assert_eq!(slots.len(), 1, "one emulated token");
    Ctx {
        m: Fin(m),
        slot: slots[0],
        p,
        card,
        _g: g,
    }
}

impl Ctx {
    fn profile(&self) -> Profile {
        profile(self.card.generation)
    }

    fn cps4(&self) -> bool {
        self.card.generation == "cps4"
    }

    fn user(&self) -> Session {
        let s = self.p.open_rw_session(self.slot).unwrap();
        s.login(UserType::User, Some(&pin("1234"))).unwrap();
        s
    }

    fn flags(&self) -> CK_FLAGS {
        let mut ti = CK_TOKEN_INFO::default();
        let r = unsafe { (self.m.f.C_GetTokenInfo.unwrap())(self.slot.id(), &mut ti) };
        assert_eq!(r, CKR_OK);
        ti.flags
    }

    /// Finalizes and initializes again over the same card image.
    fn restart(self) -> Ctx {
        let Ctx { m, p, card, _g, .. } = self;
        drop(p);
        drop(m);
        init(Module::load(), _g, card)
    }
}

fn pin(s: &str) -> AuthPin {
    AuthPin::from(s.to_string())
}

fn rv_of<T: std::fmt::Debug>(r: cryptoki::error::Result<T>) -> RvError {
    match r {
        Err(CkError::Pkcs11(e, _)) => e,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

fn find(s: &Session, template: &[Attribute]) -> Vec<ObjectHandle> {
    s.find_objects(template).unwrap()
}

fn one(s: &Session, class: ObjectClass, id: &[u8]) -> ObjectHandle {
    let found = find(s, &[Attribute::Class(class), Attribute::Id(id.to_vec())]);
    assert_eq!(found.len(), 1, "{class:?} {}", hex::encode(id));
    found[0]
}

fn bytes(s: &Session, o: ObjectHandle, t: AttributeType) -> Vec<u8> {
    match s.get_attributes(o, &[t]).unwrap().pop() {
        Some(Attribute::Value(v))
        | Some(Attribute::Label(v))
        | Some(Attribute::Id(v))
        | Some(Attribute::Subject(v))
        | Some(Attribute::Issuer(v))
        | Some(Attribute::SerialNumber(v))
        | Some(Attribute::Modulus(v))
        | Some(Attribute::PublicExponent(v))
        | Some(Attribute::Application(v))
        | Some(Attribute::CheckValue(v))
        | Some(Attribute::PublicKeyInfo(v)) => v,
        other => panic!("{t:?}: {other:?}"),
    }
}

fn boolean(s: &Session, o: ObjectHandle, t: AttributeType) -> bool {
    match s.get_attributes(o, &[t]).unwrap().pop() {
        Some(
            Attribute::Token(b)
            | Attribute::Private(b)
            | Attribute::Modifiable(b)
            | Attribute::Sensitive(b)
            | Attribute::AlwaysSensitive(b)
            | Attribute::Extractable(b)
            | Attribute::NeverExtractable(b)
            | Attribute::Sign(b)
            | Attribute::Decrypt(b)
            | Attribute::Encrypt(b)
            | Attribute::Verify(b)
            | Attribute::Unwrap(b)
            | Attribute::Local(b)
            | Attribute::Trusted(b)
            | Attribute::AlwaysAuthenticate(b),
        ) => b,
        other => panic!("{t:?}: {other:?}"),
    }
}

fn label(s: &Session, o: ObjectHandle) -> String {
    String::from_utf8(bytes(s, o, AttributeType::Label)).unwrap()
}

/// (class, label, CKA_ID) of every object the session sees, in listing order.
fn listing(s: &Session) -> Vec<(ObjectClass, String, Option<Vec<u8>>)> {
    find(s, &[])
        .into_iter()
        .map(|o| {
            let attrs = s
                .get_attributes(o, &[AttributeType::Class, AttributeType::Label])
                .unwrap();
            let class = match &attrs[0] {
                Attribute::Class(c) => *c,
                a => panic!("{a:?}"),
            };
            let id = match s.get_attributes(o, &[AttributeType::Id]).unwrap().pop() {
                Some(Attribute::Id(v)) => Some(v),
                _ => None,
            };
            (class, label(s, o), id)
        })
        .collect()
}

/// The fixture's public key of `which` (`sign`, `auth`).
fn fixture_key(card: &EmulatedCard, which: &str) -> PublicKey {
    ParsedCertificate::parse(&card.fixture_certificate(which))
        .unwrap()
        .public_key
}

fn pss(hash: MechanismType, mgf: PkcsMgfType, salt: u64) -> PkcsPssParams {
    PkcsPssParams {
        hash_alg: hash,
        mgf,
        s_len: salt.into(),
    }
}

#[test]
fn token_and_slot_info_follow_objects_md() {
    for g in GENERATIONS {
        let c = start(g, "info");
        let pr = c.profile();
        let si = c.p.get_slot_info(c.slot).unwrap();
        assert!(si.slot_description().contains("EMULATED"));
        assert_eq!(si.manufacturer_id(), "", "blank, objects.md §1");
        assert!(si.removable_device() && si.hardware_slot() && si.token_present());
        let ti = c.p.get_token_info(c.slot).unwrap();
        assert_eq!(ti.label(), pr.label);
        assert_eq!(ti.manufacturer_id(), "ASIP-SANTE");
        assert_eq!(ti.model(), pr.model);
        assert_eq!(ti.serial_number(), "12345678");
        assert_eq!((ti.min_pin_length(), ti.max_pin_length()), (4, 4));
        let f = c.flags();
        let want = CKF_TOKEN_INITIALIZED | CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
        assert_eq!(f, want, "{g}: {f:#x}");
        // Raw: blank padding, memory unavailable, versions 0.0.
        let mut raw = CK_TOKEN_INFO::default();
        assert_eq!(
            unsafe { (c.m.f.C_GetTokenInfo.unwrap())(c.slot.id(), &mut raw) },
            CKR_OK
        );
        assert!(raw.label[pr.label.len()..].iter().all(|b| *b == b' '));
        assert!(raw.model[pr.model.len()..].iter().all(|b| *b == b' '));
        assert_eq!(raw.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(raw.ulFreePrivateMemory, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(raw.ulMaxSessionCount, CK_EFFECTIVELY_INFINITE);
        assert_eq!(
            (raw.hardwareVersion.major, raw.firmwareVersion.major),
            (0, 0)
        );
        let _s = c.p.open_ro_session(c.slot).unwrap();
        let _w = c.p.open_rw_session(c.slot).unwrap();
        let mut raw = CK_TOKEN_INFO::default();
        unsafe { (c.m.f.C_GetTokenInfo.unwrap())(c.slot.id(), &mut raw) };
        assert_eq!((raw.ulSessionCount, raw.ulRwSessionCount), (2, 1));
    }
}

#[test]
fn mechanisms_are_what_each_card_can_do() {
    for g in GENERATIONS {
        let c = start(g, "mechanisms");
        let list = c.p.get_mechanism_list(c.slot).unwrap();
        let has = |m: MechanismType| list.contains(&m);
        for m in [
            MechanismType::SHA1,
            MechanismType::SHA256,
            MechanismType::RSA_PKCS,
            MechanismType::SHA1_RSA_PKCS,
            MechanismType::SHA256_RSA_PKCS,
        ] {
            assert!(has(m), "{g}: {m}");
        }
        let pss = [
            MechanismType::RSA_PKCS_PSS,
            MechanismType::SHA1_RSA_PKCS_PSS,
            MechanismType::SHA256_RSA_PKCS_PSS,
        ];
        for m in pss {
            // README §4: never PSS on a CPS3; CPS4 must offer it (TLS 1.3 in Firefox).
            assert_eq!(has(m), c.cps4(), "{g}: {m}");
        }
        // Raw RSA only where the card has it (CPS4 authentication key).
        assert_eq!(has(MechanismType::RSA_X_509), c.cps4(), "{g}");
        assert!(!has(MechanismType::RSA_PKCS_OAEP) && !has(MechanismType::SHA224_RSA_PKCS));
        let raw: Vec<CK_MECHANISM_TYPE> =
            list.iter().map(|m| CK_MECHANISM_TYPE::from(*m)).collect();
        assert!(
            !raw.contains(&CKM_MD5) && !raw.contains(&CKM_MD5_RSA_PKCS),
            "{g}: no MD5"
        );
        for m in &list {
            let info = c.p.get_mechanism_info(c.slot, *m).unwrap();
            if info.digest() {
                assert!(!info.sign());
                continue;
            }
            assert_eq!(
                (info.min_key_size(), info.max_key_size()),
                (2048, 2048),
                "{g} {m}: true key sizes"
            );
            assert!(info.sign() && info.verify(), "{g} {m}");
            assert!(info.hardware(), "{g} {m}");
        }
        let rsa =
            c.p.get_mechanism_info(c.slot, MechanismType::RSA_PKCS)
                .unwrap();
        assert!(rsa.decrypt() && rsa.encrypt());
        let sha =
            c.p.get_mechanism_info(c.slot, MechanismType::SHA256_RSA_PKCS)
                .unwrap();
        assert!(!sha.decrypt() && !sha.encrypt());
        assert_eq!(
            rv_of(c.p.get_mechanism_info(c.slot, MechanismType::SHA224_RSA_PKCS)),
            RvError::MechanismInvalid
        );
    }
}

#[test]
fn objects_before_and_after_login() {
    for g in GENERATIONS {
        let c = start(g, "objects");
        let pr = c.profile();
        let s = c.p.open_ro_session(c.slot).unwrap();
        let public = listing(&s);
        let cert =
            |l: &str, id: &[u8]| (ObjectClass::CERTIFICATE, l.to_string(), Some(id.to_vec()));
        let pubkey = |l: &str, id: &[u8]| {
            (
                ObjectClass::PUBLIC_KEY,
                format!("Cle publique - {l}"),
                Some(id.to_vec()),
            )
        };
        let sig = "Certificat de Signature CPS";
        let aut = "Certificat d'Authentification CPS";
        assert_eq!(public[0], cert(sig, &pr.sig_id), "{g}");
        assert_eq!(public[1], pubkey(sig, &pr.sig_id));
        assert_eq!(public[2], cert(aut, &pr.aut_id));
        assert_eq!(public[3], pubkey(aut, &pr.aut_id));
        let data: Vec<&str> = public[4..]
            .iter()
            .map(|(class, l, id)| {
                assert_eq!(*class, ObjectClass::DATA);
                assert_eq!(*id, None, "data objects have no CKA_ID (objects.md §5)");
                l.as_str()
            })
            .collect();
        assert_eq!(
            &data[..5],
            [
                "CPS_DATA",
                "CPS_ID_CARD",
                "CPS_NAME_PS",
                "CPS_LANG_PS",
                "CPS_INFO_PS"
            ]
        );
        assert!(data
            .iter()
            .all(|l| !l.contains("ACTIVITY") && *l != "CPS_SIT_FACT"));
        // No private key without login.
        assert!(find(&s, &[Attribute::Class(ObjectClass::PRIVATE_KEY)]).is_empty());
        let handles_before = find(&s, &[]);

        s.login(UserType::User, Some(&pin("1234"))).unwrap();
        let all = listing(&s);
        assert_eq!(
            all[0],
            (
                ObjectClass::PRIVATE_KEY,
                "CPS_PRIV_SIG".into(),
                Some(pr.sig_id.clone())
            )
        );
        assert_eq!(
            all[3],
            (
                ObjectClass::PRIVATE_KEY,
                "CPS_PRIV_AUT".into(),
                Some(pr.aut_id.clone())
            )
        );
        let labels: Vec<&str> = all.iter().map(|(_, l, _)| l.as_str()).collect();
        for l in [
            "CPS_ACTIVITY_01_PS",
            "CPS_SIT_FACT",
            "CPS2TER_ACTIVITY_01_PS",
            "CPS_DATA",
        ] {
            assert!(labels.contains(&l), "{g}: {l} after login");
        }
        // Public objects keep their handles across the login.
        let handles_after = find(&s, &[]);
        assert!(handles_before.iter().all(|h| handles_after.contains(h)));
        assert_eq!(all.len(), public.len() + 2 + (all.len() - public.len() - 2));

        s.logout().unwrap();
        assert_eq!(listing(&s), public, "{g}: private objects gone at logout");
        assert_eq!(find(&s, &[]), handles_before);
    }
}

#[test]
fn attributes_of_certificates_and_keys() {
    for g in GENERATIONS {
        let c = start(g, "attributes");
        let pr = c.profile();
        let s = c.user();
        for (which, id) in [("sign", &pr.sig_id), ("auth", &pr.aut_id)] {
            let fixture = c.card.fixture_certificate(which);
            let parsed = ParsedCertificate::parse(&fixture).unwrap();
            let cert = one(&s, ObjectClass::CERTIFICATE, id);
            assert_eq!(
                bytes(&s, cert, AttributeType::Value),
                fixture,
                "{g} {which}"
            );
            assert_eq!(bytes(&s, cert, AttributeType::Subject), parsed.subject_der);
            assert_eq!(bytes(&s, cert, AttributeType::Issuer), parsed.issuer_der);
            assert_eq!(
                bytes(&s, cert, AttributeType::SerialNumber),
                parsed.serial_der
            );
            assert_eq!(
                bytes(&s, cert, AttributeType::CheckValue),
                HashAlg::Sha1.digest(&fixture)[..3]
            );
            assert!(boolean(&s, cert, AttributeType::Token));
            assert!(!boolean(&s, cert, AttributeType::Private));
            assert!(!boolean(&s, cert, AttributeType::Modifiable));
            assert!(!boolean(&s, cert, AttributeType::Trusted));
            let a = s
                .get_attributes(
                    cert,
                    &[
                        AttributeType::CertificateType,
                        AttributeType::StartDate,
                        AttributeType::EndDate,
                    ],
                )
                .unwrap();
            assert!(
                matches!(a[0], Attribute::CertificateType(t) if t == cryptoki::object::CertificateType::X_509)
            );
            assert!(matches!(&a[1], Attribute::StartDate(d) if !d.is_empty()));

            let key = one(&s, ObjectClass::PRIVATE_KEY, id);
            assert!(boolean(&s, key, AttributeType::Sensitive));
            assert!(boolean(&s, key, AttributeType::AlwaysSensitive));
            assert!(boolean(&s, key, AttributeType::NeverExtractable));
            assert!(!boolean(&s, key, AttributeType::Extractable));
            assert!(boolean(&s, key, AttributeType::Local));
            assert!(boolean(&s, key, AttributeType::Private));
            assert!(!boolean(&s, key, AttributeType::AlwaysAuthenticate));
            assert!(boolean(&s, key, AttributeType::Sign));
            assert_eq!(
                boolean(&s, key, AttributeType::Decrypt),
                which == "auth",
                "{g} {which}: SIG signs only, AUT signs and decrypts (objects.md §4.2)"
            );
            assert_eq!(
                bytes(&s, key, AttributeType::Modulus),
                parsed.public_key.modulus()
            );
            assert_eq!(
                bytes(&s, key, AttributeType::PublicExponent),
                parsed.public_key.exponent()
            );
            let info = s
                .get_attribute_info(
                    key,
                    &[AttributeType::PrivateExponent, AttributeType::Prime1],
                )
                .unwrap();
            assert!(
                info.iter()
                    .all(|i| matches!(i, cryptoki::object::AttributeInfo::Sensitive)),
                "{g} {which}: {info:?}"
            );
            match s
                .get_attributes(key, &[AttributeType::ModulusBits, AttributeType::KeyType])
                .unwrap()
                .as_slice()
            {
                [Attribute::ModulusBits(b), Attribute::KeyType(k)] => {
                    assert_eq!(u64::from(*b), 2048);
                    assert_eq!(*k, cryptoki::object::KeyType::RSA);
                }
                other => panic!("{other:?}"),
            }
            match s
                .get_attributes(key, &[AttributeType::AllowedMechanisms])
                .unwrap()
                .as_slice()
            {
                [Attribute::AllowedMechanisms(m)] => {
                    assert!(m.contains(&MechanismType::SHA256_RSA_PKCS), "{g} {which}");
                    assert_eq!(
                        m.contains(&MechanismType::SHA256_RSA_PKCS_PSS),
                        c.cps4(),
                        "{g} {which}"
                    );
                }
                other => panic!("{other:?}"),
            }

            let pk = one(&s, ObjectClass::PUBLIC_KEY, id);
            assert_eq!(
                bytes(&s, pk, AttributeType::Modulus),
                parsed.public_key.modulus()
            );
            assert_eq!(bytes(&s, pk, AttributeType::PublicKeyInfo), parsed.spki_der);
            assert!(boolean(&s, pk, AttributeType::Verify));
            assert_eq!(
                boolean(&s, pk, AttributeType::Encrypt),
                which == "auth",
                "encryption only to the decryption key"
            );
            assert!(!boolean(&s, pk, AttributeType::Private));
        }
    }
}

/// The input a mechanism signs, for `msg`.
fn signed_input(m: MechanismType, msg: &[u8]) -> Vec<u8> {
    let sha256 = HashAlg::Sha256.digest(msg);
    match m {
        MechanismType::RSA_PKCS => HashAlg::Sha256.digest_info(&sha256),
        MechanismType::RSA_PKCS_PSS => sha256,
        MechanismType::RSA_X_509 => {
            cpscard::crypto::pkcs1::pad_type1(&HashAlg::Sha256.digest_info(&sha256), 256).unwrap()
        }
        _ => msg.to_vec(),
    }
}

/// The cryptoki mechanism of `m` (PSS: MGF1 with the same hash, salt = hash length).
fn mechanism(m: MechanismType) -> Option<Mechanism<'static>> {
    let std = |h: MechanismType, mgf: PkcsMgfType, n: u64| pss(h, mgf, n);
    Some(match m {
        MechanismType::RSA_PKCS => Mechanism::RsaPkcs,
        MechanismType::RSA_X_509 => Mechanism::RsaX509,
        MechanismType::SHA1_RSA_PKCS => Mechanism::Sha1RsaPkcs,
        MechanismType::SHA256_RSA_PKCS => Mechanism::Sha256RsaPkcs,
        MechanismType::SHA384_RSA_PKCS => Mechanism::Sha384RsaPkcs,
        MechanismType::SHA512_RSA_PKCS => Mechanism::Sha512RsaPkcs,
        MechanismType::RSA_PKCS_PSS => {
            Mechanism::RsaPkcsPss(std(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32))
        }
        MechanismType::SHA1_RSA_PKCS_PSS => {
            Mechanism::Sha1RsaPkcsPss(std(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1, 20))
        }
        MechanismType::SHA256_RSA_PKCS_PSS => {
            Mechanism::Sha256RsaPkcsPss(std(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32))
        }
        MechanismType::SHA384_RSA_PKCS_PSS => {
            Mechanism::Sha384RsaPkcsPss(std(MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 48))
        }
        MechanismType::SHA512_RSA_PKCS_PSS => {
            Mechanism::Sha512RsaPkcsPss(std(MechanismType::SHA512, PkcsMgfType::MGF1_SHA512, 64))
        }
        _ => return None,
    })
}

/// Checks `sig` over `msg` with the fixture's certificate key, in software, independently of the
/// module.
fn verify_with_fixture(key: &PublicKey, m: MechanismType, msg: &[u8], sig: &[u8]) {
    let h = |alg: HashAlg| alg.digest(msg);
    let pkcs1 = |alg: HashAlg| key.verify_pkcs1(&alg.digest_info(&h(alg)), sig);
    let pss = |alg: HashAlg| key.verify_pss(&h(alg), sig, alg, alg, Some(alg.output_len()));
    let r = match m {
        MechanismType::RSA_PKCS | MechanismType::SHA256_RSA_PKCS => pkcs1(HashAlg::Sha256),
        MechanismType::RSA_X_509 => pkcs1(HashAlg::Sha256),
        MechanismType::SHA1_RSA_PKCS => pkcs1(HashAlg::Sha1),
        MechanismType::SHA384_RSA_PKCS => pkcs1(HashAlg::Sha384),
        MechanismType::SHA512_RSA_PKCS => pkcs1(HashAlg::Sha512),
        MechanismType::RSA_PKCS_PSS | MechanismType::SHA256_RSA_PKCS_PSS => pss(HashAlg::Sha256),
        MechanismType::SHA1_RSA_PKCS_PSS => pss(HashAlg::Sha1),
        MechanismType::SHA384_RSA_PKCS_PSS => pss(HashAlg::Sha384),
        MechanismType::SHA512_RSA_PKCS_PSS => pss(HashAlg::Sha512),
        other => panic!("{other}"),
    };
    assert!(
        r.is_ok(),
        "{m}: the fixture certificate verifies the signature"
    );
}

#[test]
fn every_key_signs_with_every_mechanism_it_allows_and_the_signatures_verify() {
    for g in GENERATIONS {
        let c = start(g, "sign");
        let pr = c.profile();
        let s = c.user();
        let msg = b"cpscard: one message for every mechanism".to_vec();
        let mut count = 0;
        for (which, id) in [("sign", &pr.sig_id), ("auth", &pr.aut_id)] {
            let key = one(&s, ObjectClass::PRIVATE_KEY, id);
            let pubkey = one(&s, ObjectClass::PUBLIC_KEY, id);
            let fixture = fixture_key(&c.card, which);
            let allowed = match s
                .get_attributes(key, &[AttributeType::AllowedMechanisms])
                .unwrap()
                .pop()
            {
                Some(Attribute::AllowedMechanisms(m)) => m,
                other => panic!("{other:?}"),
            };
            for m in allowed {
                let Some(mech) = mechanism(m) else { continue };
                let input = signed_input(m, &msg);
                let sig = s.sign(&mech, key, &input).unwrap_or_else(|e| {
                    panic!("{g} {which} {m}: {e}");
                });
                assert_eq!(sig.len(), 256, "{g} {which} {m}");
                s.verify(&mech, pubkey, &input, &sig)
                    .unwrap_or_else(|e| panic!("{g} {which} {m}: C_Verify {e}"));
                verify_with_fixture(&fixture, m, &msg, &sig);
                let mut bad = sig.clone();
                bad[100] ^= 1;
                assert_eq!(
                    rv_of(s.verify(&mech, pubkey, &input, &bad)),
                    RvError::SignatureInvalid,
                    "{g} {which} {m}"
                );
                count += 1;
            }
            // Usage flags: the key cannot decrypt unless it is the authentication key.
            let r = s.decrypt(&Mechanism::RsaPkcs, key, &[0u8; 256]);
            if which == "sign" {
                assert_eq!(rv_of(r), RvError::KeyFunctionNotPermitted);
            }
        }
        // CPS3: SIG 3 + AUT 5; CPS4: SIG 6 + AUT 11 (README §3 capability matrix).
        assert_eq!(count, if c.cps4() { 17 } else { 8 }, "{g}");
    }
}

#[test]
fn refusals_before_any_card_operation() {
    for g in GENERATIONS {
        let c = start(g, "refusals");
        let pr = c.profile();
        let s = c.user();
        let sig_key = one(&s, ObjectClass::PRIVATE_KEY, &pr.sig_id);
        let sig_pub = one(&s, ObjectClass::PUBLIC_KEY, &pr.sig_id);
        let cert = one(&s, ObjectClass::CERTIFICATE, &pr.sig_id);
        // CPS3.md §6 / objects.md §6: the signature key signs a SHA-1/256 DigestInfo only.
        let r = s.sign(&Mechanism::RsaPkcs, sig_key, &[0x42; 50]);
        assert_eq!(rv_of(r), RvError::DataInvalid, "{g}");
        // Raw RSA: never with the signature key.
        let r = s.sign(&Mechanism::RsaX509, sig_key, &[0u8; 256]);
        assert_eq!(
            rv_of(r),
            RvError::MechanismInvalid,
            "{g}: raw RSA with the signature key"
        );
        // Keys of the wrong class.
        assert_eq!(
            rv_of(s.sign(&Mechanism::Sha256RsaPkcs, sig_pub, b"x")),
            RvError::KeyTypeInconsistent
        );
        assert_eq!(
            rv_of(s.sign(&Mechanism::Sha256RsaPkcs, cert, b"x")),
            RvError::KeyTypeInconsistent
        );
        assert_eq!(
            rv_of(s.verify(&Mechanism::Sha256RsaPkcs, sig_key, b"x", &[0; 256])),
            RvError::KeyTypeInconsistent
        );
        // The signature certificate's key does not encrypt (objects.md §6, by CKA_ID).
        assert_eq!(
            rv_of(s.encrypt(&Mechanism::RsaPkcs, sig_pub, b"x")),
            RvError::KeyFunctionNotPermitted
        );
        // Wrong signature length.
        assert_eq!(
            rv_of(s.verify(&Mechanism::Sha256RsaPkcs, sig_pub, b"x", &[0; 255])),
            RvError::SignatureLenRange
        );
        // Read-only objects (p11test "readonly"): nothing but CPS_DATA's value can change.
        for o in [cert, sig_pub, sig_key] {
            assert_eq!(
                rv_of(s.update_attributes(o, &[Attribute::Label(b"renamed".to_vec())])),
                RvError::AttributeReadOnly
            );
            assert_eq!(rv_of(s.destroy_object(o)), RvError::FunctionNotSupported);
        }
        assert_eq!(label(&s, cert), "Certificat de Signature CPS");
        // Not logged in: the key is not even visible.
        s.logout().unwrap();
        assert_eq!(
            rv_of(s.sign(&Mechanism::Sha256RsaPkcs, sig_key, b"x")),
            RvError::KeyHandleInvalid
        );
    }
}

#[test]
fn pss_parameters_are_checked_at_sign_init() {
    // CPS3: no PSS at all.
    let c = start("cps3", "pss");
    let s = c.user();
    let key = one(&s, ObjectClass::PRIVATE_KEY, &c.profile().aut_id);
    let p = pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32);
    assert_eq!(
        rv_of(s.sign_init(&Mechanism::RsaPkcsPss(p), key)),
        RvError::MechanismInvalid
    );
    drop(s);
    drop(c);

    let c = start("cps4", "pss");
    let pr = c.profile();
    let s = c.user();
    let sig = one(&s, ObjectClass::PRIVATE_KEY, &pr.sig_id);
    let aut = one(&s, ObjectClass::PRIVATE_KEY, &pr.aut_id);
    let aut_pub = one(&s, ObjectClass::PUBLIC_KEY, &pr.aut_id);
    use MechanismType as M;
    use PkcsMgfType as G;
    let refused: [(ObjectHandle, Mechanism<'_>, &str); 7] = [
        // hashAlg must be the mechanism's hash.
        (
            sig,
            Mechanism::Sha256RsaPkcsPss(pss(M::SHA1, G::MGF1_SHA1, 20)),
            "SHA256-PSS with hashAlg SHA-1",
        ),
        (
            aut,
            Mechanism::Sha1RsaPkcsPss(pss(M::SHA256, G::MGF1_SHA256, 32)),
            "SHA1-PSS with hashAlg SHA-256",
        ),
        // Hashes and MGFs nobody here knows.
        (
            aut,
            Mechanism::RsaPkcsPss(pss(M::SHA224, G::MGF1_SHA224, 28)),
            "SHA-224",
        ),
        (
            aut,
            Mechanism::RsaPkcsPss(pss(M::RSA_PKCS, G::MGF1_SHA256, 16)),
            "a hashAlg that is no hash",
        ),
        // The signature key's PSS is the card's: MGF1 with the same hash, salt = hash length.
        (
            sig,
            Mechanism::Sha256RsaPkcsPss(pss(M::SHA256, G::MGF1_SHA1, 32)),
            "SIG: MGF1-SHA1 with SHA-256",
        ),
        (
            sig,
            Mechanism::Sha256RsaPkcsPss(pss(M::SHA256, G::MGF1_SHA256, 0)),
            "SIG: salt 0",
        ),
        // A salt that does not fit a 2048-bit key.
        (
            aut,
            Mechanism::Sha256RsaPkcsPss(pss(M::SHA256, G::MGF1_SHA256, 300)),
            "AUT: salt 300",
        ),
    ];
    for (key, m, why) in refused {
        assert_eq!(
            rv_of(s.sign_init(&m, key)),
            RvError::MechanismParamInvalid,
            "{why}"
        );
    }
    // The authentication key encodes PSS on the host (raw RSA): other MGFs and salts work.
    let msg = b"pss with another salt";
    for p in [
        pss(M::SHA256, G::MGF1_SHA1, 32),
        pss(M::SHA256, G::MGF1_SHA256, 0),
        pss(M::SHA256, G::MGF1_SHA256, 64),
    ] {
        let m = Mechanism::Sha256RsaPkcsPss(p);
        let signature = s.sign(&m, aut, msg).unwrap();
        s.verify(&m, aut_pub, msg, &signature).unwrap();
    }
    // RSA-PKCS-PSS takes the hash itself: its length must be the hash's.
    let m = Mechanism::RsaPkcsPss(pss(M::SHA256, G::MGF1_SHA256, 32));
    assert_eq!(rv_of(s.sign(&m, sig, &[1; 20])), RvError::DataLenRange);
    // A parameter block of the wrong size (raw: cryptoki always passes the right one).
    let mut params = CK_RSA_PKCS_PSS_PARAMS {
        hashAlg: CKM_SHA256,
        mgf: CKG_MGF1_SHA256,
        sLen: 32,
    };
    let mut mech = CK_MECHANISM {
        mechanism: CKM_SHA256_RSA_PKCS_PSS,
        pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
        ulParameterLen: 8,
    };
    let h = s.handle();
    let r = unsafe { (c.m.f.C_SignInit.unwrap())(h, &mut mech, aut.handle()) };
    assert_eq!(r, CKR_MECHANISM_PARAM_INVALID);
    mech.pParameter = null_mut();
    mech.ulParameterLen = 0;
    let r = unsafe { (c.m.f.C_SignInit.unwrap())(h, &mut mech, aut.handle()) };
    assert_eq!(r, CKR_MECHANISM_PARAM_INVALID, "PSS without parameters");
}

#[test]
fn multi_part_signatures_equal_single_part_ones() {
    for g in GENERATIONS {
        let c = start(g, "multipart");
        let pr = c.profile();
        let s = c.user();
        let msg: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for id in [&pr.sig_id, &pr.aut_id] {
            let key = one(&s, ObjectClass::PRIVATE_KEY, id);
            let pubkey = one(&s, ObjectClass::PUBLIC_KEY, id);
            for m in [Mechanism::Sha256RsaPkcs, Mechanism::Sha1RsaPkcs] {
                let single = s.sign(&m, key, &msg).unwrap();
                s.sign_init(&m, key).unwrap();
                for part in msg.chunks(777) {
                    s.sign_update(part).unwrap();
                }
                let multi = s.sign_final().unwrap();
                assert_eq!(single, multi, "{g} PKCS#1 v1.5 is deterministic");
                s.verify_init(&m, pubkey).unwrap();
                for part in msg.chunks(1000) {
                    s.verify_update(part).unwrap();
                }
                s.verify_final(&multi).unwrap();
            }
            // An empty message signs (the card is never asked to hash nothing, CPS3.md §6.4).
            let empty = s.sign(&Mechanism::Sha256RsaPkcs, key, b"").unwrap();
            s.verify(&Mechanism::Sha256RsaPkcs, pubkey, b"", &empty)
                .unwrap();
        }
        if c.cps4() {
            let key = one(&s, ObjectClass::PRIVATE_KEY, &pr.aut_id);
            let pubkey = one(&s, ObjectClass::PUBLIC_KEY, &pr.aut_id);
            let m = Mechanism::Sha256RsaPkcsPss(pss(
                MechanismType::SHA256,
                PkcsMgfType::MGF1_SHA256,
                32,
            ));
            s.sign_init(&m, key).unwrap();
            s.sign_update(&msg[..10]).unwrap();
            s.sign_update(&msg[10..]).unwrap();
            let sig = s.sign_final().unwrap();
            s.verify(&m, pubkey, &msg, &sig).unwrap();
        }
    }
}

/// `C_Sign` through the raw list: NULL → the length (no signature), too small → the length and
/// BUFFER_TOO_SMALL with the operation still active, then the signature.
#[test]
fn two_call_convention_as_pkcs11_tool_checks_it() {
    for g in GENERATIONS {
        let c = start(g, "twocall");
        let pr = c.profile();
        let s = c.user();
        let f = c.m.f;
        let h = s.handle();
        let key = one(&s, ObjectClass::PRIVATE_KEY, &pr.aut_id).handle();
        let mut mech = CK_MECHANISM {
            mechanism: CKM_SHA256_RSA_PKCS,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        let mut data = b"two calls".to_vec();
        assert_eq!(
            unsafe { (f.C_SignInit.unwrap())(h, &mut mech, key) },
            CKR_OK
        );
        let mut len: CK_ULONG = 0;
        let sign = f.C_Sign.unwrap();
        assert_eq!(
            unsafe { sign(h, data.as_mut_ptr(), data.len() as _, null_mut(), &mut len) },
            CKR_OK
        );
        assert_eq!(len, 256);
        let mut buf = vec![0u8; 512];
        let mut small: CK_ULONG = 1;
        assert_eq!(
            unsafe {
                sign(
                    h,
                    data.as_mut_ptr(),
                    data.len() as _,
                    buf.as_mut_ptr(),
                    &mut small,
                )
            },
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(small, 256);
        let mut len: CK_ULONG = 512;
        assert_eq!(
            unsafe {
                sign(
                    h,
                    data.as_mut_ptr(),
                    data.len() as _,
                    buf.as_mut_ptr(),
                    &mut len,
                )
            },
            CKR_OK
        );
        assert_eq!(len, 256);
        // The operation is over.
        assert_eq!(
            unsafe {
                sign(
                    h,
                    data.as_mut_ptr(),
                    data.len() as _,
                    buf.as_mut_ptr(),
                    &mut len,
                )
            },
            CKR_OPERATION_NOT_INITIALIZED
        );
        let pubkey = one(&s, ObjectClass::PUBLIC_KEY, &pr.aut_id);
        s.verify(&Mechanism::Sha256RsaPkcs, pubkey, &data, &buf[..256])
            .unwrap();

        // C_GetAttributeValue: size query, too small, exact.
        let cert = one(&s, ObjectClass::CERTIFICATE, &pr.aut_id).handle();
        let get = f.C_GetAttributeValue.unwrap();
        let mut t = [CK_ATTRIBUTE {
            type_: CKA_VALUE,
            pValue: null_mut(),
            ulValueLen: 0,
        }];
        assert_eq!(unsafe { get(h, cert, t.as_mut_ptr(), 1) }, CKR_OK);
        let n = t[0].ulValueLen as usize;
        assert_eq!(n, c.card.fixture_certificate("auth").len());
        let mut v = vec![0u8; n];
        t[0].pValue = v.as_mut_ptr().cast();
        t[0].ulValueLen = 10;
        assert_eq!(
            unsafe { get(h, cert, t.as_mut_ptr(), 1) },
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        t[0].ulValueLen = n as _;
        assert_eq!(unsafe { get(h, cert, t.as_mut_ptr(), 1) }, CKR_OK);
        assert_eq!(v, c.card.fixture_certificate("auth"));

        // C_Decrypt: NULL gives the modulus size, enough for any plaintext.
        let aut_pub = one(&s, ObjectClass::PUBLIC_KEY, &pr.aut_id);
        let mut cipher = s
            .encrypt(&Mechanism::RsaPkcs, aut_pub, b"short secret")
            .unwrap();
        let mut mech = CK_MECHANISM {
            mechanism: CKM_RSA_PKCS,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        assert_eq!(
            unsafe { (f.C_DecryptInit.unwrap())(h, &mut mech, key) },
            CKR_OK
        );
        let decrypt = f.C_Decrypt.unwrap();
        let mut len: CK_ULONG = 0;
        assert_eq!(
            unsafe { decrypt(h, cipher.as_mut_ptr(), 256, null_mut(), &mut len) },
            CKR_OK
        );
        assert_eq!(len, 256);
        let mut len: CK_ULONG = 5;
        let mut out = vec![0u8; 256];
        assert_eq!(
            unsafe { decrypt(h, cipher.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len) },
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(len, 12, "the real length once known");
        let mut len: CK_ULONG = 12;
        assert_eq!(
            unsafe { decrypt(h, cipher.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len) },
            CKR_OK
        );
        assert_eq!(&out[..len as usize], b"short secret");
    }
}

#[test]
fn decrypt_round_trips_with_the_authentication_key() {
    for g in GENERATIONS {
        let c = start(g, "decrypt");
        let pr = c.profile();
        let s = c.user();
        let key = one(&s, ObjectClass::PRIVATE_KEY, &pr.aut_id);
        let pubkey = one(&s, ObjectClass::PUBLIC_KEY, &pr.aut_id);
        // Encrypted by the module (software, C_Encrypt).
        let secret = b"a 32-byte session key for TLS!!!";
        let cipher = s.encrypt(&Mechanism::RsaPkcs, pubkey, secret).unwrap();
        assert_eq!(cipher.len(), 256);
        assert_eq!(
            s.decrypt(&Mechanism::RsaPkcs, key, &cipher).unwrap(),
            secret
        );
        // Encrypted independently with the fixture certificate.
        let fixture = fixture_key(&c.card, "auth");
        let cipher = fixture.encrypt_pkcs1(b"from elsewhere").unwrap();
        assert_eq!(
            s.decrypt(&Mechanism::RsaPkcs, key, &cipher).unwrap(),
            b"from elsewhere"
        );
        // A cryptogram of the wrong length.
        assert_eq!(
            rv_of(s.decrypt(&Mechanism::RsaPkcs, key, &cipher[..255])),
            RvError::EncryptedDataLenRange
        );
        if c.cps4() {
            // Raw RSA (CKM_RSA_X_509) with the CPS4 authentication key: the block comes back
            // whole, leading zero included.
            let mut block = vec![0u8; 256];
            block[1..]
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = i as u8);
            let cipher = s.encrypt(&Mechanism::RsaX509, pubkey, &block).unwrap();
            assert_eq!(s.decrypt(&Mechanism::RsaX509, key, &cipher).unwrap(), block);
        } else {
            assert_eq!(
                rv_of(s.decrypt(&Mechanism::RsaX509, key, &cipher)),
                RvError::MechanismInvalid,
                "CPS3: no raw RSA"
            );
        }
        // Multi-part decryption is not offered (objects.md §6 [V]).
        let r = unsafe {
            (c.m.f.C_DecryptUpdate.unwrap())(s.handle(), null_mut(), 0, null_mut(), null_mut())
        };
        assert_eq!(r, CKR_FUNCTION_NOT_SUPPORTED);
    }
}

#[test]
fn wrong_pins_show_in_the_flags_and_the_puk_unblocks() {
    for g in GENERATIONS {
        let c = start(g, "pin");
        let ro = c.p.open_ro_session(c.slot).unwrap();
        let base = c.flags();
        assert_eq!(base & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED), 0);
        // A malformed PIN never reaches the card: no try spent.
        assert_eq!(
            rv_of(ro.login(UserType::User, Some(&pin("12345")))),
            RvError::PinIncorrect
        );
        assert_eq!(
            rv_of(ro.login(UserType::User, Some(&pin("12a4")))),
            RvError::PinIncorrect
        );
        assert_eq!(c.flags(), base, "{g}: no try spent on a malformed PIN");
        assert_eq!(
            rv_of(ro.login(UserType::User, Some(&pin("0000")))),
            RvError::PinIncorrect
        );
        assert_eq!(c.flags(), base | CKF_USER_PIN_COUNT_LOW, "{g}: 2 left");
        assert_eq!(
            rv_of(ro.login(UserType::User, Some(&pin("0000")))),
            RvError::PinIncorrect
        );
        assert_eq!(
            c.flags(),
            base | CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY,
            "{g}: 1 left"
        );
        // The last try: CPS3 says PIN_INCORRECT, CPS4 PIN_LOCKED, as the original (objects.md §7).
        let last = rv_of(ro.login(UserType::User, Some(&pin("0000"))));
        let want = if c.cps4() {
            RvError::PinLocked
        } else {
            RvError::PinIncorrect
        };
        assert_eq!(last, want, "{g}");
        assert_eq!(c.flags(), base | CKF_USER_PIN_LOCKED, "{g}: blocked");
        assert_eq!(
            rv_of(ro.login(UserType::User, Some(&pin("1234")))),
            RvError::PinLocked
        );
        // The unblock path, as the Cryptolib: C_Login(CKU_SO, PUK) + C_InitPIN.
        assert_eq!(
            rv_of(ro.login(UserType::So, Some(&pin("12345678")))),
            RvError::SessionReadOnlyExists,
            "{g}: SO login with a read-only session open"
        );
        // OpenSC's C_SetPIN(PUK, new) unblock convention is refused without any APDU.
        let rw = c.p.open_rw_session(c.slot).unwrap();
        assert_eq!(
            rv_of(rw.set_pin(&pin("12345678"), &pin("4321"))),
            RvError::PinLenRange
        );
        drop(ro);
        rw.login(UserType::So, Some(&pin("12345678"))).unwrap();
        assert_eq!(
            rv_of(c.p.open_ro_session(c.slot)),
            RvError::SessionReadWriteSoExists
        );
        assert_eq!(
            rv_of(rw.init_pin(&pin("43215"))),
            RvError::PinLenRange,
            "a new PIN of 5 digits"
        );
        rw.init_pin(&pin("4321")).unwrap();
        rw.logout().unwrap();
        assert_eq!(
            c.flags() & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW),
            0
        );
        assert_eq!(
            rv_of(rw.login(UserType::User, Some(&pin("1234")))),
            RvError::PinIncorrect
        );
        rw.login(UserType::User, Some(&pin("4321"))).unwrap();
        // The counter persists in the image: a new library sees the same card.
        drop(rw);
        let c = c.restart();
        let s = c.p.open_rw_session(c.slot).unwrap();
        s.login(UserType::User, Some(&pin("4321"))).unwrap();
        // C_InitPIN needs the SO.
        assert_eq!(rv_of(s.init_pin(&pin("1234"))), RvError::UserNotLoggedIn);
    }
}

#[test]
fn change_pin_in_a_read_write_session() {
    for g in GENERATIONS {
        let c = start(g, "setpin");
        let ro = c.p.open_ro_session(c.slot).unwrap();
        assert_eq!(
            rv_of(ro.set_pin(&pin("1234"), &pin("5678"))),
            RvError::SessionReadOnly
        );
        let rw = c.p.open_rw_session(c.slot).unwrap();
        assert_eq!(
            rv_of(rw.set_pin(&pin("1234"), &pin("56789"))),
            RvError::PinLenRange
        );
        assert_eq!(
            rv_of(rw.set_pin(&pin("1234"), &pin("56a8"))),
            RvError::PinInvalid
        );
        assert_eq!(
            rv_of(rw.set_pin(&pin("9999"), &pin("5678"))),
            RvError::PinIncorrect
        );
        rw.set_pin(&pin("1234"), &pin("5678")).unwrap();
        assert_eq!(
            rv_of(rw.login(UserType::User, Some(&pin("1234")))),
            RvError::PinIncorrect
        );
        rw.login(UserType::User, Some(&pin("5678"))).unwrap();
        // Logged in: the user's PIN again.
        rw.set_pin(&pin("5678"), &pin("1234")).unwrap();
    }
}

#[test]
fn eight_threads_sign_at_once_and_every_signature_verifies() {
    for g in GENERATIONS {
        let c = start(g, "threads");
        let pr = c.profile();
        let main = c.user();
        let fixtures = [fixture_key(&c.card, "sign"), fixture_key(&c.card, "auth")];
        std::thread::scope(|scope| {
            for t in 0..8u8 {
                let p = c.p.clone();
                let slot = c.slot;
                let ids = [pr.sig_id.clone(), pr.aut_id.clone()];
                let fixtures = &fixtures;
                scope.spawn(move || {
                    let s = p.open_ro_session(slot).unwrap();
                    for round in 0..3u8 {
                        let k = usize::from((t + round) % 2);
                        let key = one(&s, ObjectClass::PRIVATE_KEY, &ids[k]);
                        let msg = [t, round, 0x55];
                        let sig = s.sign(&Mechanism::Sha256RsaPkcs, key, &msg).unwrap();
                        verify_with_fixture(
                            &fixtures[k],
                            MechanismType::SHA256_RSA_PKCS,
                            &msg,
                            &sig,
                        );
                    }
                });
            }
        });
        drop(main);
    }
}

#[test]
fn data_objects_public_private_and_cps_data_written() {
    for g in GENERATIONS {
        let c = start(g, "data");
        let ro = c.p.open_ro_session(c.slot).unwrap();
        let by_label = |s: &Session, l: &str| {
            find(
                s,
                &[
                    Attribute::Class(ObjectClass::DATA),
                    Attribute::Label(l.as_bytes().to_vec()),
                ],
            )
        };
        let id_card = by_label(&ro, "CPS_ID_CARD");
        assert_eq!(id_card.len(), 1);
        assert_eq!(bytes(&ro, id_card[0], AttributeType::Application), b"CPS");
        assert!(!boolean(&ro, id_card[0], AttributeType::Private));
        assert!(!boolean(&ro, id_card[0], AttributeType::Modifiable));
        let value = bytes(&ro, id_card[0], AttributeType::Value);
        assert!(!value.is_empty(), "{g}: CPS_ID_CARD readable without login");
        // Size query equals the value's length.
        let info = ro
            .get_attribute_info(id_card[0], &[AttributeType::Value])
            .unwrap();
        assert!(
            matches!(info[0], cryptoki::object::AttributeInfo::Available(n) if n == value.len()),
            "{g}"
        );
        assert!(by_label(&ro, "CPS_ACTIVITY_01_PS").is_empty());

        let rw = c.p.open_rw_session(c.slot).unwrap();
        let data = by_label(&rw, "CPS_DATA")[0];
        assert!(boolean(&rw, data, AttributeType::Modifiable));
        let new = b"written by cps-pkcs11".to_vec();
        assert_eq!(
            rv_of(ro.update_attributes(data, &[Attribute::Value(new.clone())])),
            RvError::SessionReadOnly
        );
        assert_eq!(
            rv_of(rw.update_attributes(data, &[Attribute::Value(new.clone())])),
            RvError::UserNotLoggedIn
        );
        rw.login(UserType::User, Some(&pin("1234"))).unwrap();
        let activity = by_label(&rw, "CPS_ACTIVITY_01_PS");
        assert_eq!(activity.len(), 1, "{g}: private data after login");
        assert!(boolean(&rw, activity[0], AttributeType::Private));
        assert!(!bytes(&rw, activity[0], AttributeType::Value).is_empty());
        if g == "cps3" {
            let sit = by_label(&rw, "CPS_SIT_FACT")[0];
            assert!(
                !bytes(&rw, sit, AttributeType::Value).is_empty(),
                "CPS2ter volet"
            );
        }
        // Only CKA_VALUE of CPS_DATA.
        assert_eq!(
            rv_of(rw.update_attributes(data, &[Attribute::Label(b"x".to_vec())])),
            RvError::AttributeReadOnly
        );
        assert_eq!(
            rv_of(rw.update_attributes(id_card[0], &[Attribute::Value(new.clone())])),
            RvError::AttributeReadOnly
        );
        let size = match rw
            .get_attribute_info(data, &[AttributeType::Value])
            .unwrap()
            .pop()
        {
            Some(cryptoki::object::AttributeInfo::Available(n)) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rv_of(rw.update_attributes(data, &[Attribute::Value(vec![1; size + 1])])),
            RvError::AttributeValueInvalid
        );
        rw.update_attributes(data, &[Attribute::Value(new.clone())])
            .unwrap();
        let back = bytes(&rw, data, AttributeType::Value);
        assert_eq!(back.len(), size, "{g}: the whole file");
        assert_eq!(&back[..new.len()], &new[..]);
        assert!(back[new.len()..].iter().all(|b| *b == 0), "zero-padded");
        // Persisted in the card image.
        drop((ro, rw));
        let c = c.restart();
        let s = c.p.open_ro_session(c.slot).unwrap();
        let data = by_label(&s, "CPS_DATA")[0];
        assert_eq!(
            &bytes(&s, data, AttributeType::Value)[..new.len()],
            &new[..]
        );
    }
}

#[test]
fn random_comes_from_the_card() {
    for g in GENERATIONS {
        let c = start(g, "random");
        let s = c.p.open_ro_session(c.slot).unwrap();
        let a = s.generate_random_vec(100).unwrap();
        let b = s.generate_random_vec(100).unwrap();
        assert_eq!(a.len(), 100);
        assert_ne!(a, b);
        assert!(s.generate_random_vec(0).unwrap().is_empty());
        assert_eq!(
            rv_of(s.seed_random(&[1, 2, 3])),
            RvError::FunctionNotSupported
        );
    }
}

#[test]
fn misuse_with_a_token_present() {
    let c = start("cps4", "misuse");
    let f = c.m.f;
    let s = c.user();
    let h = s.handle();
    let key = one(&s, ObjectClass::PRIVATE_KEY, &c.profile().aut_id).handle();
    let mut mech = CK_MECHANISM {
        mechanism: CKM_SHA256_RSA_PKCS,
        pParameter: null_mut(),
        ulParameterLen: 0,
    };
    unsafe {
        assert_eq!(
            (f.C_SignInit.unwrap())(h, null_mut(), key),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            (f.C_SignInit.unwrap())(h, &mut mech, 0xdead_beef),
            CKR_KEY_HANDLE_INVALID
        );
        assert_eq!(
            (f.C_SignInit.unwrap())(0xdead_beef, &mut mech, key),
            CKR_SESSION_HANDLE_INVALID
        );
        let mut len: CK_ULONG = 0;
        assert_eq!(
            (f.C_Sign.unwrap())(h, null_mut(), 0, null_mut(), &mut len),
            CKR_OPERATION_NOT_INITIALIZED
        );
        assert_eq!((f.C_SignInit.unwrap())(h, &mut mech, key), CKR_OK);
        assert_eq!(
            (f.C_SignInit.unwrap())(h, &mut mech, key),
            CKR_OPERATION_ACTIVE
        );
        // Bad arguments end the operation (PKCS#11 2.40 §5.2: C_Sign always terminates it but
        // for a too small buffer or a length query; the misuse matrix has the full table).
        assert_eq!(
            (f.C_Sign.unwrap())(h, null_mut(), 5, null_mut(), &mut len),
            CKR_ARGUMENTS_BAD,
            "NULL data with a length"
        );
        assert_eq!((f.C_SignInit.unwrap())(h, &mut mech, key), CKR_OK);
        let mut data = [1u8; 3];
        assert_eq!(
            (f.C_Sign.unwrap())(h, data.as_mut_ptr(), 3, null_mut(), null_mut()),
            CKR_ARGUMENTS_BAD,
            "NULL length pointer"
        );
        assert_eq!((f.C_SignInit.unwrap())(h, &mut mech, key), CKR_OK);
        // A multi-part operation cannot end with C_Sign.
        assert_eq!((f.C_SignUpdate.unwrap())(h, data.as_mut_ptr(), 3), CKR_OK);
        let mut buf = [0u8; 256];
        let mut n: CK_ULONG = 256;
        assert_eq!(
            (f.C_Sign.unwrap())(h, data.as_mut_ptr(), 3, buf.as_mut_ptr(), &mut n),
            CKR_OPERATION_ACTIVE
        );
        // Attributes: NULL template with a count, unknown object, invalid attribute.
        let get = f.C_GetAttributeValue.unwrap();
        assert_eq!(get(h, key, null_mut(), 1), CKR_ARGUMENTS_BAD);
        let mut t = [CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: null_mut(),
            ulValueLen: 0,
        }];
        assert_eq!(
            get(h, 0xdead_beef, t.as_mut_ptr(), 1),
            CKR_OBJECT_HANDLE_INVALID
        );
        t[0].type_ = 0x7fff_fff0;
        assert_eq!(get(h, key, t.as_mut_ptr(), 1), CKR_ATTRIBUTE_TYPE_INVALID);
        assert_eq!(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        // Object management the card does not offer.
        let mut o = 0;
        assert_eq!(
            (f.C_CreateObject.unwrap())(h, t.as_mut_ptr(), 1, &mut o),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        assert_eq!(
            (f.C_DestroyObject.unwrap())(h, key),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        // Login twice, wrong user types.
        let mut p = *b"1234";
        assert_eq!(
            (f.C_Login.unwrap())(h, CKU_USER, p.as_mut_ptr(), 4),
            CKR_USER_ALREADY_LOGGED_IN
        );
        assert_eq!(
            (f.C_Login.unwrap())(h, 77, p.as_mut_ptr(), 4),
            CKR_USER_TYPE_INVALID
        );
        // No pinpad or pinentry: a NULL PIN has no path.
        assert_eq!((f.C_Logout.unwrap())(h), CKR_OK);
        assert_eq!(
            (f.C_Login.unwrap())(h, CKU_USER, null_mut(), 0),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!((f.C_Logout.unwrap())(h), CKR_USER_NOT_LOGGED_IN);
    }
    drop(s);
    // After C_Finalize, everything answers CRYPTOKI_NOT_INITIALIZED, nothing crashes.
    assert_eq!(c.m.finalize(), CKR_OK);
    unsafe {
        let mut n: CK_ULONG = 0;
        assert_eq!(
            (f.C_GetSlotList.unwrap())(1, null_mut(), &mut n),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(
            (f.C_SignInit.unwrap())(h, &mut mech, key),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        let mut ti = CK_TOKEN_INFO::default();
        assert_eq!(
            (f.C_GetTokenInfo.unwrap())(c.slot.id(), &mut ti),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!((f.C_CloseSession.unwrap())(h), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!(
            (f.C_Finalize.unwrap())(null_mut()),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
    }
    // And a new C_Initialize gives fresh handles: the old session is gone.
    assert_eq!(c.m.initialize(), CKR_OK);
    let mut info = CK_SESSION_INFO::default();
    assert_eq!(
        unsafe { (f.C_GetSessionInfo.unwrap())(h, &mut info) },
        CKR_SESSION_HANDLE_INVALID
    );
    assert_eq!(c.m.initialize(), CKR_CRYPTOKI_ALREADY_INITIALIZED);
}

#[test]
fn the_log_masks_pins() {
    let m = Module::load();
    let g = serial(&m);
    let card = EmulatedCard::new("cps3", "log");
    let log = card.dir.join("module.log");
    std::env::set_var("CPSCARD_LOG", "trace");
    std::env::set_var("CPSCARD_LOG_FILE", &log);
    let c = init(m, g, card);
    std::env::remove_var("CPSCARD_LOG");
    std::env::remove_var("CPSCARD_LOG_FILE");
    // A PIN that appears nowhere else (the serial 12345678 is in the card's files).
    let rw = c.p.open_rw_session(c.slot).unwrap();
    rw.set_pin(&pin("1234"), &pin("9051")).unwrap();
    rw.login(UserType::User, Some(&pin("9051"))).unwrap();
    rw.logout().unwrap();
    let _ = rw.login(UserType::User, Some(&pin("9052")));
    drop(rw);
    let _ = c.m.finalize();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("C_Login"), "calls are logged");
    // VERIFY with data (a status query, `> 00200001`, carries nothing to mask).
    let verify: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.split_once("apdu: > 0020")
                .is_some_and(|(_, rest)| rest.trim_end().len() > 4)
        })
        .collect();
    assert!(verify.len() >= 2, "VERIFY APDUs are traced");
    for l in &verify {
        assert!(l.contains("********"), "VERIFY data masked: {l}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("apdu: > 0024") && l.contains("****")),
        "CHANGE REFERENCE DATA traced, masked"
    );
    for secret in ["9051", "39303531", "39 30 35 31", "9052", "39303532"] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
}
