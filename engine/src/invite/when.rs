//! Times as people read them: "45 minutes", "in 2 hours", "3 days ago", "2026-11-30 14:05 UTC".
//! Every time here is seconds since the Unix epoch, as invitations and the store keep them.

use time::OffsetDateTime;

use crate::i18n::Language;
use time::macros::format_description;

/// Now, in seconds since the Unix epoch (0 on a clock set before 1970).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A length of time in its largest sensible units, in the reader's language: "45 seconds",
/// "1 minute", "1 hour 30 minutes", "2 days".
pub fn duration(secs: u64) -> String {
    duration_in(Language::current(), secs)
}

/// [`duration`] in `language`.
pub fn duration_in(language: Language, secs: u64) -> String {
    let unit = |n: u64, unit: &str| match unit {
        "s" => crate::t!(in language; "unit-seconds", n = n),
        "m" => crate::t!(in language; "unit-minutes", n = n),
        "h" => crate::t!(in language; "unit-hours", n = n),
        _ => crate::t!(in language; "unit-days", n = n),
    };
    let pair = |first: String, second: String| crate::t!(in language; "duration-pair", first = first, second = second);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => unit(secs, "s"),
        (0, 0, m) => unit(m, "m"),
        (0, h, 0) => unit(h, "h"),
        (0, h, m) => pair(unit(h, "h"), unit(m, "m")),
        (d, 0, _) => unit(d, "d"),
        (d, h, _) => pair(unit(d, "d"), unit(h, "h")),
    }
}

/// `at` seen from `now`: "in 59 minutes", "3 hours ago", "just now".
pub fn relative(at: u64, now: u64) -> String {
    relative_in(Language::current(), at, now)
}

/// [`relative`] in `language`.
pub fn relative_in(language: Language, at: u64, now: u64) -> String {
    if at.abs_diff(now) < 60 {
        crate::t!(in language; "relative-now")
    } else if at > now {
        crate::t!(in language; "relative-future", span = duration_in(language, at - now))
    } else {
        crate::t!(in language; "relative-past", span = duration_in(language, now - at))
    }
}

/// The date and time of `at` in UTC: `2026-11-30 14:05 UTC`. (UTC, labelled, because the local
/// offset cannot be read soundly once a process has threads.)
pub fn utc(at: u64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    i64::try_from(at)
        .ok()
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
        .and_then(|date| date.format(format).ok())
        .unwrap_or_else(|| crate::t!("date-unknown", at = at.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_480_081), "2026-11-24 00:28 UTC");
        assert_eq!(utc(u64::MAX), format!("{} seconds after 1970", u64::MAX));
    }

    #[test]
    fn durations_in_words() {
        let duration = |secs| duration_in(Language::English, secs);
        assert_eq!(duration(45), "45 seconds");
        assert_eq!(duration(60), "1 minute");
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(5400), "1 hour 30 minutes");
        assert_eq!(duration(2880 * 60), "2 days");
        assert_eq!(duration(86_400 + 7200 + 59), "1 day 2 hours");
        assert_eq!(duration_in(Language::Spanish, 5400), "1 hora y 30 minutos");
        assert_eq!(duration_in(Language::Spanish, 2 * 86_400), "2 días");
    }

    #[test]
    fn relative_times() {
        let relative = |at, now| relative_in(Language::English, at, now);
        assert_eq!(relative(1000, 1030), "just now");
        assert_eq!(relative(1000 + 3540, 1000), "in 59 minutes");
        assert_eq!(relative(1000, 1000 + 3 * 3600), "3 hours ago");
        assert_eq!(
            relative_in(Language::Spanish, 1000 + 3540, 1000),
            "dentro de 59 minutos"
        );
        assert_eq!(
            relative_in(Language::Spanish, 1000, 1000 + 3600),
            "hace 1 hora"
        );
    }
}
