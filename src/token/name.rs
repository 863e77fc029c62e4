//! X.509 names read from DER, every attribute of every RDN kept (objects.md §8: the holder's
//! `SN + GN + CN` is one multi-valued RDN, whose attribute order varies between encoders).

use x509_parser::x509::X509Name;

/// Attribute type OIDs of the names on CPS certificates (X.520).
pub mod oid {
    pub const COMMON_NAME: &str = "2.5.4.3";
    pub const SURNAME: &str = "2.5.4.4";
    pub const SERIAL_NUMBER: &str = "2.5.4.5";
    pub const COUNTRY: &str = "2.5.4.6";
    pub const ORGANIZATION: &str = "2.5.4.10";
    pub const ORGANIZATIONAL_UNIT: &str = "2.5.4.11";
    pub const TITLE: &str = "2.5.4.12";
    pub const GIVEN_NAME: &str = "2.5.4.42";
    pub const PSEUDONYM: &str = "2.5.4.65";
}

/// One attribute: its type (dotted OID) and its value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttribute {
    pub oid: String,
    pub value: String,
}

/// A distinguished name: its RDNs in encoding order, each with all its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    pub rdns: Vec<Vec<NameAttribute>>,
}

impl DistinguishedName {
    /// Reads every RDN of a parsed name. Values in UTF8String, PrintableString, IA5String,
    /// NumericString, BMPString (UTF-16BE) or TeletexString (taken as Latin-1) become text.
    pub fn from_x509(name: &X509Name<'_>) -> Self {
        let rdns = name
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| NameAttribute {
                        oid: a.attr_type().to_id_string(),
                        value: attribute_text(a),
                    })
                    .collect()
            })
            .collect();
        DistinguishedName { rdns }
    }

    /// Every value of attribute `oid`, in encoding order.
    pub fn all(&self, oid: &str) -> impl Iterator<Item = &str> {
        let oid = oid.to_owned();
        self.rdns
            .iter()
            .flatten()
            .filter(move |a| a.oid == oid)
            .map(|a| a.value.as_str())
    }

    /// The first value of attribute `oid`.
    pub fn first(&self, oid: &str) -> Option<&str> {
        self.all(oid).next()
    }

    /// An RFC 4514-like rendering, last RDN first (`+` joins a multi-valued RDN).
    pub fn to_rfc4514(&self) -> String {
        self.rdns
            .iter()
            .rev()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| format!("{}={}", short_name(&a.oid), a.value))
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn short_name(oid: &str) -> &str {
    match oid {
        oid::COMMON_NAME => "CN",
        oid::SURNAME => "SN",
        oid::SERIAL_NUMBER => "serialNumber",
        oid::COUNTRY => "C",
        oid::ORGANIZATION => "O",
        oid::ORGANIZATIONAL_UNIT => "OU",
        oid::TITLE => "title",
        oid::GIVEN_NAME => "GN",
        oid::PSEUDONYM => "pseudonym",
        other => other,
    }
}

fn attribute_text(a: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    if let Ok(s) = a.as_str() {
        return s.to_owned();
    }
    let any = a.attr_value();
    let data = any.as_bytes();
    match any.tag().0 {
        // BMPString
        30 => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // TeletexString / T61String: Latin-1 in practice
        20 => data.iter().map(|&b| b as char).collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}
