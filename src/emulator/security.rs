//! PIN and PUK (CPS3.md §5, CPS4.md §6.2): values and tries counters live in the card image
//! (saved at every change), verified flags in the session.
//!
//! - PIN: 4 ASCII digits padded with `FF` to 8 bytes, 3 tries.
//! - PUK: 8 ASCII digits, 10 tries, usage counter (100 unblocks) [S for CPS4].
//! - A wrong value costs a try and clears that reference's verified flag [S]; a blocked
//!   reference answers `69 83` without comparing; a malformed block answers `6A 80` and costs
//!   nothing [S].

use super::image::Counters;
use super::EmulatedCard;
use zeroize::Zeroizing;

/// Which secret a command names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secret {
    Pin,
    Puk,
}

pub(crate) const SW_OK: u16 = 0x9000;
pub(crate) const SW_BLOCKED: u16 = 0x6983;
pub(crate) const SW_SECURITY: u16 = 0x6982;
pub(crate) const SW_BAD_DATA: u16 = 0x6A80;

fn tries_sw(left: u8) -> u16 {
    0x63C0 | u16::from(left & 0x0F)
}

/// The digits of a presented block, if it has the reference's format.
fn digits(which: Secret, block: &[u8]) -> Option<Zeroizing<String>> {
    if block.len() != 8 {
        return None;
    }
    let n = match which {
        Secret::Pin => 4,
        Secret::Puk => 8,
    };
    let (d, pad) = block.split_at(n);
    if !d.iter().all(u8::is_ascii_digit) || !pad.iter().all(|&b| b == 0xFF) {
        return None;
    }
    Some(Zeroizing::new(d.iter().map(|&b| b as char).collect()))
}

/// Comparison whose time does not depend on where the values differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl EmulatedCard {
    fn tries(&self, which: Secret) -> u8 {
        match which {
            Secret::Pin => self.image.counters.pin_tries,
            Secret::Puk => self.image.counters.puk_tries,
        }
    }

    fn blocked(&self, which: Secret) -> bool {
        self.tries(which) == 0 || (which == Secret::Puk && self.image.counters.puk_usage == 0)
    }

    pub(crate) fn verified(&self, which: Secret) -> bool {
        match which {
            Secret::Pin => self.s.pin_verified,
            Secret::Puk => self.s.puk_verified,
        }
    }

    fn set_verified(&mut self, which: Secret, v: bool) {
        match which {
            Secret::Pin => self.s.pin_verified = v,
            Secret::Puk => self.s.puk_verified = v,
        }
    }

    fn set_tries(&mut self, which: Secret, n: u8) {
        let c = &mut self.image.counters;
        let slot = match which {
            Secret::Pin => &mut c.pin_tries,
            Secret::Puk => &mut c.puk_tries,
        };
        if *slot != n {
            *slot = n;
            self.persist();
        }
    }

    fn max_tries(which: Secret) -> u8 {
        match which {
            Secret::Pin => Counters::PIN_MAX,
            Secret::Puk => Counters::PUK_MAX,
        }
    }

    /// Tries left (for GET DATA on CPS3, §5.1).
    pub(crate) fn tries_left(&self, which: Secret) -> u8 {
        self.tries(which)
    }

    /// VERIFY without data: `90 00` if verified, `69 83` if blocked, else `63 Cx`.
    pub(crate) fn pin_status(&self, which: Secret) -> u16 {
        if self.blocked(which) {
            SW_BLOCKED
        } else if self.verified(which) {
            SW_OK
        } else {
            tries_sw(self.tries(which))
        }
    }

    /// Checks a presented block against the stored value, counting tries.
    fn check(&mut self, which: Secret, block: &[u8]) -> u16 {
        if self.blocked(which) {
            return SW_BLOCKED;
        }
        let Some(given) = digits(which, block) else {
            return SW_BAD_DATA;
        };
        let stored = match which {
            Secret::Pin => self.image.pin.clone(),
            Secret::Puk => self.image.puk.clone(),
        };
        let stored = Zeroizing::new(stored);
        if same(&given, &stored) {
            self.set_tries(which, Self::max_tries(which));
            SW_OK
        } else {
            let left = self.tries(which).saturating_sub(1);
            self.set_verified(which, false);
            self.set_tries(which, left);
            tries_sw(left)
        }
    }

    /// VERIFY: empty data is a status query (4-byte form and the T=0 `P3 = 00` form).
    pub(crate) fn verify(&mut self, which: Secret, data: &[u8]) -> u16 {
        if data.is_empty() {
            return self.pin_status(which);
        }
        let sw = self.check(which, data);
        if sw == SW_OK {
            self.set_verified(which, true);
        }
        sw
    }

    /// Replaces the value (format checked); tries back to the maximum. The caller checked the
    /// right to do it.
    pub(crate) fn set_secret(&mut self, which: Secret, block: &[u8]) -> u16 {
        let Some(new) = digits(which, block) else {
            return SW_BAD_DATA;
        };
        match which {
            Secret::Pin => self.image.pin = new.to_string(),
            Secret::Puk => self.image.puk = new.to_string(),
        }
        match which {
            Secret::Pin => self.image.counters.pin_tries = Counters::PIN_MAX,
            Secret::Puk => self.image.counters.puk_tries = Counters::PUK_MAX,
        }
        self.persist();
        SW_OK
    }

    /// CHANGE REFERENCE DATA with the old value (`P1 = 00`, data old ‖ new): the reference
    /// ends verified [S].
    pub(crate) fn change_with_old(&mut self, which: Secret, data: &[u8]) -> u16 {
        if data.len() != 16 {
            return SW_BAD_DATA;
        }
        let (old, new) = data.split_at(8);
        if digits(which, new).is_none() {
            return if self.blocked(which) {
                SW_BLOCKED
            } else {
                SW_BAD_DATA
            };
        }
        let sw = self.check(which, old);
        if sw != SW_OK {
            return sw;
        }
        let sw = self.set_secret(which, new);
        if sw == SW_OK {
            self.set_verified(which, true);
        }
        sw
    }

    /// RESET RETRY COUNTER of the PIN once the PUK is verified: optional new PIN, tries back
    /// to 3, PIN **not** verified, PUK usage counter − 1 (CPS3.md §5.4 [S]).
    pub(crate) fn unblock_pin(&mut self, new_pin: Option<&[u8]>) -> u16 {
        if !self.s.puk_verified {
            return SW_SECURITY;
        }
        if self.image.counters.puk_usage == 0 {
            return SW_BLOCKED;
        }
        if let Some(block) = new_pin {
            if digits(Secret::Pin, block).is_none() {
                return SW_BAD_DATA;
            }
            let sw = self.set_secret(Secret::Pin, block);
            if sw != SW_OK {
                return sw;
            }
        }
        self.image.counters.pin_tries = Counters::PIN_MAX;
        self.image.counters.puk_usage -= 1;
        self.s.pin_verified = false;
        self.persist();
        SW_OK
    }

    /// RESET RETRY COUNTER with the PUK in the command (`P1 = 00`: PUK ‖ new PIN; `P1 = 01`:
    /// PUK only) [S].
    pub(crate) fn unblock_with_puk(&mut self, data: &[u8]) -> u16 {
        if data.len() < 8 {
            return SW_BAD_DATA;
        }
        let (puk, rest) = data.split_at(8);
        let new = match rest.len() {
            0 => None,
            8 => Some(rest),
            _ => return SW_BAD_DATA,
        };
        let sw = self.verify(Secret::Puk, puk);
        if sw != SW_OK {
            return sw;
        }
        self.unblock_pin(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_formats() {
        assert_eq!(
            digits(Secret::Pin, b"1234\xFF\xFF\xFF\xFF")
                .as_deref()
                .map(String::as_str),
            Some("1234")
        );
        assert!(digits(Secret::Pin, b"12345678").is_none());
        assert!(digits(Secret::Pin, b"12a4\xFF\xFF\xFF\xFF").is_none());
        assert!(digits(Secret::Pin, b"1234\xFF\xFF\xFF").is_none());
        assert!(digits(Secret::Puk, b"12345678").is_some());
        assert!(digits(Secret::Puk, b"1234\xFF\xFF\xFF\xFF").is_none());
        assert!(same("1234", "1234") && !same("1234", "1235") && !same("123", "1234"));
    }
}
