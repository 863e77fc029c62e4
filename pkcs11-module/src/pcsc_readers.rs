//! PC/SC readers as slots (objects.md §1: one slot per reader), over
//! `cpscard::transport::pcsc`. No pcscd is not an error: there are simply no PC/SC slots
//! (pcscd may start later; every reader scan tries again).
//!
//! Contexts: pcsclite serialises the calls made on one context, and a blocked
//! `SCardGetStatusChange` holds it, so the reader list, each slot's card and
//! `C_WaitForSlotEvent` each have their own context.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpscard::transport::pcsc::{
    apply_events, CardPresence, PcscCanceller, PcscContext, ReaderInfo,
};
use cpscard::transport::TransportError;

use crate::backend::{CardState, SlotDescription, SlotDevice, SlotSource, TokenBackend};
use crate::error::{Error, Result};
use crate::token_adapter::{open_token, TokenSettings};

/// The PC/SC readers.
pub struct PcscSource {
    settings: TokenSettings,
    lister: Mutex<Option<PcscContext>>,
    waiter: Mutex<Waiter>,
    canceller: Mutex<Option<PcscCanceller>>,
}

/// State of `C_WaitForSlotEvent`'s context: the readers as last seen.
#[derive(Default)]
struct Waiter {
    ctx: Option<PcscContext>,
    known: Option<Vec<ReaderInfo>>,
}

impl PcscSource {
    pub fn new(settings: TokenSettings) -> Arc<Self> {
        Arc::new(PcscSource {
            settings,
            lister: Mutex::new(None),
            waiter: Mutex::new(Waiter::default()),
            canceller: Mutex::new(None),
        })
    }
}

/// A PC/SC failure in the module's words.
fn pcsc_error(e: TransportError) -> Error {
    match e {
        TransportError::NoCard | TransportError::CardRemoved => Error::TokenNotPresent,
        TransportError::ReaderNotFound(_) => Error::DeviceRemoved,
        TransportError::Cancelled => Error::FunctionCanceled,
        e => Error::DeviceError(e.to_string()),
    }
}

impl SlotSource for PcscSource {
    fn reader_names(&self) -> Result<Vec<String>> {
        let mut ctx = self.lister.lock()?;
        if ctx.is_none() {
            match PcscContext::establish() {
                Ok(c) => *ctx = Some(c),
                Err(TransportError::NoService) => return Ok(Vec::new()),
                Err(e) => return Err(pcsc_error(e)),
            }
        }
        let Some(c) = ctx.as_ref() else {
            return Ok(Vec::new());
        };
        match c.reader_names() {
            Ok(names) => Ok(names),
            Err(e) => {
                // pcscd restarted or went away: a new context next time.
                *ctx = None;
                log::debug!("PC/SC reader list: {e}");
                match e {
                    TransportError::NoService | TransportError::NoReaders => Ok(Vec::new()),
                    e => Err(pcsc_error(e)),
                }
            }
        }
    }

    fn open(&self, name: &str) -> Result<Box<dyn SlotDevice>> {
        Ok(Box::new(PcscSlot {
            name: name.to_string(),
            settings: self.settings.clone(),
            ctx: None,
            last: None,
            insertion: 0,
        }))
    }

    /// Blocks in `SCardGetStatusChange` (readers and cards, plus the PnP pseudo-reader) until
    /// something changes, `timeout` passes, or [`SlotSource::cancel`].
    fn wait(&self, timeout: Duration) -> Result<bool> {
        let mut w = self.waiter.lock()?;
        if w.ctx.is_none() {
            match PcscContext::establish() {
                Ok(c) => {
                    *self.canceller.lock()? = Some(c.canceller());
                    w.ctx = Some(c);
                    w.known = None;
                }
                Err(_) => return Ok(false),
            }
        }
        let Waiter { ctx, known } = &mut *w;
        let Some(c) = ctx.as_ref() else {
            return Ok(false);
        };
        if known.is_none() {
            match c.readers() {
                Ok(r) => *known = Some(r),
                Err(e) => {
                    log::debug!("PC/SC reader states: {e}");
                    *ctx = None;
                    return Ok(false);
                }
            }
        }
        let k = known.get_or_insert_with(Vec::new);
        match c.wait_for_change(k, Some(timeout)) {
            Ok(events) => {
                apply_events(k, &events);
                Ok(!events.is_empty())
            }
            Err(TransportError::Cancelled) => Ok(false),
            Err(e) => {
                log::debug!("PC/SC wait: {e}");
                *ctx = None;
                Ok(false)
            }
        }
    }

    fn cancel(&self) {
        if let Ok(c) = self.canceller.lock() {
            if let Some(c) = c.as_ref() {
                if let Err(e) = c.cancel() {
                    log::debug!("PC/SC cancel: {e}");
                }
            }
        }
    }
}

/// One PC/SC reader.
struct PcscSlot {
    name: String,
    settings: TokenSettings,
    ctx: Option<PcscContext>,
    /// pcscd's event counter at the last look, with a card present.
    last: Option<u32>,
    insertion: u64,
}

impl PcscSlot {
    fn context(&mut self) -> Result<&PcscContext> {
        if self.ctx.is_none() {
            self.ctx = Some(PcscContext::establish().map_err(pcsc_error)?);
        }
        self.ctx
            .as_ref()
            .ok_or(Error::General("PC/SC context lost"))
    }
}

impl SlotDevice for PcscSlot {
    fn description(&self) -> SlotDescription {
        SlotDescription::reader(&self.name)
    }

    /// `SCardGetStatusChange` on the reader (no APDU). A card counts as newly inserted when it
    /// appears or when pcscd's event counter moved (removed and inserted between two looks).
    /// A reset (ours at logout, or another application's) is not an insertion: the token
    /// layer notices it on the next APDU.
    fn card_state(&mut self) -> Result<CardState> {
        let name = self.name.clone();
        let readers = match self.context()?.readers() {
            Ok(r) => r,
            Err(e) => {
                self.ctx = None;
                return Err(pcsc_error(e));
            }
        };
        let info = readers.into_iter().find(|r| r.name == name);
        let present = info
            .as_ref()
            .filter(|r| matches!(r.card, CardPresence::Present | CardPresence::Mute));
        let Some(r) = present else {
            self.last = None;
            return Ok(CardState::Absent);
        };
        if self.last != Some(r.event_count) {
            self.insertion += 1;
            self.last = Some(r.event_count);
        }
        Ok(CardState::Present {
            insertion: self.insertion,
        })
    }

    fn token(&mut self) -> Result<Box<dyn TokenBackend>> {
        let name = self.name.clone();
        let transport = match self.context()?.connect(&name) {
            Ok(t) => t,
            // A card that does not answer its reset is no CPS card we can use.
            Err(TransportError::Unresponsive) => return Err(Error::TokenNotRecognized),
            Err(e) => return Err(pcsc_error(e)),
        };
        open_token(Box::new(transport), &self.settings)
    }
}
