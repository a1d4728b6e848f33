//! IAM Roles Anywhere: awsenv's certificate identities against tests/fakes/rolesanywhere.py (a
//! strict CreateSession written independently of awsenv, whose credentials come from moto's STS),
//! reached only through `--endpoint` or the standard endpoint variables. Keys and certificates are
//! made once per run by tests/fakes/make-pki.sh, the SoftHSM2 token by make-softhsm.sh.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{Moto, Sandbox, Shell, assert_success, init_line, python, stderr, stdout};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const TRUST_ANCHOR: &str =
    "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0b5a9f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PROFILE: &str =
    "arn:aws:rolesanywhere:us-east-1:123456789012:profile/3e8d2c61-4f50-4182-9dce-3f4a5b6c7d8e";
const EU_PROFILE: &str =
    "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/3e8d2c61-4f50-4182-9dce-3f4a5b6c7d8e";
const ROLE: &str = "arn:aws:iam::123456789012:role/awsenv-ra-test";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN_CERT: &str = "pkcs11:token=awsenv;object=awsenv-leaf;id=%01;type=cert";
const TOKEN_KEY: &str = "pkcs11:token=awsenv;object=awsenv-leaf;id=%01;type=private";
const TOKEN_EC_CERT: &str = "pkcs11:token=awsenv;object=awsenv-ec-leaf;id=%02;type=cert";
const TOKEN_EC_KEY: &str = "pkcs11:token=awsenv;object=awsenv-ec-leaf;id=%02;type=private";
/// A key marked CKA_ALWAYS_AUTHENTICATE: the PIN again before each signature.
const TOKEN_ALWAYS_CERT: &str = "pkcs11:token=awsenv;object=awsenv-always-auth;id=%03;type=cert";
const TOKEN_ALWAYS_KEY: &str = "pkcs11:token=awsenv;object=awsenv-always-auth;id=%03;type=private";

/// Panics (never skips) unless `tool` runs.
fn require(tool: &str, hint: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output();
    if !found.is_ok_and(|o| o.status.success()) {
        panic!("{tool} is not installed; {hint} (these tests never skip)");
    }
}

/// The PKI and the SoftHSM2 token, made once for this test binary.
fn pki() -> &'static Path {
    static PKI: OnceLock<PathBuf> = OnceLock::new();
    PKI.get_or_init(|| {
        require("openssl", "apt-get install openssl");
        require("softhsm2-util", "apt-get install softhsm2");
        require("pkcs11-tool", "apt-get install opensc");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rolesanywhere-pki");
        let _ = std::fs::remove_dir_all(&dir);
        let fakes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes");
        for script in ["make-pki.sh", "make-softhsm.sh"] {
            let out =
                Command::new("bash").arg(fakes.join(script)).arg(&dir).stdin(Stdio::null()).output().unwrap();
            assert!(out.status.success(), "{script} failed:\n{}", stderr(&out));
        }
        dir
    })
}

fn file(name: &str) -> String {
    pki().join(name).to_str().unwrap().to_owned()
}

/// The fake service on 127.0.0.1, killed on drop.
struct Fake {
    child: Child,
    port: u16,
}

impl Fake {
    fn start(moto: &Moto, tls: bool) -> Fake {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes/rolesanywhere.py");
        let mut cmd = Command::new(python());
        cmd.arg(script).args(["--port", "0", "--region", "us-east-1", "--moto", &moto.url()]);
        cmd.args(["--trust-anchor", &format!("{TRUST_ANCHOR}={}", file("root-ca.pem"))]);
        cmd.args(["--profile", &format!("{PROFILE}={ROLE}")]);
        if tls {
            cmd.args(["--tls-cert", &file("server.pem"), "--tls-key", &file("server.key")]);
        }
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening on 127.0.0.1:").and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("rolesanywhere.py did not start: {line:?}"));
        Fake { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{answer}");
        serde_json::from_str(body).unwrap()
    }

    fn calls(&self) -> Value {
        self.control("GET", "/_fake/calls", "")
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sandbox whose SoftHSM2 configuration is the test token's.
fn sandbox(moto: &Moto) -> Sandbox {
    let mut sandbox = Sandbox::new(Some(moto));
    sandbox.set_env("SOFTHSM2_CONF", &file("softhsm2.conf"));
    sandbox
}

/// `awsenv credential-process` with aws_signing_helper's flags for `cert` (and `extra`), from an
/// empty session cache: these tests are about what reaches the service (the cache has its own).
fn credential_process(sandbox: &Sandbox, extra: &[&str]) -> Output {
    let _ = std::fs::remove_dir_all(sandbox.store().join(".awsenv"));
    cached_credential_process(sandbox, extra)
}

/// `awsenv credential-process` with aws_signing_helper's flags, through the session cache.
fn cached_credential_process(sandbox: &Sandbox, extra: &[&str]) -> Output {
    let mut cmd = sandbox.awsenv();
    cmd.args([
        "credential-process",
        "--trust-anchor-arn",
        TRUST_ANCHOR,
        "--profile-arn",
        PROFILE,
        "--role-arn",
        ROLE,
    ]);
    cmd.args(extra).output().unwrap()
}

/// The identity moto sees for the Version 1 credentials in `out`.
fn caller_arn(moto: &Moto, out: &Output) -> String {
    assert_success(out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Version"], 1);
    let expiration = doc["Expiration"].as_str().unwrap();
    assert!(expiration.ends_with('Z') && expiration.len() == 20, "{expiration}");
    let env = [
        ("AWS_ACCESS_KEY_ID", doc["AccessKeyId"].as_str().unwrap()),
        ("AWS_SECRET_ACCESS_KEY", doc["SecretAccessKey"].as_str().unwrap()),
        ("AWS_SESSION_TOKEN", doc["SessionToken"].as_str().unwrap()),
    ];
    moto.boto3("print(client('sts').get_caller_identity()['Arn'])", &env).trim().to_owned()
}

/// A refusal: one `awsenv:` line holding `needle`, exit `code`, nothing on stdout, no secret.
#[track_caller]
fn assert_refused(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("awsenv: ") && err.contains(needle), "wanted {needle:?} in {err}");
    for secret in ["PRIVATE KEY", "correct horse", "pin-value", "Signature=", "SecretAccessKey"] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    out.stdout
}

/// The certificate's serial number in decimal, from openssl's hex.
fn serial(cert: &str) -> String {
    let text = String::from_utf8(openssl(&["x509", "-in", cert, "-noout", "-serial"])).unwrap();
    let hex = text.trim().strip_prefix("serial=").unwrap();
    let script = format!("print(int('{hex}', 16))");
    let out = Command::new(python()).args(["-c", &script]).output().unwrap();
    stdout(&out).trim().to_owned()
}

#[test]
fn every_key_type_gets_a_session_that_moto_accepts() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    let expected = format!("arn:aws:sts::{ACCOUNT}:assumed-role/awsenv-ra-test/");
    let cases: &[(&str, &[&str], &str, u64)] = &[
        ("rsa2048", &["--private-key", "KEY"], "AWS4-X509-RSA-SHA256", 0),
        ("rsa4096", &["--private-key", "KEY"], "AWS4-X509-RSA-SHA256", 0),
        ("p256", &["--private-key", "KEY"], "AWS4-X509-ECDSA-SHA256", 0),
        ("p384", &["--private-key", "KEY"], "AWS4-X509-ECDSA-SHA256", 0),
        (
            "chained",
            &["--private-key", "KEY", "--intermediates", "INTERMEDIATES"],
            "AWS4-X509-ECDSA-SHA256",
            1,
        ),
        ("combined", &[], "AWS4-X509-RSA-SHA256", 0),
    ];
    for (index, (name, flags, algorithm, chain)) in cases.iter().enumerate() {
        let cert = file(&format!("{name}.pem"));
        let mut args = vec!["--certificate".to_owned(), cert.clone()];
        args.extend(flags.iter().map(|flag| match *flag {
            "KEY" => file(&format!("{name}.key")),
            "INTERMEDIATES" => file("chained-intermediates.pem"),
            other => other.to_owned(),
        }));
        // The three ways to the endpoint: the flag, the service's variable, the global one.
        let endpoint_var = ["AWS_ENDPOINT_URL_ROLESANYWHERE", "AWS_ENDPOINT_URL"][index % 2];
        sandbox.set_env(endpoint_var, &fake.url());
        if index % 3 == 0 {
            args.extend(["--endpoint".to_owned(), fake.url()]);
            sandbox.set_env(endpoint_var, "http://127.0.0.1:9");
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = credential_process(&sandbox, &args);
        let arn = caller_arn(&moto, &out);
        assert!(arn.starts_with(&expected), "{name}: {arn}");
        sandbox.set_env("AWS_ENDPOINT_URL", &moto.url());
        sandbox.remove_env("AWS_ENDPOINT_URL_ROLESANYWHERE");
        let calls = fake.calls();
        let call = calls["calls"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(call["status"], 201, "{name}: {call}");
        assert_eq!(call["algorithm"], *algorithm, "{name}");
        assert_eq!(call["serial"], serial(&cert), "{name}");
        assert_eq!(call["chainLength"], *chain, "{name}");
        assert_eq!(call["durationSeconds"], 3600, "{name}");
    }
    assert_eq!(fake.calls()["successful"], cases.len() as u64);
}

#[test]
fn encrypted_keys_take_the_passphrase_from_the_flag_or_the_environment() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    let passphrase = std::fs::read_to_string(file("encrypted.pass")).unwrap();
    let (cert, key) = (file("encrypted.pem"), file("encrypted.key"));
    let base = ["--certificate", cert.as_str(), "--private-key", key.as_str()];
    let out = credential_process(&sandbox, &[&base[..], &["--pkcs8-password", &passphrase]].concat());
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    let wrong = credential_process(&sandbox, &[&base[..], &["--pkcs8-password", "battery staple"]].concat());
    assert_refused(&wrong, 3, "wrong passphrase for the private key");
    assert!(stderr(&wrong).contains("(from --pkcs8-password)"));
    sandbox.set_env("AWSENV_PKCS8_PASSWORD", &passphrase);
    assert!(caller_arn(&moto, &credential_process(&sandbox, &base)).contains("assumed-role"));
    sandbox.set_env("AWSENV_PKCS8_PASSWORD", "not it");
    assert_refused(&credential_process(&sandbox, &base), 3, "(from AWSENV_PKCS8_PASSWORD)");
    // No terminal to ask: said so, and how to give it instead.
    sandbox.remove_env("AWSENV_PKCS8_PASSWORD");
    let mut cmd = sandbox.awsenv();
    cmd.args([
        "credential-process",
        "--trust-anchor-arn",
        TRUST_ANCHOR,
        "--profile-arn",
        PROFILE,
        "--role-arn",
        ROLE,
    ]);
    cmd.args(base);
    // setsid leaves the process without a controlling terminal, whatever runs the tests.
    let out = Command::new("setsid")
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_awsenv"))
        .args(cmd.get_args())
        .env_clear()
        .envs(sandbox.env())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_refused(&out, 3, "AWSENV_PKCS8_PASSWORD");
    assert_eq!(fake.calls()["successful"], 2);
}

#[test]
fn bad_identities_are_refused_with_one_clear_line() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    let pair = |name: &str| {
        vec![
            "--certificate".to_owned(),
            file(&format!("{name}.pem")),
            "--private-key".to_owned(),
            file(&format!("{name}.key")),
        ]
    };
    let run = |args: Vec<String>| {
        credential_process(&sandbox, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Refused before any call.
    assert_refused(&run(pair("expired")), 3, "expired.pem expired at ");
    assert_refused(&run(pair("notyetvalid")), 3, "is not valid yet: valid from ");
    assert_refused(&run(pair("mismatched")), 3, "does not belong to the certificate");
    let mut rsa_cert_ec_key = pair("rsa2048");
    rsa_cert_ec_key[3] = file("p256.key");
    assert_refused(&run(rsa_cert_ec_key), 3, "does not belong to the certificate");
    assert_refused(&run(vec!["--certificate".to_owned(), file("rsa2048.pem")]), 2, "no private key");
    let mut eu = pair("rsa2048");
    eu.extend(["--profile-arn".to_owned(), EU_PROFILE.to_owned()]);
    let mut cmd = sandbox.awsenv();
    cmd.args(["credential-process", "--trust-anchor-arn", TRUST_ANCHOR, "--role-arn", ROLE]).args(&eu);
    assert_refused(&cmd.output().unwrap(), 2, "trust anchor and profile regions don't match");
    assert_eq!(fake.calls()["calls"].as_array().unwrap().len(), 0, "a call was made");
    // Refused by the service: its type and message in one line, exit 5.
    for name in ["unrelated", "impostor"] {
        assert_refused(&run(pair(name)), 5, "AccessDeniedException: Untrusted signing certificate");
    }
    assert_refused(&run(pair("chained")), 5, "AccessDeniedException: Untrusted signing certificate");
    let mut other_region = pair("rsa2048");
    other_region.extend(["--region".to_owned(), "eu-west-1".to_owned()]);
    assert_refused(&run(other_region), 5, "AccessDeniedException");
    assert_eq!(fake.calls()["refused"], 4);
}

#[test]
fn server_errors_are_retried_and_tls_uses_the_ca_bundle() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    let (cert, key) = (file("p256.pem"), file("p256.key"));
    let args = ["--certificate", cert.as_str(), "--private-key", key.as_str()];
    fake.control("POST", "/_fake/config", r#"{"failNext": 2}"#);
    assert!(caller_arn(&moto, &credential_process(&sandbox, &args)).contains("assumed-role"));
    assert_eq!(fake.calls()["calls"].as_array().unwrap().len(), 3, "two 500s, then a session");
    fake.control("POST", "/_fake/config", r#"{"failNext": 3}"#);
    assert_refused(&credential_process(&sandbox, &args), 5, "InternalServerException: injected failure");

    let tls = Fake::start(&moto, true);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &format!("https://localhost:{}", tls.port));
    let untrusted = credential_process(&sandbox, &args);
    assert_refused(&untrusted, 6, "could not reach the endpoint");
    sandbox.set_env("AWS_CA_BUNDLE", &file("root-ca.pem"));
    let before = fake.calls()["calls"].as_array().unwrap().len();
    assert!(caller_arn(&moto, &credential_process(&sandbox, &args)).contains("assumed-role"));
    assert_eq!(fake.calls()["calls"].as_array().unwrap().len(), before, "not the TLS endpoint");
}

#[test]
fn pkcs11_keys_and_certificates_on_softhsm() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    // The certificate and (beside it on the token) the key, PIN in the URI.
    let uri = format!("{TOKEN_CERT}?pin-value=1234");
    let out = credential_process(&sandbox, &["--certificate", &uri, "--pkcs11-lib", SOFTHSM]);
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    // A certificate file and the token's key, PIN from the environment, module from PKCS11_MODULE_PATH.
    sandbox.set_env("AWSENV_PKCS11_PIN", "1234");
    sandbox.set_env("PKCS11_MODULE_PATH", SOFTHSM);
    let hsm = file("hsm.pem");
    let out = credential_process(&sandbox, &["--certificate", &hsm, "--private-key", TOKEN_KEY]);
    assert!(caller_arn(&moto, &out).contains("assumed-role"));
    let calls = fake.calls();
    for call in calls["calls"].as_array().unwrap() {
        assert_eq!(call["serial"], serial(&hsm));
        assert_eq!(call["algorithm"], "AWS4-X509-RSA-SHA256");
    }
    sandbox.set_env("AWSENV_PKCS11_PIN", "9999");
    assert_refused(
        &credential_process(&sandbox, &["--certificate", &hsm, "--private-key", TOKEN_KEY]),
        3,
        "wrong PIN for PKCS#11 token \"awsenv\"",
    );
    assert!(
        !stderr(&credential_process(&sandbox, &["--certificate", &hsm, "--private-key", TOKEN_KEY]))
            .contains("9999")
    );
    // The token's key signs what the key file signs (RSA PKCS#1 v1.5 is deterministic).
    sandbox.set_env("AWSENV_PKCS11_PIN", "1234");
    let on_token = sandbox
        .awsenv()
        .args(["sign-string", "--private-key", TOKEN_KEY, "--format", "text"])
        .output()
        .unwrap();
    let from_file = sandbox
        .awsenv()
        .args(["sign-string", "--private-key", &file("hsm.key"), "--format", "text"])
        .output()
        .unwrap();
    assert_success(&on_token);
    assert_eq!(stdout(&on_token), stdout(&from_file));
    // The listing matches openssl's view of the certificate.
    let listed = sandbox
        .awsenv()
        .args(["read-certificate-data", "--certificate", "pkcs11:token=awsenv;id=%01"])
        .output()
        .unwrap();
    assert_success(&listed);
    let fingerprint =
        String::from_utf8(openssl(&["x509", "-in", &hsm, "-noout", "-fingerprint", "-sha1"])).unwrap();
    let fingerprint = fingerprint.trim().split('=').nth(1).unwrap().replace(':', "").to_lowercase();
    let subject =
        String::from_utf8(openssl(&["x509", "-in", &hsm, "-noout", "-subject", "-nameopt", "RFC2253"]))
            .unwrap();
    let issuer =
        String::from_utf8(openssl(&["x509", "-in", &hsm, "-noout", "-issuer", "-nameopt", "RFC2253"]))
            .unwrap();
    let hex_serial = String::from_utf8(openssl(&["x509", "-in", &hsm, "-noout", "-serial"])).unwrap();
    let expected = format!(
        "Matching identities\n1) Hex Fingerprint: {fingerprint}\nSubject: {}\nIssuer: {}\nSerial Number: {}\nURI: {TOKEN_CERT}\n\n",
        subject.trim().strip_prefix("subject=").unwrap(),
        issuer.trim().strip_prefix("issuer=").unwrap(),
        hex_serial.trim().strip_prefix("serial=").unwrap().trim_start_matches('0'),
    );
    assert_eq!(stdout(&listed), expected);
    let all = sandbox
        .awsenv()
        .args(["read-certificate-data", "--certificate", "pkcs11:token=awsenv"])
        .output()
        .unwrap();
    assert_success(&all);
    let all = stdout(&all);
    let numbers: Vec<&str> =
        all.lines().filter_map(|l| l.split_once(") Hex Fingerprint: ").map(|(n, _)| n)).collect();
    assert_eq!(numbers, ["1", "2", "3"], "the token holds three certificates: {all}");
    // Numbered by object id, whatever order the module enumerates them in.
    let ids: Vec<&str> = all.lines().filter_map(|l| l.split_once(";id=").map(|(_, rest)| rest)).collect();
    assert_eq!(ids, ["%01;type=cert", "%02;type=cert", "%03;type=cert"], "{all}");
    let none = sandbox
        .awsenv()
        .args(["read-certificate-data", "--certificate", "pkcs11:token=nosuch"])
        .output()
        .unwrap();
    assert_eq!(stdout(&none), "No matching identities\n");
}

#[test]
fn pkcs11_ec_key_on_softhsm() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    let cert = file("hsm-ec.pem");
    // The certificate and the P-256 key beside it on the token (CKM_ECDSA), through --endpoint.
    let uri = format!("{TOKEN_EC_CERT}?pin-value=1234");
    let out = credential_process(
        &sandbox,
        &["--certificate", &uri, "--pkcs11-lib", SOFTHSM, "--endpoint", &fake.url()],
    );
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    // The certificate file and the token's key by its URI, PIN from the environment.
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    sandbox.set_env("AWSENV_PKCS11_PIN", "1234");
    let out = credential_process(
        &sandbox,
        &["--certificate", &cert, "--private-key", TOKEN_EC_KEY, "--pkcs11-lib", SOFTHSM],
    );
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    let calls = fake.calls();
    let calls = calls["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in calls {
        assert_eq!(
            (call["status"].as_u64(), call["algorithm"].as_str()),
            (Some(201), Some("AWS4-X509-ECDSA-SHA256"))
        );
        assert_eq!(call["serial"], serial(&cert));
    }
    // sign-string with the token's key, each digest verified by openssl with the certificate's key.
    let dir = sandbox.root();
    let message = test_message(&file("hsm-ec.key"), dir);
    let public = dir.join("hsm-ec-public.pem");
    openssl(&["x509", "-in", &cert, "-noout", "-pubkey", "-out", public.to_str().unwrap()]);
    for digest in ["SHA256", "SHA384", "SHA512"] {
        let out = sandbox
            .awsenv()
            .args(["sign-string", "--private-key", TOKEN_EC_KEY, "--pkcs11-lib", SOFTHSM])
            .args(["--digest", digest, "--format", "bin"])
            .output()
            .unwrap();
        assert_success(&out);
        let signature = dir.join("hsm-ec-signature");
        std::fs::write(&signature, &out.stdout).unwrap();
        let verified = openssl(&[
            "dgst",
            &format!("-{}", digest.to_lowercase()),
            "-verify",
            public.to_str().unwrap(),
            "-signature",
            signature.to_str().unwrap(),
            message.to_str().unwrap(),
        ]);
        assert_eq!(String::from_utf8(verified).unwrap().trim(), "Verified OK", "{digest}");
    }
}

/// `awsenv ARGS` with the sandbox's environment and no controlling terminal (setsid), so that
/// nothing can be asked.
fn without_terminal(sandbox: &Sandbox, args: &[&str]) -> Output {
    Command::new("setsid")
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_awsenv"))
        .args(args)
        .env_clear()
        .envs(sandbox.env())
        .current_dir(sandbox.home())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `--reuse-pin` as aws_signing_helper has it: a key marked CKA_ALWAYS_AUTHENTICATE (SoftHSM2
/// refuses its signature without C_Login(CKU_CONTEXT_SPECIFIC) after C_SignInit) is opened with the
/// token's login PIN; without the flag its PIN is asked on the terminal, once per command.
#[test]
fn reuse_pin_opens_a_key_that_asks_for_its_pin_before_each_signature() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    sandbox.set_env("AWSENV_PKCS11_PIN", "1234");
    let cert = file("hsm-always.pem");
    let request = [
        "credential-process",
        "--trust-anchor-arn",
        TRUST_ANCHOR,
        "--profile-arn",
        PROFILE,
        "--role-arn",
        ROLE,
        "--certificate",
        TOKEN_ALWAYS_CERT,
        "--pkcs11-lib",
        SOFTHSM,
    ];
    // No --reuse-pin and no terminal: nothing to ask, said so, no call made.
    let out = without_terminal(&sandbox, &request);
    assert_refused(&out, 3, "asks for its PIN before each signature");
    assert!(stderr(&out).contains("--reuse-pin"), "{}", stderr(&out));
    assert_eq!(create_sessions(&fake), 0);
    // --reuse-pin: the login PIN opens the key for both signatures (the key check and the request).
    let out = without_terminal(&sandbox, &[&request[..], &["--reuse-pin"]].concat());
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    let calls = fake.calls();
    let call = calls["calls"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (call["status"].as_u64(), call["algorithm"].as_str()),
        (Some(201), Some("AWS4-X509-RSA-SHA256"))
    );
    assert_eq!(call["serial"], serial(&cert));
    // sign-string signs what openssl signs with the same key (RSA PKCS#1 v1.5 is deterministic).
    let message = test_message(&file("hsm-always.key"), sandbox.root());
    let signed = without_terminal(
        &sandbox,
        &[
            "sign-string",
            "--private-key",
            TOKEN_ALWAYS_KEY,
            "--pkcs11-lib",
            SOFTHSM,
            "--reuse-pin",
            "--format",
            "bin",
        ],
    );
    assert_success(&signed);
    let key = file("hsm-always.key");
    assert_eq!(signed.stdout, openssl(&["dgst", "-sha256", "-sign", &key, message.to_str().unwrap()]));
    // Without --reuse-pin on a terminal: the key's PIN is asked (again after a wrong one), and
    // kept for the command's second signature.
    let _ = std::fs::remove_dir_all(sandbox.store().join(".awsenv"));
    let term = common::tmux::Tmux::in_sandbox(&sandbox).shell("pin", Shell::Bash);
    let output = sandbox.root().join("credentials.json");
    // Every word single-quoted for the shell (the URI holds `;`).
    let words: Vec<String> = request.iter().map(|word| format!("'{word}'")).collect();
    let awsenv = env!("CARGO_BIN_EXE_awsenv");
    let n = term.start_command(&format!("'{awsenv}' {} >'{}'", words.join(" "), output.display()));
    let prompt = "PIN for the key on PKCS#11 token \"awsenv\" (asked before each signature): ";
    term.wait("the key's PIN prompt", |screen| screen.contains(prompt));
    term.type_line("0000");
    term.wait("the prompt again", |screen| screen.contains(&format!("Wrong PIN. {prompt}")));
    term.type_line("1234");
    let (code, _, screen) = term.finish(n);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen.matches(prompt).count(), 2, "asked once, then once after the wrong PIN:\n{screen}");
    for typed in ["0000", "1234"] {
        assert!(!screen.contains(&format!("{prompt}{typed}")), "the PIN was echoed:\n{screen}");
    }
    // What it printed, as Output for caller_arn (the exit status was checked above).
    let out = Output {
        status: std::process::ExitStatus::default(),
        stdout: std::fs::read(&output).unwrap(),
        stderr: Vec::new(),
    };
    assert!(caller_arn(&moto, &out).contains("assumed-role/awsenv-ra-test/"));
    assert_eq!(create_sessions(&fake), 2);
}

/// The seed's test message for the key in `key`, made with python's cryptography.
fn test_message(key: &str, dir: &Path) -> PathBuf {
    let script = r#"
import hashlib, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa
key = s.load_pem_private_key(open(sys.argv[1], 'rb').read(), None).public_key()
raw = key.public_bytes(s.Encoding.DER, s.PublicFormat.PKCS1) if isinstance(key, rsa.RSAPublicKey) \
    else key.public_bytes(s.Encoding.X962, s.PublicFormat.UncompressedPoint)
msg = b'AWS Roles Anywhere Credential Helper Signing Test1' + hashlib.sha256(b'IAM RA' + raw).digest()
open(sys.argv[2], 'wb').write(msg)
"#;
    let path = dir.join("message");
    let out = Command::new(python()).args(["-c", script, key, path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

#[test]
fn sign_string_matches_openssl() {
    let sandbox = Sandbox::new(None);
    let dir = sandbox.root();
    for (name, ec) in
        [("rsa2048", false), ("rsa4096", false), ("p256", true), ("p384", true), ("chained", true)]
    {
        let key = file(&format!("{name}.key"));
        let message = test_message(&key, dir);
        for digest in ["SHA256", "SHA384", "SHA512"] {
            let sign = |format: &str| {
                let out = sandbox
                    .awsenv()
                    .args(["sign-string", "--private-key", &key, "--digest", digest, "--format", format])
                    .output()
                    .unwrap();
                assert_success(&out);
                out.stdout
            };
            let bin = sign("bin");
            let hex: String = bin.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(String::from_utf8(sign("text")).unwrap(), hex);
            assert_eq!(String::from_utf8(sign("json")).unwrap(), format!("\"{hex}\""));
            let dgst = format!("-{}", digest.to_lowercase());
            if ec {
                // ECDSA is randomised in openssl, deterministic (RFC 6979) in awsenv: verify instead.
                let signature = dir.join("signature");
                std::fs::write(&signature, &bin).unwrap();
                let public = dir.join("public.pem");
                openssl(&["pkey", "-in", &key, "-pubout", "-out", public.to_str().unwrap()]);
                let verified = openssl(&[
                    "dgst",
                    &dgst,
                    "-verify",
                    public.to_str().unwrap(),
                    "-signature",
                    signature.to_str().unwrap(),
                    message.to_str().unwrap(),
                ]);
                assert_eq!(String::from_utf8(verified).unwrap().trim(), "Verified OK", "{name} {digest}");
            } else {
                assert_eq!(
                    bin,
                    openssl(&["dgst", &dgst, "-sign", &key, message.to_str().unwrap()]),
                    "{name} {digest}"
                );
            }
        }
    }
    // The default is JSON with SHA-256; the combined PEM's key signs through --certificate.
    let default =
        sandbox.awsenv().args(["sign-string", "--private-key", &file("rsa2048.key")]).output().unwrap();
    let explicit = sandbox
        .awsenv()
        .args([
            "sign-string",
            "--private-key",
            &file("rsa2048.key"),
            "--format",
            "json",
            "--digest",
            "sha256",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&default), stdout(&explicit));
    let combined = sandbox
        .awsenv()
        .args(["sign-string", "--certificate", &file("combined.pem"), "--format", "text"])
        .output()
        .unwrap();
    assert_success(&combined);
    assert_eq!(stdout(&combined).len(), 512);
}

#[test]
fn read_certificate_data_matches_openssl() {
    let sandbox = Sandbox::new(None);
    for (name, kind) in
        [("rsa2048", "RSA"), ("rsa4096", "RSA"), ("p256", "EC"), ("p384", "EC"), ("chained", "EC")]
    {
        let cert = file(&format!("{name}.pem"));
        let out = sandbox.awsenv().args(["read-certificate-data", "--certificate", &cert]).output().unwrap();
        assert_success(&out);
        assert!(!out.stdout.ends_with(b"\n"));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let der = openssl(&["x509", "-in", &cert, "-outform", "DER"]);
        let mut base64 = Command::new("openssl")
            .args(["base64", "-A"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        base64.stdin.take().unwrap().write_all(&der).unwrap();
        let encoded = String::from_utf8(base64.wait_with_output().unwrap().stdout).unwrap();
        assert_eq!(doc["keyType"], kind, "{name}");
        assert_eq!(doc["certificateData"], encoded.trim(), "{name}");
        assert_eq!(doc["serialNumber"], serial(&cert), "{name}");
        let suffixes: Vec<String> =
            ["SHA256", "SHA384", "SHA512"].iter().map(|d| format!("{kind}{d}")).collect();
        assert_eq!(doc["supportedAlgorithms"], serde_json::json!(suffixes), "{name}");
        // aws_signing_helper's member order (serde_json's map would sort them: read the text).
        let text = stdout(&out);
        let at: Vec<usize> = ["keyType", "certificateData", "serialNumber", "supportedAlgorithms"]
            .iter()
            .map(|member| text.find(&format!("\"{member}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|pair| pair[0] < pair[1]) && at[0] == 1, "{text}");
    }
    // A DER certificate reads the same as its PEM.
    let der_path = sandbox.root().join("p256.der");
    openssl(&["x509", "-in", &file("p256.pem"), "-outform", "DER", "-out", der_path.to_str().unwrap()]);
    let from_der = sandbox
        .awsenv()
        .args(["read-certificate-data", "--certificate", der_path.to_str().unwrap()])
        .output()
        .unwrap();
    let from_pem = sandbox
        .awsenv()
        .args(["read-certificate-data", "--certificate", &file("p256.pem")])
        .output()
        .unwrap();
    assert_eq!(stdout(&from_der), stdout(&from_pem));
}

#[test]
fn the_aws_cli_and_boto3_use_a_credential_process_profile() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let sandbox = sandbox(&moto);
    // aws_signing_helper's line with its name replaced, and a store account of the same identity.
    let line = format!(
        "awsenv credential-process --certificate {} --private-key {} --trust-anchor-arn {TRUST_ANCHOR} \
         --profile-arn {PROFILE} --role-arn {ROLE} --endpoint {}",
        file("p384.pem"),
        file("p384.key"),
        fake.url()
    );
    let store = format!(
        "# a certificate account\ncertificate = {}\nprivate-key = {}\ntrust-anchor-arn = {TRUST_ANCHOR}\n\
         profile-arn = {PROFILE}\nrole-arn = {ROLE}\nendpoint = {}\nsession-duration = 900\nrole-session-name = laptop\n",
        file("rsa2048.pem"),
        file("rsa2048.key"),
        fake.url()
    );
    let store_file = sandbox.store().join("laptop.x509");
    std::fs::write(&store_file, store).unwrap();
    std::fs::create_dir_all(sandbox.home().join(".aws")).unwrap();
    std::fs::write(
        sandbox.home().join(".aws/config"),
        format!("[profile ra]\ncredential_process = {line}\n\n[profile laptop]\ncredential_process = awsenv credential-process laptop\n"),
    )
    .unwrap();
    let mut cmd = sandbox.command("aws");
    cmd.args([
        "sts",
        "get-caller-identity",
        "--profile",
        "ra",
        "--region",
        "us-east-1",
        "--output",
        "text",
        "--query",
        "Arn",
    ]);
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("the aws CLI cannot run ({e}): it comes with scripts/test's Python environment")
    });
    assert_success(&out);
    assert!(stdout(&out).contains("assumed-role/awsenv-ra-test/"), "{}", stdout(&out));
    let script = "import boto3\nprint(boto3.Session(profile_name='laptop', region_name='us-east-1').client('sts').get_caller_identity()['Arn'])";
    let out = sandbox.command(python().to_str().unwrap()).args(["-c", script]).output().unwrap();
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), format!("arn:aws:sts::{ACCOUNT}:assumed-role/awsenv-ra-test/laptop"));
    let calls = fake.calls();
    let last = calls["calls"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["durationSeconds"].as_u64(), last["roleSessionName"].as_str()),
        (Some(900), Some("laptop"))
    );
    // The aws CLI may run credential_process more than once; each run is one call (no cache yet).
    assert!(calls["successful"].as_u64().unwrap() >= 2, "{calls}");
    // A store file with a key it must not hold is refused, naming the file and the line.
    std::fs::write(&store_file, "certificate = x.pem\npkcs8-password = hunter2\n").unwrap();
    let out = sandbox.awsenv().args(["credential-process", "laptop"]).output().unwrap();
    assert_refused(&out, 3, "laptop.x509 line 2: a passphrase is never kept in the store");
    assert!(!stderr(&out).contains("hunter2"));
}

/// `STORE/laptop.x509`: the P-256 identity through `fake`, sessions of `duration` seconds.
fn store_account(sandbox: &Sandbox, fake: &Fake, duration: u32) {
    let store = format!(
        "certificate = {}\nprivate-key = {}\ntrust-anchor-arn = {TRUST_ANCHOR}\nprofile-arn = {PROFILE}\n\
         role-arn = {ROLE}\nendpoint = {}\nsession-duration = {duration}\n",
        file("p256.pem"),
        file("p256.key"),
        fake.url()
    );
    std::fs::create_dir_all(sandbox.store()).unwrap();
    std::fs::write(sandbox.store().join("laptop.x509"), store).unwrap();
}

fn create_sessions(fake: &Fake) -> usize {
    fake.calls()["calls"].as_array().unwrap().len()
}

#[test]
fn sixteen_callers_make_one_create_session() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let mut sandbox = sandbox(&moto);
    sandbox.set_env("AWS_ENDPOINT_URL_ROLESANYWHERE", &fake.url());
    // Each attempt takes a second at the service, so that all sixteen want a session at once.
    fake.control("POST", "/_fake/config", r#"{"delaySeconds": 1}"#);
    let (cert, key) = (file("rsa2048.pem"), file("rsa2048.key"));
    let args = ["--certificate", cert.as_str(), "--private-key", key.as_str()];
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> =
            (0..16).map(|_| scope.spawn(|| cached_credential_process(&sandbox, &args))).collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let keys: std::collections::HashSet<String> = outputs
        .iter()
        .map(|out| {
            assert_success(out);
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            doc["AccessKeyId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!((create_sessions(&fake), keys.len()), (1, 1), "one CreateSession, one session for all");
    // The flags name the same account the next time: still one call.
    assert_success(&cached_credential_process(&sandbox, &args));
    assert_eq!(create_sessions(&fake), 1);
}

#[test]
fn a_certificate_account_in_bash_zsh_and_fish() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let sandbox = sandbox(&moto);
    store_account(&sandbox, &fake, 3600);
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let script = match shell {
            Shell::Fish => format!(
                "{}\nec2switch laptop; or exit 91\necho SESSION=$AWSENV_SESSION\necho LABEL=$MY_AWS_SET_FOR\n\
                 echo KEY=$AWS_ACCESS_KEY_ID\necho PROMPT=(awsenv prompt --shell fish)\nec2now",
                init_line(shell)
            ),
            _ => format!(
                "{}\nec2switch laptop || exit 91\necho SESSION=$AWSENV_SESSION\necho LABEL=$MY_AWS_SET_FOR\n\
                 echo KEY=$AWS_ACCESS_KEY_ID\n__awsenv_prompt_hook\necho \"PROMPT=$AWSENV_PROMPT\"\nec2now",
                init_line(shell)
            ),
        };
        let out = sandbox.run_shell(shell, &script);
        assert_success(&out);
        let text = stdout(&out);
        assert!(text.contains("SESSION=x509\n") && text.contains("LABEL=laptop-X509\n"), "{shell:?}: {text}");
        assert!(text.contains("PROMPT=(aws:laptop+"), "{shell:?}: {text}");
        assert!(text.contains("Session ends in"), "{shell:?}: {text}");
        let key = text.lines().find_map(|l| l.strip_prefix("KEY=")).unwrap();
        assert!(key.starts_with("ASIA"), "{shell:?}: a session, not keys: {text}");
    }
    assert_eq!(create_sessions(&fake), 1, "three shells, one session from the cache");
    // A profile whose credential_process runs aws_signing_helper is the same kind of account.
    let line = format!(
        "aws_signing_helper credential-process --certificate {} --private-key {} \
         --trust-anchor-arn {TRUST_ANCHOR} --profile-arn {PROFILE} --role-arn {ROLE} --endpoint {}",
        file("p384.pem"),
        file("p384.key"),
        fake.url()
    );
    std::fs::create_dir_all(sandbox.home().join(".aws")).unwrap();
    std::fs::write(
        sandbox.home().join(".aws/config"),
        format!("[profile helper]\ncredential_process = {line}\n"),
    )
    .unwrap();
    let out = sandbox.run_shell(
        Shell::Bash,
        &format!("{}\nec2switch helper || exit 91\necho SESSION=$AWSENV_SESSION", init_line(Shell::Bash)),
    );
    assert_success(&out);
    assert!(stdout(&out).contains("SESSION=x509"), "{}", stdout(&out));
    assert_eq!(create_sessions(&fake), 2);
}

/// Roles `Admin` and `ReadOnly` in moto's IAM, trusting the Roles Anywhere role.
fn create_roles(moto: &Moto) {
    let script = r#"
iam = client('iam')
trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow',
    'Principal': {'AWS': os.environ['RA_ROLE']}, 'Action': 'sts:AssumeRole'}]})
for name in ('Admin', 'ReadOnly'):
    print(iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)['Role']['Arn'])
"#;
    let arns = moto.boto3_admin(script, &[("RA_ROLE", ROLE)]);
    assert_eq!(arns.split_whitespace().count(), 2, "{arns}");
}

#[test]
fn ec2role_on_a_certificate_account_assumes_with_its_session() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let sandbox = sandbox(&moto);
    store_account(&sandbox, &fake, 3600);
    create_roles(&moto);
    let admin = format!("arn:aws:iam::{ACCOUNT}:role/Admin");
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let or = if shell == Shell::Fish { "; or" } else { " ||" };
        let script = format!(
            "{}\nec2role laptop Admin --session-name ci{or} exit 91\necho SESSION=$AWSENV_SESSION\necho ROLE=$AWSENV_ROLE\n\
             echo LABEL=$MY_AWS_SET_FOR\necho KEY=$AWS_ACCESS_KEY_ID\n\
             aws sts get-caller-identity --region us-east-1 --query Arn --output text",
            init_line(shell)
        );
        let out = sandbox.run_shell(shell, &script);
        assert_success(&out);
        let text = stdout(&out);
        assert!(text.contains("SESSION=role\n"), "{shell:?}: {text}");
        assert!(text.contains(&format!("ROLE={admin}\n")), "{shell:?}: {text}");
        assert!(text.contains("LABEL=laptop/Admin\n"), "{shell:?}: {text}");
        assert!(
            text.contains(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/ci\n")),
            "{shell:?}: {text}"
        );
        let key = text.lines().find_map(|l| l.strip_prefix("KEY=")).unwrap();
        assert!(key.starts_with("ASIA"), "{shell:?}: a session: {text}");
    }
    // One certificate session for the three shells, and one Admin session on it (moto's
    // AssumeRole count holds the fake's own call for the certificate session). The session name
    // is given because the default is $USER, which fish resets to the uid's name.
    assert_eq!(create_sessions(&fake), 1, "three shells, one CreateSession");
    assert_eq!(moto.assumed_role_count(), 2, "the certificate session's role, then Admin once");
    // Another role reuses the cached certificate session: no new CreateSession.
    let script = format!(
        "{}\nec2role laptop ReadOnly || exit 91\necho SESSION=$AWSENV_SESSION\necho ROLE=$AWSENV_ROLE\n\
         aws sts get-caller-identity --region us-east-1 --query Arn --output text",
        init_line(Shell::Bash)
    );
    let out = sandbox.run_shell(Shell::Bash, &script);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains(&format!("SESSION=role\nROLE=arn:aws:iam::{ACCOUNT}:role/ReadOnly\n")), "{text}");
    assert!(text.contains(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/ReadOnly/")), "{text}");
    assert_eq!(create_sessions(&fake), 1, "the cached certificate session was reused");
    assert_eq!(moto.assumed_role_count(), 3);
}

#[test]
fn the_wrapper_and_serve_renew_without_a_question() {
    let moto = Moto::start();
    let fake = Fake::start(&moto, false);
    let sandbox = sandbox(&moto);
    store_account(&sandbox, &fake, 900);
    // Sessions that end in two minutes: inside the refresh window at once.
    fake.control("POST", "/_fake/config", r#"{"expiresInSeconds": 120}"#);
    // The wrapper renews a session inside the refresh window, with no terminal and no question.
    let script = format!(
        "{}\nec2switch laptop || exit 91\nfirst=$AWS_ACCESS_KEY_ID\naws --version >/dev/null 2>&1\n\
         [ \"$first\" != \"$AWS_ACCESS_KEY_ID\" ] && echo RENEWED\necho SESSION=$AWSENV_SESSION",
        init_line(Shell::Bash)
    );
    let out = sandbox.run_shell(Shell::Bash, &script);
    assert_success(&out);
    assert!(stdout(&out).contains("RENEWED\nSESSION=x509"), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(create_sessions(&fake), 2);
    // serve hands the account's session to an SDK through the metadata endpoint.
    let mut cmd = sandbox.awsenv();
    cmd.args(["serve", "laptop", "--port", "0"]).stdin(Stdio::null());
    let serve = common::serve::Serve::start(&mut cmd);
    let endpoint = format!("http://127.0.0.1:{}/", serve.port);
    let mut aws = sandbox.command("aws");
    aws.args(["sts", "get-caller-identity", "--region", "us-east-1", "--output", "text", "--query", "Arn"])
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    let out = aws.output().unwrap();
    assert_success(&out);
    assert!(stdout(&out).contains("assumed-role/awsenv-ra-test/"), "{}", stdout(&out));
}
