//! CPS3 driver against a scripted card: every APDU byte-exact (CPS3.md §5-9).

use super::*;
use crate::apdu::StatusWord;
use crate::card::binding::MemoryCache;
use crate::card::pkcs15::samples;
use crate::card::testing::{
    app, assert_sign_refusals, bind_files, cps3_fcp, ex, hx, read_binary_steps, Refusal, Scripted,
    Shared, Step,
};
use crate::card::{CardBinding, PinChangeTemplate, PinState};

fn driver(steps: Vec<Step>) -> (Cps3Driver, Shared) {
    let shared = Shared::new(Scripted::cps3(steps));
    let d = Cps3Driver::new(shared.transport(), CardKind::Cps3Contact).unwrap();
    (d, shared)
}

/// SELECT `09 04` + GET RESPONSE of the FCP + READs in 256-byte chunks.
fn read_steps(path: &FilePath, content: &[u8]) -> Vec<Step> {
    let p = hx(&path.to_bytes());
    let mut v = vec![
        ex(&format!("00A40904{:02X}{p}", p.len() / 2), "6127"),
        ex(
            "00C0000027",
            &(cps3_fcp(path.fid(), content.len()) + "9000"),
        ),
    ];
    v.extend(read_binary_steps(0x00, content));
    v
}

fn bind_steps() -> Vec<Step> {
    let mut v = vec![ex("00B09C000C", &(hx(&samples::ef_sn_default()) + "9000"))];
    for (path, content) in bind_files([
        samples::cps3_odf(),
        samples::cps3_token_info(),
        samples::cps3_aodf(),
        samples::cps3_prkdf(),
        samples::cps3_cdf(),
        samples::cps3_dodf(),
    ]) {
        v.extend(read_steps(&path, &content));
    }
    v
}

fn sig_bytes(b: u8) -> String {
    hx(&[b; 256])
}

const VERIFY_1234: &str = "0020000108 31323334FFFFFFFF";

#[test]
fn binds_with_19_apdus() {
    let (mut d, s) = driver(bind_steps());
    let b = d.bind(None).unwrap();
    s.assert_done();
    assert_eq!(s.sent().len(), 19);
    assert_eq!(b.kind, CardKind::Cps3Contact);
    assert_eq!(b.serial.serial, "12345678");
    assert_eq!(b.token_info.label.as_deref(), Some("CPS3v3-12345678"));
    assert_eq!(b.user_pin().unwrap().reference, 1);
    assert_eq!(b.puk().unwrap().reference, 2);
    let keys: Vec<_> = b.private_keys.iter().map(CardBinding::key_ref).collect();
    assert_eq!(
        keys,
        vec![
            Some(KeyRef::CPS3_SIGNATURE),
            Some(KeyRef::CPS3_AUTHENTICATION)
        ]
    );
    let cert = b.certificate_of(&b.private_keys[1]).unwrap();
    assert_eq!(cert.path.to_string(), "3F00/0001/A002");
    assert_eq!(
        b.data_object("CPS_DATA").unwrap().path.to_string(),
        "3F00/0001/D107"
    );
    // every transaction is one PC/SC transaction
    assert_eq!(s.0.lock().unwrap().transactions, 1);
}

#[test]
fn bind_from_a_warm_cache_reads_only_the_serial() {
    let mut steps = bind_steps();
    // the application DF is current after the first bind: the SFI needs the MF
    steps.push(ex("00A4090C023F00", "9000"));
    steps.push(ex("00B09C000C", &(hx(&samples::ef_sn_default()) + "9000")));
    let (mut d, s) = driver(steps);
    let mut cache = MemoryCache::default();
    let first = d.bind(Some(&mut cache)).unwrap();
    let second = d.bind(Some(&mut cache)).unwrap();
    s.assert_done();
    assert_eq!(first, second);
    assert_eq!(s.sent().len(), 21);
}

#[test]
fn serial_read_falls_back_to_selecting_the_mf() {
    let mut steps = vec![
        ex("00B09C000C", "6A82"),
        ex("00A4090C023F00", "9000"),
        ex("00B09C000C", &(hx(&samples::cps3_ef_sn_real()) + "9000")),
    ];
    steps.extend(bind_steps().into_iter().skip(1));
    let (mut d, s) = driver(steps);
    let b = d.bind(None).unwrap();
    s.assert_done();
    assert_eq!(b.serial.serial, "99213845");
}

#[test]
fn a_card_from_another_issuer_is_not_recognized() {
    let mut sn = samples::ef_sn_default();
    sn[3] = 0x26;
    let (mut d, s) = driver(vec![
        ex("00B09C000C", &(hx(&sn) + "9000")),
        ex("00A4090C023F00", "9000"),
        ex("00B09C000C", &(hx(&sn) + "9000")),
    ]);
    assert!(matches!(d.bind(None), Err(CardError::NotRecognized(_))));
    s.assert_done();
}

/// CPS3.md §8: login then C_Sign(CKM_SHA1_RSA_PKCS, "xxxxxxxxxxxxxxxxxxx\n"), fresh driver.
#[test]
fn reference_transcript_sha1_signature() {
    let (mut d, s) = driver(vec![
        ex(VERIFY_1234, "9000"),
        ex("00A4090C043F000001", "9000"),
        ex("00224 1AA03800110", "9000"),
        ex(
            &format!("002A90A0189000 8014 {}0A", "78".repeat(19)),
            "9000",
        ),
        ex("002241B606800112840181", "9000"),
        ex("002A9E9A00", "6100"),
        ex("00C0000000", &(sig_bytes(0x5A) + "9000")),
    ]);
    d.verify(&Pin::user("1234").unwrap()).unwrap();
    let sig = d
        .sign(
            KeyRef::CPS3_SIGNATURE,
            SignAlgorithm::Pkcs1Message(HashAlg::Sha1),
            b"xxxxxxxxxxxxxxxxxxx\n",
        )
        .unwrap();
    s.assert_done();
    assert_eq!(sig, vec![0x5A; 256]);
}

#[test]
fn signature_after_bind_needs_no_reselect_and_falls_back_when_refused() {
    let mut steps = bind_steps();
    steps.extend([
        ex("002241AA03800140", "9000"),
        ex("002A90A0069000 8002 6869", "9000"),
        ex("002241B606800142840181", "9000"),
        ex("002A9E9A00", "6100"),
        ex("00C0000000", &(sig_bytes(1) + "9000")),
        // second signature: the card says the key is not there (DF changed by someone else)
        ex("002241AA03800140", "6A88"),
        ex("00A4090C043F000001", "9000"),
        ex("002241AA03800140", "9000"),
        ex("002A90A0069000 8002 6869", "9000"),
        ex("002241B606800142840181", "9000"),
        ex("002A9E9A00", "6100"),
        ex("00C0000000", &(sig_bytes(2) + "9000")),
    ]);
    let (mut d, s) = driver(steps);
    d.bind(None).unwrap();
    let alg = SignAlgorithm::Pkcs1Message(HashAlg::Sha256);
    assert_eq!(
        d.sign(KeyRef::CPS3_SIGNATURE, alg, b"hi").unwrap(),
        vec![1; 256]
    );
    assert_eq!(
        d.sign(KeyRef::CPS3_SIGNATURE, alg, b"hi").unwrap(),
        vec![2; 256]
    );
    s.assert_done();
}

/// CPS3.md §6.4 5000-byte SHA-256 example, the state checked against sha2's compression.
#[test]
fn pso_hash_of_5000_bytes() {
    let msg: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
    let mut state = [
        0x6a09e667u32,
        0xbb67ae85,
        0x3c6ef372,
        0xa54ff53a,
        0x510e527f,
        0x9b05688c,
        0x1f83d9ab,
        0x5be0cd19,
    ];
    let blocks: Vec<_> = msg[..4992]
        .chunks_exact(64)
        .map(|c| *sha2::digest::generic_array::GenericArray::from_slice(c))
        .collect();
    sha2::compress256(&mut state, &blocks);
    let state_hex: String = state.iter().map(|w| format!("{w:08X}")).collect();
    let (mut d, s) = driver(vec![
        ex("00A4090C043F000001", "9000"),
        ex("002241AA03800140", "9000"),
        ex(
            &format!(
                "002A90A0349028{state_hex}0000000000009C008008{}",
                hx(&msg[4992..])
            ),
            "9000",
        ),
        ex("002241B606800142840181", "9000"),
        ex("002A9E9A00", "6100"),
        ex("00C0000000", &(sig_bytes(3) + "9000")),
    ]);
    d.sign(
        KeyRef::CPS3_SIGNATURE,
        SignAlgorithm::Pkcs1Message(HashAlg::Sha256),
        &msg,
    )
    .unwrap();
    s.assert_done();
}

/// 128 bytes: the state after 64 bytes (sha1's own compression), bit count 0x200, n = 64;
/// a card refusal stops the sequence.
#[test]
fn a_multiple_of_64_leaves_64_bytes_for_the_card() {
    let msg = [0x33u8; 128];
    let mut state = [
        0x6745_2301u32,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    sha1::compress(
        &mut state,
        &[*sha1::digest::generic_array::GenericArray::from_slice(
            &msg[..64],
        )],
    );
    let state_hex: String = state.iter().map(|w| format!("{w:08X}")).collect();
    let (mut d, s) = driver(vec![
        ex("00A4090C043F000001", "9000"),
        ex("002241AA03800110", "9000"),
        ex(
            &format!(
                "002A90A060901C{state_hex}00000000000002008040{}",
                "33".repeat(64)
            ),
            "6A80",
        ),
    ]);
    let r = d.sign(
        KeyRef::CPS3_SIGNATURE,
        SignAlgorithm::Pkcs1Message(HashAlg::Sha1),
        &msg,
    );
    assert_eq!(
        r,
        Err(CardError::Refused {
            op: "PSO HASH",
            sw: StatusWord::IncorrectData
        })
    );
    s.assert_done();
}

#[test]
fn empty_message_is_refused_without_apdu() {
    let (mut d, s) = driver(vec![]);
    let r = d.sign(
        KeyRef::CPS3_SIGNATURE,
        SignAlgorithm::Pkcs1Message(HashAlg::Sha256),
        b"",
    );
    assert!(matches!(r, Err(CardError::InvalidInput(_))));
    assert!(s.sent().is_empty());
}

#[test]
fn tls_signature_with_internal_authenticate() {
    let di = crate::card::rsa_pad::digest_info(HashAlg::Sha256, &[0x44; 32]).unwrap();
    let (mut d, s) = driver(vec![
        ex("00A4090C043F000001", "9000"),
        ex("002241A406800102840182", "9000"),
        ex(&format!("0088000033{}", hx(&di)), "6100"),
        ex("00C0000000", &(sig_bytes(4) + "9000")),
    ]);
    let sig = d
        .sign(KeyRef::CPS3_AUTHENTICATION, SignAlgorithm::Pkcs1Raw, &di)
        .unwrap();
    assert_eq!(sig, vec![4; 256]);
    s.assert_done();
    // the same through Pkcs1Digest: the host builds the DigestInfo
    s.push(vec![
        ex("002241A406800102840182", "9000"),
        ex(&format!("0088000033{}", hx(&di)), "6100"),
        ex("00C0000000", &(sig_bytes(5) + "9000")),
    ]);
    let sig = d
        .sign(
            KeyRef::CPS3_AUTHENTICATION,
            SignAlgorithm::Pkcs1Digest(HashAlg::Sha256),
            &[0x44; 32],
        )
        .unwrap();
    assert_eq!(sig, vec![5; 256]);
    s.assert_done();
}

#[test]
fn refusals_before_any_apdu() {
    use HashAlg::{Sha1, Sha256};
    use Refusal::{InvalidInput, NotFound, Unsupported};
    use SignAlgorithm::{Pkcs1Digest, Pkcs1Raw, PssDigest, RawRsa};
    let (mut d, s) = driver(vec![]);
    let (sig, aut) = (KeyRef::CPS3_SIGNATURE, KeyRef::CPS3_AUTHENTICATION);
    assert_sign_refusals(
        &mut d,
        &[
            (aut, Pkcs1Raw, 103, InvalidInput),
            (sig, PssDigest(Sha256), 32, Unsupported),
            (aut, RawRsa, 256, Unsupported),
            (sig, Pkcs1Raw, 36, InvalidInput),
            (sig, Pkcs1Digest(Sha1), 32, InvalidInput),
            (KeyRef(0x10), Pkcs1Raw, 32, NotFound),
        ],
    );
    assert!(matches!(
        d.decipher(KeyRef::CPS3_SIGNATURE, DecipherPadding::Pkcs1v15, &[0; 256]),
        Err(CardError::Unsupported(_))
    ));
    assert!(matches!(
        d.decipher(
            KeyRef::CPS3_AUTHENTICATION,
            DecipherPadding::Pkcs1v15,
            &[0; 255]
        ),
        Err(CardError::InvalidInput(_))
    ));
    let old = Pin::user("1234").unwrap();
    let puk = Pin::puk("12345678").unwrap();
    assert!(matches!(
        d.change_pin(&old, &puk),
        Err(CardError::InvalidInput(_))
    ));
    assert!(matches!(d.reset_pin(&puk), Err(CardError::InvalidInput(_))));
    assert!(matches!(
        d.unblock_pin(&old, &old),
        Err(CardError::InvalidInput(_))
    ));
    assert!(s.sent().is_empty());
    assert!(!d.supports(
        KeyRef::CPS3_SIGNATURE,
        SignAlgorithm::PssDigest(HashAlg::Sha256)
    ));
    assert!(d.supports(
        KeyRef::CPS3_SIGNATURE,
        SignAlgorithm::Pkcs1Message(HashAlg::Sha1)
    ));
    assert!(d.supports_decipher(KeyRef::CPS3_AUTHENTICATION, DecipherPadding::Pkcs1v15));
    assert!(!d.supports_decipher(KeyRef::CPS3_AUTHENTICATION, DecipherPadding::Raw));
}

#[test]
fn signature_key_accepts_a_digest_info_for_ckm_rsa_pkcs() {
    let h = [0x21u8; 20];
    let di = crate::card::rsa_pad::digest_info(HashAlg::Sha1, &h).unwrap();
    let (mut d, s) = driver(vec![
        ex("00A4090C043F000001", "9000"),
        ex("002241B606800112840181", "9000"),
        ex(&format!("002A9E9A14{}", hx(&h)), "6100"),
        ex("00C0000000", &(sig_bytes(6) + "9000")),
    ]);
    d.sign(KeyRef::CPS3_SIGNATURE, SignAlgorithm::Pkcs1Raw, &di)
        .unwrap();
    s.assert_done();
}

#[test]
fn decipher_is_chained() {
    let c = [0x77u8; 256];
    let (mut d, s) = driver(vec![
        ex("00A4090C043F000001", "9000"),
        ex("002241B80680011A840182", "9000"),
        ex(&format!("102A8086FF81{}", "77".repeat(254)), "9000"),
        ex("002A8086027777", "6105"),
        ex("00C0000005", "68656C6C6F9000"),
    ]);
    let p = d
        .decipher(KeyRef::CPS3_AUTHENTICATION, DecipherPadding::Pkcs1v15, &c)
        .unwrap();
    assert_eq!(&*p, b"hello");
    s.assert_done();
}

#[test]
fn pin_status_from_an_empty_verify() {
    let (mut d, s) = driver(vec![
        ex("00200001", "9000"),
        ex("00200001", "63C2"),
        ex("00200001", "63C0"),
        ex("00200001", "6983"),
        ex("00200002", "63CA"),
    ]);
    let st = d.pin_status(PinKind::User).unwrap();
    assert!(st.is_verified());
    assert_eq!(st.tries_left(), 3);
    let st = d.pin_status(PinKind::User).unwrap();
    assert_eq!(st.state, PinState::NotVerified { tries_left: 2 });
    assert!(d.pin_status(PinKind::User).unwrap().is_blocked());
    assert!(d.pin_status(PinKind::User).unwrap().is_blocked());
    let puk = d.pin_status(PinKind::Puk).unwrap();
    assert_eq!((puk.tries_left(), puk.max_tries), (10, 10));
    s.assert_done();
}

#[test]
fn a_wrong_pin_is_reported_and_never_retried() {
    let (mut d, s) = driver(vec![
        ex("0020000108 39393939FFFFFFFF", "63C1"),
        ex("0020000108 39393939FFFFFFFF", "6983"),
    ]);
    let wrong = Pin::user("9999").unwrap();
    assert_eq!(
        d.verify(&wrong),
        Err(CardError::PinIncorrect { tries_left: 1 })
    );
    assert_eq!(d.verify(&wrong), Err(CardError::PinBlocked));
    s.assert_done();
}

#[test]
fn change_and_unblock() {
    let (mut d, s) = driver(vec![
        ex("0024000110 31323334FFFFFFFF 35363738FFFFFFFF", "9000"),
        ex("0020000208 3132333435363738", "9000"),
        ex("002C020108 31323334FFFFFFFF", "9000"),
        ex("002C020108 31323334FFFFFFFF", "6982"),
    ]);
    let old = Pin::user("1234").unwrap();
    let new = Pin::user("5678").unwrap();
    d.change_pin(&old, &new).unwrap();
    d.unblock_pin(&Pin::puk("12345678").unwrap(), &old).unwrap();
    assert_eq!(d.reset_pin(&old), Err(CardError::SecurityNotSatisfied));
    s.assert_done();
}

#[test]
fn a_reset_by_another_application_reconnects_and_replays_a_signature_once() {
    let h = [0x21u8; 32];
    let (mut d, s) = driver(vec![
        Step::Reset,
        ex("00A4090C043F000001", "9000"),
        ex("002241B606800142840181", "9000"),
        ex(&format!("002A9E9A20{}", hx(&h)), "6982"),
    ]);
    // after the reset the PIN state is lost: the card refuses, the driver says so
    assert_eq!(
        d.sign(
            KeyRef::CPS3_SIGNATURE,
            SignAlgorithm::Pkcs1Digest(HashAlg::Sha256),
            &h
        ),
        Err(CardError::SecurityNotSatisfied)
    );
    assert_eq!(s.reconnects(), 1);
    s.assert_done();
}

#[test]
fn a_verify_is_never_replayed_after_a_reset() {
    let (mut d, s) = driver(vec![Step::Reset, ex("00200001", "63C3")]);
    assert_eq!(
        d.verify(&Pin::user("1234").unwrap()),
        Err(CardError::CardReset)
    );
    assert_eq!(s.reconnects(), 1);
    assert!(s.sent().is_empty());
    // the next operation works normally
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 3);
    s.assert_done();
}

#[test]
fn cps_data_is_written_whole_and_zero_padded() {
    let path = app(0xD107);
    let (mut d, s) = driver(vec![
        ex("00A40904063F00 0001D107", "6127"),
        ex("00C0000027", &(cps3_fcp(0xD107, 0x20) + "9000")),
        ex(&format!("00D6000020 414243{}", "00".repeat(29)), "9000"),
    ]);
    d.write_file(&path, b"ABC").unwrap();
    s.assert_done();
    s.push(vec![
        ex("00A40904063F00 0001D107", "6127"),
        ex("00C0000027", &(cps3_fcp(0xD107, 0x02) + "9000")),
    ]);
    assert!(matches!(
        d.write_file(&path, b"ABC"),
        Err(CardError::InvalidInput(_))
    ));
    s.assert_done();
}

#[test]
fn large_files_are_read_in_256_byte_chunks() {
    let cert: Vec<u8> = (0..1300u32).map(|i| i as u8).collect();
    let (mut d, s) = driver(read_steps(&app(0xA001), &cert));
    assert_eq!(d.read_file(&app(0xA001)).unwrap(), cert);
    assert_eq!(s.sent().len(), 2 + 6);
    s.assert_done();
}

#[test]
fn missing_files_are_not_found() {
    let (mut d, s) = driver(vec![ex("00A40904063F000001D120", "6A82")]);
    assert_eq!(d.read_file(&app(0xD120)), Err(CardError::NotFound));
    s.assert_done();
}

#[test]
fn get_challenge_in_8_byte_steps() {
    let (mut d, s) = driver(vec![
        ex("0084000008", "01020304050607089000"),
        ex("0084000008", "090A0B0C0D0E0F109000"),
        ex("0084000008", "11121314151617189000"),
    ]);
    let r = d.get_challenge(20).unwrap();
    assert_eq!(r, (1..=20).collect::<Vec<u8>>());
    s.assert_done();
}

#[test]
fn cps2ter_volet_reads() {
    let data = hx(&[0xC5; 0x40]);
    let (mut d, s) = driver(vec![
        ex("A0A40000023F00", "9F0C"),
        ex("A0A40000027F01", "9F0C"),
        ex("A0A40000024000", "9F0C"),
        ex("A0C000000C", "850A00404000040000000000 9000"),
        ex("A0B0000040", &(data.clone() + "9000")),
        ex("A0A40000023F00", "9000"),
        ex("A0A40000024011", "9404"),
    ]);
    assert_eq!(
        d.read_cps2ter(Cps2terFile::SitFact).unwrap(),
        vec![0xC5; 0x40]
    );
    assert_eq!(
        d.read_cps2ter(Cps2terFile::Activity(2)),
        Err(CardError::NotFound)
    );
    assert!(matches!(
        d.read_cps2ter(Cps2terFile::Activity(17)),
        Err(CardError::InvalidInput(_))
    ));
    s.assert_done();
}

#[test]
fn pin_counters_by_get_data() {
    let (mut d, s) = driver(vec![
        ex("00A4090C023F00", "9000"),
        ex("00CB3FFF0A4D087006BF810102A080", "6118"),
        ex(
            "00C0000018",
            "7016BF810112A0109A01039B0103A1088C06F30000 13FF00 9000",
        ),
        ex("00A4090C023F00", "9000"),
        ex("00CB3FFF0A4D087006BF810202A080", "611C"),
        ex(
            "00C000001C",
            "701ABF810216A0149A010A9B010A9D020064A1088C06F3FF00FFFF00 9000",
        ),
    ]);
    assert_eq!(
        d.pin_counters(PinKind::User).unwrap(),
        PinCounters {
            max_tries: 3,
            tries_left: 3,
            usage_left: None
        }
    );
    assert_eq!(
        d.pin_counters(PinKind::Puk).unwrap(),
        PinCounters {
            max_tries: 10,
            tries_left: 10,
            usage_left: Some(100)
        }
    );
    s.assert_done();
}

#[test]
fn contactless_has_no_pin_and_signs_with_the_technical_key() {
    let shared = Shared::new(Scripted::new(
        "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E",
        crate::transport::Protocol::T1,
        vec![
            ex("00A4090C043F000002", "9000"),
            ex("002241A406800102840183", "9000"),
            ex("00880000 04 01020304 00", &(sig_bytes(9) + "9000")),
        ],
    ));
    let mut d = crate::card::connect(shared.transport()).unwrap();
    assert_eq!(d.kind(), CardKind::Cps3Contactless);
    assert!(matches!(
        d.pin_status(PinKind::User),
        Err(CardError::Unsupported(_))
    ));
    assert!(matches!(
        d.verify(&Pin::user("1234").unwrap()),
        Err(CardError::Unsupported(_))
    ));
    assert_eq!(d.key_role(KeyRef::CPS3_SIGNATURE), None);
    let sig = d
        .sign(
            KeyRef::CPS3_TECHNICAL,
            SignAlgorithm::Pkcs1Raw,
            &[1, 2, 3, 4],
        )
        .unwrap();
    assert_eq!(sig, vec![9; 256]);
    shared.assert_done();
}

#[test]
fn unknown_atrs_are_not_recognized_without_apdu() {
    let shared = Shared::new(Scripted::new(
        "3B 02 14 50",
        crate::transport::Protocol::T0,
        vec![],
    ));
    assert!(matches!(
        crate::card::connect(shared.transport()),
        Err(CardError::NotRecognized(_))
    ));
    assert!(shared.sent().is_empty());
}

#[test]
fn the_start_of_a_file_in_two_apdus() {
    let cert: Vec<u8> = (0..0x30u8).collect();
    let (mut d, s) = driver(vec![
        ex("00A4090C063F000001A001", "9000"),
        ex("00B0000030", &(hx(&cert) + "9000")),
        // the DF of the file is now current: a key operation needs no SELECT
        ex("002241B606800142840181", "9000"),
        ex(&format!("002A9E9A20{}", "21".repeat(32)), "6100"),
        ex("00C0000000", &(sig_bytes(7) + "9000")),
    ]);
    assert_eq!(d.read_file_start(&app(0xA001), 0x30).unwrap(), cert);
    let alg = SignAlgorithm::Pkcs1Digest(HashAlg::Sha256);
    d.sign(KeyRef::CPS3_SIGNATURE, alg, &[0x21; 32]).unwrap();
    s.assert_done();
    s.push(vec![ex("00A4090C063F000001A009", "6A82")]);
    assert_eq!(
        d.read_file_start(&app(0xA009), 0x30),
        Err(CardError::NotFound)
    );
    s.assert_done();
}

#[test]
fn logout_selects_the_root_by_name() {
    let mut steps = bind_steps();
    steps.push(ex("00A4040008 8025000001FF0100", "9000"));
    // the MF is current again: EF.SN by SFI at once
    steps.extend(bind_steps());
    let (mut d, s) = driver(steps);
    d.bind(None).unwrap();
    d.reset_security_state().unwrap();
    d.bind(None).unwrap();
    s.assert_done();
    s.push(vec![ex("00A4040008 8025000001FF0100", "6A82")]);
    assert_eq!(d.reset_security_state(), Err(CardError::NotFound));
    s.assert_done();
}

#[test]
fn pinpad_templates() {
    let (d, _) = driver(vec![]);
    let ff = "FF".repeat(8);
    assert_eq!(
        d.pin_verify_template(PinKind::User).map(|t| hx(&t)),
        Some(format!("0020000108{ff}"))
    );
    assert_eq!(
        d.pin_verify_template(PinKind::Puk).map(|t| hx(&t)),
        Some(format!("0020000208{ff}"))
    );
    assert_eq!(
        d.pin_change_templates(),
        Some(PinChangeTemplate::OldAndNew(
            hex::decode(format!("0024000110{ff}{ff}")).unwrap()
        ))
    );
    let shared = Shared::new(Scripted::cps3(vec![]));
    let contactless = Cps3Driver::new(shared.transport(), CardKind::Cps3Contactless).unwrap();
    assert_eq!(contactless.pin_verify_template(PinKind::User), None);
    assert_eq!(contactless.pin_change_templates(), None);
}
