//! Hash algorithms and their DigestInfo encodings (RFC 8017 §9.2 note 1).

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A hash algorithm the signing layer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub const ALL: [HashAlg; 4] = [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The DER prefix of `DigestInfo { AlgorithmIdentifier(hash, NULL), OCTET STRING }` that
    /// precedes the digest (RFC 8017 §9.2, note 1).
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04,
                0x14,
            ],
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }

    /// `DigestInfo(self, digest)` DER bytes. `digest` must have [`HashAlg::output_len`] bytes.
    pub fn digest_info(self, digest: &[u8]) -> Vec<u8> {
        let mut v = self.digest_info_prefix().to_vec();
        v.extend_from_slice(digest);
        v
    }

    /// The DigestInfo prefix with the `NULL` parameters omitted (RFC 8017 §9.2 note 1:
    /// "absent parameters" is also seen, e.g. from some TLS stacks for SHA-1).
    fn digest_info_prefix_without_null(self) -> Vec<u8> {
        let full = self.digest_info_prefix();
        // 30 L 30 l <OID> 05 00 04 h  →  30 L-2 30 l-2 <OID> 04 h
        let mut p = vec![0x30, full[1] - 2, 0x30, full[3] - 2];
        p.extend_from_slice(&full[4..full.len() - 4]);
        p.extend_from_slice(&full[full.len() - 2..]);
        p
    }

    /// Recognises a DigestInfo of a known hash (with or without `NULL` parameters), returning
    /// the hash and the digest.
    pub fn parse_digest_info(input: &[u8]) -> Option<(HashAlg, &[u8])> {
        HashAlg::ALL.into_iter().find_map(|h| {
            [
                h.digest_info_prefix().to_vec(),
                h.digest_info_prefix_without_null(),
            ]
            .into_iter()
            .find_map(|prefix| {
                input
                    .strip_prefix(prefix.as_slice())
                    .filter(|d| d.len() == h.output_len())
            })
            .map(|d| (h, d))
        })
    }

    /// The hash whose output has exactly `len` bytes (a bare hash given to CKM_RSA_PKCS).
    pub fn from_len(len: usize) -> Option<HashAlg> {
        HashAlg::ALL.into_iter().find(|h| h.output_len() == len)
    }
}

/// An incremental hash (multi-part signing).
#[derive(Clone)]
pub enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha1 => Hasher::Sha1(Sha1::new()),
            HashAlg::Sha256 => Hasher::Sha256(Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_prefixes_are_well_formed_der() {
        for h in HashAlg::ALL {
            let di = h.digest_info(&h.digest(b"abc"));
            // outer SEQUENCE length covers the rest
            assert_eq!(di[0], 0x30);
            assert_eq!(di[1] as usize, di.len() - 2);
            // last prefix byte is the OCTET STRING length
            let p = h.digest_info_prefix();
            assert_eq!(p[p.len() - 1] as usize, h.output_len());
            assert_eq!(HashAlg::parse_digest_info(&di), Some((h, &di[p.len()..])));
        }
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            hex::encode(HashAlg::Sha1.digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(HashAlg::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Hasher::new(HashAlg::Sha256);
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), HashAlg::Sha256.digest(b"abc"));
    }

    #[test]
    fn digest_info_without_null_parameters_is_recognised() {
        let d = [9u8; 20];
        let mut no_null = vec![
            0x30, 0x1F, 0x30, 0x07, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x04, 0x14,
        ];
        no_null.extend_from_slice(&d);
        assert_eq!(
            HashAlg::parse_digest_info(&no_null),
            Some((HashAlg::Sha1, &d[..]))
        );
        for h in HashAlg::ALL {
            let mut v = h.digest_info_prefix_without_null();
            assert_eq!(v[1] as usize, v.len() - 2 + h.output_len());
            v.extend(vec![1u8; h.output_len()]);
            assert_eq!(HashAlg::parse_digest_info(&v).map(|x| x.0), Some(h));
        }
    }

    #[test]
    fn digest_info_rejects_near_misses() {
        let mut di = HashAlg::Sha256.digest_info(&[7u8; 32]);
        di.pop();
        assert_eq!(HashAlg::parse_digest_info(&di), None);
        assert_eq!(HashAlg::parse_digest_info(&[7u8; 32]), None);
        assert_eq!(HashAlg::from_len(32), Some(HashAlg::Sha256));
        assert_eq!(HashAlg::from_len(21), None);
    }
}
