//! Private-key operations on the card and public-key ones in software (objects.md §6):
//! sign (one-shot or multi-part, verified before it is returned), decrypt with the
//! authentication key, encrypt and verify with a public key, random bytes.

use super::{ObjectId, PrivateKey, Token, TokenError};
use crate::apdu::StatusWord;
use crate::card::{CardError, DecipherPadding};
use crate::crypto::{pkcs1, pss, HashAlg, Hasher};
use crate::sign::{Mechanism, MechanismKind, SignOperation};
use zeroize::Zeroizing;

impl Token {
    fn key(&self, key: &ObjectId) -> Result<&PrivateKey, TokenError> {
        self.private_key(key).ok_or(TokenError::ObjectNotFound)
    }

    /// Starts a signature (C_SignInit): every check that can be made without the card is made
    /// here — the mechanism, the key, the parameters — and nothing is sent.
    pub fn sign_init(
        &self,
        key: &ObjectId,
        mechanism: Mechanism,
    ) -> Result<SignOperation, TokenError> {
        let k = self.key(key)?;
        if !k.usage.sign {
            return Err(TokenError::KeyFunctionNotPermitted("the key cannot sign"));
        }
        if !self
            .mechanisms()
            .iter()
            .any(|m| m.kind == mechanism.kind() && m.sign)
        {
            return Err(TokenError::MechanismInvalid(format!(
                "{} (this card's keys cannot sign with it)",
                mechanism.kind()
            )));
        }
        SignOperation::new(&k.capabilities, mechanism)
    }

    /// Finishes a signature (C_SignFinal): signs on the card and verifies the result with the
    /// certificate's public key; a signature that does not verify is never returned.
    pub fn sign_finish(
        &mut self,
        key: &ObjectId,
        op: SignOperation,
    ) -> Result<Vec<u8>, TokenError> {
        let public = self
            .key(key)?
            .public_key
            .clone()
            .ok_or(TokenError::NoCertificate)?;
        let resets = self.driver.card_resets();
        let r = op.finish(&mut *self.driver, &public);
        self.after_card_operation(resets, &r);
        r
    }

    /// Signs `data` in one call (C_Sign).
    pub fn sign(
        &mut self,
        key: &ObjectId,
        mechanism: Mechanism,
        data: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let mut op = self.sign_init(key, mechanism)?;
        op.update(data)?;
        self.sign_finish(key, op)
    }

    /// Deciphers with a private key (C_Decrypt): CKM_RSA_PKCS (both generations; the CPS4
    /// card gives the raw block and the host removes the padding) or CKM_RSA_X_509 (CPS4
    /// authentication key only).
    pub fn decrypt(
        &mut self,
        key: &ObjectId,
        mechanism: MechanismKind,
        cryptogram: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let k = self.key(key)?;
        let caps = k.capabilities.clone();
        if !matches!(mechanism, MechanismKind::RsaPkcs | MechanismKind::RsaX509) {
            return Err(TokenError::MechanismInvalid(format!(
                "{mechanism} does not decrypt"
            )));
        }
        if !caps.can_decrypt(mechanism) {
            return Err(
                if mechanism == MechanismKind::RsaX509
                    && !self
                        .mechanisms()
                        .iter()
                        .any(|m| m.kind == mechanism && m.decrypt)
                {
                    TokenError::MechanismInvalid(format!("{mechanism}: not on this card"))
                } else {
                    TokenError::KeyFunctionNotPermitted("this key cannot decrypt")
                },
            );
        }
        let len = caps.modulus_len();
        if cryptogram.len() != len {
            return Err(TokenError::DataLenRange {
                len: cryptogram.len(),
                max: len,
            });
        }
        let key_ref = caps.key_ref;
        let raw = caps.decipher_raw;
        let r = self.card(|d| {
            d.decipher(
                key_ref,
                if raw {
                    DecipherPadding::Raw
                } else {
                    DecipherPadding::Pkcs1v15
                },
                cryptogram,
            )
        });
        let block = match r {
            Ok(b) => b,
            // the CPS3 card checks the padding itself (CPS3.md §6.7: 6A 80)
            Err(TokenError::Card(CardError::Refused {
                sw: StatusWord::IncorrectData,
                ..
            })) => return Err(TokenError::EncryptedDataInvalid),
            Err(e) => return Err(e),
        };
        if raw && mechanism == MechanismKind::RsaPkcs {
            return pkcs1::unpad_type2(&block)
                .map(Zeroizing::new)
                .map_err(|_| TokenError::EncryptedDataInvalid);
        }
        Ok(block)
    }

    /// Encrypts with a public key in software (C_Encrypt, CKM_RSA_PKCS or CKM_RSA_X_509); only
    /// the public key of a decryption key (objects.md §6: refused for the signature key).
    pub fn encrypt(
        &self,
        key: &ObjectId,
        mechanism: MechanismKind,
        data: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let pk = self.public_key(key).ok_or(TokenError::ObjectNotFound)?;
        if !pk.encrypt {
            return Err(TokenError::KeyFunctionNotPermitted(
                "this public key is not for encryption",
            ));
        }
        match mechanism {
            MechanismKind::RsaPkcs => Ok(pk.key.encrypt_pkcs1(data)?),
            MechanismKind::RsaX509 => {
                let k = pk.key.size();
                if data.len() > k {
                    return Err(TokenError::DataLenRange {
                        len: data.len(),
                        max: k,
                    });
                }
                let mut block = vec![0u8; k - data.len()];
                block.extend_from_slice(data);
                // the raw public operation: RSA is its own inverse up to the exponent
                pk.key
                    .raw_public(&block)
                    .map_err(|_| TokenError::DataInvalid("the input is not below the modulus"))
            }
            m => Err(TokenError::MechanismInvalid(format!(
                "{m} does not encrypt"
            ))),
        }
    }

    /// Verifies a signature with a public key (or a private key's certificate) in software
    /// (C_Verify). Hash-and-sign mechanisms take the message.
    pub fn verify(
        &self,
        key: &ObjectId,
        mechanism: Mechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), TokenError> {
        let pk = match self.public_key(key) {
            Some(p) => p.key.clone(),
            None => self
                .key(key)?
                .public_key
                .clone()
                .ok_or(TokenError::NoCertificate)?,
        };
        let hashed = |h: HashAlg| {
            let mut hasher = Hasher::new(h);
            hasher.update(data);
            hasher.finish()
        };
        let ok = match mechanism {
            Mechanism::RsaPkcs => pk.verify_pkcs1(data, signature).is_ok(),
            Mechanism::RsaX509 => {
                let k = pk.size();
                let mut block = vec![0u8; k.saturating_sub(data.len())];
                block.extend_from_slice(data);
                pk.raw_public(signature).is_ok_and(|m| m == block)
            }
            Mechanism::RsaPkcsPss(p) => {
                let m_hash = data;
                let em = pk.raw_public(signature);
                em.is_ok_and(|em| {
                    pss::verify(m_hash, &em, pk.bits(), p.hash, p.mgf_hash, Some(p.salt_len))
                        .is_ok()
                })
            }
            m => {
                let h = m
                    .kind()
                    .message_hash()
                    .ok_or(TokenError::MechanismInvalid(m.to_string()))?;
                match m.pss_params() {
                    Some(p) => pk
                        .verify_pss(&hashed(h), signature, p.hash, p.mgf_hash, Some(p.salt_len))
                        .is_ok(),
                    None => pk
                        .verify_pkcs1(&h.digest_info(&hashed(h)), signature)
                        .is_ok(),
                }
            }
        };
        if ok {
            Ok(())
        } else {
            Err(TokenError::SignatureInvalid)
        }
    }

    /// Random bytes from the card (GET CHALLENGE, C_GenerateRandom).
    pub fn generate_random(&mut self, len: usize) -> Result<Vec<u8>, TokenError> {
        self.card(|d| d.get_challenge(len))
    }
}
