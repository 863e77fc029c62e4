//! # cps-pkcs11
//!
//! The PKCS#11 module (`libcps_pkcs11.so`) for CPS cards: a thin, checked translation of the
//! C ABI (PKCS#11 2.40 function list, 3.0 interfaces) to the token layer (DESIGN §1, §4).
//!
//! - [`shim`]: the one FFI shim every exported function is written with (panic →
//!   `CKR_GENERAL_ERROR`, [`error::Error`] → `CK_RV` in one place).
//! - [`fns`]: the exported functions, one file per function group.
//! - [`state`], [`slots`], [`session`]: global state, slots with their per-slot I/O lock,
//!   sessions and their operations.
//! - [`backend`]: the traits the token layer implements to appear as slots and tokens.
//! - [`token_adapter`] (+ [`token_objects`], [`token_mechanisms`], [`token_errors`]): the
//!   `cpscard` token behind those traits; [`pcsc_readers`] and `emulated`: the slot sources.
//! - [`config`], [`logging`]: environment, optional TOML file, the logger.
//! - [`template`], [`twocall`], [`keyop`], [`digest`]: attribute templates, the two-call
//!   convention, key operations, software digests.

pub mod args;
pub mod backend;
pub mod config;
pub mod digest;
#[cfg(feature = "emulator")]
pub mod emulated;
pub mod error;
pub mod fns;
pub mod function_list;
pub mod keyop;
pub mod logging;
pub mod pcsc_readers;
pub mod session;
pub mod shim;
pub mod slots;
pub mod sources;
pub mod state;
pub mod template;
pub mod text;
pub mod token_adapter;
pub mod token_errors;
pub mod token_mechanisms;
pub mod token_objects;
pub mod twocall;

pub use backend::{SlotDevice, SlotSource, TokenBackend};
pub use error::Error;
pub use sources::{clear_slot_sources, set_slot_sources};
