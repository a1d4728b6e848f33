use anyhow::Result;

use super::{Context, Run};
use crate::cli::SsoLogout;
use crate::profile::Profiles;
use crate::sso::{SsoSession, logout};

/// Ends the sign-in at IAM Identity Center (Logout) and removes its cached token.
impl Run for SsoLogout {
    fn run(&self, ctx: &Context) -> Result<()> {
        let session = SsoSession::find(&Profiles::load(ctx.settings())?, self.session.as_deref())?;
        if logout(ctx.settings(), &session, ctx.clock)? {
            eprintln!("awsenv: signed out of {}", session.label);
        } else {
            eprintln!("awsenv: not signed in to {}; nothing to do", session.label);
        }
        Ok(())
    }
}
