//! MFA codes: awsenv never sends the same code twice for one device within 90 s (the record is
//! made once AWS has answered, and only then), and codes come from `AWSENV_MFA_CODE`, else a code
//! command (the account's `NAME.mfa_command`, else `AWSENV_MFA_COMMAND`), else the terminal.
//! Through the real binary, bash and moto.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cache::{cache_file, last_code_file};
use common::clock::now;
use common::files::{path_str, write_executable};
use common::process::detach;
use common::script::sq;
use common::world::{ALICE_SERIAL, World};
use common::{
    DEAD_ENDPOINT, MOTO_ACCOUNT_ID, Moto, Sandbox, Shell, assert_success, fresh_code, init_line, show,
    stderr, stdout,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Where awsenv remembers the last code sent for alice's device.
fn last_code_path(sb: &Sandbox) -> PathBuf {
    last_code_file(sb, MOTO_ACCOUNT_ID, "alice")
}

fn remove_entry(sb: &Sandbox) {
    let path = cache_file(sb, "work");
    fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
}

/// The recorded code and its time, from `CODE EPOCH`.
fn last_code(sb: &Sandbox) -> Option<(String, i64)> {
    let text = fs::read_to_string(last_code_path(sb)).ok()?;
    let (code, at) = text.trim().split_once(' ').unwrap_or_else(|| panic!("last-code file holds {text:?}"));
    Some((code.to_owned(), at.parse().unwrap_or_else(|_| panic!("last-code file holds {text:?}"))))
}

/// Checks that `code` is the one recorded, at a time within `since..=now`.
#[track_caller]
fn assert_recorded(sb: &Sandbox, code: &str, since: i64) {
    let (recorded, at) = last_code(sb).unwrap_or_else(|| panic!("no last-code file after sending {code}"));
    assert_eq!(recorded, code, "the recorded code");
    assert!((since..=now()).contains(&at), "recorded at {at}, not between {since} and now");
}

/// `awsenv mfa --shell bash work` with `env` added, without a terminal.
fn mfa_cmd(sb: &Sandbox, env: &[(&str, &str)]) -> Command {
    let mut cmd = sb.awsenv();
    cmd.args(["mfa", "--shell", "bash", "work"]).envs(env.iter().copied());
    detach(&mut cmd);
    cmd
}

fn mfa(sb: &Sandbox, env: &[(&str, &str)]) -> Output {
    mfa_cmd(sb, env).output().expect("run awsenv mfa")
}

/// A session was made and printed.
#[track_caller]
fn assert_session(o: &Output) {
    assert_success(o);
    assert!(stdout(o).contains("export AWS_SESSION_TOKEN='"), "no session printed\n{}", show(o));
}

/// Exit 4, nothing on stdout, and the last stderr line is awsenv's error; returns that line.
#[track_caller]
fn assert_exit_4(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(4), "{}", show(o));
    assert!(o.stdout.is_empty(), "printed on stdout\n{}", show(o));
    let err = stderr(o);
    let last = err.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("awsenv: "), "the last line is not awsenv's error\n{}", show(o));
    last
}

/// The refusal of a repeated `code`: exit 4, one line, `... Ns ago and AWS accepts a code once;
/// wait for the next one` with N under 90.
#[track_caller]
fn assert_refused(o: &Output, code: &str) {
    let line = assert_exit_4(o);
    assert_eq!(stderr(o).lines().count(), 1, "more than the refusal on stderr\n{}", show(o));
    // The code itself is not repeated on stderr.
    assert!(!stderr(o).contains(code), "the refusal shows the code\n{}", show(o));
    let head = format!("awsenv: this MFA code was already sent for {ALICE_SERIAL} ");
    let tail = "s ago and AWS accepts a code once; wait for the next one";
    let ago = line
        .strip_prefix(&head)
        .and_then(|rest| rest.strip_suffix(tail))
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("not the refusal of {code}: {line:?}"));
    assert!((0..90).contains(&ago), "{ago}s ago: {line:?}");
}

/// Whether process `pid` exists, runs `sleep` and is not a zombie.
fn running(pid: libc::pid_t) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let state = stat[close + 1..].trim_start().chars().next();
    &stat[open + 1..close] == "sleep" && !matches!(state, Some('Z' | 'X'))
}

// ---------------------------------------------------------------------------
// 1. A code is never sent twice
// ---------------------------------------------------------------------------

/// `ec2mfa 111111` records the code; the same code for a new session is refused with exit 4 before
/// any network call (by the binary and by the shell function), and a different one works.
#[test]
fn repeated_code_is_refused_before_any_network_call() {
    let w = World::start();
    let sb = &w.sb;
    let since = now();
    let body = format!(
        "{} || exit 90\nec2switch work || exit 91\nec2mfa 111111 || exit 92\necho \"SESSION=$AWSENV_SESSION\"",
        init_line(Shell::Bash)
    );
    let out = sb.run_shell(Shell::Bash, &body);
    assert_success(&out);
    assert!(stdout(&out).contains("SESSION=mfa"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1);
    assert_recorded(sb, "111111", since);
    let mode = fs::metadata(last_code_path(sb)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the last-code file is readable by others");
    let recorded = last_code(sb);

    // The session is gone, so a new one is needed: the same code is refused.
    remove_entry(sb);
    let out = mfa(sb, &[("AWSENV_MFA_CODE", "111111")]);
    assert_refused(&out, "111111");
    assert_eq!(w.moto.sts_token_count(), 1, "the repeated code reached STS");
    assert!(!cache_file(sb, "work").exists(), "a session was cached");
    assert_eq!(last_code(sb), recorded, "the refusal changed the record");

    // Before any network call: with AWS unreachable it is still the refusal (exit 4), not exit 6.
    let out = mfa(sb, &[("AWSENV_MFA_CODE", "111111"), ("AWS_ENDPOINT_URL", DEAD_ENDPOINT)]);
    assert_refused(&out, "111111");

    // The shell function: status 4, the shell keeps the long-term keys.
    let body = format!(
        "{} || exit 90\nec2switch work || exit 91\nec2mfa 111111\necho \"RC=$?\"\necho \"SESSION=$AWSENV_SESSION\"",
        init_line(Shell::Bash)
    );
    let out = sb.run_shell(Shell::Bash, &body);
    assert!(stdout(&out).contains("RC=4\n") && stdout(&out).contains("SESSION=keys\n"), "{}", show(&out));
    assert!(stderr(&out).contains("wait for the next one"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1);

    // The next code works.
    let since = now();
    let out = mfa(sb, &[("AWSENV_MFA_CODE", "111112")]);
    assert_session(&out);
    assert_eq!(w.moto.sts_token_count(), 2);
    assert_recorded(sb, "111112", since);
}

/// A code that never reached AWS (connection refused) is not recorded and may be sent again.
#[test]
fn code_that_never_reached_aws_is_not_recorded() {
    let w = World::start();
    let sb = &w.sb;
    let out = mfa(sb, &[("AWSENV_MFA_CODE", "555555"), ("AWS_ENDPOINT_URL", DEAD_ENDPOINT)]);
    assert_eq!(out.status.code(), Some(6), "{}", show(&out));
    assert!(last_code(sb).is_none(), "a code that never reached AWS was recorded: {:?}", last_code(sb));

    let since = now();
    let out = mfa(sb, &[("AWSENV_MFA_CODE", "555555")]);
    assert_session(&out);
    assert_eq!(w.moto.sts_token_count(), 1);
    assert_recorded(sb, "555555", since);
}

/// A code AWS answered with a rejection is recorded too, for the device: the same code is then
/// refused before the network, for this account and for another account of the same device.
#[test]
fn code_rejected_by_aws_is_recorded_for_the_device() {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let sb = Sandbox::new(Some(&moto));
    let (key, secret) = moto.create_user("alice");
    sb.add_account("ghost", "AKIAUNKNOWNUNKNOWN00", "not-a-real-secret-key-at-all-000000000", Some("alice"));
    sb.add_account("work", &key, &secret, Some("alice"));
    sb.write_accounts_json(
        r#"{"ghost": "arn:aws:iam::123456789012:", "work": "arn:aws:iam::123456789012:"}"#,
    );
    let run = |account: &str, code: &str| {
        let mut cmd = sb.awsenv();
        cmd.args(["mfa", "--shell", "bash", account]).env("AWSENV_MFA_CODE", code);
        detach(&mut cmd).output().unwrap()
    };

    let since = now();
    let out = run("ghost", "121212");
    assert_eq!(out.status.code(), Some(5), "{}", show(&out));
    assert_recorded(&sb, "121212", since);
    let out = run("ghost", "121212");
    assert_refused(&out, "121212");
    let out = run("work", "121212");
    assert_refused(&out, "121212");
    assert_eq!(moto.sts_token_count(), 0);

    let out = run("work", "121213");
    assert_session(&out);
    assert_eq!(moto.sts_token_count(), 1);
}

// ---------------------------------------------------------------------------
// 2. Code commands
// ---------------------------------------------------------------------------

/// `AWSENV_MFA_COMMAND` gives the code; `AWSENV_MFA_CODE` wins over it, and the account's own
/// `NAME.mfa_command` wins over `AWSENV_MFA_COMMAND`.
#[test]
fn code_command_gives_the_code() {
    let w = World::start();
    let sb = &w.sb;
    let marker = |name: &str| sb.root().join(name);
    let command = |name: &str, code: &str| format!("touch {}; echo {code}", sq(path_str(&marker(name))));

    let since = now();
    let out = mfa(sb, &[("AWSENV_MFA_COMMAND", &command("env-command", "222222"))]);
    assert_session(&out);
    assert!(marker("env-command").exists(), "AWSENV_MFA_COMMAND did not run\n{}", show(&out));
    // A quick command goes unannounced: the notice is for one that waits (for a touch).
    assert!(!stderr(&out).contains("waiting for the MFA command"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1);
    assert_recorded(sb, "222222", since);

    // AWSENV_MFA_CODE first: the command is not run.
    remove_entry(sb);
    let code = fresh_code();
    let since = now();
    let out = mfa(sb, &[("AWSENV_MFA_CODE", &code), ("AWSENV_MFA_COMMAND", &command("not-run", "666666"))]);
    assert_session(&out);
    assert!(!marker("not-run").exists(), "the command ran although AWSENV_MFA_CODE was set");
    assert_eq!(w.moto.sts_token_count(), 2);
    assert_recorded(sb, &code, since);

    // The account's own command first.
    remove_entry(sb);
    let own = sb.store().join("work.mfa_command");
    fs::write(&own, format!("{}\n", command("own-command", "777777"))).unwrap();
    fs::set_permissions(&own, fs::Permissions::from_mode(0o600)).unwrap();
    let since = now();
    let out = mfa(sb, &[("AWSENV_MFA_COMMAND", &command("global-command", "888888"))]);
    assert_session(&out);
    assert!(marker("own-command").exists(), "work.mfa_command did not run\n{}", show(&out));
    assert!(!marker("global-command").exists(), "AWSENV_MFA_COMMAND ran instead of work.mfa_command");
    assert_eq!(w.moto.sts_token_count(), 3);
    assert_recorded(sb, "777777", since);
}

/// A command that prints something else, or fails: exit 4 before any network call, and the output
/// (which might be a secret) is not echoed.
#[test]
fn code_command_failures_exit_4() {
    let w = World::start();
    let sb = &w.sb;

    let out = mfa(sb, &[("AWSENV_MFA_COMMAND", "echo hello")]);
    let line = assert_exit_4(&out);
    assert!(line.contains("6-digit"), "{}", show(&out));
    assert!(!stderr(&out).contains("hello"), "the command's output was echoed\n{}", show(&out));

    let out = mfa(sb, &[("AWSENV_MFA_COMMAND", "exit 3")]);
    let line = assert_exit_4(&out);
    assert!(line.contains("MFA command failed") && line.contains('3'), "{}", show(&out));

    assert_eq!(w.moto.sts_token_count(), 0);
    assert!(!cache_file(sb, "work").exists());
    assert!(last_code(sb).is_none(), "a code was recorded: {:?}", last_code(sb));
}

/// With no code, no command and no terminal, `awsenv mfa` fails at once (exit 4) with a message
/// naming where a code could come from, the code command included (README: "awsenv fails at once
/// with exit code 4 and a message naming them").
#[test]
fn no_code_source_names_the_sources() {
    let w = World::start();
    let start = Instant::now();
    let out = mfa(&w.sb, &[]);
    let line = assert_exit_4(&out);
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    assert_eq!(w.moto.sts_token_count(), 0);
    assert!(line.contains("AWSENV_MFA_CODE"), "{}", show(&out));
    assert!(
        line.contains("AWSENV_MFA_COMMAND"),
        "the message does not name the code command\n{}",
        show(&out)
    );
}

/// A command that takes longer than `AWSENV_MFA_COMMAND_TIMEOUT` is given up: exit 4 within a
/// few seconds, with a message naming the timeout.
#[test]
fn slow_code_command_times_out() {
    let w = World::start();
    let sb = &w.sb;
    let (out_file, err_file) = (sb.root().join("slow.out"), sb.root().join("slow.err"));
    let start = Instant::now();
    // Files, not pipes: this test is about awsenv's own exit (see the next test for what it leaves).
    let status =
        mfa_cmd(sb, &[("AWSENV_MFA_COMMAND", "sleep 10; echo 123456"), ("AWSENV_MFA_COMMAND_TIMEOUT", "1")])
            .stdout(File::create(&out_file).unwrap())
            .stderr(File::create(&err_file).unwrap())
            .status()
            .unwrap();
    let elapsed = start.elapsed();
    let out = Output { status, stdout: fs::read(&out_file).unwrap(), stderr: fs::read(&err_file).unwrap() };
    let line = assert_exit_4(&out);
    assert!(elapsed < Duration::from_secs(3), "awsenv exited after {elapsed:?}\n{}", show(&out));
    assert!(line.contains("AWSENV_MFA_COMMAND_TIMEOUT") && line.contains("1s"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 0);
    assert!(last_code(sb).is_none());
}

/// A timed-out command is stopped with everything it started: nothing it started outlives awsenv
/// holding awsenv's stderr, so a caller that reads awsenv's output to the end (botocore's
/// credential_process, `2>&1 | ...`) is not kept waiting.
#[test]
fn timed_out_code_command_leaves_no_process_behind() {
    let w = World::start();
    let sb = &w.sb;
    let pid_file = sb.root().join("sleep.pid");
    let command = format!("sleep 10 & echo $! > {}; wait; echo 123456", sq(path_str(&pid_file)));
    let start = Instant::now();
    let mut child = mfa_cmd(sb, &[("AWSENV_MFA_COMMAND", &command), ("AWSENV_MFA_COMMAND_TIMEOUT", "1")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let exited = start.elapsed();
    let pid: libc::pid_t = fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("the command wrote no pid: {e}"))
        .trim()
        .parse()
        .unwrap();
    // A killed process may stay a zombie for a while (pid 1 of a container may be slow to reap
    // it): it no longer holds any file open, so it does not count. Half a second of grace.
    let deadline = Instant::now() + Duration::from_millis(500);
    let alive = loop {
        let alive = running(pid);
        if !alive || Instant::now() > deadline {
            break alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if alive {
        // The sleep this test's command started: stop it, so that the pipes close now.
        // SAFETY: a plain kill of one pid, which was just seen running `sleep`.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(exited < Duration::from_secs(3), "awsenv exited after {exited:?}: {err}");
    assert!(
        !alive,
        "after the MFA command timed out, a process it started (sleep, pid {pid}) was still running \
         and holding awsenv's stderr open; awsenv exited after {exited:?}\n{err}"
    );
}

/// A command that gives the code already sent is run again after the next 30-second step, and
/// its new code is used. (Takes up to 31 s.)
#[test]
fn code_command_repeating_the_sent_code_is_run_again_after_the_next_step() {
    let w = World::start();
    let sb = &w.sb;
    let root = sb.root();
    let (codes, count, times) = (root.join("codes"), root.join("count"), root.join("times"));
    // Prints line N of `codes` on its Nth run (the last line after that), and logs when it ran.
    let script = root.join("code-command");
    write_executable(
        &script,
        &format!(
            "#!/bin/sh\nn=$(cat {count} 2>/dev/null || echo 0)\nn=$((n + 1))\necho \"$n\" > {count}\n\
             date +%s >> {times}\nline=$(sed -n \"${{n}}p\" {codes})\n\
             [ -n \"$line\" ] || line=$(tail -n 1 {codes})\necho \"$line\"\n",
            count = sq(path_str(&count)),
            times = sq(path_str(&times)),
            codes = sq(path_str(&codes)),
        ),
    );
    let env = [("AWSENV_MFA_COMMAND", path_str(&script))];
    let runs = || -> Vec<i64> {
        fs::read_to_string(&times).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect()
    };

    fs::write(&codes, "333333\n").unwrap();
    let since = now();
    let out = mfa(sb, &env);
    assert_session(&out);
    assert_eq!(runs().len(), 1);
    assert_eq!(w.moto.sts_token_count(), 1);
    assert_recorded(sb, "333333", since);

    // A new session: the command first repeats 333333, then gives 444444.
    remove_entry(sb);
    fs::remove_file(&count).unwrap();
    fs::remove_file(&times).unwrap();
    fs::write(&codes, "333333\n444444\n").unwrap();
    let start = Instant::now();
    let out = mfa(sb, &env);
    let elapsed = start.elapsed();
    assert_session(&out);
    let ran = runs();
    assert_eq!(ran.len(), 2, "the command ran {} times\n{}", ran.len(), show(&out));
    assert!(ran[1] / 30 > ran[0] / 30, "the second run {ran:?} is not in a later 30-second step");
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
    assert!(stderr(&out).contains("waiting"), "no word of the wait\n{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 2);
    assert_recorded(sb, "444444", ran[0]);
}
