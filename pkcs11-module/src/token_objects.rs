//! The token's objects as PKCS#11 attribute sets (objects.md §3-§5), built once per token from
//! what `cpscard::token::Token` read when it opened (no APDU here).
//!
//! Order, as the vendor's module lists them (cryptolib-reference.md): for each private key its
//! key, certificate and public key; then certificates without a key; then the data objects,
//! the PIN-protected ones first.

use cpscard::token::{Certificate, DataObjectInfo, PrivateKey, PublicKeyObject, Token};
use cryptoki_sys::*;

use crate::backend::{Attribute, ObjectEntry};
use crate::token_mechanisms::ckm;

/// Every object of `token`, in listing order.
pub fn build(token: &Token) -> Vec<ObjectEntry> {
    let mut out = Vec::new();
    let mut done_certs = Vec::new();
    for key in token.private_keys() {
        out.push(private_key(key, token.certificate_of(key)));
        if let Some(cert) = token.certificate_of(key) {
            out.push(certificate(cert));
            done_certs.push(cert.id.clone());
            if let Some(pk) =
                token.public_key(&cpscard::token::ObjectId::PublicKey(cert.pkcs15_id.clone()))
            {
                out.push(public_key(pk, cert));
            }
        }
    }
    for cert in token.certificates() {
        if done_certs.contains(&cert.id) {
            continue;
        }
        out.push(certificate(cert));
        if let Some(pk) =
            token.public_key(&cpscard::token::ObjectId::PublicKey(cert.pkcs15_id.clone()))
        {
            out.push(public_key(pk, cert));
        }
    }
    let (private, public): (Vec<_>, Vec<_>) = token.data_objects().iter().partition(|d| d.private);
    out.extend(private.into_iter().chain(public).map(data_object));
    out
}

/// Attributes every token object has (PKCS#11 3.0 §4.4): on the card, not modifiable, not
/// copyable, not destroyable.
fn storage(class: CK_OBJECT_CLASS, private: bool, modifiable: bool, label: &str) -> Vec<Attribute> {
    vec![
        Attribute::ulong(CKA_CLASS, class),
        Attribute::bool(CKA_TOKEN, true),
        Attribute::bool(CKA_PRIVATE, private),
        Attribute::bool(CKA_MODIFIABLE, modifiable),
        Attribute::bool(CKA_COPYABLE, false),
        Attribute::bool(CKA_DESTROYABLE, false),
        Attribute::bytes(CKA_LABEL, label.as_bytes().to_vec()),
    ]
}

/// A CA certificate's CKA_ID is `00` (objects.md §4.4); the others share their key's.
fn cert_id(cert: &Certificate) -> Vec<u8> {
    if cert.authority {
        vec![0x00]
    } else {
        cert.pkcs15_id.as_bytes().to_vec()
    }
}

/// objects.md §4.4, plus what NSS and OpenSSL read (category, check value, dates).
pub fn certificate(cert: &Certificate) -> ObjectEntry {
    let p = &cert.parsed;
    let mut a = storage(CKO_CERTIFICATE, false, false, &cert.label);
    let check = cpscard::crypto::HashAlg::Sha1.digest(&p.der);
    a.extend([
        Attribute::bytes(CKA_ID, cert_id(cert)),
        Attribute::ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
        // PKCS#11 3.0 §4.6.2: 1 = token user, 2 = authority.
        Attribute::ulong(CKA_CERTIFICATE_CATEGORY, if cert.authority { 2 } else { 1 }),
        Attribute::bool(CKA_TRUSTED, cert.authority),
        Attribute::bytes(CKA_CHECK_VALUE, check[..3].to_vec()),
        Attribute::bytes(CKA_START_DATE, date(p.validity.not_before).to_vec()),
        Attribute::bytes(CKA_END_DATE, date(p.validity.not_after).to_vec()),
        Attribute::bytes(CKA_VALUE, p.der.clone()),
        Attribute::bytes(CKA_SUBJECT, p.subject_der.clone()),
        Attribute::bytes(CKA_ISSUER, p.issuer_der.clone()),
        Attribute::bytes(CKA_SERIAL_NUMBER, p.serial_der.clone()),
        Attribute::bytes(CKA_PUBLIC_KEY_INFO, p.spki_der.clone()),
        Attribute::bytes(CKA_URL, Vec::new()),
        Attribute::bytes(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, Vec::new()),
        Attribute::bytes(CKA_HASH_OF_ISSUER_PUBLIC_KEY, Vec::new()),
        Attribute::ulong(CKA_JAVA_MIDP_SECURITY_DOMAIN, 0),
    ]);
    ObjectEntry {
        key: cert.id.key(),
        attributes: a,
    }
}

/// `CK_DATE` (`YYYYMMDD`) of a Unix time.
fn date(secs: i64) -> [u8; 8] {
    cpscard::token::Date::from_unix(secs).ck_date()
}

/// Attributes of every key (PKCS#11 3.0 §4.7): on-card keys, generated there (`CKA_LOCAL`).
fn key_common(id: &[u8], subject: &[u8], mechanisms: &[CK_MECHANISM_TYPE]) -> Vec<Attribute> {
    let mut allowed = Vec::with_capacity(std::mem::size_of_val(mechanisms));
    for m in mechanisms {
        allowed.extend_from_slice(&m.to_ne_bytes());
    }
    vec![
        Attribute::ulong(CKA_KEY_TYPE, CKK_RSA),
        Attribute::bytes(CKA_ID, id.to_vec()),
        Attribute::bytes(CKA_START_DATE, Vec::new()),
        Attribute::bytes(CKA_END_DATE, Vec::new()),
        Attribute::bool(CKA_DERIVE, false),
        Attribute::bool(CKA_LOCAL, true),
        Attribute::ulong(CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION),
        Attribute::bytes(CKA_ALLOWED_MECHANISMS, allowed),
        Attribute::bytes(CKA_SUBJECT, subject.to_vec()),
    ]
}

/// objects.md §4.2: never extractable, sensitive; usage from the PKCS#15 usage bits; no
/// CPS key needs a context-specific login (`CKA_ALWAYS_AUTHENTICATE` FALSE).
pub fn private_key(key: &PrivateKey, cert: Option<&Certificate>) -> ObjectEntry {
    let mut a = storage(CKO_PRIVATE_KEY, key.private, false, &key.label);
    let mechanisms: Vec<CK_MECHANISM_TYPE> = key.mechanisms().iter().map(|m| ckm(m.kind)).collect();
    let can = |pred: fn(&cpscard::sign::MechanismInfo) -> bool| key.mechanisms().iter().any(pred);
    a.extend(key_common(key.pkcs15_id.as_bytes(), &[], &mechanisms));
    a.extend([
        Attribute::bool(CKA_SENSITIVE, true),
        Attribute::bool(CKA_ALWAYS_SENSITIVE, true),
        Attribute::bool(CKA_EXTRACTABLE, false),
        Attribute::bool(CKA_NEVER_EXTRACTABLE, true),
        Attribute::bool(CKA_SIGN, key.usage.sign && can(|m| m.sign)),
        Attribute::bool(CKA_SIGN_RECOVER, false),
        Attribute::bool(CKA_DECRYPT, key.usage.decrypt && can(|m| m.decrypt)),
        // C_UnwrapKey is not offered (objects.md §6): no key can unwrap through this module.
        Attribute::bool(CKA_UNWRAP, false),
        Attribute::bool(CKA_WRAP_WITH_TRUSTED, false),
        Attribute::bool(CKA_ALWAYS_AUTHENTICATE, false),
        Attribute::bytes(CKA_MODULUS, key.modulus.clone()),
        Attribute::bytes(CKA_PUBLIC_EXPONENT, key.public_exponent.clone()),
        Attribute::ulong(CKA_MODULUS_BITS, CK_ULONG::try_from(key.bits).unwrap_or(0)),
        Attribute::sensitive(CKA_PRIVATE_EXPONENT),
        Attribute::sensitive(CKA_PRIME_1),
        Attribute::sensitive(CKA_PRIME_2),
        Attribute::sensitive(CKA_EXPONENT_1),
        Attribute::sensitive(CKA_EXPONENT_2),
        Attribute::sensitive(CKA_COEFFICIENT),
    ]);
    if let Some(cert) = cert {
        a.push(Attribute::bytes(
            CKA_PUBLIC_KEY_INFO,
            cert.parsed.spki_der.clone(),
        ));
    }
    ObjectEntry {
        key: key.id.key(),
        attributes: a,
    }
}

/// objects.md §4.3: derived from the certificate; verifies, and encrypts only when its
/// private key decrypts (the signature key's refuses, by CKA_ID rather than by label).
pub fn public_key(pk: &PublicKeyObject, cert: &Certificate) -> ObjectEntry {
    let mut a = storage(CKO_PUBLIC_KEY, false, false, &pk.label);
    a.extend(key_common(
        pk.pkcs15_id.as_bytes(),
        &cert.parsed.subject_der,
        &[],
    ));
    // Public keys take any listed mechanism in software: no CKA_ALLOWED_MECHANISMS.
    a.retain(|x| x.kind != CKA_ALLOWED_MECHANISMS);
    a.extend([
        Attribute::bool(CKA_ENCRYPT, pk.encrypt),
        Attribute::bool(CKA_VERIFY, pk.verify),
        Attribute::bool(CKA_VERIFY_RECOVER, false),
        Attribute::bool(CKA_WRAP, false),
        Attribute::bool(CKA_TRUSTED, false),
        Attribute::bytes(CKA_MODULUS, pk.modulus.clone()),
        Attribute::bytes(CKA_PUBLIC_EXPONENT, pk.public_exponent.clone()),
        Attribute::ulong(CKA_MODULUS_BITS, CK_ULONG::try_from(pk.bits).unwrap_or(0)),
        Attribute::bytes(CKA_PUBLIC_KEY_INFO, pk.spki_der.clone()),
    ]);
    if let Some(rsa) = rsa_public_key(&pk.spki_der) {
        a.push(Attribute::bytes(CKA_VALUE, rsa.to_vec()));
    }
    ObjectEntry {
        key: pk.id.key(),
        attributes: a,
    }
}

/// objects.md §5: the value is read from the card when asked (its size from the FCP);
/// no CKA_ID, no CKA_OBJECT_ID (the original's is not DER: left out).
pub fn data_object(d: &DataObjectInfo) -> ObjectEntry {
    let mut a = storage(CKO_DATA, d.private, d.modifiable, &d.label);
    a.extend([
        Attribute::bytes(CKA_APPLICATION, d.application.as_bytes().to_vec()),
        Attribute::deferred(CKA_VALUE, None),
    ]);
    ObjectEntry {
        key: d.id.key(),
        attributes: a,
    }
}

/// The `RSAPublicKey` (RFC 8017 A.1.1) inside a DER SubjectPublicKeyInfo: the content of its
/// BIT STRING after the unused-bits octet (what OpenSC-based modules give as the public key's
/// CKA_VALUE).
fn rsa_public_key(spki: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = tlv(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (alg_tag, _, rest) = tlv(body)?;
    if alg_tag != 0x30 {
        return None;
    }
    let (bits_tag, bits, _) = tlv(rest)?;
    match bits.split_first() {
        Some((0, key)) if bits_tag == 0x03 => Some(key),
        _ => None,
    }
}

/// One DER TLV: (tag, content, what follows). Definite lengths up to 4 octets.
fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_public_key_of_an_spki() {
        // SEQ { SEQ { OID rsaEncryption, NULL }, BIT STRING 00 || SEQ { INT 5, INT 3 } }
        let spki = hex::decode("301a300d06092a864886f70d01010105000309003006020105020103").unwrap();
        assert_eq!(
            rsa_public_key(&spki),
            Some(&hex::decode("3006020105020103").unwrap()[..])
        );
        assert_eq!(rsa_public_key(&spki[..10]), None);
        assert_eq!(rsa_public_key(&[0x31, 0x00]), None);
    }
}
