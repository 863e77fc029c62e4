//! Command APDUs (ISO 7816-4 §5.1), short length only: CPS cards support no extended length
//! (EF.ATR card capabilities: command chaining only).

use super::ApduError;
use zeroize::Zeroizing;

/// Largest Lc of a short APDU.
pub const MAX_SHORT_LC: usize = 255;
/// Largest Le of a short APDU (encoded `00`).
pub const MAX_SHORT_LE: usize = 256;

/// Bit of CLA that marks "more blocks follow" in command chaining (ISO 7816-4 §5.1.1.1).
pub const CLA_CHAINING: u8 = 0x10;

/// INS values whose data is secret (PIN, PUK) and is masked in traces.
const SECRET_INS: [u8; 3] = [0x20, 0x24, 0x2C];

/// One command APDU. The data buffer is zeroized on drop: it may carry a PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    data: Zeroizing<Vec<u8>>,
    /// Expected response length, 1..=256; `None` for cases 1 and 3.
    le: Option<usize>,
}

impl Command {
    /// Case 1: header only.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Zeroizing::new(Vec::new()),
            le: None,
        }
    }

    /// Adds a data field (case 3, or case 4 with [`Command::with_le`]).
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = Zeroizing::new(data.into());
        self
    }

    /// Sets Le (1..=256; 256 is encoded `00`). Values above 256 are capped at 256.
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le.clamp(1, MAX_SHORT_LE));
        self
    }

    /// Removes Le (turns case 2/4 into case 1/3).
    pub fn without_le(mut self) -> Self {
        self.le = None;
        self
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn le(&self) -> Option<usize> {
        self.le
    }

    /// ISO case number 1..4.
    pub fn case(&self) -> u8 {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => 1,
            (true, true) => 2,
            (false, false) => 3,
            (false, true) => 4,
        }
    }

    /// True when the data must be masked in traces (VERIFY, CHANGE REFERENCE DATA,
    /// RESET RETRY COUNTER).
    pub fn is_secret(&self) -> bool {
        SECRET_INS.contains(&self.ins)
    }

    /// Encodes as short APDU bytes. Fails when the data does not fit one short APDU
    /// (use [`Command::chained`]).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, ApduError> {
        if self.data.len() > MAX_SHORT_LC {
            return Err(ApduError::DataTooLong(self.data.len()));
        }
        let mut out = Zeroizing::new(Vec::with_capacity(6 + self.data.len()));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            out.push((le % 256) as u8);
        }
        Ok(out)
    }

    /// Parses short APDU bytes (cases 1 to 4). A case-4 command arriving without its Le is
    /// read as case 3, as a T=0 reader delivers it.
    pub fn parse(bytes: &[u8]) -> Result<Command, ApduError> {
        let [cla, ins, p1, p2, rest @ ..] = bytes else {
            return Err(ApduError::Malformed("a command APDU has at least 4 bytes"));
        };
        let mut cmd = Command::new(*cla, *ins, *p1, *p2);
        match rest {
            [] => {}
            [le] => cmd.le = Some(if *le == 0 { 256 } else { *le as usize }),
            [0, ..] => return Err(ApduError::Malformed("extended length is not supported")),
            [lc, body @ ..] => {
                let lc = *lc as usize;
                if body.len() == lc {
                    cmd.data = Zeroizing::new(body.to_vec());
                } else if body.len() == lc + 1 {
                    cmd.data = Zeroizing::new(body[..lc].to_vec());
                    let le = body[lc];
                    cmd.le = Some(if le == 0 { 256 } else { le as usize });
                } else {
                    return Err(ApduError::Malformed("Lc does not match the data length"));
                }
            }
        }
        Ok(cmd)
    }

    /// Splits a command whose data exceeds `max_block` bytes into a chain: every block but the
    /// last has `CLA | 0x10`; only the last carries Le. Data of `max_block` bytes or less gives
    /// one command, unchanged.
    pub fn chained(&self, max_block: usize) -> Vec<Command> {
        let max_block = max_block.clamp(1, MAX_SHORT_LC);
        if self.data.len() <= max_block {
            return vec![self.clone()];
        }
        let blocks: Vec<&[u8]> = self.data.chunks(max_block).collect();
        let last = blocks.len() - 1;
        blocks
            .into_iter()
            .enumerate()
            .map(|(i, block)| Command {
                cla: if i == last {
                    self.cla
                } else {
                    self.cla | CLA_CHAINING
                },
                ins: self.ins,
                p1: self.p1,
                p2: self.p2,
                data: Zeroizing::new(block.to_vec()),
                le: if i == last { self.le } else { None },
            })
            .collect()
    }

    /// Hex for traces: the data of secret commands is replaced by `**` per byte.
    pub fn trace_hex(&self) -> String {
        match self.to_bytes() {
            Ok(bytes) if self.is_secret() && !self.data.is_empty() => {
                let mut s = hex::encode_upper(&bytes[..5]);
                s.push_str(&"**".repeat(self.data.len()));
                if self.le.is_some() {
                    s.push_str(&hex::encode_upper(&bytes[bytes.len() - 1..]));
                }
                s
            }
            Ok(bytes) => hex::encode_upper(&*bytes),
            Err(_) => format!(
                "{:02X}{:02X}{:02X}{:02X} <{} bytes>",
                self.cla,
                self.ins,
                self.p1,
                self.p2,
                self.data.len()
            ),
        }
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Command({})", self.trace_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_four_cases() {
        let c1 = Command::new(0x01, 0x20, 0x00, 0x81);
        assert_eq!(c1.case(), 1);
        assert_eq!(&*c1.to_bytes().unwrap(), &[0x01, 0x20, 0x00, 0x81]);

        let c2 = Command::new(0x00, 0x84, 0, 0).with_le(8);
        assert_eq!(c2.case(), 2);
        assert_eq!(hex::encode(&*c2.to_bytes().unwrap()), "0084000008");

        let c2_256 = Command::new(0x00, 0xB0, 0, 0).with_le(256);
        assert_eq!(hex::encode(&*c2_256.to_bytes().unwrap()), "00b0000000");

        let c3 = Command::new(0x00, 0xA4, 0x09, 0x0C).with_data(vec![0x3F, 0x00]);
        assert_eq!(c3.case(), 3);
        assert_eq!(hex::encode(&*c3.to_bytes().unwrap()), "00a4090c023f00");

        let c4 = Command::new(0x00, 0xA4, 0x09, 0x04)
            .with_data(vec![0x3F, 0x00, 0x2F, 0x01])
            .with_le(256);
        assert_eq!(c4.case(), 4);
        assert_eq!(
            hex::encode(&*c4.to_bytes().unwrap()),
            "00a40904043f002f0100"
        );
    }

    #[test]
    fn parse_round_trips_and_accepts_t0_case4_without_le() {
        for hexcmd in [
            "01200081",
            "0084000008",
            "00b0000000",
            "00a4090c023f00",
            "00a40904043f002f0100",
        ] {
            let bytes = hex::decode(hexcmd).unwrap();
            let cmd = Command::parse(&bytes).unwrap();
            assert_eq!(hex::encode(&*cmd.to_bytes().unwrap()), hexcmd);
        }
        let t0 = Command::parse(&hex::decode("00a40904043f002f01").unwrap()).unwrap();
        assert_eq!(t0.case(), 3);
        assert_eq!(t0.data(), &[0x3F, 0x00, 0x2F, 0x01]);
        assert!(Command::parse(&[0, 0xA4, 0]).is_err());
        assert!(Command::parse(&hex::decode("00a4090c053f00").unwrap()).is_err());
        assert!(Command::parse(&hex::decode("00b00000000100").unwrap()).is_err());
    }

    #[test]
    fn too_long_data_is_refused_unchained() {
        let c = Command::new(0, 0x2A, 0x80, 0x86).with_data(vec![0u8; 256]);
        assert!(matches!(c.to_bytes(), Err(ApduError::DataTooLong(256))));
    }

    #[test]
    fn chaining_splits_exactly_at_the_limit() {
        let at_limit = Command::new(0, 0x2A, 0x80, 0x86).with_data(vec![1u8; 255]);
        assert_eq!(at_limit.chained(255).len(), 1);
        assert_eq!(at_limit.chained(255)[0].cla, 0x00);

        // CPS3 PSO DECIPHER: 0x81 + 256-byte cryptogram = 257 bytes -> 255 + 2.
        let mut data = vec![0x81];
        data.extend(vec![0xAB; 256]);
        let chain = Command::new(0, 0x2A, 0x80, 0x86)
            .with_data(data)
            .chained(255);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].cla, 0x10);
        assert_eq!(chain[0].data().len(), 255);
        assert_eq!(chain[0].data()[0], 0x81);
        assert_eq!(chain[1].cla, 0x00);
        assert_eq!(chain[1].data().len(), 2);

        // CPS4 raw decipher on channel 1 with Le: 256 bytes -> 255 + 1, CLA 11 then 01.
        let chain = Command::new(0x01, 0x2A, 0x80, 0x86)
            .with_data(vec![7u8; 256])
            .with_le(256)
            .chained(255);
        assert_eq!(
            (chain[0].cla, chain[0].le(), chain[1].cla, chain[1].le()),
            (0x11, None, 0x01, Some(256))
        );
        assert_eq!(
            hex::encode(&*chain[1].to_bytes().unwrap()),
            "012a8086010700"
        );
    }

    #[test]
    fn secret_data_is_masked_in_traces() {
        let verify = Command::new(0, 0x20, 0, 1).with_data(b"1234\xFF\xFF\xFF\xFF".to_vec());
        let t = verify.trace_hex();
        assert!(!t.contains("31323334"), "{t}");
        assert_eq!(t, "0020000108****************");
        let dbg = format!("{verify:?}");
        assert!(!dbg.contains("31323334"));
        let select = Command::new(0, 0xA4, 9, 0xC).with_data(vec![0x3F, 0]);
        assert_eq!(select.trace_hex(), "00A4090C023F00");
    }
}
