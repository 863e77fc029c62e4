//! `cps-tool apdu HEX...`: raw APDUs, in order, in one card transaction. No GET RESPONSE or
//! 6Cxx handling: what the card answers is printed as it is.

use cpscard::apdu::{Command, Response};
use cpscard::transport::{with_transaction, Transmit};

use cpscard::i18n::Msg;
use cpscard::t;

use crate::error::CliError;
use crate::select::{self, CardArgs};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "HEX", required = true, help = Msg::HelpApduHex.text())]
    pub apdus: Vec<String>,
}

/// Parses one APDU argument: hex digits with optional spaces/colons, a valid short APDU.
pub fn parse_apdu(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let bytes = hex::decode(&digits).map_err(|e| t!(Msg::ErrUsageApduNotHex, detail = e))?;
    Command::parse(&bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// `< DATA SW1 SW2  # meaning` (DATA omitted when empty).
pub fn response_line(answer: &[u8]) -> String {
    match Response::parse(answer) {
        Ok(r) => {
            let [sw1, sw2] = r.sw.to_bytes();
            let data = if r.data().is_empty() {
                String::new()
            } else {
                format!("{} ", hex::encode_upper(r.data()))
            };
            format!("< {data}{sw1:02X} {sw2:02X}  # {}", r.sw.meaning())
        }
        Err(_) => format!("< {}  # {}", hex::encode_upper(answer), Msg::ApduNoStatus),
    }
}

/// `> COMMAND` with the data of PIN commands masked (Command::trace_hex).
pub fn command_line(apdu: &[u8]) -> String {
    match Command::parse(apdu) {
        Ok(c) => format!("> {}", c.trace_hex()),
        Err(_) => format!("> {}", hex::encode_upper(apdu)),
    }
}

pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    // Everything is checked before anything is sent.
    let apdus = args
        .apdus
        .iter()
        .enumerate()
        .map(|(i, text)| {
            parse_apdu(text).map_err(|e| {
                CliError::Usage(t!(
                    Msg::ErrUsageApdu,
                    n = i + 1,
                    text = format!("{text:?}"),
                    detail = e
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut t = select::open(card)?;
    crate::interrupt::card(|| {
        with_transaction(t.as_mut(), |tx: &mut dyn Transmit| {
            for apdu in &apdus {
                println!("{}", command_line(apdu));
                let answer = tx.transmit(apdu)?;
                println!("{}", response_line(&answer));
            }
            Ok::<(), CliError>(())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_spaces_and_colons() {
        assert_eq!(
            parse_apdu("00 a4:04 0C 02 aa:BB").unwrap(),
            [0x00, 0xA4, 0x04, 0x0C, 0x02, 0xAA, 0xBB]
        );
        assert_eq!(parse_apdu("00B09C000C").unwrap(), [0, 0xB0, 0x9C, 0, 0x0C]);
    }

    #[test]
    fn malformed_apdus_are_refused() {
        assert!(parse_apdu("00A4").unwrap_err().contains("at least 4 bytes"));
        assert!(parse_apdu("00A4040").unwrap_err().contains("not hex"));
        assert!(parse_apdu("00A4040Z").unwrap_err().contains("not hex"));
        assert!(parse_apdu("00A4040C05AABB").unwrap_err().contains("Lc"));
        assert!(parse_apdu("").is_err());
    }

    #[test]
    fn response_lines() {
        assert_eq!(response_line(&[0x90, 0x00]), "< 90 00  # success");
        assert_eq!(
            response_line(&[0x5A, 0x0A, 0x90, 0x00]),
            "< 5A0A 90 00  # success"
        );
        assert_eq!(
            response_line(&[0x61, 0x27]),
            "< 61 27  # 39 bytes available (GET RESPONSE)"
        );
        assert_eq!(response_line(&[0x90]), "< 90  # no status word");
    }

    #[test]
    fn pin_is_masked_in_the_echo() {
        let line = command_line(&hex::decode("002000010831323334FFFFFFFF").unwrap());
        assert!(!line.contains("31323334"), "{line}");
        assert!(line.starts_with("> 0020000108"), "{line}");
        assert_eq!(
            command_line(&[0x00, 0xB0, 0x9C, 0x00, 0x0C]),
            "> 00B09C000C"
        );
    }
}
