//! The message table is the only place user-facing text lives (issue 8 item 5): every id has an
//! English and a French text with the same placeholders (unit tests of `cpscard::i18n`; checked
//! again here through the public API), and no literal with words is printed, formatted into an
//! error or given as clap help anywhere in the CLI sources (a source scan).

use std::path::{Path, PathBuf};

use cpscard::i18n::{placeholders, Lang, Msg};

#[test]
fn both_languages_are_complete() {
    assert!(Msg::ALL.len() > 100);
    let mut same = Vec::new();
    for &m in Msg::ALL {
        assert!(!m.template(Lang::En).trim().is_empty(), "{m:?} en");
        assert!(!m.template(Lang::Fr).trim().is_empty(), "{m:?} fr");
        let mut en = placeholders(m.en());
        let mut fr = placeholders(m.fr());
        en.sort_unstable();
        fr.sort_unstable();
        assert_eq!(en, fr, "{m:?}");
        if m.en() == m.fr() {
            same.push(m);
        }
    }
    // texts that are the same in both languages are names, symbols and templates only
    for m in same {
        let letters = m
            .en()
            .split(['{', '}'])
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s.chars().filter(|c| c.is_alphabetic()).count())
            .sum::<usize>();
        assert!(letters <= 12, "{m:?} is not translated: {:?}", m.en());
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// String literals of `src` (plain `"..."` only; raw strings are not used for messages).
fn literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // char literal or lifetime: skip a quoted char like '"' or '\''
                if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                    continue;
                }
                if b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') {
                    i += 4;
                    continue;
                }
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut s = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    s.push(b[i] as char);
                    i += 1;
                }
                out.push((start, s));
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

const TRIGGERS: [&str; 14] = [
    "println!(",
    "eprintln!(",
    "print!(",
    "eprint!(",
    "format!(",
    "write!(",
    "writeln!(",
    "Usage(",
    "Other(",
    "BadSignature(",
    "help =",
    "about =",
    "after_help =",
    "text:",
];

/// Letters left once placeholders and the program name are taken out.
fn words(lit: &str) -> bool {
    let mut rest = String::new();
    let mut depth = 0;
    for c in lit.replace("cps-tool", "").chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            c if depth == 0 => rest.push(c),
            _ => {}
        }
    }
    let mut run = 0;
    for c in rest.chars() {
        if c.is_alphabetic() {
            run += 1;
            if run >= 3 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// The user-facing literals of `code` (line, text).
fn strays(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (pos, lit) in literals(code) {
        let before = code[pos.saturating_sub(120)..pos].trim_end();
        let triggered = TRIGGERS.iter().any(|t| before.ends_with(t.trim_end()))
            || ["write!(", "writeln!("].iter().any(|t| {
                before.ends_with(',')
                    && before
                        .rsplit_once(t)
                        .is_some_and(|(_, arg)| !arg.contains(['(', '"', ')']))
            });
        if triggered && words(&lit) {
            out.push((code[..pos].lines().count(), lit));
        }
    }
    out
}

#[test]
fn no_user_facing_literal_outside_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin/cps-tool");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // unit tests at the end of a file may write what they like
        let code = match text.find("#[cfg(test)]") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        for (line, lit) in strays(code) {
            found.push(format!("{}:{line}: {lit:?}", f.display()));
        }
    }
    assert!(
        found.is_empty(),
        "user-facing text outside src/i18n/table.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_finds_strays() {
    let sample = "fn f() {\n    println!(\"{} tries left\", n);\n    let x = format!(\"{a}:{b}\");\n    return Err(CliError::Usage(\n        \"bad input\".into()));\n    writeln!(out, \"total {n}\");\n    #[arg(long, value_name = \"NAME\", help = Msg::X.text())]\n    eprintln!(\"cps-tool: {e}\");\n}";
    let found: Vec<String> = strays(sample).into_iter().map(|(_, l)| l).collect();
    assert_eq!(found, ["{} tries left", "bad input", "total {n}"]);
    assert!(!words("0x{rv:08X}"));
}
