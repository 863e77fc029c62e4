//! Software CPS3 and CPS4 cards (DESIGN §6). Independent of the drivers: it may share the APDU
//! types, never card logic.

use crate::transport::Protocol;

/// The contacts of a card: what a reader (in-process, or vpcd) needs from an emulated card.
pub trait VirtualCard: Send {
    /// ATR sent at power-on / reset.
    fn atr(&self) -> Vec<u8>;
    /// Protocol a reader would pick for that ATR.
    fn protocol(&self) -> Protocol;
    /// Cold reset (power on): security state, channels, pending data cleared.
    fn power_on(&mut self);
    /// Power off: as `power_on` for the state; the card answers nothing until powered again.
    fn power_off(&mut self);
    /// Warm reset.
    fn reset(&mut self);
    /// Processes one command APDU (raw bytes) and returns the raw response (data + SW).
    fn process(&mut self, apdu: &[u8]) -> Vec<u8>;
}
