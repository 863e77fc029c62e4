//! The emulated reader, present only when asked for with `CPSCARD_EMULATED` (DESIGN §4):
//! `cps3` or `cps4` for the built-in "cps" card, `cps3:<image>` / `cps4:<image>` for a card
//! image file (created from the built-in card when absent; counters and CPS_DATA persist).
//! Its slot description says "EMULATED" (the reader name given by `cpscard::emulator`), and so
//! does its token label.

use std::path::Path;
use std::sync::{Arc, Mutex};

use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
use cpscard::transport::Transport;

use crate::backend::{CardState, SlotDescription, SlotDevice, SlotSource, TokenBackend};
use crate::error::{Error, Result};
use crate::token_adapter::TokenSettings;

/// The variable that asks for the emulated reader.
pub const VARIABLE: &str = "CPSCARD_EMULATED";

/// One emulated reader with one card.
pub struct EmulatedSource {
    card: Arc<Mutex<EmulatedCard>>,
    name: String,
    settings: TokenSettings,
}

impl EmulatedSource {
    /// From a `CPSCARD_EMULATED` value (an unusable value is an error: the user asked for an
    /// emulated card and must not silently get none).
    pub fn parse(value: &str, settings: TokenSettings) -> Result<Self> {
        let (generation, image) = match value.split_once(':') {
            Some((g, path)) => (g, Some(path)),
            None => (value, None),
        };
        let generation: Generation = generation
            .parse()
            .map_err(|e| Error::FunctionFailed(format!("{VARIABLE}={value}: {e}")))?;
        let card = match image {
            Some(path) => EmulatedCard::open_image(Path::new(path), generation, "cps"),
            None => EmulatedCard::builtin(generation, "cps"),
        }
        .map_err(|e| Error::FunctionFailed(format!("{VARIABLE}={value}: {e}")))?;
        Ok(Self::with_settings(card, settings))
    }

    /// A reader with `card`, its token without a persistent cache.
    pub fn new(card: EmulatedCard) -> Self {
        Self::with_settings(card, TokenSettings::default())
    }

    /// A reader with `card`; its token is labelled EMULATED whatever `settings` says.
    pub fn with_settings(card: EmulatedCard, settings: TokenSettings) -> Self {
        let reader = EmulatedReader::new(card);
        EmulatedSource {
            name: reader.reader_name().to_string(),
            card: reader.card(),
            settings: TokenSettings {
                emulated: true,
                ..settings
            },
        }
    }

    /// The card, for tests that inject faults or count APDUs.
    pub fn card(&self) -> Arc<Mutex<EmulatedCard>> {
        self.card.clone()
    }
}

impl SlotSource for EmulatedSource {
    fn reader_names(&self) -> Result<Vec<String>> {
        Ok(vec![self.name.clone()])
    }

    fn open(&self, name: &str) -> Result<Box<dyn SlotDevice>> {
        if name != self.name {
            return Err(Error::SlotIdInvalid);
        }
        Ok(Box::new(EmulatedSlot {
            card: self.card.clone(),
            name: self.name.clone(),
            insertion: 0,
            was_present: false,
            insertions_seen: 0,
            settings: self.settings.clone(),
        }))
    }
}

/// The slot of the emulated reader.
struct EmulatedSlot {
    card: Arc<Mutex<EmulatedCard>>,
    name: String,
    /// Counts insertions seen (removal and reinsertion are fault-injection operations).
    insertion: u64,
    was_present: bool,
    /// The card's [`EmulatedCard::insertions`] at the last look.
    insertions_seen: u64,
    settings: TokenSettings,
}

impl SlotDevice for EmulatedSlot {
    fn description(&self) -> SlotDescription {
        SlotDescription::reader(&self.name)
    }

    fn card_state(&mut self) -> Result<CardState> {
        let (present, insertions) = {
            let card = self.card.lock()?;
            (card.is_present(), card.insertions())
        };
        // A new insertion also when the card was pulled and put back between two looks (the
        // card's counter, as pcscd's event counter for a PC/SC reader).
        if present && (!self.was_present || insertions != self.insertions_seen) {
            self.insertion += 1;
        }
        self.was_present = present;
        self.insertions_seen = insertions;
        Ok(if present {
            CardState::Present {
                insertion: self.insertion,
            }
        } else {
            CardState::Absent
        })
    }

    fn token(&mut self) -> Result<Box<dyn TokenBackend>> {
        if !self.card.lock()?.is_present() {
            return Err(Error::TokenNotPresent);
        }
        let reader: Box<dyn Transport> = Box::new(EmulatedReader::from_shared(self.card.clone()));
        crate::token_adapter::open_token(reader, &self.settings)
    }
}
