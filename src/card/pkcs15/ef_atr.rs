//! EF.ATR 2F01 (ISO 7816-4 §8.2.1.1 "ATR information"), CPS3.md §3.2. The real file starts
//! with a category byte `80` before the BER-TLVs (OpenSC had to skip it); we accept it with or
//! without.

use super::tlv::{oid, uint, Fields, ParseError, Reader, Tag};

/// The decoded EF.ATR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EfAtr {
    /// Tag `43`: card service data.
    pub card_service: Option<u8>,
    /// Tag `46`: pre-issuing data.
    pub pre_issuing: Vec<u8>,
    /// Tag `47`: card capabilities (3rd byte `80` = command chaining).
    pub capabilities: Vec<u8>,
    /// Tag `4F`: AID of the root application.
    pub root_aid: Option<Vec<u8>>,
    /// Tag `E0`: I/O buffer sizes, in order (real CPS3: `0104 0104 0100 0100`).
    pub io_buffer_sizes: Vec<u32>,
    /// Tag `78`: OID of the card's specification (IAS-ECC `1.3.162.15480.2`).
    pub spec_oid: Option<Vec<u32>>,
    /// Tag `82`: status bytes.
    pub status: Option<Vec<u8>>,
}

impl EfAtr {
    /// Largest command APDU (header included) the card takes: first `E0` size (`0104` = 5 +
    /// 255 data bytes, CPS3.md §2).
    pub fn max_command_apdu(&self) -> Option<u32> {
        self.io_buffer_sizes.first().copied()
    }

    /// Largest response data: third `E0` size (`0100` = 256, CPS3.md §2).
    pub fn max_response(&self) -> Option<u32> {
        self.io_buffer_sizes.get(2).copied()
    }

    /// Command chaining supported (ISO 7816-4 Table 88, third software function byte, b8).
    pub fn supports_chaining(&self) -> bool {
        self.capabilities.get(2).is_some_and(|b| b & 0x80 != 0)
    }

    /// True when `78` names IAS-ECC.
    pub fn is_ias_ecc(&self) -> bool {
        self.spec_oid.as_deref() == Some(&[1, 3, 162, 15480, 2][..])
    }
}

/// Parses EF.ATR. Unknown tags are skipped.
pub fn parse_ef_atr(file: &[u8]) -> Result<EfAtr, ParseError> {
    const WHAT: &str = "EF.ATR";
    let body = match file {
        [0x80, rest @ ..] => rest,
        _ => file,
    };
    let mut out = EfAtr::default();
    let mut r = Reader::new(body, WHAT);
    while let Some(t) = r.next_tlv()? {
        match t.tag.0 {
            0x43 => out.card_service = t.value.first().copied(),
            0x46 => out.pre_issuing = t.value.to_vec(),
            0x47 => out.capabilities = t.value.to_vec(),
            0x4F => out.root_aid = Some(t.value.to_vec()),
            0xE0 => {
                for item in Fields::parse(t.value, WHAT)?.items() {
                    if item.tag == Tag::INTEGER {
                        out.io_buffer_sizes.push(uint(item.value, WHAT)?);
                    }
                }
            }
            0x78 => {
                if let Some(o) = Fields::parse(t.value, WHAT)?.first(Tag::OID) {
                    out.spec_oid = Some(oid(o, WHAT)?);
                }
            }
            0x82 => out.status = Some(t.value.to_vec()),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples;
    use super::*;

    #[test]
    fn real_cps3_ef_atr() {
        let atr = parse_ef_atr(&samples::cps3_ef_atr()).unwrap();
        assert_eq!(atr.card_service, Some(0xB8));
        assert_eq!(atr.pre_issuing, vec![0x04, 0xB0, 0xEC, 0xC1]);
        assert_eq!(atr.capabilities, vec![0x94, 0x01, 0x80]);
        assert!(atr.supports_chaining());
        assert_eq!(
            atr.root_aid.as_deref(),
            Some(&[0x80, 0x25, 0, 0, 1, 0xFF, 1, 0][..])
        );
        assert_eq!(atr.io_buffer_sizes, vec![0x104, 0x104, 0x100, 0x100]);
        assert_eq!(atr.max_command_apdu(), Some(0x104));
        assert_eq!(atr.max_response(), Some(256));
        assert!(atr.is_ias_ecc());
        assert_eq!(atr.status.as_deref(), Some(&[0x90, 0x00][..]));
        // the same without the category byte
        assert_eq!(parse_ef_atr(&samples::cps3_ef_atr()[1..]).unwrap(), atr);
    }
}
