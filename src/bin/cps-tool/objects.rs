//! `cps-tool objects [--login] [--json]`: what a PKCS#11 application sees on the card
//! (objects.md §3-§5): certificates, private keys (usage, whether the PIN guards them), public
//! keys, data objects with their size (from the FCP, without reading, objects.md §5). Private
//! data objects (`CPS_ACTIVITY_nn_PS`, `CPS_SIT_FACT`, …) are listed only after `--login`, as
//! an application sees them only after C_Login.

use cpscard::i18n::Msg;
use cpscard::t;
use cpscard::token::{DataObjectInfo, KeyUsage, ObjectId, PrivateKey, Token, TokenError};
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::{self, JsonArg};
use crate::pin_source::{PinArgs, Wanted};
use crate::select::CardArgs;
use crate::sign_args::MechanismArg;
use crate::{interrupt, token_open};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, help = Msg::HelpLogin.text())]
    pub login: bool,
    #[command(flatten)]
    pub pin: PinArgs,
    #[command(flatten)]
    pub out: JsonArg,
}

/// A data object and its size (`None`: unknown).
struct Data {
    info: DataObjectInfo,
    size: Option<usize>,
}

/// The size of a data object: from its FCP, else (CPS2ter volet files, CPS3.md §9) by reading
/// it. A file the card will not give is listed with an unknown size; card events stop.
fn size_of(token: &mut Token, id: &ObjectId) -> Result<Option<usize>, CliError> {
    let r = match token.data_size(id) {
        Ok(Some(n)) => Ok(Some(n)),
        Ok(None) => token.read_data(id).map(|v| Some(v.len())),
        Err(e) => Err(e),
    };
    match r {
        Ok(n) => Ok(n),
        Err(e) if e.is_card_event() => Err(e.into()),
        Err(TokenError::Card(c)) if matches!(c, cpscard::card::CardError::Transport(_)) => {
            Err(TokenError::Card(c).into())
        }
        Err(e) => {
            log::info!(target: "cli", "size of a data object unknown: {e}");
            Ok(None)
        }
    }
}

fn usage_text(u: &KeyUsage) -> String {
    let mut words = Vec::new();
    if u.sign {
        words.push(Msg::ObjectUsageSign.text());
    }
    if u.non_repudiation {
        words.push(Msg::ObjectUsageNonRepudiation.text());
    }
    if u.decrypt {
        words.push(Msg::ObjectUsageDecrypt.text());
    }
    words.join(", ")
}

fn key_json(k: &PrivateKey) -> Value {
    json!({
        "label": k.label,
        "id": hex::encode_upper(k.pkcs15_id.as_bytes()),
        "role": crate::doctor::card::role_name(k.role),
        "key_reference": k.key_ref.0,
        "bits": k.bits,
        "private": k.private,
        "sign": k.usage.sign,
        "non_repudiation": k.usage.non_repudiation,
        "decrypt": k.usage.decrypt,
        "mechanisms": k.mechanisms().iter().filter(|m| m.sign).map(|m| json!({
            "name": m.kind.name(),
            "option": MechanismArg::of_kind(m.kind).map(MechanismArg::name),
        })).collect::<Vec<_>>(),
    })
}

fn data_line(d: &Data) -> String {
    let mut flags = String::new();
    if d.info.private {
        flags.push_str(&Msg::ObjectPrivate.text());
    }
    if d.info.modifiable {
        flags.push_str(&Msg::ObjectModifiable.text());
    }
    match d.size {
        Some(n) => t!(
            Msg::ObjectLine,
            label = d.info.label,
            size = n,
            private = flags
        ),
        None => t!(
            Msg::ObjectSizeUnknown,
            label = d.info.label,
            private = flags
        ),
    }
}

pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    if args.login {
        token_open::precheck(&[(Wanted::Pin, args.pin.pin_file.as_ref())])?;
    }
    let mut token = token_open::open(card)?;
    if args.login {
        token_open::login(&mut token, &args.pin)?;
    }
    let logged_in = token.is_logged_in();
    let (shown, hidden): (Vec<DataObjectInfo>, Vec<DataObjectInfo>) = token
        .data_objects()
        .iter()
        .cloned()
        .partition(|d| !d.private || logged_in);
    let mut data = Vec::with_capacity(shown.len());
    for info in shown {
        let size = interrupt::card(|| size_of(&mut token, &info.id))?;
        data.push(Data { info, size });
    }
    if args.out.json {
        output::print_json(&to_json(&token, &data, hidden.len(), logged_in));
        return Ok(());
    }
    let hex_id = |id: &cpscard::card::pkcs15::Pkcs15Id| hex::encode_upper(id.as_bytes());
    println!("{}:", Msg::ObjectsCertificates);
    for c in token.certificates() {
        let role = match token
            .private_keys()
            .iter()
            .find(|k| k.pkcs15_id == c.pkcs15_id)
        {
            Some(k) => crate::doctor::card::role_text(k.role),
            None if c.authority => Msg::CertAuthority.text(),
            None => Msg::InfoCertificate.text(),
        };
        println!(
            "  {}",
            t!(
                Msg::ObjectCertLine,
                label = c.label,
                id = hex_id(&c.pkcs15_id),
                role = role
            )
        );
    }
    println!("{}:", Msg::ObjectsPrivateKeys);
    for k in token.private_keys() {
        let private = if k.private {
            Msg::ObjectPrivate.text()
        } else {
            String::new()
        };
        println!(
            "  {}",
            t!(
                Msg::ObjectKeyLine,
                label = k.label,
                id = hex_id(&k.pkcs15_id),
                bits = k.bits,
                role = crate::doctor::card::role_text(k.role),
                usage = usage_text(&k.usage),
                private = private
            )
        );
    }
    println!("{}:", Msg::ObjectsPublicKeys);
    for k in token.public_keys() {
        println!(
            "  {}",
            t!(
                Msg::ObjectPublicKeyLine,
                label = k.label,
                id = hex_id(&k.pkcs15_id),
                bits = k.bits
            )
        );
    }
    println!("{}:", Msg::ObjectsData);
    for d in &data {
        println!("  {}", data_line(d));
    }
    if !hidden.is_empty() {
        println!("{}", t!(Msg::ObjectsHidden, n = hidden.len()));
    }
    Ok(())
}

fn to_json(token: &Token, data: &[Data], hidden: usize, logged_in: bool) -> Value {
    json!({
        "schema": "cps-tool/objects/1",
        "logged_in": logged_in,
        "certificates": token.certificates().iter().map(|c| json!({
            "label": c.label,
            "id": hex::encode_upper(c.pkcs15_id.as_bytes()),
            "authority": c.authority,
            "subject": c.parsed.subject.to_rfc4514(),
        })).collect::<Vec<_>>(),
        "private_keys": token.private_keys().iter().map(key_json).collect::<Vec<_>>(),
        "public_keys": token.public_keys().iter().map(|k| json!({
            "label": k.label,
            "id": hex::encode_upper(k.pkcs15_id.as_bytes()),
            "bits": k.bits,
            "encrypt": k.encrypt,
        })).collect::<Vec<_>>(),
        "data_objects": data.iter().map(|d| json!({
            "label": d.info.label,
            "application": d.info.application,
            "private": d.info.private,
            "modifiable": d.info.modifiable,
            "size": d.size,
        })).collect::<Vec<_>>(),
        "hidden_private_objects": hidden,
    })
}
