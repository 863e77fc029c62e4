//! Helpers of the driver ↔ emulator integration tests.
#![allow(dead_code)]

use cpscard::card::{
    connect, CardBinding, CardDriver, CardError, DecipherPadding, FilePath, HashAlg, KeyRef,
    MemoryCache, Pin, PinKind, SignAlgorithm,
};
use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation, Interface};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

pub type Card = Arc<Mutex<EmulatedCard>>;

/// A driver over a built-in emulated card, and the card for counters and faults.
pub fn emulated(generation: Generation, name: &str) -> (Box<dyn CardDriver>, Card) {
    emulated_card(EmulatedCard::builtin(generation, name).unwrap())
}

/// Each built-in card of `generation` (fixtures), bound then logged in, with its name.
pub fn bound_fixture_cards(
    generation: Generation,
) -> impl Iterator<Item = (&'static str, Box<dyn CardDriver>, Card, CardBinding)> {
    ["cps", "cpf", "cpe", "cpa", "cde", "cps-expired"]
        .into_iter()
        .map(move |name| {
            let (mut d, card) = emulated(generation, name);
            let b = d.bind(None).unwrap();
            login(&mut *d, &card);
            (name, d, card, b)
        })
}

pub fn emulated_with(generation: Generation, interface: Interface) -> (Box<dyn CardDriver>, Card) {
    let mut card = EmulatedCard::builtin(generation, "cps").unwrap();
    card.set_interface(interface).unwrap();
    emulated_card(card)
}

pub fn emulated_card(card: EmulatedCard) -> (Box<dyn CardDriver>, Card) {
    let reader = EmulatedReader::new(card);
    let handle = reader.card();
    let driver = connect(Box::new(reader)).unwrap();
    (driver, handle)
}

/// A second driver over the same emulated card (as another process would connect).
pub fn emulated_card_from(card: &Card) -> (Box<dyn CardDriver>, Card) {
    let reader = EmulatedReader::from_shared(card.clone());
    (connect(Box::new(reader)).unwrap(), card.clone())
}

/// `d` binds with an empty cache, then a second driver over the same card (a new process) binds
/// with the cache filled: the same binding. Returns the APDUs of the second binding.
pub fn warm_cache_bind_apdus(d: &mut dyn CardDriver, card: &Card) -> u64 {
    let mut cache = MemoryCache::default();
    let first = d.bind(Some(&mut cache)).unwrap();
    let (mut d2, _) = emulated_card_from(card);
    let before = apdus(card);
    assert_eq!(d2.bind(Some(&mut cache)).unwrap(), first);
    apdus(card) - before
}

/// The binding's private keys are `keys`, in order, and the certificate of each, read from the
/// card, has the public key of the image's.
pub fn assert_keys_and_certificates(
    d: &mut dyn CardDriver,
    card: &Card,
    b: &CardBinding,
    keys: [KeyRef; 2],
) {
    let refs: Vec<_> = b
        .private_keys
        .iter()
        .filter_map(CardBinding::key_ref)
        .collect();
    assert_eq!(refs, keys);
    let (sig_key, aut_key) = image_keys(card);
    for (key, expected) in b.private_keys.iter().zip([&sig_key, &aut_key]) {
        let cert = b.certificate_of(key).unwrap();
        let der = d.read_file(&cert.path).unwrap();
        assert_eq!(&cert_key(&der), expected, "{}", cert.path);
    }
}

/// APDUs the card received so far.
pub fn apdus(card: &Card) -> u64 {
    card.lock().unwrap().stats().apdus
}

/// VERIFY commands carrying a code, for reference `p2`.
pub fn verifies_with_data(card: &Card, p2: u8) -> u64 {
    card.lock()
        .unwrap()
        .stats()
        .verify_with_data
        .get(&p2)
        .copied()
        .unwrap_or(0)
}

/// The RSA public key of a DER certificate.
pub fn cert_key(der: &[u8]) -> RsaPublicKey {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    RsaPublicKey::from_public_key_der(cert.public_key().raw).unwrap()
}

/// Public keys of the card's signature and authentication certificates (from its image).
pub fn image_keys(card: &Card) -> (RsaPublicKey, RsaPublicKey) {
    let c = card.lock().unwrap();
    (
        cert_key(&c.image().sign.cert),
        cert_key(&c.image().auth.cert),
    )
}

/// PIN and PUK of the card image.
pub fn codes(card: &Card) -> (String, String) {
    let c = card.lock().unwrap();
    (c.image().pin.clone(), c.image().puk.clone())
}

/// VERIFY with the PIN of the card image.
pub fn login(d: &mut dyn CardDriver, card: &Card) {
    let (pin, _) = codes(card);
    d.verify(&Pin::user(&pin).unwrap()).unwrap();
}

/// VERIFY with the PIN of the card image, then the signature key `sig` signs `msg` (SHA-1
/// PKCS#1 v1.5), verified with the image's signature certificate.
pub fn login_and_sign_sha1(d: &mut dyn CardDriver, card: &Card, sig: KeyRef, msg: &[u8]) {
    let (sig_key, _) = image_keys(card);
    login(d, card);
    let alg = SignAlgorithm::Pkcs1Message(HashAlg::Sha1);
    sign_verified(d, sig, alg, msg, &sig_key);
}

/// A user PIN that is not the card image's.
pub fn wrong_pin(card: &Card) -> Pin {
    let (pin, _) = codes(card);
    Pin::user(if pin == "0000" { "1111" } else { "0000" }).unwrap()
}

/// Signs `input` with `key` and checks the signature with `public`, outside the driver (rsa,
/// sha1, sha2): PKCS#1 v1.5 over the hash of the message (`Pkcs1Message`), over the digest
/// given (`Pkcs1Digest`) or over the input as the whole DigestInfo part (`Pkcs1Raw`: a
/// DigestInfo, or TLS 1.1's MD5‖SHA-1); PSS over the digest; raw RSA raised to the public
/// exponent gives the input back. Returns the signature.
pub fn sign_verified(
    d: &mut dyn CardDriver,
    key: KeyRef,
    alg: SignAlgorithm,
    input: &[u8],
    public: &RsaPublicKey,
) -> Vec<u8> {
    let sig = d
        .sign(key, alg, input)
        .unwrap_or_else(|e| panic!("sign({key:?}, {alg:?}): {e}"));
    let pkcs1 = |h| match h {
        HashAlg::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
    };
    let checked = match alg {
        SignAlgorithm::Pkcs1Message(h) => {
            let digest = match h {
                HashAlg::Sha1 => Sha1::digest(input).to_vec(),
                HashAlg::Sha256 => Sha256::digest(input).to_vec(),
            };
            public.verify(pkcs1(h), &digest, &sig)
        }
        SignAlgorithm::Pkcs1Digest(h) => public.verify(pkcs1(h), input, &sig),
        SignAlgorithm::Pkcs1Raw => public.verify(Pkcs1v15Sign::new_unprefixed(), input, &sig),
        SignAlgorithm::PssDigest(HashAlg::Sha1) => public.verify(Pss::new::<Sha1>(), input, &sig),
        SignAlgorithm::PssDigest(HashAlg::Sha256) => {
            public.verify(Pss::new::<Sha256>(), input, &sig)
        }
        SignAlgorithm::RawRsa => {
            let back = BigUint::from_bytes_be(&sig).modpow(public.e(), public.n());
            let block = BigUint::from_bytes_be(input);
            assert!(
                back == block,
                "raw RSA with {key:?}: sig^e is not the block"
            );
            Ok(())
        }
    };
    checked.unwrap_or_else(|e| panic!("{key:?} {alg:?} ({} input bytes): {e}", input.len()));
    sig
}

/// Three wrong user PINs on a fresh card: 2, 1 then 0 tries left, each VERIFY sent once
/// (`reference` = its P2), the state read back after the first; then the PIN is blocked and
/// the right one is refused.
pub fn wrong_pins_block_the_pin(d: &mut dyn CardDriver, card: &Card, reference: u8) {
    let wrong = wrong_pin(card);
    let sent = verifies_with_data(card, reference);
    assert_eq!(
        d.verify(&wrong),
        Err(CardError::PinIncorrect { tries_left: 2 })
    );
    assert_eq!(
        verifies_with_data(card, reference),
        sent + 1,
        "never retried"
    );
    assert_eq!(d.pin_status(PinKind::User).unwrap().tries_left(), 2);
    for tries_left in [1, 0] {
        assert_eq!(
            d.verify(&wrong),
            Err(CardError::PinIncorrect { tries_left })
        );
    }
    assert!(d.pin_status(PinKind::User).unwrap().is_blocked());
    let (pin, _) = codes(card);
    assert_eq!(
        d.verify(&Pin::user(&pin).unwrap()),
        Err(CardError::PinBlocked)
    );
}

/// CPS_DATA at `path` (CPS3.md §6.2, CPS4.md §6.1), the card not logged in yet: writing needs
/// the PIN; after login `data` is written whole, zero-padded to the file size, and read back.
pub fn assert_cps_data_round_trip(
    d: &mut dyn CardDriver,
    card: &Card,
    path: &FilePath,
    data: &[u8],
) {
    assert_eq!(
        d.write_file(path, data),
        Err(CardError::SecurityNotSatisfied)
    );
    login(d, card);
    d.write_file(path, data).unwrap();
    let back = d.read_file(path).unwrap();
    assert_eq!(&back[..data.len()], data);
    assert!(back[data.len()..].iter().all(|b| *b == 0));
    assert_eq!(back.len(), d.file_size(path).unwrap());
}

/// A driver over the built-in `cps` card of `generation`, bound and logged in; then another
/// application resets the card during a PIN status: the driver reconnects, the next signature
/// with the signature key `sig` is replayed once and refused (the PIN state is gone); after a new
/// login it signs again, verified with the image's signature certificate. Returns the driver,
/// logged in, and the card.
pub fn a_reset_loses_the_login(generation: Generation, sig: KeyRef) -> (Box<dyn CardDriver>, Card) {
    let (mut d, card) = emulated(generation, "cps");
    d.bind(None).unwrap();
    login(&mut *d, &card);
    let (sig_key, _) = image_keys(&card);
    card.lock().unwrap().faults_mut().reset_after = Some(1);
    d.pin_status(PinKind::User).unwrap(); // the APDU that triggers it
    let alg = SignAlgorithm::Pkcs1Message(HashAlg::Sha256);
    assert_eq!(d.sign(sig, alg, b"x"), Err(CardError::SecurityNotSatisfied));
    login(&mut *d, &card);
    sign_verified(&mut *d, sig, alg, b"x", &sig_key);
    (d, card)
}

/// Each built-in card of `generation`, bound and logged in: `check` looks at the card and its
/// binding, then the authentication key `aut` signs the SHA-256 digest of the card's name with
/// `alg`, verified with the image's authentication certificate.
pub fn every_fixture_card_signs(
    generation: Generation,
    aut: KeyRef,
    alg: SignAlgorithm,
    check: impl Fn(&str, &Card, &CardBinding),
) {
    for (name, mut d, card, b) in bound_fixture_cards(generation) {
        check(name, &card, &b);
        let (_, aut_key) = image_keys(&card);
        let digest = Sha256::digest(name.as_bytes());
        sign_verified(&mut *d, aut, alg, &digest, &aut_key);
    }
}

/// The signatures a TLS client asks of the authentication key `aut` (logged in), each verified
/// with `public`: CKM_RSA_PKCS over a TLS 1.2 DigestInfo (SHA-256) and over TLS 1.1's
/// MD5‖SHA-1 (36 bytes, no DigestInfo), and hash-and-sign with SHA-1 and SHA-256.
pub fn tls_client_signatures(d: &mut dyn CardDriver, aut: KeyRef, public: &RsaPublicKey) {
    let digest = Sha256::digest(b"handshake");
    let di = cpscard::card::rsa_pad::digest_info(HashAlg::Sha256, &digest).unwrap();
    sign_verified(d, aut, SignAlgorithm::Pkcs1Raw, &di, public);
    sign_verified(d, aut, SignAlgorithm::Pkcs1Raw, &[0x5A; 36], public);
    for h in [HashAlg::Sha1, HashAlg::Sha256] {
        sign_verified(d, aut, SignAlgorithm::Pkcs1Message(h), b"hello", public);
    }
}

/// `secret` enciphered (PKCS#1 v1.5) with `public` comes back from `aut` (logged in) with the
/// padding removed. Returns the cryptogram.
pub fn deciphers(
    d: &mut dyn CardDriver,
    aut: KeyRef,
    public: &RsaPublicKey,
    secret: &[u8],
) -> Vec<u8> {
    let c = public
        .encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, secret)
        .unwrap();
    let p = d.decipher(aut, DecipherPadding::Pkcs1v15, &c).unwrap();
    assert_eq!(&*p, secret);
    c
}
