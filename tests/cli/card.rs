//! `info`, `certs` and `objects` against each fixture card (cps, cpf, cpe, cpa, cde) of both
//! generations, through the built binary with `--emulated GEN --card HOLDER --image PATH`:
//! what they print must be what `fixtures/cards/<gen>/<card>/` holds.

use crate::cli_common;

use cli_common::*;
use serde_json::Value;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `info --json` (schema-checked) and `info` show the fixture's identity.
fn check_info(generation: &'static str, holder: &'static str) {
    let card = EmuCard::new("card-info", generation, holder);
    let fixture = card_json(generation, holder);
    let h = &fixture["holder"];
    let doc = card.json(&[], &["info"], "info");
    assert_eq!(doc["emulated"], true);
    assert_eq!(doc["card"]["generation"], generation);
    assert_eq!(doc["card"]["serial"], fixture["serial"]);
    assert_eq!(doc["card"]["label"], fixture["label"]);
    let who = &doc["holder"];
    for key in [
        "id_nat",
        "id_type",
        "id",
        "surname",
        "given_name",
        "profession",
        "title",
        "structure",
        "structure_id",
        "structure_id_type",
        "pseudonym",
    ] {
        assert_eq!(who[key], h[key], "{generation}/{holder}: holder.{key}");
    }
    assert_eq!(who["type_code"], fixture["type_code"]);
    let kind = fixture["kind"].as_str().unwrap();
    let possible: Vec<&str> = who["card_types_possible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(possible.contains(&kind), "{kind} not in {possible:?}");
    // CPS and CPF are told apart by the type code; CPE/CDE and CPA/CDA are not (README §1)
    match kind {
        "CPS" | "CPF" => assert_eq!(who["card_type"], kind),
        _ => assert_eq!(who["card_type"], Value::Null),
    }
    assert_eq!(who["not_before"], fixture["not_before"]);
    assert_eq!(who["not_after"], fixture["not_after"]);
    assert_eq!(who["expired"], false);
    assert_eq!(doc["pin"]["tries_left"], 3);
    assert_eq!(doc["pin"]["state"], "not_verified");
    assert_eq!(doc["puk"]["tries_left"], 10);

    // the same facts for humans
    let out = card.out(&[], &["info"]);
    for key in [
        "id_nat",
        "surname",
        "given_name",
        "profession",
        "structure",
        "pseudonym",
    ] {
        if let Some(v) = text(h, key) {
            assert!(
                out.contains(v),
                "{generation}/{holder}: {key} {v:?} not in\n{out}"
            );
        }
    }
    assert!(out.contains(fixture["serial"].as_str().unwrap()), "{out}");
    assert!(out.contains(kind), "{out}");
    assert!(out.contains("3 of 3 tries left"), "{out}");
    assert!(out.contains("10 of 10 tries left"), "{out}");
    assert!(out.contains("2024-01-01 to 2029-01-01"), "{out}");
    assert!(out.contains("EMULATED"), "{out}");
    assert!(
        out.contains(&generation.to_uppercase()),
        "{generation} not in\n{out}"
    );
}

/// `certs --export` writes the fixture's DER and PEM files byte for byte; `certs --json` lists
/// them with their role and fingerprint.
fn check_certs(generation: &'static str, holder: &'static str) {
    let card = EmuCard::new("card-certs", generation, holder);
    let fixture = fixture_dir(generation, holder);
    for (dir, pem) in [("der", false), ("pem", true)] {
        let out = card.path(dir);
        let mut args = vec!["certs", "--export", out.to_str().unwrap()];
        if pem {
            args.push("--pem");
        }
        let said = card.out(&[], &args);
        for role in ["auth", "sign"] {
            let name = format!("{role}.{dir}");
            let got = std::fs::read(out.join(&name)).unwrap();
            let want = std::fs::read(fixture.join(&name)).unwrap();
            assert!(got == want, "{generation}/{holder}: {name} differs");
        }
        let mut files: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, [format!("auth.{dir}"), format!("sign.{dir}")]);
        assert!(said.contains("written"), "{said}");
    }
    let doc = card.json(&[], &["certs"], "certs");
    let certs = doc["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    for (role, file) in [("authentication", "auth.der"), ("signature", "sign.der")] {
        let c = certs.iter().find(|c| c["role"] == role).unwrap();
        let der = std::fs::read(fixture.join(file)).unwrap();
        let o = openssl(&[
            "dgst",
            "-sha256",
            "-r",
            fixture.join(file).to_str().unwrap(),
        ]);
        let fp = stdout(&o).split_whitespace().next().unwrap().to_uppercase();
        assert_eq!(c["sha256"], fp.as_str(), "{role}");
        assert_eq!(c["file"], Value::Null);
        assert_eq!(c["expired"], false);
        assert!(!der.is_empty());
        let want_serial = card_json(generation, holder)
            [if role == "signature" { "sign" } else { "auth" }]["serial_hex"]
            .as_str()
            .unwrap()
            .to_uppercase();
        assert_eq!(c["serial"], want_serial.as_str());
    }
}

/// `objects`: public data objects only, then every one after `--login`.
fn check_objects(generation: &'static str, holder: &'static str) {
    let card = EmuCard::new("card-objects", generation, holder);
    let fixture = card_json(generation, holder);
    let pin = [("CPS_PIN", fixture["pin"].as_str().unwrap())];
    let public = card.json(&[], &["objects"], "objects");
    assert_eq!(public["logged_in"], false);
    let labels = |doc: &Value, key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["label"].as_str().unwrap().to_owned())
            .collect()
    };
    let data = public["data_objects"].as_array().unwrap();
    assert!(data.iter().all(|d| d["private"] == false), "{data:?}");
    for label in ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_INFO_PS"] {
        assert!(labels(&public, "data_objects").iter().any(|l| l == label));
    }
    let cps_data = data.iter().find(|d| d["label"] == "CPS_DATA").unwrap();
    assert_eq!(cps_data["modifiable"], true);
    assert!(cps_data["size"].as_u64().unwrap() > 0);
    let hidden = public["hidden_private_objects"].as_u64().unwrap();
    assert!(hidden > 0);
    let mut keys = labels(&public, "private_keys");
    keys.sort();
    assert_eq!(keys, ["CPS_PRIV_AUT", "CPS_PRIV_SIG"]);
    for k in public["private_keys"].as_array().unwrap() {
        assert_eq!(k["private"], true);
        assert_eq!(k["bits"], 2048);
        assert_eq!(k["decrypt"], k["role"] == "authentication");
    }
    let mut certs = labels(&public, "certificates");
    certs.sort();
    assert_eq!(
        certs,
        [
            "Certificat d'Authentification CPS",
            "Certificat de Signature CPS"
        ]
    );
    assert_eq!(public["public_keys"].as_array().unwrap().len(), 2);

    let all = card.json(&pin, &["objects", "--login"], "objects");
    assert_eq!(all["logged_in"], true);
    assert_eq!(all["hidden_private_objects"], 0);
    let data = all["data_objects"].as_array().unwrap();
    let private: Vec<&Value> = data.iter().filter(|d| d["private"] == true).collect();
    assert_eq!(private.len() as u64, hidden);
    let activity = private
        .iter()
        .find(|d| d["label"] == "CPS_ACTIVITY_01_PS")
        .expect("CPS_ACTIVITY_01_PS after login");
    assert!(activity["size"].as_u64().unwrap() > 0);

    // for humans: the hint to log in, then the private ones
    let out = card.out(&[], &["objects"]);
    assert!(out.contains(&format!(
        "{hidden} private data objects not shown: add --login"
    )));
    assert!(!out.contains("CPS_ACTIVITY_01_PS"), "{out}");
    let out = card.out(&pin, &["objects", "--login"]);
    assert!(out.contains("CPS_ACTIVITY_01_PS"), "{out}");
    assert!(out.contains("(needs the PIN)"), "{out}");
    assert!(out.contains("CPS_DATA: "), "{out}");
    // the PIN was verified once, correctly: counters untouched
    assert_eq!(counters(&card.image()), (3, 10));
}

fn check_card(generation: &'static str, holder: &'static str) {
    check_info(generation, holder);
    check_certs(generation, holder);
    check_objects(generation, holder);
}

per_fixture_card!(check_card);

#[test]
fn every_fixture_card_is_covered() {
    // the ten tests above are the fixture cards
    for g in GENERATIONS {
        for h in HOLDERS {
            assert!(fixture_dir(g, h).join("card.json").is_file(), "{g}/{h}");
        }
    }
}

#[test]
fn info_in_french() {
    let home = TempDir::new("card-fr");
    let o = run_env(
        home.path(),
        &[("LANG", "fr_FR.UTF-8")],
        &["--emulated", "cps4", "--card", "cpe", "info"],
    );
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("Porteur:"), "{out}");
    assert!(out.contains("CPE ou CDE (code type 02)"), "{out}");
    assert!(out.contains("3 essais restants sur 3"), "{out}");
    assert!(out.contains("du 2024-01-01 au 2029-01-01"), "{out}");
}
