//! PC/SC transport over the `pcsc` crate (libpcsclite → pcscd): readers, their state and
//! events, a connected card as a [`Transport`], pinpad features.
//!
//! Facts applied (recipes/pcsc-vpcd/README.md): nothing starts pcscd on demand
//! (`SCARD_E_NO_SERVICE` → [`TransportError::NoService`]); a transmit may "succeed" with an empty
//! answer, or fail with `SCARD_E_NOT_TRANSACTED`, when a vpcd card vanishes mid-APDU, before pcscd
//! has noticed the card is gone: such a failure is followed by a look at the card's state
//! (`SCardStatus`, see `settle`) so that it is reported as [`TransportError::CardRemoved`] when
//! the card did go; a card reset by another application (`SCARD_W_RESET_CARD`) is reported as
//! [`TransportError::CardReset`] so that the card layer reconnects and re-selects.
//!
//! One [`PcscContext`] per thread of use: pcsclite contexts are not meant to be shared by
//! concurrent callers, except for [`PcscCanceller::cancel`].

mod errors;
mod features;
mod readers;

use std::ffi::CString;
use std::thread;
use std::time::Duration;

use ::pcsc::{Context, Disposition, Protocols, Scope, ShareMode};
use zeroize::{Zeroize, Zeroizing};

pub(crate) use errors::map_error;
pub use features::{
    parse_features, pinpad_caps, CM_IOCTL_GET_FEATURE_REQUEST, FEATURE_MODIFY_PIN_DIRECT,
    FEATURE_VERIFY_PIN_DIRECT,
};
pub use readers::{apply_events, CardPresence, ReaderEvent, ReaderInfo};

use super::{CardLink, PinpadCaps, Protocol, Transmit, Transport, TransportError};

/// Receive buffer: the largest extended APDU response pcsclite can carry.
const RECV_BUFFER: usize = ::pcsc::MAX_BUFFER_SIZE_EXTENDED;

/// A connection to pcscd (`SCardEstablishContext`, system scope).
pub struct PcscContext {
    ctx: Context,
}

/// Cancels a [`PcscContext::wait_for_change`] blocked in another thread (`SCardCancel`).
#[derive(Clone)]
pub struct PcscCanceller {
    ctx: Context,
}

impl PcscCanceller {
    pub fn cancel(&self) -> Result<(), TransportError> {
        self.ctx.cancel().map_err(|e| map_error(e, ""))
    }
}

impl PcscContext {
    /// Connects to pcscd. Fails with [`TransportError::NoService`] when it is not running.
    pub fn establish() -> Result<PcscContext, TransportError> {
        let ctx = Context::establish(Scope::System).map_err(|e| map_error(e, ""))?;
        Ok(PcscContext { ctx })
    }

    /// Reader names, in pcscd's order (an empty list when there is none).
    pub fn reader_names(&self) -> Result<Vec<String>, TransportError> {
        readers::reader_names(&self.ctx)
    }

    /// Every reader with its card presence and ATR.
    pub fn readers(&self) -> Result<Vec<ReaderInfo>, TransportError> {
        let names = self.reader_names()?;
        readers::reader_states(&self.ctx, &names)
    }

    /// Waits until a reader appears or goes, or a card is inserted or removed, compared to
    /// `known` (a previous [`PcscContext::readers`] updated with the events returned so far).
    /// `timeout = None` waits forever; an elapsed timeout returns no event.
    pub fn wait_for_change(
        &self,
        known: &[ReaderInfo],
        timeout: Option<Duration>,
    ) -> Result<Vec<ReaderEvent>, TransportError> {
        readers::wait_for_change(&self.ctx, known, timeout)
    }

    /// A handle that cancels a blocked [`PcscContext::wait_for_change`] from another thread.
    pub fn canceller(&self) -> PcscCanceller {
        PcscCanceller {
            ctx: self.ctx.clone(),
        }
    }

    /// Connects to the card in `reader` (shared mode, T=0 or T=1).
    pub fn connect(&self, reader: &str) -> Result<PcscTransport, TransportError> {
        let name =
            CString::new(reader).map_err(|_| TransportError::ReaderNotFound(reader.into()))?;
        let card = self
            .ctx
            .connect(&name, ShareMode::Shared, Protocols::T0 | Protocols::T1)
            .map_err(|e| map_error(e, reader))?;
        let mut t = PcscTransport {
            card: Some(card),
            link: CardLink {
                reader: reader.to_owned(),
                atr: Vec::new(),
                protocol: Protocol::T1,
            },
            pinpad: None,
            buf: Zeroizing::new(vec![0; RECV_BUFFER]),
        };
        t.refresh_status()?;
        t.pinpad = t.query_pinpad();
        Ok(t)
    }
}

/// A card connected through pcscd. Dropping it disconnects and leaves the card as it is
/// (`SCARD_LEAVE_CARD`): other applications keep their state.
pub struct PcscTransport {
    /// `None` only while being dropped.
    card: Option<::pcsc::Card>,
    link: CardLink,
    pinpad: Option<PinpadCaps>,
    /// Receive buffer, wiped after each answer (it may hold deciphered data).
    buf: Zeroizing<Vec<u8>>,
}

impl PcscTransport {
    fn card(&self) -> Result<&::pcsc::Card, TransportError> {
        self.card.as_ref().ok_or_else(released)
    }

    /// Reads the ATR and the protocol in use (`SCardStatus`).
    fn refresh_status(&mut self) -> Result<(), TransportError> {
        let status = self
            .card()?
            .status2_owned()
            .map_err(|e| map_error(e, &self.link.reader))?;
        self.link.atr = status.atr().to_vec();
        self.link.protocol = match status.protocol2() {
            Some(::pcsc::Protocol::T0) => Protocol::T0,
            Some(::pcsc::Protocol::T1) => Protocol::T1,
            _ => return Err(TransportError::Unsupported("protocols other than T=0/T=1")),
        };
        Ok(())
    }

    /// PC/SC part 10 feature request; a reader that does not know it simply has no pinpad.
    fn query_pinpad(&mut self) -> Option<PinpadCaps> {
        match self.control(CM_IOCTL_GET_FEATURE_REQUEST, &[]) {
            Ok(tlv) => pinpad_caps(&parse_features(&tlv)),
            Err(e) => {
                log::debug!("{}: no PC/SC part 10 features ({e})", self.link.reader);
                None
            }
        }
    }

    /// Disconnects, resetting the card when `reset` (its security state is then lost).
    pub fn disconnect(mut self, reset: bool) -> Result<(), TransportError> {
        let disposition = if reset {
            Disposition::ResetCard
        } else {
            Disposition::LeaveCard
        };
        match self.card.take() {
            Some(card) => card
                .disconnect(disposition)
                .map_err(|(_, e)| map_error(e, &self.link.reader)),
            None => Ok(()),
        }
    }
}

impl Drop for PcscTransport {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            if let Err((_, e)) = card.disconnect(Disposition::LeaveCard) {
                log::debug!("{}: disconnect: {e}", self.link.reader);
            }
        }
    }
}

fn released() -> TransportError {
    TransportError::Io("card handle already released".into())
}

/// One `SCardTransmit`. An answer shorter than SW1 SW2 is a failure, never a success; a failure
/// that may come from the card going away is [`settle`]d against the card's state. The APDU is
/// never sent again (a VERIFY costs a PIN try).
fn transmit_on(
    card: &::pcsc::Card,
    reader: &str,
    buf: &mut [u8],
    apdu: &[u8],
) -> Result<Vec<u8>, TransportError> {
    let result = match card.transmit(apdu, buf) {
        Ok(answer) => {
            let out = answer.to_vec();
            let n = out.len();
            buf[..n].zeroize();
            log::trace!("{reader}: {} bytes sent, {n} received", apdu.len());
            checked_answer(out, reader)
        }
        Err(e) => Err(map_error(e, reader)),
    };
    result.map_err(|e| {
        if !may_mean_removal(&e) {
            return e;
        }
        let asked = std::time::Instant::now();
        let settled = settle(
            e.clone(),
            PROBE_ATTEMPTS,
            || card_state(card.status2_owned().map(|s| s.status())),
            || thread::sleep(PROBE_STEP),
        );
        log::debug!(
            "{reader}: transmit failed ({e}); the card's state after {} ms: {settled}",
            asked.elapsed().as_millis()
        );
        settled
    })
}

/// How often and how long [`settle`] asks pcscd about the card after a failed transmit: pcscd
/// polls a reader such as vpcd every 400 ms, so a card pulled mid-APDU is seen gone within about
/// half a second (0.2 s measured); 1.5 s leaves room for a loaded machine. A card that stays
/// present (a mute card) costs this wait once per failed APDU, then the failure is reported as it
/// was.
const PROBE_STEP: Duration = Duration::from_millis(50);
const PROBE_ATTEMPTS: usize = 30;

/// The card behind a handle as `SCardStatus` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardState {
    /// Gone, or gone and back (the handle stays "removed" until it is reconnected).
    Removed,
    /// Reset or unpowered by another application.
    Reset,
    /// Still there as far as pcscd knows (it may not have noticed yet).
    Present,
    /// The query itself failed for another reason: nothing to learn from it.
    Unknown,
}

fn card_state(status: Result<::pcsc::Status, ::pcsc::Error>) -> CardState {
    use ::pcsc::Error as E;
    match status {
        Err(E::RemovedCard | E::NoSmartcard) => CardState::Removed,
        Err(E::ResetCard | E::UnpoweredCard) => CardState::Reset,
        Err(_) => CardState::Unknown,
        Ok(s) if s.contains(::pcsc::Status::ABSENT) => CardState::Removed,
        Ok(_) => CardState::Present,
    }
}

/// Failures of a transmit that a card pulled mid-APDU produces before pcscd notices (an answer
/// without status word, `SCARD_E_NOT_TRANSACTED`, or a code with no meaning of its own).
fn may_mean_removal(e: &TransportError) -> bool {
    matches!(e, TransportError::Unresponsive | TransportError::Io(_))
}

/// What a failed transmit is to be reported as: `query` (the card's state) is asked up to
/// `attempts` times with `pause` between while the card looks present; a card seen removed gives
/// [`TransportError::CardRemoved`], a card reset [`TransportError::CardReset`]; otherwise (still
/// present after the last attempt, or the query failing) the failure stays `original`.
fn settle(
    original: TransportError,
    attempts: usize,
    mut query: impl FnMut() -> CardState,
    mut pause: impl FnMut(),
) -> TransportError {
    if !may_mean_removal(&original) {
        return original;
    }
    for attempt in 0..attempts {
        match query() {
            CardState::Removed => return TransportError::CardRemoved,
            CardState::Reset => return TransportError::CardReset,
            CardState::Unknown => return original,
            CardState::Present if attempt + 1 < attempts => pause(),
            CardState::Present => {}
        }
    }
    original
}

/// An answer without SW1 SW2 (seen: 0 bytes with success, when a vpcd card is killed
/// mid-APDU) is [`TransportError::Unresponsive`].
fn checked_answer(answer: Vec<u8>, reader: &str) -> Result<Vec<u8>, TransportError> {
    if answer.len() < 2 {
        log::warn!(
            "{reader}: {} bytes from the reader (no status word)",
            answer.len()
        );
        return Err(TransportError::Unresponsive);
    }
    Ok(answer)
}

impl Transmit for PcscTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let card = self.card.as_ref().ok_or_else(released)?;
        transmit_on(card, &self.link.reader, &mut self.buf, apdu)
    }
}

/// The transmit side of an open `SCardBeginTransaction`.
struct InTransaction<'a> {
    card: &'a ::pcsc::Card,
    reader: &'a str,
    buf: &'a mut [u8],
}

impl Transmit for InTransaction<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_on(self.card, self.reader, self.buf, apdu)
    }
}

impl Transport for PcscTransport {
    crate::transport_accessors!(link);

    /// `SCardBeginTransaction` … `SCardEndTransaction(LEAVE_CARD)` around `f`. A failure to end
    /// the transaction after `f` ran is only logged: the APDUs did run, and reporting an error
    /// would invite a retry of non-idempotent commands (a VERIFY costs a PIN try).
    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        let reader = self.link.reader.as_str();
        let card = self.card.as_mut().ok_or_else(released)?;
        let tx = card.transaction().map_err(|e| map_error(e, reader))?;
        let result = {
            let mut inner = InTransaction {
                card: &tx,
                reader,
                buf: &mut self.buf,
            };
            f(&mut inner)
        };
        if let Err((_, e)) = tx.end(Disposition::LeaveCard) {
            log::warn!("{reader}: end of transaction: {e}");
        }
        result
    }

    /// `SCardReconnect` (shared, T=0|T=1) with `SCARD_LEAVE_CARD`, or `SCARD_RESET_CARD` when
    /// `reset`; then the ATR and protocol are read again.
    fn reconnect(&mut self, reset: bool) -> Result<(), TransportError> {
        let init = if reset {
            Disposition::ResetCard
        } else {
            Disposition::LeaveCard
        };
        let reader = self.link.reader.as_str();
        self.card
            .as_mut()
            .ok_or_else(released)?
            .reconnect(ShareMode::Shared, Protocols::T0 | Protocols::T1, init)
            .map_err(|e| map_error(e, reader))?;
        self.refresh_status()
    }

    fn pinpad(&self) -> Option<PinpadCaps> {
        self.pinpad
    }

    /// `SCardControl` with `code` (already in the platform's `SCARD_CTL_CODE` form).
    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        let reader = self.link.reader.as_str();
        let card = self.card.as_ref().ok_or_else(released)?;
        let answer = card
            .control(code.into(), input, &mut self.buf)
            .map_err(|e| map_error(e, reader))?;
        let out = answer.to_vec();
        let n = out.len();
        self.buf[..n].zeroize();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::pcsc::{Error as E, Status};

    #[test]
    fn the_card_state_from_scard_status() {
        assert_eq!(card_state(Err(E::RemovedCard)), CardState::Removed);
        assert_eq!(card_state(Err(E::NoSmartcard)), CardState::Removed);
        assert_eq!(card_state(Err(E::ResetCard)), CardState::Reset);
        assert_eq!(card_state(Err(E::UnpoweredCard)), CardState::Reset);
        assert_eq!(card_state(Err(E::NoService)), CardState::Unknown);
        assert_eq!(card_state(Err(E::InvalidHandle)), CardState::Unknown);
        assert_eq!(card_state(Ok(Status::ABSENT)), CardState::Removed);
        assert_eq!(
            card_state(Ok(Status::PRESENT | Status::POWERED | Status::SPECIFIC)),
            CardState::Present
        );
    }

    /// Runs `settle` over the states `seen` in turn; returns the answer, how many queries and how
    /// many pauses it made.
    fn settle_over(original: TransportError, seen: &[CardState]) -> (TransportError, usize, usize) {
        let (mut queries, mut pauses) = (0, 0);
        let out = settle(
            original,
            seen.len(),
            || {
                queries += 1;
                seen[queries - 1]
            },
            || pauses += 1,
        );
        (out, queries, pauses)
    }

    #[test]
    fn a_failed_transmit_becomes_removed_once_pcscd_sees_the_card_gone() {
        use CardState::*;
        // Seen at once, or after pcscd's next poll.
        assert_eq!(
            settle_over(TransportError::Unresponsive, &[Removed, Present]),
            (TransportError::CardRemoved, 1, 0)
        );
        assert_eq!(
            settle_over(
                TransportError::Unresponsive,
                &[Present, Present, Removed, Present]
            ),
            (TransportError::CardRemoved, 3, 2)
        );
        assert_eq!(
            settle_over(TransportError::Io("x".into()), &[Present, Removed]),
            (TransportError::CardRemoved, 2, 1)
        );
        assert_eq!(
            settle_over(TransportError::Unresponsive, &[Present, Reset]),
            (TransportError::CardReset, 2, 1)
        );
    }

    #[test]
    fn a_failed_transmit_stays_as_it_was_when_the_card_stays() {
        use CardState::*;
        // Present until the last attempt (a mute card): no pause after the last query.
        assert_eq!(
            settle_over(TransportError::Unresponsive, &[Present; 4]),
            (TransportError::Unresponsive, 4, 3)
        );
        // The query fails for another reason: no more queries.
        assert_eq!(
            settle_over(TransportError::Io("x".into()), &[Unknown, Removed]),
            (TransportError::Io("x".into()), 1, 0)
        );
        // Failures that say what happened are not second-guessed, not even queried.
        for e in [
            TransportError::CardRemoved,
            TransportError::CardReset,
            TransportError::NoService,
            TransportError::Sharing,
            TransportError::Timeout,
        ] {
            assert_eq!(settle_over(e.clone(), &[Reset]), (e, 0, 0));
        }
        // Zero attempts: as it was.
        assert_eq!(
            settle(TransportError::Unresponsive, 0, || Removed, || {}),
            TransportError::Unresponsive
        );
    }

    #[test]
    fn an_answer_without_status_word_is_a_failure() {
        assert_eq!(
            checked_answer(vec![], "r"),
            Err(TransportError::Unresponsive)
        );
        assert_eq!(
            checked_answer(vec![0x90], "r"),
            Err(TransportError::Unresponsive)
        );
        assert_eq!(checked_answer(vec![0x90, 0x00], "r"), Ok(vec![0x90, 0x00]));
        assert_eq!(
            checked_answer(vec![0x01, 0x61, 0x10], "r"),
            Ok(vec![0x01, 0x61, 0x10])
        );
    }
}
