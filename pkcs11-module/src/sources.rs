//! Which slot sources a `C_Initialize` starts with (objects.md §1, DESIGN §4): the PC/SC
//! readers (unless the configuration turns them off), then the emulated reader when
//! `CPSCARD_EMULATED` (or the configuration file) asks for it.
//! A Rust program embedding the module (and the module's own tests) can register its own.

use std::sync::{Arc, Mutex};

use crate::backend::SlotSource;
use crate::config::Config;
use crate::error::Result;
use crate::token_adapter::TokenSettings;

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
pub(crate) fn create(config: &Config) -> Result<Vec<Arc<dyn SlotSource>>> {
    let f = FACTORY.lock()?;
    match f.as_ref() {
        Some(factory) => factory(),
        None => builtin(config),
    }
}

/// What the configuration says about tokens.
pub fn token_settings(config: &Config) -> TokenSettings {
    TokenSettings {
        cache: config.cache.clone(),
        pinentry: config.pinentry.clone(),
        emulated: false,
    }
}

fn builtin(config: &Config) -> Result<Vec<Arc<dyn SlotSource>>> {
    let settings = token_settings(config);
    let mut sources: Vec<Arc<dyn SlotSource>> = Vec::new();
    if config.pcsc {
        sources.push(crate::pcsc_readers::PcscSource::new(settings.clone()));
    }
    #[cfg(feature = "emulator")]
    if let Some(value) = &config.emulated {
        sources.push(Arc::new(crate::emulated::EmulatedSource::parse(
            value, settings,
        )?));
    }
    #[cfg(not(feature = "emulator"))]
    if config.emulated.is_some() {
        return Err(crate::error::Error::FunctionFailed(
            "CPSCARD_EMULATED: this build has no emulator".into(),
        ));
    }
    Ok(sources)
}
