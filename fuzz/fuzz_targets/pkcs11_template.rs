//! The module's attribute templates (`cps_pkcs11::template`, PKCS#11 3.0 §5.7): a fuzzed
//! object (ready, sensitive and deferred attributes) and a fuzzed `C_GetAttributeValue`
//! template over buffers of fuzzed sizes. `get_values` never writes past `ulValueLen`, gives
//! every entry its rule-1..5 outcome and the right CKR by precedence; `copy_search` +
//! `matches` agree with a plain comparison.
//!
//! Input: `n_attrs` then per attribute `type kind len value…`; then `n_entries` then per entry
//! `type buflen` (`FF`: NULL pValue); a last byte of flags: deferred reads fail (bit 0), size
//! queries of deferred values of unknown length are answered (bit 1) or fail (bit 2).
#![no_main]
use cps_pkcs11::backend::{Attribute, AttributeValue, ObjectEntry};
use cps_pkcs11::error::Error;
use cps_pkcs11::template::{copy_search, get_values, matches};
use cryptoki_sys::{
    CKA_CLASS, CKA_ID, CKA_LABEL, CKA_PRIVATE_EXPONENT, CKA_SUBJECT, CKA_VALUE, CK_ATTRIBUTE,
    CK_ATTRIBUTE_TYPE, CK_ULONG, CK_UNAVAILABLE_INFORMATION,
};
use libfuzzer_sys::fuzz_target;

/// A few real types and one no object has, so that lookups both hit and miss.
const TYPES: [CK_ATTRIBUTE_TYPE; 7] = [
    CKA_CLASS,
    CKA_LABEL,
    CKA_VALUE,
    CKA_ID,
    CKA_SUBJECT,
    CKA_PRIVATE_EXPONENT,
    0x7fff_0000,
];
const GUARD: usize = 16;
const CANARY: u8 = 0xCC;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        b.to_vec()
    }
}

/// The value `read` gives for a deferred attribute (its bytes are kept beside the object).
fn value_of(values: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)], kind: CK_ATTRIBUTE_TYPE) -> Vec<u8> {
    values
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(n_attrs) = input.byte() else {
        return;
    };
    let mut attributes = Vec::new();
    let mut deferred = Vec::new();
    for _ in 0..n_attrs % 8 {
        let (Some(t), Some(kind), Some(len)) = (input.byte(), input.byte(), input.byte()) else {
            return;
        };
        let t = TYPES[t as usize % TYPES.len()];
        let value = input.bytes(len as usize);
        attributes.push(match kind % 4 {
            0 => Attribute::bytes(t, value),
            1 => Attribute::sensitive(t),
            k => {
                let len = (k == 2).then_some(value.len());
                deferred.push((t, value));
                Attribute::deferred(t, len)
            }
        });
    }
    let object = ObjectEntry { key: 1, attributes };
    let Some(n_entries) = input.byte() else {
        return;
    };
    let mut buffers: Vec<Option<Vec<u8>>> = Vec::new();
    let mut types = Vec::new();
    for _ in 0..n_entries % 8 {
        let (Some(t), Some(len)) = (input.byte(), input.byte()) else {
            return;
        };
        types.push(TYPES[t as usize % TYPES.len()]);
        buffers.push((len != 0xFF).then(|| vec![CANARY; len as usize + GUARD]));
    }
    let flags = input.byte().unwrap_or(0);
    let (read_fails, size_knows, size_fails) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
    let mut template: Vec<CK_ATTRIBUTE> = types
        .iter()
        .zip(buffers.iter_mut())
        .map(|(t, b)| CK_ATTRIBUTE {
            type_: *t,
            pValue: match b {
                Some(b) => b.as_mut_ptr().cast(),
                None => std::ptr::null_mut(),
            },
            ulValueLen: b.as_ref().map_or(0, |b| (b.len() - GUARD) as CK_ULONG),
        })
        .collect();
    let read = |k: CK_ATTRIBUTE_TYPE| {
        if read_fails {
            Err(Error::DeviceError("fuzzed read failure".into()))
        } else {
            Ok(value_of(&deferred, k))
        }
    };
    let size = |k: CK_ATTRIBUTE_TYPE| {
        if size_fails {
            Err(Error::DeviceError("fuzzed size failure".into()))
        } else {
            Ok(size_knows.then(|| value_of(&deferred, k).len()))
        }
    };
    // SAFETY: every pValue is NULL or points to a live buffer of at least ulValueLen bytes.
    let r = unsafe { get_values(&object, &mut template, read, size) };

    let (mut sensitive, mut invalid, mut small) = (false, false, false);
    let mut failed: Option<&str> = None;
    for ((entry, buf), t) in template.iter().zip(&buffers).zip(&types) {
        if let Some(b) = buf {
            let declared = b.len() - GUARD;
            assert!(
                b[declared..].iter().all(|c| *c == CANARY),
                "write past ulValueLen"
            );
        }
        if failed.is_some() {
            continue; // entries after a failed read are left as they were
        }
        let value = match object.get(*t) {
            None => {
                assert_eq!(entry.ulValueLen, CK_UNAVAILABLE_INFORMATION);
                invalid = true;
                continue;
            }
            Some(AttributeValue::Sensitive) => {
                assert_eq!(entry.ulValueLen, CK_UNAVAILABLE_INFORMATION);
                sensitive = true;
                continue;
            }
            Some(AttributeValue::Bytes(v)) => v.clone(),
            Some(AttributeValue::Deferred { len: Some(n) }) if buf.is_none() => {
                assert_eq!(
                    entry.ulValueLen, *n as CK_ULONG,
                    "size from the known length"
                );
                continue;
            }
            Some(AttributeValue::Deferred { len: None }) if buf.is_none() && size_fails => {
                failed = Some("fuzzed size failure");
                continue;
            }
            Some(AttributeValue::Deferred { len: None }) if buf.is_none() && size_knows => {
                let n = value_of(&deferred, *t).len();
                assert_eq!(entry.ulValueLen, n as CK_ULONG, "size from the backend");
                continue;
            }
            Some(AttributeValue::Deferred { .. }) if read_fails => {
                failed = Some("fuzzed read failure");
                continue;
            }
            Some(AttributeValue::Deferred { .. }) => value_of(&deferred, *t),
        };
        match buf {
            None => assert_eq!(entry.ulValueLen, value.len() as CK_ULONG),
            Some(b) if b.len() - GUARD >= value.len() => {
                assert_eq!(entry.ulValueLen, value.len() as CK_ULONG);
                assert_eq!(&b[..value.len()], &value[..]);
                assert!(
                    b[value.len()..].iter().all(|c| *c == CANARY),
                    "bytes past the value"
                );
            }
            Some(b) => {
                assert_eq!(entry.ulValueLen, CK_UNAVAILABLE_INFORMATION);
                assert!(
                    b.iter().all(|c| *c == CANARY),
                    "a too small buffer was written"
                );
                small = true;
            }
        }
    }
    let expected = if let Some(why) = failed {
        Err(Error::DeviceError(why.into()))
    } else if sensitive {
        Err(Error::AttributeSensitive)
    } else if invalid {
        Err(Error::AttributeTypeInvalid)
    } else if small {
        Err(Error::BufferTooSmall)
    } else {
        Ok(())
    };
    assert_eq!(r, expected);

    // C_FindObjects: the template just filled (its ready values) as a search template
    let search_attrs: Vec<CK_ATTRIBUTE> = template
        .iter()
        .zip(&buffers)
        .filter(|(e, _)| e.ulValueLen != CK_UNAVAILABLE_INFORMATION)
        .map(|(e, b)| CK_ATTRIBUTE {
            type_: e.type_,
            pValue: if b.is_some() {
                e.pValue
            } else {
                std::ptr::null_mut()
            },
            ulValueLen: if b.is_some() { e.ulValueLen } else { 0 },
        })
        .collect();
    // SAFETY: as above; a NULL pValue comes with a zero length.
    let search = unsafe { copy_search(&search_attrs) }.expect("a well-formed search template");
    let found = matches(&object, &search, |k| Ok(value_of(&deferred, k)));
    let plain = search.iter().all(|(k, wanted)| match object.get(*k) {
        None | Some(AttributeValue::Sensitive) => false,
        Some(AttributeValue::Bytes(v)) => v == wanted,
        Some(AttributeValue::Deferred { .. }) => &value_of(&deferred, *k) == wanted,
    });
    assert_eq!(found, Ok(plain));
});
