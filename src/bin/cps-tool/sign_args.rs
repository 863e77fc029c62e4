//! What `sign` and `verify` sign with: `--key sign|auth` and `--mechanism NAME`, the names
//! mapped to the token's mechanisms (PKCS#11 3.0 §2.1 names in `cpscard::sign`).

use clap::builder::PossibleValue;
use cpscard::card::KeyRole;
use cpscard::crypto::{HashAlg, PssParams};
use cpscard::i18n::Msg;
use cpscard::sign::{Mechanism, MechanismKind};
use cpscard::t;

/// `--key`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyArg {
    Sign,
    Auth,
}

impl KeyArg {
    pub fn role(self) -> KeyRole {
        match self {
            KeyArg::Sign => KeyRole::Signature,
            KeyArg::Auth => KeyRole::Authentication,
        }
    }

    /// The key's name for the user (`signature`, `authentication`, localized).
    pub fn word(self) -> String {
        crate::doctor::card::role_text(self.role())
    }
}

/// `--mechanism`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MechanismArg {
    Sha1Pkcs1,
    Sha256Pkcs1,
    Sha384Pkcs1,
    Sha512Pkcs1,
    /// CKM_RSA_PKCS: the input is a DigestInfo or a bare hash (TLS 1.2 style).
    Pkcs1Raw,
    Sha1Pss,
    Sha256Pss,
    Sha384Pss,
    Sha512Pss,
    /// CKM_RSA_PKCS_PSS: the input is the hash; its length says which.
    PssRaw,
    /// CKM_RSA_X_509 (CPS4 authentication key, CPS4.md §6.4): a block of at most the modulus.
    Raw,
}

impl MechanismArg {
    pub const ALL: [MechanismArg; 11] = [
        MechanismArg::Sha1Pkcs1,
        MechanismArg::Sha256Pkcs1,
        MechanismArg::Sha384Pkcs1,
        MechanismArg::Sha512Pkcs1,
        MechanismArg::Pkcs1Raw,
        MechanismArg::Sha1Pss,
        MechanismArg::Sha256Pss,
        MechanismArg::Sha384Pss,
        MechanismArg::Sha512Pss,
        MechanismArg::PssRaw,
        MechanismArg::Raw,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MechanismArg::Sha1Pkcs1 => "sha1-pkcs1",
            MechanismArg::Sha256Pkcs1 => "sha256-pkcs1",
            MechanismArg::Sha384Pkcs1 => "sha384-pkcs1",
            MechanismArg::Sha512Pkcs1 => "sha512-pkcs1",
            MechanismArg::Pkcs1Raw => "pkcs1-raw",
            MechanismArg::Sha1Pss => "sha1-pss",
            MechanismArg::Sha256Pss => "sha256-pss",
            MechanismArg::Sha384Pss => "sha384-pss",
            MechanismArg::Sha512Pss => "sha512-pss",
            MechanismArg::PssRaw => "pss-raw",
            MechanismArg::Raw => "raw",
        }
    }

    /// The hash computed over the file (hash-and-sign mechanisms).
    pub fn hash(self) -> Option<HashAlg> {
        match self {
            MechanismArg::Sha1Pkcs1 | MechanismArg::Sha1Pss => Some(HashAlg::Sha1),
            MechanismArg::Sha256Pkcs1 | MechanismArg::Sha256Pss => Some(HashAlg::Sha256),
            MechanismArg::Sha384Pkcs1 | MechanismArg::Sha384Pss => Some(HashAlg::Sha384),
            MechanismArg::Sha512Pkcs1 | MechanismArg::Sha512Pss => Some(HashAlg::Sha512),
            MechanismArg::Pkcs1Raw | MechanismArg::PssRaw | MechanismArg::Raw => None,
        }
    }

    pub fn kind(self) -> MechanismKind {
        match self {
            MechanismArg::Sha1Pkcs1 => MechanismKind::Sha1RsaPkcs,
            MechanismArg::Sha256Pkcs1 => MechanismKind::Sha256RsaPkcs,
            MechanismArg::Sha384Pkcs1 => MechanismKind::Sha384RsaPkcs,
            MechanismArg::Sha512Pkcs1 => MechanismKind::Sha512RsaPkcs,
            MechanismArg::Pkcs1Raw => MechanismKind::RsaPkcs,
            MechanismArg::Sha1Pss => MechanismKind::Sha1RsaPkcsPss,
            MechanismArg::Sha256Pss => MechanismKind::Sha256RsaPkcsPss,
            MechanismArg::Sha384Pss => MechanismKind::Sha384RsaPkcsPss,
            MechanismArg::Sha512Pss => MechanismKind::Sha512RsaPkcsPss,
            MechanismArg::PssRaw => MechanismKind::RsaPkcsPss,
            MechanismArg::Raw => MechanismKind::RsaX509,
        }
    }

    /// The command-line name of a token mechanism.
    pub fn of_kind(kind: MechanismKind) -> Option<MechanismArg> {
        Self::ALL.into_iter().find(|m| m.kind() == kind)
    }

    pub fn is_pss(self) -> bool {
        self.kind().is_pss()
    }

    /// The mechanism for an input of `input_len` bytes: PSS with MGF1 of the same hash and a
    /// salt of the hash length (CPS4.md §5, TLS 1.3 `rsa_pss_rsae_*`); for `pss-raw` the hash
    /// is the one of that length, `None` when no hash has it.
    pub fn mechanism(self, input_len: usize) -> Option<Mechanism> {
        if self == MechanismArg::PssRaw {
            let hash = HashAlg::ALL
                .into_iter()
                .find(|h| h.output_len() == input_len)?;
            return Some(Mechanism::RsaPkcsPss(PssParams::standard(hash)));
        }
        Some(match (self.hash(), self.is_pss()) {
            (Some(h), true) => Mechanism::pss_of(h),
            (Some(h), false) => Mechanism::pkcs1_of(h),
            (None, _) if self == MechanismArg::Raw => Mechanism::RsaX509,
            (None, _) => Mechanism::RsaPkcs,
        })
    }

    fn help(self) -> String {
        match (self, self.hash()) {
            (_, Some(h)) if self.is_pss() => t!(Msg::HelpMechPss, hash = hash_name(h)),
            (_, Some(h)) => t!(Msg::HelpMechPkcs1, hash = hash_name(h)),
            (MechanismArg::PssRaw, None) => Msg::HelpMechPssRaw.text(),
            (MechanismArg::Raw, None) => Msg::HelpMechRaw.text(),
            (_, None) => Msg::HelpMechPkcs1Raw.text(),
        }
    }
}

impl clap::ValueEnum for MechanismArg {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.help()))
    }
}

pub fn hash_name(h: HashAlg) -> &'static str {
    match h {
        HashAlg::Sha1 => "SHA-1",
        HashAlg::Sha256 => "SHA-256",
        HashAlg::Sha384 => "SHA-384",
        HashAlg::Sha512 => "SHA-512",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds_round_trip() {
        for m in MechanismArg::ALL {
            assert_eq!(MechanismArg::of_kind(m.kind()), Some(m));
            assert_eq!(m.is_pss(), m.name().contains("pss"), "{}", m.name());
        }
    }

    #[test]
    fn pss_raw_takes_the_hash_of_the_input_length() {
        assert_eq!(
            MechanismArg::PssRaw.mechanism(32),
            Some(Mechanism::RsaPkcsPss(PssParams::standard(HashAlg::Sha256)))
        );
        assert_eq!(
            MechanismArg::PssRaw
                .mechanism(64)
                .and_then(|m| m.pss_params()),
            Some(PssParams::standard(HashAlg::Sha512))
        );
        assert_eq!(MechanismArg::PssRaw.mechanism(33), None);
        assert_eq!(
            MechanismArg::Sha384Pss.mechanism(0),
            Some(Mechanism::pss_of(HashAlg::Sha384))
        );
        assert_eq!(MechanismArg::Raw.mechanism(5), Some(Mechanism::RsaX509));
    }
}
