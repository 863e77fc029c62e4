//! The software CPS3 against the profile (`/work/shared/cards/CPS3.md`): declarative
//! transcripts (command → expected answer) at the raw APDU level, T=0 as a CCID reader gives it,
//! and cryptographic checks with the fixture certificates.

use crate::emulator_common;

use cpscard::apdu::{transceive, Command, ExchangeRules, StatusWord};
use cpscard::emulator::{
    EmulatedCard, EmulatedReader, Faults, Generation, Interface, Latency, VirtualCard,
};
use cpscard::transport::{Protocol, Transmit, Transport, TransportError};
use emulator_common::*;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign};
use sha1::{Digest, Sha1};
use sha2::Sha256;

const PIN: &str = "00 20 00 01 08 31 32 33 34 FF FF FF FF";
const WRONG_PIN: &str = "00 20 00 01 08 39 39 39 39 FF FF FF FF";
const PUK: &str = "00 20 00 02 08 31 32 33 34 35 36 37 38";
const EF_ATR: &str = "80 43 01 B8 46 04 04 B0 EC C1 47 03 94 01 80 4F 08 80 25 00 00 01 FF 01 00
    E0 10 02 02 01 04 02 02 01 04 02 02 01 00 02 02 01 00 78 08 06 06 2B 81 22 F8 78 02 82 02 90 00";
const EF_DIR: &str = "61 32 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 20 50 0A 43 50 53 20 49 41 53 20 43 4C 51 04 3F 00 00 02
    73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10
    61 2F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 07 43 50 53 20 49 41 53 51 04 3F 00 00 01
    73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";
const AID_APP: &str = "E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";

fn card() -> EmulatedCard {
    EmulatedCard::builtin(Generation::Cps3, "cps").unwrap()
}

fn sign_key() -> rsa::RsaPublicKey {
    cert_key(&fixture("cards/cps3/cps/sign.der"))
}
fn auth_key() -> rsa::RsaPublicKey {
    cert_key(&fixture("cards/cps3/cps/auth.der"))
}

/// Reads a whole T=0 `61 xx` answer with GET RESPONSE chunks of 0xE7 (as the ANS driver).
fn collect(card: &mut EmulatedCard, first: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut sw = first;
    while sw.len() == 2 && sw[0] == 0x61 {
        let avail = if sw[1] == 0 { 256 } else { sw[1] as usize };
        let le = avail.min(0xE7);
        let r = card.process(&[0, 0xC0, 0, 0, le as u8]);
        out.extend_from_slice(data(&r));
        sw = r[r.len() - 2..].to_vec();
    }
    assert_eq!(sw, [0x90, 0x00], "final SW");
    out
}

#[test]
fn atr_and_protocol() {
    let c = card();
    assert_eq!(
        c.atr(),
        hx("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")
    );
    assert_eq!(c.protocol(), Protocol::T0);
    let mut cl = card();
    cl.set_interface(Interface::Cps3Contactless).unwrap();
    assert_eq!(
        cl.atr(),
        hx("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E")
    );
    assert_eq!(cl.protocol(), Protocol::T1);
    assert!(card().set_interface(Interface::Cps4T0).is_err());
}

#[test]
fn selects_and_public_files() {
    let mut c = card();
    let ef_atr = format!("{EF_ATR} 90 00");
    let ef_dir = format!("{EF_DIR} 90 00");
    run(
        &mut c,
        &[
            ("00 A4 00 0C 02 3F 00", "90 00"),
            ("00 A4 09 04 02 3F 00", "90 00"),
            // OpenSC init (opensc-cpx-flow §2)
            ("00 A4 09 04 04 3F 00 2F 01", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 39 82 01 01 83 02 2F 01 88 01 E8 A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05 90 00"),
            ("00 B0 00 00 39", &ef_atr),
            ("00 A4 04 04 08 80 25 00 00 01 FF 01 00", "90 00"),
            ("00 B0 9C 00 C0", "6C 0C"),
            ("00 B0 9C 00 0C", "5A 0A 80 25 00 00 01 12 34 56 78 9F 90 00"),
            // ANS binding (CPS3.md §8)
            ("00 A4 09 04 04 3F 00 D0 03", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 9C 07 7B FF FF FF FF FF 00 8A 01 05 90 00"),
            ("00 B0 00 00 0C", "5A 0A 80 25 00 00 01 12 34 56 78 9F 90 00"),
            ("00 A4 09 04 04 3F 00 2F 00", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 65 82 01 01 83 02 2F 00 88 01 F0 A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05 90 00"),
            ("00 B0 00 00 65", &ef_dir),
            ("00 A4 09 04 04 3F 00 D0 10", "6A 82"),
            ("00 A4 09 0C 04 3F 00 00 01", "90 00"),
            ("00 A4 09 04 04 3F 00 00 01", "90 00"),
            ("00 A4 09 04 06 3F 00 00 01 50 31", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 30 * 90 00"),
            ("00 B0 00 00 30", "A8 0A 30 08 04 06 3F 00 00 01 70 01 A0 0A 30 08 04 06 3F 00 00 01 70 02 A4 0A 30 08 04 06 3F 00 00 01 70 05 A7 0A 30 08 04 06 3F 00 00 01 70 06 90 00"),
            ("00 A4 09 04 06 3F 00 00 01 50 32", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 DC * 90 00"),
            ("00 B0 00 00 E7", "6C DC"),
            ("00 B0 00 00 DC", "30 81 D9 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A \"ASIP-SANTE\" 80 0F \"CPS3v3-12345678\" 03 02 05 60 A2 81 A6 * 02 01 1A 90 00"),
            ("00 A4 09 04 06 3F 00 00 01 70 01", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 BD * 90 00"),
            ("00 B0 00 00 BD", "30 61 30 3F 0C 1C \"Code porteur de la carte CPS\" 03 01 08 04 01 02 * 80 01 02 90 00"),
            // OpenSC: DF name with FCP asked, app AID then child EF by FID (P1=02)
            (&format!("00 A4 04 04 0D {AID_APP}"), "90 00"),
            (&format!("00 A4 04 0C 0D {AID_APP}"), "90 00"),
            ("00 A4 02 04 02 A0 01", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 xx xx 82 01 01 83 02 A0 01 * 90 00"),
            ("00 A4 02 0C 02 70 05", "90 00"),
            ("00 B0 00 00 05", "30 52 30 34 0C 90 00"),
            // refused forms
            (&format!("00 A4 04 00 0D {AID_APP}"), "6A 86"),
            ("00 A4 02 00 02 A0 01", "6A 86"),
            ("00 A4 04 00 08 80 25 00 00 01 FF 01 00", "90 00"),
            ("00 A4 04 0C 05 A0 00 00 00 01", "6A 82"),
            ("00 A4 09 04 03 3F 00 00", "6A 87"),
            ("00 A4 00 0C 02 12 34", "6A 82"),
            // relative path below the current DF only (MF current after the AID select)
            ("00 A4 09 04 02 2F 01", "61 27"),
            ("00 A4 09 0C 04 3F 00 00 01", "90 00"),
            ("00 A4 09 04 02 2F 01", "6A 82"),
            ("00 A4 00 0C 02 D0 03", "90 00"),
            ("00 B0 00 0C 01", "6B 00"),
            ("00 B0 00 0B 01", "9F 90 00"),
        ],
    );
}

#[test]
fn certificates_are_the_fixture_files() {
    let mut c = card();
    for (fid, file) in [("A0 01", "sign.der"), ("A0 02", "auth.der")] {
        let der = fixture(&format!("cards/cps3/cps/{file}"));
        let a = send(&mut c, &format!("00 A4 09 04 06 3F 00 00 01 {fid}"));
        let fcp = collect(&mut c, a);
        assert_eq!(u16::from_be_bytes([fcp[4], fcp[5]]) as usize, der.len());
        let mut got = Vec::new();
        while got.len() < der.len() {
            let n = (der.len() - got.len()).min(0xE7);
            let off = got.len();
            let r = c.process(&[0, 0xB0, (off >> 8) as u8, off as u8, n as u8]);
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
            got.extend_from_slice(data(&r));
        }
        assert_eq!(got, der);
    }
}

#[test]
fn data_objects_are_placeholders_and_activities_need_the_pin() {
    let mut c = card();
    run(
        &mut c,
        &[
            ("00 A4 09 0C 06 3F 00 00 01 D1 01", "90 00"),
            ("00 B0 00 00 02", "30 xx 90 00"),
            ("00 A4 09 0C 06 3F 00 00 01 D1 20", "90 00"),
            ("00 B0 00 00 02", "69 82"),
            (PIN, "90 00"),
            ("00 B0 00 00 02", "30 xx 90 00"),
            ("00 A4 09 04 06 3F 00 00 01 70 06", "61 27"),
        ],
    );
    let dodf = {
        let a = send(&mut c, "00 C0 00 00 27");
        let size = u16::from_be_bytes([a[4], a[5]]) as usize;
        let mut out = Vec::new();
        while out.len() < size {
            let n = (size - out.len()).min(0xE7);
            let off = out.len();
            out.extend_from_slice(data(&c.process(&[
                0,
                0xB0,
                (off >> 8) as u8,
                off as u8,
                n as u8,
            ])));
        }
        out
    };
    assert!(dodf.starts_with(&hx(
        "30 1F 30 0E 0C 08 \"CPS_DATA\" 03 02 06 40 30 05 0C 03 \"CPS\" A1 06 30 04 04 02 D1 07"
    )));
    let act = hx("30 2C 30 1B 0C 12 \"CPS_ACTIVITY_01_PS\" 03 02 07 80 04 01 01 30 05 0C 03 \"CPS\" A1 06 30 04 04 02 D1 20");
    assert!(dodf.windows(act.len()).any(|w| w == act.as_slice()));
}

#[test]
fn pin_counters_by_get_data_from_mf_only() {
    let mut c = card();
    run(
        &mut c,
        &[
            ("00 A4 09 0C 02 3F 00", "90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80", "61 18"),
            ("00 C0 00 00 18", "70 16 BF 81 01 12 A0 10 9A 01 03 9B 01 03 A1 08 8C 06 F3 00 00 13 FF 00 90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80", "61 1C"),
            ("00 C0 00 00 1C", "70 1A BF 81 02 16 A0 14 9A 01 0A 9B 01 0A 9D 02 00 64 A1 08 8C 06 F3 FF 00 FF FF 00 90 00"),
            ("00 CB 3F FF 0B 4D 09 70 07 BF 81 01 03 7F 41 80", "6A 80"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF FB 05 02 7B 80", "6A 88"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 90 02 02 A0 80", "6A 88"),
            ("00 A4 09 04 04 3F 00 00 01", "90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80", "6A 88"),
            // key SDOs from DF 0001 (opensc-cpx-flow R5/R6)
            ("00 CB 3F FF 0B 4D 09 70 07 BF 90 02 03 7F 48 80", "6A 80"),
            ("00 CB 3F FF 0B 4D 09 70 07 BF 90 02 03 7F 49 80", "6A 80"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 90 02 02 A0 80", "61 16"),
            ("00 C0 00 00 16", "70 14 BF 90 02 10 A0 0E 80 02 01 00 A1 08 8C 06 3B 12 12 FF FF 00 90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 90 01 02 A0 80", "61 15"),
            ("00 C0 00 00 15", "70 13 BF 90 01 0F A0 0D 80 02 01 00 A1 07 8C 05 4B 12 FF FF 00 90 00"),
            ("00 CB 3F FF 03 4D 01 70", "6A 80"),
            ("00 CB 00 00 0A 4D 08 70 06 BF 90 01 02 A0 80", "6A 86"),
        ],
    );
}

#[test]
fn reference_login_and_sha1_signature() {
    // CPS3.md §8, byte for byte.
    let mut c = card();
    let msg = b"xxxxxxxxxxxxxxxxxxx\n";
    let answers = run(
        &mut c,
        &[
            ("00 20 00 01 00", "63 C3"),
            (PIN, "90 00"),
            ("00 20 00 01", "90 00"),
            ("00 A4 09 0C 04 3F 00 00 01", "90 00"),
            ("00 22 41 AA 03 80 01 10", "90 00"),
            ("00 2A 90 A0 18 90 00 80 14 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 0A", "90 00"),
            ("00 22 41 B6 06 80 01 12 84 01 81", "90 00"),
            ("00 2A 9E 9A 00", "61 00"),
            ("00 C0 00 00 E7", "* 61 19"),
            ("00 C0 00 00 19", "* 90 00"),
        ],
    );
    let sig = [data(&answers[8]), data(&answers[9])].concat();
    assert_eq!(sig.len(), 256);
    sign_key()
        .verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(msg), &sig)
        .expect("signature verifies with the signature certificate");
    // The digest is consumed.
    run(&mut c, &[("00 2A 9E 9A 00", "69 85")]);
}

/// The host side of PSO HASH (CPS3.md §6.4): the state after every full block but the last
/// 1..64 bytes, the bit count, the tail.
fn pso_hash_data(alg: cpscard::emulator::sha::HashAlg, msg: &[u8]) -> Vec<u8> {
    let done = if msg.len() <= 64 {
        0
    } else {
        (msg.len() - 1) / 64 * 64
    };
    let mut d = Vec::new();
    if done == 0 {
        d.extend([0x90, 0x00]);
    } else {
        let state = alg.state_after(&msg[..done]);
        d.push(0x90);
        d.push((state.len() + 8) as u8);
        d.extend(state);
        d.extend((done as u64 * 8).to_be_bytes());
    }
    d.push(0x80);
    d.push((msg.len() - done) as u8);
    d.extend_from_slice(&msg[done..]);
    d
}

#[test]
fn pso_hash_resumes_sha1_and_sha256_from_the_intermediate_state() {
    use cpscard::emulator::sha::HashAlg;
    let mut c = card();
    run(&mut c, &[(PIN, "90 00")]);
    let msg: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
    for (alg, ht, dst) in [
        (HashAlg::Sha1, 0x10u8, 0x12u8),
        (HashAlg::Sha256, 0x40, 0x42),
    ] {
        for len in [21usize, 64, 65, 128, 5000] {
            let m = &msg[..len];
            let d = pso_hash_data(alg, m);
            run(
                &mut c,
                &[
                    (&format!("00 22 41 AA 03 80 01 {ht:02X}"), "90 00"),
                    (
                        &format!("00 2A 90 A0 {:02X} {}", d.len(), hex::encode(&d)),
                        "90 00",
                    ),
                    (&format!("00 22 41 B6 06 84 01 81 80 01 {dst:02X}"), "90 00"),
                ],
            );
            let first = send(&mut c, "00 2A 9E 9A 00");
            let sig = collect(&mut c, first);
            let ok = match alg {
                HashAlg::Sha1 => {
                    sign_key().verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(m), &sig)
                }
                HashAlg::Sha256 => {
                    sign_key().verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(m), &sig)
                }
            };
            ok.unwrap_or_else(|e| panic!("{alg:?} {len}: {e}"));
        }
    }
    // Refusals: n = 0, n > 64, wrong state length, no HT of that hash.
    run(
        &mut c,
        &[
            ("00 22 41 AA 03 80 01 10", "90 00"),
            ("00 2A 90 A0 04 90 00 80 00", "6A 80"),
            ("00 2A 90 A0 06 90 02 00 00 80 00", "6A 80"),
            ("00 2A 90 A0 0B 90 05 01 02 03 04 05 80 02 61 62", "6A 80"),
            ("00 22 41 AA 03 80 01 20", "6A 80"),
        ],
    );
    let mut fresh = card();
    run(&mut fresh, &[("00 2A 90 A0 05 90 00 80 01 61", "69 85")]);
}

#[test]
fn cds_with_a_bare_hash_and_refusals() {
    let mut c = card();
    let h = Sha256::digest(b"bare hash");
    run(
        &mut c,
        &[
            ("00 22 41 B6 06 80 01 42 84 01 81", "90 00"),
            (&format!("00 2A 9E 9A 20 {}", hex::encode(h)), "69 82"),
            (PIN, "90 00"),
            (
                &format!("00 2A 9E 9A 14 {}", hex::encode(&h[..20])),
                "67 00",
            ),
        ],
    );
    let first = send(&mut c, &format!("00 2A 9E 9A 20 {}", hex::encode(h)));
    let sig = collect(&mut c, first);
    sign_key()
        .verify(Pkcs1v15Sign::new::<Sha256>(), &h, &sig)
        .unwrap();
}

#[test]
fn mse_refuses_pss_raw_rsa_wrong_keys_and_templates() {
    let mut c = card();
    run(
        &mut c,
        &[
            // PSS ids and raw RSA are refused at MSE (CPS3.md §6.3)
            ("00 22 41 B6 06 80 01 15 84 01 81", "6A 80"),
            ("00 22 41 B6 06 80 01 2C 84 01 81", "6A 80"),
            ("00 22 41 A4 06 80 01 00 84 01 82", "6A 80"),
            ("00 22 41 B8 06 80 01 00 84 01 82", "6A 80"),
            ("00 22 41 AA 03 80 01 60", "6A 80"),
            // keys in the wrong template, unknown key
            ("00 22 41 B6 06 80 01 12 84 01 82", "6A 80"),
            ("00 22 41 A4 06 80 01 02 84 01 81", "6A 80"),
            ("00 22 41 B8 06 80 01 1A 84 01 81", "6A 80"),
            ("00 22 41 B6 06 80 01 12 84 01 99", "6A 88"),
            // restore, unknown template
            ("00 22 F3 B6 06 80 01 12 84 01 81", "6A 86"),
            ("00 22 41 B4 06 80 01 12 84 01 81", "6A 86"),
            // OpenSC order (84 before 80) and 81 tolerated
            ("00 22 41 A4 06 84 01 82 80 01 02", "90 00"),
            ("00 22 41 B6 09 81 01 00 80 01 12 83 01 81", "90 00"),
            ("00 22 41 B6 04 80 01 12 85", "6A 80"),
            // order of operations: CDS without PSO HASH, INT AUTH / DECIPHER without template
            (PIN, "90 00"),
            ("00 2A 9E 9A 00", "69 85"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
        ],
    );
    let mut fresh = card();
    run(
        &mut fresh,
        &[
            (PIN, "90 00"),
            ("00 88 00 00 03 01 02 03", "69 85"),
            ("00 2A 80 86 02 81 00", "69 85"),
            ("00 2A 9E 9A 00", "69 85"),
        ],
    );
}

#[test]
fn internal_authenticate_signs_the_digestinfo_as_sent() {
    let mut c = card();
    let digest = Sha256::digest(b"tls transcript");
    let mut di = hx("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20");
    di.extend_from_slice(&digest);
    run(
        &mut c,
        &[
            ("00 22 41 A4 06 80 01 02 84 01 82", "90 00"),
            (&format!("00 88 00 00 33 {}", hex::encode(&di)), "69 82"),
            (PIN, "90 00"),
            ("00 88 01 00 03 01 02 03", "6A 86"),
        ],
    );
    // More than 102 bytes (40 % of the modulus) is refused.
    let mut long = hx("00 88 00 00 67");
    long.extend(vec![0x55; 103]);
    assert_eq!(c.process(&long), [0x67, 0x00]);
    let first = send(&mut c, &format!("00 88 00 00 33 {}", hex::encode(&di)));
    assert_eq!(first, [0x61, 0x00]);
    let sig = collect(&mut c, first);
    auth_key()
        .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
        .expect("INTERNAL AUTHENTICATE = PKCS#1 type 1 over the DigestInfo, key 82");
}

#[test]
fn decipher_round_trip_chained() {
    let mut c = card();
    let plain = b"a session key of 32 bytes.......";
    let cryptogram = auth_key()
        .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, plain)
        .unwrap();
    let mut body = vec![0x81];
    body.extend_from_slice(&cryptogram);
    let first = format!("10 2A 80 86 FF {}", hex::encode(&body[..255]));
    let last = format!("00 2A 80 86 02 {}", hex::encode(&body[255..]));
    run(
        &mut c,
        &[
            ("00 22 41 B8 06 80 01 1A 84 01 82", "90 00"),
            (&first, "90 00"),
            (&last, "69 82"),
            (PIN, "90 00"),
            (&first, "90 00"),
            (&last, "61 20"),
            ("00 C0 00 00 20", &format!("{} 90 00", hex::encode(plain))),
        ],
    );
    // Bad padding indicator, bad padding, chaining of another command.
    let mut bad = body.clone();
    bad[0] = 0x80;
    run(
        &mut c,
        &[
            (
                &format!("10 2A 80 86 FF {}", hex::encode(&bad[..255])),
                "90 00",
            ),
            (
                &format!("00 2A 80 86 02 {}", hex::encode(&bad[255..])),
                "6A 80",
            ),
            (&format!("10 2A 80 86 FF 81 {}", "00".repeat(254)), "90 00"),
            ("00 2A 80 86 02 00 05", "6A 80"),
            ("10 B0 00 00 01", "68 84"),
        ],
    );
    // The card really removed the padding: same through the apdu layer's transceive.
    let mut reader = EmulatedReader::new(c);
    let cmd = Command::new(0, 0x2A, 0x80, 0x86)
        .with_data(body)
        .with_le(256);
    let r = transceive(&mut reader, &cmd, &ExchangeRules::default()).unwrap();
    assert_eq!(r.sw, StatusWord::Success);
    assert_eq!(r.data(), plain);
}

#[test]
fn get_challenge_and_unknown_commands() {
    let mut c = card();
    let a = send(&mut c, "00 84 00 00 08");
    let b = send(&mut c, "00 84 00 00 08");
    assert_eq!((a.len(), &a[8..]), (10, &[0x90u8, 0x00][..]));
    assert_ne!(a, b);
    run(
        &mut c,
        &[
            ("00 84 00 00 10", "6C 08"),
            ("00 84 00 01 08", "6A 86"),
            ("00 46 00 00 00", "6D 00"),
            ("80 A4 00 0C 02 3F 00", "6E 00"),
            ("0C A4 00 0C 02 3F 00", "6E 00"),
            ("00 A4 00 0C 00 00 02 3F 00", "67 00"),
            ("00 B0 00", "67 00"),
            ("00 C0 00 00 10", "69 85"),
            ("00 A4 09 04 04 3F 00 2F 01", "61 27"),
            ("00 C0 00 00 30", "6C 27"),
            ("00 C0 01 00 27", "6A 86"),
            ("00 C0 00 00 10", "* 61 17"),
            ("00 84 00 00 08", "* 90 00"),
            ("00 C0 00 00 10", "69 85"),
        ],
    );
}

#[test]
fn wrong_pin_three_times_blocks_then_puk_unblocks() {
    let mut c = card();
    run(
        &mut c,
        &[
            (WRONG_PIN, "63 C2"),
            ("00 20 00 01 00", "63 C2"),
            (WRONG_PIN, "63 C1"),
            (WRONG_PIN, "63 C0"),
            (WRONG_PIN, "69 83"),
            (PIN, "69 83"),
            ("00 20 00 01 00", "69 83"),
            ("00 20 00 01", "69 83"),
            // malformed blocks cost nothing
            ("00 20 00 02 04 31 32 33 34", "6A 80"),
            ("00 20 00 02 08 31 32 33 34 35 36 37 FF", "6A 80"),
            ("00 20 00 03 00", "6A 88"),
            ("00 20 01 01 00", "6A 86"),
            // unblock: RESET RETRY COUNTER needs the PUK verified
            ("00 2C 02 01 08 35 36 37 38 FF FF FF FF", "69 82"),
            ("00 20 00 02 08 38 38 38 38 38 38 38 38", "63 C9"),
            (PUK, "90 00"),
            ("00 2C 02 01 08 35 36 37 38 FF FF FF FF", "90 00"),
            ("00 20 00 01 00", "63 C3"),
            (PIN, "63 C2"),
            ("00 20 00 01 08 35 36 37 38 FF FF FF FF", "90 00"),
            ("00 A4 09 0C 02 3F 00", "90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80", "61 1C"),
            (
                "00 C0 00 00 1C",
                "70 1A BF 81 02 16 A0 14 9A 01 0A 9B 01 0A 9D 02 00 63 * 90 00",
            ),
            // CHANGE REFERENCE DATA back to 1234 (old ‖ new)
            (
                "00 24 00 01 10 35 36 37 38 FF FF FF FF 31 32 33 34 FF FF FF FF",
                "90 00",
            ),
            ("00 20 00 01 00", "90 00"),
            (
                "00 24 00 01 10 39 39 39 39 FF FF FF FF 31 32 33 34 FF FF FF FF",
                "63 C2",
            ),
            (PIN, "90 00"),
            ("00 24 01 01 08 31 32 33 34 FF FF FF FF", "90 00"),
        ],
    );
    let counters = c.image().counters;
    assert_eq!(
        (counters.pin_tries, counters.puk_tries, counters.puk_usage),
        (3, 10, 99)
    );
}

#[test]
fn security_state_is_lost_on_reset_and_root_aid_select_only() {
    let mut c = card();
    run(
        &mut c,
        &[
            (PIN, "90 00"),
            ("00 A4 09 0C 02 3F 00", "90 00"),
            ("00 A4 09 0C 04 3F 00 00 01", "90 00"),
            (&format!("00 A4 04 0C 0D {AID_APP}"), "90 00"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            ("00 20 00 01 00", "90 00"),
            ("00 A4 04 0C 08 80 25 00 00 01 FF 01 00", "90 00"),
            ("00 20 00 01 00", "63 C3"),
            (PIN, "90 00"),
        ],
    );
    c.reset();
    run(&mut c, &[("00 20 00 01 00", "63 C3"), (PIN, "90 00")]);
    c.power_off();
    assert!(
        c.process(&hx("00 20 00 01 00")).is_empty(),
        "no answer while off"
    );
    c.power_on();
    run(&mut c, &[("00 20 00 01 00", "63 C3")]);
}

#[test]
fn digest_survives_a_refused_cds_and_pin_per_signature() {
    let mut c = card();
    c.faults_mut().pin_per_signature = true;
    let msg = b"revalidate";
    let d = pso_hash_data(cpscard::emulator::sha::HashAlg::Sha256, msg);
    run(
        &mut c,
        &[
            (PIN, "90 00"),
            ("00 22 41 AA 03 80 01 40", "90 00"),
            (
                &format!("00 2A 90 A0 {:02X} {}", d.len(), hex::encode(&d)),
                "90 00",
            ),
            ("00 22 41 B6 06 80 01 42 84 01 81", "90 00"),
            ("00 2A 9E 9A 00", "61 00"),
            // pin-per-signature: the next CDS is refused, the vendor module re-VERIFYs, re-sends
            // the MSE DST and the CDS without a new PSO HASH (CPS3.md §6.5, §7).
            (
                &format!("00 2A 90 A0 {:02X} {}", d.len(), hex::encode(&d)),
                "90 00",
            ),
            ("00 2A 9E 9A 00", "69 82"),
            (PIN, "90 00"),
            ("00 22 41 B6 06 80 01 42 84 01 81", "90 00"),
            ("00 2A 9E 9A 00", "61 00"),
        ],
    );
    let sig = collect(&mut c, vec![0x61, 0x00]);
    sign_key()
        .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), &sig)
        .unwrap();
}

#[test]
fn cps_data_update_needs_the_pin() {
    let mut c = card();
    let size = {
        let a = send(&mut c, "00 A4 09 04 06 3F 00 00 01 D1 07");
        let fcp = collect(&mut c, a);
        u16::from_be_bytes([fcp[4], fcp[5]]) as usize
    };
    let mut value = hx("30 05 0C 03 \"new\"");
    value.resize(size, 0);
    let update = format!("00 D6 00 00 {:02X} {}", size, hex::encode(&value));
    run(
        &mut c,
        &[
            (&update, "69 82"),
            (PIN, "90 00"),
            (&update, "90 00"),
            ("00 B0 00 00 07", "30 05 0C 03 \"new\" 90 00"),
            ("00 D6 00 7F 02 01 02", "6B 00"),
            ("00 A4 09 0C 06 3F 00 00 01 D1 01", "90 00"),
            ("00 D6 00 00 01 00", "69 82"),
            ("00 A4 09 0C 04 3F 00 00 01", "90 00"),
            ("00 D6 00 00 01 00", "69 86"),
        ],
    );
    assert_eq!(c.image().cps_data.as_deref(), Some(value.as_slice()));
}

#[test]
fn image_persists_counters_and_cps_data_across_reopening() {
    let path = temp_image("cps3-persist");
    {
        let mut c = EmulatedCard::open_image(&path, Generation::Cps3, "cps").unwrap();
        run(
            &mut c,
            &[
                (WRONG_PIN, "63 C2"),
                (WRONG_PIN, "63 C1"),
                (PIN, "90 00"),
                ("00 A4 09 0C 06 3F 00 00 01 D1 07", "90 00"),
                ("00 D6 00 00 03 AA BB CC", "90 00"),
                (WRONG_PIN, "63 C2"),
                (WRONG_PIN, "63 C1"),
                (WRONG_PIN, "63 C0"),
            ],
        );
        // No explicit save: the emulator is dropped as if killed.
    }
    let mut c = EmulatedCard::open_image(&path, Generation::Cps3, "cps").unwrap();
    run(
        &mut c,
        &[
            ("00 20 00 01 00", "69 83"),
            ("00 A4 09 0C 06 3F 00 00 01 D1 07", "90 00"),
            ("00 B0 00 00 04", "AA BB CC 08 90 00"),
        ],
    );
    assert!(EmulatedCard::open_image(&path, Generation::Cps4, "cps").is_err());
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temp file left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn cps2ter_volet_reads_after_login() {
    let mut c = card();
    let steps = [
        ("A0 A4 00 00 02 3F 00", "9F 0C"),
        (
            "A0 C0 00 00 0C",
            "85 0A 00 00 3F 00 01 00 00 00 00 00 90 00",
        ),
        ("A0 A4 00 00 02 7F 01", "9F 0C"),
        ("A0 A4 00 00 02 40 00", "9F 0C"),
        (
            "A0 C0 00 00 0C",
            "85 0A xx xx 40 00 04 00 00 00 00 00 90 00",
        ),
    ];
    let answers = run(&mut c, &steps);
    let size = u16::from_be_bytes([answers[4][2], answers[4][3]]);
    let read = format!("A0 B0 00 00 {size:02X}");
    run(
        &mut c,
        &[
            (&read, "69 82"),
            (PIN, "90 00"),
            ("A0 A4 00 00 02 3F 00", "9F 0C"),
            ("A0 A4 00 00 02 7F 01", "9F 0C"),
            ("A0 A4 00 00 02 40 00", "9F 0C"),
            (&read, "30 xx 0C xx \"CPS_SIT_FACT\" * 90 00"),
            ("A0 A4 00 00 02 3F 00", "9F 0C"),
            ("A0 A4 00 00 02 40 10", "9F 0C"),
            ("A0 A4 00 00 02 40 11", "9F 0C"),
            ("A0 A4 00 00 02 40 12", "94 04"),
            ("A0 B0 00 FF 01", "94 02"),
            ("A0 12 00 00 00", "6D 00"),
        ],
    );
}

#[test]
fn contactless_mode_has_no_pin_and_the_technical_key() {
    let mut c = card();
    c.set_interface(Interface::Cps3Contactless).unwrap();
    run(
        &mut c,
        &[
            ("00 A4 09 04 04 3F 00 00 02", "90 00"),
            ("00 A4 09 0C 06 3F 00 00 02 50 31", "90 00"),
            ("00 B0 00 00 24", "A0 0A 30 08 04 06 3F 00 00 01 71 02 A4 0A 30 08 04 06 3F 00 00 01 71 05 A7 0A 30 08 04 06 3F 00 00 01 71 06 90 00"),
            ("00 A4 09 0C 06 3F 00 00 01 70 01", "90 00"),
            ("00 B0 00 00 01", "69 82"),
            (PIN, "69 85"),
            ("00 22 41 A4 06 80 01 02 84 01 83", "90 00"),
            // T=1, case 3 without Le: status only [S]
            ("00 88 00 00 03 01 02 03", "90 00"),
        ],
    );
    // T=1: the data comes directly when Le is there.
    let r = c.process(&hx("00 88 00 00 03 01 02 03 00"));
    assert_eq!(r.len(), 258);
    auth_key()
        .verify(Pkcs1v15Sign::new_unprefixed(), &[1, 2, 3], data(&r))
        .expect("fixtures have no technical key: the auth key stands in");
}

#[test]
fn faults_removal_reset_status_corruption_latency_and_counters() {
    let reader = EmulatedReader::new(card());
    let handle = reader.card();
    let mut reader = reader;
    assert_eq!(reader.protocol(), Protocol::T0);
    assert_eq!(
        reader.atr(),
        hx("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")
    );
    assert!(reader.reader_name().contains("EMULATED"));

    // Removal after 2 APDUs.
    handle.lock().unwrap().faults_mut().remove_after = Some(2);
    assert_eq!(reader.transmit(&hx(PIN)).unwrap(), [0x90, 0x00]);
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")).unwrap(),
        [0x90, 0x00]
    );
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")),
        Err(TransportError::CardRemoved)
    );
    assert_eq!(reader.reconnect(false), Err(TransportError::NoCard));
    handle.lock().unwrap().reinsert();
    reader.reconnect(false).unwrap();
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")).unwrap(),
        [0x63, 0xC3],
        "state lost"
    );

    // Reset by another application after 1 APDU.
    assert_eq!(reader.transmit(&hx(PIN)).unwrap(), [0x90, 0x00]);
    handle.lock().unwrap().faults_mut().reset_after = Some(1);
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")).unwrap(),
        [0x90, 0x00]
    );
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")),
        Err(TransportError::CardReset)
    );
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")),
        Err(TransportError::CardReset)
    );
    reader.reconnect(false).unwrap();
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")).unwrap(),
        [0x63, 0xC3]
    );

    // A given SW to the 2nd APDU from now, and to every GET CHALLENGE.
    {
        let mut c = handle.lock().unwrap();
        *c.faults_mut() = Faults {
            status_at: Some((2, 0x6F00)),
            status_for_ins: Some((0x84, 0x6A81)),
            ..Faults::default()
        };
    }
    assert_eq!(
        reader.transmit(&hx("00 A4 00 0C 02 3F 00")).unwrap(),
        [0x90, 0x00]
    );
    assert_eq!(
        reader.transmit(&hx("00 A4 00 0C 02 3F 00")).unwrap(),
        [0x6F, 0x00]
    );
    assert_eq!(
        reader.transmit(&hx("00 A4 00 0C 02 3F 00")).unwrap(),
        [0x90, 0x00]
    );
    assert_eq!(
        reader.transmit(&hx("00 84 00 00 08")).unwrap(),
        [0x6A, 0x81]
    );
    handle.lock().unwrap().faults_mut().status_for_ins = None;
    assert_eq!(reader.transmit(&hx("00 84 00 00 08")).unwrap().len(), 10);

    // Corrupted signature: one bit flipped, detected by verification; the next is good again.
    let di = {
        let mut d = hx("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20");
        d.extend_from_slice(&Sha256::digest(b"x"));
        d
    };
    let rules = ExchangeRules {
        max_recv: 0xE7,
        ..ExchangeRules::default()
    };
    let sign = |reader: &mut EmulatedReader| {
        let mse = Command::new(0, 0x22, 0x41, 0xA4).with_data(hx("80 01 02 84 01 82"));
        transceive(reader, &mse, &rules).unwrap();
        let ia = Command::new(0, 0x88, 0, 0).with_data(di.clone());
        transceive(reader, &ia, &rules).unwrap()
    };
    reader.transmit(&hx(PIN)).unwrap();
    handle.lock().unwrap().faults_mut().corrupt_next_signature = true;
    let bad = sign(&mut reader);
    assert!(auth_key()
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(b"x"),
            bad.data()
        )
        .is_err());
    let good = sign(&mut reader);
    auth_key()
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(b"x"),
            good.data(),
        )
        .unwrap();

    // Counters.
    let stats = handle.lock().unwrap().stats().clone();
    assert_eq!(stats.rsa_ops, 2);
    assert_eq!(stats.ins(0x88), 2);
    assert_eq!(
        stats.ins(0xC0),
        4,
        "two GET RESPONSE (E7 + 19) per signature"
    );
    assert_eq!(stats.verify_with_data[&1], 3);
    assert!(stats.verify[&1] > stats.verify_with_data[&1]);
    assert_eq!(stats.apdus, stats.by_ins.values().sum::<u64>());

    // Latency: per APDU and per RSA operation.
    handle.lock().unwrap().set_latency(Latency::Custom {
        per_apdu: std::time::Duration::from_millis(30),
        per_rsa: std::time::Duration::from_millis(100),
    });
    let t = std::time::Instant::now();
    reader.transmit(&hx("00 A4 00 0C 02 3F 00")).unwrap();
    assert!(t.elapsed() >= std::time::Duration::from_millis(30));
    let t = std::time::Instant::now();
    sign(&mut reader);
    assert!(t.elapsed() >= std::time::Duration::from_millis(100 + 4 * 30));
    handle.lock().unwrap().set_latency(Latency::None);

    // A transaction holds the card for the whole closure.
    let mut n = 0;
    reader
        .transaction(&mut |tx| {
            n += tx.transmit(&hx("00 20 00 01 00"))?.len();
            n += tx.transmit(&hx("00 20 00 01 00"))?.len();
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 4);
    reader.reconnect(true).unwrap();
    assert_eq!(
        reader.transmit(&hx("00 20 00 01 00")).unwrap(),
        [0x63, 0xC3]
    );
}

#[test]
fn read_past_end_can_answer_the_iso_way() {
    let mut c = card();
    c.faults_mut().read_past_end = cpscard::emulator::ReadPastEnd::EndOfFile;
    run(
        &mut c,
        &[
            ("00 A4 09 0C 04 3F 00 D0 03", "90 00"),
            (
                "00 B0 00 00 C0",
                "5A 0A 80 25 00 00 01 12 34 56 78 9F 62 82",
            ),
        ],
    );
}

#[test]
fn every_builtin_card_builds() {
    for name in EmulatedCard::builtin_names() {
        for gen in [Generation::Cps3, Generation::Cps4] {
            let c =
                EmulatedCard::builtin(gen, name).unwrap_or_else(|e| panic!("{gen} {name}: {e}"));
            assert_eq!(c.generation(), gen);
        }
    }
    assert!(EmulatedCard::builtin(Generation::Cps3, "nope").is_err());
    assert!("cps5".parse::<Generation>().is_err());
    assert_eq!("CPS4".parse::<Generation>().unwrap(), Generation::Cps4);
}

#[test]
fn ef_sn_and_token_info_follow_card_json_for_every_builtin() {
    for gen in ["cps3", "cps4"] {
        for name in EmulatedCard::builtin_names() {
            let json: serde_json::Value =
                serde_json::from_slice(&fixture(&format!("cards/{gen}/{name}/card.json"))).unwrap();
            let mut c = EmulatedCard::builtin(gen.parse().unwrap(), name).unwrap();
            let (cla, select_sn, select_ti) = if gen == "cps3" {
                (
                    0u8,
                    "00 A4 09 0C 04 3F 00 D0 03",
                    "00 A4 09 0C 06 3F 00 00 01 50 32",
                )
            } else {
                run(
                    &mut c,
                    &[("01 A4 04 0C 08 80 25 00 00 01 FF 01 00", "90 00")],
                );
                (1u8, "01 A4 08 0C 02 D0 03", "01 A4 08 0C 04 00 01 50 32")
            };
            run(&mut c, &[(select_sn, "90 00")]);
            let sn = c.process(&[cla, 0xB0, 0, 0, 12]);
            let want = json["sn_icc"].as_str().map(hx);
            if let Some(want) = want {
                assert_eq!(data(&sn), want.as_slice(), "{gen}/{name}");
            }
            run(&mut c, &[(select_ti, "90 00")]);
            let head = c.process(&[cla, 0xB0, 0, 0, 0x30]);
            let label = json["label"].as_str().unwrap();
            assert!(
                head.windows(label.len()).any(|w| w == label.as_bytes()),
                "{gen}/{name}: label {label} in TokenInfo"
            );
        }
    }
}

#[test]
fn puk_exhaustion_and_usage_counter() {
    let mut c = card();
    let wrong = "00 20 00 02 08 30 30 30 30 30 30 30 30";
    for left in (0..10).rev() {
        run(&mut c, &[(wrong, &format!("63 C{left:X}"))]);
    }
    run(
        &mut c,
        &[
            (PUK, "69 83"),
            ("00 20 00 02 00", "69 83"),
            ("00 A4 09 0C 02 3F 00", "90 00"),
            ("00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80", "61 1C"),
            (
                "00 C0 00 00 1C",
                "70 1A BF 81 02 16 A0 14 9A 01 0A 9B 01 00 9D 02 00 64 * 90 00",
            ),
        ],
    );
    // A card whose PUK usage counter is spent: the PUK is unusable (the driver reads 0 tries).
    let mut img = c.image().clone();
    img.counters = cpscard::emulator::Counters {
        pin_tries: 0,
        puk_tries: 10,
        puk_usage: 1,
    };
    let mut c = EmulatedCard::from_image(img, None).unwrap();
    run(
        &mut c,
        &[
            (PUK, "90 00"),
            ("00 2C 03 01", "90 00"),
            (PIN, "90 00"),
            ("00 2C 03 01", "69 83"),
            (PUK, "69 83"),
        ],
    );
}

#[test]
fn t0_case4_with_or_without_le_and_ef_actua() {
    let mut c = card();
    run(
        &mut c,
        &[
            ("00 A4 09 04 04 3F 00 2F 01 00", "61 27"),
            ("00 A4 09 04 04 3F 00 2F 01", "61 27"),
            ("00 A4 09 04 04 3F 00 D0 10", "6A 82"),
        ],
    );
    c.set_ef_actua(Some(hx(
        "EC 12 81 07 20 24 01 15 10 30 00 82 07 20 24 01 15 10 31 00",
    )));
    run(
        &mut c,
        &[
            ("00 A4 09 04 04 3F 00 D0 10", "61 27"),
            ("00 C0 00 00 27", "62 25 80 02 00 14 * 90 00"),
            (
                "00 B0 00 00 14",
                "EC 12 81 07 20 24 01 15 10 30 00 82 07 20 24 01 15 10 31 00 90 00",
            ),
        ],
    );
    c.set_ef_actua(None);
    run(
        &mut c,
        &[
            ("00 A4 09 04 04 3F 00 D0 10", "6A 82"),
            ("00 B0 00 00 01", "69 86"),
        ],
    );
}
