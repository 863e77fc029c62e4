//! cps-tool as its users run it, on the emulated cards, as one test binary (one link instead
//! of nine, a smaller target directory): raw APDUs, card commands, completions and man page,
//! doctor, JSON output against its schema, messages in both languages, PIN commands, prompts
//! on a terminal, signing and verifying.

#[macro_use]
#[path = "../cli_common/mod.rs"]
mod cli_common;

mod apdu;
mod card;
mod completions;
mod doctor;
mod json;
mod messages;
mod pin;
mod prompt;
mod sign;
