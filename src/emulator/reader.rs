//! The in-process reader: a [`Transport`] over an [`EmulatedCard`] shared behind
//! `Arc<Mutex<…>>`, so that a test keeps a handle to inject faults and read counters while a
//! driver uses the reader.

use super::pinpad::{Pinpad, IOCTL_MODIFY_PIN_DIRECT, IOCTL_VERIFY_PIN_DIRECT};
use super::{EmulatedCard, Interface, VirtualCard};
use crate::transport::{PinpadCaps, Protocol, Transmit, Transport, TransportError};
use std::sync::{Arc, Mutex, MutexGuard};

/// A reader with an emulated card in it.
pub struct EmulatedReader {
    card: Arc<Mutex<EmulatedCard>>,
    name: String,
    atr: Vec<u8>,
    protocol: Protocol,
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
        let (name, atr, protocol) = match card.lock() {
            Ok(mut c) => {
                if !c.is_powered() && c.is_present() {
                    c.power_on();
                }
                (reader_name(c.interface()), c.atr(), c.protocol())
            }
            Err(_) => (
                "Emulated reader (EMULATED)".into(),
                Vec::new(),
                Protocol::T0,
            ),
        };
        EmulatedReader {
            card,
            name,
            atr,
            protocol,
            pinpad: None,
        }
    }

    /// Makes this a pinpad reader: it reports `FEATURE_VERIFY_PIN_DIRECT` and
    /// `FEATURE_MODIFY_PIN_DIRECT`, and types what the returned [`Pinpad`] is scripted with.
    pub fn with_pinpad(mut self) -> (Self, Arc<Mutex<Pinpad>>) {
        let pad = Arc::new(Mutex::new(Pinpad::default()));
        self.pinpad = Some(Arc::clone(&pad));
        self.name = format!("{} with pinpad", self.name);
        (self, pad)
    }

    /// The card, for fault injection and counters.
    pub fn card(&self) -> Arc<Mutex<EmulatedCard>> {
        Arc::clone(&self.card)
    }
}

fn reader_name(i: Interface) -> String {
    let what = match i {
        Interface::Cps3Contact => "CPS3",
        Interface::Cps3Contactless => "CPS3 contactless",
        Interface::Cps4Production | Interface::Cps4ReleaseCandidate => "CPS4",
        Interface::Cps4T0 => "CPS4 T=0",
    };
    format!("Emulated {what} reader (EMULATED, test keys)")
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
    fn reader_name(&self) -> &str {
        &self.name
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn protocol(&self) -> Protocol {
        self.protocol
    }

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
        self.atr = card.atr();
        self.protocol = card.protocol();
        self.name = reader_name(card.interface());
        if self.pinpad.is_some() {
            self.name.push_str(" with pinpad");
        }
        Ok(())
    }
}
