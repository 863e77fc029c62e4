//! `cps-tool sign`: the card signs a file; the token checks every signature with the
//! certificate before it is returned, and it is written raw, as `openssl dgst -verify` and
//! `openssl pkeyutl -verify` read it. Everything that can be refused is refused before the PIN
//! is asked and before any signing APDU: a mechanism the key cannot do (RSA-PSS on a CPS3,
//! README §3-§4 of the card profiles), an input the mechanism cannot take.
//!
//! `cps-tool verify`: in software with the card's certificate (no PIN, no private-key APDU).

use std::path::PathBuf;

use cpscard::card::rsa_pad::digest_from_pkcs1_input;
use cpscard::i18n::Msg;
use cpscard::sign::capabilities::RawPkcs1;
use cpscard::sign::Mechanism;
use cpscard::t;
use cpscard::token::{PrivateKey, Token, TokenError};

use crate::error::{code, CliError};
use crate::output::{read_input, write_output};
use crate::pin_source::{PinArgs, Wanted};
use crate::select::CardArgs;
use crate::sign_args::{KeyArg, MechanismArg};
use crate::{interrupt, token_open};

#[derive(clap::Args, Debug)]
pub struct SignArgs {
    #[arg(long, value_enum, default_value = "sign", help = Msg::HelpKey.text())]
    pub key: KeyArg,
    #[arg(long, value_enum, default_value = "sha256-pkcs1", help = Msg::HelpMechanism.text())]
    pub mechanism: MechanismArg,
    #[arg(long = "in", value_name = "FILE", help = Msg::HelpIn.text())]
    pub input: PathBuf,
    #[arg(long = "out", value_name = "FILE", help = Msg::HelpOut.text())]
    pub output: PathBuf,
    #[command(flatten)]
    pub pin: PinArgs,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[arg(long, value_enum, default_value = "sign", help = Msg::HelpKey.text())]
    pub key: KeyArg,
    #[arg(long, value_enum, default_value = "sha256-pkcs1", help = Msg::HelpMechanism.text())]
    pub mechanism: MechanismArg,
    #[arg(long = "in", value_name = "FILE", help = Msg::HelpIn.text())]
    pub input: PathBuf,
    #[arg(long = "sig", alias = "signature", value_name = "FILE", help = Msg::HelpSignature.text())]
    pub signature: PathBuf,
}

/// The token mechanism for this input, or the usage error of `pss-raw` with an input that is
/// no hash.
fn mechanism_for(
    m: MechanismArg,
    input: &std::path::Path,
    data: &[u8],
) -> Result<Mechanism, CliError> {
    m.mechanism(data.len()).ok_or_else(|| {
        CliError::Usage(t!(
            Msg::SignPssRawLength,
            path = input.display(),
            len = data.len()
        ))
    })
}

/// The card's key of `k`.
pub fn key_of(token: &Token, k: KeyArg) -> Result<PrivateKey, CliError> {
    token
        .key_with_role(k.role())
        .cloned()
        .ok_or_else(|| CliError::Usage(t!(Msg::ErrNoKey, key = k.word())))
}

/// Refuses, with what to do instead, a mechanism this key cannot sign with (no APDU).
fn check_mechanism(
    token: &Token,
    key: &PrivateKey,
    k: KeyArg,
    m: MechanismArg,
) -> Result<(), CliError> {
    let kind = m.kind();
    if key.mechanisms().iter().any(|mi| mi.kind == kind && mi.sign) {
        return Ok(());
    }
    if m.is_pss()
        && !token
            .mechanisms()
            .iter()
            .any(|mi| mi.kind.is_pss() && mi.sign)
    {
        return Err(CliError::Message {
            text: t!(
                Msg::SignNoPss,
                card = crate::output::generation_name(token.info().card_kind.generation())
                    .to_uppercase()
            ),
            fix: Some(Msg::SignNoPssFix.text()),
            code: code::USAGE,
        });
    }
    let list = key
        .mechanisms()
        .iter()
        .filter(|mi| mi.sign)
        .filter_map(|mi| MechanismArg::of_kind(mi.kind))
        .map(MechanismArg::name)
        .collect::<Vec<_>>()
        .join(", ");
    Err(CliError::Message {
        text: t!(
            Msg::SignMechanismUnsupported,
            key = k.word(),
            mechanism = m.name()
        ),
        fix: Some(t!(Msg::SignMechanismFix, list = list)),
        code: code::USAGE,
    })
}

pub fn sign(card: &CardArgs, args: &SignArgs) -> Result<(), CliError> {
    let data = read_input(&args.input)?;
    crate::output::refuse_same_file(&args.input, &args.output)?;
    token_open::precheck(&[(Wanted::Pin, args.pin.pin_file.as_ref())])?;
    let mut token = token_open::open(card)?;
    let key = key_of(&token, args.key)?;
    check_mechanism(&token, &key, args.key, args.mechanism)?;
    let mechanism = mechanism_for(args.mechanism, &args.input, &data)?;
    // The signature key takes a SHA-1/SHA-256 DigestInfo or hash only (the card builds the
    // DigestInfo itself, CPS3.md §6.4): refused now rather than after the PIN.
    if args.mechanism == MechanismArg::Pkcs1Raw
        && key.capabilities.raw_pkcs1 == RawPkcs1::CardHashesOnly
        && digest_from_pkcs1_input(&data).is_none()
    {
        return Err(CliError::Usage(t!(
            Msg::SignRawInput,
            mechanism = args.mechanism.name(),
            key = args.key.word(),
            path = args.input.display()
        )));
    }
    let mut op = token.sign_init(&key.id, mechanism)?;
    op.update(&data)?;
    token_open::login(&mut token, &args.pin)?;
    let signature = interrupt::card(|| {
        let _spinner = crate::progress::Spinner::start(Msg::WorkingCard.text());
        Ok(token.sign_finish(&key.id, op)?)
    })?;
    write_output(&args.output, &signature)?;
    eprintln!(
        "{}",
        t!(
            Msg::SignWritten,
            path = args.output.display(),
            bytes = signature.len(),
            mechanism = args.mechanism.name(),
            key = args.key.word()
        )
    );
    Ok(())
}

pub fn verify(card: &CardArgs, args: &VerifyArgs) -> Result<(), CliError> {
    let data = read_input(&args.input)?;
    let signature = read_input(&args.signature)?;
    let mechanism = mechanism_for(args.mechanism, &args.input, &data)?;
    let token = token_open::open(card)?;
    let key = key_of(&token, args.key)?;
    if key.public_key.is_none() {
        return Err(CliError::Usage(t!(
            Msg::ErrNoCertificate,
            key = args.key.word()
        )));
    }
    match token.verify(&key.id, mechanism, &data, &signature) {
        Ok(()) => {
            println!(
                "{}",
                t!(
                    Msg::VerifyOk,
                    mechanism = args.mechanism.name(),
                    key = args.key.word()
                )
            );
            Ok(())
        }
        Err(TokenError::SignatureInvalid) => Err(CliError::BadSignature(t!(
            Msg::VerifyFailed,
            mechanism = args.mechanism.name(),
            key = args.key.word()
        ))),
        Err(e) => Err(e.into()),
    }
}
