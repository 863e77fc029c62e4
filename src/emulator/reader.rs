//! The in-process reader: a [`Transport`] over an [`EmulatedCard`] shared behind
//! `Arc<Mutex<…>>`, so that a test keeps a handle to inject faults and read counters while a
//! driver uses the reader.

use super::pinpad::{Pinpad, IOCTL_MODIFY_PIN_DIRECT, IOCTL_VERIFY_PIN_DIRECT};
use super::{EmulatedCard, Interface, VirtualCard};
use crate::transport::{CardLink, PinpadCaps, Protocol, Transmit, Transport, TransportError};
use std::sync::{Arc, Mutex, MutexGuard};

/// A reader with an emulated card in it.
pub struct EmulatedReader {
    card: Arc<Mutex<EmulatedCard>>,
    link: CardLink,
    /// Pinpad mode ([`EmulatedReader::with_pinpad`]).
    pinpad: Option<Arc<Mutex<Pinpad>>>,
}

fn lock(card: &Mutex<EmulatedCard>) -> Result<MutexGuard<'_, EmulatedCard>, TransportError> {
    card.lock()
        .map_err(|_| TransportError::Io("emulated card lock poisoned".into()))
}

/// One APDU through the card, with the removal / reset faults turned into transport errors.
fn transmit_to(card: &mut EmulatedCard, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
    if !card.is_present() {
        return Err(TransportError::CardRemoved);
    }
    if card.reset_notice() {
        return Err(TransportError::CardReset);
    }
    if !card.is_powered() {
        card.power_on();
    }
    let out = card.process(apdu);
    if out.len() < 2 {
        return Err(TransportError::Unresponsive);
    }
    Ok(out)
}

impl EmulatedReader {
    /// Puts `card` in a new reader (powering it if needed: connecting does not reset a card
    /// that is already powered, CPS3.md §7).
    pub fn new(card: EmulatedCard) -> Self {
        Self::from_shared(Arc::new(Mutex::new(card)))
    }

    /// A reader over a card someone else also holds.
    pub fn from_shared(card: Arc<Mutex<EmulatedCard>>) -> Self {
        let link = match card.lock() {
            Ok(mut c) => {
                if !c.is_powered() && c.is_present() {
                    c.power_on();
                }
                link_to(&c, false)
            }
            Err(_) => CardLink {
                reader: "Emulated reader (EMULATED)".into(),
                atr: Vec::new(),
                protocol: Protocol::T0,
            },
        };
        EmulatedReader {
            card,
            link,
            pinpad: None,
        }
    }

    /// Makes this a pinpad reader: it reports `FEATURE_VERIFY_PIN_DIRECT` and
    /// `FEATURE_MODIFY_PIN_DIRECT`, and types what the returned [`Pinpad`] is scripted with.
    pub fn with_pinpad(mut self) -> (Self, Arc<Mutex<Pinpad>>) {
        let pad = Arc::new(Mutex::new(Pinpad::default()));
        self.pinpad = Some(Arc::clone(&pad));
        self.link.reader.push_str(PINPAD);
        (self, pad)
    }

    /// The card, for fault injection and counters.
    pub fn card(&self) -> Arc<Mutex<EmulatedCard>> {
        Arc::clone(&self.card)
    }
}

/// What the reader's name ends with in pinpad mode.
const PINPAD: &str = " with pinpad";

/// The reader's name (after the card's interface, and `pinpad`) and the card's ATR and protocol.
fn link_to(card: &EmulatedCard, pinpad: bool) -> CardLink {
    let what = match card.interface() {
        Interface::Cps3Contact => "CPS3",
        Interface::Cps3Contactless => "CPS3 contactless",
        Interface::Cps4Production | Interface::Cps4ReleaseCandidate => "CPS4",
        Interface::Cps4T0 => "CPS4 T=0",
    };
    let pinpad = if pinpad { PINPAD } else { "" };
    CardLink {
        reader: format!("Emulated {what} reader (EMULATED, test keys){pinpad}"),
        atr: card.atr(),
        protocol: card.protocol(),
    }
}

impl Transmit for EmulatedReader {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut card = lock(&self.card)?;
        transmit_to(&mut card, apdu)
    }
}

/// The card held for the length of a transaction.
struct Locked<'a>(MutexGuard<'a, EmulatedCard>);

impl Transmit for Locked<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_to(&mut self.0, apdu)
    }
}

impl Transport for EmulatedReader {
    crate::transport_accessors!(link);

    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        let card = lock(&self.card)?;
        if !card.is_present() {
            return Err(TransportError::CardRemoved);
        }
        let mut locked = Locked(card);
        f(&mut locked)
    }

    fn pinpad(&self) -> Option<PinpadCaps> {
        self.pinpad.as_ref().map(|_| PinpadCaps {
            verify_pin_direct: Some(IOCTL_VERIFY_PIN_DIRECT),
            modify_pin_direct: Some(IOCTL_MODIFY_PIN_DIRECT),
        })
    }

    /// Pinpad control codes: the structure is parsed by [`Pinpad`], the completed APDU goes
    /// to the card, its status word comes back.
    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        let Some(pad) = &self.pinpad else {
            return Err(TransportError::Unsupported("reader control"));
        };
        let mut pad = pad
            .lock()
            .map_err(|_| TransportError::Io("pinpad lock poisoned".into()))?;
        let (apdu, request) = match pad.build(code, input) {
            Ok(x) => x,
            Err(answer) => return Ok(answer.to_vec()),
        };
        let mut card = lock(&self.card)?;
        let out = transmit_to(&mut card, &apdu)?;
        let sw = [out[out.len() - 2], out[out.len() - 1]];
        pad.record(request, sw);
        Ok(sw.to_vec())
    }

    fn reconnect(&mut self, reset: bool) -> Result<(), TransportError> {
        let mut card = lock(&self.card)?;
        if !card.is_present() {
            return Err(TransportError::NoCard);
        }
        card.clear_reset_notice();
        if reset || !card.is_powered() {
            card.reset();
        }
        self.link = link_to(&card, self.pinpad.is_some());
        Ok(())
    }
}
