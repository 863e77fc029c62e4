//! Where the `cpscard` token layer plugs into the module: a recognised card becomes a
//! [`TokenBackend`] over `cpscard::token::Token` (DESIGN §1: "the module is a thin, checked
//! translation"). Token info (objects.md §2), mechanisms (§6), objects (§3-§5, built in
//! [`crate::token_objects`]), PINs, key operations; the token's errors are converted once, in
//! [`crate::token_errors`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use cpscard::card::{Generation, PinKind, PinStatus};
use cpscard::sign::{PinEntry, PinSource, PinentryProgram};
use cpscard::token::{CacheChoice, ObjectId, Token, TokenError, TokenOptions};
use cpscard::transport::Transport;
use cryptoki_sys::*;

use crate::backend::{
    Mechanism, MechanismDescription, ObjectEntry, ObjectKey, Operation, Pin, TokenBackend,
    TokenDescription, UserType,
};
use crate::error::{Error, Result};
use crate::{token_errors, token_mechanisms, token_objects};

/// What the configuration says about the tokens of a slot source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// The token layer's persistent cache of public card files.
    pub cache: CacheChoice,
    /// A pinentry program that asks for PINs (DESIGN §5, path 3).
    pub pinentry: Option<PathBuf>,
    /// The reader is the in-process emulated one: the token label says "EMULATED".
    pub emulated: bool,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            cache: CacheChoice::Off,
            pinentry: None,
            emulated: false,
        }
    }
}

/// How long a PIN tries counter read from the card is shown before asking the card again
/// (objects.md §2: "cache it and refresh after PIN commands, card events, or a short delay").
const PIN_STATUS_MAX_AGE: Duration = Duration::from_secs(2);

/// Builds the token of the card behind `transport` (APDUs allowed), or
/// `Err(TokenNotRecognized)` for a card that is not a CPS card (objects.md §1).
pub fn open_token(
    transport: Box<dyn Transport>,
    settings: &TokenSettings,
) -> Result<Box<dyn TokenBackend>> {
    let reader = transport.reader_name().to_string();
    let options = TokenOptions {
        cache: settings.cache.clone(),
        pin_status_max_age: PIN_STATUS_MAX_AGE,
    };
    let mut token = match Token::open(transport, options) {
        Ok(t) => t,
        Err(TokenError::NotRecognized(why)) => {
            log::info!("{reader}: not a CPS card ({why})");
            return Err(Error::TokenNotRecognized);
        }
        Err(e) => {
            log::warn!("{reader}: the card could not be read: {e}");
            // The generation is unknown here; it only matters for PIN errors.
            return Err(token_errors::convert(e, Generation::Cps3));
        }
    };
    end_inherited_login(&mut token, &reader)?;
    Ok(Box::new(CpsToken::new(token, settings)))
}

/// A new token never inherits a verified PIN (issue 6 item 8): the card keeps its security state
/// across PC/SC connections while it stays powered, so a process killed while logged in (no
/// C_Logout, C_CloseSession or C_Finalize, which all reset it) would leave the card usable
/// without the PIN by whatever talks to it next. When this process first sees the card
/// verified, its security state is reset (CPS3: SELECT of the root AID; CPS4: a card reset).
/// Costs no APDU in the usual case: the PIN status read here is the one C_GetTokenInfo needs
/// next (cached for [`PIN_STATUS_MAX_AGE`]). The price: another process logged in on the same
/// card at that moment is logged out, as with C_Logout (the PIN state is card-global).
fn end_inherited_login(token: &mut Token, reader: &str) -> Result<()> {
    if !token.info().has_pin {
        return Ok(());
    }
    let generation = token.info().card_kind.generation();
    match token.pin_status(PinKind::User) {
        Ok(s) if s.is_verified() => {
            log::info!("{reader}: the card's PIN was left verified: resetting its security state");
            token
                .logout()
                .map_err(|e| token_errors::convert(e, generation))
        }
        Ok(_) => Ok(()),
        Err(e) if e.is_card_event() => Err(token_errors::convert(e, generation)),
        Err(e) => {
            log::debug!("{reader}: PIN status unknown at open: {e}");
            Ok(())
        }
    }
}

/// One opened CPS card.
pub struct CpsToken {
    token: Token,
    generation: Generation,
    pinentry: Option<PathBuf>,
    emulated: bool,
    objects: Vec<ObjectEntry>,
    ids: HashMap<ObjectKey, ObjectId>,
}

impl CpsToken {
    fn new(token: Token, settings: &TokenSettings) -> Self {
        let objects = token_objects::build(&token);
        let ids = token
            .object_ids()
            .into_iter()
            .map(|id| (id.key(), id))
            .collect();
        CpsToken {
            generation: token.info().card_kind.generation(),
            token,
            pinentry: settings.pinentry.clone(),
            emulated: settings.emulated,
            objects,
            ids,
        }
    }

    fn err(&self, e: TokenError) -> Error {
        token_errors::convert(e, self.generation)
    }

    fn id(&self, key: ObjectKey) -> Result<ObjectId> {
        self.ids
            .get(&key)
            .cloned()
            .ok_or(Error::ObjectHandleInvalid)
    }

    fn has_pinpad(&self) -> bool {
        self.token
            .info()
            .pinpad
            .is_some_and(|p| p.verify_pin_direct.is_some())
    }

    /// Whether a NULL PIN can be asked elsewhere (DESIGN §5: pinpad or pinentry program).
    fn protected_path(&self) -> bool {
        self.has_pinpad() || self.pinentry.is_some()
    }

    fn modulus_len(&self, key: ObjectKey) -> Option<usize> {
        let o = self.objects.iter().find(|o| o.key == key)?;
        let bits = o.get_ulong(CKA_MODULUS_BITS)?;
        usize::try_from(bits).ok().map(|b| b.div_ceil(8))
    }

    /// Runs `f` with the PIN source for `pin`: the application's code (format checked first:
    /// a malformed PIN never reaches the card), the pinpad, or the pinentry program.
    fn with_source<T>(
        &mut self,
        kind: PinKind,
        pin: Pin<'_>,
        malformed: Error,
        f: impl FnOnce(&mut Token, PinSource<'_>) -> std::result::Result<T, TokenError>,
    ) -> Result<T> {
        let r = match pin {
            Pin::Given(code) => {
                check_format(kind, code, malformed)?;
                let source = PinSource::given_bytes(kind, code).map_err(|e| self.err(e))?;
                f(&mut self.token, source)
            }
            Pin::ProtectedPath if self.has_pinpad() => f(&mut self.token, PinSource::Pinpad),
            Pin::ProtectedPath => match self.pinentry.clone() {
                Some(program) => {
                    let mut entry = PinentryProgram::new(program);
                    f(
                        &mut self.token,
                        PinSource::Entry(&mut entry as &mut dyn PinEntry),
                    )
                }
                None => {
                    return Err(Error::ArgumentsBad(
                        "NULL PIN without a pinpad or pinentry program",
                    ))
                }
            },
        };
        r.map_err(|e| self.err(e))
    }

    /// The user PIN's state flags (objects.md §2), from the live counter (cached briefly).
    fn user_pin_flags(&mut self) -> Result<CK_FLAGS> {
        let status = match self.token.pin_status(PinKind::User) {
            Ok(s) => s,
            Err(e) if e.is_card_event() => return Err(self.err(e)),
            Err(e) => {
                log::debug!("PIN status unknown: {e}");
                return Ok(0);
            }
        };
        Ok(counter_flags(status, false))
    }
}

/// `CKF_USER_PIN_*` (or `CKF_SO_PIN_*`) from a tries counter: 1 left → COUNT_LOW and
/// FINAL_TRY; 0 → LOCKED; fewer than the maximum → COUNT_LOW (objects.md §2 \[V\]).
pub fn counter_flags(s: PinStatus, so: bool) -> CK_FLAGS {
    let (low, last, locked) = if so {
        (
            CKF_SO_PIN_COUNT_LOW,
            CKF_SO_PIN_FINAL_TRY,
            CKF_SO_PIN_LOCKED,
        )
    } else {
        (
            CKF_USER_PIN_COUNT_LOW,
            CKF_USER_PIN_FINAL_TRY,
            CKF_USER_PIN_LOCKED,
        )
    };
    if s.is_blocked() {
        return locked;
    }
    match s.tries_left() {
        0 => locked,
        1 => low | last,
        n if n < s.max_tries => low,
        _ => 0,
    }
}

/// A PIN of the wrong length or with other characters than digits never reaches the card
/// (DESIGN §5): `malformed` for a bad length (CKR_PIN_LEN_RANGE; CKR_PIN_INCORRECT for
/// C_Login, which has no other word for it), CKR_PIN_INVALID for other characters (C_SetPIN,
/// C_InitPIN) or `malformed` again at login.
fn check_format(kind: PinKind, code: &[u8], malformed: Error) -> Result<()> {
    if code.len() != kind.digits() {
        return Err(malformed);
    }
    if !code.iter().all(u8::is_ascii_digit) {
        return Err(match malformed {
            Error::PinLenRange => Error::PinInvalid,
            other => other,
        });
    }
    Ok(())
}

impl TokenBackend for CpsToken {
    fn info(&mut self) -> Result<TokenDescription> {
        let i = self.token.info().clone();
        let mut flags = CKF_TOKEN_INITIALIZED;
        if i.has_rng {
            flags |= CKF_RNG;
        }
        if i.has_pin {
            flags |= CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
            flags |= self.user_pin_flags()?;
            // The PUK's counter is not read for this (objects.md §2 lists the user PIN's flags
            // only; a browser polls): CKF_SO_PIN_* tell what an SO login, an unblock or a
            // status query last met.
            flags |= self
                .token
                .cached_pin_status(PinKind::Puk)
                .map_or(0, |s| counter_flags(s, true));
            if self.protected_path() {
                flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
            }
        }
        let label = if self.emulated {
            format!("{} (EMULATED)", i.label)
        } else {
            i.label
        };
        Ok(TokenDescription {
            label,
            manufacturer: i.manufacturer,
            model: i.model,
            serial_number: i.serial,
            flags,
            min_pin_len: CK_ULONG::try_from(i.pin_min_len).unwrap_or(4),
            max_pin_len: CK_ULONG::try_from(i.pin_max_len).unwrap_or(8),
        })
    }

    fn mechanisms(&self) -> Vec<MechanismDescription> {
        self.token
            .mechanisms()
            .iter()
            .map(token_mechanisms::description)
            .collect()
    }

    fn objects(&mut self, _logged_in: bool) -> Result<Vec<ObjectEntry>> {
        Ok(self.objects.clone())
    }

    fn attribute_len(&mut self, key: ObjectKey, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<usize>> {
        let id = self.id(key)?;
        if kind != CKA_VALUE || !matches!(id, ObjectId::Data(_)) {
            return Ok(None);
        }
        if self
            .token
            .data_object(&id)
            .is_some_and(|d| d.private && !self.token.is_logged_in())
        {
            return Err(Error::UserNotLoggedIn);
        }
        self.token.data_size(&id).map_err(|e| self.err(e))
    }

    fn read_attribute(&mut self, key: ObjectKey, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>> {
        let id = self.id(key)?;
        if kind != CKA_VALUE || !matches!(id, ObjectId::Data(_)) {
            return Err(Error::AttributeTypeInvalid);
        }
        self.token.read_data(&id).map_err(|e| self.err(e))
    }

    fn write_attribute(
        &mut self,
        key: ObjectKey,
        kind: CK_ATTRIBUTE_TYPE,
        value: &[u8],
    ) -> Result<()> {
        let id = self.id(key)?;
        if kind != CKA_VALUE {
            return Err(Error::AttributeReadOnly);
        }
        self.token.write_data(&id, value).map_err(|e| match e {
            TokenError::DataLenRange { .. }
            | TokenError::Card(cpscard::card::CardError::InvalidInput(_)) => {
                Error::AttributeValueInvalid
            }
            e => self.err(e),
        })
    }

    fn login(&mut self, user: UserType, pin: Pin<'_>) -> Result<()> {
        let kind = match user {
            UserType::User => PinKind::User,
            UserType::So => PinKind::Puk,
        };
        self.with_source(kind, pin, Error::PinIncorrect, |t, source| match user {
            UserType::User => t.login(source),
            UserType::So => t.login_puk(source),
        })
    }

    fn logout(&mut self) -> Result<()> {
        self.token.logout().map_err(|e| self.err(e))
    }

    fn init_pin(&mut self, pin: Pin<'_>) -> Result<()> {
        self.with_source(PinKind::User, pin, Error::PinLenRange, |t, source| {
            t.reset_pin(source)
        })
    }

    fn set_pin(&mut self, user: Option<UserType>, old: Pin<'_>, new: Pin<'_>) -> Result<()> {
        if user == Some(UserType::So) {
            // The PUK cannot be changed on a CPS card.
            return Err(Error::FunctionNotSupported);
        }
        match (old, new) {
            (Pin::Given(o), Pin::Given(n)) => {
                check_format(PinKind::User, o, Error::PinLenRange)?;
                check_format(PinKind::User, n, Error::PinLenRange)?;
                let old = PinSource::given_bytes(PinKind::User, o).map_err(|e| self.err(e))?;
                let new = PinSource::given_bytes(PinKind::User, n).map_err(|e| self.err(e))?;
                self.token.change_pin(old, new).map_err(|e| self.err(e))
            }
            (Pin::ProtectedPath, Pin::ProtectedPath) if self.has_pinpad() => self
                .token
                .change_pin(PinSource::Pinpad, PinSource::Pinpad)
                .map_err(|e| self.err(e)),
            (Pin::ProtectedPath, Pin::ProtectedPath) => match self.pinentry.clone() {
                Some(program) => {
                    let mut old = PinentryProgram::new(program.clone());
                    let mut new = PinentryProgram::new(program);
                    self.token
                        .change_pin(PinSource::Entry(&mut old), PinSource::Entry(&mut new))
                        .map_err(|e| self.err(e))
                }
                None => Err(Error::ArgumentsBad(
                    "NULL PINs without a pinpad or pinentry program",
                )),
            },
            _ => Err(Error::ArgumentsBad("both PINs or neither must be given")),
        }
    }

    fn check(&mut self, operation: Operation, key: ObjectKey, mechanism: &Mechanism) -> Result<()> {
        let id = self.id(key)?;
        match operation {
            Operation::Sign => {
                let m = token_mechanisms::sign_mechanism(mechanism)?;
                self.token
                    .sign_init(&id, m)
                    .map(drop)
                    .map_err(|e| self.err(e))
            }
            Operation::Verify => token_mechanisms::sign_mechanism(mechanism).map(drop),
            Operation::Encrypt | Operation::Decrypt => {
                token_mechanisms::cipher_kind(mechanism).map(drop)
            }
        }
    }

    fn sign(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let id = self.id(key)?;
        let m = token_mechanisms::sign_mechanism(mechanism)?;
        self.token.sign(&id, m, data).map_err(|e| self.err(e))
    }

    fn verify(
        &mut self,
        key: ObjectKey,
        mechanism: &Mechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let id = self.id(key)?;
        let m = token_mechanisms::sign_mechanism(mechanism)?;
        if self.modulus_len(key).is_some_and(|n| n != signature.len()) {
            return Err(Error::SignatureLenRange);
        }
        self.token
            .verify(&id, m, data, signature)
            .map_err(|e| self.err(e))
    }

    fn encrypt(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let id = self.id(key)?;
        let kind = token_mechanisms::cipher_kind(mechanism)?;
        self.token.encrypt(&id, kind, data).map_err(|e| self.err(e))
    }

    fn decrypt(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let id = self.id(key)?;
        let kind = token_mechanisms::cipher_kind(mechanism)?;
        if self.modulus_len(key).is_some_and(|n| n != data.len()) {
            return Err(Error::EncryptedDataLenRange);
        }
        self.token
            .decrypt(&id, kind, data)
            .map(|plain| plain.to_vec())
            .map_err(|e| self.err(e))
    }

    fn generate_random(&mut self, out: &mut [u8]) -> Result<()> {
        let bytes = self
            .token
            .generate_random(out.len())
            .map_err(|e| self.err(e))?;
        if bytes.len() != out.len() {
            return Err(Error::DeviceError("short answer to GET CHALLENGE".into()));
        }
        out.copy_from_slice(&bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpscard::card::PinState;

    fn status(state: PinState, max: u8) -> PinStatus {
        PinStatus {
            kind: PinKind::User,
            state,
            max_tries: max,
        }
    }

    #[test]
    fn flags_from_the_counter() {
        let left = |n| status(PinState::NotVerified { tries_left: n }, 3);
        assert_eq!(counter_flags(left(3), false), 0);
        assert_eq!(counter_flags(left(2), false), CKF_USER_PIN_COUNT_LOW);
        assert_eq!(
            counter_flags(left(1), false),
            CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY
        );
        assert_eq!(counter_flags(left(0), false), CKF_USER_PIN_LOCKED);
        assert_eq!(
            counter_flags(status(PinState::Blocked, 3), false),
            CKF_USER_PIN_LOCKED
        );
        assert_eq!(counter_flags(status(PinState::Verified, 3), false), 0);
        assert_eq!(
            counter_flags(status(PinState::Blocked, 10), true),
            CKF_SO_PIN_LOCKED
        );
        assert_eq!(
            counter_flags(status(PinState::NotVerified { tries_left: 9 }, 10), true),
            CKF_SO_PIN_COUNT_LOW
        );
    }

    #[test]
    fn pin_format_is_checked_before_the_card() {
        assert_eq!(
            check_format(PinKind::User, b"1234", Error::PinIncorrect),
            Ok(())
        );
        assert_eq!(
            check_format(PinKind::User, b"12345", Error::PinIncorrect),
            Err(Error::PinIncorrect)
        );
        assert_eq!(
            check_format(PinKind::User, b"12a4", Error::PinIncorrect),
            Err(Error::PinIncorrect)
        );
        assert_eq!(
            check_format(PinKind::User, b"12345678", Error::PinLenRange),
            Err(Error::PinLenRange)
        );
        assert_eq!(
            check_format(PinKind::User, b"12a4", Error::PinLenRange),
            Err(Error::PinInvalid)
        );
        assert_eq!(
            check_format(PinKind::Puk, b"12345678", Error::PinIncorrect),
            Ok(())
        );
    }
}
