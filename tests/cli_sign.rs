//! `sign`, `verify` and `decrypt` on each fixture card of both generations: every mechanism
//! the card supports signs, and OpenSSL verifies the raw signature with the public key of the
//! certificate `certs --export` wrote (the form of `openssl dgst`/`pkeyutl` each mechanism
//! needs); every other one is refused with a clear message and no signing APDU, PIN VERIFY or
//! RSA operation (the emulator's counters, `--emulated-fault stats=PATH`). The mechanism
//! lists expected are the card profiles' (README §3, CPS3.md §6, CPS4.md §5-§6), not the
//! tool's own claim.

mod cli_common;

use std::path::{Path, PathBuf};
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

/// One emulated card with its image, in its own directory.
struct Card {
    home: TempDir,
    generation: &'static str,
    holder: &'static str,
    pin: String,
}

impl Card {
    fn new(generation: &'static str, holder: &'static str) -> Card {
        let pin = card_json(generation, holder)["pin"]
            .as_str()
            .unwrap()
            .to_owned();
        Card {
            home: TempDir::new(&format!("sign-{generation}-{holder}")),
            generation,
            holder,
            pin,
        }
    }

    fn image(&self) -> PathBuf {
        self.home.join("card.json")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    /// `cps-tool --emulated GEN --card HOLDER --image IMG ARGS` with `CPS_PIN` set.
    fn run(&self, args: &[&str]) -> Output {
        let img = self.image();
        let mut all = card_args(self.generation, self.holder, &img);
        all.extend_from_slice(args);
        run_env(self.home.path(), &[("CPS_PIN", &self.pin)], &all)
    }

    /// The same, with the emulator's counters returned.
    fn run_counted(&self, args: &[&str]) -> (Output, serde_json::Value) {
        let stats_path = self.path("stats.json");
        let _ = std::fs::remove_file(&stats_path);
        let spec = format!("stats={}", stats_path.display());
        let mut all = vec!["--emulated-fault", spec.as_str()];
        all.extend_from_slice(args);
        let o = self.run(&all);
        (o, stats(&stats_path))
    }

    /// Exports the certificates and writes `<key>.pub.pem` from them.
    fn public_keys(&self) {
        let dir = self.path("certs");
        let o = self.run(&["certs", "--export", dir.to_str().unwrap()]);
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
                self.path(&format!("{key}.pub.pem")).to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }
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
    match mechanism {
        "pkcs1-raw" => {
            // the input is the DigestInfo itself: the block recovered (PKCS#1 v1.5 type 1
            // removed) is the input as it is
            let out = sig.with_extension("recovered");
            let o = openssl(&[
                "pkeyutl",
                "-verifyrecover",
                "-pubin",
                "-inkey",
                pk,
                "-in",
                sg,
                "-pkeyopt",
                "rsa_padding_mode:pkcs1",
                "-out",
                out.to_str().unwrap(),
            ]);
            assert_openssl(&o, what);
            assert_eq!(
                std::fs::read(out).unwrap(),
                std::fs::read(input).unwrap(),
                "{what}"
            );
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
            let out = sig.with_extension("recovered");
            let o = openssl(&[
                "pkeyutl",
                "-verifyrecover",
                "-pubin",
                "-inkey",
                pk,
                "-in",
                sg,
                "-pkeyopt",
                "rsa_padding_mode:none",
                "-out",
                out.to_str().unwrap(),
            ]);
            assert_openssl(&o, what);
            let block = std::fs::read(out).unwrap();
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
fn inputs(card: &Card, key: &str, mechanism: &str, message: &[u8]) -> Vec<(String, Vec<u8>)> {
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
    let card = Card::new(generation, holder);
    card.public_keys();
    let message = format!("cps-tool signs this, {generation} {holder}\n").into_bytes();

    // the tool's own account of its keys agrees with the profile
    let o = card.run(&["objects", "--json"]);
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
        let pubkey = card.path(&format!("{key}.pub.pem"));
        let mut tampered_checked = false;
        for mechanism in ALL {
            if !supported(generation, key).contains(&mechanism) {
                let (name, content) = inputs(&card, key, mechanism, &message).remove(0);
                let input = card.write(&name, &content);
                let sig = card.path("refused.sig");
                let (o, s) = card.run_counted(&[
                    "sign",
                    "--key",
                    key,
                    "--mechanism",
                    mechanism,
                    "--in",
                    input.to_str().unwrap(),
                    "--out",
                    sig.to_str().unwrap(),
                ]);
                let what = format!("{generation}/{holder} {key} {mechanism}");
                assert_code(&o, 2);
                let err = stderr(&o);
                assert!(err.contains("nothing was sent"), "{what}: {err}");
                if mechanism.contains("pss") && generation == "cps3" {
                    assert!(
                        err.contains("CPS3") && err.contains("cannot sign with RSA-PSS"),
                        "{what}: {err}"
                    );
                    assert!(err.contains("--mechanism sha256-pkcs1"), "{what}: {err}");
                } else {
                    assert!(
                        err.contains(&format!("cannot use {mechanism}")),
                        "{what}: {err}"
                    );
                    assert!(err.contains("mechanisms of this key: "), "{what}: {err}");
                }
                assert_eq!(verifies_with_code(&s), 0, "{what}: {s}");
                assert_eq!(s["rsa_ops"], 0, "{what}: {s}");
                for ins in ["2A", "88", "22"] {
                    assert_eq!(ins_count(&s, ins), 0, "{what}: INS {ins} sent: {s}");
                }
                assert!(!sig.exists(), "{what}: a signature file was written");
                continue;
            }
            for (name, content) in inputs(&card, key, mechanism, &message) {
                let what = format!("{generation}/{holder} {key} {mechanism} {name}");
                let input = card.write(&name, &content);
                let sig = card.path(&format!("{key}-{mechanism}-{name}.sig"));
                let args = [
                    "--key",
                    key,
                    "--mechanism",
                    mechanism,
                    "--in",
                    input.to_str().unwrap(),
                ];
                let mut sign_args = vec!["sign"];
                sign_args.extend_from_slice(&args);
                sign_args.extend(["--out", sig.to_str().unwrap()]);
                let o = card.run(&sign_args);
                assert_code(&o, 0);
                assert!(
                    stderr(&o).contains("signature written to"),
                    "{what}: {}",
                    stderr(&o)
                );
                assert_eq!(std::fs::read(&sig).unwrap().len(), 256, "{what}");
                openssl_verify(&pubkey, mechanism, &input, &sig, &what);
                if mechanism == "pkcs1-raw" {
                    // and the DigestInfo is a real one: OpenSSL builds its own from the hash
                    let h = hash_of(name.strip_prefix("di-").unwrap());
                    let hash = card.write("di-hash", &h.digest(&message));
                    let digest = format!("digest:{}", name.strip_prefix("di-").unwrap());
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
                let mut verify_args = vec!["verify"];
                verify_args.extend_from_slice(&args);
                verify_args.extend(["--sig", sig.to_str().unwrap()]);
                let o = card.run(&verify_args);
                assert_code(&o, 0);
                assert!(
                    stdout(&o).contains("signature OK"),
                    "{what}: {}",
                    stdout(&o)
                );
                if !tampered_checked && mechanism != "raw" {
                    tampered_checked = true;
                    let mut other = content.clone();
                    other[0] ^= 1;
                    let input = card.write(&name, &other);
                    let mut verify_args = vec!["verify", "--key", key, "--mechanism", mechanism];
                    verify_args.extend([
                        "--in",
                        input.to_str().unwrap(),
                        "--sig",
                        sig.to_str().unwrap(),
                    ]);
                    let o = card.run(&verify_args);
                    assert_code(&o, 10);
                    assert!(
                        stderr(&o).contains("signature does NOT verify"),
                        "{what}: {}",
                        stderr(&o)
                    );
                }
            }
        }
    }
    // correct PINs only: no try was lost
    assert_eq!(counters(&card.image()), (3, 10));
}

/// `decrypt` of what `openssl pkeyutl -encrypt` made with the authentication certificate.
fn check_decrypt(generation: &'static str, holder: &'static str) {
    let card = Card::new(generation, holder);
    card.public_keys();
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
    let o = card.run(&[
        "decrypt",
        "--in",
        cryptogram.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_code(&o, 0);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());
    assert!(
        stderr(&o).contains("plaintext written to"),
        "{}",
        stderr(&o)
    );

    // a cryptogram of the wrong length: refused before the PIN
    let short = card.write("short", &[0x42; 100]);
    let (o, s) = card.run_counted(&[
        "decrypt",
        "--in",
        short.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("has 100 bytes; a cryptogram for this key has 256"),
        "{}",
        stderr(&o)
    );
    assert_eq!(verifies_with_code(&s), 0);
    assert_eq!(s["rsa_ops"], 0);
}

macro_rules! per_card {
    ($($name:ident: $generation:literal $holder:literal;)*) => {$(
        #[test]
        fn $name() {
            check_signatures($generation, $holder);
            check_decrypt($generation, $holder);
        }
    )*};
}

per_card! {
    cps3_cps: "cps3" "cps";
    cps3_cpf: "cps3" "cpf";
    cps3_cpe: "cps3" "cpe";
    cps3_cpa: "cps3" "cpa";
    cps3_cde: "cps3" "cde";
    cps4_cps: "cps4" "cps";
    cps4_cpf: "cps4" "cpf";
    cps4_cpe: "cps4" "cpe";
    cps4_cpa: "cps4" "cpa";
    cps4_cde: "cps4" "cde";
}

#[test]
fn pss_raw_needs_a_hash_and_the_card_checks_its_signatures() {
    let card = Card::new("cps4", "cps");
    let input = card.write("not-a-hash", &[1; 33]);
    let sig = card.path("sig");
    let (o, s) = card.run_counted(&[
        "sign",
        "--key",
        "auth",
        "--mechanism",
        "pss-raw",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("pss-raw signs a hash"),
        "{}",
        stderr(&o)
    );
    assert_eq!(verifies_with_code(&s), 0, "{s}");
    assert_eq!(s["rsa_ops"], 0, "{s}");

    // the signature key of a CPS4 signs PSS with SHA-1/SHA-256 only (the card's own PSS)
    let input = card.write("sha384", &HashAlg::Sha384.digest(b"x"));
    let (o, s) = card.run_counted(&[
        "sign",
        "--key",
        "sign",
        "--mechanism",
        "pss-raw",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    assert_eq!(verifies_with_code(&s), 0, "{s}");
    assert_eq!(s["rsa_ops"], 0, "{s}");

    // a card that returns a bad signature: nothing is written (verify-after-sign)
    let input = card.write("message", b"hello");
    let (o, _) = card.run_counted(&[
        "--emulated-fault",
        "corrupt-signature",
        "sign",
        "--key",
        "auth",
        "--mechanism",
        "sha256-pss",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("does not verify; nothing was written"),
        "{}",
        stderr(&o)
    );
    assert!(!sig.exists());

    // the signature key takes a DigestInfo or a hash, nothing else, and says so before the PIN
    let (o, s) = card.run_counted(&[
        "sign",
        "--key",
        "sign",
        "--mechanism",
        "pkcs1-raw",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("SHA-1/SHA-256 DigestInfo or hash only"),
        "{}",
        stderr(&o)
    );
    assert_eq!(verifies_with_code(&s), 0, "{s}");
}

#[test]
fn signing_refuses_a_missing_input_and_the_same_output() {
    let card = Card::new("cps3", "cps");
    let missing = card.path("missing");
    let o = card.run(&[
        "sign",
        "--in",
        missing.to_str().unwrap(),
        "--out",
        card.path("s").to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    let input = card.write("m", b"m");
    let o = card.run(&[
        "sign",
        "--in",
        input.to_str().unwrap(),
        "--out",
        input.to_str().unwrap(),
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("--in and --out are the same file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&input).unwrap(), b"m");
}
