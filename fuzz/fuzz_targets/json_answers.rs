//! The JSON answers awsenv reads itself (the SDK parses STS, IAM and SSO's own): Roles Anywhere
//! CreateSession's answer and its errors, the aws CLI's SSO token file, and ssh-cert's signer
//! answer. No input panics; what is accepted is usable; an error is one line that cannot drive a
//! terminal (a hostile endpoint's message may hold escapes and line breaks).
//!
//! Input: the first byte chooses the reader (0: CreateSession 200, 1: CreateSession error with
//! the `x-amzn-errortype` header before the first newline, 2: CreateSession error without it,
//! 3: SSO token file, 4: signer answer); the rest is the body.
#![no_main]

use awsenv::fuzzing::{rolesanywhere_answer, signer_answer, sso_token};
use libfuzzer_sys::fuzz_target;

/// The key the seed certificates certify (fuzz/corpus/json_answers/signer_*).
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXHaQXSgEBYrErvN2KH28OSSDO+2RMAl3s9posDtKQk";
/// A moment inside the seed certificates' validity (2026-01-01 to 2030-01-01): 2027-01-15.
const NOW: i64 = 1_800_000_000;

fn one_printable_line(line: &str) {
    assert!(!line.is_empty(), "an empty error");
    assert!(!line.chars().any(char::is_control), "a control character in the error line {line:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => match rolesanywhere_answer(true, None, body) {
            Ok((key, expires)) => {
                assert!(!key.is_empty(), "an empty access key id was accepted");
                assert!(
                    (-62_135_596_800..=253_402_300_799).contains(&expires),
                    "expiry {expires} out of range"
                );
            }
            Err(line) => one_printable_line(&line),
        },
        1 => {
            let (header, body) = match body.iter().position(|&b| b == b'\n') {
                Some(at) => (&body[..at], &body[at + 1..]),
                None => (body, &[][..]),
            };
            if let Ok(header) = std::str::from_utf8(header) {
                let line =
                    rolesanywhere_answer(false, Some(header), body).expect_err("an error status is an error");
                one_printable_line(&line);
            }
        }
        2 => {
            let line = rolesanywhere_answer(false, None, body).expect_err("an error status is an error");
            one_printable_line(&line);
        }
        3 => {
            if let Ok((expires, _)) = sso_token(body) {
                assert!(
                    (-62_135_596_800..=253_402_300_799).contains(&expires),
                    "expiry {expires} out of range"
                );
            }
        }
        _ => match signer_answer(body, KEY, NOW) {
            Ok(valid_before) => assert!(valid_before > NOW as u64, "an expired certificate was accepted"),
            Err(line) => one_printable_line(&line),
        },
    }
});
