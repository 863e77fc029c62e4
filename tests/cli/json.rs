//! `--json` outputs validated against `docs/schema/*.json` (the doctor's in tests/cli/doctor.rs),
//! and the JSON error document a failing `--json` command prints.

use crate::cli_common;

use cli_common::*;

#[test]
fn readers_json() {
    let home = TempDir::new("json-readers");
    for (generation, kind) in [("cps3", "cps3"), ("cps4", "cps4")] {
        let o = run(
            home.path(),
            &["--emulated", generation, "readers", "--json"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let doc = json_out(&o);
        assert_schema("readers", &doc);
        let r = &doc["readers"][0];
        assert_eq!(r["emulated"], true);
        assert_eq!(r["kind"], kind);
        assert_eq!(r["generation"], generation);
        assert!(r["name"].as_str().unwrap().contains("EMULATED"));
    }
    // a foreign ATR: present, kind unknown
    let o = run(
        home.path(),
        &[
            "--emulated",
            "cps4",
            "--emulated-fault",
            "atr=3B00",
            "readers",
            "--json",
        ],
    );
    let doc = json_out(&o);
    assert_schema("readers", &doc);
    assert_eq!(doc["readers"][0]["kind"], serde_json::Value::Null);
    assert_eq!(doc["readers"][0]["atr"], "3B00");
}

#[test]
fn errors_are_json_documents_too() {
    let home = TempDir::new("json-errors");
    // no pcscd
    let o = run(home.path(), &["readers", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let doc = json_out(&o);
    assert_schema("error", &doc);
    assert_eq!(doc["error"]["kind"], "no_service");
    assert_eq!(doc["error"]["code"], 3);
    assert!(doc["error"]["fix"].as_str().unwrap().contains("pcscd"));
    assert!(stderr(&o).contains("the PC/SC service is not running"));
    // no card (an emulated card not inserted yet)
    let o = run(
        home.path(),
        &[
            "--emulated",
            "cps3",
            "--emulated-fault",
            "insert-after=60000",
            "readers",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(5));
    let doc = json_out(&o);
    assert_schema("error", &doc);
    assert_eq!(doc["error"]["kind"], "no_card");
}

#[test]
fn wait_for_a_card() {
    let home = TempDir::new("json-wait");
    let o = run(
        home.path(),
        &[
            "--emulated",
            "cps4",
            "--emulated-fault",
            "insert-after=300",
            "--wait",
            "readers",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_schema("readers", &json_out(&o));
    // stderr is not a terminal here: no progress output at all
    assert_eq!(stderr(&o), "");
}
