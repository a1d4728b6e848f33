//! The clap types of IAM Roles Anywhere: aws_signing_helper's flags, `sign-string` and
//! `read-certificate-data`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// aws_signing_helper's flags for an IAM Roles Anywhere session, so that replacing its name with
/// awsenv's in a `credential_process` line works.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "IAM Roles Anywhere (aws_signing_helper's flags)")]
pub struct CertificateArgs {
    /// Certificate: a PEM or DER file, or a pkcs11: URI
    #[arg(long, value_name = "FILE|URI", conflicts_with = "account")]
    pub certificate: Option<String>,

    /// Private key: a PEM file or a pkcs11: URI [default: the certificate file's own, or the token's]
    #[arg(long, value_name = "FILE|URI", requires = "certificate")]
    pub private_key: Option<String>,

    /// PEM bundle of intermediate CA certificates, sent as X-Amz-X509-Chain
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub intermediates: Option<PathBuf>,

    /// Trust anchor ARN
    #[arg(long, value_name = "ARN", requires = "certificate")]
    pub trust_anchor_arn: Option<String>,

    /// Profile ARN
    #[arg(long, value_name = "ARN", requires = "certificate")]
    pub profile_arn: Option<String>,

    /// Role ARN
    #[arg(long, value_name = "ARN", requires = "certificate")]
    pub role_arn: Option<String>,

    /// Session lifetime in seconds, 900 to 43200 [default: 3600]
    #[arg(long, value_name = "SECONDS", requires = "certificate")]
    pub session_duration: Option<u32>,

    /// Region of the IAM Roles Anywhere endpoint [default: the trust anchor's]
    #[arg(long, requires = "certificate")]
    pub region: Option<String>,

    /// IAM Roles Anywhere endpoint [env: AWS_ENDPOINT_URL_ROLESANYWHERE, AWS_ENDPOINT_URL]
    #[arg(long, value_name = "URL", requires = "certificate")]
    pub endpoint: Option<String>,

    /// Role session name [default: the service's, from the certificate's serial]
    #[arg(long, requires = "certificate")]
    pub role_session_name: Option<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    /// Accepted for aws_signing_helper's sake; awsenv verifies TLS anyway (set AWS_CA_BUNDLE for a private CA)
    #[arg(long, requires = "certificate")]
    pub no_verify_ssl: bool,

    /// Reach the endpoint through HTTPS_PROXY (honouring NO_PROXY)
    #[arg(long, requires = "certificate")]
    pub with_proxy: bool,
}

/// How the private key is opened: shared by the credential flags and `sign-string`.
#[derive(Debug, Default, Args)]
pub struct KeyArgs {
    /// Passphrase of an encrypted PKCS#8 key (visible in ps; prefer AWSENV_PKCS8_PASSWORD or the prompt)
    #[arg(long, value_name = "PASSPHRASE", value_parser = secret)]
    pub pkcs8_password: Option<crate::creds::Secret>,

    /// PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI's module-path, else p11-kit's proxy]
    #[arg(long, value_name = "FILE")]
    pub pkcs11_lib: Option<PathBuf>,

    /// Log in again with the same PIN for a key that asks before every signature
    #[arg(long)]
    pub reuse_pin: bool,
}

fn secret(text: &str) -> Result<crate::creds::Secret, std::convert::Infallible> {
    Ok(crate::creds::Secret::new(text))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignDigest {
    #[value(name = "SHA256")]
    Sha256,
    #[value(name = "SHA384")]
    Sha384,
    #[value(name = "SHA512")]
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignFormat {
    /// The signature's lower-case hex as a JSON string
    Json,
    /// The signature's lower-case hex
    Text,
    /// The signature's bytes
    Bin,
}

#[derive(Debug, Args)]
pub struct SignString {
    /// Private key: a PEM file or a pkcs11: URI
    #[arg(long, value_name = "FILE|URI")]
    pub private_key: Option<String>,

    /// Certificate (a file or a pkcs11: URI) whose key signs, when --private-key is not given
    #[arg(long, value_name = "FILE|URI")]
    pub certificate: Option<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    /// Digest of the message that is signed
    #[arg(long, value_enum, ignore_case = true, default_value = "SHA256")]
    pub digest: SignDigest,

    /// Output format (aws_signing_helper's default is json, whatever its README says)
    #[arg(long, value_enum, default_value = "json")]
    pub format: SignFormat,
}

#[derive(Debug, Args)]
pub struct ReadCertificateData {
    /// A certificate file, or a pkcs11: URI to list the matching certificates of tokens
    #[arg(long, value_name = "FILE|URI")]
    pub certificate: String,

    /// PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI's module-path, else p11-kit's proxy]
    #[arg(long, value_name = "FILE")]
    pub pkcs11_lib: Option<PathBuf>,
}
