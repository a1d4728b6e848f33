//! One file per subcommand, each an `impl Run`.

mod accounts;
mod assume;
mod authorized_keys;
mod completions;
mod credential_process;
mod exec;
mod init;
mod mfa;
mod now;
pub mod prompt;
mod provision;
mod refresh;
mod serve;
mod ssh_cert;
mod sso_accounts;
mod sso_credentials;
mod sso_login;
mod sso_logout;
mod subshell;
mod switch;
mod update;
mod version;

use anyhow::Result;

use crate::cli::{Cli, Command, SsoCommand};
use crate::creds::Timestamp;

/// What every command gets besides its own arguments.
pub struct Context {
    /// Read once, so that one run judges every expiry against the same moment.
    pub now: Timestamp,
    /// `--config`, else `AWSENV_CONFIG`: the account file, when not in the usual places.
    pub account_file: Option<std::path::PathBuf>,
}

pub trait Run {
    fn run(&self, ctx: &Context) -> Result<()>;
}

pub fn run(cli: &Cli) -> Result<()> {
    let account_file = cli.config.clone().or_else(crate::config::account_file);
    let ctx = Context { now: Timestamp::now(), account_file };
    match &cli.command {
        Command::Init(cmd) => cmd.run(&ctx),
        Command::Switch(cmd) => cmd.run(&ctx),
        Command::Mfa(cmd) => cmd.run(&ctx),
        Command::Now => now::Now.run(&ctx),
        Command::Refresh(cmd) => cmd.run(&ctx),
        Command::Assume(cmd) => cmd.run(&ctx),
        Command::Exec(cmd) => cmd.run(&ctx),
        Command::Shell(cmd) => cmd.run(&ctx),
        Command::Prompt(cmd) => cmd.run(&ctx),
        Command::CredentialProcess(cmd) => cmd.run(&ctx),
        Command::Update(cmd) => cmd.run(&ctx),
        Command::Serve(cmd) => cmd.run(&ctx),
        Command::ProvisionMfa(cmd) => cmd.run(&ctx),
        Command::Version => version::Version.run(&ctx),
        Command::Accounts(cmd) => cmd.run(&ctx),
        Command::Completions(cmd) => cmd.run(&ctx),
        Command::AuthorizedKeys(cmd) => cmd.run(&ctx),
        Command::SshCert(cmd) => cmd.run(&ctx),
        Command::Sso(sso) => match &sso.command {
            SsoCommand::Login(cmd) => cmd.run(&ctx),
            SsoCommand::Logout(cmd) => cmd.run(&ctx),
            SsoCommand::Accounts(cmd) => cmd.run(&ctx),
            SsoCommand::Credentials(cmd) => cmd.run(&ctx),
        },
    }
}

/// Writes everything meant for stdout in one piece; a closed pipe is not an error worth a message.
pub fn print(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
