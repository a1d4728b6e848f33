//! A certificate account: the identity, the three ARNs and how to reach the service. It comes
//! from aws_signing_helper's flags or from a store file, `~/aws-creds/NAME.x509`:
//!
//! ```text
//! # key = value lines; the keys are aws_signing_helper's flags without their dashes
//! certificate = certs/laptop.pem          # relative paths are relative to the store
//! private-key = certs/laptop.key          # or pkcs11:...; absent: the certificate file's own key
//! trust-anchor-arn = arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/...
//! profile-arn = arn:aws:rolesanywhere:eu-west-1:111122223333:profile/...
//! role-arn = arn:aws:iam::111122223333:role/Laptop
//! ```

use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest as _, Sha256};

use super::cert::hex;
use super::pkcs11_uri::is_uri;
use super::{KeySpec, Secrets};
use crate::creds::Secret;
use crate::error::{Exit, fail};
use crate::files::{self, Trust, limit};

/// The service's bounds on `durationSeconds`.
pub const DURATIONS: std::ops::RangeInclusive<u32> = 900..=43_200;

#[derive(Debug, Clone)]
pub struct CertificateSource {
    /// A file or a `pkcs11:` URI.
    pub certificate: String,
    pub private_key: Option<String>,
    pub intermediates: Option<PathBuf>,
    pub trust_anchor_arn: String,
    pub profile_arn: String,
    pub role_arn: String,
    /// Default: the trust anchor's.
    pub region: Option<String>,
    /// Default: `AWS_ENDPOINT_URL_ROLESANYWHERE`, `AWS_ENDPOINT_URL`, else the region's.
    pub endpoint: Option<String>,
    pub session_duration: u32,
    pub role_session_name: Option<String>,
    pub pkcs11_lib: Option<PathBuf>,
    /// Only from `--pkcs8-password`; a store file never holds one.
    pub pkcs8_password: Option<Secret>,
    pub reuse_pin: bool,
    /// Reach the service through `HTTPS_PROXY` (honouring `NO_PROXY`).
    pub with_proxy: bool,
}

impl CertificateSource {
    /// The account in store file `path` (which must be the user's and writable by no one else).
    pub fn from_store_file(path: &Path) -> Result<Self> {
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
            if is_uri(&value) { value } else { resolve(base, &value).to_string_lossy().into_owned() }
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
            intermediates: get("intermediates").map(|value| resolve(base, &value)),
            trust_anchor_arn: require("trust-anchor-arn")?,
            profile_arn: require("profile-arn")?,
            role_arn: require("role-arn")?,
            region: get("region"),
            endpoint: get("endpoint"),
            session_duration,
            role_session_name: get("role-session-name"),
            pkcs11_lib: get("pkcs11-lib").map(|value| resolve(base, &value)),
            pkcs8_password: None,
            reuse_pin: flag("reuse-pin", false)?,
            with_proxy: flag("with-proxy", true)?,
        };
        source.check().map_err(|e| fail(Exit::Config, format!("{what}: {e:#}")))?;
        Ok(source)
    }

    /// The account aws_signing_helper's flags describe.
    pub fn from_flags(flags: &crate::cli::CertificateArgs) -> Result<Self> {
        let required = |value: &Option<String>, option: &str| {
            value.clone().ok_or_else(|| fail(Exit::Usage, format!("{option} is needed with --certificate")))
        };
        if flags.no_verify_ssl {
            eprintln!(
                "awsenv: --no-verify-ssl is ignored: awsenv always verifies TLS (set AWS_CA_BUNDLE for a private CA)"
            );
        }
        Ok(Self {
            certificate: required(&flags.certificate, "--certificate")?,
            private_key: flags.private_key.clone(),
            intermediates: flags.intermediates.clone(),
            trust_anchor_arn: required(&flags.trust_anchor_arn, "--trust-anchor-arn")?,
            profile_arn: required(&flags.profile_arn, "--profile-arn")?,
            role_arn: required(&flags.role_arn, "--role-arn")?,
            region: flags.region.clone(),
            endpoint: flags.endpoint.clone(),
            session_duration: flags.session_duration.unwrap_or(3600),
            role_session_name: flags.role_session_name.clone(),
            pkcs11_lib: flags.key.pkcs11_lib.clone(),
            pkcs8_password: flags.key.pkcs8_password.clone(),
            reuse_pin: flags.key.reuse_pin,
            with_proxy: flags.with_proxy,
        })
    }

    /// The checks that need no file: the ARNs, their regions, the duration, the session name.
    pub fn check(&self) -> Result<()> {
        let anchor_region = ra_arn_region(&self.trust_anchor_arn, "trust-anchor", "--trust-anchor-arn")?;
        let profile_region = ra_arn_region(&self.profile_arn, "profile", "--profile-arn")?;
        if anchor_region != profile_region {
            return Err(fail(
                Exit::Usage,
                format!(
                    "trust anchor and profile regions don't match ({anchor_region} and {profile_region})"
                ),
            ));
        }
        let role = self.role_arn.split(':').collect::<Vec<_>>();
        let role_ok = matches!(role.as_slice(), ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()));
        if !role_ok {
            return Err(fail(
                Exit::Usage,
                format!("--role-arn {:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", self.role_arn),
            ));
        }
        if !DURATIONS.contains(&self.session_duration) {
            return Err(fail(
                Exit::Usage,
                format!("--session-duration must be 900 to 43200 seconds, not {}", self.session_duration),
            ));
        }
        if let Some(name) = &self.role_session_name {
            let ok = (2..=64).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
            if !ok {
                return Err(fail(
                    Exit::Usage,
                    format!("--role-session-name {name:?} must be 2 to 64 of A-Z a-z 0-9 _+=,.@-"),
                ));
            }
        }
        self.endpoint()?;
        Ok(())
    }

    /// `--region`, else the trust anchor's.
    pub fn region(&self) -> Result<String> {
        match &self.region {
            Some(region) => Ok(region.clone()),
            None => ra_arn_region(&self.trust_anchor_arn, "trust-anchor", "--trust-anchor-arn"),
        }
    }

    /// `scheme://host[:port]` of the service.
    pub fn endpoint(&self) -> Result<String> {
        let (raw, what) = match &self.endpoint {
            Some(endpoint) => (endpoint.clone(), "--endpoint"),
            None => match crate::config::rolesanywhere_endpoint()? {
                Some(endpoint) => (endpoint, "AWS_ENDPOINT_URL_ROLESANYWHERE (or AWS_ENDPOINT_URL)"),
                None => {
                    let region = self.region()?;
                    let domain = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
                    return Ok(format!("https://rolesanywhere.{region}.{domain}"));
                }
            },
        };
        let bad = || {
            fail(
                Exit::Usage,
                format!(
                    "{what} {raw:?} is not an http(s) URL with no path (like https://rolesanywhere.eu-west-1.amazonaws.com)"
                ),
            )
        };
        let uri: http::Uri = raw.parse().map_err(|_| bad())?;
        let scheme = uri.scheme_str().filter(|scheme| matches!(*scheme, "http" | "https")).ok_or_else(bad)?;
        let authority =
            uri.authority().filter(|authority| !authority.as_str().contains('@')).ok_or_else(bad)?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad());
        }
        Ok(format!("{scheme}://{authority}"))
    }

    pub fn key_spec(&self) -> KeySpec<'_> {
        KeySpec {
            certificate: Some(&self.certificate),
            private_key: self.private_key.as_deref(),
            intermediates: self.intermediates.as_deref(),
            pkcs11_lib: self.pkcs11_lib.as_deref(),
            secrets: Secrets::new(self.pkcs8_password.clone(), self.reuse_pin),
        }
    }

    /// A name for the cache: it changes whenever the session it gives would (another certificate,
    /// a renewed one, other ARNs, region, endpoint, duration or session name). It reads the
    /// certificate and intermediates files but never the key, and never includes a PIN.
    pub fn fingerprint(&self) -> Result<String> {
        let mut hash = Sha256::new();
        let mut add = |name: &str, value: &[u8]| {
            hash.update(name.as_bytes());
            hash.update((value.len() as u64).to_be_bytes());
            hash.update(value);
        };
        let file_hash = |path: &str, what: &str| -> Result<Vec<u8>> {
            let bytes = files::read(Path::new(path), what, limit::PEM, Trust::Data)?
                .ok_or_else(|| fail(Exit::Config, format!("{what} {path} does not exist")))?;
            Ok(Sha256::digest(&bytes).to_vec())
        };
        let without_query = |uri: &str| uri.split('?').next().unwrap_or_default().to_owned();
        if is_uri(&self.certificate) {
            add("certificate-uri", without_query(&self.certificate).as_bytes());
        } else {
            add("certificate", &file_hash(&self.certificate, "certificate")?);
        }
        let key = self
            .private_key
            .as_deref()
            .map(|key| if is_uri(key) { without_query(key) } else { key.to_owned() });
        add("private-key", key.unwrap_or_default().as_bytes());
        if let Some(path) = &self.intermediates {
            add("intermediates", &file_hash(&path.to_string_lossy(), "intermediates")?);
        }
        for (name, value) in [
            ("trust-anchor-arn", self.trust_anchor_arn.clone()),
            ("profile-arn", self.profile_arn.clone()),
            ("role-arn", self.role_arn.clone()),
            ("region", self.region()?),
            ("endpoint", self.endpoint()?),
            ("session-duration", self.session_duration.to_string()),
            ("role-session-name", self.role_session_name.clone().unwrap_or_default()),
            (
                "pkcs11-lib",
                self.pkcs11_lib.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
            ),
        ] {
            add(name, value.as_bytes());
        }
        Ok(hex(&hash.finalize()[..16]))
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

fn resolve(base: &Path, value: &str) -> PathBuf {
    match value.strip_prefix("~/").zip(crate::config::home_dir().ok()) {
        Some((rest, home)) => home.join(rest),
        None => base.join(value),
    }
}

/// The region of `arn:PARTITION:rolesanywhere:REGION:ACCOUNT:KIND/ID`.
fn ra_arn_region(arn: &str, kind: &str, option: &str) -> Result<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(), ["arn", partition, "rolesanywhere", region, account, resource]
        if !partition.is_empty() && !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix(kind).and_then(|rest| rest.strip_prefix('/')).is_some_and(|id| !id.is_empty()));
    if !ok {
        return Err(fail(
            Exit::Usage,
            format!("{option} {arn:?} is not a {kind} ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:{kind}/ID)"),
        ));
    }
    Ok(parts[3].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> CertificateSource {
        CertificateSource {
            certificate: "/nonexistent/cert.pem".to_owned(),
            private_key: None,
            intermediates: None,
            trust_anchor_arn: "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/0b8e0c5e-4c5b-4f4b-9e64-1234567890ab".to_owned(),
            profile_arn: "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/1b8e0c5e-4c5b-4f4b-9e64-1234567890ab".to_owned(),
            role_arn: "arn:aws:iam::111122223333:role/Laptop".to_owned(),
            region: None,
            endpoint: Some("https://ra.example:8443/".to_owned()),
            session_duration: 3600,
            role_session_name: None,
            pkcs11_lib: None,
            pkcs8_password: Some(Secret::new("hunter2")),
            reuse_pin: false,
            with_proxy: false,
        }
    }

    #[test]
    fn the_region_comes_from_the_trust_anchor_and_must_match_the_profile() {
        let mut source = sample();
        source.check().unwrap();
        assert_eq!(source.region().unwrap(), "eu-west-1");
        source.profile_arn = source.profile_arn.replace("eu-west-1", "us-east-1");
        let error = source.check().unwrap_err().to_string();
        assert_eq!(error, "trust anchor and profile regions don't match (eu-west-1 and us-east-1)");
    }

    #[test]
    fn endpoints_are_a_scheme_and_a_host() {
        let mut source = sample();
        assert_eq!(source.endpoint().unwrap(), "https://ra.example:8443");
        for bad in ["ftp://x", "https://x/path", "https://x/?a=b", "https://user@x", "not a url"] {
            source.endpoint = Some(bad.to_owned());
            assert!(source.endpoint().is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_arns_durations_and_names_are_refused() {
        type Change = fn(&mut CertificateSource);
        let cases: [(&str, Change); 4] = [
            ("--trust-anchor-arn", |s| {
                s.trust_anchor_arn = "arn:aws:rolesanywhere:eu-west-1:1:trust-anchor/x".to_owned()
            }),
            ("--role-arn", |s| s.role_arn = "arn:aws:iam::111122223333:user/Laptop".to_owned()),
            ("--session-duration", |s| s.session_duration = 899),
            ("--role-session-name", |s| s.role_session_name = Some("a b".to_owned())),
        ];
        for (option, change) in cases {
            let mut source = sample();
            change(&mut source);
            let error = source.check().unwrap_err().to_string();
            assert!(error.starts_with(option), "{error}");
        }
    }

    #[test]
    fn store_files_are_read_with_paths_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("laptop.x509");
        let sample = sample();
        let text = format!(
            "# laptop\ncertificate = certs/laptop.pem\nprivate-key=pkcs11:token=t;id=%01\n\ntrust-anchor-arn = {}\n\
             profile-arn = {}\nrole-arn = {}\nsession-duration = 900\nwith-proxy = no\n",
            sample.trust_anchor_arn, sample.profile_arn, sample.role_arn
        );
        std::fs::write(&path, &text).unwrap();
        let source = CertificateSource::from_store_file(&path).unwrap();
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
            let error = CertificateSource::from_store_file(&path).unwrap_err().to_string();
            assert!(error.contains(wanted) && error.contains("laptop.x509"), "{wanted}: {error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn debug_hides_the_passphrase() {
        assert!(!format!("{:?}", sample()).contains("hunter2"));
    }
}
