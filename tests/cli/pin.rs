//! PIN commands through the built binary, on an emulated card whose image keeps the tries
//! counters between runs (`--image`): wrong PINs count down and say so, the third blocks
//! (exit 8, with the way out), the PUK unblocks, codes of the wrong format never reach the
//! card, and a pinentry program is spoken to in the user's language.

use crate::cli_common;

use std::path::PathBuf;

use cli_common::*;

fn card(generation: &'static str) -> EmuCard {
    EmuCard::new("pin", generation, "cps")
}

fn pin_status(card: &EmuCard) -> serde_json::Value {
    let o = card.run(&[], &["pin", "status", "--json"]);
    assert_code(&o, 0);
    let doc = json_out(&o);
    assert_schema("pin-status", &doc);
    doc
}

fn pin_cycle(generation: &'static str) {
    let card = card(generation);
    let doc = pin_status(&card);
    assert_eq!(doc["pin"]["tries_left"], 3);
    assert_eq!(doc["pin"]["state"], "not_verified");
    assert_eq!(doc["puk"]["tries_left"], 10);
    let wrong = [("CPS_PIN", "0000")];
    let verify: &[&str] = &["pin", "verify"];
    card.play(&[
        // wrong, wrong: tries left shown and saved in the image
        step(&wrong, verify, 7)
            .err("PIN wrong, 2 tries left")
            .pin(2),
        step(&wrong, verify, 7).err("PIN wrong, 1 try left: one more wrong PIN blocks the card"),
        // `info` shows the count without using a try
        step(&[], &["info"], 0).out("1 of 3 tries left").pin(1),
        // third wrong: blocked, and the message says how to get out
        step(&wrong, verify, 8)
            .err("PIN blocked")
            .err("`cps-tool pin unblock`")
            .pin(0),
    ]);
    assert_eq!(pin_status(&card)["pin"]["state"], "blocked");

    // a blocked PIN is not even tried, right or wrong
    let msg = card.write("msg", b"hello");
    let sig = card.path("sig");
    let sign = [
        "sign",
        "--in",
        msg.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ];
    let (o, s) = card.run_counted(&[("CPS_PIN", "1234")], &sign);
    assert_code(&o, 8);
    assert_nothing_used(&s, "sign with a blocked PIN");
    // the JSON error document of a --json command
    let o = card.run(&[("CPS_PIN", "1234")], &["objects", "--login", "--json"]);
    assert_code(&o, 8);
    let doc = json_out(&o);
    assert_schema("error", &doc);
    assert_eq!(doc["error"]["kind"], "pin_blocked");
    assert_eq!(doc["error"]["pin"], "pin");

    let pin_file = card.home.write("pin.txt", "5678\n");
    let unblock: &[&str] = &["pin", "unblock"];
    let change: &[&str] = &["pin", "change"];
    card.play(&[
        // wrong PUK: its own count
        step(
            &[("CPS_PUK", "00000000"), ("CPS_NEW_PIN", "4321")],
            unblock,
            7,
        )
        .err("PUK wrong, 9 tries left")
        .pin(0)
        .puk(9),
        // right PUK: a new PIN with its 3 tries
        step(
            &[("CPS_PUK", "12345678"), ("CPS_NEW_PIN", "4321")],
            unblock,
            0,
        )
        .out("PIN unblocked and replaced; 3 tries")
        .pin(3),
        step(&[("CPS_PIN", "1234")], verify, 7),
        step(&[("CPS_PIN", "4321")], verify, 0)
            .out("PIN correct")
            .pin(3),
        step(&[("CPS_PIN", "4321")], &sign, 0),
        // change: the old PIN, then the new one
        step(&[("CPS_PIN", "4321"), ("CPS_NEW_PIN", "5678")], change, 0).out("PIN changed"),
        step(
            &[],
            &["pin", "verify", "--pin-file", pin_file.to_str().unwrap()],
            0,
        ),
        step(&[("CPS_PIN", "0000"), ("CPS_NEW_PIN", "1111")], change, 7).err("2 tries left"),
    ]);
}

#[test]
fn pin_counts_down_blocks_and_unblocks_cps3() {
    pin_cycle("cps3");
}

#[test]
fn pin_counts_down_blocks_and_unblocks_cps4() {
    pin_cycle("cps4");
}

#[test]
fn codes_of_the_wrong_format_never_reach_the_card() {
    let (verify, unblock, change): (&[&str], &[&str], &[&str]) =
        (&["pin", "verify"], &["pin", "unblock"], &["pin", "change"]);
    for generation in GENERATIONS {
        let card = card(generation);
        pin_status(&card);
        let before = std::fs::read(card.image()).unwrap();
        for pin in ["12a4", "12345", "123", "", " 1234"] {
            let (o, s) = card.run_counted(&[("CPS_PIN", pin)], verify);
            let what = format!("{generation} PIN {pin:?}");
            // an empty CPS_PIN is no PIN at all: no terminal to ask on, a usage error too
            assert_code(&o, 2);
            if !pin.is_empty() {
                assert_stderr_has(&o, "the PIN has exactly 4 digits");
                assert_stderr_has(&o, "nothing was sent to the card");
            }
            assert_eq!(s["opened"], false, "{what}: {s}");
            assert_eq!(s["apdus"], 0, "{what}: {s}");
        }
        let msg = card.write("m", b"m");
        let (m, out) = (msg.to_str().unwrap(), card.path("sig"));
        let out = out.to_str().unwrap();
        let file = card.home.write("pin.txt", "99\n");
        let bad_pin = [("CPS_PIN", "12345")];
        card.play(&[
            step(&bad_pin, &["sign", "--in", m, "--out", out], 2).sends_nothing(),
            step(&bad_pin, &["decrypt", "--in", m, "--out", out], 2).sends_nothing(),
            step(&bad_pin, &["objects", "--login"], 2).sends_nothing(),
            step(
                &[],
                &["pin", "verify", "--pin-file", file.to_str().unwrap()],
                2,
            )
            .sends_nothing(),
            step(&[("CPS_PUK", "1234"), ("CPS_NEW_PIN", "4321")], unblock, 2).sends_nothing(),
            step(
                &[("CPS_PUK", "12345678"), ("CPS_NEW_PIN", "43210")],
                unblock,
                2,
            )
            .sends_nothing(),
            step(
                &[("CPS_PUK", "1234x678"), ("CPS_NEW_PIN", "4321")],
                unblock,
                2,
            )
            .err("the PUK has exactly 8 digits")
            .sends_nothing(),
            step(&[("CPS_PIN", "1234"), ("CPS_NEW_PIN", "12")], change, 2).sends_nothing(),
        ]);
        assert_eq!(
            std::fs::read(card.image()).unwrap(),
            before,
            "{generation}: the image changed"
        );
    }
}

#[test]
fn messages_in_french() {
    let fr = ("LANG", "fr_FR.UTF-8");
    card("cps4").play(&[
        step(&[fr, ("CPS_PIN", "9999")], &["pin", "verify"], 7)
            .err("code porteur erroné, 2 essais restants"),
        step(&[fr, ("CPS_PIN", "99")], &["pin", "verify"], 2)
            .err("le code porteur a exactement 4 chiffres"),
        step(&[fr], &["pin", "status"], 0).out("2 essais restants sur 3"),
    ]);
}

/// A pinentry program that answers with `$FAKE_PIN` and writes what it was told to `$LOG`.
fn fake_pinentry(dir: &TempDir) -> PathBuf {
    let path = dir.write(
        "pinentry",
        "#!/bin/sh\necho 'OK fake pinentry'\nwhile IFS= read -r line; do\n  case \"$line\" in\n    SETDESC*|SETTITLE*|SETPROMPT*) printf '%s\\n' \"$line\" >> \"$LOG\"; echo OK ;;\n    GETPIN) echo \"D $FAKE_PIN\"; echo OK ;;\n    BYE) echo OK; exit 0 ;;\n    *) echo OK ;;\n  esac\ndone\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn pinentry_speaks_the_users_language() {
    let card = card("cps4");
    let program = fake_pinentry(&card.home);
    let program = program.to_str().unwrap();
    let log = card.path("pinentry.log");
    let log_s = log.to_str().unwrap();
    let msg = card.write("m", b"m");
    let sig = card.path("sig");
    let (m, sig) = (msg.to_str().unwrap(), sig.to_str().unwrap());
    // what the pinentry was told by each step, then the log is emptied
    let said = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        text
    };
    let sign = ["sign", "--pinentry", program, "--in", m, "--out", sig];
    let fr = [
        ("LANG", "fr_FR.UTF-8"),
        ("FAKE_PIN", "1234"),
        ("LOG", log_s),
    ];
    card.play(&[step(&fr, &sign, 0)]);
    let text = said();
    for line in [
        "SETTITLE Carte CPS",
        "SETDESC Carte CPS 12345678 — code porteur (3 essais restants)",
        "SETPROMPT Code :",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }

    // English, through CPS_PINENTRY, and a wrong PIN counted like any other
    let wrong = [
        ("FAKE_PIN", "0000"),
        ("LOG", log_s),
        ("CPS_PINENTRY", program),
    ];
    card.play(&[step(&wrong, &["pin", "verify"], 7).pin(2)]);
    let text = said();
    assert!(
        text.contains("SETDESC CPS card 12345678 — PIN (3 tries left)"),
        "{text}"
    );

    // a pinentry that types a code of the wrong format: refused without a VERIFY
    let short = [
        ("FAKE_PIN", "12"),
        ("LOG", log_s),
        ("CPS_PINENTRY", program),
    ];
    let (o, s) = card.run_counted(&short, &["pin", "verify"]);
    assert_code(&o, 2);
    assert_eq!(verifies_with_code(&s), 0, "{s}");
    assert_eq!(counters(&card.image()).0, 2);
    said();

    // the new PIN of an unblock comes from the pinentry too
    let unblock = [
        ("FAKE_PIN", "2468"),
        ("LOG", log_s),
        ("CPS_PUK", "12345678"),
    ];
    card.play(&[step(
        &unblock,
        &["pin", "unblock", "--pinentry", program],
        0,
    )]);
    let text = said();
    assert!(
        text.contains("SETDESC CPS card 12345678 — new PIN"),
        "{text}"
    );
    card.play(&[step(&[("CPS_PIN", "2468")], &["pin", "verify"], 0)]);
}

#[test]
fn pinpad_readers_take_the_pin_on_their_keypad() {
    let pad = |code: &'static str| ["--emulated-fault", code, "pin", "verify"];
    for generation in GENERATIONS {
        let card = card(generation);
        let msg = card.write("m", b"m");
        let sig = card.path("sig");
        let sign = [
            "--emulated-fault",
            "pinpad=1234",
            "sign",
            "--in",
            msg.to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ];
        card.play(&[
            step(&[], &pad("pinpad=1234"), 0)
                .err("enter the PIN on the reader's keypad (3 tries left)"),
            step(&[], &pad("pinpad=0000"), 7)
                .err("PIN wrong, 2 tries left")
                .pin(2),
            // a code given by the script wins over the keypad
            step(&[("CPS_PIN", "1234")], &pad("pinpad=0000"), 0).err_not("keypad"),
            step(&[], &sign, 0),
        ]);
        assert_eq!(std::fs::read(&sig).unwrap().len(), 256);
    }
}
