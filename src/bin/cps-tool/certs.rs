//! `cps-tool certs [--export DIR] [--pem] [--json]`: the card's certificates (objects.md
//! §4.4) with their role (the key of the same PKCS#15 ID), subject, issuer, serial and
//! validity; exported as the card holds them (DER), or PEM (RFC 7468 §5: 64-column base64).

use std::path::{Path, PathBuf};

use cpscard::card::KeyRole;
use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::{Certificate, Token};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::CliError;
use crate::output::{self, date, JsonArg};
use crate::select::CardArgs;
use crate::token_open;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_name = "DIR", help = Msg::HelpCertsExport.text())]
    pub export: Option<PathBuf>,
    #[arg(long, requires = "export", help = Msg::HelpCertsPem.text())]
    pub pem: bool,
    #[command(flatten)]
    pub out: JsonArg,
}

/// What a certificate is for: the role of its key, or an authority's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Key(KeyRole),
    Authority,
    Other,
}

fn role_of(token: &Token, c: &Certificate) -> Role {
    if c.authority {
        return Role::Authority;
    }
    match token
        .private_keys()
        .iter()
        .find(|k| k.pkcs15_id == c.pkcs15_id)
    {
        Some(k) => Role::Key(k.role),
        None => Role::Other,
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Key(k) => crate::doctor::card::role_name(k),
        Role::Authority => "authority",
        Role::Other => "other",
    }
}

fn role_text(r: Role) -> String {
    match r {
        Role::Key(k) => crate::doctor::card::role_text(k),
        Role::Authority => Msg::CertAuthority.text(),
        Role::Other => Msg::InfoCertificate.text(),
    }
}

/// File name stem: `auth`, `sign`, `tech`, else `ca-N` / `cert-N` (N counts from 1).
fn stem(r: Role, n: usize) -> String {
    match r {
        Role::Key(KeyRole::Authentication) => "auth".into(),
        Role::Key(KeyRole::Signature) => "sign".into(),
        Role::Key(KeyRole::Technical) => "tech".into(),
        Role::Authority => numbered("ca-", n),
        Role::Other => numbered("cert-", n),
    }
}

fn numbered(prefix: &str, n: usize) -> String {
    let mut s = prefix.to_owned();
    s.push_str(&n.to_string());
    s
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with padding (RFC 4648 §4).
fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// PEM of a DER certificate (RFC 7468 §5.1: lines of 64 characters, LF endings).
pub fn pem(der: &[u8]) -> String {
    let b64 = base64(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn export(dir: &Path, name: &str, content: &[u8]) -> Result<PathBuf, CliError> {
    let err = |e: std::io::Error| {
        CliError::Other(t!(Msg::ErrExportDir, path = dir.display(), detail = e))
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(err)?;
    Ok(path)
}

pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    let token = token_open::open(card)?;
    let (mut authorities, mut others) = (0, 0);
    let mut docs = Vec::new();
    if token.certificates().is_empty() && !args.out.json {
        println!("{}", Msg::CertsNone);
    }
    for c in token.certificates() {
        let role = role_of(&token, c);
        let n = match role {
            Role::Authority => {
                authorities += 1;
                authorities
            }
            Role::Other => {
                others += 1;
                others
            }
            Role::Key(_) => 0,
        };
        let file = match &args.export {
            Some(dir) => {
                let mut name = stem(role, n);
                let content = if args.pem {
                    name.push_str(".pem");
                    pem(c.der()).into_bytes()
                } else {
                    name.push_str(".der");
                    c.der().to_vec()
                };
                Some(export(dir, &name, &content)?)
            }
            None => None,
        };
        let p = &c.parsed;
        if args.out.json {
            docs.push(json!({
                "role": role_name(role),
                "label": c.label,
                "id": hex::encode_upper(c.pkcs15_id.as_bytes()),
                "subject": p.subject.to_rfc4514(),
                "issuer": p.issuer.to_rfc4514(),
                "serial": hex::encode_upper(&p.serial),
                "not_before": output::datetime(p.validity.not_before),
                "not_after": output::datetime(p.validity.not_after),
                "expired": p.validity.expired_at(output::now_unix()),
                "sha256": hex::encode_upper(Sha256::digest(c.der())),
                "file": file.as_ref().map(|f| f.display().to_string()),
            }));
            continue;
        }
        let days = crate::info::days_text(p.validity.not_before, p.validity.not_after);
        println!(
            "{}",
            t!(
                Msg::CertLine,
                role = role_text(role),
                label = c.label,
                subject = p.subject.to_rfc4514(),
                issuer = p.issuer.to_rfc4514(),
                serial = hex::encode_upper(&p.serial),
                from = date(p.validity.not_before),
                to = date(p.validity.not_after),
                days = days
            )
        );
        if let Some(f) = &file {
            println!("  {}", t!(Msg::CertExported, path = f.display()));
        }
    }
    if args.out.json {
        output::print_json(&json!({
            "schema": "cps-tool/certs/1",
            "certificates": docs,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn pem_lines_are_64_columns() {
        // 100 bytes: 136 base64 characters
        let text = pem(&[0xAB; 100]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 8);
        assert_eq!(lines[4], "-----END CERTIFICATE-----");
        assert_eq!(lines.len(), 5);
        assert!(text.ends_with("-----\n"));
    }
}
