//! The IAM Identity Center fake (`tests/fakes/sso.py`) next to a moto server, and the sandbox
//! settings that point awsenv, the aws CLI and boto3 at it through the standard
//! `AWS_ENDPOINT_URL_SSO_OIDC` / `AWS_ENDPOINT_URL_SSO` variables.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

use super::moto::{http, python_command};
use super::{Moto, Sandbox, python};

/// The start URL of the fake's instance (its accounts file checks it).
pub const START_URL: &str = "https://d-9067000000.awsapps.com/start";
/// The user the fake signs in; role sessions are named after it.
pub const USER: &str = "alice@example.com";

const ACCOUNTS: &str = r#"{
  "startUrl": "https://d-9067000000.awsapps.com/start",
  "userName": "alice@example.com",
  "accounts": [
    {"accountId": "111111111111", "accountName": "dev", "emailAddress": "dev@example.com", "roles": ["ReadOnly", "Admin"]},
    {"accountId": "222222222222", "accountName": "prod", "emailAddress": "prod@example.com", "roles": ["ReadOnly"]}
  ]
}"#;

/// `tests/fakes/NAME`.
pub fn fake_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes").join(name)
}

/// The fake on 127.0.0.1, killed on drop.
pub struct FakeSso {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl FakeSso {
    /// Starts `sso.py` on a free port with the two-account file above and `extra` options.
    pub fn start(moto: &Moto, extra: &[&str]) -> FakeSso {
        let dir = tempfile::Builder::new().prefix("awsenv-fake-sso-").tempdir().expect("create tempdir");
        let accounts = dir.path().join("accounts.json");
        fs::write(&accounts, ACCOUNTS).expect("write accounts file");
        let log = dir.path().join("sso.log");
        // python3 with no inherited AWS, awsenv or proxy settings.
        let mut cmd = python_command();
        cmd.arg(fake_path("sso.py"))
            .args(["--port", "0", "--moto", &moto.url(), "--accounts"])
            .arg(&accounts)
            .args(extra)
            .arg("--verbose")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).expect("create fake log"));
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", python().display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line.trim().strip_prefix("listening on 127.0.0.1:").and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sso.py did not start: {line:?}\n--- log ---\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
        };
        FakeSso { child, port, log, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `method path` with a JSON body; (status, body).
    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(self.port, method, path, body).unwrap_or_else(|e| panic!("fake {method} {path}: {e}"))
    }

    /// `POST /_fake/config` with `json`; panics unless accepted.
    pub fn configure(&self, json: &str) {
        let (status, body) = self.request("POST", "/_fake/config", json);
        assert_eq!(status, 200, "fake config {json}: {body}");
    }

    /// `GET /_fake/calls`.
    pub fn calls(&self) -> serde_json::Value {
        let (status, body) = self.request("GET", "/_fake/calls", "");
        assert_eq!(status, 200, "fake calls: {body}");
        serde_json::from_str(&body).expect("calls are JSON")
    }

    /// How many requests of `operation` the fake has seen.
    pub fn count(&self, operation: &str) -> u64 {
        self.calls()["operations"][operation].as_u64().unwrap_or(0)
    }

    /// How many CreateToken calls of `grant` gave a token.
    pub fn granted(&self, grant: &str) -> u64 {
        self.calls()["granted"][grant].as_u64().unwrap_or(0)
    }

    /// Settings for a sandbox: the endpoint variables, `BROWSER` (the fake browser, logging to
    /// `browser.log` in the sandbox) and a config file with `[sso-session corp]`, profile `dev`
    /// (ReadOnly in 111111111111 through it) and the legacy profile `legacy` (ReadOnly in
    /// 222222222222).
    pub fn sandbox(&self, moto: &Moto) -> Sandbox {
        let mut sandbox = Sandbox::new(Some(moto));
        sandbox.set_env("AWS_ENDPOINT_URL_SSO_OIDC", &self.url());
        sandbox.set_env("AWS_ENDPOINT_URL_SSO", &self.url());
        sandbox.set_env("AWS_ENDPOINT_URL_STS", &moto.url());
        sandbox.set_env("BROWSER", fake_path("browser.sh").to_str().expect("utf-8 path"));
        let log = sandbox.root().join("browser.log");
        sandbox.set_env("FAKE_BROWSER_LOG", log.to_str().expect("utf-8 path"));
        sandbox.set_env("AWS_REGION", "us-east-1");
        let aws = sandbox.home().join(".aws");
        fs::create_dir_all(&aws).expect("create ~/.aws");
        let config = format!(
            "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\
             sso_registration_scopes = sso:account:access\n\n\
             [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-east-1\n\n\
             [profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\
             sso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = us-east-1\n"
        );
        fs::write(aws.join("config"), config).expect("write config");
        sandbox
    }
}

impl Drop for FakeSso {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines the fake browser logged (one per launch) in `sandbox`.
pub fn browser_launches(sandbox: &Sandbox) -> Vec<String> {
    fs::read_to_string(sandbox.root().join("browser.log"))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}
