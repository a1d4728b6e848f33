//! Yes/no variables (`AWSENV_DEBUG`, `AWSENV_COLOR`, ...): the usual spellings in any case and with
//! surrounding blanks, nothing else, and no input panics.
#![no_main]

use awsenv::fuzzing::parse_flag;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let expected = match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    };
    assert_eq!(parse_flag(text), expected, "{text:?}");
    assert_eq!(parse_flag(&text.to_ascii_uppercase()), expected, "{text:?} in capitals");
});
