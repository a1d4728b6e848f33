//! Real OpenSSH parts for the SSH tests: an sshd started on a loopback port with its own config
//! and host key, an ssh-agent, key generation and an ssh client, plus moto's request recording.
//!
//! sshd trusts an AuthorizedKeysCommand only when every directory above it belongs to root and is
//! writable by no one else, and its command user (`nobody`) must reach what it runs: so the test
//! files live in a root-owned 0755 directory under /var/lib/awsenv-tests, not under /tmp.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::moto::http;
use super::{Moto, free_port};

/// The local account the tests log in as, created once (idempotently) with `useradd`.
pub const LOGIN_USER: &str = "awsenv-ssh-test";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!("{cmd:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    out
}

/// Creates [`LOGIN_USER`] unless it exists, with a password field of `*` (no password, but not
/// locked: sshd refuses key logins to a locked account).
pub fn ensure_login_user() {
    let exists = Command::new("id").arg(LOGIN_USER).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !exists.is_ok_and(|s| s.success()) {
        let out = Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", LOGIN_USER]).output();
        let out = out.unwrap_or_else(|e| panic!("cannot run useradd (tests run as root): {e}"));
        // Another test may have created it in the meantime.
        let raced = String::from_utf8_lossy(&out.stderr).contains("already exists");
        assert!(out.status.success() || raced, "useradd: {}", String::from_utf8_lossy(&out.stderr));
    }
    run(Command::new("usermod").args(["-p", "*", LOGIN_USER]));
}

/// A root-owned 0755 directory whose every parent is root-owned and not group/other-writable.
pub fn root_dir() -> TempDir {
    let base = Path::new("/var/lib/awsenv-tests");
    fs::create_dir_all(base).expect("create /var/lib/awsenv-tests");
    fs::set_permissions(base, fs::Permissions::from_mode(0o755)).expect("chmod base");
    let dir = tempfile::Builder::new().prefix("t-").tempdir_in(base).expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod tempdir");
    dir
}

/// Copies the awsenv under test into `dir/bin/awsenv` (root, 0755), where sshd accepts it and
/// `nobody` can run it.
pub fn install_awsenv(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).expect("create bin");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod bin");
    let target = bin.join("awsenv");
    fs::copy(env!("CARGO_BIN_EXE_awsenv"), &target).expect("copy awsenv");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).expect("chmod awsenv");
    target
}

/// `ssh-keygen -t TYPE` into `path` (no passphrase); returns the public key line.
pub fn keygen(kind: &str, path: &Path) -> String {
    let _ = fs::remove_file(path);
    let _ = fs::remove_file(path.with_extension("pub"));
    run(Command::new("ssh-keygen").args(["-q", "-t", kind, "-N", "", "-C", "test", "-f"]).arg(path));
    let public = fs::read_to_string(format!("{}.pub", path.display())).expect("read public key");
    public.trim().to_owned()
}

/// An sshd on 127.0.0.1 with `extra` config lines, killed on drop.
pub struct Sshd {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Sshd {
    /// Runs `/usr/sbin/sshd -D` with its files in `dir` (see [`root_dir`]).
    pub fn start(dir: &Path, extra: &str) -> Sshd {
        fs::create_dir_all("/run/sshd").expect("create /run/sshd (privilege separation)");
        let host_key = dir.join("ssh_host_ed25519_key");
        if !host_key.exists() {
            keygen("ed25519", &host_key);
        }
        let port = free_port();
        let config = dir.join(format!("sshd_config-{port}"));
        let text = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}/sshd-{port}.pid\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nAuthorizedKeysFile none\nMaxStartups 100\nMaxSessions 100\n\
             LogLevel VERBOSE\n{extra}\n",
            host_key.display(),
            dir.display()
        );
        fs::write(&config, text).expect("write sshd_config");
        let log = dir.join(format!("sshd-{port}.log"));
        let check = Command::new("/usr/sbin/sshd").args(["-t", "-f"]).arg(&config).output().expect("sshd -t");
        assert!(check.status.success(), "sshd -t: {}", String::from_utf8_lossy(&check.stderr));
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).expect("sshd log"))
            .spawn()
            .expect("spawn sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen on {port}");
            thread::sleep(Duration::from_millis(50));
        }
        Sshd { child, port, log }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An ssh client for `LOGIN_USER@127.0.0.1` on this port that runs `remote`: no config file,
    /// no known hosts, batch mode, plus `options` (`-i KEY`, `-o IdentityAgent=...`).
    pub fn ssh(&self, options: &[&str], remote: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"])
            .args(options)
            .args(["-p", &self.port.to_string(), &format!("{LOGIN_USER}@127.0.0.1"), remote])
            .stdin(Stdio::null());
        cmd
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `ssh-agent -D` on a socket in `dir`, killed on drop.
pub struct SshAgent {
    child: Child,
    pub socket: PathBuf,
}

impl SshAgent {
    pub fn start(dir: &Path) -> SshAgent {
        let socket = dir.join(format!("agent-{}.sock", free_port()));
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not create {}", socket.display());
            thread::sleep(Duration::from_millis(20));
        }
        SshAgent { child, socket }
    }

    /// `ssh-add -l` (its stdout; "The agent has no identities." when empty).
    pub fn list(&self) -> String {
        let out = Command::new("ssh-add")
            .arg("-l")
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .expect("ssh-add -l");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Moto's recording of the requests it served (started with `MOTO_ENABLE_RECORDING`): one JSON
/// object per request.
pub fn recorded_requests(moto: &Moto) -> Vec<serde_json::Value> {
    let (status, body) =
        http(moto.port(), "GET", "/moto-api/recorder/download-recording", "").expect("download recording");
    assert_eq!(status, 200, "download-recording: {body}");
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("recording line"))
        .collect()
}

/// The body of a recorded request as text (moto stores form bodies base64-encoded).
pub fn recorded_body(request: &serde_json::Value) -> String {
    let body = request["body"].as_str().unwrap_or_default();
    match request["body_encoded"].as_bool() {
        Some(true) => {
            let out = Command::new("base64").arg("-d").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
            let mut child = out.expect("base64");
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write base64");
            String::from_utf8_lossy(&child.wait_with_output().expect("base64 -d").stdout).into_owned()
        }
        _ => body.to_owned(),
    }
}

/// Moto's start-up settings that make it record every request into `dir`.
pub fn recording_env(dir: &Path) -> [(&'static str, String); 2] {
    [
        ("MOTO_ENABLE_RECORDING", "True".to_owned()),
        ("MOTO_RECORDER_FILEPATH", dir.join("moto-recording").display().to_string()),
    ]
}

/// `POST path body` to moto, which must answer 2xx.
pub fn moto_post(moto: &Moto, path: &str, body: &str) {
    let (status, answer) = http(moto.port(), "POST", path, body).expect("moto POST");
    assert!((200..300).contains(&status), "moto POST {path}: HTTP {status}: {answer}");
}
