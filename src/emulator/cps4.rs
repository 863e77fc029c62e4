//! The CPS4 (NXP ChipDoc) command set, CPS4.md §2-§7: ChipDoc on logical channel 1 (CLA `01`,
//! chaining `11`), opened implicitly by a SELECT by AID; the CPS2ter applet on the basic
//! channel (CLA `00` SELECT, `A0` commands).

use super::crypto::digest_info;
use super::fs::{NodeId, MF};
use super::profile::{cps4 as p4, AID_CPS2TER, AID_ISD, AID_ROOT};
use super::security::Secret;
use super::sha::HashAlg;
use super::t0::{self, Answer, SW_OK};
use super::tlv::parse_all;
use super::{sw, Applet, EmulatedCard};
use crate::apdu::Command;

/// ChipDoc algorithm ids implemented (CPS4.md §5): PKCS#1 v1.5 SHA-1 / SHA-256, PSS SHA-1 /
/// SHA-256 (MGF1 same hash, salt = hash length).
fn chipdoc_alg(alg: u8) -> Option<(HashAlg, bool)> {
    match alg {
        0x0A => Some((HashAlg::Sha1, false)),
        0x28 => Some((HashAlg::Sha256, false)),
        0x15 => Some((HashAlg::Sha1, true)),
        0x2C => Some((HashAlg::Sha256, true)),
        _ => None,
    }
}

impl EmulatedCard {
    pub(crate) fn cps4_process(&mut self, cmd: &Command) -> Vec<u8> {
        let channel = match cmd.cla {
            0xA0 => {
                self.s.chain = None;
                if self.s.channels[0] == Some(Applet::Cps2ter) {
                    return self.cps2ter_process(cmd);
                }
                self.s.pending = None;
                return sw(0x6E00);
            }
            0x00 | 0x10 => 0usize,
            0x01 | 0x11 => 1,
            0x02 | 0x03 | 0x12 | 0x13 => {
                self.s.pending = None;
                return sw(0x6881);
            }
            _ => {
                self.s.pending = None;
                return sw(0x6E00);
            }
        };
        if cmd.ins == 0xC0 && cmd.cla & 0x10 == 0 {
            self.s.chain = None;
            let p1p2 = u16::from_be_bytes([cmd.p1, cmd.p2]);
            return t0::get_response(&mut self.s.pending, p1p2, cmd.le());
        }
        if cmd.ins == 0x70 {
            self.s.chain = None;
            let a = self.manage_channel(cmd);
            return self.finish(a, cmd);
        }
        let open = channel == 0 || self.s.channel1_open;
        if cmd.ins == 0xA4 && cmd.p1 == 0x04 {
            self.s.chain = None;
            let a = self.select_applet(channel, cmd);
            return self.finish(a, cmd);
        }
        if !open {
            self.s.pending = None;
            self.s.chain = None;
            return sw(0x6881);
        }
        if self.s.channels[channel] != Some(Applet::ChipDoc) {
            self.s.pending = None;
            self.s.chain = None;
            return sw(0x6985);
        }
        let data = match self.command_data(cmd) {
            Ok(data) => data,
            Err(answer) => return answer,
        };
        let answer = match cmd.ins {
            0xA4 => self.cps4_select(cmd),
            0xB0 => self.read_binary(cmd, false),
            0xD6 => self.update_binary(cmd),
            0x84 => self.get_challenge(cmd),
            0x20 => self.cps4_verify(cmd),
            0x24 => self.cps4_change(cmd),
            0x2C => self.cps4_reset_retry(cmd),
            0x22 => self.cps4_mse(cmd),
            0x2A => match (cmd.p1, cmd.p2) {
                (0x9E, 0x9A) => self.cps4_pso_cds(cmd),
                (0x80, 0x86) => self.cps4_decipher(&data),
                _ => Answer::sw(0x6A86),
            },
            _ => Answer::sw(0x6D00),
        };
        self.finish(answer, cmd)
    }

    /// MANAGE CHANNEL [S]: `70 00 00` opens channel 1 (answers its number), `70 00 01` opens
    /// channel 1, `70 80 01` closes it. Only channel 1 exists.
    fn manage_channel(&mut self, cmd: &Command) -> Answer {
        match (cmd.p1, cmd.p2) {
            (0x00, 0x00) if self.s.channel1_open => Answer::sw(0x6A81),
            (0x00, 0x00) => {
                self.s.channel1_open = true;
                Answer::direct(vec![0x01], SW_OK)
            }
            (0x00, 0x01) => {
                self.s.channel1_open = true;
                Answer::sw(SW_OK)
            }
            (0x80, 0x01) => {
                self.s.channel1_open = false;
                self.s.channels[1] = None;
                Answer::sw(SW_OK)
            }
            (0x00 | 0x80, _) => Answer::sw(0x6A81),
            _ => Answer::sw(0x6A86),
        }
    }

    /// SELECT by AID: an applet (ChipDoc, CPS2ter, ISD) on this channel, opening a closed
    /// channel 1 (CPS4.md §2, ISO 7816-4 implicit opening); or, inside ChipDoc, the PKCS#15
    /// application DF 0001 [S]. Answers `90 00` without data [S].
    fn select_applet(&mut self, channel: usize, cmd: &Command) -> Answer {
        let aid = cmd.data();
        let applet = if aid == AID_ROOT {
            Some(Applet::ChipDoc)
        } else if aid == AID_CPS2TER {
            Some(Applet::Cps2ter)
        } else if aid == AID_ISD {
            Some(Applet::Isd)
        } else {
            None
        };
        if !matches!(cmd.p2, 0x00 | 0x04 | 0x0C) {
            return Answer::sw(0x6A86);
        }
        match applet {
            Some(a) => {
                if channel == 1 {
                    self.s.channel1_open = true;
                }
                self.s.channels[channel] = Some(a);
                match a {
                    Applet::ChipDoc => self.s.cursor = super::fs::Cursor::at_mf(),
                    Applet::Cps2ter => self.s.cps2ter_cursor = super::fs::Cursor::at_mf(),
                    Applet::Isd => {}
                }
                Answer::sw(SW_OK)
            }
            None => {
                let open = channel == 0 || self.s.channel1_open;
                if !open {
                    return Answer::sw(0x6A82);
                }
                if self.s.channels[channel] != Some(Applet::ChipDoc) {
                    return Answer::sw(0x6A82);
                }
                match self.fs.by_aid(aid) {
                    Some(id) => {
                        self.s.cursor.select(&self.fs, id);
                        Answer::sw(SW_OK)
                    }
                    None => Answer::sw(0x6A82),
                }
            }
        }
    }

    /// SELECT inside ChipDoc (CPS4.md §4): `P1 = 08` path from the MF without `3F00` (the
    /// vendor module's only form), also `00` FID, `01`/`02` child, `03` parent, `09` path [S].
    /// EFs answer an FCI `6F` (`62` never) unless `P2 = 0C`; DFs `90 00`.
    fn cps4_select(&mut self, cmd: &Command) -> Answer {
        if !matches!(cmd.p2, 0x00 | 0x04 | 0x0C) {
            return Answer::sw(0x6A86);
        }
        let data = cmd.data();
        let fid = (data.len() == 2).then(|| u16::from_be_bytes([data[0], data[1]]));
        let cur = self.s.cursor.df;
        let target: Option<NodeId> = match cmd.p1 {
            0x00 if data.is_empty() => Some(MF),
            0x00 => match fid {
                Some(f) => self.fs.by_fid(cur, f),
                None => return Answer::sw(0x6A87),
            },
            0x01 | 0x02 => match fid {
                Some(f) => self
                    .fs
                    .child(cur, f)
                    .filter(|&id| self.fs.node(id).is_df() == (cmd.p1 == 0x01)),
                None => return Answer::sw(0x6A87),
            },
            0x03 => self.fs.node(cur).parent.or(Some(MF)),
            0x08 => match super::fs::fids(data) {
                Some(f) => self.fs.walk(MF, &f),
                None => return Answer::sw(0x6A87),
            },
            0x09 => {
                if super::fs::fids(data).is_none() {
                    return Answer::sw(0x6A87);
                }
                self.fs.by_path(cur, data)
            }
            _ => return Answer::sw(0x6A86),
        };
        let Some(id) = target else {
            return Answer::sw(0x6A82);
        };
        self.s.cursor.select(&self.fs, id);
        let node = self.fs.node(id);
        match node.ef() {
            Some(ef) if cmd.p2 != 0x0C => Answer::data(p4::fci(node.fid, ef)),
            _ => Answer::sw(SW_OK),
        }
    }

    fn cps4_verify(&mut self, cmd: &Command) -> Answer {
        if cmd.p1 != 0x00 {
            return Answer::sw(0x6A86);
        }
        let Some(which) = secret_ref4(cmd.p2) else {
            return Answer::sw(0x6A88);
        };
        Answer::sw(self.verify(which, cmd.data()))
    }

    /// CHANGE REFERENCE DATA (CPS4.md §6.2): `P1 = 01` new value only, accepted for the PIN
    /// when the PIN or the PUK is verified [S]; `P1 = 00` old ‖ new [S].
    fn cps4_change(&mut self, cmd: &Command) -> Answer {
        let Some(which) = secret_ref4(cmd.p2) else {
            return Answer::sw(0x6A88);
        };
        match cmd.p1 {
            0x00 => Answer::sw(self.change_with_old(which, cmd.data())),
            0x01 => {
                let allowed = match which {
                    Secret::Pin => self.s.pin_verified || self.s.puk_verified,
                    Secret::Puk => self.s.puk_verified,
                };
                if !allowed {
                    return Answer::sw(0x6982);
                }
                Answer::sw(self.set_secret(which, cmd.data()))
            }
            _ => Answer::sw(0x6A86),
        }
    }

    /// RESET RETRY COUNTER `01 2C 03 81` (no data, PUK verified), also `02` with a new PIN,
    /// `00`/`01` with the PUK in the data [S].
    fn cps4_reset_retry(&mut self, cmd: &Command) -> Answer {
        if cmd.p2 != 0x81 {
            return Answer::sw(0x6A88);
        }
        let data = cmd.data();
        Answer::sw(match cmd.p1 {
            0x03 if data.is_empty() => self.unblock_pin(None),
            0x02 if data.len() == 8 => self.unblock_pin(Some(data)),
            0x00 if data.len() == 16 => self.unblock_with_puk(data),
            0x01 if data.len() == 8 => self.unblock_with_puk(data),
            0x00..=0x03 => 0x6700,
            _ => 0x6A86,
        })
    }

    /// MSE (CPS4.md §6.3-6.4): `81 B6 {91 02 <alg> <key|80>}` and `41 B8 {83 01 20}`; the IAS
    /// forms (`41 B6`, tag `80`) are refused with `6A 80` [S].
    fn cps4_mse(&mut self, cmd: &Command) -> Answer {
        let tlvs = parse_all(cmd.data());
        let one = match tlvs.as_deref() {
            Some([t]) => Some((t.tag, t.value)),
            _ => None,
        };
        match (cmd.p1, cmd.p2) {
            (0x81, 0xB6) => match one {
                Some(([0x91], [alg, key])) => {
                    if chipdoc_alg(*alg).is_none() {
                        Answer::sw(0x6A80)
                    } else if !matches!(key, 0x90 | 0xA0) {
                        Answer::sw(0x6A88)
                    } else {
                        self.s.mse.dst = Some((*alg, *key));
                        Answer::sw(SW_OK)
                    }
                }
                _ => Answer::sw(0x6A80),
            },
            (0x41, 0xB8) => match one {
                Some(([0x83], [0x20])) => {
                    self.s.mse.ct = Some((0x00, 0x20));
                    Answer::sw(SW_OK)
                }
                Some(([0x83], [_])) => Answer::sw(0x6A88),
                _ => Answer::sw(0x6A80),
            },
            (0x41 | 0x81, 0xB6 | 0xB8 | 0xA4) => Answer::sw(0x6A80),
            _ => Answer::sw(0x6A86),
        }
    }

    /// PSO CDS over a host hash (CPS4.md §6.3): PKCS#1 v1.5 (the card adds DigestInfo) or PSS.
    fn cps4_pso_cds(&mut self, cmd: &Command) -> Answer {
        let Some((alg, key)) = self.s.mse.dst else {
            return Answer::sw(0x6985);
        };
        let data = cmd.data().to_vec();
        if data.is_empty() {
            return Answer::sw(0x6985);
        }
        if !self.s.pin_verified {
            return Answer::sw(0x6982);
        }
        let Some((hash, pss)) = chipdoc_alg(alg) else {
            return Answer::sw(0x6985);
        };
        if data.len() != hash.state_len() {
            return Answer::sw(0x6700);
        }
        let r = self.private_op(true, |k| {
            let key = if key == 0x90 { &k.sign } else { &k.auth };
            if pss {
                key.sign_pss(hash, &data)
            } else {
                key.sign_pkcs1(&digest_info(hash, &data))
            }
        });
        match r {
            Ok(sig) => {
                if self.faults.pin_per_signature {
                    self.s.pin_verified = false;
                }
                Answer::data(sig.to_vec())
            }
            Err(e) => Answer::sw(e),
        }
    }

    /// Raw PSO DECIPHER with key 20 (CPS4.md §6.4): 256 bytes in (chained, no padding
    /// indicator), `c^d mod n` out, nothing stripped.
    fn cps4_decipher(&mut self, data: &[u8]) -> Answer {
        if self.s.mse.ct != Some((0x00, 0x20)) {
            return Answer::sw(0x6985);
        }
        if !self.s.pin_verified {
            return Answer::sw(0x6982);
        }
        if data.len() != self.keys.auth.len() {
            return Answer::sw(0x6700);
        }
        let c = data.to_vec();
        match self.private_op(true, |k| k.auth.raw_private(&c)) {
            Ok(m) => Answer::data(m.to_vec()),
            Err(e) => Answer::sw(e),
        }
    }
}

/// PIN references of ChipDoc (CPS4.md §6.2 [S]): `81` PIN, `82` PUK.
fn secret_ref4(p2: u8) -> Option<Secret> {
    match p2 {
        0x81 => Some(Secret::Pin),
        0x82 => Some(Secret::Puk),
        _ => None,
    }
}
