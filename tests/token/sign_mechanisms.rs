//! Every mechanism each key supports signs on every fixture card of both generations, and the
//! result verifies with the fixture certificate under the `rsa` crate (an independent
//! verifier): PKCS#1 v1.5 and PSS. What a key cannot do is refused before any APDU.

use crate::token_common;

use cpscard::emulator::Generation;
use cpscard::sign::{HashAlg, Mechanism, MechanismKind, PinSource, PssParams};
use cpscard::token::{Token, TokenError};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use token_common::*;

const MESSAGE: &[u8] = b"Ordonnance du 1er janvier: 3 boites, renouvelable 2 fois.\n";

fn digest(h: HashAlg, m: &[u8]) -> Vec<u8> {
    match h {
        HashAlg::Sha1 => Sha1::digest(m).to_vec(),
        HashAlg::Sha256 => Sha256::digest(m).to_vec(),
        HashAlg::Sha384 => Sha384::digest(m).to_vec(),
        HashAlg::Sha512 => Sha512::digest(m).to_vec(),
    }
}

fn pkcs1(h: HashAlg) -> Pkcs1v15Sign {
    match h {
        HashAlg::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
    }
}

fn pss(h: HashAlg, salt: usize) -> Pss {
    match h {
        HashAlg::Sha1 => Pss::new_with_salt::<Sha1>(salt),
        HashAlg::Sha256 => Pss::new_with_salt::<Sha256>(salt),
        HashAlg::Sha384 => Pss::new_with_salt::<Sha384>(salt),
        HashAlg::Sha512 => Pss::new_with_salt::<Sha512>(salt),
    }
}

/// Checks a signature with the `rsa` crate.
type Checker<'a> = Box<dyn Fn(&[u8]) + 'a>;

/// Signs with `mech` and checks the signature with the `rsa` crate.
fn sign_and_check(t: &mut Token, key_file: &str, key: &RsaPublicKey, mech: Mechanism) {
    let id = if key_file == "sign.der" {
        t.signature_key().unwrap().id.clone()
    } else {
        t.authentication_key().unwrap().id.clone()
    };
    let (input, check): (Vec<u8>, Checker) = match mech {
        Mechanism::RsaPkcs => {
            let h = HashAlg::Sha256;
            let di = h.digest_info(&digest(h, MESSAGE));
            let d = digest(h, MESSAGE);
            (di, Box::new(move |s| key.verify(pkcs1(h), &d, s).unwrap()))
        }
        Mechanism::RsaX509 => {
            let mut block = vec![0u8; 256];
            block[1] = 0x42;
            block[255] = 0x17;
            let b = block.clone();
            (
                block,
                Box::new(move |s| {
                    use rsa::traits::PublicKeyParts;
                    let m = BigUint::from_bytes_be(s).modpow(key.e(), key.n());
                    assert_eq!(m, BigUint::from_bytes_be(&b));
                }),
            )
        }
        Mechanism::RsaPkcsPss(p) => {
            let d = digest(p.hash, MESSAGE);
            let dd = d.clone();
            (
                d,
                Box::new(move |s| key.verify(pss(p.hash, p.salt_len), &dd, s).unwrap()),
            )
        }
        m => {
            let h = m.kind().message_hash().unwrap();
            let d = digest(h, MESSAGE);
            match m.pss_params() {
                Some(p) => (
                    MESSAGE.to_vec(),
                    Box::new(move |s| key.verify(pss(h, p.salt_len), &d, s).unwrap()),
                ),
                None => (
                    MESSAGE.to_vec(),
                    Box::new(move |s| key.verify(pkcs1(h), &d, s).unwrap()),
                ),
            }
        }
    };
    let sig = t
        .sign(&id, mech, &input)
        .unwrap_or_else(|e| panic!("{mech} with {key_file}: {e}"));
    assert_eq!(sig.len(), 256);
    check(&sig);
    // and our own software verifier agrees
    t.verify(&id, mech, &input, &sig).unwrap();
}

fn mechanism(kind: MechanismKind) -> Mechanism {
    let p = |h| Some(PssParams::standard(h));
    let params = match kind {
        MechanismKind::RsaPkcsPss => p(HashAlg::Sha256),
        k if k.is_pss() => p(k.message_hash().unwrap()),
        _ => None,
    };
    Mechanism::new(kind, params).unwrap()
}

#[test]
fn every_supported_mechanism_verifies_with_the_fixture_certificate() {
    for g in GENERATIONS {
        for name in ["cps", "cpf", "cpe", "cpa", "cde"] {
            let (mut t, card) = token(g, name);
            t.login(PinSource::given("1234").unwrap()).unwrap();
            for file in ["sign.der", "auth.der"] {
                let key = rsa_key(&fixture(g, name, file));
                let k = if file == "sign.der" {
                    t.signature_key().unwrap()
                } else {
                    t.authentication_key().unwrap()
                };
                let kinds: Vec<MechanismKind> = k
                    .mechanisms()
                    .iter()
                    .filter(|m| m.sign)
                    .map(|m| m.kind)
                    .collect();
                for kind in kinds {
                    reset_stats(&card);
                    sign_and_check(&mut t, file, &key, mechanism(kind));
                    if name == "cps" {
                        println!("{} {file} {kind}: {} APDUs", gen_name(g), apdus(&card));
                    }
                }
            }
        }
    }
}

#[test]
fn pss_with_other_parameters_on_the_cps4_authentication_key() {
    let (mut t, _) = token(Generation::Cps4, "cps");
    t.login(PinSource::given("1234").unwrap()).unwrap();
    let key = rsa_key(&fixture(Generation::Cps4, "cps", "auth.der"));
    // salt 0 and salt 20 with SHA-256: host EMSA-PSS + raw RSA
    for salt in [0usize, 20, 64] {
        let p = PssParams {
            hash: HashAlg::Sha256,
            mgf_hash: HashAlg::Sha256,
            salt_len: salt,
        };
        sign_and_check(&mut t, "auth.der", &key, Mechanism::Sha256RsaPkcsPss(p));
    }
    // MGF1-SHA1 with SHA-256: the rsa crate has one digest for both, our verifier checks
    let p = PssParams {
        hash: HashAlg::Sha256,
        mgf_hash: HashAlg::Sha1,
        salt_len: 32,
    };
    let id = t.authentication_key().unwrap().id.clone();
    let sig = t
        .sign(&id, Mechanism::Sha256RsaPkcsPss(p), MESSAGE)
        .unwrap();
    t.verify(&id, Mechanism::Sha256RsaPkcsPss(p), MESSAGE, &sig)
        .unwrap();
    assert_eq!(
        t.verify(&id, Mechanism::pss_of(HashAlg::Sha256), MESSAGE, &sig),
        Err(TokenError::SignatureInvalid)
    );
}

#[test]
fn refusals_happen_before_any_apdu() {
    let pss256 = Mechanism::pss_of(HashAlg::Sha256);
    // CPS3: no PSS at all
    let (mut t, card) = token(Generation::Cps3, "cps");
    t.login(PinSource::given("1234").unwrap()).unwrap();
    for key in [
        t.signature_key().unwrap().id.clone(),
        t.authentication_key().unwrap().id.clone(),
    ] {
        for m in [
            pss256,
            Mechanism::RsaPkcsPss(PssParams::standard(HashAlg::Sha1)),
            Mechanism::pss_of(HashAlg::Sha512),
        ] {
            reset_stats(&card);
            let e = t.sign(&key, m, MESSAGE).unwrap_err();
            assert!(matches!(e, TokenError::MechanismInvalid(_)), "{m}: {e}");
            assert!(e
                .to_string()
                .contains("mechanism not supported by this card"));
            assert_eq!(apdus(&card), 0, "{m}: APDUs sent");
        }
        reset_stats(&card);
        assert!(matches!(
            t.sign(&key, Mechanism::RsaX509, &[0u8; 256]),
            Err(TokenError::MechanismInvalid(_))
        ));
        assert_eq!(apdus(&card), 0);
    }
    let sig = t.signature_key().unwrap().id.clone();
    let aut = t.authentication_key().unwrap().id.clone();
    reset_stats(&card);
    // SHA-384 with the CPS3 signature key: the card has no such DST algorithm
    assert!(matches!(
        t.sign(&sig, Mechanism::Sha384RsaPkcs, MESSAGE),
        Err(TokenError::KeyFunctionNotPermitted(_))
    ));
    // RSA_PKCS on the signature key takes a SHA-1/256 DigestInfo or hash only
    assert!(matches!(
        t.sign(&sig, Mechanism::RsaPkcs, &[1u8; 36]),
        Err(TokenError::DataInvalid(_))
    ));
    // INTERNAL AUTHENTICATE takes at most 102 bytes
    assert!(matches!(
        t.sign(&aut, Mechanism::RsaPkcs, &[1u8; 103]),
        Err(TokenError::DataLenRange { max: 102, .. })
    ));
    // the signature key does not decrypt
    assert!(matches!(
        t.decrypt(&sig, MechanismKind::RsaPkcs, &[1u8; 256]),
        Err(TokenError::KeyFunctionNotPermitted(_))
    ));
    assert!(matches!(
        t.decrypt(&aut, MechanismKind::RsaX509, &[1u8; 256]),
        Err(TokenError::MechanismInvalid(_))
    ));
    assert_eq!(apdus(&card), 0);

    // CPS4: the signature key's PSS is the card's own (SHA-1/256, salt = hLen)
    let (mut t, card) = token(Generation::Cps4, "cps");
    t.login(PinSource::given("1234").unwrap()).unwrap();
    let sig = t.signature_key().unwrap().id.clone();
    reset_stats(&card);
    let odd = PssParams {
        hash: HashAlg::Sha256,
        mgf_hash: HashAlg::Sha256,
        salt_len: 0,
    };
    assert!(matches!(
        t.sign(&sig, Mechanism::Sha256RsaPkcsPss(odd), MESSAGE),
        Err(TokenError::MechanismParamInvalid(_))
    ));
    assert!(matches!(
        t.sign(
            &sig,
            Mechanism::RsaPkcsPss(PssParams::standard(HashAlg::Sha384)),
            &[0u8; 48]
        ),
        Err(TokenError::MechanismParamInvalid(_))
    ));
    assert!(matches!(
        t.sign(&sig, Mechanism::pss_of(HashAlg::Sha512), MESSAGE),
        Err(TokenError::KeyFunctionNotPermitted(_))
    ));
    assert!(matches!(
        t.sign(&sig, Mechanism::RsaX509, &[0u8; 256]),
        Err(TokenError::KeyFunctionNotPermitted(_))
    ));
    // the mechanism's hash and the parameter's must agree
    let aut = t.authentication_key().unwrap().id.clone();
    assert!(matches!(
        t.sign(
            &aut,
            Mechanism::Sha256RsaPkcsPss(PssParams::standard(HashAlg::Sha1)),
            MESSAGE
        ),
        Err(TokenError::MechanismParamInvalid(_))
    ));
    // a PSS hash of the wrong length
    assert!(matches!(
        t.sign(&aut, pss_raw(HashAlg::Sha256), &[0u8; 20]),
        Err(TokenError::DataLenRange { .. })
    ));
    assert_eq!(apdus(&card), 0);
}

fn pss_raw(h: HashAlg) -> Mechanism {
    Mechanism::RsaPkcsPss(PssParams::standard(h))
}

#[test]
fn multi_part_equals_one_shot_and_tls_inputs_work() {
    for g in GENERATIONS {
        let (mut t, _) = token(g, "cps");
        t.login(PinSource::given("1234").unwrap()).unwrap();
        let long: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        for key_file in ["sign.der", "auth.der"] {
            let key = rsa_key(&fixture(g, "cps", key_file));
            let id = if key_file == "sign.der" {
                t.signature_key().unwrap().id.clone()
            } else {
                t.authentication_key().unwrap().id.clone()
            };
            let mut op = t.sign_init(&id, Mechanism::Sha256RsaPkcs).unwrap();
            for chunk in long.chunks(333) {
                op.update(chunk).unwrap();
            }
            let sig = t.sign_finish(&id, op).unwrap();
            key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&long), &sig)
                .unwrap();
            // empty message
            let sig = t.sign(&id, Mechanism::Sha1RsaPkcs, b"").unwrap();
            key.verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(b""), &sig)
                .unwrap();
        }
        // TLS 1.2 client authentication: RSA_PKCS over a SHA-256 DigestInfo, and TLS 1.0's
        // MD5‖SHA-1 (36 bytes, no DigestInfo) with the authentication key
        let key = rsa_key(&fixture(g, "cps", "auth.der"));
        let aut = t.authentication_key().unwrap().id.clone();
        let md5sha1 = [0x5Au8; 36];
        let sig = t.sign(&aut, Mechanism::RsaPkcs, &md5sha1).unwrap();
        key.verify(Pkcs1v15Sign::new_unprefixed(), &md5sha1, &sig)
            .unwrap();
        // a bare hash given to the signature key gets the card's DigestInfo (CPS3.md §6.5)
        let sig_id = t.signature_key().unwrap().id.clone();
        let skey = rsa_key(&fixture(g, "cps", "sign.der"));
        let d = Sha256::digest(MESSAGE);
        let sig = t.sign(&sig_id, Mechanism::RsaPkcs, &d).unwrap();
        skey.verify(Pkcs1v15Sign::new::<Sha256>(), &d, &sig)
            .unwrap();
    }
}
