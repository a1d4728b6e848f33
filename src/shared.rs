// Values the shell code and the binary share, in one place. `build.rs` includes this file and
// writes each value into the shell files where they say `@NAME@`, so that `awsenv init` prints
// them at no cost; the binary uses the same constants. (Plain comments: `build.rs` includes it.)

/// Seconds before expiry at which the `aws` wrapper renews, unless `AWSENV_REFRESH_WINDOW` says.
pub const REFRESH_WINDOW: i64 = 600;
/// The prompt shows hours from this many seconds left (`02h`), minutes from `MINUTES_FROM`.
pub const HOURS_FROM: i64 = 6000;
pub const MINUTES_FROM: i64 = 100;
/// The prompt's time turns yellow below `WARN_BELOW` seconds left, red below `ALERT_BELOW`.
pub const WARN_BELOW: i64 = 300;
pub const ALERT_BELOW: i64 = 60;
/// The SGR colour codes of those two (33 yellow, 31 red); fish names them.
pub const WARN_COLOR: i64 = 33;
pub const ALERT_COLOR: i64 = 31;

/// Each shell file's `@NAME@` and its value.
#[allow(dead_code, reason = "build.rs writes these into the shell files; the crate's tests check them")]
pub const PLACEHOLDERS: [(&str, i64); 7] = [
    ("@REFRESH_WINDOW@", REFRESH_WINDOW),
    ("@HOURS_FROM@", HOURS_FROM),
    ("@MINUTES_FROM@", MINUTES_FROM),
    ("@WARN_BELOW@", WARN_BELOW),
    ("@ALERT_BELOW@", ALERT_BELOW),
    ("@WARN_COLOR@", WARN_COLOR),
    ("@ALERT_COLOR@", ALERT_COLOR),
];
