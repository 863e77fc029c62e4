//! How an answer leaves the card, per protocol (README.md §6, CPS4.md §3).
//!
//! - T=0: a command that produces data, other than READ BINARY, GET CHALLENGE and GET RESPONSE,
//!   answers `61 xx` (xx = bytes available, `00` = 256 or more) and keeps the data for GET
//!   RESPONSE [C: OSC#2275]. The CPS2ter command set says `9F xx` instead (CPS3.md §9).
//! - T=1: data comes back directly when the command carries Le; without Le (case 3) only the
//!   status word [S, ISO 7816-4 §5.1]; Le shorter than the data → the first Le bytes and
//!   `61 xx` for the rest [S].
//! - GET RESPONSE `CLA C0 00 00 Le`: `min(Le, left)` bytes, then `61 yy` while bytes are left,
//!   else `90 00`; Le > left → `6C left` [S]; nothing pending → `69 85` [S]; any other command
//!   discards what is pending [S].

use crate::transport::Protocol;
use zeroize::Zeroizing;

pub const SW_OK: u16 = 0x9000;

/// What a command handler produced, before the protocol rules apply.
#[derive(Debug)]
pub struct Answer {
    pub data: Zeroizing<Vec<u8>>,
    pub sw: u16,
    /// READ BINARY / GET CHALLENGE: data goes back directly even under T=0.
    pub direct: bool,
}

impl Answer {
    /// Status word only.
    pub fn sw(sw: u16) -> Answer {
        Answer {
            data: Zeroizing::new(Vec::new()),
            sw,
            direct: false,
        }
    }
    /// Data and `90 00`, subject to the `61 xx` rule under T=0.
    pub fn data(data: impl Into<Vec<u8>>) -> Answer {
        Answer {
            data: Zeroizing::new(data.into()),
            sw: SW_OK,
            direct: false,
        }
    }
    /// Data returned in the response itself on every protocol (case-2 commands).
    pub fn direct(data: impl Into<Vec<u8>>, sw: u16) -> Answer {
        Answer {
            data: Zeroizing::new(data.into()),
            sw,
            direct: true,
        }
    }
}

/// Data kept for GET RESPONSE.
#[derive(Debug)]
pub struct Pending {
    data: Zeroizing<Vec<u8>>,
    /// `61` (ISO) or `9F` (CPS2ter).
    sw1: u8,
}

fn more(sw1: u8, left: usize) -> u16 {
    (u16::from(sw1) << 8) | (left.min(256) % 256) as u16
}

fn with_sw(data: &[u8], sw: u16) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&sw.to_be_bytes());
    out
}

/// Applies the protocol rules to `answer` of a command that carried `le`; `sw1_more` is `61` or
/// `9F`. Data that stays in the card goes to `pending`.
pub fn shape(
    protocol: Protocol,
    answer: Answer,
    le: Option<usize>,
    sw1_more: u8,
    pending: &mut Option<Pending>,
) -> Vec<u8> {
    *pending = None;
    if answer.data.is_empty() || answer.direct {
        return with_sw(&answer.data, answer.sw);
    }
    let keep = |from: usize, pending: &mut Option<Pending>| {
        let left = answer.data.len() - from;
        *pending = Some(Pending {
            data: Zeroizing::new(answer.data[from..].to_vec()),
            sw1: sw1_more,
        });
        more(sw1_more, left)
    };
    match protocol {
        Protocol::T0 => keep(0, pending).to_be_bytes().to_vec(),
        Protocol::T1 => match le {
            None => answer.sw.to_be_bytes().to_vec(),
            Some(le) if le >= answer.data.len() => with_sw(&answer.data, answer.sw),
            Some(le) => {
                let sw = keep(le, pending);
                with_sw(&answer.data[..le], sw)
            }
        },
    }
}

/// GET RESPONSE (`P1 P2` must be `00 00`); `le` None is read as `00` (256).
pub fn get_response(pending: &mut Option<Pending>, p1p2: u16, le: Option<usize>) -> Vec<u8> {
    if p1p2 != 0 {
        return 0x6A86u16.to_be_bytes().to_vec();
    }
    let Some(p) = pending.as_mut() else {
        return 0x6985u16.to_be_bytes().to_vec();
    };
    let le = le.unwrap_or(256);
    let left = p.data.len();
    if le > left {
        return (0x6C00u16 | (left % 256) as u16).to_be_bytes().to_vec();
    }
    let out = p.data[..le].to_vec();
    let rest = left - le;
    let sw = if rest == 0 { SW_OK } else { more(p.sw1, rest) };
    if rest == 0 {
        *pending = None;
    } else {
        p.data = Zeroizing::new(p.data[le..].to_vec());
    }
    with_sw(&out, sw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t0_keeps_data_for_get_response_in_e7_chunks() {
        let mut p = None;
        let sig = vec![0xAB; 256];
        assert_eq!(
            shape(Protocol::T0, Answer::data(sig), None, 0x61, &mut p),
            [0x61, 0x00]
        );
        let r = get_response(&mut p, 0, Some(0xE7));
        assert_eq!(r.len(), 0xE7 + 2);
        assert_eq!(&r[0xE7..], &[0x61, 0x19]);
        assert_eq!(get_response(&mut p, 0, Some(0x20)), [0x6C, 0x19]);
        let r = get_response(&mut p, 0, Some(0x19));
        assert_eq!(&r[0x19..], &[0x90, 0x00]);
        assert_eq!(get_response(&mut p, 0, Some(1)), [0x69, 0x85]);
    }

    #[test]
    fn t0_direct_and_status_only() {
        let mut p = None;
        assert_eq!(
            shape(
                Protocol::T0,
                Answer::direct(vec![1, 2], SW_OK),
                Some(2),
                0x61,
                &mut p
            ),
            [1, 2, 0x90, 0]
        );
        assert_eq!(
            shape(Protocol::T0, Answer::sw(0x6A82), None, 0x61, &mut p),
            [0x6A, 0x82]
        );
        assert!(p.is_none());
        shape(Protocol::T0, Answer::data(vec![1; 12]), None, 0x9F, &mut p);
        assert_eq!(get_response(&mut p, 0, Some(12))[12..], [0x90, 0x00]);
    }

    #[test]
    fn t1_answers_directly_with_le() {
        let mut p = None;
        assert_eq!(
            shape(
                Protocol::T1,
                Answer::data(vec![7; 3]),
                Some(256),
                0x61,
                &mut p
            ),
            [7, 7, 7, 0x90, 0]
        );
        assert_eq!(
            shape(Protocol::T1, Answer::data(vec![7; 3]), None, 0x61, &mut p),
            [0x90, 0]
        );
        assert_eq!(
            shape(
                Protocol::T1,
                Answer::data(vec![7; 3]),
                Some(2),
                0x61,
                &mut p
            ),
            [7, 7, 0x61, 1]
        );
        assert_eq!(get_response(&mut p, 0, Some(1)), [7, 0x90, 0]);
    }
}
