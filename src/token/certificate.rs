//! Certificates as the token shows them (objects.md §4.4): the DER, and what PKCS#11 and the
//! holder identity need from it, parsed once with x509-parser.

use super::name::DistinguishedName;
use crate::crypto::PublicKey;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A calendar date (UTC), as PKCS#11 `CK_DATE` wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// The UTC date of a Unix time (civil-from-days, proleptic Gregorian).
    pub fn from_unix(secs: i64) -> Date {
        let days = secs.div_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// `YYYYMMDD` (the 8 ASCII characters of a `CK_DATE`).
    pub fn ck_date(&self) -> [u8; 8] {
        let s = format!("{:04}{:02}{:02}", self.year, self.month, self.day);
        let mut out = [b'0'; 8];
        out.copy_from_slice(&s.as_bytes()[..8]);
        out
    }
}

/// Validity period of a certificate, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// True when `now` (Unix seconds) is past `not_after`.
    pub fn expired_at(&self, now: i64) -> bool {
        now > self.not_after
    }

    /// True when the certificate has expired now.
    pub fn is_expired(&self) -> bool {
        self.expired_at(unix_now())
    }

    /// True when `now` lies within the period.
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What the token keeps of an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    /// The certificate, DER (`CKA_VALUE`).
    pub der: Vec<u8>,
    /// DER of the subject Name (`CKA_SUBJECT`).
    pub subject_der: Vec<u8>,
    /// DER of the issuer Name (`CKA_ISSUER`).
    pub issuer_der: Vec<u8>,
    /// DER of the serialNumber INTEGER, tag and length included (`CKA_SERIAL_NUMBER`).
    pub serial_der: Vec<u8>,
    /// The serial number's content octets (big-endian, as encoded).
    pub serial: Vec<u8>,
    pub subject: DistinguishedName,
    pub issuer: DistinguishedName,
    pub validity: Validity,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// The RSA public key.
    pub public_key: PublicKey,
    /// keyUsage bits present (digitalSignature, nonRepudiation, keyEncipherment...).
    pub key_usage: KeyUsageBits,
}

/// The keyUsage extension (RFC 5280 §4.2.1.3); all false when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsageBits {
    pub present: bool,
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub key_encipherment: bool,
    pub data_encipherment: bool,
}

impl ParsedCertificate {
    /// Parses a DER certificate; the key must be RSA.
    pub fn parse(der: &[u8]) -> Result<Self, String> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            log::debug!(target: "token", "{} bytes after the certificate ignored", rest.len());
        }
        let der = &der[..der.len() - rest.len()];
        let tbs = &cert.tbs_certificate;
        let spki_der = tbs.subject_pki.raw.to_vec();
        let public_key = PublicKey::from_spki_der(&spki_der).map_err(|e| e.to_string())?;
        let serial = tbs.raw_serial().to_vec();
        let mut serial_der = vec![0x02];
        serial_der.extend(der_length(serial.len()));
        serial_der.extend_from_slice(&serial);
        let key_usage = match cert.key_usage() {
            Ok(Some(ku)) => KeyUsageBits {
                present: true,
                digital_signature: ku.value.digital_signature(),
                non_repudiation: ku.value.non_repudiation(),
                key_encipherment: ku.value.key_encipherment(),
                data_encipherment: ku.value.data_encipherment(),
            },
            _ => KeyUsageBits::default(),
        };
        Ok(ParsedCertificate {
            der: der.to_vec(),
            subject_der: tbs.subject.as_raw().to_vec(),
            issuer_der: tbs.issuer.as_raw().to_vec(),
            serial_der,
            serial,
            subject: DistinguishedName::from_x509(&tbs.subject),
            issuer: DistinguishedName::from_x509(&tbs.issuer),
            validity: Validity {
                not_before: tbs.validity.not_before.timestamp(),
                not_after: tbs.validity.not_after.timestamp(),
            },
            spki_der,
            public_key,
            key_usage,
        })
    }
}

/// DER length octets.
fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        vec![len as u8]
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        let mut v = vec![0x80 | bytes.len() as u8];
        v.extend(bytes);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_unix_time() {
        assert_eq!(
            Date::from_unix(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        // 2029-01-01T00:00:00Z, 2024-02-29T12:00:00Z
        assert_eq!(&Date::from_unix(1_861_920_000).ck_date(), b"20290101");
        assert_eq!(&Date::from_unix(1_709_208_000).ck_date(), b"20240229");
        assert_eq!(&Date::from_unix(-86_400).ck_date(), b"19691231");
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_length(16), vec![16]);
        assert_eq!(der_length(200), vec![0x81, 200]);
        assert_eq!(der_length(300), vec![0x82, 1, 44]);
    }
}
