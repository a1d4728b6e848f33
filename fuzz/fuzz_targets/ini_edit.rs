//! The byte-preserving editor behind `awsenv update` and remembered MFA serials: setting values in
//! one section of a file that parses leaves every byte outside that section as it was, and the
//! result parses with the section holding the values.
#![no_main]

use awsenv::fuzzing::{ini_parse, set_in_section};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// The keys awsenv writes, and a few a user may have.
const KEYS: [&str; 8] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    "mfa_serial",
    "region",
    "AWS_Session_Token",
    "output",
];

#[derive(Debug)]
struct Edit<'a> {
    text: &'a str,
    section: String,
    values: Vec<(&'static str, String)>,
}

impl<'a> Arbitrary<'a> for Edit<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        // A profile name as `update --profile` takes it (letters, digits, ._-@+=,/:), or the
        // `profile NAME` header of ~/.aws/config.
        let allowed = b"abcXYZ019._-@+=,/:";
        let length = u.int_in_range(1..=12)?;
        let mut name = String::new();
        for _ in 0..length {
            name.push(char::from(*u.choose(allowed)?));
        }
        let section = if u.arbitrary()? { format!("profile {name}") } else { name };
        let mut values = Vec::new();
        for _ in 0..u.int_in_range(1..=4)? {
            // Values as STS and IAM return them: one line, no surrounding blanks.
            let value: &str = u.arbitrary()?;
            let value: String = value.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
            values.push((*u.choose(&KEYS)?, value.trim().to_owned()));
        }
        Ok(Self { text: u.arbitrary()?, section, values })
    }
}

/// The byte range of the first `[name]` section (header to the next header), if there is one.
fn section_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let sections = ini_parse(text).ok()?;
    let index = sections.iter().position(|s| s.header == name)?;
    let line_start = |line: usize| text.split_inclusive('\n').take(line - 1).map(str::len).sum::<usize>();
    let start = line_start(sections[index].line);
    let end = sections.get(index + 1).map_or(text.len(), |next| line_start(next.line));
    Some((start, end))
}

fuzz_target!(|edit: Edit| {
    if ini_parse(edit.text).is_err() {
        return; // `update` leaves a file it cannot read alone.
    }
    let values: Vec<(&str, &str)> = edit.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = ini_parse(edit.text).unwrap_or_default();
    let old =
        before.iter().find(|s| s.header == edit.section).map(|s| s.settings.clone()).unwrap_or_default();
    let after = set_in_section(edit.text, &edit.section, &values);
    let sections = ini_parse(&after).unwrap_or_else(|e| panic!("the edit does not parse: {e}\n{after:?}"));
    match section_span(edit.text, &edit.section) {
        Some((start, end)) => {
            assert_eq!(after[..start], edit.text[..start], "bytes before the section changed");
            assert!(after.ends_with(&edit.text[end..]), "bytes after the section changed");
        }
        None => assert!(after.starts_with(edit.text), "an appended section changed the text before it"),
    }
    let section = sections.iter().find(|s| s.header == edit.section).expect("the section exists");
    // Each key as botocore reads it (lowercased; a repeated key's last line wins), later edits of
    // the same key winning over earlier ones.
    for (key, _) in &values {
        let wanted = values.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| *v);
        let got =
            section.settings.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str());
        assert_eq!(got, wanted, "[{}] {key} after the edit:\n{after}", edit.section);
    }
    // The section's other settings keep their values.
    for (key, value) in &old {
        if values.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        let last_old = old.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        let got = section.settings.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        assert_eq!(got, last_old, "[{}] {key} (was {value:?}) after the edit:\n{after}", edit.section);
    }
});
