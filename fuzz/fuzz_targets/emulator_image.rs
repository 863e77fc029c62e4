//! Card-image files (`CardImage::load`, the JSON the emulator saves write-through): any file
//! content is loaded or refused with an error, never a panic; an image that loads either
//! builds a card or is refused, and a card built from it answers the real driver's binding
//! (profile files built from the image's holder data, label, serial) without a panic.
#![no_main]
use cpscard::card::connect;
use cpscard::emulator::{CardImage, EmulatedCard, EmulatedReader};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn path() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("cpscard-fuzz-image-{}.json", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(path(), data).expect("temporary image file");
    let Ok(image) = CardImage::load(path()) else {
        return;
    };
    let Ok(card) = EmulatedCard::from_image(image, None) else {
        return;
    };
    let Ok(mut driver) = connect(Box::new(EmulatedReader::new(card))) else {
        return;
    };
    if let Ok(b) = driver.bind(None) {
        for c in b.certificates.iter().take(4) {
            let _ = driver.read_file(&c.path);
        }
        for d in b.data_objects.iter().take(4) {
            let _ = driver.read_file(&d.path);
        }
    }
});
