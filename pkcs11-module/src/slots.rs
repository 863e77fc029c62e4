//! Slots (one per reader, objects.md §1), the token each may hold, and the per-slot lock every
//! card I/O runs under (DESIGN §4).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cryptoki_sys::{CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_SLOT_ID};

use crate::backend::{
    CardState, MechanismDescription, ObjectEntry, ObjectKey, SlotDescription, SlotDevice,
    TokenBackend, UserType,
};
use crate::error::{Error, Result};
use crate::state::{self, new_handle};

/// What the global state knows of a slot.
pub struct Slot {
    pub id: CK_SLOT_ID,
    /// Index of its source in `Library::sources`, and the reader name it has there.
    pub source: usize,
    pub reader: String,
    /// Listed by the last reader scan (a reader that went away keeps its ID, unlisted).
    pub connected: bool,
    pub description: SlotDescription,
    pub token: TokenSlot,
    /// The card I/O side, under the slot's own lock.
    pub io: Arc<Mutex<SlotIo>>,
}

/// Token side of a slot, as last seen.
pub enum TokenSlot {
    Absent,
    /// A card that is not a CPS card (`CKR_TOKEN_NOT_RECOGNIZED`, CKF_TOKEN_PRESENT clear).
    Unrecognized,
    Present(TokenRecord),
}

/// A token = one insertion of one recognised card: login state shared by its sessions, its
/// object cache and the handles of its objects.
pub struct TokenRecord {
    /// Unique for the process: sessions remember it to notice a changed card.
    pub generation: u64,
    pub login: Option<UserType>,
    pub mechanisms: Vec<MechanismDescription>,
    /// Objects as the backend last listed them (for the login state they were read in).
    pub objects: Option<(bool, Arc<Vec<ObjectEntry>>)>,
    pub handles: ObjectHandles,
}

impl TokenRecord {
    /// Ends the login state of the token in the module: private object handles die and the
    /// object cache is read again (PKCS#11 3.0 §5.6.8 C_Logout). With sessions open, through
    /// [`crate::state::Library::forget_login`], which also ends the operations of the login.
    pub fn forget_login(&mut self) {
        if let Some((_, objects)) = self.objects.take() {
            let private: Vec<_> = objects
                .iter()
                .filter(|o| o.get_bool(cryptoki_sys::CKA_PRIVATE) == Some(true))
                .map(|o| o.key)
                .collect();
            self.handles.retain(|k| !private.contains(&k));
        }
        self.login = None;
    }
}

/// Object handles of one token: stable for the token's life, nonzero, never reused; the handles
/// of private objects die at logout (PKCS#11 3.0 §5.6 C_Logout).
#[derive(Default)]
pub struct ObjectHandles {
    by_key: HashMap<ObjectKey, CK_OBJECT_HANDLE>,
    by_handle: HashMap<CK_OBJECT_HANDLE, ObjectKey>,
}

impl ObjectHandles {
    /// The handle of `key`, given now if it has none.
    pub fn handle(&mut self, key: ObjectKey) -> Result<CK_OBJECT_HANDLE> {
        if let Some(h) = self.by_key.get(&key) {
            return Ok(*h);
        }
        let h = new_handle()?;
        self.by_key.insert(key, h);
        self.by_handle.insert(h, key);
        Ok(h)
    }
    pub fn key(&self, handle: CK_OBJECT_HANDLE) -> Option<ObjectKey> {
        self.by_handle.get(&handle).copied()
    }
    /// Forgets the handles of the objects `keep` says no to.
    pub fn retain(&mut self, mut keep: impl FnMut(ObjectKey) -> bool) {
        self.by_key.retain(|k, _| keep(*k));
        let by_key = &self.by_key;
        self.by_handle.retain(|_, k| by_key.contains_key(k));
    }
}

/// The card I/O side of a slot; lock it before (never while holding) the global lock.
pub struct SlotIo {
    pub device: Box<dyn SlotDevice>,
    /// Insertion the token below was built from.
    pub insertion: Option<u64>,
    /// The token backend and the generation it serves.
    pub token: Option<(u64, Box<dyn TokenBackend>)>,
    /// The card of `insertion` was not recognised.
    pub unrecognized: bool,
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Lists the readers of every source and adds slots for new ones (readers are listed and opened
/// with the global lock released). `events`: whether new slots are events (not at initialize).
pub fn scan(events: bool) -> Result<()> {
    let sources = state::with(|lib| Ok(lib.sources.clone()))?;
    let mut listed = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        match source.reader_names() {
            Ok(names) => listed.extend(names.into_iter().map(|n| (i, n))),
            Err(e) => log::debug!("reader list of source {i}: {e}"),
        }
    }
    let new: Vec<(usize, String)> = state::with(|lib| {
        for slot in lib.slots.values_mut() {
            slot.connected = listed
                .iter()
                .any(|(i, n)| *i == slot.source && *n == slot.reader);
        }
        Ok(listed
            .iter()
            .filter(|(i, n)| !lib.slots.values().any(|s| s.source == *i && s.reader == *n))
            .cloned()
            .collect())
    })?;
    for (i, name) in new {
        let device = match sources[i].open(&name) {
            Ok(d) => d,
            Err(e) => {
                log::debug!("opening reader {name}: {e}");
                continue;
            }
        };
        state::with(|lib| {
            if lib
                .slots
                .values()
                .any(|s| s.source == i && s.reader == name)
            {
                return Ok(());
            }
            let description = device.description();
            let id = lib.add_slot(|id| Slot {
                id,
                source: i,
                reader: name.clone(),
                connected: true,
                description,
                token: TokenSlot::Absent,
                io: Arc::new(Mutex::new(SlotIo {
                    device,
                    insertion: None,
                    token: None,
                    unrecognized: false,
                })),
            });
            if events {
                lib.push_event(id);
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Looks at the card in slot `id` now and updates its token: builds the token of a newly
/// inserted card (APDUs, under the slot lock), forgets the token of a removed one.
pub fn refresh(id: CK_SLOT_ID, events: bool) -> Result<()> {
    let io = state::with(|lib| Ok(lib.slot(id)?.io.clone()))?;
    let mut io = io.lock()?;
    let card = match io.device.card_state() {
        Ok(c) => c,
        Err(e) => {
            log::debug!("slot {id}: card state: {e}");
            CardState::Absent
        }
    };
    match card {
        CardState::Absent => {
            io.insertion = None;
            io.token = None;
            io.unrecognized = false;
            state::with(|lib| {
                let slot = lib.slot_mut(id)?;
                let had = !matches!(slot.token, TokenSlot::Absent);
                if let TokenSlot::Present(t) = &slot.token {
                    let generation = t.generation;
                    lib.token_gone(id, generation);
                }
                let slot = lib.slot_mut(id)?;
                slot.token = TokenSlot::Absent;
                if had && events {
                    lib.push_event(id);
                }
                Ok(())
            })
        }
        CardState::Present { insertion } => {
            if io.insertion == Some(insertion) && (io.token.is_some() || io.unrecognized) {
                return Ok(());
            }
            io.token = None;
            io.unrecognized = false;
            io.insertion = Some(insertion);
            let built = io.device.token();
            state::with(|lib| {
                if let TokenSlot::Present(t) = &lib.slot(id)?.token {
                    let generation = t.generation;
                    lib.token_gone(id, generation);
                }
                Ok(())
            })?;
            let new_state = match built {
                Ok(token) => {
                    let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let mechanisms = token.mechanisms();
                    io.token = Some((generation, token));
                    TokenSlot::Present(TokenRecord {
                        generation,
                        login: None,
                        mechanisms,
                        objects: None,
                        handles: ObjectHandles::default(),
                    })
                }
                Err(Error::TokenNotRecognized) => {
                    io.unrecognized = true;
                    TokenSlot::Unrecognized
                }
                Err(Error::TokenNotPresent) => {
                    io.insertion = None;
                    TokenSlot::Absent
                }
                Err(e) => {
                    // Let the next look try again.
                    io.insertion = None;
                    return Err(e);
                }
            };
            state::with(|lib| {
                lib.slot_mut(id)?.token = new_state;
                if events {
                    lib.push_event(id);
                }
                Ok(())
            })
        }
    }
}

/// For a session call that does not reach the card (`C_GetSessionInfo`): whether the card the
/// token was read from is still there, asked of the reader (no APDU), so that an application
/// learns of a removal when it asks, not at its next signature. A removed or swapped card ends
/// the token and its sessions (`CKR_DEVICE_REMOVED`, then `CKR_SESSION_HANDLE_INVALID`). A
/// call at the card holds the slot: then nothing is asked (that call will see it).
pub fn notice_removal(id: CK_SLOT_ID) -> Result<()> {
    let io = state::with(|lib| Ok(lib.slot(id)?.io.clone()))?;
    let gone = match io.try_lock() {
        Ok(mut io) if io.token.is_some() => match io.device.card_state() {
            Ok(CardState::Present { insertion }) => io.insertion != Some(insertion),
            Ok(CardState::Absent) => true,
            Err(e) => {
                log::debug!("slot {id}: card state: {e}");
                false
            }
        },
        Ok(_) | Err(std::sync::TryLockError::WouldBlock) => false,
        Err(std::sync::TryLockError::Poisoned(e)) => return Err(e.into()),
    };
    if gone {
        refresh(id, true)?;
        return Err(Error::DeviceRemoved);
    }
    Ok(())
}

/// Runs `f` on the token backend of slot `id`, generation `generation`, under the slot lock.
/// A removed card (`CKR_DEVICE_REMOVED` / `CKR_TOKEN_NOT_PRESENT` from the backend) ends the
/// token and its sessions.
pub fn token_io<T>(
    id: CK_SLOT_ID,
    generation: u64,
    f: impl FnOnce(&mut dyn TokenBackend) -> Result<T>,
) -> Result<T> {
    let io = state::with(|lib| Ok(lib.slot(id)?.io.clone()))?;
    let mut io = io.lock()?;
    let result = match &mut io.token {
        Some((g, backend)) if *g == generation => f(backend.as_mut()),
        _ => Err(Error::DeviceRemoved),
    };
    if matches!(
        result,
        Err(Error::DeviceRemoved) | Err(Error::TokenNotPresent)
    ) {
        if matches!(&io.token, Some((g, _)) if *g == generation) {
            io.token = None;
            io.insertion = None;
        }
        // The library may be gone already (C_Finalize from another thread).
        let _ = state::with(|lib| {
            lib.token_gone(id, generation);
            Ok(())
        });
        return Err(Error::DeviceRemoved);
    }
    if matches!(result, Err(Error::UserNotLoggedIn)) {
        // The card forgot the PIN the module thinks verified (another application reset it):
        // the user is logged out, so that C_Login works again instead of answering
        // CKR_USER_ALREADY_LOGGED_IN.
        let _ = state::with(|lib| {
            if let TokenSlot::Present(t) = &lib.slot(id)?.token {
                if t.generation == generation && t.login == Some(UserType::User) {
                    log::info!("slot {id}: the card lost the PIN verification: logged out");
                    lib.forget_login(id, generation);
                }
            }
            Ok(())
        });
    }
    result
}

/// [`token_io`] on the token of session `h`.
pub fn session_io<T>(
    h: CK_SESSION_HANDLE,
    f: impl FnOnce(&mut dyn TokenBackend) -> Result<T>,
) -> Result<T> {
    let (id, generation) = state::with(|lib| {
        let s = lib.session(h)?;
        lib.token_of(h)?;
        Ok((s.slot, s.generation))
    })?;
    token_io(id, generation, f)
}

/// The objects of session `h`'s token, read from the backend once per login state and then
/// answered from the cache (DESIGN §4: repeated enumeration without APDUs).
pub fn objects(h: CK_SESSION_HANDLE) -> Result<Arc<Vec<ObjectEntry>>> {
    let (cached, logged_in) = state::with(|lib| {
        let t = lib.token_of(h)?;
        let logged_in = t.login == Some(UserType::User);
        Ok((t.objects.clone(), logged_in))
    })?;
    if let Some((for_login, list)) = cached {
        if for_login == logged_in {
            return Ok(list);
        }
    }
    let list = Arc::new(session_io(h, |b| b.objects(logged_in))?);
    state::with(|lib| {
        let t = lib.token_of_mut(h)?;
        for o in list.iter() {
            t.handles.handle(o.key)?;
        }
        if (t.login == Some(UserType::User)) == logged_in {
            t.objects = Some((logged_in, list.clone()));
        }
        Ok(())
    })?;
    Ok(list)
}
