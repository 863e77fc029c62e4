//! Every command the CPS4 (ChipDoc) driver sends, byte-exact as CPS4.md §2, §4 and §6 write
//! them. CLA `01`: logical channel 1. Case-4 commands are built without Le; the driver adds
//! `00` under T=1 (the `3B 9B` ATRs) as the vendor module does. READ/UPDATE BINARY, VERIFY
//! and GET CHALLENGE have the ISO form ([`crate::card::iso_commands`], CLA [`CLA`]); the
//! tests below check their bytes too.

use crate::apdu::Command;
use crate::card::hash::HashAlg;
use crate::card::path::FilePath;
use crate::card::types::KeyRef;

/// CLA of ChipDoc commands: logical channel 1.
pub const CLA: u8 = 0x01;
/// ChipDoc applet AID (CPS4.md §2).
pub const CHIPDOC_AID: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00];
/// GlobalPlatform ISD AID (recovery only).
pub const ISD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00];
/// CPS2ter applet AID (basic channel; recovery only).
pub const CPS2TER_AID: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02];
/// READ BINARY chunk: 256 (`SC_DEFAULT_MAX_RECV_SIZE`, CPS4.md §3).
pub const MAX_READ: usize = 256;
/// UPDATE BINARY chunk.
pub const MAX_WRITE: usize = 255;
/// The CT key is always `20` (`CPS4_AUTH_PRIV_KEY_ID`, CPS4.md §5).
pub const CT_KEY: u8 = 0x20;

/// `01 A4 04 0C 08 80 25 00 00 01 FF 01 00`: selects ChipDoc, opening channel 1 implicitly.
pub fn select_chipdoc() -> Command {
    Command::new(CLA, 0xA4, 0x04, 0x0C).with_data(CHIPDOC_AID.to_vec())
}

/// Recovery (CPS4.md §2): `01 A4 04 0C 07 <ISD>`, `00 A4 04 0C 08 <CPS2ter>`, then
/// [`select_chipdoc`] again.
pub fn recovery() -> [Command; 3] {
    [
        Command::new(CLA, 0xA4, 0x04, 0x0C).with_data(ISD_AID.to_vec()),
        Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(CPS2TER_AID.to_vec()),
        select_chipdoc(),
    ]
}

/// `01 A4 08 00 <len> <path without 3F00>`: path from the MF, FCI wanted (case 3 here; an EF
/// select gets Le `00` under T=1).
pub fn select_path(path: &FilePath) -> Command {
    Command::new(CLA, 0xA4, 0x08, 0x00).with_data(path.to_bytes_from_mf())
}

/// `01 24 01 <ref> 08 <new>`: new value only (after VERIFY of the old PIN or of the PUK).
pub fn change_new_only(reference: u8, new: &[u8]) -> Command {
    Command::new(CLA, 0x24, 0x01, reference).with_data(new.to_vec())
}

/// `01 2C 03 <ref|80>`: reset the counter, no data (PUK verified before).
pub fn reset_retry_counter(reference: u8) -> Command {
    Command::new(CLA, 0x2C, 0x03, reference | 0x80)
}

/// ChipDoc algorithm ids (CPS4.md §5, CL:cards.h).
pub fn pkcs1_alg(h: HashAlg) -> u8 {
    match h {
        HashAlg::Sha1 => 0x0A,
        HashAlg::Sha256 => 0x28,
    }
}

/// ChipDoc PSS algorithm ids.
pub fn pss_alg(h: HashAlg) -> u8 {
    match h {
        HashAlg::Sha1 => 0x15,
        HashAlg::Sha256 => 0x2C,
    }
}

/// `01 22 81 B6 04 91 02 <alg> <key|80>` (CPS4.md §6.3).
pub fn mse_dst(alg: u8, key: KeyRef) -> Command {
    Command::new(CLA, 0x22, 0x81, 0xB6).with_data(vec![0x91, 0x02, alg, key.0 | 0x80])
}

/// `01 2A 9E 9A <len> <hash>` (+ Le `00` under T=1).
pub fn pso_cds(hash: &[u8]) -> Command {
    Command::new(CLA, 0x2A, 0x9E, 0x9A).with_data(hash.to_vec())
}

/// `01 22 41 B8 03 83 01 20` (CPS4.md §6.4).
pub fn mse_ct() -> Command {
    Command::new(CLA, 0x22, 0x41, 0xB8).with_data(vec![0x83, 0x01, CT_KEY])
}

/// `01 2A 80 86 <block>` without padding indicator, chained by the exchange into
/// `11 2A 80 86 FF <255>` + `01 2A 80 86 01 <last> [00]`.
pub fn pso_decipher_raw(block: &[u8]) -> Command {
    Command::new(CLA, 0x2A, 0x80, 0x86).with_data(block.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::iso_commands::{
        get_challenge, read_binary, update_binary, verify, verify_status,
    };
    use crate::card::testing::{cmd_hex, h};

    #[test]
    fn channel_and_selects() {
        assert_eq!(
            cmd_hex(&select_chipdoc()),
            h("01 A4 04 0C 08 80 25 00 00 01 FF 01 00")
        );
        let [isd, cps2ter, again] = recovery();
        assert_eq!(cmd_hex(&isd), h("01 A4 04 0C 07 A0 00 00 01 51 00 00"));
        assert_eq!(
            cmd_hex(&cps2ter),
            h("00 A4 04 0C 08 80 25 00 00 01 FF 00 02")
        );
        assert_eq!(cmd_hex(&again), cmd_hex(&select_chipdoc()));
        let sn = FilePath::from_fids(&[0xD003]);
        assert_eq!(
            cmd_hex(&select_path(&sn).with_le(256)),
            h("01 A4 08 00 02 D0 03 00")
        );
        assert_eq!(cmd_hex(&select_path(&sn)), h("01 A4 08 00 02 D0 03"));
        let app = FilePath::from_fids(&[1]);
        assert_eq!(cmd_hex(&select_path(&app)), h("01 A4 08 00 02 00 01"));
        assert_eq!(
            cmd_hex(&select_path(&app.child(0x5031)).with_le(256)),
            h("01 A4 08 00 04 00 01 50 31 00")
        );
        // DODF 0x25F in 256-byte chunks (CPS4.md §3)
        assert_eq!(cmd_hex(&read_binary(CLA, 0, 256)), h("01 B0 00 00 00"));
        assert_eq!(cmd_hex(&read_binary(CLA, 0x100, 256)), h("01 B0 01 00 00"));
        assert_eq!(cmd_hex(&read_binary(CLA, 0x200, 0x5F)), h("01 B0 02 00 5F"));
        assert_eq!(
            cmd_hex(&update_binary(CLA, 0, &[9])),
            h("01 D6 00 00 01 09")
        );
    }

    #[test]
    fn pin_commands() {
        assert_eq!(cmd_hex(&verify_status(CLA, 0x81)), h("01 20 00 81"));
        assert_eq!(cmd_hex(&verify_status(CLA, 0x82)), h("01 20 00 82"));
        let pin = [0x31, 0x32, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(
            cmd_hex(&verify(CLA, 0x81, &pin)),
            h("01 20 00 81 08 31 32 33 34 FF FF FF FF")
        );
        assert_eq!(
            cmd_hex(&change_new_only(0x81, &pin)),
            h("01 24 01 81 08 31 32 33 34 FF FF FF FF")
        );
        assert_eq!(cmd_hex(&reset_retry_counter(0x81)), h("01 2C 03 81"));
        assert_eq!(cmd_hex(&reset_retry_counter(0x01)), h("01 2C 03 81"));
    }

    #[test]
    fn security_commands() {
        let sig = KeyRef::CPS4_SIGNATURE;
        let aut = KeyRef::CPS4_AUTHENTICATION;
        assert_eq!(
            cmd_hex(&mse_dst(pkcs1_alg(HashAlg::Sha1), sig)),
            h("01 22 81 B6 04 91 02 0A 90")
        );
        assert_eq!(
            cmd_hex(&mse_dst(pkcs1_alg(HashAlg::Sha256), sig)),
            h("01 22 81 B6 04 91 02 28 90")
        );
        assert_eq!(
            cmd_hex(&mse_dst(pss_alg(HashAlg::Sha1), aut)),
            h("01 22 81 B6 04 91 02 15 A0")
        );
        assert_eq!(
            cmd_hex(&mse_dst(pss_alg(HashAlg::Sha256), aut)),
            h("01 22 81 B6 04 91 02 2C A0")
        );
        assert_eq!(
            cmd_hex(&pso_cds(&[0xCD; 32]).with_le(256)),
            h(&format!("01 2A 9E 9A 20 {} 00", "CD".repeat(32)))
        );
        assert_eq!(cmd_hex(&mse_ct()), h("01 22 41 B8 03 83 01 20"));
        let chain = pso_decipher_raw(&[0x42; 256]).with_le(256).chained(255);
        assert_eq!(
            cmd_hex(&chain[0]),
            h(&format!("11 2A 80 86 FF {}", "42".repeat(255)))
        );
        assert_eq!(cmd_hex(&chain[1]), h("01 2A 80 86 01 42 00"));
        assert_eq!(cmd_hex(&get_challenge(CLA)), h("01 84 00 00 08"));
    }
}
