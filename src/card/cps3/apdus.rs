//! Every command the CPS3 (IAS-ECC) driver sends, byte-exact as CPS3.md §5-6 and §9 write
//! them. Pure functions; the driver adds nothing but a T=1 Le where noted. READ/UPDATE
//! BINARY, VERIFY and GET CHALLENGE have the ISO form ([`iso_commands`], CLA [`CLA`]); the
//! tests below check their bytes too.

use crate::apdu::Command;
use crate::card::hash::{CardHashInput, HashAlg};
use crate::card::iso_commands;
use crate::card::path::FilePath;
use crate::card::types::KeyRef;

/// CLA of IAS-ECC commands.
pub const CLA: u8 = 0x00;
/// CLA of the CPS2ter volet (CPS3.md §9).
pub const CLA_CPS2TER: u8 = 0xA0;
/// SFI of EF.SN.ICC in the MF (FCP `88 01 E0`, CPS3.md §3.1).
pub const SFI_EF_SN: u8 = 0x1C;
/// Largest chunk of READ BINARY / GET RESPONSE: EF.ATR I/O buffer `0100` (CPS3.md §2).
pub const MAX_READ: usize = 256;
/// Largest UPDATE BINARY data (short Lc).
pub const MAX_WRITE: usize = 255;
/// INTERNAL AUTHENTICATE input limit: 40 % of a 2048-bit modulus (CPS3.md §6.6).
pub const MAX_INTERNAL_AUTH: usize = 102;

/// `00 A4 09 04|0C Lc <path with 3F00>`: select by path from the MF, with (`04`) or without
/// (`0C`) the FCP (CPS3.md §6.1). Case 3 as written (T=0 drops Le).
pub fn select_path(path: &FilePath, with_fcp: bool) -> Command {
    Command::new(CLA, 0xA4, 0x09, if with_fcp { 0x04 } else { 0x0C }).with_data(path.to_bytes())
}

/// The IAS-ECC root application (the MF), in EF.ATR (CPS3.md §3.2, §6.1).
pub const ROOT_AID: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00];

/// `00 A4 04 00 08 <root AID>`: SELECT of the root by name, which resets the security state
/// (IAS-ECC logout, CPS3.md §6.1, §7); answers `90 00` without data.
pub fn select_root_by_name() -> Command {
    Command::new(CLA, 0xA4, 0x04, 0x00).with_data(ROOT_AID.to_vec())
}

/// `00 B0 <80|SFI> 00 Le`: read an EF of the current DF by short identifier.
pub fn read_binary_sfi(sfi: u8, le: usize) -> Command {
    Command::new(CLA, 0xB0, 0x80 | (sfi & 0x1F), 0x00).with_le(le)
}

/// `00 24 00 <ref> 10 <old 8> <new 8>` (CPS3.md §5.3).
pub fn change_reference_data(reference: u8, old: &[u8], new: &[u8]) -> Command {
    let mut data = zeroize::Zeroizing::new(Vec::with_capacity(old.len() + new.len()));
    data.extend_from_slice(old);
    data.extend_from_slice(new);
    Command::new(CLA, 0x24, 0x00, reference).with_data(data.to_vec())
}

/// `00 2C 02 <ref> 08 <new>`: new PIN, PUK verified before (CPS3.md §5.4).
pub fn reset_retry_counter(reference: u8, new: &[u8]) -> Command {
    Command::new(CLA, 0x2C, 0x02, reference).with_data(new.to_vec())
}

/// `00 CB 3F FF 0A 4D 08 70 06 BF 81 <ref> 02 A0 80`: GET DATA of the PIN/PUK SDO counters,
/// from the MF (CPS3.md §5.1).
pub fn get_data_pin(reference: u8) -> Command {
    Command::new(CLA, 0xCB, 0x3F, 0xFF).with_data(vec![
        0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, reference, 0x02, 0xA0, 0x80,
    ])
}

/// Control reference templates of MSE SET (CPS3.md §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// HT `AA`: hash for PSO HASH.
    Hash = 0xAA,
    /// DST `B6`: PSO COMPUTE DIGITAL SIGNATURE.
    Signature = 0xB6,
    /// AT `A4`: INTERNAL AUTHENTICATE.
    Authentication = 0xA4,
    /// CT `B8`: PSO DECIPHER.
    Confidentiality = 0xB8,
}

/// Algorithm references of CPS3.md §6.3 (= TokenInfo algRefs).
pub fn hash_alg_ref(h: HashAlg) -> u8 {
    match h {
        HashAlg::Sha1 => 0x10,
        HashAlg::Sha256 => 0x40,
    }
}

/// DST algorithm reference: RSA PKCS#1 v1.5 with SHA-1 (`12`) / SHA-256 (`42`).
pub fn signature_alg_ref(h: HashAlg) -> u8 {
    match h {
        HashAlg::Sha1 => 0x12,
        HashAlg::Sha256 => 0x42,
    }
}

/// AT algorithm: RSA PKCS#1 v1.5, card pads (`02`).
pub const ALG_INTERNAL_AUTH: u8 = 0x02;
/// CT algorithm: RSA PKCS#1 v1.5 decipher, card unpads (`1A`).
pub const ALG_DECIPHER: u8 = 0x1A;

/// `00 22 41 <tpl> Lc 80 01 <alg> [84 01 <key>]` — `80` before `84`, byte-exact.
pub fn mse_set(template: Template, alg: u8, key: Option<KeyRef>) -> Command {
    let mut data = vec![0x80, 0x01, alg];
    if let Some(k) = key {
        data.extend_from_slice(&[0x84, 0x01, k.0]);
    }
    Command::new(CLA, 0x22, 0x41, template as u8).with_data(data)
}

/// `00 2A 90 A0 Lc 90 <L> [<state> <bit count 8>] 80 <n> <last n bytes>` (CPS3.md §6.4).
pub fn pso_hash(input: &CardHashInput) -> Command {
    let mut data = Vec::with_capacity(4 + 40 + input.tail.len());
    if input.state.is_empty() {
        data.extend_from_slice(&[0x90, 0x00]);
    } else {
        data.push(0x90);
        data.push((input.state.len() + 8) as u8);
        data.extend_from_slice(&input.state);
        data.extend_from_slice(&input.bits_hashed.to_be_bytes());
    }
    data.push(0x80);
    data.push(input.tail.len() as u8);
    data.extend_from_slice(&input.tail);
    Command::new(CLA, 0x2A, 0x90, 0xA0).with_data(data)
}

/// `00 2A 9E 9A 00`: PSO CDS over the digest PSO HASH left (CPS3.md §6.5).
pub fn pso_cds_after_hash() -> Command {
    Command::new(CLA, 0x2A, 0x9E, 0x9A).with_le(256)
}

/// `00 2A 9E 9A 14|20 <hash>`: PSO CDS over a hash computed by the host (CPS3.md §6.5).
pub fn pso_cds_with_hash(hash: &[u8]) -> Command {
    Command::new(CLA, 0x2A, 0x9E, 0x9A).with_data(hash.to_vec())
}

/// `00 88 00 00 Lc <data>` (CPS3.md §6.6).
pub fn internal_authenticate(data: &[u8]) -> Command {
    Command::new(CLA, 0x88, 0x00, 0x00).with_data(data.to_vec())
}

/// `00 2A 80 86 <81 ‖ cryptogram>`: 257 bytes, chained by the exchange into
/// `10 2A 80 86 FF 81 <254>` + `00 2A 80 86 02 <2>` (CPS3.md §6.7).
pub fn pso_decipher(cryptogram: &[u8]) -> Command {
    let mut data = Vec::with_capacity(1 + cryptogram.len());
    data.push(0x81);
    data.extend_from_slice(cryptogram);
    Command::new(CLA, 0x2A, 0x80, 0x86).with_data(data)
}

/// `A0 A4 00 00 02 <FID>`: CPS2ter SELECT (CPS3.md §9).
pub fn cps2ter_select(fid: u16) -> Command {
    Command::new(CLA_CPS2TER, 0xA4, 0x00, 0x00).with_data(fid.to_be_bytes().to_vec())
}

/// `A0 C0 00 00 <len>`: CPS2ter GET RESPONSE.
pub fn cps2ter_get_response(len: usize) -> Command {
    Command::new(CLA_CPS2TER, 0xC0, 0x00, 0x00).with_le(len)
}

/// `A0 B0 <off> <len>`: CPS2ter READ BINARY.
pub fn cps2ter_read(offset: usize, len: usize) -> Command {
    iso_commands::read_binary(CLA_CPS2TER, offset, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::hash::MessageHasher;
    use crate::card::iso_commands::{
        get_challenge, read_binary, update_binary, verify, verify_status,
    };
    use crate::card::testing::{cmd_hex, h};

    #[test]
    fn selects_reads_and_writes() {
        let sn = FilePath::from_fids(&[0xD003]);
        assert_eq!(
            cmd_hex(&select_path(&sn, true)),
            h("00 A4 09 04 04 3F 00 D0 03")
        );
        let app = FilePath::from_fids(&[0x0001]);
        assert_eq!(
            cmd_hex(&select_path(&app, false)),
            h("00 A4 09 0C 04 3F 00 00 01")
        );
        assert_eq!(
            cmd_hex(&select_path(&FilePath::mf(), false)),
            h("00 A4 09 0C 02 3F 00")
        );
        assert_eq!(
            cmd_hex(&select_path(&app.child(0x5031), true)),
            h("00 A4 09 04 06 3F 00 00 01 50 31")
        );
        assert_eq!(cmd_hex(&read_binary(CLA, 0, 0x0C)), h("00 B0 00 00 0C"));
        assert_eq!(cmd_hex(&read_binary(CLA, 0x1E7, 256)), h("00 B0 01 E7 00"));
        assert_eq!(
            cmd_hex(&read_binary_sfi(SFI_EF_SN, 12)),
            h("00 B0 9C 00 0C")
        );
        assert_eq!(
            cmd_hex(&update_binary(CLA, 0, &[1, 2])),
            h("00 D6 00 00 02 01 02")
        );
    }

    #[test]
    fn pin_commands() {
        let pin = [0x31, 0x32, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(
            cmd_hex(&verify(CLA, 1, &pin)),
            h("00 20 00 01 08 31 32 33 34 FF FF FF FF")
        );
        assert_eq!(cmd_hex(&verify_status(CLA, 1)), h("00 20 00 01"));
        assert_eq!(
            cmd_hex(&verify(CLA, 2, b"12345678")),
            h("00 20 00 02 08 3132333435363738")
        );
        assert_eq!(
            cmd_hex(&change_reference_data(
                1,
                &pin,
                &[0x35, 0x36, 0x37, 0x38, 0xFF, 0xFF, 0xFF, 0xFF]
            )),
            h("00 24 00 01 10 31323334FFFFFFFF 35363738FFFFFFFF")
        );
        assert_eq!(
            cmd_hex(&reset_retry_counter(1, &pin)),
            h("00 2C 02 01 08 31 32 33 34 FF FF FF FF")
        );
        assert_eq!(
            cmd_hex(&get_data_pin(1)),
            h("00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80")
        );
        assert_eq!(
            cmd_hex(&get_data_pin(2)),
            h("00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80")
        );
        // PIN data is masked in traces
        assert!(!verify(CLA, 1, &pin).trace_hex().contains("31323334"));
    }

    #[test]
    fn mse_is_byte_exact() {
        let sig = Some(KeyRef::CPS3_SIGNATURE);
        let aut = Some(KeyRef::CPS3_AUTHENTICATION);
        assert_eq!(
            cmd_hex(&mse_set(Template::Hash, hash_alg_ref(HashAlg::Sha1), None)),
            h("00 22 41 AA 03 80 01 10")
        );
        assert_eq!(
            cmd_hex(&mse_set(
                Template::Hash,
                hash_alg_ref(HashAlg::Sha256),
                None
            )),
            h("00 22 41 AA 03 80 01 40")
        );
        assert_eq!(
            cmd_hex(&mse_set(
                Template::Signature,
                signature_alg_ref(HashAlg::Sha1),
                sig
            )),
            h("00 22 41 B6 06 80 01 12 84 01 81")
        );
        assert_eq!(
            cmd_hex(&mse_set(
                Template::Signature,
                signature_alg_ref(HashAlg::Sha256),
                sig
            )),
            h("00 22 41 B6 06 80 01 42 84 01 81")
        );
        assert_eq!(
            cmd_hex(&mse_set(Template::Authentication, ALG_INTERNAL_AUTH, aut)),
            h("00 22 41 A4 06 80 01 02 84 01 82")
        );
        assert_eq!(
            cmd_hex(&mse_set(Template::Confidentiality, ALG_DECIPHER, aut)),
            h("00 22 41 B8 06 80 01 1A 84 01 82")
        );
    }

    #[test]
    fn pso_hash_of_the_reference_transcript() {
        // CPS3.md §8: C_Sign(CKM_SHA1_RSA_PKCS, "xxxxxxxxxxxxxxxxxxx\n")
        let msg = b"xxxxxxxxxxxxxxxxxxx\n";
        let mut hasher = MessageHasher::new(HashAlg::Sha1);
        hasher.update(msg);
        let cmd = pso_hash(&hasher.card_input().unwrap());
        assert_eq!(
            cmd_hex(&cmd),
            h(&format!(
                "00 2A 90 A0 18 90 00 80 14 {}",
                "78".repeat(19) + "0A"
            ))
        );
        assert_eq!(cmd.case(), 3);
    }

    #[test]
    fn pso_hash_forms() {
        // exactly 64 bytes: no state, n = 64
        let mut hh = MessageHasher::new(HashAlg::Sha256);
        hh.update(&[0x41; 64]);
        assert_eq!(
            cmd_hex(&pso_hash(&hh.card_input().unwrap())),
            h(&format!("00 2A 90 A0 44 90 00 80 40 {}", "41".repeat(64)))
        );
        // 5000 bytes SHA-256 (CPS3.md §6.4 example)
        let msg: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut hh = MessageHasher::new(HashAlg::Sha256);
        hh.update(&msg);
        let input = hh.card_input().unwrap();
        let bytes = pso_hash(&input).to_bytes().unwrap();
        assert_eq!(hex::encode_upper(&bytes[..7]), "002A90A0349028");
        assert_eq!(&bytes[7..39], &input.state[..]);
        assert_eq!(hex::encode_upper(&bytes[39..49]), "0000000000009C008008");
        assert_eq!(&bytes[49..], &msg[4992..]);
        assert_eq!(bytes.len(), 5 + 0x34);
        // 128 bytes SHA-1: state after 64 B, bit count 0x200, n = 64
        let mut hh = MessageHasher::new(HashAlg::Sha1);
        hh.update(&[7u8; 128]);
        let bytes = pso_hash(&hh.card_input().unwrap()).to_bytes().unwrap();
        assert_eq!(hex::encode_upper(&bytes[..7]), "002A90A060901C");
        assert_eq!(hex::encode_upper(&bytes[27..37]), "00000000000002008040");
    }

    #[test]
    fn signature_and_decipher_commands() {
        assert_eq!(cmd_hex(&pso_cds_after_hash()), h("00 2A 9E 9A 00"));
        assert_eq!(
            cmd_hex(&pso_cds_with_hash(&[0xAB; 32])),
            h(&format!("00 2A 9E 9A 20 {}", "AB".repeat(32)))
        );
        assert_eq!(
            cmd_hex(&internal_authenticate(&[0x11; 51])),
            h(&format!("00 88 00 00 33 {}", "11".repeat(51)))
        );
        let chain = pso_decipher(&[0x5A; 256]).chained(255);
        assert_eq!(chain.len(), 2);
        assert_eq!(
            cmd_hex(&chain[0]),
            h(&format!("10 2A 80 86 FF 81 {}", "5A".repeat(254)))
        );
        assert_eq!(cmd_hex(&chain[1]), h("00 2A 80 86 02 5A 5A"));
        assert_eq!(cmd_hex(&get_challenge(CLA)), h("00 84 00 00 08"));
    }

    #[test]
    fn cps2ter_commands() {
        assert_eq!(cmd_hex(&cps2ter_select(0x3F00)), h("A0 A4 00 00 02 3F 00"));
        assert_eq!(cmd_hex(&cps2ter_select(0x7F01)), h("A0 A4 00 00 02 7F 01"));
        assert_eq!(cmd_hex(&cps2ter_get_response(0x0C)), h("A0 C0 00 00 0C"));
        assert_eq!(cmd_hex(&cps2ter_read(0, 0x40)), h("A0 B0 00 00 40"));
    }
}
