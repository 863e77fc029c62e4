//! The ISO 7816-4 commands every CPS card takes in the same form, its CLA given: CPS3 `00`
//! (CPS3.md §6), the CPS2ter volet `A0` (CPS3.md §9), CPS4 `01` = logical channel 1 (CPS4.md
//! §2, §6). Their bytes per card are checked in `cps3/apdus.rs` and `cps4/apdus.rs`.

use crate::apdu::Command;

/// P1-P2 of READ/UPDATE BINARY: a 15-bit offset (b8 of P1 clear: not an SFI).
fn offset_p1_p2(offset: usize) -> (u8, u8) {
    (((offset >> 8) & 0x7F) as u8, offset as u8)
}

/// `CLA B0 <off> Le` (CPS3.md §6.2, CPS4.md §6.1). `offset` ≤ 0x7FFF.
pub fn read_binary(cla: u8, offset: usize, le: usize) -> Command {
    let (p1, p2) = offset_p1_p2(offset);
    Command::new(cla, 0xB0, p1, p2).with_le(le)
}

/// `CLA D6 <off> Lc <data>` (CPS3.md §6.2, CPS4.md §6.1).
pub fn update_binary(cla: u8, offset: usize, data: &[u8]) -> Command {
    let (p1, p2) = offset_p1_p2(offset);
    Command::new(cla, 0xD6, p1, p2).with_data(data.to_vec())
}

/// `CLA 20 00 <ref> 08 <block>`: VERIFY (CPS3.md §5.2, CPS4.md §6.2).
pub fn verify(cla: u8, reference: u8, block: &[u8]) -> Command {
    Command::new(cla, 0x20, 0x00, reference).with_data(block.to_vec())
}

/// `CLA 20 00 <ref>`: VERIFY without data, the tries-counter query (CPS3.md §5.2, CPS4.md
/// §6.2).
pub fn verify_status(cla: u8, reference: u8) -> Command {
    Command::new(cla, 0x20, 0x00, reference)
}

/// `CLA 84 00 00 08`: GET CHALLENGE of 8 bytes (CPS3.md §6.8, CPS4.md §6.1).
pub fn get_challenge(cla: u8) -> Command {
    Command::new(cla, 0x84, 0x00, 0x00).with_le(8)
}
