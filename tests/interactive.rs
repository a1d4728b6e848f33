//! awsenv used the way a person uses it: commands typed into bash, zsh and fish running in a real
//! terminal (tmux), the screen read back. Each shell starts from a plain prompt and is activated by
//! typing the init line:
//!
//! 1. the prompt segment appears when it should, in front of PS1 (bash, zsh) or in fish's right
//!    prompt, with its colours (yellow under 5 minutes, red under 1, red `!exp`) and none under
//!    `NO_COLOR`;
//! 2. the `aws` wrapper asks for a code on the terminal when the MFA session is inside the refresh
//!    window, then runs the real aws CLI against moto and returns its status; with a fresh session
//!    it asks nothing;
//! 3. `awsenv shell work` opens the user's `$SHELL` after the user's rc file, with the credentials
//!    and the functions, and `exit` goes back to a parent that has none; `--role Admin` gives a role
//!    session and its prompt segment.
//!
//! Every test has its own moto, sandbox and tmux server (`-L`, killed on drop). Needs tmux, bash,
//! zsh, fish, the aws CLI and moto: a missing tool fails the test, never skips it.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::ops::Deref;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::clock::now;
use common::tmux::{Pane, STEP_TIMEOUT, Tmux};
use common::world::{ALICE_QUESTION, World};
use common::{MOTO_ACCOUNT_ID, Sandbox, Shell, fresh_code, init_line};

/// SGR foreground colours as tmux writes them back with `capture-pane -e`.
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `line` without its SGR sequences.
fn strip_sgr(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The awsenv segment of a prompt line: from `(aws:` to the first `)` after it, included.
fn segment(line: &str) -> Option<&str> {
    let start = line.find("(aws:")?;
    let end = line[start..].find(')')? + start;
    Some(&line[start..=end])
}

/// A command that sets `AWSENV_EXPIRES` in the shell to now + `delta` seconds.
fn set_expires(shell: Shell, delta: i64) -> String {
    let (sign, n) = if delta < 0 { ('-', -delta) } else { ('+', delta) };
    match shell {
        Shell::Fish => format!("set -gx AWSENV_EXPIRES (math (date +%s) {sign} {n})"),
        _ => format!("AWSENV_EXPIRES=$((EPOCHSECONDS{sign}{n}))"),
    }
}

/// What the user's startup file of `shell` holds: `RC_READ`, and whether awsenv's functions were
/// already defined when it was read (`RC_ORDER=before` when they were not).
fn write_rc_files(home: &Path) {
    fs::write(
        home.join(".bashrc"),
        "export RC_READ=bash\n\
         if type ec2switch >/dev/null 2>&1; then export RC_ORDER=after; else export RC_ORDER=before; fi\n",
    )
    .expect("write .bashrc");
    fs::write(
        home.join(".zshrc"),
        "export RC_READ=zsh\n\
         if whence -w ec2switch >/dev/null 2>&1; then export RC_ORDER=after; else export RC_ORDER=before; fi\n",
    )
    .expect("write .zshrc");
    let fish = home.join(".config/fish");
    fs::create_dir_all(&fish).expect("create ~/.config/fish");
    fs::write(
        fish.join("config.fish"),
        "set -gx RC_READ fish\n\
         if functions -q ec2switch; set -gx RC_ORDER after; else; set -gx RC_ORDER before; end\n",
    )
    .expect("write config.fish");
}

/// [`World::start`] with TERM=xterm-256color and a `~/.config` for the user's fish config.
fn world_in_a_terminal() -> World {
    let mut w = World::start();
    w.sb.set_env("TERM", "xterm-256color");
    let config = w.sb.home().join(".config");
    fs::create_dir_all(&config).expect("create ~/.config");
    w.sb.set_env("XDG_CONFIG_HOME", config.to_str().expect("utf-8 path"));
    w
}

// ---------------------------------------------------------------------------
// A terminal: one shell in its own tmux server
// ---------------------------------------------------------------------------

/// A prompt line as text and with its colours.
#[derive(Clone, PartialEq, Debug)]
struct PromptLine {
    plain: String,
    coloured: String,
}

/// `shell` (without startup files) in a 200x50 pane of its own tmux server, with the sandbox's
/// environment and TERM=xterm-256color; and what these tests ask of it beyond [`Pane`].
struct Term(Pane);

impl Deref for Term {
    type Target = Pane;

    fn deref(&self) -> &Pane {
        &self.0
    }
}

impl Term {
    fn start(sb: &Sandbox, shell: Shell) -> Term {
        Term(Tmux::in_sandbox(sb).xterm().shell("t", shell))
    }

    /// Runs `command`, then an echo, and returns the prompt drawn after the echo once it has stopped
    /// changing: the whole line, with fish's right prompt.
    #[track_caller]
    fn prompt_after(&self, command: &str) -> PromptLine {
        let n = self.next_tag();
        let marker = format!("PROMPT-{n}");
        self.type_line(&format!("{command}; echo \"PRO\"\"MPT-{n}\""));
        let after = |screen: &str| -> Option<String> {
            let lines: Vec<&str> = screen.lines().collect();
            let i = lines.iter().position(|l| strip_sgr(l).trim_end() == marker)?;
            let line = lines.get(i + 1)?;
            (!strip_sgr(line).trim().is_empty()).then(|| line.trim_end().to_owned())
        };
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut last: Option<PromptLine> = None;
        loop {
            let (plain, coloured) = (self.screen(), self.coloured_screen());
            if let (Some(plain), Some(coloured)) = (after(&plain), after(&coloured)) {
                let line = PromptLine { plain, coloured };
                if last.as_ref() == Some(&line) {
                    return line;
                }
                last = Some(line);
            }
            assert!(
                Instant::now() < deadline,
                "[{}] timed out waiting for the prompt after {marker}; the pane shows:\n{plain}",
                self.shell()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `exit` in a subshell and waits for the parent's prompt.
    #[track_caller]
    fn exit_subshell(&self) {
        let n = self.next_tag();
        // A no-op marks the line, so that the wait finds this exit and not an earlier one.
        let needle = format!("EXIT-SUBSHELL-{n}");
        self.type_line(&format!("true {needle}; exit"));
        // bash says "exit" as it leaves; the parent's prompt is the next line that is not that.
        self.wait("the parent shell's prompt", |screen| {
            let lines: Vec<&str> = screen.lines().collect();
            lines.iter().rposition(|l| l.contains(&needle)).is_some_and(|i| {
                lines[i + 1..].iter().any(|l| {
                    let l = l.trim();
                    !l.is_empty() && l != "exit"
                })
            })
        });
    }
}

/// Activates awsenv by typing the init line at the plain prompt.
#[track_caller]
fn activate(term: &Term) {
    term.ok(init_line(term.shell()));
}

// ---------------------------------------------------------------------------
// 1. The prompt segment and its colours
// ---------------------------------------------------------------------------

/// Where the segment must be: in front of PS1 in bash and zsh, at the end of the line (fish's
/// right prompt) in fish.
#[track_caller]
fn assert_placed(shell: Shell, line: &PromptLine, expected: &str) {
    let plain = &line.plain;
    match shell {
        Shell::Fish => assert!(
            plain.trim_end().ends_with(expected.trim_end()) && !plain.starts_with("(aws:"),
            "[{shell}] expected {expected:?} as the right prompt, the line is {plain:?}"
        ),
        _ => {
            assert!(plain.starts_with(expected), "[{shell}] expected {expected:?} in front of PS1: {plain:?}")
        }
    }
}

/// The segment of `line`: as text, and with its escape sequences.
#[track_caller]
fn coloured_segment(shell: Shell, line: &PromptLine) -> (String, String) {
    let plain = segment(&line.plain).unwrap_or_else(|| panic!("[{shell}] no segment in {:?}", line.plain));
    let coloured =
        segment(&line.coloured).unwrap_or_else(|| panic!("[{shell}] no segment in {:?}", line.coloured));
    (plain.to_owned(), coloured.to_owned())
}

fn prompt_segment(shell: Shell) {
    let w = world_in_a_terminal();
    let term = Term::start(&w.sb, shell);

    // A plain prompt, before and after activation: no segment while nothing is switched.
    let line = term.prompt_after("true");
    assert!(!line.plain.contains("(aws:"), "[{shell}] a segment before init: {line:?}");
    activate(&term);
    let line = term.prompt_after("true");
    assert!(!line.plain.contains("(aws:"), "[{shell}] a segment before any switch: {line:?}");

    // Long-term keys, then an MFA session of the default 4 hours.
    let line = term.prompt_after("ec2switch work");
    assert_placed(shell, &line, "(aws:work) ");
    let line = term.prompt_after(&format!("ec2mfa {}", fresh_code()));
    let (plain, _) = coloured_segment(shell, &line);
    assert!(plain == "(aws:work+04h)" || plain == "(aws:work+03h)", "[{shell}] after ec2mfa: {line:?}");
    assert_placed(shell, &line, &format!("{plain} "));
    assert!(!segment(&line.coloured).unwrap().contains('\x1b'), "[{shell}] colour with hours left: {line:?}");
    assert_eq!(w.moto.sts_token_count(), 1, "[{shell}] GetSessionToken calls");

    // 250 s left: yellow minutes.
    let line = term.prompt_after(&set_expires(shell, 250));
    let (plain, coloured) = coloured_segment(shell, &line);
    assert_eq!(plain, "(aws:work+04m)", "[{shell}] 250 s left: {line:?}");
    assert_placed(shell, &line, "(aws:work+04m) ");
    assert!(
        coloured.starts_with(&format!("(aws:work+{YELLOW}04m")),
        "[{shell}] 250 s left: expected yellow (SGR 33) right before 04m, got {coloured:?}"
    );

    // 30 s left: red seconds (fish's clock may be a second ahead or behind).
    let line = term.prompt_after(&set_expires(shell, 30));
    let (plain, coloured) = coloured_segment(shell, &line);
    let seconds: i64 = plain
        .strip_prefix("(aws:work+")
        .and_then(|s| s.strip_suffix("s)"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("[{shell}] 30 s left: expected (aws:work+NNs), got {line:?}"));
    assert!((20..=31).contains(&seconds), "[{shell}] 30 s left shows {seconds}s: {line:?}");
    assert!(
        coloured.starts_with(&format!("(aws:work+{RED}{seconds:02}s")),
        "[{shell}] 30 s left: expected red (SGR 31) right before the seconds, got {coloured:?}"
    );

    // Expired 5 s ago: red "exp".
    let line = term.prompt_after(&set_expires(shell, -5));
    let (plain, coloured) = coloured_segment(shell, &line);
    assert_eq!(plain, "(aws:work!exp)", "[{shell}] expired: {line:?}");
    assert_placed(shell, &line, "(aws:work!exp) ");
    assert!(
        coloured.starts_with(&format!("(aws:work!{RED}exp")),
        "[{shell}] expired: expected red (SGR 31) right before exp, got {coloured:?}"
    );

    // NO_COLOR: the same segments with no escape sequence in them.
    let export = match shell {
        Shell::Fish => "set -gx NO_COLOR 1",
        _ => "export NO_COLOR=1",
    };
    let line = term.prompt_after(export);
    let (plain, coloured) = coloured_segment(shell, &line);
    assert_eq!(plain, "(aws:work!exp)", "[{shell}] expired, NO_COLOR: {line:?}");
    assert!(!coloured.contains('\x1b'), "[{shell}] colour in spite of NO_COLOR: {coloured:?}");
    for (delta, expected) in [(250, "(aws:work+04m)"), (30, "(aws:work+")] {
        let line = term.prompt_after(&set_expires(shell, delta));
        let (plain, coloured) = coloured_segment(shell, &line);
        assert!(plain.starts_with(expected), "[{shell}] {delta} s left, NO_COLOR: {line:?}");
        assert!(!coloured.contains('\x1b'), "[{shell}] colour in spite of NO_COLOR: {coloured:?}");
    }
}

#[test]
fn prompt_segment_in_bash() {
    prompt_segment(Shell::Bash);
}

#[test]
fn prompt_segment_in_zsh() {
    prompt_segment(Shell::Zsh);
}

#[test]
fn prompt_segment_in_fish() {
    prompt_segment(Shell::Fish);
}

// ---------------------------------------------------------------------------
// 2. The aws wrapper asks for a code inside the refresh window
// ---------------------------------------------------------------------------

/// `AWSENV_EXPIRES` in the shell.
#[track_caller]
fn expires(term: &Term) -> i64 {
    let value = term.vars("$AWSENV_EXPIRES");
    value.parse().unwrap_or_else(|_| panic!("[{}] AWSENV_EXPIRES is {value:?}", term.shell()))
}

#[track_caller]
fn assert_arn(shell: Shell, output: &str, screen: &str) {
    assert!(
        output.lines().any(|l| l.starts_with("arn:aws:") && l.contains(&format!(":{MOTO_ACCOUNT_ID}:"))),
        "[{shell}] aws printed no ARN of moto's account; its output:\n{output}\n--- pane ---\n{screen}"
    );
}

fn wrapper_asks_inside_the_window(shell: Shell) {
    let w = world_in_a_terminal();
    w.sb.require_tool("aws", "--version");
    let term = Term::start(&w.sb, shell);
    activate(&term);
    term.ok("ec2switch work");
    let output = term.ok(&format!("ec2mfa --duration 900 {}", fresh_code()));
    assert!(output.contains("Set keys for work-MFA-STS AWS account"), "[{shell}] ec2mfa said:\n{output}");
    assert_eq!(w.moto.sts_token_count(), 1, "[{shell}] GetSessionToken calls after ec2mfa");
    let before = expires(&term);
    let left = before - now();
    assert!((800..=900).contains(&left), "[{shell}] a 900-s session has {left} s left");

    // Inside a 1000-s window: the wrapper asks for a code, renews, then runs aws.
    let get_arn = "aws sts get-caller-identity --query Arn --output text";
    let command = match shell {
        Shell::Fish => format!("begin; set -lx AWSENV_REFRESH_WINDOW 1000; {get_arn}; end"),
        _ => format!("AWSENV_REFRESH_WINDOW=1000 {get_arn}"),
    };
    let n = term.start_command(&command);
    term.wait("the wrapper's question", |s| s.contains(ALICE_QUESTION));
    term.type_line(&fresh_code());
    let (code, output, screen) = term.finish(n);
    assert_eq!(code, 0, "[{shell}] aws through the wrapper failed; the pane shows:\n{screen}");
    assert_arn(shell, &output, &screen);
    assert_eq!(
        screen.matches(ALICE_QUESTION).count(),
        1,
        "[{shell}] the question was asked again:\n{screen}"
    );
    assert_eq!(w.moto.sts_token_count(), 2, "[{shell}] GetSessionToken calls after the renewal\n{screen}");
    let after = expires(&term);
    assert!(
        after > before,
        "[{shell}] AWSENV_EXPIRES went from {before} to {after}: not renewed in the shell"
    );

    // Fresh session, default window: no question, no STS call.
    let (code, output, screen) = term.run(get_arn);
    assert_eq!(code, 0, "[{shell}] aws on a fresh session failed; the pane shows:\n{screen}");
    assert_arn(shell, &output, &screen);
    assert_eq!(
        screen.matches(ALICE_QUESTION).count(),
        1,
        "[{shell}] a question on a fresh session:\n{screen}"
    );
    assert_eq!(w.moto.sts_token_count(), 2, "[{shell}] an STS call on a fresh session\n{screen}");
    assert_eq!(expires(&term), after, "[{shell}] a fresh session was replaced");

    // aws's own status comes back through the wrapper.
    let (wrapped, _, screen) = term.run("aws sts no-such-command");
    let (direct, _, _) = term.run("command aws sts no-such-command");
    assert_ne!(direct, 0, "[{shell}] `command aws sts no-such-command` succeeded:\n{screen}");
    assert_eq!(wrapped, direct, "[{shell}] the wrapper changed aws's status:\n{}", term.screen());
}

#[test]
fn aws_wrapper_asks_inside_the_window_in_bash() {
    wrapper_asks_inside_the_window(Shell::Bash);
}

#[test]
fn aws_wrapper_asks_inside_the_window_in_zsh() {
    wrapper_asks_inside_the_window(Shell::Zsh);
}

#[test]
fn aws_wrapper_asks_inside_the_window_in_fish() {
    wrapper_asks_inside_the_window(Shell::Fish);
}

// ---------------------------------------------------------------------------
// 3. awsenv shell
// ---------------------------------------------------------------------------

fn shell_path(shell: Shell) -> &'static str {
    let path = match shell {
        Shell::Bash => "/bin/bash",
        Shell::Zsh => "/usr/bin/zsh",
        Shell::Fish => "/usr/bin/fish",
    };
    assert!(Path::new(path).is_file(), "{path} does not exist: install {shell} — these tests never skip");
    path
}

/// Waits for the subshell's first prompt: a line containing `segment` after `announcement`.
#[track_caller]
fn wait_subshell(term: &Term, announcement: &str, segment: &str) {
    term.wait(&format!("the subshell's prompt with {segment}"), |screen| {
        let lines: Vec<&str> = screen.lines().collect();
        lines
            .iter()
            .rposition(|l| l.contains(announcement))
            .is_some_and(|i| lines[i + 1..].iter().any(|l| l.contains(segment)))
    });
}

#[track_caller]
fn assert_functions_defined(term: &Term) {
    let shell = term.shell();
    match shell {
        Shell::Fish => {
            let output = term.ok("functions -q ec2switch; and echo yes");
            assert!(
                output.lines().any(|l| l.trim() == "yes"),
                "[{shell}] ec2switch is not defined:\n{output}"
            );
        }
        _ => {
            let output = term.ok("type ec2switch");
            let first = output.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("ec2switch is a ") && first.contains("function"),
                "[{shell}] ec2switch is not a function:\n{output}"
            );
        }
    }
}

fn awsenv_shell(shell: Shell) {
    let mut w = world_in_a_terminal();
    write_rc_files(w.sb.home());
    w.sb.set_env("SHELL", shell_path(shell));
    let term = Term::start(&w.sb, shell);
    activate(&term);

    // The account's long-term keys (no session is cached).
    term.type_line("awsenv shell work");
    wait_subshell(&term, "Set keys for work AWS account", "(aws:work)");
    let vars = term.vars("[$AWSENV_ACCOUNT][$AWSENV_SESSION][$AWS_ACCESS_KEY_ID][$RC_READ][$RC_ORDER]");
    let expected = format!("[work][keys][{}][{shell}][before]", w.key);
    assert_eq!(vars, expected, "[{shell}] in `awsenv shell work`:\n{}", term.screen());
    assert_functions_defined(&term);
    let line = term.prompt_after("true");
    assert_placed(shell, &line, "(aws:work) ");
    term.exit_subshell();
    let vars = term.vars("[$AWSENV_ACCOUNT][$AWS_ACCESS_KEY_ID]");
    assert_eq!(vars, "[][]", "[{shell}] the parent shell after exit:\n{}", term.screen());
    let line = term.prompt_after("true");
    assert!(!line.plain.contains("(aws:"), "[{shell}] a segment in the parent after exit: {line:?}");

    // A role: the MFA session it needs asks for a code on the terminal first.
    term.type_line("awsenv shell work --role Admin");
    term.wait("the MFA question", |s| s.contains(ALICE_QUESTION));
    term.type_line(&fresh_code());
    wait_subshell(&term, "Set keys for work/Admin AWS account", "(aws:work/Admin+");
    let vars = term.vars("[$AWSENV_ACCOUNT][$AWSENV_SESSION][$AWSENV_ROLE][$RC_READ][$RC_ORDER]");
    let expected = format!("[work][role][arn:aws:iam::{MOTO_ACCOUNT_ID}:role/Admin][{shell}][before]");
    assert_eq!(vars, expected, "[{shell}] in `awsenv shell work --role Admin`:\n{}", term.screen());
    assert_functions_defined(&term);
    let line = term.prompt_after("true");
    let (plain, _) = coloured_segment(shell, &line);
    assert!(plain.starts_with("(aws:work/Admin+"), "[{shell}] the role's prompt: {line:?}");
    assert_placed(shell, &line, &format!("{plain} "));
    assert_eq!(w.moto.sts_token_count(), 1, "[{shell}] GetSessionToken calls");
    assert_eq!(w.moto.assumed_role_count(), 1, "[{shell}] AssumeRole calls");
    term.exit_subshell();
    let vars = term.vars("[$AWSENV_ACCOUNT][$AWSENV_SESSION][$AWS_ACCESS_KEY_ID]");
    assert_eq!(vars, "[][][]", "[{shell}] the parent shell after exit:\n{}", term.screen());
    let line = term.prompt_after("true");
    assert!(!line.plain.contains("(aws:"), "[{shell}] a segment in the parent after exit: {line:?}");
}

#[test]
fn awsenv_shell_opens_bash() {
    awsenv_shell(Shell::Bash);
}

#[test]
fn awsenv_shell_opens_zsh() {
    awsenv_shell(Shell::Zsh);
}

#[test]
fn awsenv_shell_opens_fish() {
    awsenv_shell(Shell::Fish);
}
