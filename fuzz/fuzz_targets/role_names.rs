//! Role names and ARNs (`assume ROLE`, a profile's `role_arn`) and the prompt segment built from
//! them: an accepted role's name is a valid IAM name, and whatever the shell's variables hold, the
//! prompt segment carries no character a prompt language expands.
#![no_main]

use awsenv::fuzzing::{Shell, prompt_segment, validate_role};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Input<'a> {
    role: &'a str,
    account: &'a str,
    kind: &'a str,
    expires: Option<i64>,
    now: i64,
}

impl<'a> Arbitrary<'a> for Input<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self {
            role: u.arbitrary()?,
            account: u.arbitrary()?,
            kind: *u.choose(&["keys", "mfa", "role", "other"])?,
            expires: u.arbitrary()?,
            now: u.arbitrary()?,
        })
    }
}

fn name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fuzz_target!(|input: Input| {
    if validate_role(input.role).is_ok() {
        let tail = input.role.rsplit('/').next().unwrap_or(input.role);
        assert!(name_ok(tail), "accepted {:?}, whose name is {tail:?}", input.role);
        if input.role.starts_with("arn:") {
            assert!(input.role.bytes().all(|b| b.is_ascii_graphic()), "{:?}", input.role);
        }
    } else if let Err(message) = validate_role(input.role) {
        assert!(!message.contains('\n'), "{message:?}");
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let segment =
            prompt_segment(input.account, input.kind, Some(input.role), input.expires, input.now, shell);
        // The colour sequences are awsenv's own; everything else must be inert in a prompt.
        let inert = segment
            .replace("\\[\x1b[31m\\]", "")
            .replace("\\[\x1b[33m\\]", "")
            .replace("\\[\x1b[39m\\]", "")
            .replace("%{\x1b[31m%}", "")
            .replace("%{\x1b[33m%}", "")
            .replace("%{\x1b[39m%}", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[39m", "");
        assert!(
            inert.chars().all(|c| c.is_ascii_alphanumeric() || "()._@+=,/-?:!' ".contains(c)),
            "{shell:?} prompt segment {segment:?} for {input:?}"
        );
        assert!(inert.starts_with("(aws:") && inert.ends_with(") "), "{segment:?}");
    }
});
