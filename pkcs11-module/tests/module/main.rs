//! The PKCS#11 module's integration tests as one test binary (one link instead of eight, a
//! smaller target directory): the built `libcps_pkcs11.so` loaded as an application loads it
//! (life cycle, function lists, misuse matrix, resident set, both emulated tokens, threads, slot
//! events from PC/SC) and the module in-process over a test double or an emulated card the test
//! holds (framework, APDU costs and budget, pulled card / reset matrix).
//!
//! The module's state and the environment it reads are per process: every test holds
//! `common::lock` (through `common::serial` for the built module), so the tests of this binary
//! run one at a time whatever `--test-threads` says.

#[path = "../common/mod.rs"]
mod common;

mod apdu_budget;
mod emulated_slot;
mod framework;
mod in_process;
mod module_abi;
mod pcsc_events;
mod reliability_threads;
mod token_abi;
