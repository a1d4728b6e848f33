//! `awsenv init` and `awsenv completions` in the real shells: the init option matrix under strict
//! shell settings, linters on the generated code, drift of the committed completion files, and Tab
//! completion typed into interactive bash, zsh and fish running in tmux.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use common::script::sq;
use common::tmux::{Pane, Tmux, poll};
use common::{Sandbox, Shell, repo, require_tool, show, stderr, stdout};

/// Every combination of the init options, zoxide style.
const OPTION_COMBOS: [&[&str]; 4] =
    [&[], &["--no-prompt"], &["--no-wrapper"], &["--no-prompt", "--no-wrapper"]];

/// The functions every init defines, whatever its options.
const FUNCTIONS: [&str; 5] = ["ec2switch", "ec2mfa", "ec2now", "ec2role", "awsenv_prompt"];

/// Printed between the init lines and the probes, so that the probes' output can be told apart
/// from anything init printed.
const PROBES_MARKER: &str = "<<awsenv-probes>>";

/// The committed completion file for each shell, under completions/.
const COMPLETION_FILES: [(Shell, &str); 3] =
    [(Shell::Bash, "awsenv.bash"), (Shell::Zsh, "_awsenv"), (Shell::Fish, "awsenv.fish")];

/// How to bring completions/ up to date with the binary, run from the repository root.
const REGENERATE: &str = "for s in bash zsh fish; do \
     case $s in zsh) f=completions/_awsenv ;; *) f=completions/awsenv.$s ;; esac; \
     cargo run -q -- completions \"$s\" > \"$f\"; done";
const REGENERATE_EACH: &str = "cargo run -q -- completions bash > completions/awsenv.bash\n    \
     cargo run -q -- completions zsh > completions/_awsenv\n    \
     cargo run -q -- completions fish > completions/awsenv.fish";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Runs `cmd` with `input` on its stdin.
fn feed(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("wait for {cmd:?}: {e}"));
    writer.join().expect("stdin writer");
    out
}

/// `script` in a non-interactive `shell` with strict settings and no rc files: bash
/// `-e -u -o pipefail`, zsh `-f -e -u`, fish `--no-config`.
fn run_strict(sb: &Sandbox, shell: Shell, script: &str) -> Output {
    shell.require();
    let mut cmd = sb.command(shell.name());
    match shell {
        Shell::Bash => cmd.args(["--noprofile", "--norc", "-e", "-u", "-o", "pipefail", "-c", script]),
        Shell::Zsh => cmd.args(["-f", "-e", "-u", "-c", script]),
        Shell::Fish => return sb.run_shell(Shell::Fish, script),
    };
    cmd.output().unwrap_or_else(|e| panic!("cannot run {shell}: {e}"))
}

/// The line that activates awsenv in `shell` with init options `opts`.
fn init_line_with(shell: Shell, opts: &[&str]) -> String {
    let opts: String = opts.iter().map(|o| format!(" {o}")).collect();
    match shell {
        Shell::Fish => format!("awsenv init fish{opts} | source"),
        Shell::Bash | Shell::Zsh => format!("eval \"$(awsenv init {shell}{opts})\""),
    }
}

/// Runs `prelude`, the init line twice and then `probes` in a strict `shell`. Asserts that it
/// exits 0 and that nothing but the probes printed anything (on stdout or stderr); returns what
/// the probes printed.
#[track_caller]
fn init_twice_then_probe(sb: &Sandbox, shell: Shell, prelude: &str, opts: &[&str], probes: &str) -> String {
    let init = init_line_with(shell, opts);
    let script = format!("{prelude}\n{init}\n{init}\nprintf '%s\\n' '{PROBES_MARKER}'\n{probes}\n");
    let out = run_strict(sb, shell, &script);
    let context = || format!("{shell} with `{init}` twice\n--- script ---\n{script}\n{}", show(&out));
    assert!(out.status.success(), "the shell failed: {}", context());
    let text = stdout(&out);
    let Some(report) = text.strip_prefix(&format!("{PROBES_MARKER}\n")) else {
        panic!("init printed on stdout (expected nothing before the marker): {}", context());
    };
    assert!(stderr(&out).is_empty(), "init or a probe printed on stderr (expected nothing): {}", context());
    report.to_owned()
}

/// What the function probes print: `NAME: function` for each function init must define, and
/// `aws: function` only with the wrapper.
fn expected_functions(opts: &[&str]) -> String {
    let mut text: String = FUNCTIONS.iter().map(|f| format!("{f}: function\n")).collect();
    text += if opts.contains(&"--no-wrapper") { "aws: -\n" } else { "aws: function\n" };
    text
}

// ---------------------------------------------------------------------------
// 1. The init option matrix
// ---------------------------------------------------------------------------

const BASH_PROBES: &str = r#"
for f in ec2switch ec2mfa ec2now ec2role awsenv_prompt aws; do
    if [[ $(type -t "$f" || true) == function ]]; then
        printf '%s: function\n' "$f"
    else
        printf '%s: -\n' "$f"
    fi
done
hook=__awsenv_prompt_hook
pc=${PROMPT_COMMAND-}
rest=${pc//"$hook"/}
printf 'prompt hooks: %s\n' "$(((${#pc} - ${#rest}) / ${#hook}))"
if [[ $pc == user_hook* ]]; then echo 'user hook: kept'; else echo 'user hook: -'; fi
PS1='$ '
eval "${PROMPT_COMMAND:-:}"
printf 'PS1 after the hook: [%s]\n' "$PS1"
printf 'awsenv_prompt: [%s]\n' "$(awsenv_prompt)"
"#;

/// bash: functions, the aws wrapper and PROMPT_COMMAND after two inits, for every option combo,
/// with and without a PROMPT_COMMAND of the user's.
#[test]
fn init_matrix_bash() {
    let sb = Sandbox::new(None);
    for opts in OPTION_COMBOS {
        for (prelude, user_hook) in [("", false), ("user_hook() { :; }; PROMPT_COMMAND=user_hook", true)] {
            let report = init_twice_then_probe(&sb, Shell::Bash, prelude, opts, BASH_PROBES);
            let hooks = if opts.contains(&"--no-prompt") { 0 } else { 1 };
            let expected = format!(
                "{}prompt hooks: {hooks}\nuser hook: {}\nPS1 after the hook: [$ ]\nawsenv_prompt: []\n",
                expected_functions(opts),
                if user_hook { "kept" } else { "-" },
            );
            assert_eq!(report, expected, "bash, init {opts:?}, prelude {prelude:?}");
        }
    }
}

const ZSH_PROBES: &str = r#"
for f in ec2switch ec2mfa ec2now ec2role awsenv_prompt aws; do
    if [[ $(whence -w "$f" || true) == "$f: function" ]]; then
        print -r -- "$f: function"
    else
        print -r -- "$f: -"
    fi
done
n=0
if (( ${+precmd_functions} )); then
    for h in "${precmd_functions[@]}"; do
        if [[ $h == __awsenv_prompt_hook ]]; then n=$((n + 1)); fi
    done
fi
print -r -- "prompt hooks: $n"
PS1='$ '
if (( ${+precmd_functions} )); then
    for h in "${precmd_functions[@]}"; do "$h"; done
fi
print -r -- "PS1 after the hook: [$PS1]"
print -r -- "awsenv_prompt: [$(awsenv_prompt)]"
if (( ${+_comps} )); then
    for f in ec2switch ec2role awsenv; do
        if [[ -n ${_comps[$f]-} ]]; then print -r -- "completion for $f: set"; else print -r -- "completion for $f: -"; fi
    done
fi
"#;

/// zsh: the same, plain, with options that change how arrays and words work set before init, and
/// after compinit (when the completion functions must be registered).
#[test]
fn init_matrix_zsh() {
    let sb = Sandbox::new(None);
    let variants = [
        ("plain", ""),
        ("ksh_arrays sh_word_split", "setopt ksh_arrays sh_word_split"),
        ("compinit", "autoload -Uz compinit && compinit -u"),
        ("compinit, ksh_arrays", "autoload -Uz compinit && compinit -u\nsetopt ksh_arrays sh_word_split"),
    ];
    for opts in OPTION_COMBOS {
        for (name, prelude) in variants {
            let report = init_twice_then_probe(&sb, Shell::Zsh, prelude, opts, ZSH_PROBES);
            let hooks = if opts.contains(&"--no-prompt") { 0 } else { 1 };
            let mut expected = format!(
                "{}prompt hooks: {hooks}\nPS1 after the hook: [$ ]\nawsenv_prompt: []\n",
                expected_functions(opts)
            );
            if prelude.contains("compinit") {
                expected += "completion for ec2switch: set\ncompletion for ec2role: set\ncompletion for awsenv: set\n";
            }
            assert_eq!(report, expected, "zsh ({name}), init {opts:?}");
        }
    }
}

const FISH_PROBES: &str = r#"
for f in ec2switch ec2mfa ec2now ec2role awsenv_prompt aws
    if functions -q $f
        echo "$f: function"
    else
        echo "$f: -"
    end
end
if functions -q fish_right_prompt
    printf 'right prompt: [%s]\n' (fish_right_prompt | string collect)
else
    echo 'right prompt: -'
end
printf 'awsenv_prompt: [%s]\n' (awsenv_prompt | string collect)
"#;

/// fish: the functions, and fish_right_prompt (the prompt hook) only without --no-prompt, printing
/// nothing without credentials; a right prompt the user had is kept, once, after two inits.
#[test]
fn init_matrix_fish() {
    let sb = Sandbox::new(None);
    let user_prompt = "function fish_right_prompt\n    printf USER\nend";
    for opts in OPTION_COMBOS {
        for (prelude, user) in [("", false), (user_prompt, true)] {
            let report = init_twice_then_probe(&sb, Shell::Fish, prelude, opts, FISH_PROBES);
            let right = match (opts.contains(&"--no-prompt"), user) {
                (true, false) => "-",
                (false, false) => "[]",
                (_, true) => "[USER]",
            };
            let expected = format!("{}right prompt: {right}\nawsenv_prompt: []\n", expected_functions(opts));
            assert_eq!(report, expected, "fish, init {opts:?}, user's right prompt: {user}");
        }
    }
}

// ---------------------------------------------------------------------------
// 2. Linters on the generated init code
// ---------------------------------------------------------------------------

fn init_output(sb: &Sandbox, shell: Shell, opts: &[&str]) -> Vec<u8> {
    let out = sb.awsenv().args(["init", shell.name()]).args(opts).output().expect("run awsenv init");
    assert!(out.status.success() && out.stderr.is_empty(), "awsenv init {shell} {opts:?}: {}", show(&out));
    out.stdout
}

#[track_caller]
fn assert_clean(cmd: Command, input: &[u8], what: &str) {
    let out = feed(cmd, input);
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{what} is not clean: {}",
        show(&out)
    );
}

#[test]
fn generated_init_code_passes_the_linters() {
    require_tool("shellcheck", "--version");
    require_tool("fish_indent", "--version");
    for shell in Shell::ALL {
        shell.require();
    }
    let sb = Sandbox::new(None);
    for opts in OPTION_COMBOS {
        let bash = init_output(&sb, Shell::Bash, opts);
        let mut shellcheck = sb.command("shellcheck");
        shellcheck.args(["-s", "bash", "-"]);
        assert_clean(shellcheck, &bash, &format!("`awsenv init bash {opts:?}` under shellcheck -s bash"));
        let mut bash_n = sb.command("bash");
        bash_n.args(["--noprofile", "--norc", "-n"]);
        assert_clean(bash_n, &bash, &format!("`awsenv init bash {opts:?}` under bash -n"));

        let mut zsh_n = sb.command("zsh");
        zsh_n.args(["-f", "-n"]);
        assert_clean(
            zsh_n,
            &init_output(&sb, Shell::Zsh, opts),
            &format!("`awsenv init zsh {opts:?}` under zsh -n"),
        );

        let mut fish_n = sb.command("fish");
        fish_n.args(["--no-config", "--no-execute"]);
        let fish = init_output(&sb, Shell::Fish, opts);
        assert_clean(fish_n, &fish, &format!("`awsenv init fish {opts:?}` under fish --no-execute"));
    }

    let mut sources: Vec<PathBuf> = fs::read_dir(repo().join("shell"))
        .expect("read shell/")
        .map(|entry| entry.expect("read shell/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "fish"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 2, "expected shell/*.fish sources, found {sources:?}");
    let out = sb.command("fish_indent").arg("--check").args(&sources).output().expect("run fish_indent");
    assert!(
        out.status.success(),
        "fish_indent --check: these files are not formatted (fix with `fish_indent -w shell/*.fish`): {}",
        show(&out)
    );
}

// ---------------------------------------------------------------------------
// 3. The committed completion files
// ---------------------------------------------------------------------------

/// Where `committed` and `generated` first differ: the line number and both versions of the line.
fn first_difference(committed: &[u8], generated: &[u8]) -> String {
    let committed = String::from_utf8_lossy(committed);
    let generated = String::from_utf8_lossy(generated);
    let (mut a, mut b) = (committed.split_inclusive('\n'), generated.split_inclusive('\n'));
    for line in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return "they differ only in invalid UTF-8".to_owned(),
            (x, y) if x == y => continue,
            (x, y) => {
                return format!("first difference at line {line}:\n  committed: {x:?}\n  generated: {y:?}");
            }
        }
    }
    unreachable!()
}

#[test]
fn committed_completions_match_the_binary() {
    let sb = Sandbox::new(None);
    let mut stale = Vec::new();
    for (shell, file) in COMPLETION_FILES {
        let out = sb.awsenv().args(["completions", shell.name()]).output().expect("run awsenv completions");
        assert!(out.status.success() && out.stderr.is_empty(), "awsenv completions {shell}: {}", show(&out));
        let path = repo().join("completions").join(file);
        let committed = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if committed != out.stdout {
            stale.push(format!(
                "completions/{file} differs from `awsenv completions {shell}`; {}",
                first_difference(&committed, &out.stdout)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n\nRegenerate the completion files from the repository root with:\n    {REGENERATE}\nthat is:\n    \
         {REGENERATE_EACH}",
        stale.join("\n")
    );
}

#[test]
fn committed_completions_load_silently() {
    let sb = Sandbox::new(None);
    let dir = repo().join("completions");

    // Only builtins: bash-completion is not loaded (--norc).
    let bash = format!(
        "source {}\ncomplete -p awsenv >/dev/null\ndeclare -F _awsenv >/dev/null\n",
        sq(&dir.join("awsenv.bash"))
    );
    // compinit, then the file found on fpath and loaded (+X parses it without running it).
    let zsh = format!(
        "autoload -Uz compinit && compinit -u\nfpath=({} $fpath)\nautoload _awsenv\nautoload +X _awsenv\n\
         [[ $(whence -w _awsenv) == '_awsenv: function' ]]\n",
        sq(&dir)
    );
    let fish = format!(
        "source {}\nor exit 1\ncomplete -c awsenv | string match -q -- '*__awsenv_accounts*'\nor exit 2\n\
         functions -q __awsenv_accounts\nor exit 3\n",
        sq(&dir.join("awsenv.fish"))
    );
    for (shell, script) in [(Shell::Bash, bash), (Shell::Zsh, zsh), (Shell::Fish, fish)] {
        let out = run_strict(&sb, shell, &script);
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "loading the committed {shell} completion is not silent and successful\n--- script ---\n{script}\n{}",
            show(&out)
        );
    }
    let mut zsh_n = sb.command("zsh");
    zsh_n.args(["-f", "-n"]).arg(dir.join("_awsenv"));
    let out = zsh_n.output().expect("run zsh -n");
    assert!(out.status.success() && out.stderr.is_empty(), "zsh -n completions/_awsenv: {}", show(&out));
}

// ---------------------------------------------------------------------------
// 4. Tab completion in interactive shells, in tmux
// ---------------------------------------------------------------------------

/// The prompt every interactive shell is given, so the command line can be read back.
const PROMPT: &str = "READY>";
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
const KEY_TIMEOUT: Duration = Duration::from_secs(5);

/// Polls until `done(cursor line, screen)`; on timeout, says what was waited for and shows the
/// screen.
fn wait_line(
    pane: &Pane,
    what: &str,
    timeout: Duration,
    done: impl Fn(&str, &str) -> bool,
) -> Result<(), String> {
    poll(timeout, || {
        let (line, screen) = (pane.cursor_line(), pane.visible_screen());
        if done(&line, &screen) { Ok(()) } else { Err((line, screen)) }
    })
    .map_err(|(line, screen)| {
        format!(
            "{} ({}): timed out after {timeout:?} waiting for {what}; the cursor line is {line:?}\n\
             --- screen ---\n{}",
            pane.shell(),
            pane.target(),
            screen.trim_end()
        )
    })
}

/// Sets the prompt to [`PROMPT`], activates awsenv the way the user's rc file would, and waits
/// for the shell to be ready.
fn set_up_for_tab(pane: &Pane) {
    let setup = match pane.shell() {
        Shell::Bash => format!("PS1='{PROMPT} '; eval \"$(awsenv init bash)\"; echo INIT-$((40 + 2))"),
        Shell::Zsh => format!(
            "PS1='{PROMPT} '; autoload -Uz compinit && compinit -u; eval \"$(awsenv init zsh)\"; \
             echo INIT-$((40 + 2))"
        ),
        // No autosuggestions: they would show a completion on the screen before any Tab.
        Shell::Fish => format!(
            "function fish_prompt; printf '{PROMPT} '; end; set -g fish_autosuggestion_enabled 0; \
             awsenv init fish | source; echo INIT-(math 40 + 2)"
        ),
    };
    pane.type_text(&setup);
    pane.keys(&["Enter"]);
    wait_line(pane, "the setup line to run and the prompt to come back", SETUP_TIMEOUT, |line, screen| {
        line == PROMPT && screen.lines().any(|l| l.trim_end() == "INIT-42")
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let screen = pane.visible_screen();
    let after = screen.split("INIT-42").nth(1).unwrap_or("").trim();
    assert_eq!(after, PROMPT, "{}: something was printed after the init line:\n{screen}", pane.shell());
    for bad in ["awsenv:", "not found", "rror", "nknown"] {
        assert!(!screen.contains(bad), "{}: activation printed {bad:?}:\n{screen}", pane.shell());
    }
}

/// Types `typed`, presses Tab once and expects the command line to become `expected`; clears
/// the line afterwards in any case. Returns a description of the failure.
fn tab(pane: &Pane, typed: &str, expected: &str) -> Result<(), String> {
    pane.type_text(typed);
    wait_line(pane, &format!("{typed:?} to be typed"), KEY_TIMEOUT, |line, _| {
        line.starts_with(&format!("{PROMPT} {typed}"))
    })?;
    pane.keys(&["Tab"]);
    let want = format!("{PROMPT} {expected}");
    let result =
        wait_line(pane, &format!("`{typed}<Tab>` to become `{expected}`"), KEY_TIMEOUT, |line, _| {
            line == want
        });
    pane.keys(&["C-u"]);
    wait_line(pane, "the line to be cleared by C-u", KEY_TIMEOUT, |line, _| line == PROMPT).or_else(
        |_| {
            pane.keys(&["C-c"]);
            wait_line(pane, "the line to be cleared by C-c", KEY_TIMEOUT, |line, _| line == PROMPT)
        },
    )?;
    result
}

/// Account completion for ec2switch, ec2role and `awsenv switch`, and clap's own completion of
/// `awsenv sw` (loaded lazily from the binary in bash and zsh, on the first Tab that needs it).
fn tab_completion(shell: Shell) {
    let sb = Sandbox::new(None);
    for name in ["personal", "prod", "work"] {
        sb.add_account(name, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None);
    }
    let tmux = Tmux::in_sandbox(&sb).xdg(&sb);
    // The first awsenv Tab is `awsenv sw` in one shell and `awsenv switch wo` in the other, so the
    // lazy loading is tried on both kinds of completion.
    let sessions: [(&str, &[(&str, &str)]); 2] = [
        (
            "main",
            &[
                ("ec2switch pe", "ec2switch personal"),
                ("ec2switch w", "ec2switch work"),
                ("ec2role pr", "ec2role prod"),
                ("awsenv sw", "awsenv switch"),
                ("awsenv switch wo", "awsenv switch work"),
            ],
        ),
        ("fresh", &[("awsenv switch wo", "awsenv switch work"), ("awsenv sw", "awsenv switch")]),
    ];
    let panes: Vec<_> = sessions.iter().map(|(name, _)| tmux.shell(name, shell)).collect();
    let mut failures = Vec::new();
    for (pane, (_, cases)) in panes.iter().zip(sessions) {
        set_up_for_tab(pane);
        for (typed, expected) in cases {
            if let Err(e) = tab(pane, typed, expected) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{shell}: {} Tab completion(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn tab_completion_bash() {
    tab_completion(Shell::Bash);
}

#[test]
fn tab_completion_zsh() {
    tab_completion(Shell::Zsh);
}

#[test]
fn tab_completion_fish() {
    tab_completion(Shell::Fish);
}
