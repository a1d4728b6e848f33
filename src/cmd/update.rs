use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{Context, NO_TERMINAL_HINT, Run};
use crate::cli::Update;
use crate::codes::Codes;
use crate::creds::Credentials;
use crate::error::{Exit, fail};
use crate::ini;

/// Renew this long before the session ends, as aws_signing_helper's update did.
const RENEW_BEFORE: i64 = 300;

impl Run for Update {
    fn run(&self, ctx: &Context) -> Result<()> {
        validate_profile(&self.profile)?;
        let path = ctx.settings().aws_credentials_file()?;
        let account = ctx.open_or_flags(self.account.as_deref(), &self.certificate)?;
        let chain = account.profile_chain();
        if chain.iter().any(|name| name.eq_ignore_ascii_case(&self.profile)) {
            return Err(fail(
                Exit::Usage,
                format!(
                    "profile {} holds the credentials account {} is made from ({}): writing the session there would replace them; choose another --profile",
                    self.profile,
                    account.name,
                    chain.join(" -> ")
                ),
            ));
        }
        let mut codes = Codes::new(None, ctx.settings())?.with_hint(NO_TERMINAL_HINT);
        loop {
            // A later round has nobody to ask: when only a new code could renew, stop.
            let session = account
                .consumer_session(self.role.as_deref(), &codes, RENEW_BEFORE + 60, false)
                .map_err(|e| match crate::error::exit_code(&e) == Exit::MfaCode as i32 {
                    true => fail(
                        Exit::MfaCode,
                        format!(
                            "update stopped: renewing the session of {} needs a new MFA code; run ec2mfa {} (or awsenv mfa {}), then start awsenv update again",
                            account.name, account.name, account.name
                        ),
                    ),
                    false => e,
                })?;
            let credentials = &session.credentials;
            write_profile(&path, &self.profile, credentials)?;
            let ends = credentials.expiration.unwrap_or(ctx.clock.now());
            if self.once {
                eprintln!(
                    "awsenv: wrote profile {} of {}; the session ends at {}",
                    self.profile,
                    path.display(),
                    ends.human_utc()
                );
                return Ok(());
            }
            let renew_at = ends.plus(-RENEW_BEFORE);
            eprintln!(
                "awsenv: wrote profile {} of {}; renewing at {}, 5 minutes before the session ends",
                self.profile,
                path.display(),
                renew_at.human_utc()
            );
            let wait = renew_at.seconds_since(ctx.clock.now()).max(1);
            std::thread::sleep(Duration::from_secs(wait.unsigned_abs()));
            codes = Codes::none(NO_TERMINAL_HINT, ctx.settings());
        }
    }
}

/// Profile names as the aws CLI writes them in a section header.
fn validate_profile(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-@+=,/:".contains(c);
    if !name.is_empty() && name.len() <= 128 && name.chars().all(allowed) {
        return Ok(());
    }
    Err(fail(Exit::Usage, format!("invalid profile name {name:?}")))
}

/// Sets the profile's keys and expiry in the credentials file, leaving every other byte alone.
fn write_profile(path: &Path, profile: &str, creds: &Credentials) -> Result<()> {
    let token = creds.session_token.as_ref().context("a session has a token")?;
    let expiration = creds.expiration.map(|t| t.rfc3339()).unwrap_or_default();
    let values = [
        ("aws_access_key_id", creds.access_key_id.as_str("the access key id")?),
        ("aws_secret_access_key", creds.secret_access_key.as_str("the secret key")?),
        ("aws_session_token", token.as_str("the session token")?),
        // starship's aws module reads the expiry from here.
        ("expiration", expiration.as_str()),
    ];
    ini::update_file(path, profile, &values)
}
