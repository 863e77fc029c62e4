//! Reader states and slot events: `SCardGetStatusChange` seen as "what is in each reader" and
//! "what changed since I last looked" (for `cps-tool readers` and `C_WaitForSlotEvent`).

use std::ffi::CString;
use std::time::{Duration, Instant};

use ::pcsc::{Context, ReaderState, State, PNP_NOTIFICATION};

use super::errors::map_error;
use crate::transport::TransportError;

/// What a reader holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardPresence {
    /// No card.
    Empty,
    /// A card that answered its reset.
    Present,
    /// A card is inserted but did not answer its reset (`SCARD_STATE_MUTE`).
    Mute,
    /// The reader exists but cannot be used now (`SCARD_STATE_UNAVAILABLE`/`UNKNOWN`).
    Unavailable,
}

/// One reader as pcscd last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Name as PC/SC lists it (e.g. `Virtual PCD 00 00`).
    pub name: String,
    pub card: CardPresence,
    /// ATR of the card; empty when there is none.
    pub atr: Vec<u8>,
    /// Another connection has the card open (`SCARD_STATE_INUSE`).
    pub in_use: bool,
    /// Another application holds the card exclusively (`SCARD_STATE_EXCLUSIVE`).
    pub exclusive: bool,
    /// Insertions + removals counted by pcscd (high word of `dwEventState`).
    pub event_count: u32,
    /// The raw state bits (without the counter), given back to pcscd as "what I know".
    state: State,
}

impl ReaderInfo {
    /// Builds the info from the raw `SCARD_STATE_*` bits and the event counter.
    pub(crate) fn from_raw(name: String, state: State, event_count: u32, atr: &[u8]) -> Self {
        let card = if state.intersects(State::UNKNOWN | State::UNAVAILABLE | State::IGNORE) {
            CardPresence::Unavailable
        } else if state.contains(State::MUTE) {
            CardPresence::Mute
        } else if state.contains(State::PRESENT) {
            CardPresence::Present
        } else {
            CardPresence::Empty
        };
        let present = matches!(card, CardPresence::Present | CardPresence::Mute);
        ReaderInfo {
            name,
            card,
            atr: if present { atr.to_vec() } else { Vec::new() },
            in_use: state.contains(State::INUSE),
            exclusive: state.contains(State::EXCLUSIVE),
            event_count,
            state: state - State::CHANGED,
        }
    }

    fn from_reader_state(rs: &ReaderState) -> Self {
        let name = rs.name().to_string_lossy().into_owned();
        ReaderInfo::from_raw(name, rs.event_state(), rs.event_count(), rs.atr())
    }

    /// True when a card is inserted (answering or not).
    pub fn card_present(&self) -> bool {
        matches!(self.card, CardPresence::Present | CardPresence::Mute)
    }

    /// The state to pass as `dwCurrentState`: the bits and the event counter pcscd gave us, so
    /// that a removal + insertion between two calls is still seen (the counter moved).
    fn known_state(&self) -> State {
        /// `DWORD` is `u64` or `u32` depending on the platform.
        fn with_counter<D: From<u32> + std::ops::BitOr<Output = D>>(bits: D, count: u32) -> D {
            bits | D::from((count & 0xFFFF) << 16)
        }
        State::from_bits_retain(with_counter(self.state.bits(), self.event_count))
    }
}

/// A change seen by [`super::PcscContext::wait_for_change`]. Each carries the reader's new state,
/// so the caller replaces its known state by name (and drops it on `ReaderRemoved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared (its `card` says whether a card is already in it).
    ReaderAdded(ReaderInfo),
    /// A reader disappeared (with its card, if any).
    ReaderRemoved(String),
    /// A card was inserted.
    CardInserted(ReaderInfo),
    /// The card was removed.
    CardRemoved(ReaderInfo),
}

impl ReaderEvent {
    /// Name of the reader the event is about.
    pub fn reader_name(&self) -> &str {
        match self {
            ReaderEvent::ReaderRemoved(name) => name,
            ReaderEvent::ReaderAdded(r)
            | ReaderEvent::CardInserted(r)
            | ReaderEvent::CardRemoved(r) => &r.name,
        }
    }
}

/// Brings `known` up to date with `events` (as returned by `wait_for_change`), so that it can
/// be passed to the next call.
pub fn apply_events(known: &mut Vec<ReaderInfo>, events: &[ReaderEvent]) {
    for ev in events {
        match ev {
            ReaderEvent::ReaderRemoved(name) => known.retain(|r| &r.name != name),
            ReaderEvent::ReaderAdded(r)
            | ReaderEvent::CardInserted(r)
            | ReaderEvent::CardRemoved(r) => match known.iter_mut().find(|k| k.name == r.name) {
                Some(k) => *k = r.clone(),
                None => known.push(r.clone()),
            },
        }
    }
}

/// Names of the readers; none is not an error here.
pub(crate) fn reader_names(ctx: &Context) -> Result<Vec<String>, TransportError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(::pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_error(e, "")),
    }
}

/// Current state of the named readers (one `SCardGetStatusChange` with "unaware" states,
/// which answers at once).
pub(crate) fn reader_states(
    ctx: &Context,
    names: &[String],
) -> Result<Vec<ReaderInfo>, TransportError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states = names
        .iter()
        .map(|n| Ok(ReaderState::new(cstring(n)?, State::UNAWARE)))
        .collect::<Result<Vec<_>, TransportError>>()?;
    ctx.get_status_change(Duration::from_secs(2), &mut states)
        .map_err(|e| map_error(e, ""))?;
    Ok(states.iter().map(ReaderInfo::from_reader_state).collect())
}

/// Blocks until a reader or a card changes with respect to `known`, `timeout` elapses (→ no
/// event) or the context is cancelled (→ [`TransportError::Cancelled`]). Changes that are not
/// insertions/removals (a card becoming "in use") do not wake the caller.
pub(crate) fn wait_for_change(
    ctx: &Context,
    known: &[ReaderInfo],
    timeout: Option<Duration>,
) -> Result<Vec<ReaderEvent>, TransportError> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut known = known.to_vec();
    loop {
        // Reader set first: additions and removals are answered without blocking.
        let names = reader_names(ctx)?;
        let events = reader_set_events(ctx, &known, &names)?;
        if !events.is_empty() {
            return Ok(events);
        }

        let mut states = known
            .iter()
            .map(|r| Ok(ReaderState::new(cstring(&r.name)?, r.known_state())))
            .collect::<Result<Vec<_>, TransportError>>()?;
        // PnP pseudo-reader: pcsclite compares the high word with its reader count.
        #[allow(clippy::useless_conversion)]
        let count = State::from_bits_retain(((known.len() as u32) << 16).into());
        states.push(ReaderState::new(PNP_NOTIFICATION(), count));

        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match ctx.get_status_change(remaining, &mut states) {
            Ok(()) => {}
            Err(::pcsc::Error::Timeout) => return Ok(Vec::new()),
            Err(e) => return Err(map_error(e, "")),
        }

        let mut events = Vec::new();
        for (old, rs) in known.iter_mut().zip(&states) {
            let new = ReaderInfo::from_reader_state(rs);
            if new.card == CardPresence::Unavailable {
                continue; // gone or going: the reader-set diff reports it next round
            }
            events.extend(card_events(old, &new));
            *old = new;
        }
        if !events.is_empty() {
            return Ok(events);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Vec::new());
        }
    }
}

/// Readers added (with their current state) or removed between `known` and `names`.
fn reader_set_events(
    ctx: &Context,
    known: &[ReaderInfo],
    names: &[String],
) -> Result<Vec<ReaderEvent>, TransportError> {
    let mut events: Vec<ReaderEvent> = known
        .iter()
        .filter(|k| !names.contains(&k.name))
        .map(|k| ReaderEvent::ReaderRemoved(k.name.clone()))
        .collect();
    let added: Vec<String> = names
        .iter()
        .filter(|n| !known.iter().any(|k| &k.name == *n))
        .cloned()
        .collect();
    if !added.is_empty() {
        match reader_states(ctx, &added) {
            Ok(infos) => events.extend(infos.into_iter().map(ReaderEvent::ReaderAdded)),
            // Gone again before we could look: report nothing for it.
            Err(TransportError::ReaderNotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(events)
}

/// Insertion/removal events between two states of one reader. A changed event counter with a
/// card present both times means the card was swapped: removal then insertion.
pub(crate) fn card_events(old: &ReaderInfo, new: &ReaderInfo) -> Vec<ReaderEvent> {
    match (old.card_present(), new.card_present()) {
        (false, true) => vec![ReaderEvent::CardInserted(new.clone())],
        (true, false) => vec![ReaderEvent::CardRemoved(new.clone())],
        (true, true) if new.event_count != old.event_count || new.atr != old.atr => {
            let mut gone = new.clone();
            gone.card = CardPresence::Empty;
            gone.atr.clear();
            vec![
                ReaderEvent::CardRemoved(gone),
                ReaderEvent::CardInserted(new.clone()),
            ]
        }
        _ => Vec::new(),
    }
}

fn cstring(name: &str) -> Result<CString, TransportError> {
    CString::new(name).map_err(|_| TransportError::ReaderNotFound(name.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATR: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];

    fn info(state: State, count: u32) -> ReaderInfo {
        ReaderInfo::from_raw("Virtual PCD 00 00".into(), state, count, &ATR)
    }

    #[test]
    fn presence_from_state_bits() {
        let r = info(State::PRESENT | State::INUSE | State::CHANGED, 3);
        assert_eq!(r.card, CardPresence::Present);
        assert!(r.card_present() && r.in_use && !r.exclusive);
        assert_eq!(r.atr, ATR);
        assert_eq!(r.event_count, 3);

        let r = info(State::EMPTY, 4);
        assert_eq!(r.card, CardPresence::Empty);
        assert!(!r.card_present());
        assert!(r.atr.is_empty(), "no ATR without a card");

        assert_eq!(
            info(State::PRESENT | State::MUTE, 1).card,
            CardPresence::Mute
        );
        assert_eq!(
            info(State::UNKNOWN | State::IGNORE | State::CHANGED, 0).card,
            CardPresence::Unavailable
        );
    }

    #[test]
    fn known_state_gives_back_bits_and_counter_without_changed() {
        let r = info(State::PRESENT | State::CHANGED | State::INUSE, 5);
        let s = r.known_state();
        assert_eq!(s.bits(), (5 << 16) | (State::PRESENT | State::INUSE).bits());
    }

    #[test]
    fn insertion_and_removal() {
        let empty = info(State::EMPTY, 2);
        let present = info(State::PRESENT, 3);
        assert_eq!(
            card_events(&empty, &present),
            vec![ReaderEvent::CardInserted(present.clone())]
        );
        let removed = info(State::EMPTY, 4);
        assert_eq!(
            card_events(&present, &removed),
            vec![ReaderEvent::CardRemoved(removed.clone())]
        );
    }

    #[test]
    fn in_use_change_is_not_an_event() {
        let a = info(State::PRESENT, 3);
        let b = info(State::PRESENT | State::INUSE, 3);
        assert!(card_events(&a, &b).is_empty());
        assert!(card_events(&info(State::EMPTY, 2), &info(State::EMPTY, 2)).is_empty());
    }

    #[test]
    fn events_update_the_known_list() {
        let mut known = vec![info(State::EMPTY, 0)];
        let other = ReaderInfo::from_raw("Other 01 00".into(), State::EMPTY, 0, &[]);
        let inserted = info(State::PRESENT, 1);
        apply_events(
            &mut known,
            &[
                ReaderEvent::ReaderAdded(other.clone()),
                ReaderEvent::CardInserted(inserted.clone()),
            ],
        );
        assert_eq!(known, vec![inserted, other]);
        apply_events(
            &mut known,
            &[ReaderEvent::ReaderRemoved("Virtual PCD 00 00".into())],
        );
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].name, "Other 01 00");
    }

    #[test]
    fn swap_between_two_looks_is_removal_then_insertion() {
        let before = info(State::PRESENT, 3);
        let after = info(State::PRESENT, 5);
        let events = card_events(&before, &after);
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[0], ReaderEvent::CardRemoved(r) if !r.card_present()));
        assert_eq!(events[1], ReaderEvent::CardInserted(after));
    }
}
