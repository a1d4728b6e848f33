use anyhow::Result;
use clap::CommandFactory;
use clap_complete::shells;

use super::{Context, Run, print};
use crate::cli::{Cli, Completions, Shell};
use crate::shell::account_completion;

impl Run for Completions {
    fn run(&self, _ctx: &Context) -> Result<()> {
        print(&script(self.shell))
    }
}

/// The completion script for `awsenv`: clap's, plus account names for the arguments that take one,
/// without the hidden options (clap_complete offers them too: doctor's `--shell-fact`, which only
/// awsenv's own shell function passes).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let hidden = hidden_longs(&command);
    let generated = generate(shell, &mut command);
    let mut out = Vec::with_capacity(generated.len());
    // An option's entry may span lines (fish: a quoted list of values with newlines in it).
    let mut open_quote = false;
    for line in String::from_utf8_lossy(&generated).split_inclusive('\n') {
        if open_quote {
            open_quote = unescaped_quotes(line).is_multiple_of(2);
            continue;
        }
        match without_hidden(line, shell, &hidden) {
            Some(kept) => out.extend_from_slice(kept.as_bytes()),
            None => open_quote = !unescaped_quotes(line).is_multiple_of(2),
        }
    }
    out
}

/// The `"` of `line` that no backslash escapes.
fn unescaped_quotes(line: &str) -> usize {
    let mut escaped = false;
    let mut count = 0;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => count += 1,
            _ => escaped = false,
        }
    }
    count
}

/// Every hidden option's long name, in every subcommand.
fn hidden_longs(command: &clap::Command) -> Vec<String> {
    let mut longs: Vec<String> = command
        .get_arguments()
        .filter(|arg| arg.is_hide_set())
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .collect();
    for sub in command.get_subcommands() {
        longs.extend(hidden_longs(sub));
    }
    longs
}

/// `line` of a generated script without the hidden options: bash lists options in `opts="..."`,
/// zsh and fish give each option an entry of its own (`None`: the entry starting here is dropped).
fn without_hidden(line: &str, shell: Shell, hidden: &[String]) -> Option<String> {
    let names = |pattern: &dyn Fn(&str) -> String| hidden.iter().any(|long| line.contains(&pattern(long)));
    match shell {
        Shell::Bash if line.trim_start().starts_with("opts=\"") => Some(
            line.split(' ')
                .filter(|word| {
                    !hidden.iter().any(|long| word.trim_end_matches(['"', '\n']) == format!("--{long}"))
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Shell::Zsh if names(&|long| format!("--{long}=[")) || names(&|long| format!("--{long}[")) => None,
        Shell::Fish if names(&|long| format!(" -l {long} ")) => None,
        _ => Some(line.to_owned()),
    }
}

fn generate(shell: Shell, command: &mut clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    match shell {
        Shell::Bash => {
            clap_complete::generate(shells::Bash, command, "awsenv", &mut out);
            out.extend_from_slice(account_completion(Shell::Bash).as_bytes());
        }
        Shell::Zsh => {
            let mut generated = Vec::new();
            clap_complete::generate(shells::Zsh, command, "awsenv", &mut generated);
            // clap offers files for the ACCOUNT arguments; offer the store's accounts instead. The
            // helper goes before the closing dispatch, which runs when zsh autoloads the file.
            for line in String::from_utf8_lossy(&generated).lines() {
                if line.starts_with("if [ \"$funcstack[1]\" = \"_awsenv\" ]") {
                    out.extend_from_slice(account_completion(Shell::Zsh).as_bytes());
                    out.push(b'\n');
                }
                let is_account = line.contains("'::account -- ") || line.contains("'--account=[");
                let line = if is_account {
                    line.replace(":_default'", ":_awsenv_accounts'")
                } else {
                    line.to_owned()
                };
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
        }
        Shell::Fish => {
            clap_complete::generate(shells::Fish, command, "awsenv", &mut out);
            out.extend_from_slice(account_completion(Shell::Fish).as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_options_are_not_offered() {
        let hidden = hidden_longs(&Cli::command());
        assert!(hidden.iter().any(|long| long == "shell-fact"), "{hidden:?}");
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(script(shell)).unwrap();
            let offered = |long: &str| match shell {
                Shell::Bash => text.lines().any(|l| l.trim_start().starts_with("opts=") && l.contains(long)),
                Shell::Zsh => text.contains(&format!("{long}=[")) || text.contains(&format!("{long}[")),
                Shell::Fish => text.contains(&format!(" -l {} ", &long[2..])),
            };
            for long in &hidden {
                assert!(!offered(&format!("--{long}")), "{shell:?} offers --{long}");
            }
            // What is not hidden stays.
            assert!(offered("--offline"), "{shell:?} lost doctor's --offline");
        }
    }
}
