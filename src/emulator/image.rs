//! Card images (issue 2 item 4.3): everything one card is — profile choice, holder data, keys,
//! certificates, PIN/PUK values, counters, CPS_DATA — in one JSON file, saved write-through
//! (every change at once, atomically: temp file + rename) so that a blocked card stays blocked
//! across restarts and a killed emulator loses nothing.

use super::EmulatorError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format version of the image file.
pub const IMAGE_FORMAT: u32 = 1;

/// The fixture's `card.json` (`fixtures/cards/<gen>/<card>/card.json`). Unknown fields are kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CardInfo {
    pub generation: String,
    pub card: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub type_code: serde_json::Value,
    /// 8 decimal digits.
    pub serial: String,
    /// Luhn digit of the 18 digits `8025000001 <serial>` (computed when absent).
    #[serde(default)]
    pub luhn: Option<u8>,
    #[serde(default)]
    pub label: String,
    pub pin: String,
    pub puk: String,
    #[serde(default)]
    pub holder: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub not_before: serde_json::Value,
    #[serde(default)]
    pub not_after: serde_json::Value,
    /// Indexes (1..=16) of the practice situations CPS_ACTIVITY_nn_PS.
    #[serde(default)]
    pub activities: Vec<u8>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl CardInfo {
    /// A holder field as text ("" when absent).
    pub fn holder_text(&self, key: &str) -> String {
        match self.holder.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        }
    }

    /// The card type code as text (`"0"`, `"00"`, 0 all accepted).
    pub fn type_code_text(&self) -> String {
        match &self.type_code {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            v => v.to_string(),
        }
    }
}

/// Tries counters (persisted).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counters {
    pub pin_tries: u8,
    pub puk_tries: u8,
    /// PUK usage counter (CPS3.md §5: `9D 02 00 64` = 100 unblocks).
    pub puk_usage: u16,
}

impl Counters {
    pub const PIN_MAX: u8 = 3;
    pub const PUK_MAX: u8 = 10;
    pub const PUK_USAGE: u16 = 100;

    pub fn fresh() -> Counters {
        Counters {
            pin_tries: Self::PIN_MAX,
            puk_tries: Self::PUK_MAX,
            puk_usage: Self::PUK_USAGE,
        }
    }
}

/// Key and certificate bytes, hex in the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyPair {
    /// PKCS#8 DER private key.
    #[serde(with = "hex_bytes")]
    pub key: Vec<u8>,
    /// DER X.509 certificate.
    #[serde(with = "hex_bytes")]
    pub cert: Vec<u8>,
}

/// One card, as saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CardImage {
    pub format: u32,
    pub info: CardInfo,
    pub sign: KeyPair,
    pub auth: KeyPair,
    /// CPS3 contactless technical key (key 83, certificate A003); the authentication pair
    /// stands in when absent [S: the fixtures have no technical key].
    #[serde(default)]
    pub tech: Option<KeyPair>,
    /// Current PIN and PUK (ASCII digits): a card image is test material, like the card's
    /// own memory.
    pub pin: String,
    pub puk: String,
    pub counters: Counters,
    /// CPS_DATA content once written (None: the initial placeholder).
    #[serde(default, with = "opt_hex_bytes")]
    pub cps_data: Option<Vec<u8>>,
    /// EF_ACTUA (`3F00/D010`) content; absent on a fresh card (CPS3.md §3.2).
    #[serde(default, with = "opt_hex_bytes")]
    pub ef_actua: Option<Vec<u8>>,
}

impl CardImage {
    /// A fresh card from the fixture files.
    pub fn from_fixture(info: CardInfo, sign: KeyPair, auth: KeyPair) -> CardImage {
        CardImage {
            format: IMAGE_FORMAT,
            pin: info.pin.clone(),
            puk: info.puk.clone(),
            info,
            sign,
            auth,
            tech: None,
            counters: Counters::fresh(),
            cps_data: None,
            ef_actua: None,
        }
    }

    pub fn load(path: &Path) -> Result<CardImage, EmulatorError> {
        let text = std::fs::read(path).map_err(|e| EmulatorError::Image {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let img: CardImage = serde_json::from_slice(&text).map_err(|e| EmulatorError::Image {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        if img.format != IMAGE_FORMAT {
            return Err(EmulatorError::Image {
                path: path.display().to_string(),
                reason: format!("unknown image format {}", img.format),
            });
        }
        Ok(img)
    }

    /// Writes the image atomically: a temporary file in the same directory, synced, then
    /// renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<(), EmulatorError> {
        use std::io::Write;
        let err = |e: std::io::Error| EmulatorError::Image {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| EmulatorError::Image {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(&json).map_err(err)?;
        f.sync_all().map_err(err)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(err)
    }
}

/// Luhn check digit (ISO/IEC 7812) of a string of decimal digits.
pub fn luhn(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.chars().rev().enumerate() {
        let d = c.to_digit(10)?;
        let v = if i % 2 == 0 { d * 2 } else { d };
        sum += if v > 9 { v - 9 } else { v };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s.trim()).map_err(serde::de::Error::custom)
    }
}

mod opt_hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&hex::encode(v)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => hex::decode(s.trim())
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_of_the_profile_serials() {
        // CPS3.md §3.2: real 99213845 → 0, default 12345678 → 9.
        assert_eq!(luhn("802500000199213845"), Some(0));
        assert_eq!(luhn("802500000112345678"), Some(9));
        assert_eq!(luhn("12x"), None);
    }

    #[test]
    fn card_json_parses_with_extra_fields() {
        let j = r#"{"generation":"cps3","card":"cps","kind":"CPS","type_code":"0","serial":"12345678",
            "luhn":9,"label":"CPS3v3-12345678","pin":"1234","puk":"12345678",
            "holder":{"id_nat":"810002813839","surname":"DUPONT"},"activities":[1,2],"rpps":"1"}"#;
        let info: CardInfo = serde_json::from_str(j).unwrap();
        assert_eq!(info.holder_text("surname"), "DUPONT");
        assert_eq!(info.type_code_text(), "0");
        assert_eq!(info.activities, vec![1, 2]);
        assert!(info.extra.contains_key("rpps"));
    }
}
