//! moto's server on 127.0.0.1 ([`Moto`]): plain HTTP, or HTTPS behind a throw-away CA
//! ([`Moto::start_tls`]) that clients trust only through a CA file; and the python that runs it,
//! with a clean environment.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{MOTO_ACCOUNT_ID, REGION, free_port, python, stderr, stdout};

/// How long moto may take to answer after being spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// python with a clean environment
// ---------------------------------------------------------------------------

/// python3 (the one with moto) with no inherited AWS, awsenv, proxy or TLS-trust settings, so that
/// it talks only to the local moto with the credentials it is given.
pub fn python_command() -> Command {
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
pub fn run_python(what: &str, script: &str, env: &[(&str, &str)]) -> String {
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
// Tiny HTTP/1.0 client
// ---------------------------------------------------------------------------

/// One HTTP/1.0 request to 127.0.0.1:`port`; returns (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> io::Result<(u16, String)> {
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

/// `METHOD` `URL` with `BODY` (text/plain) over TLS trusting only `CA`; prints the status on the
/// first line, then the body.
const HTTPS_REQUEST: &str = r#"
import os, ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(cafile=os.environ['CA'])
method = os.environ['METHOD']
data = os.environ['BODY'].encode() if method != 'GET' else None
req = urllib.request.Request(os.environ['URL'], data=data, method=method,
                             headers={'Content-Type': 'text/plain'})
try:
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write('%d\n' % status)
sys.stdout.flush()
sys.stdout.buffer.write(body)
"#;

// ---------------------------------------------------------------------------
// Moto
// ---------------------------------------------------------------------------

/// A moto server on 127.0.0.1, killed (and reaped) on drop. Over TLS its certificate is signed by
/// a CA of its own ([`Moto::ca`]), which nothing trusts unless told to.
pub struct Moto {
    child: Child,
    port: u16,
    tls: bool,
    /// moto's log and, over TLS, the CA and the server's certificate and key.
    dir: TempDir,
}

impl Moto {
    /// Start moto with default settings (no signature checks).
    pub fn start() -> Moto {
        Moto::launch(&[], false)
    }

    /// Start moto with extra environment variables for the server, e.g.
    /// `("INITIAL_NO_AUTH_ACTION_COUNT", "0")` to make it check signatures
    /// and IAM policies.
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        Moto::launch(env, false)
    }

    /// Start moto over TLS (`-c`/`-k`) with a new throw-away CA: reached as `https://`, trusted
    /// only through [`Moto::ca`].
    pub fn start_tls() -> Moto {
        Moto::launch(&[], true)
    }

    fn launch(env: &[(&str, &str)], tls: bool) -> Moto {
        let dir = tempfile::Builder::new().prefix("awsenv-moto-").tempdir().expect("create moto tempdir");
        if tls {
            let cert_dir = dir.path().to_str().expect("utf-8 tempdir").to_owned();
            run_python("certificate generation", MAKE_CERTS, &[("CERT_DIR", &cert_dir)]);
        }
        let log = dir.path().join("moto.log");
        // The free port may be grabbed by someone else between probing and
        // moto binding it; retry a few times in that case.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_file = fs::File::create(&log).expect("create moto log");
            let mut cmd = python_command();
            cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()]);
            if tls {
                cmd.arg("-c").arg(dir.path().join("server.pem")).arg("-k").arg(dir.path().join("server.key"));
            }
            cmd.current_dir(dir.path())
                .stdout(log_file.try_clone().expect("dup log fd"))
                .stderr(log_file)
                .envs(env.iter().copied());
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn `{} -m moto.server`: {e}", python().display()));
            match wait_ready(&mut child, port, tls) {
                Ok(()) => {
                    let moto = Moto { child, port, tls, dir };
                    if tls {
                        // Listening; now prove that TLS with the CA works end to end.
                        moto.data();
                    }
                    return moto;
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
        read_log(&self.dir.path().join("moto.log"))
    }

    /// `http://127.0.0.1:PORT`, or `https://` over TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The throw-away CA's certificate, PEM (moto over TLS only).
    pub fn ca(&self) -> PathBuf {
        assert!(self.tls, "moto was started without TLS: it has no CA");
        self.dir.path().join("ca.pem")
    }

    /// The same CA certificate, DER.
    pub fn ca_der(&self) -> PathBuf {
        assert!(self.tls, "moto was started without TLS: it has no CA");
        self.dir.path().join("ca.der")
    }

    /// `method path` with `body`; (status, body). Over TLS through python's client, trusting only
    /// the CA.
    pub fn exchange(&self, method: &str, path: &str, body: &str) -> io::Result<(u16, String)> {
        if !self.tls {
            return http(self.port, method, path, body);
        }
        let url = format!("{}{path}", self.url());
        let out = python_command()
            .args(["-c", HTTPS_REQUEST])
            .env("URL", &url)
            .env("METHOD", method)
            .env("BODY", body)
            .env("CA", self.ca())
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!("{method} {url}: {}", stderr(&out))));
        }
        let text = stdout(&out);
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad answer: {text:?}"));
        let (status, body) = text.split_once('\n').ok_or_else(bad)?;
        Ok((status.parse().map_err(|_| bad())?, body.to_string()))
    }

    /// `method path` against moto; panics (with moto's log) unless HTTP 200.
    fn request(&self, method: &str, path: &str, body: &str) -> String {
        match self.exchange(method, path, body) {
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
    /// `os.environ`. Over TLS, boto3 trusts the CA through `AWS_CA_BUNDLE`.
    pub fn boto3(&self, script: &str, env: &[(&str, &str)]) -> String {
        let prelude = "import os, sys, json, boto3\n\
                       URL = os.environ['MOTO_URL']\n\
                       REGION = os.environ['AWS_DEFAULT_REGION']\n\
                       def client(service):\n    \
                           return boto3.client(service, endpoint_url=URL, region_name=REGION)\n";
        let full = format!("{prelude}{script}");
        let mut cmd = python_command();
        cmd.args(["-c", &full])
            .env("MOTO_URL", self.url())
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        if self.tls {
            cmd.env("AWS_CA_BUNDLE", self.ca());
        }
        cmd.envs(env.iter().copied());
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
                    let _ = self.0.exchange("POST", "/moto-api/reset-auth", &self.1);
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

/// Poll until moto answers: data.json with HTTP 200, or over TLS a connection accepted (a TLS
/// client per poll would be slow). `Err(Some(status))` if moto exited first, `Err(None)` on
/// timeout.
fn wait_ready(child: &mut Child, port: u16, tls: bool) -> Result<(), Option<ExitStatus>> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Some(status));
        }
        let ready = if tls {
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        } else {
            matches!(http(port, "GET", "/moto-api/data.json", ""), Ok((200, _)))
        };
        if ready {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(None)
}

fn read_log(log: &std::path::Path) -> String {
    fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", log.display()))
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
