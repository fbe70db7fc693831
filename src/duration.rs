//! Durations as people write them in flags and annotations (`90s`, `10m`, `1h30m`), with
//! errors that say what is wrong and how to write it.

use std::time::Duration;

/// Why a duration was refused. `Display` is the whole message, naming the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Empty or blank text.
    #[error("no duration given: write a number and a unit (s, m, h), like 90s, 10m or 1h30m")]
    Empty,
    /// Not digits followed by a unit, possibly repeated.
    #[error("{0:?} is not a duration: write a number and a unit (s, m, h), like 90s, 10m or 1h30m")]
    Malformed(String),
    /// Well formed but zero, which no interval or timeout may be.
    #[error("{0:?} is zero: give at least 1s, like 90s, 10m or 1h")]
    Zero(String),
    /// Longer than [`MAX`]: no interval, timeout or lease the operator takes needs more, and
    /// a longer one would overflow the clock arithmetic it feeds (an `Instant` plus it).
    #[error("{0:?} is longer than the longest duration accepted, 24h: write at most 24h, like 10m or 1h")]
    TooLong(String),
}

/// The longest duration [`parse`] accepts: 24 hours. Every duration a user writes (flags,
/// the `poll-interval` annotation) is below it, so a deadline `Instant::now() + d` and a
/// jittered `d * 1.1` can never overflow.
pub const MAX: Duration = Duration::from_secs(24 * 3600);

/// The text as an error names it: at most 40 characters (an annotation's value can be
/// 256 KiB, and the message goes into a condition, an Event and the log), `…` marking a cut.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Parses whole seconds, minutes and hours, summed: `90s`, `10m`, `1h30m`, `2h`. Blanks
/// around the text are ignored; a bare number (no unit), a fraction, another unit, zero or
/// more than [`MAX`] (24h) is an error.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed(quoted(text));
    let mut total = 0u64;
    let mut number = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(malformed()),
        };
        if number.is_empty() {
            return Err(malformed());
        }
        let value: u64 = number.parse().map_err(|_| DurationError::TooLong(quoted(text)))?;
        total = value
            .checked_mul(unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(|| DurationError::TooLong(quoted(text)))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(malformed());
    }
    if total == 0 {
        return Err(DurationError::Zero(quoted(text)));
    }
    let duration = Duration::from_secs(total);
    if duration > MAX {
        return Err(DurationError::TooLong(quoted(text)));
    }
    Ok(duration)
}

/// The annotation that sets one ConnectionProfile's drift-check interval.
pub const POLL_INTERVAL_ANNOTATION: &str = "auth0.operators.dev/poll-interval";

/// A ConnectionProfile's drift-check interval: its `auth0.operators.dev/poll-interval`
/// annotation (`value`), else `default` (`--poll-interval`). A value that does not parse is
/// an `Err` whose text is the whole message for a Warning Event (reason
/// `InvalidAnnotation`) and the log; the caller then uses `default`, so a typo never stops
/// drift checks.
pub fn poll_interval_annotation(value: Option<&str>, default: Duration) -> Result<Duration, String> {
    match value {
        None => Ok(default),
        Some(text) => parse(text).map_err(|e| {
            format!(
                "annotation {POLL_INTERVAL_ANNOTATION}: {e}; drift checks use the default interval \
                 ({}) until it is fixed",
                humanize(default)
            )
        }),
    }
}

/// `10m`, `1h30m`, `90s` back from seconds: the form people write.
pub fn humanize(duration: Duration) -> String {
    let total = duration.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    for (value, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_poll_interval_annotation_is_reported_and_the_default_used() {
        let default = Duration::from_secs(600);
        assert_eq!(poll_interval_annotation(None, default), Ok(default));
        assert_eq!(
            poll_interval_annotation(Some("90s"), default),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(
            poll_interval_annotation(Some("5"), default).unwrap_err(),
            "annotation auth0.operators.dev/poll-interval: \"5\" is not a duration: write a number \
             and a unit (s, m, h), like 90s, 10m or 1h30m; drift checks use the default interval \
             (10m) until it is fixed"
        );
        assert_eq!(
            poll_interval_annotation(Some("0s"), Duration::from_secs(5400)).unwrap_err(),
            "annotation auth0.operators.dev/poll-interval: \"0s\" is zero: give at least 1s, like \
             90s, 10m or 1h; drift checks use the default interval (1h30m) until it is fixed"
        );
    }

    #[test]
    fn units_add_up() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse(" 1h30m "), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1m1s"), Ok(Duration::from_secs(61)));
    }

    #[test]
    fn each_refusal_says_why_and_how_to_write_it() {
        assert_eq!(
            parse("0s").unwrap_err().to_string(),
            "\"0s\" is zero: give at least 1s, like 90s, 10m or 1h"
        );
        assert_eq!(
            parse("0m0s").unwrap_err().to_string(),
            "\"0m0s\" is zero: give at least 1s, like 90s, 10m or 1h"
        );
        for bad in ["10", "1.5m", "10 m", "ten minutes", "m", "5d", "-1s"] {
            assert_eq!(
                parse(bad).unwrap_err().to_string(),
                format!("{bad:?} is not a duration: write a number and a unit (s, m, h), like 90s, 10m or 1h30m"),
            );
        }
        assert_eq!(
            parse("  ").unwrap_err().to_string(),
            "no duration given: write a number and a unit (s, m, h), like 90s, 10m or 1h30m"
        );
        for long in [
            "99999999999999999999h",
            "18446744073709551615s",
            "25h",
            "24h1s",
            "1441m",
        ] {
            assert_eq!(
                parse(long).unwrap_err().to_string(),
                format!(
                    "{long:?} is longer than the longest duration accepted, 24h: write at most 24h, like 10m or 1h"
                ),
            );
        }
        assert_eq!(parse("24h"), Ok(MAX));
        let huge = "9".repeat(100_000) + "h";
        assert_eq!(
            parse(&huge).unwrap_err().to_string(),
            format!(
                "\"{}…\" is longer than the longest duration accepted, 24h: write at most 24h, like 10m or 1h",
                "9".repeat(40)
            )
        );
        assert_eq!(parse("1439m60s"), Ok(MAX));
    }
}
