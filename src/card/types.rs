//! The typed words of the card layer: key references, PIN kinds and states, signature
//! algorithms, CPS2ter files.

use super::hash::HashAlg;
use std::fmt;

/// A key reference as the card names it in MSE (`84 01 <ref>` on CPS3, `91 02 <alg> <ref|80>`
/// on CPS4). Known values: CPS3 `81` signature, `82` authentication, `83` technical
/// (contactless); CPS4 `10` signature, `20` authentication (CPS3.md §4, CPS4.md §5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef(pub u8);

impl KeyRef {
    pub const CPS3_SIGNATURE: KeyRef = KeyRef(0x81);
    pub const CPS3_AUTHENTICATION: KeyRef = KeyRef(0x82);
    pub const CPS3_TECHNICAL: KeyRef = KeyRef(0x83);
    pub const CPS4_SIGNATURE: KeyRef = KeyRef(0x10);
    pub const CPS4_AUTHENTICATION: KeyRef = KeyRef(0x20);
}

impl fmt::Debug for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyRef({:02X})", self.0)
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

/// What a key is for on a CPS card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// `CPS_PRIV_SIG`: non-repudiation.
    Signature,
    /// `CPS_PRIV_AUT`: authentication (TLS client) and decryption.
    Authentication,
    /// `CPS_PRIV_TECH_AUT`: the CPS3 contactless technical key, no PIN.
    Technical,
}

/// Which secret code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinKind {
    /// "Code porteur": 4 digits, 3 tries.
    User,
    /// "Code de déblocage": 8 digits, 10 tries.
    Puk,
}

impl PinKind {
    /// Number of digits (CPS3.md §5, CPS4.md §6.2).
    pub fn digits(self) -> usize {
        match self {
            PinKind::User => 4,
            PinKind::Puk => 8,
        }
    }

    /// Tries before blocking (PUK 10: CPS3.md §5 \[C\]; CPS4 \[S\]).
    pub fn max_tries(self) -> u8 {
        match self {
            PinKind::User => 3,
            PinKind::Puk => 10,
        }
    }
}

/// What the card says about a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinState {
    /// Verified in the current card session.
    Verified,
    /// Not verified; `tries_left` before it blocks.
    NotVerified { tries_left: u8 },
    /// Blocked (no try left).
    Blocked,
}

/// PIN state and the number of tries of a fresh counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PinStatus {
    pub kind: PinKind,
    pub state: PinState,
    pub max_tries: u8,
}

impl PinStatus {
    /// Tries left: the maximum when verified (a good VERIFY resets the counter), 0 when
    /// blocked.
    pub fn tries_left(&self) -> u8 {
        match self.state {
            PinState::Verified => self.max_tries,
            PinState::NotVerified { tries_left } => tries_left,
            PinState::Blocked => 0,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.state == PinState::Verified
    }

    pub fn is_blocked(&self) -> bool {
        self.state == PinState::Blocked
    }
}

/// How to sign (the input of [`super::CardDriver::sign`] changes with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignAlgorithm {
    /// RSASSA-PKCS1-v1_5 over a message (CKM_SHAx_RSA_PKCS); input = the message. On the
    /// CPS3 signature key the card finishes the hash (PSO HASH); elsewhere the host hashes.
    Pkcs1Message(HashAlg),
    /// RSASSA-PKCS1-v1_5 over a precomputed hash; input = the digest.
    Pkcs1Digest(HashAlg),
    /// PKCS#1 v1.5 type-1 padding over arbitrary data (CKM_RSA_PKCS: a DigestInfo, or the
    /// TLS 1.1 MD5‖SHA-1); input = the data. On a signature key only a SHA-1/SHA-256
    /// DigestInfo or bare hash is possible.
    Pkcs1Raw,
    /// RSASSA-PSS over a precomputed hash, MGF1 with the same hash, salt = hash length
    /// (chosen by the card, CPS4.md §5); input = the digest. CPS4 only.
    PssDigest(HashAlg),
    /// Raw RSA private operation (CKM_RSA_X_509); input = a modulus-length block. CPS4
    /// authentication key only.
    RawRsa,
}

/// What the host wants back from a decipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecipherPadding {
    /// PKCS#1 v1.5 type 2 removed (CKM_RSA_PKCS): the plaintext.
    Pkcs1v15,
    /// Nothing removed (CKM_RSA_X_509): the raw block. CPS4 only.
    Raw,
}

/// Files of the CPS2ter data (CPS3 volet, CLA `A0`, CPS3.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cps2terFile {
    /// `CPS_SIT_FACT`: `3F00/7F01/4000`.
    SitFact,
    /// `CPS2TER_ACTIVITY_nn_PS`, nn = 1..=16: `3F00/(400F+nn)`.
    Activity(u8),
}

/// The APDUs a pinpad reader completes to change the user PIN (PC/SC part 10
/// `FEATURE_MODIFY_PIN_DIRECT`): PIN blocks are `FF`-filled placeholders the reader overwrites
/// with the ASCII digits it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinChangeTemplate {
    /// One CHANGE REFERENCE DATA carrying the old block at data offset 0 and the new one at
    /// offset 8 (CPS3: `00 24 00 01 10`, CPS3.md §5.3).
    OldAndNew(Vec<u8>),
    /// VERIFY of the old PIN, then a CHANGE REFERENCE DATA with the new block only (CPS4:
    /// `01 24 01 81 08`, CPS4.md §6.2).
    VerifyThenNew { verify: Vec<u8>, change: Vec<u8> },
}
