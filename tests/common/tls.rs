//! moto's server over TLS, behind a throw-away CA: reached through an `https://` endpoint and
//! trusted only through a CA file. [`super::Moto`] speaks plain HTTP (its readiness poll and
//! `url()` are `http://`), so this starts its own moto with `-c`/`-k` and talks to it with
//! python's TLS client and the CA.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{REGION, free_port, python, stderr, stdout};

/// How long moto may take to answer over TLS after being spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// python with a clean environment
// ---------------------------------------------------------------------------

/// python3 with no inherited AWS, awsenv, proxy or TLS-trust settings.
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
pub struct TlsMoto {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl TlsMoto {
    pub fn start() -> TlsMoto {
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
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The throw-away CA's certificate, PEM.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The same CA certificate, DER.
    pub fn ca_der(&self) -> PathBuf {
        self.dir.path().join("ca.der")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// Body of `GET path` over https, trusting only the CA (HTTP 200 required).
    pub fn get(&self, path: &str) -> String {
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
    pub fn sts_token_count(&self) -> usize {
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
    pub fn create_user(&self, name: &str) -> (String, String) {
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
