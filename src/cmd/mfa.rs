use anyhow::Result;

use super::switch::emit;
use super::{Context, Run};
use crate::cli::Mfa;
use crate::config;
use crate::error::{Exit, fail};
use crate::session::{Account, Codes, Want, parse_mfa_duration};
use crate::shell::Kind;

impl Run for Mfa {
    fn run(&self, ctx: &Context) -> Result<()> {
        let name = self.account.clone().or_else(config::current_account).ok_or_else(|| {
            fail(Exit::Config, "No keys set: switch to an account first with ec2switch NAME")
        })?;
        let account = Account::open(&name)?;
        // Everything that can be checked without AWS or the terminal is checked before either.
        let want = Want {
            min_ttl: 0,
            codes: &Codes::new(self.code.clone())?,
            account_file: ctx.account_file.as_deref(),
            mfa_duration: parse_mfa_duration(self.duration.clone().or_else(config::duration_env).as_deref())?,
            fallback_ttl: None,
        };
        // A role profile's MFA session is its source's; the shell then takes the role.
        if let Some(request) = account.profile_role() {
            let session = account.role_session(request, &want)?;
            return emit(self.shell, &account, &Kind::role_of(&session), &session.credentials);
        }
        let (session, made) = account.mfa_session(&want)?;
        if !made {
            eprintln!("MFA STS token already cached");
        }
        emit(self.shell, &account, &Kind::Mfa, &session.credentials)
    }
}
