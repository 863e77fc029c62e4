//! PC/SC return codes → [`TransportError`], in one place.
//!
//! Codes from pcsclite's `pcsclite.h` / MSDN "Smart card return values". The recipe facts
//! (`/work/shared/recipes/pcsc-vpcd/README.md`) decide the less obvious ones: a vpcd card that goes
//! away mid-APDU gives `SCARD_E_NOT_TRANSACTED` and then `SCARD_W_REMOVED_CARD`.

use crate::transport::TransportError;

/// Maps a `pcsc` error; `reader` names the reader for [`TransportError::ReaderNotFound`].
pub(crate) fn map_error(err: ::pcsc::Error, reader: &str) -> TransportError {
    use ::pcsc::Error as E;
    match err {
        // pcscd not running (nothing starts it on demand) or going away.
        E::NoService | E::ServiceStopped | E::Shutdown => TransportError::NoService,
        E::NoReadersAvailable => TransportError::NoReaders,
        E::UnknownReader | E::ReaderUnavailable => TransportError::ReaderNotFound(reader.into()),
        E::NoSmartcard => TransportError::NoCard,
        E::RemovedCard => TransportError::CardRemoved,
        // Another application reset or unpowered the card: the card's security state and
        // current file are gone; the handle must be reconnected and the application re-selected.
        E::ResetCard | E::UnpoweredCard => TransportError::CardReset,
        // The card did not answer (T=0/T=1 failure, mute card, vpcd peer gone mid-APDU).
        E::UnresponsiveCard | E::UnsupportedCard | E::NotTransacted | E::CommDataLost => {
            TransportError::Unresponsive
        }
        E::SharingViolation => TransportError::Sharing,
        E::Timeout => TransportError::Timeout,
        E::Cancelled | E::SystemCancelled | E::CancelledByUser => TransportError::Cancelled,
        E::UnsupportedFeature => TransportError::Unsupported("this PC/SC feature"),
        E::ReaderUnsupported => TransportError::Unsupported("this reader driver"),
        E::CardUnsupported => TransportError::Unsupported("this card"),
        E::ProtoMismatch => TransportError::Unsupported("the card's protocol (T=0/T=1 only)"),
        other => TransportError::Io(format!("{other} (PC/SC {:#010X})", other as u32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::pcsc::Error as E;

    #[test]
    fn service_and_reader_codes() {
        assert_eq!(map_error(E::NoService, "r"), TransportError::NoService);
        assert_eq!(map_error(E::ServiceStopped, "r"), TransportError::NoService);
        assert_eq!(
            map_error(E::NoReadersAvailable, "r"),
            TransportError::NoReaders
        );
        assert_eq!(
            map_error(E::UnknownReader, "Virtual PCD 00 07"),
            TransportError::ReaderNotFound("Virtual PCD 00 07".into())
        );
        assert_eq!(
            map_error(E::ReaderUnavailable, "x"),
            TransportError::ReaderNotFound("x".into())
        );
    }

    #[test]
    fn card_state_codes() {
        assert_eq!(map_error(E::NoSmartcard, "r"), TransportError::NoCard);
        assert_eq!(map_error(E::RemovedCard, "r"), TransportError::CardRemoved);
        assert_eq!(map_error(E::ResetCard, "r"), TransportError::CardReset);
        assert_eq!(map_error(E::UnpoweredCard, "r"), TransportError::CardReset);
        assert_eq!(
            map_error(E::NotTransacted, "r"),
            TransportError::Unresponsive
        );
        assert_eq!(
            map_error(E::UnresponsiveCard, "r"),
            TransportError::Unresponsive
        );
    }

    #[test]
    fn sharing_timeout_cancel() {
        assert_eq!(map_error(E::SharingViolation, "r"), TransportError::Sharing);
        assert_eq!(map_error(E::Timeout, "r"), TransportError::Timeout);
        assert_eq!(map_error(E::Cancelled, "r"), TransportError::Cancelled);
        assert_eq!(
            map_error(E::SystemCancelled, "r"),
            TransportError::Cancelled
        );
    }

    #[test]
    fn unsupported_and_others_keep_the_code() {
        assert!(matches!(
            map_error(E::UnsupportedFeature, "r"),
            TransportError::Unsupported(_)
        ));
        match map_error(E::InsufficientBuffer, "r") {
            TransportError::Io(text) => assert!(text.contains("0x80100008"), "{text}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
