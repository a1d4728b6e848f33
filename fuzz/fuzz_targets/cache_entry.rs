//! Cache entries as `read` takes them: no input panics, what is accepted has an RFC 3339 expiry and
//! non-empty credentials, and writing an accepted entry back gives an entry that reads the same.
#![no_main]

use awsenv::fuzzing::{bounded_name, cache_entry, file_key};
use libfuzzer_sys::fuzz_target;

/// The inverse of `file_key`, written from its description: that it exists makes names injective.
fn decode(key: &str) -> Option<Vec<u8>> {
    let mut bytes = key.bytes();
    let mut out = Vec::new();
    while let Some(byte) = bytes.next() {
        match byte {
            b'^' => out.push(bytes.next()?.to_ascii_uppercase()),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(written) = cache_entry(data) {
        let again = cache_entry(&written).expect("an entry awsenv wrote reads back");
        assert_eq!(again, written, "the entry changed on a second round trip");
    }
    // The same bytes as a name: file names are injective, free of '.', '/' and uppercase, bounded.
    if let Ok(name) = std::str::from_utf8(data) {
        let key = file_key(name);
        assert!(
            key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-^%".contains(&b)),
            "{key:?}"
        );
        assert_eq!(decode(&key).as_deref(), Some(data), "file_key is not injective");
        let bounded = bounded_name(format!("{key}.mfa"));
        assert!(bounded.len() <= 255, "a file name of {} bytes", bounded.len());
        assert!(!bounded.contains('/'));
    }
});
