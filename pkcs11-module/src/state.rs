//! The library's global state: initialized flag and owning process, slot sources, slots,
//! sessions, pending slot events (DESIGN §4).
//!
//! One mutex guards it, held only for short bookkeeping: card I/O runs under the slot's own lock
//! ([`crate::slots::SlotIo`]), taken either with the global lock released or before it (lock
//! order slot → global, never global → slot), so a 2-second RSA operation never blocks another
//! slot, `C_GetSessionInfo` or `C_Finalize`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use cryptoki_sys::{CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_SLOT_ID, CK_ULONG};

use crate::backend::SlotSource;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::slots::{Slot, TokenRecord, TokenSlot};

/// Options of `C_Initialize` that the library keeps (PKCS#11 3.0 §5.4.1, objects.md §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitOptions {
    /// `CKF_LIBRARY_CANT_CREATE_OS_THREADS`: we create none anyway (slot events are polled in the
    /// caller's thread).
    pub cant_create_threads: bool,
    /// `pReserved` = "winlogonDecrypt": a Windows logon process; data objects are skipped
    /// (objects.md §9).
    pub winlogon: bool,
}

/// Everything that exists between `C_Initialize` and `C_Finalize`.
pub struct Library {
    /// Process that called `C_Initialize`: a forked child sees another pid and must initialize
    /// again (PKCS#11 3.0 §5.4.1 note on fork).
    pid: u32,
    /// Distinguishes initialization cycles (a blocked `C_WaitForSlotEvent` notices finalization).
    pub epoch: u64,
    pub options: InitOptions,
    pub sources: Vec<Arc<dyn SlotSource>>,
    pub slots: BTreeMap<CK_SLOT_ID, Slot>,
    next_slot: CK_SLOT_ID,
    pub sessions: HashMap<CK_SESSION_HANDLE, Session>,
    /// Slots with an event `C_WaitForSlotEvent` has not reported yet.
    pub events: BTreeSet<CK_SLOT_ID>,
}

static LIBRARY: Mutex<Option<Library>> = Mutex::new(None);
/// Signalled on slot events and on `C_Finalize`.
static EVENT: Condvar = Condvar::new();
static EPOCH: AtomicU64 = AtomicU64::new(1);
/// Session and object handles: nonzero and never reused for the life of the process (DESIGN §9).
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A fresh handle, never given before in this process.
pub fn new_handle() -> Result<CK_ULONG> {
    let h = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    CK_ULONG::try_from(h).map_err(|_| Error::General("handle space exhausted"))
}

/// Runs `f` on the initialized library, or answers `CKR_CRYPTOKI_NOT_INITIALIZED` (also in a
/// forked child that did not initialize again).
pub fn with<T>(f: impl FnOnce(&mut Library) -> Result<T>) -> Result<T> {
    let mut guard = LIBRARY.lock()?;
    match guard.as_mut() {
        Some(lib) if lib.pid == std::process::id() => f(lib),
        _ => Err(Error::NotInitialized),
    }
}

/// `C_Initialize` after the arguments were checked.
pub fn initialize(
    options: InitOptions,
    sources: impl FnOnce() -> Result<Vec<Arc<dyn SlotSource>>>,
) -> Result<()> {
    let mut guard = LIBRARY.lock()?;
    if let Some(lib) = guard.as_ref() {
        if lib.pid == std::process::id() {
            return Err(Error::AlreadyInitialized);
        }
        // Forked child: the parent's readers and cards belong to the parent; release nothing
        // (closing the inherited PC/SC context would close the parent's).
        if let Some(stale) = guard.take() {
            std::mem::forget(stale);
        }
    }
    let sources = sources()?;
    *guard = Some(Library {
        pid: std::process::id(),
        epoch: EPOCH.fetch_add(1, Ordering::Relaxed),
        options,
        sources,
        slots: BTreeMap::new(),
        next_slot: 0,
        sessions: HashMap::new(),
        events: BTreeSet::new(),
    });
    Ok(())
}

/// `C_Finalize`: ends the library and wakes a blocked `C_WaitForSlotEvent`. Returns the state
/// so that the caller logs tokens out with the global lock released.
pub fn finalize() -> Result<Library> {
    let mut guard = match LIBRARY.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            // Leave a usable (uninitialized) library behind; this call still reports the failure.
            let mut g = poisoned.into_inner();
            *g = None;
            LIBRARY.clear_poison();
            EVENT.notify_all();
            return Err(Error::General("lock poisoned by an earlier panic"));
        }
    };
    let lib = match guard.take() {
        Some(lib) if lib.pid == std::process::id() => lib,
        Some(stale) => {
            std::mem::forget(stale);
            return Err(Error::NotInitialized);
        }
        None => return Err(Error::NotInitialized),
    };
    drop(guard);
    EVENT.notify_all();
    Ok(lib)
}

/// Waits up to `timeout` for a slot event or finalization, with the global lock released.
/// Returns the event if one is pending, `None` after the timeout; `Err(NotInitialized)` once the
/// library of `epoch` is gone.
pub fn wait_event(epoch: u64, block: Option<std::time::Duration>) -> Result<Option<CK_SLOT_ID>> {
    let mut guard: MutexGuard<'_, Option<Library>> = LIBRARY.lock()?;
    for round in 0..2 {
        match guard.as_mut() {
            Some(lib) if lib.epoch == epoch && lib.pid == std::process::id() => {
                if let Some(id) = lib.events.pop_first() {
                    return Ok(Some(id));
                }
            }
            _ => return Err(Error::NotInitialized),
        }
        match block {
            Some(timeout) if round == 0 => {
                guard = EVENT.wait_timeout(guard, timeout)?.0;
            }
            _ => break,
        }
    }
    Ok(None)
}

impl Library {
    /// The slot `id`, or `CKR_SLOT_ID_INVALID`.
    pub fn slot(&self, id: CK_SLOT_ID) -> Result<&Slot> {
        self.slots.get(&id).ok_or(Error::SlotIdInvalid)
    }

    pub fn slot_mut(&mut self, id: CK_SLOT_ID) -> Result<&mut Slot> {
        self.slots.get_mut(&id).ok_or(Error::SlotIdInvalid)
    }

    /// Adds a slot with the next slot ID.
    pub fn add_slot(&mut self, make: impl FnOnce(CK_SLOT_ID) -> Slot) -> CK_SLOT_ID {
        let id = self.next_slot;
        self.next_slot += 1;
        self.slots.insert(id, make(id));
        id
    }

    /// Records an event on slot `id` and wakes a waiting `C_WaitForSlotEvent`.
    pub fn push_event(&mut self, id: CK_SLOT_ID) {
        self.events.insert(id);
        EVENT.notify_all();
    }

    /// The session `h`, or `CKR_SESSION_HANDLE_INVALID`.
    pub fn session(&self, h: CK_SESSION_HANDLE) -> Result<&Session> {
        self.sessions.get(&h).ok_or(Error::SessionHandleInvalid)
    }

    pub fn session_mut(&mut self, h: CK_SESSION_HANDLE) -> Result<&mut Session> {
        self.sessions.get_mut(&h).ok_or(Error::SessionHandleInvalid)
    }

    /// The token a session works on (its slot's token of the same generation).
    pub fn token_of(&self, h: CK_SESSION_HANDLE) -> Result<&TokenRecord> {
        let s = self.session(h)?;
        match &self.slot(s.slot)?.token {
            TokenSlot::Present(t) if t.generation == s.generation => Ok(t),
            _ => Err(Error::DeviceRemoved),
        }
    }

    pub fn token_of_mut(&mut self, h: CK_SESSION_HANDLE) -> Result<&mut TokenRecord> {
        let (slot, generation) = {
            let s = self.session(h)?;
            (s.slot, s.generation)
        };
        match &mut self.slot_mut(slot)?.token {
            TokenSlot::Present(t) if t.generation == generation => Ok(t),
            _ => Err(Error::DeviceRemoved),
        }
    }

    /// The present token of slot `id`: `CKR_TOKEN_NOT_PRESENT` / `CKR_TOKEN_NOT_RECOGNIZED`
    /// otherwise.
    pub fn token_in(&self, id: CK_SLOT_ID) -> Result<&TokenRecord> {
        match &self.slot(id)?.token {
            TokenSlot::Present(t) => Ok(t),
            TokenSlot::Unrecognized => Err(Error::TokenNotRecognized),
            TokenSlot::Absent => Err(Error::TokenNotPresent),
        }
    }

    /// Sessions open on slot `id`'s token of `generation`.
    pub fn sessions_of(
        &self,
        id: CK_SLOT_ID,
        generation: u64,
    ) -> impl Iterator<Item = (&CK_SESSION_HANDLE, &Session)> {
        self.sessions
            .iter()
            .filter(move |(_, s)| s.slot == id && s.generation == generation)
    }

    /// Forgets the token of slot `id` if it is still `generation` (card removed or changed):
    /// its sessions are closed (PKCS#11 3.0 §5.6: removing the token closes its sessions).
    pub fn token_gone(&mut self, id: CK_SLOT_ID, generation: u64) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        if matches!(&slot.token, TokenSlot::Present(t) if t.generation == generation) {
            slot.token = TokenSlot::Absent;
            self.sessions
                .retain(|_, s| !(s.slot == id && s.generation == generation));
            self.push_event(id);
        }
    }

    /// The login of slot `id`'s token of `generation` ends ([`TokenRecord::forget_login`]) and
    /// with it the operations that need it, in every session of the token
    /// ([`crate::session`]: signing, decrypting, searches).
    pub fn forget_login(&mut self, id: CK_SLOT_ID, generation: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            if let TokenSlot::Present(t) = &mut slot.token {
                if t.generation == generation {
                    t.forget_login();
                }
            }
        }
        self.sessions
            .values_mut()
            .filter(|s| s.slot == id && s.generation == generation)
            .for_each(|s| s.ops.end_logged_in());
    }

    /// Object handle → object key, for an object visible in session `h`.
    pub fn object_key(
        &self,
        h: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
    ) -> Result<crate::backend::ObjectKey> {
        self.token_of(h)?
            .handles
            .key(object)
            .ok_or(Error::ObjectHandleInvalid)
    }
}
