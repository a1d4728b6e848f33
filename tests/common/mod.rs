//! Shared integration-test infrastructure: a local moto server ([`Moto`]),
//! an isolated user environment for running the `awsenv` binary
//! ([`Sandbox`]), real shells ([`Shell`]) and output helpers; moto over TLS is in [`tls`].
//!
//! Nothing here talks to anything but 127.0.0.1.
#![allow(dead_code)]

pub mod tls;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub mod process;
pub mod serve;

/// Moto's default account id.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";
/// Region used for every boto3 call made by the harness.
pub const REGION: &str = "us-east-1";

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

/// How long moto may take to answer after being spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

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

/// The private Python environment that `scripts/test` fills (moto, boto3, the aws CLI):
/// `$AWSENV_VENV`, else `target/awsenv-venv` below the repository, as in scripts/lib/needs.bash.
pub fn project_venv() -> PathBuf {
    std::env::var_os("AWSENV_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/awsenv-venv"))
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

// ---------------------------------------------------------------------------
// Tiny HTTP/1.0 client
// ---------------------------------------------------------------------------

/// One HTTP/1.0 request to 127.0.0.1:`port`; returns (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let _ = stream.shutdown(Shutdown::Write);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad HTTP response: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_string()))
}

// ---------------------------------------------------------------------------
// Moto
// ---------------------------------------------------------------------------

/// A moto server on 127.0.0.1, killed (and reaped) on drop.
pub struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl Moto {
    /// Start moto with default settings (no signature checks).
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// Start moto with extra environment variables for the server, e.g.
    /// `("INITIAL_NO_AUTH_ACTION_COUNT", "0")` to make it check signatures
    /// and IAM policies.
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let dir = tempfile::Builder::new().prefix("awsenv-moto-").tempdir().expect("create moto tempdir");
        let log = dir.path().join("moto.log");
        // The free port may be grabbed by someone else between probing and
        // moto binding it; retry a few times in that case.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_file = fs::File::create(&log).expect("create moto log");
            let mut cmd = Command::new(python());
            cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("dup log fd"))
                .stderr(log_file);
            scrub_aws_env(&mut cmd);
            cmd.envs(env.iter().copied());
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn `{} -m moto.server`: {e}", python().display()));
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Moto { child, port, log, _dir: dir };
                }
                Err(exit) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = read_log(&log);
                    if exit.is_some() && last_log.contains("Address already in use") {
                        continue;
                    }
                    let why = match exit {
                        Some(status) => format!("exited ({status}) before answering"),
                        None => format!("did not answer within {STARTUP_TIMEOUT:?}"),
                    };
                    panic!("moto server on 127.0.0.1:{port} {why}\n--- moto log ---\n{last_log}");
                }
            }
        }
        panic!("moto server could not find a free port\n--- moto log ---\n{last_log}");
    }

    /// Contents of moto's stdout/stderr log so far.
    pub fn log_contents(&self) -> String {
        read_log(&self.log)
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `method path` against moto; panics (with moto's log) unless HTTP 200.
    fn request(&self, method: &str, path: &str, body: &str) -> String {
        match http(self.port, method, path, body) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!(
                "moto {method} {path}: HTTP {status}\n{body}\n--- moto log ---\n{}",
                self.log_contents()
            ),
            Err(e) => panic!("moto {method} {path}: {e}\n--- moto log ---\n{}", self.log_contents()),
        }
    }

    /// Body of `GET /moto-api/data.json`: `{service: {ModelClass: [instance, ..]}}`.
    pub fn data(&self) -> String {
        self.request("GET", "/moto-api/data.json", "")
    }

    /// Number of instances of moto model `service`/`model` in data.json
    /// (0 when the service or model is absent).
    pub fn model_count(&self, service: &str, model: &str) -> usize {
        let data: serde_json::Value =
            serde_json::from_str(&self.data()).unwrap_or_else(|e| panic!("moto data.json is not JSON: {e}"));
        match &data[service][model] {
            serde_json::Value::Array(a) => a.len(),
            serde_json::Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    /// Number of successful GetSessionToken calls since start/reset.
    pub fn sts_token_count(&self) -> usize {
        self.model_count("sts", "Token")
    }

    /// Number of successful AssumeRole* calls since start/reset.
    pub fn assumed_role_count(&self) -> usize {
        self.model_count("sts", "AssumedRole")
    }

    /// Forget all state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        self.request("POST", "/moto-api/reset", "");
    }

    /// Run a python3 script with boto3 against this moto and return its
    /// stdout (panics with stderr and moto's log on failure).
    ///
    /// The script starts with a prelude defining `URL`, `REGION` and
    /// `client(service)`; credentials come from the environment (default
    /// `testing`/`testing`, override with `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` in `env`), never argv.
    /// Pass other inputs through `env` as well and read them with
    /// `os.environ`.
    pub fn boto3(&self, script: &str, env: &[(&str, &str)]) -> String {
        let prelude = "import os, sys, json, boto3\n\
                       URL = os.environ['MOTO_URL']\n\
                       REGION = os.environ['AWS_DEFAULT_REGION']\n\
                       def client(service):\n    \
                           return boto3.client(service, endpoint_url=URL, region_name=REGION)\n";
        let full = format!("{prelude}{script}");
        let mut cmd = Command::new(python());
        cmd.args(["-c", &full]).stdin(Stdio::null());
        scrub_aws_env(&mut cmd);
        cmd.env("MOTO_URL", self.url())
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .envs(env.iter().copied());
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", python().display()));
        if !out.status.success() {
            panic!(
                "boto3 script failed ({})\n--- script ---\n{script}\n--- stdout ---\n{}\n\
                 --- stderr ---\n{}\n--- moto log (tail) ---\n{}",
                out.status,
                stdout(&out),
                stderr(&out),
                tail(&self.log_contents(), 40)
            );
        }
        stdout(&out)
    }

    /// Like [`Moto::boto3`] but with moto's authentication switched off for
    /// the duration (via `POST /moto-api/reset-auth`), so admin set-up works
    /// on a server started with `INITIAL_NO_AUTH_ACTION_COUNT`. Note that
    /// moto restarts its no-auth request counter when this is restored.
    pub fn boto3_admin(&self, script: &str, env: &[(&str, &str)]) -> String {
        let previous = self.set_no_auth_count("inf");
        struct Restore<'a>(&'a Moto, String);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                if !thread::panicking() {
                    self.0.set_no_auth_count(&self.1);
                } else {
                    let _ = http(self.0.port, "POST", "/moto-api/reset-auth", &self.1);
                }
            }
        }
        let _restore = Restore(self, previous);
        self.boto3(script, env)
    }

    /// Set moto's INITIAL_NO_AUTH_ACTION_COUNT; returns the previous value.
    fn set_no_auth_count(&self, value: &str) -> String {
        let body = self.request("POST", "/moto-api/reset-auth", value);
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("moto reset-auth answer is not JSON ({e}): {body}"));
        v["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
            .as_str()
            .unwrap_or_else(|| panic!("unexpected moto reset-auth answer: {body}"))
            .to_string()
    }

    /// Create IAM user `name` with an access key and an inline policy
    /// allowing everything (so it also works when moto checks auth).
    /// Returns (access_key_id, secret_access_key).
    pub fn create_user(&self, name: &str) -> (String, String) {
        let out = self.boto3_admin(
            r#"
iam = client('iam')
name = os.environ['IAM_USER']
iam.create_user(UserName=name)
iam.put_user_policy(UserName=name, PolicyName='allow-all', PolicyDocument=json.dumps({
    'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}],
}))
key = iam.create_access_key(UserName=name)['AccessKey']
print(key['AccessKeyId'])
print(key['SecretAccessKey'])
"#,
            &[("IAM_USER", name)],
        );
        let mut lines = out.lines().map(str::trim).filter(|l| !l.is_empty());
        match (lines.next(), lines.next()) {
            (Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
            _ => panic!("create_user: unexpected output {out:?}"),
        }
    }

    /// Create a virtual MFA device named `user`, enable it for IAM user
    /// `user` (moto accepts any codes) and return its serial ARN.
    pub fn create_virtual_mfa(&self, user: &str) -> String {
        let out = self.boto3_admin(
            r#"
iam = client('iam')
name = os.environ['IAM_USER']
serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)['VirtualMFADevice']['SerialNumber']
iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                      AuthenticationCode1='123456', AuthenticationCode2='654321')
print(serial)
"#,
            &[("IAM_USER", user)],
        );
        let serial = out.trim();
        assert!(serial.starts_with("arn:aws:iam::"), "create_virtual_mfa: unexpected output {out:?}");
        serial.to_string()
    }

    /// Moto's default account id, "123456789012".
    pub fn account_id(&self) -> String {
        MOTO_ACCOUNT_ID.to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll data.json until HTTP 200. `Err(Some(status))` if moto exited
/// first, `Err(None)` on timeout.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), Option<ExitStatus>> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Some(status));
        }
        if let Ok((200, _)) = http(port, "GET", "/moto-api/data.json", "") {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(None)
}

fn read_log(log: &Path) -> String {
    fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", log.display()))
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// Remove inherited AWS/proxy settings so helper processes only ever talk to
/// the local moto with the credentials we give them.
fn scrub_aws_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let upper = k.to_ascii_uppercase();
        if upper.starts_with("AWS_") || upper.starts_with("AWSENV_") || upper.ends_with("_PROXY") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "*");
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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
        shell.require();
        let mut cmd = self.command(shell.name());
        match shell {
            Shell::Bash => cmd.args(["--noprofile", "--norc", "-c", script]),
            Shell::Zsh => cmd.args(["-f", "-c", script]),
            Shell::Fish => {
                let xdg = self.root().join("xdg");
                for (var, sub) in
                    [("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")]
                {
                    let d = xdg.join(sub);
                    fs::create_dir_all(&d).expect("create XDG dir");
                    cmd.env(var, d);
                }
                cmd.args(["--no-config", "-c", script])
            }
        };
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", shell.name()))
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

/// Panic, showing status and both streams, unless `o` succeeded.
#[track_caller]
pub fn assert_success(o: &Output) {
    if !o.status.success() {
        panic!("command failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}", o.status, stdout(o), stderr(o));
    }
}
pub mod ssh;
pub mod sso;
