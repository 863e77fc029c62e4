//! Where the `cpscard` token layer plugs into the module: one function turning a connected card
//! into a [`TokenBackend`] (DESIGN §1: "the module is a thin, checked translation").
//!
//! The token layer (`cpscard::token`) is not written yet, so no card is recognised: every slot
//! shows its card as `CKR_TOKEN_NOT_RECOGNIZED` (CKF_TOKEN_PRESENT clear) rather than as an
//! invented token. When `Token` lands, this file implements `TokenBackend` for it: token info
//! (objects.md §2), mechanisms (§6), objects as attribute sets (§3-§5), login/logout, sign,
//! decrypt, random, mapping the token's errors to [`Error`] once (§7).

use cpscard::transport::Transport;

use crate::backend::TokenBackend;
use crate::error::{Error, Result};

/// Builds the token of the card behind `transport` (APDUs allowed), or
/// `Err(TokenNotRecognized)` for a card that is not a CPS card.
pub fn open_token(transport: Box<dyn Transport>) -> Result<Box<dyn TokenBackend>> {
    log::info!(
        "{}: no token layer yet, card not recognised",
        transport.reader_name()
    );
    Err(Error::TokenNotRecognized)
}
