//! ISO 7816-4 APDUs: commands, responses, status words, and the exchange rules (T=0 GET
//! RESPONSE / 6Cxx, command chaining) applied in exactly one place. Knows nothing of CPS.

mod command;
mod exchange;
mod response;
mod status;

pub use command::{Command, CLA_CHAINING, MAX_SHORT_LC, MAX_SHORT_LE};
pub use exchange::{transceive, transceive_masked, transmit_raw, ExchangeRules, INS_GET_RESPONSE};
pub use response::Response;
pub use status::StatusWord;

use crate::transport::TransportError;

/// Errors of the APDU layer.
#[derive(Debug, thiserror::Error)]
pub enum ApduError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("malformed APDU: {0}")]
    Malformed(&'static str),
    #[error("command data of {0} bytes does not fit a short APDU")]
    DataTooLong(usize),
    #[error("card answered {0}")]
    Status(StatusWord),
}
