//! PC/SC transport over the `pcsc` crate (libpcsclite → pcscd).
