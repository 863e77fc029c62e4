//! The exported PKCS#11 functions, one file per function group (DESIGN §2, kryoptic's `fns/`).
//! Each is written with `crate::shim::pkcs11_fn!`: checks of the raw arguments, then a safe
//! function doing the work.

pub mod digest;
pub mod encrypt_decrypt;
pub mod general;
pub mod not_supported;
pub mod object;
pub mod random;
pub mod session;
pub mod sign_verify;
pub mod slot_token;
