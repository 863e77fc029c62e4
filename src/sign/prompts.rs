//! Every text shown to the user when a PIN is asked, in one place (French by default, as the
//! cards' own labels; a caller such as the CLI may supply other [`PromptTexts`]).

use super::pin_entry::{PinPurpose, PinRequest};
use crate::card::PinKind;

/// The words of a PIN request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTexts {
    /// Window title.
    pub title: String,
    /// `{serial}` is replaced by the card serial: `Carte CPS {serial}`.
    pub card: String,
    pub pin: String,
    pub puk: String,
    pub old_pin: String,
    pub new_pin: String,
    /// `{n}` is replaced by the number: `{n} essais restants`.
    pub tries_many: String,
    pub tries_one: String,
    /// Label before the entry field.
    pub prompt: String,
}

impl Default for PromptTexts {
    fn default() -> Self {
        PromptTexts {
            title: "Carte CPS".into(),
            card: "Carte CPS {serial}".into(),
            pin: "PIN".into(),
            puk: "code de déblocage (PUK)".into(),
            old_pin: "PIN actuel".into(),
            new_pin: "nouveau PIN".into(),
            tries_many: "{n} essais restants".into(),
            tries_one: "dernier essai".into(),
            prompt: "PIN :".into(),
        }
    }
}

impl PromptTexts {
    /// `Carte CPS 12345678 — PIN (2 essais restants)`.
    pub fn describe(&self, r: &PinRequest) -> String {
        let what = match (r.kind, r.purpose) {
            (PinKind::Puk, _) => &self.puk,
            (_, PinPurpose::ChangeOld) => &self.old_pin,
            (_, PinPurpose::ChangeNew | PinPurpose::NewPin) => &self.new_pin,
            _ => &self.pin,
        };
        let card = self.card.replace("{serial}", &r.serial);
        // the tries counter concerns the code being verified, not a new one
        let tries = match (r.purpose, r.tries_left) {
            (PinPurpose::ChangeNew | PinPurpose::NewPin, _) | (_, None) => None,
            (_, Some(1)) => Some(self.tries_one.clone()),
            (_, Some(n)) => Some(self.tries_many.replace("{n}", &n.to_string())),
        };
        match tries {
            Some(t) => format!("{card} — {what} ({t})"),
            None => format!("{card} — {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: PinKind, purpose: PinPurpose, tries: Option<u8>) -> PinRequest {
        PinRequest {
            kind,
            purpose,
            label: "CPS3v3-12345678".into(),
            serial: "12345678".into(),
            tries_left: tries,
            max_tries: kind.max_tries(),
        }
    }

    #[test]
    fn descriptions() {
        let t = PromptTexts::default();
        assert_eq!(
            t.describe(&req(PinKind::User, PinPurpose::Login, Some(2))),
            "Carte CPS 12345678 — PIN (2 essais restants)"
        );
        assert_eq!(
            t.describe(&req(PinKind::User, PinPurpose::Login, Some(1))),
            "Carte CPS 12345678 — PIN (dernier essai)"
        );
        assert_eq!(
            t.describe(&req(PinKind::Puk, PinPurpose::Unblock, Some(10))),
            "Carte CPS 12345678 — code de déblocage (PUK) (10 essais restants)"
        );
        assert_eq!(
            t.describe(&req(PinKind::User, PinPurpose::NewPin, Some(3))),
            "Carte CPS 12345678 — nouveau PIN"
        );
    }
}
