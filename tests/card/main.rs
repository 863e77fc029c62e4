//! The card layer on both emulated cards, as one test binary (one link instead of five, a
//! smaller target directory): the emulator against the card profiles, the drivers over it,
//! and PIN safety at the driver level.

#[path = "../driver_common/mod.rs"]
mod driver_common;
#[path = "../emulator_common/mod.rs"]
mod emulator_common;

mod driver_cps3;
mod driver_cps4;
mod emulator_cps3;
mod emulator_cps4;
mod pin_safety;
