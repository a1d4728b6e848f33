use anyhow::Result;

use super::{Context, Run};
use crate::cli::SsoLogin;
use crate::profile::Profiles;
use crate::sso::{Access, Obtained, SsoSession, ensure_token, token_status};

/// Signs in to IAM Identity Center unless the cached token is valid or can be renewed without a
/// browser (`--force`: in any case). Says on stderr how long the sign-in lasts; prints nothing on
/// stdout.
impl Run for SsoLogin {
    fn run(&self, ctx: &Context) -> Result<()> {
        let session = SsoSession::find(&Profiles::load(ctx.settings())?, self.session.as_deref())?;
        let access =
            Access { sign_in: true, force: self.force, device_code: self.device_code, rejected: None };
        let (token, obtained) = ensure_token(ctx.settings(), &session, &access, ctx.now, ctx.clock)?;
        let renewable = token_status(ctx.settings(), &session)?
            .and_then(|status| status.refreshable_until)
            .map(|until| format!("; renewed without a browser until {} at most", until.human_utc()))
            .unwrap_or_default();
        let what = match obtained {
            Obtained::SignedIn => "signed in to",
            Obtained::Refreshed => "renewed the sign-in to",
            Obtained::Cached => "already signed in to",
        };
        let force = if obtained == Obtained::Cached { " (--force signs in again)" } else { "" };
        eprintln!("awsenv: {what} {} until {}{renewable}{force}", session.label, token.expires.human_utc());
        Ok(())
    }
}
