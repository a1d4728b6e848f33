//! Every duration and time awsenv reads: human durations (`AWSENV_REFRESH_WINDOW`-style `1h30m`),
//! RFC 3339 times (cache entries, STS answers), MFA and role session durations. No input panics,
//! what is accepted is within its bounds, and times awsenv writes read back the same.
#![no_main]

use awsenv::fuzzing::{
    MAX_DURATION, human_duration, mfa_duration, parse_human_duration, parse_rfc3339, prompt_lifetime,
    rfc3339, role_duration,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(seconds) = parse_human_duration(text) {
        assert!((0..=MAX_DURATION).contains(&seconds), "{text:?} gave {seconds}");
        // What awsenv prints of it reads back.
        let shown = human_duration(seconds).replace(' ', "");
        let again = parse_human_duration(&shown);
        assert!(again.is_some_and(|s| s / 60 == seconds / 60), "{shown:?} of {seconds} reads as {again:?}");
    }
    if text.len() <= 18 && !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let plain: i64 = text.parse().unwrap();
        assert_eq!(parse_human_duration(text), (plain <= MAX_DURATION).then_some(plain));
    }
    match parse_rfc3339(text) {
        Ok(seconds) => {
            let written = rfc3339(seconds);
            assert_eq!(parse_rfc3339(&written), Ok(seconds), "{text:?} is written as {written:?}");
            if let Some(left) = prompt_lifetime(seconds) {
                assert!(left.len() >= 3 && left.len() <= 24, "{left:?}");
            }
        }
        Err(message) => assert!(!message.contains('\n'), "{message:?}"),
    }
    for (parsed, range) in
        [(mfa_duration(Some(text)), 900..=129_600), (role_duration(Some(text)), 900..=43_200)]
    {
        match parsed {
            Ok(seconds) => {
                assert!(range.contains(&seconds), "{text:?} gave {seconds}");
                assert_eq!(text.trim().parse::<i32>().ok(), Some(seconds));
            }
            Err(message) => assert!(!message.contains('\n'), "{message:?}"),
        }
    }
    // Any number of seconds, as a cache or the environment may hold it, renders without a panic.
    if data.len() >= 8 {
        let seconds = i64::from_le_bytes(data[..8].try_into().unwrap());
        let written = rfc3339(seconds);
        assert!(written.len() >= 20 && written.ends_with('Z'), "{written:?}");
        let _ = human_duration(seconds);
        let _ = prompt_lifetime(seconds);
    }
});
