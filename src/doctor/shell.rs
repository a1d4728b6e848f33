//! The live shell, as the `awsenv` function that init defines saw it (`shell/doctor.*` gathers
//! what only the shell can see and passes it as `--shell-fact NAME=VALUE`): init loaded, what
//! `aws` runs, the prompt hook, completion.

use std::path::Path;

use super::report::Section;
use crate::cli::Shell;

/// What the shell function reported. Unknown names are ignored, so that an older init's facts
/// still read.
pub struct Facts {
    shell: Shell,
    values: Vec<(String, String)>,
}

impl Facts {
    pub fn new(shell: Shell, raw: &[String]) -> Self {
        let values = raw
            .iter()
            .filter_map(|fact| fact.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Self { shell, values }
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values.iter().filter(move |(n, _)| n == name).map(|(_, value)| value.as_str())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == Some(value)
    }
}

/// The names and lines a fix refers to, per shell.
struct Words {
    rc: &'static str,
    init: &'static str,
}

fn words(shell: Shell) -> Words {
    match shell {
        Shell::Bash => Words { rc: "~/.bashrc", init: r#"eval "$(awsenv init bash)""# },
        Shell::Zsh => Words { rc: "~/.zshrc", init: r#"eval "$(awsenv init zsh)""# },
        Shell::Fish => Words { rc: "~/.config/fish/config.fish", init: "awsenv init fish | source" },
    }
}

/// `facts` is `None` when doctor did not run through the shell function.
pub fn check(section: &mut Section, facts: Option<&Facts>, running: &Path, on_path: Option<&Path>) {
    let Some(facts) = facts else {
        section.skip(
            "shell",
            "not checked: doctor ran outside a shell where awsenv init is loaded (a script, or init is \
                not in the rc file)",
            Some(
                "run awsenv doctor in a new terminal whose shell's rc file has eval \
                 \"$(awsenv init bash)\" (zsh alike; fish: awsenv init fish | source)"
                    .to_owned(),
            ),
        );
        return;
    };
    init(section, facts, running, on_path);
    aws(section, facts);
    prompt(section, facts);
    completion(section, facts);
}

fn init(section: &mut Section, facts: &Facts, running: &Path, on_path: Option<&Path>) {
    let shell = format!("{:?}", facts.shell).to_lowercase();
    let version = facts.get("version").unwrap_or("?");
    let loaded = format!("awsenv init is loaded in {shell} {version}, calling {}", running.display());
    let same =
        |a: &Path, b: &Path| a.canonicalize().ok().zip(b.canonicalize().ok()).is_some_and(|(a, b)| a == b);
    match on_path {
        Some(other) if !same(other, running) => section.warn(
            "init",
            format!("{loaded}, but the awsenv on PATH is another binary, {}", other.display()),
            "remove the awsenv you no longer use, then start a new shell",
        ),
        _ => section.ok("init", loaded),
    }
}

fn aws(section: &mut Section, facts: &Facts) {
    let Words { rc, init } = words(facts.shell);
    let kinds: Vec<&str> = facts
        .all("aws")
        .map(|kind| match kind {
            "command" | "hashed" => "file",
            "reserved" => "keyword",
            other => other,
        })
        .collect();
    let runs = facts.get("aws_file").map_or("nothing (no aws CLI on PATH)".to_owned(), |f| f.to_owned());
    let ours = facts.is("aws_function", "awsenv");
    match kinds.first().copied() {
        Some("alias") if facts.is("aws_alias", "wrapper") && ours => {
            section.ok("aws", format!("an alias aws that calls awsenv's wrapper, which runs {runs}"));
        }
        Some("alias") => section.fail(
            "aws",
            "an alias aws comes before awsenv's wrapper and does not call it: aws runs without renewing \
                the session",
            format!(
                "unalias aws, and remove the alias from {rc} (or make it call the wrapper: alias \
                aws='aws ...')"
            ),
        ),
        Some("function") if ours && facts.get("aws_file").is_none() => section.warn(
            "aws",
            "aws is awsenv's wrapper, but there is no aws CLI on PATH for it to run",
            "install the aws CLI, or use awsenv init --no-wrapper",
        ),
        Some("function") if ours => section.ok("aws", format!("aws is awsenv's wrapper, which runs {runs}")),
        Some("function") => section.fail(
            "aws",
            "aws is a function defined after awsenv init (an alias in fish, or a later rc line) that \
                replaced the wrapper",
            format!("remove that aws function, or move {init} after it in {rc}"),
        ),
        Some(kind @ ("keyword" | "builtin")) => section.fail(
            "aws",
            format!("aws is a shell {kind}, so neither the wrapper nor the aws CLI runs"),
            format!("remove what defines it from {rc}"),
        ),
        _ if facts.is("wrapper", "yes") => section.fail(
            "aws",
            format!(
                "awsenv's aws wrapper was removed after init: aws runs {runs} without renewing the \
                session"
            ),
            format!(
                "remove what undefines aws (unset -f aws, functions -e aws) from {rc}, or move \
                {init} after it"
            ),
        ),
        _ => section.ok(
            "aws",
            format!(
                "aws runs {runs}; no wrapper (awsenv init --no-wrapper), so no \
            renewal before it"
            ),
        ),
    }
    if facts.is("aws_abbr", "yes") {
        section.warn(
            "aws abbr",
            "an abbreviation aws rewrites the command line before awsenv's wrapper sees it",
            format!("abbr --erase aws, and remove it from {rc}"),
        );
    }
}

fn prompt(section: &mut Section, facts: &Facts) {
    let Words { rc, init } = words(facts.shell);
    let (hook_place, variable) = match facts.shell {
        Shell::Bash => ("PROMPT_COMMAND", "PS1"),
        Shell::Zsh => ("precmd_functions", "PS1"),
        Shell::Fish => ("fish_right_prompt", "fish_right_prompt"),
    };
    if !facts.is("prompt", "managed") {
        let message = if facts.is("prompt_uses", "yes") {
            "your own prompt shows the segment (init --no-prompt; $AWSENV_PROMPT or awsenv_prompt)"
        } else {
            "the segment is not shown: init --no-prompt, and the prompt uses neither $AWSENV_PROMPT nor \
                awsenv_prompt"
        };
        section.ok("prompt", message);
        return;
    }
    let after: Vec<&str> = facts.all("prompt_after").collect();
    let mut fix_order = format!("move {init} after the prompt theme's lines in {rc}");
    if facts.shell == Shell::Fish {
        fix_order.push_str(", or call awsenv_prompt in your fish_right_prompt");
    }
    if !facts.is("prompt_hook", "registered") {
        let message = match facts.shell {
            Shell::Fish => {
                "fish_right_prompt was redefined after awsenv init (a theme?) and no longer shows the segment"
                    .to_owned()
            }
            _ => format!(
                "the prompt hook is no longer in {hook_place} (a later rc line replaced it): the \
                    segment is not shown"
            ),
        };
        section.fail("prompt", message, fix_order);
    } else if !after.is_empty() {
        section.fail(
            "prompt",
            format!(
                "{} runs after awsenv's prompt hook and sets {variable}, which drops the segment",
                after.join(", ")
            ),
            fix_order,
        );
    } else if facts.is("prompt_segment", "missing") {
        section.fail(
            "prompt",
            format!("the segment is missing from {variable}: something replaced it after awsenv's hook ran"),
            fix_order,
        );
    } else if facts.shell == Shell::Fish {
        section.ok("prompt", "fish_right_prompt shows the segment");
    } else {
        section
            .ok("prompt", format!("the hook is in {hook_place}, and nothing after it replaces {variable}"));
    }
}

fn completion(section: &mut Section, facts: &Facts) {
    let Words { rc, init } = words(facts.shell);
    if facts.shell == Shell::Zsh && facts.is("compinit_now", "no") {
        section.warn(
            "completion",
            "compinit never ran: zsh has no completion system, so Tab completes nothing for awsenv",
            format!("add autoload -Uz compinit && compinit before {init} in {rc}"),
        );
    } else if facts.shell == Shell::Zsh && facts.is("compinit_at_init", "no") {
        section.fail(
            "completion",
            "awsenv init ran before compinit, so its completions (awsenv, ec2switch, ec2role) were \
                never registered",
            format!("in {rc}, move {init} after compinit"),
        );
    } else if facts.is("completion", "loaded") {
        section.ok("completion", "awsenv, ec2switch and ec2role complete on Tab");
    } else {
        section.fail(
            "completion",
            "the completions of awsenv and ec2switch are not registered (removed after init?)",
            format!("move {init} to the end of {rc}"),
        );
    }
}
