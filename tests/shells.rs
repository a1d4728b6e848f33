//! The shell contract of awsenv, in real bash, zsh and fish: `awsenv init`, `ec2switch`, `ec2mfa`
//! against a local moto, `ec2now`, failures that must leave the shell as it was, and the
//! interactive MFA prompt typed into (or interrupted in) a terminal driven by tmux.
//!
//! Every test loops over all three shells and fails when one is missing.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::cache::cache_dir;
use common::clock::{is_rfc3339_utc_seconds, now, utc_forms};
use common::script::{export, sq};
use common::tmux::{Pane, Tmux};
use common::world::{ACCOUNTS_JSON, ALICE_QUESTION};
use common::{Moto, Sandbox, Shell, init_line, stderr, stdout};

/// Every variable awsenv sets or unsets.
const OWNED: [&str; 17] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_DELEGATION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWSENV_EXPIRES",
    "AWSENV_ACCOUNT",
    "AWSENV_SESSION",
    "AWSENV_ROLE",
    "AWSENV_KEY_ID",
    "AWSENV_RENEWABLE",
    "MY_AWS_SET_FOR",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
];

/// What long-term keys must unset.
const SESSION_VARS: [&str; 7] = [
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DELEGATION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWSENV_EXPIRES",
    "AWSENV_ROLE",
    "AWSENV_RENEWABLE",
];

const WORK_KEY: &str = "AKIAWORKEXAMPLE00001";
/// Quotes, expansions and separators of all three shells: the exports must carry it verbatim.
const WORK_SECRET: &str = r#"wJal'rX "q" $(touch pwned) `touch pwned` \n;|&*?~ {a,b} +/K7\"#;
const LAB_KEY: &str = "AKIALABEXAMPLE000002";
const LAB_SECRET: &str = "labSecret/+0123456789abcdefghijklmnopq";
/// Enough for any single step of these tests; a timeout means something hangs.
const TIMEOUT: Duration = Duration::from_secs(20);

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn seq() -> usize {
    SEQ.fetch_add(1, Ordering::SeqCst)
}

// ---------------------------------------------------------------------------
// Scripts run in a real shell
// ---------------------------------------------------------------------------

fn strict(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "set -euo pipefail",
        Shell::Zsh => "set -eu",
        Shell::Fish => "",
    }
}

fn unset(shell: Shell, names: &[&str]) -> String {
    match shell {
        Shell::Fish => names.iter().map(|n| format!("set -e {n}")).collect::<Vec<_>>().join("; "),
        _ => format!("unset {}", names.join(" ")),
    }
}

/// `wrapper... SHELL FLAGS [-c script]` in the sandbox's environment.
fn wrapped_shell(sb: &Sandbox, shell: Shell, wrapper: &[&str], script: Option<&str>) -> Command {
    shell.require();
    let (program, args) = wrapper.split_first().expect("a wrapper program");
    let mut cmd = sb.command(program);
    cmd.args(args).arg(shell.name()).args(shell.no_rc_flags());
    if let Some(script) = script {
        cmd.args(["-c", script]);
    }
    if shell == Shell::Fish {
        sb.fish_xdg(&mut cmd);
    }
    cmd
}

/// One shell script, assembled line by line; the files it writes go to its own directory.
struct Script {
    shell: Shell,
    dir: PathBuf,
    lines: Vec<String>,
}

impl Script {
    fn new(sb: &Sandbox, shell: Shell) -> Script {
        let dir = sb.root().join(format!("run-{shell}-{}", seq()));
        fs::create_dir(&dir).expect("create run dir");
        Script { shell, dir, lines: Vec::new() }
    }

    fn file(&self, name: &str) -> String {
        sq(self.dir.join(name).to_str().expect("utf-8 path"))
    }

    fn line(mut self, line: impl Into<String>) -> Script {
        self.lines.push(line.into());
        self
    }

    fn strict(self) -> Script {
        let line = strict(self.shell);
        self.line(line)
    }

    fn init(self) -> Script {
        let line = init_line(self.shell);
        self.line(line)
    }

    /// Runs `command` with stdout, stderr and status going to `TAG.out`, `TAG.err` and `TAG.rc`.
    fn call(self, tag: &str, command: &str) -> Script {
        let status = if self.shell == Shell::Fish { "$status" } else { "$?" };
        let line = format!(
            "{command} >{} 2>{}; echo {status} >{}",
            self.file(&format!("{tag}.out")),
            self.file(&format!("{tag}.err")),
            self.file(&format!("{tag}.rc"))
        );
        self.line(line)
    }

    /// Records, as `TAG.env`, the environment a child process gets, and as `TAG.vars` the
    /// shell's own values of the awsenv variables, exported or not.
    fn snapshot(self, tag: &str) -> Script {
        let env = format!("env >{}", self.file(&format!("{tag}.env")));
        let vars = self.file(&format!("{tag}.vars"));
        let mut body = String::new();
        for name in OWNED {
            match self.shell {
                Shell::Fish => write!(
                    body,
                    "if set -q {name}; printf '%s\\n' \"{name}=[${name}]\"; \
                     else; printf '%s\\n' '{name}=<unset>'; end; "
                ),
                _ => {
                    write!(body, "printf '%s\\n' \"{name}=${{{name}+[}}${{{name}-<unset>}}${{{name}+]}}\"; ")
                }
            }
            .unwrap();
        }
        let vars = match self.shell {
            Shell::Fish => format!("begin; {body}end >{vars}"),
            _ => format!("{{ {body}}} >{vars}"),
        };
        self.line(env).line(vars)
    }

    fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    fn run(&self, sb: &Sandbox) -> Ran {
        let output = sb.run_shell(self.shell, &self.text());
        self.ran(output)
    }

    fn run_wrapped(&self, sb: &Sandbox, wrapper: &[&str]) -> Ran {
        let text = self.text();
        let output = wrapped_shell(sb, self.shell, wrapper, Some(&text))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {wrapper:?} {}: {e}", self.shell));
        self.ran(output)
    }

    fn ran(&self, output: Output) -> Ran {
        Ran { shell: self.shell, dir: self.dir.clone(), script: self.text(), output }
    }
}

/// A finished script and what it wrote.
struct Ran {
    shell: Shell,
    dir: PathBuf,
    script: String,
    output: Output,
}

impl Ran {
    fn context(&self) -> String {
        // The variable snapshots make very long lines: show their start only.
        let script: String = self
            .script
            .lines()
            .map(|line| match line.char_indices().nth(160) {
                Some((cut, _)) => format!("{} ...\n", &line[..cut]),
                None => format!("{line}\n"),
            })
            .collect();
        format!(
            "[{}] status {}\n--- script ---\n{script}--- stdout ---\n{}--- stderr ---\n{}",
            self.shell,
            self.output.status,
            stdout(&self.output),
            stderr(&self.output)
        )
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap_or_else(|e| {
            panic!("{name} was not written ({e}): the script stopped early\n{}", self.context())
        })
    }

    fn out(&self, tag: &str) -> String {
        self.read(&format!("{tag}.out"))
    }

    fn err(&self, tag: &str) -> String {
        self.read(&format!("{tag}.err"))
    }

    fn rc(&self, tag: &str) -> i32 {
        let text = self.read(&format!("{tag}.rc"));
        text.trim().parse().unwrap_or_else(|_| panic!("{tag}.rc is {text:?}\n{}", self.context()))
    }

    fn env(&self, tag: &str) -> BTreeMap<String, String> {
        parse_env(&self.read(&format!("{tag}.env")))
    }

    fn vars(&self, tag: &str) -> String {
        self.read(&format!("{tag}.vars"))
    }

    /// The shell itself exited 0 and said nothing outside the files it was told to write.
    #[track_caller]
    fn assert_quiet_success(&self) {
        assert!(
            self.output.status.success() && self.output.stdout.is_empty() && self.output.stderr.is_empty(),
            "the shell failed or printed something\n{}",
            self.context()
        );
    }

    /// `TAG` succeeded, printed nothing on stdout and exactly `message` on stderr.
    #[track_caller]
    fn assert_call(&self, tag: &str, message: &str) {
        let (rc, out, err) = (self.rc(tag), self.out(tag), self.err(tag));
        assert!(
            rc == 0 && out.is_empty() && err == message,
            "{tag}: status {rc}, stdout {out:?}, stderr {err:?}; expected status 0, no stdout, \
             stderr {message:?}\n{}",
            self.context()
        );
    }
}

/// `env` output as a map (`_`, which shells set to the last command, left out).
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(name, _)| *name != "_")
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[track_caller]
fn assert_var(env: &BTreeMap<String, String>, name: &str, expected: &str, ctx: &dyn Fn() -> String) {
    assert_eq!(env.get(name).map(String::as_str), Some(expected), "{name} in the environment\n{}", ctx());
}

#[track_caller]
fn assert_no_session(ran: &Ran, tag: &str) {
    let env = ran.env(tag);
    let vars = ran.vars(tag);
    for name in SESSION_VARS {
        assert!(!env.contains_key(name), "{tag}: {name} is still exported\n{}", ran.context());
        assert!(
            vars.lines().any(|line| line == format!("{name}=<unset>")),
            "{tag}: {name} is still set in the shell:\n{vars}\n{}",
            ran.context()
        );
    }
}

// ---------------------------------------------------------------------------
// Files, clocks and strace
// ---------------------------------------------------------------------------

fn new_sandbox(moto: Option<&Moto>) -> Sandbox {
    let sb = Sandbox::new(moto);
    sb.add_account("work", WORK_KEY, WORK_SECRET, Some("alice"));
    sb.add_account("lab", LAB_KEY, LAB_SECRET, None);
    sb.write_accounts_json(ACCOUNTS_JSON);
    sb
}

/// Every file in the session cache but the lock files: name -> (mode, contents).
fn session_files(sb: &Sandbox) -> BTreeMap<String, (u32, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(cache_dir(sb)) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.expect("read cache dir"))
        .filter(|entry| !entry.file_name().to_string_lossy().ends_with(".lock"))
        .map(|entry| {
            let path = entry.path();
            let mode = fs::metadata(&path).expect("stat cache file").permissions().mode();
            (entry.file_name().to_string_lossy().into_owned(), (mode, fs::read(&path).unwrap_or_default()))
        })
        .collect()
}

/// The programs that strace saw started successfully, in order, with their execve lines.
fn successful_execs(trace: &str) -> Vec<String> {
    let mut pending: HashMap<&str, &str> = HashMap::new();
    let mut started = Vec::new();
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else { continue };
        let call = call.trim_start();
        if call.starts_with("execve(") {
            if call.ends_with("= 0") {
                started.push(call.to_owned());
            } else if call.ends_with("<unfinished ...>") {
                pending.insert(pid, call);
            }
        } else if call.starts_with("<... execve resumed>") && call.ends_with("= 0") {
            started.push(pending.remove(pid).unwrap_or(call).to_owned());
        }
    }
    started
}

/// The names of the shell's functions into `TAG.names`, and into `TAG.defs` the definitions and
/// hooks that init installs (so that a second init can be compared with the first).
fn list_functions(script: Script, tag: &str) -> Script {
    let (names, defs) = (script.file(&format!("{tag}.names")), script.file(&format!("{tag}.defs")));
    let (list_names, list_defs) = match script.shell {
        Shell::Bash => ("declare -F", "{ declare -f; declare -p PROMPT_COMMAND; complete -p; }"),
        Shell::Zsh => ("print -rl -- ${(ok)functions}", "{ functions; print -rl -- $precmd_functions; }"),
        Shell::Fish => (
            "functions -a -n",
            "functions ec2switch ec2mfa ec2now fish_right_prompt __awsenv_original_right_prompt",
        ),
    };
    script.line(format!("{list_names} >{names}")).line(format!("{list_defs} >{defs}"))
}

/// Fails with the lines that differ, not two whole listings.
#[track_caller]
fn assert_same_lines(before: &str, after: &str, what: &str) {
    if before == after {
        return;
    }
    let (old, new): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let gone: Vec<&str> = old.iter().filter(|l| !new.contains(l)).copied().collect();
    let added: Vec<&str> = new.iter().filter(|l| !old.contains(l)).copied().collect();
    panic!(
        "{what} changed the shell's definitions ({} lines, then {}).\nOnly before:\n{}\nOnly after:\n{}",
        old.len(),
        new.len(),
        gone.join("\n"),
        added.join("\n")
    );
}

fn function_names(text: &str) -> Vec<String> {
    text.lines().filter_map(|line| line.split_whitespace().last()).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------
// 1. init
// ---------------------------------------------------------------------------

#[test]
fn init_is_silent_idempotent_and_starts_nothing_but_awsenv() {
    for shell in Shell::ALL {
        shell.require();
        let sb = new_sandbox(None);

        // Twice, under the shell's strict settings: silent, and the same functions as after once.
        let mut script = Script::new(&sb, shell).strict();
        if shell == Shell::Fish {
            // A right prompt of the user's, which init wraps: once, not twice.
            script = script.line("function fish_right_prompt; echo user-right; end");
        }
        let script = list_functions(script.init(), "once").init();
        let mut script = list_functions(script, "twice").call("list", "ec2switch");
        if shell == Shell::Fish {
            script = script.call("right", "fish_right_prompt");
        }
        let ran = script.run(&sb);
        ran.assert_quiet_success();
        let (once, twice) =
            (function_names(&ran.read("once.names")), function_names(&ran.read("twice.names")));
        for name in ["ec2switch", "ec2mfa", "ec2now"] {
            let count = twice.iter().filter(|n| *n == name).count();
            assert_eq!(count, 1, "[{shell}] {name} defined {count} times after two inits: {twice:?}");
        }
        assert_eq!(once, twice, "[{shell}] a second init changed the set of functions");
        assert_same_lines(&ran.read("once.defs"), &ran.read("twice.defs"), &format!("[{shell}] second init"));
        // The functions still work once, not twice.
        ran.assert_call("list", "Possible accounts: lab work\n");
        if shell == Shell::Fish {
            assert_eq!(ran.out("right"), "user-right\n", "[fish] the user's right prompt\n{}", ran.context());
        }

        // Under strace: the shell, then one `awsenv init SHELL` per init line, and nothing else.
        for inits in [1, 2] {
            let trace = sb.root().join(format!("trace-{shell}-{inits}"));
            let mut script = Script::new(&sb, shell).strict();
            for _ in 0..inits {
                script = script.init();
            }
            let trace_arg = trace.to_str().expect("utf-8 path");
            let ran =
                script.run_wrapped(&sb, &["strace", "-f", "-qq", "-e", "trace=execve", "-o", trace_arg]);
            ran.assert_quiet_success();
            let text = fs::read_to_string(&trace).unwrap_or_else(|e| panic!("no strace output: {e}"));
            let execs = successful_execs(&text);
            assert_eq!(
                execs.len(),
                1 + inits,
                "[{shell}] {inits} init(s) should start the shell and {inits} awsenv, started:\n{}",
                execs.join("\n")
            );
            assert!(
                execs[0].starts_with("execve(\"") && execs[0].contains(&format!("/{shell}\"")),
                "[{shell}] first exec is not the shell: {}",
                execs[0]
            );
            // The first init runs `awsenv` from PATH; a second one runs it through init's awsenv
            // function, which calls the binary by its path (strace cuts long arguments short).
            let expected_args = format!(", \"init\", \"{shell}\"]");
            for exec in &execs[1..] {
                assert!(
                    exec.contains("/awsenv\", [\"") && exec.contains(&expected_args),
                    "[{shell}] init started something other than `awsenv init {shell}`: {exec}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 2, 3. ec2switch
// ---------------------------------------------------------------------------

#[test]
fn ec2switch_without_account_lists_accounts_and_changes_nothing() {
    for shell in Shell::ALL {
        let mut sb = Sandbox::new(None);
        sb.add_account("b", "AKIABBBBBBBBBBBBBBBB", "secret-b", None);
        sb.add_account("a", "AKIAAAAAAAAAAAAAAAAA", "secret-a", None);
        sb.write_accounts_json(ACCOUNTS_JSON);
        // A key without its access key file is no account.
        fs::write(sb.store().join("c.secret_key"), "x\n").expect("write c.secret_key");
        sb.set_env("AWS_ACCESS_KEY_ID", "AKIAUSERSOWN");
        sb.set_env("AWS_REGION", "eu-west-3");

        let ran = Script::new(&sb, shell)
            .strict()
            .init()
            .snapshot("before")
            .call("list", "ec2switch")
            .snapshot("after")
            .run(&sb);
        ran.assert_quiet_success();
        ran.assert_call("list", "Possible accounts: a b\n");
        assert_eq!(ran.env("before"), ran.env("after"), "[{shell}] ec2switch changed the environment");
        assert_eq!(ran.vars("before"), ran.vars("after"), "[{shell}] ec2switch changed a variable");
        assert_var(&ran.env("after"), "AWS_ACCESS_KEY_ID", "AKIAUSERSOWN", &|| ran.context());
    }
}

#[test]
fn ec2switch_exports_long_term_keys_and_fills_regions() {
    for shell in Shell::ALL {
        let mut sb = new_sandbox(None);
        // Left over from an earlier session: long-term keys must not travel with them.
        for (name, value) in [
            ("AWS_SESSION_TOKEN", "stale-token"),
            ("AWS_SECURITY_TOKEN", "stale-token"),
            ("AWS_DELEGATION_TOKEN", "stale-token"),
            ("AWS_CREDENTIAL_EXPIRATION", "2000-01-01T00:00:00Z"),
            ("AWSENV_EXPIRES", "946684800"),
        ] {
            sb.set_env(name, value);
        }
        let regions = ["AWS_REGION", "AWS_DEFAULT_REGION"];
        let script = Script::new(&sb, shell);
        let printenv = script.file("printenv.out");
        let ran = script
            .strict()
            .init()
            .call("plain", "ec2switch work")
            .snapshot("plain")
            .line(format!("printenv AWS_SECRET_ACCESS_KEY >{printenv}"))
            .line(unset(shell, &regions))
            .line(export(shell, "AWS_REGION", "eu-west-1"))
            .call("upper", "ec2switch WORK")
            .snapshot("upper")
            .line(unset(shell, &regions))
            .line(export(shell, "AWS_DEFAULT_REGION", "eu-central-1"))
            .call("default", "ec2switch work")
            .snapshot("default")
            .line(export(shell, "AWS_REGION", "ap-south-1"))
            .line(export(shell, "AWS_DEFAULT_REGION", "sa-east-1"))
            .call("both", "ec2switch work")
            .snapshot("both")
            .run(&sb);
        ran.assert_quiet_success();
        let ctx = || ran.context();
        assert_eq!(ran.read("printenv.out"), format!("{WORK_SECRET}\n"), "[{shell}] printenv\n{}", ctx());

        for tag in ["plain", "upper", "default", "both"] {
            ran.assert_call(tag, "Set keys for work AWS account\n");
            let env = ran.env(tag);
            assert_var(&env, "AWS_ACCESS_KEY_ID", WORK_KEY, &ctx);
            assert_var(&env, "AWS_ACCESS_KEY", WORK_KEY, &ctx);
            assert_var(&env, "AWS_SECRET_ACCESS_KEY", WORK_SECRET, &ctx);
            assert_var(&env, "AWS_SECRET_KEY", WORK_SECRET, &ctx);
            // `WORK` matches the files work.*; the account keeps their spelling.
            assert_var(&env, "AWSENV_ACCOUNT", "work", &ctx);
            assert_var(&env, "MY_AWS_SET_FOR", "work", &ctx);
            assert_var(&env, "AWSENV_SESSION", "keys", &ctx);
            assert_no_session(&ran, tag);
        }
        let region_pairs = [
            ("plain", "us-east-1", "us-east-1"),
            ("upper", "eu-west-1", "eu-west-1"),
            ("default", "eu-central-1", "eu-central-1"),
            ("both", "ap-south-1", "sa-east-1"),
        ];
        for (tag, region, default_region) in region_pairs {
            let env = ran.env(tag);
            assert_var(&env, "AWS_REGION", region, &|| format!("after {tag}\n{}", ctx()));
            assert_var(&env, "AWS_DEFAULT_REGION", default_region, &|| format!("after {tag}\n{}", ctx()));
        }
        assert!(
            !sb.home().join("pwned").exists() && !ran.dir.join("pwned").exists(),
            "[{shell}] the secret was executed as code"
        );
    }
}

/// The shell functions print only what changes the shell (`--only-changes`). Back and forth
/// between accounts, a value changed by hand, a variable set but not exported, and a switch that
/// changes nothing all leave the shell as the first full switch did.
#[test]
fn ec2switch_prints_only_what_changes_and_leaves_the_shell_as_a_full_switch_does() {
    let owned = |env: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        env.iter()
            .filter(|(name, _)| OWNED.contains(&name.as_str()))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    };
    for shell in Shell::ALL {
        let sb = new_sandbox(None);
        let script = Script::new(&sb, shell);
        let again = script.file("again.out");
        let not_exported = match shell {
            Shell::Fish => "set -g AWSENV_ROLE stale".to_owned(),
            _ => "AWSENV_ROLE=stale".to_owned(),
        };
        let ran = script
            .strict()
            .init()
            .call("work", "ec2switch work")
            .snapshot("work")
            .call("lab", "ec2switch lab")
            .snapshot("lab")
            .call("back", "ec2switch work")
            .snapshot("back")
            .line(format!("awsenv switch --shell {shell} --only-changes -- work >{again} 2>/dev/null"))
            .line(export(shell, "AWS_SECRET_ACCESS_KEY", "tampered"))
            .line(not_exported)
            .call("repaired", "ec2switch work")
            .snapshot("repaired")
            .run(&sb);
        ran.assert_quiet_success();
        let ctx = || ran.context();
        ran.assert_call("work", "Set keys for work AWS account\n");
        ran.assert_call("lab", "Set keys for lab AWS account\n");
        let first = owned(&ran.env("work"));
        assert_var(&first, "AWS_SECRET_ACCESS_KEY", WORK_SECRET, &ctx);
        assert_var(&first, "AWS_SECRET_KEY", WORK_SECRET, &ctx);
        let lab = ran.env("lab");
        assert_var(&lab, "AWS_ACCESS_KEY_ID", LAB_KEY, &ctx);
        assert_var(&lab, "AWSENV_KEY_ID", LAB_KEY, &ctx);
        assert_var(&lab, "AWS_SECRET_KEY", LAB_SECRET, &ctx);
        for tag in ["back", "repaired"] {
            ran.assert_call(tag, "Set keys for work AWS account\n");
            assert_eq!(owned(&ran.env(tag)), first, "[{shell}] {tag}: the environment\n{}", ctx());
            assert_eq!(ran.vars(tag), ran.vars("work"), "[{shell}] {tag}: the shell's variables\n{}", ctx());
        }
        // Nothing to set: the unsets alone, in one statement.
        let again = ran.read("again.out");
        let unset = if shell == Shell::Fish { "set -e -g " } else { "unset " };
        assert!(
            again.lines().count() == 1 && again.starts_with(unset) && again.contains("AWS_SESSION_TOKEN"),
            "[{shell}] a switch that changes nothing printed {again:?}\n{}",
            ctx()
        );
    }
}

// ---------------------------------------------------------------------------
// 5. ec2now (the session line is checked with ec2mfa below)
// ---------------------------------------------------------------------------

#[test]
fn ec2now_says_no_keys_then_describes_long_term_keys() {
    for shell in Shell::ALL {
        let sb = new_sandbox(None);
        let ran = Script::new(&sb, shell)
            .init()
            .call("fresh", "ec2now")
            .call("switch", "ec2switch work")
            .call("keys", "ec2now")
            .run(&sb);
        ran.assert_quiet_success();
        let (rc, out, err) = (ran.rc("fresh"), ran.out("fresh"), ran.err("fresh"));
        assert!(
            // Issue "Hardening", item 17: the message is on stderr, stdout stays empty.
            rc == 3 && out.is_empty() && err == "No keys set\n",
            "[{shell}] fresh ec2now: status {rc}, stdout {out:?}, stderr {err:?}\n{}",
            ran.context()
        );
        assert_eq!(ran.rc("keys"), 0, "{}", ran.context());
        assert_eq!(
            ran.out("keys"),
            "Keys set for work AWS account\nRegion is us-east-1\n",
            "{}",
            ran.context()
        );
        assert_eq!(ran.err("keys"), "", "{}", ran.context());
    }
}

// ---------------------------------------------------------------------------
// 4. ec2mfa against moto
// ---------------------------------------------------------------------------

/// A sandbox whose `work` has moto's user alice's real keys.
fn moto_sandbox(moto: &Moto, keys: &(String, String)) -> Sandbox {
    let sb = Sandbox::new(Some(moto));
    sb.add_account("work", &keys.0, &keys.1, Some("alice"));
    sb.add_account("lab", LAB_KEY, LAB_SECRET, None);
    sb.write_accounts_json(ACCOUNTS_JSON);
    sb
}

/// Checks the MFA session exported in `TAG.env` and returns its expiry.
#[track_caller]
fn assert_mfa_session(ran: &Ran, tag: &str, long_term_key: &str) -> i64 {
    let env = ran.env(tag);
    let ctx = || format!("after {tag}\n{}", ran.context());
    let get =
        |name: &str| env.get(name).cloned().unwrap_or_else(|| panic!("{name} is not exported\n{}", ctx()));
    let token = get("AWS_SESSION_TOKEN");
    assert!(!token.is_empty(), "empty session token\n{}", ctx());
    assert_var(&env, "AWS_SECURITY_TOKEN", &token, &ctx);
    assert_var(&env, "AWS_DELEGATION_TOKEN", &token, &ctx);
    let key = get("AWS_ACCESS_KEY_ID");
    assert!(!key.is_empty() && key != long_term_key, "the session's key is {key:?}\n{}", ctx());
    assert_var(&env, "AWS_ACCESS_KEY", &key, &ctx);
    let secret = get("AWS_SECRET_ACCESS_KEY");
    assert_var(&env, "AWS_SECRET_KEY", &secret, &ctx);
    assert_var(&env, "MY_AWS_SET_FOR", "work-MFA-STS", &ctx);
    assert_var(&env, "AWSENV_SESSION", "mfa", &ctx);
    assert_var(&env, "AWSENV_ACCOUNT", "work", &ctx);
    assert_var(&env, "AWS_REGION", "us-east-1", &ctx);
    assert_var(&env, "AWS_DEFAULT_REGION", "us-east-1", &ctx);
    let expiration = get("AWS_CREDENTIAL_EXPIRATION");
    assert!(is_rfc3339_utc_seconds(&expiration), "AWS_CREDENTIAL_EXPIRATION {expiration:?}\n{}", ctx());
    let expires: i64 = get("AWSENV_EXPIRES")
        .parse()
        .unwrap_or_else(|_| panic!("AWSENV_EXPIRES is not an integer\n{}", ctx()));
    assert_eq!(
        utc_forms(expires).0,
        expiration,
        "AWSENV_EXPIRES and AWS_CREDENTIAL_EXPIRATION differ\n{}",
        ctx()
    );
    expires
}

#[track_caller]
fn assert_expires_in(expires: i64, seconds: i64, before: i64, after: i64, ctx: &dyn Fn() -> String) {
    assert!(
        (before + seconds - 2..=after + seconds + 2).contains(&expires),
        "expiry {expires} is not {seconds} s after the call ({before}..{after})\n{}",
        ctx()
    );
}

#[test]
fn ec2mfa_makes_caches_and_reuses_a_session() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        moto.reset();
        let keys = moto.create_user("alice");
        let sb = moto_sandbox(&moto, &keys);

        let before = now();
        let first = Script::new(&sb, shell)
            .strict()
            .init()
            .call("switch", "ec2switch work")
            .call("mfa", "ec2mfa 123456")
            .snapshot("mfa")
            .call("now", "ec2now")
            .run(&sb);
        let after = now();
        first.assert_quiet_success();
        first.assert_call("mfa", "Set keys for work-MFA-STS AWS account\n");
        assert_eq!(moto.sts_token_count(), 1, "[{shell}] GetSessionToken calls\n{}", first.context());
        let expires = assert_mfa_session(&first, "mfa", &keys.0);
        assert_expires_in(expires, 14_400, before, after, &|| first.context());
        assert!(!session_files(&sb).is_empty(), "[{shell}] no session was cached");

        // ec2now: the label, the region, and the session's end in both forms.
        assert_eq!(first.rc("now"), 0, "{}", first.context());
        let now = first.out("now");
        let lines: Vec<&str> = now.lines().collect();
        assert_eq!(lines.len(), 3, "[{shell}] ec2now said {now:?}");
        assert_eq!(lines[0], "Keys set for work-MFA-STS AWS account");
        assert_eq!(lines[1], "Region is us-east-1");
        let rest = lines[2].strip_prefix("Session ends in ").unwrap_or_else(|| panic!("{now:?}"));
        let (left, at) = rest.split_once(", at ").unwrap_or_else(|| panic!("{now:?}"));
        // moto's expiry is now + 14400 s; ec2now runs within the same second or a later one.
        assert!(left == "3h 59m" || left == "4h 00m", "[{shell}] time left {left:?} in {now:?}");
        assert_eq!(at, utc_forms(expires).1, "[{shell}] end time in {now:?}");

        // A new shell: ec2switch finds the cached session, ec2mfa makes no STS call, and long-term
        // keys of another account clear every session variable.
        let second = Script::new(&sb, shell)
            .strict()
            .init()
            .call("switch", "ec2switch work")
            .snapshot("switch")
            .call("mfa", "ec2mfa 123456")
            .snapshot("mfa")
            .call("lab", "ec2switch lab")
            .snapshot("lab")
            .run(&sb);
        second.assert_quiet_success();
        second.assert_call("switch", "Set keys for work-MFA-STS AWS account\n");
        assert_eq!(assert_mfa_session(&second, "switch", &keys.0), expires);
        assert_eq!(
            second.env("switch").get("AWS_SESSION_TOKEN"),
            first.env("mfa").get("AWS_SESSION_TOKEN"),
            "[{shell}] ec2switch did not use the cached session"
        );
        let (rc, err) = (second.rc("mfa"), second.err("mfa"));
        assert!(
            rc == 0
                && second.out("mfa").is_empty()
                && err.lines().any(|l| l == "MFA STS token already cached"),
            "[{shell}] second ec2mfa: status {rc}, stderr {err:?}\n{}",
            second.context()
        );
        assert_eq!(moto.sts_token_count(), 1, "[{shell}] the cached session was not reused");
        assert_eq!(assert_mfa_session(&second, "mfa", &keys.0), expires);

        second.assert_call("lab", "Set keys for lab AWS account\n");
        let lab = second.env("lab");
        let ctx = || second.context();
        assert_var(&lab, "AWS_ACCESS_KEY_ID", LAB_KEY, &ctx);
        assert_var(&lab, "AWS_SECRET_ACCESS_KEY", LAB_SECRET, &ctx);
        assert_var(&lab, "MY_AWS_SET_FOR", "lab", &ctx);
        assert_var(&lab, "AWSENV_ACCOUNT", "lab", &ctx);
        assert_var(&lab, "AWSENV_SESSION", "keys", &ctx);
        assert_no_session(&second, "lab");
    }
}

#[test]
fn ec2mfa_code_and_duration_from_arguments_and_environment() {
    let moto = Moto::start();
    let keys = moto.create_user("alice");
    for shell in Shell::ALL {
        shell.require();
        let cases = [
            ("AWSENV_MFA_CODE=123456 ec2mfa", 14_400),
            ("ec2mfa --duration 3600 123456", 3_600),
            ("AWSENV_DURATION=900 ec2mfa 123456", 900),
        ];
        for (command, seconds) in cases {
            let sb = moto_sandbox(&moto, &keys);
            let count = moto.sts_token_count();
            let before = now();
            let ran = Script::new(&sb, shell)
                .init()
                .call("switch", "ec2switch work")
                .call("mfa", command)
                .snapshot("mfa")
                .run(&sb);
            let after = now();
            let ctx = || format!("`{command}`\n{}", ran.context());
            ran.assert_quiet_success();
            ran.assert_call("mfa", "Set keys for work-MFA-STS AWS account\n");
            assert_eq!(moto.sts_token_count(), count + 1, "{}", ctx());
            let expires = assert_mfa_session(&ran, "mfa", &keys.0);
            assert_expires_in(expires, seconds, before, after, &ctx);
            let env = ran.env("mfa");
            for name in ["AWSENV_MFA_CODE", "AWSENV_DURATION"] {
                assert!(!env.contains_key(name), "{name} leaked into the shell\n{}", ctx());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 6. Failures leave the shell as it was
// ---------------------------------------------------------------------------

struct Failure {
    name: &'static str,
    /// Changes to the store before the shell starts.
    setup: fn(&Sandbox),
    env: &'static [(&'static str, &'static str)],
    /// Lines that must succeed before the state is recorded.
    pre: &'static [&'static str],
    call: &'static str,
    status: i32,
    /// Parts of the message; `{store}` stands for the store's path.
    says: &'static [&'static str],
    /// Run without a controlling terminal (and stdin null), so /dev/tty cannot be opened.
    no_tty: bool,
}

const SWITCHED: &[&str] = &["ec2switch work"];

fn no_setup(_: &Sandbox) {}

fn failures() -> Vec<Failure> {
    let case = |name, call, status| Failure {
        name,
        setup: no_setup,
        env: &[],
        pre: SWITCHED,
        call,
        status,
        says: &[],
        no_tty: false,
    };
    vec![
        Failure { says: &["nosuch"], ..case("unknown account", "ec2switch nosuch", 3) },
        Failure { setup: outside_store, ..case("a name with a slash", "ec2switch a/b", 3) },
        Failure { setup: outside_store, ..case("a name leaving the store", "ec2switch ../evil", 3) },
        Failure { setup: outside_store, ..case("a name that is ..", "ec2switch ..", 3) },
        Failure {
            setup: outside_store,
            env: &[("AWSENV_ACCOUNT", "../evil")],
            pre: &[],
            ..case("ec2mfa for an account leaving the store", "ec2mfa 123456", 3)
        },
        Failure {
            setup: no_secret_key,
            says: &["{store}/broken.secret_key"],
            ..case("a missing secret key", "ec2switch broken", 3)
        },
        Failure {
            setup: malformed_accounts,
            says: &["{store}/accounts.json", "line 1 column "],
            ..case("a malformed account file", "ec2mfa 123456", 3)
        },
        // Without an entry in the account file awsenv asks AWS for the user's device (as
        // aws-session did); an IAM user that has none is a configuration error.
        Failure {
            setup: user_without_device,
            says: &["IAM user", "has no MFA device", "provision-mfa work"],
            ..case("an account missing from the account file, whose user has no device", "ec2mfa 123456", 3)
        },
        Failure { pre: &[], says: &["No keys set"], ..case("ec2mfa with no account", "ec2mfa 123456", 3) },
        case("a five-digit code", "ec2mfa 12345", 4),
        case("a code with letters", "ec2mfa 12345a", 4),
        case("a duration below 900 s", "ec2mfa --duration 10 123456", 2),
        Failure { no_tty: true, ..case("no code and no terminal", "ec2mfa", 4) },
        Failure {
            pre: &["ec2switch work", "chmod 0770 \"$HOME/aws-creds\""],
            says: &["chmod go-w"],
            ..case("ec2switch with a group-writable store", "ec2switch work", 3)
        },
        Failure {
            pre: &["ec2switch work", "chmod 0770 \"$HOME/aws-creds\""],
            says: &["chmod go-w"],
            ..case("ec2mfa with a group-writable store", "ec2mfa 123456", 3)
        },
    ]
}

/// Key files just outside the store, for a name that escapes it to find.
fn outside_store(sb: &Sandbox) {
    fs::write(sb.home().join("evil.access_key"), "AKIAEVILEXAMPLE00000\n").expect("write evil key");
    fs::write(sb.home().join("evil.secret_key"), "evil\n").expect("write evil secret");
    fs::write(sb.home().join("evil.user"), "alice\n").expect("write evil user");
}

fn no_secret_key(sb: &Sandbox) {
    sb.add_account("broken", "AKIABROKENEXAMPLE000", "unused", None);
    fs::remove_file(sb.store().join("broken.secret_key")).expect("remove broken.secret_key");
}

fn malformed_accounts(sb: &Sandbox) {
    sb.write_accounts_json("{\"work\": \"arn:aws:iam::123456789012:\" \"lab\": \"210987654321\"}\n");
}

/// `work` becomes a real IAM user of moto with no MFA device, absent from the account file.
fn user_without_device(sb: &Sandbox) {
    sb.write_accounts_json(r#"{"lab": "arn:aws:iam::123456789012:"}"#);
    let script = "import boto3, os\n\
                  iam = boto3.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')\n\
                  name = 'nodevice-%d' % os.getpid()\n\
                  iam.create_user(UserName=name)\n\
                  key = iam.create_access_key(UserName=name)['AccessKey']\n\
                  print(key['AccessKeyId'], key['SecretAccessKey'])\n";
    let out = sb
        .command("python3")
        .args(["-c", script])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("python3 runs");
    common::assert_success(&out);
    let text = common::stdout(&out);
    let (key, secret) = text.trim().split_once(' ').expect("a key and a secret");
    sb.add_account("work", key, secret, Some("alice"));
}

/// A stand-in for the binary that records the arguments and stdout of the real one, so the test
/// sees what awsenv itself printed, not only what the shell function let through.
fn install_spy(sb: &Sandbox) -> PathBuf {
    let root = sb.root().to_str().expect("utf-8 path");
    let spy = sb.root().join("spy");
    let text = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" >{argv}\n{real} \"$@\" >{out}\nrc=$?\ncat {out}\nexit \"$rc\"\n",
        argv = sq(&format!("{root}/spy.argv")),
        out = sq(&format!("{root}/spy.stdout")),
        real = sq(env!("CARGO_BIN_EXE_awsenv")),
    );
    fs::write(&spy, text).expect("write spy");
    fs::set_permissions(&spy, fs::Permissions::from_mode(0o755)).expect("chmod spy");
    spy
}

/// Runs each case in each shell and checks the whole contract of a failure.
fn check_failures(moto: Option<&Moto>, cases: &[Failure]) {
    for shell in Shell::ALL {
        shell.require();
        for case in cases {
            let mut sb = new_sandbox(moto);
            (case.setup)(&sb);
            for (name, value) in case.env {
                sb.set_env(name, value);
            }
            let spy = install_spy(&sb);
            let spy = spy.to_str().expect("utf-8 path");
            let mut script = Script::new(&sb, shell).init();
            for (i, line) in case.pre.iter().enumerate() {
                script = script.call(&format!("pre{i}"), line);
            }
            script = script.line(match shell {
                Shell::Fish => format!("set -g __awsenv_bin {}", sq(spy)),
                _ => format!("__awsenv_bin={}", sq(spy)),
            });
            let script = script.snapshot("before").call("fail", case.call).snapshot("after");

            let cache_before = session_files(&sb);
            let count_before = moto.map(Moto::sts_token_count);
            let ran = if case.no_tty { script.run_wrapped(&sb, &["setsid", "-w"]) } else { script.run(&sb) };
            let what = format!("[{shell}] {} (`{}`)", case.name, case.call);
            let ctx = || format!("{what}\n{}", ran.context());

            ran.assert_quiet_success();
            for i in 0..case.pre.len() {
                assert_eq!(ran.rc(&format!("pre{i}")), 0, "set-up line {i} failed\n{}", ctx());
            }
            let status = ran.rc("fail");
            assert_eq!(status, case.status, "exit status\n{}", ctx());
            assert_eq!(ran.out("fail"), "", "the function printed on stdout\n{}", ctx());
            let raw = fs::read_to_string(sb.root().join("spy.stdout"))
                .unwrap_or_else(|_| panic!("the functions did not call $__awsenv_bin\n{}", ctx()));
            assert_eq!(raw, "", "awsenv printed on stdout\n{}", ctx());
            let argv = fs::read_to_string(sb.root().join("spy.argv")).unwrap_or_default();
            assert!(
                !argv.contains("123456") && !argv.contains("12345"),
                "an MFA code in argv: {argv:?}\n{}",
                ctx()
            );

            let err = ran.err("fail");
            assert!(
                err.starts_with("awsenv: ") && err.ends_with('\n') && err.lines().count() == 1,
                "stderr is not one `awsenv: ` line: {err:?}\n{}",
                ctx()
            );
            let store = sb.store().to_str().expect("utf-8 path").to_owned();
            for part in case.says {
                let part = part.replace("{store}", &store);
                assert!(err.contains(&part), "the message {err:?} does not contain {part:?}\n{}", ctx());
            }

            assert_eq!(ran.env("before"), ran.env("after"), "the environment changed\n{}", ctx());
            assert_eq!(ran.vars("before"), ran.vars("after"), "a variable changed\n{}", ctx());
            assert_eq!(session_files(&sb), cache_before, "the session cache changed\n{}", ctx());
            assert_eq!(moto.map(Moto::sts_token_count), count_before, "an STS call was made\n{}", ctx());
        }
    }
}

#[test]
fn failures_leave_every_variable_and_the_cache_unchanged() {
    // Moto answers every request, so a check skipped by mistake would show as a changed shell.
    let moto = Moto::start();
    let cases = failures();
    check_failures(Some(&moto), &cases);
}

#[test]
fn unreachable_endpoint_fails_with_6_and_changes_nothing() {
    let case = Failure {
        name: "an unreachable endpoint",
        setup: no_setup,
        env: &[("AWS_ENDPOINT_URL", "http://127.0.0.1:1")],
        pre: SWITCHED,
        call: "ec2mfa 123456",
        status: 6,
        says: &[],
        no_tty: false,
    };
    check_failures(None, &[case]);
}

// ---------------------------------------------------------------------------
// Extra: the shell's own state besides variables
// ---------------------------------------------------------------------------

#[test]
fn ec2switch_keeps_the_users_interrupt_handler() {
    // Every shell is checked before failing, so the message says which ones change the handler.
    let mut changed = Vec::new();
    for shell in Shell::ALL {
        let sb = new_sandbox(None);
        let script = Script::new(&sb, shell).init();
        let (before, after) = (script.file("before.traps"), script.file("after.traps"));
        let (install, list) = match shell {
            Shell::Fish => (
                "function __user_int --on-signal INT; echo interrupted; end",
                "functions --handlers-type signal",
            ),
            _ => ("trap 'echo interrupted' INT", "trap"),
        };
        let ran = script
            .line(install)
            .line(format!("{list} >{before}"))
            .call("switch", "ec2switch work")
            .line(format!("{list} >{after}"))
            .run(&sb);
        ran.assert_quiet_success();
        ran.assert_call("switch", "Set keys for work AWS account\n");
        let (before, after) = (ran.read("before.traps"), ran.read("after.traps"));
        assert!(before.contains("INT"), "[{shell}] the handler was not installed: {before:?}");
        if after != before {
            changed.push(format!("[{shell}] SIGINT handlers before ec2switch: {before:?}, after: {after:?}"));
        }
    }
    assert!(changed.is_empty(), "ec2switch changed the shell's SIGINT handler:\n{}", changed.join("\n"));
}

// ---------------------------------------------------------------------------
// 7. Interactive prompt, in tmux
// ---------------------------------------------------------------------------

/// `shell` (without startup files) in a 200x50 pane of its own tmux server, with the sandbox's
/// environment (and for fish its XDG directories).
fn terminal(sb: &Sandbox, shell: Shell) -> Pane {
    let mut tmux = Tmux::in_sandbox(sb).timeout(TIMEOUT);
    if shell == Shell::Fish {
        tmux = tmux.xdg(sb);
    }
    tmux.shell("t", shell)
}

#[test]
fn interactive_prompt_takes_a_code_or_is_interrupted() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        moto.reset();
        let keys = moto.create_user("alice");

        // Typing the code at the prompt sets the session.
        let sb = moto_sandbox(&moto, &keys);
        let term = terminal(&sb, shell);
        term.run(&format!("{}; ec2switch work", init_line(shell)));
        term.type_line("ec2mfa");
        term.wait("the MFA prompt", |s| s.contains(ALICE_QUESTION));
        term.type_line("123456");
        term.wait("the session", |s| s.contains("Set keys for work-MFA-STS AWS account"));
        let vars = format!("VARS:{}", term.vars("[$MY_AWS_SET_FOR][$AWSENV_SESSION]"));
        assert_eq!(vars, "VARS:[work-MFA-STS][mfa]", "[{shell}] after typing the code:\n{}", term.screen());
        assert_eq!(moto.sts_token_count(), 1, "[{shell}] GetSessionToken calls");
        assert!(!session_files(&sb).is_empty(), "[{shell}] the session was not cached");
        drop(term);

        // Ctrl-C at the prompt changes nothing.
        moto.reset();
        let sb = moto_sandbox(&moto, &keys);
        let term = terminal(&sb, shell);
        let (before, after) = (sb.root().join("before.env"), sb.root().join("after.env"));
        let (before_arg, after_arg) = (sq(before.to_str().unwrap()), sq(after.to_str().unwrap()));
        term.run(&format!("{}; ec2switch work; env >{before_arg}", init_line(shell)));
        term.type_line("ec2mfa");
        term.wait("the MFA prompt", |s| s.contains(ALICE_QUESTION));
        term.keys(&["C-c"]);
        // The terminal discards what is typed before the shell is back at its prompt.
        term.wait("a prompt after Ctrl-C", |screen| {
            screen.lines().skip_while(|l| !l.contains(ALICE_QUESTION)).skip(1).any(|l| !l.trim().is_empty())
        });
        term.run(&format!("env >{after_arg}"));
        let vars = format!(
            "VARS:{}",
            term.vars("[$MY_AWS_SET_FOR][$AWSENV_SESSION][$AWS_ACCESS_KEY_ID][$AWS_SESSION_TOKEN]")
        );
        let expected = format!("VARS:[work][keys][{}][]", keys.0);
        assert_eq!(vars, expected, "[{shell}] after Ctrl-C:\n{}", term.screen());
        let (before, after) = (fs::read_to_string(before).unwrap(), fs::read_to_string(after).unwrap());
        assert_eq!(parse_env(&before), parse_env(&after), "[{shell}] Ctrl-C changed the environment");
        assert!(session_files(&sb).is_empty(), "[{shell}] a session file exists: {:?}", session_files(&sb));
        assert_eq!(moto.sts_token_count(), 0, "[{shell}] an STS call was made after Ctrl-C");
    }
}

#[test]
fn utc_forms_matches_known_dates() {
    assert_eq!(utc_forms(0).0, "1970-01-01T00:00:00Z");
    assert_eq!(utc_forms(1_795_000_000), ("2026-11-18T11:06:40Z".into(), "2026-11-18 11:06:40 UTC".into()));
    assert_eq!(utc_forms(951_782_400).0, "2000-02-29T00:00:00Z");
    assert!(is_rfc3339_utc_seconds("2026-11-18T11:06:40Z"));
    assert!(
        !is_rfc3339_utc_seconds("2026-11-18T11:06:40.5Z") && !is_rfc3339_utc_seconds("2026-11-18 11:06:40Z")
    );
}
