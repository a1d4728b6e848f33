//! Credentials and their lifetime. Secrets never reach `Debug` output.

use std::fmt;

use anyhow::{Context, Result, anyhow};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A secret value, kept as bytes because the store's files may hold any bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The value as text, for the SDK; `what` names it in the error.
    pub fn as_str(&self, what: &str) -> Result<&str> {
        std::str::from_utf8(&self.0).map_err(|_| anyhow!("{what} is not valid UTF-8"))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A moment in whole seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

/// The wall clock. Read where a command's context is made and handed down from there, so that
/// one run judges every expiry against the same moment and tests can set the time; code that
/// waits (for a lock, a code, a renewal) reads it again through the same handle.
#[derive(Clone, Copy)]
pub struct Clock(fn() -> Timestamp);

impl Clock {
    pub fn system() -> Self {
        #[allow(clippy::disallowed_methods, reason = "the one place the wall clock is read")]
        fn now() -> Timestamp {
            Timestamp(OffsetDateTime::now_utc().unix_timestamp())
        }
        Self(now)
    }

    /// A clock that reads `now` (a function, so that a test can move it).
    #[cfg(test)]
    pub fn fake(now: fn() -> Timestamp) -> Self {
        Self(now)
    }

    pub fn now(self) -> Timestamp {
        (self.0)()
    }
}

impl Timestamp {
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339)
            .with_context(|| format!("{text:?} is not an RFC 3339 time"))?;
        // Written back in UTC with a four-digit year: a time whose UTC year has none is refused.
        let year = parsed.checked_to_offset(UtcOffset::UTC).map(|utc| utc.year());
        anyhow::ensure!(
            year.is_some_and(|year| (0..=9999).contains(&year)),
            "{text:?} is outside the years 0000 to 9999 in UTC"
        );
        Ok(Self(parsed.unix_timestamp()))
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// `2026-11-21T10:12:00Z`: what starship, botocore and the aws CLI read.
    pub fn rfc3339(self) -> String {
        let utc = self.datetime().to_offset(UtcOffset::UTC);
        let (year, month, day) = (utc.year(), utc.month() as u8, utc.day());
        let (hour, minute, second) = (utc.hour(), utc.minute(), utc.second());
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }

    /// `2026-11-21 10:12:00 UTC`, for people.
    pub fn human_utc(self) -> String {
        self.rfc3339().replacen('T', " ", 1).replace('Z', " UTC")
    }

    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This moment plus `seconds` (which may be negative), saturating at the ends of time.
    pub fn plus(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }
}

/// A duration in seconds as `3h 59m`, `42m 5s` or `7s`.
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (hours, minutes, secs) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{secs}s"),
        (0, _) => format!("{minutes}m {secs}s"),
        _ => format!("{hours}h {minutes:02}m"),
    }
}

/// The longest duration awsenv takes anywhere: a year, far beyond any session.
pub const MAX_DURATION: i64 = 366 * 24 * 3600;

/// Seconds from `90`, `45s`, `30m`, `2h` or `1h30m`, at most `MAX_DURATION`.
pub fn parse_human_duration(text: &str) -> Option<i64> {
    parse_unbounded_duration(text).filter(|seconds| (0..=MAX_DURATION).contains(seconds))
}

fn parse_unbounded_duration(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        return (seconds >= 0).then_some(seconds);
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                total = total.checked_add(number.parse::<i64>().ok()?.checked_mul(unit)?)?;
                number.clear();
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total).filter(|_| !text.is_empty())
}

/// The remaining life as the prompt shows it, in aws-session's notation: hours from 6000 s, else
/// minutes from 100 s, else seconds, at least three characters; `None` once expired.
pub fn prompt_lifetime(seconds_left: i64) -> Option<String> {
    use crate::shared::{HOURS_FROM, MINUTES_FROM};
    let value = match seconds_left {
        s if s >= HOURS_FROM => format!("{}h", s / 3600),
        s if s >= MINUTES_FROM => format!("{}m", s / 60),
        s if s > 0 => format!("{s}s"),
        _ => return None,
    };
    Some(if value.len() < 3 { format!("0{value}") } else { value })
}

/// A set of AWS credentials: long-term keys, or a session with a token and an expiry.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub expiration: Option<Timestamp>,
}

impl Credentials {
    /// True while the credentials can still be used at `now`; long-term keys never expire.
    pub fn valid_at(&self, now: Timestamp) -> bool {
        self.expiration.is_none_or(|expiration| expiration > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_z_and_round_trips() {
        let t = Timestamp(1_795_000_000);
        assert_eq!(t.rfc3339(), "2026-11-18T11:06:40Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()).unwrap(), t);
        assert_eq!(Timestamp::parse_rfc3339("2026-11-18T12:06:40+01:00").unwrap(), t);
        assert_eq!(t.human_utc(), "2026-11-18 11:06:40 UTC");
    }

    /// Found by the `durations` fuzz target (its seed `year_zero`): such a time was written back as
    /// `-001-12-31T23:30:00Z`, which no reader takes.
    #[test]
    fn times_whose_utc_year_has_no_four_digits_are_refused() {
        assert!(Timestamp::parse_rfc3339("0000-01-01T00:30:00+01:00").is_err());
        assert!(Timestamp::parse_rfc3339("9999-12-31T23:59:59-23:59").is_err());
        let edge = Timestamp::parse_rfc3339("0000-01-01T00:30:00Z").unwrap();
        assert_eq!(Timestamp::parse_rfc3339(&edge.rfc3339()).unwrap(), edge);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(7), "7s");
        assert_eq!(human_duration(2525), "42m 5s");
        assert_eq!(human_duration(14_340), "3h 59m");
        assert_eq!(human_duration(-5), "0s");
    }

    #[test]
    fn human_durations_parse() {
        assert_eq!(parse_human_duration("90"), Some(90));
        assert_eq!(parse_human_duration("45s"), Some(45));
        assert_eq!(parse_human_duration("2h"), Some(7200));
        assert_eq!(parse_human_duration("1h30m"), Some(5400));
        assert_eq!(parse_human_duration("8784h"), Some(MAX_DURATION));
        for bad in ["", "h", "1x", "-5", "1h30", "m5", "8785h", "99999999999999999999s", "1e300"] {
            assert_eq!(parse_human_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn prompt_lifetime_follows_aws_session() {
        let cases =
            [(7200, "02h"), (6000, "01h"), (50_000, "13h"), (5999, "99m"), (3600, "60m"), (100, "01m")];
        for (seconds, shown) in cases {
            assert_eq!(prompt_lifetime(seconds).unwrap(), shown, "{seconds}");
        }
        assert_eq!(prompt_lifetime(99).unwrap(), "99s");
        assert_eq!(prompt_lifetime(5).unwrap(), "05s");
        assert_eq!(prompt_lifetime(0), None);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = Credentials {
            access_key_id: Secret::new("AKIAEXAMPLE"),
            secret_access_key: Secret::new("very-secret"),
            session_token: Some(Secret::new("token-value")),
            expiration: None,
        };
        let shown = format!("{creds:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("token-value"), "{shown}");
    }
}
