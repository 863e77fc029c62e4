//! `sign`, `verify` and `decrypt` on each fixture card of both generations: every mechanism
//! the card supports signs, and OpenSSL verifies the raw signature with the public key of the
//! certificate `certs --export` wrote (the form of `openssl dgst`/`pkeyutl` each mechanism
//! needs); every other one is refused with a clear message and no signing APDU, PIN VERIFY or
//! RSA operation (the emulator's counters, `--emulated-fault stats=PATH`). The mechanism
//! lists expected are the card profiles' (README §3, CPS3.md §6, CPS4.md §5-§6), not the
//! tool's own claim.

use crate::cli_common;

use std::path::Path;
use std::process::Output;

use cli_common::*;
use cpscard::crypto::HashAlg;

const ALL: [&str; 11] = [
    "sha1-pkcs1",
    "sha256-pkcs1",
    "sha384-pkcs1",
    "sha512-pkcs1",
    "pkcs1-raw",
    "sha1-pss",
    "sha256-pss",
    "sha384-pss",
    "sha512-pss",
    "pss-raw",
    "raw",
];

/// What each key can sign with (card profiles README §3 and capabilities of the token).
fn supported(generation: &str, key: &str) -> &'static [&'static str] {
    match (generation, key) {
        // PSO HASH + CDS over SHA-1/SHA-256 only, no PSS (CPS3.md §6.3-6.5)
        ("cps3", "sign") => &["sha1-pkcs1", "sha256-pkcs1", "pkcs1-raw"],
        // INTERNAL AUTHENTICATE pads any DigestInfo up to 102 bytes; no PSS, no raw RSA (§6.6)
        ("cps3", "auth") => &[
            "sha1-pkcs1",
            "sha256-pkcs1",
            "sha384-pkcs1",
            "sha512-pkcs1",
            "pkcs1-raw",
        ],
        // ChipDoc PKCS#1 v1.5 and PSS over SHA-1/SHA-256 (CPS4.md §5)
        ("cps4", "sign") => &[
            "sha1-pkcs1",
            "sha256-pkcs1",
            "pkcs1-raw",
            "sha1-pss",
            "sha256-pss",
            "pss-raw",
        ],
        // the same plus a raw RSA operation: everything (CPS4.md §6.4)
        ("cps4", "auth") => &ALL,
        _ => unreachable!(),
    }
}

/// The card of `generation`/`holder`, its PIN given to every command.
fn card(generation: &'static str, holder: &'static str) -> EmuCard {
    let pin = card_json(generation, holder)["pin"]
        .as_str()
        .unwrap()
        .to_owned();
    EmuCard::new("sign", generation, holder).with_env("CPS_PIN", &pin)
}

/// Exports the certificates and writes `<key>.pub.pem` from them.
fn public_keys(card: &EmuCard) {
    let dir = card.path("certs");
    let o = card.run(&[], &["certs", "--export", dir.to_str().unwrap()]);
    assert_code(&o, 0);
    for key in ["sign", "auth"] {
        let der = dir.join(format!("{key}.der"));
        let o = openssl(&[
            "x509",
            "-inform",
            "DER",
            "-in",
            der.to_str().unwrap(),
            "-pubkey",
            "-noout",
            "-out",
            card.path(&format!("{key}.pub.pem")).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

/// `COMMAND --key KEY --mechanism MECHANISM --in INPUT OUT_OPTION OUT` (`sign ... --out SIG`,
/// `verify ... --sig SIG`).
fn key_args<'a>(
    command: &'a str,
    key: &'a str,
    mechanism: &'a str,
    input: &'a Path,
    out_option: &'a str,
    out: &'a Path,
) -> Vec<&'a str> {
    vec![
        command,
        "--key",
        key,
        "--mechanism",
        mechanism,
        "--in",
        input.to_str().unwrap(),
        out_option,
        out.to_str().unwrap(),
    ]
}

fn sign_args<'a>(key: &'a str, mechanism: &'a str, input: &'a Path, sig: &'a Path) -> Vec<&'a str> {
    key_args("sign", key, mechanism, input, "--out", sig)
}

fn verify_args<'a>(
    key: &'a str,
    mechanism: &'a str,
    input: &'a Path,
    sig: &'a Path,
) -> Vec<&'a str> {
    key_args("verify", key, mechanism, input, "--sig", sig)
}

fn hash_of(name: &str) -> HashAlg {
    match name {
        "sha1" => HashAlg::Sha1,
        "sha256" => HashAlg::Sha256,
        "sha384" => HashAlg::Sha384,
        "sha512" => HashAlg::Sha512,
        _ => unreachable!("{name}"),
    }
}

#[track_caller]
fn assert_openssl(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: openssl says no\nstdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}

/// Verifies `sig` over `input` with OpenSSL, in the form that fits `mechanism`.
fn openssl_verify(pubkey: &Path, mechanism: &str, input: &Path, sig: &Path, what: &str) {
    let (pk, inp, sg) = (
        pubkey.to_str().unwrap(),
        input.to_str().unwrap(),
        sig.to_str().unwrap(),
    );
    let pss = [
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:-1",
    ];
    // the block `openssl pkeyutl -verifyrecover` gets back with this padding removed
    let recover = |padding: &str| {
        let out = sig.with_extension("recovered");
        let mode = format!("rsa_padding_mode:{padding}");
        let o = openssl(&[
            "pkeyutl",
            "-verifyrecover",
            "-pubin",
            "-inkey",
            pk,
            "-in",
            sg,
            "-pkeyopt",
            &mode,
            "-out",
            out.to_str().unwrap(),
        ]);
        assert_openssl(&o, what);
        std::fs::read(out).unwrap()
    };
    match mechanism {
        "pkcs1-raw" => {
            // the input is the DigestInfo itself: the block recovered (PKCS#1 v1.5 type 1
            // removed) is the input as it is
            assert_eq!(recover("pkcs1"), std::fs::read(input).unwrap(), "{what}");
        }
        "pss-raw" => {
            let digest = match std::fs::metadata(input).unwrap().len() {
                20 => "digest:sha1",
                32 => "digest:sha256",
                48 => "digest:sha384",
                64 => "digest:sha512",
                n => panic!("{n}-byte hash"),
            };
            let o = openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                pk,
                "-in",
                inp,
                "-sigfile",
                sg,
                "-pkeyopt",
                digest,
                "-pkeyopt",
                "rsa_padding_mode:pss",
                "-pkeyopt",
                "rsa_pss_saltlen:-1",
            ]);
            assert_openssl(&o, what);
        }
        "raw" => {
            let block = recover("none");
            let data = std::fs::read(input).unwrap();
            assert_eq!(block.len(), 256, "{what}");
            assert!(block[..256 - data.len()].iter().all(|b| *b == 0), "{what}");
            assert_eq!(&block[256 - data.len()..], &data[..], "{what}");
        }
        m => {
            let (hash, padding) = m.split_once('-').unwrap();
            let dgst = format!("-{hash}");
            let mut args = vec!["dgst", dgst.as_str(), "-verify", pk, "-signature", sg];
            if padding == "pss" {
                args.extend_from_slice(&pss);
            }
            args.push(inp);
            let o = openssl(&args);
            assert_openssl(&o, what);
            assert!(stdout(&o).contains("Verified OK"), "{what}: {}", stdout(&o));
        }
    }
}

/// The inputs a mechanism is tried with: (file name, content).
fn inputs(card: &EmuCard, key: &str, mechanism: &str, message: &[u8]) -> Vec<(String, Vec<u8>)> {
    let sha256 = HashAlg::Sha256.digest(message);
    match mechanism {
        "pkcs1-raw" => {
            let mut v = vec![("di-sha256".to_owned(), HashAlg::Sha256.digest_info(&sha256))];
            if key == "auth" {
                // any DigestInfo fits the authentication key (TLS 1.2 client authentication)
                v.push((
                    "di-sha512".to_owned(),
                    HashAlg::Sha512.digest_info(&HashAlg::Sha512.digest(message)),
                ));
            }
            v
        }
        "pss-raw" => {
            let mut v = vec![("hash-sha256".to_owned(), sha256)];
            if card.generation == "cps4" && key == "auth" {
                // host EMSA-PSS with a hash the card's own PSS does not have
                v.push(("hash-sha384".to_owned(), HashAlg::Sha384.digest(message)));
            }
            v
        }
        "raw" => vec![("block".to_owned(), b"a raw RSA block, zero-padded".to_vec())],
        _ => vec![("message".to_owned(), message.to_vec())],
    }
}

fn check_signatures(generation: &'static str, holder: &'static str) {
    let card = card(generation, holder);
    public_keys(&card);
    let message = format!("cps-tool signs this, {generation} {holder}\n").into_bytes();

    // the tool's own account of its keys agrees with the profile
    let o = card.run(&[], &["objects", "--json"]);
    assert_code(&o, 0);
    let objects = json_out(&o);
    for k in objects["private_keys"].as_array().unwrap() {
        let key = if k["role"] == "signature" {
            "sign"
        } else {
            "auth"
        };
        let mut claimed: Vec<&str> = k["mechanisms"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["option"].as_str())
            .collect();
        let mut want = supported(generation, key).to_vec();
        claimed.sort_unstable();
        want.sort_unstable();
        assert_eq!(claimed, want, "{generation}/{holder} {key} key");
    }

    for key in ["sign", "auth"] {
        let mut tampered_checked = false;
        for mechanism in ALL {
            if !supported(generation, key).contains(&mechanism) {
                check_refused(&card, key, mechanism, &message);
                continue;
            }
            for (name, content) in inputs(&card, key, mechanism, &message) {
                let tamper = !tampered_checked && mechanism != "raw";
                tampered_checked |= tamper;
                check_signed(&card, key, mechanism, &message, (&name, &content), tamper);
            }
        }
    }
    // correct PINs only: no try was lost
    assert_eq!(counters(&card.image()), (3, 10));
}

/// A mechanism the key cannot do: a clear message, nothing sent that signs or uses the PIN,
/// no signature file.
fn check_refused(card: &EmuCard, key: &str, mechanism: &str, message: &[u8]) {
    let (generation, holder) = (card.generation, card.holder);
    let (name, content) = inputs(card, key, mechanism, message).remove(0);
    let input = card.write(&name, &content);
    let sig = card.path("refused.sig");
    let (o, s) = card.run_counted(&[], &sign_args(key, mechanism, &input, &sig));
    let what = format!("{generation}/{holder} {key} {mechanism}");
    assert_code(&o, 2);
    assert_stderr_has(&o, "nothing was sent");
    if mechanism.contains("pss") && generation == "cps3" {
        assert_stderr_has(&o, "CPS3");
        assert_stderr_has(&o, "cannot sign with RSA-PSS");
        assert_stderr_has(&o, "--mechanism sha256-pkcs1");
    } else {
        assert_stderr_has(&o, &format!("cannot use {mechanism}"));
        assert_stderr_has(&o, "mechanisms of this key: ");
    }
    assert_nothing_used(&s, &what);
    for ins in ["2A", "88", "22"] {
        assert_eq!(ins_count(&s, ins), 0, "{what}: INS {ins} sent: {s}");
    }
    assert!(!sig.exists(), "{what}: a signature file was written");
}

/// The key signs `input` (name, content) with `mechanism`: OpenSSL and `verify` agree; with
/// `tamper`, `verify` refuses the signature over a changed input.
fn check_signed(
    card: &EmuCard,
    key: &str,
    mechanism: &str,
    message: &[u8],
    (name, content): (&str, &[u8]),
    tamper: bool,
) {
    let what = format!(
        "{}/{} {key} {mechanism} {name}",
        card.generation, card.holder
    );
    let pubkey = card.path(&format!("{key}.pub.pem"));
    let input = card.write(name, content);
    let sig = card.path(&format!("{key}-{mechanism}-{name}.sig"));
    let o = card.run(&[], &sign_args(key, mechanism, &input, &sig));
    assert_code(&o, 0);
    assert_stderr_has(&o, "signature written to");
    assert_eq!(std::fs::read(&sig).unwrap().len(), 256, "{what}");
    openssl_verify(&pubkey, mechanism, &input, &sig, &what);
    if let Some(hash_name) = name.strip_prefix("di-") {
        // and the DigestInfo is a real one: OpenSSL builds its own from the hash
        let hash = card.write("di-hash", &hash_of(hash_name).digest(message));
        let digest = format!("digest:{hash_name}");
        assert_openssl(
            &openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                pubkey.to_str().unwrap(),
                "-in",
                hash.to_str().unwrap(),
                "-sigfile",
                sig.to_str().unwrap(),
                "-pkeyopt",
                &digest,
            ]),
            &what,
        );
    }
    // `verify` agrees, in software with the card's certificate
    let o = card.run(&[], &verify_args(key, mechanism, &input, &sig));
    assert_code(&o, 0);
    assert_stdout_has(&o, "signature OK");
    if tamper {
        let mut other = content.to_vec();
        other[0] ^= 1;
        let input = card.write(name, &other);
        let o = card.run(&[], &verify_args(key, mechanism, &input, &sig));
        assert_code(&o, 10);
        assert_stderr_has(&o, "signature does NOT verify");
    }
}

/// `decrypt` of what `openssl pkeyutl -encrypt` made with the authentication certificate.
fn check_decrypt(generation: &'static str, holder: &'static str) {
    let card = card(generation, holder);
    public_keys(&card);
    let plain = card.write(
        "plain",
        format!("secret for {generation} {holder}").as_bytes(),
    );
    let cryptogram = card.path("cryptogram");
    assert_openssl(
        &openssl(&[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            card.path("auth.pub.pem").to_str().unwrap(),
            "-in",
            plain.to_str().unwrap(),
            "-out",
            cryptogram.to_str().unwrap(),
        ]),
        "encrypt",
    );
    let out = card.path("decrypted");
    let decrypt = |input: &Path| {
        card.run_counted(
            &[],
            &[
                "decrypt",
                "--in",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let (o, _) = decrypt(&cryptogram);
    assert_code(&o, 0);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());
    assert_stderr_has(&o, "plaintext written to");

    // a cryptogram of the wrong length: refused before the PIN
    let (o, s) = decrypt(&card.write("short", &[0x42; 100]));
    assert_code(&o, 2);
    assert_stderr_has(&o, "has 100 bytes; a cryptogram for this key has 256");
    assert_nothing_used(&s, "short cryptogram");
}

fn check_card(generation: &'static str, holder: &'static str) {
    check_signatures(generation, holder);
    check_decrypt(generation, holder);
}

per_fixture_card!(check_card);

#[test]
fn pss_raw_needs_a_hash_and_the_card_checks_its_signatures() {
    let card = card("cps4", "cps");
    let sig = card.path("sig");
    let not_a_hash = card.write("not-a-hash", &[1; 33]);
    let sha384 = card.write("sha384", &HashAlg::Sha384.digest(b"x"));
    let message = card.write("message", b"hello");
    for (key, mechanism, input, says) in [
        ("auth", "pss-raw", &not_a_hash, Some("pss-raw signs a hash")),
        // the signature key of a CPS4 signs PSS with SHA-1/SHA-256 only (the card's own PSS)
        ("sign", "pss-raw", &sha384, None),
        // the signature key takes a DigestInfo or a hash, nothing else, and says so before the PIN
        (
            "sign",
            "pkcs1-raw",
            &message,
            Some("SHA-1/SHA-256 DigestInfo or hash only"),
        ),
    ] {
        let what = format!("{key} {mechanism} {}", input.display());
        let (o, s) = card.run_counted(&[], &sign_args(key, mechanism, input, &sig));
        assert_code(&o, 2);
        if let Some(text) = says {
            assert_stderr_has(&o, text);
        }
        assert_nothing_used(&s, &what);
        assert!(!sig.exists(), "{what}");
    }

    // a card that returns a bad signature: nothing is written (verify-after-sign)
    let mut args = vec!["--emulated-fault", "corrupt-signature"];
    args.extend(sign_args("auth", "sha256-pss", &message, &sig));
    let o = card.run(&[], &args);
    assert_code(&o, 1);
    assert_stderr_has(&o, "does not verify; nothing was written");
    assert!(!sig.exists());
}

#[test]
fn signing_refuses_a_missing_input_and_the_same_output() {
    let card = card("cps3", "cps");
    let (missing, input) = (card.path("missing"), card.write("m", b"m"));
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let (missing, input_s, out) = (path(&missing), path(&input), path(&card.path("s")));
    card.play(&[
        step(&[], &["sign", "--in", &missing, "--out", &out], 2),
        step(&[], &["sign", "--in", &input_s, "--out", &input_s], 2)
            .err("--in and --out are the same file"),
    ]);
    assert_eq!(std::fs::read(&input).unwrap(), b"m");
}
