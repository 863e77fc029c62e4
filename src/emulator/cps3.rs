//! The CPS3 (IAS-ECC) command set, CPS3.md §5-§7 (CLA `00`, chaining `10`; CLA `A0` goes to the
//! CPS2ter volet, `cps2ter.rs`).

use super::crypto::digest_info;
use super::fs::{NodeId, MF};
use super::profile::{cps3 as p3, h, AID_PKCS15, AID_PKCS15_CL, AID_ROOT};
use super::security::Secret;
use super::sha::HashAlg;
use super::t0::{self, Answer, SW_OK};
use super::tlv::{parse_all, parse_one};
use super::{sw, EmulatedCard, Interface};
use crate::apdu::Command;

/// Largest INTERNAL AUTHENTICATE input: 40 % of the modulus (CPS3.md §6.6).
const MAX_INT_AUTH: usize = 102;

impl EmulatedCard {
    fn contactless(&self) -> bool {
        self.interface == Interface::Cps3Contactless
    }

    pub(crate) fn cps3_process(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.cla == 0xA0 {
            self.s.chain = None;
            return self.cps2ter_process(cmd);
        }
        if cmd.cla & !0x10 != 0x00 {
            self.s.pending = None;
            self.s.chain = None;
            return sw(0x6E00);
        }
        if cmd.ins == 0xC0 && cmd.cla == 0x00 {
            self.s.chain = None;
            let p1p2 = u16::from_be_bytes([cmd.p1, cmd.p2]);
            return t0::get_response(&mut self.s.pending, p1p2, cmd.le());
        }
        let data = match self.command_data(cmd) {
            Ok(data) => data,
            Err(answer) => return answer,
        };
        let answer = match cmd.ins {
            0xA4 => self.cps3_select(cmd),
            0xB0 => self.read_binary(cmd, false),
            0xD6 => self.update_binary(cmd),
            0xCB => self.cps3_get_data(cmd),
            0x20 => self.cps3_verify(cmd),
            0x24 => self.cps3_change(cmd),
            0x2C => self.cps3_reset_retry(cmd),
            0x22 => self.cps3_mse(cmd),
            0x2A => match (cmd.p1, cmd.p2) {
                (0x90, 0xA0) => self.cps3_pso_hash(cmd),
                (0x9E, 0x9A) => self.cps3_pso_cds(cmd),
                (0x80, 0x86) => self.cps3_decipher(&data),
                _ => Answer::sw(0x6A86),
            },
            0x88 => self.cps3_internal_auth(cmd),
            0x84 => self.get_challenge(cmd),
            _ => Answer::sw(0x6D00),
        };
        self.finish(answer, cmd)
    }

    /// SELECT, every form of CPS3.md §6.1. DFs answer `90 00` without data (§3.3 binding),
    /// EFs their FCP (`62`) unless `P2 = 0C`.
    fn cps3_select(&mut self, cmd: &Command) -> Answer {
        let data = cmd.data();
        let fid = || (data.len() == 2).then(|| u16::from_be_bytes([data[0], data[1]]));
        if !matches!(cmd.p2, 0x00 | 0x04 | 0x0C) {
            return Answer::sw(0x6A86);
        }
        let cur = self.s.cursor.df;
        let target: Option<NodeId> = match cmd.p1 {
            0x00 if data.is_empty() => Some(MF),
            0x00 => match fid() {
                Some(f) => self.fs.by_fid(cur, f),
                None => return Answer::sw(0x6A87),
            },
            0x01 | 0x02 => match fid() {
                Some(f) => self
                    .fs
                    .child(cur, f)
                    .filter(|&id| self.fs.node(id).is_df() == (cmd.p1 == 0x01)),
                None => return Answer::sw(0x6A87),
            },
            0x03 => self.fs.node(cur).parent.or(Some(MF)),
            0x04 => {
                let known = data == AID_ROOT || data == AID_PKCS15 || data == AID_PKCS15_CL;
                if cmd.p2 == 0x00 && data != AID_ROOT {
                    return Answer::sw(if known { 0x6A86 } else { 0x6A82 });
                }
                self.fs.by_aid(data)
            }
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
        if cmd.p2 == 0x00 && cmd.p1 != 0x04 {
            return Answer::sw(0x6A86);
        }
        let Some(id) = target else {
            return Answer::sw(0x6A82);
        };
        self.s.cursor.select(&self.fs, id);
        if cmd.p1 == 0x04 && id == MF {
            // IAS-ECC: selecting the root application by name is a logout (CPS3.md §6.1, §7).
            self.s.clear_security();
        }
        let node = self.fs.node(id);
        match node.ef() {
            Some(ef) if cmd.p2 != 0x0C => Answer::data(p3::fcp(node.fid, ef)),
            _ => Answer::sw(SW_OK),
        }
    }

    /// GET DATA `00 CB 3F FF 4D {70 {BF cc rr <tag> 80}}` (CPS3.md §5.1, §3.3, §6.9).
    fn cps3_get_data(&mut self, cmd: &Command) -> Answer {
        if (cmd.p1, cmd.p2) != (0x3F, 0xFF) {
            return Answer::sw(0x6A86);
        }
        let Some((sdo, asked)) = parse_sdo_request(cmd.data()) else {
            return Answer::sw(0x6A80);
        };
        let cur = self.s.cursor.df;
        match sdo {
            [0xBF, 0x81, r @ (0x01 | 0x02)] => {
                if cur != MF {
                    return Answer::sw(0x6A88);
                }
                if asked != [0xA0] {
                    return Answer::sw(0x6A80);
                }
                let which = if *r == 0x01 { Secret::Pin } else { Secret::Puk };
                Answer::data(self.chv_sdo(which))
            }
            [0xBF, 0x90, r @ (0x01..=0x03)] => {
                if cur != self.app {
                    return Answer::sw(0x6A88);
                }
                if asked != [0xA0] {
                    return Answer::sw(0x6A80);
                }
                Answer::data(key_sdo(*r))
            }
            _ => Answer::sw(0x6A88),
        }
    }

    /// CHV SDO answer (CPS3.md §5.1): `9A` max, `9B` left, PUK also `9D` usage.
    fn chv_sdo(&self, which: Secret) -> Vec<u8> {
        let left = self.tries_left(which);
        match which {
            Secret::Pin => h(&format!(
                "70 16 BF 81 01 12 A0 10 9A 01 03 9B 01 {left:02X} A1 08 8C 06 F3 00 00 13 FF 00"
            )),
            Secret::Puk => {
                let [u1, u2] = self.image.counters.puk_usage.to_be_bytes();
                h(&format!(
                    "70 1A BF 81 02 16 A0 14 9A 01 0A 9B 01 {left:02X} 9D 02 {u1:02X} {u2:02X} A1 08 8C 06 F3 FF 00 FF FF 00"
                ))
            }
        }
    }

    fn cps3_verify(&mut self, cmd: &Command) -> Answer {
        if cmd.p1 != 0x00 {
            return Answer::sw(0x6A86);
        }
        let Some(which) = secret_ref(cmd.p2) else {
            return Answer::sw(0x6A88);
        };
        if self.contactless() {
            return Answer::sw(0x6985);
        }
        Answer::sw(self.verify(which, cmd.data()))
    }

    /// CHANGE REFERENCE DATA: `P1 = 00` old ‖ new; `P1 = 01` new only, reference verified
    /// (CPS3.md §5.3).
    fn cps3_change(&mut self, cmd: &Command) -> Answer {
        let Some(which) = secret_ref(cmd.p2) else {
            return Answer::sw(0x6A88);
        };
        if self.contactless() {
            return Answer::sw(0x6985);
        }
        match cmd.p1 {
            0x00 => Answer::sw(self.change_with_old(which, cmd.data())),
            0x01 if !self.verified(which) => Answer::sw(0x6982),
            0x01 => Answer::sw(self.set_secret(which, cmd.data())),
            _ => Answer::sw(0x6A86),
        }
    }

    /// RESET RETRY COUNTER of the PIN (CPS3.md §5.4): `P1 = 02` new PIN after PUK VERIFY (the
    /// ANS flow), `03` no data after PUK VERIFY, `00` PUK ‖ new PIN, `01` PUK [S].
    fn cps3_reset_retry(&mut self, cmd: &Command) -> Answer {
        if cmd.p2 != 0x01 {
            return Answer::sw(0x6A88);
        }
        if self.contactless() {
            return Answer::sw(0x6985);
        }
        let data = cmd.data();
        Answer::sw(match cmd.p1 {
            0x02 if data.len() == 8 => self.unblock_pin(Some(data)),
            0x03 if data.is_empty() => self.unblock_pin(None),
            0x00 if data.len() == 16 => self.unblock_with_puk(data),
            0x01 if data.len() == 8 => self.unblock_with_puk(data),
            0x00..=0x03 => 0x6700,
            _ => 0x6A86,
        })
    }

    /// MANAGE SECURITY ENVIRONMENT SET (CPS3.md §6.3): `80` alg and `83`/`84` key in any order,
    /// `81` tolerated. PSS and raw RSA algorithm ids are refused here with `6A 80`.
    fn cps3_mse(&mut self, cmd: &Command) -> Answer {
        if cmd.p1 != 0x41 {
            return Answer::sw(0x6A86);
        }
        let Some(tlvs) = parse_all(cmd.data()) else {
            return Answer::sw(0x6A80);
        };
        let (mut alg, mut key) = (None, None);
        for t in tlvs {
            match (t.tag, t.value) {
                ([0x80], [a]) => alg = Some(*a),
                ([0x83 | 0x84], [k]) => key = Some(*k),
                ([0x81], _) => {}
                _ => return Answer::sw(0x6A80),
            }
        }
        let Some(alg) = alg else {
            return Answer::sw(0x6A80);
        };
        // The template's own keys pass; another template's key is `6A 80`, an unknown one `6A 88`.
        let check_key = |own: &[u8]| -> Result<u8, u16> {
            match key {
                Some(k) if own.contains(&k) => Ok(k),
                Some(0x81..=0x83) | None => Err(0x6A80),
                Some(_) => Err(0x6A88),
            }
        };
        let mse = &mut self.s.mse;
        let r = match cmd.p2 {
            0xAA => match alg {
                0x10 => Ok(HashAlg::Sha1),
                0x40 => Ok(HashAlg::Sha256),
                _ => Err(0x6A80),
            }
            .map(|h| mse.ht = Some(h)),
            0xB6 if matches!(alg, 0x12 | 0x42) => {
                check_key(&[0x81]).map(|k| mse.dst = Some((alg, k)))
            }
            0xA4 if alg == 0x02 => check_key(&[0x82, 0x83]).map(|k| mse.at = Some((alg, k))),
            0xB8 if alg == 0x1A => check_key(&[0x82]).map(|k| mse.ct = Some((alg, k))),
            0xB6 | 0xA4 | 0xB8 => Err(0x6A80),
            _ => Err(0x6A86),
        };
        Answer::sw(r.err().unwrap_or(SW_OK))
    }

    /// PSO HASH: `90 <0 | state ‖ bit count> 80 <n> <last n bytes>`, the card finishes the
    /// hash and keeps the digest (CPS3.md §6.4).
    fn cps3_pso_hash(&mut self, cmd: &Command) -> Answer {
        let Some(alg) = self.s.mse.ht else {
            return Answer::sw(0x6985);
        };
        let Some(tlvs) = parse_all(cmd.data()) else {
            return Answer::sw(0x6A80);
        };
        let [state, tail] = tlvs.as_slice() else {
            return Answer::sw(0x6A80);
        };
        if state.tag != [0x90]
            || tail.tag != [0x80]
            || tail.value.is_empty()
            || tail.value.len() > 64
        {
            return Answer::sw(0x6A80);
        }
        let digest = if state.value.is_empty() {
            Some(alg.digest(tail.value))
        } else if state.value.len() == alg.state_len() + 8 {
            let (h, count) = state.value.split_at(alg.state_len());
            let mut bits = [0u8; 8];
            bits.copy_from_slice(count);
            alg.finish(h, u64::from_be_bytes(bits), tail.value)
        } else {
            None
        };
        match digest {
            Some(d) => {
                self.s.digest = Some((alg, d));
                Answer::sw(SW_OK)
            }
            None => Answer::sw(0x6A80),
        }
    }

    /// PSO COMPUTE DIGITAL SIGNATURE, key 81 (CPS3.md §6.5): without data over the PSO HASH
    /// digest, or over a 20/32-byte hash. A refusal (`69 82`) keeps the digest.
    fn cps3_pso_cds(&mut self, cmd: &Command) -> Answer {
        if self.contactless() {
            return Answer::sw(0x6985);
        }
        let Some((alg, 0x81)) = self.s.mse.dst else {
            return Answer::sw(0x6985);
        };
        let hash = if alg == 0x12 {
            HashAlg::Sha1
        } else {
            HashAlg::Sha256
        };
        if !self.s.pin_verified {
            return Answer::sw(0x6982);
        }
        let data = cmd.data();
        let digest = if data.is_empty() {
            match &self.s.digest {
                Some((h, d)) if *h == hash => d.clone(),
                _ => return Answer::sw(0x6985),
            }
        } else if data.len() == hash.state_len() {
            data.to_vec()
        } else {
            return Answer::sw(0x6700);
        };
        let t = digest_info(hash, &digest);
        match self.private_op(true, |k| k.sign.sign_pkcs1(&t)) {
            Ok(sig) => {
                if data.is_empty() {
                    self.s.digest = None;
                }
                if self.faults.pin_per_signature {
                    self.s.pin_verified = false;
                }
                Answer::data(sig.to_vec())
            }
            Err(e) => Answer::sw(e),
        }
    }

    /// INTERNAL AUTHENTICATE (CPS3.md §6.6): PKCS#1 type-1 signature of the data as sent, key
    /// 82 (PIN) or the contactless technical key 83 (no PIN).
    fn cps3_internal_auth(&mut self, cmd: &Command) -> Answer {
        if (cmd.p1, cmd.p2) != (0, 0) {
            return Answer::sw(0x6A86);
        }
        let Some((_, key)) = self.s.mse.at else {
            return Answer::sw(0x6985);
        };
        if key == 0x82 && self.contactless() {
            return Answer::sw(0x6985);
        }
        if key == 0x82 && !self.s.pin_verified {
            return Answer::sw(0x6982);
        }
        let data = cmd.data().to_vec();
        if data.is_empty() || data.len() > MAX_INT_AUTH {
            return Answer::sw(0x6700);
        }
        let r = self.private_op(true, |k| match key {
            0x83 => k.tech.as_ref().unwrap_or(&k.auth).sign_pkcs1(&data),
            _ => k.auth.sign_pkcs1(&data),
        });
        match r {
            Ok(sig) => {
                if key == 0x82 && self.faults.pin_per_signature {
                    self.s.pin_verified = false;
                }
                Answer::data(sig.to_vec())
            }
            Err(e) => Answer::sw(e),
        }
    }

    /// PSO DECIPHER (CPS3.md §6.7): `81` ‖ 256-byte cryptogram (chained), the card removes the
    /// type-2 padding.
    fn cps3_decipher(&mut self, data: &[u8]) -> Answer {
        if self.contactless() {
            return Answer::sw(0x6985);
        }
        if !matches!(self.s.mse.ct, Some((0x1A, 0x82))) {
            return Answer::sw(0x6985);
        }
        if !self.s.pin_verified {
            return Answer::sw(0x6982);
        }
        match data.split_first() {
            None => Answer::sw(0x6700),
            Some((&ind, _)) if ind != 0x81 => Answer::sw(0x6A80),
            Some((_, c)) if c.len() != self.keys.auth.len() => Answer::sw(0x6700),
            Some((_, c)) => {
                let c = c.to_vec();
                match self.private_op(false, |k| k.auth.decrypt_pkcs1(&c)) {
                    Ok(plain) => Answer::data(plain.to_vec()),
                    Err(e) => Answer::sw(e),
                }
            }
        }
    }
}

/// PIN reference of `P2` (CPS3.md §5: `01` PIN, `02` PUK).
fn secret_ref(p2: u8) -> Option<Secret> {
    match p2 {
        0x01 => Some(Secret::Pin),
        0x02 => Some(Secret::Puk),
        _ => None,
    }
}

/// `4D {70 {<SDO tag> <asked tag> 80}}` → (SDO tag bytes, asked tag bytes). The SDO's "value"
/// is a tag list, not TLVs: `A0 80`, `7F 41 80`…
fn parse_sdo_request(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let outer = parse_all(data)?;
    let [d] = outer.as_slice() else { return None };
    if d.tag != [0x4D] {
        return None;
    }
    let inner = parse_all(d.value)?;
    let [t70] = inner.as_slice() else { return None };
    if t70.tag != [0x70] {
        return None;
    }
    let (sdo, rest) = parse_one(t70.value)?;
    if !rest.is_empty() || sdo.tag.len() != 3 || sdo.tag[0] != 0xBF {
        return None;
    }
    let v = sdo.value;
    let asked = match v.first()? {
        b if b & 0x1F == 0x1F => v.get(..2)?,
        _ => v.get(..1)?,
    };
    Some((sdo.tag, asked))
}

/// Private-key SDO DOCP (opensc-cpx-flow R6): size 256 bytes and the SCBs of each key's
/// operations (81: PSO CDS; 82: INTERNAL AUTHENTICATE, DECIPHER; 83: INTERNAL AUTHENTICATE
/// without PIN [S]).
fn key_sdo(r: u8) -> Vec<u8> {
    match r {
        0x01 => h("70 13 BF 90 01 0F A0 0D 80 02 01 00 A1 07 8C 05 4B 12 FF FF 00"),
        0x02 => h("70 14 BF 90 02 10 A0 0E 80 02 01 00 A1 08 8C 06 3B 12 12 FF FF 00"),
        _ => h("70 13 BF 90 03 0F A0 0D 80 02 01 00 A1 07 8C 05 2B 00 FF FF 00"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdo_requests() {
        let d = h("4D 08 70 06 BF 81 01 02 A0 80");
        assert_eq!(
            parse_sdo_request(&d),
            Some((&[0xBF, 0x81, 0x01][..], &[0xA0][..]))
        );
        let d = h("4D 09 70 07 BF 90 02 03 7F 48 80");
        assert_eq!(
            parse_sdo_request(&d),
            Some((&[0xBF, 0x90, 0x02][..], &[0x7F, 0x48][..]))
        );
        assert_eq!(parse_sdo_request(&h("4D 02 70 00")), None);
    }
}
