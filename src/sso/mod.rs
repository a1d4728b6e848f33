//! IAM Identity Center (SSO): a valid access token for a session, from the cache the aws CLI
//! shares, refreshed without a browser while its registration lives, or from a new sign-in; and
//! role credentials with it. Everything that may refresh or sign in does so under the session's
//! lock, after a second look at the cache, so that any number of callers at once make one
//! refresh or one sign-in (one browser page, one device code) between them.

pub mod accounts;
mod browser;
mod cache_keys;
pub mod config;
mod device;
mod pkce;
mod signin;
pub(crate) mod tokens;

use anyhow::Result;

pub use accounts::assignments;
pub use config::{SsoRole, SsoSession};
pub use tokens::CachedToken;

use crate::aws::Connection;
use crate::aws::sso::{Portal, PortalError};
use crate::aws::sso_oidc::{ClientId, Grant, Oidc, TokenError};
use crate::config::Settings;
use crate::creds::{Clock, Credentials, Secret, Timestamp};
use crate::error::{Exit, debug, fail};
use tokens::Refresh;

/// A token with less than this left is refreshed when it can be (botocore's window).
pub const REFRESH_WINDOW: i64 = 15 * 60;
/// A token with less than this left is not used for a call.
const MIN_LEFT: i64 = 60;

/// What `ensure_token` may do to get a token.
#[derive(Default)]
pub struct Access {
    /// Sign in (browser or device code) when no token is usable or refreshable.
    pub sign_in: bool,
    /// Sign in even when a token is usable (`awsenv sso login --force`).
    pub force: bool,
    /// The device code flow even where a browser could be opened (`--device-code`).
    pub device_code: bool,
    /// A token the portal refused (signed out elsewhere): not to be used again.
    pub rejected: Option<Secret>,
}

/// Where the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    Cached,
    Refreshed,
    SignedIn,
}

/// What the cache says of a session's sign-in, without any call: for prompts and `ec2now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStatus {
    /// When the access token runs out.
    pub expires: Timestamp,
    /// Until when it can be renewed without a browser (its client registration's end), when it
    /// has a refresh token. The service may end the sign-in sooner (8 hours by default).
    pub refreshable_until: Option<Timestamp>,
}

pub fn token_status(settings: &Settings, session: &SsoSession) -> Result<Option<TokenStatus>> {
    Ok(tokens::read_token(settings, session)?.map(|token| TokenStatus {
        expires: token.expires,
        refreshable_until: token.refresh.map(|r| r.registration_expires),
    }))
}

/// The command that signs in to `label`, for messages.
pub fn login_hint(label: &str) -> String {
    let plain =
        !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@%+=:,/".contains(c));
    if plain {
        format!("awsenv sso login {label}")
    } else {
        format!("awsenv sso login '{}'", label.replace('\'', "'\\''"))
    }
}

fn connection(settings: &Settings, session: &SsoSession) -> Result<Connection> {
    Ok(Connection {
        region: session.region.clone(),
        timeout: settings.timeout()?,
        ca_bundle: settings.ca_bundle.clone(),
    })
}

/// Why there is no usable token, for the message when no sign-in is allowed.
enum Missing {
    NoToken,
    Ended(Timestamp, &'static str),
}

fn need_sign_in(session: &SsoSession, missing: Missing) -> anyhow::Error {
    let hint = login_hint(&session.label);
    fail(
        Exit::MfaCode,
        match missing {
            Missing::NoToken => {
                format!("not signed in to IAM Identity Center for {}; run {hint}", session.label)
            }
            Missing::Ended(at, why) => {
                format!("the sign-in to {} ended at {}{why}; run {hint}", session.label, at.human_utc())
            }
        },
    )
}

/// A token for `session` with at least a minute left: the cached one (refreshed when less than
/// `REFRESH_WINDOW` is left and it can be), or a new sign-in when `access` allows it. `now` is
/// the caller's moment for the first look; after waiting for the lock, `clock` is read again.
pub fn ensure_token(
    settings: &Settings,
    session: &SsoSession,
    access: &Access,
    now: Timestamp,
    clock: Clock,
) -> Result<(CachedToken, Obtained)> {
    let rejected = |t: &CachedToken| access.rejected.as_ref().is_some_and(|r| *r == t.access_token);
    let first = match (access.force, tokens::read_token(settings, session)?) {
        (true, _) => None,
        (false, Some(token)) if !rejected(&token) && token.expires > now.plus(REFRESH_WINDOW) => {
            return Ok((token, Obtained::Cached));
        }
        (false, other) => other,
    };
    let lock = tokens::lock(settings, session)?;
    let now = clock.now();
    let mut missing = Missing::NoToken;
    if !access.force
        && let Some(token) = tokens::read_token(settings, session)?
    {
        let usable = token.expires > now.plus(MIN_LEFT) && !rejected(&token);
        // Another process refreshed or signed in while this one waited for the lock.
        let replaced = first.as_ref().is_none_or(|seen| seen.access_token != token.access_token);
        if usable && (replaced || token.expires > now.plus(REFRESH_WINDOW)) {
            return Ok((token, Obtained::Cached));
        }
        let why = match &token.refresh {
            Some(refresh) if refresh.registration_expires > now => {
                let oidc = Oidc::connect(&connection(settings, session)?)?;
                match refreshed(&oidc, session, &token, refresh, clock) {
                    Ok(Some(new)) => {
                        tokens::write_token(&lock, session, &new)?;
                        return Ok((new, Obtained::Refreshed));
                    }
                    Ok(None) => " and could not be renewed (the service refused its refresh token)",
                    Err(e) if usable => {
                        debug!(
                            "could not refresh the token of {}: {}",
                            session.label,
                            crate::error::one_line(&e)
                        );
                        return Ok((token, Obtained::Cached));
                    }
                    Err(e) => return Err(e),
                }
            }
            Some(_) => " and its client registration has expired",
            None => "",
        };
        if usable {
            return Ok((token, Obtained::Cached));
        }
        missing = Missing::Ended(token.expires, why);
    }
    if !access.sign_in {
        return Err(need_sign_in(session, missing));
    }
    let oidc = Oidc::connect(&connection(settings, session)?)?;
    let token = signin::sign_in(settings, &lock, session, &oidc, access.device_code, clock)?;
    accounts::forget(settings, session);
    Ok((token, Obtained::SignedIn))
}

/// CreateToken with the refresh token; `None` when the service refuses it.
fn refreshed(
    oidc: &Oidc,
    session: &SsoSession,
    token: &CachedToken,
    refresh: &Refresh,
    clock: Clock,
) -> Result<Option<CachedToken>> {
    debug!("refreshing the SSO token of {} (it ends at {})", session.label, token.expires.rfc3339());
    let client = ClientId { id: &refresh.client_id, secret: &refresh.client_secret };
    match oidc.create_token(&client, &Grant::RefreshToken(&refresh.refresh_token)) {
        // As botocore: the refresh token the answer brings, if any (the service rotates it).
        Ok(new) => Ok(Some(CachedToken::from_answer(
            token.start_url.clone(),
            token.region.clone(),
            new,
            &client,
            refresh.registration_expires,
            clock.now(),
        ))),
        Err(TokenError::Other(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Role credentials from GetRoleCredentials, with a token from `ensure_token`. With
/// `interactive`, a sign-in is made when one is needed; otherwise the error names the command.
/// `now` is the caller's moment for the first look at the token, as `ensure_token`'s.
pub fn role_credentials(
    settings: &Settings,
    role: &SsoRole,
    interactive: bool,
    now: Timestamp,
    clock: Clock,
) -> Result<Credentials> {
    let session = &role.session;
    let mut access = Access { sign_in: interactive, device_code: session.device_code, ..Access::default() };
    debug!("role credentials for {}", role.fingerprint());
    let portal = Portal::connect(&connection(settings, session)?)?;
    for _ in 0..2 {
        let (token, _) = ensure_token(settings, session, &access, now, clock)?;
        match portal.role_credentials(&token.access_token, &role.account_id, &role.role_name) {
            Ok(credentials) => return Ok(credentials),
            // Signed out elsewhere, or ended by the service before its time: once more, without it.
            Err(PortalError::Unauthorized) => access.rejected = Some(token.access_token),
            Err(PortalError::NoAccess) => {
                return Err(fail(
                    Exit::Rejected,
                    format!(
                        "IAM Identity Center gives no access to {}: no role {} in account {} for this user (see awsenv sso accounts {})",
                        role.name(),
                        role.role_name,
                        role.account_id,
                        session.label
                    ),
                ));
            }
            Err(PortalError::Other(e)) => return Err(e),
        }
    }
    Err(fail(
        Exit::MfaCode,
        format!(
            "IAM Identity Center no longer takes the sign-in to {}; run {}",
            session.label,
            login_hint(&session.label)
        ),
    ))
}

/// Ends the sign-in at the service (Logout) and removes the cached token. `false` when there was
/// no token. A Logout that fails is reported on stderr; the token is removed all the same.
/// `clock` is read once the lock is held.
pub fn logout(settings: &Settings, session: &SsoSession, clock: Clock) -> Result<bool> {
    let lock = tokens::lock(settings, session)?;
    accounts::forget(settings, session);
    let Some(token) = tokens::read_token(settings, session)? else {
        return Ok(false);
    };
    let now = clock.now();
    let mut access_token = token.access_token.clone();
    // An ended token cannot log out; its refresh token still can get one that does.
    if token.expires <= now.plus(MIN_LEFT)
        && let Some(refresh) = token.refresh.as_ref().filter(|r| r.registration_expires > now)
        && let Ok(Some(new)) =
            refreshed(&Oidc::connect(&connection(settings, session)?)?, session, &token, refresh, clock)
    {
        access_token = new.access_token;
    }
    match Portal::connect(&connection(settings, session)?)?.logout(&access_token) {
        Ok(()) | Err(PortalError::Unauthorized) => {}
        Err(PortalError::NoAccess) => {}
        Err(PortalError::Other(e)) => eprintln!(
            "awsenv: could not sign out of {} at IAM Identity Center ({}); removing the local token anyway",
            session.label,
            crate::error::one_line(&e)
        ),
    }
    tokens::remove_token(&lock, session)
}
