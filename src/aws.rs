//! The only module that talks to AWS, and the only one that imports the SDK or starts tokio. The
//! commands that only read the cache never call into it, so they never pay for either.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials as SdkCredentials, Region};
use aws_sdk_sts::error::SdkError;
use aws_smithy_http_client::proxy::ProxyConfig;

use crate::creds::{Credentials, Secret, Timestamp};
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, limit};

mod errors;
pub mod http;
pub mod iam_ssh;
pub mod identity_url;
pub mod lambda;
pub mod probe;
pub mod rolesanywhere;
pub mod sso;
pub mod sso_oidc;

use errors::describe;
pub use errors::safe_cause;

/// Where and how to reach AWS. The endpoint itself comes from the SDK's own resolution
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, the shared config file).
#[derive(Clone)]
pub struct Connection {
    pub region: String,
    pub timeout: Duration,
    pub ca_bundle: Option<std::path::PathBuf>,
}

/// A connection to AWS with one set of credentials: the tokio runtime and the SDK's config, made
/// only by the commands that call AWS.
pub struct Aws {
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

impl Aws {
    pub fn connect(connection: &Connection, creds: &Credentials) -> Result<Self> {
        crate::timing::measure(crate::timing::Phase::Aws, || Self::connect_now(connection, creds))
    }

    fn connect_now(connection: &Connection, creds: &Credentials) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let config = runtime.block_on(sdk_config(connection, creds))?;
        Ok(Self { runtime, config })
    }

    /// Runs one call to AWS, its time counted for `--debug`.
    fn block_on<F: std::future::Future>(&self, call: F) -> F::Output {
        crate::timing::measure(crate::timing::Phase::Aws, || self.runtime.block_on(call))
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    /// The ARN of the credentials' own identity (STS GetCallerIdentity).
    pub fn caller_arn(&self) -> Result<String> {
        let output = self
            .block_on(self.sts().get_caller_identity().send())
            .map_err(|e| describe("sts GetCallerIdentity", e))?;
        output.arn.context("sts GetCallerIdentity returned no ARN")
    }

    /// The serial numbers of the user's MFA devices.
    pub fn mfa_devices(&self, user: &str) -> Result<Vec<String>> {
        debug!("iam ListMFADevices user {user}");
        let output = self
            .block_on(self.iam().list_mfa_devices().user_name(user).send())
            .map_err(|e| describe("iam ListMFADevices", e))?;
        Ok(output.mfa_devices.into_iter().map(|device| device.serial_number).collect())
    }

    /// Creates a virtual MFA device named `name`: its serial and its base32 seed.
    /// `None` when a device of that name exists already.
    pub fn create_virtual_mfa_device(&self, name: &str) -> Result<Option<(String, Secret)>> {
        debug!("iam CreateVirtualMFADevice {name}");
        let result =
            self.block_on(self.iam().create_virtual_mfa_device().virtual_mfa_device_name(name).send());
        let output = match result {
            Err(SdkError::ServiceError(service)) if service.err().is_entity_already_exists_exception() => {
                return Ok(None);
            }
            other => other.map_err(|e| describe("iam CreateVirtualMFADevice", e))?,
        };
        let device = output.virtual_mfa_device.context("iam CreateVirtualMFADevice returned no device")?;
        let seed = device.base32_string_seed.context("iam CreateVirtualMFADevice returned no seed")?;
        Ok(Some((device.serial_number, Secret::new(seed.into_inner()))))
    }

    /// Enables the device for the user with two consecutive codes.
    pub fn enable_mfa_device(&self, user: &str, serial: &str, codes: (&str, &str)) -> Result<()> {
        debug!("iam EnableMFADevice {serial} for {user}");
        let request = self
            .iam()
            .enable_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .authentication_code1(codes.0)
            .authentication_code2(codes.1);
        self.block_on(request.send()).map_err(|e| describe("iam EnableMFADevice", e))?;
        Ok(())
    }

    pub fn delete_virtual_mfa_device(&self, serial: &str) -> Result<()> {
        debug!("iam DeleteVirtualMFADevice {serial}");
        let request = self.iam().delete_virtual_mfa_device().serial_number(serial);
        self.block_on(request.send()).map_err(|e| describe("iam DeleteVirtualMFADevice", e))?;
        Ok(())
    }
}

/// STS GetSessionToken signed with `keys`, for the device `serial` and its current `code`.
pub fn get_session_token(
    connection: &Connection,
    keys: &Credentials,
    serial: &str,
    code: &str,
    duration_seconds: i32,
) -> Result<Credentials> {
    let aws = Aws::connect(connection, keys)?;
    debug!("sts GetSessionToken serial {serial} duration {duration_seconds}s region {}", connection.region);
    let request = aws
        .sts()
        .get_session_token()
        .serial_number(serial)
        .token_code(code)
        .duration_seconds(duration_seconds);
    let output = aws.block_on(request.send()).map_err(|e| describe("sts GetSessionToken", e))?;
    let creds = output.credentials.context("sts GetSessionToken returned no credentials")?;
    Ok(session_credentials(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
        creds.expiration,
    ))
}

/// What AssumeRole is asked for.
pub struct AssumeRoleInput<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub duration_seconds: i32,
    pub external_id: Option<&'a str>,
    /// The MFA device and its current code, when the call is signed with long-term keys.
    pub mfa: Option<(&'a str, &'a str)>,
}

/// STS AssumeRole signed with `signer` (an MFA session, or long-term keys with `input.mfa`).
pub fn assume_role(
    connection: &Connection,
    signer: &Credentials,
    input: &AssumeRoleInput,
) -> Result<Credentials> {
    let aws = Aws::connect(connection, signer)?;
    debug!(
        "sts AssumeRole {} session {} duration {}s{}",
        input.role_arn,
        input.session_name,
        input.duration_seconds,
        if input.mfa.is_some() { " with an MFA code" } else { "" }
    );
    let request = aws
        .sts()
        .assume_role()
        .role_arn(input.role_arn)
        .role_session_name(input.session_name)
        .duration_seconds(input.duration_seconds)
        .set_external_id(input.external_id.map(str::to_owned))
        .set_serial_number(input.mfa.map(|(serial, _)| serial.to_owned()))
        .set_token_code(input.mfa.map(|(_, code)| code.to_owned()));
    let output = aws.block_on(request.send()).map_err(|e| describe("sts AssumeRole", e))?;
    let creds = output.credentials.context("sts AssumeRole returned no credentials")?;
    Ok(session_credentials(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
        creds.expiration,
    ))
}

fn session_credentials(
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: aws_sdk_sts::primitives::DateTime,
) -> Credentials {
    Credentials {
        access_key_id: Secret::new(access_key_id),
        secret_access_key: Secret::new(secret_access_key),
        session_token: Some(Secret::new(session_token)),
        expiration: Some(Timestamp(expiration.secs())),
    }
}

/// Credentials whose expiry is in milliseconds since the epoch (the SSO portal's form).
fn session_credentials_from_millis(
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration_millis: i64,
) -> Credentials {
    Credentials {
        access_key_id: Secret::new(access_key_id),
        secret_access_key: Secret::new(secret_access_key),
        session_token: Some(Secret::new(session_token)),
        expiration: Some(Timestamp(expiration_millis.div_euclid(1000))),
    }
}

async fn sdk_config(connection: &Connection, keys: &Credentials) -> Result<aws_config::SdkConfig> {
    let access_key_id = keys.access_key_id.as_str("the access key id")?;
    let secret = keys.secret_access_key.as_str("the secret key")?;
    let token = keys.session_token.as_ref().map(|t| t.as_str("the session token")).transpose()?;
    let credentials = SdkCredentials::new(access_key_id, secret, token.map(str::to_owned), None, "awsenv");
    Ok(loader(connection)?.credentials_provider(credentials).load().await)
}

/// The SDK's config for IAM Identity Center's OIDC and portal APIs, whose calls carry a client
/// secret or a bearer token instead of AWS credentials.
pub(crate) async fn unsigned_config(connection: &Connection) -> Result<aws_config::SdkConfig> {
    Ok(loader(connection)?.no_credentials().load().await)
}

/// Region, retries, timeouts and awsenv's HTTP client (`AWS_CA_BUNDLE`, the SDK's proxy rules);
/// endpoints stay the SDK's to resolve.
fn loader(connection: &Connection) -> Result<aws_config::ConfigLoader> {
    // One attempt may take the whole budget minus a little, so a retry still fits when it can.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(connection.timeout.min(Duration::from_secs(5)))
        .operation_attempt_timeout(connection.timeout)
        .operation_timeout(connection.timeout)
        .build();
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(connection.region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(timeouts)
        .http_client(http::client(connection.ca_bundle.as_deref(), ProxyConfig::from_env())?))
}

/// The PEM certificates of `AWS_CA_BUNDLE`, each checked here: the SDK's TLS stack would
/// silently ignore a file with none and panic on a malformed one.
pub fn ca_bundle(path: &std::path::Path) -> Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |what: String| fail(Exit::Config, format!("AWS_CA_BUNDLE {}: {what}", path.display()));
    let pem = files::read(path, "AWS_CA_BUNDLE", limit::PEM, Trust::Required)?
        .ok_or_else(|| bad("could not read it: it does not exist".to_owned()))?;
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not valid PEM: {e}")))?;
        rustls::RootCertStore::empty()
            .add(cert)
            .map_err(|e| bad(format!("a certificate in it is invalid: {e}")))?;
        count += 1;
    }
    if count == 0 {
        return Err(bad("it holds no PEM certificate (BEGIN CERTIFICATE)".to_owned()));
    }
    Ok(pem)
}
