//! PIN commands through the built binary, on an emulated card whose image keeps the tries
//! counters between runs (`--image`): wrong PINs count down and say so, the third blocks
//! (exit 8, with the way out), the PUK unblocks, codes of the wrong format never reach the
//! card, and a pinentry program is spoken to in the user's language.

mod cli_common;

use std::path::PathBuf;
use std::process::Output;

use cli_common::*;

struct Card {
    home: TempDir,
    generation: &'static str,
}

impl Card {
    fn new(generation: &'static str) -> Card {
        Card {
            home: TempDir::new(&format!("pin-{generation}")),
            generation,
        }
    }

    fn image(&self) -> PathBuf {
        self.home.join("card.json")
    }

    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let img = self.image();
        let mut all = card_args(self.generation, "cps", &img);
        all.extend_from_slice(args);
        run_env(self.home.path(), env, &all)
    }

    /// With the emulator's counters.
    fn run_counted(&self, env: &[(&str, &str)], args: &[&str]) -> (Output, serde_json::Value) {
        let path = self.home.join("stats.json");
        let _ = std::fs::remove_file(&path);
        let spec = format!("stats={}", path.display());
        let mut all = vec!["--emulated-fault", spec.as_str()];
        all.extend_from_slice(args);
        let o = self.run(env, &all);
        (o, stats(&path))
    }

    fn status(&self) -> serde_json::Value {
        let o = self.run(&[], &["pin", "status", "--json"]);
        assert_code(&o, 0);
        let doc = json_out(&o);
        assert_schema("pin-status", &doc);
        doc
    }
}

fn pin_cycle(generation: &'static str) {
    let card = Card::new(generation);
    let doc = card.status();
    assert_eq!(doc["pin"]["tries_left"], 3);
    assert_eq!(doc["pin"]["state"], "not_verified");
    assert_eq!(doc["puk"]["tries_left"], 10);

    // wrong, wrong: tries left shown and saved in the image
    let o = card.run(&[("CPS_PIN", "0000")], &["pin", "verify"]);
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains("PIN wrong, 2 tries left"),
        "{}",
        stderr(&o)
    );
    assert_eq!(counters(&card.image()).0, 2);
    let o = card.run(&[("CPS_PIN", "0000")], &["pin", "verify"]);
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains("PIN wrong, 1 try left: one more wrong PIN blocks the card"),
        "{}",
        stderr(&o)
    );
    // `info` shows the count without using a try
    let o = card.run(&[], &["info"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("1 of 3 tries left"), "{}", stdout(&o));
    assert_eq!(counters(&card.image()).0, 1);

    // third wrong: blocked, and the message says how to get out
    let o = card.run(&[("CPS_PIN", "0000")], &["pin", "verify"]);
    assert_code(&o, 8);
    let err = stderr(&o);
    assert!(err.contains("PIN blocked"), "{err}");
    assert!(err.contains("`cps-tool pin unblock`"), "{err}");
    assert_eq!(counters(&card.image()).0, 0);
    assert_eq!(card.status()["pin"]["state"], "blocked");

    // a blocked PIN is not even tried, right or wrong
    let msg = card.home.join("msg");
    std::fs::write(&msg, b"hello").unwrap();
    let sig = card.home.join("sig");
    let (o, s) = card.run_counted(
        &[("CPS_PIN", "1234")],
        &[
            "sign",
            "--in",
            msg.to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ],
    );
    assert_code(&o, 8);
    assert_eq!(verifies_with_code(&s), 0, "{s}");
    assert_eq!(s["rsa_ops"], 0);
    // the JSON error document of a --json command
    let o = card.run(&[("CPS_PIN", "1234")], &["objects", "--login", "--json"]);
    assert_code(&o, 8);
    let doc = json_out(&o);
    assert_schema("error", &doc);
    assert_eq!(doc["error"]["kind"], "pin_blocked");
    assert_eq!(doc["error"]["pin"], "pin");

    // wrong PUK: its own count
    let env = [("CPS_PUK", "00000000"), ("CPS_NEW_PIN", "4321")];
    let o = card.run(&env, &["pin", "unblock"]);
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains("PUK wrong, 9 tries left"),
        "{}",
        stderr(&o)
    );
    assert_eq!(counters(&card.image()), (0, 9));

    // right PUK: a new PIN with its 3 tries
    let env = [("CPS_PUK", "12345678"), ("CPS_NEW_PIN", "4321")];
    let o = card.run(&env, &["pin", "unblock"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("PIN unblocked and replaced; 3 tries"),
        "{}",
        stdout(&o)
    );
    assert_eq!(counters(&card.image()).0, 3);
    let o = card.run(&[("CPS_PIN", "1234")], &["pin", "verify"]);
    assert_code(&o, 7);
    let o = card.run(&[("CPS_PIN", "4321")], &["pin", "verify"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("PIN correct"));
    assert_eq!(counters(&card.image()).0, 3);
    let o = card.run(
        &[("CPS_PIN", "4321")],
        &[
            "sign",
            "--in",
            msg.to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ],
    );
    assert_code(&o, 0);

    // change: the old PIN, then the new one
    let env = [("CPS_PIN", "4321"), ("CPS_NEW_PIN", "5678")];
    let o = card.run(&env, &["pin", "change"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("PIN changed"), "{}", stdout(&o));
    let pin_file = card.home.write("pin.txt", "5678\n");
    let o = card.run(
        &[],
        &["pin", "verify", "--pin-file", pin_file.to_str().unwrap()],
    );
    assert_code(&o, 0);
    let env = [("CPS_PIN", "0000"), ("CPS_NEW_PIN", "1111")];
    let o = card.run(&env, &["pin", "change"]);
    assert_code(&o, 7);
    assert!(stderr(&o).contains("2 tries left"), "{}", stderr(&o));
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
    for generation in GENERATIONS {
        let card = Card::new(generation);
        card.status();
        let before = std::fs::read(card.image()).unwrap();
        let bad_pins = ["12a4", "12345", "123", "", " 1234"];
        for pin in bad_pins {
            let (o, s) = card.run_counted(&[("CPS_PIN", pin)], &["pin", "verify"]);
            let what = format!("{generation} PIN {pin:?}");
            // an empty CPS_PIN is no PIN at all: no terminal to ask on, a usage error too
            assert_code(&o, 2);
            if !pin.is_empty() {
                assert!(
                    stderr(&o).contains("the PIN has exactly 4 digits"),
                    "{what}: {}",
                    stderr(&o)
                );
                assert!(
                    stderr(&o).contains("nothing was sent to the card"),
                    "{what}: {}",
                    stderr(&o)
                );
            }
            assert_eq!(s["opened"], false, "{what}: {s}");
            assert_eq!(s["apdus"], 0, "{what}: {s}");
        }
        let msg = card.home.write("m", "m");
        let out = card.home.join("sig");
        for args in [
            vec![
                "sign",
                "--in",
                msg.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            vec![
                "decrypt",
                "--in",
                msg.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            vec!["objects", "--login"],
        ] {
            let (o, s) = card.run_counted(&[("CPS_PIN", "12345")], &args);
            assert_code(&o, 2);
            assert_eq!(s["apdus"], 0, "{generation} {args:?}: {s}");
        }
        let file = card.home.write("pin.txt", "99\n");
        let (o, s) = card.run_counted(
            &[],
            &["pin", "verify", "--pin-file", file.to_str().unwrap()],
        );
        assert_code(&o, 2);
        assert_eq!(s["apdus"], 0);
        for env in [
            [("CPS_PUK", "1234"), ("CPS_NEW_PIN", "4321")],
            [("CPS_PUK", "12345678"), ("CPS_NEW_PIN", "43210")],
        ] {
            let (o, s) = card.run_counted(&env, &["pin", "unblock"]);
            assert_code(&o, 2);
            assert_eq!(s["apdus"], 0, "{env:?}");
        }
        let (o, s) = card.run_counted(
            &[("CPS_PUK", "1234x678"), ("CPS_NEW_PIN", "4321")],
            &["pin", "unblock"],
        );
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains("the PUK has exactly 8 digits"),
            "{}",
            stderr(&o)
        );
        assert_eq!(s["apdus"], 0);
        let (o, s) = card.run_counted(
            &[("CPS_PIN", "1234"), ("CPS_NEW_PIN", "12")],
            &["pin", "change"],
        );
        assert_code(&o, 2);
        assert_eq!(s["apdus"], 0);
        assert_eq!(
            std::fs::read(card.image()).unwrap(),
            before,
            "{generation}: the image changed"
        );
    }
}

#[test]
fn messages_in_french() {
    let card = Card::new("cps4");
    let fr = [("LANG", "fr_FR.UTF-8"), ("CPS_PIN", "9999")];
    let o = card.run(&fr, &["pin", "verify"]);
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains("code porteur erroné, 2 essais restants"),
        "{}",
        stderr(&o)
    );
    let o = card.run(
        &[("LANG", "fr_FR.UTF-8"), ("CPS_PIN", "99")],
        &["pin", "verify"],
    );
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("le code porteur a exactement 4 chiffres"),
        "{}",
        stderr(&o)
    );
    let o = card.run(&[("LANG", "fr_FR.UTF-8")], &["pin", "status"]);
    assert!(
        stdout(&o).contains("2 essais restants sur 3"),
        "{}",
        stdout(&o)
    );
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
    let card = Card::new("cps4");
    let program = fake_pinentry(&card.home);
    let log = card.home.join("pinentry.log");
    let msg = card.home.write("m", "m");
    let sig = card.home.join("sig");
    let log_s = log.to_str().unwrap();
    let o = card.run(
        &[
            ("LANG", "fr_FR.UTF-8"),
            ("FAKE_PIN", "1234"),
            ("LOG", log_s),
        ],
        &[
            "sign",
            "--pinentry",
            program.to_str().unwrap(),
            "--in",
            msg.to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ],
    );
    assert_code(&o, 0);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("SETTITLE Carte CPS"), "{said}");
    assert!(
        said.contains("SETDESC Carte CPS 12345678 — code porteur (3 essais restants)"),
        "{said}"
    );
    assert!(said.contains("SETPROMPT Code :"), "{said}");

    // English, through CPS_PINENTRY, and a wrong PIN counted like any other
    std::fs::remove_file(&log).unwrap();
    let o = card.run(
        &[
            ("FAKE_PIN", "0000"),
            ("LOG", log_s),
            ("CPS_PINENTRY", program.to_str().unwrap()),
        ],
        &["pin", "verify"],
    );
    assert_code(&o, 7);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("SETDESC CPS card 12345678 — PIN (3 tries left)"),
        "{said}"
    );
    assert_eq!(counters(&card.image()).0, 2);

    // a pinentry that types a code of the wrong format: refused without a VERIFY
    let (o, s) = card.run_counted(
        &[
            ("FAKE_PIN", "12"),
            ("LOG", log_s),
            ("CPS_PINENTRY", program.to_str().unwrap()),
        ],
        &["pin", "verify"],
    );
    assert_code(&o, 2);
    assert_eq!(verifies_with_code(&s), 0, "{s}");
    assert_eq!(counters(&card.image()).0, 2);

    // the new PIN of an unblock comes from the pinentry too
    std::fs::remove_file(&log).unwrap();
    let o = card.run(
        &[
            ("FAKE_PIN", "2468"),
            ("LOG", log_s),
            ("CPS_PUK", "12345678"),
        ],
        &["pin", "unblock", "--pinentry", program.to_str().unwrap()],
    );
    assert_code(&o, 0);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("SETDESC CPS card 12345678 — new PIN"),
        "{said}"
    );
    let o = card.run(&[("CPS_PIN", "2468")], &["pin", "verify"]);
    assert_code(&o, 0);
}

#[test]
fn pinpad_readers_take_the_pin_on_their_keypad() {
    for generation in GENERATIONS {
        let card = Card::new(generation);
        let o = card.run(&[], &["--emulated-fault", "pinpad=1234", "pin", "verify"]);
        assert_code(&o, 0);
        assert!(
            stderr(&o).contains("enter the PIN on the reader's keypad (3 tries left)"),
            "{}",
            stderr(&o)
        );
        let o = card.run(&[], &["--emulated-fault", "pinpad=0000", "pin", "verify"]);
        assert_code(&o, 7);
        assert!(
            stderr(&o).contains("PIN wrong, 2 tries left"),
            "{}",
            stderr(&o)
        );
        assert_eq!(counters(&card.image()).0, 2);
        // a code given by the script wins over the keypad
        let o = card.run(
            &[("CPS_PIN", "1234")],
            &["--emulated-fault", "pinpad=0000", "pin", "verify"],
        );
        assert_code(&o, 0);
        assert!(!stderr(&o).contains("keypad"), "{}", stderr(&o));
        let msg = card.home.write("m", "m");
        let sig = card.home.join("sig");
        let o = card.run(
            &[],
            &[
                "--emulated-fault",
                "pinpad=1234",
                "sign",
                "--in",
                msg.to_str().unwrap(),
                "--out",
                sig.to_str().unwrap(),
            ],
        );
        assert_code(&o, 0);
        assert_eq!(std::fs::read(&sig).unwrap().len(), 256);
    }
}
