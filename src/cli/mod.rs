//! Every command-line type, and nothing else: `--help` is generated from the doc comments here
//! and in `cli/certificate.rs`, `cli/ssh.rs` and `cli/sso.rs`; `cli/parse.rs` turns arguments into
//! them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

// All clap types live under cli/: the main ones here, a file for each family of subcommands.
mod certificate;
mod parse;
mod ssh;
mod sso;

pub use certificate::*;
pub use ssh::*;
pub use sso::*;

#[derive(Debug, Parser)]
#[command(
    name = "awsenv",
    version = crate::VERSION,
    about = "Temporary AWS credentials for bash, zsh and fish, kept fresh from a locked cache",
    after_help = "Environment: AWSENV_DIR (store, default ~/aws-creds), AWSENV_CONFIG (account file), \
                  AWSENV_MFA_CODE, AWSENV_DURATION, AWSENV_TIMEOUT, AWSENV_DEBUG.\n\
                  Activate with: eval \"$(awsenv init bash)\"  (or zsh; fish: awsenv init fish | source)"
)]
pub struct Cli {
    /// Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shell functions ec2switch, ec2mfa and ec2now, for eval in the shell's rc file
    Init(Init),
    /// Print exports for an account's cached MFA session, or its long-term keys (behind ec2switch)
    Switch(Switch),
    /// Make or reuse an MFA session with STS GetSessionToken and print its exports (behind ec2mfa)
    Mfa(Mfa),
    /// Describe the credentials set in this shell (behind ec2now)
    Now,
    /// Renew the session this shell holds when less than the refresh window is left (behind the aws wrapper)
    Refresh(Refresh),
    /// Print role credentials from STS AssumeRole, signed with the cached MFA session when there is one
    Assume(Assume),
    /// Run a command with an account's credentials, renewing them first when they would run out
    Exec(Exec),
    /// Open a subshell of your shell with an account's credentials and the awsenv functions
    Shell(ShellCmd),
    /// Print the prompt segment for the credentials in the environment, e.g. `(aws:prod+42m) `
    Prompt(Prompt),
    /// Print credentials as credential_process expects them (Version 1 JSON), renewing when needed
    CredentialProcess(CredentialProcess),
    /// Write the account's session into a profile of ~/.aws/credentials, and keep it fresh
    Update(Update),
    /// Serve the account's session on an IMDSv2-compatible endpoint on 127.0.0.1
    Serve(Serve),
    /// Create and enable a virtual MFA device for the account's IAM user, with its QR code drawn here
    ProvisionMfa(ProvisionMfa),
    /// Print the version and the commit it was built from
    Version,
    /// List the accounts (the store's, then the aws CLI's profiles) and where each comes from
    Accounts(Accounts),
    /// Print the completion script for awsenv and the shell functions
    Completions(Completions),
    /// For sshd's AuthorizedKeysCommand: print the IAM SSH keys a local user accepts, from a cache
    AuthorizedKeys(AuthorizedKeys),
    /// Get a short-lived SSH certificate from a signer Lambda, for ssh-agent, stdout or a file
    SshCert(SshCert),
    /// Sign aws_signing_helper's test message with a private key (a file or a PKCS#11 token)
    SignString(SignString),
    /// Print a certificate's key type, DER, serial and algorithms as JSON, or list a token's certificates
    ReadCertificateData(ReadCertificateData),
    /// IAM Identity Center (SSO): sign in, list the accounts and roles, sign out
    Sso(Sso),
    /// Check the setup: this shell, the store and cache, the way to AWS, the environment
    Doctor(Doctor),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct Init {
    /// The shell to generate functions for
    pub shell: Shell,

    /// Leave the prompt alone; the segment stays available in $AWSENV_PROMPT and awsenv_prompt
    #[arg(long)]
    pub no_prompt: bool,

    /// Do not define the aws function that renews credentials before running the aws CLI
    #[arg(long)]
    pub no_wrapper: bool,
}

#[derive(Debug, Args)]
pub struct Switch {
    /// Syntax of the exports printed on stdout
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,

    /// Print only what changes in the shell that started awsenv: variables that already hold
    /// their value there are left out (the shell functions pass it)
    #[arg(long)]
    pub only_changes: bool,

    /// Account name from the store; without it the accounts are listed on stderr
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct Mfa {
    /// Syntax of the exports printed on stdout
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,

    /// Print only what changes in the shell that started awsenv: variables that already hold
    /// their value there are left out (the shell functions pass it)
    #[arg(long)]
    pub only_changes: bool,

    /// Session lifetime in seconds, 900 to 129600 [env: AWSENV_DURATION] [default: 14400]
    #[arg(long, short = 'd', visible_alias = "session-duration", value_name = "SECONDS")]
    pub duration: Option<String>,

    /// The MFA code (visible to other users in ps; prefer the prompt or AWSENV_MFA_CODE)
    #[arg(long, value_name = "CODE", hide_env_values = true)]
    pub code: Option<String>,

    /// Account name [default: the account set in this shell, $AWSENV_ACCOUNT]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct Refresh {
    /// Syntax of the exports printed on stdout
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,

    /// Print only what changes in the shell that started awsenv: variables that already hold
    /// their value there are left out (the shell functions pass it)
    #[arg(long)]
    pub only_changes: bool,

    /// The MFA code, if a new MFA session is needed
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `{"access_key", "expiration", "secret_key", "session_token"}`, as generate-sts-role-token
    Json,
    /// export lines for bash and zsh (`shell` is the same)
    #[value(alias = "shell", alias = "zsh")]
    Bash,
    /// set lines for fish
    Fish,
}

#[derive(Debug, Args)]
pub struct Assume {
    /// Account from the store whose keys (or MFA session) sign the call, and that holds the role
    #[arg(long)]
    pub account: String,

    /// Role name in the account, or a full role ARN for a role elsewhere
    #[arg(long)]
    pub role: String,

    /// Role session lifetime in seconds, 900 to 43200; over 3600 needs a new MFA code [default: 3600]
    #[arg(long, short = 'd', visible_alias = "session-duration", value_name = "SECONDS")]
    pub duration: Option<String>,

    /// Role session name [default: the IAM user]
    #[arg(long)]
    pub session_name: Option<String>,

    /// External ID the role's trust policy requires
    #[arg(long)]
    pub external_id: Option<String>,

    /// The MFA code, if one is needed (visible in ps; prefer the prompt or AWSENV_MFA_CODE)
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,

    /// Renew a cached role session that has less than this left (e.g. 10m, 1h, 90s) [default: the refresh window]
    #[arg(long, value_name = "DURATION")]
    pub min_ttl: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,

    /// Print only what changes in the shell that started awsenv: variables that already hold
    /// their value there are left out (ec2role passes it; bash and fish formats only)
    #[arg(long)]
    pub only_changes: bool,
}

#[derive(Debug, Args)]
pub struct Exec {
    /// Account name [default: the account and kind of session set in this shell]
    pub account: Option<String>,

    /// Assume this role of the account instead of using its MFA session
    #[arg(long)]
    pub role: Option<String>,

    /// Use the account's long-term keys, not a session
    #[arg(long, conflicts_with_all = ["role", "min_ttl"])]
    pub keys: bool,

    /// Renew the session first when less than this is left (e.g. 2h, 30m) [default: the refresh window]
    #[arg(long, value_name = "DURATION")]
    pub min_ttl: Option<String>,

    /// The MFA code, if one is needed (visible in ps; prefer the prompt or AWSENV_MFA_CODE)
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,

    /// The command and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ShellCmd {
    /// Account name [default: keep the credentials set now]
    pub account: Option<String>,

    /// Assume this role of the account
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct Prompt {
    /// Shell whose prompt will show the segment (decides how colour codes are wrapped)
    #[arg(long, value_enum, default_value = "fish")]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct CredentialProcess {
    /// Account name, from the store or a profile (or, instead, aws_signing_helper's certificate flags)
    #[arg(required_unless_present = "certificate")]
    pub account: Option<String>,

    /// Assume this role of the account
    #[arg(long)]
    pub role: Option<String>,

    /// Renew a session with less than this left (e.g. 15m); a code is asked on the terminal
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub min_ttl: String,

    #[command(flatten)]
    pub certificate: CertificateArgs,
}

#[derive(Debug, Args)]
pub struct Update {
    /// Profile of the credentials file to write (aws_signing_helper's default: `default`)
    #[arg(long, default_value = "default")]
    pub profile: String,

    /// Account name, from the store or a profile (or, instead, aws_signing_helper's certificate flags)
    #[arg(required_unless_present = "certificate")]
    pub account: Option<String>,

    /// Assume this role of the account
    #[arg(long)]
    pub role: Option<String>,

    /// Write once and exit, instead of renewing five minutes before each expiry
    #[arg(long)]
    pub once: bool,

    #[command(flatten)]
    pub certificate: CertificateArgs,
}

#[derive(Debug, Args)]
pub struct Serve {
    /// Account name, from the store or a profile (or, instead, aws_signing_helper's certificate flags)
    #[arg(required_unless_present = "certificate")]
    pub account: Option<String>,

    /// Assume this role of the account
    #[arg(long)]
    pub role: Option<String>,

    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 9911)]
    pub port: u16,

    /// Address to listen on; only loopback addresses are accepted
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,

    /// IP TTL of the answers, 1 like EC2's endpoint so that a container behind a bridge cannot reach it
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    pub hop_limit: u8,

    #[command(flatten)]
    pub certificate: CertificateArgs,
}

#[derive(Debug, Args)]
pub struct ProvisionMfa {
    /// Account name [default: the account set in this shell]
    pub account: Option<String>,

    /// Also print the base32 secret, for typing into an app instead of scanning
    #[arg(long)]
    pub show_secret: bool,
}

#[derive(Debug, Args)]
pub struct Accounts {
    /// Only the names, one per line
    #[arg(long)]
    pub names: bool,
}

#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to generate completions for
    pub shell: Shell,
}
