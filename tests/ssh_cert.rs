//! `awsenv ssh-cert` against moto's Lambda without docker: the test plays the signer, signing a
//! real certificate with `ssh-keygen -s` and queueing it as the Lambda's answer; the certificate
//! then goes to a real ssh-agent and logs in to a real sshd that trusts the CA.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::clock::{now, rfc3339};
use common::ssh::{
    LOGIN_USER, SshAgent, Sshd, ensure_login_user, keygen, moto_post, recorded_body, recorded_requests,
    recording_env, root_dir,
};
use common::{MOTO_ACCOUNT_ID, Moto, Sandbox, fresh_code, stderr, stdout};
use serde_json::{Value, json};
use tempfile::TempDir;

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:sign-ssh-key";
/// The session moto's GetSessionToken always returns: the identity URL is signed with it.
const SESSION_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SESSION_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

struct CertWorld {
    moto: Moto,
    sb: Sandbox,
    dir: TempDir,
    ca: PathBuf,
}

fn cert_world() -> CertWorld {
    ensure_login_user();
    let dir = root_dir();
    let moto = Moto::start_with_env(&recording_env(dir.path()).each_ref().map(|(k, v)| (*k, v.as_str())));
    moto_post(&moto, "/moto-api/config", r#"{"lambda":{"use_docker":false}}"#);
    let mut sb = Sandbox::new(Some(&moto));
    let (key, secret) = moto.create_user("alice");
    moto.create_virtual_mfa("alice");
    sb.add_account("dev", &key, &secret, Some("alice"));
    sb.write_accounts_json(&format!("{{\"dev\": \"{MOTO_ACCOUNT_ID}\"}}"));
    sb.set_env("AWS_DEFAULT_REGION", "us-east-1");
    sb.set_env("AWSENV_MFA_CODE", &fresh_code());
    let ssh_dir = sb.home().join(".ssh");
    fs::create_dir(&ssh_dir).unwrap();
    keygen("ed25519", &ssh_dir.join("id_ed25519"));
    let ca = dir.path().join("ca");
    keygen("ed25519", &ca);
    CertWorld { moto, sb, dir, ca }
}

impl CertWorld {
    fn key(&self) -> PathBuf {
        self.sb.home().join(".ssh/id_ed25519")
    }

    /// A certificate of `public` for LOGIN_USER, signed by the CA, valid from a minute ago for
    /// `seconds` more; and a time by which it has expired (its valid_before, or a second later).
    fn sign(&self, public: &Path, seconds: u64) -> (String, u64) {
        let work = tempfile::tempdir().unwrap();
        let copy = work.path().join("key.pub");
        fs::copy(public, &copy).unwrap();
        let out = Command::new("ssh-keygen")
            .args(["-q", "-s"])
            .arg(&self.ca)
            .args(["-I", "alice", "-n", LOGIN_USER, "-V", &format!("-1m:+{seconds}s")])
            .arg(&copy)
            .output()
            .unwrap();
        assert!(out.status.success(), "ssh-keygen -s: {}", stderr(&out));
        // ssh-keygen counted from before this moment: the certificate ends by then.
        let valid_before = now().unsigned_abs() + seconds;
        (fs::read_to_string(work.path().join("key-cert.pub")).unwrap(), valid_before)
    }

    /// Queues `answer` as the Lambda's next answer.
    fn queue(&self, answer: &str) {
        moto_post(
            &self.moto,
            "/moto-api/static/lambda-simple/response",
            &json!({ "results": [answer] }).to_string(),
        );
    }

    /// Queues a real certificate of the default key, valid `seconds` more; returns the answer.
    fn queue_certificate(&self, seconds: u64) -> (String, u64) {
        let (certificate, valid_before) = self.sign(&self.key().with_extension("pub"), seconds);
        let answer = json!({"certificate": certificate, "duration": seconds, "valid_before": rfc3339(valid_before.try_into().unwrap())});
        self.queue(&answer.to_string());
        (answer.to_string(), valid_before)
    }

    fn ssh_cert(&self, args: &[&str], agent: Option<&SshAgent>) -> Output {
        let mut cmd = self.sb.awsenv();
        cmd.args(["ssh-cert", "--account", "dev", "--lambda-arn", FUNCTION]).args(args);
        if let Some(agent) = agent {
            cmd.env("SSH_AUTH_SOCK", &agent.socket);
        }
        cmd.output().unwrap()
    }

    /// The Lambda invocations moto served, as their payloads' text.
    fn invocation_bodies(&self) -> Vec<String> {
        recorded_requests(&self.moto)
            .iter()
            .filter(|r| r["url"].as_str().unwrap_or_default().contains("/functions/"))
            .map(recorded_body)
            .collect()
    }

    /// The Lambda invocations moto served, as their JSON payloads.
    fn invocations(&self) -> Vec<Value> {
        let bodies = self.invocation_bodies();
        bodies.iter().map(|body| serde_json::from_str(body).expect("the payload is JSON")).collect()
    }

    fn sshd(&self) -> Sshd {
        let ca_pub = self.dir.path().join("ca.pub");
        Sshd::start(self.dir.path(), &format!("TrustedUserCAKeys {}", ca_pub.display()))
    }

    /// An ssh login through `agent` only (no key file), with `options` before the host.
    fn login(&self, sshd: &Sshd, agent: &SshAgent, options: &[&str]) -> Output {
        let identity_agent = format!("IdentityAgent={}", agent.socket.display());
        let mut all = vec!["-o", &identity_agent, "-o", "IdentityFile=/dev/null"];
        all.extend_from_slice(options);
        let mut cmd = sshd.ssh(&all, "echo logged-in");
        cmd.env_clear().envs(self.sb.env()).env("SSH_AUTH_SOCK", &agent.socket);
        cmd.output().unwrap()
    }
}

/// Checks a presigned GetCallerIdentity URL with an implementation of SigV4 of its own; prints the
/// credential scope and the expiry.
const VERIFY_URL: &str = r#"
import hashlib, hmac, time, calendar, urllib.parse
url, secret = os.environ['URL'], os.environ['SECRET']
u = urllib.parse.urlsplit(url)
assert (u.scheme, u.netloc, u.path) == ('https', 'sts.amazonaws.com', '/'), url
pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True, strict_parsing=True)
q = dict(pairs)
assert q['Action'] == 'GetCallerIdentity' and q['Version'] == '2011-06-15', q
assert q['X-Amz-Algorithm'] == 'AWS4-HMAC-SHA256' and q['X-Amz-SignedHeaders'] == 'host', q
assert 'X-Amz-Security-Token' in q, 'a session needs its token'
enc = lambda s: urllib.parse.quote(s, safe='-_.~')
canonical_query = '&'.join(enc(k) + '=' + enc(v) for k, v in sorted(pairs) if k != 'X-Amz-Signature')
canonical = '\n'.join(['GET', '/', canonical_query, 'host:sts.amazonaws.com', '', 'host', hashlib.sha256(b'').hexdigest()])
scope = q['X-Amz-Credential'].split('/', 1)[1]
to_sign = '\n'.join(['AWS4-HMAC-SHA256', q['X-Amz-Date'], scope, hashlib.sha256(canonical.encode()).hexdigest()])
key = ('AWS4' + secret).encode()
for part in scope.split('/'):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
assert hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == q['X-Amz-Signature'], 'signature'
signed_at = calendar.timegm(time.strptime(q['X-Amz-Date'], '%Y%m%dT%H%M%SZ'))
assert abs(time.time() - signed_at) < 120, 'signed now'
print(q['X-Amz-Credential'].split('/', 2)[0], scope, q['X-Amz-Expires'])
"#;

#[test]
fn the_lambda_gets_the_seeds_fields_and_an_identity_url_that_verifies() {
    let w = cert_world();
    let (answer, _) = w.queue_certificate(60);
    let args = ["--output", "stdout", "--environment", "prod", "--duration", "45s"];
    let out = w.ssh_cert(
        &[&args[..], &["--source-address", "10.0.0.0/8", "--source-address", "192.168.1.0/24"]].concat(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{answer}\n"));
    let invocations = w.invocations();
    assert_eq!(invocations.len(), 1, "{invocations:?}");
    let payload = &invocations[0];
    let body = &w.invocation_bodies()[0];
    let fields = ["identity_url", "environment", "ssh_public_key", "duration", "source_addresses"];
    let at: Vec<usize> = fields.iter().map(|f| body.find(&format!("\"{f}\":")).expect(f)).collect();
    assert!(at.is_sorted(), "fields out of the seed's order: {body}");
    assert_eq!(payload.as_object().unwrap().len(), fields.len(), "{body}");
    assert_eq!(payload["environment"], "prod");
    assert_eq!(payload["ssh_public_key"], fs::read_to_string(w.key().with_extension("pub")).unwrap());
    assert_eq!(payload["duration"], 45);
    assert_eq!(payload["source_addresses"], json!(["10.0.0.0/8", "192.168.1.0/24"]));
    let url = payload["identity_url"].as_str().unwrap();
    let checked = w.moto.boto3(VERIFY_URL, &[("URL", url), ("SECRET", SESSION_SECRET)]);
    let checked: Vec<&str> = checked.split_whitespace().collect();
    assert_eq!(checked[0], SESSION_KEY_ID);
    assert!(checked[1].ends_with("/us-east-1/sts/aws4_request"), "{checked:?}");
    assert_eq!(checked[2], "60", "the URL's expiry");
    // Without --source-address the field is null, as the seed sends it; --dump calls nothing.
    let out = w.ssh_cert(&["--dump"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let dumped: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(dumped["source_addresses"], Value::Null);
    assert_eq!(dumped["duration"], 60);
    assert_eq!(w.invocations().len(), 1, "--dump invoked the Lambda");
}

#[test]
fn the_certificate_lives_in_ssh_agent_for_its_validity_and_sshd_accepts_it() {
    let w = cert_world();
    let agent = SshAgent::start(w.dir.path());
    let (_, valid_before) = w.queue_certificate(20);
    let out = w.ssh_cert(&["--environment", "prod"], Some(&agent));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let listed = agent.list();
    assert!(listed.contains("ED25519-CERT"), "{listed}");
    assert!(listed.contains("iam-request-ssh-key-signature env=\"prod\""), "{listed}");
    let sshd = w.sshd();
    let login = w.login(&sshd, &agent, &[]);
    assert_eq!(stdout(&login).trim(), "logged-in", "{}\n{}", stderr(&login), sshd.log());
    // The agent drops key and certificate when the certificate expires, not later.
    let gone_by = UNIX_EPOCH + Duration::from_secs(valid_before + 2);
    thread::sleep(gone_by.duration_since(SystemTime::now()).unwrap_or_default());
    let listed = agent.list();
    assert!(!listed.contains("ED25519"), "still in the agent after it expired: {listed}");
    let login = w.login(&sshd, &agent, &[]);
    assert!(!login.status.success(), "logged in with an expired certificate");
}

#[test]
fn as_a_proxy_command_it_gets_a_certificate_then_carries_the_connection() {
    let w = cert_world();
    let agent = SshAgent::start(w.dir.path());
    let sshd = w.sshd();
    w.queue_certificate(120);
    let proxy = format!(
        "ProxyCommand={} ssh-cert --account dev --lambda-arn {FUNCTION} --proxy-config 127.0.0.1:{}",
        env!("CARGO_BIN_EXE_awsenv"),
        sshd.port
    );
    let started = Instant::now();
    let login = w.login(&sshd, &agent, &["-o", &proxy]);
    assert_eq!(stdout(&login).trim(), "logged-in", "{}\n{}", stderr(&login), sshd.log());
    assert_eq!(w.invocations().len(), 1);
    assert!(agent.list().contains("ED25519-CERT"));
    // The certificate in the agent is still good: the next login does not ask the Lambda again.
    let login = w.login(&sshd, &agent, &["-o", &proxy]);
    assert_eq!(stdout(&login).trim(), "logged-in", "{}", stderr(&login));
    assert_eq!(w.invocations().len(), 1, "asked again within {:?}", started.elapsed());
}

#[test]
fn a_function_error_or_a_malformed_answer_is_a_clear_error_that_changes_nothing() {
    let w = cert_world();
    let agent = SshAgent::start(w.dir.path());
    let cert_file = w.sb.home().join(".ssh/id_ed25519-cert.pub");
    fs::write(&cert_file, "an older certificate\n").unwrap();
    // moto's Lambda answers a payload over 6 MB with FunctionError "Unhandled".
    w.queue(&"x".repeat(6_100_000));
    let other = w.dir.path().join("other");
    keygen("ed25519", &other);
    let (foreign, valid_before) = w.sign(&other.with_extension("pub"), 60);
    let foreign = json!({"certificate": foreign, "duration": 60, "valid_before": rfc3339(valid_before.try_into().unwrap())});
    w.queue("this is not JSON");
    w.queue(&foreign.to_string());
    w.queue(r#"{"certificate": "", "duration": 60, "valid_before": "2030-01-01T00:00:00Z"}"#);
    for (output, want) in [
        ("file", "failed (Unhandled): Response payload size exceeded"),
        ("agent", "not a certificate"),
        ("file", "it certifies another key"),
        ("stdout", "not a certificate"),
    ] {
        let out = w.ssh_cert(&["--output", output], Some(&agent));
        assert_eq!(out.status.code(), Some(11), "{output}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("awsenv: ") && err.lines().count() == 1 && err.contains(want),
            "{output}: {err}"
        );
        assert!(out.stdout.is_empty(), "{output}: {}", stdout(&out));
        assert_eq!(fs::read_to_string(&cert_file).unwrap(), "an older certificate\n");
        assert!(agent.list().contains("no identities"), "{}", agent.list());
    }
    assert_eq!(w.invocations().len(), 4);
}
