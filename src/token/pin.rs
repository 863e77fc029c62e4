//! PIN state and PIN commands of a token (DESIGN §5; objects.md §2, §6-§7; CPS3.md §5,
//! CPS4.md §6.2).
//!
//! - Status: tries left / blocked / verified per PIN and PUK, cached for
//!   [`TokenOptions::pin_status_max_age`](super::TokenOptions) (applications poll), updated
//!   at once from the answer of every PIN command (never stale after a VERIFY), cleared on
//!   card events.
//! - Login, change, unblock (one call, or `C_Login(CKU_SO)` + `C_InitPIN`: verify the PUK,
//!   then reset the PIN), logout (resets the card's security state). A PIN's format is
//!   checked before anything reaches the card; a VERIFY is never retried by the token.
//! - Where the PIN comes from: [`PinSource`] — given by the caller, a [`PinEntry`] provider
//!   (pinentry program), or the reader's pinpad.

use super::{Token, TokenError};
use crate::card::{Pin, PinKind, PinStatus};
use crate::sign::pin_entry::{PinPurpose, PinRequest};
use crate::sign::{pinpad, PinSource};
use std::time::{Duration, Instant};

pub use crate::card::PinState;

/// Last known state of the PIN and the PUK.
#[derive(Debug, Clone)]
pub(crate) struct PinCache {
    max_age: Duration,
    user: Option<(PinStatus, Instant)>,
    puk: Option<(PinStatus, Instant)>,
}

impl PinCache {
    pub fn new(max_age: Duration) -> Self {
        PinCache {
            max_age,
            user: None,
            puk: None,
        }
    }

    fn slot(&mut self, kind: PinKind) -> &mut Option<(PinStatus, Instant)> {
        match kind {
            PinKind::User => &mut self.user,
            PinKind::Puk => &mut self.puk,
        }
    }

    /// The last known status, however old.
    pub fn get(&self, kind: PinKind) -> Option<PinStatus> {
        match kind {
            PinKind::User => self.user,
            PinKind::Puk => self.puk,
        }
        .map(|(s, _)| s)
    }

    fn fresh(&self, kind: PinKind) -> Option<PinStatus> {
        match kind {
            PinKind::User => self.user,
            PinKind::Puk => self.puk,
        }
        .filter(|(_, at)| at.elapsed() <= self.max_age)
        .map(|(s, _)| s)
    }

    pub fn set(&mut self, kind: PinKind, state: PinState) {
        *self.slot(kind) = Some((
            PinStatus {
                kind,
                state,
                max_tries: kind.max_tries(),
            },
            Instant::now(),
        ));
    }

    pub fn forget(&mut self, kind: PinKind) {
        *self.slot(kind) = None;
    }

    pub fn forget_all(&mut self) {
        self.user = None;
        self.puk = None;
    }

    /// Learns from the result of a command that carried `kind`.
    fn learn(&mut self, kind: PinKind, result: &Result<(), TokenError>) {
        match result {
            Ok(()) => self.set(kind, PinState::Verified),
            Err(TokenError::PinIncorrect { tries_left: 0 }) | Err(TokenError::PinLocked) => {
                self.set(kind, PinState::Blocked)
            }
            Err(TokenError::PinIncorrect { tries_left }) => self.set(
                kind,
                PinState::NotVerified {
                    tries_left: *tries_left,
                },
            ),
            // format refused before any APDU: the card state is unchanged
            Err(TokenError::PinFormat(_))
            | Err(TokenError::PinEntryCancelled)
            | Err(TokenError::PinEntry(_)) => {}
            Err(_) => self.forget(kind),
        }
    }
}

impl Token {
    fn require_pin(&self) -> Result<(), TokenError> {
        if self.info.has_pin {
            Ok(())
        } else {
            Err(TokenError::NoPin)
        }
    }

    /// The PIN or PUK state: the cached one if younger than the configured age, else read
    /// from the card (one APDU).
    pub fn pin_status(&mut self, kind: PinKind) -> Result<PinStatus, TokenError> {
        self.require_pin()?;
        match self.pins.fresh(kind) {
            Some(s) => Ok(s),
            None => self.refresh_pin_status(kind),
        }
    }

    /// The PIN or PUK state read from the card now.
    pub fn refresh_pin_status(&mut self, kind: PinKind) -> Result<PinStatus, TokenError> {
        self.require_pin()?;
        let s = self.card(|d| d.pin_status(kind))?;
        self.pins.set(kind, s.state);
        Ok(s)
    }

    /// The last known state without any APDU (`None` before the first query or after a card
    /// event).
    pub fn cached_pin_status(&self, kind: PinKind) -> Option<PinStatus> {
        self.pins.get(kind)
    }

    /// Forgets the cached PIN and PUK state (the caller saw a card event, e.g. a PC/SC reset
    /// notice): the next status is read from the card.
    pub fn forget_pin_status(&mut self) {
        self.pins.forget_all();
    }

    /// True when the user PIN is verified, as last known (no APDU).
    pub fn is_logged_in(&self) -> bool {
        self.user_pin_kind_status().is_some_and(|s| s.is_verified())
    }

    /// Verifies the user PIN (C_Login(CKU_USER)). Wrong PIN → [`TokenError::PinIncorrect`]
    /// with the tries left (also cached); never retried.
    pub fn login(&mut self, source: PinSource<'_>) -> Result<(), TokenError> {
        self.verify_code(PinKind::User, source, PinPurpose::Login)
    }

    /// Verifies the PUK (C_Login(CKU_SO)), to be followed by [`Token::reset_pin`].
    pub fn login_puk(&mut self, source: PinSource<'_>) -> Result<(), TokenError> {
        self.verify_code(PinKind::Puk, source, PinPurpose::Unblock)
    }

    fn verify_code(
        &mut self,
        kind: PinKind,
        source: PinSource<'_>,
        purpose: PinPurpose,
    ) -> Result<(), TokenError> {
        self.require_pin()?;
        let result = match source {
            PinSource::Pinpad => self.pinpad_verify(kind, purpose),
            // known blocked (fresh status): not probed with a VERIFY, as a dialog is not shown
            PinSource::Given(_) if self.known_blocked(kind) => Err(TokenError::PinLocked),
            source => match self.obtain(source, kind, purpose) {
                Ok(pin) => self.card(|d| d.verify(&pin)),
                Err(e) => Err(e),
            },
        };
        self.pins.learn(kind, &result);
        result
    }

    /// True when the cached, fresh status says `kind` is blocked (no APDU).
    fn known_blocked(&self, kind: PinKind) -> bool {
        self.pins.fresh(kind).is_some_and(|s| s.is_blocked())
    }

    /// Builds the request shown by a PIN entry provider, with the tries left (from the cache
    /// when fresh, else one status APDU).
    pub fn pin_request(&mut self, kind: PinKind, purpose: PinPurpose) -> PinRequest {
        let status = self.pin_status(kind).ok();
        PinRequest {
            kind,
            purpose,
            label: self.info.label.clone(),
            serial: self.info.serial.clone(),
            tries_left: status.map(|s| s.tries_left()),
            max_tries: kind.max_tries(),
        }
    }

    /// A checked PIN from a given code or a provider.
    fn obtain(
        &mut self,
        source: PinSource<'_>,
        kind: PinKind,
        purpose: PinPurpose,
    ) -> Result<Pin, TokenError> {
        match source {
            PinSource::Given(pin) => {
                if pin.kind() != kind {
                    return Err(TokenError::PinFormat(match kind {
                        PinKind::User => "a user PIN is expected here",
                        PinKind::Puk => "the PUK is expected here",
                    }));
                }
                Ok(pin)
            }
            PinSource::Entry(provider) => {
                let request = self.pin_request(kind, purpose);
                if purpose.checks_a_code() && request.tries_left == Some(0) {
                    return Err(TokenError::PinLocked);
                }
                let code = provider.get_pin(&request)?;
                Ok(Pin::from_bytes(kind, code.as_bytes())?)
            }
            PinSource::Pinpad => Err(TokenError::PinEntry(
                "the pinpad enters the PIN itself".into(),
            )),
        }
    }

    /// Changes the user PIN (C_SetPIN): the card checks the old one.
    pub fn change_pin(&mut self, old: PinSource<'_>, new: PinSource<'_>) -> Result<(), TokenError> {
        self.require_pin()?;
        if matches!(old, PinSource::Pinpad) || matches!(new, PinSource::Pinpad) {
            let r = self.pinpad_change();
            self.pins.learn(PinKind::User, &r);
            return r;
        }
        if matches!(old, PinSource::Given(_)) && self.known_blocked(PinKind::User) {
            return Err(TokenError::PinLocked);
        }
        let old = self.obtain(old, PinKind::User, PinPurpose::ChangeOld)?;
        let new = self.obtain(new, PinKind::User, PinPurpose::ChangeNew)?;
        let r = self.card(|d| d.change_pin(&old, &new));
        self.pins.learn(PinKind::User, &r);
        r
    }

    /// Sets a new user PIN after [`Token::login_puk`] (C_InitPIN): resets its counter.
    pub fn reset_pin(&mut self, new: PinSource<'_>) -> Result<(), TokenError> {
        self.require_pin()?;
        let new = self.obtain(new, PinKind::User, PinPurpose::NewPin)?;
        let r = self.card(|d| d.reset_pin(&new));
        match &r {
            // the card resets the counter, the PIN is not verified (CPS3.md §5.4)
            Ok(()) => self.pins.set(
                PinKind::User,
                PinState::NotVerified {
                    tries_left: PinKind::User.max_tries(),
                },
            ),
            Err(_) => self.pins.forget(PinKind::User),
        }
        self.pins.forget(PinKind::Puk);
        r
    }

    /// Unblocks in one call: verify the PUK, then set the new PIN.
    pub fn unblock_pin(
        &mut self,
        puk: PinSource<'_>,
        new: PinSource<'_>,
    ) -> Result<(), TokenError> {
        let new = self.obtain(new, PinKind::User, PinPurpose::NewPin)?;
        self.login_puk(puk)?;
        self.reset_pin(PinSource::Given(new))
    }

    /// Logs out: resets the card's security state (CPS3: SELECT of the root AID by name;
    /// CPS4: a card reset, see [`CardDriver::reset_security_state`](crate::card::CardDriver)).
    pub fn logout(&mut self) -> Result<(), TokenError> {
        let r = self.card(|d| d.reset_security_state());
        self.pins.forget_all();
        match r {
            Err(TokenError::Card(crate::card::CardError::Unsupported(_))) => Ok(()),
            r => r,
        }
    }

    /// The PIN through the reader's pinpad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT).
    fn pinpad_verify(&mut self, kind: PinKind, purpose: PinPurpose) -> Result<(), TokenError> {
        let caps = self
            .info
            .pinpad
            .and_then(|p| p.verify_pin_direct)
            .ok_or(TokenError::PinEntry("this reader has no pinpad".into()))?;
        // the status first: tries left for the user, and on CPS4 it opens logical channel 1,
        // which the pinpad's VERIFY is sent on
        let status = self.refresh_pin_status(kind)?;
        if status.is_blocked() {
            return Err(TokenError::PinLocked);
        }
        let _ = purpose;
        let template = self
            .driver
            .pin_verify_template(kind)
            .ok_or(TokenError::PinEntry(
                "no pinpad VERIFY for this card".into(),
            ))?;
        let structure = pinpad::verify_structure(&template, kind.digits())?;
        let answer = self.card(|d| Ok(d.transport_mut().control(caps, &structure)?))?;
        pinpad::result(&answer)
    }

    /// C_SetPIN on a pinpad (FEATURE_MODIFY_PIN_DIRECT).
    fn pinpad_change(&mut self) -> Result<(), TokenError> {
        let pad = self
            .info
            .pinpad
            .ok_or(TokenError::PinEntry("this reader has no pinpad".into()))?;
        let status = self.refresh_pin_status(PinKind::User)?;
        if status.is_blocked() {
            return Err(TokenError::PinLocked);
        }
        let plan = self
            .driver
            .pin_change_templates()
            .ok_or(TokenError::PinEntry(
                "no pinpad PIN change for this card".into(),
            ))?;
        pinpad::change(&mut *self.driver, pad, &plan)
    }
}
