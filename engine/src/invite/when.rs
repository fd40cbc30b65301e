//! Times as people read them: "45 minutes", "in 2 hours", "3 days ago", "2026-11-30 14:05 UTC".
//! Every time here is seconds since the Unix epoch, as invitations and the store keep them.

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, in seconds since the Unix epoch (0 on a clock set before 1970).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `n` and its noun, singular or plural: "1 minute", "2 minutes".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A length of time in its largest sensible units: "45 seconds", "1 minute", "1 hour 30
/// minutes", "2 days".
pub fn duration(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => count(secs, "second", "seconds"),
        (0, 0, m) => count(m, "minute", "minutes"),
        (0, h, 0) => count(h, "hour", "hours"),
        (0, h, m) => format!(
            "{} {}",
            count(h, "hour", "hours"),
            count(m, "minute", "minutes")
        ),
        (d, 0, _) => count(d, "day", "days"),
        (d, h, _) => format!("{} {}", count(d, "day", "days"), count(h, "hour", "hours")),
    }
}

/// `at` seen from `now`: "in 59 minutes", "3 hours ago", "just now".
pub fn relative(at: u64, now: u64) -> String {
    if at.abs_diff(now) < 60 {
        "just now".to_string()
    } else if at > now {
        format!("in {}", duration(at - now))
    } else {
        format!("{} ago", duration(now - at))
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
        .unwrap_or_else(|| format!("{at} s after 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_480_081), "2026-11-24 00:28 UTC");
        assert_eq!(utc(u64::MAX), format!("{} s after 1970", u64::MAX));
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration(45), "45 seconds");
        assert_eq!(duration(60), "1 minute");
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(5400), "1 hour 30 minutes");
        assert_eq!(duration(2880 * 60), "2 days");
        assert_eq!(duration(86_400 + 7200 + 59), "1 day 2 hours");
        assert_eq!(count(1, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(0, "attempt", "attempts"), "0 attempts");
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(1000, 1030), "just now");
        assert_eq!(relative(1000 + 3540, 1000), "in 59 minutes");
        assert_eq!(relative(1000, 1000 + 3 * 3600), "3 hours ago");
    }
}
