//! The account file (`accounts.json`): no input panics, errors are one line that quotes no value
//! but the one asked for, and what is accepted is a well-formed ARN prefix.
#![no_main]

use awsenv::fuzzing::{account_file, json_error, parse_arn_prefix, strip_bom};
use libfuzzer_sys::fuzz_target;

fn well_formed(prefix: &str) -> bool {
    let Some(rest) = prefix.strip_prefix("arn:") else { return false };
    let Some((partition, rest)) = rest.split_once(":iam::") else { return false };
    let Some(account) = rest.strip_suffix(':') else { return false };
    !partition.is_empty()
        && partition.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
}

fuzz_target!(|data: &[u8]| {
    // The first line is the account asked for, the rest the file.
    let (name, file) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"work"[..], data),
    };
    let (Ok(name), Ok(text)) = (std::str::from_utf8(name), std::str::from_utf8(strip_bom(file))) else {
        return;
    };
    if let Some(message) = json_error(file) {
        assert!(!message.contains('\n'), "{message:?}");
    }
    match account_file(text, name) {
        Ok(Some(prefix)) => {
            assert!(well_formed(&prefix), "accepted {prefix:?}");
            assert_eq!(parse_arn_prefix(&prefix).as_deref(), Some(prefix.as_str()), "not a fixed point");
        }
        Ok(None) => {}
        Err(message) => {
            assert!(!message.contains('\n'), "a multi-line error: {message:?}");
            assert!(message.contains("accounts.json"), "the error names no file: {message:?}");
        }
    }
});
