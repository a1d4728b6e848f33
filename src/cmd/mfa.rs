use anyhow::Result;

use super::{Context, ExportsTo, Run, emit};
use crate::broker::{Want, parse_base_duration};
use crate::cli::Mfa;
use crate::codes::Codes;
use crate::error::{Exit, fail};
use crate::kinds::Held;

impl Run for Mfa {
    fn run(&self, ctx: &Context) -> Result<()> {
        let name = self.account.clone().or_else(|| ctx.current_account()).ok_or_else(|| {
            fail(Exit::Config, "No keys set: switch to an account first with ec2switch NAME")
        })?;
        let settings = ctx.settings();
        let to = ExportsTo { shell: self.shell, only_changes: self.only_changes };
        let account = ctx.open(&name)?;
        // Everything that can be checked without AWS or the terminal is checked before either.
        let duration = self.duration.clone().or_else(|| settings.duration.clone());
        let want = Want {
            min_ttl: 0,
            codes: &Codes::new(self.code.clone(), settings)?,
            base_duration: parse_base_duration(duration.as_deref())?,
            fallback_ttl: None,
        };
        // A role profile's base session is its source's; the shell then takes the role.
        if let Some(request) = account.profile_role() {
            let session = account.role_session(request, &want)?;
            return emit(ctx, to, &account, &Held::role_of(&session), &session.credentials);
        }
        let (session, made) = account.base_session(&want)?;
        if !made {
            eprintln!("MFA STS token already cached");
        }
        emit(ctx, to, &account, &Held::Base(account.base().info()), &session.credentials)
    }
}
