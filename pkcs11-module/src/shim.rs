//! The one FFI shim every exported PKCS#11 function is written with (DESIGN §4, §9).
//!
//! `pkcs11_fn!` turns
//! `fn C_Name(args...) { body }` into an `unsafe extern "C"` function, exported under its C name,
//! whose body runs inside [`run`]: a panic becomes `CKR_GENERAL_ERROR` (never an unwind across the
//! C ABI), `Ok(())` becomes `CKR_OK`, and an [`Error`] becomes its `CK_RV` through the single
//! `From<Error> for CK_RV`. The body only turns raw pointers into checked Rust values (see
//! [`crate::args`] and [`crate::twocall`]) and calls the safe function that does the work.

use std::panic::{catch_unwind, AssertUnwindSafe};

use cryptoki_sys::{CKR_GENERAL_ERROR, CKR_OK, CK_RV};

use crate::error::{Error, Result};

/// Runs the body of an exported function: panic → `CKR_GENERAL_ERROR`, error → its `CK_RV`.
pub fn run(name: &'static str, body: impl FnOnce() -> Result<()>) -> CK_RV {
    let rv = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(e)) => {
            log::debug!("{name}: {e}");
            CK_RV::from(e)
        }
        Err(_) => {
            log::error!("{name}: internal panic, answered CKR_GENERAL_ERROR");
            CKR_GENERAL_ERROR
        }
    };
    log::trace!("{name} -> {rv:#x}");
    rv
}

/// Declares exported PKCS#11 functions, each in the uniform shape described in the module doc.
///
/// ```text
/// pkcs11_fn! {
///     /// PKCS#11 3.0 §5.4.3
///     fn C_GetInfo(p_info: CK_INFO_PTR) {
///         let out = args::out(p_info)?;
///         *out = general::info(Version::V2_40)?;
///         Ok(())
///     }
/// }
/// ```
macro_rules! pkcs11_fn {
    () => {};
    (
        $(#[$meta:meta])*
        fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $body:block
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        ///
        /// # Safety
        /// Called from C: every pointer must be NULL or valid for the lengths the PKCS#11
        /// specification gives it.
        #[no_mangle]
        #[allow(non_snake_case, clippy::not_unsafe_ptr_arg_deref)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> cryptoki_sys::CK_RV {
            $crate::shim::run(stringify!($name), || -> $crate::error::Result<()> { $body })
        }
        pkcs11_fn!($($rest)*);
    };
    // A function reached only through a function list, not exported by name (the 3.0 list's
    // C_GetInfo, which reports version 3.0).
    (
        $(#[$meta:meta])*
        internal fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $body:block
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        ///
        /// # Safety
        /// As the exported functions.
        #[allow(non_snake_case, clippy::not_unsafe_ptr_arg_deref)]
        pub(crate) unsafe extern "C" fn $name($($arg: $ty),*) -> cryptoki_sys::CK_RV {
            $crate::shim::run(stringify!($name), || -> $crate::error::Result<()> { $body })
        }
        pkcs11_fn!($($rest)*);
    };
}
pub(crate) use pkcs11_fn;

/// `Err` unless `cond`; used for the argument checks of the shims.
pub fn ensure(cond: bool, what: &'static str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::ArgumentsBad(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptoki_sys::CKR_SLOT_ID_INVALID;

    #[test]
    fn a_panic_is_general_error() {
        let rv = run("test", || panic!("boom"));
        assert_eq!(rv, CKR_GENERAL_ERROR);
    }

    #[test]
    fn ok_and_errors_map() {
        assert_eq!(run("test", || Ok(())), CKR_OK);
        assert_eq!(
            run("test", || Err(Error::SlotIdInvalid)),
            CKR_SLOT_ID_INVALID
        );
    }
}
