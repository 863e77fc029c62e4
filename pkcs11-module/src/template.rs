//! Attribute templates: `C_GetAttributeValue`'s per-attribute rules and `C_FindObjects*`
//! matching (PKCS#11 3.0 §5.7).

use cryptoki_sys::{CK_ATTRIBUTE, CK_ATTRIBUTE_TYPE, CK_UNAVAILABLE_INFORMATION};

use crate::args::ulong;
use crate::backend::{AttributeValue, ObjectEntry};
use crate::error::{Error, Result};

/// Fills `template` from `object` following PKCS#11 3.0 §5.7 C_GetAttributeValue, rules 1-5:
/// sensitive → `CK_UNAVAILABLE_INFORMATION` (`CKR_ATTRIBUTE_SENSITIVE`); absent → the same
/// (`CKR_ATTRIBUTE_TYPE_INVALID`); NULL `pValue` → the length; big enough → the value and its
/// length; too small → `CK_UNAVAILABLE_INFORMATION` (`CKR_BUFFER_TOO_SMALL`). Every entry is
/// processed whatever the others give. `read` fetches deferred values (card I/O); a size query
/// of a deferred value reads nothing when its length is known or `size` can tell it.
///
/// # Safety
/// Each entry's `pValue` is NULL or points to `ulValueLen` writable bytes.
pub unsafe fn get_values(
    object: &ObjectEntry,
    template: &mut [CK_ATTRIBUTE],
    mut read: impl FnMut(CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>>,
    mut size: impl FnMut(CK_ATTRIBUTE_TYPE) -> Result<Option<usize>>,
) -> Result<()> {
    let (mut sensitive, mut invalid, mut small) = (false, false, false);
    for entry in template.iter_mut() {
        let fetched;
        let value: &[u8] = match object.get(entry.type_) {
            None => {
                entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                invalid = true;
                continue;
            }
            Some(AttributeValue::Sensitive) => {
                entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                sensitive = true;
                continue;
            }
            Some(AttributeValue::Deferred { len: Some(len) }) if entry.pValue.is_null() => {
                entry.ulValueLen = ulong(*len);
                continue;
            }
            Some(AttributeValue::Deferred { len: None }) if entry.pValue.is_null() => {
                match size(entry.type_)? {
                    Some(len) => {
                        entry.ulValueLen = ulong(len);
                        continue;
                    }
                    None => {
                        fetched = read(entry.type_)?;
                        &fetched
                    }
                }
            }
            Some(AttributeValue::Deferred { .. }) => {
                fetched = read(entry.type_)?;
                &fetched
            }
            Some(AttributeValue::Bytes(v)) => v,
        };
        if entry.pValue.is_null() {
            entry.ulValueLen = ulong(value.len());
        } else if usize::try_from(entry.ulValueLen).is_ok_and(|n| n >= value.len()) {
            std::ptr::copy_nonoverlapping(value.as_ptr(), entry.pValue.cast::<u8>(), value.len());
            entry.ulValueLen = ulong(value.len());
        } else {
            entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
            small = true;
        }
    }
    if sensitive {
        Err(Error::AttributeSensitive)
    } else if invalid {
        Err(Error::AttributeTypeInvalid)
    } else if small {
        Err(Error::BufferTooSmall)
    } else {
        Ok(())
    }
}

/// A search template copied out of the caller's memory at `C_FindObjectsInit`.
pub type SearchTemplate = Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>;

/// Copies a search template; an entry with a NULL `pValue` and a nonzero length is
/// `CKR_ARGUMENTS_BAD`.
///
/// # Safety
/// Each entry's `pValue` is NULL or points to `ulValueLen` readable bytes.
pub unsafe fn copy_search(template: &[CK_ATTRIBUTE]) -> Result<SearchTemplate> {
    template
        .iter()
        .map(|a| {
            let v = crate::args::slice(
                a.pValue.cast::<u8>().cast_const(),
                a.ulValueLen,
                "template value",
            )?;
            Ok((a.type_, v.to_vec()))
        })
        .collect()
}

/// Whether `object` has every attribute of `template` with exactly that value (byte for byte;
/// `CK_ULONG`/`CK_BBOOL` values are in the caller's native layout on both sides). Sensitive
/// attributes never match; deferred ones are read with `read`.
pub fn matches(
    object: &ObjectEntry,
    template: &SearchTemplate,
    mut read: impl FnMut(CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>>,
) -> Result<bool> {
    for (kind, wanted) in template {
        let ok = match object.get(*kind) {
            None | Some(AttributeValue::Sensitive) => false,
            Some(AttributeValue::Bytes(v)) => v == wanted,
            Some(AttributeValue::Deferred { len }) => {
                if len.is_some_and(|n| n != wanted.len()) {
                    false
                } else {
                    &read(*kind)? == wanted
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Attribute;
    use cryptoki_sys::{CKA_CLASS, CKA_LABEL, CKA_PRIVATE_EXPONENT, CKA_VALUE, CKO_DATA};
    use std::ptr;

    fn object() -> ObjectEntry {
        ObjectEntry {
            key: 1,
            attributes: vec![
                Attribute::ulong(CKA_CLASS, CKO_DATA),
                Attribute::bytes(CKA_LABEL, b"CPS_DATA".to_vec()),
                Attribute::sensitive(CKA_PRIVATE_EXPONENT),
                Attribute::deferred(CKA_VALUE, Some(3)),
            ],
        }
    }

    fn attr(kind: CK_ATTRIBUTE_TYPE, buf: &mut [u8]) -> CK_ATTRIBUTE {
        CK_ATTRIBUTE {
            type_: kind,
            pValue: if buf.is_empty() {
                ptr::null_mut()
            } else {
                buf.as_mut_ptr().cast()
            },
            ulValueLen: ulong(buf.len()),
        }
    }

    #[test]
    fn every_entry_is_processed_and_the_failing_ones_marked() {
        let o = object();
        let mut label = [0u8; 8];
        let mut small = [0u8; 2];
        let mut t = [
            attr(CKA_LABEL, &mut label),
            attr(CKA_PRIVATE_EXPONENT, &mut []),
            attr(0x7fff_0000, &mut []),
            attr(CKA_CLASS, &mut small),
        ];
        let r = unsafe { get_values(&o, &mut t, |_| panic!("no read"), |_| panic!("no size")) };
        assert_eq!(r, Err(Error::AttributeSensitive));
        assert_eq!(&label, b"CPS_DATA");
        assert_eq!(t[0].ulValueLen, 8);
        assert_eq!(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    }

    #[test]
    fn type_invalid_beats_buffer_too_small_and_sizes_are_given() {
        let o = object();
        let mut small = [0u8; 2];
        let mut t = [
            attr(CKA_LABEL, &mut []),
            attr(0x7fff_0000, &mut []),
            attr(CKA_CLASS, &mut small),
        ];
        let r = unsafe { get_values(&o, &mut t, |_| panic!("no read"), |_| panic!("no size")) };
        assert_eq!(r, Err(Error::AttributeTypeInvalid));
        assert_eq!(t[0].ulValueLen, 8);
        let mut t = [attr(CKA_CLASS, &mut small)];
        assert_eq!(
            unsafe { get_values(&o, &mut t, |_| unreachable!(), |_| unreachable!()) },
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn deferred_size_query_does_not_read_but_the_value_does() {
        let o = object();
        let mut t = [attr(CKA_VALUE, &mut [])];
        unsafe {
            get_values(
                &o,
                &mut t,
                |_| panic!("size query must not read"),
                |_| panic!("known length"),
            )
        }
        .unwrap();
        assert_eq!(t[0].ulValueLen, 3);
        let mut buf = [0u8; 3];
        let mut t = [attr(CKA_VALUE, &mut buf)];
        let mut reads = 0;
        unsafe {
            get_values(
                &o,
                &mut t,
                |k| {
                    reads += 1;
                    assert_eq!(k, CKA_VALUE);
                    Ok(vec![7, 8, 9])
                },
                |_| unreachable!(),
            )
        }
        .unwrap();
        assert_eq!((reads, buf), (1, [7, 8, 9]));
    }

    #[test]
    fn deferred_size_query_asks_the_size_before_reading() {
        let mut o = object();
        o.attributes[3] = Attribute::deferred(CKA_VALUE, None);
        let mut t = [attr(CKA_VALUE, &mut [])];
        unsafe {
            get_values(
                &o,
                &mut t,
                |_| panic!("size known: no read"),
                |_| Ok(Some(5)),
            )
        }
        .unwrap();
        assert_eq!(t[0].ulValueLen, 5);
        let mut reads = 0;
        unsafe {
            get_values(
                &o,
                &mut t,
                |_| {
                    reads += 1;
                    Ok(vec![1, 2])
                },
                |_| Ok(None),
            )
        }
        .unwrap();
        assert_eq!((reads, t[0].ulValueLen), (1, 2));
    }

    #[test]
    fn matching() {
        let o = object();
        let class: SearchTemplate = vec![(CKA_CLASS, CKO_DATA.to_ne_bytes().to_vec())];
        assert!(matches(&o, &class, |_| unreachable!()).unwrap());
        let label: SearchTemplate = vec![(CKA_LABEL, b"OTHER".to_vec())];
        assert!(!matches(&o, &label, |_| unreachable!()).unwrap());
        let sens: SearchTemplate = vec![(CKA_PRIVATE_EXPONENT, vec![])];
        assert!(!matches(&o, &sens, |_| unreachable!()).unwrap());
        assert!(matches(&o, &vec![], |_| unreachable!()).unwrap());
        let value: SearchTemplate = vec![(CKA_VALUE, vec![1, 2, 3])];
        assert!(matches(&o, &value, |_| Ok(vec![1, 2, 3])).unwrap());
        let wrong_len: SearchTemplate = vec![(CKA_VALUE, vec![1])];
        assert!(!matches(&o, &wrong_len, |_| unreachable!()).unwrap());
    }
}
