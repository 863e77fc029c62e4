//! Opening a token: driver by ATR, binding (through the persistent cache when asked: a cached
//! card recognised by a certificate's head, else EF.SN.ICC read and the cached files given a
//! content check), certificates, then the objects of objects.md §3-§5. No PIN is queried
//! here: the first [`Token::pin_status`] does it.

use super::cache::{CardIdentity, DiskCache};
use super::certificate::ParsedCertificate;
use super::objects::{
    key_usage_of, Certificate, DataLocation, DataObjectInfo, ObjectId, PrivateKey, PublicKeyObject,
};
use super::{pin, CacheChoice, Token, TokenError, TokenInfo, TokenOptions};
use crate::card::pkcs15::ef_sn::parse_ef_sn;
use crate::card::{
    self, CardBinding, CardDriver, CardKind, Cps2terFile, FileCache, FilePath, KeyRole,
};
use crate::sign::capabilities::KeyCapabilities;
use crate::transport::Transport;

/// Bytes of a cached certificate compared with the card's: the DER headers, version, serial
/// number, signature algorithm and issuer name of the CPS certificates fit (175 bytes in the
/// fixtures), and (issuer, serial number) names one certificate (RFC 5280 §4.1.2.2), issued
/// for a key of one card. 0xE7 is the largest READ BINARY of the ANS driver (CPS3.md §2): one
/// command on both generations.
const HEAD_LEN: usize = 0xE7;

/// Certificate paths a warm open compares at most (one per card layout; a cache holding many
/// layouts of one card kind costs no more than this).
const MAX_PATHS_COMPARED: usize = 2;

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
///
/// With a cache, a card seen before costs one SELECT + READ BINARY (issue 7 item 1: a new
/// process proves the card is the same one): the head of each cached card's recorded
/// certificate is compared with what the card holds there; the one cached card it matches
/// gives EF.SN.ICC and every public file. Otherwise EF.SN.ICC is read, and files found in the
/// cache for that serial are used only once the content check passed (a card or image with
/// the same serial and other content is read again).
fn bind(
    driver: &mut dyn CardDriver,
    cache: Option<&mut DiskCache>,
) -> Result<(CardBinding, CertificateFiles), TokenError> {
    let Some(cache) = cache else {
        let binding = driver.bind(None)?;
        let certs = read_certificates(driver, &binding, None)?;
        return Ok((binding, certs));
    };
    let heads = compare_heads(driver, cache)?;
    if let [(key, identity)] = heads.matches().as_slice() {
        // its EF.SN.ICC names its own directory: `compare_heads` keeps no other record
        log::debug!(target: "token", "cache: card {key} recognised by its certificate");
        let binding = driver.bind_known(&identity.ef_sn, Some(cache as &mut dyn FileCache))?;
        let certs = read_certificates(driver, &binding, Some(cache))?;
        return Ok((binding, certs));
    }
    cache.reset_counters();
    let mut binding = driver.bind(Some(cache as &mut dyn FileCache))?;
    let key = binding.cache_key();
    let changed = cache.hits() > 0
        && match heads.verdict(&key) {
            Some(same) => !same,
            None => !content_matches(driver, &binding, cache)?,
        };
    if changed {
        log::info!(
            target: "token",
            "cache: card {} changed since it was cached: reading it again",
            binding.serial.serial
        );
        forget(cache, &key);
        let ef_sn = binding.ef_sn.clone();
        binding = driver.bind_known(&ef_sn, Some(cache as &mut dyn FileCache))?;
    }
    let certs = read_certificates(driver, &binding, Some(cache))?;
    remember(cache, &binding, &certs);
    Ok((binding, certs))
}

fn forget(cache: &DiskCache, key: &str) {
    if let Err(e) = cache.clear_card(key) {
        log::warn!(target: "token", "cache: cannot clear {key}: {e}");
    }
}

/// What comparing the cached certificates' heads with the card's told.
#[derive(Default)]
struct HeadComparison {
    /// (cache key, identity, same head).
    compared: Vec<(String, CardIdentity, bool)>,
}

impl HeadComparison {
    fn matches(&self) -> Vec<(String, CardIdentity)> {
        self.compared
            .iter()
            .filter(|c| c.2)
            .map(|(k, id, _)| (k.clone(), id.clone()))
            .collect()
    }

    /// Whether the cached card `key` was compared, and the answer.
    fn verdict(&self, key: &str) -> Option<bool> {
        self.compared.iter().find(|c| c.0 == key).map(|c| c.2)
    }
}

/// Reads, for the cached cards of this kind, the head of their recorded certificate (one
/// READ per path, whatever the number of cards sharing it) and compares it with theirs.
fn compare_heads(
    driver: &mut dyn CardDriver,
    cache: &mut DiskCache,
) -> Result<HeadComparison, TokenError> {
    let kind = driver.kind();
    let prefix = card::cache_key_prefix(kind);
    let candidates: Vec<(String, CardIdentity)> = cache
        .identities(&prefix)
        .into_iter()
        .filter(|(key, id)| {
            parse_ef_sn(&id.ef_sn).is_ok_and(|s| format!("{prefix}{}", s.pan) == *key)
        })
        .collect();
    let mut paths: Vec<FilePath> = Vec::new();
    for (_, id) in &candidates {
        if !paths.contains(&id.certificate) {
            paths.push(id.certificate.clone());
        }
    }
    let mut out = HeadComparison::default();
    for path in paths.into_iter().take(MAX_PATHS_COMPARED) {
        let cached: Vec<(&String, &CardIdentity, Vec<u8>)> = candidates
            .iter()
            .filter(|(_, id)| id.certificate == path)
            .filter_map(|(key, id)| Some((key, id, cache.get(key, &path)?)))
            .collect();
        if cached.is_empty() {
            continue;
        }
        let live = match driver.read_file_start(&path, HEAD_LEN) {
            Ok(v) => v,
            Err(card::CardError::NotFound) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        for (key, id, der) in cached {
            out.compared
                .push((key.clone(), id.clone(), same_head(&live, &der)));
        }
    }
    Ok(out)
}

/// The card's head of a certificate against the cached file.
fn same_head(live: &[u8], cached: &[u8]) -> bool {
    let n = HEAD_LEN.min(cached.len());
    n > 0 && live.get(..n) == Some(&cached[..n])
}

/// The content check of a card found by its serial whose cache has no identity record (a
/// cache written before records existed, or without certificates): the head of its first
/// certificate. No cached certificate → no match.
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
    let live = match driver.read_file_start(&first.path, HEAD_LEN) {
        Ok(v) => v,
        Err(card::CardError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(same_head(&live, &cached))
}

/// Records how the next process recognises this card: its first certificate, once cached.
fn remember(cache: &mut DiskCache, binding: &CardBinding, certs: &CertificateFiles) {
    let Some(first) = binding.certificates.first() else {
        return;
    };
    if !matches!(certs.first(), Some(Some(_))) {
        return;
    }
    let key = binding.cache_key();
    let identity = CardIdentity {
        ef_sn: binding.ef_sn.clone(),
        certificate: first.path.clone(),
    };
    if cache.identity(&key).as_ref() != Some(&identity) {
        cache.put_identity(&key, &identity);
    }
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
