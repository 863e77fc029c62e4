//! The token over every fixture card of both generations: token info, certificates equal to
//! the fixture files, keys, public keys, data objects, mechanisms, holder identity equal to
//! card.json.

use crate::token_common;

use cpscard::card::{KeyRole, PinKind};
use cpscard::emulator::Generation;
use cpscard::sign::MechanismKind;
use cpscard::token::{CardCategory, DataLocation, IdType, ObjectId};
use token_common::*;

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

#[test]
fn token_info_of_every_card() {
    for g in GENERATIONS {
        for name in CARDS {
            let (t, card) = token(g, name);
            let j = card_json(g, name);
            let i = t.info();
            assert_eq!(i.label, j["label"].as_str().unwrap(), "{name}");
            assert_eq!(i.serial, j["serial"].as_str().unwrap());
            assert_eq!(i.serial.len(), 8);
            assert_eq!(i.manufacturer, "ASIP-SANTE");
            assert_eq!(
                i.model,
                match g {
                    Generation::Cps3 => "IAS ECC",
                    Generation::Cps4 => "ChipDoc",
                }
            );
            assert!(i.has_pin && i.has_rng);
            assert_eq!((i.pin_min_len, i.pin_max_len), (4, 4));
            assert!(!i.label.contains('('), "no PIN-label suffix: {}", i.label);
            println!("{} {name}: open {} APDUs", gen_name(g), apdus(&card));
        }
    }
}

#[test]
fn certificates_equal_the_fixture_files() {
    for g in GENERATIONS {
        for name in CARDS {
            let (t, _) = token(g, name);
            let sig = t.signature_key().unwrap();
            let aut = t.authentication_key().unwrap();
            for (key, file, label) in [
                (sig, "sign.der", "Certificat de Signature CPS"),
                (aut, "auth.der", "Certificat d'Authentification CPS"),
            ] {
                let cert = t.certificate_of(key).unwrap();
                assert_eq!(
                    cert.der(),
                    fixture(g, name, file).as_slice(),
                    "{name} {file}"
                );
                assert_eq!(cert.label, label);
                assert_eq!(cert.pkcs15_id, key.pkcs15_id);
                let (_, x) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
                assert_eq!(cert.parsed.subject_der, x.subject().as_raw());
                assert_eq!(cert.parsed.issuer_der, x.issuer().as_raw());
                let j = card_json(g, name);
                let serial = j[if file == "sign.der" { "sign" } else { "auth" }]["serial_hex"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert_eq!(hex::encode(&cert.parsed.serial), serial);
                assert_eq!(cert.parsed.serial_der[0], 0x02);
                assert_eq!(&cert.parsed.serial_der[2..], cert.parsed.serial.as_slice());
                assert_eq!(
                    cert.parsed.validity.is_expired(),
                    name == "cps-expired",
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn keys_public_keys_and_ids() {
    for g in GENERATIONS {
        let (t, _) = token(g, "cps");
        let aid = hex::decode("E828BD080F8025000001FF0010").unwrap();
        let (sig_byte, aut_byte) = match g {
            Generation::Cps3 => (0x01, 0x02),
            Generation::Cps4 => (0x10, 0x20),
        };
        let sig = t.signature_key().unwrap();
        let aut = t.authentication_key().unwrap();
        assert_eq!(sig.label, "CPS_PRIV_SIG");
        assert_eq!(aut.label, "CPS_PRIV_AUT");
        assert_eq!(sig.pkcs15_id.as_bytes(), [&aid[..], &[sig_byte]].concat());
        assert_eq!(aut.pkcs15_id.as_bytes(), [&aid[..], &[aut_byte]].concat());
        assert!(sig.usage.sign && sig.usage.non_repudiation && !sig.usage.decrypt);
        assert!(aut.usage.sign && aut.usage.decrypt);
        assert!(sig.private && aut.private);
        assert_eq!((sig.bits, aut.bits), (2048, 2048));
        assert_eq!(aut.public_exponent, vec![1, 0, 1]);
        assert_eq!(sig.role, KeyRole::Signature);
        let k = rsa_key(&fixture(g, "cps", "auth.der"));
        assert_eq!(
            aut.modulus,
            rsa::traits::PublicKeyParts::n(&k).to_bytes_be()
        );
        assert_eq!(t.public_keys().len(), 2);
        for pk in t.public_keys() {
            let cert = t
                .certificate(&ObjectId::Certificate(pk.pkcs15_id.clone()))
                .unwrap();
            assert_eq!(pk.label, format!("Cle publique - {}", cert.label));
            assert_eq!(pk.encrypt, pk.pkcs15_id == aut.pkcs15_id);
        }
        // identities are distinct and stable
        let ids = t.object_ids();
        let mut keys: Vec<u64> = ids.iter().map(ObjectId::key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ids.len());
        let (t2, _) = token(g, "cps");
        let keys2: Vec<u64> = t2.object_ids().iter().map(ObjectId::key).collect();
        assert_eq!(ids.iter().map(ObjectId::key).collect::<Vec<_>>(), keys2);
        for id in &ids {
            assert_eq!(t.object_by_key(id.key()).as_ref(), Some(id));
        }
    }
}

#[test]
fn data_objects_per_generation() {
    for g in GENERATIONS {
        for name in ["cps", "cpf"] {
            let (t, _) = token(g, name);
            let j = card_json(g, name);
            let labels: Vec<&str> = t.data_objects().iter().map(|d| d.label.as_str()).collect();
            for l in [
                "CPS_DATA",
                "CPS_ID_CARD",
                "CPS_NAME_PS",
                "CPS_LANG_PS",
                "CPS_INFO_PS",
                "CPS_SIT_FACT",
            ] {
                assert!(labels.contains(&l), "{l} not in {labels:?}");
            }
            for n in j["activities"].as_array().unwrap() {
                let n = n.as_u64().unwrap();
                let act = format!("CPS_ACTIVITY_{n:02}_PS");
                let cps2ter = format!("CPS2TER_ACTIVITY_{n:02}_PS");
                assert!(labels.contains(&act.as_str()), "{act}");
                assert!(labels.contains(&cps2ter.as_str()), "{cps2ter}");
                assert!(t.data_object_by_label(&act).unwrap().private);
                assert!(t.data_object_by_label(&cps2ter).unwrap().private);
            }
            let data = t.data_object_by_label("CPS_DATA").unwrap();
            assert!(data.modifiable && !data.private);
            assert_eq!(data.application, "CPS");
            let sit = t.data_object_by_label("CPS_SIT_FACT").unwrap();
            match g {
                Generation::Cps3 => assert!(matches!(sit.location, DataLocation::Cps2ter(_))),
                Generation::Cps4 => assert!(matches!(sit.location, DataLocation::File(_))),
            }
            if g == Generation::Cps4 {
                assert!(labels.contains(&"CPS2TER_ID"));
            }
        }
    }
}

#[test]
fn mechanisms_are_what_each_card_can_do() {
    use MechanismKind::*;
    let (t3, _) = token(Generation::Cps3, "cps");
    let kinds = |k: &cpscard::token::PrivateKey| -> Vec<MechanismKind> {
        k.mechanisms()
            .iter()
            .filter(|m| m.sign)
            .map(|m| m.kind)
            .collect()
    };
    assert_eq!(
        kinds(t3.signature_key().unwrap()),
        vec![RsaPkcs, Sha1RsaPkcs, Sha256RsaPkcs]
    );
    assert_eq!(
        kinds(t3.authentication_key().unwrap()),
        vec![
            RsaPkcs,
            Sha1RsaPkcs,
            Sha256RsaPkcs,
            Sha384RsaPkcs,
            Sha512RsaPkcs
        ]
    );
    assert!(t3
        .mechanisms()
        .iter()
        .all(|m| !m.kind.is_pss() && m.kind != RsaX509));
    let (t4, _) = token(Generation::Cps4, "cps");
    assert_eq!(
        kinds(t4.signature_key().unwrap()),
        vec![
            RsaPkcs,
            Sha1RsaPkcs,
            Sha256RsaPkcs,
            RsaPkcsPss,
            Sha1RsaPkcsPss,
            Sha256RsaPkcsPss
        ]
    );
    assert_eq!(
        kinds(t4.authentication_key().unwrap()),
        MechanismKind::ALL.to_vec()
    );
    let list: Vec<_> = t4.mechanisms().iter().map(|m| m.kind).collect();
    assert_eq!(list, MechanismKind::ALL.to_vec());
    let pkcs = t4
        .mechanisms()
        .into_iter()
        .find(|m| m.kind == RsaPkcs)
        .unwrap();
    assert!(pkcs.sign && pkcs.decrypt && pkcs.encrypt && pkcs.verify && pkcs.hardware);
    assert_eq!((pkcs.min_key_bits, pkcs.max_key_bits), (2048, 2048));
    let x509 = t4
        .mechanisms()
        .into_iter()
        .find(|m| m.kind == RsaX509)
        .unwrap();
    assert!(x509.decrypt);
}

#[test]
fn holder_identity_equals_card_json() {
    for g in GENERATIONS {
        for name in CARDS {
            let (mut t, card) = token(g, name);
            let j = card_json(g, name);
            let h = &j["holder"];
            reset_stats(&card);
            let id = t.identity().unwrap();
            let cost = apdus(&card);
            assert_eq!(id.id_nat, h["id_nat"].as_str().unwrap(), "{name}");
            assert_eq!(id.id_type.name(), h["id_type"].as_str().unwrap());
            assert_eq!(id.id, h["id"].as_str().unwrap());
            assert_eq!(id.surname, text(&h["surname"]));
            assert_eq!(id.given_name, text(&h["given_name"]));
            assert_eq!(id.profession, text(&h["profession"]), "{name}");
            assert_eq!(id.title, text(&h["title"]));
            assert_eq!(id.structure, text(&h["structure"]));
            assert_eq!(id.structure_id, text(&h["structure_id"]));
            assert_eq!(
                id.structure_id_type.map(|t| t.name().to_owned()),
                text(&h["structure_id_type"])
            );
            assert_eq!(id.pseudonym, text(&h["pseudonym"]));
            assert_eq!(id.type_code, text(&j["type_code"]));
            let kind = j["kind"].as_str().unwrap();
            assert!(
                id.category.may_be(kind),
                "{name}: {} vs {kind}",
                id.category
            );
            match kind {
                "CPS" | "CPF" => assert_eq!(id.category.exact(), Some(kind)),
                // one type code (02) and one certificate shape for both: not decidable
                "CPE" | "CDE" => assert_eq!(id.category, CardCategory::CpeOrCde),
                "CPA" => assert_eq!(id.category, CardCategory::CpaOrCda),
                k => panic!("unexpected kind {k}"),
            }
            assert_eq!(id.is_expired(), name == "cps-expired");
            let nb = j["not_before"].as_str().unwrap();
            assert_eq!(
                cpscard::token::Date::from_unix(id.not_before).ck_date(),
                nb[..10].replace('-', "").as_bytes()
            );
            // the certificate alone: same person, kind only by family
            let from_cert = t.identity_from_certificate().unwrap();
            assert_eq!(from_cert.id_nat, id.id_nat);
            assert_eq!(from_cert.type_code, None);
            assert!(from_cert.category.may_be(kind));
            // a second call is free
            reset_stats(&card);
            assert_eq!(t.identity().unwrap(), id);
            assert_eq!(apdus(&card), 0);
            println!(
                "{} {name}: identity {cost} APDUs, {}",
                gen_name(g),
                id.category
            );
            assert_ne!(id.id_type, IdType::Unknown);
        }
    }
}

#[test]
fn pin_status_is_cached_and_refreshed() {
    for g in GENERATIONS {
        let (mut t, card) = token(g, "cps");
        reset_stats(&card);
        let s = t.pin_status(PinKind::User).unwrap();
        assert_eq!(
            (s.tries_left(), s.max_tries, s.is_verified()),
            (3, 3, false)
        );
        let one = apdus(&card);
        assert_eq!(one, 1, "one status APDU");
        for _ in 0..10 {
            t.pin_status(PinKind::User).unwrap();
        }
        assert_eq!(apdus(&card), one, "polling costs nothing while fresh");
        t.refresh_pin_status(PinKind::User).unwrap();
        assert_eq!(apdus(&card), one + 1);
        let puk = t.pin_status(PinKind::Puk).unwrap();
        assert_eq!((puk.tries_left(), puk.max_tries), (10, 10));
    }
}

#[test]
fn a_token_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<cpscard::token::Token>();
    assert_send::<cpscard::sign::SignOperation>();
    let (t, _) = token(Generation::Cps4, "cps");
    let shared = std::sync::Arc::new(std::sync::Mutex::new(t));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let s = std::sync::Arc::clone(&shared);
            std::thread::spawn(move || {
                let mut t = s.lock().unwrap();
                t.refresh_pin_status(PinKind::User).unwrap().tries_left()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 3);
    }
}
