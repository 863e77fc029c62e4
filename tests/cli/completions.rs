//! Shell completions and the man page come from the clap definitions; `--help` lists the exit
//! codes and follows the locale.

use crate::cli_common;

use cli_common::*;

#[test]
fn completions_for_each_shell() {
    let home = TempDir::new("completions");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef cps-tool"),
        ("fish", "complete -c cps-tool"),
    ] {
        let o = run(home.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let out = stdout(&o);
        assert!(out.contains(marker), "{shell}: {out}");
        for sub in ["readers", "doctor", "completions", "manpage"] {
            assert!(out.contains(sub), "{shell} lacks {sub}");
        }
        assert!(out.contains("emulated"), "{shell}");
    }
    assert_eq!(
        run(home.path(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );
}

#[test]
fn manpage_and_help() {
    let home = TempDir::new("manpage");
    let o = run(home.path(), &["manpage"]);
    assert_eq!(o.status.code(), Some(0));
    let man = stdout(&o);
    assert!(
        man.starts_with(".ie") || man.contains(".TH cps-tool"),
        "{man}"
    );
    assert!(man.contains("Exit codes"), "{man}");
    let o = run(home.path(), &["--help"]);
    let help = stdout(&o);
    for line in [
        "3  no PC/SC service",
        "6  unknown card",
        "7  PIN or PUK wrong",
        "8  PIN or PUK blocked",
        "2  usage error",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
    let o = cmd(home.path())
        .env("LANG", "fr_FR.UTF-8")
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&o);
    assert!(help.contains("Codes de sortie"), "{help}");
    assert!(help.contains("lecteur PC/SC à utiliser"), "{help}");
    // LC_ALL wins over LANG
    let o = cmd(home.path())
        .env("LANG", "fr_FR.UTF-8")
        .env("LC_ALL", "C")
        .arg("--help")
        .output()
        .unwrap();
    assert!(stdout(&o).contains("Exit codes"));
}
