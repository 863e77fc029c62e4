//! The byte strings of the card profiles, transcribed as written (`CPS3.md` §3.2, `CPS4.md`
//! §4.1), for tests. [`h`] reads the profiles' notation: hex bytes and `"quoted"` ASCII, with
//! `\xNN` escapes inside quotes.

/// Parses profile notation: hex byte pairs separated by spaces, and `"text"` for ASCII bytes.
pub fn h(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\n' | '\t' => {}
            '"' => loop {
                match chars.next() {
                    Some('"') | None => break,
                    Some('\\') => {
                        assert_eq!(chars.next(), Some('x'));
                        let hi = chars.next().unwrap();
                        let lo = chars.next().unwrap();
                        out.push(u8::from_str_radix(&format!("{hi}{lo}"), 16).unwrap());
                    }
                    Some(ch) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                }
            },
            hi => {
                let lo = chars.next().unwrap();
                out.push(u8::from_str_radix(&format!("{hi}{lo}"), 16).unwrap());
            }
        }
    }
    out
}

/// CPS3 EF.ATR 2F01, 57 bytes, real (CPS3.md §3.2).
pub fn cps3_ef_atr() -> Vec<u8> {
    h("80 43 01 B8 46 04 04 B0 EC C1 47 03 94 01 80 4F 08 80 25 00 00 01 FF 01 00
       E0 10 02 02 01 04 02 02 01 04 02 02 01 00 02 02 01 00 78 08 06 06 2B 81 22 F8 78 02 82 02 90 00")
}

/// CPS3 EF.DIR 2F00, 101 bytes (contactless record first).
pub fn cps3_ef_dir() -> Vec<u8> {
    h("61 32 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 20 50 0A 43 50 53 20 49 41 53 20 43 4C 51 04 3F 00 00 02
          73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10
       61 2F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 07 43 50 53 20 49 41 53 51 04 3F 00 00 01
          73 0F 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")
}

/// EF.SN.ICC of the real card of OSC#2275.
pub fn cps3_ef_sn_real() -> Vec<u8> {
    h("5A 0A 80 25 00 00 01 99 21 38 45 0F")
}

/// EF.SN.ICC default of the profiles.
pub fn ef_sn_default() -> Vec<u8> {
    h("5A 0A 80 25 00 00 01 12 34 56 78 9F")
}

/// CPS3 ODF 0001/5031.
pub fn cps3_odf() -> Vec<u8> {
    h(
        "A8 0A 30 08 04 06 3F 00 00 01 70 01  A0 0A 30 08 04 06 3F 00 00 01 70 02
       A4 0A 30 08 04 06 3F 00 00 01 70 05  A7 0A 30 08 04 06 3F 00 00 01 70 06",
    )
}

/// CPS3 TokenInfo 0001/5032.
pub fn cps3_token_info() -> Vec<u8> {
    h(
        r#"30 81 D9 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A "ASIP-SANTE" 80 0F "CPS3v3-12345678" 03 02 05 60
       A2 81 A6 30 17 02 01 01 02 02 02 20 05 00 03 02 01 02 06 05 2B 0E 03 02 1A 02 01 10
         30 1B 02 01 02 02 02 02 50 05 00 03 02 01 02 06 09 60 86 48 01 65 03 04 02 01 02 01 40
         30 1A 02 01 03 02 01 06 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 05 02 01 12
         30 1A 02 01 04 02 01 40 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 0B 02 01 42
         30 1A 02 01 05 02 01 01 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 02
         30 1A 02 01 06 02 01 01 05 00 03 02 02 04 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 1A"#,
    )
}

/// CPS3 AODF 0001/7001, 189 bytes, real (OSC#2224).
pub fn cps3_aodf() -> Vec<u8> {
    h(
        r#"30 61 30 3F 0C 1C "Code porteur de la carte CPS" 03 01 08 04 01 02
            30 19 30 06 03 02 05 20 05 00 30 06 03 02 06 40 05 00 30 07 03 02 03 08 04 01 04
         30 03 04 01 01
         A1 19 30 17 03 03 04 0C 10 0A 01 01 02 01 04 02 01 08 02 01 04 80 01 01 04 01 FF
       30 58 30 39 0C 22 "Code de d\xC3\xA9blocage de la carte CPS" 03 01 08
            30 10 30 06 03 02 05 20 05 00 30 06 03 02 06 40 05 00
         30 03 04 01 04
         A1 16 30 14 03 03 04 1D 10 0A 01 01 02 01 08 02 01 08 02 01 08 80 01 02"#,
    )
}

/// CPS3 PrKDF 0001/7002.
pub fn cps3_prkdf() -> Vec<u8> {
    h(
        r#"30 50 30 20 0C 0C "CPS_PRIV_SIG" 03 02 07 80 04 01 01 30 09 30 07 03 02 02 04 04 01 01
         30 20 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 03 03 06 00 40 01 01 FF 03 02 04 B0 02 02 00 81
         A1 0A 30 08 30 02 04 00 02 02 08 00
       30 50 30 21 0C 0C "CPS_PRIV_AUT" 03 02 05 E0 04 01 01 30 0A 30 08 03 03 06 01 40 04 01 01
         30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 03 02 05 60 01 01 FF 03 02 04 B0 02 02 00 82
         A1 0A 30 08 30 02 04 00 02 02 08 00"#,
    )
}

/// CPS3 CDF 0001/7005 (first 72 bytes of entry 1 real).
pub fn cps3_cdf() -> Vec<u8> {
    h(
        r#"30 52 30 34 0C 1B "Certificat de Signature CPS" 03 02 08 00 30 11 30 06 03 02 07 80 05 00 30 07 03 02 06 40 04 01 01
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01   A1 08 30 06 30 04 04 02 A0 01
       30 58 30 3A 0C 21 "Certificat d'Authentification CPS" 03 02 08 00 30 11 30 06 03 02 07 80 05 00 30 07 03 02 06 40 04 01 01
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02   A1 08 30 06 30 04 04 02 A0 02"#,
    )
}

/// CPS3 DODF 0001/7006 as the profile lists it (CPS_DATA, CPS_ID_CARD, CPS_ACTIVITY_01_PS).
pub fn cps3_dodf() -> Vec<u8> {
    h(
        r#"30 1F 30 0E 0C 08 "CPS_DATA" 03 02 06 40 30 05 0C 03 43 50 53 A1 06 30 04 04 02 D1 07
       30 21 30 10 0C 0B "CPS_ID_CARD" 03 01 00 30 05 0C 03 43 50 53 A1 06 30 04 04 02 D1 01
       30 2C 30 1B 0C 12 "CPS_ACTIVITY_01_PS" 03 02 07 80 04 01 01 30 05 0C 03 43 50 53 A1 06 30 04 04 02 D1 20"#,
    )
}

/// CPS4 TokenInfo.
pub fn cps4_token_info() -> Vec<u8> {
    h(
        r#"30 2E 02 01 00 04 0A 80 25 00 00 01 12 34 56 78 9F 0C 0A "ASIP-SANTE" 80 0D "CPS4-12345678" 03 02 05 60"#,
    )
}

/// CPS4 AODF.
pub fn cps4_aodf() -> Vec<u8> {
    h(
        r#"30 47 30 24 0C 1C "Code porteur de la carte CPS" 03 01 00 04 01 02 30 03 04 01 01
         A1 1A 30 18 03 03 04 0C 10 0A 01 01 02 01 04 02 01 08 02 01 04 80 02 00 81 04 01 FF
       30 49 30 26 0C 21 "Code de deblocage de la carte CPS" 03 01 00 30 03 04 01 02
         A1 1A 30 18 03 03 04 1F 10 0A 01 01 02 01 08 02 01 08 02 01 08 80 02 00 82 04 01 FF"#,
    )
}

/// CPS4 PrKDF.
pub fn cps4_prkdf() -> Vec<u8> {
    h(
        r#"30 4F 30 20 0C 0C "CPS_PRIV_SIG" 03 02 07 80 04 01 01 30 09 30 07 03 02 02 04 04 01 01
         30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 10 03 03 06 00 40 01 01 FF 03 02 04 B0 02 01 10
         A1 0A 30 08 30 02 04 00 02 02 08 00
       30 4E 30 20 0C 0C "CPS_PRIV_AUT" 03 02 06 C0 04 01 01 30 09 30 07 03 02 00 05 04 01 01
         30 1E 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 20 03 02 05 60 01 01 FF 03 02 04 B0 02 01 20
         A1 0A 30 08 30 02 04 00 02 02 08 00"#,
    )
}

/// CPS4 CDF.
pub fn cps4_cdf() -> Vec<u8> {
    h(
        r#"30 48 30 2A 0C 1B "Certificat de Signature CPS" 03 01 00 30 08 30 06 03 02 07 80 05 00
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 10 A1 08 30 06 30 04 04 02 A0 10
       30 4E 30 30 0C 21 "Certificat d'Authentification CPS" 03 01 00 30 08 30 06 03 02 07 80 05 00
         30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 20 A1 08 30 06 30 04 04 02 A0 20"#,
    )
}

/// Every sample, named, for the robustness test.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("cps3_ef_atr", cps3_ef_atr()),
        ("cps3_ef_dir", cps3_ef_dir()),
        ("cps3_ef_sn_real", cps3_ef_sn_real()),
        ("ef_sn_default", ef_sn_default()),
        ("cps3_odf", cps3_odf()),
        ("cps3_token_info", cps3_token_info()),
        ("cps3_aodf", cps3_aodf()),
        ("cps3_prkdf", cps3_prkdf()),
        ("cps3_cdf", cps3_cdf()),
        ("cps3_dodf", cps3_dodf()),
        ("cps4_token_info", cps4_token_info()),
        ("cps4_aodf", cps4_aodf()),
        ("cps4_prkdf", cps4_prkdf()),
        ("cps4_cdf", cps4_cdf()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The profiles' lengths are consistent with their bytes: each top-level TLV ends exactly
    /// where the data ends (a transcription error would show here first).
    #[test]
    fn transcriptions_have_consistent_lengths() {
        use super::super::tlv::Reader;
        assert_eq!(cps3_ef_atr().len(), 57);
        assert_eq!(cps3_ef_dir().len(), 101);
        assert_eq!(cps3_aodf().len(), 189);
        assert_eq!(&cps3_cdf()[..2], &[0x30, 0x52]);
        for (name, bytes) in all() {
            let start = if name == "cps3_ef_atr" { 1 } else { 0 };
            let mut r = Reader::new(&bytes[start..], "sample");
            let mut n = 0;
            while r
                .next_tlv()
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .is_some()
            {
                n += 1;
            }
            assert!(r.remaining().is_empty(), "{name}: trailing bytes");
            assert!(n > 0, "{name}");
        }
    }
}
