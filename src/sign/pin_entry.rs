//! Where a PIN comes from (DESIGN §5): given by the application, asked by a [`PinEntry`]
//! provider (a pinentry program, or the application's own callback), or typed on the reader's
//! pinpad. The token shows the tries left before each entry and checks the format before
//! anything reaches the card.

use super::pinentry::{self, PinPrompt, PinentryError};
use super::prompts::PromptTexts;
use crate::card::{Pin, PinKind};
use crate::token::TokenError;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Why a PIN is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPurpose {
    /// C_Login.
    Login,
    /// The current PIN of a change.
    ChangeOld,
    /// The new PIN of a change.
    ChangeNew,
    /// The PUK of an unblock.
    Unblock,
    /// The new PIN of an unblock.
    NewPin,
}

impl PinPurpose {
    /// True when the code asked for is checked against the card's current code (and so costs
    /// a try): asking for it when that code is blocked is pointless. A new PIN is not checked:
    /// it is asked for precisely when the PIN is blocked (unblock).
    pub fn checks_a_code(self) -> bool {
        matches!(
            self,
            PinPurpose::Login | PinPurpose::ChangeOld | PinPurpose::Unblock
        )
    }
}

/// What a provider is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRequest {
    pub kind: PinKind,
    pub purpose: PinPurpose,
    /// Token label (`CPS3v3-12345678`).
    pub label: String,
    /// Card serial (`12345678`).
    pub serial: String,
    /// Tries left, when known.
    pub tries_left: Option<u8>,
    pub max_tries: u8,
}

/// A way to ask the user for a PIN.
pub trait PinEntry {
    /// The code typed by the user (checked by the token afterwards), or
    /// [`TokenError::PinEntryCancelled`].
    fn get_pin(&mut self, request: &PinRequest) -> Result<Zeroizing<String>, TokenError>;
}

/// Any closure is a provider (an application's own dialog).
impl<F> PinEntry for F
where
    F: FnMut(&PinRequest) -> Result<Zeroizing<String>, TokenError>,
{
    fn get_pin(&mut self, request: &PinRequest) -> Result<Zeroizing<String>, TokenError> {
        self(request)
    }
}

/// A pinentry program (`pinentry-gtk2`, `pinentry-curses`, …) spoken to in Assuan
/// ([`super::pinentry`]); the description carries the card and the tries left.
#[derive(Debug, Clone)]
pub struct PinentryProgram {
    pub program: PathBuf,
    pub texts: PromptTexts,
}

impl PinentryProgram {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        PinentryProgram {
            program: program.into(),
            texts: PromptTexts::default(),
        }
    }
}

impl PinEntry for PinentryProgram {
    fn get_pin(&mut self, request: &PinRequest) -> Result<Zeroizing<String>, TokenError> {
        let description = self.texts.describe(request);
        let prompt = PinPrompt {
            title: &self.texts.title,
            description: &description,
            prompt: &self.texts.prompt,
            error: None,
        };
        pinentry::get_pin(&self.program, &prompt).map_err(|e| match e {
            PinentryError::Cancelled => TokenError::PinEntryCancelled,
            e => TokenError::PinEntry(e.to_string()),
        })
    }
}

/// Where the PIN of one command comes from.
pub enum PinSource<'a> {
    /// Given by the caller (C_Login with a PIN), format already checked.
    Given(Pin),
    /// Asked through a provider, with the tries left shown.
    Entry(&'a mut dyn PinEntry),
    /// Typed on the reader's pinpad; never seen by the host.
    Pinpad,
}

impl PinSource<'_> {
    /// A user PIN given by the caller; its format (4 digits) is checked now.
    pub fn given(code: &str) -> Result<Self, TokenError> {
        Ok(PinSource::Given(Pin::user(code)?))
    }

    /// The PUK given by the caller (8 digits).
    pub fn given_puk(code: &str) -> Result<Self, TokenError> {
        Ok(PinSource::Given(Pin::puk(code)?))
    }

    /// A code of `kind` given as bytes (PKCS#11 passes bytes).
    pub fn given_bytes(kind: PinKind, code: &[u8]) -> Result<Self, TokenError> {
        Ok(PinSource::Given(Pin::from_bytes(kind, code)?))
    }
}

impl std::fmt::Debug for PinSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinSource::Given(p) => write!(f, "Given({p:?})"),
            PinSource::Entry(_) => f.write_str("Entry"),
            PinSource::Pinpad => f.write_str("Pinpad"),
        }
    }
}
