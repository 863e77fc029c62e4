//! Who holds this card: national identifier, name, profession or structure, card kind, and
//! the validity of the authentication certificate.
//!
//! ```sh
//! cargo run --example holder_identity -- --emulated cps3:cpe
//! ```

mod common;

use cpscard::token::Date;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut token = common::open_token(&mut args)?;
    let who = token.identity()?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    println!(
        "card         {} (serial {})",
        token.info().label,
        token.info().serial
    );
    println!("card kind    {}", who.category);
    if who.category.exact().is_none() {
        println!("             (the card does not tell which of these it is)");
    }
    println!(
        "IdNat        {} ({} {})",
        who.id_nat,
        who.id_type.name(),
        who.id
    );
    println!("surname      {}", opt(&who.surname));
    println!("given name   {}", opt(&who.given_name));
    println!("profession   {}", opt(&who.profession));
    println!(
        "structure    {} {}",
        opt(&who.structure),
        opt(&who.structure_id)
    );
    let (a, b) = (
        Date::from_unix(who.not_before),
        Date::from_unix(who.not_after),
    );
    println!(
        "valid        {:04}-{:02}-{:02} → {:04}-{:02}-{:02}{}",
        a.year,
        a.month,
        a.day,
        b.year,
        b.month,
        b.day,
        if who.is_expired() { " (EXPIRED)" } else { "" }
    );
    println!("subject      {}", who.subject.to_rfc4514());
    Ok(())
}
