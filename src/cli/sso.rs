//! The clap types of `awsenv sso` and `awsenv doctor`.

use clap::{Args, Subcommand};

use super::Shell;

#[derive(Debug, Args)]
pub struct Sso {
    #[command(subcommand)]
    pub command: SsoCommand,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Sign in, unless the cached token (shared with the aws CLI) is valid or can be renewed
    Login(SsoLogin),
    /// End the sign-in at IAM Identity Center and remove its cached token
    Logout(SsoLogout),
    /// List the accounts and roles the signed-in user may use, named SESSION/ACCOUNT_ID/ROLE
    Accounts(SsoAccounts),
    /// Print a role's credentials as credential_process expects them (Version 1 JSON)
    Credentials(SsoCredentials),
}

#[derive(Debug, Args)]
pub struct SsoLogin {
    /// An [sso-session NAME] of ~/.aws/config, or a profile that uses one [default: the only one]
    pub session: Option<String>,

    /// Sign in even when the cached token is still valid
    #[arg(long)]
    pub force: bool,

    /// Sign in on any device with a code shown here, instead of this machine's browser
    #[arg(long)]
    pub device_code: bool,
}

#[derive(Debug, Args)]
pub struct SsoLogout {
    /// An [sso-session NAME] of ~/.aws/config, or a profile that uses one [default: the only one]
    pub session: Option<String>,
}

#[derive(Debug, Args)]
pub struct SsoAccounts {
    /// An [sso-session NAME] of ~/.aws/config, or a profile that uses one [default: the only one]
    pub session: Option<String>,

    /// Only the names, one per line
    #[arg(long)]
    pub names: bool,

    /// Ask IAM Identity Center even if the list fetched in the last 5 minutes is cached
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct SsoCredentials {
    /// SESSION/ACCOUNT_ID/ROLE (see `awsenv sso accounts`), or a profile with sso_account_id and sso_role_name
    pub name: String,

    /// Fail instead of signing in when there is no valid token
    #[arg(long)]
    pub no_sign_in: bool,
}

#[derive(Debug, Args)]
pub struct Doctor {
    /// Skip the checks that reach AWS (DNS, TCP, TLS, the clock, the call)
    #[arg(long)]
    pub offline: bool,

    /// Print the checks as one JSON document
    #[arg(long)]
    pub json: bool,

    /// The shell whose awsenv function ran doctor (set by that function)
    #[arg(long, value_enum, hide = true, value_name = "SHELL")]
    pub from_shell: Option<Shell>,

    /// What the shell function saw, as NAME=VALUE (names, paths and yes/no; never a secret)
    #[arg(long = "shell-fact", hide = true, value_name = "NAME=VALUE")]
    pub shell_facts: Vec<String>,

    /// Print the shell code that gathers those facts, for the awsenv function to evaluate
    #[arg(long, value_enum, hide = true, value_name = "SHELL", conflicts_with_all = ["from_shell", "json"])]
    pub shell_probe: Option<Shell>,
}
