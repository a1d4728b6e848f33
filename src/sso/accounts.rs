//! The accounts and roles a signed-in user may use (ListAccounts, then ListAccountRoles for
//! each), kept for a few minutes in awsenv's cache directory so that completion and repeated
//! listings do not call the portal each time. Never a sign-in: that is `awsenv sso login`'s.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::cache_keys::sha1_hex;
use super::config::SsoSession;
use super::{Access, connection, ensure_token, login_hint, tokens};
use crate::aws::sso::{Portal, PortalError};
use crate::config::Settings;
use crate::creds::{Clock, Timestamp};
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, limit};

/// How long a listing is reused.
pub const ACCOUNTS_TTL: i64 = 300;

/// One account and the roles (permission sets) the user may use in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    pub roles: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    start_url: String,
    fetched_at: String,
    accounts: Vec<Assignment>,
}

/// The extension of the plain list of names beside each listing.
const NAMES_EXTENSION: &str = "names";

fn path(settings: &Settings, session: &SsoSession) -> Result<PathBuf> {
    // awsenv's own files beside the session cache, private like it.
    let dir = settings.store_dir()?.join(".awsenv").join("sso");
    files::create_private_dir(&dir)?;
    files::check_private_dir(&dir, "directory")?;
    Ok(dir.join(format!("accounts-{}.json", sha1_hex(&session.start_url))))
}

/// The names of `listing`'s roles, one per line, for completion (which reads them with no
/// process) and `awsenv accounts`: only names `ec2switch` accepts back.
fn names_text(label: &str, accounts: &[Assignment]) -> String {
    let mut text = String::new();
    if label.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return text;
    }
    for account in accounts {
        for role in account.roles.iter().filter(|role| super::config::is_role_name(role)) {
            text.push_str(&format!("{label}/{}/{role}\n", account.account_id));
        }
    }
    text
}

/// Every `SESSION/ACCOUNT_ID/ROLE` of the listings in the store at `store_dir`, old or fresh, with
/// the file that lists it; never a network call.
pub fn known_names(store_dir: &std::path::Path) -> Result<Vec<(String, PathBuf)>> {
    let dir = store_dir.join(".awsenv").join("sso");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == NAMES_EXTENSION))
        .collect();
    files.sort();
    let mut names = Vec::new();
    for file in files {
        let Some(bytes) = files::read(&file, "SSO account names", limit::JSON, Trust::Data)? else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines().filter(|line| !line.is_empty()) {
            names.push((line.to_owned(), file.clone()));
        }
    }
    Ok(names)
}

fn cached(settings: &Settings, session: &SsoSession, now: Timestamp) -> Result<Option<Vec<Assignment>>> {
    let path = path(settings, session)?;
    let Some(bytes) = files::read(&path, "SSO account list", limit::JSON, Trust::Data)? else {
        return Ok(None);
    };
    let Ok(listing) = serde_json::from_slice::<Listing>(&bytes) else {
        debug!("SSO account list {} is unreadable; fetching it again", path.display());
        return Ok(None);
    };
    let fetched = Timestamp::parse_rfc3339(&listing.fetched_at).ok();
    let fresh = fetched.is_some_and(|at| at <= now && now.seconds_since(at) < ACCOUNTS_TTL);
    Ok((fresh && listing.start_url == session.start_url).then_some(listing.accounts))
}

/// Forgets the listing (after a sign-in or a logout: the user may be another).
pub fn forget(settings: &Settings, session: &SsoSession) {
    if let Ok(path) = path(settings, session) {
        let _ = std::fs::remove_file(path.with_extension(NAMES_EXTENSION));
        let _ = std::fs::remove_file(path);
    }
}

/// The user's accounts and roles, from the listing when it is fresh (and `refresh` is not asked):
/// judged at `now` first, then at `clock`'s time once the lock is held.
pub fn assignments(
    settings: &Settings,
    session: &SsoSession,
    refresh: bool,
    now: Timestamp,
    clock: Clock,
) -> Result<Vec<Assignment>> {
    if !refresh && let Some(accounts) = cached(settings, session, now)? {
        return Ok(accounts);
    }
    let (token, _) = ensure_token(settings, session, &Access::default(), now, clock)?;
    let _lock = tokens::lock(settings, session)?;
    let now = clock.now();
    if !refresh && let Some(accounts) = cached(settings, session, now)? {
        return Ok(accounts);
    }
    let expired = |e: PortalError| match e {
        PortalError::Unauthorized => fail(
            Exit::MfaCode,
            format!(
                "the sign-in to {} is no longer valid; run {}",
                session.label,
                login_hint(&session.label)
            ),
        ),
        PortalError::NoAccess => fail(
            Exit::Rejected,
            format!("IAM Identity Center refused to list the accounts of {}", session.label),
        ),
        PortalError::Other(e) => e,
    };
    let portal = Portal::connect(&connection(settings, session)?)?;
    let mut assignments = Vec::new();
    for account in portal.accounts(&token.access_token).map_err(expired)? {
        let roles = match portal.roles(&token.access_token, &account.id) {
            Err(PortalError::NoAccess) => Vec::new(),
            other => other.map_err(expired)?,
        };
        assignments.push(Assignment {
            account_id: account.id,
            account_name: account.name,
            email_address: account.email,
            roles,
        });
    }
    let listing =
        Listing { start_url: session.start_url.clone(), fetched_at: now.rfc3339(), accounts: assignments };
    let path = path(settings, session)?;
    let dir = path.parent().context("the listing has a directory")?;
    files::write_atomic(dir, &path, &serde_json::to_vec_pretty(&listing)?)
        .with_context(|| format!("could not write SSO account list {}", path.display()))?;
    let names = path.with_extension(NAMES_EXTENSION);
    files::write_atomic(dir, &names, names_text(&session.label, &listing.accounts).as_bytes())
        .with_context(|| format!("could not write SSO account names {}", names.display()))?;
    Ok(listing.accounts)
}
