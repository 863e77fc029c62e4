//! Commands both generations implement the same way (CPS3.md §6.2, §6.8; CPS4.md §6.1): READ
//! BINARY, UPDATE BINARY, GET CHALLENGE, and command chaining (CLA bit `10`, CPS3.md §2).

use super::faults::ReadPastEnd;
use super::fs::{scb_met, Cursor, Fs};
use super::t0::{self, Answer, SW_OK};
use super::{Chain, EmulatedCard};
use crate::apdu::Command;
use rand::RngCore;
use zeroize::Zeroizing;

/// Longest chained command accepted [S].
const MAX_CHAIN: usize = 1024;

impl EmulatedCard {
    /// Collects chained blocks. `Ok(None)`: an intermediate block (answer `90 00`);
    /// `Ok(Some(data))`: the whole command data. Only `chainable` commands may chain (else
    /// `68 84`, command chaining not supported [S]); any other command drops a chain in
    /// progress.
    pub(crate) fn chain_step(
        &mut self,
        cmd: &Command,
        chainable: bool,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        let header = [cmd.ins, cmd.p1, cmd.p2];
        let chaining = cmd.cla & 0x10 != 0;
        let previous = match self.s.chain.take() {
            Some(c) if c.header == header => Some(c.data),
            _ => None,
        };
        if chaining && !chainable {
            return Err(0x6884);
        }
        let mut data = previous.unwrap_or_default();
        data.extend_from_slice(cmd.data());
        if data.len() > MAX_CHAIN {
            return Err(0x6700);
        }
        if chaining {
            self.s.chain = Some(Chain { header, data });
            Ok(None)
        } else {
            Ok(Some(data))
        }
    }

    /// The whole data of a command of the card's own command set, through
    /// [`EmulatedCard::chain_step`] (only DECIPHER, `2A 80 86`, may chain); `Err` is the answer
    /// to send instead (`90 00` to an intermediate block, or the error), already
    /// [`EmulatedCard::finish`]ed.
    pub(crate) fn command_data(&mut self, cmd: &Command) -> Result<Zeroizing<Vec<u8>>, Vec<u8>> {
        let decipher = cmd.ins == 0x2A && cmd.p1 == 0x80 && cmd.p2 == 0x86;
        match self.chain_step(cmd, decipher) {
            Ok(Some(data)) => Ok(data),
            Ok(None) => Err(self.finish(Answer::sw(SW_OK), cmd)),
            Err(e) => Err(self.finish(Answer::sw(e), cmd)),
        }
    }

    /// `answer` as the interface's protocol carries it (under T=0, data waits for GET RESPONSE
    /// behind `61 xx`).
    pub(crate) fn finish(&mut self, answer: Answer, cmd: &Command) -> Vec<u8> {
        let protocol = self.interface.protocol();
        t0::shape(protocol, answer, cmd.le(), 0x61, &mut self.s.pending)
    }

    /// READ BINARY on `fs` at `cursor` (offset form or SFI form `P1 = 80|SFI`).
    pub(crate) fn read_binary(&mut self, cmd: &Command, cps2ter: bool) -> Answer {
        let contactless = self.interface == super::Interface::Cps3Contactless;
        let pin = self.s.pin_verified;
        let past_end = self.faults.read_past_end;
        let (fs, cursor): (&Fs, &mut Cursor) = if cps2ter {
            (&self.cps2ter, &mut self.s.cps2ter_cursor)
        } else {
            (&self.fs, &mut self.s.cursor)
        };
        let offset = if cmd.p1 & 0x80 != 0 && !cps2ter {
            if cmd.p1 & 0x60 != 0 {
                return Answer::sw(0x6A86);
            }
            let Some(id) = fs.by_sfi(cursor.df, cmd.p1 & 0x1F) else {
                return Answer::sw(0x6A82);
            };
            cursor.select(fs, id);
            usize::from(cmd.p2)
        } else {
            (usize::from(cmd.p1 & 0x7F) << 8) | usize::from(cmd.p2)
        };
        let Some(ef) = cursor.ef.and_then(|id| fs.node(id).ef()) else {
            return Answer::sw(0x6986);
        };
        if !scb_met(ef.acl.read(contactless), pin) {
            return Answer::sw(0x6982);
        }
        let Some(le) = cmd.le() else {
            return Answer::sw(0x6700);
        };
        let size = ef.data.len();
        if offset >= size {
            return Answer::sw(if cps2ter { 0x9402 } else { 0x6B00 });
        }
        let avail = size - offset;
        if le > avail {
            return match past_end {
                ReadPastEnd::WrongLe => Answer::sw(0x6C00 | avail as u16),
                ReadPastEnd::EndOfFile => Answer::direct(ef.data[offset..].to_vec(), 0x6282),
            };
        }
        Answer::direct(ef.data[offset..offset + le].to_vec(), SW_OK)
    }

    /// UPDATE BINARY of the current EF (CPS_DATA only in practice: its SCB asks the PIN).
    pub(crate) fn update_binary(&mut self, cmd: &Command) -> Answer {
        let contactless = self.interface == super::Interface::Cps3Contactless;
        let offset = if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 {
                return Answer::sw(0x6A86);
            }
            let Some(id) = self.fs.by_sfi(self.s.cursor.df, cmd.p1 & 0x1F) else {
                return Answer::sw(0x6A82);
            };
            self.s.cursor.select(&self.fs, id);
            usize::from(cmd.p2)
        } else {
            (usize::from(cmd.p1 & 0x7F) << 8) | usize::from(cmd.p2)
        };
        let data = cmd.data();
        if data.is_empty() {
            return Answer::sw(0x6700);
        }
        let pin = self.s.pin_verified;
        let Some(id) = self.s.cursor.ef else {
            return Answer::sw(0x6986);
        };
        let Some(ef) = self.fs.ef_mut(id) else {
            return Answer::sw(0x6986);
        };
        if !scb_met(ef.acl.update(contactless), pin) {
            return Answer::sw(0x6982);
        }
        if offset + data.len() > ef.data.len() {
            return Answer::sw(0x6B00);
        }
        ef.data[offset..offset + data.len()].copy_from_slice(data);
        if ef.persistent {
            let content = ef.data.clone();
            self.image.cps_data = Some(content);
            self.persist();
        }
        Answer::sw(SW_OK)
    }

    /// GET CHALLENGE: 8 random bytes; other Le → `6C 08` (CPS3.md §6.8 [S]).
    pub(crate) fn get_challenge(&mut self, cmd: &Command) -> Answer {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Answer::sw(0x6A86);
        }
        if cmd.le() != Some(8) {
            return Answer::sw(0x6C08);
        }
        let mut r = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut r);
        Answer::direct(r.to_vec(), SW_OK)
    }
}
