//! Binding: what a card holds, read with the fewest APDUs. EF.SN.ICC (always from the card:
//! it identifies the card), then ODF, TokenInfo and the directory files the ODF names (AODF,
//! PrKDF, CDF, DODF). EF.DIR is not read: the application DF is fixed per card kind (CPS3.md
//! §3.2: the ANS driver selects `3F00/0001` by path); certificates and data objects are read
//! on demand. An optional [`FileCache`] (keyed by the card serial) skips the public files
//! already known, as the ANS module's cache does (objects.md §9).

use super::detect::CardKind;
use super::path::FilePath;
use super::pkcs15::{
    parse_aodf, parse_cdf, parse_dodf, parse_ef_sn, parse_odf, parse_prkdf, parse_token_info,
    AuthObject, CardSerial, CertificateObject, DataObject, DirectoryKind, Odf, PrivateKeyObject,
    TokenInfo,
};
use super::types::{KeyRef, PinKind};
use super::CardError;

/// A store of public card files, keyed by card serial and path. Only files the binding reads
/// (ODF, TokenInfo, AODF, PrKDF, CDF, DODF) and what the caller stores itself (certificates)
/// go through it; never CPS_DATA or private files.
pub trait FileCache {
    fn get(&mut self, serial: &str, path: &FilePath) -> Option<Vec<u8>>;
    fn put(&mut self, serial: &str, path: &FilePath, content: &[u8]);
}

/// An in-memory [`FileCache`].
#[derive(Debug, Default, Clone)]
pub struct MemoryCache {
    files: std::collections::HashMap<(String, FilePath), Vec<u8>>,
}

impl FileCache for MemoryCache {
    fn get(&mut self, serial: &str, path: &FilePath) -> Option<Vec<u8>> {
        self.files.get(&(serial.to_owned(), path.clone())).cloned()
    }
    fn put(&mut self, serial: &str, path: &FilePath, content: &[u8]) {
        self.files
            .insert((serial.to_owned(), path.clone()), content.to_vec());
    }
}

/// Everything the PKCS#15 application of a card declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardBinding {
    pub kind: CardKind,
    pub serial: CardSerial,
    /// EF.SN.ICC as the card holds it (12 bytes).
    pub ef_sn: Vec<u8>,
    /// The PKCS#15 application DF (`3F00/0001`; contactless `3F00/0002`).
    pub app_df: FilePath,
    pub odf: Odf,
    pub token_info: TokenInfo,
    pub pins: Vec<AuthObject>,
    pub private_keys: Vec<PrivateKeyObject>,
    pub certificates: Vec<CertificateObject>,
    pub data_objects: Vec<DataObject>,
}

impl CardBinding {
    /// The user PIN: the first PIN object that is not a PUK (objects.md §1).
    pub fn user_pin(&self) -> Option<&AuthObject> {
        self.pins.iter().find(|p| !p.is_puk())
    }

    /// The PUK, found by its soPin/unblockingPin flag — not through the PIN's authId, which on
    /// the real CPS3 points at nothing (CPS3.md §5.4).
    pub fn puk(&self) -> Option<&AuthObject> {
        self.pins.iter().find(|p| p.is_puk())
    }

    /// The PIN kind of an AODF object.
    pub fn pin_kind(&self, pin: &AuthObject) -> PinKind {
        if pin.is_puk() {
            PinKind::Puk
        } else {
            PinKind::User
        }
    }

    /// The card key reference of a PrKDF key, if it fits one byte.
    pub fn key_ref(key: &PrivateKeyObject) -> Option<KeyRef> {
        key.key_reference
            .and_then(|r| u8::try_from(r).ok())
            .map(KeyRef)
    }

    /// The certificate of a key (same PKCS#15 ID).
    pub fn certificate_of(&self, key: &PrivateKeyObject) -> Option<&CertificateObject> {
        self.certificates.iter().find(|c| c.id == key.id)
    }

    /// The key under which [`CardDriver::bind`](super::CardDriver::bind) stores this card's
    /// files in a [`FileCache`]; use it to cache certificates the same way.
    pub fn cache_key(&self) -> String {
        cache_key(self.kind, &self.serial)
    }

    /// The private keys with a usable card key reference.
    pub fn keys(&self) -> impl Iterator<Item = (&PrivateKeyObject, KeyRef)> {
        self.private_keys
            .iter()
            .filter_map(|k| Self::key_ref(k).map(|r| (k, r)))
    }

    /// The data object with this label.
    pub fn data_object(&self, label: &str) -> Option<&DataObject> {
        self.data_objects
            .iter()
            .find(|d| d.common.label.as_deref() == Some(label))
    }
}

/// The key a binding files its cached files under: card kind and full PAN (the ANS cache uses
/// the serial only and serves stale files to another card with the same serial, objects.md §9).
fn cache_key(kind: CardKind, serial: &CardSerial) -> String {
    format!("{}{}", cache_key_prefix(kind), serial.pan)
}

/// How the cache keys of every card of `kind` start: its name as a file name would have it
/// (`Cps3Contact-`, `Cps4_T1_-`).
pub fn cache_key_prefix(kind: CardKind) -> String {
    let name: String = format!("{kind:?}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{name}-")
}

/// How the binding reaches files: each driver implements it inside one transaction.
pub(crate) trait FileAccess {
    /// The content of EF.SN.ICC (the cheapest way this card allows).
    fn read_serial(&mut self) -> Result<Vec<u8>, CardError>;
    /// The content of a transparent EF.
    fn read_file(&mut self, path: &FilePath) -> Result<Vec<u8>, CardError>;
}

/// Reads and decodes the card's PKCS#15 application. `ef_sn`: the content of EF.SN.ICC when
/// the caller has already proved which card this is (the token's warm open), else it is read.
pub(crate) fn bind(
    fa: &mut dyn FileAccess,
    kind: CardKind,
    app_df: &FilePath,
    ef_sn: Option<&[u8]>,
    mut cache: Option<&mut dyn FileCache>,
) -> Result<CardBinding, CardError> {
    let ef_sn = match ef_sn {
        Some(known) => known.to_vec(),
        None => fa.read_serial()?,
    };
    let serial =
        parse_ef_sn(&ef_sn).map_err(|e| CardError::NotRecognized(format!("EF.SN.ICC: {e}")))?;
    let cache_key = cache_key(kind, &serial);
    let mut read = |path: &FilePath, optional: bool| -> Result<Option<Vec<u8>>, CardError> {
        if let Some(c) = cache.as_deref_mut() {
            if let Some(content) = c.get(&cache_key, path) {
                return Ok(Some(content));
            }
        }
        match fa.read_file(path) {
            Ok(content) => {
                if let Some(c) = cache.as_deref_mut() {
                    c.put(&cache_key, path, &content);
                }
                Ok(Some(content))
            }
            Err(CardError::NotFound) if optional => {
                log::warn!(target: "card", "{path} listed in the ODF is absent");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    let odf_bytes = read(&app_df.child(0x5031), false)?.unwrap_or_default();
    let odf = parse_odf(&odf_bytes, app_df)?;
    let token_info = parse_token_info(&read(&app_df.child(0x5032), false)?.unwrap_or_default())?;
    // A directory file's relative paths are resolved against the DF that holds it (the
    // current DF once it is read, ISO 7816-4 §5.3.1.1): the same as the application DF on
    // the contact interface; on the contactless one the xDFs live in 0001 (CPS3.md §10).
    let mut dir = |k: DirectoryKind| -> Result<Option<(Vec<u8>, FilePath)>, CardError> {
        match odf.path_of(k) {
            Some(p) => Ok(read(p, true)?.map(|b| (b, p.parent()))),
            None => Ok(None),
        }
    };
    let pins = match dir(DirectoryKind::AuthObjects)? {
        Some((b, _)) => parse_aodf(&b)?,
        None => Vec::new(),
    };
    let private_keys = match dir(DirectoryKind::PrivateKeys)? {
        Some((b, df)) => parse_prkdf(&b, &df)?,
        None => Vec::new(),
    };
    let certificates = match dir(DirectoryKind::Certificates)? {
        Some((b, df)) => parse_cdf(&b, &df)?,
        None => Vec::new(),
    };
    let data_objects = match dir(DirectoryKind::DataObjects)? {
        Some((b, df)) => parse_dodf(&b, &df)?,
        None => Vec::new(),
    };
    Ok(CardBinding {
        kind,
        serial,
        ef_sn,
        app_df: app_df.clone(),
        odf,
        token_info,
        pins,
        private_keys,
        certificates,
        data_objects,
    })
}
