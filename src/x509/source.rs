//! A certificate account: the identity, the three ARNs and how to reach the service, from
//! aws_signing_helper's flags or from a store file (`store_file`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest as _, Sha256};

use super::cert::hex;
use super::pkcs11_uri::is_uri;
use super::{KeySpec, Secrets};
use crate::config::{CertificateEnv, Settings};
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
    /// What the environment adds: a passphrase, a PIN, a module, an endpoint.
    pub env: CertificateEnv,
}

impl CertificateSource {
    /// The account aws_signing_helper's flags describe, with what `settings` add.
    pub fn from_flags(flags: &crate::cli::CertificateArgs, settings: &Settings) -> Result<Self> {
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
            env: settings.certificates().clone(),
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
            None => match self.env.rolesanywhere_endpoint()? {
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
            pkcs11_module: self.env.pkcs11_module.clone(),
            secrets: Secrets::new(self.pkcs8_password.clone(), self.reuse_pin, &self.env),
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
pub(super) mod tests {
    use super::*;

    pub(in crate::x509) fn sample() -> CertificateSource {
        let mut env = CertificateEnv::with_endpoint(None);
        env.pkcs8_password = Some(Secret::new("swordfish"));
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
            env,
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
    fn debug_hides_the_passphrase() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("hunter2") && !shown.contains("swordfish"), "{shown}");
    }
}
