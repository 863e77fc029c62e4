//! The emulator's APDU processing (`EmulatedCard::process`), which also faces pcscd through
//! vpcd: any byte string, in any order, with power cycles and resets in between, is answered
//! (data + SW1 SW2 within a short response) and never panics.
//!
//! Input: `selector` (card and interface) then records (`[len u16] apdu…`); a record of one
//! byte is a contact event: `00` power off, `01` power on, `02` reset.
#![no_main]
use cpscard::emulator::{EmulatedCard, Interface, VirtualCard};
use cpscard_fuzz::records;
use libfuzzer_sys::fuzz_target;

const INTERFACES: [Interface; 5] = [
    Interface::Cps3Contact,
    Interface::Cps3Contactless,
    Interface::Cps4Production,
    Interface::Cps4ReleaseCandidate,
    Interface::Cps4T0,
];

fuzz_target!(|data: &[u8]| {
    let [selector, rest @ ..] = data else {
        return;
    };
    let interface = INTERFACES[*selector as usize % INTERFACES.len()];
    let names = EmulatedCard::builtin_names();
    let name = names[(*selector as usize / INTERFACES.len()) % names.len()];
    let mut card = EmulatedCard::builtin(interface.generation(), name).expect("built-in card");
    card.set_interface(interface)
        .expect("interface of its generation");
    let mut powered = true;
    for apdu in records(rest) {
        match apdu {
            [] => continue,
            [0x00] => {
                card.power_off();
                powered = false;
            }
            [0x01] | [0x02] => {
                if apdu[0] == 1 {
                    card.power_on();
                } else {
                    card.reset();
                }
                powered = true;
            }
            _ => {
                let r = card.process(apdu);
                if powered {
                    assert!(r.len() >= 2, "a {}-byte answer", r.len());
                    assert!(r.len() <= 258, "a {}-byte answer to a short APDU", r.len());
                } else {
                    assert!(r.is_empty(), "an unpowered card answered");
                }
            }
        }
    }
});
