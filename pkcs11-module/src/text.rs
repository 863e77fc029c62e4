//! Fixed-size, blank-padded text fields of the PKCS#11 info structures (PKCS#11 3.0 §3.2:
//! `CK_UTF8CHAR` arrays "padded with the blank character (' ')", not NUL-terminated).

/// `s` blank-padded (or cut at a character boundary) to `N` bytes.
pub fn padded<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let mut end = s.len().min(N);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out[..end].copy_from_slice(&s.as_bytes()[..end]);
    out
}

/// A slot description from a reader name (objects.md §1): names longer than 64 bytes become the
/// first 30 characters, `...`, and the last 31, as the original does.
pub fn slot_description(name: &str) -> [u8; 64] {
    if name.len() <= 64 {
        return padded(name);
    }
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 64 {
        return padded(name);
    }
    let head: String = chars[..30].iter().collect();
    let tail: String = chars[chars.len() - 31..].iter().collect();
    padded(&format!("{head}...{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_with_blanks() {
        assert_eq!(&padded::<8>("abc"), b"abc     ");
    }

    #[test]
    fn cuts_at_char_boundary() {
        // "é" is 2 bytes: cutting after 4 bytes would split it.
        assert_eq!(&padded::<4>("abcé"), b"abc ");
    }

    #[test]
    fn long_reader_names_are_shortened() {
        let name = format!("{}{}", "A".repeat(40), "B".repeat(40));
        let d = slot_description(&name);
        let s = std::str::from_utf8(&d).unwrap();
        assert_eq!(s, format!("{}...{}", "A".repeat(30), "B".repeat(31)));
    }
}
