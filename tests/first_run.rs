//! The README's two commands on a fresh machine: `scripts/install && scripts/playground`, then
//! `scripts/test`. Each test makes a container-like machine of its own: a fresh HOME, a fresh
//! TMPDIR, and a PATH that is one private directory of links to the system's programs (/usr/bin,
//! /usr/sbin) and the Rust toolchain's, less the programs the test takes away. No moto, pyenv or
//! user tool is on it: python3 is Debian's, without moto.
//!
//! 1. A machine without zsh whose user's shell is zsh: the first command installs awsenv into
//!    ~/.cargo/bin and adds the init line to ~/.zshrc, says that zsh is missing and opens bash,
//!    makes a new private Python environment and installs moto and boto3 into it (from the wheels
//!    that scripts/test keeps, never from the network), one line each; ec2switch, ec2mfa (asked on
//!    the terminal) and ec2now work there, and `exit` removes the playground and stops moto. The
//!    second command's install step then installs zsh and the other Python packages, one line
//!    each, and says nothing the second time.
//! 2. The playground in the user's bash, zsh and fish where everything is installed: no install
//!    line, and ec2switch, ec2mfa, ec2now and the aws wrapper work.
//! 3. scripts/test's install step: quiet when everything is there; one line per missing Debian
//!    package; sudo when not root, else the exact apt-get line to run as root; a machine without
//!    apt-get; --no-install lists what is missing and installs nothing.
//!
//! apt-get, and in the non-root cases id and sudo, are stand-ins written by the test (it cannot
//! install Debian packages or change its user): the stand-in apt-get records its arguments and
//! "installs" a package by linking its program into the private PATH. Needs what scripts/test
//! installs (tmux, the shells, the private Python environment and its wheels): a missing one
//! fails the test, never skips it.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::tmux::{Pane, Tmux, poll};
use common::world::ALICE_QUESTION;
use common::{Shell, project_venv, repo, show, stderr, stdout};
use tempfile::TempDir;

/// Enough for any step in a shell; a timeout means something hangs.
const STEP: Duration = Duration::from_secs(60);
/// Until the playground is up: it may build awsenv (release) and install moto first.
const SETUP: Duration = Duration::from_secs(40 * 60);

// ---------------------------------------------------------------------------
// What scripts/lib/needs.bash lists
// ---------------------------------------------------------------------------

/// The rows of the table `name` in scripts/lib/needs.bash, split at `|`.
fn needs_table(name: &str) -> Vec<Vec<String>> {
    let path = repo().join("scripts/lib/needs.bash");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let start = format!("{name}=(");
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip_while(|line| line.trim() != start)
        .skip(1)
        .take_while(|line| line.trim() != ")")
        .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix('"').map(str::to_owned))
        .map(|row| row.split('|').map(str::to_owned).collect())
        .collect();
    assert!(!rows.is_empty(), "no rows in {name} of {}", path.display());
    rows
}

/// (pip requirement, why) for each Python package, in the table's order.
fn python_needs() -> Vec<(String, String)> {
    needs_table("needs_python").into_iter().map(|row| (row[0].clone(), row[1].clone())).collect()
}

/// Why the tests need Debian package `package`.
fn debian_why(package: &str) -> String {
    needs_table("needs_debian")
        .into_iter()
        .find(|row| row[0] == package)
        .map(|row| row[2].clone())
        .unwrap_or_else(|| panic!("{package} is not in needs_debian"))
}

/// The private environment and the wheels that scripts/test makes; the tests reuse them rather
/// than reach the network.
fn require_shared_environment() {
    let hint = "run scripts/test --install-only once (it makes target/awsenv-venv and target/awsenv-wheels)";
    let stamp = project_venv().join("awsenv-installed.txt");
    let installed = fs::read_to_string(&stamp).unwrap_or_else(|e| panic!("{}: {e}; {hint}", stamp.display()));
    for (spec, _) in python_needs() {
        assert!(installed.lines().any(|line| line == spec), "{spec} is not in {}; {hint}", stamp.display());
    }
    let wheels = repo().join("target/awsenv-wheels");
    let count = fs::read_dir(&wheels).map(|dir| dir.count()).unwrap_or(0);
    assert!(count > 0, "no wheels in {}; {hint}", wheels.display());
}

// ---------------------------------------------------------------------------
// A fresh machine
// ---------------------------------------------------------------------------

/// A fresh HOME and TMPDIR, and a PATH of one private directory: links to the system's programs
/// and the toolchain's, less `without`.
struct Machine {
    _dir: TempDir,
    root: PathBuf,
    home: PathBuf,
    bin: PathBuf,
    env: BTreeMap<String, String>,
}

impl Machine {
    fn new(without: &[&str]) -> Machine {
        let dir = tempfile::Builder::new().prefix("awsenv-first-run-").tempdir().expect("create tempdir");
        let root = dir.path().canonicalize().expect("canonicalize tempdir");
        let (home, bin, tmp) = (root.join("home"), root.join("bin"), root.join("tmp"));
        for d in [&home, &bin, &tmp] {
            fs::create_dir(d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
        }
        for system in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
            let Ok(entries) = fs::read_dir(system) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let link = bin.join(&name);
                if without.iter().any(|w| name.to_str() == Some(*w)) || link.symlink_metadata().is_ok() {
                    continue;
                }
                symlink(entry.path(), &link).unwrap_or_else(|e| panic!("link {}: {e}", link.display()));
            }
        }
        // The toolchain that builds this test, straight from its directory (no rustup proxy).
        let toolchain = Path::new(env!("CARGO")).parent().expect("cargo's directory");
        for tool in ["cargo", "rustc", "rustdoc", "rustfmt", "cargo-fmt", "cargo-clippy", "clippy-driver"] {
            let target = toolchain.join(tool);
            if target.exists() {
                let link = bin.join(tool);
                let _ = fs::remove_file(&link);
                symlink(&target, &link).unwrap_or_else(|e| panic!("link {}: {e}", link.display()));
            }
        }
        let real_home = std::env::var("HOME").expect("HOME is set");
        let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo"));
        let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
        let mut env = BTreeMap::new();
        for (key, value) in [
            ("PATH", path(&bin)),
            ("HOME", path(&home)),
            ("TMPDIR", path(&tmp)),
            ("USER", "root".into()),
            ("LOGNAME", "root".into()),
            ("LANG", "C.UTF-8".into()),
            ("TERM", "xterm-256color".into()),
            ("SHELL", "/bin/bash".into()),
            // The crates already downloaded, and never the network; what `cargo install` installs
            // goes to the fresh HOME, as it would for a new user.
            ("CARGO_HOME", cargo_home),
            ("CARGO_NET_OFFLINE", "true".into()),
            ("CARGO_INSTALL_ROOT", path(&home.join(".cargo"))),
            // pip installs from the wheels scripts/test keeps, or fails: never the network.
            ("PIP_NO_INDEX", "1".into()),
        ] {
            env.insert(key.to_owned(), value);
        }
        Machine { _dir: dir, root, home, bin, env }
    }

    fn set(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_owned(), value.to_owned());
    }

    /// Writes program `name` into the private PATH (replacing the system's).
    fn program(&self, name: &str, script: &str) {
        let path = self.bin.join(name);
        let _ = fs::remove_file(&path);
        fs::write(&path, script).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod stand-in");
    }

    /// A stand-in apt-get: records each call's arguments in the returned file; `install` links
    /// each named package's program from /usr/bin into the private PATH.
    fn fake_apt_get(&self) -> PathBuf {
        let log = self.root.join("apt-get.log");
        self.program(
            "apt-get",
            &format!(
                "#!/bin/sh\necho \"$*\" >>'{log}'\n[ \"$1\" = install ] || exit 0\nshift\n\
                 for arg; do case $arg in -*) ;; *) ln -s \"/usr/bin/$arg\" '{bin}/' ;; esac; done\n",
                log = log.display(),
                bin = self.bin.display()
            ),
        );
        log
    }

    /// `id -u` says 1000; with `sudo`, a stand-in sudo that records its arguments (returned) and
    /// runs them.
    fn fake_user(&self, sudo: bool) -> PathBuf {
        self.program(
            "id",
            "#!/bin/sh\nif [ \"$1\" = -u ]; then echo 1000; else exec /usr/bin/id \"$@\"; fi\n",
        );
        let log = self.root.join("sudo.log");
        let _ = fs::remove_file(self.bin.join("sudo"));
        if sudo {
            self.program("sudo", &format!("#!/bin/sh\necho \"$*\" >>'{}'\nexec \"$@\"\n", log.display()));
        }
        log
    }

    /// `program` (a path below the repository) with exactly this machine's environment.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(repo().join(program));
        cmd.env_clear().envs(&self.env).current_dir(repo()).stdin(Stdio::null());
        cmd
    }

    /// `scripts/test ARGS`: its output, checked to have printed nothing on stdout.
    fn scripts_test(&self, args: &[&str]) -> Output {
        let out = self.command("scripts/test").args(args).output().expect("run scripts/test");
        assert_eq!(stdout(&out), "", "scripts/test {args:?} printed on stdout: {}", show(&out));
        out
    }
}

/// The lines of a file, or none when it does not exist.
fn lines_of(path: &Path) -> Vec<String> {
    match fs::read_to_string(path) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

fn stderr_lines(out: &Output) -> Vec<String> {
    stderr(out).lines().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------
// A terminal: the user's bash in its own tmux server, in the repository
// ---------------------------------------------------------------------------

/// The user's bash in a 220x50 pane of its own tmux server (the machine's tmux), in the
/// repository, with TERM=xterm-256color.
fn terminal(machine: &Machine) -> Pane {
    let tmux = machine.bin.join("tmux");
    assert!(tmux.exists(), "tmux is not installed: run scripts/test --install-only (tests never skip)");
    let env = machine.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Tmux::new(env).program(&tmux).current_dir(repo()).xterm().timeout(STEP).session(
        "t",
        (220, 50),
        Shell::Bash,
        &["bash", "--norc", "--noprofile"],
    )
}

/// Waits for the playground's shell (`shell`) to read its terminal: its prompt after the
/// playground's greeting, then an echo that comes back (typed again after Ctrl-C if the keys
/// were lost while the shell was starting).
fn enter_playground(term: &Pane, shell: Shell) {
    term.wait("the playground's shell prompt", |screen| {
        let after = screen.split("Leave with: exit").nth(1).unwrap_or("");
        after
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_end().ends_with(['#', '$', '>', '%']))
    });
    term.set_shell(shell);
    for attempt in 0..5 {
        let marker = format!("READY-{attempt}");
        term.type_line(&format!("echo \"RE\"\"ADY-{attempt}\""));
        let echoed = poll(Duration::from_secs(5), || {
            if term.screen().lines().any(|l| l.trim_end() == marker) { Ok(()) } else { Err(()) }
        });
        if echoed.is_ok() {
            return;
        }
        term.keys(&["C-c"]);
    }
    panic!("the playground's {shell} never echoed; the pane shows:\n{}", term.screen());
}

// ---------------------------------------------------------------------------
// The playground
// ---------------------------------------------------------------------------

const END: &str = "PLAYGROUND-END:";

/// Types `command` (which ends in the playground) into the user's bash and waits for the
/// playground's shell. Returns the lines the command printed before the playground's greeting and
/// the port moto listens on.
fn open_playground(term: &Pane, command: &str, shell: Shell) -> (Vec<String>, u16) {
    term.type_line(&format!("{command}; echo \"PLAYGROUND\"\"-END:$?\""));
    let screen = term.wait_for("the playground's greeting", SETUP, |s| {
        s.contains("Leave with: exit") || s.lines().any(|l| l.starts_with(END))
    });
    assert!(!screen.lines().any(|l| l.starts_with(END)), "the playground ended early:\n{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let typed = lines.iter().position(|l| l.contains("\"PLAYGROUND\"\"-END")).expect("the typed command");
    let greeting = lines.iter().position(|l| l.starts_with("awsenv playground: moto on ")).expect("greeting");
    let before = lines[typed + 1..greeting].iter().map(|l| l.trim_end().to_owned()).filter(|l| !l.is_empty());
    let port = lines[greeting]
        .trim_start_matches("awsenv playground: moto on http://127.0.0.1:")
        .split(',')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {:?}", lines[greeting]));
    enter_playground(term, shell);
    (before.collect(), port)
}

/// ec2switch, ec2mfa (answering its question) and ec2now in the playground's shell.
fn try_the_functions(term: &Pane) {
    assert!(term.ok("ec2switch").contains("Possible accounts: lab sandbox"), "{}", term.screen());
    assert!(term.ok("ec2switch sandbox").contains("Set keys for sandbox AWS account"), "{}", term.screen());
    let n = term.start_command("ec2mfa");
    term.wait("the MFA question", |s| s.lines().any(|l| l.trim_end() == ALICE_QUESTION.trim_end()));
    term.type_line("123456");
    let (code, output, _) = term.finish(n);
    assert_eq!(code, 0, "ec2mfa failed:\n{}", term.screen());
    assert!(output.contains("Set keys for sandbox-MFA-STS AWS account"), "ec2mfa said:\n{output}");
    let now = term.ok("ec2now");
    assert!(now.contains("Keys set for sandbox-MFA-STS AWS account"), "ec2now said:\n{now}");
    assert!(now.contains("Session ends in "), "ec2now said:\n{now}");
}

/// `exit` leaves the playground: the command ends with status 0, its temporary directory is gone
/// (fish keeps its own `fish.USER` there) and moto no longer listens.
fn leave_playground(term: &Pane, machine: &Machine, port: u16) {
    term.type_line("exit");
    let screen = term.wait("the end of the playground", |s| s.lines().any(|l| l.starts_with(END)));
    let end = screen.lines().find(|l| l.starts_with(END)).expect("end line");
    assert_eq!(end.trim_end(), format!("{END}0"), "the playground failed:\n{screen}");
    let left: Vec<_> = fs::read_dir(machine.root.join("tmp"))
        .expect("read TMPDIR")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("awsenv-playground."))
        })
        .collect();
    assert!(left.is_empty(), "the playground left {left:?}");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "moto still listens on {port}"
    );
}

/// Which shell runs the playground: the expression prints `bash`, `zsh` or `fish`.
fn shell_in_use(term: &Pane, shell: Shell) -> String {
    let expression = match shell {
        Shell::Fish => "echo (status fish-path | string replace -r '.*/' '')",
        Shell::Bash => "echo ${BASH_VERSION:+bash}",
        Shell::Zsh => "echo ${ZSH_VERSION:+zsh}",
    };
    term.ok(expression).trim().to_owned()
}

fn playground_in(shell: Shell) {
    shell.require();
    require_shared_environment();
    let mut machine = Machine::new(&[]);
    machine.set("SHELL", &format!("/usr/bin/{}", shell.name()));
    let term = terminal(&machine);
    let (before, port) = open_playground(&term, "scripts/playground", shell);
    assert_eq!(
        before,
        ["playground: building awsenv (release, as scripts/install does; minutes the first time)"],
        "with everything installed, the playground installs nothing"
    );
    assert_eq!(shell_in_use(&term, shell), shell.name(), "{}", term.screen());
    try_the_functions(&term);
    // The aws CLI of the private environment, through awsenv's wrapper, with the MFA session.
    let identity = term.ok("aws sts get-caller-identity --query Account --output text");
    assert_eq!(identity.trim(), common::MOTO_ACCOUNT_ID, "{}", term.screen());
    leave_playground(&term, &machine, port);
}

#[test]
fn the_playground_opens_the_users_bash() {
    playground_in(Shell::Bash);
}

#[test]
fn the_playground_opens_the_users_zsh() {
    playground_in(Shell::Zsh);
}

#[test]
fn the_playground_opens_the_users_fish() {
    playground_in(Shell::Fish);
}

#[test]
fn the_playground_refuses_a_shell_it_does_not_know() {
    let machine = Machine::new(&[]);
    let out = machine.command("scripts/playground").arg("tcsh").output().expect("run scripts/playground");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(stderr(&out), "playground: unsupported shell tcsh (use bash, zsh or fish)\n");
    assert_eq!(stdout(&out), "");
}

// ---------------------------------------------------------------------------
// Both commands on a fresh machine
// ---------------------------------------------------------------------------

#[test]
fn the_readme_commands_work_on_a_fresh_machine_without_zsh() {
    require_shared_environment();
    let mut machine = Machine::new(&["zsh"]);
    machine.set("SHELL", "/usr/bin/zsh");
    let venv = machine.root.join("venv");
    machine.set("AWSENV_VENV", venv.to_str().expect("utf-8 path"));
    let apt_log = machine.fake_apt_get();
    let shown = venv.display().to_string();
    let needs = python_needs();
    let why = |name: &str| needs.iter().find(|(spec, _)| spec.starts_with(name)).expect("listed").clone();

    // The first command.
    let term = terminal(&machine);
    let (before, port) = open_playground(&term, "scripts/install && scripts/playground", Shell::Bash);
    let (moto, moto_why) = why("moto[");
    let (boto3, boto3_why) = why("boto3==");
    let expected = [
        "install: building awsenv (release; minutes the first time) and installing it into ~/.cargo/bin"
            .to_owned(),
        "install: ~/.cargo/bin is not first on PATH for awsenv: add it, e.g. PATH=\"~/.cargo/bin:$PATH\" in \
         your shell's startup file"
            .to_owned(),
        "install: added `eval \"$(awsenv init zsh)\"` to ~/.zshrc: new zsh shells load awsenv".to_owned(),
        "playground: zsh is not installed here, so the playground opens bash instead".to_owned(),
        format!(
            "playground: creating {shown}: a private Python environment for what follows (the system's Python \
             is left alone)"
        ),
        format!("playground: installing {moto} into {shown}: {moto_why}"),
        format!("playground: installing {boto3} into {shown}: {boto3_why}"),
        "playground: building awsenv (release, as scripts/install does; minutes the first time)".to_owned(),
    ];
    assert_eq!(before, expected, "the first command's lines\n{}", term.screen());
    assert_eq!(shell_in_use(&term, Shell::Bash), "bash");
    try_the_functions(&term);
    leave_playground(&term, &machine, port);

    let installed = machine.home.join(".cargo/bin/awsenv");
    let version = Command::new(&installed).arg("--version").output().expect("run the installed awsenv");
    assert!(version.status.success() && stdout(&version).starts_with("awsenv "), "{}", show(&version));
    assert_eq!(lines_of(&machine.home.join(".zshrc")), ["eval \"$(awsenv init zsh)\""]);
    assert!(lines_of(&apt_log).is_empty(), "the playground ran apt-get: {:?}", lines_of(&apt_log));

    // The second command's install step: zsh through apt-get, the other Python packages.
    let out = machine.scripts_test(&["--install-only"]);
    assert!(out.status.success(), "{}", show(&out));
    let mut expected = vec![format!("test: installing zsh (Debian package): {}", debian_why("zsh"))];
    for (spec, why) in &needs[..] {
        if spec != &moto && spec != &boto3 {
            expected.push(format!("test: installing {spec} into {shown}: {why}"));
        }
    }
    assert_eq!(stderr_lines(&out), expected);
    assert_eq!(lines_of(&apt_log), ["update -qq", "install -y -qq zsh"]);
    let aws = Command::new(venv.join("bin/aws")).arg("--version").output().expect("run the aws CLI");
    assert!(aws.status.success(), "{}", show(&aws));
    let imports = Command::new(venv.join("bin/python"))
        .args(["-c", "import moto.server, boto3, cryptography"])
        .output()
        .expect("run the environment's python");
    assert!(imports.status.success(), "{}", show(&imports));

    // Everything is there now: not a word.
    let again = machine.scripts_test(&["--install-only"]);
    assert!(again.status.success(), "{}", show(&again));
    assert_eq!(stderr(&again), "", "a second run installs nothing and says nothing");
    assert_eq!(lines_of(&apt_log).len(), 2, "apt-get ran again");
}

// ---------------------------------------------------------------------------
// scripts/test's install step
// ---------------------------------------------------------------------------

#[test]
fn the_install_step_says_nothing_when_everything_is_there() {
    require_shared_environment();
    let machine = Machine::new(&[]);
    let apt_log = machine.fake_apt_get();
    for args in [&["--install-only"][..], &["--no-install", "--install-only"]] {
        let out = machine.scripts_test(args);
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(stderr(&out), "", "scripts/test {args:?}");
    }
    assert!(lines_of(&apt_log).is_empty());
}

#[test]
fn each_missing_tool_is_installed_with_one_line_saying_why() {
    require_shared_environment();
    let machine = Machine::new(&["tmux", "shellcheck"]);
    let apt_log = machine.fake_apt_get();
    let out = machine.scripts_test(&["--install-only"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        stderr_lines(&out),
        [
            format!("test: installing shellcheck (Debian package): {}", debian_why("shellcheck")),
            format!("test: installing tmux (Debian package): {}", debian_why("tmux")),
        ]
    );
    assert_eq!(lines_of(&apt_log), ["update -qq", "install -y -qq shellcheck tmux"]);
    assert!(machine.bin.join("tmux").exists() && machine.bin.join("shellcheck").exists());
    let again = machine.scripts_test(&["--install-only"]);
    assert!(again.status.success() && stderr(&again).is_empty(), "{}", show(&again));
}

#[test]
fn without_root_apt_get_runs_through_sudo() {
    require_shared_environment();
    let machine = Machine::new(&["tmux"]);
    let apt_log = machine.fake_apt_get();
    let sudo_log = machine.fake_user(true);
    let out = machine.scripts_test(&["--install-only"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        stderr_lines(&out),
        [
            format!("test: installing tmux (Debian package): {}", debian_why("tmux")),
            "test: running apt-get with sudo (installing needs root)".to_owned(),
        ]
    );
    assert_eq!(
        lines_of(&sudo_log),
        ["apt-get update -qq", "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux"]
    );
    assert_eq!(lines_of(&apt_log), ["update -qq", "install -y -qq tmux"]);
}

#[test]
fn without_root_or_sudo_it_says_what_to_run_as_root() {
    require_shared_environment();
    let machine = Machine::new(&["tmux", "shellcheck", "sudo"]);
    let apt_log = machine.fake_apt_get();
    machine.fake_user(false);
    let out = machine.scripts_test(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stderr_lines(&out),
        [
            format!("test: missing shellcheck (Debian package): {}", debian_why("shellcheck")),
            format!("test: missing tmux (Debian package): {}", debian_why("tmux")),
            "test: installing needs root and there is no sudo; as root, run: apt-get install shellcheck tmux"
                .to_owned(),
        ]
    );
    assert!(lines_of(&apt_log).is_empty(), "apt-get ran: {:?}", lines_of(&apt_log));
}

#[test]
fn without_apt_get_it_names_the_debian_packages() {
    require_shared_environment();
    let machine = Machine::new(&["tmux", "apt-get"]);
    let out = machine.scripts_test(&["--install-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stderr_lines(&out),
        [
            format!("test: missing tmux (Debian package): {}", debian_why("tmux")),
            "test: there is no apt-get here: install them (Debian's names) with this system's package manager"
                .to_owned(),
        ]
    );
}

#[test]
fn no_install_lists_what_is_missing_and_installs_nothing() {
    require_shared_environment();
    let mut machine = Machine::new(&["tmux"]);
    let apt_log = machine.fake_apt_get();
    let venv = machine.root.join("venv");
    machine.set("AWSENV_VENV", venv.to_str().expect("utf-8 path"));
    let out = machine.scripts_test(&["--no-install"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let mut expected = vec![format!("test: missing tmux (Debian package): {}", debian_why("tmux"))];
    for (spec, why) in python_needs() {
        expected.push(format!("test: missing {spec} in {}: {why}", venv.display()));
    }
    expected.push(
        "test: nothing installed (--no-install): run scripts/test --install-only to install the above".into(),
    );
    assert_eq!(stderr_lines(&out), expected);
    assert!(lines_of(&apt_log).is_empty(), "apt-get ran: {:?}", lines_of(&apt_log));
    assert!(!venv.exists(), "--no-install made {}", venv.display());
}
