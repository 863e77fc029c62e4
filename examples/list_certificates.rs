//! Lists the certificates and keys of a CPS card, with the mechanisms each key supports.
//!
//! ```sh
//! cargo run --example list_certificates -- --emulated cps4
//! cargo run --example list_certificates -- --reader "Gemalto PC Twin Reader 00 00"
//! ```

mod common;

use cpscard::token::Date;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let token = common::open_token(&mut args)?;
    let info = token.info();
    println!(
        "{} — {} ({}), serial {}, reader {}",
        info.label, info.manufacturer, info.model, info.serial, info.reader
    );
    for cert in token.certificates() {
        let v = cert.parsed.validity;
        let (from, to) = (Date::from_unix(v.not_before), Date::from_unix(v.not_after));
        println!("\n{} (CKA_ID {})", cert.label, cert.pkcs15_id);
        println!("  subject  {}", cert.parsed.subject.to_rfc4514());
        println!("  issuer   {}", cert.parsed.issuer.to_rfc4514());
        println!("  serial   {}", hex::encode(&cert.parsed.serial));
        println!(
            "  valid    {:04}-{:02}-{:02} → {:04}-{:02}-{:02}{}",
            from.year,
            from.month,
            from.day,
            to.year,
            to.month,
            to.day,
            if v.is_expired() { "  (EXPIRED)" } else { "" }
        );
    }
    for key in token.private_keys() {
        println!(
            "\n{} (key {}, {} bits, {:?})",
            key.label, key.key_ref, key.bits, key.role
        );
        for m in key.mechanisms() {
            let mut uses = Vec::new();
            if m.sign {
                uses.push("sign");
            }
            if m.decrypt {
                uses.push("decrypt");
            }
            println!("  {:<26} {}", m.kind.name(), uses.join(", "));
        }
    }
    Ok(())
}
