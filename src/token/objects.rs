//! The token's objects (objects.md §3-§5): certificates, private keys, public keys derived
//! from the certificates, data objects. Each has an [`ObjectId`] that stays the same for the
//! same card content (the PKCS#11 module's handles map to it).

use super::certificate::ParsedCertificate;
use crate::card::pkcs15::{prkdf::key_usage, Pkcs15Id};
use crate::card::{Cps2terFile, FilePath, KeyRef, KeyRole};
use crate::crypto::PublicKey;
use crate::sign::capabilities::KeyCapabilities;
use crate::sign::MechanismInfo;

/// Where a data object's value lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataLocation {
    /// A transparent EF of the PKCS#15 application (DODF path).
    File(FilePath),
    /// A file of the CPS3 CPS2ter volet (CPS3.md §9), read with CLA `A0`.
    Cps2ter(Cps2terFile),
}

/// The identity of an object on a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectId {
    /// A certificate, by its PKCS#15 ID (= CKA_ID).
    Certificate(Pkcs15Id),
    /// A private key, by its PKCS#15 ID.
    PrivateKey(Pkcs15Id),
    /// The public key of a certificate, by the certificate's PKCS#15 ID.
    PublicKey(Pkcs15Id),
    /// A data object, by where it lives.
    Data(DataLocation),
}

impl ObjectId {
    /// A stable, non-zero 64-bit key for this object (FNV-1a over a canonical encoding):
    /// equal for the same object across calls and processes.
    pub fn key(&self) -> u64 {
        let mut bytes = Vec::with_capacity(24);
        match self {
            ObjectId::Certificate(id) => {
                bytes.push(1);
                bytes.extend_from_slice(id.as_bytes());
            }
            ObjectId::PrivateKey(id) => {
                bytes.push(2);
                bytes.extend_from_slice(id.as_bytes());
            }
            ObjectId::PublicKey(id) => {
                bytes.push(3);
                bytes.extend_from_slice(id.as_bytes());
            }
            ObjectId::Data(DataLocation::File(p)) => {
                bytes.push(4);
                bytes.extend(p.to_bytes());
            }
            ObjectId::Data(DataLocation::Cps2ter(f)) => {
                bytes.push(5);
                match f {
                    Cps2terFile::SitFact => bytes.push(0),
                    Cps2terFile::Activity(n) => bytes.extend([1, *n]),
                }
            }
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h.max(1)
    }
}

/// A certificate (objects.md §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub id: ObjectId,
    /// PKCS#15 ID = CKA_ID, shared with its key.
    pub pkcs15_id: Pkcs15Id,
    /// CDF label (`Certificat d'Authentification CPS`).
    pub label: String,
    /// The file it was read from.
    pub path: FilePath,
    /// CDF `authority` flag (a CA certificate: CKA_TRUSTED, objects.md §4.4).
    pub authority: bool,
    pub parsed: ParsedCertificate,
}

impl Certificate {
    /// The DER (`CKA_VALUE`).
    pub fn der(&self) -> &[u8] {
        &self.parsed.der
    }
}

/// Usage flags of a private key from its PKCS#15 usage bits (objects.md §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsage {
    /// `CKA_SIGN` = sign or nonRepudiation.
    pub sign: bool,
    pub sign_recover: bool,
    pub decrypt: bool,
    pub unwrap: bool,
    pub non_repudiation: bool,
}

/// A private key on the card (objects.md §4.2).
#[derive(Debug, Clone)]
pub struct PrivateKey {
    pub id: ObjectId,
    pub pkcs15_id: Pkcs15Id,
    /// PrKDF label (`CPS_PRIV_SIG`, `CPS_PRIV_AUT`).
    pub label: String,
    pub key_ref: KeyRef,
    pub role: KeyRole,
    pub usage: KeyUsage,
    /// PKCS#15 private flag (`CKA_PRIVATE`: the PIN is needed to use it).
    pub private: bool,
    /// Modulus size in bits (from the certificate, else the PrKDF).
    pub bits: usize,
    /// Modulus and public exponent, big-endian, from the certificate.
    pub modulus: Vec<u8>,
    pub public_exponent: Vec<u8>,
    /// The certificate of the pair, if the card has one.
    pub certificate: Option<ObjectId>,
    /// The public key that verifies its signatures (the certificate's).
    pub public_key: Option<PublicKey>,
    /// What the key can do (no APDU needed to decide).
    pub capabilities: KeyCapabilities,
}

impl PrivateKey {
    /// Mechanisms this key supports, with flags and key sizes.
    pub fn mechanisms(&self) -> Vec<MechanismInfo> {
        self.capabilities.mechanisms()
    }
}

pub(crate) fn key_usage_of(bits: &crate::card::pkcs15::BitFlags) -> KeyUsage {
    KeyUsage {
        sign: bits.has(key_usage::SIGN) || bits.has(key_usage::NON_REPUDIATION),
        sign_recover: bits.has(key_usage::SIGN_RECOVER),
        decrypt: bits.has(key_usage::DECRYPT),
        unwrap: bits.has(key_usage::UNWRAP),
        non_repudiation: bits.has(key_usage::NON_REPUDIATION),
    }
}

/// A public key, derived from a certificate (objects.md §4.3: our cards have no PuKDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyObject {
    pub id: ObjectId,
    pub pkcs15_id: Pkcs15Id,
    /// `Cle publique - <certificate label>`.
    pub label: String,
    pub modulus: Vec<u8>,
    pub public_exponent: Vec<u8>,
    pub bits: usize,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// `CKA_VERIFY` / `CKA_VERIFY_RECOVER`.
    pub verify: bool,
    /// `CKA_ENCRYPT`: true for the key of a decryption key (the authentication key); the
    /// signature key's public key refuses encryption (objects.md §6: refused by CKA_ID, not by
    /// label as the original does).
    pub encrypt: bool,
    pub key: PublicKey,
}

/// A data object (objects.md §5). Its value is read on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObjectInfo {
    pub id: ObjectId,
    pub label: String,
    /// `CKA_APPLICATION` (`CPS`).
    pub application: String,
    /// `CKA_PRIVATE`: readable only after login.
    pub private: bool,
    /// `CKA_MODIFIABLE` (CPS_DATA only).
    pub modifiable: bool,
    pub location: DataLocation,
}
