//! Mechanisms shared by the PKCS#11 module and the Rust API (DESIGN §3): what a caller asks
//! for, with its parameters, and what a key lists. Names and numbers follow PKCS#11 3.0
//! (§2.1 RSA); which ones a card really supports is decided per key in [`super::signer`]
//! (objects.md §6 "Recommended lists").

use crate::crypto::{HashAlg, PssParams};
use std::fmt;

/// A mechanism without its parameters: what a key supports, what `C_GetMechanismList` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MechanismKind {
    /// CKM_RSA_PKCS: PKCS#1 v1.5 over the caller's data (a DigestInfo, TLS 1.2 hashes).
    RsaPkcs,
    /// CKM_RSA_X_509: raw RSA.
    RsaX509,
    /// CKM_SHA1_RSA_PKCS.
    Sha1RsaPkcs,
    /// CKM_SHA256_RSA_PKCS.
    Sha256RsaPkcs,
    /// CKM_SHA384_RSA_PKCS.
    Sha384RsaPkcs,
    /// CKM_SHA512_RSA_PKCS.
    Sha512RsaPkcs,
    /// CKM_RSA_PKCS_PSS: PSS over the caller's hash.
    RsaPkcsPss,
    /// CKM_SHA1_RSA_PKCS_PSS.
    Sha1RsaPkcsPss,
    /// CKM_SHA256_RSA_PKCS_PSS.
    Sha256RsaPkcsPss,
    /// CKM_SHA384_RSA_PKCS_PSS.
    Sha384RsaPkcsPss,
    /// CKM_SHA512_RSA_PKCS_PSS.
    Sha512RsaPkcsPss,
}

impl MechanismKind {
    /// Every kind, in the order `C_GetMechanismList` shows them (objects.md §6 order, with
    /// the SHA-384/512 variants after their SHA-256 sibling).
    pub const ALL: [MechanismKind; 11] = [
        MechanismKind::RsaX509,
        MechanismKind::RsaPkcs,
        MechanismKind::Sha1RsaPkcs,
        MechanismKind::Sha256RsaPkcs,
        MechanismKind::Sha384RsaPkcs,
        MechanismKind::Sha512RsaPkcs,
        MechanismKind::RsaPkcsPss,
        MechanismKind::Sha1RsaPkcsPss,
        MechanismKind::Sha256RsaPkcsPss,
        MechanismKind::Sha384RsaPkcsPss,
        MechanismKind::Sha512RsaPkcsPss,
    ];

    /// The PKCS#11 `CK_MECHANISM_TYPE` value.
    pub fn ckm(self) -> u64 {
        match self {
            MechanismKind::RsaPkcs => 0x0001,
            MechanismKind::RsaX509 => 0x0003,
            MechanismKind::Sha1RsaPkcs => 0x0006,
            MechanismKind::RsaPkcsPss => 0x000D,
            MechanismKind::Sha1RsaPkcsPss => 0x000E,
            MechanismKind::Sha256RsaPkcs => 0x0040,
            MechanismKind::Sha384RsaPkcs => 0x0041,
            MechanismKind::Sha512RsaPkcs => 0x0042,
            MechanismKind::Sha256RsaPkcsPss => 0x0043,
            MechanismKind::Sha384RsaPkcsPss => 0x0044,
            MechanismKind::Sha512RsaPkcsPss => 0x0045,
        }
    }

    /// The kind of a PKCS#11 mechanism number, if it is one of ours.
    pub fn from_ckm(ckm: u64) -> Option<MechanismKind> {
        Self::ALL.into_iter().find(|k| k.ckm() == ckm)
    }

    /// The hash the mechanism computes over the message (hash-and-sign mechanisms).
    pub fn message_hash(self) -> Option<HashAlg> {
        match self {
            MechanismKind::Sha1RsaPkcs | MechanismKind::Sha1RsaPkcsPss => Some(HashAlg::Sha1),
            MechanismKind::Sha256RsaPkcs | MechanismKind::Sha256RsaPkcsPss => Some(HashAlg::Sha256),
            MechanismKind::Sha384RsaPkcs | MechanismKind::Sha384RsaPkcsPss => Some(HashAlg::Sha384),
            MechanismKind::Sha512RsaPkcs | MechanismKind::Sha512RsaPkcsPss => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// True for the PSS family (they take [`PssParams`]).
    pub fn is_pss(self) -> bool {
        matches!(
            self,
            MechanismKind::RsaPkcsPss
                | MechanismKind::Sha1RsaPkcsPss
                | MechanismKind::Sha256RsaPkcsPss
                | MechanismKind::Sha384RsaPkcsPss
                | MechanismKind::Sha512RsaPkcsPss
        )
    }

    /// The PKCS#11 name (`CKM_SHA256_RSA_PKCS_PSS`).
    pub fn name(self) -> &'static str {
        match self {
            MechanismKind::RsaPkcs => "CKM_RSA_PKCS",
            MechanismKind::RsaX509 => "CKM_RSA_X_509",
            MechanismKind::Sha1RsaPkcs => "CKM_SHA1_RSA_PKCS",
            MechanismKind::Sha256RsaPkcs => "CKM_SHA256_RSA_PKCS",
            MechanismKind::Sha384RsaPkcs => "CKM_SHA384_RSA_PKCS",
            MechanismKind::Sha512RsaPkcs => "CKM_SHA512_RSA_PKCS",
            MechanismKind::RsaPkcsPss => "CKM_RSA_PKCS_PSS",
            MechanismKind::Sha1RsaPkcsPss => "CKM_SHA1_RSA_PKCS_PSS",
            MechanismKind::Sha256RsaPkcsPss => "CKM_SHA256_RSA_PKCS_PSS",
            MechanismKind::Sha384RsaPkcsPss => "CKM_SHA384_RSA_PKCS_PSS",
            MechanismKind::Sha512RsaPkcsPss => "CKM_SHA512_RSA_PKCS_PSS",
        }
    }
}

impl fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A mechanism with its parameters, as a caller asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    RsaPkcs,
    RsaX509,
    Sha1RsaPkcs,
    Sha256RsaPkcs,
    Sha384RsaPkcs,
    Sha512RsaPkcs,
    /// Input: the message hash (`params.hash` long).
    RsaPkcsPss(PssParams),
    /// `params.hash` must be SHA-1 (PKCS#11 3.0 §2.1.14).
    Sha1RsaPkcsPss(PssParams),
    Sha256RsaPkcsPss(PssParams),
    Sha384RsaPkcsPss(PssParams),
    Sha512RsaPkcsPss(PssParams),
}

impl Mechanism {
    pub fn kind(&self) -> MechanismKind {
        match self {
            Mechanism::RsaPkcs => MechanismKind::RsaPkcs,
            Mechanism::RsaX509 => MechanismKind::RsaX509,
            Mechanism::Sha1RsaPkcs => MechanismKind::Sha1RsaPkcs,
            Mechanism::Sha256RsaPkcs => MechanismKind::Sha256RsaPkcs,
            Mechanism::Sha384RsaPkcs => MechanismKind::Sha384RsaPkcs,
            Mechanism::Sha512RsaPkcs => MechanismKind::Sha512RsaPkcs,
            Mechanism::RsaPkcsPss(_) => MechanismKind::RsaPkcsPss,
            Mechanism::Sha1RsaPkcsPss(_) => MechanismKind::Sha1RsaPkcsPss,
            Mechanism::Sha256RsaPkcsPss(_) => MechanismKind::Sha256RsaPkcsPss,
            Mechanism::Sha384RsaPkcsPss(_) => MechanismKind::Sha384RsaPkcsPss,
            Mechanism::Sha512RsaPkcsPss(_) => MechanismKind::Sha512RsaPkcsPss,
        }
    }

    /// The PSS parameters, for the PSS family.
    pub fn pss_params(&self) -> Option<PssParams> {
        match *self {
            Mechanism::RsaPkcsPss(p)
            | Mechanism::Sha1RsaPkcsPss(p)
            | Mechanism::Sha256RsaPkcsPss(p)
            | Mechanism::Sha384RsaPkcsPss(p)
            | Mechanism::Sha512RsaPkcsPss(p) => Some(p),
            _ => None,
        }
    }

    /// A mechanism of `kind` with `params` (required for the PSS family, ignored otherwise).
    pub fn new(kind: MechanismKind, params: Option<PssParams>) -> Option<Mechanism> {
        let p = || params;
        Some(match kind {
            MechanismKind::RsaPkcs => Mechanism::RsaPkcs,
            MechanismKind::RsaX509 => Mechanism::RsaX509,
            MechanismKind::Sha1RsaPkcs => Mechanism::Sha1RsaPkcs,
            MechanismKind::Sha256RsaPkcs => Mechanism::Sha256RsaPkcs,
            MechanismKind::Sha384RsaPkcs => Mechanism::Sha384RsaPkcs,
            MechanismKind::Sha512RsaPkcs => Mechanism::Sha512RsaPkcs,
            MechanismKind::RsaPkcsPss => Mechanism::RsaPkcsPss(p()?),
            MechanismKind::Sha1RsaPkcsPss => Mechanism::Sha1RsaPkcsPss(p()?),
            MechanismKind::Sha256RsaPkcsPss => Mechanism::Sha256RsaPkcsPss(p()?),
            MechanismKind::Sha384RsaPkcsPss => Mechanism::Sha384RsaPkcsPss(p()?),
            MechanismKind::Sha512RsaPkcsPss => Mechanism::Sha512RsaPkcsPss(p()?),
        })
    }

    /// The hash-and-sign PSS mechanism of `hash` with the TLS 1.3 parameters (MGF1 with the
    /// same hash, salt = hash length: what CPS4 cards do, README §4).
    pub fn pss_of(hash: HashAlg) -> Mechanism {
        let p = PssParams::standard(hash);
        match hash {
            HashAlg::Sha1 => Mechanism::Sha1RsaPkcsPss(p),
            HashAlg::Sha256 => Mechanism::Sha256RsaPkcsPss(p),
            HashAlg::Sha384 => Mechanism::Sha384RsaPkcsPss(p),
            HashAlg::Sha512 => Mechanism::Sha512RsaPkcsPss(p),
        }
    }

    /// The hash-and-sign PKCS#1 v1.5 mechanism of `hash`.
    pub fn pkcs1_of(hash: HashAlg) -> Mechanism {
        match hash {
            HashAlg::Sha1 => Mechanism::Sha1RsaPkcs,
            HashAlg::Sha256 => Mechanism::Sha256RsaPkcs,
            HashAlg::Sha384 => Mechanism::Sha384RsaPkcs,
            HashAlg::Sha512 => Mechanism::Sha512RsaPkcs,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pss_params() {
            Some(p) => write!(
                f,
                "{} (hash {:?}, MGF1-{:?}, salt {})",
                self.kind(),
                p.hash,
                p.mgf_hash,
                p.salt_len
            ),
            None => write!(f, "{}", self.kind()),
        }
    }
}

/// What a mechanism does on this token (`CK_MECHANISM_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MechanismInfo {
    pub kind: MechanismKind,
    pub min_key_bits: usize,
    pub max_key_bits: usize,
    /// With a private key on the card.
    pub sign: bool,
    pub decrypt: bool,
    /// With a public key, in software.
    pub verify: bool,
    pub encrypt: bool,
    /// The card performs the private-key operation (CKF_HW).
    pub hardware: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for k in MechanismKind::ALL {
            assert_eq!(MechanismKind::from_ckm(k.ckm()), Some(k));
            assert!(k.name().starts_with("CKM_"));
        }
        assert_eq!(MechanismKind::from_ckm(0x1234), None);
        assert_eq!(MechanismKind::Sha256RsaPkcsPss.ckm(), 0x43);
    }

    #[test]
    fn pss_needs_parameters() {
        assert_eq!(Mechanism::new(MechanismKind::RsaPkcsPss, None), None);
        let p = PssParams::standard(HashAlg::Sha256);
        assert_eq!(
            Mechanism::new(MechanismKind::Sha256RsaPkcsPss, Some(p)),
            Some(Mechanism::pss_of(HashAlg::Sha256))
        );
        assert_eq!(
            Mechanism::pkcs1_of(HashAlg::Sha384).kind().message_hash(),
            Some(HashAlg::Sha384)
        );
    }
}
