//! `cps-tool apdu` / `readers` on the in-process emulated card, and the exit codes.

use std::process::{Command, Output};

const SELECT_APP: &str = "00A4040C0DE828BD080F8025000001FF0010";

fn cps_tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cps-tool"))
        .args(args)
        // Never reach a real pcscd from these tests.
        .env(
            "PCSCLITE_CSOCK_NAME",
            "/nonexistent/cpscard-test/pcscd.comm",
        )
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn apdus_in_order_with_raw_answers() {
    let o = cps_tool(&[
        "--emulated",
        "cps3",
        "apdu",
        SELECT_APP,
        "00 A4 09 0C 04 3F:00:D0:03",
        "00B000000C",
        "00A4090404 3F00D003", // FCP wanted: T=0 card answers 61 xx, no automatic GET RESPONSE
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        stdout(&o),
        "> 00A4040C0DE828BD080F8025000001FF0010\n\
         < 90 00  # success\n\
         > 00A4090C043F00D003\n\
         < 90 00  # success\n\
         > 00B000000C\n\
         < 5A0A8025000001123456789F 90 00  # success\n\
         > 00A40904043F00D003\n\
         < 61 27  # 39 bytes available (GET RESPONSE)\n"
    );
}

#[test]
fn malformed_apdu_is_exit_2_and_nothing_is_sent() {
    let o = cps_tool(&["--emulated", "cps3", "apdu", SELECT_APP, "00A40"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "", "nothing sent before the bad APDU was found");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("APDU #2"), "{err}");

    let o = cps_tool(&["--emulated", "cps3", "apdu", "00A4040C05AABB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Lc"));
}

#[test]
fn pin_data_is_masked_in_the_echo() {
    let o = cps_tool(&["--emulated", "cps3", "apdu", "002000010831323334FFFFFFFF"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(!out.contains("31323334"), "{out}");
    assert!(out.contains("< 90 00  # success"), "{out}");
}

#[test]
fn emulated_reader_is_listed() {
    let o = cps_tool(&["--emulated", "cps4", "readers"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("EMULATED"), "{out}");
    assert!(
        out.ends_with(": card present, ATR 3B9B188001001225006480040100009044 [CPS4]\n"),
        "{out}"
    );
}

#[test]
fn no_pcscd_is_exit_3() {
    for args in [
        &["readers"][..],
        &["apdu", SELECT_APP],
        &["--reader", "X 00 00", "apdu", SELECT_APP],
    ] {
        let o = cps_tool(args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("pcscd"));
    }
}

#[test]
fn image_keeps_the_pin_counter() {
    let dir = std::env::temp_dir().join(format!("cpscard-cli-image-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("card.json");
    let image = image.to_str().unwrap();
    let wrong_pin = "002000010839393939FFFFFFFF";
    let o = cps_tool(&["--emulated", "cps3", "--image", image, "apdu", wrong_pin]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains("< 63 C2"), "{}", stdout(&o));
    assert!(std::path::Path::new(image).exists(), "image created");
    // A new process on the same image: one try fewer is remembered.
    let o = cps_tool(&["--emulated", "cps3", "--image", image, "apdu", "0020000100"]);
    assert!(stdout(&o).contains("< 63 C2"), "{}", stdout(&o));
    // Without the image, a fresh card.
    let o = cps_tool(&["--emulated", "cps3", "apdu", "0020000100"]);
    assert!(stdout(&o).contains("< 63 C3"), "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_holder_is_a_usage_error() {
    let o = cps_tool(&["--emulated", "cps3", "--card", "xyz", "readers"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("xyz"));
}
