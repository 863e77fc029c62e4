//! Session management (PKCS#11 3.0 §5.6): C_OpenSession, C_CloseSession, C_CloseAllSessions,
//! C_GetSessionInfo, C_SessionCancel, C_Login, C_Logout. The login state belongs to the token
//! and is shared by all its sessions.

use std::ffi::c_void;

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::args;
use crate::backend::{Operation as Kind, UserType};
use crate::error::{Error, Result};
use crate::fns::slot_token::{pin, pin_arg};
use crate::session::{Active, Session};
use crate::shim::pkcs11_fn;
use crate::slots;
use crate::state::{self, new_handle, Library};

/// `C_OpenSession`: only serial sessions (`CKR_SESSION_PARALLEL_NOT_SUPPORTED`); a R/O session
/// while the SO is logged in is `CKR_SESSION_READ_WRITE_SO_EXISTS`.
pub fn open_session(slot: CK_SLOT_ID, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE> {
    state::with(|lib| lib.slot(slot).map(|_| ()))?;
    if flags & CKF_SERIAL_SESSION == 0 {
        return Err(Error::SessionParallelNotSupported);
    }
    slots::refresh(slot, true)?;
    state::with(|lib| {
        let t = lib.token_in(slot)?;
        let rw = flags & CKF_RW_SESSION != 0;
        if !rw && t.login == Some(UserType::So) {
            return Err(Error::SessionReadWriteSoExists);
        }
        let generation = t.generation;
        let h = new_handle()?;
        lib.sessions.insert(h, Session::new(slot, generation, rw));
        Ok(h)
    })
}

/// Removes the sessions `remove` selects (see [`after_close`]).
fn close_where(
    lib: &mut Library,
    mut remove: impl FnMut(&Session) -> bool,
) -> Vec<(CK_SLOT_ID, u64)> {
    let closed: Vec<(CK_SLOT_ID, u64)> = lib
        .sessions
        .values()
        .filter(|s| remove(s))
        .map(|s| (s.slot, s.generation))
        .collect();
    lib.sessions.retain(|_, s| !remove(s));
    after_close(lib, closed)
}

/// A token left without sessions returns to the public state (PKCS#11 3.0 §5.6.2). Returns the
/// (slot, generation) of the tokens to log out on the card.
fn after_close(lib: &mut Library, closed: Vec<(CK_SLOT_ID, u64)>) -> Vec<(CK_SLOT_ID, u64)> {
    let mut logout = Vec::new();
    for (slot, generation) in closed {
        if lib.sessions_of(slot, generation).next().is_some() {
            continue;
        }
        if let Ok(slot_entry) = lib.slot_mut(slot) {
            if let slots::TokenSlot::Present(t) = &mut slot_entry.token {
                if t.generation == generation && t.login.is_some() {
                    t.forget_login();
                    if !logout.contains(&(slot, generation)) {
                        logout.push((slot, generation));
                    }
                }
            }
        }
    }
    logout
}

/// Resets the card's security state for tokens whose last session closed (best effort).
fn logout_cards(tokens: Vec<(CK_SLOT_ID, u64)>) {
    for (slot, generation) in tokens {
        if let Err(e) = slots::token_io(slot, generation, |b| b.logout()) {
            log::debug!("slot {slot}: logout after last session: {e}");
        }
    }
}

/// `C_CloseSession`.
pub fn close_session(h: CK_SESSION_HANDLE) -> Result<()> {
    let logout = state::with(|lib| {
        let s = lib.sessions.remove(&h).ok_or(Error::SessionHandleInvalid)?;
        Ok(after_close(lib, vec![(s.slot, s.generation)]))
    })?;
    logout_cards(logout);
    Ok(())
}

/// `C_CloseAllSessions` for slot `slot`.
pub fn close_all(slot: CK_SLOT_ID) -> Result<()> {
    let logout = state::with(|lib| {
        lib.slot(slot)?;
        Ok(close_where(lib, |s| s.slot == slot))
    })?;
    logout_cards(logout);
    Ok(())
}

/// `CK_SESSION_INFO` of session `h`.
pub fn session_info(h: CK_SESSION_HANDLE) -> Result<CK_SESSION_INFO> {
    state::with(|lib| {
        let s = lib.session(h)?;
        let login = lib.token_of(h)?.login;
        let state = match (login, s.rw) {
            (Some(UserType::So), _) => CKS_RW_SO_FUNCTIONS,
            (Some(UserType::User), true) => CKS_RW_USER_FUNCTIONS,
            (Some(UserType::User), false) => CKS_RO_USER_FUNCTIONS,
            (None, true) => CKS_RW_PUBLIC_SESSION,
            (None, false) => CKS_RO_PUBLIC_SESSION,
        };
        Ok(CK_SESSION_INFO {
            slotID: s.slot,
            state,
            flags: CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 },
            ulDeviceError: 0,
        })
    })
}

/// Whether `user` may log in to the token of session `h` now.
fn check_login(lib: &Library, h: CK_SESSION_HANDLE, user: UserType) -> Result<()> {
    let s = lib.session(h)?;
    match lib.token_of(h)?.login {
        Some(u) if u == user => return Err(Error::UserAlreadyLoggedIn),
        Some(_) => return Err(Error::UserAnotherAlreadyLoggedIn),
        None => {}
    }
    if user == UserType::So && lib.sessions_of(s.slot, s.generation).any(|(_, s)| !s.rw) {
        return Err(Error::SessionReadOnlyExists);
    }
    Ok(())
}

/// `C_Login`. The PIN goes to the card once; the module never retries it.
pub fn login(
    h: CK_SESSION_HANDLE,
    user_type: CK_USER_TYPE,
    secret: Option<Zeroizing<Vec<u8>>>,
) -> Result<()> {
    let user = match user_type {
        CKU_USER => UserType::User,
        CKU_SO => UserType::So,
        // No CPS key has CKA_ALWAYS_AUTHENTICATE (objects.md §4.2): no operation needs it.
        CKU_CONTEXT_SPECIFIC => {
            state::with(|lib| lib.session(h).map(|_| ()))?;
            return Err(Error::OperationNotInitialized);
        }
        _ => {
            state::with(|lib| lib.session(h).map(|_| ()))?;
            return Err(Error::UserTypeInvalid);
        }
    };
    state::with(|lib| check_login(lib, h, user))?;
    slots::session_io(h, |b| {
        // Again under the slot lock: another thread may have logged in meanwhile.
        state::with(|lib| check_login(lib, h, user))?;
        b.login(user, pin(&secret))?;
        state::with(|lib| {
            let t = lib.token_of_mut(h)?;
            t.login = Some(user);
            t.objects = None;
            Ok(())
        })
    })
}

/// `C_Logout`: the module forgets the login even if the card fails to reset; the operations
/// that need the login end ([`crate::session`]).
pub fn logout(h: CK_SESSION_HANDLE) -> Result<()> {
    state::with(|lib| match lib.token_of(h)?.login {
        Some(_) => Ok(()),
        None => Err(Error::UserNotLoggedIn),
    })?;
    let card = slots::session_io(h, |b| b.logout());
    state::with(|lib| {
        if let Ok(s) = lib.session(h) {
            let (slot, generation) = (s.slot, s.generation);
            lib.forget_login(slot, generation);
        }
        Ok(())
    })?;
    card
}

/// `C_SessionCancel` (PKCS#11 3.0 §5.6.5): ends the operations named by `flags`.
pub fn session_cancel(h: CK_SESSION_HANDLE, flags: CK_FLAGS) -> Result<()> {
    state::with(|lib| {
        let ops = &mut lib.session_mut(h)?.ops;
        for (flag, which) in [
            (CKF_FIND_OBJECTS, Active::Find),
            (CKF_DIGEST, Active::Digest),
            (CKF_SIGN, Active::Key(Kind::Sign)),
            (CKF_VERIFY, Active::Key(Kind::Verify)),
            (CKF_ENCRYPT, Active::Key(Kind::Encrypt)),
            (CKF_DECRYPT, Active::Key(Kind::Decrypt)),
        ] {
            if flags & flag != 0 {
                ops.end(which);
            }
        }
        Ok(())
    })
}

pkcs11_fn! {
    /// PKCS#11 3.0 §5.6.1. Notification callbacks are accepted and never called (no event to
    /// report on a card operation).
    fn C_OpenSession(
        slot_id: CK_SLOT_ID,
        flags: CK_FLAGS,
        _p_application: *mut c_void,
        _notify: CK_NOTIFY,
        ph_session: *mut CK_SESSION_HANDLE,
    ) {
        state::with(|_| Ok(()))?;
        let out = args::output(ph_session, "phSession is NULL")?;
        *out = open_session(slot_id, flags)?;
        Ok(())
    }

    /// PKCS#11 3.0 §5.6.2.
    fn C_CloseSession(h_session: CK_SESSION_HANDLE) {
        close_session(h_session)
    }

    /// PKCS#11 3.0 §5.6.3.
    fn C_CloseAllSessions(slot_id: CK_SLOT_ID) {
        close_all(slot_id)
    }

    /// PKCS#11 3.0 §5.6.4.
    fn C_GetSessionInfo(h_session: CK_SESSION_HANDLE, p_info: *mut CK_SESSION_INFO) {
        state::with(|_| Ok(()))?;
        let out = args::output(p_info, "pInfo is NULL")?;
        slots::notice_removal(state::with(|lib| Ok(lib.session(h_session)?.slot))?)?;
        *out = session_info(h_session)?;
        Ok(())
    }

    /// PKCS#11 3.0 §5.6.5.
    fn C_SessionCancel(h_session: CK_SESSION_HANDLE, flags: CK_FLAGS) {
        session_cancel(h_session, flags)
    }

    /// PKCS#11 3.0 §5.6.8. A NULL PIN asks for the protected authentication path (pinpad,
    /// pinentry); the backend refuses it when the token has none.
    fn C_Login(h_session: CK_SESSION_HANDLE, user_type: CK_USER_TYPE, p_pin: *mut CK_UTF8CHAR, ul_pin_len: CK_ULONG) {
        state::with(|lib| lib.session(h_session).map(|_| ()))?;
        login(h_session, user_type, pin_arg(p_pin, ul_pin_len)?)
    }

    /// PKCS#11 3.0 §5.6.10.
    fn C_Logout(h_session: CK_SESSION_HANDLE) {
        logout(h_session)
    }
}
