//! CPS3 (IAS-ECC) bytes: CPS3.md §1 ATRs, §3 file tree, §3.1 FCPs, §3.2 contents, §9 CPS2ter
//! volet, §10 contactless application.

use super::super::fs::{Acl, Ef, Fs, NodeId, ALWAYS, MF, NEVER};
use super::super::image::CardImage;
use super::*;

/// Contact ATR (CPS3.md §1): T=0 only, no TCK.
pub const ATR_CONTACT: [u8; 17] = [
    0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90,
    0x00,
];
/// Contactless ATR (PC/SC ISO 14443-4), TCK `0E`.
pub const ATR_CONTACTLESS: [u8; 20] = [
    0x3B, 0x8F, 0x80, 0x01, 0x00, 0x31, 0xB8, 0x64, 0x04, 0xB0, 0xEC, 0xC1, 0x73, 0x94, 0x01, 0x80,
    0x82, 0x90, 0x00, 0x0E,
];

/// EF.ATR (2F01), 57 bytes, real \[C: OSC@fd83e885f\].
pub fn ef_atr() -> Vec<u8> {
    h("80 43 01 B8 46 04 04 B0 EC C1 47 03 94 01 80 4F 08 80 25 00 00 01 FF 01 00
       E0 10 02 02 01 04 02 02 01 04 02 02 01 00 02 02 01 00 78 08 06 06 2B 81 22 F8 78 02 82 02 90 00")
}

/// EF.DIR (2F00), 101 bytes, contactless record first (CPS3.md §3.2, opensc-cpx-flow R11).
pub fn ef_dir() -> Vec<u8> {
    [ef_dir_contactless_record(), ef_dir_contact_record()].concat()
}
pub fn ef_dir_contactless_record() -> Vec<u8> {
    h("61 32 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 20 50 0A 43 50 53 20 49 41 53 20 43 4C 51 04 3F 00 00 02
       73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")
}
/// The contact application's record (also CPS4's whole EF.DIR).
pub fn ef_dir_contact_record() -> Vec<u8> {
    h("61 2F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 07 43 50 53 20 49 41 53 51 04 3F 00 00 01
       73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")
}

/// ODF of the contact application \[S\].
pub fn odf() -> Vec<u8> {
    [
        odf_entry(0xA8, 0x7001),
        odf_entry(0xA0, 0x7002),
        odf_entry(0xA4, 0x7005),
        odf_entry(0xA7, 0x7006),
    ]
    .concat()
}

/// supportedAlgorithms of TokenInfo (entry 4 real [C: OSC#2267], others \[S\]).
pub fn token_info_algorithms() -> Vec<u8> {
    h(
        "30 17 02 01 01 02 02 02 20 05 00 03 02 01 02 06 05 2B 0E 03 02 1A 02 01 10
       30 1B 02 01 02 02 02 02 50 05 00 03 02 01 02 06 09 60 86 48 01 65 03 04 02 01 02 01 40
       30 1A 02 01 03 02 01 06 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 05 02 01 12
       30 1A 02 01 04 02 01 40 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 0B 02 01 42
       30 1A 02 01 05 02 01 01 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 02
       30 1A 02 01 06 02 01 01 05 00 03 02 02 04 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 1A",
    )
}

/// AODF (7001), 189 bytes, real [C: OSC#2224] (quirks kept: `03 01 08`, PIN authId `02`).
pub fn aodf() -> Vec<u8> {
    let pin_label = hex::encode("Code porteur de la carte CPS");
    let puk_label = hex::encode("Code de d\u{e9}blocage de la carte CPS");
    h(&format!(
        "30 61 30 3F 0C 1C {pin_label} 03 01 08 04 01 02
            30 19 30 06 03 02 05 20 05 00 30 06 03 02 06 40 05 00 30 07 03 02 03 08 04 01 04
         30 03 04 01 01
         A1 19 30 17 03 03 04 0C 10 0A 01 01 02 01 04 02 01 08 02 01 04 80 01 01 04 01 FF
         30 58 30 39 0C 22 {puk_label} 03 01 08
            30 10 30 06 03 02 05 20 05 00 30 06 03 02 06 40 05 00
         30 03 04 01 04
         A1 16 30 14 03 03 04 1D 10 0A 01 01 02 01 08 02 01 08 02 01 08 80 01 02"
    ))
}

/// PrKDF (7002) [S bytes, C values].
pub fn prkdf() -> Vec<u8> {
    let sig = hex::encode("CPS_PRIV_SIG");
    let aut = hex::encode("CPS_PRIV_AUT");
    h(&format!(
        "30 50 30 20 0C 0C {sig} 03 02 07 80 04 01 01 30 09 30 07 03 02 02 04 04 01 01
         30 20 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 03 03 06 00 40 01 01 FF 03 02 04 B0 02 02 00 81
         A1 0A 30 08 30 02 04 00 02 02 08 00
         30 50 30 21 0C 0C {aut} 03 02 05 E0 04 01 01 30 0A 30 08 03 03 06 01 40 04 01 01
         30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 03 02 05 60 01 01 FF 03 02 04 B0 02 02 00 82
         A1 0A 30 08 30 02 04 00 02 02 08 00"
    ))
}

/// CDF (7005): entry 1's first 72 bytes real [C: OSC#2224], the rest [I/S].
pub fn cdf() -> Vec<u8> {
    let l1 = hex::encode("Certificat de Signature CPS");
    let l2 = hex::encode("Certificat d'Authentification CPS");
    h(&format!(
        "30 52 30 34 0C 1B {l1} 03 02 08 00 30 11 30 06 03 02 07 80 05 00 30 07 03 02 06 40 04 01 01
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 A1 08 30 06 30 04 04 02 A0 01
         30 58 30 3A 0C 21 {l2} 03 02 08 00 30 11 30 06 03 02 07 80 05 00 30 07 03 02 06 40 04 01 01
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 A1 08 30 06 30 04 04 02 A0 02"
    ))
}

/// Contactless application (CPS3.md §10) [S bytes]: ODF, TokenInfo, PrKDF 7102, CDF 7105,
/// DODF 7106 (empty: two filler bytes).
pub fn cl_odf() -> Vec<u8> {
    [
        odf_entry(0xA0, 0x7102),
        odf_entry(0xA4, 0x7105),
        odf_entry(0xA7, 0x7106),
    ]
    .concat()
}
pub fn cl_token_info(pan: &[u8], serial: &str) -> Vec<u8> {
    let algs =
        h("30 1A 02 01 05 02 01 01 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 02");
    token_info(
        pan,
        &format!("CPS3v3-CL-{serial}"),
        &[0x05, 0x20],
        Some(&algs),
    )
}
pub fn cl_prkdf() -> Vec<u8> {
    let label = hex::encode("CPS_PRIV_TECH_AUT");
    h(&format!(
        "30 45 30 16 0C 11 {label} 03 01 00
         30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 03 03 02 05 20 01 01 FF 03 02 04 B0 02 02 00 83
         A1 0A 30 08 30 02 04 00 02 02 08 00"
    ))
}
pub fn cl_cdf() -> Vec<u8> {
    let label = hex::encode("Certificat Technique CPS");
    h(&format!(
        "30 3C 30 1E 0C 18 {label} 03 02 08 00
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 03 A1 08 30 06 30 04 04 02 A0 03"
    ))
}

/// EF.ATR and EF.DIR SCBs (real, CPS3.md §3.1): DELETE and UPDATE need SM (`45`), READ always;
/// contactless: READ only.
const ACL_EF_ATR: Acl = Acl {
    contact: [0x45, NEVER, NEVER, NEVER, 0x45, ALWAYS],
    contactless: [NEVER, NEVER, NEVER, NEVER, NEVER, ALWAYS],
};
/// AODF: public in contact, refused contactless \[I\].
const ACL_AODF: Acl = Acl::PUBLIC;

/// FCP of an EF (CPS3.md §3.1): `62 25 80 02 <size> 82 01 01 83 02 <FID> 88 01 <SFI<<3>
/// A1 12 8C 07 7B <6 SCB> 9C 07 7B <6 SCB> 8A 01 05`.
pub fn fcp(fid: u16, ef: &Ef) -> Vec<u8> {
    let size = (ef.data.len() as u16).to_be_bytes();
    let sfi = ef.sfi.map(|s| s << 3).unwrap_or(0);
    let contact = [&[0x7B][..], &ef.acl.contact].concat();
    let cl = [&[0x7B][..], &ef.acl.contactless].concat();
    let acl = [tlv(&[0x8C], &contact), tlv(&[0x9C], &cl)].concat();
    let body = [
        tlv(&[0x80], &size),
        tlv(&[0x82], &[0x01]),
        tlv(&[0x83], &fid.to_be_bytes()),
        tlv(&[0x88], &[sfi]),
        tlv(&[0xA1], &acl),
        tlv(&[0x8A], &[0x05]),
    ]
    .concat();
    tlv(&[0x62], &body)
}

/// The two file systems of a CPS3: the IAS-ECC one and the CPS2ter volet (CLA `A0`).
pub struct Cps3Files {
    pub fs: Fs,
    pub cps2ter: Fs,
    /// DF 0001 (key SDOs live there).
    pub app: NodeId,
}

fn ef_sfi(data: Vec<u8>, sfi: u8, acl: Acl) -> Ef {
    Ef {
        data,
        sfi: Some(sfi),
        acl,
        persistent: false,
    }
}

/// Builds the card's files from its image.
pub fn build(img: &CardImage, pan: &[u8]) -> Cps3Files {
    let info = &img.info;
    let mut fs = Fs::new(Some(AID_ROOT.to_vec()));
    fs.add_ef(MF, 0x2F01, ef_sfi(ef_atr(), 0x1D, ACL_EF_ATR));
    fs.add_ef(MF, 0x2F00, ef_sfi(ef_dir(), 0x1E, ACL_EF_ATR));
    fs.add_ef(MF, 0xD003, ef_sfi(ef_sn(pan), 0x1C, Acl::PUBLIC_CL));
    let app = fs.add_df(MF, 0x0001, Some(AID_PKCS15.to_vec()));
    let cl = fs.add_df(MF, 0x0002, Some(AID_PKCS15_CL.to_vec()));

    let objects = cps_data_objects(info, img.cps_data.as_deref());
    let mut dodf = Vec::new();
    for o in &objects {
        dodf.extend(dodf_entry(&o.label, o.access, o.fid));
    }
    let label = if info.label.is_empty() {
        format!("CPS3v3-{}", info.serial)
    } else {
        info.label.clone()
    };
    let tech_cert = img.tech.as_ref().unwrap_or(&img.auth).cert.clone();
    let files: [(u16, Vec<u8>, Acl); 12] = [
        (0x5031, odf(), Acl::PUBLIC),
        (
            0x5032,
            token_info(pan, &label, &[0x05, 0x60], Some(&token_info_algorithms())),
            Acl::PUBLIC,
        ),
        (0x7001, aodf(), ACL_AODF),
        (0x7002, prkdf(), Acl::PUBLIC),
        (0x7005, cdf(), Acl::PUBLIC),
        (0x7006, dodf, Acl::PUBLIC),
        (0xA001, img.sign.cert.clone(), Acl::PUBLIC),
        (0xA002, img.auth.cert.clone(), Acl::PUBLIC),
        (0x7102, cl_prkdf(), Acl::PUBLIC_CL),
        (0x7105, cl_cdf(), Acl::PUBLIC_CL),
        (0x7106, vec![0x00, 0x00], Acl::PUBLIC_CL),
        (0xA003, tech_cert, Acl::PUBLIC_CL),
    ];
    for (fid, data, acl) in files {
        fs.add_ef(app, fid, ef(data, acl));
    }
    add_data_objects(&mut fs, app, objects);
    fs.add_ef(cl, 0x5031, ef(cl_odf(), Acl::PUBLIC_CL));
    fs.add_ef(
        cl,
        0x5032,
        ef(cl_token_info(pan, &info.serial), Acl::PUBLIC_CL),
    );

    Cps3Files {
        fs,
        cps2ter: cps2ter_files(img),
        app,
    }
}

/// The CPS2ter file system (CPS3.md §9): `3F00/7F01/4000` CPS_SIT_FACT and `3F00/40(0F+nn)` one
/// activity per CPS_ACTIVITY_nn_PS. Readable after the IAS PIN \[S\].
pub fn cps2ter_files(img: &CardImage) -> Fs {
    let mut fs = Fs::new(None);
    let df = fs.add_df(MF, 0x7F01, None);
    fs.add_ef(df, 0x4000, ef(cps2ter_sit_fact(&img.info), Acl::PIN_READ));
    for n in activities(&img.info) {
        fs.add_ef(
            MF,
            0x400F + u16::from(n),
            ef(cps2ter_activity(&img.info, n), Acl::PIN_READ),
        );
    }
    fs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_real_fcps() {
        assert_eq!(ef_atr().len(), 57);
        assert_eq!(ef_dir().len(), 101);
        assert_eq!(aodf().len(), 189);
        assert_eq!(prkdf().len(), 2 * 0x52);
        assert_eq!(cdf().len(), 0x54 + 0x5A);
        let atr = ef_sfi(ef_atr(), 0x1D, ACL_EF_ATR);
        assert_eq!(
            fcp(0x2F01, &atr),
            h("62 25 80 02 00 39 82 01 01 83 02 2F 01 88 01 E8 A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")
        );
        let dir = ef_sfi(ef_dir(), 0x1E, ACL_EF_ATR);
        assert_eq!(
            fcp(0x2F00, &dir),
            h("62 25 80 02 00 65 82 01 01 83 02 2F 00 88 01 F0 A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")
        );
        let sn = ef_sfi(vec![0; 12], 0x1C, Acl::PUBLIC_CL);
        assert_eq!(
            fcp(0xD003, &sn),
            h("62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")
        );
    }

    #[test]
    fn token_info_of_the_default_card_is_the_profile_bytes() {
        let pan = h("80 25 00 00 01 12 34 56 78 9F");
        let ti = token_info(
            &pan,
            "CPS3v3-12345678",
            &[0x05, 0x60],
            Some(&token_info_algorithms()),
        );
        let expected = [
            h("30 81 D9 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A"),
            b"ASIP-SANTE".to_vec(),
            h("80 0F"),
            b"CPS3v3-12345678".to_vec(),
            h("03 02 05 60 A2 81 A6"),
            token_info_algorithms(),
        ]
        .concat();
        assert_eq!(ti, expected);
        assert_eq!(ti.len(), 0xD9 + 3);
    }

    #[test]
    fn contactless_xdfs_are_well_formed() {
        use super::super::super::tlv::parse_all;
        for f in [cl_prkdf(), cl_cdf(), cl_odf(), odf()] {
            assert!(parse_all(&f).is_some(), "{}", hex::encode(&f));
        }
        assert_eq!(parse_all(&cl_prkdf()).unwrap().len(), 1);
    }
}
