use std::ffi::OsStr;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Result;

use super::assume::min_ttl;
use super::{Context, Run};
use crate::cli::Exec;
use crate::config;
use crate::error::{Exit, fail};
use crate::session::{Account, Codes, RoleRequest, Want, parse_role_duration};
use crate::shell::Kind;

/// What `exec` should run with.
enum Source {
    Keys,
    Mfa,
    Role(RoleRequest),
}

impl Run for Exec {
    fn run(&self, ctx: &Context) -> Result<()> {
        // Without an account, the shell's own session decides: same account, same kind.
        let current = match &self.account {
            Some(_) => None,
            None => Some(config::current_session().ok_or_else(|| {
                fail(
                    Exit::Config,
                    "no account given and none set in this shell: awsenv exec ACCOUNT -- COMMAND",
                )
            })?),
        };
        let name = self.account.clone().or_else(|| current.as_ref().map(|c| c.account.clone()));
        let account = Account::open(name.as_deref().unwrap_or_default())?;
        let current_kind = current.as_ref().map(|c| (c.kind.as_str(), c.role_arn.as_deref()));
        let source = match (&self.role, self.keys, current_kind) {
            (Some(role), ..) => Source::Role(RoleRequest::named(role, parse_role_duration(None)?)),
            (None, true, _) | (None, false, Some(("keys", _))) => Source::Keys,
            (None, false, Some(("role", Some(role_arn)))) => Source::Role(account.role_request_for(role_arn)),
            // A role profile's own session is its role.
            _ => match account.profile_role() {
                Some(request) => Source::Role(request.clone()),
                None => Source::Mfa,
            },
        };
        let codes = Codes::new(self.code.clone())?;
        let mut want = Want::new(&codes, ctx.account_file.as_deref())?;
        let (kind, creds) = match source {
            Source::Keys => (Kind::LongTerm, account.keys().clone()),
            Source::Mfa => {
                want.min_ttl = min_ttl(self.min_ttl.as_deref(), want.mfa_duration)?;
                (Kind::Mfa, account.mfa_session(&want)?.0.credentials)
            }
            Source::Role(request) => {
                want.min_ttl = min_ttl(self.min_ttl.as_deref(), request.duration_seconds)?;
                let session = account.role_session(&request, &want)?;
                (Kind::role_of(&session), session.credentials)
            }
        };

        let (program, args) = self.command.split_first().expect("clap requires a command");
        let mut command = Command::new(program);
        command.args(args);
        for (name, value) in account.exports(&kind, &creds)?.pairs() {
            match value {
                Some(value) => command.env(name, OsStr::from_bytes(value)),
                None => command.env_remove(name),
            };
        }
        // The code was for awsenv; the command has no use for it.
        command.env_remove("AWSENV_MFA_CODE").env_remove("AWS_SESSION_MFA_CODE");
        // execve: the command gets this process, its signals and its exit status.
        let error = command.exec();
        let exit = if error.kind() == ErrorKind::NotFound { Exit::NotFound } else { Exit::CannotRun };
        Err(fail(exit, format!("could not run {}: {error}", program.to_string_lossy())))
    }
}
