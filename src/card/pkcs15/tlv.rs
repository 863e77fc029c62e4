//! A tolerant BER-TLV reader and the primitive decoders PKCS#15 files need.
//!
//! Real CPS cards are not strict DER (CPS3.md §3.2): 1-byte BIT STRINGs (`03 01 08`), BIT
//! STRINGs with 8 "unused" bits (`03 02 08 00`), INTEGERs with leading zeros (`02 02 00 81`),
//! references whose high bit is set (`02 01 81` is meant as 0x81, not −127). This module reads
//! what the cards write, never panics, and reports what it cannot read as [`ParseError`].
//! Files are read whole, so they may end with padding: [`Reader::next_tlv`] treats a `00` or `FF`
//! byte where a tag should start as the end of the content (as ISO 7816-4 §8.2.1.1 allows).

use std::fmt;

/// Why a card file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The data ends in the middle of a TLV.
    #[error("{what}: data ends inside a TLV")]
    Truncated { what: &'static str },
    /// A length form we do not read (indefinite, or more than 3 length bytes).
    #[error("{what}: unsupported BER length")]
    BadLength { what: &'static str },
    /// A mandatory field is absent.
    #[error("{what}: missing {field}")]
    Missing {
        what: &'static str,
        field: &'static str,
    },
    /// A field is present but its value makes no sense.
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
}

/// A BER tag, kept as its raw bytes big-endian (`0x30`, `0xA1`, `0x7F41`, `0xBF8101`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag(pub u32);

impl Tag {
    pub const BOOLEAN: Tag = Tag(0x01);
    pub const INTEGER: Tag = Tag(0x02);
    pub const BIT_STRING: Tag = Tag(0x03);
    pub const OCTET_STRING: Tag = Tag(0x04);
    pub const NULL: Tag = Tag(0x05);
    pub const OID: Tag = Tag(0x06);
    pub const ENUMERATED: Tag = Tag(0x0A);
    pub const UTF8_STRING: Tag = Tag(0x0C);
    pub const SEQUENCE: Tag = Tag(0x30);

    /// Context-specific primitive tag `[n]` (n < 31).
    pub const fn context(n: u8) -> Tag {
        Tag(0x80 | n as u32)
    }

    /// Context-specific constructed tag `[n]` (n < 31).
    pub const fn context_constructed(n: u8) -> Tag {
        Tag(0xA0 | n as u32)
    }

    /// First byte of the tag.
    fn first_byte(self) -> u8 {
        let mut v = self.0;
        while v > 0xFF {
            v >>= 8;
        }
        v as u8
    }

    /// True for a constructed encoding (bit 6 of the first byte).
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:02X})", self.0)
    }
}

/// One TLV: its tag and value bytes (borrowed from the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    pub value: &'a [u8],
}

/// Reads consecutive TLVs from a byte string.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure being read, for error messages.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { rest: data, what }
    }

    /// True when nothing (or only padding) is left.
    pub fn is_at_end(&self) -> bool {
        matches!(self.rest.first(), None | Some(0x00) | Some(0xFF))
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// The next TLV, or `None` at the end of the data or at padding (`00`/`FF`).
    pub fn next_tlv(&mut self) -> Result<Option<Tlv<'a>>, ParseError> {
        if self.is_at_end() {
            return Ok(None);
        }
        let what = self.what;
        let truncated = ParseError::Truncated { what };
        let data = self.rest;
        // Tag: 1 byte, or 1F / 3F / 5F / 7F / 9F / BF / DF / FF followed by bytes with bit 8 set
        // except the last (at most 3 tag bytes in total here).
        let mut pos = 1;
        let mut tag = data[0] as u32;
        if data[0] & 0x1F == 0x1F {
            loop {
                let b = *data.get(pos).ok_or(truncated.clone())?;
                tag = (tag << 8) | b as u32;
                pos += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if pos >= 3 {
                    return Err(ParseError::Invalid {
                        what,
                        reason: "tag longer than 3 bytes",
                    });
                }
            }
        }
        let first_len = *data.get(pos).ok_or(truncated.clone())?;
        pos += 1;
        let len = match first_len {
            0..=0x7F => first_len as usize,
            0x81..=0x83 => {
                let n = (first_len & 0x7F) as usize;
                let bytes = data.get(pos..pos + n).ok_or(truncated.clone())?;
                pos += n;
                bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize)
            }
            _ => return Err(ParseError::BadLength { what }),
        };
        let end = pos.checked_add(len).ok_or(truncated.clone())?;
        let value = data.get(pos..end).ok_or(truncated)?;
        self.rest = &data[end..];
        Ok(Some(Tlv {
            tag: Tag(tag),
            value,
        }))
    }

    /// All remaining TLVs (stops at padding).
    pub fn collect_all(mut self) -> Result<Vec<Tlv<'a>>, ParseError> {
        let mut out = Vec::new();
        while let Some(tlv) = self.next_tlv()? {
            out.push(tlv);
        }
        Ok(out)
    }
}

/// The members of one constructed value, looked up by tag: order-insensitive, unknown tags
/// ignored. Used for every PKCS#15 SEQUENCE, which is the leniency real cards need.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    items: Vec<Tlv<'a>>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    /// Splits `value` (the content of a constructed TLV) into its members.
    pub fn parse(value: &'a [u8], what: &'static str) -> Result<Self, ParseError> {
        Ok(Fields {
            items: Reader::new(value, what).collect_all()?,
            what,
        })
    }

    /// Name of the structure, for errors.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Members in order.
    pub fn items(&self) -> &[Tlv<'a>] {
        &self.items
    }

    /// The first member with `tag`.
    pub fn first(&self, tag: Tag) -> Option<&'a [u8]> {
        self.items.iter().find(|t| t.tag == tag).map(|t| t.value)
    }

    /// The `n`-th member (0-based) with `tag`.
    pub fn nth(&self, tag: Tag, n: usize) -> Option<&'a [u8]> {
        self.items
            .iter()
            .filter(|t| t.tag == tag)
            .nth(n)
            .map(|t| t.value)
    }

    /// Index of the first member with `tag`.
    pub fn position(&self, tag: Tag) -> Option<usize> {
        self.items.iter().position(|t| t.tag == tag)
    }

    /// The first member with `tag` after index `after`.
    pub fn first_after(&self, after: usize, tag: Tag) -> Option<&'a [u8]> {
        self.items
            .iter()
            .skip(after + 1)
            .find(|t| t.tag == tag)
            .map(|t| t.value)
    }

    /// The first member with `tag`, or a [`ParseError::Missing`].
    pub fn require(&self, tag: Tag, field: &'static str) -> Result<&'a [u8], ParseError> {
        self.first(tag).ok_or(ParseError::Missing {
            what: self.what,
            field,
        })
    }

    /// A member decoded as a SEQUENCE (or any constructed tag) into its own fields.
    pub fn sub(&self, tag: Tag, what: &'static str) -> Result<Option<Fields<'a>>, ParseError> {
        self.first(tag).map(|v| Fields::parse(v, what)).transpose()
    }
}

/// Decodes an INTEGER content leniently as an unsigned value: leading zero bytes allowed, the
/// sign bit ignored (cards write references like `81` in one byte and mean 0x81). At most 4
/// significant bytes; an empty content is an error.
pub fn uint(value: &[u8], what: &'static str) -> Result<u32, ParseError> {
    if value.is_empty() {
        return Err(ParseError::Invalid {
            what,
            reason: "empty INTEGER",
        });
    }
    let significant: &[u8] = {
        let skip = value.iter().take_while(|b| **b == 0).count();
        &value[skip..]
    };
    if significant.len() > 4 {
        return Err(ParseError::Invalid {
            what,
            reason: "INTEGER larger than 32 bits",
        });
    }
    Ok(significant
        .iter()
        .fold(0u32, |acc, b| (acc << 8) | *b as u32))
}

/// Decodes a BOOLEAN content: any nonzero byte is true (BER), empty is an error.
pub fn boolean(value: &[u8], what: &'static str) -> Result<bool, ParseError> {
    match value {
        [b] => Ok(*b != 0),
        _ => Err(ParseError::Invalid {
            what,
            reason: "BOOLEAN is not one byte",
        }),
    }
}

/// Named bits of a BIT STRING: bit `i` of the ASN.1 value (bit 0 = most significant bit of the
/// first content byte) is bit `i` of the `u32` (bits beyond 31 are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BitFlags(pub u32);

impl BitFlags {
    /// True when named bit `i` is set.
    pub fn has(self, i: u32) -> bool {
        i < 32 && self.0 & (1 << i) != 0
    }
}

/// Decodes a BIT STRING content leniently (never fails):
/// - empty, or a single byte (`03 01 08`, `03 01 00`: no room for an unused-bits byte plus
///   data) → no flags, as OpenSC-derived code (and so the ANS module) decodes it;
/// - first byte = number of unused bits; a value above 7 (`03 02 08 00`) is not valid DER and
///   is treated as 0 (OpenSC masks it with `& 7`); unused bits are cleared;
/// - "non-minimal" encodings (trailing zero bits counted as used) decode to the same flags.
pub fn bit_flags(value: &[u8]) -> BitFlags {
    let [unused, data @ ..] = value else {
        return BitFlags(0);
    };
    if data.is_empty() {
        return BitFlags(0);
    }
    let unused = if *unused > 7 { 0 } else { *unused as u32 };
    let mut out = 0u32;
    let last = data.len() - 1;
    for (i, byte) in data.iter().enumerate().take(4) {
        let mut b = *byte;
        if i == last && unused > 0 {
            b &= 0xFFu8 << unused;
        }
        for bit in 0..8u32 {
            if b & (0x80 >> bit) != 0 {
                out |= 1 << (i as u32 * 8 + bit);
            }
        }
    }
    BitFlags(out)
}

/// Decodes an OBJECT IDENTIFIER content into its arcs. Fails on a truncated arc or an arc that
/// does not fit 32 bits.
pub fn oid(value: &[u8], what: &'static str) -> Result<Vec<u32>, ParseError> {
    let bad = ParseError::Invalid {
        what,
        reason: "malformed OBJECT IDENTIFIER",
    };
    if value.is_empty() {
        return Err(bad);
    }
    let mut arcs = Vec::new();
    let mut acc: u32 = 0;
    let mut in_arc = false;
    for b in value {
        if acc > (u32::MAX >> 7) {
            return Err(bad);
        }
        acc = (acc << 7) | (b & 0x7F) as u32;
        in_arc = true;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (first, second) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                arcs.push(first);
                arcs.push(second);
            } else {
                arcs.push(acc);
            }
            acc = 0;
            in_arc = false;
        }
    }
    if in_arc {
        return Err(bad);
    }
    Ok(arcs)
}

/// Formats OID arcs as dotted text.
pub fn oid_to_string(arcs: &[u32]) -> String {
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// Decodes a text field (UTF8String, or any string type a card used): UTF-8 when valid, else
/// Latin-1 byte per byte, so that a label is never lost.
pub fn text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) => s.to_owned(),
        Err(_) => value.iter().map(|b| *b as char).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_long_and_multibyte_tlvs() {
        let data =
            hex::decode("3003020101 A281020505 BF81010101 7F4100 0000".replace(' ', "")).unwrap();
        let mut r = Reader::new(&data, "t");
        let a = r.next_tlv().unwrap().unwrap();
        assert_eq!((a.tag, a.value), (Tag::SEQUENCE, &[2u8, 1, 1][..]));
        let b = r.next_tlv().unwrap().unwrap();
        assert_eq!((b.tag, b.value), (Tag(0xA2), &[5u8, 5][..]));
        assert!(b.tag.is_constructed());
        let c = r.next_tlv().unwrap().unwrap();
        assert_eq!((c.tag, c.value), (Tag(0xBF8101), &[1u8][..]));
        let d = r.next_tlv().unwrap().unwrap();
        assert_eq!((d.tag, d.value.len()), (Tag(0x7F41), 0));
        // trailing 00 00 is padding
        assert!(r.next_tlv().unwrap().is_none());
    }

    #[test]
    fn truncation_and_bad_lengths_are_errors() {
        for bad in [
            "30",
            "3005 0102",
            "1F",
            "1F81",
            "3081",
            "3084 00000001 00",
            "3080 0000",
        ] {
            let data = hex::decode(bad.replace(' ', "")).unwrap();
            assert!(
                Reader::new(&data, "t").next_tlv().is_err(),
                "{bad} should fail"
            );
        }
    }

    #[test]
    fn integers_are_unsigned_and_tolerate_leading_zeros() {
        assert_eq!(uint(&[0x81], "t").unwrap(), 0x81);
        assert_eq!(uint(&[0x00, 0x81], "t").unwrap(), 0x81);
        assert_eq!(uint(&[0x08, 0x00], "t").unwrap(), 2048);
        assert_eq!(uint(&[0, 0, 0, 0, 0, 1], "t").unwrap(), 1);
        assert!(uint(&[], "t").is_err());
        assert!(uint(&[1, 0, 0, 0, 0], "t").is_err());
    }

    #[test]
    fn bit_strings_decode_like_the_cards_mean_them() {
        // 1-byte BIT STRINGs of the real CPS3 AODF / CPS4 files: no flags.
        assert_eq!(bit_flags(&[0x08]), BitFlags(0));
        assert_eq!(bit_flags(&[0x00]), BitFlags(0));
        assert_eq!(bit_flags(&[]), BitFlags(0));
        // 8 "unused" bits (real CPS3 CDF flags 03 02 08 00): no flags.
        assert_eq!(bit_flags(&[0x08, 0x00]), BitFlags(0));
        // private (bit 0)
        assert_eq!(bit_flags(&[0x07, 0x80]), BitFlags(1));
        // modifiable (bit 1)
        assert!(bit_flags(&[0x06, 0x40]).has(1));
        // PIN flags 04 0C 10: bits 4, 5, 11
        let f = bit_flags(&[0x04, 0x0C, 0x10]);
        assert_eq!(f, BitFlags((1 << 4) | (1 << 5) | (1 << 11)));
        // nonRepudiation 06 00 40: bit 9
        assert_eq!(bit_flags(&[0x06, 0x00, 0x40]), BitFlags(1 << 9));
        // unused bits are cleared even if set
        assert_eq!(bit_flags(&[0x04, 0xFF]), BitFlags(0x0F));
    }

    #[test]
    fn oids_decode() {
        // IAS-ECC OID of EF.ATR tag 78.
        let arcs = oid(&hex::decode("2B8122F87802").unwrap(), "t").unwrap();
        assert_eq!(oid_to_string(&arcs), "1.3.162.15480.2");
        let sha256 = oid(&hex::decode("608648016503040201").unwrap(), "t").unwrap();
        assert_eq!(oid_to_string(&sha256), "2.16.840.1.101.3.4.2.1");
        assert!(oid(&[0x81], "t").is_err());
        assert!(oid(&[], "t").is_err());
        assert!(oid(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], "t").is_err());
    }

    #[test]
    fn text_falls_back_to_latin1() {
        assert_eq!(text(b"Code de d\xC3\xA9blocage"), "Code de déblocage");
        assert_eq!(text(b"d\xE9blocage"), "déblocage");
    }
}
