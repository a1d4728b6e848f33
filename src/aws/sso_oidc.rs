//! IAM Identity Center's OIDC service (aws-sdk-ssooidc): client registration, device
//! authorization and tokens. Nothing here keeps a file; `crate::sso` decides what is cached.
//! Client secrets, device codes, authorization codes, verifiers and tokens stay in `Secret`s:
//! none reaches a message, a log line or `Debug` output.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use aws_sdk_ssooidc::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ssooidc::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ssooidc::error::{BoxError, SdkError};

use super::{Connection, describe, unsigned_config};
use crate::creds::{Secret, Timestamp};
use crate::error::debug;

/// The grant type of the device authorization flow (RFC 8628).
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub struct Oidc {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_ssooidc::Client,
}

/// A registered client as the service knows it.
pub struct ClientId<'a> {
    pub id: &'a str,
    pub secret: &'a Secret,
}

/// What a client is registered for.
pub enum Grants<'a> {
    /// The device authorization grant, and refresh tokens: botocore registers no grant types for
    /// it, and the service then allows exactly these.
    DeviceCode,
    /// Authorization code with PKCE and refresh tokens, redirected to a loopback `redirect_uri`
    /// (any port, RFC 8252 7.3), for the instance at `issuer_url` (the start URL).
    AuthorizationCode { redirect_uri: &'a str, issuer_url: &'a str },
}

/// A new registration.
pub struct Registered {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires: Timestamp,
}

/// A device authorization waiting for the user.
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// How a token is asked for.
pub enum Grant<'a> {
    DeviceCode(&'a Secret),
    AuthorizationCode { code: &'a Secret, redirect_uri: &'a str, verifier: &'a Secret },
    RefreshToken(&'a Secret),
}

/// What CreateToken gave.
pub struct Token {
    pub access_token: Secret,
    pub expires_in: i64,
    pub refresh_token: Option<Secret>,
}

/// Why CreateToken gave no token: the answers a caller acts on, then anything else as a message.
pub enum TokenError {
    /// The user has not approved the device yet (authorization_pending).
    Pending,
    /// Polling too fast: add 5 s to the interval (RFC 8628 3.5).
    SlowDown,
    /// The user denied the request.
    Denied,
    /// The device code expired before the user approved it.
    Expired,
    /// The code, verifier, redirect URI or refresh token was refused (invalid_grant).
    InvalidGrant,
    /// The registration is unknown or has expired (invalid_client).
    InvalidClient,
    Other(anyhow::Error),
}

impl Oidc {
    pub fn connect(connection: &Connection) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let config = runtime.block_on(unsigned_config(connection))?;
        Ok(Self { runtime, client: aws_sdk_ssooidc::Client::new(&config) })
    }

    /// RegisterClient: a public client named `name` for `scopes` and `grants`.
    pub fn register_client(&self, name: &str, scopes: &[String], grants: &Grants) -> Result<Registered> {
        debug!("sso-oidc RegisterClient {name} scopes {scopes:?}");
        let mut request = self
            .client
            .register_client()
            .client_name(name)
            .client_type("public")
            .set_scopes(Some(scopes.to_vec()).filter(|s| !s.is_empty()));
        if let Grants::AuthorizationCode { redirect_uri, issuer_url } = grants {
            request = request
                .grant_types("authorization_code")
                .grant_types("refresh_token")
                .redirect_uris(*redirect_uri)
                .issuer_url(*issuer_url);
        }
        let output =
            self.runtime.block_on(request.send()).map_err(|e| describe("sso-oidc RegisterClient", e))?;
        let client_id = output.client_id.context("sso-oidc RegisterClient returned no client id")?;
        let secret = output.client_secret.context("sso-oidc RegisterClient returned no client secret")?;
        Ok(Registered {
            client_id,
            client_secret: Secret::new(secret),
            expires: Timestamp(output.client_secret_expires_at),
        })
    }

    /// StartDeviceAuthorization for the instance at `start_url`.
    pub fn start_device_authorization(
        &self,
        client: &ClientId,
        start_url: &str,
    ) -> Result<DeviceAuthorization> {
        debug!("sso-oidc StartDeviceAuthorization for {start_url}");
        let request = self
            .client
            .start_device_authorization()
            .client_id(client.id)
            .client_secret(client.secret.as_str("the client secret")?)
            .start_url(start_url);
        let output = self
            .runtime
            .block_on(request.send())
            .map_err(|e| describe("sso-oidc StartDeviceAuthorization", e))?;
        let missing = || "sso-oidc StartDeviceAuthorization returned an incomplete answer";
        Ok(DeviceAuthorization {
            device_code: Secret::new(output.device_code.with_context(missing)?),
            user_code: output.user_code.with_context(missing)?,
            verification_uri: output.verification_uri.with_context(missing)?,
            verification_uri_complete: output.verification_uri_complete,
            expires_in: i64::from(output.expires_in),
            // RFC 8628 3.2: 5 s when the server names none.
            interval: if output.interval > 0 { i64::from(output.interval) } else { 5 },
        })
    }

    /// CreateToken with `grant`.
    pub fn create_token(&self, client: &ClientId, grant: &Grant) -> Result<Token, TokenError> {
        let secret = client.secret.as_str("the client secret").map_err(TokenError::Other)?;
        let text =
            |secret: &Secret, what: &str| secret.as_str(what).map(str::to_owned).map_err(TokenError::Other);
        let request = self.client.create_token().client_id(client.id).client_secret(secret);
        let request = match grant {
            Grant::DeviceCode(code) => {
                request.grant_type(DEVICE_GRANT).device_code(text(code, "the device code")?)
            }
            Grant::AuthorizationCode { code, redirect_uri, verifier } => request
                .grant_type("authorization_code")
                .code(text(code, "the authorization code")?)
                .redirect_uri(*redirect_uri)
                .code_verifier(text(verifier, "the code verifier")?),
            Grant::RefreshToken(token) => {
                request.grant_type("refresh_token").refresh_token(text(token, "the refresh token")?)
            }
        };
        let output = match self.runtime.block_on(request.send()) {
            Ok(output) => output,
            Err(SdkError::ServiceError(service)) if token_error(service.err()).is_some() => {
                return Err(token_error(service.err()).unwrap_or(TokenError::InvalidGrant));
            }
            Err(e) => return Err(TokenError::Other(describe("sso-oidc CreateToken", e))),
        };
        let access_token = output.access_token.ok_or_else(|| {
            TokenError::Other(anyhow::anyhow!("sso-oidc CreateToken returned no access token"))
        })?;
        Ok(Token {
            access_token: Secret::new(access_token),
            expires_in: i64::from(output.expires_in),
            refresh_token: output.refresh_token.map(Secret::new),
        })
    }

    /// The scheme and authority the SDK sends OIDC requests to (`AWS_ENDPOINT_URL_SSO_OIDC`, the
    /// config file's `services`, else the region's endpoint). The browser's `/authorize` page is
    /// there too, but it is not an operation of the API, so the SDK is asked where a request would
    /// go, as the aws CLI does: the request is stopped before it is sent.
    pub fn endpoint_base(&self) -> Result<String> {
        let seen = Arc::new(Mutex::new(None));
        let probe = self
            .client
            .register_client()
            .client_name("endpoint-probe")
            .client_type("public")
            .customize()
            .interceptor(CaptureEndpoint(seen.clone()));
        // Fails by design: the interceptor stops it.
        let _ = self.runtime.block_on(probe.send());
        let base = seen.lock().ok().and_then(|mut base| base.take());
        base.context("could not tell where the SSO OIDC endpoint is (check AWS_ENDPOINT_URL_SSO_OIDC)")
    }
}

fn token_error(error: &aws_sdk_ssooidc::operation::create_token::CreateTokenError) -> Option<TokenError> {
    Some(if error.is_authorization_pending_exception() {
        TokenError::Pending
    } else if error.is_slow_down_exception() {
        TokenError::SlowDown
    } else if error.is_access_denied_exception() {
        TokenError::Denied
    } else if error.is_expired_token_exception() {
        TokenError::Expired
    } else if error.is_invalid_grant_exception() {
        TokenError::InvalidGrant
    } else if error.is_invalid_client_exception() {
        TokenError::InvalidClient
    } else {
        return None;
    })
}

/// Records the scheme and authority of the request about to be sent, and stops it.
#[derive(Debug)]
struct CaptureEndpoint(Arc<Mutex<Option<String>>>);

impl Intercept for CaptureEndpoint {
    fn name(&self) -> &'static str {
        "CaptureEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        let base = uri.find("://").and_then(|at| {
            let rest = &uri[at + 3..];
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            Some(format!("{}{}", &uri[..at + 3], &rest[..end])).filter(|_| end > 0)
        });
        if let Ok(mut seen) = self.0.lock() {
            *seen = base;
        }
        Err("stopped: only the endpoint was wanted".into())
    }
}
