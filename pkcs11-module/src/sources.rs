//! Which slot sources a `C_Initialize` starts with.
//!
//! By default only the emulated reader, and only when `CPSCARD_EMULATED` asks for it (DESIGN §4);
//! the PC/SC readers plug in here when the token layer lands.
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
        None => builtin(),
    }
}

/// Built-in sources: the emulated reader when `CPSCARD_EMULATED` asks for it. (PC/SC readers
/// join here once the token layer can recognise their cards.)
fn builtin() -> Result<Vec<Arc<dyn SlotSource>>> {
    #[cfg_attr(not(feature = "emulator"), allow(unused_mut))]
    let mut sources: Vec<Arc<dyn SlotSource>> = Vec::new();
    #[cfg(feature = "emulator")]
    if let Some(s) = crate::emulated::from_env()? {
        sources.push(s);
    }
    Ok(sources)
}
