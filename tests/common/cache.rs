//! The files awsenv keeps under a store's `.awsenv/` directory, named as it names them today
//! (`{key}.mfa.json`, `{key}.role.{key}.{key}.json`, `{key}.lock`, `last-code.{key}.{key}`, each
//! `key` a name escaped as `file_key` escapes it), and what the tests read and change in a session
//! entry. Written from the naming rules, not from awsenv's code: a change of name shows here.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::Value;

use super::Sandbox;
use super::clock::{epoch, rfc3339};

/// `STORE/.awsenv`: the session cache and the other files awsenv keeps beside it.
pub fn cache_dir(sb: &Sandbox) -> PathBuf {
    sb.store().join(".awsenv")
}

/// The file of `account`'s MFA session.
pub fn cache_file(sb: &Sandbox, account: &str) -> PathBuf {
    in_cache(sb, format!("{}.mfa.json", file_key(account)))
}

/// The file of `account`'s session of role `role` in AWS account `account_id`.
pub fn role_cache_file(sb: &Sandbox, account: &str, account_id: &str, role: &str) -> PathBuf {
    in_cache(sb, format!("{}.role.{}.{}.json", file_key(account), file_key(account_id), file_key(role)))
}

/// The lock of `account`'s sessions.
pub fn lock_file(sb: &Sandbox, account: &str) -> PathBuf {
    in_cache(sb, format!("{}.lock", file_key(account)))
}

/// The record of the last code sent for MFA device `device` (the serial's name) of `account_id`.
pub fn last_code_file(sb: &Sandbox, account_id: &str, device: &str) -> PathBuf {
    in_cache(sb, format!("last-code.{}.{}", file_key(account_id), file_key(device)))
}

/// `name` in the cache directory. awsenv shortens names over 200 bytes with a hash of the whole;
/// no test needs one.
fn in_cache(sb: &Sandbox, name: String) -> PathBuf {
    assert!(name.len() <= 200, "{name:?} is a name awsenv shortens; the tests have no rule for it");
    cache_dir(sb).join(name)
}

/// A name as part of a file name: lowercase letters, digits, `_` and `-` as they are, an
/// uppercase letter as `^` and its lowercase, any other byte as `%` and two hex digits.
fn file_key(text: &str) -> String {
    let mut key = String::new();
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => key.push(byte as char),
            b'A'..=b'Z' => {
                key.push('^');
                key.push(byte.to_ascii_lowercase() as char);
            }
            _ => key.push_str(&format!("%{byte:02x}")),
        }
    }
    key
}

/// A session entry, as far as the tests look into it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub secret: String,
    pub token: String,
    pub expires: i64,
    pub json: Value,
}

/// `account`'s MFA session entry; panics unless it is there and complete.
pub fn entry(sb: &Sandbox, account: &str) -> Entry {
    let path = cache_file(sb, account);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let field = |f: &str| json[f].as_str().unwrap_or_else(|| panic!("no {f} in {json}")).to_owned();
    Entry {
        key: field("access_key_id"),
        secret: field("secret_access_key"),
        token: field("session_token"),
        expires: epoch(&field("expiration")),
        json,
    }
}

/// Moves `account`'s MFA session to expire at `expires` (mode 0600, as awsenv writes it).
pub fn set_expiration(sb: &Sandbox, account: &str, expires: i64) {
    let mut json = entry(sb, account).json;
    json["expiration"] = Value::String(rfc3339(expires));
    let path = cache_file(sb, account);
    fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}
