use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::SsoCredentials;
use crate::error::{Exit, fail};
use crate::profile::Profiles;
use crate::sso::{SsoRole, role_credentials};

/// Prints the role's credentials from GetRoleCredentials as the Version 1 document of the
/// `credential_process` protocol, signing in first when needed (unless `--no-sign-in`).
impl Run for SsoCredentials {
    fn run(&self, ctx: &Context) -> Result<()> {
        let profiles = Profiles::load(ctx.settings())?;
        let role = match SsoRole::parse_name(&profiles, &self.name)? {
            Some(role) => role,
            None => match profiles.get(&self.name) {
                Some(profile) => SsoRole::of_profile(&profiles, profile)?.ok_or_else(|| {
                    fail(Exit::Config, format!("profile {} is not an IAM Identity Center profile", self.name))
                })?,
                None => {
                    return Err(fail(
                        Exit::Config,
                        format!("{} is neither SESSION/ACCOUNT_ID/ROLE nor a profile", self.name),
                    ));
                }
            },
        };
        let creds = role_credentials(ctx.settings(), &role, !self.no_sign_in, ctx.now, ctx.clock)?;
        let token = creds
            .session_token
            .as_ref()
            .ok_or_else(|| fail(Exit::Failure, "role credentials have a token"))?;
        let document = serde_json::json!({
            "Version": 1,
            "AccessKeyId": creds.access_key_id.as_str("the access key id")?,
            "SecretAccessKey": creds.secret_access_key.as_str("the secret key")?,
            "SessionToken": token.as_str("the session token")?,
            "Expiration": creds.expiration.map(|t| t.rfc3339()).unwrap_or_default(),
        });
        let mut out = serde_json::to_vec(&document)?;
        out.push(b'\n');
        print(&out)
    }
}
