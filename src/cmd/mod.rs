//! One file per subcommand, each an `impl Run`.

mod accounts;
mod assume;
mod authorized_keys;
mod completions;
mod credential_process;
mod doctor;
mod exec;
mod init;
mod mfa;
mod now;
pub mod prompt;
mod provision;
mod read_certificate_data;
mod refresh;
mod serve;
mod sign_string;
pub(crate) mod ssh_cert;
mod sso_accounts;
mod sso_credentials;
mod sso_login;
mod sso_logout;
mod subshell;
mod switch;
mod update;
mod version;

use std::cell::OnceCell;
use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

use crate::account::Account;
use crate::cli::{CertificateArgs, Cli, Command, Shell, SsoCommand};
use crate::config::{self, CurrentSession, DoctorEnv, Settings, ShellState};
use crate::creds::{Clock, Credentials, Timestamp};
use crate::kinds::{Env, Held};
use crate::shell::Exports;

/// What every command gets besides its own arguments.
pub struct Context {
    /// Read once, so that one run judges every expiry against the same moment.
    pub now: Timestamp,
    /// For the moments after a wait (a lock, a code, a renewal loop).
    pub clock: Clock,
    /// `--config`: the account file, when not in the usual places.
    account_file_flag: Option<PathBuf>,
    env: OnceCell<Env>,
}

impl Context {
    /// The settings sessions depend on, read from the environment when first needed: the
    /// commands that need none (`init`, `prompt`) never pay for them.
    pub fn env(&self) -> &Env {
        self.env.get_or_init(|| Env {
            settings: Settings::read(self.account_file_flag.clone()),
            clock: self.clock,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.env().settings
    }

    pub fn open(&self, name: &str) -> Result<Account> {
        Account::open(name, self.env())
    }

    /// The account `name`, or the certificate account aws_signing_helper's flags describe.
    pub fn open_or_flags(&self, name: Option<&str>, flags: &CertificateArgs) -> Result<Account> {
        match name {
            Some(name) => self.open(name),
            None => {
                let (name, base) = crate::kinds::x509::Certificate::from_flags(flags, self.env())?;
                Account::from_base(name, base, self.env())
            }
        }
    }
}

/// The shell's own variables, which commands read through their context and nothing else does
/// (clippy.toml): a library module gets what it needs as a parameter. Each is read when asked
/// for, so that `prompt` reads two variables and no `Settings`.
#[allow(clippy::disallowed_methods, reason = "the command's context hands out the shell's variables")]
impl Context {
    /// The session awsenv set in this shell, if its keys are still the ones awsenv set.
    pub fn current_session(&self) -> Option<CurrentSession> {
        config::current_session()
    }

    /// The account this shell is switched to, for commands whose account may be left out.
    pub fn current_account(&self) -> Option<String> {
        config::current_account()
    }

    pub fn shell_state(&self) -> ShellState {
        config::shell_state()
    }

    /// A variable as the shell that started awsenv exports it (see `Exports::render_changes`).
    pub fn exported(&self, name: &str) -> Option<OsString> {
        config::exported(name)
    }

    /// Whether the prompt segment may carry colour.
    pub fn color(&self) -> bool {
        config::color()
    }

    pub fn user_shell(&self) -> Option<PathBuf> {
        config::user_shell()
    }

    pub fn zdotdir(&self) -> Option<OsString> {
        config::zdotdir()
    }

    pub fn ssh_auth_sock(&self) -> Option<PathBuf> {
        config::ssh_auth_sock()
    }

    /// The path the shell functions call this binary by.
    pub fn binary_path(&self) -> Result<PathBuf> {
        config::binary_path()
    }

    pub fn awsenv_on_path(&self) -> Option<PathBuf> {
        config::awsenv_on_path()
    }

    /// What `doctor` checks in the environment beyond `Settings`.
    pub fn doctor_env(&self) -> DoctorEnv {
        DoctorEnv::read()
    }
}

pub trait Run {
    fn run(&self, ctx: &Context) -> Result<()>;
}

pub fn run(cli: &Cli) -> Result<()> {
    #[allow(clippy::disallowed_methods, reason = "the one place a command's clock is made")]
    let clock = Clock::system();
    let ctx =
        Context { now: clock.now(), clock, account_file_flag: cli.config.clone(), env: OnceCell::new() };
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
        Command::SignString(cmd) => cmd.run(&ctx),
        Command::ReadCertificateData(cmd) => cmd.run(&ctx),
        Command::Sso(sso) => match &sso.command {
            SsoCommand::Login(cmd) => cmd.run(&ctx),
            SsoCommand::Logout(cmd) => cmd.run(&ctx),
            SsoCommand::Accounts(cmd) => cmd.run(&ctx),
            SsoCommand::Credentials(cmd) => cmd.run(&ctx),
        },
        Command::Doctor(cmd) => cmd.run(&ctx),
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

/// Prints the complete exports for `creds` on stdout, then says on stderr what was set.
pub fn emit(ctx: &Context, to: ExportsTo, account: &Account, held: &Held, creds: &Credentials) -> Result<()> {
    print(&to.render(ctx, &account.exports(held, creds)?))?;
    say_keys_set(&held.label(&account.name));
    Ok(())
}

/// Where exports go: a shell's syntax, and whether that shell is the one awsenv was started from
/// and only what changes in it is printed (`--only-changes`, which the shell functions pass).
#[derive(Clone, Copy)]
pub struct ExportsTo {
    pub shell: Shell,
    pub only_changes: bool,
}

impl ExportsTo {
    pub fn render(self, ctx: &Context, exports: &Exports) -> Vec<u8> {
        if self.only_changes {
            exports.render_changes(self.shell, |name| ctx.exported(name))
        } else {
            exports.render(self.shell)
        }
    }
}

/// The line that says which credentials the shell now holds, on stderr. One write: stderr is
/// unbuffered, and `eprintln!` writes each piece of the format on its own.
pub fn say_keys_set(label: &str) {
    let line = format!("Set keys for {label} AWS account\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// Hint for SDKs and IDEs that run awsenv with no terminal.
pub const NO_TERMINAL_HINT: &str =
    "run ec2mfa (or awsenv mfa ACCOUNT) in a terminal first, or set AWSENV_MFA_CODE or AWSENV_MFA_COMMAND";
