//! A tiny BER-TLV encoder and reader, private to the emulator (DESIGN §6: the emulator builds its
//! files with its own encoder so that a bug of the driver's parser cannot hide behind the same bug
//! here). Only what the card files need: tags of 1-3 bytes, definite lengths up to 65535.

/// Encodes a BER length: short form below 128, else `81 xx` or `82 xx xx`.
pub fn length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

/// `tag ‖ length ‖ value`; `tag` is given as its bytes (e.g. `&[0xBF, 0x81, 0x01]`).
pub fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.extend(length(value.len()));
    out.extend_from_slice(value);
    out
}

/// A constructed TLV whose value is the concatenation of `parts`.
pub fn seq(tag: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// UTF8String (`0C`).
pub fn utf8(text: &str) -> Vec<u8> {
    tlv(&[0x0C], text.as_bytes())
}

/// One TLV read from a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: &'a [u8],
    pub value: &'a [u8],
}

/// Splits `buf` into consecutive TLVs. `None` when a tag or length runs past the end or uses a
/// form this card does not know (indefinite length, more than 2 length bytes).
pub fn parse_all(mut buf: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (t, rest) = parse_one(buf)?;
        out.push(t);
        buf = rest;
    }
    Some(out)
}

/// Reads one TLV and returns it with the rest of the buffer.
pub fn parse_one(buf: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let first = *buf.first()?;
    let mut tag_len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *buf.get(tag_len)?;
            tag_len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if tag_len > 3 {
                return None;
            }
        }
    }
    let l0 = *buf.get(tag_len)? as usize;
    let (len, len_len) = match l0 {
        0..=0x7F => (l0, 1),
        0x81 => (*buf.get(tag_len + 1)? as usize, 2),
        0x82 => (
            ((*buf.get(tag_len + 1)? as usize) << 8) | *buf.get(tag_len + 2)? as usize,
            3,
        ),
        _ => return None,
    };
    let start = tag_len + len_len;
    let end = start.checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    Some((
        Tlv {
            tag: &buf[..tag_len],
            value: &buf[start..end],
        },
        &buf[end..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_shortest_form() {
        assert_eq!(length(0x7F), vec![0x7F]);
        assert_eq!(length(0x80), vec![0x81, 0x80]);
        assert_eq!(length(0xD9), vec![0x81, 0xD9]);
        assert_eq!(length(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn round_trip_with_multibyte_tags() {
        let inner = tlv(&[0x9A], &[3]);
        let sdo = seq(&[0xBF, 0x81, 0x01], &[&inner, &tlv(&[0x7F, 0x41], &[])]);
        let all = parse_all(&sdo).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].tag, &[0xBF, 0x81, 0x01]);
        let kids = parse_all(all[0].value).unwrap();
        assert_eq!(kids[0].tag, &[0x9A]);
        assert_eq!(kids[1].tag, &[0x7F, 0x41]);
        assert!(kids[1].value.is_empty());
    }

    #[test]
    fn truncated_input_is_refused() {
        assert!(parse_all(&[0x80, 0x03, 1, 2]).is_none());
        assert!(parse_all(&[0xBF]).is_none());
        assert!(parse_all(&[0x80, 0x83, 0, 0, 1]).is_none());
    }
}
