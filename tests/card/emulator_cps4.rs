//! The software CPS4 against the profile (`/work/shared/cards/CPS4.md`): logical channel 1,
//! the vendor module's select model (`P1 = 08`, FCI `6F`), T=1 and T=0 ATRs, ChipDoc MSE/PSO
//! (PKCS#1 v1.5 and PSS), raw PSO DECIPHER, PIN/PUK.

use crate::emulator_common;

use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Interface, VirtualCard};
use cpscard::transport::{Protocol, Transport};
use emulator_common::*;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, Pss};
use sha1::{Digest, Sha1};
use sha2::Sha256;

const OPEN: &str = "01 A4 04 0C 08 80 25 00 00 01 FF 01 00";
const PIN: &str = "01 20 00 81 08 31 32 33 34 FF FF FF FF";
const WRONG_PIN: &str = "01 20 00 81 08 39 39 39 39 FF FF FF FF";
const PUK: &str = "01 20 00 82 08 31 32 33 34 35 36 37 38";

fn card() -> EmulatedCard {
    EmulatedCard::builtin(Generation::Cps4, "cps").unwrap()
}
fn t0_card() -> EmulatedCard {
    let mut c = card();
    c.set_interface(Interface::Cps4T0).unwrap();
    c
}
fn sign_key() -> rsa::RsaPublicKey {
    cert_key(&fixture("cards/cps4/cps/sign.der"))
}
fn auth_key() -> rsa::RsaPublicKey {
    cert_key(&fixture("cards/cps4/cps/auth.der"))
}

#[test]
fn three_atrs_and_their_protocols() {
    let mut c = card();
    assert_eq!(
        c.atr(),
        hx("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44")
    );
    assert_eq!(c.protocol(), Protocol::T1);
    c.set_interface(Interface::Cps4ReleaseCandidate).unwrap();
    assert_eq!(
        c.atr(),
        hx("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44")
    );
    assert_eq!(c.protocol(), Protocol::T1);
    c.set_interface(Interface::Cps4T0).unwrap();
    assert_eq!(
        c.atr(),
        hx("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00")
    );
    assert_eq!(c.protocol(), Protocol::T0);
    // TCK of the T=1 ATRs is valid (XOR of T0..TCK = 0).
    for atr in [
        hx("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"),
        hx("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44"),
    ] {
        assert_eq!(atr[1..].iter().fold(0u8, |a, b| a ^ b), 0);
    }
    assert!(c.set_interface(Interface::Cps3Contact).is_err());
    let reader = EmulatedReader::new(t0_card());
    assert_eq!(reader.protocol(), Protocol::T0);
}

#[test]
fn channel_1_is_opened_by_the_chipdoc_select() {
    let mut c = card();
    run(
        &mut c,
        &[
            ("01 20 00 81", "68 81"),
            ("01 A4 08 00 02 D0 03 00", "68 81"),
            ("02 A4 04 0C 08 80 25 00 00 01 FF 01 00", "68 81"),
            ("01 A4 04 0C 05 01 02 03 04 05", "6A 82"),
            ("01 20 00 81", "68 81"),
            (OPEN, "90 00"),
            ("01 20 00 81", "63 C3"),
            // channel 1 open, ChipDoc not selected on it: 69 85 [S]
            ("01 A4 04 0C 07 A0 00 00 01 51 00 00", "90 00"),
            ("01 20 00 81", "69 85"),
            ("01 A4 08 00 02 D0 03 00", "69 85"),
            (OPEN, "90 00"),
            ("01 20 00 81", "63 C3"),
            // MANAGE CHANNEL close, then the channel is closed again
            ("00 70 80 01", "90 00"),
            ("01 20 00 81", "68 81"),
            ("00 70 00 00 01", "01 90 00"),
            ("01 20 00 81", "69 85"),
            (OPEN, "90 00"),
            ("01 20 00 81", "63 C3"),
        ],
    );
    c.reset();
    run(&mut c, &[("01 20 00 81", "68 81")]);
}

#[test]
fn vendor_binding_flow_t1() {
    // CPS4.md §4: every file by P1=08 P2=00, EFs with Le 00 under T=1, FCI 6F.
    let mut c = card();
    let ef_dir = "61 2F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 07 43 50 53 20 49 41 53 51 04 3F 00 00 01 73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 90 00";
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 A4 08 00 02 D0 03 00", "6F 0E 80 02 00 0C 82 01 01 83 02 D0 03 8A 01 05 90 00"),
            ("01 B0 00 00 0C", "5A 0A 80 25 00 00 01 12 34 56 78 9F 90 00"),
            ("01 A4 08 00 02 2F 00 00", "6F 0E 80 02 00 31 82 01 01 83 02 2F 00 8A 01 05 90 00"),
            ("01 A4 08 00 02 2F 00 00", "6F 0E 80 02 00 31 * 90 00"),
            ("01 B0 00 00 31", ef_dir),
            ("01 A4 08 00 02 00 01", "90 00"),
            ("01 A4 08 00 04 00 01 50 31 00", "6F 0E 80 02 00 30 82 01 01 83 02 50 31 8A 01 05 90 00"),
            ("01 B0 00 00 30", "A8 0A 30 08 04 06 3F 00 00 01 70 01 A0 0A 30 08 04 06 3F 00 00 01 70 02 A4 0A 30 08 04 06 3F 00 00 01 70 05 A7 0A 30 08 04 06 3F 00 00 01 70 06 90 00"),
            ("01 A4 08 00 04 00 01 50 32 00", "6F 0E 80 02 00 30 * 90 00"),
            ("01 B0 00 00 30", "30 2E 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A \"ASIP-SANTE\" 80 0D \"CPS4-12345678\" 03 02 05 60 90 00"),
            ("01 A4 08 00 04 00 01 70 01 00", "6F 0E 80 02 00 94 * 90 00"),
            ("01 B0 00 00 94", "30 47 30 24 0C 1C \"Code porteur de la carte CPS\" 03 01 00 04 01 02 30 03 04 01 01 A1 1A 30 18 03 03 04 0C 10 0A 01 01 02 01 04 02 01 08 02 01 04 80 02 00 81 04 01 FF 30 49 * 80 02 00 82 04 01 FF 90 00"),
            ("01 A4 08 00 04 00 01 70 02 00", "6F 0E 80 02 00 A1 * 90 00"),
            ("01 A4 08 00 04 00 01 70 05 00", "6F 0E 80 02 00 9A * 90 00"),
            ("01 B0 00 00 9A", "30 48 30 2A 0C 1B \"Certificat de Signature CPS\" * A1 08 30 06 30 04 04 02 A0 20 90 00"),
            ("01 A4 08 00 04 00 01 70 06 00", "6F 0E 80 02 xx xx 82 01 01 83 02 70 06 8A 01 05 90 00"),
            ("01 A4 08 00 04 00 01 D1 01 00", "6F 0E * 90 00"),
            ("01 A4 08 00 04 00 01 C0 10 00", "6F 0E * 90 00"),
            ("01 A4 08 00 04 00 01 C0 07 00", "6F 0E * 90 00"),
            ("01 A4 08 0C 04 00 01 D1 01", "90 00"),
            ("01 A4 08 00 04 00 01 D0 03 00", "6A 82"),
            ("01 A4 08 00 03 00 01 D0 00", "6A 87"),
            ("01 A4 05 00 02 D0 03 00", "6A 86"),
            // case 3 under T=1: status only
            ("01 A4 08 00 02 D0 03", "90 00"),
        ],
    );
    // Certificates are the fixture files, read in 256-byte chunks (Le 00).
    for (fid, file) in [("A0 10", "sign.der"), ("A0 20", "auth.der")] {
        let der = fixture(&format!("cards/cps4/cps/{file}"));
        let fci = send(&mut c, &format!("01 A4 08 00 04 00 01 {fid} 00"));
        assert_eq!(u16::from_be_bytes([fci[4], fci[5]]) as usize, der.len());
        let mut got = Vec::new();
        while got.len() < der.len() {
            let n = (der.len() - got.len()).min(256);
            let off = got.len();
            let r = c.process(&[1, 0xB0, (off >> 8) as u8, off as u8, (n % 256) as u8]);
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
            got.extend_from_slice(data(&r));
        }
        assert_eq!(got, der);
    }
}

#[test]
fn t0_atr_answers_61xx_and_get_response_on_channel_1() {
    let mut c = t0_card();
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 A4 08 00 02 D0 03", "61 10"),
            (
                "01 C0 00 00 10",
                "6F 0E 80 02 00 0C 82 01 01 83 02 D0 03 8A 01 05 90 00",
            ),
            (
                "01 B0 00 00 0C",
                "5A 0A 80 25 00 00 01 12 34 56 78 9F 90 00",
            ),
            ("01 20 00 81 00", "63 C3"),
            (PIN, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "90 00"),
        ],
    );
    let h = Sha256::digest(b"t0");
    run(
        &mut c,
        &[(&format!("01 2A 9E 9A 20 {}", hex::encode(h)), "61 00")],
    );
    let r = send(&mut c, "01 C0 00 00 00");
    assert_eq!(&r[256..], &[0x90, 0x00]);
    sign_key()
        .verify(Pkcs1v15Sign::new::<Sha256>(), &h, data(&r))
        .unwrap();
}

fn logged_in() -> EmulatedCard {
    let mut c = card();
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 A4 08 00 02 00 01", "90 00"),
            (PIN, "90 00"),
        ],
    );
    c
}

#[test]
fn pkcs1_and_pss_signatures_with_both_keys_verify() {
    let mut c = logged_in();
    for (key_byte, key) in [(0x90u8, sign_key()), (0xA0, auth_key())] {
        for alg in [0x0Au8, 0x28, 0x15, 0x2C] {
            let msg = format!("message for {alg:02X}/{key_byte:02X}");
            let hash: Vec<u8> = match alg {
                0x0A | 0x15 => Sha1::digest(msg.as_bytes()).to_vec(),
                _ => Sha256::digest(msg.as_bytes()).to_vec(),
            };
            run(
                &mut c,
                &[(
                    &format!("01 22 81 B6 04 91 02 {alg:02X} {key_byte:02X}"),
                    "90 00",
                )],
            );
            let r = send(
                &mut c,
                &format!("01 2A 9E 9A {:02X} {} 00", hash.len(), hex::encode(&hash)),
            );
            assert_eq!(
                r.len(),
                258,
                "{alg:02X}: {}",
                hex::encode(&r[r.len() - 2..])
            );
            let sig = data(&r);
            let ok = match alg {
                0x0A => key.verify(Pkcs1v15Sign::new::<Sha1>(), &hash, sig),
                0x28 => key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, sig),
                0x15 => key.verify(Pss::new_with_salt::<Sha1>(20), &hash, sig),
                _ => key.verify(Pss::new_with_salt::<Sha256>(32), &hash, sig),
            };
            ok.unwrap_or_else(|e| panic!("alg {alg:02X} key {key_byte:02X}: {e}"));
        }
    }
    // PSS salt is random: two signatures of the same hash differ.
    let h = Sha256::digest(b"same");
    run(&mut c, &[("01 22 81 B6 04 91 02 2C A0", "90 00")]);
    let cds = format!("01 2A 9E 9A 20 {} 00", hex::encode(h));
    assert_ne!(send(&mut c, &cds), send(&mut c, &cds));
}

#[test]
fn mse_and_cds_refusals() {
    let mut c = card();
    let h = hex::encode(Sha256::digest(b"x"));
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 22 81 B6 04 91 02 29 90", "6A 80"),
            ("01 22 81 B6 04 91 02 09 90", "6A 80"),
            ("01 22 81 B6 04 91 02 28 91", "6A 88"),
            ("01 22 41 B6 06 80 01 42 84 01 81", "6A 80"),
            ("01 22 81 B6 03 80 01 28", "6A 80"),
            ("01 22 41 B8 03 83 01 10", "6A 88"),
            ("01 22 41 B8 03 80 01 1A", "6A 80"),
            ("01 22 F3 B6 00", "6A 86"),
            (&format!("01 2A 9E 9A 20 {h} 00"), "69 85"),
            ("01 22 81 B6 04 91 02 28 90", "90 00"),
            (&format!("01 2A 9E 9A 20 {h} 00"), "69 82"),
            (PIN, "90 00"),
            ("01 2A 9E 9A 00", "69 85"),
            (&format!("01 2A 9E 9A 14 {} 00", &h[..40]), "67 00"),
            ("01 2A 90 A0 05 90 00 80 01 61", "6A 86"),
            ("01 88 00 00 03 01 02 03 00", "6D 00"),
            ("01 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80 00", "6D 00"),
            ("81 A4 08 00 02 D0 03 00", "6E 00"),
            ("01 A4 08 00 00 00 02 D0 03", "67 00"),
            ("01 84 00 00 08", "* 90 00"),
            ("01 84 00 00 04", "6C 08"),
        ],
    );
}

#[test]
fn raw_decipher_round_trip_and_tls_style_signature() {
    let mut c = logged_in();
    let pubkey = auth_key();
    // C_Decrypt: the card returns the raw block, the host strips the type-2 padding.
    let plain = b"premaster secret";
    let cryptogram = pubkey
        .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, plain)
        .unwrap();
    let first = format!("11 2A 80 86 FF {}", hex::encode(&cryptogram[..255]));
    let last = format!("01 2A 80 86 01 {} 00", hex::encode(&cryptogram[255..]));
    run(
        &mut c,
        &[("01 22 41 B8 03 83 01 20", "90 00"), (&first, "90 00")],
    );
    let r = send(&mut c, &last);
    assert_eq!(r.len(), 258);
    let block = data(&r);
    assert_eq!(&block[..2], &[0x00, 0x02], "nothing stripped");
    let sep = block[2..].iter().position(|&b| b == 0).unwrap() + 2;
    assert_eq!(&block[sep + 1..], plain);

    // TLS 1.2 client auth: the host pads a DigestInfo (type 1), the card does m^d.
    let mut di = hx("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20");
    di.extend_from_slice(&Sha256::digest(b"handshake"));
    let mut em = vec![0x00, 0x01];
    em.resize(256 - di.len() - 1, 0xFF);
    em.push(0);
    em.extend_from_slice(&di);
    run(
        &mut c,
        &[(
            &format!("11 2A 80 86 FF {}", hex::encode(&em[..255])),
            "90 00",
        )],
    );
    let r = send(
        &mut c,
        &format!("01 2A 80 86 01 {} 00", hex::encode(&em[255..])),
    );
    pubkey
        .verify(Pkcs1v15Sign::new_unprefixed(), &di, data(&r))
        .expect("raw RSA with the auth key");

    // Refusals: block ≥ modulus, wrong length, no CT, no PIN.
    run(
        &mut c,
        &[
            (&format!("11 2A 80 86 FF {}", "FF".repeat(255)), "90 00"),
            ("01 2A 80 86 01 FF 00", "6A 80"),
            ("01 2A 80 86 02 00 01 00", "67 00"),
        ],
    );
    let mut fresh = logged_in();
    run(&mut fresh, &[("01 2A 80 86 01 00 00", "69 85")]);
    let mut no_pin = card();
    run(
        &mut no_pin,
        &[
            (OPEN, "90 00"),
            ("01 22 41 B8 03 83 01 20", "90 00"),
            (&first, "90 00"),
            (&last, "69 82"),
        ],
    );
}

#[test]
fn pin_block_unblock_and_change() {
    let mut c = card();
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 20 00 81", "63 C3"),
            ("01 20 00 82", "63 CA"),
            (WRONG_PIN, "63 C2"),
            (WRONG_PIN, "63 C1"),
            (WRONG_PIN, "63 C0"),
            (WRONG_PIN, "69 83"),
            ("01 20 00 81", "69 83"),
            (PIN, "69 83"),
            // unblock (CPS4.md §6.2): SO login, RESET RETRY COUNTER, CHANGE P1=01
            ("01 2C 03 81", "69 82"),
            (PUK, "90 00"),
            ("01 20 00 82", "90 00"),
            ("01 2C 03 81", "90 00"),
            ("01 24 01 81 08 35 36 37 38 FF FF FF FF", "90 00"),
            ("01 20 00 81", "63 C3"),
            ("01 20 00 81 08 35 36 37 38 FF FF FF FF", "90 00"),
            // C_SetPIN: VERIFY old, then CHANGE P1=01 with the new PIN
            ("01 24 01 81 08 31 32 33 34 FF FF FF FF", "90 00"),
            ("01 20 00 81", "90 00"),
            ("01 20 00 83", "6A 88"),
            ("01 2C 03 82", "6A 88"),
        ],
    );
    let mut c2 = card();
    run(
        &mut c2,
        &[
            (OPEN, "90 00"),
            ("01 24 01 81 08 35 36 37 38 FF FF FF FF", "69 82"),
            (PIN, "90 00"),
        ],
    );
}

#[test]
fn cps_data_is_writable_after_login_and_persists() {
    let path = temp_image("cps4-persist");
    {
        let mut c = EmulatedCard::open_image(&path, Generation::Cps4, "cps").unwrap();
        run(
            &mut c,
            &[
                (OPEN, "90 00"),
                ("01 A4 08 00 04 00 01 D1 07 00", "6F 0E 80 02 00 80 * 90 00"),
                ("01 D6 00 00 02 01 02", "69 82"),
                (PIN, "90 00"),
                ("01 D6 00 00 02 01 02", "90 00"),
                (WRONG_PIN, "63 C2"),
            ],
        );
    }
    let mut c = EmulatedCard::open_image(&path, Generation::Cps4, "cps").unwrap();
    run(
        &mut c,
        &[
            (OPEN, "90 00"),
            ("01 20 00 81", "63 C2"),
            ("01 A4 08 0C 04 00 01 D1 07", "90 00"),
            ("01 B0 00 00 03", "01 02 0C 90 00"),
        ],
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn cps2ter_applet_on_the_basic_channel() {
    let mut c = card();
    run(
        &mut c,
        &[
            ("A0 A4 00 00 02 3F 00", "6E 00"),
            ("00 A4 04 0C 08 80 25 00 00 01 FF 00 02", "90 00"),
            ("A0 A4 00 00 02 3F 00", "9F 0C"),
            ("A0 A4 00 00 02 7F 01", "9F 0C"),
            ("A0 A4 00 00 02 40 00", "9F 0C"),
            (
                "A0 C0 00 00 0C",
                "85 0A xx xx 40 00 04 00 00 00 00 00 90 00",
            ),
            ("A0 B0 00 00 02", "69 82"),
            (OPEN, "90 00"),
            (PIN, "90 00"),
            ("A0 B0 00 00 02", "30 xx 90 00"),
        ],
    );
}
