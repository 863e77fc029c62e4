//! CLI errors and their exit codes (listed in `--help`).

use cpscard::apdu::ApduError;
use cpscard::emulator::EmulatorError;
use cpscard::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input from the user (exit 2): nothing was sent to a card.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Emulator(EmulatorError),
    #[error("{0}")]
    Other(String),
}

impl From<EmulatorError> for CliError {
    /// An unknown generation or holder kind is bad input (exit 2); image errors are not.
    fn from(e: EmulatorError) -> Self {
        match e {
            EmulatorError::UnknownGeneration(_) | EmulatorError::UnknownCard { .. } => {
                CliError::Usage(e.to_string())
            }
            other => CliError::Emulator(other),
        }
    }
}

impl From<ApduError> for CliError {
    fn from(e: ApduError) -> Self {
        match e {
            ApduError::Transport(t) => CliError::Transport(t),
            other => CliError::Other(other.to_string()),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Transport(TransportError::NoService) => 3,
            CliError::Transport(TransportError::NoReaders | TransportError::ReaderNotFound(_)) => 4,
            CliError::Transport(TransportError::NoCard | TransportError::CardRemoved) => 5,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_codes() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::from(TransportError::NoService).exit_code(), 3);
        assert_eq!(CliError::from(TransportError::NoReaders).exit_code(), 4);
        assert_eq!(
            CliError::from(TransportError::ReaderNotFound("r".into())).exit_code(),
            4
        );
        assert_eq!(CliError::from(TransportError::NoCard).exit_code(), 5);
        assert_eq!(CliError::from(TransportError::CardRemoved).exit_code(), 5);
        assert_eq!(CliError::from(TransportError::Sharing).exit_code(), 1);
        assert_eq!(
            CliError::from(ApduError::Transport(TransportError::NoService)).exit_code(),
            3
        );
    }
}
