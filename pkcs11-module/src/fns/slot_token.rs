//! Slot and token management (PKCS#11 3.0 §5.5): C_GetSlotList, C_GetSlotInfo,
//! C_GetTokenInfo, C_WaitForSlotEvent, C_GetMechanismList, C_GetMechanismInfo, C_InitPIN,
//! C_SetPIN. (C_InitToken: `not_supported`, objects.md §6.)

use std::ffi::c_void;
use std::time::Duration;

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::args::{self, ulong};
use crate::backend::{MechanismDescription, Pin, UserType};
use crate::digest;
use crate::error::{Error, Result};
use crate::shim::{ensure, pkcs11_fn};
use crate::slots::{self, TokenSlot};
use crate::state;
use crate::text::{padded, slot_description};
use crate::twocall;

/// How often a blocked `C_WaitForSlotEvent` looks at the readers.
const POLL: Duration = Duration::from_millis(250);

/// Slot IDs for `C_GetSlotList`. `rescan`: look for new readers first (done on the length query,
/// so that both calls of the two-call convention see the same list).
pub fn slot_list(token_present: bool, rescan: bool) -> Result<Vec<CK_SLOT_ID>> {
    if rescan {
        slots::scan(true)?;
    }
    let ids: Vec<CK_SLOT_ID> = state::with(|lib| {
        Ok(lib
            .slots
            .values()
            .filter(|s| s.connected)
            .map(|s| s.id)
            .collect())
    })?;
    if !token_present {
        return Ok(ids);
    }
    let mut present = Vec::new();
    for id in ids {
        if let Err(e) = slots::refresh(id, true) {
            log::debug!("slot {id}: {e}");
        }
        if state::with(|lib| Ok(matches!(lib.slot(id)?.token, TokenSlot::Present(_))))? {
            present.push(id);
        }
    }
    Ok(present)
}

/// `CK_SLOT_INFO` (objects.md §1).
pub fn slot_info(id: CK_SLOT_ID) -> Result<CK_SLOT_INFO> {
    state::with(|lib| lib.slot(id).map(|_| ()))?;
    if let Err(e) = slots::refresh(id, true) {
        log::debug!("slot {id}: {e}");
    }
    state::with(|lib| {
        let slot = lib.slot(id)?;
        let d = &slot.description;
        let mut flags = 0;
        if d.removable {
            flags |= CKF_REMOVABLE_DEVICE;
        }
        if d.hardware {
            flags |= CKF_HW_SLOT;
        }
        if matches!(slot.token, TokenSlot::Present(_)) {
            flags |= CKF_TOKEN_PRESENT;
        }
        Ok(CK_SLOT_INFO {
            slotDescription: slot_description(&d.description),
            manufacturerID: padded(&d.manufacturer),
            flags,
            hardwareVersion: CK_VERSION { major: 0, minor: 0 },
            firmwareVersion: CK_VERSION { major: 0, minor: 0 },
        })
    })
}

/// `CK_TOKEN_INFO` (objects.md §2); the backend re-reads the PIN state.
pub fn token_info(id: CK_SLOT_ID) -> Result<CK_TOKEN_INFO> {
    state::with(|lib| lib.slot(id).map(|_| ()))?;
    slots::refresh(id, true)?;
    let generation = state::with(|lib| Ok(lib.token_in(id)?.generation))?;
    let d = slots::token_io(id, generation, |b| b.info())?;
    let (sessions, rw) = state::with(|lib| {
        let all: Vec<_> = lib.sessions_of(id, generation).map(|(_, s)| s.rw).collect();
        Ok((all.len(), all.iter().filter(|rw| **rw).count()))
    })?;
    Ok(CK_TOKEN_INFO {
        label: padded(&d.label),
        manufacturerID: padded(&d.manufacturer),
        model: padded(&d.model),
        serialNumber: padded(&d.serial_number),
        flags: d.flags,
        ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
        ulSessionCount: ulong(sessions),
        ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
        ulRwSessionCount: ulong(rw),
        ulMaxPinLen: d.max_pin_len,
        ulMinPinLen: d.min_pin_len,
        ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
        hardwareVersion: CK_VERSION { major: 0, minor: 0 },
        firmwareVersion: CK_VERSION { major: 0, minor: 0 },
        utcTime: padded(""),
    })
}

/// The mechanisms of the token in slot `id`: our software digests, then the card's.
pub fn mechanisms(id: CK_SLOT_ID) -> Result<Vec<MechanismDescription>> {
    state::with(|lib| {
        let t = lib.token_in(id)?;
        let mut list: Vec<MechanismDescription> = digest::MECHANISMS
            .iter()
            .map(|m| MechanismDescription {
                mechanism: *m,
                min_key_bits: 0,
                max_key_bits: 0,
                flags: CKF_DIGEST,
            })
            .collect();
        list.extend(
            t.mechanisms
                .iter()
                .filter(|m| !digest::MECHANISMS.contains(&m.mechanism)),
        );
        Ok(list)
    })
}

/// `C_WaitForSlotEvent`: polls the readers in the caller's thread (we create no thread,
/// `CKF_LIBRARY_CANT_CREATE_OS_THREADS` is always honoured) until an event, `CKF_DONT_BLOCK`
/// (`CKR_NO_EVENT`) or `C_Finalize` (`CKR_CRYPTOKI_NOT_INITIALIZED`).
pub fn wait_for_slot_event(dont_block: bool) -> Result<CK_SLOT_ID> {
    let (epoch, sources) = state::with(|lib| Ok((lib.epoch, lib.sources.clone())))?;
    loop {
        poll_slots();
        if let Some(id) = state::wait_event(epoch, None)? {
            return Ok(id);
        }
        if dont_block {
            return Err(Error::NoEvent);
        }
        // Block where a source can (PC/SC status changes), else on the module's own events;
        // at most POLL, so that every source is looked at again.
        let mut waited = false;
        for source in &sources {
            match source.wait(POLL) {
                Ok(true) => {
                    waited = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => log::debug!("slot event wait: {e}"),
            }
        }
        if !waited {
            if let Some(id) = state::wait_event(epoch, Some(POLL))? {
                return Ok(id);
            }
        } else {
            state::with(|_| Ok(()))?;
        }
    }
}

/// One look at every reader and card; changes become slot events.
fn poll_slots() {
    if let Err(e) = slots::scan(true) {
        log::debug!("reader scan: {e}");
    }
    let ids: Vec<CK_SLOT_ID> =
        state::with(|lib| Ok(lib.slots.keys().copied().collect())).unwrap_or_default();
    for id in ids {
        if let Err(e) = slots::refresh(id, true) {
            log::debug!("slot {id}: {e}");
        }
    }
}

/// A PIN argument: NULL (with any length) means "use the protected authentication path".
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub unsafe fn pin_arg(p: *const CK_UTF8CHAR, len: CK_ULONG) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if p.is_null() {
        return Ok(None);
    }
    Ok(Some(Zeroizing::new(args::slice(p, len, "PIN")?.to_vec())))
}

/// Borrows a copied PIN for the backend.
pub fn pin(p: &Option<Zeroizing<Vec<u8>>>) -> Pin<'_> {
    match p {
        Some(v) => Pin::Given(v.as_slice()),
        None => Pin::ProtectedPath,
    }
}

/// `C_InitPIN`: in a R/W session with the SO logged in (objects.md §6: the PUK unblocks).
pub fn init_pin(h: CK_SESSION_HANDLE, new: Option<Zeroizing<Vec<u8>>>) -> Result<()> {
    state::with(|lib| {
        ensure_rw(lib.session(h)?.rw)?;
        match lib.token_of(h)?.login {
            Some(UserType::So) => Ok(()),
            _ => Err(Error::UserNotLoggedIn),
        }
    })?;
    slots::session_io(h, |b| b.init_pin(pin(&new)))
}

/// `C_SetPIN`: in a R/W session, for the user logged in (none: the user PIN).
pub fn set_pin(
    h: CK_SESSION_HANDLE,
    old: Option<Zeroizing<Vec<u8>>>,
    new: Option<Zeroizing<Vec<u8>>>,
) -> Result<()> {
    let user = state::with(|lib| {
        ensure_rw(lib.session(h)?.rw)?;
        Ok(lib.token_of(h)?.login)
    })?;
    slots::session_io(h, |b| b.set_pin(user, pin(&old), pin(&new)))
}

fn ensure_rw(rw: bool) -> Result<()> {
    if rw {
        Ok(())
    } else {
        Err(Error::SessionReadOnly)
    }
}

pkcs11_fn! {
    /// PKCS#11 3.0 §5.5.1 (two-call convention on the slot array).
    fn C_GetSlotList(token_present: CK_BBOOL, p_slot_list: *mut CK_SLOT_ID, pul_count: *mut CK_ULONG) {
        state::with(|_| Ok(()))?;
        ensure(!pul_count.is_null(), "pulCount is NULL")?;
        let list = slot_list(token_present != 0, p_slot_list.is_null())?;
        twocall::write(p_slot_list, pul_count, &list)
    }

    /// PKCS#11 3.0 §5.5.2.
    fn C_GetSlotInfo(slot_id: CK_SLOT_ID, p_info: *mut CK_SLOT_INFO) {
        state::with(|_| Ok(()))?;
        let out = args::output(p_info, "pInfo is NULL")?;
        *out = slot_info(slot_id)?;
        Ok(())
    }

    /// PKCS#11 3.0 §5.5.3.
    fn C_GetTokenInfo(slot_id: CK_SLOT_ID, p_info: *mut CK_TOKEN_INFO) {
        state::with(|_| Ok(()))?;
        let out = args::output(p_info, "pInfo is NULL")?;
        *out = token_info(slot_id)?;
        Ok(())
    }

    /// PKCS#11 3.0 §5.5.4: `pReserved` must be NULL.
    fn C_WaitForSlotEvent(flags: CK_FLAGS, p_slot: *mut CK_SLOT_ID, p_reserved: *mut c_void) {
        state::with(|_| Ok(()))?;
        let out = args::output(p_slot, "pSlot is NULL")?;
        ensure(p_reserved.is_null(), "pReserved must be NULL")?;
        *out = wait_for_slot_event(flags & CKF_DONT_BLOCK != 0)?;
        Ok(())
    }

    /// PKCS#11 3.0 §5.5.5 (two-call convention).
    fn C_GetMechanismList(slot_id: CK_SLOT_ID, p_mechanism_list: *mut CK_MECHANISM_TYPE, pul_count: *mut CK_ULONG) {
        state::with(|_| Ok(()))?;
        ensure(!pul_count.is_null(), "pulCount is NULL")?;
        let list: Vec<CK_MECHANISM_TYPE> = mechanisms(slot_id)?.iter().map(|m| m.mechanism).collect();
        twocall::write(p_mechanism_list, pul_count, &list)
    }

    /// PKCS#11 3.0 §5.5.6.
    fn C_GetMechanismInfo(slot_id: CK_SLOT_ID, mechanism: CK_MECHANISM_TYPE, p_info: *mut CK_MECHANISM_INFO) {
        state::with(|_| Ok(()))?;
        let out = args::output(p_info, "pInfo is NULL")?;
        let m = mechanisms(slot_id)?
            .into_iter()
            .find(|m| m.mechanism == mechanism)
            .ok_or(Error::MechanismInvalid)?;
        *out = CK_MECHANISM_INFO {
            ulMinKeySize: m.min_key_bits,
            ulMaxKeySize: m.max_key_bits,
            flags: m.flags,
        };
        Ok(())
    }

    /// PKCS#11 3.0 §5.5.8.
    fn C_InitPIN(h_session: CK_SESSION_HANDLE, p_pin: *mut CK_UTF8CHAR, ul_pin_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        init_pin(h_session, pin_arg(p_pin, ul_pin_len)?)
    }

    /// PKCS#11 3.0 §5.5.9.
    fn C_SetPIN(
        h_session: CK_SESSION_HANDLE,
        p_old_pin: *mut CK_UTF8CHAR,
        ul_old_len: CK_ULONG,
        p_new_pin: *mut CK_UTF8CHAR,
        ul_new_len: CK_ULONG,
    ) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        set_pin(h_session, pin_arg(p_old_pin, ul_old_len)?, pin_arg(p_new_pin, ul_new_len)?)
    }
}
