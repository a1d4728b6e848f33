//! A new sign-in, made under the session's lock: a client registration (the cached one while it
//! has 15 minutes left and was made for the same flow, as botocore reuses it, else a new one),
//! then the browser (authorization code with PKCE) or the device code flow.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::browser::{self, Opener, has_terminal, tell};
use super::config::SsoSession;
use super::pkce::{Callback, Loopback, Pkce, REGISTERED_REDIRECT_URI, authorize_url};
use super::tokens::{self, CachedToken, Lock, Registration};
use super::{REFRESH_WINDOW, device, login_hint};
use crate::aws::sso_oidc::{ClientId, Grant, Grants, Oidc, Token, TokenError};
use crate::config::Settings;
use crate::creds::Clock;
use crate::error::{Exit, debug, fail};

const AUTH_CODE_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];

pub fn denied(label: &str) -> anyhow::Error {
    fail(Exit::Rejected, format!("the sign-in to {label} was denied"))
}

/// When a sign-in gives up: `AWSENV_SSO_TIMEOUT` after it began.
#[derive(Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    timeout: Duration,
}

impl Deadline {
    /// The error when it came without an approval.
    pub fn passed(&self, label: &str) -> anyhow::Error {
        fail(
            Exit::MfaCode,
            format!(
                "the sign-in to {label} timed out after {}s without an approval (AWSENV_SSO_TIMEOUT); \
                 run {} again, with --device-code to sign in on another device",
                self.timeout.as_secs(),
                login_hint(label)
            ),
        )
    }
}

enum Flow {
    Browser(Vec<Opener>),
    DeviceCode,
}

/// Which flow signs in: the device code when asked for (`--device-code`, `sso_use_device_code`)
/// or when no browser here could reach the loopback listener, but then only with a terminal to
/// show the code on.
fn choose(settings: &Settings, session: &SsoSession, device_code: bool) -> Result<Flow> {
    if device_code || session.device_code {
        return Ok(Flow::DeviceCode);
    }
    let openers = browser::openers(settings.desktop());
    if !openers.is_empty() {
        return Ok(Flow::Browser(openers));
    }
    if has_terminal() {
        debug!("no browser can reach this machine's loopback: using the device code flow");
        return Ok(Flow::DeviceCode);
    }
    Err(fail(
        Exit::MfaCode,
        format!(
            "signing in to {} needs a browser on this machine or a terminal to show a device code, and there is neither; \
             run {} in a terminal",
            session.label,
            login_hint(&session.label)
        ),
    ))
}

/// Signs in and caches the new token; its expiry counts from `clock`'s time when it came.
pub fn sign_in(
    settings: &Settings,
    lock: &Lock,
    session: &SsoSession,
    oidc: &Oidc,
    device_code: bool,
    clock: Clock,
) -> Result<CachedToken> {
    let flow = choose(settings, session, device_code)?;
    let timeout = settings.sso_timeout()?;
    let deadline = Deadline { at: Instant::now() + timeout, timeout };
    let (registration, token) = match flow {
        Flow::Browser(openers) => {
            let loopback = Loopback::bind()?;
            let registration = registration(lock, session, oidc, true, clock)?;
            let token = browser_flow(session, oidc, &registration, &loopback, &openers, deadline)?;
            (registration, token)
        }
        Flow::DeviceCode => {
            let registration = registration(lock, session, oidc, false, clock)?;
            let client = ClientId { id: &registration.client_id, secret: &registration.client_secret };
            let token = device::sign_in(oidc, &client, &session.start_url, &session.label, deadline)?;
            (registration, token)
        }
    };
    let client = ClientId { id: &registration.client_id, secret: &registration.client_secret };
    let cached = CachedToken::from_answer(
        session.start_url.clone(),
        session.region.clone(),
        token,
        &client,
        registration.expires,
        clock.now(),
    );
    tokens::write_token(lock, session, &cached)?;
    Ok(cached)
}

fn browser_flow(
    session: &SsoSession,
    oidc: &Oidc,
    registration: &Registration,
    loopback: &Loopback,
    openers: &[Opener],
    deadline: Deadline,
) -> Result<Token> {
    let label = &session.label;
    let pkce = Pkce::new()?;
    let redirect_uri = loopback.redirect_uri();
    let base = oidc.endpoint_base()?;
    let url =
        authorize_url(&base, &registration.client_id, &redirect_uri, &session.registration_scopes(), &pkce);
    let opened = browser::open(openers, &url);
    tell(&[
        format!(
            "{} to sign in to {label}; if it does not show the sign-in page, open:",
            if opened { "opened the browser" } else { "could not start the browser" }
        ),
        url.clone(),
        format!("(to sign in on another device instead: {} --device-code)", login_hint(label)),
    ]);
    let code = match loopback.wait(&pkce.state, deadline.at)? {
        None => return Err(deadline.passed(label)),
        Some(Callback::Error { error, .. }) if error == "access_denied" => return Err(denied(label)),
        Some(Callback::Error { error, description }) => {
            let shown = |text: &str| text.chars().filter(|c| !c.is_control()).take(200).collect::<String>();
            let description = description.map(|d| format!(": {}", shown(&d))).unwrap_or_default();
            return Err(fail(
                Exit::Rejected,
                format!(
                    "the sign-in to {label} failed: the sign-in page answered {}{description}",
                    shown(&error)
                ),
            ));
        }
        Some(Callback::Code(code)) => code,
    };
    let client = ClientId { id: &registration.client_id, secret: &registration.client_secret };
    let grant =
        Grant::AuthorizationCode { code: &code, redirect_uri: &redirect_uri, verifier: &pkce.verifier };
    oidc.create_token(&client, &grant).map_err(|e| match e {
        TokenError::Denied => denied(label),
        TokenError::InvalidGrant => fail(
            Exit::Rejected,
            format!("the sign-in to {label} was refused: the authorization code did not match this sign-in's PKCE verifier or redirect"),
        ),
        TokenError::InvalidClient => fail(
            Exit::Rejected,
            format!("the sign-in to {label} was refused: the client registration is not valid; run {} again", login_hint(label)),
        ),
        TokenError::Expired => deadline.passed(label),
        TokenError::Pending | TokenError::SlowDown => fail(Exit::Rejected, format!("the sign-in to {label} was not completed")),
        TokenError::Other(e) => e,
    })
}

/// The cached registration when it suits the flow and has time left, else a new one (cached).
fn registration(
    lock: &Lock,
    session: &SsoSession,
    oidc: &Oidc,
    auth_code: bool,
    clock: Clock,
) -> Result<Registration> {
    let now = clock.now();
    if let Some(cached) = tokens::read_registration(lock, session)? {
        let for_auth_code =
            cached.grant_types.as_ref().is_some_and(|g| g.iter().any(|g| g == "authorization_code"));
        if cached.expires > now.plus(REFRESH_WINDOW) && for_auth_code == auth_code {
            debug!(
                "reusing the client registration of {} (until {})",
                session.label,
                cached.expires.rfc3339()
            );
            return Ok(cached);
        }
    }
    let scopes = session.registration_scopes();
    // The aws CLI names its clients after the session, or the time for a legacy profile.
    let name = format!("awsenv-client-{}", session.name.clone().unwrap_or_else(|| now.0.to_string()));
    let grants = match auth_code {
        true => Grants::AuthorizationCode {
            redirect_uri: REGISTERED_REDIRECT_URI,
            issuer_url: &session.start_url,
        },
        false => Grants::DeviceCode,
    };
    let registered = oidc.register_client(&name, &scopes, &grants)?;
    let registration = Registration {
        client_id: registered.client_id,
        client_secret: registered.client_secret,
        expires: registered.expires,
        scopes: Some(scopes),
        grant_types: auth_code.then(|| AUTH_CODE_GRANTS.iter().map(|g| (*g).to_owned()).collect()),
    };
    tokens::write_registration(lock, session, &registration)?;
    Ok(registration)
}
