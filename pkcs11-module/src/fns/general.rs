//! General-purpose functions (PKCS#11 3.0 §5.4): C_Initialize, C_Finalize, C_GetInfo,
//! C_GetFunctionList, C_GetInterfaceList, C_GetInterface.

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::args;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::function_list::{self, Version};
use crate::shim::{ensure, pkcs11_fn};
use crate::state::{self, InitOptions};
use crate::{logging, slots, sources, text, twocall};

/// The vendor's marker of a Windows logon process in `pReserved` (objects.md §9).
const WINLOGON: &[u8] = b"winlogonDecrypt\0";

/// Checks `CK_C_INITIALIZE_ARGS` (PKCS#11 3.0 §5.4.1): the four mutex callbacks all or none
/// (`CKR_ARGUMENTS_BAD`); callbacks without `CKF_OS_LOCKING_OK` → `CKR_CANT_LOCK` (we lock with
/// the OS only); `pReserved` NULL, or the vendor's "winlogonDecrypt".
///
/// # Safety
/// `pReserved`, when not NULL, points to readable memory up to its first byte that differs from
/// "winlogonDecrypt\0".
pub unsafe fn init_options(args: Option<&CK_C_INITIALIZE_ARGS>) -> Result<InitOptions> {
    let Some(a) = args else {
        return Ok(InitOptions::default());
    };
    let callbacks = [
        a.CreateMutex.is_some(),
        a.DestroyMutex.is_some(),
        a.LockMutex.is_some(),
        a.UnlockMutex.is_some(),
    ];
    let all = callbacks.iter().all(|c| *c);
    ensure(
        all || callbacks.iter().all(|c| !*c),
        "mutex callbacks must be all or none",
    )?;
    let mut options = InitOptions {
        cant_create_threads: a.flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS != 0,
        winlogon: false,
    };
    if !a.pReserved.is_null() {
        ensure(
            is_winlogon(a.pReserved.cast::<u8>()),
            "pReserved must be NULL",
        )?;
        options.winlogon = true;
    }
    if all && a.flags & CKF_OS_LOCKING_OK == 0 {
        return Err(Error::CantLock);
    }
    Ok(options)
}

/// Compares a C string with "winlogonDecrypt", reading no byte past the first mismatch.
unsafe fn is_winlogon(p: *const u8) -> bool {
    WINLOGON.iter().enumerate().all(|(i, c)| *p.add(i) == *c)
}

/// `C_Initialize` once the arguments are checked: configuration and logger, state, slot
/// sources, first reader scan (not reported as slot events). An unusable configuration fails
/// (`CKR_FUNCTION_FAILED`, said on the log) rather than run with what the user did not ask for.
pub fn initialize(options: InitOptions) -> Result<()> {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            logging::configure(&Config::default());
            log::error!("C_Initialize: {e}");
            return Err(Error::FunctionFailed(e.to_string()));
        }
    };
    logging::configure(&config);
    if let Some(file) = &config.file {
        log::info!("configuration from {}", file.display());
    }
    state::initialize(options, || sources::create(&config))?;
    if let Err(e) = slots::scan(false) {
        log::debug!("initial reader scan: {e}");
    }
    let ids: Vec<CK_SLOT_ID> = state::with(|lib| Ok(lib.slots.keys().copied().collect()))?;
    for id in ids {
        if let Err(e) = slots::refresh(id, false) {
            log::debug!("slot {id}: {e}");
        }
    }
    Ok(())
}

/// `C_Finalize`: closes every session, logs logged-in tokens out (card I/O after the global
/// lock is released) and cancels a blocked `C_WaitForSlotEvent`.
pub fn finalize() -> Result<()> {
    let lib = state::finalize()?;
    for source in &lib.sources {
        source.cancel();
    }
    for slot in lib.slots.values() {
        if let slots::TokenSlot::Present(t) = &slot.token {
            if t.login.is_some() {
                if let Ok(mut io) = slot.io.lock() {
                    if let Some((_, backend)) = io.token.as_mut() {
                        if let Err(e) = backend.logout() {
                            log::debug!("logout at finalize: {e}");
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// `CK_INFO` for the interface of `version` (objects.md: ours, not ANS's).
pub fn info(version: Version) -> CK_INFO {
    CK_INFO {
        cryptokiVersion: version.ck(),
        manufacturerID: text::padded("cpscard"),
        flags: 0,
        libraryDescription: text::padded("cpscard PKCS#11 for CPS cards"),
        libraryVersion: library_version(),
    }
}

/// This crate's version as `CK_VERSION` (major.minor).
pub fn library_version() -> CK_VERSION {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u8>().unwrap_or(0));
    CK_VERSION {
        major: parts.next().unwrap_or(0),
        minor: parts.next().unwrap_or(0),
    }
}

pkcs11_fn! {
    /// PKCS#11 3.0 §5.4.1.
    fn C_Initialize(p_init_args: *mut c_void) {
        let a = p_init_args.cast::<CK_C_INITIALIZE_ARGS>().cast_const().as_ref();
        // Double initialization is reported before argument problems.
        if state::with(|_| Ok(())).is_ok() {
            return Err(Error::AlreadyInitialized);
        }
        let options = init_options(a)?;
        initialize(options)
    }

    /// PKCS#11 3.0 §5.4.2.
    fn C_Finalize(p_reserved: *mut c_void) {
        if !p_reserved.is_null() {
            state::with(|_| Ok(()))?;
            return Err(Error::ArgumentsBad("pReserved must be NULL"));
        }
        finalize()
    }

    /// PKCS#11 3.0 §5.4.3, through the 2.40 function list and the exported symbol.
    fn C_GetInfo(p_info: *mut CK_INFO) {
        state::with(|_| Ok(()))?;
        *args::output(p_info, "pInfo is NULL")? = info(Version::V2_40);
        Ok(())
    }

    /// C_GetInfo of the 3.0 interface: reports Cryptoki 3.0.
    internal fn get_info_v3(p_info: *mut CK_INFO) {
        state::with(|_| Ok(()))?;
        *args::output(p_info, "pInfo is NULL")? = info(Version::V3_0);
        Ok(())
    }

    /// PKCS#11 3.0 §5.4.4: the 2.40 `CK_FUNCTION_LIST` (callable before C_Initialize).
    fn C_GetFunctionList(pp_function_list: *mut *mut CK_FUNCTION_LIST) {
        *args::output(pp_function_list, "ppFunctionList is NULL")? = function_list::v2_40();
        Ok(())
    }

    /// PKCS#11 3.0 §5.4.5: our interfaces, "PKCS 11" 3.0 then 2.40 (two-call convention).
    fn C_GetInterfaceList(p_interfaces_list: *mut CK_INTERFACE, pul_count: *mut CK_ULONG) {
        twocall::write(p_interfaces_list, pul_count, &function_list::interfaces())
    }

    /// PKCS#11 3.0 §5.4.6: NULL name → "PKCS 11"; NULL version → the default (3.0); `flags`
    /// must all be flags of the interface.
    fn C_GetInterface(
        p_interface_name: *mut CK_UTF8CHAR,
        p_version: *mut CK_VERSION,
        pp_interface: *mut *mut CK_INTERFACE,
        flags: CK_FLAGS,
    ) {
        let out = args::output(pp_interface, "ppInterface is NULL")?;
        let name = if p_interface_name.is_null() {
            None
        } else {
            Some(std::ffi::CStr::from_ptr(p_interface_name.cast::<std::ffi::c_char>().cast_const()).to_bytes())
        };
        let version = p_version.cast_const().as_ref().map(|v| (v.major, v.minor));
        *out = function_list::find(name, version, flags).ok_or(Error::ArgumentsBad("no such interface"))?;
        Ok(())
    }
}
