//! Opening a token: driver by ATR, binding (through the persistent cache when asked, with its
//! content check), certificates, then the objects of objects.md §3-§5. No PIN is queried
//! here: the first [`Token::pin_status`] does it.

use super::cache::DiskCache;
use super::certificate::ParsedCertificate;
use super::objects::{
    key_usage_of, Certificate, DataLocation, DataObjectInfo, ObjectId, PrivateKey, PublicKeyObject,
};
use super::{pin, CacheChoice, Token, TokenError, TokenInfo, TokenOptions};
use crate::card::{self, CardBinding, CardDriver, CardKind, Cps2terFile, FileCache, KeyRole};
use crate::sign::capabilities::KeyCapabilities;
use crate::transport::Transport;

/// Bytes of the first certificate compared on a warm open: the DER headers, version and the
/// serial number (up to 20 octets, RFC 5280 §4.1.2.2) fit in 48.
const CONTENT_CHECK_LEN: usize = 48;

impl Token {
    /// Opens the card in `transport`. [`TokenError::NotRecognized`] for a card that is not a
    /// CPS card (unknown ATR: no APDU; EF.SN.ICC without the CPS prefix).
    pub fn open(transport: Box<dyn Transport>, options: TokenOptions) -> Result<Token, TokenError> {
        let mut driver = card::connect(transport)?;
        let cache_dir = match &options.cache {
            CacheChoice::Off => None,
            CacheChoice::Default => DiskCache::default_dir(),
            CacheChoice::Dir(d) => Some(d.clone()),
        };
        let mut cache = cache_dir.as_ref().map(DiskCache::new);
        let (binding, certs) = bind(&mut *driver, cache.as_mut())?;
        let token = build(driver, binding, certs, options, cache_dir);
        log::info!(
            target: "token",
            "{}: {} serial {} ({} certificates, {} keys, {} data objects)",
            token.info.reader,
            token.info.card_kind,
            token.info.serial,
            token.certificates.len(),
            token.private_keys.len(),
            token.data_objects.len()
        );
        Ok(token)
    }
}

/// The DER of each CDF certificate, `None` when its file is absent.
type CertificateFiles = Vec<Option<Vec<u8>>>;

/// The binding and the certificates' DER (path order of the CDF).
fn bind(
    driver: &mut dyn CardDriver,
    cache: Option<&mut DiskCache>,
) -> Result<(CardBinding, CertificateFiles), TokenError> {
    let Some(cache) = cache else {
        let binding = driver.bind(None)?;
        let certs = read_certificates(driver, &binding, None)?;
        return Ok((binding, certs));
    };
    cache.reset_counters();
    let binding = driver.bind(Some(cache as &mut dyn FileCache))?;
    let key = binding.cache_key();
    if cache.hits() > 0 && !content_matches(driver, &binding, cache)? {
        log::info!(
            target: "token",
            "cache: card {} changed since it was cached: reading it again",
            binding.serial.serial
        );
        if let Err(e) = cache.clear_card(&key) {
            log::warn!(target: "token", "cache: cannot clear {key}: {e}");
        }
        let binding = driver.bind(Some(cache as &mut dyn FileCache))?;
        let certs = read_certificates(driver, &binding, Some(cache))?;
        return Ok((binding, certs));
    }
    let certs = read_certificates(driver, &binding, Some(cache))?;
    Ok((binding, certs))
}

/// The cheap check that cached files belong to this card: the start of the first certificate
/// (its serial number) as the card has it. No cached certificate → no match.
fn content_matches(
    driver: &mut dyn CardDriver,
    binding: &CardBinding,
    cache: &mut DiskCache,
) -> Result<bool, TokenError> {
    let Some(first) = binding.certificates.first() else {
        // nothing to compare; the PKCS#15 files alone came from the cache
        return Ok(true);
    };
    let Some(cached) = cache.get(&binding.cache_key(), &first.path) else {
        return Ok(false);
    };
    let n = CONTENT_CHECK_LEN.min(cached.len());
    let live = match driver.read_file_start(&first.path, n) {
        Ok(v) => v,
        Err(card::CardError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(live == cached[..n])
}

fn read_certificates(
    driver: &mut dyn CardDriver,
    binding: &CardBinding,
    mut cache: Option<&mut DiskCache>,
) -> Result<CertificateFiles, TokenError> {
    let key = binding.cache_key();
    let mut out = Vec::with_capacity(binding.certificates.len());
    for c in &binding.certificates {
        if let Some(der) = cache.as_deref_mut().and_then(|dc| dc.get(&key, &c.path)) {
            out.push(Some(der));
            continue;
        }
        match driver.read_file(&c.path) {
            Ok(der) => {
                if let Some(dc) = cache.as_deref_mut() {
                    dc.put(&key, &c.path, &der);
                }
                out.push(Some(der));
            }
            Err(card::CardError::NotFound) => {
                log::warn!(target: "token", "certificate {} listed in the CDF is absent", c.path);
                out.push(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

fn build(
    driver: Box<dyn CardDriver>,
    binding: CardBinding,
    certs: CertificateFiles,
    options: TokenOptions,
    cache_dir: Option<std::path::PathBuf>,
) -> Token {
    let kind = binding.kind;
    let mut certificates = Vec::new();
    for (c, der) in binding.certificates.iter().zip(certs) {
        let Some(der) = der else { continue };
        match ParsedCertificate::parse(&der) {
            Ok(parsed) => certificates.push(Certificate {
                id: ObjectId::Certificate(c.id.clone()),
                pkcs15_id: c.id.clone(),
                label: c.common.label.clone().unwrap_or_default(),
                path: c.path.clone(),
                authority: c.authority,
                parsed,
            }),
            Err(e) => log::warn!(target: "token", "certificate {} unreadable: {e}", c.path),
        }
    }

    let mut private_keys = Vec::new();
    for (k, key_ref) in binding.keys() {
        let cert = certificates.iter().find(|c| c.pkcs15_id == k.id);
        let bits = cert
            .map(|c| c.parsed.public_key.bits())
            .or(k.modulus_bits.map(|b| b as usize))
            .unwrap_or(2048);
        let Some(capabilities) = KeyCapabilities::of(&*driver, key_ref, bits) else {
            log::warn!(target: "token", "key {key_ref} is not a key of this card: skipped");
            continue;
        };
        private_keys.push(PrivateKey {
            id: ObjectId::PrivateKey(k.id.clone()),
            pkcs15_id: k.id.clone(),
            label: k.common.label.clone().unwrap_or_default(),
            key_ref,
            role: capabilities.role,
            usage: key_usage_of(&k.usage),
            private: k.common.is_private(),
            bits,
            modulus: cert
                .map(|c| c.parsed.public_key.modulus())
                .unwrap_or_default(),
            public_exponent: cert
                .map(|c| c.parsed.public_key.exponent())
                .unwrap_or_default(),
            certificate: cert.map(|c| c.id.clone()),
            public_key: cert.map(|c| c.parsed.public_key.clone()),
            capabilities,
        });
    }

    let public_keys = certificates
        .iter()
        .filter(|c| !c.authority)
        .map(|c| {
            let key = private_keys.iter().find(|k| k.pkcs15_id == c.pkcs15_id);
            PublicKeyObject {
                id: ObjectId::PublicKey(c.pkcs15_id.clone()),
                pkcs15_id: c.pkcs15_id.clone(),
                label: format!("Cle publique - {}", c.label),
                modulus: c.parsed.public_key.modulus(),
                public_exponent: c.parsed.public_key.exponent(),
                bits: c.parsed.public_key.bits(),
                spki_der: c.parsed.spki_der.clone(),
                verify: true,
                encrypt: key.is_some_and(|k| k.role != KeyRole::Signature && k.usage.decrypt),
                key: c.parsed.public_key.clone(),
            }
        })
        .collect();

    let data_objects = data_objects(&binding);
    let user = binding.user_pin();
    let info = TokenInfo {
        label: binding
            .token_info
            .label
            .clone()
            .unwrap_or_else(|| "(unknown)".into()),
        manufacturer: binding
            .token_info
            .manufacturer_id
            .clone()
            .unwrap_or_else(|| "(unknown)".into()),
        model: kind.model().to_owned(),
        serial: binding.serial.serial.clone(),
        pan: binding.serial.pan.clone(),
        card_kind: kind,
        reader: driver.transport().reader_name().to_owned(),
        // every CPS card answers GET CHALLENGE (README §3)
        has_rng: true,
        has_pin: kind.has_pin() && user.is_some(),
        pin_min_len: user.map_or(4, |p| p.min_length as usize),
        pin_max_len: user.map_or(8, |p| p.max_length.unwrap_or(p.stored_length) as usize),
        pinpad: driver.transport().pinpad(),
    };
    Token {
        driver,
        binding,
        info,
        certificates,
        private_keys,
        public_keys,
        data_objects,
        data_sizes: Default::default(),
        data_values: Default::default(),
        identity: None,
        pins: pin::PinCache::new(options.pin_status_max_age),
        options,
        cache_dir,
    }
}

/// The DODF's objects, plus on a CPS3 contact card the CPS2ter volet's `CPS_SIT_FACT` and one
/// `CPS2TER_ACTIVITY_nn_PS` per `CPS_ACTIVITY_nn_PS` (objects.md §5, CPS3.md §9), private
/// with the PIN, as the ANS library adds them.
fn data_objects(binding: &CardBinding) -> Vec<DataObjectInfo> {
    let mut out: Vec<DataObjectInfo> = binding
        .data_objects
        .iter()
        .map(|d| {
            let location = DataLocation::File(d.path.clone());
            DataObjectInfo {
                id: ObjectId::Data(location.clone()),
                label: d.common.label.clone().unwrap_or_default(),
                application: d.application.clone().unwrap_or_default(),
                private: d.common.is_private(),
                modifiable: d.common.is_modifiable(),
                location,
            }
        })
        .collect();
    if binding.kind == CardKind::Cps3Contact {
        let activities: Vec<u8> = out
            .iter()
            .filter_map(|d| {
                d.label
                    .strip_prefix("CPS_ACTIVITY_")?
                    .strip_suffix("_PS")?
                    .parse::<u8>()
                    .ok()
                    .filter(|n| (1..=16).contains(n))
            })
            .collect();
        let mut volet = vec![("CPS_SIT_FACT".to_owned(), Cps2terFile::SitFact)];
        volet.extend(activities.into_iter().map(|n| {
            (
                format!("CPS2TER_ACTIVITY_{n:02}_PS"),
                Cps2terFile::Activity(n),
            )
        }));
        for (label, file) in volet {
            let location = DataLocation::Cps2ter(file);
            out.push(DataObjectInfo {
                id: ObjectId::Data(location.clone()),
                label,
                application: "CPS".into(),
                private: true,
                modifiable: false,
                location,
            });
        }
    }
    out
}
