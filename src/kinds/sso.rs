//! A role of IAM Identity Center: the base session is GetRoleCredentials with the SSO token,
//! which `sso/` keeps (shared with the aws CLI, refreshed without a browser while it can be, one
//! sign-in for any number of callers). Defined by a profile with `sso_session` (or the legacy
//! `sso_start_url`), `sso_account_id` and `sso_role_name`.

use anyhow::Result;

use super::{Base, Boxed, Env, Issue, Issued, KindInfo, RoleSigning};
use crate::creds::{Credentials, Timestamp};
use crate::error::{Exit, fail};
use crate::profile::{Profile, Profiles};
use crate::sso::SsoRole;

pub const KIND: KindInfo = KindInfo {
    name: "sso",
    label_suffix: "-SSO",
    session_noun: "IAM Identity Center role session",
    store_suffix: None,
    from_store: |_, _, _| Ok(None),
    from_profile,
    from_name,
    known_names: |settings| crate::sso::accounts::known_names(&settings.store_dir()?),
};

/// The lifetime awsenv plans with; the permission set decides the real one (1 to 12 hours).
const PLANNED_LIFETIME: i32 = 3600;

pub struct SsoAccount {
    role: SsoRole,
}

fn from_profile(
    profile: &Profile,
    _user: Option<&Profile>,
    profiles: &Profiles,
    _env: &Env,
) -> Result<Option<Boxed>> {
    Ok(SsoRole::of_profile(profiles, profile)?.map(|role| Box::new(SsoAccount { role }) as Boxed))
}

/// `SESSION/ACCOUNT_ID/ROLE`, as `awsenv sso accounts` lists it: a role of the sign-in to the
/// sso-session (or legacy SSO profile) SESSION, with no profile of its own.
fn from_name(name: &str, profiles: &Profiles, env: &Env) -> Result<Option<Boxed>> {
    let Some((session, _)) = name.split_once('/').filter(|_| name.matches('/').count() == 2) else {
        return Ok(None);
    };
    match SsoRole::parse_name(profiles, name)? {
        Some(role) => Ok(Some(Box::new(SsoAccount { role }))),
        None => Err(fail(
            Exit::Config,
            format!(
                "unknown account {name}: {session} is neither an [sso-session {session}] nor an IAM Identity Center profile in {}",
                env.settings.aws_config_file()?.display()
            ),
        )),
    }
}

impl Base for SsoAccount {
    fn info(&self) -> &'static KindInfo {
        &KIND
    }

    fn fingerprint(&self) -> Result<String> {
        Ok(self.role.fingerprint())
    }

    fn standing(&self) -> Option<&Credentials> {
        None
    }

    fn lifetime(&self, _asked: i32) -> i32 {
        PLANNED_LIFETIME
    }

    fn issue(&self, request: &Issue) -> Result<Issued> {
        // A browser sign-in only where the terminal may be asked too: renewals in `serve`,
        // `update` and `credential_process` use the cached or refreshed token, or fail saying so.
        let interactive = request.codes.may_ask();
        let clock = request.env.clock;
        let credentials =
            crate::sso::role_credentials(&request.env.settings, &self.role, interactive, clock.now(), clock)?;
        Ok(Issued { credentials, made_with: Some(self.role.name()) })
    }

    fn renewable_until(&self, env: &Env) -> Option<Timestamp> {
        // The access token while it lasts, then its refresh token while the client registration
        // lasts (the service may end the sign-in sooner; the mark is awsenv's best knowledge).
        let status = crate::sso::token_status(&env.settings, &self.role.session).ok()??;
        let now = env.clock.now();
        let until = status.refreshable_until.map_or(status.expires, |refresh| refresh.max(status.expires));
        (until > now).then_some(until)
    }

    fn session_name(&self, env: &Env) -> String {
        env.settings.login_user.clone().unwrap_or_else(|| "awsenv".into())
    }

    fn arn_prefix(&self, _env: &Env) -> Result<Option<String>> {
        Ok(Some(format!("arn:aws:iam::{}:", self.role.account_id)))
    }

    fn role_signing(&self, _env: &Env) -> Result<RoleSigning> {
        Ok(RoleSigning { with_base_session: true, direct: None })
    }
}
