//! The cards' bytes: ATRs, file contents and FCPs of `/work/shared/cards/CPS3.md` and `CPS4.md`,
//! as constants where the profile gives them and built by the emulator's own TLV encoder where
//! they depend on the card (serial, label, holder, activities).

pub mod cps3;
pub mod cps4;

use super::fs::{Acl, Ef, Fs, NodeId};
use super::image::{luhn, CardInfo};
use super::tlv::{seq, tlv, utf8};

/// Issuer prefix of EF.SN.ICC, BCD (CPS3.md §3.2).
pub const ISSUER_BCD: [u8; 5] = [0x80, 0x25, 0x00, 0x00, 0x01];

/// PKCS#15 application AID, contact (CPS3 DF 0001, CPS4 DF 0001).
pub const AID_PKCS15: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];
/// CPS3 contactless application AID (DF 0002).
pub const AID_PKCS15_CL: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x20,
];
/// CPS3 root AID (MF) = CPS4 ChipDoc applet AID.
pub const AID_ROOT: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00];
/// CPS4 CPS2ter applet (basic channel).
pub const AID_CPS2TER: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02];
/// CPS4 GlobalPlatform ISD.
pub const AID_ISD: [u8; 7] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00];

/// Decodes the profile's hex notation (spaces allowed). Only for constants of this module.
pub(crate) fn h(text: &str) -> Vec<u8> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap_or_default()
}

/// The 10 bytes of the PAN: issuer ‖ 8 serial digits ‖ Luhn ‖ `F`, BCD; `None` if the serial
/// is not 8 decimal digits.
pub fn pan_bcd(info: &CardInfo) -> Option<Vec<u8>> {
    let s = &info.serial;
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let check = match info.luhn {
        Some(l) if l <= 9 => l,
        Some(_) => return None,
        None => luhn(&format!("8025000001{s}"))?,
    };
    let digits: Vec<u8> = format!("{s}{check}")
        .bytes()
        .map(|b| b - b'0')
        .chain([0xF])
        .collect();
    let mut out = ISSUER_BCD.to_vec();
    out.extend(digits.chunks(2).map(|p| (p[0] << 4) | p[1]));
    Some(out)
}

/// EF.SN.ICC: `5A 0A <PAN>` (CPS3.md §3.2, CPS4.md §4).
pub fn ef_sn(pan: &[u8]) -> Vec<u8> {
    tlv(&[0x5A], pan)
}

/// TokenInfo header (version 0, serial = PAN, manufacturer `ASIP-SANTE`, label, flags) and,
/// when given, the `A2` supportedAlgorithms (CPS3.md §3.2, CPS4.md §4.1).
pub fn token_info(pan: &[u8], label: &str, flags: &[u8], algorithms: Option<&[u8]>) -> Vec<u8> {
    let mut parts = vec![
        tlv(&[0x02], &[0x00]),
        tlv(&[0x04], pan),
        utf8("ASIP-SANTE"),
        tlv(&[0x80], label.as_bytes()),
        tlv(&[0x03], flags),
    ];
    if let Some(a) = algorithms {
        parts.push(tlv(&[0xA2], a));
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    seq(&[0x30], &refs)
}

/// One ODF entry: `<tag> 0A 30 08 04 06 3F 00 00 01 <FID>`.
pub fn odf_entry(tag: u8, fid: u16) -> Vec<u8> {
    let path = [&[0x3F, 0x00, 0x00, 0x01][..], &fid.to_be_bytes()].concat();
    tlv(&[tag], &tlv(&[0x30], &tlv(&[0x04], &path)))
}

/// Access of a data object in the DODF (CPS3.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAccess {
    Public,
    Modifiable,
    Private,
}

/// One DODF entry: `30 { 30 {label, flags, [authId 01]}, 30 05 0C 03 "CPS", A1 06 30 04 04 02 FID }`.
pub fn dodf_entry(label: &str, access: DataAccess, fid: u16) -> Vec<u8> {
    let common = match access {
        DataAccess::Public => seq(&[0x30], &[&utf8(label), &[0x03, 0x01, 0x00]]),
        DataAccess::Modifiable => seq(&[0x30], &[&utf8(label), &[0x03, 0x02, 0x06, 0x40]]),
        DataAccess::Private => seq(
            &[0x30],
            &[&utf8(label), &[0x03, 0x02, 0x07, 0x80], &[0x04, 0x01, 0x01]],
        ),
    };
    let app = tlv(&[0x30], &utf8("CPS"));
    let path = tlv(&[0xA1], &tlv(&[0x30], &tlv(&[0x04], &fid.to_be_bytes())));
    seq(&[0x30], &[&common, &app, &path])
}

/// Emulator placeholder content of a data object: `30 L 0C L <text>` \[S\].
pub fn placeholder(text: &str) -> Vec<u8> {
    tlv(&[0x30], &utf8(text))
}

/// A data object of the holder: label, FID, access, content.
pub struct DataObject {
    pub label: String,
    pub fid: u16,
    pub access: DataAccess,
    pub content: Vec<u8>,
}

/// Size of CPS_DATA \[S\]: the module writes the value zero-padded to this size.
pub const CPS_DATA_SIZE: usize = 128;

/// The CPS_* data objects common to CPS3 and CPS4 (CPS3.md §3.2, objects.md §5), in DODF order.
/// Contents are placeholders built from the holder data \[S\].
pub fn cps_data_objects(info: &CardInfo, cps_data: Option<&[u8]>) -> Vec<DataObject> {
    let id_nat = info.holder_text("id_nat");
    let mut data = match cps_data {
        Some(d) => d.to_vec(),
        None => placeholder("CPS_DATA"),
    };
    data.resize(CPS_DATA_SIZE.max(data.len()), 0);
    let mut out = vec![
        DataObject {
            label: "CPS_DATA".into(),
            fid: 0xD107,
            access: DataAccess::Modifiable,
            content: data,
        },
        DataObject {
            label: "CPS_ID_CARD".into(),
            fid: 0xD101,
            access: DataAccess::Public,
            content: placeholder(&format!(
                "CPS_ID_CARD type={} kind={} serial={}",
                info.type_code_text(),
                info.kind,
                info.serial
            )),
        },
        DataObject {
            label: "CPS_NAME_PS".into(),
            fid: 0xD102,
            access: DataAccess::Public,
            content: placeholder(&format!(
                "CPS_NAME_PS {} {} {}",
                id_nat,
                info.holder_text("surname"),
                info.holder_text("given_name")
            )),
        },
        DataObject {
            label: "CPS_LANG_PS".into(),
            fid: 0xD103,
            access: DataAccess::Public,
            content: placeholder("CPS_LANG_PS fr"),
        },
        DataObject {
            label: "CPS_INFO_PS".into(),
            fid: 0xD104,
            access: DataAccess::Public,
            content: placeholder(&format!(
                "CPS_INFO_PS {} {} {}",
                id_nat,
                info.holder_text("id_type"),
                info.holder_text("profession")
            )),
        },
    ];
    for n in activities(info) {
        out.push(DataObject {
            label: format!("CPS_ACTIVITY_{n:02}_PS"),
            fid: 0xD11F + u16::from(n),
            access: DataAccess::Private,
            content: placeholder(&format!("CPS_ACTIVITY_{n:02}_PS {id_nat} situation {n}")),
        });
    }
    out
}

/// Activity indexes, 1..=16, deduplicated; the default card has 01 and 02 \[S\].
pub fn activities(info: &CardInfo) -> Vec<u8> {
    let mut a: Vec<u8> = info
        .activities
        .iter()
        .copied()
        .filter(|n| (1..=16).contains(n))
        .collect();
    a.sort_unstable();
    a.dedup();
    a
}

/// CPS2ter situation (facturation) and activity contents \[S\].
pub fn cps2ter_sit_fact(info: &CardInfo) -> Vec<u8> {
    placeholder(&format!("CPS_SIT_FACT {}", info.holder_text("id_nat")))
}
pub fn cps2ter_activity(info: &CardInfo, n: u8) -> Vec<u8> {
    placeholder(&format!(
        "CPS2TER_ACTIVITY_{n:02}_PS {} situation {n}",
        info.holder_text("id_nat")
    ))
}

/// The EFs of `objects` in `app`: a public object is read by anyone, a modifiable one (CPS_DATA)
/// is written after the PIN and kept in the card image, a private one is read after the PIN.
pub fn add_data_objects(fs: &mut Fs, app: NodeId, objects: Vec<DataObject>) {
    for o in objects {
        let acl = match o.access {
            DataAccess::Public => Acl::PUBLIC,
            DataAccess::Modifiable => Acl::PIN_UPDATE,
            DataAccess::Private => Acl::PIN_READ,
        };
        let ef = Ef {
            data: o.content,
            sfi: None,
            acl,
            persistent: o.access == DataAccess::Modifiable,
        };
        fs.add_ef(app, o.fid, ef);
    }
}

/// An EF with no SFI.
pub fn ef(data: Vec<u8>, acl: Acl) -> Ef {
    Ef {
        data,
        sfi: None,
        acl,
        persistent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn info() -> CardInfo {
        serde_json::from_str(
            r#"{"generation":"cps3","card":"cps","serial":"12345678","luhn":9,
            "label":"CPS3v3-12345678","pin":"1234","puk":"12345678","activities":[2,1]}"#,
        )
        .unwrap()
    }

    #[test]
    fn ef_sn_of_the_default_card() {
        let pan = pan_bcd(&info()).unwrap();
        assert_eq!(ef_sn(&pan), h("5A 0A 80 25 00 00 01 12 34 56 78 9F"));
        let mut real = info();
        real.serial = "99213845".into();
        real.luhn = None;
        assert_eq!(
            ef_sn(&pan_bcd(&real).unwrap()),
            h("5A 0A 80 25 00 00 01 99 21 38 45 0F")
        );
    }

    #[test]
    fn dodf_entries_match_the_profile_bytes() {
        assert_eq!(
            dodf_entry("CPS_DATA", DataAccess::Modifiable, 0xD107),
            h("30 1F 30 0E 0C 08 43 50 53 5F 44 41 54 41 03 02 06 40 30 05 0C 03 43 50 53 A1 06 30 04 04 02 D1 07")
        );
        let id = dodf_entry("CPS_ID_CARD", DataAccess::Public, 0xD101);
        assert_eq!(&id[..4], &h("30 21 30 10"));
        let act = dodf_entry("CPS_ACTIVITY_01_PS", DataAccess::Private, 0xD120);
        assert_eq!(&act[..4], &h("30 2C 30 1B"));
        assert_eq!(&act[act.len() - 2..], &[0xD1, 0x20]);
    }

    #[test]
    fn odf_entry_shape() {
        assert_eq!(
            odf_entry(0xA8, 0x7001),
            h("A8 0A 30 08 04 06 3F 00 00 01 70 01")
        );
    }

    #[test]
    fn data_objects_in_order() {
        let objs = cps_data_objects(&info(), None);
        let fids: Vec<u16> = objs.iter().map(|o| o.fid).collect();
        assert_eq!(
            fids,
            vec![0xD107, 0xD101, 0xD102, 0xD103, 0xD104, 0xD120, 0xD121]
        );
        assert_eq!(objs[0].content.len(), CPS_DATA_SIZE);
        assert_eq!(objs[1].content[0], 0x30);
        assert_eq!(objs[1].content[2], 0x0C);
    }
}
