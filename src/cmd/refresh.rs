use anyhow::Result;

use super::{Context, ExportsTo, Run, print};
use crate::cli::Refresh;
use crate::codes::Codes;
use crate::error::{Exit, fail};
use crate::kinds::Held;

impl Run for Refresh {
    fn run(&self, ctx: &Context) -> Result<()> {
        let current = ctx.current_session().ok_or_else(|| {
            fail(Exit::Config, "nothing to renew: the credentials in this shell were not set by awsenv")
        })?;
        let account = ctx.open(&current.account)?;
        let codes = Codes::new(self.code.clone(), ctx.settings())?;
        let held = Held::parse(&current.kind, current.role_arn.as_deref());
        let renewed = match &held {
            Some(held) => account.renew(held, &codes)?,
            None => None,
        };
        let Some((held, session)) = renewed else {
            return Err(fail(Exit::Config, format!("nothing to renew for {} credentials", current.kind)));
        };
        let credentials = session.credentials;
        let to = ExportsTo { shell: self.shell, only_changes: self.only_changes };
        print(&to.render(ctx, &account.exports(&held, &credentials)?))?;
        if let Some(expiration) = credentials.expiration {
            let left = crate::creds::human_duration(expiration.seconds_since(ctx.now));
            eprintln!(
                "awsenv: {} session has {left} left, until {}",
                held.label(&account.name),
                expiration.human_utc()
            );
        }
        Ok(())
    }
}
