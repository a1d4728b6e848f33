//! Certificate accounts in the store: `~/aws-creds/NAME.x509`, one `key = value` per line.
//!
//! ```text
//! # the keys are aws_signing_helper's flags without their dashes
//! certificate = certs/laptop.pem          # relative paths are relative to the store
//! private-key = certs/laptop.key          # or pkcs11:...; absent: the certificate file's own key
//! trust-anchor-arn = arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/...
//! profile-arn = arn:aws:rolesanywhere:eu-west-1:111122223333:profile/...
//! role-arn = arn:aws:iam::111122223333:role/Laptop
//! ```

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::CertificateSource;
use super::pkcs11_uri::is_uri;
use crate::config::Settings;
use crate::error::{Exit, fail};
use crate::files::{self, Trust, limit};

impl CertificateSource {
    /// The account in store file `path` (which must be the user's and writable by no one else),
    /// with what `settings` add (and `~/` in a path is their home directory).
    pub fn from_store_file(path: &Path, settings: &Settings) -> Result<Self> {
        let home = settings.home_dir().ok();
        let what = format!("certificate account {}", path.display());
        let text = files::read_text(path, "certificate account", limit::VALUE, Trust::Required)?
            .ok_or_else(|| fail(Exit::Config, format!("{what} does not exist")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let bad = |line: usize, why: String| fail(Exit::Config, format!("{what} line {line}: {why}"));
        let mut values: Vec<(&str, String, usize)> = Vec::new();
        for (number, line) in text.lines().enumerate().map(|(n, line)| (n + 1, line.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) =
                line.split_once('=').ok_or_else(|| bad(number, "expected key = value".to_owned()))?;
            let (key, value) = (key.trim(), value.trim());
            match key {
                "pkcs8-password" => {
                    return Err(bad(number, "a passphrase is never kept in the store; set AWSENV_PKCS8_PASSWORD or type it when asked".to_owned()));
                }
                "no-verify-ssl" => {
                    return Err(bad(
                        number,
                        "awsenv always verifies TLS; for a private CA set AWS_CA_BUNDLE".to_owned(),
                    ));
                }
                known if KEYS.contains(&known) => {}
                other => {
                    return Err(bad(number, format!("unknown key {other:?} (known: {})", KEYS.join(", "))));
                }
            }
            if values.iter().any(|(seen, _, _)| *seen == key) {
                return Err(bad(number, format!("{key} is given twice")));
            }
            if value.is_empty() {
                return Err(bad(number, format!("{key} has no value")));
            }
            values.push((
                KEYS.iter().find(|k| **k == key).copied().unwrap_or_default(),
                value.to_owned(),
                number,
            ));
        }
        let get =
            |key: &str| values.iter().find(|(seen, _, _)| *seen == key).map(|(_, value, _)| value.clone());
        let line_of =
            |key: &str| values.iter().find(|(seen, _, _)| *seen == key).map_or(0, |(_, _, line)| *line);
        let require = |key: &str| get(key).ok_or_else(|| fail(Exit::Config, format!("{what} has no {key}")));
        let file = |value: String| {
            if is_uri(&value) {
                value
            } else {
                resolve(base, home.as_deref(), &value).to_string_lossy().into_owned()
            }
        };
        let flag = |key: &str, default: bool| match get(key) {
            None => Ok(default),
            Some(raw) => crate::config::parse_flag(&raw)
                .ok_or_else(|| bad(line_of(key), format!("{key} must be true or false"))),
        };
        let session_duration = match get("session-duration") {
            None => 3600,
            Some(raw) => raw.parse().map_err(|_| {
                bad(line_of("session-duration"), "session-duration must be a number of seconds".to_owned())
            })?,
        };
        let source = Self {
            certificate: file(require("certificate")?),
            private_key: get("private-key").map(file),
            intermediates: get("intermediates").map(|value| resolve(base, home.as_deref(), &value)),
            trust_anchor_arn: require("trust-anchor-arn")?,
            profile_arn: require("profile-arn")?,
            role_arn: require("role-arn")?,
            region: get("region"),
            endpoint: get("endpoint"),
            session_duration,
            role_session_name: get("role-session-name"),
            pkcs11_lib: get("pkcs11-lib").map(|value| resolve(base, home.as_deref(), &value)),
            pkcs8_password: None,
            reuse_pin: flag("reuse-pin", false)?,
            with_proxy: flag("with-proxy", true)?,
            env: settings.certificates().clone(),
        };
        source.check().map_err(|e| fail(Exit::Config, format!("{what}: {e:#}")))?;
        Ok(source)
    }
}

/// The keys of a store file, in the order the README lists them.
const KEYS: &[&str] = &[
    "certificate",
    "private-key",
    "intermediates",
    "trust-anchor-arn",
    "profile-arn",
    "role-arn",
    "region",
    "endpoint",
    "session-duration",
    "role-session-name",
    "pkcs11-lib",
    "reuse-pin",
    "with-proxy",
];

fn resolve(base: &Path, home: Option<&Path>, value: &str) -> PathBuf {
    match value.strip_prefix("~/").zip(home) {
        Some((rest, home)) => home.join(rest),
        None => base.join(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::source::tests::sample;

    #[test]
    fn store_files_are_read_with_paths_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("laptop.x509");
        let settings = Settings::for_tests(dir.path());
        let sample = sample();
        let text = format!(
            "# laptop\ncertificate = certs/laptop.pem\nprivate-key=pkcs11:token=t;id=%01\n\ntrust-anchor-arn = {}\n\
             profile-arn = {}\nrole-arn = {}\nsession-duration = 900\nwith-proxy = no\n",
            sample.trust_anchor_arn, sample.profile_arn, sample.role_arn
        );
        std::fs::write(&path, &text).unwrap();
        let source = CertificateSource::from_store_file(&path, &settings).unwrap();
        assert_eq!(Path::new(&source.certificate), dir.path().join("certs/laptop.pem"));
        assert_eq!(source.private_key.as_deref(), Some("pkcs11:token=t;id=%01"));
        assert_eq!((source.session_duration, source.with_proxy, source.reuse_pin), (900, false, false));
        let refusals = [
            ("colour = red\n", "line 1: unknown key \"colour\""),
            ("region = a\nregion = b\n", "line 10: region is given twice"),
            ("pkcs8-password = hunter2\n", "line 1: a passphrase is never kept in the store"),
            ("certificate\n", "line 1: expected key = value"),
            ("session-duration = 9\n", "--session-duration must be 900 to 43200 seconds"),
            ("role-arn = \n", "line 1: role-arn has no value"),
        ];
        for (change, wanted) in refusals {
            let broken = if change.starts_with("session") || change.starts_with("region") {
                format!("{}{change}", text.replace("session-duration = 900\n", ""))
            } else {
                change.to_owned()
            };
            std::fs::write(&path, broken).unwrap();
            let error = CertificateSource::from_store_file(&path, &settings).unwrap_err().to_string();
            assert!(error.contains(wanted) && error.contains("laptop.x509"), "{wanted}: {error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }
}
