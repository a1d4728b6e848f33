//! `~/.aws/config` and `~/.aws/credentials` as awsenv reads them: no input panics, an error is one
//! line naming the file and line, and what parses describes the text it came from.
#![no_main]

use awsenv::fuzzing::{ini_parse, strip_bom};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(strip_bom(data)) else { return };
    match ini_parse(text) {
        Err(message) => {
            assert!(!message.contains('\n'), "a multi-line error: {message:?}");
            assert!(message.starts_with("malformed config:"), "the error names no file: {message:?}");
        }
        Ok(sections) => {
            let lines = text.split('\n').count();
            let mut previous = 0;
            for section in &sections {
                // Headers are where they say, in order, and keys are lowercase as botocore's are.
                assert!(section.line > previous && section.line <= lines, "line {}", section.line);
                previous = section.line;
                let line = text.split('\n').nth(section.line - 1).unwrap_or_default();
                assert!(
                    line.contains(&format!("[{}]", section.header)),
                    "{line:?} is not [{}]",
                    section.header
                );
                for (key, value) in &section.settings {
                    assert!(!key.is_empty() && *key == key.to_ascii_lowercase(), "key {key:?}");
                    assert!(!value.contains('\n') && value.trim() == value, "value {value:?}");
                }
            }
        }
    }
});
