use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::Refresh;
use crate::config;
use crate::error::{Exit, fail};
use crate::session::{Account, Codes, Want};
use crate::shell::Kind;

impl Run for Refresh {
    fn run(&self, ctx: &Context) -> Result<()> {
        let current = config::current_session().ok_or_else(|| {
            fail(Exit::Config, "nothing to renew: the credentials in this shell were not set by awsenv")
        })?;
        let account = Account::open(&current.account)?;
        let window = config::refresh_window()?;
        let codes = Codes::new(self.code.clone())?;
        // A window longer than the session would renew on every call; half the lifetime keeps
        // the wrapper from ever looping on STS.
        let min_ttl = |duration: i32| window.min(i64::from(duration) / 2);
        let mut want = Want::new(&codes, ctx.account_file.as_deref())?;
        want.min_ttl = min_ttl(want.mfa_duration);
        let (kind, session) = match (current.kind.as_str(), current.role_arn) {
            ("mfa", _) => (Kind::Mfa, account.mfa_session(&want)?.0),
            ("role", Some(role_arn)) => {
                let request = account.role_request_for(&role_arn);
                want.min_ttl = min_ttl(request.duration_seconds);
                (Kind::Role(role_arn), account.role_session(&request, &want)?)
            }
            (kind, _) => return Err(fail(Exit::Config, format!("nothing to renew for {kind} credentials"))),
        };
        let credentials = session.credentials;
        print(&account.exports(&kind, &credentials)?.render(self.shell))?;
        if let Some(expiration) = credentials.expiration {
            let left = crate::creds::human_duration(expiration.seconds_since(ctx.now));
            eprintln!(
                "awsenv: {} session has {left} left, until {}",
                kind.label(&account.name),
                expiration.human_utc()
            );
        }
        Ok(())
    }
}
