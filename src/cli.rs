//! Every command-line type, and nothing else: `--help` is generated from the doc comments here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "awsenv",
    version,
    about = "Temporary AWS credentials for bash, zsh and fish, kept fresh from a locked cache",
    after_help = "Environment: AWSENV_DIR (store, default ~/aws-creds), AWSENV_CONFIG (account file), \
                  AWSENV_MFA_CODE, AWSENV_DURATION, AWSENV_TIMEOUT, AWSENV_DEBUG.\n\
                  Activate with: eval \"$(awsenv init bash)\"  (or zsh; fish: awsenv init fish | source)"
)]
pub struct Cli {
    /// Account file mapping names to `arn:aws:iam::ACCOUNT:` [default: ~/aws-creds/accounts.json]
    #[arg(long, global = true, env = "AWSENV_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Explain on stderr which files and cache entries are used and why (never a secret)
    #[arg(long, global = true, env = "AWSENV_DEBUG")]
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
    /// List the accounts in the store, one per line
    Accounts,
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
}

#[derive(Debug, Args)]
pub struct Switch {
    /// Syntax of the exports printed on stdout
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,

    /// Account name from the store; without it the accounts are listed on stderr
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct Mfa {
    /// Syntax of the exports printed on stdout
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,

    /// Session lifetime in seconds, 900 to 129600 [default: 14400]
    #[arg(long, short = 'd', env = "AWSENV_DURATION", value_name = "SECONDS")]
    pub duration: Option<String>,

    /// Account name [default: the account set in this shell, $AWSENV_ACCOUNT]
    pub account: Option<String>,
}
