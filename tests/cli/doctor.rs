//! `cps-tool doctor` on emulated cards (healthy CPS4, CPS3 and its TLS 1.2 advice, blocked PIN,
//! expired certificates, every fault the emulator injects, a foreign ATR), without pcscd, and
//! with broken registrations (a temporary HOME with fake Firefox profiles, a fake sysroot).

use crate::cli_common;

use cli_common::*;
use serde_json::{json, Value};

/// A HOME with one Firefox profile registering `module`, and a sysroot registering it in p11-kit.
fn healthy_setup(module: &std::path::Path) -> (TempDir, TempDir) {
    let home = TempDir::new("home");
    home.write(
        ".mozilla/firefox/profiles.ini",
        "[Profile0]\nName=default\nIsRelative=1\nPath=abcd.default-esr\n",
    );
    home.write(
        ".mozilla/firefox/abcd.default-esr/pkcs11.txt",
        &format!(
            "library=\nname=NSS Internal PKCS #11 Module\nNSS=Flags=internal,critical\n\nlibrary={}\nname=CPS (cpscard)\n",
            module.display()
        ),
    );
    home.write(
        ".mozilla/firefox/abcd.default-esr/prefs.js",
        "user_pref(\"browser.startup.homepage\", \"about:blank\");\n",
    );
    let sys = TempDir::new("sysroot");
    sys.write(
        "etc/pkcs11/modules/cpscard.module",
        &format!("module: {}\n", module.display()),
    );
    (home, sys)
}

fn doctor(home: &TempDir, sys: &TempDir, module: &std::path::Path, card: &[&str]) -> (i32, Value) {
    doctor_env(home, sys, module, card, &[])
}

/// [`doctor`] with more environment variables.
fn doctor_env(
    home: &TempDir,
    sys: &TempDir,
    module: &std::path::Path,
    card: &[&str],
    env: &[(&str, &std::path::Path)],
) -> (i32, Value) {
    let module = module.to_str().unwrap();
    let sysroot = sys.path().to_str().unwrap();
    // the card options are global: after the command, with doctor's own (`--now`)
    let mut args = vec!["doctor", "--json", "--module", module, "--sysroot", sysroot];
    args.extend_from_slice(card);
    let o = cmd(home.path())
        .envs(env.iter().copied())
        .args(&args)
        .output()
        .unwrap();
    let doc = json_out(&o);
    assert_schema("doctor", &doc);
    (o.status.code().unwrap(), doc)
}

fn checks<'a>(doc: &'a Value, id: &str) -> Vec<&'a Value> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

fn one<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let c = checks(doc, id);
    assert_eq!(c.len(), 1, "{id}: {c:#?}");
    c[0]
}

fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn healthy_cps4_is_all_green() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let (code, doc) = doctor(&home, &sys, &module, &["--emulated", "cps4"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["summary"]["fail"], 0, "{doc:#}");
    assert_eq!(doc["summary"]["warn"], 0, "{:?}", statuses(&doc));
    assert_eq!(one(&doc, "pcsc.service")["status"], "skip");
    assert_eq!(one(&doc, "pcsc.reader")["details"]["pinpad"], false);
    let card = one(&doc, "card.present");
    assert_eq!(card["status"], "ok");
    let info = card_json("cps4", "cps");
    assert_eq!(card["details"]["serial"], info["serial"]);
    assert_eq!(card["details"]["label"], info["label"]);
    assert_eq!(card["details"]["generation"], "cps4");
    let certs = checks(&doc, "card.certificate");
    assert_eq!(certs.len(), 2);
    for c in &certs {
        assert_eq!(c["status"], "ok");
        assert_eq!(c["details"]["not_after"], info["not_after"]);
        assert!(c["details"]["days_left"].as_i64().unwrap() > 0);
    }
    let pin = one(&doc, "card.pin");
    assert_eq!(pin["details"]["tries_left"], 3);
    assert_eq!(one(&doc, "card.puk")["details"]["tries_left"], 10);
    assert_eq!(one(&doc, "card.tls")["details"]["tls13"], true);
    let load = one(&doc, "module.load");
    assert_eq!(load["status"], "ok", "{load:#}");
    assert!(load["details"]["info"]["version"]
        .as_str()
        .unwrap()
        .starts_with("2."));
    assert_eq!(one(&doc, "firefox.registration")["status"], "ok");
    assert_eq!(one(&doc, "p11kit.registration")["status"], "ok");
    assert_eq!(one(&doc, "firefox.tls_version_max")["status"], "ok");
    assert_eq!(one(&doc, "clock")["status"], "ok");
}

#[test]
fn human_output_one_line_per_check_with_fixes() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let o = run(
        home.path(),
        &[
            "--emulated",
            "cps3",
            "--card",
            "cps-expired",
            "doctor",
            "--module",
            module.to_str().unwrap(),
            "--sysroot",
            sys.path().to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(9), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("✗ signature certificate EXPIRED on 2023-01-01 (")
            && out.contains(" days ago)"),
        "{out}"
    );
    assert!(
        out.contains("    → this card can no longer authenticate or sign"),
        "{out}"
    );
    assert!(out.contains("✓ PIN: 3 of 3 tries left"), "{out}");
    assert!(out.contains("! CPS3: no RSA-PSS"), "{out}");
    assert!(out.contains("security.tls.version.max to 3"), "{out}");
    assert!(out.contains("problems"), "{out}");
    // French
    let o = cmd(home.path())
        .env("LANG", "fr_FR.UTF-8")
        .args([
            "--emulated",
            "cps3",
            "doctor",
            "--module",
            module.to_str().unwrap(),
            "--sysroot",
            sys.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        out.contains("✓ code porteur : 3 essais restants sur 3"),
        "{out}"
    );
    assert!(out.contains("CPS3 : pas de RSA-PSS"), "{out}");
}

#[test]
fn cps3_gets_the_tls12_advice() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let (code, doc) = doctor(&home, &sys, &module, &["--emulated", "cps3"]);
    assert_eq!(code, 0, "a warning is not a failure: {doc:#}");
    let tls = one(&doc, "card.tls");
    assert_eq!(tls["status"], "warn");
    assert_eq!(tls["details"]["tls13"], false);
    assert!(tls["fix"]
        .as_str()
        .unwrap()
        .contains("security.tls.version.max"));
    // a profile capped to TLS 1.2 is right for a CPS3, needless for a CPS4
    home.write(
        ".mozilla/firefox/abcd.default-esr/user.js",
        "user_pref(\"security.tls.version.max\", 3);\n",
    );
    let (_, doc) = doctor(&home, &sys, &module, &["--emulated", "cps3"]);
    let pref = one(&doc, "firefox.tls_version_max");
    assert_eq!(pref["status"], "ok");
    assert_eq!(pref["details"]["security.tls.version.max"], 3);
    let (_, doc) = doctor(&home, &sys, &module, &["--emulated", "cps4"]);
    assert_eq!(one(&doc, "firefox.tls_version_max")["status"], "warn");
}

#[test]
fn no_pcscd() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let (code, doc) = doctor(&home, &sys, &module, &[]);
    assert_eq!(code, 9);
    let c = one(&doc, "pcsc.service");
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("pcscd"), "{c:#}");
    // the rest of the chain is still checked
    assert_eq!(one(&doc, "module.load")["status"], "ok");
    assert_eq!(one(&doc, "firefox.registration")["status"], "ok");
}

#[test]
fn blocked_pin_and_low_counters_use_no_try() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let img = home.join("card.json");
    let card = ["--emulated", "cps4", "--image", img.to_str().unwrap()];
    let (code, _) = doctor(&home, &sys, &module, &card);
    assert_eq!(code, 0);
    let mut v = image(&img);
    v["counters"]["pin_tries"] = json!(0);
    set_image(&img, &v);
    let (code, doc) = doctor(&home, &sys, &module, &card);
    assert_eq!(code, 9);
    let pin = one(&doc, "card.pin");
    assert_eq!(pin["status"], "fail");
    assert_eq!(pin["details"]["state"], "blocked");
    assert!(pin["fix"]
        .as_str()
        .unwrap()
        .contains("cps-tool pin unblock"));
    // low counters: warnings, and the doctor never spends a try
    v["counters"]["pin_tries"] = json!(1);
    v["counters"]["puk_tries"] = json!(4);
    set_image(&img, &v);
    for _ in 0..2 {
        let (code, doc) = doctor(&home, &sys, &module, &card);
        assert_eq!(code, 0);
        assert_eq!(one(&doc, "card.pin")["status"], "warn");
        assert_eq!(one(&doc, "card.pin")["details"]["tries_left"], 1);
        assert_eq!(one(&doc, "card.puk")["status"], "warn");
        assert_eq!(one(&doc, "card.puk")["details"]["tries_left"], 4);
    }
    assert_eq!(image(&img)["counters"]["pin_tries"], 1);
    assert_eq!(image(&img)["counters"]["puk_tries"], 4);
    v["counters"]["puk_tries"] = json!(0);
    set_image(&img, &v);
    let (_, doc) = doctor(&home, &sys, &module, &card);
    assert_eq!(one(&doc, "card.puk")["status"], "fail");
}

#[test]
fn expired_certificates() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    for generation in GENERATIONS {
        let (code, doc) = doctor(
            &home,
            &sys,
            &module,
            &["--emulated", generation, "--card", "cps-expired"],
        );
        assert_eq!(code, 9);
        let certs = checks(&doc, "card.certificate");
        assert_eq!(certs.len(), 2);
        for c in certs {
            assert_eq!(c["status"], "fail");
            assert!(c["details"]["days_left"].as_i64().unwrap() < 0);
            assert_eq!(c["details"]["not_after"], "2023-01-01T00:00:00Z");
        }
    }
}

#[test]
fn unknown_card_and_faults() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let card_status = |faults: &[&str]| {
        let mut args = vec!["--emulated", "cps4"];
        for f in faults {
            args.push("--emulated-fault");
            args.push(f);
        }
        let (code, doc) = doctor(&home, &sys, &module, &args);
        (code, doc)
    };
    // a non-CPS ATR
    let (code, doc) = card_status(&["atr=3B8F8001804F0CA000000306030001000000006A"]);
    assert_eq!(code, 9);
    let c = one(&doc, "card.present");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["details"]["recognized"], false);
    assert!(c["fix"].as_str().unwrap().contains("CPS card"));
    assert!(checks(&doc, "card.pin").is_empty());
    // the card pulled out while it is read
    let (code, doc) = card_status(&["remove-after=3"]);
    assert_eq!(code, 9);
    let c = one(&doc, "card.present");
    assert_eq!(c["status"], "fail");
    assert!(
        c["fix"].as_str().unwrap().contains("insert the card again"),
        "{c:#}"
    );
    // reset by another application while it is read: the driver reconnects, the doctor goes on
    let (code, doc) = card_status(&["reset-after=2"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(one(&doc, "card.present")["status"], "ok");
    assert_eq!(one(&doc, "card.pin")["details"]["tries_left"], 3);
    // odd status words: on every READ BINARY (the card cannot be read), on one APDU (the
    // driver's first SELECT has a fallback: the doctor still concludes), on every VERIFY
    let (code, doc) = card_status(&["status-for-ins=B0:6F00"]);
    assert_eq!(code, 9);
    assert_eq!(one(&doc, "card.present")["status"], "fail");
    let (_, doc) = card_status(&["status-at=1:6F00"]);
    assert!(!checks(&doc, "card.present").is_empty());
    let (code, doc) = card_status(&["status-for-ins=20:6F00"]);
    assert_eq!(code, 9);
    assert_eq!(one(&doc, "card.present")["status"], "ok");
    assert_eq!(one(&doc, "card.pin")["status"], "fail");
    assert_eq!(one(&doc, "card.puk")["status"], "fail");
    // no card in the reader
    let (code, doc) = card_status(&["insert-after=60000"]);
    assert_eq!(code, 9);
    let c = one(&doc, "card.present");
    assert!(
        c["fix"].as_str().unwrap().contains("insert your CPS card"),
        "{c:#}"
    );
    // faults of signing operations do not concern the doctor (it signs nothing), nor latency
    let (code, doc) = card_status(&[
        "corrupt-signature",
        "pin-per-signature",
        "latency=realistic",
    ]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn broken_registrations() {
    let module = built_module();
    let home = TempDir::new("home-broken");
    let sys = TempDir::new("sysroot-broken");
    let profile = ".mozilla/firefox/x1.default";
    // a profile without our module, with the old Cryptolib
    home.write(
        &format!("{profile}/pkcs11.txt"),
        "library=\nname=NSS Internal PKCS #11 Module\n\nlibrary=/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so\nname=cps3\n",
    );
    home.write(
        &format!("{profile}/prefs.js"),
        "user_pref(\"security.default_personal_cert\", \"Select Automatically\");\n",
    );
    // a second profile registering us twice, once with a library that is gone
    home.write(
        ".mozilla/firefox/y2.work/pkcs11.txt",
        &format!(
            "library={}\nname=CPS\n\nlibrary=/gone/libcps_pkcs11.so\nname=CPS old\n\nlibrary=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\nname=OpenSC\n",
            module.display()
        ),
    );
    home.write(
        ".pki/nssdb/pkcs11.txt",
        "library=\nname=NSS Internal PKCS #11 Module\n",
    );
    sys.write(
        "usr/lib/mozilla/pkcs11-modules/cps3.json",
        "{\"name\":\"cps3\",\"description\":\"Module de sécurité CPS\",\"type\":\"pkcs11\",\"path\":\"/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so\",\"allowed_extensions\":[\"CPS2ter-2020_Firefox@asipsante.fr\"]}",
    );
    let (code, doc) = doctor(&home, &sys, &module, &["--emulated", "cps4"]);
    assert_eq!(code, 9);
    let regs = checks(&doc, "firefox.registration");
    let x1: Vec<_> = regs
        .iter()
        .filter(|c| c["message"].as_str().unwrap().contains("x1.default"))
        .collect();
    assert!(
        x1.iter().any(|c| c["status"] == "fail"
            && c["message"].as_str().unwrap().contains("not registered")
            && c["fix"].as_str().unwrap().contains(&format!(
                "modutil -dbdir sql:{}",
                home.join(profile).display()
            ))),
        "{x1:#?}"
    );
    assert!(
        x1.iter().any(|c| c["status"] == "fail"
            && c["message"].as_str().unwrap().contains("old Cryptolib")
            && c["fix"].as_str().unwrap().contains("-delete \"cps3\"")),
        "{x1:#?}"
    );
    let y2: Vec<_> = regs
        .iter()
        .filter(|c| c["message"].as_str().unwrap().contains("y2.work"))
        .collect();
    assert!(y2.iter().any(|c| c["status"] == "ok"), "{y2:#?}");
    assert!(
        y2.iter()
            .any(|c| c["status"] == "fail" && c["details"]["library"] == "/gone/libcps_pkcs11.so"),
        "{y2:#?}"
    );
    assert!(
        y2.iter()
            .any(|c| c["status"] == "fail" && c["details"]["count"] == 2),
        "{y2:#?}"
    );
    // OpenSC drives the same CPS3 cards: worth knowing, with the command that removes it
    assert!(
        y2.iter().any(|c| c["status"] == "warn"
            && c["details"]["name"] == "OpenSC"
            && c["fix"].as_str().unwrap().contains("-delete \"OpenSC\"")),
        "{y2:#?}"
    );
    assert_eq!(one(&doc, "nssdb.registration")["status"], "warn");
    assert_eq!(one(&doc, "firefox.manifest")["status"], "fail");
    assert_eq!(one(&doc, "p11kit.registration")["status"], "warn");
    // a policy that adds the module registers it in every profile; a broken policy is a failure
    sys.write(
        "etc/firefox/policies/policies.json",
        &json!({"policies": {"SecurityDevices": {"Add": {"CPS": module}}, "SSLVersionMax": "tls1.2"}}).to_string(),
    );
    let (_, doc) = doctor(&home, &sys, &module, &["--emulated", "cps3"]);
    let regs = checks(&doc, "firefox.registration");
    assert!(
        regs.iter()
            .any(|c| c["status"] == "ok" && c["details"]["policy"].is_string()),
        "{regs:#?}"
    );
    assert!(checks(&doc, "firefox.tls_version_max")
        .iter()
        .all(|c| c["details"]["security.tls.version.max"] == 3));
    sys.write("etc/firefox/policies/policies.json", "{ \"policies\": ");
    let (_, doc) = doctor(&home, &sys, &module, &["--emulated", "cps4"]);
    assert_eq!(one(&doc, "firefox.policy")["status"], "fail");
}

#[test]
fn module_missing_or_broken() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let missing = home.join("nowhere/libcps_pkcs11.so");
    let (code, doc) = doctor(&home, &sys, &missing, &["--emulated", "cps4"]);
    assert_eq!(code, 9);
    assert_eq!(one(&doc, "module.file")["status"], "fail");
    let broken = home.write("broken/libcps_pkcs11.so", "not an ELF file");
    let (code, doc) = doctor(&home, &sys, &broken, &["--emulated", "cps4"]);
    assert_eq!(code, 9);
    let c = one(&doc, "module.load");
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("reinstall"));
}

#[test]
fn pinpad_reader_is_reported_and_its_keypad_not_used() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let stats_file = home.join("stats.json");
    let stats_spec = format!("stats={}", stats_file.display());
    let card = [
        "--emulated",
        "cps4",
        "--emulated-fault",
        "pinpad=1234",
        "--emulated-fault",
        &stats_spec,
    ];
    let (code, doc) = doctor(&home, &sys, &module, &card);
    assert_eq!(code, 0, "{doc:#}");
    let reader = one(&doc, "pcsc.reader");
    assert_eq!(reader["details"]["pinpad"], true, "{reader:#}");
    assert_eq!(reader["details"]["emulated"], true);
    assert!(
        reader["message"]
            .as_str()
            .unwrap()
            .contains("with pinpad (pinpad: the PIN is typed on the reader)"),
        "{reader:#}"
    );
    // the code scripted on the keypad is never asked for: the counters are read, not tried
    assert_eq!(verifies_with_code(&stats(&stats_file)), 0);
    assert_eq!(one(&doc, "card.pin")["details"]["tries_left"], 3);
    // a pinpad reader with a foreign card: the reader line still says pinpad
    let (code, doc) = doctor(
        &home,
        &sys,
        &module,
        &[
            "--emulated",
            "cps3",
            "--emulated-fault",
            "pinpad=",
            "--emulated-fault",
            "atr=3B8F8001804F0CA000000306030001000000006A",
        ],
    );
    assert_eq!(code, 9);
    assert_eq!(one(&doc, "pcsc.reader")["details"]["pinpad"], true);
    assert_eq!(one(&doc, "card.present")["details"]["recognized"], false);
}

/// The documents `tests/e2e/doctor_pcsc.sh` kept (through pcscd + vpcd): each valid against the
/// schema, with the statuses of its case. Run by that script (`--ignored`), with
/// `CPSCARD_DOCTOR_E2E_DIR` naming the directory.
#[test]
#[ignore = "run by tests/e2e/doctor_pcsc.sh"]
fn e2e_documents() {
    let dir = std::env::var_os("CPSCARD_DOCTOR_E2E_DIR")
        .expect("CPSCARD_DOCTOR_E2E_DIR: run by tests/e2e/doctor_pcsc.sh");
    let dir = std::path::Path::new(&dir);
    let doc = |name: &str| {
        let path = dir.join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", path.display()));
        assert_schema("doctor", &doc);
        doc
    };
    let reader = "Virtual PCD 00 00";
    // no pcscd: the service fails with the command that starts it; the rest is still checked
    let d = doc("no_pcscd");
    assert_eq!(d["ok"], false);
    let c = one(&d, "pcsc.service");
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("pcscd"), "{c:#}");
    assert!(checks(&d, "pcsc.reader").is_empty());
    assert_eq!(one(&d, "module.load")["status"], "ok");
    // pcscd without any reader
    let d = doc("no_reader");
    assert_eq!(one(&d, "pcsc.service")["status"], "ok");
    let c = one(&d, "pcsc.reader");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(c["fix"].is_string());
    assert!(checks(&d, "card.present").is_empty());
    // the vpcd readers, no card: pinpad unknown, each reader empty, then the failure
    let d = doc("no_card");
    let readers = checks(&d, "pcsc.reader");
    assert_eq!(readers.len(), 2, "{readers:#?}");
    assert!(readers.iter().all(|r| r["status"] == "ok"
        && r["details"]["pinpad"].is_null()
        && r["details"]["emulated"] == false));
    let present = checks(&d, "card.present");
    assert_eq!(
        present.iter().filter(|c| c["status"] == "skip").count(),
        2,
        "{present:#?}"
    );
    let fail: Vec<_> = present.iter().filter(|c| c["status"] == "fail").collect();
    assert_eq!(fail.len(), 1, "{present:#?}");
    assert!(fail[0]["fix"].as_str().unwrap().contains("--wait"));
    // a card behind vpcd: healthy CPS4 (the `--wait` one too), CPS3 with the TLS 1.2 advice
    for (name, generation, warn) in [
        ("cps4", "cps4", 0),
        ("wait", "cps4", 0),
        ("cps3", "cps3", 1),
    ] {
        let d = doc(name);
        assert_eq!(d["ok"], true, "{name}: {d:#}");
        assert_eq!(d["summary"]["fail"], 0, "{name}: {:?}", statuses(&d));
        assert_eq!(d["summary"]["warn"], warn, "{name}: {:?}", statuses(&d));
        assert_eq!(one(&d, "pcsc.service")["status"], "ok");
        let ours: Vec<_> = checks(&d, "pcsc.reader")
            .into_iter()
            .filter(|r| r["details"]["reader"] == reader)
            .collect();
        assert_eq!(ours.len(), 1, "{name}");
        assert_eq!(ours[0]["details"]["pinpad"], false, "{name}");
        let present = checks(&d, "card.present");
        assert_eq!(present.len(), 2, "{name}: the second vpcd reader is empty");
        let card = present
            .iter()
            .find(|c| c["status"] == "ok")
            .unwrap_or_else(|| panic!("{name}: {present:#?}"));
        assert_eq!(card["details"]["reader"], reader);
        assert_eq!(card["details"]["generation"], generation);
        assert_eq!(
            card["details"]["serial"],
            card_json(generation, "cps")["serial"]
        );
        assert_eq!(checks(&d, "card.certificate").len(), 2);
        assert_eq!(one(&d, "card.pin")["details"]["tries_left"], 3);
        assert_eq!(one(&d, "card.puk")["details"]["tries_left"], 10);
        let tls = one(&d, "card.tls");
        assert_eq!(tls["details"]["tls13"], generation == "cps4", "{name}");
        assert_eq!(tls["status"], if warn == 0 { "ok" } else { "warn" });
    }
    // the p11-kit cases: p11-kit list-modules (program `p11-kit`) loads OpenSC, or fails on a
    // malformed file, exactly when the doctor says so
    for (name, loaded) in [
        ("plain", true),
        ("blank", false),
        ("disable_self", false),
        ("disable_other", true),
        ("enable_self", true),
        ("enable_other", false),
        ("enable_empty", false),
        ("user_only", false),
        ("malformed", false),
    ] {
        let path = dir.join(format!("p11kit_{name}.list"));
        let list =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rc = list
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("rc="))
            .unwrap_or("?");
        let listed = list.lines().any(|l| l.starts_with("opensc-pkcs11:"));
        let d = doc(&format!("p11kit_{name}"));
        let broken = checks(&d, "p11kit.config")
            .iter()
            .any(|c| c["status"] == "fail");
        assert_eq!(
            broken,
            rc != "0",
            "{name}: p11-kit exit {rc}: {list}\n{d:#}"
        );
        assert_eq!(listed, loaded, "p11-kit {name}: {list}");
        let opensc = checks(&d, "p11kit.conflict")
            .into_iter()
            .find(|c| c["details"]["kind"] == "opensc");
        let said = opensc.is_some_and(|c| {
            let programs = c["details"]["programs"].as_array().unwrap();
            let named = programs.iter().any(|p| p == "p11-kit");
            match c["details"]["loaded"].as_str().unwrap() {
                "everywhere" => true,
                "except" => !named,
                "only" => named,
                _ => false,
            }
        });
        // a malformed file: p11-kit loads nothing, the doctor says so and names OpenSC too
        assert_eq!(
            said && !broken,
            listed,
            "{name}: the doctor says {opensc:#?}, p11-kit {list}"
        );
        // loaded in some program: a warning, whichever they are; in none: fine
        if let Some(c) = opensc {
            let off = c["details"]["loaded"] == "nowhere";
            assert_eq!(
                c["status"],
                if off { "ok" } else { "warn" },
                "{name}: {c:#}"
            );
        } else {
            assert_eq!(name, "user_only", "{d:#}");
        }
    }
}

#[test]
fn wait_for_the_card() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let late = ["--emulated", "cps4", "--emulated-fault", "insert-after=500"];
    // without --wait: no card
    let (code, doc) = doctor(&home, &sys, &module, &late);
    assert_eq!(code, 9);
    assert_eq!(one(&doc, "card.present")["status"], "fail");
    // with it: the card is read once inserted, and nothing is printed on stderr (no terminal)
    let mut args = late.to_vec();
    args.push("--wait");
    let (code, doc) = doctor(&home, &sys, &module, &args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(one(&doc, "card.present")["status"], "ok");
    let o = run(
        home.path(),
        &[&args[..], &["doctor", "--module", module.to_str().unwrap()]].concat(),
    );
    assert_eq!(stderr(&o), "");
    assert_stdout_has(&o, "✓ PIN: 3 of 3 tries left");
}

/// The certificates against the clock (hidden `--now`: the doctor's clock): a clock behind the
/// start of validity, expiry in 17 days (a warning with its fix), expired the day before.
#[test]
fn clock_skew_and_expiry_against_the_clock() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let at = |now: &str| {
        let card = ["--emulated", "cps4", "--now", now];
        doctor(&home, &sys, &module, &card)
    };
    // 2023-06-01: the card's certificates (2024-01-01 .. 2029-01-01) are not valid yet
    let (code, doc) = at("1685577600");
    assert_eq!(code, 9, "{doc:#}");
    let clock = one(&doc, "clock");
    assert_eq!(clock["status"], "fail");
    assert_eq!(clock["details"]["now"], "2023-06-01T00:00:00Z");
    assert_eq!(clock["details"]["not_before"], "2024-01-01T00:00:00Z");
    assert!(
        clock["fix"].as_str().unwrap().contains("timedatectl"),
        "{clock:#}"
    );
    // 2028-12-15: 17 days left, a warning
    let (code, doc) = at("1860451200");
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(one(&doc, "clock")["status"], "ok");
    for c in checks(&doc, "card.certificate") {
        assert_eq!(c["status"], "warn", "{c:#}");
        assert_eq!(c["details"]["days_left"], 17);
        assert!(
            c["message"].as_str().unwrap().contains("in 17 days"),
            "{c:#}"
        );
        assert!(c["fix"].is_string());
    }
    // 2029-01-02: expired the day before
    let (code, doc) = at("1862006400");
    assert_eq!(code, 9);
    for c in checks(&doc, "card.certificate") {
        assert_eq!(c["status"], "fail", "{c:#}");
        assert_eq!(c["details"]["days_left"], -1);
        assert!(
            c["message"].as_str().unwrap().contains("(1 days ago)"),
            "{c:#}"
        );
    }
}

/// The schema is not a formality: documents a support tool could not rely on are refused.
#[test]
fn the_schema_refuses_broken_documents() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let (_, doc) = doctor(&home, &sys, &module, &["--emulated", "cps4"]);
    let index = |id: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["id"] == id)
            .unwrap()
    };
    let (reader, card, pin, p11) = (
        index("pcsc.reader"),
        index("card.present"),
        index("card.pin"),
        index("p11kit.registration"),
    );
    let at = |i: usize, path: &str| format!("/checks/{i}/{path}");
    // (what, JSON pointer, new value; None removes it)
    let broken = [
        (
            "pinpad not a boolean",
            at(reader, "details/pinpad"),
            Some(json!("yes")),
        ),
        ("no serial", at(card, "details/serial"), None),
        (
            "unknown generation",
            at(card, "details/generation"),
            Some(json!("cps2")),
        ),
        (
            "a failure without its fix",
            at(pin, "status"),
            Some(json!("fail")),
        ),
        (
            "tries left negative",
            at(pin, "details/tries_left"),
            Some(json!(-1)),
        ),
        ("unknown check id", at(pin, "id"), Some(json!("card.pin2"))),
        (
            "p11-kit: loaded neither everywhere, except, only nor nowhere",
            at(p11, "details/loaded"),
            Some(json!("sometimes")),
        ),
        (
            "p11-kit: our registration that is OpenSC's",
            at(p11, "details/kind"),
            Some(json!("opensc")),
        ),
        (
            "p11-kit: loaded everywhere, yet programs named",
            at(p11, "details/programs"),
            Some(json!(["firefox"])),
        ),
        (
            "p11-kit: no files",
            at(p11, "details/files"),
            Some(json!([])),
        ),
    ];
    for (what, pointer, value) in broken {
        let mut d = doc.clone();
        match value {
            Some(v) => *d.pointer_mut(&pointer).unwrap() = v,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let parent = d.pointer_mut(parent).unwrap().as_object_mut().unwrap();
                parent.remove(key).unwrap();
            }
        }
        assert!(!schema_errors("doctor", &d).is_empty(), "{what}: accepted");
    }
}

/// What a p11-kit check of [`p11kit_module_files`] must say (`$H`: the HOME, `$S`: the sysroot).
#[derive(Default)]
struct P11kitWant {
    id: &'static str,
    status: &'static str,
    /// `details.name` of a module check, `details.path` of a config check.
    name: &'static str,
    loaded: &'static str,
    programs: &'static [&'static str],
    set_by: &'static str,
    files: &'static [&'static str],
    /// In the message.
    text: &'static str,
    /// In the fix.
    fix: &'static str,
}

/// p11-kit's module files as pkcs11.conf(5) has them (what `p11-kit list-modules` does with
/// each of these was tried on p11-kit 0.24): user, `/etc/pkcs11/modules`,
/// `/usr/share/p11-kit/modules`, files of one name merged key by key, the more precedent one
/// winning; `module:` empty or `enable-in:` empty: loaded nowhere; `enable-in:` before
/// `disable-in:`; `user-config:`; `XDG_CONFIG_HOME`; a line without colon. Each case on top of
/// [`healthy_setup`] (our `cpscard.module` in `/etc/pkcs11/modules`); every `p11kit.*` check
/// of the document is one of the case's.
#[test]
fn p11kit_module_files() {
    let module = built_module();
    const OPENSC_PKG: (&str, &str) = (
        "$S/usr/share/p11-kit/modules/opensc-pkcs11.module",
        "# This file describes how to load the opensc module\nmodule: opensc-pkcs11.so\n",
    );
    const USER_OPENSC: &str = "$H/.config/pkcs11/modules/opensc-pkcs11.module";
    let ours = || P11kitWant {
        id: "p11kit.registration",
        status: "ok",
        name: "cpscard",
        loaded: "everywhere",
        files: &["$S/etc/pkcs11/modules/cpscard.module"],
        text: "p11-kit: module registered by $S/etc/pkcs11/modules/cpscard.module",
        ..Default::default()
    };
    let opensc = |status, loaded, set_by| P11kitWant {
        id: "p11kit.conflict",
        status,
        name: "opensc-pkcs11",
        loaded,
        set_by,
        ..Default::default()
    };
    // (what, files, XDG_CONFIG_HOME=$H/xdg, the p11kit checks)
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        bool,
        Vec<P11kitWant>,
    );
    let cases: Vec<Case> = vec![
        (
            "OpenSC from Debian's opensc-pkcs11 package: a warning, how to keep it out",
            vec![OPENSC_PKG],
            false,
            vec![
                ours(),
                P11kitWant {
                    files: &["$S/usr/share/p11-kit/modules/opensc-pkcs11.module"],
                    text: "p11-kit: $S/usr/share/p11-kit/modules/opensc-pkcs11.module loads OpenSC (opensc-pkcs11.so) in every program; it drives CPS cards too",
                    fix: "for your account: create $H/.config/pkcs11/modules/opensc-pkcs11.module with the line `module:` and nothing after it",
                    ..opensc("warn", "everywhere", "")
                },
            ],
        ),
        (
            "OpenSC by its full path, an admin's file in /etc: the fix removes it",
            vec![(
                "$S/etc/pkcs11/modules/opensc.module",
                "module: /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\n",
            )],
            false,
            vec![
                ours(),
                P11kitWant {
                    name: "opensc",
                    fix: "for every account: `sudo rm $S/etc/pkcs11/modules/opensc.module`",
                    ..opensc("warn", "everywhere", "")
                },
            ],
        ),
        (
            "disabled for everything: the user's file of the same name, `module:` empty",
            vec![OPENSC_PKG, (USER_OPENSC, "module:\n")],
            false,
            vec![
                ours(),
                P11kitWant {
                    files: &[USER_OPENSC, "$S/usr/share/p11-kit/modules/opensc-pkcs11.module"],
                    text: "but `module:` in $H/.config/pkcs11/modules/opensc-pkcs11.module disables it in every program",
                    ..opensc("ok", "nowhere", USER_OPENSC)
                },
            ],
        ),
        (
            "disabled for everything: `enable-in:` with no program",
            vec![(
                "$S/etc/pkcs11/modules/opensc.module",
                "module: opensc-pkcs11.so\nenable-in:\n",
            )],
            false,
            vec![
                ours(),
                P11kitWant {
                    name: "opensc",
                    ..opensc("ok", "nowhere", "$S/etc/pkcs11/modules/opensc.module")
                },
            ],
        ),
        (
            "the user's override keeps the system file's module: and disables it in two programs",
            vec![OPENSC_PKG, (USER_OPENSC, "disable-in: firefox, p11-kit-proxy\n")],
            false,
            vec![
                ours(),
                P11kitWant {
                    programs: &["firefox", "p11-kit-proxy"],
                    text: "in every program but firefox, p11-kit-proxy (disable-in, in $H/.config/pkcs11/modules/opensc-pkcs11.module)",
                    ..opensc("warn", "except", USER_OPENSC)
                },
            ],
        ),
        (
            "enable-in: decides, disable-in: is then not looked at",
            vec![(
                OPENSC_PKG.0,
                "module: opensc-pkcs11.so\nenable-in: seahorse ssh\ndisable-in: seahorse\n",
            )],
            false,
            vec![
                ours(),
                P11kitWant {
                    programs: &["seahorse", "ssh"],
                    text: "in seahorse, ssh only (enable-in,",
                    ..opensc("warn", "only", OPENSC_PKG.0)
                },
            ],
        ),
        (
            "/etc/pkcs11/modules wins over /usr/share/p11-kit/modules, key by key",
            vec![
                (OPENSC_PKG.0, "module: opensc-pkcs11.so\ndisable-in: p11-kit-proxy\n"),
                ("$S/etc/pkcs11/modules/opensc-pkcs11.module", "disable-in: firefox\n"),
            ],
            false,
            vec![
                ours(),
                P11kitWant {
                    programs: &["firefox"],
                    files: &["$S/etc/pkcs11/modules/opensc-pkcs11.module", OPENSC_PKG.0],
                    ..opensc("warn", "except", "$S/etc/pkcs11/modules/opensc-pkcs11.module")
                },
            ],
        ),
        (
            "`user-config: none` in /etc/pkcs11/pkcs11.conf: the user's override does not count",
            vec![
                OPENSC_PKG,
                (USER_OPENSC, "module:\n"),
                ("$S/etc/pkcs11/pkcs11.conf", "user-config: none\n"),
            ],
            false,
            vec![
                ours(),
                P11kitWant {
                    files: &[OPENSC_PKG.0],
                    ..opensc("warn", "everywhere", "")
                },
                P11kitWant {
                    id: "p11kit.config",
                    status: "ok",
                    name: "$S/etc/pkcs11/pkcs11.conf",
                    text: "`user-config: none`",
                    ..Default::default()
                },
            ],
        ),
        (
            "XDG_CONFIG_HOME set: the user's files are there, not in ~/.config",
            vec![
                OPENSC_PKG,
                ("$H/xdg/pkcs11/modules/opensc-pkcs11.module", "module:\n"),
                ("$H/.config/pkcs11/modules/cpscard.module", "module:\n"),
            ],
            true,
            vec![
                ours(),
                opensc("ok", "nowhere", "$H/xdg/pkcs11/modules/opensc-pkcs11.module"),
            ],
        ),
        (
            "our module disabled by the user's file of the same name",
            vec![("$H/.config/pkcs11/modules/cpscard.module", "module:\n")],
            false,
            vec![P11kitWant {
                id: "p11kit.registration",
                status: "warn",
                name: "cpscard",
                loaded: "nowhere",
                set_by: "$H/.config/pkcs11/modules/cpscard.module",
                text: "registers the cpscard module, but `module:` in $H/.config/pkcs11/modules/cpscard.module disables it in every program",
                fix: "remove the `module:` line of $H/.config/pkcs11/modules/cpscard.module",
                ..Default::default()
            }],
        ),
        (
            "our module kept out of p11-kit-proxy: worth knowing",
            vec![(
                "$H/.config/pkcs11/modules/cpscard.module",
                "disable-in: p11-kit-proxy\n",
            )],
            false,
            vec![P11kitWant {
                id: "p11kit.registration",
                status: "warn",
                name: "cpscard",
                loaded: "except",
                programs: &["p11-kit-proxy"],
                set_by: "$H/.config/pkcs11/modules/cpscard.module",
                text: "but not loaded in p11-kit-proxy",
                ..Default::default()
            }],
        ),
        (
            "the old Cryptolib in the user's own file: a failure, the fix is to remove it",
            vec![(
                "$H/.config/pkcs11/modules/cps3.module",
                "module: /opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so\n",
            )],
            false,
            vec![
                ours(),
                P11kitWant {
                    id: "p11kit.conflict",
                    status: "fail",
                    name: "cps3",
                    loaded: "everywhere",
                    text: "loads the old Cryptolib (/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so) in every program",
                    fix: "$H/.config/pkcs11/modules/cps3.module is your own file: remove it",
                    ..Default::default()
                },
            ],
        ),
        (
            "a line without colon: p11-kit loads nothing; said, and the doctor goes on",
            vec![
                OPENSC_PKG,
                (
                    "$H/.config/pkcs11/modules/broken.module",
                    "# mine\nmodule: x.so\nthis line has no colon\n",
                ),
            ],
            false,
            vec![
                P11kitWant {
                    id: "p11kit.config",
                    status: "fail",
                    name: "$H/.config/pkcs11/modules/broken.module",
                    text: "line 3 of $H/.config/pkcs11/modules/broken.module is not `name: value` (this line has no colon); p11-kit then loads no module at all",
                    fix: "correct or remove line 3 of $H/.config/pkcs11/modules/broken.module",
                    ..Default::default()
                },
                ours(),
                opensc("warn", "everywhere", ""),
            ],
        ),
        (
            "not module files: another extension, a directory; modules that are not for CPS cards",
            vec![
                (
                    "$S/usr/share/p11-kit/modules/opensc-pkcs11.module.dpkg-old",
                    "module: opensc-pkcs11.so\n",
                ),
                ("$S/etc/pkcs11/modules/dir.module/opensc.module", "module: opensc-pkcs11.so\n"),
                (
                    "$S/usr/share/p11-kit/modules/p11-kit-trust.module",
                    "module: p11-kit-trust.so\ndisable-in: p11-kit-proxy\n",
                ),
            ],
            false,
            vec![ours()],
        ),
    ];
    for (what, files, xdg, want) in cases {
        let (home, sys) = healthy_setup(&module);
        let expand = |s: &str| {
            s.replace("$H", home.path().to_str().unwrap())
                .replace("$S", sys.path().to_str().unwrap())
        };
        for (path, text) in &files {
            let path = expand(path);
            std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        let xdg_dir = home.join("xdg");
        let env: Vec<(&str, &std::path::Path)> = if xdg {
            vec![("XDG_CONFIG_HOME", &xdg_dir)]
        } else {
            vec![]
        };
        let (code, doc) = doctor_env(&home, &sys, &module, &["--emulated", "cps4"], &env);
        let got: Vec<&Value> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"].as_str().unwrap().starts_with("p11kit."))
            .collect();
        assert_eq!(got.len(), want.len(), "{what}: {got:#?}");
        for w in &want {
            let key = if w.id == "p11kit.config" {
                "path"
            } else {
                "name"
            };
            let c = got
                .iter()
                .find(|c| c["id"] == w.id && c["details"][key] == expand(w.name).as_str())
                .unwrap_or_else(|| panic!("{what}: no {} {}: {got:#?}", w.id, w.name));
            assert_eq!(c["status"], w.status, "{what}: {c:#}");
            let message = c["message"].as_str().unwrap();
            assert!(message.contains(&expand(w.text)), "{what}: {c:#}");
            if !w.fix.is_empty() {
                let fix = c["fix"].as_str().unwrap_or_default();
                assert!(fix.contains(&expand(w.fix)), "{what}: {c:#}");
            }
            if w.id == "p11kit.config" {
                continue;
            }
            let d = &c["details"];
            assert_eq!(d["loaded"], w.loaded, "{what}: {c:#}");
            assert_eq!(d["programs"], json!(w.programs), "{what}: {c:#}");
            let set_by = (!w.set_by.is_empty()).then(|| expand(w.set_by));
            assert_eq!(d["set_by"], json!(set_by), "{what}: {c:#}");
            if !w.files.is_empty() {
                let files: Vec<String> = w.files.iter().map(|f| expand(f)).collect();
                assert_eq!(d["files"], json!(files), "{what}: {c:#}");
            }
        }
        // a failure is the exit code; the rest of the chain is still checked
        let fails = want.iter().any(|w| w.status == "fail");
        assert_eq!(
            code,
            if fails { 9 } else { 0 },
            "{what}: {:?}",
            statuses(&doc)
        );
        assert_eq!(one(&doc, "firefox.registration")["status"], "ok", "{what}");
        assert_eq!(one(&doc, "card.pin")["status"], "ok", "{what}");
    }
}

/// The OpenSC warning as a user reads it, in English and French, the fix under it.
#[test]
fn p11kit_opensc_human_and_french() {
    let module = built_module();
    let (home, sys) = healthy_setup(&module);
    let file = sys.write(
        "usr/share/p11-kit/modules/opensc-pkcs11.module",
        "module: opensc-pkcs11.so\n",
    );
    let user = home.join(".config/pkcs11/modules/opensc-pkcs11.module");
    let args = [
        "--emulated",
        "cps4",
        "doctor",
        "--module",
        module.to_str().unwrap(),
        "--sysroot",
        sys.path().to_str().unwrap(),
    ];
    let o = run(home.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_stdout_has(
        &o,
        &format!(
            "! p11-kit: {} loads OpenSC (opensc-pkcs11.so) in every program; it drives CPS cards too, so GnuTLS programs and p11-kit-proxy users see the card twice, driven by two modules\n    → for your account: create {} with the line `module:`",
            file.display(),
            user.display()
        ),
    );
    assert_stdout_has(&o, "✓ p11-kit: module registered by ");
    assert_stdout_has(&o, " ok, 1 warnings, 0 problems");
    let o = cmd(home.path())
        .env("LANG", "fr_FR.UTF-8")
        .args(args)
        .output()
        .unwrap();
    assert_stdout_has(
        &o,
        &format!(
            "! p11-kit : {} charge OpenSC (opensc-pkcs11.so) dans tous les programmes ; il pilote aussi les cartes CPS",
            file.display()
        ),
    );
    assert_stdout_has(
        &o,
        &format!("    → pour votre compte : créez {}", user.display()),
    );
}
