//! Fresh sessions: the `aws` wrapper (renewal, failures, exit statuses, no extra processes), the
//! prompt segment and its hook, `awsenv exec`, `awsenv assume` and `ec2role`, through the real
//! binary, real bash, zsh and fish, and moto.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;

use common::cache::{cache_file, entry, set_expiration};
use common::clock::{epoch, now, rfc3339};
use common::files::{path_str, write_executable};
use common::process::detach;
use common::script::{awsenv_lines, export, sq, value};
use common::world::{CODE, World, mfa_session};
use common::{Sandbox, Shell, assert_success, fresh_code, init_line, show, stderr, stdout};

/// Accounts every fixture may use; all sign with alice's key.
const ACCOUNTS: [&str; 4] = ["work", "lab", "old", "ops"];
const STUB_STATUS: &str = "7";
/// 3 h 30 min: the prompt shows `03h` however long a test takes.
const PROMPT_SESSION: &str = "12600";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Every `awsenv:` line on stderr is a successful refresh's report (`... left, until ...`), and
/// there are `count` of them: no warning, no error.
#[track_caller]
fn assert_renewed_quietly(case: &str, o: &Output, count: usize) {
    let err = stderr(o);
    let lines = awsenv_lines(&err);
    assert!(lines.iter().all(|l| l.contains(" left, until ")), "{case}: unexpected message\n{}", show(o));
    assert_eq!(lines.len(), count, "{case}: refresh reports\n{}", show(o));
}

/// `echo NAME=<status of the previous command>`.
fn echo_status(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Fish => format!("echo {name}=$status"),
        _ => format!("echo {name}=$?"),
    }
}

// ---------------------------------------------------------------------------
// The aws wrapper with a stub aws and a spy awsenv
// ---------------------------------------------------------------------------

/// One call of the stub `aws`: its arguments and the credentials it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StubCall {
    args: String,
    key: String,
    token: String,
    expires: String,
}

/// A world whose sandbox PATH starts with a stub `aws` (logs, exits with STUB_STATUS), and
/// scripts in which the shell functions call a spy that logs each awsenv command line.
struct Wrapped {
    w: World,
    stub_dir: PathBuf,
    stub_log: PathBuf,
    spy: PathBuf,
    spy_log: PathBuf,
}

impl Wrapped {
    fn new() -> Wrapped {
        let mut w = World::with_accounts(&ACCOUNTS);
        let root = w.sb.root().to_path_buf();
        let stub_dir = root.join("stub");
        let stub_log = root.join("stub.log");
        let spy = root.join("spy").join("awsenv-spy");
        let spy_log = root.join("spy.log");
        write_executable(
            &stub_dir.join("aws"),
            &format!(
                "#!/bin/sh\nprintf 'CALL\\t%s\\t%s\\t%s\\t%s\\n' \"$*\" \"${{AWS_ACCESS_KEY_ID-}}\" \
                 \"${{AWS_SESSION_TOKEN-}}\" \"${{AWSENV_EXPIRES-}}\" >> {}\nexit \"${{STUB_STATUS:-0}}\"\n",
                sq(path_str(&stub_log))
            ),
        );
        write_executable(
            &spy,
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> {}\nexec {} \"$@\"\n",
                sq(path_str(&spy_log)),
                sq(env!("CARGO_BIN_EXE_awsenv"))
            ),
        );
        let path = w.sb.env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
        w.sb.set_env("PATH", &format!("{}:{path}", path_str(&stub_dir)));
        w.sb.set_env("STUB_STATUS", STUB_STATUS);
        let fx = Wrapped { w, stub_dir, stub_log, spy, spy_log };
        fx.clear();
        fx
    }

    fn clear(&self) {
        fs::write(&self.stub_log, "").unwrap();
        fs::write(&self.spy_log, "").unwrap();
    }

    fn calls(&self) -> Vec<StubCall> {
        fs::read_to_string(&self.stub_log)
            .unwrap()
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                assert_eq!((f.len(), f[0]), (5, "CALL"), "stub log line {line:?}");
                StubCall { args: f[1].into(), key: f[2].into(), token: f[3].into(), expires: f[4].into() }
            })
            .collect()
    }

    /// awsenv command lines the shell functions ran since the last `clear`.
    fn awsenv_runs(&self) -> Vec<String> {
        fs::read_to_string(&self.spy_log).unwrap().lines().map(str::to_owned).collect()
    }

    fn refreshes(&self) -> usize {
        self.awsenv_runs().iter().filter(|l| l.starts_with("refresh")).count()
    }

    /// init, the spy, then `body`.
    fn script(&self, shell: Shell, body: &str) -> String {
        let spy = sq(path_str(&self.spy));
        let set_spy = match shell {
            Shell::Fish => format!("set -g __awsenv_bin {spy}"),
            _ => format!("__awsenv_bin={spy}"),
        };
        format!("{} || exit 90\n{set_spy}\n{body}\n", init_line(shell))
    }

    fn run(&self, shell: Shell, body: &str) -> Output {
        self.clear();
        output(&mut self.w.sb.shell_command(shell, &self.script(shell, body)))
    }

    fn run_detached(&self, shell: Shell, body: &str) -> Output {
        self.clear();
        output(detach(&mut self.w.sb.shell_command(shell, &self.script(shell, body))))
    }

    fn tokens(&self) -> usize {
        self.w.moto.sts_token_count()
    }
}

fn check_wrapper(shell: Shell) {
    let fx = Wrapped::new();
    let sb = &fx.w.sb;
    mfa_session(sb, "work", None);
    mfa_session(sb, "old", Some("900"));
    assert_eq!(fx.tokens(), 2);
    let work = entry(sb, "work");
    let old = entry(sb, "old");
    assert!((14_000..=14_400).contains(&(work.expires - now())), "work session: {work:?}");
    assert!((800..=900).contains(&(old.expires - now())), "old session: {old:?}");
    let aws_status = |name: &str| format!("aws sts get-caller-identity\n{}", echo_status(shell, name));

    // (a) A fresh session: the stub runs once, with awsenv's credentials, and nothing else runs.
    let out = fx.run(shell, &format!("ec2switch work\n{}", aws_status("status")));
    assert_eq!(
        value(&out, "status"),
        STUB_STATUS,
        "(a) {shell}: the wrapper returns aws's status\n{}",
        show(&out)
    );
    let calls = fx.calls();
    assert_eq!(calls.len(), 1, "(a) {shell}: {calls:?}\n{}", show(&out));
    assert_eq!(calls[0].args, "sts get-caller-identity");
    assert_eq!(calls[0].key, work.key, "(a) {shell}: aws got awsenv's key");
    assert_eq!(calls[0].token, work.token, "(a) {shell}: aws got awsenv's token");
    assert_eq!(calls[0].expires, work.expires.to_string());
    assert_eq!(fx.awsenv_runs(), ["switch --shell ".to_owned() + shell.name() + " --only-changes -- work"]);
    assert_eq!(fx.tokens(), 2, "(a) {shell}: no STS call");
    assert!(awsenv_lines(&stderr(&out)).is_empty(), "(a) {shell}: {}", show(&out));

    // (b) Inside the window (the shell thinks 60 s are left): refresh reuses the 4 h cache entry.
    let soon = now() + 60;
    let out = fx.run(
        shell,
        &format!(
            "ec2switch work\n{}\n{}\necho expires=$AWSENV_EXPIRES",
            export(shell, "AWSENV_EXPIRES", &soon.to_string()),
            aws_status("status")
        ),
    );
    assert_eq!(value(&out, "status"), STUB_STATUS, "(b) {shell}\n{}", show(&out));
    assert_eq!(fx.refreshes(), 1, "(b) {shell}: {:?}", fx.awsenv_runs());
    assert_eq!(fx.tokens(), 2, "(b) {shell}: the cached session had enough left");
    let calls = fx.calls();
    assert_eq!(calls.len(), 1, "(b) {shell}: {calls:?}");
    assert_eq!(calls[0].expires, work.expires.to_string(), "(b) {shell}: aws runs on the renewed exports");
    assert_eq!(value(&out, "expires"), work.expires.to_string(), "(b) {shell}: the shell keeps them");
    assert_renewed_quietly(&format!("(b) {shell}"), &out, 1);

    // (b) A window of 20000 s for one command: one refresh, which reuses the cache (a 4 h session
    // is never renewed for more than half its life), then the default window again.
    let out = fx.run(
        shell,
        &format!(
            "ec2switch work\nAWSENV_REFRESH_WINDOW=20000 aws one\n{}\naws two\n{}",
            echo_status(shell, "s1"),
            echo_status(shell, "s2")
        ),
    );
    assert_eq!((value(&out, "s1"), value(&out, "s2")), (STUB_STATUS.into(), STUB_STATUS.into()));
    assert_eq!(fx.refreshes(), 1, "(b) {shell}: window for one command only: {:?}", fx.awsenv_runs());
    assert_eq!(fx.tokens(), 2, "(b) {shell}");
    assert_eq!(fx.calls().iter().map(|c| c.args.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    assert_renewed_quietly(&format!("(b) {shell} window 20000"), &out, 1);

    // (f) Never loops: with a window longer than any session, each aws call makes one refresh.
    let out = fx.run(
        shell,
        &format!("ec2switch work\n{}\naws 1\naws 2\naws 3", export(shell, "AWSENV_REFRESH_WINDOW", "999999")),
    );
    assert_eq!(fx.calls().len(), 3, "(f) {shell}\n{}", show(&out));
    assert_eq!(fx.refreshes(), 3, "(f) {shell}: one refresh per aws call: {:?}", fx.awsenv_runs());
    assert_eq!(fx.tokens(), 2, "(f) {shell}");
    assert_renewed_quietly(&format!("(f) {shell}"), &out, 3);

    // (b) A 15-minute session: a window of 800 s does not reach it; one of 1000 s does, and
    // since the cache has no more than the shell, the refresh makes exactly one new session (with
    // a code of its own: the one ec2mfa sent may not be sent again).
    let (first_code, renewal_code) = (fresh_code(), fresh_code());
    let out = fx.run(
        shell,
        &format!(
            "ec2switch lab\nec2mfa --duration 900 {first_code}\necho e1=$AWSENV_EXPIRES\n\
             AWSENV_REFRESH_WINDOW=800 aws w800\n\
             AWSENV_REFRESH_WINDOW=1000 AWSENV_MFA_CODE={renewal_code} aws w1000\n{}\n\
             echo e2=$AWSENV_EXPIRES\naws after",
            echo_status(shell, "status")
        ),
    );
    assert_eq!(value(&out, "status"), STUB_STATUS, "(b) {shell}\n{}", show(&out));
    assert_eq!(fx.tokens(), 4, "(b) {shell}: ec2mfa and one renewal\n{}", show(&out));
    assert_eq!(fx.refreshes(), 1, "(b) {shell}: {:?}", fx.awsenv_runs());
    assert_renewed_quietly(&format!("(b) {shell} 15-minute session"), &out, 1);
    let (e1, e2): (i64, i64) = (value(&out, "e1").parse().unwrap(), value(&out, "e2").parse().unwrap());
    assert!((800..=900).contains(&(e1 - now())), "(b) {shell}: e1 {e1}");
    assert!(e2 > e1 + 3600, "(b) {shell}: the renewed session ends later: {e1} -> {e2}");
    let calls = fx.calls();
    let seen: Vec<(&str, &str)> = calls.iter().map(|c| (c.args.as_str(), c.expires.as_str())).collect();
    let (e1, e2) = (e1.to_string(), e2.to_string());
    assert_eq!(seen, [("w800", e1.as_str()), ("w1000", e2.as_str()), ("after", e2.as_str())], "(b) {shell}");

    // (d) Still valid, renewal impossible (no code, no terminal): warns, runs aws on what it has.
    let out = fx.run_detached(
        shell,
        &format!("ec2switch old\nAWSENV_REFRESH_WINDOW=1000 aws d-call\n{}", echo_status(shell, "status")),
    );
    assert_eq!(value(&out, "status"), STUB_STATUS, "(d) {shell}\n{}", show(&out));
    let calls = fx.calls();
    assert_eq!(calls.len(), 1, "(d) {shell}: {calls:?}\n{}", show(&out));
    assert_eq!(
        (calls[0].token.as_str(), calls[0].expires.clone()),
        (old.token.as_str(), old.expires.to_string())
    );
    assert_eq!(fx.refreshes(), 1, "(d) {shell}");
    let err = stderr(&out);
    assert!(
        awsenv_lines(&err).iter().any(|l| l.contains("could not renew") && l.contains("old")),
        "(d) {shell}: no warning\n{}",
        show(&out)
    );
    assert_eq!(fx.tokens(), 4, "(d) {shell}");

    // (c) Expired, renewal impossible: a message, a failure status, and aws is not run.
    let exports = stdout(&output(sb.awsenv().args(["switch", "--shell", shell.name(), "old"])));
    assert!(exports.contains("AWSENV_EXPIRES"), "{exports}");
    let past = now() - 5;
    set_expiration(sb, "old", past);
    let out = fx.run_detached(
        shell,
        &format!(
            "{exports}\n{}\n{}\naws c-call\n{}",
            export(shell, "AWSENV_EXPIRES", &past.to_string()),
            export(shell, "AWS_CREDENTIAL_EXPIRATION", &rfc3339(past)),
            echo_status(shell, "status")
        ),
    );
    let status = value(&out, "status");
    assert_ne!(status, "0", "(c) {shell}\n{}", show(&out));
    assert_ne!(status, STUB_STATUS, "(c) {shell}: the stub's status\n{}", show(&out));
    assert!(fx.calls().is_empty(), "(c) {shell}: aws ran: {:?}", fx.calls());
    assert_eq!(fx.refreshes(), 1, "(c) {shell}: {:?}", fx.awsenv_runs());
    assert!(
        awsenv_lines(&stderr(&out)).iter().any(|l| l.contains("expired")),
        "(c) {shell}: no awsenv: line saying it expired\n{}",
        show(&out)
    );
    assert_eq!(fx.tokens(), 4, "(c) {shell}");

    // (e) Keys the user exported over awsenv's: aws runs on them, awsenv is not asked.
    let out = fx.run(
        shell,
        &format!(
            "ec2switch work\n{}\n{}\naws e-call\n{}",
            export(shell, "AWSENV_EXPIRES", &soon.to_string()),
            export(shell, "AWS_ACCESS_KEY_ID", "AKIAUSEROWNKEY000000"),
            echo_status(shell, "status")
        ),
    );
    assert_eq!(value(&out, "status"), STUB_STATUS, "(e) {shell}\n{}", show(&out));
    let calls = fx.calls();
    assert_eq!(calls.len(), 1, "(e) {shell}: {calls:?}");
    assert_eq!(calls[0].key, "AKIAUSEROWNKEY000000");
    assert_eq!(fx.refreshes(), 0, "(e) {shell}: {:?}", fx.awsenv_runs());
    // (e) No credentials at all.
    let out = fx.run(shell, &format!("aws s3 ls\n{}", echo_status(shell, "status")));
    assert_eq!(value(&out, "status"), STUB_STATUS, "(e) {shell}\n{}", show(&out));
    assert_eq!(fx.calls().len(), 1, "(e) {shell}: {:?}", fx.calls());
    assert_eq!(fx.calls()[0].key, "");
    assert!(fx.awsenv_runs().is_empty(), "(e) {shell}: {:?}", fx.awsenv_runs());
    assert!(awsenv_lines(&stderr(&out)).is_empty(), "(e) {shell}\n{}", show(&out));
    assert!(fx.stub_dir.join("aws").exists());
}

#[test]
fn aws_wrapper_in_bash() {
    check_wrapper(Shell::Bash);
}

#[test]
fn aws_wrapper_in_zsh() {
    check_wrapper(Shell::Zsh);
}

#[test]
fn aws_wrapper_in_fish() {
    check_wrapper(Shell::Fish);
}

/// The real aws CLI through the wrapper, after `ec2role work Admin`: moto's assumed-role ARN, and
/// aws's own exit statuses.
#[test]
fn aws_wrapper_runs_the_real_aws_cli() {
    let w = World::with_accounts(&ACCOUNTS);
    mfa_session(&w.sb, "work", None);
    thread::scope(|scope| {
        for shell in Shell::ALL {
            let w = &w;
            scope.spawn(move || {
                let script = format!(
                    "{} || exit 90\nec2role work Admin || exit 91\n\
                     aws sts get-caller-identity --query Arn --output text\n{}\n\
                     aws sts no-such-operation\n{}\ncommand aws sts no-such-operation\n{}\n",
                    init_line(shell),
                    echo_status(shell, "good"),
                    echo_status(shell, "bad"),
                    echo_status(shell, "direct"),
                );
                let out = output(&mut w.sb.shell_command(shell, &script));
                let text = stdout(&out);
                assert!(
                    text.lines().any(|l| l == "arn:aws:sts::123456789012:assumed-role/Admin/alice"),
                    "{shell}: no assumed-role ARN\n{}",
                    show(&out)
                );
                assert_eq!(value(&out, "good"), "0", "{shell}\n{}", show(&out));
                let (bad, direct) = (value(&out, "bad"), value(&out, "direct"));
                assert_ne!(bad, "0", "{shell}: a bad subcommand succeeded\n{}", show(&out));
                assert_eq!(bad, direct, "{shell}: the wrapper changed aws's status\n{}", show(&out));
            });
        }
    });
    assert_eq!(w.moto.sts_token_count(), 1);
}

// ---------------------------------------------------------------------------
// 2. The fresh path starts no process but aws
// ---------------------------------------------------------------------------

fn strace_fresh_path(shell: Shell) {
    let fx = Wrapped::new();
    let sb = &fx.w.sb;
    mfa_session(sb, "work", None);
    let root = sb.root();
    // Everything awsenv would print is made beforehand, so the traced shell only sources files.
    let init = output(sb.awsenv().args(["init", shell.name()]));
    assert_success(&init);
    let exports = output(sb.awsenv().args(["switch", "--shell", shell.name(), "work"]));
    assert_success(&exports);
    let (init_file, exports_file) = (root.join("init.sh"), root.join("exports.sh"));
    fs::write(&init_file, &init.stdout).unwrap();
    fs::write(&exports_file, &exports.stdout).unwrap();
    let script = format!(
        ". {}\n. {}\naws sts get-caller-identity\necho status=$?\n",
        sq(path_str(&init_file)),
        sq(path_str(&exports_file))
    );
    let trace = root.join(format!("trace-{shell}.txt"));
    let shell_path = which(sb, shell.name());
    let mut cmd = sb.command("strace");
    cmd.args(["-f", "-qq", "-e", "trace=execve", "-o", path_str(&trace), path_str(&shell_path)]);
    match shell {
        Shell::Bash => cmd.args(["--noprofile", "--norc", "-c", &script]),
        _ => cmd.args(["-f", "-c", &script]),
    };
    fx.clear();
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run strace ({e}): install it (apt-get install -y strace) — this test never skips")
    });
    assert_eq!(value(&out, "status"), STUB_STATUS, "{shell}\n{}", show(&out));
    assert_eq!(fx.calls().len(), 1, "{shell}");
    let text = fs::read_to_string(&trace).unwrap();
    let programs: Vec<String> = text
        .lines()
        .filter(|l| l.contains("execve("))
        .map(|l| l.split('"').nth(1).unwrap_or_else(|| panic!("strange strace line {l:?}")).to_owned())
        .collect();
    let stub = path_str(&fx.stub_dir.join("aws")).to_owned();
    assert_eq!(
        programs,
        [path_str(&shell_path).to_owned(), stub],
        "{shell}: the fresh path must exec only the shell and aws\n{text}"
    );
    assert!(!text.contains("awsenv\"") && !text.contains("/date\""), "{shell}\n{text}");
}

/// Absolute path of `program` on the sandbox PATH.
fn which(sb: &Sandbox, program: &str) -> PathBuf {
    let out = output(sb.command("sh").args(["-c", &format!("command -v {program}")]));
    assert_success(&out);
    PathBuf::from(stdout(&out).trim())
}

#[test]
fn fresh_wrapper_execs_only_aws_in_bash() {
    strace_fresh_path(Shell::Bash);
}

#[test]
fn fresh_wrapper_execs_only_aws_in_zsh() {
    strace_fresh_path(Shell::Zsh);
}

// ---------------------------------------------------------------------------
// 3. Prompt
// ---------------------------------------------------------------------------

/// How the colour codes are wrapped in PS1.
fn colored(shell: Shell, code: u8, value: &str) -> String {
    match shell {
        Shell::Bash => format!("\\[\\e[{code}m\\]{value}\\[\\e[39m\\]"),
        _ => format!("%{{\x1b[{code}m%}}{value}%{{\x1b[39m%}}"),
    }
}

fn check_prompt(shell: Shell) {
    assert!(shell != Shell::Fish);
    let w = World::with_accounts(&ACCOUNTS);
    let t = now();
    let (yellow, red, past) = (t + 250, t + 30, t - 5);
    let body = format!(
        "{init} || exit 90\n\
         ec2switch work 2>/dev/null || exit 91\n\
         ec2mfa --duration {PROMPT_SESSION} {CODE} 2>/dev/null || exit 92\n\
         PS1='$ '\n\
         __awsenv_prompt_hook\n\
         printf 'A=%s|%s|%s\\n' \"$AWSENV_EXPIRES\" \"$EPOCHSECONDS\" \"$PS1\"\n\
         export TERM=xterm\n\
         __awsenv_prompt_hook\n\
         printf 'B=%s\\n' \"$PS1\"\n\
         AWSENV_EXPIRES={yellow}; __awsenv_prompt_hook; printf 'Y=%s\\n' \"$PS1\"\n\
         AWSENV_EXPIRES={red}; __awsenv_prompt_hook; printf 'R=%s|%s\\n' \"$PS1\" \"$AWSENV_PROMPT\"\n\
         AWSENV_EXPIRES={past}; __awsenv_prompt_hook; printf 'X=%s|%s\\n' \"$PS1\" \"$AWSENV_PROMPT\"\n\
         export NO_COLOR=1; __awsenv_prompt_hook; printf 'N=%s\\n' \"$PS1\"; unset NO_COLOR\n\
         export TERM=dumb; AWSENV_EXPIRES={red}; __awsenv_prompt_hook; printf 'D=%s\\n' \"$PS1\"\n\
         i=0; while [ $i -lt 50 ]; do __awsenv_prompt_hook; i=$((i+1)); done\n\
         printf 'M=%s\\n' \"$PS1\"\n",
        init = init_line(shell)
    );
    let out = output(&mut w.sb.shell_command(shell, &body));
    assert_eq!(w.moto.sts_token_count(), 1, "{shell}: ec2mfa\n{}", show(&out));
    let expires = entry(&w.sb, "work").expires;
    let a = value(&out, "A");
    let parts: Vec<&str> = a.splitn(3, '|').collect();
    assert_eq!(parts[0], expires.to_string(), "{shell}\n{}", show(&out));
    let left = expires - parts[1].parse::<i64>().unwrap();
    let hours = format!("{:02}h", left / 3600);
    assert_eq!(hours, "03h", "{shell}: {left} s left");
    assert_eq!(parts[2], format!("(aws:work+{hours}) $ "), "{shell}\n{}", show(&out));
    assert_eq!(value(&out, "B"), format!("(aws:work+{hours}) $ "), "{shell}: hours are never coloured");

    assert_eq!(value(&out, "Y"), format!("(aws:work+{}) $ ", colored(shell, 33, "04m")), "{shell}: yellow");
    let r = value(&out, "R");
    let (ps1, plain) = r.split_once('|').unwrap();
    let secs: i64 = plain
        .strip_prefix("(aws:work+")
        .and_then(|s| s.strip_suffix("s) "))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{shell}: AWSENV_PROMPT {plain:?}"));
    assert!((20..=30).contains(&secs), "{shell}: {secs}s left");
    assert_eq!(ps1, format!("(aws:work+{}) $ ", colored(shell, 31, &format!("{secs:02}s"))), "{shell}: red");
    assert_eq!(
        value(&out, "X"),
        format!("(aws:work!{}) $ |(aws:work!exp) ", colored(shell, 31, "exp")),
        "{shell}: expired"
    );
    assert_eq!(value(&out, "N"), "(aws:work!exp) $ ", "{shell}: NO_COLOR");
    let dumb = value(&out, "D");
    assert!(!dumb.contains('\x1b') && !dumb.contains("\\e") && dumb.ends_with("s) $ "), "{shell}: {dumb:?}");
    let many = value(&out, "M");
    assert_eq!(many.matches("(aws:").count(), 1, "{shell}: segment duplicated: {many:?}");
    assert!(many.ends_with(") $ "), "{shell}: {many:?}");

    // init twice registers the hook once; the user's own PROMPT_COMMAND/precmd stays.
    let body = match shell {
        Shell::Bash => format!(
            "PROMPT_COMMAND='echo mine'\n{i}\n{i}\nprintf 'PC=%s\\n' \"$PROMPT_COMMAND\" | tr '\\n' ';'; echo",
            i = init_line(shell)
        ),
        _ => format!(
            "mine() {{ :; }}\nprecmd_functions=(mine)\n{i}\n{i}\necho \"PC=${{precmd_functions[*]}}\"",
            i = init_line(shell)
        ),
    };
    let out = output(&mut w.sb.shell_command(shell, &body));
    let pc = value(&out, "PC");
    assert_eq!(pc.matches("__awsenv_prompt_hook").count(), 1, "{shell}: {pc:?}\n{}", show(&out));
    assert!(pc.contains("mine"), "{shell}: {pc:?}");

    // --no-prompt: PS1 and the hooks untouched, the segment still available.
    let hooks = match shell {
        Shell::Bash => "${PROMPT_COMMAND-}",
        _ => "${precmd_functions[*]}",
    };
    let body = format!(
        "PS1='$ '\neval \"$(awsenv init {shell} --no-prompt)\" || exit 90\n\
         ec2switch work 2>/dev/null || exit 91\n\
         echo \"SEG=$(awsenv_prompt)\"\n\
         __awsenv_prompt_update\n\
         echo \"AP=$AWSENV_PROMPT\"\n\
         echo \"PS=$PS1\"\n\
         echo \"HOOKS={hooks}\"\n"
    );
    let out = output(&mut w.sb.shell_command(shell, &body));
    let segment = format!("(aws:work+{hours}) ");
    assert_eq!(value(&out, "SEG"), segment, "{shell}: awsenv_prompt\n{}", show(&out));
    assert_eq!(value(&out, "AP"), segment, "{shell}: AWSENV_PROMPT");
    assert_eq!(value(&out, "PS"), "$ ", "{shell}: --no-prompt changed PS1");
    // The hook function exists (it computes the segment) but is not registered.
    assert_eq!(value(&out, "HOOKS"), "", "{shell}: --no-prompt registered a hook");
}

#[test]
fn prompt_in_bash() {
    check_prompt(Shell::Bash);
}

#[test]
fn prompt_in_zsh() {
    check_prompt(Shell::Zsh);
}

/// The hook hands back the status of the user's last command (`false; hook; $?` is 1), with and
/// without awsenv credentials, so a prompt built after it still shows the right status.
#[test]
fn prompt_hook_preserves_the_status() {
    let w = World::with_accounts(&ACCOUNTS);
    mfa_session(&w.sb, "work", None);
    let mut failures = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh] {
        let body = format!(
            "{} || exit 90\nPS1='$ '\n\
             false; __awsenv_prompt_hook; echo none1=$?\n\
             (exit 42); __awsenv_prompt_hook; echo none42=$?\n\
             ec2switch work 2>/dev/null || exit 91\n\
             false; __awsenv_prompt_hook; echo set1=$?\n\
             (exit 42); __awsenv_prompt_hook; echo set42=$?\n\
             true; __awsenv_prompt_hook; echo set0=$?\n",
            init_line(shell)
        );
        let out = output(&mut w.sb.shell_command(shell, &body));
        for (name, want) in [("none1", "1"), ("none42", "42"), ("set1", "1"), ("set42", "42"), ("set0", "0")]
        {
            let got = value(&out, name);
            if got != want {
                failures.push(format!("{shell}: {name}: $? after the hook is {got}, not {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The bash and zsh hooks make the segment again only when something it shows can have changed: at every
/// second of a session's last two hours (the clock is a plain variable here), with a renewal mark
/// that goes, a clock set back, variables changed between prompts, PS1 changed by another hand and
/// a segment made by `__awsenv_prompt_update`, what the hook leaves is
/// what a hook with nothing remembered makes; and it is made about once per value shown, not once
/// per prompt.
fn check_kept_prompt_segment(shell: Shell) {
    let w = World::with_accounts(&ACCOUNTS);
    // The clock becomes a plain variable the script moves.
    let own_clock = match shell {
        Shell::Bash => "unset EPOCHSECONDS",
        _ => "zmodload -u zsh/datetime",
    };
    let body = format!(
        r#"{init} || exit 90
PS1='$ '
export TERM=xterm AWSENV_ACCOUNT=work AWSENV_KEY_ID=ASIAEXAMPLE AWS_ACCESS_KEY_ID=ASIAEXAMPLE AWSENV_SESSION=mfa
{own_clock}
EPOCHSECONDS=1800000000
eval "$(typeset -f __awsenv_prompt_segment | sed '1s/__awsenv_prompt_segment/__awsenv_counted_segment/')"
made=0
__awsenv_prompt_segment() {{ made=$((made + 1)); __awsenv_counted_segment; }}
checks=0
check() {{
    local kept fresh
    __awsenv_prompt_hook
    kept="$AWSENV_PROMPT|$__awsenv_prompt_ps1|$PS1"
    __awsenv_prompt_inputs='' __awsenv_prompt_left=''
    __awsenv_prompt_hook
    fresh="$AWSENV_PROMPT|$__awsenv_prompt_ps1|$PS1"
    checks=$((checks + 1))
    [[ $kept == "$fresh" ]] || echo "STALE at $1, clock $EPOCHSECONDS, expiry $AWSENV_EXPIRES: kept $kept, made $fresh"
}}
for left in 7300 400 130; do
    AWSENV_EXPIRES=$((EPOCHSECONDS + left)) AWSENV_RENEWABLE=$((EPOCHSECONDS + left / 3))
    for ((i = 0; i < left + 3; i++)); do
        check "$left s left, second $i"
        EPOCHSECONDS=$((EPOCHSECONDS + 1))
    done
done
AWSENV_EXPIRES=$((EPOCHSECONDS + 2000)); unset AWSENV_RENEWABLE
check 'a new expiry'; EPOCHSECONDS=$((EPOCHSECONDS - 900)); check 'the clock set back'
EPOCHSECONDS=$((EPOCHSECONDS + 5000)); check 'the clock set forward'
for change in 'AWSENV_ACCOUNT=other' 'AWSENV_SESSION=role AWSENV_ROLE=arn:aws:iam::1:role/admin' 'AWS_ACCESS_KEY_ID=AKIAOTHER' 'AWS_ACCESS_KEY_ID=ASIAEXAMPLE' 'AWSENV_EXPIRES=$((EPOCHSECONDS + 200))' 'NO_COLOR=1' 'unset NO_COLOR' 'AWSENV_COLOR=never' 'AWSENV_COLOR=' 'AWS_SESSION_COLOR=off' 'TERM=dumb' 'unset AWSENV_EXPIRES' 'unset AWSENV_KEY_ID' 'AWSENV_KEY_ID=ASIAEXAMPLE' 'PS1="new> "' 'PS1="rebuilt> "' 'AWSENV_ACCOUNT=third; __awsenv_prompt_update'; do
    __awsenv_prompt_hook
    eval "$change"
    check "$change"
done
echo "CHECKS=$checks"
made=0
AWSENV_KEY_ID=ASIAEXAMPLE AWS_ACCESS_KEY_ID=ASIAEXAMPLE TERM=xterm AWSENV_EXPIRES=$((EPOCHSECONDS + 7300))
for ((i = 0; i < 7303; i++)); do __awsenv_prompt_hook; EPOCHSECONDS=$((EPOCHSECONDS + 1)); done
echo "MADE=$made"
"#,
        init = init_line(shell)
    );
    let out = output(&mut w.sb.shell_command(shell, &body));
    let text = stdout(&out);
    let stale: Vec<&str> = text.lines().filter(|line| line.starts_with("STALE")).take(10).collect();
    assert!(stale.is_empty(), "{shell}: {stale:#?}\n{}", show(&out));
    assert_eq!(value(&out, "CHECKS"), (7303 + 403 + 133 + 3 + 17).to_string(), "{shell}\n{}", show(&out));
    // 2 hour values and 96 minute values down to 5 minutes; then every prompt (299 seconds and
    // 4 expired), as in the last 5 minutes the colour's variables, which the hook does not
    // compare, can change the segment.
    let made: usize = value(&out, "MADE").parse().unwrap();
    assert!((395..=405).contains(&made), "{shell}: the segment was made {made} times in 7303 prompts");
}

#[test]
fn bash_prompt_segment_kept_between_prompts_is_the_one_made_afresh() {
    check_kept_prompt_segment(Shell::Bash);
}

#[test]
fn zsh_prompt_segment_kept_between_prompts_is_the_one_made_afresh() {
    check_kept_prompt_segment(Shell::Zsh);
}

#[test]
fn prompt_in_fish() {
    let w = World::with_accounts(&ACCOUNTS);
    mfa_session(&w.sb, "work", Some(PROMPT_SESSION));
    let segment = "(aws:work+03h) ".to_owned();
    let init = init_line(Shell::Fish);
    let run = |body: &str| output(&mut w.sb.shell_command(Shell::Fish, body));

    let out = run(&format!("{init}\nfish_right_prompt; echo\nec2switch work 2>/dev/null\nfish_right_prompt"));
    assert_eq!(
        stdout(&out),
        format!("\n{segment}"),
        "fish: no segment without awsenv keys, then one\n{}",
        show(&out)
    );

    // The user's own right prompt is kept, shown after the segment, and sees the last status;
    // a second init does not wrap the wrapper.
    let out = run(&format!(
        "function fish_right_prompt; echo -n \"USER$status\"; end\n{init}\n{init}\n\
         ec2switch work 2>/dev/null\nfish_right_prompt; echo\nfalse; fish_right_prompt; echo"
    ));
    assert_eq!(stdout(&out), format!("{segment}USER0\n{segment}USER1\n"), "fish\n{}", show(&out));

    let out = run(&format!("{init}\n{init}\nec2switch work 2>/dev/null\nfish_right_prompt"));
    assert_eq!(stdout(&out), segment, "fish: init twice\n{}", show(&out));
}

/// 1000 prompt hooks in bash and zsh cost well under a second: no process is started (a fork
/// alone costs about a millisecond). The best of three rounds counts, to be fair to a busy machine.
#[test]
fn prompt_hook_starts_no_process() {
    let w = World::with_accounts(&ACCOUNTS);
    mfa_session(&w.sb, "work", Some(PROMPT_SESSION));
    for shell in [Shell::Bash, Shell::Zsh] {
        let body = format!(
            "{} || exit 90\nec2switch work 2>/dev/null || exit 91\nPS1='$ '\n\
             for round in 1 2 3; do\n\
             start=$EPOCHREALTIME\n\
             i=0; while ((i < 1000)); do __awsenv_prompt_hook; ((i++)); done\n\
             end=$EPOCHREALTIME\n\
             echo \"T=$start $end\"\n\
             done\n\
             echo \"PS=$PS1\"\n",
            init_line(shell)
        );
        let out = output(&mut w.sb.shell_command(shell, &body));
        let rounds: Vec<f64> = stdout(&out)
            .lines()
            .filter_map(|l| l.strip_prefix("T="))
            .map(|t| {
                let (start, end) = t.split_once(' ').unwrap();
                end.parse::<f64>().unwrap() - start.parse::<f64>().unwrap()
            })
            .collect();
        assert_eq!(rounds.len(), 3, "{shell}\n{}", show(&out));
        let best = rounds.iter().copied().fold(f64::INFINITY, f64::min);
        let per_call: Vec<String> = rounds.iter().map(|r| format!("{:.1}", r * 1000.0)).collect();
        eprintln!("{shell}: 1000 prompt hooks: µs per call in three rounds: {}", per_call.join(", "));
        assert_eq!(value(&out, "PS"), "(aws:work+03h) $ ", "{shell}\n{}", show(&out));
        assert!(best > 0.0 && best < 0.5, "{shell}: 1000 hooks took {best} s at best ({rounds:?})");
    }
}

// ---------------------------------------------------------------------------
// 4. exec
// ---------------------------------------------------------------------------

#[test]
fn exec_runs_the_command_in_place() {
    let w = World::with_accounts(&ACCOUNTS);
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    assert_eq!(w.moto.sts_token_count(), 1);
    let session = entry(sb, "work");
    let exec = |args: &[&str]| {
        let mut cmd = sb.awsenv();
        cmd.arg("exec").args(args);
        cmd
    };

    for code in [0, 1, 42] {
        let out = output(&mut exec(&["work", "--", "sh", "-c", &format!("exit {code}")]));
        assert_eq!(out.status.code(), Some(code), "{}", show(&out));
    }
    let out = output(&mut exec(&["work", "--", "sh", "-c", "kill -TERM $$"]));
    assert_eq!(out.status.signal(), Some(15), "{}", show(&out));

    // Same process: the command's pid is the one spawned.
    let mut child = exec(&["work", "--", "sh", "-c", "echo $$"]).stdout(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let mut text = String::new();
    child.stdout.take().unwrap().read_to_string(&mut text).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(text.trim(), pid.to_string(), "exec is not an execve");

    let show_env = r#"printf '%s\n' "${AWS_ACCESS_KEY_ID-}" "${AWS_SECRET_ACCESS_KEY-}" "${AWS_SESSION_TOKEN-UNSET}" "${AWSENV_SESSION-}" "${AWSENV_EXPIRES-UNSET}""#;
    let out = output(exec(&["work", "--", "sh", "-c", show_env]).env("AWS_SESSION_TOKEN", "stale"));
    assert_success(&out);
    let expires = session.expires.to_string();
    let want = [&session.key, &session.secret, &session.token, "mfa", expires.as_str()];
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), want);

    // --min-ttl: 1h is left in the 4h session; 5h is not, so a 6h session is made. Each run has
    // a code of its own, so that only the STS count tells whether a session was made.
    let out = output(exec(&["work", "--min-ttl", "1h", "--", "true"]).env("AWSENV_MFA_CODE", fresh_code()));
    assert_success(&out);
    assert_eq!(w.moto.sts_token_count(), 1, "--min-ttl 1h made an STS call");
    let out = output(
        exec(&["work", "--min-ttl", "5h", "--", "sh", "-c", "echo $AWSENV_EXPIRES"])
            .env("AWSENV_MFA_CODE", fresh_code())
            .env("AWSENV_DURATION", "21600"),
    );
    assert_success(&out);
    assert_eq!(w.moto.sts_token_count(), 2, "--min-ttl 5h did not renew a 4h session\n{}", show(&out));
    let renewed: i64 = stdout(&out).trim().parse().unwrap();
    assert!((21_000..=21_600).contains(&(renewed - now())), "renewed session ends at {renewed}");
    assert_eq!(entry(sb, "work").expires, renewed);

    // --keys: the long-term keys, and no session variable.
    let out = output(exec(&["work", "--keys", "--", "sh", "-c", show_env]).env("AWS_SESSION_TOKEN", "stale"));
    assert_success(&out);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], w.key);
    assert_eq!(&lines[2..], ["UNSET", "keys", "UNSET"], "{}", show(&out));

    let out = output(&mut exec(&["work", "--", "no-such-command-for-awsenv"]));
    assert_eq!(out.status.code(), Some(127), "{}", show(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(awsenv_lines(&err).len(), 1, "{err}");
    assert!(stdout(&out).is_empty());

    let out = output(&mut exec(&["--", "true"]));
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert_eq!(awsenv_lines(&stderr(&out)).len(), 1, "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 2);
}

// ---------------------------------------------------------------------------
// 5. assume
// ---------------------------------------------------------------------------

#[test]
fn assume_prints_role_credentials_with_one_code() {
    let w = World::with_accounts(&ACCOUNTS);
    let sb = &w.sb;
    let moto = &w.moto;
    let assume = |account: &str, role: &str, extra: &[&str]| {
        let mut cmd = sb.awsenv();
        cmd.args(["assume", "--account", account, "--role", role]).args(extra);
        cmd
    };
    let counts = || (moto.sts_token_count(), moto.assumed_role_count());

    // One code for three roles: one GetSessionToken, three AssumeRole. (The code is offered to all
    // three runs; only the first may send it, the others would be refused if they tried.)
    let mut documents = Vec::new();
    let code = fresh_code();
    for role in ["A", "B", "C"] {
        let out = output(assume("work", role, &[]).env("AWSENV_MFA_CODE", &code));
        assert_success(&out);
        documents.push(stdout(&out));
    }
    assert_eq!(counts(), (1, 3));

    // The JSON document: exactly four sorted keys, four-space indent, RFC 3339 UTC with Z.
    let doc: serde_json::Value = serde_json::from_str(&documents[0]).unwrap();
    let object = doc.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["access_key", "expiration", "secret_key", "session_token"]
    );
    let field = |name: &str| doc[name].as_str().unwrap().to_owned();
    let expected = format!(
        "{{\n    \"access_key\": \"{}\",\n    \"expiration\": \"{}\",\n    \"secret_key\": \"{}\",\n    \
         \"session_token\": \"{}\"\n}}\n",
        field("access_key"),
        field("expiration"),
        field("secret_key"),
        field("session_token")
    );
    assert_eq!(documents[0], expected);
    let expiration = field("expiration");
    let b = expiration.as_bytes();
    assert!(b.len() == 20 && b[10] == b'T' && b[19] == b'Z', "{expiration}");
    assert!((3500..=3600).contains(&(epoch(&expiration) - now())), "{expiration}");
    assert!(field("access_key").starts_with("ASIA") && !field("session_token").is_empty());

    // The same role again: the cached role session.
    let out = output(&mut assume("work", "A", &[]));
    assert_success(&out);
    assert_eq!(stdout(&out), documents[0]);
    assert_eq!(counts(), (1, 3), "a repeated assume called STS");

    // --duration reaches STS.
    let out = output(&mut assume("work", "D", &["--duration", "1800"]));
    assert_success(&out);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let left = epoch(doc["expiration"].as_str().unwrap()) - now();
    assert!((1700..=1800).contains(&left), "--duration 1800 gave {left} s");
    assert_eq!(counts(), (1, 4));

    // Only the first role needs a code: the next ones work with no terminal and no code. Every
    // account here signs with alice's device, so lab's session needs a code work's did not use.
    let out = output(detach(&mut assume("lab", "A", &[])).env("AWSENV_MFA_CODE", fresh_code()));
    assert_success(&out);
    for role in ["B", "C"] {
        let out = output(detach(&mut assume("lab", role, &[])));
        assert_success(&out);
    }
    assert_eq!(counts(), (2, 7));

    // Over an hour: the warning comes before the code is asked for, and the keys sign.
    let out = output(detach(&mut assume("ops", "Admin", &["--duration", "7200"])));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let lines = awsenv_lines(&stderr(&out)).into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(lines.len(), 2, "{}", show(&out));
    assert!(lines[0].contains("1 hour") && lines[0].contains("long-term keys"), "{}", show(&out));
    assert!(lines[1].contains("no terminal"), "{}", show(&out));
    assert_eq!(counts(), (2, 7));
    let out = output(assume("ops", "Admin", &["--duration", "7200"]).env("AWSENV_MFA_CODE", fresh_code()));
    assert_success(&out);
    assert!(stderr(&out).contains("1 hour"), "{}", show(&out));
    assert_eq!(counts(), (2, 8), "a chained call would have made a GetSessionToken first");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let left = epoch(doc["expiration"].as_str().unwrap()) - now();
    assert!((7100..=7200).contains(&left), "--duration 7200 gave {left} s");
    assert!(!cache_file(sb, "ops").exists(), "a long role made an MFA session");

    // --format bash.
    let out = output(&mut assume("work", "A", &["--format", "bash"]));
    assert_success(&out);
    let text = stdout(&out);
    for line in [
        "export AWSENV_ROLE='arn:aws:iam::123456789012:role/A'",
        "export AWSENV_SESSION='role'",
        "export MY_AWS_SET_FOR='work/A'",
        "export AWSENV_ACCOUNT='work'",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    assert_eq!(counts(), (2, 8));

    for bad in ["100", "abc", "50000", "3600s"] {
        let out = output(&mut assume("work", "A", &["--duration", bad]));
        assert_eq!(out.status.code(), Some(2), "--duration {bad}\n{}", show(&out));
        assert!(stdout(&out).is_empty());
    }

    // The session name is the IAM user.
    let data: serde_json::Value = serde_json::from_str(&moto.data()).unwrap();
    let roles = data["sts"]["AssumedRole"].as_array().unwrap();
    assert_eq!(roles.len(), 8);
    for role in roles {
        assert_eq!(role["session_name"], "alice", "{role}");
    }
}

// ---------------------------------------------------------------------------
// 6. ec2role
// ---------------------------------------------------------------------------

#[test]
fn ec2role_switches_every_shell() {
    let w = World::with_accounts(&ACCOUNTS);
    mfa_session(&w.sb, "work", None);
    for shell in Shell::ALL {
        let script = format!(
            "{} || exit 90\nec2role work Admin\n{}\n\
             echo \"SET=$MY_AWS_SET_FOR\"\necho \"SESSION=$AWSENV_SESSION\"\necho \"ROLE=$AWSENV_ROLE\"\nec2now",
            init_line(shell),
            echo_status(shell, "status")
        );
        let out = output(&mut w.sb.shell_command(shell, &script));
        assert_eq!(value(&out, "status"), "0", "{shell}\n{}", show(&out));
        assert_eq!(value(&out, "SET"), "work/Admin", "{shell}");
        assert_eq!(value(&out, "SESSION"), "role", "{shell}");
        assert_eq!(value(&out, "ROLE"), "arn:aws:iam::123456789012:role/Admin", "{shell}");
        let text = stdout(&out);
        assert!(text.contains("Keys set for work/Admin AWS account\n"), "{shell}\n{text}");
        assert!(text.contains("Region is us-east-1\n"), "{shell}\n{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("Session ends in 59m") || l.starts_with("Session ends in 1h 00m")),
            "{shell}\n{text}"
        );
        assert!(stderr(&out).contains("Set keys for work/Admin AWS account"), "{shell}\n{}", show(&out));
    }
    assert_eq!(
        (w.moto.sts_token_count(), w.moto.assumed_role_count()),
        (1, 1),
        "one role session shared by the three shells"
    );
}
