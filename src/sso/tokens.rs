//! The token cache the aws CLI v2, botocore and the SDKs share: `~/.aws/sso/cache/<sha1>.json`
//! holds a session's access token, and another file there its client registration, named as
//! botocore's `SSOTokenFetcher` names them (`cache_keys.rs`). Both are written as the aws CLI
//! writes them (camelCase fields, times as `%Y-%m-%dT%H:%M:%SZ`), atomically and 0600; a lock
//! beside the token (awsenv's only) makes one process at a time refresh it or sign in.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::cache_keys::{registration_file, token_file};
use super::config::SsoSession;
use crate::aws::sso_oidc::{ClientId, Token};
use crate::config::Settings;
use crate::creds::{Secret, Timestamp};
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, limit};

/// A cached sign-in. Not `Debug`: it holds secrets (they are `Secret`s all the same).
pub struct CachedToken {
    pub start_url: String,
    pub region: String,
    pub access_token: Secret,
    pub expires: Timestamp,
    /// What renews it without a browser, when the file has all of it.
    pub refresh: Option<Refresh>,
}

impl CachedToken {
    /// CreateToken's `answer` as the cache keeps it: it ends `expires_in` seconds after `now`
    /// (when it came), and the refresh token it brings, if any, renews it with `client`, whose
    /// registration lasts until `registration_expires`.
    pub fn from_answer(
        start_url: String,
        region: String,
        answer: Token,
        client: &ClientId,
        registration_expires: Timestamp,
        now: Timestamp,
    ) -> Self {
        Self {
            start_url,
            region,
            access_token: answer.access_token,
            expires: now.plus(answer.expires_in),
            refresh: answer.refresh_token.map(|refresh_token| Refresh {
                refresh_token,
                client_id: client.id.to_owned(),
                client_secret: client.secret.clone(),
                registration_expires,
            }),
        }
    }
}

pub struct Refresh {
    pub refresh_token: Secret,
    pub client_id: String,
    pub client_secret: Secret,
    pub registration_expires: Timestamp,
}

/// A cached client registration.
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires: Timestamp,
    pub scopes: Option<Vec<String>>,
    /// `["authorization_code", "refresh_token"]` for the browser flow; absent for the device flow.
    pub grant_types: Option<Vec<String>>,
}

/// The token file's JSON, field for field what the aws CLI writes.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenJson {
    start_url: Option<String>,
    region: Option<String>,
    access_token: String,
    expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationJson {
    client_id: String,
    client_secret: String,
    expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grant_types: Option<Vec<String>>,
}

/// `~/.aws/sso/cache`, from HOME as botocore finds it.
fn dir(settings: &Settings) -> Result<PathBuf> {
    Ok(settings.home_dir()?.join(".aws").join("sso").join("cache"))
}

/// A time as the cache files hold it: RFC 3339, or botocore 1's `...UTC` form.
fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    Timestamp::parse_rfc3339(text)
        .ok()
        .or_else(|| Timestamp::parse_rfc3339(&format!("{}Z", text.strip_suffix("UTC")?)).ok())
}

/// The cache directory, created 0700 when missing; one that others can write is refused.
fn ensure_dir(dir: &Path) -> Result<()> {
    files::create_private_dir(dir)?;
    files::check_private_dir(dir, "SSO token cache directory").map(drop)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, what: &str) -> Result<Option<T>> {
    let Some(bytes) = files::read(path, what, limit::JSON, Trust::Data)? else {
        return Ok(None);
    };
    match serde_json::from_slice(files::strip_bom(&bytes)) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            // Another tool's half-written or foreign file: as if there were none (botocore too).
            debug!("{what} {} {}; ignoring it", path.display(), files::json_error(&e));
            Ok(None)
        }
    }
}

/// The session's cached token, if the file is there and readable.
pub fn read_token(settings: &Settings, session: &SsoSession) -> Result<Option<CachedToken>> {
    let dir = dir(settings)?;
    let path = dir.join(token_file(session));
    if dir.exists() {
        files::check_private_dir(&dir, "SSO token cache directory")?;
    }
    let Some(bytes) = files::read(&path, "SSO token", limit::JSON, Trust::Data)? else {
        debug!("no SSO token for {} at {}", session.label, path.display());
        return Ok(None);
    };
    match token_from_json(&bytes, &session.start_url, &session.region) {
        Ok(token) => Ok(Some(token)),
        Err(why) => {
            // Another tool's half-written or foreign file: as if there were none (botocore too).
            debug!("SSO token {} {why}; ignoring it", path.display());
            Ok(None)
        }
    }
}

/// A token file's contents as the session `start_url` (in `region`) uses them, or why they are
/// no use: not JSON of the aws CLI's shape, another start URL's, or an unreadable time.
pub(crate) fn token_from_json(bytes: &[u8], start_url: &str, region: &str) -> Result<CachedToken, String> {
    let json: TokenJson =
        serde_json::from_slice(files::strip_bom(bytes)).map_err(|e| files::json_error(&e))?;
    if json.start_url.as_deref().is_some_and(|url| url != start_url) {
        return Err("is for another start URL".to_owned());
    }
    let Some(expires) = parse_time(&json.expires_at) else {
        return Err("has an unreadable expiresAt".to_owned());
    };
    let refresh = match (json.refresh_token, json.client_id, json.client_secret, json.registration_expires_at)
    {
        (Some(token), Some(client_id), Some(secret), Some(until)) => {
            parse_time(&until).map(|until| Refresh {
                refresh_token: Secret::new(token),
                client_id,
                client_secret: Secret::new(secret),
                registration_expires: until,
            })
        }
        _ => None,
    };
    Ok(CachedToken {
        start_url: json.start_url.unwrap_or_else(|| start_url.to_owned()),
        region: json.region.unwrap_or_else(|| region.to_owned()),
        access_token: Secret::new(json.access_token),
        expires,
        refresh,
    })
}

fn text(secret: &Secret, what: &str) -> Result<String> {
    secret.as_str(what).map(str::to_owned)
}

pub fn write_token(lock: &Lock, session: &SsoSession, token: &CachedToken) -> Result<()> {
    let dir = &lock.dir;
    ensure_dir(dir)?;
    let path = dir.join(token_file(session));
    let refresh = token.refresh.as_ref();
    let json = TokenJson {
        start_url: Some(session.start_url.clone()),
        region: Some(session.region.clone()),
        access_token: text(&token.access_token, "the access token")?,
        expires_at: token.expires.rfc3339(),
        client_id: refresh.map(|r| r.client_id.clone()),
        client_secret: refresh.map(|r| text(&r.client_secret, "the client secret")).transpose()?,
        registration_expires_at: refresh.map(|r| r.registration_expires.rfc3339()),
        refresh_token: refresh.map(|r| text(&r.refresh_token, "the refresh token")).transpose()?,
    };
    let bytes = serde_json::to_vec(&json)?;
    files::write_atomic(dir, &path, &bytes)
        .with_context(|| format!("could not write SSO token {}", path.display()))?;
    debug!("SSO token for {} in {} until {}", session.label, path.display(), json.expires_at);
    Ok(())
}

pub fn remove_token(lock: &Lock, session: &SsoSession) -> Result<bool> {
    let path = lock.dir.join(token_file(session));
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("could not remove SSO token {}", path.display())),
    }
}

/// The session's cached client registration; read under the lock, which knows the cache.
pub fn read_registration(lock: &Lock, session: &SsoSession) -> Result<Option<Registration>> {
    let path = lock.dir.join(registration_file(session));
    let Some(json) = read_json::<RegistrationJson>(&path, "SSO client registration")? else {
        return Ok(None);
    };
    let Some(expires) = parse_time(&json.expires_at) else {
        return Ok(None);
    };
    Ok(Some(Registration {
        client_id: json.client_id,
        client_secret: Secret::new(json.client_secret),
        expires,
        scopes: json.scopes,
        grant_types: json.grant_types,
    }))
}

pub fn write_registration(lock: &Lock, session: &SsoSession, registration: &Registration) -> Result<()> {
    let dir = &lock.dir;
    ensure_dir(dir)?;
    let path = dir.join(registration_file(session));
    let json = RegistrationJson {
        client_id: registration.client_id.clone(),
        client_secret: text(&registration.client_secret, "the client secret")?,
        expires_at: registration.expires.rfc3339(),
        scopes: registration.scopes.clone(),
        grant_types: registration.grant_types.clone(),
    };
    let bytes = serde_json::to_vec(&json)?;
    files::write_atomic(dir, &path, &bytes)
        .with_context(|| format!("could not write SSO client registration {}", path.display()))
}

/// The session's lock; released when dropped, and by the kernel if the process dies. It knows
/// the cache directory it guards, so that writes need it.
pub struct Lock {
    _file: File,
    dir: PathBuf,
}

/// Takes the session's lock, saying so while another process holds it.
pub fn lock(settings: &Settings, session: &SsoSession) -> Result<Lock> {
    let dir = dir(settings)?;
    ensure_dir(&dir)?;
    let path = dir.join(format!(".{}.awsenv-lock", token_file(session)));
    let file = files::open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => return Ok(Lock { _file: file, dir }),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(fail(Exit::Failure, format!("could not lock {}: {e}", path.display())));
        }
    }
    eprintln!("awsenv: waiting for another awsenv that is signing in to {}...", session.label);
    file.lock().with_context(|| format!("could not lock {}", path.display()))?;
    Ok(Lock { _file: file, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_both_botocore_forms() {
        assert_eq!(parse_time("2026-11-18T11:06:40Z"), Some(Timestamp(1_795_000_000)));
        assert_eq!(parse_time("2026-11-18T11:06:40UTC"), Some(Timestamp(1_795_000_000)));
        assert_eq!(parse_time("2026-11-18T11:06:40.5+00:00"), Some(Timestamp(1_795_000_000)));
        assert_eq!(parse_time("yesterday"), None);
    }
}
