//! Readers: the `Transport` trait that card logic runs over, and its PC/SC implementation.
//! A transport knows bytes and readers, never what a card means (DESIGN §1).

pub mod pcsc;

/// Anything that can carry one APDU to a card and bring back its answer, raw.
pub trait Transmit {
    /// Sends `apdu` as is and returns the response bytes (data + SW1 SW2), unprocessed.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
}

/// Transmission protocol the reader negotiated with the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    T0,
    T1,
}

/// Pinpad capabilities of a reader (PC/SC part 10 features), as control codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PinpadCaps {
    /// IOCTL of `FEATURE_VERIFY_PIN_DIRECT` (tag 0x06).
    pub verify_pin_direct: Option<u32>,
    /// IOCTL of `FEATURE_MODIFY_PIN_DIRECT` (tag 0x07).
    pub modify_pin_direct: Option<u32>,
}

/// What a transport knows of the card it is connected to: the reader's name, and the card's ATR
/// and protocol as last seen (after connect or reconnect). A transport that keeps one answers
/// [`Transport::reader_name`], [`Transport::atr`] and [`Transport::protocol`] from it with
/// [`transport_accessors!`](crate::transport_accessors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLink {
    pub reader: String,
    pub atr: Vec<u8>,
    pub protocol: Protocol,
}

/// Inside an `impl Transport`: `reader_name`, `atr` and `protocol`, answered from the
/// [`CardLink`](crate::transport::CardLink) in the field named.
///
/// ```ignore
/// impl Transport for MyReader {
///     cpscard::transport_accessors!(link);
///     // transaction, reconnect, …
/// }
/// ```
#[macro_export]
macro_rules! transport_accessors {
    ($link:ident) => {
        fn reader_name(&self) -> &str {
            &self.$link.reader
        }
        fn atr(&self) -> &[u8] {
            &self.$link.atr
        }
        fn protocol(&self) -> $crate::transport::Protocol {
            self.$link.protocol
        }
    };
}

/// `impl Transport for $card` of a fake card with no reader around it (the test and fuzz
/// doubles): the accessors over its [`CardLink`](crate::transport::CardLink) field named, a
/// transaction that runs `f` on the card itself (there is no other application to keep out) and
/// a reconnect with nothing to do.
#[macro_export]
macro_rules! bare_card_transport {
    ($card:ty, $link:ident) => {
        impl $crate::transport::Transport for $card {
            $crate::transport_accessors!($link);
            fn transaction(
                &mut self,
                f: &mut dyn FnMut(
                    &mut dyn $crate::transport::Transmit,
                ) -> Result<(), $crate::transport::TransportError>,
            ) -> Result<(), $crate::transport::TransportError> {
                f(self)
            }
            fn reconnect(&mut self, _reset: bool) -> Result<(), $crate::transport::TransportError> {
                Ok(())
            }
        }
    };
}

/// A connected card in a reader.
pub trait Transport: Transmit + Send {
    /// Name of the reader, as PC/SC lists it.
    fn reader_name(&self) -> &str;
    /// ATR of the card as last seen (after connect or reconnect).
    fn atr(&self) -> &[u8];
    /// Protocol in use.
    fn protocol(&self) -> Protocol;
    /// Runs `f` with exclusive access to the card (PC/SC transaction), so that the APDUs of one
    /// operation never interleave with another application's.
    fn transaction(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Transmit) -> Result<(), TransportError>,
    ) -> Result<(), TransportError>;
    /// Reconnects to the card: after [`TransportError::CardReset`] (`reset = false`, keep the
    /// card's state as the other application left it) or to reset the card (`reset = true`).
    fn reconnect(&mut self, reset: bool) -> Result<(), TransportError>;
    /// Pinpad features of the reader, if any.
    fn pinpad(&self) -> Option<PinpadCaps> {
        None
    }
    /// `SCardControl`: sends a reader control code (pinpad commands).
    fn control(&mut self, code: u32, input: &[u8]) -> Result<Vec<u8>, TransportError> {
        let _ = (code, input);
        Err(TransportError::Unsupported("reader control"))
    }
}

/// Runs `f` inside one transaction of `t` and returns its result. Errors of `f` pass through
/// unchanged; transport errors of the transaction itself are converted with `From`.
pub fn with_transaction<T, E, F>(t: &mut dyn Transport, f: F) -> Result<T, E>
where
    E: From<TransportError>,
    F: FnOnce(&mut dyn Transmit) -> Result<T, E>,
{
    let mut f = Some(f);
    let mut out: Option<Result<T, E>> = None;
    t.transaction(&mut |tx| {
        if let Some(f) = f.take() {
            out = Some(f(tx));
        }
        Ok(())
    })?;
    out.unwrap_or_else(|| {
        Err(E::from(TransportError::Io(
            "transaction did not run".into(),
        )))
    })
}

/// Failures of a reader or of the connection to a card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the PC/SC service is not running (start pcscd)")]
    NoService,
    #[error("no smart card reader found")]
    NoReaders,
    #[error("reader not found: {0}")]
    ReaderNotFound(String),
    #[error("no card in the reader")]
    NoCard,
    #[error("the card was removed")]
    CardRemoved,
    #[error("the card was reset by another application")]
    CardReset,
    #[error("the card does not answer")]
    Unresponsive,
    #[error("the card is used exclusively by another application")]
    Sharing,
    #[error("timed out")]
    Timeout,
    #[error("cancelled")]
    Cancelled,
    #[error("not supported by this reader: {0}")]
    Unsupported(&'static str),
    #[error("reader error: {0}")]
    Io(String),
}
