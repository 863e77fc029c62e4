//! `cps-tool decrypt`: a PKCS#1 v1.5 RSA cryptogram (as `openssl pkeyutl -encrypt` makes it
//! with the authentication certificate) deciphered by the authentication key (CPS3: PSO
//! DECIPHER, the card removes the padding, CPS3.md §6.7; CPS4: raw RSA, the host removes it,
//! CPS4.md §6.4). The plaintext only lives in zeroizing buffers until it is written.

use std::path::PathBuf;

use cpscard::i18n::Msg;
use cpscard::sign::MechanismKind;
use cpscard::t;

use crate::error::CliError;
use crate::output::{read_input, write_output};
use crate::pin_source::{PinArgs, Wanted};
use crate::select::CardArgs;
use crate::sign::key_of;
use crate::sign_args::KeyArg;
use crate::{interrupt, token_open};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long = "in", value_name = "FILE", help = Msg::HelpDecryptIn.text())]
    pub input: PathBuf,
    #[arg(long = "out", value_name = "FILE", help = Msg::HelpOut.text())]
    pub output: PathBuf,
    #[command(flatten)]
    pub pin: PinArgs,
}

pub fn run(card: &CardArgs, args: &Args) -> Result<(), CliError> {
    let cryptogram = read_input(&args.input)?;
    crate::output::refuse_same_file(&args.input, &args.output)?;
    token_open::precheck(&[(Wanted::Pin, args.pin.pin_file.as_ref())])?;
    let mut token = token_open::open(card)?;
    let key = key_of(&token, KeyArg::Auth)?;
    let len = key.capabilities.modulus_len();
    if cryptogram.len() != len {
        return Err(CliError::Usage(t!(
            Msg::ErrDecryptLength,
            path = args.input.display(),
            len = cryptogram.len(),
            max = len
        )));
    }
    token_open::login(&mut token, &args.pin)?;
    let plaintext = interrupt::card(|| {
        let _spinner = crate::progress::Spinner::start(Msg::WorkingCard.text());
        Ok(token.decrypt(&key.id, MechanismKind::RsaPkcs, &cryptogram)?)
    })?;
    write_output(&args.output, &plaintext)?;
    eprintln!(
        "{}",
        t!(
            Msg::DecryptWritten,
            path = args.output.display(),
            bytes = plaintext.len()
        )
    );
    Ok(())
}
