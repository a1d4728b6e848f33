//! The clap types of the SSH tools: `awsenv authorized-keys` and `awsenv ssh-cert`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct AuthorizedKeys {
    /// The local user sshd asks about (`%u`)
    pub local_user: String,

    /// Root-owned file mapping local users to IAM principals [default: /etc/awsenv/authorized-keys.conf]
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,

    /// Cache directory, created 0700 by the command user [default: the map's cache-dir, else /tmp/awsenv-authorized-keys-UID]
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Keys fetched less than this long ago are used without asking IAM (e.g. 90s, 5m) [default: 5m]
    #[arg(long, value_name = "DURATION")]
    pub fresh: Option<String>,

    /// When IAM cannot be asked, keys fetched less than this long ago are still used [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub stale: Option<String>,

    /// Longest time a login may wait, for the lock and IAM together [default: 5s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Profile of the aws CLI's files to use instead of the SDK's default chain (environment, IMDS)
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CertOutput {
    /// Add key and certificate to $SSH_AUTH_SOCK until the certificate expires
    Agent,
    /// Print the Lambda's answer (JSON)
    Stdout,
    /// Write KEY-cert.pub beside the private key
    File,
}

#[derive(Debug, Args)]
pub struct SshCert {
    /// The signer Lambda (name or ARN)
    #[arg(long, value_name = "ARN")]
    pub lambda_arn: String,

    /// Environment the Lambda signs for (its config file)
    #[arg(long, default_value = "")]
    pub environment: String,

    /// Certificate lifetime to ask for (e.g. 60s, 5m, 1h)
    #[arg(long, default_value = "1m", value_name = "DURATION")]
    pub duration: String,

    /// CIDR the certificate may be used from (repeatable)
    #[arg(long, value_name = "CIDR")]
    pub source_address: Vec<String>,

    /// Private key [default: the first of ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa]
    #[arg(long, value_name = "FILE")]
    pub ssh_private_key_filename: Option<PathBuf>,

    /// Public key to sign [default: the private key's name plus .pub]
    #[arg(long, value_name = "FILE")]
    pub ssh_public_key_filename: Option<PathBuf>,

    /// Where the certificate goes
    #[arg(long, value_enum, default_value = "agent")]
    pub output: CertOutput,

    /// Print the request the Lambda would get, and stop (the identity URL in it is a short-lived proof)
    #[arg(long)]
    pub dump: bool,

    /// As an ssh ProxyCommand: after getting the certificate, join stdin and stdout to HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    pub proxy_config: Option<String>,

    /// Region of the Lambda [default: the account's, else AWS_REGION, else us-east-1]
    #[arg(long)]
    pub region: Option<String>,

    /// Presign the identity URL for the region's STS endpoint instead of the global one
    #[arg(long)]
    pub regional_sts: bool,

    /// Account that signs the calls [default: the account set in this shell]
    #[arg(long)]
    pub account: Option<String>,

    /// Assume this role of the account and ask as the role
    #[arg(long)]
    pub role: Option<String>,
}
