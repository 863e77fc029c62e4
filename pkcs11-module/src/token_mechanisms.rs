//! PKCS#11 mechanisms ↔ `cpscard::sign` mechanisms (objects.md §6): the token's list with
//! true key sizes and flags, and a `CK_MECHANISM` with its `CK_RSA_PKCS_PSS_PARAMS` turned
//! into a checked [`cpscard::sign::Mechanism`].

use cpscard::crypto::{HashAlg, PssParams};
use cpscard::sign::{Mechanism as SignMechanism, MechanismInfo, MechanismKind};
use cryptoki_sys::*;

use crate::backend::{Mechanism, MechanismDescription, MechanismParam};
use crate::digest;
use crate::error::{Error, Result};

/// The `CK_MECHANISM_TYPE` of a mechanism kind.
pub fn ckm(kind: MechanismKind) -> CK_MECHANISM_TYPE {
    kind.ckm() as CK_MECHANISM_TYPE
}

/// The kind of a `CK_MECHANISM_TYPE`, or `CKR_MECHANISM_INVALID`.
#[allow(clippy::useless_conversion)] // CK_ULONG is u32 on Windows
pub fn kind(mechanism: CK_MECHANISM_TYPE) -> Result<MechanismKind> {
    MechanismKind::from_ckm(u64::from(mechanism)).ok_or(Error::MechanismInvalid)
}

/// One entry of `C_GetMechanismInfo`: the token's own list says what each mechanism does with
/// which key (objects.md §6 "recommended lists"); key sizes are the keys' true sizes.
pub fn description(m: &MechanismInfo) -> MechanismDescription {
    let mut flags = 0;
    for (on, flag) in [
        (m.hardware, CKF_HW),
        (m.sign, CKF_SIGN),
        (m.verify, CKF_VERIFY),
        (m.encrypt, CKF_ENCRYPT),
        (m.decrypt, CKF_DECRYPT),
    ] {
        if on {
            flags |= flag;
        }
    }
    MechanismDescription {
        mechanism: ckm(m.kind),
        min_key_bits: CK_ULONG::try_from(m.min_key_bits).unwrap_or(0),
        max_key_bits: CK_ULONG::try_from(m.max_key_bits).unwrap_or(0),
        flags,
    }
}

/// The hash of an MGF1 (`CKG_MGF1_*`), or `CKR_MECHANISM_PARAM_INVALID`.
fn mgf_hash(mgf: CK_RSA_PKCS_MGF_TYPE) -> Result<HashAlg> {
    Ok(match mgf {
        CKG_MGF1_SHA1 => HashAlg::Sha1,
        CKG_MGF1_SHA256 => HashAlg::Sha256,
        CKG_MGF1_SHA384 => HashAlg::Sha384,
        CKG_MGF1_SHA512 => HashAlg::Sha512,
        _ => return Err(Error::MechanismParamInvalid),
    })
}

/// A signing mechanism with its checked parameters (PKCS#11 3.0 mechanisms §2.1.14):
/// `hashAlg` and the MGF must be hashes we know, `sLen` a size; whether they fit the
/// mechanism and the key is the token's to judge (`TokenError::MechanismParamInvalid`).
/// Mechanisms without parameters refuse one.
pub fn sign_mechanism(m: &Mechanism) -> Result<SignMechanism> {
    let k = kind(m.kind)?;
    let params = match (&m.param, k.is_pss()) {
        (
            MechanismParam::Pss {
                hash,
                mgf,
                salt_len,
            },
            true,
        ) => Some(PssParams {
            hash: digest::hash_alg(*hash).map_err(|_| Error::MechanismParamInvalid)?,
            mgf_hash: mgf_hash(*mgf)?,
            salt_len: usize::try_from(*salt_len).map_err(|_| Error::MechanismParamInvalid)?,
        }),
        (MechanismParam::None, false) => None,
        _ => return Err(Error::MechanismParamInvalid),
    };
    SignMechanism::new(k, params).ok_or(Error::MechanismParamInvalid)
}

/// An encryption/decryption mechanism: CKM_RSA_PKCS or CKM_RSA_X_509, without parameters.
pub fn cipher_kind(m: &Mechanism) -> Result<MechanismKind> {
    let k = kind(m.kind)?;
    if !matches!(k, MechanismKind::RsaPkcs | MechanismKind::RsaX509) {
        return Err(Error::MechanismInvalid);
    }
    if m.param != MechanismParam::None {
        return Err(Error::MechanismParamInvalid);
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pss(
        kind: CK_MECHANISM_TYPE,
        hash: CK_MECHANISM_TYPE,
        mgf: CK_ULONG,
        salt: CK_ULONG,
    ) -> Mechanism {
        Mechanism {
            kind,
            param: MechanismParam::Pss {
                hash,
                mgf,
                salt_len: salt,
            },
        }
    }

    #[test]
    fn pss_parameters_are_read_and_checked() {
        let m = sign_mechanism(&pss(
            CKM_SHA256_RSA_PKCS_PSS,
            CKM_SHA256,
            CKG_MGF1_SHA256,
            32,
        ))
        .unwrap();
        assert_eq!(m, SignMechanism::pss_of(HashAlg::Sha256));
        let m = sign_mechanism(&pss(CKM_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA256, 0)).unwrap();
        assert_eq!(
            m.pss_params(),
            Some(PssParams {
                hash: HashAlg::Sha1,
                mgf_hash: HashAlg::Sha256,
                salt_len: 0
            })
        );
        for bad in [
            pss(CKM_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA256, 32),
            pss(CKM_RSA_PKCS_PSS, CKM_MD5, CKG_MGF1_SHA256, 32),
            pss(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA224, 32),
            pss(CKM_RSA_PKCS_PSS, CKM_SHA256, 0x77, 32),
        ] {
            assert_eq!(sign_mechanism(&bad), Err(Error::MechanismParamInvalid));
        }
        // A parameter where none belongs, none where one is needed.
        let with = Mechanism {
            kind: CKM_SHA256_RSA_PKCS,
            param: MechanismParam::Raw(vec![1]),
        };
        assert_eq!(sign_mechanism(&with), Err(Error::MechanismParamInvalid));
        let without = Mechanism {
            kind: CKM_RSA_PKCS_PSS,
            param: MechanismParam::None,
        };
        assert_eq!(sign_mechanism(&without), Err(Error::MechanismParamInvalid));
        let unknown = Mechanism {
            kind: CKM_MD5_RSA_PKCS,
            param: MechanismParam::None,
        };
        assert_eq!(sign_mechanism(&unknown), Err(Error::MechanismInvalid));
    }

    #[test]
    fn cipher_mechanisms() {
        let m = |kind, param| Mechanism { kind, param };
        assert_eq!(
            cipher_kind(&m(CKM_RSA_PKCS, MechanismParam::None)),
            Ok(MechanismKind::RsaPkcs)
        );
        assert_eq!(
            cipher_kind(&m(CKM_RSA_X_509, MechanismParam::None)),
            Ok(MechanismKind::RsaX509)
        );
        assert_eq!(
            cipher_kind(&m(CKM_SHA256_RSA_PKCS, MechanismParam::None)),
            Err(Error::MechanismInvalid)
        );
        assert_eq!(
            cipher_kind(&m(CKM_RSA_PKCS, MechanismParam::Raw(vec![0]))),
            Err(Error::MechanismParamInvalid)
        );
    }

    #[test]
    fn flags_follow_the_token() {
        let d = description(&MechanismInfo {
            kind: MechanismKind::RsaPkcs,
            min_key_bits: 2048,
            max_key_bits: 2048,
            sign: true,
            decrypt: true,
            verify: true,
            encrypt: true,
            hardware: true,
        });
        assert_eq!(d.mechanism, CKM_RSA_PKCS);
        assert_eq!((d.min_key_bits, d.max_key_bits), (2048, 2048));
        assert_eq!(
            d.flags,
            CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT
        );
    }
}
