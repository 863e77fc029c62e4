//! A test double of the token layer (NOT a card: it exists only in these tests) that records
//! what the module asks of it, so that the tests can check the module's bookkeeping: sessions,
//! shared login state, object handles, templates, operation state, the two-call convention.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use cps_pkcs11::backend::*;
use cps_pkcs11::error::{Error, Result};
use cryptoki_sys::*;

/// What the double's card is doing, and what it was asked.
#[derive(Debug, Default)]
pub struct Shared {
    pub present: bool,
    pub recognized: bool,
    pub insertion: u64,
    pub logged_in: Option<UserType>,
    pub sign_calls: usize,
    pub last_signed: Vec<u8>,
    pub decrypt_calls: usize,
    pub login_calls: usize,
    pub logout_calls: usize,
    pub reads: usize,
    pub info_calls: usize,
}

pub type Handle = Arc<Mutex<Shared>>;

pub const READER: &str = "Test double reader";
pub const PIN: &[u8] = b"1234";
pub const MODULUS_LEN: usize = 256;

/// Object keys of the double.
pub const CERT: ObjectKey = 1;
pub const PRIV_KEY: ObjectKey = 2;
pub const PUB_KEY: ObjectKey = 3;
pub const DATA_PUBLIC: ObjectKey = 4;
pub const DATA_PRIVATE: ObjectKey = 5;

pub struct Source(pub Handle);
pub struct Device(pub Handle);
pub struct Token(pub Handle);

impl SlotSource for Source {
    fn reader_names(&self) -> Result<Vec<String>> {
        Ok(vec![READER.to_string()])
    }
    fn open(&self, _name: &str) -> Result<Box<dyn SlotDevice>> {
        Ok(Box::new(Device(self.0.clone())))
    }
}

impl SlotDevice for Device {
    fn description(&self) -> SlotDescription {
        SlotDescription::reader(READER)
    }
    fn card_state(&mut self) -> Result<CardState> {
        let s = self.0.lock().unwrap();
        Ok(if s.present {
            CardState::Present {
                insertion: s.insertion,
            }
        } else {
            CardState::Absent
        })
    }
    fn token(&mut self) -> Result<Box<dyn TokenBackend>> {
        let s = self.0.lock().unwrap();
        if !s.present {
            return Err(Error::TokenNotPresent);
        }
        if !s.recognized {
            return Err(Error::TokenNotRecognized);
        }
        Ok(Box::new(Token(self.0.clone())))
    }
}

fn modulus() -> Vec<u8> {
    let mut m = vec![0xC5; MODULUS_LEN];
    m[MODULUS_LEN - 1] = 0x01;
    m
}

impl TokenBackend for Token {
    fn info(&mut self) -> Result<TokenDescription> {
        let mut s = self.0.lock().unwrap();
        s.info_calls += 1;
        Ok(TokenDescription {
            label: "TEST DOUBLE".into(),
            manufacturer: "tests".into(),
            model: "double".into(),
            serial_number: "00000001".into(),
            flags: CKF_TOKEN_INITIALIZED | CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED,
            min_pin_len: 4,
            max_pin_len: 4,
        })
    }
    fn mechanisms(&self) -> Vec<MechanismDescription> {
        vec![
            MechanismDescription {
                mechanism: CKM_RSA_PKCS,
                min_key_bits: 2048,
                max_key_bits: 2048,
                flags: CKF_HW | CKF_SIGN | CKF_DECRYPT,
            },
            MechanismDescription {
                mechanism: CKM_SHA256_RSA_PKCS,
                min_key_bits: 2048,
                max_key_bits: 2048,
                flags: CKF_SIGN,
            },
            MechanismDescription {
                mechanism: CKM_SHA256_RSA_PKCS_PSS,
                min_key_bits: 2048,
                max_key_bits: 2048,
                flags: CKF_SIGN,
            },
        ]
    }
    fn objects(&mut self, logged_in: bool) -> Result<Vec<ObjectEntry>> {
        let _ = logged_in;
        let id = vec![0xE8, 0x28, 0x01];
        Ok(vec![
            ObjectEntry {
                key: CERT,
                attributes: vec![
                    Attribute::ulong(CKA_CLASS, CKO_CERTIFICATE),
                    Attribute::ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
                    Attribute::bool(CKA_TOKEN, true),
                    Attribute::bool(CKA_PRIVATE, false),
                    Attribute::bytes(CKA_LABEL, b"Certificat de Signature CPS".to_vec()),
                    Attribute::bytes(CKA_ID, id.clone()),
                    Attribute::bytes(CKA_VALUE, vec![0x30, 0x03, 0x02, 0x01, 0x00]),
                ],
            },
            ObjectEntry {
                key: PRIV_KEY,
                attributes: vec![
                    Attribute::ulong(CKA_CLASS, CKO_PRIVATE_KEY),
                    Attribute::ulong(CKA_KEY_TYPE, CKK_RSA),
                    Attribute::bool(CKA_TOKEN, true),
                    Attribute::bool(CKA_PRIVATE, true),
                    Attribute::bool(CKA_SIGN, true),
                    Attribute::bool(CKA_DECRYPT, true),
                    Attribute::bytes(CKA_LABEL, b"CPS_PRIV_SIG".to_vec()),
                    Attribute::bytes(CKA_ID, id.clone()),
                    Attribute::bytes(CKA_MODULUS, modulus()),
                    Attribute::ulong(CKA_MODULUS_BITS, 2048),
                    Attribute::sensitive(CKA_PRIVATE_EXPONENT),
                ],
            },
            ObjectEntry {
                key: PUB_KEY,
                attributes: vec![
                    Attribute::ulong(CKA_CLASS, CKO_PUBLIC_KEY),
                    Attribute::ulong(CKA_KEY_TYPE, CKK_RSA),
                    Attribute::bool(CKA_PRIVATE, false),
                    Attribute::bool(CKA_VERIFY, true),
                    Attribute::bytes(CKA_ID, id),
                    Attribute::bytes(CKA_MODULUS, modulus()),
                ],
            },
            ObjectEntry {
                key: DATA_PUBLIC,
                attributes: vec![
                    Attribute::ulong(CKA_CLASS, CKO_DATA),
                    Attribute::bool(CKA_PRIVATE, false),
                    Attribute::bool(CKA_MODIFIABLE, true),
                    Attribute::bytes(CKA_LABEL, b"CPS_DATA".to_vec()),
                    Attribute::deferred(CKA_VALUE, Some(5)),
                ],
            },
            ObjectEntry {
                key: DATA_PRIVATE,
                attributes: vec![
                    Attribute::ulong(CKA_CLASS, CKO_DATA),
                    Attribute::bool(CKA_PRIVATE, true),
                    Attribute::bytes(CKA_LABEL, b"CPS_ACTIVITY_01_PS".to_vec()),
                    Attribute::bytes(CKA_VALUE, vec![1, 2, 3]),
                ],
            },
        ])
    }
    fn read_attribute(&mut self, key: ObjectKey, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>> {
        let mut s = self.0.lock().unwrap();
        s.reads += 1;
        match (key, kind) {
            (DATA_PUBLIC, CKA_VALUE) => Ok(b"hello".to_vec()),
            _ => Err(Error::AttributeTypeInvalid),
        }
    }
    fn login(&mut self, user: UserType, pin: Pin<'_>) -> Result<()> {
        let mut s = self.0.lock().unwrap();
        s.login_calls += 1;
        match pin {
            Pin::Given(p) if p == PIN => {
                s.logged_in = Some(user);
                Ok(())
            }
            Pin::Given(p) if p.len() != 4 => Err(Error::PinLenRange),
            Pin::Given(_) => Err(Error::PinIncorrect),
            Pin::ProtectedPath => Err(Error::ArgumentsBad("no protected authentication path")),
        }
    }
    fn logout(&mut self) -> Result<()> {
        let mut s = self.0.lock().unwrap();
        s.logout_calls += 1;
        s.logged_in = None;
        Ok(())
    }
    fn sign(&mut self, key: ObjectKey, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let mut s = self.0.lock().unwrap();
        assert_eq!(key, PRIV_KEY);
        if s.logged_in != Some(UserType::User) {
            return Err(Error::UserNotLoggedIn);
        }
        s.sign_calls += 1;
        s.last_signed = data.to_vec();
        let mut out = vec![0u8; MODULUS_LEN];
        out[0] = mechanism.kind as u8;
        out[1..1 + data.len().min(MODULUS_LEN - 1)]
            .copy_from_slice(&data[..data.len().min(MODULUS_LEN - 1)]);
        Ok(out)
    }
    fn decrypt(&mut self, _key: ObjectKey, _mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>> {
        let mut s = self.0.lock().unwrap();
        s.decrypt_calls += 1;
        Ok(data.iter().rev().copied().take(10).collect())
    }
    fn generate_random(&mut self, out: &mut [u8]) -> Result<()> {
        out.fill(0xAB);
        Ok(())
    }
}

/// Registers a double with a recognised card inserted; returns its handle.
pub fn install() -> Handle {
    let h: Handle = Arc::new(Mutex::new(Shared {
        present: true,
        recognized: true,
        insertion: 1,
        ..Default::default()
    }));
    let h2 = h.clone();
    cps_pkcs11::set_slot_sources(move || {
        Ok(vec![Arc::new(Source(h2.clone())) as Arc<dyn SlotSource>])
    });
    h
}
