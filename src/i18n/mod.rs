//! Messages a user reads, in English or French (issue 8 item 5): ONE table of message ids
//! ([`Msg`], in `table.rs`) with both languages, the language taken from the locale
//! (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, as POSIX orders them: the first one set and
//! non-empty decides; `fr*` → French, anything else → English).
//!
//! Templates name their arguments: `"PIN wrong, {tries} tries left"`; [`t!`](crate::t) fills
//! them. The CLI, the PIN prompts of the token layer and every error shown to a user take their
//! text from here, so that a translation is one line of `table.rs`.

mod table;

pub use table::Msg;

use std::fmt::{self, Display};
use std::sync::OnceLock;

/// A language of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
}

static CURRENT: OnceLock<Lang> = OnceLock::new();

impl Lang {
    /// The language the locale variables ask for: the first of `LC_ALL`, `LC_MESSAGES`, `LANG`
    /// that is set and non-empty (POSIX precedence); French when it starts with `fr`
    /// (`fr_FR.UTF-8`, `fr_BE`, `fr`), English otherwise (`C`, `POSIX`, `en_US`, ...).
    pub fn from_vars(lc_all: Option<&str>, lc_messages: Option<&str>, lang: Option<&str>) -> Lang {
        let chosen = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty());
        match chosen {
            Some(v) if v.len() >= 2 && v[..2].eq_ignore_ascii_case("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    /// [`Lang::from_vars`] on this process's environment.
    pub fn from_env() -> Lang {
        let var = |name: &str| std::env::var(name).ok();
        Lang::from_vars(
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        )
    }

    /// The language of this process: [`Lang::from_env`] read once.
    pub fn current() -> Lang {
        *CURRENT.get_or_init(Lang::from_env)
    }

    /// Short code (`en`, `fr`), as the JSON outputs give it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

impl Msg {
    /// The template in `lang`.
    pub fn template(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en(),
            Lang::Fr => self.fr(),
        }
    }

    /// The text in the current language (for messages without arguments).
    pub fn text(self) -> String {
        format(self, Lang::current(), &[])
    }
}

impl Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Fills the `{name}` placeholders of `msg`'s template in `lang`. A placeholder without an
/// argument is left as it is (the completeness test checks both languages name the same ones).
pub fn format(msg: Msg, lang: Lang, args: &[(&str, &dyn Display)]) -> String {
    let template = msg.template(lang);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(&value.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names of a template, in order of appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

/// A message in the current language: `t!(Msg::PinWrong, tries = 2)`.
#[macro_export]
macro_rules! t {
    ($msg:expr) => {
        $crate::i18n::format($msg, $crate::i18n::Lang::current(), &[])
    };
    ($msg:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::format(
            $msg,
            $crate::i18n::Lang::current(),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+],
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_precedence_is_posix() {
        assert_eq!(Lang::from_vars(None, None, Some("fr_FR.UTF-8")), Lang::Fr);
        assert_eq!(Lang::from_vars(None, None, Some("en_US.UTF-8")), Lang::En);
        assert_eq!(Lang::from_vars(None, None, None), Lang::En);
        assert_eq!(Lang::from_vars(Some("C"), None, Some("fr_FR")), Lang::En);
        assert_eq!(
            Lang::from_vars(Some(""), Some("fr_BE"), Some("en")),
            Lang::Fr
        );
        assert_eq!(
            Lang::from_vars(None, Some("en_GB"), Some("fr_FR")),
            Lang::En
        );
        assert_eq!(Lang::from_vars(Some("FR_ca"), None, None), Lang::Fr);
        assert_eq!(Lang::from_vars(Some("f"), None, None), Lang::En);
        assert_eq!(Lang::from_vars(Some("français"), None, None), Lang::Fr);
    }

    #[test]
    fn every_message_has_both_languages_with_the_same_placeholders() {
        for &msg in Msg::ALL {
            let (en, fr) = (msg.en(), msg.fr());
            assert!(!en.trim().is_empty(), "{msg:?}: English text missing");
            assert!(!fr.trim().is_empty(), "{msg:?}: French text missing");
            let mut a = placeholders(en);
            let mut b = placeholders(fr);
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{msg:?}: placeholders differ between en and fr");
        }
    }

    #[test]
    fn message_ids_are_unique_and_texts_distinct() {
        let mut seen = std::collections::HashSet::new();
        for &msg in Msg::ALL {
            assert!(seen.insert(msg), "{msg:?} listed twice");
        }
        // Two ids with the same texts in both languages are one message twice.
        let mut texts = std::collections::HashMap::new();
        for &msg in Msg::ALL {
            if let Some(other) = texts.insert((msg.en(), msg.fr()), msg) {
                panic!("{msg:?} and {other:?} have the same texts");
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let s = format(Msg::PinWrongTriesLeft, Lang::En, &[("tries", &2)]);
        assert_eq!(s, "PIN wrong, 2 tries left");
        let s = format(Msg::PinWrongTriesLeft, Lang::Fr, &[("tries", &2)]);
        assert_eq!(s, "code porteur erroné, 2 essais restants");
        // a missing argument stays visible rather than vanishing
        assert_eq!(
            format(Msg::PinWrongTriesLeft, Lang::En, &[]),
            "PIN wrong, {tries} tries left"
        );
        assert_eq!(placeholders("a {x} b {y}{z}"), ["x", "y", "z"]);
    }
}
