use std::ffi::OsStr;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Result;

use super::{Context, Run};
use crate::account::parse_role_duration;
use crate::broker::{RoleRequest, Want, min_ttl};
use crate::cli::Exec;
use crate::codes::Codes;
use crate::error::{Exit, fail};
use crate::kinds::Held;

/// What `exec` should run with.
enum Wanted {
    Standing,
    Base,
    Role(RoleRequest),
}

impl Run for Exec {
    fn run(&self, ctx: &Context) -> Result<()> {
        // Without an account, the shell's own session decides: same account, same kind.
        let current = match &self.account {
            Some(_) => None,
            None => Some(ctx.current_session().ok_or_else(|| {
                fail(
                    Exit::Config,
                    "no account given and none set in this shell: awsenv exec ACCOUNT -- COMMAND",
                )
            })?),
        };
        let name = self.account.clone().or_else(|| current.as_ref().map(|c| c.account.clone()));
        let account = ctx.open(name.as_deref().unwrap_or_default())?;
        let held = current.as_ref().and_then(|c| Held::parse(&c.kind, c.role_arn.as_deref()));
        let wanted = match (&self.role, self.keys, held) {
            (Some(role), ..) => Wanted::Role(RoleRequest::named(role, parse_role_duration(None)?)),
            (None, true, _) | (None, false, Some(Held::Standing)) => Wanted::Standing,
            (None, false, Some(Held::Role(role_arn))) => Wanted::Role(account.role_request_for(&role_arn)),
            // A role profile's own session is its role.
            _ => match account.profile_role() {
                Some(request) => Wanted::Role(request.clone()),
                None => Wanted::Base,
            },
        };
        let codes = Codes::new(self.code.clone(), ctx.settings())?;
        let mut want = Want::new(&codes, ctx.settings())?;
        let min_ttl = |duration: i32| min_ttl(self.min_ttl.as_deref(), ctx.settings(), duration);
        let (held, creds) = match wanted {
            Wanted::Standing => match account.base().standing() {
                Some(standing) => (Held::Standing, standing.clone()),
                None => {
                    return Err(fail(
                        Exit::Usage,
                        format!("account {} has no long-term keys to run with", account.name),
                    ));
                }
            },
            Wanted::Base => {
                want.min_ttl = min_ttl(account.base().lifetime(want.base_duration))?;
                (Held::Base(account.base().info()), account.base_session(&want)?.0.credentials)
            }
            Wanted::Role(request) => {
                want.min_ttl = min_ttl(request.duration_seconds)?;
                let session = account.role_session(&request, &want)?;
                (Held::role_of(&session), session.credentials)
            }
        };

        let (program, args) = self.command.split_first().expect("clap requires a command");
        let mut command = Command::new(program);
        command.args(args);
        for (name, value) in account.exports(&held, &creds)?.pairs() {
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
