//! The built module with `CPSCARD_EMULATED` set (DESIGN §4): an emulated reader appears, says
//! "EMULATED" in its slot description and in its token label, and holds a CPS token.

#![cfg(feature = "emulator")]

use crate::common;

use common::{serial, text, EmulatedCard, Module};
use cryptoki_sys::*;

fn init_with(m: &Module, value: &str) -> CK_RV {
    std::env::set_var("CPSCARD_EMULATED", value);
    let r = m.initialize();
    std::env::remove_var("CPSCARD_EMULATED");
    r
}

fn init_card(m: &Module, card: &EmulatedCard) -> CK_RV {
    card.select();
    let r = m.initialize();
    std::env::remove_var("CPSCARD_EMULATED");
    r
}

fn slots(m: &Module, present: bool) -> Vec<CK_SLOT_ID> {
    common::slot_ids(m.f, present)
}

#[test]
fn emulated_reader_appears_only_when_asked() {
    let m = Module::load();
    let _g = serial(&m);
    for generation in ["cps3", "cps4"] {
        let card = EmulatedCard::new(generation, "appears");
        assert_eq!(init_card(&m, &card), CKR_OK);
        let all = slots(&m, false);
        assert_eq!(all.len(), 1, "{generation}: one emulated reader");
        let mut si = CK_SLOT_INFO::default();
        assert_eq!(
            unsafe { (m.f.C_GetSlotInfo.unwrap())(all[0], &mut si) },
            CKR_OK
        );
        let desc = text(&si.slotDescription);
        assert!(desc.contains("EMULATED"), "{desc}");
        assert!(
            desc.to_uppercase().contains(&generation.to_uppercase()),
            "{desc}"
        );
        assert_eq!(
            si.flags & (CKF_REMOVABLE_DEVICE | CKF_HW_SLOT),
            CKF_REMOVABLE_DEVICE | CKF_HW_SLOT
        );
        // The emulated card is a CPS card: a token, whose label says EMULATED too.
        assert_eq!(si.flags & CKF_TOKEN_PRESENT, CKF_TOKEN_PRESENT);
        assert_eq!(slots(&m, true), all);
        let mut ti = CK_TOKEN_INFO::default();
        assert_eq!(
            unsafe { (m.f.C_GetTokenInfo.unwrap())(all[0], &mut ti) },
            CKR_OK
        );
        let label = text(&ti.label);
        assert!(label.contains("EMULATED"), "{label}");
        assert!(
            label.contains(&generation.to_uppercase()),
            "ANS tests key on CPS3/CPS4 in the label: {label}"
        );
        assert_eq!(m.finalize(), CKR_OK);
    }
    // Unset: no slot.
    assert_eq!(m.initialize(), CKR_OK);
    assert!(slots(&m, false).is_empty());
    assert_eq!(m.finalize(), CKR_OK);
}

#[test]
fn a_bad_request_fails_initialize() {
    let m = Module::load();
    let _g = serial(&m);
    assert_eq!(init_with(&m, "cps9"), CKR_FUNCTION_FAILED);
    assert_eq!(
        m.finalize(),
        CKR_CRYPTOKI_NOT_INITIALIZED,
        "nothing was initialized"
    );
    assert_eq!(
        init_with(&m, "cps3:/nonexistent-dir/sub/image.json"),
        CKR_FUNCTION_FAILED
    );
    assert_eq!(m.finalize(), CKR_CRYPTOKI_NOT_INITIALIZED);
}

#[test]
fn an_image_file_is_created_from_the_builtin_card() {
    let m = Module::load();
    let _g = serial(&m);
    let card = EmulatedCard::new("cps4", "image");
    assert!(!card.image().exists());
    assert_eq!(init_card(&m, &card), CKR_OK);
    assert!(
        card.image().exists(),
        "image saved at {}",
        card.image().display()
    );
    assert_eq!(slots(&m, false).len(), 1);
    assert_eq!(m.finalize(), CKR_OK);
}
