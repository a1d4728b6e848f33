//! The wall clock, and times in the RFC 3339 form awsenv writes (`2026-11-21T10:12:00Z`).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// The epoch second of an RFC 3339 time; panics on anything else.
pub fn epoch(rfc3339: &str) -> i64 {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"))
        .unix_timestamp()
}

/// `2026-11-21T10:12:00Z` for an epoch second.
pub fn rfc3339(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap().format(&Rfc3339).unwrap()
}

/// `(2026-11-21T10:14:49Z, 2026-11-21 10:14:49 UTC)` for an epoch second: the forms awsenv
/// exports and prints.
pub fn utc_forms(seconds: i64) -> (String, String) {
    let machine = rfc3339(seconds);
    let human = format!("{} UTC", machine.trim_end_matches('Z').replacen('T', " ", 1));
    (machine, human)
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, and a real moment.
pub fn is_rfc3339_utc_seconds(text: &str) -> bool {
    let shape = text.len() == 20
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    shape && OffsetDateTime::parse(text, &Rfc3339).is_ok()
}
