//! Signing with a card key: a mechanism is checked against the key's capabilities and turned
//! into a plan **before any APDU**; the input is fed in parts (C_SignUpdate); the card's
//! result is **verified with the certificate's public key** before it is returned — a faulty
//! card (emulator fault "corrupt next signature") gives an error, never bad bytes.
//!
//! Mapping to the driver ([`SignAlgorithm`]), per [`KeyCapabilities`]:
//! - SHA-1/256 PKCS#1 v1.5 hash-and-sign → `sign_message` (the CPS3 signature key finishes
//!   the hash on the card, CPS3.md §6.4); SHA-384/512 → host hash, DigestInfo, `Pkcs1Raw`;
//! - RSA_PKCS → `Pkcs1Raw` (signature keys: SHA-1/256 DigestInfo or bare hash only);
//! - PSS → the card's own PSS when it matches (CPS4, SHA-1/256, MGF1 same hash, salt = hLen),
//!   else host EMSA-PSS ([`crate::crypto::pss::encode`]) + `RawRsa` (CPS4 authentication key);
//! - RSA_X_509 → `RawRsa`.

use super::capabilities::{KeyCapabilities, RawPkcs1};
use super::mechanism::{Mechanism, MechanismKind};
use crate::card::rsa_pad::digest_from_pkcs1_input;
use crate::card::{CardDriver, HashAlg as CardHash, MessageHasher, SignAlgorithm};
use crate::crypto::{pss, HashAlg, Hasher, PssParams, PublicKey};
use crate::token::TokenError;
use zeroize::Zeroizing;

/// How a mechanism is carried out with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Driver `sign_message`: PKCS#1 v1.5 over DigestInfo(hash(message)).
    CardMessage(CardHash),
    /// Host hash, then `Pkcs1Raw(DigestInfo)`.
    HostMessage(HashAlg),
    /// `Pkcs1Raw(input)`.
    Pkcs1Raw,
    /// The card's PSS over a hash (computed in the host first when `message`).
    CardPss { hash: CardHash, message: bool },
    /// Host EMSA-PSS + raw RSA (hash computed in the host first when `message`).
    HostPss { params: PssParams, message: bool },
    /// Raw RSA of a modulus-length block.
    RawRsa,
}

/// The input collected so far.
enum Input {
    Buffer(Zeroizing<Vec<u8>>),
    CardHasher(MessageHasher),
    HostHasher(Hasher),
}

/// A signature in progress (C_SignInit … C_SignUpdate … C_SignFinal). Created only for a
/// mechanism the key can do; no APDU is sent until [`SignOperation::finish`].
pub struct SignOperation {
    mechanism: Mechanism,
    caps: KeyCapabilities,
    plan: Plan,
    input: Input,
    /// Bytes fed so far.
    fed: usize,
}

fn refuse_kind(caps: &KeyCapabilities, kind: MechanismKind) -> TokenError {
    if kind.is_pss() && caps.card_pss.is_empty() && !caps.raw_rsa {
        TokenError::MechanismInvalid(format!("{kind}: this card has no RSA-PSS"))
    } else {
        TokenError::KeyFunctionNotPermitted("this key cannot sign with this mechanism")
    }
}

/// Checks PSS parameters that do not depend on the key.
fn check_pss_params(kind: MechanismKind, p: &PssParams) -> Result<(), TokenError> {
    if let Some(h) = kind.message_hash() {
        if p.hash != h {
            return Err(TokenError::MechanismParamInvalid(
                "the PSS hash differs from the mechanism's hash",
            ));
        }
    }
    Ok(())
}

impl SignOperation {
    /// Plans `mechanism` with the key of `caps`. Every refusal happens here, before any APDU:
    /// [`TokenError::MechanismInvalid`] when the card has no such mechanism at all (PSS on a
    /// CPS3), [`TokenError::KeyFunctionNotPermitted`] when this key cannot,
    /// [`TokenError::MechanismParamInvalid`] for PSS parameters the key cannot honour.
    pub fn new(caps: &KeyCapabilities, mechanism: Mechanism) -> Result<SignOperation, TokenError> {
        let kind = mechanism.kind();
        if !caps.can_sign(kind) {
            return Err(refuse_kind(caps, kind));
        }
        let plan = match (kind, mechanism.pss_params()) {
            (MechanismKind::RsaPkcs, _) => Plan::Pkcs1Raw,
            (MechanismKind::RsaX509, _) => Plan::RawRsa,
            (k, Some(p)) => {
                check_pss_params(k, &p)?;
                let message = k != MechanismKind::RsaPkcsPss;
                let k_bytes = caps.modulus_bits.saturating_sub(1).div_ceil(8);
                if k_bytes < p.hash.output_len() + p.salt_len + 2 {
                    return Err(TokenError::MechanismParamInvalid(
                        "salt too long for this key",
                    ));
                }
                let card = caps
                    .card_pss_for(p.hash)
                    .filter(|_| p.mgf_hash == p.hash && p.salt_len == p.hash.output_len());
                match card {
                    Some(hash) => Plan::CardPss { hash, message },
                    None if caps.raw_rsa => Plan::HostPss { params: p, message },
                    None => {
                        return Err(TokenError::MechanismParamInvalid(
                            "this key's PSS uses SHA-1 or SHA-256, MGF1 with the same hash \
                             and a salt as long as the hash",
                        ))
                    }
                }
            }
            (k, None) if k.is_pss() => {
                return Err(TokenError::MechanismParamInvalid("PSS needs parameters"))
            }
            (k, None) => {
                let h = k
                    .message_hash()
                    .ok_or(TokenError::MechanismInvalid(k.to_string()))?;
                match CardHash::try_from(h) {
                    Ok(c) if caps.card_message.contains(&c) => Plan::CardMessage(c),
                    _ => Plan::HostMessage(h),
                }
            }
        };
        let input = match plan {
            Plan::CardMessage(h) => Input::CardHasher(MessageHasher::new(h)),
            Plan::HostMessage(h) => Input::HostHasher(Hasher::new(h)),
            Plan::CardPss {
                hash,
                message: true,
            } => Input::HostHasher(Hasher::new(hash.into())),
            Plan::HostPss {
                params,
                message: true,
            } => Input::HostHasher(Hasher::new(params.hash)),
            _ => Input::Buffer(Zeroizing::new(Vec::new())),
        };
        Ok(SignOperation {
            mechanism,
            caps: caps.clone(),
            plan,
            input,
            fed: 0,
        })
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The signature length (modulus length), for the two-call convention.
    pub fn signature_len(&self) -> usize {
        self.caps.modulus_len()
    }

    /// Feeds more input. Single-block mechanisms (RSA_PKCS, RSA_PKCS_PSS, RSA_X_509) refuse
    /// more than the key can take.
    pub fn update(&mut self, data: &[u8]) -> Result<(), TokenError> {
        let max = self.max_buffered();
        self.fed = self.fed.saturating_add(data.len());
        match &mut self.input {
            Input::Buffer(b) => {
                if b.len() + data.len() > max {
                    return Err(TokenError::DataLenRange {
                        len: b.len() + data.len(),
                        max,
                    });
                }
                b.extend_from_slice(data);
            }
            Input::CardHasher(h) => h.update(data),
            Input::HostHasher(h) => h.update(data),
        }
        Ok(())
    }

    fn max_buffered(&self) -> usize {
        match self.plan {
            Plan::Pkcs1Raw => match self.caps.raw_pkcs1 {
                RawPkcs1::UpTo(n) => n,
                // a DigestInfo of SHA-256 is the longest the signature key takes
                _ => HashAlg::Sha256.digest_info_prefix().len() + HashAlg::Sha256.output_len(),
            },
            Plan::CardPss { hash, .. } => HashAlg::from(hash).output_len(),
            Plan::HostPss { params, .. } => params.hash.output_len(),
            _ => self.caps.modulus_len(),
        }
    }

    /// Checks the collected input for the plan (still no APDU).
    fn prepare(&mut self) -> Result<Prepared, TokenError> {
        let input = std::mem::replace(&mut self.input, Input::Buffer(Zeroizing::default()));
        let k = self.caps.modulus_len();
        Ok(match (self.plan, input) {
            (Plan::CardMessage(h), Input::CardHasher(hasher)) => {
                let digest = hasher.clone().finish();
                let check = Check::Pkcs1(HashAlg::from(h).digest_info(&digest));
                // The card cannot finish the hash of nothing (CPS3.md §6.4, the vendor's
                // empty-message bug): sign the host's digest instead.
                let call = if self.fed == 0 {
                    Call::Sign(SignAlgorithm::Pkcs1Digest(h), digest)
                } else {
                    Call::Message(hasher)
                };
                Prepared { call, check }
            }
            (Plan::HostMessage(h), Input::HostHasher(hasher)) => {
                let di = h.digest_info(&hasher.finish());
                Prepared {
                    call: Call::Sign(SignAlgorithm::Pkcs1Raw, di.clone()),
                    check: Check::Pkcs1(di),
                }
            }
            (Plan::Pkcs1Raw, Input::Buffer(data)) => {
                let signed = match self.caps.raw_pkcs1 {
                    RawPkcs1::CardHashesOnly => {
                        let (h, d) =
                            digest_from_pkcs1_input(&data).ok_or(TokenError::DataInvalid(
                                "the signature key signs a SHA-1/SHA-256 DigestInfo or hash only",
                            ))?;
                        HashAlg::from(h).digest_info(d)
                    }
                    _ => {
                        if !self.caps.raw_pkcs1_fits(data.len()) {
                            return Err(TokenError::DataLenRange {
                                len: data.len(),
                                max: self.max_buffered(),
                            });
                        }
                        data.to_vec()
                    }
                };
                Prepared {
                    call: Call::Sign(SignAlgorithm::Pkcs1Raw, data.to_vec()),
                    check: Check::Pkcs1(signed),
                }
            }
            (Plan::CardPss { hash, message }, input) => {
                let m_hash = hash_of(input, message)?;
                let h = HashAlg::from(hash);
                if m_hash.len() != h.output_len() {
                    return Err(TokenError::DataLenRange {
                        len: m_hash.len(),
                        max: h.output_len(),
                    });
                }
                Prepared {
                    call: Call::Sign(SignAlgorithm::PssDigest(hash), m_hash.clone()),
                    check: Check::Pss(m_hash, PssParams::standard(h)),
                }
            }
            (Plan::HostPss { params, message }, input) => {
                let m_hash = hash_of(input, message)?;
                let mut salt = Zeroizing::new(vec![0u8; params.salt_len]);
                rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
                let em = pss::encode(&m_hash, self.caps.modulus_bits, &params, &salt)?;
                Prepared {
                    call: Call::Sign(SignAlgorithm::RawRsa, em),
                    check: Check::Pss(m_hash, params),
                }
            }
            (Plan::RawRsa, Input::Buffer(data)) => {
                if data.len() > k {
                    return Err(TokenError::DataLenRange {
                        len: data.len(),
                        max: k,
                    });
                }
                let mut block = vec![0u8; k - data.len()];
                block.extend_from_slice(&data);
                Prepared {
                    call: Call::Sign(SignAlgorithm::RawRsa, block.clone()),
                    check: Check::Raw(block),
                }
            }
            _ => return Err(TokenError::DataInvalid("inconsistent signature state")),
        })
    }

    /// Signs on the card and verifies the result with `public_key` (the certificate's) before
    /// returning it.
    pub fn finish(
        mut self,
        driver: &mut dyn CardDriver,
        public_key: &PublicKey,
    ) -> Result<Vec<u8>, TokenError> {
        if public_key.bits() != self.caps.modulus_bits {
            return Err(TokenError::BadCertificate {
                path: String::new(),
                reason: "the certificate's key size differs from the card key's".into(),
            });
        }
        let prepared = self.prepare()?;
        let key = self.caps.key_ref;
        let signature = match &prepared.call {
            Call::Message(hasher) => driver.sign_message(key, hasher)?,
            Call::Sign(alg, input) => driver.sign(key, *alg, input)?,
        };
        let ok = match &prepared.check {
            Check::Pkcs1(t) => public_key.verify_pkcs1(t, &signature).is_ok(),
            Check::Pss(m_hash, p) => public_key
                .verify_pss(m_hash, &signature, p.hash, p.mgf_hash, Some(p.salt_len))
                .is_ok(),
            Check::Raw(block) => public_key.raw_public(&signature).is_ok_and(|m| &m == block),
        };
        if !ok {
            log::error!(
                target: "token",
                "the card's {} signature with key {key} does not verify: discarded",
                self.mechanism.kind()
            );
            return Err(TokenError::CardSignatureInvalid);
        }
        Ok(signature)
    }
}

fn hash_of(input: Input, message: bool) -> Result<Vec<u8>, TokenError> {
    match (input, message) {
        (Input::HostHasher(h), true) => Ok(h.finish()),
        (Input::Buffer(b), false) => Ok(b.to_vec()),
        _ => Err(TokenError::DataInvalid("inconsistent signature state")),
    }
}

/// What is sent to the driver.
enum Call {
    Message(MessageHasher),
    Sign(SignAlgorithm, Vec<u8>),
}

/// What the signature must verify against.
enum Check {
    /// PKCS#1 v1.5 block content `T`.
    Pkcs1(Vec<u8>),
    /// PSS over the message hash.
    Pss(Vec<u8>, PssParams),
    /// Raw RSA: the block itself.
    Raw(Vec<u8>),
}

struct Prepared {
    call: Call,
    check: Check,
}
