//! CPS4 driver against a scripted card: every APDU byte-exact (CPS4.md §2-6).

use super::*;
use crate::card::pkcs15::samples;
use crate::card::rsa_pad::pad_type1;
use crate::card::testing::{
    app, assert_sign_refusals, bind_files, cps4_fci, ex, hx, read_binary_steps, Refusal, Scripted,
    Shared, Step,
};
use crate::card::{CardBinding, PinChangeTemplate, PinState};

const OPEN: &str = "01A4040C08 8025000001FF0100";

fn driver_with(s: Scripted) -> (Cps4Driver, Shared) {
    let kind = crate::card::detect(&s.atr).unwrap();
    let shared = Shared::new(s);
    let d = Cps4Driver::new(shared.transport(), kind).unwrap();
    (d, shared)
}

fn driver(steps: Vec<Step>) -> (Cps4Driver, Shared) {
    driver_with(Scripted::cps4(steps))
}

/// T=1: SELECT `08 00` with Le `00` → FCI; READs of 256.
fn read_steps(path: &FilePath, content: &[u8]) -> Vec<Step> {
    let p = hx(&path.to_bytes_from_mf());
    let mut v = vec![ex(
        &format!("01A40800{:02X}{p}00", p.len() / 2),
        &(cps4_fci(path.fid(), content.len()) + "9000"),
    )];
    v.extend(read_binary_steps(0x01, content));
    v
}

fn bind_steps() -> Vec<Step> {
    let mut v = vec![ex(OPEN, "9000")];
    v.extend(read_steps(
        &FilePath::from_fids(&[0xD003]),
        &samples::ef_sn_default(),
    ));
    for (path, content) in bind_files([
        samples::cps3_odf(),
        samples::cps4_token_info(),
        samples::cps4_aodf(),
        samples::cps4_prkdf(),
        samples::cps4_cdf(),
        samples::cps3_dodf(),
    ]) {
        v.extend(read_steps(&path, &content));
    }
    v
}

fn sig(b: u8) -> String {
    hx(&[b; 256]) + "9000"
}

#[test]
fn binds_with_15_apdus() {
    let (mut d, s) = driver(bind_steps());
    let b = d.bind(None).unwrap();
    s.assert_done();
    assert_eq!(s.sent().len(), 15);
    assert_eq!(b.token_info.label.as_deref(), Some("CPS4-12345678"));
    assert_eq!(b.user_pin().unwrap().reference, 0x81);
    assert_eq!(b.puk().unwrap().reference, 0x82);
    let keys: Vec<_> = b
        .private_keys
        .iter()
        .filter_map(CardBinding::key_ref)
        .collect();
    assert_eq!(
        keys,
        vec![KeyRef::CPS4_SIGNATURE, KeyRef::CPS4_AUTHENTICATION]
    );
    assert_eq!(
        b.certificate_of(&b.private_keys[0])
            .unwrap()
            .path
            .to_string(),
        "3F00/0001/A010"
    );
}

#[test]
fn t0_selects_without_le_and_gets_the_fci() {
    let sn = samples::ef_sn_default();
    let (mut d, s) = driver_with(Scripted::cps4_t0(vec![
        ex(OPEN, "9000"),
        ex("01A4080002D003", "6110"),
        ex("01C0000010", &(cps4_fci(0xD003, 12) + "9000")),
        ex("01B000000C", &(hx(&sn) + "9000")),
    ]));
    assert_eq!(d.read_file(&FilePath::from_fids(&[0xD003])).unwrap(), sn);
    s.assert_done();
}

#[test]
fn signatures_after_bind_and_from_a_fresh_driver() {
    let digest = HashAlg::Sha256.digest(b"abc");
    let mut steps = bind_steps();
    steps.extend([
        ex("012281B6049102 28 90", "9000"),
        ex(&format!("012A9E9A20{}00", hx(&digest)), &sig(1)),
    ]);
    let (mut d, s) = driver(steps);
    d.bind(None).unwrap();
    let r = d
        .sign(
            KeyRef::CPS4_SIGNATURE,
            SignAlgorithm::Pkcs1Message(HashAlg::Sha256),
            b"abc",
        )
        .unwrap();
    assert_eq!(r, vec![1; 256]);
    s.assert_done();

    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01A408000200 01", "9000"),
        ex("012281B6049102 15 A0", "9000"),
        ex(&format!("012A9E9A14{}00", "AB".repeat(20)), &sig(2)),
    ]);
    let r = d
        .sign(
            KeyRef::CPS4_AUTHENTICATION,
            SignAlgorithm::PssDigest(HashAlg::Sha1),
            &[0xAB; 20],
        )
        .unwrap();
    assert_eq!(r, vec![2; 256]);
    s.assert_done();
}

#[test]
fn t0_signature_gets_its_answer_by_get_response() {
    let (mut d, s) = driver_with(Scripted::cps4_t0(vec![
        ex(OPEN, "9000"),
        ex("01A408000200 01", "9000"),
        ex("012281B6049102 2C 90", "9000"),
        ex(&format!("012A9E9A20{}", "CD".repeat(32)), "6100"),
        ex("01C0000000", &sig(3)),
    ]));
    d.sign(
        KeyRef::CPS4_SIGNATURE,
        SignAlgorithm::PssDigest(HashAlg::Sha256),
        &[0xCD; 32],
    )
    .unwrap();
    s.assert_done();
}

#[test]
fn tls_signature_with_the_auth_key_is_raw_rsa_on_a_host_padded_block() {
    // TLS 1.1-style MD5||SHA-1 input (36 bytes, no DigestInfo)
    let input = [0x36u8; 36];
    let block = pad_type1(&input, 256).unwrap();
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01A408000200 01", "9000"),
        ex("012241B803830120", "9000"),
        ex(&format!("112A8086FF{}", hx(&block[..255])), "9000"),
        ex(&format!("012A808601{}00", hx(&block[255..])), &sig(4)),
    ]);
    let r = d
        .sign(KeyRef::CPS4_AUTHENTICATION, SignAlgorithm::Pkcs1Raw, &input)
        .unwrap();
    assert_eq!(r, vec![4; 256]);
    s.assert_done();
}

#[test]
fn decipher_removes_the_padding_on_the_host() {
    let mut plain = vec![0x00, 0x02];
    plain.extend([0x11; 250]);
    plain.push(0);
    plain.extend_from_slice(b"key");
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01A408000200 01", "9000"),
        ex("012241B803830120", "9000"),
        ex(&format!("112A8086FF{}", "99".repeat(255)), "9000"),
        ex("012A808601 99 00", &(hx(&plain) + "9000")),
    ]);
    let p = d
        .decipher(
            KeyRef::CPS4_AUTHENTICATION,
            DecipherPadding::Pkcs1v15,
            &[0x99; 256],
        )
        .unwrap();
    assert_eq!(&*p, b"key");
    s.assert_done();
}

#[test]
fn refusals_before_any_apdu() {
    use HashAlg::Sha256;
    use Refusal::{InvalidInput, NotFound, Unsupported};
    use SignAlgorithm::{Pkcs1Raw, PssDigest, RawRsa};
    let (mut d, s) = driver(vec![]);
    let (sig, aut) = (KeyRef::CPS4_SIGNATURE, KeyRef::CPS4_AUTHENTICATION);
    assert_sign_refusals(
        &mut d,
        &[
            (sig, RawRsa, 256, Unsupported),
            (aut, RawRsa, 255, InvalidInput),
            (sig, PssDigest(Sha256), 20, InvalidInput),
            (aut, Pkcs1Raw, 246, InvalidInput),
            (KeyRef::CPS3_SIGNATURE, Pkcs1Raw, 20, NotFound),
        ],
    );
    assert!(matches!(
        d.decipher(KeyRef::CPS4_SIGNATURE, DecipherPadding::Raw, &[0; 256]),
        Err(CardError::Unsupported(_))
    ));
    assert!(matches!(
        d.read_cps2ter(Cps2terFile::SitFact),
        Err(CardError::Unsupported(_))
    ));
    assert!(s.sent().is_empty());
    assert!(d.supports(
        KeyRef::CPS4_AUTHENTICATION,
        SignAlgorithm::PssDigest(HashAlg::Sha256)
    ));
    assert!(d.supports(KeyRef::CPS4_AUTHENTICATION, SignAlgorithm::RawRsa));
    assert!(!d.supports(KeyRef::CPS4_SIGNATURE, SignAlgorithm::RawRsa));
}

#[test]
fn pin_status_verify_change_unblock() {
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01200081", "63C2"),
        ex("01200082", "9000"),
        ex("0120008108 31323334FFFFFFFF", "9000"),
        // change: VERIFY old then new value
        ex("0120008108 31323334FFFFFFFF", "9000"),
        ex("0124018108 35363738FFFFFFFF", "9000"),
        // change with a wrong old PIN: no CHANGE sent
        ex("0120008108 39393939FFFFFFFF", "63C1"),
        // unblock: VERIFY PUK, RESET RETRY COUNTER, new value
        ex("0120008208 3132333435363738", "9000"),
        ex("012C0381", "9000"),
        ex("0124018108 31323334FFFFFFFF", "9000"),
    ]);
    assert_eq!(
        d.pin_status(PinKind::User).unwrap().state,
        PinState::NotVerified { tries_left: 2 }
    );
    assert!(d.pin_status(PinKind::Puk).unwrap().is_verified());
    let pin = Pin::user("1234").unwrap();
    let new = Pin::user("5678").unwrap();
    d.verify(&pin).unwrap();
    d.change_pin(&pin, &new).unwrap();
    assert_eq!(
        d.change_pin(&Pin::user("9999").unwrap(), &new),
        Err(CardError::PinIncorrect { tries_left: 1 })
    );
    d.unblock_pin(&Pin::puk("12345678").unwrap(), &pin).unwrap();
    s.assert_done();
}

#[test]
fn a_closed_channel_is_reopened_and_only_non_pin_commands_resent() {
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01200081", "6881"),
        ex(OPEN, "9000"),
        ex("01200081", "63C3"),
        ex("0120008108 31323334FFFFFFFF", "6881"),
        ex(OPEN, "9000"),
    ]);
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 3);
    assert_eq!(
        d.verify(&Pin::user("1234").unwrap()),
        Err(CardError::ChannelClosed)
    );
    s.assert_done();
}

#[test]
fn channel_recovery_is_tried_once_never_in_a_loop() {
    let (mut d, s) = driver(vec![
        ex(OPEN, "6A82"),
        ex("01A4040C07 A0000001510000", "6A82"),
        ex("00A4040C08 8025000001FF0002", "9000"),
        ex(OPEN, "9000"),
        ex("01200081", "63C3"),
    ]);
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 3);
    s.assert_done();
    let (mut d, s) = driver(vec![
        ex(OPEN, "6A82"),
        ex("01A4040C07 A0000001510000", "6A82"),
        ex("00A4040C08 8025000001FF0002", "6A82"),
        ex(OPEN, "6A82"),
    ]);
    assert_eq!(d.pin_status(PinKind::User), Err(CardError::NotFound));
    s.assert_done();
}

#[test]
fn a_reset_reopens_the_channel() {
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01200081", "9000"),
        Step::Reset,
        ex(OPEN, "9000"),
        ex("01200081", "63C3"),
    ]);
    assert!(d.pin_status(PinKind::User).unwrap().is_verified());
    assert_eq!(
        d.pin_status(PinKind::User).unwrap().state,
        PinState::NotVerified { tries_left: 3 }
    );
    assert_eq!(s.reconnects(), 1);
    s.assert_done();
}

#[test]
fn cps_data_write_and_challenge() {
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01A408000400 01D107 00", &(cps4_fci(0xD107, 4) + "9000")),
        ex("01D6000004 41420000", "9000"),
        ex("0184000008", "01020304050607089000"),
    ]);
    d.write_file(&app(0xD107), b"AB").unwrap();
    assert_eq!(d.get_challenge(3).unwrap(), vec![1, 2, 3]);
    s.assert_done();
}

#[test]
fn a_62_fcp_is_not_an_fci_and_is_still_read() {
    // CPS4.md §4: the vendor rejects `62`; we only need the size, from either template
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex("01A408000400 01A010 00", "6204 80020002 9000"),
        ex("01B0000002", "30009000"),
    ]);
    assert_eq!(d.read_file(&app(0xA010)).unwrap(), vec![0x30, 0]);
    s.assert_done();
}

#[test]
fn the_start_of_a_file_is_at_most_its_size() {
    let cert: Vec<u8> = (0..0x20u8).collect();
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex(
            "01A408000400 01A010 00",
            &(cps4_fci(0xA010, 0x400) + "9000"),
        ),
        ex("01B0000020", &(hx(&cert) + "9000")),
        ex("01A408000400 01D101 00", &(cps4_fci(0xD101, 0x10) + "9000")),
        ex("01B0000010", &(hx(&cert[..0x10]) + "9000")),
    ]);
    assert_eq!(d.read_file_start(&app(0xA010), 0x20).unwrap(), cert);
    assert_eq!(
        d.read_file_start(&app(0xD101), 0x20).unwrap(),
        &cert[..0x10]
    );
    s.assert_done();
}

#[test]
fn logout_resets_the_card_and_the_channel_reopens() {
    let (mut d, s) = driver(vec![ex(OPEN, "9000"), ex("01200081", "9000")]);
    assert!(d.pin_status(PinKind::User).unwrap().is_verified());
    d.reset_security_state().unwrap();
    assert_eq!(s.reconnects(), 1);
    s.push(vec![ex(OPEN, "9000"), ex("01200081", "63C3")]);
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 3);
    s.assert_done();
}

#[test]
fn pinpad_templates() {
    let (d, _) = driver(vec![]);
    let ff = "FF".repeat(8);
    assert_eq!(
        d.pin_verify_template(PinKind::Puk).map(|t| hx(&t)),
        Some(format!("0120008208{ff}"))
    );
    assert_eq!(
        d.pin_change_templates(),
        Some(PinChangeTemplate::VerifyThenNew {
            verify: hex::decode(format!("0120008108{ff}")).unwrap(),
            change: hex::decode(format!("0124018108{ff}")).unwrap(),
        })
    );
}

#[test]
fn a_huge_file_size_is_refused_before_any_allocation() {
    // fuzzing (card_driver, out-of-memory): an FCI claiming FFFFFFFF bytes made write_file
    // zero-fill 4 GiB before write_body refused the size with this same error
    let p = hx(&app(0xD107).to_bytes_from_mf());
    let (mut d, s) = driver(vec![
        ex(OPEN, "9000"),
        ex(
            &format!("01A40800{:02X}{p}00", p.len() / 2),
            "6F06 8004FFFFFFFF 9000",
        ),
    ]);
    assert_eq!(
        d.write_file(&app(0xD107), b"AB"),
        Err(CardError::Unsupported("file larger than 32 KiB"))
    );
    s.assert_done();
}
