//! What one card key can really do (DESIGN §3 "what THIS card can really do"), decided once
//! from the driver without any APDU, and the mechanism lists that follow (objects.md §6
//! "Recommended lists").
//!
//! - CPS3 signature key: PSO CDS over SHA-1/SHA-256 only (CPS3.md §6.3-6.5): RSA_PKCS (a
//!   SHA-1/256 DigestInfo or bare hash), SHA1/SHA256_RSA_PKCS. No PSS, no raw RSA.
//! - CPS3 authentication (and contactless technical) key: INTERNAL AUTHENTICATE pads any
//!   input of at most 102 bytes (CPS3.md §6.6). A SHA-384 DigestInfo is 67 bytes, SHA-512 83:
//!   both fit, so SHA1/256/384/512_RSA_PKCS are done truthfully by hashing in the host and
//!   sending the DigestInfo. No PSS: the card only does PKCS#1 type-1 padding and has no raw
//!   RSA to emulate it with (README §4).
//! - CPS4 signature key: PSO CDS with the ChipDoc algorithms PKCS#1 v1.5 and PSS over
//!   SHA-1/SHA-256 (CPS4.md §5): the SHA-1/256 PKCS#1 and PSS mechanisms, PSS only with
//!   MGF1 = same hash and salt = hash length (the card picks them).
//! - CPS4 authentication key: the same through PSO CDS, plus a raw RSA private operation
//!   (PSO DECIPHER, CPS4.md §6.4): any PKCS#1 v1.5 input padded by the host, SHA-384/512
//!   PKCS#1, PSS with any hash/MGF/salt encoded by the host (EMSA-PSS), and RSA_X_509.

use super::mechanism::{MechanismInfo, MechanismKind};
use crate::card::{
    cps3, CardDriver, DecipherPadding, Generation, HashAlg as CardHash, KeyRef, KeyRole,
    SignAlgorithm,
};
use crate::crypto::HashAlg;

/// Smallest PKCS#1 v1.5 padding overhead (RFC 8017 §9.2: `00 01`, 8 × `FF`, `00`).
const PKCS1_OVERHEAD: usize = 11;

/// What `CKM_RSA_PKCS` may sign with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawPkcs1 {
    /// Nothing.
    None,
    /// Only a SHA-1/SHA-256 DigestInfo or bare hash (the card adds the DigestInfo itself):
    /// signature keys.
    CardHashesOnly,
    /// Any data of 1 to `n` bytes.
    UpTo(usize),
}

/// The capabilities of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCapabilities {
    pub key_ref: KeyRef,
    pub role: KeyRole,
    pub modulus_bits: usize,
    pub raw_pkcs1: RawPkcs1,
    /// Hashes of a PKCS#1 v1.5 hash-and-sign the driver does itself (CPS3 signature key: the
    /// card finishes the hash).
    pub card_message: Vec<CardHash>,
    /// Hashes of the card's own PSS (salt = hash length, MGF1 = same hash).
    pub card_pss: Vec<CardHash>,
    /// A raw RSA private operation (host-side EMSA-PSS, RSA_X_509).
    pub raw_rsa: bool,
    pub decipher_pkcs1: bool,
    pub decipher_raw: bool,
}

const CARD_HASHES: [CardHash; 2] = [CardHash::Sha1, CardHash::Sha256];

impl KeyCapabilities {
    /// Asks the driver what it can do with `key` (no APDU).
    pub fn of(driver: &dyn CardDriver, key_ref: KeyRef, modulus_bits: usize) -> Option<Self> {
        let role = driver.key_role(key_ref)?;
        let k = modulus_bits.div_ceil(8);
        let raw_pkcs1 = if !driver.supports(key_ref, SignAlgorithm::Pkcs1Raw) {
            RawPkcs1::None
        } else if role == KeyRole::Signature {
            RawPkcs1::CardHashesOnly
        } else {
            match driver.kind().generation() {
                // INTERNAL AUTHENTICATE: at most 40 % of the modulus (CPS3.md §6.6)
                Generation::Cps3 => RawPkcs1::UpTo(cps3::MAX_INTERNAL_AUTH),
                // host padding + raw RSA (CPS4.md §6.4)
                Generation::Cps4 => RawPkcs1::UpTo(k.saturating_sub(PKCS1_OVERHEAD)),
            }
        };
        Some(KeyCapabilities {
            key_ref,
            role,
            modulus_bits,
            raw_pkcs1,
            card_message: CARD_HASHES
                .into_iter()
                .filter(|h| driver.supports(key_ref, SignAlgorithm::Pkcs1Message(*h)))
                .collect(),
            card_pss: CARD_HASHES
                .into_iter()
                .filter(|h| driver.supports(key_ref, SignAlgorithm::PssDigest(*h)))
                .collect(),
            raw_rsa: driver.supports(key_ref, SignAlgorithm::RawRsa),
            decipher_pkcs1: driver.supports_decipher(key_ref, DecipherPadding::Pkcs1v15),
            decipher_raw: driver.supports_decipher(key_ref, DecipherPadding::Raw),
        })
    }

    /// Modulus length in bytes.
    pub fn modulus_len(&self) -> usize {
        self.modulus_bits.div_ceil(8)
    }

    /// True when `CKM_RSA_PKCS` may sign `len` bytes of arbitrary data.
    pub fn raw_pkcs1_fits(&self, len: usize) -> bool {
        matches!(self.raw_pkcs1, RawPkcs1::UpTo(n) if len >= 1 && len <= n)
    }

    /// The card's own PSS for `hash`, if any.
    pub fn card_pss_for(&self, hash: HashAlg) -> Option<CardHash> {
        CardHash::try_from(hash)
            .ok()
            .filter(|h| self.card_pss.contains(h))
    }

    /// True when the key can sign with mechanisms of `kind` (with some parameters).
    pub fn can_sign(&self, kind: MechanismKind) -> bool {
        match kind {
            MechanismKind::RsaPkcs => self.raw_pkcs1 != RawPkcs1::None,
            MechanismKind::RsaX509 => self.raw_rsa,
            MechanismKind::RsaPkcsPss => !self.card_pss.is_empty() || self.raw_rsa,
            k if k.is_pss() => k
                .message_hash()
                .is_some_and(|h| self.card_pss_for(h).is_some() || self.raw_rsa),
            k => k.message_hash().is_some_and(|h| {
                let card = CardHash::try_from(h).is_ok_and(|c| self.card_message.contains(&c));
                card || self.raw_pkcs1_fits(h.digest_info_prefix().len() + h.output_len())
            }),
        }
    }

    /// True when the key can decipher with `kind`.
    pub fn can_decrypt(&self, kind: MechanismKind) -> bool {
        match kind {
            MechanismKind::RsaPkcs => self.decipher_pkcs1 || self.decipher_raw,
            MechanismKind::RsaX509 => self.decipher_raw,
            _ => false,
        }
    }

    /// The mechanisms of this key, in list order.
    pub fn mechanisms(&self) -> Vec<MechanismInfo> {
        MechanismKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let sign = self.can_sign(kind);
                let decrypt = self.can_decrypt(kind);
                (sign || decrypt).then_some(MechanismInfo {
                    kind,
                    min_key_bits: self.modulus_bits,
                    max_key_bits: self.modulus_bits,
                    sign,
                    decrypt,
                    verify: sign,
                    // software encryption with the public key of a decryption key (objects.md §6)
                    encrypt: decrypt,
                    hardware: true,
                })
            })
            .collect()
    }
}

/// The token's list: every mechanism some key supports, flags and key sizes merged.
pub fn merge(keys: &[KeyCapabilities]) -> Vec<MechanismInfo> {
    let mut out: Vec<MechanismInfo> = Vec::new();
    for m in keys.iter().flat_map(|k| k.mechanisms()) {
        match out.iter_mut().find(|o| o.kind == m.kind) {
            Some(o) => {
                o.min_key_bits = o.min_key_bits.min(m.min_key_bits);
                o.max_key_bits = o.max_key_bits.max(m.max_key_bits);
                o.sign |= m.sign;
                o.decrypt |= m.decrypt;
                o.verify |= m.verify;
                o.encrypt |= m.encrypt;
            }
            None => out.push(m),
        }
    }
    out.sort_by_key(|m| MechanismKind::ALL.iter().position(|k| *k == m.kind));
    out
}
