//! STS over TLS: moto's server behind a throw-away CA, reached only through `AWS_ENDPOINT_URL`
//! (https) and trusted only through `AWS_CA_BUNDLE`.
//!
//! The harness's [`common::Moto`] speaks plain HTTP (its readiness poll and `url()` are
//! `http://`), so this file starts its own moto with `-c`/`-k` and talks to it with python's TLS
//! client and the CA.

mod common;

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{MOTO_ACCOUNT_ID, REGION, Sandbox, assert_success, fresh_code, python, stderr, stdout};
use tempfile::TempDir;

/// How long moto may take to answer over TLS after being spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// python
// ---------------------------------------------------------------------------

/// python3 with no inherited AWS, awsenv, proxy or TLS-trust settings.
fn python_command() -> Command {
    let mut cmd = Command::new(python());
    cmd.stdin(Stdio::null());
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let upper = k.to_ascii_uppercase();
        if upper.starts_with("AWS_")
            || upper.starts_with("AWSENV_")
            || upper.ends_with("_PROXY")
            || upper.starts_with("SSL_CERT_")
            || upper.starts_with("REQUESTS_CA_")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "*");
    cmd
}

/// Run `script` with python3 and `env`; its stdout, or a panic with both streams.
fn run_python(what: &str, script: &str, env: &[(&str, &str)]) -> String {
    let out = python_command()
        .args(["-c", script])
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python().display()));
    if !out.status.success() {
        panic!(
            "{what} failed ({})\n--- script ---\n{script}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            stdout(&out),
            stderr(&out)
        );
    }
    stdout(&out)
}

// ---------------------------------------------------------------------------
// A throw-away CA and a server certificate for 127.0.0.1 and localhost
// ---------------------------------------------------------------------------

const MAKE_CERTS: &str = r#"
import datetime, ipaddress, os
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out = os.environ['CERT_DIR']
now = datetime.datetime.now(datetime.timezone.utc)
start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

def usage(**on):
    names = ['digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment',
             'key_agreement', 'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only']
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})

ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'awsenv throw-away test CA')])
ca = (x509.CertificateBuilder()
      .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
      .sign(ca_key, hashes.SHA256()))

key = ec.generate_private_key(ec.SECP256R1())
server = (x509.CertificateBuilder()
      .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')]))
      .issuer_name(ca_name).public_key(key.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
      .add_extension(x509.SubjectAlternativeName([
          x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')]), critical=False)
      .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
      .add_extension(usage(digital_signature=True), critical=True)
      .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
      .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                     critical=False)
      .sign(ca_key, hashes.SHA256()))

def write(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)

write('ca.pem', ca.public_bytes(serialization.Encoding.PEM))
write('ca.der', ca.public_bytes(serialization.Encoding.DER))
write('server.pem', server.public_bytes(serialization.Encoding.PEM))
write('server.key', key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
"#;

/// GET `URL` + `REQ_PATH` over TLS trusting only `CA`; prints the body.
const HTTPS_GET: &str = r#"
import os, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=os.environ['CA'])
req = urllib.request.Request(os.environ['URL'] + os.environ['REQ_PATH'])
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    if r.status != 200:
        sys.exit('HTTP %d' % r.status)
    sys.stdout.write(r.read().decode())
"#;

// ---------------------------------------------------------------------------
// moto over TLS
// ---------------------------------------------------------------------------

/// moto's server on 127.0.0.1 with the throw-away certificate; killed and reaped on drop.
struct TlsMoto {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl TlsMoto {
    fn start() -> TlsMoto {
        let dir = tempfile::Builder::new().prefix("awsenv-tls-").tempdir().expect("create tempdir");
        let cert_dir = dir.path().to_str().expect("utf-8 tempdir").to_owned();
        run_python("certificate generation", MAKE_CERTS, &[("CERT_DIR", &cert_dir)]);
        let log = dir.path().join("moto.log");
        let mut last_log = String::new();
        // The free port may be taken between probing and moto binding it: retry then.
        for _ in 0..5 {
            let port = free_port();
            let log_file = fs::File::create(&log).expect("create moto log");
            let mut child = python_command()
                .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
                .arg("-c")
                .arg(dir.path().join("server.pem"))
                .arg("-k")
                .arg(dir.path().join("server.key"))
                .current_dir(dir.path())
                .stdout(log_file.try_clone().expect("dup log fd"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn `{} -m moto.server`: {e}", python().display()));
            match wait_listening(&mut child, port) {
                Ok(()) => {
                    let moto = TlsMoto { child, port, dir };
                    // Listening; now prove that TLS with the CA works end to end.
                    moto.get("/moto-api/data.json");
                    return moto;
                }
                Err(exit) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = fs::read_to_string(&log).unwrap_or_default();
                    if exit.is_some() && last_log.contains("Address already in use") {
                        continue;
                    }
                    let why = match exit {
                        Some(status) => format!("exited ({status}) before listening"),
                        None => format!("did not listen within {STARTUP_TIMEOUT:?}"),
                    };
                    panic!("moto (TLS) on 127.0.0.1:{port} {why}\n--- moto log ---\n{last_log}");
                }
            }
        }
        panic!("moto (TLS) could not find a free port\n--- moto log ---\n{last_log}");
    }

    /// `https://127.0.0.1:PORT`
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The throw-away CA's certificate, PEM.
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The same CA certificate, DER.
    fn ca_der(&self) -> PathBuf {
        self.dir.path().join("ca.der")
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// Body of `GET path` over https, trusting only the CA (HTTP 200 required).
    fn get(&self, path: &str) -> String {
        let url = self.url();
        let ca = self.ca();
        let out = python_command()
            .args(["-c", HTTPS_GET])
            .env("URL", &url)
            .env("REQ_PATH", path)
            .env("CA", &ca)
            .output()
            .expect("run python");
        if !out.status.success() {
            panic!(
                "GET {url}{path} with CA {} failed\n{}\n--- moto log ---\n{}",
                ca.display(),
                stderr(&out),
                self.log()
            );
        }
        stdout(&out)
    }

    /// Successful GetSessionToken calls so far (moto's `sts`/`Token` models in data.json).
    fn sts_token_count(&self) -> usize {
        let body = self.get("/moto-api/data.json");
        let data: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("data.json is not JSON ({e}): {body}"));
        match &data["sts"]["Token"] {
            serde_json::Value::Array(a) => a.len(),
            serde_json::Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    /// IAM user `name` with an access key, made with boto3 over https (`verify=ca.pem`).
    fn create_user(&self, name: &str) -> (String, String) {
        let script = r#"
import os, boto3
iam = boto3.client('iam', endpoint_url=os.environ['MOTO_URL'], region_name=os.environ['AWS_DEFAULT_REGION'],
                   verify=os.environ['CA'])
name = os.environ['IAM_USER']
iam.create_user(UserName=name)
key = iam.create_access_key(UserName=name)['AccessKey']
print(key['AccessKeyId'])
print(key['SecretAccessKey'])
"#;
        let url = self.url();
        let ca = self.ca();
        let out = run_python(
            "boto3 create_user over https",
            script,
            &[
                ("MOTO_URL", &url),
                ("CA", ca.to_str().expect("utf-8 path")),
                ("AWS_DEFAULT_REGION", REGION),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("IAM_USER", name),
            ],
        );
        let mut lines = out.lines().map(str::trim).filter(|l| !l.is_empty());
        match (lines.next(), lines.next()) {
            (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
            _ => panic!("create_user: unexpected output {out:?}"),
        }
    }
}

impl Drop for TlsMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until something accepts on 127.0.0.1:`port`. `Err(Some(status))` if moto exited first,
/// `Err(None)` on timeout.
fn wait_listening(child: &mut Child, port: u16) -> Result<(), Option<std::process::ExitStatus>> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Some(status));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(None)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

// ---------------------------------------------------------------------------
// The world: moto over TLS, IAM user alice, account `work` in the sandbox's store
// ---------------------------------------------------------------------------

struct World {
    moto: TlsMoto,
    sb: Sandbox,
}

fn world() -> World {
    let moto = TlsMoto::start();
    let (key, secret) = moto.create_user("alice");
    let mut sb = Sandbox::new(None);
    sb.set_env("AWS_ENDPOINT_URL", &moto.url());
    // Bound every STS attempt: a hang shows as a failure, not a stuck test.
    sb.set_env("AWSENV_TIMEOUT", "10");
    sb.add_account("work", &key, &secret, Some("alice"));
    sb.write_accounts_json(&format!("{{\"work\": \"arn:aws:iam::{MOTO_ACCOUNT_ID}:\"}}"));
    World { moto, sb }
}

impl World {
    /// `awsenv mfa --shell bash work` with a fresh code and `AWS_CA_BUNDLE` set to `bundle`
    /// (unset for `None`).
    fn mfa(&self, bundle: Option<&Path>) -> Output {
        let mut cmd = self.sb.awsenv();
        cmd.args(["mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", fresh_code());
        match bundle {
            Some(path) => cmd.env("AWS_CA_BUNDLE", path),
            None => cmd.env_remove("AWS_CA_BUNDLE"),
        };
        cmd.output().expect("run awsenv")
    }

    fn cache_entry(&self) -> PathBuf {
        self.sb.store().join(".awsenv").join("work.mfa.json")
    }

    /// A file of the sandbox with `contents`.
    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.sb.root().join(name);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

fn show(o: &Output) -> String {
    format!("status {}\n--- stdout ---\n{}\n--- stderr ---\n{}", o.status, stdout(o), stderr(o))
}

/// The one stderr line of a failure, after checking the contract: exactly one line, starting with
/// `awsenv: `, and nothing on stdout.
#[track_caller]
fn one_error_line(o: &Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line expected\n{}", show(o));
    assert!(lines[0].starts_with("awsenv: "), "the line starts with `awsenv: `\n{}", show(o));
    assert_eq!(stdout(o), "", "nothing on stdout on failure\n{}", show(o));
    lines[0].to_owned()
}

/// The failure changed nothing: no cache entry, no STS session made at moto.
#[track_caller]
fn assert_untouched(w: &World, o: &Output) {
    assert!(!w.cache_entry().exists(), "no cache entry after a failure\n{}", show(o));
    assert_eq!(w.moto.sts_token_count(), 0, "no GetSessionToken reached moto\n{}", show(o));
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn mfa_over_https_trusts_the_ca_bundle() {
    let w = world();
    assert_eq!(w.moto.sts_token_count(), 0);

    let out = w.mfa(Some(&w.moto.ca()));
    assert_success(&out);
    let exports = stdout(&out);
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWSENV_EXPIRES"] {
        assert!(exports.contains(&format!("export {var}=")), "export of {var} expected\n{}", show(&out));
    }
    assert!(exports.contains("export AWSENV_SESSION='mfa'\n"), "an MFA session\n{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1, "one GetSessionToken at moto\n{}", show(&out));

    // The exports are the session STS gave over TLS, and it is cached.
    let path = w.cache_entry();
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let entry: serde_json::Value = serde_json::from_str(&text).expect("cache entry is JSON");
    let key = entry["access_key_id"].as_str().unwrap_or_else(|| panic!("no access_key_id in {entry}"));
    assert!(
        exports.contains(&format!("export AWS_ACCESS_KEY_ID='{key}'\n")),
        "the cached session's key is exported\n{}",
        show(&out)
    );
}

#[test]
fn mfa_over_https_without_the_ca_bundle_fails_on_the_certificate() {
    let w = world();
    let started = Instant::now();
    let out = w.mfa(None);
    let took = started.elapsed();

    assert_eq!(out.status.code(), Some(6), "exit 6 (unreachable / TLS)\n{}", show(&out));
    let line = one_error_line(&out);
    assert!(line.contains("GetSessionToken"), "the line names the call: {line}");
    let lower = line.to_ascii_lowercase();
    assert!(
        ["certificate", "tls", "endpoint", "issuer"].iter().any(|word| lower.contains(word)),
        "the line says the endpoint's certificate was not trusted: {line}"
    );
    assert!(took < Duration::from_secs(10), "a certificate failure is not a timeout: {took:?}");
    assert_untouched(&w, &out);

    // The same world works once the CA is trusted: the failure was the certificate alone.
    let out = w.mfa(Some(&w.moto.ca()));
    assert_success(&out);
    assert_eq!(w.moto.sts_token_count(), 1);
}

#[test]
fn mfa_with_a_missing_ca_bundle_names_the_file() {
    let w = world();
    let missing = w.sb.root().join("no-such-ca.pem");
    let out = w.mfa(Some(&missing));
    assert_eq!(out.status.code(), Some(3), "exit 3 (configuration)\n{}", show(&out));
    let line = one_error_line(&out);
    assert!(line.contains(missing.to_str().unwrap()), "the line names the file: {line}");
    assert!(line.contains("AWS_CA_BUNDLE"), "the line names the variable: {line}");
    assert_untouched(&w, &out);
}

/// `AWS_CA_BUNDLE` naming a file that holds no PEM certificate must be refused as configuration
/// (exit 3, one line naming the file), before any STS call; never a TLS failure that hides the
/// cause, and never a panic.
#[track_caller]
fn assert_bad_bundle_refused(w: &World, bundle: &Path) {
    let out = w.mfa(Some(bundle));
    let line = one_error_line(&out);
    assert!(
        line.contains(bundle.to_str().unwrap()),
        "the line names the bundle {}: {line}\n{}",
        bundle.display(),
        show(&out)
    );
    assert_eq!(out.status.code(), Some(3), "exit 3 (configuration)\n{}", show(&out));
    assert_untouched(w, &out);
}

#[test]
fn mfa_with_a_text_file_as_ca_bundle_is_a_clear_error() {
    let w = world();
    let bundle = w.write("not-a-bundle.txt", b"this is not a certificate\n");
    assert_bad_bundle_refused(&w, &bundle);
}

#[test]
fn mfa_with_a_der_ca_bundle_is_a_clear_error() {
    let w = world();
    assert_bad_bundle_refused(&w, &w.moto.ca_der());
}

#[test]
fn mfa_with_a_corrupt_pem_ca_bundle_is_a_clear_error() {
    let w = world();
    let bundle = w.write(
        "corrupt.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    );
    assert_bad_bundle_refused(&w, &bundle);
}
