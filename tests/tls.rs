//! STS over TLS: moto's server behind a throw-away CA ([`common::Moto::start_tls`]), reached only
//! through `AWS_ENDPOINT_URL` (https) and trusted only through `AWS_CA_BUNDLE`.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::cache::cache_file;
use common::world::World;
use common::{assert_success, fresh_code, show, stderr, stdout};

// ---------------------------------------------------------------------------
// moto over TLS, IAM user alice, account `work` in the sandbox's store
// ---------------------------------------------------------------------------

/// [`World::start_tls`] with every STS attempt bounded: a hang shows as a failure, not a stuck test.
fn bounded_world() -> World {
    let mut w = World::start_tls();
    w.sb.set_env("AWSENV_TIMEOUT", "10");
    w
}

/// `awsenv mfa --shell bash work` with a fresh code and `AWS_CA_BUNDLE` set to `bundle`
/// (unset for `None`).
fn mfa(w: &World, bundle: Option<&Path>) -> Output {
    let mut cmd = w.sb.awsenv();
    cmd.args(["mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", fresh_code());
    match bundle {
        Some(path) => cmd.env("AWS_CA_BUNDLE", path),
        None => cmd.env_remove("AWS_CA_BUNDLE"),
    };
    cmd.output().expect("run awsenv")
}

/// A file of the sandbox with `contents`.
fn write(w: &World, name: &str, contents: &[u8]) -> PathBuf {
    let path = w.sb.root().join(name);
    fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
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
    assert!(!cache_file(&w.sb, "work").exists(), "no cache entry after a failure\n{}", show(o));
    assert_eq!(w.moto.sts_token_count(), 0, "no GetSessionToken reached moto\n{}", show(o));
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn mfa_over_https_trusts_the_ca_bundle() {
    let w = bounded_world();
    assert_eq!(w.moto.sts_token_count(), 0);

    let out = mfa(&w, Some(&w.moto.ca()));
    assert_success(&out);
    let exports = stdout(&out);
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWSENV_EXPIRES"] {
        assert!(exports.contains(&format!("export {var}=")), "export of {var} expected\n{}", show(&out));
    }
    assert!(exports.contains("export AWSENV_SESSION='mfa'\n"), "an MFA session\n{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1, "one GetSessionToken at moto\n{}", show(&out));

    // The exports are the session STS gave over TLS, and it is cached.
    let path = cache_file(&w.sb, "work");
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
    let w = bounded_world();
    let started = Instant::now();
    let out = mfa(&w, None);
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
    let out = mfa(&w, Some(&w.moto.ca()));
    assert_success(&out);
    assert_eq!(w.moto.sts_token_count(), 1);
}

#[test]
fn mfa_with_a_missing_ca_bundle_names_the_file() {
    let w = bounded_world();
    let missing = w.sb.root().join("no-such-ca.pem");
    let out = mfa(&w, Some(&missing));
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
    let out = mfa(w, Some(bundle));
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
    let w = bounded_world();
    let bundle = write(&w, "not-a-bundle.txt", b"this is not a certificate\n");
    assert_bad_bundle_refused(&w, &bundle);
}

#[test]
fn mfa_with_a_der_ca_bundle_is_a_clear_error() {
    let w = bounded_world();
    assert_bad_bundle_refused(&w, &w.moto.ca_der());
}

#[test]
fn mfa_with_a_corrupt_pem_ca_bundle_is_a_clear_error() {
    let w = bounded_world();
    let bundle = write(
        &w,
        "corrupt.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    );
    assert_bad_bundle_refused(&w, &bundle);
}
