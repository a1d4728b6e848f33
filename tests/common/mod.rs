//! Shared integration-test infrastructure, compiled into every test binary (`mod common;`) so
//! that each helper is written once. Here: an isolated user environment for running the `awsenv`
//! binary ([`Sandbox`]), real shells ([`Shell`]) and output helpers. Beside it: moto, plain or over
//! TLS ([`moto`]); the usual world of moto and IAM user alice ([`world`]); the names of the files
//! awsenv keeps ([`cache`]); the clock ([`clock`]); processes ([`process`]); shell script text
//! ([`script`]); files ([`files`]); `awsenv serve` and HTTP ([`serve`]); a terminal ([`tmux`]);
//! OpenSSH ([`ssh`]). No binary uses every helper, hence `allow(dead_code)`.
//!
//! Nothing here talks to anything but 127.0.0.1.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use tempfile::TempDir;

pub mod cache;
pub mod clock;
pub mod files;
pub mod moto;
pub mod process;
pub mod script;
pub mod serve;
pub mod ssh;
pub mod sso;
pub mod tmux;
pub mod world;

pub use moto::Moto;

/// Moto's default account id.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";
/// Region used for every boto3 call made by the harness.
pub const REGION: &str = "us-east-1";
/// An endpoint that refuses connections at once: for runs that must never reach AWS.
pub const DEAD_ENDPOINT: &str = "http://127.0.0.1:1";

/// A valid 6-digit MFA code that no earlier call returned in this process.
///
/// awsenv never sends the same code twice for one MFA device within 90 s (AWS accepts a code
/// once), so every STS call that means "a new session" needs its own code. The codes start with
/// 9, which none of the fixed codes the tests use does (`123456`, `111111`, ...); the process id
/// picks where the sequence starts, the counter keeps the next 100 000 calls distinct.
pub fn fresh_code() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let start = u64::from(std::process::id()) * 7919;
    format!("9{:05}", (start + u64::from(n)) % 100_000)
}

// ---------------------------------------------------------------------------
// python / PATH discovery
// ---------------------------------------------------------------------------

/// Directories of the test process's `PATH`.
fn test_path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default()
}

/// First executable file called `name` in `dirs`.
fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false))
}

/// The repository (the crate's root).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The private Python environment that `scripts/test` fills (moto, boto3, the aws CLI):
/// `$AWSENV_VENV`, else `target/awsenv-venv` below the repository, as in scripts/lib/needs.bash.
pub fn project_venv() -> PathBuf {
    std::env::var_os("AWSENV_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join("target/awsenv-venv"))
}

/// The python that has moto: the project's private environment's when it exists (so that a
/// plain `cargo test` after one `scripts/test` finds it too), else the real interpreter behind
/// the `python3` on the test's PATH (resolving pyenv shims via `sys.executable`), else plain
/// `python3`.
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv_python = project_venv().join("bin/python3");
        if find_in(&[project_venv().join("bin")], "python3").is_some() {
            return venv_python;
        }
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| PathBuf::from("python3"))
    })
}

/// Extra PATH directories for sandboxes: the python's directory (which holds
/// the aws CLI as well in the private environment and under pyenv), then the
/// directories where `python3` and `aws` resolve on the test's PATH.
fn tool_dirs() -> &'static [PathBuf] {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let path = test_path_dirs();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut push = |d: Option<&Path>| {
            if let Some(d) = d
                && d.is_absolute()
                && !dirs.iter().any(|x| x == d)
            {
                dirs.push(d.to_path_buf());
            }
        };
        push(python().parent());
        for tool in ["python3", "aws"] {
            push(find_in(&path, tool).as_deref().and_then(Path::parent));
        }
        dirs
    })
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

// ---------------------------------------------------------------------------
// Shells
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// Panic unless the shell is installed (tests fail loudly, never skip).
    /// The flags that keep the shell from reading any startup file.
    pub fn no_rc_flags(self) -> &'static [&'static str] {
        match self {
            Shell::Bash => &["--noprofile", "--norc"],
            Shell::Zsh => &["-f"],
            Shell::Fish => &["--no-config"],
        }
    }

    pub fn require(self) {
        if shell_path(self).is_none() {
            panic!(
                "{} is not installed (not found in /usr/local/bin:/usr/bin:/bin or PATH); \
                 install it (e.g. `apt-get install {}`) — shell tests never skip",
                self.name(),
                self.name()
            );
        }
    }
}

impl std::fmt::Display for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn shell_path(shell: Shell) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = ["/usr/local/bin", "/usr/bin", "/bin"].iter().map(PathBuf::from).collect();
    dirs.extend(test_path_dirs());
    find_in(&dirs, shell.name())
}

/// The line that activates awsenv in `shell`.
pub fn init_line(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => r#"eval "$(awsenv init bash)""#,
        Shell::Zsh => r#"eval "$(awsenv init zsh)""#,
        Shell::Fish => "awsenv init fish | source",
    }
}

// ---------------------------------------------------------------------------
// Sandbox
// ---------------------------------------------------------------------------

/// An isolated user: a temporary HOME with `~/aws-creds` (0700), a PATH that
/// starts with the `awsenv` under test, and a fully controlled environment.
pub struct Sandbox {
    _dir: TempDir,
    home: PathBuf,
    env: BTreeMap<String, String>,
}

impl Sandbox {
    pub fn new(moto: Option<&Moto>) -> Sandbox {
        let dir =
            tempfile::Builder::new().prefix("awsenv-sandbox-").tempdir().expect("create sandbox tempdir");
        let root = dir.path().canonicalize().expect("canonicalize tempdir");
        let home = root.join("home");
        let bin = root.join("bin");
        fs::create_dir(&home).expect("create HOME");
        fs::create_dir(&bin).expect("create bin dir");
        let store = home.join("aws-creds");
        fs::create_dir(&store).expect("create store");
        fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).expect("chmod store");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_awsenv"), bin.join("awsenv")).expect("symlink awsenv");

        // Real python (with boto3) and aws go before the system dirs so
        // `python3` does not resolve to a system python without boto3.
        let mut path = vec![bin];
        path.extend(tool_dirs().iter().cloned());
        for d in ["/usr/local/bin", "/usr/bin", "/bin"] {
            let d = PathBuf::from(d);
            if !path.contains(&d) {
                path.push(d);
            }
        }
        let path = std::env::join_paths(path).expect("join PATH");

        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: &OsStr| {
            env.insert(k.to_string(), v.to_str().expect("utf-8 path").to_string());
        };
        set("PATH", &path);
        set("HOME", home.as_os_str());
        set("USER", OsStr::new("tester"));
        set("LOGNAME", OsStr::new("tester"));
        set("LANG", OsStr::new("C.UTF-8"));
        set("TERM", OsStr::new("dumb"));
        set("AWS_EC2_METADATA_DISABLED", OsStr::new("true"));
        set("AWS_CONFIG_FILE", home.join(".aws/config").as_os_str());
        set("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials").as_os_str());
        if let Some(m) = moto {
            set("AWS_ENDPOINT_URL", OsStr::new(&m.url()));
        }
        Sandbox { _dir: dir, home, env }
    }

    /// The sandbox's HOME.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Root of the sandbox tempdir (HOME is `root/home`, PATH has `root/bin`).
    pub fn root(&self) -> &Path {
        self.home.parent().expect("HOME has a parent")
    }

    /// `HOME/aws-creds`
    pub fn store(&self) -> PathBuf {
        self.home.join("aws-creds")
    }

    /// Write `NAME.access_key`, `NAME.secret_key` and (if given) `NAME.user`
    /// into the store, mode 0600, each with a trailing newline.
    pub fn add_account(&self, name: &str, access_key: &str, secret: &str, user: Option<&str>) {
        let store = self.store();
        write_private(&store.join(format!("{name}.access_key")), &format!("{access_key}\n"));
        write_private(&store.join(format!("{name}.secret_key")), &format!("{secret}\n"));
        if let Some(user) = user {
            write_private(&store.join(format!("{name}.user")), &format!("{user}\n"));
        }
    }

    /// Write `HOME/aws-creds/accounts.json` (mode 0600).
    pub fn write_accounts_json(&self, json: &str) {
        write_private(&self.store().join("accounts.json"), json);
    }

    /// The complete environment for child processes (apply after `env_clear()`).
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_string(), value.to_string());
    }

    pub fn remove_env(&mut self, key: &str) {
        self.env.remove(key);
    }

    /// `program` with a cleared environment plus [`Sandbox::env`], cwd HOME,
    /// stdin null. `program` is looked up in the sandbox PATH.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.env.iter()).current_dir(&self.home).stdin(Stdio::null());
        cmd
    }

    /// The awsenv binary under test.
    pub fn awsenv(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_awsenv"))
    }

    /// Run `script` in a real non-interactive `shell` without rc files.
    pub fn run_shell(&self, shell: Shell, script: &str) -> Output {
        self.shell_command(shell, script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", shell.name()))
    }

    /// `shell` running `script` as [`Sandbox::run_shell`] does, not yet started.
    pub fn shell_command(&self, shell: Shell, script: &str) -> Command {
        shell.require();
        let mut cmd = self.command(shell.name());
        cmd.args(shell.no_rc_flags()).args(["-c", script]);
        if shell == Shell::Fish {
            self.fish_xdg(&mut cmd);
        }
        cmd
    }

    /// The sandbox's own XDG directories (made if missing) as the variables that name them, so
    /// that fish reads no user's config.
    pub fn xdg_env(&self) -> Vec<(String, String)> {
        let xdg = self.root().join("xdg");
        [("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")]
            .into_iter()
            .map(|(var, sub)| {
                let d = xdg.join(sub);
                fs::create_dir_all(&d).expect("create XDG dir");
                (var.to_owned(), d.to_str().expect("utf-8 path").to_owned())
            })
            .collect()
    }

    /// Gives `cmd` the sandbox's own XDG directories ([`Sandbox::xdg_env`]).
    pub fn fish_xdg(&self, cmd: &mut Command) {
        cmd.envs(self.xdg_env());
    }

    /// Panics unless `tool arg` runs and succeeds with the sandbox's PATH (tests never skip).
    pub fn require_tool(&self, tool: &str, arg: &str) {
        check_tool(self.command(tool).arg(arg), tool);
    }
}

/// Panics unless `tool arg` runs and succeeds with the test's PATH (tests never skip).
pub fn require_tool(tool: &str, arg: &str) {
    check_tool(Command::new(tool).arg(arg).stdin(Stdio::null()), tool);
}

fn check_tool(cmd: &mut Command, tool: &str) {
    match cmd.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("`{cmd:?}` failed: {}", show(&out)),
        Err(e) => panic!("{tool} cannot be run ({e}); install it — these tests never skip"),
    }
}

/// Create/overwrite `path` with mode 0600.
fn write_private(path: &Path, contents: &str) {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    f.write_all(contents.as_bytes()).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Status and both streams, for assertion messages.
pub fn show(o: &Output) -> String {
    format!("{}\n--- stdout ---\n{}\n--- stderr ---\n{}", o.status, stdout(o), stderr(o))
}

/// Panic, showing status and both streams, unless `o` succeeded.
#[track_caller]
pub fn assert_success(o: &Output) {
    if !o.status.success() {
        panic!("command failed: {}", show(o));
    }
}
