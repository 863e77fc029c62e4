//! `cps-tool completions bash|zsh|fish` and `cps-tool manpage`: generated from the clap
//! definitions (issue 8 item 4), so they never drift from the real options. Texts come from
//! the message table, in the current language.

use std::io::Write;

use cpscard::i18n::Msg;

use crate::error::CliError;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(clap::Args, Debug)]
pub struct CompletionArgs {
    #[arg(value_enum, help = Msg::HelpShell.text())]
    pub shell: Shell,
}

pub fn completions(mut cmd: clap::Command, args: &CompletionArgs) -> Result<(), CliError> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
    Ok(())
}

pub fn manpage(cmd: clap::Command) -> Result<(), CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| CliError::Other(e.to_string()))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| CliError::Other(e.to_string()))
}
