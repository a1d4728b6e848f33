//! Self-tests of the shared test harness (tests/common) against a real moto.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::net::TcpStream;
use std::path::Path;

use common::files::mode;
use common::{Moto, Sandbox, Shell, assert_success, init_line, stdout};

/// GetSessionToken with the given long-term keys (and MFA serial if any);
/// prints the temporary access key id.
const GET_SESSION_TOKEN: &str = r#"
sts = client('sts')
kwargs = {'DurationSeconds': 900}
if os.environ.get('MFA_SERIAL'):
    kwargs.update(SerialNumber=os.environ['MFA_SERIAL'], TokenCode='123456')
try:
    creds = sts.get_session_token(**kwargs)['Credentials']
    print('OK', creds['AccessKeyId'])
except sts.exceptions.ClientError as e:
    print('ERR', e.response['Error']['Code'])
"#;

fn get_session_token(moto: &Moto, key: &str, secret: &str, serial: Option<&str>) -> String {
    moto.boto3(
        GET_SESSION_TOKEN,
        &[
            ("AWS_ACCESS_KEY_ID", key),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("MFA_SERIAL", serial.unwrap_or("")),
        ],
    )
    .trim()
    .to_string()
}

#[test]
fn moto_counts_session_tokens_and_resets() {
    let moto = Moto::start();
    assert!(moto.url().ends_with(&format!(":{}", moto.port())));
    let data: serde_json::Value = serde_json::from_str(&moto.data()).expect("data.json is JSON");
    assert!(data.is_object());

    let (key, secret) = moto.create_user("alice");
    assert!(key.starts_with("AKIA"), "access key id {key:?}");
    assert!(secret.len() >= 20, "secret too short");
    let serial = moto.create_virtual_mfa("alice");
    assert_eq!(serial, format!("arn:aws:iam::{}:mfa/alice", moto.account_id()));

    let ident = moto.boto3(
        "print(client('sts').get_caller_identity()['Account'])",
        &[("AWS_ACCESS_KEY_ID", &key), ("AWS_SECRET_ACCESS_KEY", &secret)],
    );
    assert_eq!(ident.trim(), moto.account_id());

    assert_eq!(moto.sts_token_count(), 0);
    assert_eq!(moto.assumed_role_count(), 0);

    let out = get_session_token(&moto, &key, &secret, Some(&serial));
    assert!(out.starts_with("OK "), "GetSessionToken: {out}");
    assert_eq!(moto.sts_token_count(), 1);
    assert_eq!(moto.assumed_role_count(), 0);

    moto.reset();
    assert_eq!(moto.sts_token_count(), 0);
    assert_eq!(moto.assumed_role_count(), 0);
}

#[test]
fn moto_with_auth_checks_signatures() {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let (key, secret) = moto.create_user("bob");
    let serial = moto.create_virtual_mfa("bob");

    let out = get_session_token(&moto, &key, &secret, Some(&serial));
    assert!(out.starts_with("OK "), "GetSessionToken with good keys: {out}");
    assert_eq!(moto.sts_token_count(), 1);

    let out = get_session_token(&moto, &key, "wrong-secret-wrong-secret", None);
    assert_eq!(out, "ERR SignatureDoesNotMatch");
    let out = get_session_token(&moto, "AKIAUNKNOWNUNKNOWN00", &secret, None);
    assert_eq!(out, "ERR InvalidClientTokenId");
    assert_eq!(moto.sts_token_count(), 1);

    // Admin helpers keep working after auth was switched back on.
    let (key2, secret2) = moto.create_user("carol");
    let out = get_session_token(&moto, &key2, &secret2, None);
    assert!(out.starts_with("OK "), "GetSessionToken for carol: {out}");
    assert_eq!(moto.sts_token_count(), 2);
}

#[test]
fn moto_is_killed_on_drop() {
    let moto = Moto::start();
    let port = moto.port();
    drop(moto);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "moto still listening on {port} after drop");
}

#[test]
fn sandbox_store_and_account_files_are_private() {
    let sb = Sandbox::new(None);
    assert_eq!(sb.store(), sb.home().join("aws-creds"));
    assert_eq!(mode(&sb.store()), 0o700);

    sb.add_account("work", "AKIAEXAMPLE", "s3cr3t", Some("alice"));
    sb.add_account("home", "AKIAOTHER", "other", None);
    for f in ["work.access_key", "work.secret_key", "work.user"] {
        assert_eq!(mode(&sb.store().join(f)), 0o600, "{f}");
    }
    let read = |f: &str| std::fs::read_to_string(sb.store().join(f)).unwrap();
    assert_eq!(read("work.access_key"), "AKIAEXAMPLE\n");
    assert_eq!(read("work.secret_key"), "s3cr3t\n");
    assert_eq!(read("work.user"), "alice\n");
    assert!(!sb.store().join("home.user").exists());

    sb.write_accounts_json(r#"{"work": {}}"#);
    assert_eq!(read("accounts.json"), r#"{"work": {}}"#);
}

#[test]
fn sandbox_environment_is_isolated() {
    let moto = Moto::start();
    let mut sb = Sandbox::new(Some(&moto));
    let env: std::collections::HashMap<_, _> = sb.env().into_iter().collect();
    assert_eq!(env["HOME"], sb.home().to_str().unwrap());
    assert_eq!(env["USER"], "tester");
    assert_eq!(env["AWS_ENDPOINT_URL"], moto.url());
    assert_eq!(env["AWS_EC2_METADATA_DISABLED"], "true");
    assert!(!env.contains_key("AWSENV_DIR"));
    assert!(!Path::new(&env["AWS_CONFIG_FILE"]).exists());
    assert!(!Path::new(&env["AWS_SHARED_CREDENTIALS_FILE"]).exists());
    assert!(Sandbox::new(None).env().iter().all(|(k, _)| k != "AWS_ENDPOINT_URL"));

    // The sandbox PATH finds the binary under test, and a python with boto3.
    let out = sb.command("sh").args(["-c", "command -v awsenv; env | sort"]).output().unwrap();
    assert_success(&out);
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    assert!(
        Path::new(first).ends_with("bin/awsenv")
            && Path::new(first).canonicalize().unwrap()
                == Path::new(env!("CARGO_BIN_EXE_awsenv")).canonicalize().unwrap(),
        "awsenv resolves to {first}"
    );
    assert!(text.contains(&format!("HOME={}\n", sb.home().display())));
    let out = sb.command("python3").args(["-c", "import boto3"]).output().unwrap();
    assert_success(&out);

    sb.set_env("AWSENV_DIR", "/nonexistent");
    assert!(sb.env().contains(&("AWSENV_DIR".into(), "/nonexistent".into())));
    sb.remove_env("AWSENV_DIR");
    assert!(sb.env().iter().all(|(k, _)| k != "AWSENV_DIR"));
}

#[test]
fn shells_run_without_rc_files_in_the_sandbox() {
    let sb = Sandbox::new(None);
    for shell in Shell::ALL {
        shell.require();
        assert!(init_line(shell).contains("awsenv init"));
        let out = sb.run_shell(shell, "echo $HOME; command -v awsenv");
        assert_success(&out);
        let text = stdout(&out);
        let mut lines = text.lines();
        assert_eq!(lines.next(), sb.home().to_str(), "{shell}: {text}");
        assert!(lines.next().is_some_and(|l| l.ends_with("/bin/awsenv")), "{shell}: {text}");
    }
}
