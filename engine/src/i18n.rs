//! Every text a person reads, in their language: Project Fluent catalogues, English and
//! Spanish, chosen once from the locale as gettext does (`LANGUAGE`, then `LC_ALL`,
//! `LC_MESSAGES`, `LANG`; the `C` locale is English).
//!
//! Each crate keeps its own catalogue (`locales/en.ftl` and `locales/es.ftl` beside its
//! `Cargo.toml`) in a static [`Catalogue`], and its texts go through [`tr!`](crate::tr):
//!
//! ```
//! use beckon_engine::i18n::Catalogue;
//! static TEXTS: Catalogue = Catalogue::new("waiting = Waiting for { $who }.\n", "waiting = Esperando a { $who }.\n");
//! assert_eq!(beckon_engine::tr!(TEXTS, "waiting", who = "Grace"), "Waiting for Grace.");
//! ```
//!
//! A message missing from the Spanish catalogue falls back to English; the tests check that
//! both catalogues have the same messages with the same placeholders, and that every message
//! the code asks for exists.

use std::sync::OnceLock;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
pub use fluent_bundle::{FluentArgs, FluentValue};

/// The engine's own texts: what the helper and the sharer read of sessions, invitations and
/// passwords.
pub static TEXTS: Catalogue = Catalogue::new(
    include_str!("../locales/en.ftl"),
    include_str!("../locales/es.ftl"),
);

/// The languages Beckon speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English, the default.
    English,
    /// Spanish.
    Spanish,
}

impl Language {
    /// The language of this process's locale (read once).
    pub fn current() -> Language {
        static CURRENT: OnceLock<Language> = OnceLock::new();
        *CURRENT.get_or_init(|| Language::choose(|name| std::env::var(name).ok()))
    }

    /// The language the locale variables `get` reads name: `LANGUAGE` (a list such as
    /// `es:en`) unless the locale is `C` or `POSIX`, then the locale (`LC_ALL`, else
    /// `LC_MESSAGES`, else `LANG`, such as `es_ES.UTF-8`); English when none is known.
    pub fn choose(get: impl Fn(&str) -> Option<String>) -> Language {
        let set = |name: &str| get(name).filter(|v| !v.is_empty());
        let Some(locale) = ["LC_ALL", "LC_MESSAGES", "LANG"].into_iter().find_map(set) else {
            return Language::English;
        };
        if matches!(locale.split(['.', '@']).next(), Some("C" | "POSIX")) {
            return Language::English;
        }
        let listed = set("LANGUAGE").unwrap_or_default();
        listed
            .split(':')
            .chain([locale.as_str()])
            .find_map(Language::named)
            .unwrap_or(Language::English)
    }

    /// The language a locale or language name such as `es_AR.UTF-8` or `en` names, if Beckon
    /// speaks it.
    fn named(name: &str) -> Option<Language> {
        let language = name.split(['_', '-', '.', '@']).next()?;
        match language {
            "es" => Some(Language::Spanish),
            "en" => Some(Language::English),
            _ => None,
        }
    }

    fn tag(self) -> unic_langid::LanguageIdentifier {
        let tag = match self {
            Language::English => "en",
            Language::Spanish => "es",
        };
        tag.parse().expect("a valid language tag")
    }
}

/// A crate's messages in both languages, parsed on first use.
pub struct Catalogue {
    english: &'static str,
    spanish: &'static str,
    bundles: OnceLock<Bundles>,
}

struct Bundles {
    english: FluentBundle<FluentResource>,
    spanish: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Catalogue")
    }
}

impl Catalogue {
    /// A catalogue of the English and Spanish sources (Fluent syntax).
    pub const fn new(english: &'static str, spanish: &'static str) -> Catalogue {
        Catalogue {
            english,
            spanish,
            bundles: OnceLock::new(),
        }
    }

    /// The sources, English then Spanish (for the tests).
    pub fn sources(&self) -> [&'static str; 2] {
        [self.english, self.spanish]
    }

    fn bundles(&self) -> &Bundles {
        self.bundles.get_or_init(|| Bundles {
            english: bundle(Language::English, self.english),
            spanish: bundle(Language::Spanish, self.spanish),
        })
    }

    /// Message `id` in the current language, with `args` in its placeholders.
    pub fn text(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        self.text_in(Language::current(), id, args)
    }

    /// Message `id` in `language` exactly: none when that catalogue lacks it.
    pub fn exact(&self, language: Language, id: &str) -> Option<String> {
        format(self.bundle(language), id, None)
    }

    fn bundle(&self, language: Language) -> &FluentBundle<FluentResource> {
        let bundles = self.bundles();
        match language {
            Language::English => &bundles.english,
            Language::Spanish => &bundles.spanish,
        }
    }

    /// Message `id` in `language` (English when that catalogue lacks it; the id itself when
    /// both do).
    pub fn text_in(&self, language: Language, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        format(self.bundle(language), id, args)
            .or_else(|| format(self.bundle(Language::English), id, args))
            .unwrap_or_else(|| id.to_string())
    }
}

/// Whether `source` is a Fluent catalogue without syntax errors (the tests check every one).
///
/// # Errors
/// The parser's complaints, one per line.
pub fn check_source(source: &str) -> Result<(), String> {
    match FluentResource::try_new(source.to_string()) {
        Ok(_) => Ok(()),
        Err((_, errors)) => Err(errors
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// Message `id` of `bundle` with `args`, if the bundle has it.
fn format(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: Option<&FluentArgs<'_>>,
) -> Option<String> {
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned(),
    )
}

fn bundle(language: Language, source: &str) -> FluentBundle<FluentResource> {
    // A catalogue that does not parse keeps the messages that do; the tests reject it.
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    let mut bundle = FluentBundle::new_concurrent(vec![language.tag()]);
    // Terminals and egui show the isolation marks Fluent puts around placeables as boxes.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    bundle
}

/// Message `id` of `catalogue` in the current language, with named arguments:
/// `tr!(TEXTS, "id")` or `tr!(TEXTS, "id", name = value, ...)`. Values are `&str`, `String` or
/// numbers (numbers choose plural forms).
/// `tr!(in language; TEXTS, "id", ...)` chooses the language.
#[macro_export]
macro_rules! tr {
    (in $language:expr; $catalogue:expr, $id:literal) => {
        $catalogue.text_in($language, $id, None)
    };
    (in $language:expr; $catalogue:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::i18n::FluentArgs::new();
        $( args.set(stringify!($name), $value); )+
        $catalogue.text_in($language, $id, Some(&args))
    }};
    ($catalogue:expr, $id:literal $($rest:tt)*) => {
        $crate::tr!(in $crate::i18n::Language::current(); $catalogue, $id $($rest)*)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_the_locale_as_gettext_does() {
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Language::choose(move |name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        };
        assert_eq!(with(&[]), Language::English);
        assert_eq!(with(&[("LANG", "es_ES.UTF-8")]), Language::Spanish);
        assert_eq!(with(&[("LANG", "es_AR")]), Language::Spanish);
        assert_eq!(
            with(&[("LANG", "es_ES.UTF-8"), ("LC_ALL", "en_GB.UTF-8")]),
            Language::English
        );
        assert_eq!(
            with(&[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "es_MX.UTF-8")]),
            Language::Spanish
        );
        assert_eq!(
            with(&[("LANG", "de_DE.UTF-8"), ("LANGUAGE", "fr:es:en")]),
            Language::Spanish
        );
        // The C locale ignores LANGUAGE, as gettext does.
        assert_eq!(
            with(&[("LANG", "C.UTF-8"), ("LANGUAGE", "es")]),
            Language::English
        );
        assert_eq!(with(&[("LANG", "de_DE.UTF-8")]), Language::English);
    }

    #[test]
    fn messages_fall_back_to_english_and_choose_plurals() {
        static TEXTS: Catalogue = Catalogue::new(
            "left = { $n ->\n    [one] 1 attempt left\n   *[other] { $n } attempts left\n}\nonly = Only in English\n",
            "left = { $n ->\n    [one] queda 1 intento\n   *[other] quedan { $n } intentos\n}\n",
        );
        let n = |n: u64| {
            let mut args = FluentArgs::new();
            args.set("n", n);
            args
        };
        assert_eq!(
            TEXTS.text_in(Language::English, "left", Some(&n(1))),
            "1 attempt left"
        );
        assert_eq!(
            TEXTS.text_in(Language::Spanish, "left", Some(&n(3))),
            "quedan 3 intentos"
        );
        assert_eq!(
            TEXTS.text_in(Language::Spanish, "only", None),
            "Only in English"
        );
        assert_eq!(TEXTS.text_in(Language::Spanish, "nowhere", None), "nowhere");
    }
}
