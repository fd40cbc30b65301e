//! The sharer's side of Beckon as a library: the invitations' store, their delivery, the
//! platform code and the sharer's window the `beckon-agent` binary uses, so tests and other tools
//! can drive them too.

pub mod desk;
pub mod front;
pub mod mail;
pub mod platform;
pub mod private;
pub mod stop;
pub mod store;
pub mod window;

/// The agent's texts in English and Spanish (`agent/locales/`); see [`beckon_engine::i18n`].
pub static TEXTS: beckon_engine::i18n::Catalogue = beckon_engine::i18n::Catalogue::new(
    include_str!("../locales/en.ftl"),
    include_str!("../locales/es.ftl"),
);

/// One of the agent's texts in the sharer's language: `t!("id")` or `t!("id", name = value)`.
#[macro_export]
macro_rules! t {
    (in $language:expr; $($args:tt)*) => {
        beckon_engine::tr!(in $language; $crate::TEXTS, $($args)*)
    };
    ($($args:tt)*) => {
        beckon_engine::tr!($crate::TEXTS, $($args)*)
    };
}
