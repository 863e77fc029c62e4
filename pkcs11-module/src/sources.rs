//! Which slot sources a `C_Initialize` starts with.
//!
//! By default none yet: no slot appears unless a source is registered (the PC/SC readers and
//! the emulated reader of `CPSCARD_EMULATED` plug in here when the token layer lands, DESIGN §4).
//! A Rust program embedding the module (and the module's own tests) can register its own.

use std::sync::{Arc, Mutex};

use crate::backend::SlotSource;
use crate::error::Result;

type Factory = Box<dyn Fn() -> Result<Vec<Arc<dyn SlotSource>>> + Send + Sync>;

static FACTORY: Mutex<Option<Factory>> = Mutex::new(None);

/// Makes every later `C_Initialize` of this process take its slots from `factory` (called once
/// per `C_Initialize`; the sources are dropped at `C_Finalize`).
pub fn set_slot_sources(
    factory: impl Fn() -> Result<Vec<Arc<dyn SlotSource>>> + Send + Sync + 'static,
) {
    let mut f = FACTORY.lock().unwrap_or_else(|p| p.into_inner());
    *f = Some(Box::new(factory));
}

/// Back to the built-in sources.
pub fn clear_slot_sources() {
    let mut f = FACTORY.lock().unwrap_or_else(|p| p.into_inner());
    *f = None;
}

/// The sources for a new `C_Initialize`.
pub(crate) fn create() -> Result<Vec<Arc<dyn SlotSource>>> {
    let f = FACTORY.lock()?;
    match f.as_ref() {
        Some(factory) => factory(),
        None => Ok(builtin()),
    }
}

/// Built-in sources: none until the token layer exists.
fn builtin() -> Vec<Arc<dyn SlotSource>> {
    Vec::new()
}
