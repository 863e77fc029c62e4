//! Object management (PKCS#11 3.0 §5.7): C_GetAttributeValue, C_SetAttributeValue,
//! C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal. (Creating, copying, destroying objects
//! and C_GetObjectSize: `not_supported`, objects.md §6.)

use std::collections::VecDeque;
use std::sync::Arc;

use cryptoki_sys::*;

use crate::args;
use crate::backend::{ObjectEntry, UserType};
use crate::error::{Error, Result};
use crate::session::FindOp;
use crate::shim::{ensure, pkcs11_fn};
use crate::slots;
use crate::state;
use crate::template::{self, SearchTemplate};

/// Whether session `h` may see `object`: private objects only with the user logged in
/// (PKCS#11 3.0 §4.4), data objects not in a Windows logon process (objects.md §9).
fn visible(object: &ObjectEntry, logged_in: bool, winlogon: bool) -> bool {
    if object.get_bool(CKA_PRIVATE) == Some(true) && !logged_in {
        return false;
    }
    !(winlogon && object.get_ulong(CKA_CLASS) == Some(CKO_DATA))
}

/// (user logged in, Windows logon process) for session `h`.
fn view(h: CK_SESSION_HANDLE) -> Result<(bool, bool)> {
    state::with(|lib| {
        Ok((
            lib.token_of(h)?.login == Some(UserType::User),
            lib.options.winlogon,
        ))
    })
}

/// The object behind `handle` as session `h` sees it, or `CKR_OBJECT_HANDLE_INVALID`.
pub fn object(
    h: CK_SESSION_HANDLE,
    handle: CK_OBJECT_HANDLE,
) -> Result<(Arc<Vec<ObjectEntry>>, usize)> {
    let list = slots::objects(h)?;
    let key = state::with(|lib| lib.object_key(h, handle))?;
    let (logged_in, winlogon) = view(h)?;
    let i = list
        .iter()
        .position(|o| o.key == key && visible(o, logged_in, winlogon))
        .ok_or(Error::ObjectHandleInvalid)?;
    Ok((list, i))
}

/// `C_FindObjectsInit`: the handles of the visible objects matching `search`, computed now.
pub fn find_init(h: CK_SESSION_HANDLE, search: SearchTemplate) -> Result<()> {
    state::with(|lib| match lib.session(h)?.ops.find {
        Some(_) => Err(Error::OperationActive),
        None => Ok(()),
    })?;
    let list = slots::objects(h)?;
    let (logged_in, winlogon) = view(h)?;
    let mut keys = Vec::new();
    for o in list.iter().filter(|o| visible(o, logged_in, winlogon)) {
        let key = o.key;
        if template::matches(o, &search, |kind| {
            slots::session_io(h, |b| b.read_attribute(key, kind))
        })? {
            keys.push(key);
        }
    }
    state::with(|lib| {
        let handles = &mut lib.token_of_mut(h)?.handles;
        let remaining = keys
            .into_iter()
            .map(|k| handles.handle(k))
            .collect::<Result<VecDeque<_>>>()?;
        let s = lib.session_mut(h)?;
        if s.ops.find.is_some() {
            return Err(Error::OperationActive);
        }
        s.ops.find = Some(FindOp { remaining });
        Ok(())
    })
}

/// `C_FindObjects`: up to `max` more handles.
pub fn find_next(h: CK_SESSION_HANDLE, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>> {
    state::with(|lib| {
        let op = lib
            .session_mut(h)?
            .ops
            .find
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        let n = max.min(op.remaining.len());
        Ok(op.remaining.drain(..n).collect())
    })
}

/// `C_FindObjectsFinal`.
pub fn find_final(h: CK_SESSION_HANDLE) -> Result<()> {
    state::with(|lib| {
        lib.session_mut(h)?
            .ops
            .find
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(())
    })
}

/// `C_SetAttributeValue` (objects.md §5: the backend writes CKA_VALUE of CPS_DATA only): a R/W
/// session, a modifiable object.
pub fn set_attributes(
    h: CK_SESSION_HANDLE,
    handle: CK_OBJECT_HANDLE,
    values: SearchTemplate,
) -> Result<()> {
    if !state::with(|lib| Ok(lib.session(h)?.rw))? {
        return Err(Error::SessionReadOnly);
    }
    let (list, i) = object(h, handle)?;
    if list[i].get_bool(CKA_MODIFIABLE) != Some(true) {
        return Err(Error::AttributeReadOnly);
    }
    let key = list[i].key;
    let result = slots::session_io(h, |b| {
        values
            .iter()
            .try_for_each(|(kind, v)| b.write_attribute(key, *kind, v))
    });
    // Values may have changed: read the objects again next time.
    state::with(|lib| {
        if let Ok(t) = lib.token_of_mut(h) {
            t.objects = None;
        }
        Ok(())
    })?;
    result
}

pkcs11_fn! {
    /// PKCS#11 3.0 §5.7.5, with its per-attribute rules ([`template::get_values`]).
    fn C_GetAttributeValue(
        h_session: CK_SESSION_HANDLE,
        h_object: CK_OBJECT_HANDLE,
        p_template: *mut CK_ATTRIBUTE,
        ul_count: CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let t = args::slice_mut(p_template, ul_count, "pTemplate is NULL")?;
        let (list, i) = object(h_session, h_object)?;
        let key = list[i].key;
        template::get_values(
            &list[i],
            t,
            |kind| slots::session_io(h_session, |b| b.read_attribute(key, kind)),
            |kind| slots::session_io(h_session, |b| b.attribute_len(key, kind)),
        )
    }

    /// PKCS#11 3.0 §5.7.6.
    fn C_SetAttributeValue(
        h_session: CK_SESSION_HANDLE,
        h_object: CK_OBJECT_HANDLE,
        p_template: *mut CK_ATTRIBUTE,
        ul_count: CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let t = args::slice(p_template.cast_const(), ul_count, "pTemplate is NULL")?;
        set_attributes(h_session, h_object, template::copy_search(t)?)
    }

    /// PKCS#11 3.0 §5.7.7.
    fn C_FindObjectsInit(h_session: CK_SESSION_HANDLE, p_template: *mut CK_ATTRIBUTE, ul_count: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let t = args::slice(p_template.cast_const(), ul_count, "pTemplate is NULL")?;
        find_init(h_session, template::copy_search(t)?)
    }

    /// PKCS#11 3.0 §5.7.8.
    fn C_FindObjects(
        h_session: CK_SESSION_HANDLE,
        ph_object: *mut CK_OBJECT_HANDLE,
        ul_max_object_count: CK_ULONG,
        pul_object_count: *mut CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        let count = args::output(pul_object_count, "pulObjectCount is NULL")?;
        ensure(!ph_object.is_null() || ul_max_object_count == 0, "phObject is NULL")?;
        let max = usize::try_from(ul_max_object_count).unwrap_or(usize::MAX);
        let found = find_next(h_session, max)?;
        if !found.is_empty() {
            std::ptr::copy_nonoverlapping(found.as_ptr(), ph_object, found.len());
        }
        *count = args::ulong(found.len());
        Ok(())
    }

    /// PKCS#11 3.0 §5.7.9.
    fn C_FindObjectsFinal(h_session: CK_SESSION_HANDLE) {
        find_final(h_session)
    }
}
