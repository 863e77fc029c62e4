//! The CPS2ter command set (CLA `A0`, `9F xx` = bytes available): the volet of a CPS3
//! (CPS3.md §9) and the CPS2ter applet of a CPS4 on the basic channel (CPS4.md §8).
//!
//! [S] Own current-DF pointer; a FID is a child of the current DF, else of the MF; `3F00` is the
//! MF. Every SELECT answers `9F 0C` with FCI `85 0A <size 2> <FID 2> <type> 00 00 00 00 00`
//! (type 1 MF, 2 DF, 4 EF). Files are readable once the IAS PIN is verified, else `69 82`.
//! Errors [C: `cps2ter_errors`]: `94 04` not found, `94 02` bad offset.

use super::fs::{scb_met, MF};
use super::t0::{self, Answer};
use super::{sw, EmulatedCard};
use crate::apdu::Command;

impl EmulatedCard {
    pub(crate) fn cps2ter_process(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.ins == 0xC0 {
            let p1p2 = u16::from_be_bytes([cmd.p1, cmd.p2]);
            return t0::get_response(&mut self.s.pending, p1p2, cmd.le());
        }
        if cmd.cla & 0x10 != 0 {
            self.s.pending = None;
            return sw(0x6884);
        }
        let answer = match cmd.ins {
            0xA4 => self.cps2ter_select(cmd),
            0xB0 => self.cps2ter_read(cmd),
            _ => Answer::sw(0x6D00),
        };
        // The CPS2ter command set always works the T=0 way (`9F xx` + GET RESPONSE), also
        // behind a CPS4's T=1 ATR [S].
        t0::shape(
            crate::transport::Protocol::T0,
            answer,
            cmd.le(),
            0x9F,
            &mut self.s.pending,
        )
    }

    fn cps2ter_select(&mut self, cmd: &Command) -> Answer {
        if (cmd.p1, cmd.p2) != (0, 0) {
            return Answer::sw(0x6B00);
        }
        let data = cmd.data();
        if data.len() != 2 {
            return Answer::sw(0x6700);
        }
        let fid = u16::from_be_bytes([data[0], data[1]]);
        let fs = &self.cps2ter;
        let cur = self.s.cps2ter_cursor.df;
        let found = if fid == 0x3F00 {
            Some(MF)
        } else {
            fs.child(cur, fid).or_else(|| fs.child(MF, fid))
        };
        let Some(id) = found else {
            return Answer::sw(0x9404);
        };
        self.s.cps2ter_cursor.select(fs, id);
        let node = fs.node(id);
        let (size, kind) = match node.ef() {
            Some(ef) => (ef.data.len() as u16, 4),
            None if id == MF => (0, 1),
            None => (0, 2),
        };
        let mut fci = vec![0x85, 0x0A];
        fci.extend(size.to_be_bytes());
        fci.extend(node.fid.to_be_bytes());
        fci.extend([kind, 0, 0, 0, 0, 0]);
        Answer::data(fci)
    }

    fn cps2ter_read(&mut self, cmd: &Command) -> Answer {
        let pin = self.s.pin_verified;
        if let Some(ef) = self
            .s
            .cps2ter_cursor
            .ef
            .and_then(|id| self.cps2ter.node(id).ef())
        {
            if !scb_met(ef.acl.read(false), pin) {
                return Answer::sw(0x6982);
            }
        }
        self.read_binary(cmd, true)
    }
}
