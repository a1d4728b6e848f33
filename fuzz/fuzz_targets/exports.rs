//! The export lines `switch`, `mfa` and `assume` print for bash, zsh and fish: for any values
//! without a NUL byte, each line reads back, by a reference reader of each shell's quoting, as
//! exactly the bytes it was given; a value with a NUL byte is refused before anything is rendered.
//! (tests/fuzz_exports.rs runs this target's corpus through the real shells.)
#![no_main]

use awsenv::fuzzing::{Shell, exports, quote};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Input<'a> {
    account: &'a str,
    role_arn: Option<&'a str>,
    access_key_id: &'a [u8],
    secret_access_key: &'a [u8],
    session_token: Option<&'a [u8]>,
    expiration: Option<i64>,
    region: Option<&'a str>,
}

impl<'a> Arbitrary<'a> for Input<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self {
            access_key_id: u.arbitrary()?,
            secret_access_key: u.arbitrary()?,
            session_token: u.arbitrary()?,
            account: u.arbitrary()?,
            role_arn: u.arbitrary()?,
            expiration: u.arbitrary()?,
            region: u.arbitrary()?,
        })
    }
}

/// A reader of one word in POSIX single quotes, as bash and zsh read it: `'...'` holds every byte
/// literally up to the next `'`; between quoted parts, `\'` is a quote. Returns the bytes and the
/// rest of the input after the word.
fn read_posix(mut input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    loop {
        match input {
            [b'\'', rest @ ..] => {
                let end = rest.iter().position(|&b| b == b'\'')?;
                out.extend_from_slice(&rest[..end]);
                input = &rest[end + 1..];
            }
            [b'\\', byte, rest @ ..] => {
                out.push(*byte);
                input = rest;
            }
            _ => return Some((out, input)),
        }
    }
}

/// A reader of one word in fish single quotes: `\\` and `\'` are a backslash and a quote, any
/// other backslash is itself, and the word ends at an unescaped `'`.
fn read_fish(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut rest = input.strip_prefix(b"'")?;
    let mut out = Vec::new();
    loop {
        match rest {
            [b'\\', byte @ (b'\\' | b'\''), tail @ ..] => {
                out.push(*byte);
                rest = tail;
            }
            [b'\'', tail @ ..] => return Some((out, tail)),
            [byte, tail @ ..] => {
                out.push(*byte);
                rest = tail;
            }
            [] => return None,
        }
    }
}

/// A word that is a variable's value (`"$NAME"` in bash and zsh, `$NAME` in fish): the name
/// and the rest of the input after the word.
fn read_reference(shell: Shell, input: &[u8]) -> Option<(String, &[u8])> {
    let (open, close): (&[u8], &[u8]) = if shell == Shell::Fish { (b"$", b"") } else { (b"\"$", b"\"") };
    let rest = input.strip_prefix(open)?;
    let end = rest.iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))?;
    let after = rest[end..].strip_prefix(close)?;
    Some((String::from_utf8(rest[..end].to_vec()).ok()?, after))
}

/// The variables a rendered export sets and unsets, read back line by line.
fn read_back(shell: Shell, mut text: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let (set, unset): (&[u8], &[u8]) = match shell {
        Shell::Fish => (b"set -gx ", b"set -e -g "),
        _ => (b"export ", b"unset "),
    };
    let mut out = Vec::new();
    while !text.is_empty() {
        if let Some(rest) = text.strip_prefix(unset) {
            let end = rest.iter().position(|&b| b == b'\n').expect("a line ends");
            out.push((String::from_utf8(rest[..end].to_vec()).unwrap(), None));
            text = &rest[end + 1..];
            continue;
        }
        let rest = text
            .strip_prefix(set)
            .unwrap_or_else(|| panic!("{shell:?}: {:?}", String::from_utf8_lossy(text)));
        let separator = if shell == Shell::Fish { b' ' } else { b'=' };
        let at = rest.iter().position(|&b| b == separator).expect("a name");
        let name = String::from_utf8(rest[..at].to_vec()).unwrap();
        let word = &rest[at + 1..];
        let (value, after) = match read_reference(shell, word) {
            // Another name for a variable set above: its value.
            Some((original, after)) => {
                let value = out.iter().rev().find(|(n, _): &&(String, Option<Vec<u8>>)| *n == original);
                let value = value.and_then(|(_, v)| v.clone());
                (
                    value.unwrap_or_else(|| panic!("{shell:?}: {name} refers to {original}, not set above")),
                    after,
                )
            }
            None => match shell {
                Shell::Fish => read_fish(word),
                _ => read_posix(word),
            }
            .unwrap_or_else(|| {
                panic!("{shell:?}: an unterminated quote in {:?}", String::from_utf8_lossy(word))
            }),
        };
        text = after
            .strip_prefix(b"\n")
            .unwrap_or_else(|| panic!("{shell:?}: {name} continues after its value"));
        out.push((name, Some(value)));
    }
    out
}

fuzz_target!(|input: Input| {
    // `quote` alone, on the raw bytes.
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut quoted = Vec::new();
        quote(shell, input.secret_access_key, &mut quoted);
        let read = if shell == Shell::Fish { read_fish(&quoted) } else { read_posix(&quoted) };
        assert_eq!(read, Some((input.secret_access_key.to_vec(), &b""[..])), "{shell:?}");
    }
    let rendered = exports(
        input.account,
        input.role_arn,
        input.access_key_id,
        input.secret_access_key,
        input.session_token,
        input.expiration,
        input.region,
    );
    let has_nul = [input.account.as_bytes(), input.access_key_id, input.secret_access_key]
        .into_iter()
        .chain(input.session_token)
        .chain(input.role_arn.map(str::as_bytes))
        .chain(input.region.map(str::as_bytes))
        .any(|value| value.contains(&0));
    let rendered = match rendered {
        Err(message) => {
            assert!(has_nul, "refused without a NUL byte: {message}");
            assert!(!message.contains('\n'), "{message:?}");
            return;
        }
        Ok(rendered) => {
            assert!(!has_nul, "a NUL byte was rendered");
            rendered
        }
    };
    let expected: Vec<(String, Option<Vec<u8>>)> =
        rendered.values.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
    assert!(
        expected
            .iter()
            .any(|(n, v)| n == "AWS_SECRET_ACCESS_KEY" && v.as_deref() == Some(input.secret_access_key))
    );
    for (shell, text) in
        [(Shell::Bash, &rendered.bash), (Shell::Zsh, &rendered.zsh), (Shell::Fish, &rendered.fish)]
    {
        assert_eq!(read_back(shell, text), expected, "{shell:?}");
    }
});
