//! What awsenv says to shells: the init scripts (kept as real shell files under `shell/`) and the
//! export lines that `ec2switch` and `ec2mfa` evaluate.

use std::ffi::OsString;
use std::ops::Range;

use anyhow::Result;

use crate::cli::Shell;
use crate::config::RegionVars;
use crate::creds::{Credentials, Secret, Timestamp};
use crate::error::{Exit, fail};
use crate::kinds::Held;

// The shell files with the values of `shared.rs` written in (by build.rs).
const BASH_INIT: &str = include_str!(concat!(env!("OUT_DIR"), "/awsenv.bash"));
const ZSH_INIT: &str = include_str!(concat!(env!("OUT_DIR"), "/awsenv.zsh"));
const FISH_INIT: &str = include_str!(concat!(env!("OUT_DIR"), "/awsenv.fish"));

/// The placeholder in each init script that stands for the quoted path of this binary.
/// Completion for account names, read from the store when Tab is pressed, without a process.
pub fn account_completion(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => include_str!("../shell/complete-accounts.bash"),
        Shell::Zsh => include_str!("../shell/complete-accounts.zsh"),
        Shell::Fish => include_str!("../shell/complete-accounts.fish"),
    }
}

/// The code the `awsenv` function of init evaluates for `awsenv doctor`, to gather what only the
/// shell can see.
pub fn doctor_probe(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => include_str!("../shell/doctor.bash"),
        Shell::Zsh => include_str!("../shell/doctor.zsh"),
        Shell::Fish => include_str!("../shell/doctor.fish"),
    }
}

const BIN_PLACEHOLDER: &str = "'::AWSENV_BIN::'";

/// Sections of the init scripts that `awsenv init` options can leave out.
#[derive(Debug, Clone, Copy, Default)]
pub struct InitOptions {
    pub prompt_hook: bool,
    pub wrapper: bool,
}

/// Where an init script is cut (byte offsets, found by build.rs): the binary's placeholder, and
/// the optional sections with their `# >>> awsenv:NAME` and `# <<< awsenv:NAME` lines.
struct Layout {
    bin: usize,
    wrapper: Range<usize>,
    prompt_hook: Range<usize>,
}

const BASH_LAYOUT: Layout = include!(concat!(env!("OUT_DIR"), "/awsenv.bash.layout.rs"));
const ZSH_LAYOUT: Layout = include!(concat!(env!("OUT_DIR"), "/awsenv.zsh.layout.rs"));
const FISH_LAYOUT: Layout = include!(concat!(env!("OUT_DIR"), "/awsenv.fish.layout.rs"));

/// The init script for `shell`, calling the binary at `bin`, followed by `extra` (completion
/// helpers). Sections between `# >>> awsenv:NAME` and `# <<< awsenv:NAME` lines are kept only when
/// `options` turns them on.
pub fn init_script(shell: Shell, bin: &[u8], options: InitOptions, extra: &str) -> Vec<u8> {
    let (template, layout) = match shell {
        Shell::Bash => (BASH_INIT, &BASH_LAYOUT),
        Shell::Zsh => (ZSH_INIT, &ZSH_LAYOUT),
        Shell::Fish => (FISH_INIT, &FISH_LAYOUT),
    };
    let template = template.as_bytes();
    // What to cut, in order: a section left out, or the placeholder (replaced by the binary).
    // The placeholder is skipped when it falls in a section already left out.
    let placeholder = layout.bin..layout.bin + BIN_PLACEHOLDER.len();
    let mut cuts = [
        (!options.wrapper).then(|| layout.wrapper.clone()),
        (!options.prompt_hook).then(|| layout.prompt_hook.clone()),
        Some(placeholder.clone()),
    ];
    cuts.sort_by_key(|cut| cut.as_ref().map(|cut| cut.start));
    let mut script = Vec::with_capacity(template.len() + extra.len() + bin.len() + 2);
    let mut copied = 0;
    for cut in cuts.into_iter().flatten() {
        if cut.start < copied {
            continue;
        }
        script.extend_from_slice(&template[copied..cut.start]);
        if cut == placeholder {
            quote(shell, bin, &mut script);
        }
        copied = cut.end;
    }
    script.extend_from_slice(&template[copied..]);
    script.extend_from_slice(extra.as_bytes());
    script
}

/// Appends `value` quoted so that the shell reads back exactly these bytes.
pub fn quote(shell: Shell, value: &[u8], out: &mut Vec<u8>) {
    // POSIX single quotes take everything literally but the quote itself; fish single quotes give
    // meaning to backslash and quote only.
    let special = |byte: &u8| match shell {
        Shell::Bash | Shell::Zsh => *byte == b'\'',
        Shell::Fish => *byte == b'\'' || *byte == b'\\',
    };
    out.push(b'\'');
    // Credentials rarely hold either: a value is copied in runs between them, not byte by byte
    // (three session tokens in every export made quoting a fifth of `awsenv switch`).
    // `contains` on bytes is memchr, a word at a time.
    let plain = match shell {
        Shell::Bash | Shell::Zsh => !value.contains(&b'\''),
        Shell::Fish => !value.contains(&b'\'') && !value.contains(&b'\\'),
    };
    let mut rest = value;
    if !plain {
        while let Some(at) = rest.iter().position(special) {
            out.extend_from_slice(&rest[..at]);
            match (shell, rest[at]) {
                (Shell::Bash | Shell::Zsh, _) => out.extend_from_slice(b"'\\''"),
                (Shell::Fish, byte) => out.extend_from_slice(&[b'\\', byte]),
            }
            rest = &rest[at + 1..];
        }
    }
    out.extend_from_slice(rest);
    out.push(b'\'');
}

/// The complete set of variables awsenv owns, for one account's credentials: every export sets or
/// unsets each of them, so nothing from the previous account survives a switch.
pub struct Exports {
    values: Vec<(&'static str, Option<Secret>)>,
}

impl Exports {
    /// The exports, or an error naming the variable whose value no shell can hold (a NUL byte):
    /// refused before anything is printed, so that a shell never applies half a set.
    pub fn new(
        account: &str,
        held: &Held,
        creds: &Credentials,
        renewable_until: Option<Timestamp>,
        regions: &RegionVars,
    ) -> Result<Self> {
        let text = |s: String| Some(Secret::new(s));
        let token = creds.session_token.clone();
        let mut values = vec![
            ("AWS_ACCESS_KEY_ID", Some(creds.access_key_id.clone())),
            ("AWS_SECRET_ACCESS_KEY", Some(creds.secret_access_key.clone())),
            ("AWS_SESSION_TOKEN", token.clone()),
            ("AWS_SECURITY_TOKEN", token.clone()),
            ("AWS_ACCESS_KEY", Some(creds.access_key_id.clone())),
            ("AWS_SECRET_KEY", Some(creds.secret_access_key.clone())),
            ("AWS_DELEGATION_TOKEN", token),
            ("AWS_CREDENTIAL_EXPIRATION", creds.expiration.and_then(|t| text(t.rfc3339()))),
            ("AWSENV_EXPIRES", creds.expiration.and_then(|t| text(t.0.to_string()))),
            ("AWSENV_ACCOUNT", text(account.to_owned())),
            ("AWSENV_SESSION", text(held.name().to_owned())),
            ("AWSENV_ROLE", held.role_arn().and_then(|arn| text(arn.to_owned()))),
            // Tells the aws wrapper and the prompt that the keys in the shell are still awsenv's.
            ("AWSENV_KEY_ID", Some(creds.access_key_id.clone())),
            // Until when the aws wrapper renews these with no question asked: the prompt's mark.
            ("AWSENV_RENEWABLE", renewable_until.and_then(|t| text(t.0.to_string()))),
            ("MY_AWS_SET_FOR", text(held.label(account))),
        ];
        // Fill in a missing region variable, never overwrite one: the user's choice wins.
        let region = regions.effective();
        if regions.default_region.is_none() {
            values.push(("AWS_DEFAULT_REGION", text(region.to_owned())));
        }
        if regions.region.is_none() {
            values.push(("AWS_REGION", text(region.to_owned())));
        }
        if let Some((name, _)) =
            values.iter().find(|(_, v)| v.as_ref().is_some_and(|v| v.expose().contains(&0)))
        {
            return Err(fail(
                Exit::Config,
                format!(
                    "the value for {name} of account {account} holds a NUL byte, which no shell can hold; nothing was set"
                ),
            ));
        }
        Ok(Self { values })
    }

    /// The variables as name and value (`None`: unset), for a child process's environment.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, Option<&[u8]>)> {
        self.values.iter().map(|(name, value)| (*name, value.as_ref().map(Secret::expose)))
    }

    /// The export lines for `shell`, ready to be written to stdout in one piece. A legacy name
    /// that holds the same value as the variable it stands for is set from that variable
    /// (`export AWS_SECURITY_TOKEN="$AWS_SESSION_TOKEN"`, as aws-sts-helpers wrote it): the
    /// shell's parser costs bash 300 instructions a byte, and a session token is the largest value.
    pub fn render(&self, shell: Shell) -> Vec<u8> {
        self.render_where(shell, |_, _| true, false)
    }

    /// The lines that change what the shell holds, for a shell whose exported variables are
    /// `exported` (the environment awsenv inherited from it): a variable that already holds its
    /// value is left out, and the unsets share one statement. What a shell's `eval` costs is its
    /// parser's: a switch that keeps the account sets nothing.
    pub fn render_changes(&self, shell: Shell, exported: impl Fn(&str) -> Option<OsString>) -> Vec<u8> {
        self.render_where(
            shell,
            |name, value| exported(name).is_none_or(|held| held.as_encoded_bytes() != value.expose()),
            true,
        )
    }

    /// The lines of the variables `differs` keeps, and an unset for each of those without a
    /// value (`unsets_together`: one unset for them all, at the end).
    fn render_where(
        &self,
        shell: Shell,
        differs: impl Fn(&str, &Secret) -> bool,
        unsets_together: bool,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        let mut unsets: Vec<&str> = Vec::new();
        for (index, (name, value)) in self.values.iter().enumerate() {
            let Some(value) = value else {
                if unsets_together {
                    unsets.push(name);
                } else {
                    push_unset(shell, &[name], &mut out);
                }
                continue;
            };
            if !differs(name, value) {
                continue;
            }
            let (verb, separator): (&[u8], &[u8]) = match shell {
                Shell::Bash | Shell::Zsh => (b"export ", b"="),
                Shell::Fish => (b"set -gx ", b" "),
            };
            out.extend_from_slice(verb);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(separator);
            match self.same_as_earlier(index, name, value) {
                Some(original) => {
                    let (open, close): (&[u8], &[u8]) = match shell {
                        Shell::Bash | Shell::Zsh => (b"\"$", b"\""),
                        Shell::Fish => (b"$", b""),
                    };
                    out.extend_from_slice(open);
                    out.extend_from_slice(original.as_bytes());
                    out.extend_from_slice(close);
                }
                None => quote(shell, value.expose(), &mut out),
            }
            out.push(b'\n');
        }
        if !unsets.is_empty() {
            push_unset(shell, &unsets, &mut out);
        }
        out
    }

    /// The variable set earlier in these exports that `name` is another name for, when it holds
    /// the same value.
    fn same_as_earlier(&self, index: usize, name: &str, value: &Secret) -> Option<&'static str> {
        let (_, original) = ALIASES.iter().find(|(alias, _)| *alias == name)?;
        self.values[..index]
            .iter()
            .any(|(earlier, v)| {
                earlier == original && v.as_ref().is_some_and(|v| v.expose() == value.expose())
            })
            .then_some(*original)
    }
}

/// Appends one statement that unsets `names`.
fn push_unset(shell: Shell, names: &[&str], out: &mut Vec<u8>) {
    out.extend_from_slice(match shell {
        Shell::Bash | Shell::Zsh => b"unset",
        Shell::Fish => b"set -e -g",
    });
    for name in names {
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
    }
    out.push(b'\n');
}

/// Variables that hold what another holds, for tools that read the other name: each with the
/// variable it copies.
const ALIASES: [(&str, &str); 6] = [
    ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"),
    ("AWS_DELEGATION_TOKEN", "AWS_SESSION_TOKEN"),
    ("AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
    ("AWS_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    ("AWSENV_KEY_ID", "AWS_ACCESS_KEY_ID"),
    ("AWS_REGION", "AWS_DEFAULT_REGION"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(shell: Shell, value: &str) -> String {
        let mut out = Vec::new();
        quote(shell, value.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_table() {
        assert_eq!(quoted(Shell::Bash, ""), "''");
        assert_eq!(quoted(Shell::Bash, "it's"), r"'it'\''s'");
        assert_eq!(quoted(Shell::Zsh, r"a\b$(x)`y`"), r"'a\b$(x)`y`'");
        assert_eq!(quoted(Shell::Fish, r"it's a\b"), r"'it\'s a\\b'");
        assert_eq!(quoted(Shell::Fish, "$x\n(y)"), "'$x\n(y)'");
    }

    #[test]
    fn every_init_script_has_one_placeholder_and_balanced_sections() {
        for script in [BASH_INIT, ZSH_INIT, FISH_INIT] {
            assert_eq!(script.matches(BIN_PLACEHOLDER).count(), 1);
            for name in ["wrapper", "prompt-hook"] {
                assert_eq!(script.matches(&format!("# >>> awsenv:{name}\n")).count(), 1, "{name}");
                assert_eq!(script.matches(&format!("# <<< awsenv:{name}\n")).count(), 1, "{name}");
            }
        }
    }

    /// The bash and zsh hooks compare the prompt's variables as they join them (the hook with
    /// PS1, `__awsenv_prompt_update` without) and store the same join: three copies of one list,
    /// which must not drift apart.
    #[test]
    fn the_prompt_hooks_store_what_they_compare() {
        for script in [BASH_INIT, ZSH_INIT] {
            let joins: Vec<&str> = script
                .lines()
                .filter_map(|line| {
                    let start = line.find("${AWSENV_KEY_ID-}:")?;
                    let last = "${AWSENV_RENEWABLE-}";
                    let end = line[start..].find(last)? + start + last.len();
                    Some(&line[start..end])
                })
                .collect();
            assert_eq!(joins.len(), 3, "{joins:?}");
            assert!(joins.iter().all(|join| *join == joins[0]), "{joins:#?}");
            assert_eq!(joins[0].matches("-}:").count(), 6);
        }
    }

    #[test]
    fn every_shared_value_reaches_every_shell() {
        let raw = [
            include_str!("../shell/awsenv.bash"),
            include_str!("../shell/awsenv.zsh"),
            include_str!("../shell/awsenv.fish"),
        ];
        for (placeholder, _) in crate::shared::PLACEHOLDERS {
            let used = raw.iter().filter(|text| text.contains(placeholder)).count();
            assert!(used >= 2, "{placeholder} is used by {used} shell files");
        }
        for built in [BASH_INIT, ZSH_INIT, FISH_INIT] {
            assert!(!built.contains("@REFRESH_WINDOW@"));
            assert!(built.contains(&format!("{}", crate::shared::REFRESH_WINDOW)));
        }
    }

    #[test]
    fn init_scripts_are_the_templates_with_the_quoted_binary() {
        let all = InitOptions { prompt_hook: true, wrapper: true };
        for (shell, template) in [(Shell::Bash, BASH_INIT), (Shell::Zsh, ZSH_INIT), (Shell::Fish, FISH_INIT)]
        {
            let bin = "/opt/it's/awsenv";
            let full = String::from_utf8(init_script(shell, bin.as_bytes(), all, "")).unwrap();
            assert_eq!(full, template.replace(BIN_PLACEHOLDER, &quoted(shell, bin)), "{shell:?}");
            for options in [InitOptions::default(), InitOptions { prompt_hook: false, wrapper: true }] {
                let part = String::from_utf8(init_script(shell, bin.as_bytes(), options, "")).unwrap();
                assert_eq!(part.matches(&quoted(shell, bin)).count(), 1, "{shell:?} {options:?}");
                assert!(!part.contains(BIN_PLACEHOLDER), "{shell:?} {options:?}");
            }
        }
    }

    #[test]
    fn init_options_drop_their_sections() {
        let all = InitOptions { prompt_hook: true, wrapper: true };
        let full = String::from_utf8(init_script(Shell::Bash, b"/bin/awsenv", all, "")).unwrap();
        assert!(full.contains("__awsenv_bin='/bin/awsenv'") && full.contains("aws() {"));
        let bare = InitOptions::default();
        let bare = String::from_utf8(init_script(Shell::Bash, b"/bin/awsenv", bare, "# extra\n")).unwrap();
        assert!(!bare.contains("aws() {") && !bare.contains("__awsenv_ps1_managed=1"), "{bare}");
        assert!(bare.contains("awsenv_prompt() {") && bare.ends_with("# extra\n"));
    }

    #[test]
    fn legacy_names_are_set_from_the_variable_they_copy() {
        let creds = Credentials {
            access_key_id: Secret::new("ASIA"),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("T")),
            expiration: None,
        };
        let regions = RegionVars { region: None, default_region: None, fallback: Some("eu-west-1".into()) };
        let exports = Exports::new("work", &Held::Standing, &creds, None, &regions).unwrap();
        let bash = String::from_utf8(exports.render(Shell::Bash)).unwrap();
        let fish = String::from_utf8(exports.render(Shell::Fish)).unwrap();
        for (alias, original) in ALIASES {
            assert!(bash.contains(&format!("export {alias}=\"${original}\"\n")), "{alias}: {bash}");
            assert!(fish.contains(&format!("set -gx {alias} ${original}\n")), "{alias}: {fish}");
            let at = |text: &str, name: &str| text.find(&format!(" {name}=")).unwrap();
            assert!(at(&bash, original) < at(&bash, alias), "{original} is set first: {bash}");
        }
        // Where the child's environment is made, every name has its value.
        let token = exports.pairs().find(|(name, _)| *name == "AWS_DELEGATION_TOKEN").unwrap().1;
        assert_eq!(token, Some(&b"T"[..]));
    }

    #[test]
    fn long_term_keys_unset_every_session_variable() {
        let creds = Credentials {
            access_key_id: Secret::new("AKIA"),
            secret_access_key: Secret::new("s"),
            session_token: None,
            expiration: None,
        };
        let regions = RegionVars { region: Some("eu-west-1".into()), default_region: None, fallback: None };
        let text = String::from_utf8(
            Exports::new("work", &Held::Standing, &creds, None, &regions).unwrap().render(Shell::Bash),
        )
        .unwrap();
        for name in [
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_DELEGATION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWSENV_EXPIRES",
        ] {
            assert!(text.contains(&format!("unset {name}\n")), "{name} not unset in {text}");
        }
        assert!(text.contains("export AWS_DEFAULT_REGION='eu-west-1'\n"));
        assert!(!text.contains("AWS_REGION="), "a region the user set is left alone: {text}");
    }
}
