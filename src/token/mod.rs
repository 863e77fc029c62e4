//! The token: one inserted CPS card seen as certificates, keys, data objects and PIN state
//! (DESIGN §1, §3; objects.md). Built from the driver's [`CardBinding`]; the PKCS#11 module
//! and the CLI are thin layers over it.
//!
//! ```no_run
//! # fn demo(transport: Box<dyn cpscard::transport::Transport>) -> Result<(), cpscard::token::TokenError> {
//! use cpscard::token::{Token, TokenOptions};
//! use cpscard::sign::{Mechanism, PinSource};
//! let mut token = Token::open(transport, TokenOptions::default())?;
//! println!("{} ({}), serial {}", token.info().label, token.info().model, token.info().serial);
//! for cert in token.certificates() {
//!     println!("{}: {}", cert.label, cert.parsed.subject.to_rfc4514());
//! }
//! let who = token.identity()?;
//! println!("{} {} ({:?} {})", who.given_name.unwrap_or_default(),
//!          who.surname.unwrap_or_default(), who.id_type, who.id_nat);
//! token.login(PinSource::given("1234")?)?;
//! let key = token.authentication_key().expect("an authentication key").id.clone();
//! let signature = token.sign(&key, Mechanism::Sha256RsaPkcs, b"hello")?;
//! # let _ = signature; Ok(()) }
//! ```

mod cache;
mod certificate;
mod crypto_ops;
mod data;
mod error;
mod identity;
mod name;
mod objects;
mod open;
mod pin;

pub use cache::{CardIdentity, DiskCache};
pub use certificate::{Date, KeyUsageBits, ParsedCertificate, Validity};
pub use error::TokenError;
pub use identity::{type_code_from_id_card, CardCategory, HolderIdentity, IdType};
pub use name::{oid, DistinguishedName, NameAttribute};
pub use objects::{
    Certificate, DataLocation, DataObjectInfo, KeyUsage, ObjectId, PrivateKey, PublicKeyObject,
};
pub use pin::PinState;

use crate::card::{CardBinding, CardDriver, CardKind, KeyRole, PinKind, PinStatus};
use crate::sign::MechanismInfo;
use crate::transport::{PinpadCaps, Transport};
use std::path::PathBuf;
use std::time::Duration;

/// Whether and where to keep public card files between runs ([`DiskCache`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheChoice {
    /// Read everything from the card (the default: tests run with and without a cache).
    #[default]
    Off,
    /// `$XDG_CACHE_HOME/cpscard` or `~/.cache/cpscard`.
    Default,
    /// This directory.
    Dir(PathBuf),
}

/// How to open a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    pub cache: CacheChoice,
    /// How long a PIN/PUK tries counter read from the card is shown without asking the card
    /// again (applications such as Firefox poll C_GetTokenInfo). PIN commands update it at
    /// once from their answer; card events clear it. The value of the writable data object
    /// (CPS_DATA, which another application may change) is kept as long.
    pub pin_status_max_age: Duration,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            cache: CacheChoice::Off,
            pin_status_max_age: Duration::from_secs(2),
        }
    }
}

impl TokenOptions {
    /// The default options with the default cache directory.
    pub fn with_default_cache() -> Self {
        TokenOptions {
            cache: CacheChoice::Default,
            ..Self::default()
        }
    }

    /// The default options with a cache in `dir`.
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Self {
        TokenOptions {
            cache: CacheChoice::Dir(dir.into()),
            ..Self::default()
        }
    }
}

/// Token facts that do not change while the card is in (objects.md §2). The live PIN state
/// is [`Token::pin_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// TokenInfo label of the card, without any PIN-label suffix; `(unknown)` if absent.
    pub label: String,
    /// TokenInfo manufacturerID, `(unknown)` if absent.
    pub manufacturer: String,
    /// `IAS ECC` (CPS3) or `ChipDoc` (CPS4): the intended values (the original shows
    /// `IAS ECC` for CPS4 too, objects.md §2).
    pub model: String,
    /// The 8 serial digits of EF.SN.ICC (e.g. `12345678`).
    pub serial: String,
    /// The full PAN (19 digits).
    pub pan: String,
    pub card_kind: CardKind,
    pub reader: String,
    /// The card has a random generator (GET CHALLENGE: CKF_RNG).
    pub has_rng: bool,
    /// A user PIN exists (CKF_LOGIN_REQUIRED, CKF_USER_PIN_INITIALIZED); false on the CPS3
    /// contactless interface.
    pub has_pin: bool,
    /// PIN lengths from the AODF (4/4 on CPS cards; 4/8 without a PIN, objects.md §2).
    pub pin_min_len: usize,
    pub pin_max_len: usize,
    /// The reader's pinpad (CKF_PROTECTED_AUTHENTICATION_PATH).
    pub pinpad: Option<PinpadCaps>,
}

/// An open token. Methods that talk to the card take `&mut self`; the PKCS#11 module holds
/// one per slot behind its slot lock.
pub struct Token {
    driver: Box<dyn CardDriver>,
    binding: CardBinding,
    info: TokenInfo,
    certificates: Vec<Certificate>,
    private_keys: Vec<PrivateKey>,
    public_keys: Vec<PublicKeyObject>,
    data_objects: Vec<DataObjectInfo>,
    data_sizes: std::collections::HashMap<ObjectId, usize>,
    /// Public data objects' values and when they were read (data.rs).
    data_values: std::collections::HashMap<ObjectId, (Vec<u8>, std::time::Instant)>,
    identity: Option<HolderIdentity>,
    pins: pin::PinCache,
    options: TokenOptions,
    cache_dir: Option<PathBuf>,
}

impl Token {
    /// Token facts (no APDU).
    pub fn info(&self) -> &TokenInfo {
        &self.info
    }

    /// The options the token was opened with.
    pub fn options(&self) -> &TokenOptions {
        &self.options
    }

    /// What the card declares (PKCS#15 files as parsed).
    pub fn binding(&self) -> &CardBinding {
        &self.binding
    }

    /// The reader and card underneath (reader name, ATR, pinpad, APDU access for tools).
    pub fn driver(&self) -> &dyn CardDriver {
        &*self.driver
    }

    /// Mutable access to the driver (raw card operations for tools; the token's cached PIN
    /// state is not updated by what is done there).
    pub fn driver_mut(&mut self) -> &mut dyn CardDriver {
        &mut *self.driver
    }

    /// Gives the transport back (closing the token).
    pub fn into_transport(self) -> Box<dyn Transport> {
        self.driver.into_transport()
    }

    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    pub fn private_keys(&self) -> &[PrivateKey] {
        &self.private_keys
    }

    pub fn public_keys(&self) -> &[PublicKeyObject] {
        &self.public_keys
    }

    pub fn data_objects(&self) -> &[DataObjectInfo] {
        &self.data_objects
    }

    /// Every object's id: certificates, private keys, public keys, data objects.
    pub fn object_ids(&self) -> Vec<ObjectId> {
        self.certificates
            .iter()
            .map(|c| c.id.clone())
            .chain(self.private_keys.iter().map(|k| k.id.clone()))
            .chain(self.public_keys.iter().map(|k| k.id.clone()))
            .chain(self.data_objects.iter().map(|d| d.id.clone()))
            .collect()
    }

    pub fn certificate(&self, id: &ObjectId) -> Option<&Certificate> {
        self.certificates.iter().find(|c| &c.id == id)
    }

    pub fn private_key(&self, id: &ObjectId) -> Option<&PrivateKey> {
        self.private_keys.iter().find(|k| &k.id == id)
    }

    pub fn public_key(&self, id: &ObjectId) -> Option<&PublicKeyObject> {
        self.public_keys.iter().find(|k| &k.id == id)
    }

    pub fn data_object(&self, id: &ObjectId) -> Option<&DataObjectInfo> {
        self.data_objects.iter().find(|d| &d.id == id)
    }

    /// The data object with this label.
    pub fn data_object_by_label(&self, label: &str) -> Option<&DataObjectInfo> {
        self.data_objects.iter().find(|d| d.label == label)
    }

    /// The object whose [`ObjectId::key`] is `key`.
    pub fn object_by_key(&self, key: u64) -> Option<ObjectId> {
        self.object_ids().into_iter().find(|id| id.key() == key)
    }

    /// The key of a role (`CPS_PRIV_AUT`, `CPS_PRIV_SIG`, `CPS_PRIV_TECH_AUT`).
    pub fn key_with_role(&self, role: KeyRole) -> Option<&PrivateKey> {
        self.private_keys.iter().find(|k| k.role == role)
    }

    /// The authentication key (TLS client authentication, decryption), or on the CPS3
    /// contactless interface the technical key.
    pub fn authentication_key(&self) -> Option<&PrivateKey> {
        self.key_with_role(KeyRole::Authentication)
            .or_else(|| self.key_with_role(KeyRole::Technical))
    }

    /// The non-repudiation signature key.
    pub fn signature_key(&self) -> Option<&PrivateKey> {
        self.key_with_role(KeyRole::Signature)
    }

    /// The certificate of a key.
    pub fn certificate_of(&self, key: &PrivateKey) -> Option<&Certificate> {
        key.certificate.as_ref().and_then(|id| self.certificate(id))
    }

    /// Every mechanism some key of this card supports (objects.md §6 recommended lists),
    /// flags and key sizes merged. The module adds its software digests in front.
    pub fn mechanisms(&self) -> Vec<MechanismInfo> {
        let caps: Vec<_> = self
            .private_keys
            .iter()
            .map(|k| k.capabilities.clone())
            .collect();
        crate::sign::capabilities::merge(&caps)
    }

    /// The holder, decoded from the authentication certificate and (type code) `CPS_ID_CARD`,
    /// which is read once (a few APDUs) and remembered.
    pub fn identity(&mut self) -> Result<HolderIdentity, TokenError> {
        if let Some(id) = &self.identity {
            return Ok(id.clone());
        }
        let cert = self
            .identity_certificate()
            .ok_or(TokenError::ObjectNotFound)?;
        let parsed = cert.parsed.clone();
        let id_card = match self.data_object_by_label("CPS_ID_CARD") {
            Some(d) if !d.private => {
                let id = d.id.clone();
                match self.read_data(&id) {
                    Ok(v) => Some(v),
                    Err(e) if e.is_card_event() => return Err(e),
                    Err(e) => {
                        log::info!(target: "token", "CPS_ID_CARD unreadable ({e}): type code unknown");
                        None
                    }
                }
            }
            _ => None,
        };
        let identity = HolderIdentity::decode(&parsed, id_card.as_deref());
        self.identity = Some(identity.clone());
        Ok(identity)
    }

    /// The holder as the certificate alone says (no APDU; no type code, so CPS and CPF are
    /// not told apart).
    pub fn identity_from_certificate(&self) -> Option<HolderIdentity> {
        self.identity_certificate()
            .map(|c| HolderIdentity::decode(&c.parsed, None))
    }

    fn identity_certificate(&self) -> Option<&Certificate> {
        self.authentication_key()
            .and_then(|k| self.certificate_of(k))
            .or_else(|| self.certificates.iter().find(|c| !c.authority))
    }

    /// The cache directory in use, if any.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir.as_deref()
    }

    /// Forgets this card's cached files (the next open reads the card).
    pub fn clear_cache(&self) -> std::io::Result<()> {
        match &self.cache_dir {
            Some(dir) => DiskCache::new(dir).clear_card(&self.binding.cache_key()),
            None => Ok(()),
        }
    }

    /// Runs a driver operation; card events and "PIN not verified" answers clear the cached
    /// PIN state so that the next status is read from the card.
    pub(crate) fn card<T>(
        &mut self,
        op: impl FnOnce(&mut dyn CardDriver) -> Result<T, crate::card::CardError>,
    ) -> Result<T, TokenError> {
        let resets = self.driver.card_resets();
        let r = op(&mut *self.driver).map_err(TokenError::from);
        self.after_card_operation(resets, &r);
        r
    }

    /// Card events seen during an operation clear the cached PIN state: an error saying so,
    /// or a reset the driver recovered from (its replayed operation may have succeeded).
    pub(crate) fn after_card_operation<T>(
        &mut self,
        resets_before: u64,
        r: &Result<T, TokenError>,
    ) {
        if self.driver.card_resets() != resets_before {
            self.pins.forget_all();
        }
        if let Err(e) = r {
            match e {
                TokenError::CardReset | TokenError::CardRemoved => self.pins.forget_all(),
                TokenError::NotLoggedIn => self.pins.forget(PinKind::User),
                _ => {}
            }
        }
    }

    fn user_pin_kind_status(&self) -> Option<PinStatus> {
        self.pins.get(PinKind::User)
    }
}
