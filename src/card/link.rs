//! The driver's hold on its card: every operation runs inside one PC/SC transaction (so its
//! APDUs never interleave with another application's), and a reset by another application is
//! handled in one place: reconnect without reset, forget what the card knew (selected DF,
//! logical channel, PIN state), then replay the operation once — unless it carries a PIN
//! (a VERIFY is never replayed on the user's behalf).

use super::CardError;
use crate::apdu::{transceive, transceive_masked, transmit_raw, Command, ExchangeRules, Response};
use crate::transport::{with_transaction, Protocol, Transmit, Transport};

/// What a driver remembers about the card between operations.
pub(crate) trait CardState {
    /// The card was reset: selections and channels are gone.
    fn forget_card_state(&mut self);
}

/// May the operation be sent again after a reset?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads, selections, signatures (a lost PIN state makes them fail cleanly).
    Allowed,
    /// Anything that carries or changes a PIN.
    Never,
}

/// A transport and the driver state that goes with it.
pub(crate) struct Link<S> {
    pub transport: Box<dyn Transport>,
    pub state: S,
    pub rules: ExchangeRules,
    /// Resets by another application seen so far (the token forgets the PIN state when this
    /// moves, even when the replayed operation succeeded).
    pub resets: u64,
}

impl<S: CardState> Link<S> {
    pub fn new(transport: Box<dyn Transport>, state: S, rules: ExchangeRules) -> Self {
        Link {
            transport,
            state,
            rules,
            resets: 0,
        }
    }

    /// Runs `op` in a transaction; on [`CardError::CardReset`] reconnects, forgets the card
    /// state and, if `replay` allows, runs it once more.
    pub fn run<T>(
        &mut self,
        replay: Replay,
        mut op: impl FnMut(&mut Io<'_, S>) -> Result<T, CardError>,
    ) -> Result<T, CardError> {
        match self.once(&mut op) {
            Err(CardError::CardReset) => {
                self.recover_from_reset()?;
                match replay {
                    Replay::Allowed => match self.once(&mut op) {
                        Err(CardError::CardReset) => {
                            self.recover_from_reset()?;
                            Err(CardError::CardReset)
                        }
                        r => r,
                    },
                    Replay::Never => Err(CardError::CardReset),
                }
            }
            r => r,
        }
    }

    fn recover_from_reset(&mut self) -> Result<(), CardError> {
        log::info!(target: "card", "card reset by another application: reconnecting");
        self.resets += 1;
        self.state.forget_card_state();
        self.transport.reconnect(false)?;
        Ok(())
    }

    fn once<T>(
        &mut self,
        op: &mut impl FnMut(&mut Io<'_, S>) -> Result<T, CardError>,
    ) -> Result<T, CardError> {
        let rules = self.rules;
        let protocol = self.transport.protocol();
        let state = &mut self.state;
        with_transaction(&mut *self.transport, |tx| {
            let mut io = Io {
                tx,
                st: state,
                rules,
                protocol,
            };
            op(&mut io)
        })
    }
}

/// One operation's access to the card: send commands, read and update the driver state.
pub(crate) struct Io<'a, S> {
    tx: &'a mut dyn Transmit,
    pub st: &'a mut S,
    pub rules: ExchangeRules,
    pub protocol: Protocol,
}

impl<S> Io<'_, S> {
    /// Sends with the T=0 rules and chaining; the answer may carry any status.
    pub fn send(&mut self, cmd: &Command) -> Result<Response, CardError> {
        Ok(transceive(self.tx, cmd, &self.rules)?)
    }

    /// As [`Io::send`], with the answer masked in traces (deciphered data).
    pub fn send_masked(&mut self, cmd: &Command) -> Result<Response, CardError> {
        Ok(transceive_masked(self.tx, cmd, &self.rules)?)
    }

    /// One APDU as is: no GET RESPONSE, no `6C` resend (CPS2ter `9F xx`, channel recovery).
    pub fn raw(&mut self, cmd: &Command) -> Result<Response, CardError> {
        Ok(transmit_raw(self.tx, cmd, false)?)
    }

    /// Le of a case-4 command for this protocol: under T=0 the reader drops it and the card
    /// answers `61 xx`, so it is left out (as the profiles show); under T=1 `00` asks for
    /// everything (CPS4.md §4).
    pub fn case4_le(&self) -> Option<usize> {
        match self.protocol {
            Protocol::T0 => None,
            Protocol::T1 => Some(256),
        }
    }

    /// Adds the case-4 Le of this protocol to `cmd`.
    pub fn with_case4_le(&self, cmd: Command) -> Command {
        match self.case4_le() {
            Some(le) => cmd.with_le(le),
            None => cmd,
        }
    }
}
