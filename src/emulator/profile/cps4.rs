//! CPS4 (ChipDoc) bytes: CPS4.md §1 ATRs, §4 file tree, §4.1 PKCS#15 contents, §4 FCI.

use super::super::fs::{Acl, Ef, Fs, NodeId, MF};
use super::super::image::CardImage;
use super::*;

/// Production ATR, T=0 and T=1 (pcscd picks T=1).
pub const ATR_PRODUCTION: [u8; 17] = [
    0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90,
    0x44,
];
/// Release-candidate ATR, T=0 and T=1.
pub const ATR_RC: [u8; 17] = [
    0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90,
    0x44,
];
/// "T0 only" ATR, no TCK.
pub const ATR_T0: [u8; 17] = [
    0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90,
    0x00,
];

/// AODF (7001), CPS4.md §4.1 (references `81`/`82`, consistent PUK authId).
pub fn aodf() -> Vec<u8> {
    let pin = hex::encode("Code porteur de la carte CPS");
    let puk = hex::encode("Code de deblocage de la carte CPS");
    h(&format!(
        "30 47 30 24 0C 1C {pin} 03 01 00 04 01 02 30 03 04 01 01
         A1 1A 30 18 03 03 04 0C 10 0A 01 01 02 01 04 02 01 08 02 01 04 80 02 00 81 04 01 FF
         30 49 30 26 0C 21 {puk} 03 01 00 30 03 04 01 02
         A1 1A 30 18 03 03 04 1F 10 0A 01 01 02 01 08 02 01 08 02 01 08 80 02 00 82 04 01 FF"
    ))
}

/// PrKDF (7002), CPS4.md §4.1: keys `10` (signature) and `20` (authentication, decrypt bit set).
pub fn prkdf() -> Vec<u8> {
    let sig = hex::encode("CPS_PRIV_SIG");
    let aut = hex::encode("CPS_PRIV_AUT");
    h(&format!(
        "30 4F 30 20 0C 0C {sig} 03 02 07 80 04 01 01 30 09 30 07 03 02 02 04 04 01 01
         30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 10 03 03 06 00 40 01 01 FF 03 02 04 B0 02 01 10
         A1 0A 30 08 30 02 04 00 02 02 08 00
         30 4E 30 20 0C 0C {aut} 03 02 06 C0 04 01 01 30 09 30 07 03 02 00 05 04 01 01
         30 1E 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 20 03 02 05 60 01 01 FF 03 02 04 B0 02 01 20
         A1 0A 30 08 30 02 04 00 02 02 08 00"
    ))
}

/// CDF (7005), CPS4.md §4.1: certificates A010 / A020.
pub fn cdf() -> Vec<u8> {
    let l1 = hex::encode("Certificat de Signature CPS");
    let l2 = hex::encode("Certificat d'Authentification CPS");
    h(&format!(
        "30 48 30 2A 0C 1B {l1} 03 01 00 30 08 30 06 03 02 07 80 05 00
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 10 A1 08 30 06 30 04 04 02 A0 10
         30 4E 30 30 0C 21 {l2} 03 01 00 30 08 30 06 03 02 07 80 05 00
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 20 A1 08 30 06 30 04 04 02 A0 20"
    ))
}

/// FCI of an EF (CPS4.md §4): `6F 0E 80 02 <size> 82 01 01 83 02 <FID> 8A 01 05`.
pub fn fci(fid: u16, ef: &Ef) -> Vec<u8> {
    let body = [
        tlv(&[0x80], &(ef.data.len() as u16).to_be_bytes()),
        tlv(&[0x82], &[0x01]),
        tlv(&[0x83], &fid.to_be_bytes()),
        tlv(&[0x8A], &[0x05]),
    ]
    .concat();
    tlv(&[0x6F], &body)
}

/// CPS2ter copies in the ChipDoc DF (CPS4.md §4): FID, label.
const CPS2TER_PUBLIC: [(u16, &str); 7] = [
    (0xC001, "CPS2TER_ATR"),
    (0xC002, "CPS2TER_ID"),
    (0xC003, "CPS2TER_ICC"),
    (0xC004, "CPS2TER_NAME"),
    (0xC005, "CPS2TER_LANG"),
    (0xC006, "CPS2TER_PSINFO"),
    (0xC007, "CPS2TER_DIRAMO"),
];

/// The ChipDoc file system and the CPS2ter applet's.
pub struct Cps4Files {
    pub fs: Fs,
    pub cps2ter: Fs,
    pub app: NodeId,
}

pub fn build(img: &CardImage, pan: &[u8]) -> Cps4Files {
    let info = &img.info;
    let mut fs = Fs::new(Some(AID_ROOT.to_vec()));
    let sfi = |data, sfi| Ef {
        data,
        sfi: Some(sfi),
        acl: Acl::PUBLIC,
        persistent: false,
    };
    fs.add_ef(MF, 0x2F00, sfi(cps3::ef_dir_contact_record(), 0x1E));
    fs.add_ef(MF, 0xD003, sfi(ef_sn(pan), 0x1C));
    let app = fs.add_df(MF, 0x0001, Some(AID_PKCS15.to_vec()));

    let mut objects = cps_data_objects(info, img.cps_data.as_deref());
    objects.push(DataObject {
        label: "CPS_SIT_FACT".into(),
        fid: 0xC000,
        access: DataAccess::Private,
        content: cps2ter_sit_fact(info),
    });
    for n in activities(info) {
        objects.push(DataObject {
            label: format!("CPS2TER_ACTIVITY_{n:02}_PS"),
            fid: 0xC00F + u16::from(n),
            access: DataAccess::Private,
            content: cps2ter_activity(info, n),
        });
    }
    for (fid, label) in CPS2TER_PUBLIC {
        objects.push(DataObject {
            label: label.into(),
            fid,
            access: DataAccess::Public,
            content: placeholder(&format!("{label} {}", info.holder_text("id_nat"))),
        });
    }
    let mut dodf = Vec::new();
    for o in &objects {
        dodf.extend(dodf_entry(&o.label, o.access, o.fid));
    }
    let label = if info.label.is_empty() {
        format!("CPS4-{}", info.serial)
    } else {
        info.label.clone()
    };
    let files: [(u16, Vec<u8>); 8] = [
        (0x5031, cps3::odf()),
        (0x5032, token_info(pan, &label, &[0x05, 0x60], None)),
        (0x7001, aodf()),
        (0x7002, prkdf()),
        (0x7005, cdf()),
        (0x7006, dodf),
        (0xA010, img.sign.cert.clone()),
        (0xA020, img.auth.cert.clone()),
    ];
    for (fid, data) in files {
        fs.add_ef(app, fid, ef(data, Acl::PUBLIC));
    }
    add_data_objects(&mut fs, app, objects);
    Cps4Files {
        fs,
        cps2ter: cps3::cps2ter_files(img),
        app,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::tlv::parse_all;

    #[test]
    fn pkcs15_files_are_well_formed_and_sized() {
        assert_eq!(aodf().len(), 0x49 + 0x4B);
        assert_eq!(prkdf().len(), 0x51 + 0x50);
        assert_eq!(cdf().len(), 0x4A + 0x50);
        for f in [aodf(), prkdf(), cdf()] {
            assert_eq!(parse_all(&f).map(|v| v.len()), Some(2));
        }
        assert_eq!(cps3::ef_dir_contact_record().len(), 49);
    }

    #[test]
    fn token_info_of_the_default_card() {
        let pan = h("80 25 00 00 01 12 34 56 78 9F");
        let ti = token_info(&pan, "CPS4-12345678", &[0x05, 0x60], None);
        let expected = [
            h("30 2E 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A"),
            b"ASIP-SANTE".to_vec(),
            h("80 0D"),
            b"CPS4-12345678".to_vec(),
            h("03 02 05 60"),
        ]
        .concat();
        assert_eq!(ti, expected);
    }

    #[test]
    fn fci_shape() {
        let e = ef(vec![0; 12], Acl::PUBLIC);
        assert_eq!(
            fci(0xD003, &e),
            h("6F 0E 80 02 00 0C 82 01 01 83 02 D0 03 8A 01 05")
        );
    }
}
