//! Card drivers: one card's command set and file layout (DESIGN §1, §3).

pub mod path;
pub mod pkcs15;
