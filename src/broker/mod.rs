//! The broker: the one place that decides where a session comes from. A session cached with
//! enough life left is used; else the account's lock is taken, the cache read again, and a new
//! session issued by the account's kind (`kinds/`) or assumed (`role.rs`), then written. Commands
//! ask it for sessions and never look at the kind.

mod role;
#[cfg(test)]
mod tests;

use anyhow::Result;

pub use crate::account::RoleRequest;
use crate::account::{Account, Origin};
pub use crate::cache::Session;
use crate::cache::{Lock, Slot};
pub use crate::codes::Codes;
use crate::codes::SentCodes;
use crate::config::Settings;
use crate::creds::{Credentials, human_duration};
use crate::error::{Exit, fail};
use crate::kinds::{Held, Issue};
pub use role::validate_role;

/// The seed's `ec2mfa` asked for four hours.
pub const DEFAULT_BASE_DURATION: i32 = 4 * 3600;
/// GetSessionToken's limits for IAM users.
const BASE_DURATION_RANGE: std::ops::RangeInclusive<i32> = 900..=129_600;
/// A session used to sign AssumeRole needs only to outlive the call.
const SIGNER_MIN_TTL: i64 = 60;
/// What a consumer that will simply ask again (credential_process, serve) accepts in place of a
/// renewal that would need a code nobody can give.
const CONSUMER_FALLBACK_TTL: i64 = 60;

pub fn parse_base_duration(raw: Option<&str>) -> Result<i32> {
    crate::account::parse_duration(raw, DEFAULT_BASE_DURATION, BASE_DURATION_RANGE, "MFA session")
}

/// When a cached session is renewed: `window` seconds before it ends (`--min-ttl`, the refresh
/// window), but never more than half its lifetime, so that a window longer than the session
/// cannot make every call renew it.
pub fn renewal_ttl(window: i64, duration: i32) -> i64 {
    window.min(i64::from(duration) / 2)
}

/// `--min-ttl`, else the refresh window: a cached session with less left is renewed first.
pub fn min_ttl(flag: Option<&str>, settings: &Settings, duration: i32) -> Result<i64> {
    match flag {
        Some(text) => crate::creds::parse_human_duration(text).ok_or_else(|| {
            fail(Exit::Usage, format!("--min-ttl takes a duration like 90s, 30m or 2h, not {text:?}"))
        }),
        None => Ok(renewal_ttl(settings.refresh_window()?, duration)),
    }
}

/// What a caller wants from a session.
pub struct Want<'a> {
    /// Seconds the session must still have left to be used.
    pub min_ttl: i64,
    pub codes: &'a Codes,
    /// Lifetime asked for a new base session (see `Base::lifetime`).
    pub base_duration: i32,
    /// When renewing would need a code that cannot be had, a cached session with at least this
    /// many seconds left is used instead (for consumers that will simply ask again later).
    pub fallback_ttl: Option<i64>,
}

impl<'a> Want<'a> {
    /// What most callers want: any valid session, new base sessions as long as `AWSENV_DURATION`
    /// (or aws-session's `AWS_SESSION_DURATION`) says, no fallback.
    pub fn new(codes: &'a Codes, settings: &Settings) -> Result<Self> {
        let base_duration = parse_base_duration(settings.duration.as_deref())?;
        Ok(Self { min_ttl: 0, codes, base_duration, fallback_ttl: None })
    }
}

impl Account {
    /// The root's cached base session, if it has `min_ttl` seconds left now.
    pub fn cached_base(&self, min_ttl: i64) -> Result<Option<Session>> {
        let root = self.root();
        let base = root.base();
        let valid_at = root.env.clock.now().plus(min_ttl);
        root.cache.read(&root.name, Slot::Base(base.info().name), &base.fingerprint()?, valid_at)
    }

    /// A base session of the root account with `want.min_ttl` left: the cached one, else a new
    /// one. The flag says whether one was made.
    pub fn base_session(&self, want: &Want) -> Result<(Session, bool)> {
        let root = self.root();
        if let Some(session) = root.cached_base(want.min_ttl)? {
            return Ok((session, false));
        }
        let base = root.base();
        check_lifetime(want.min_ttl, base.lifetime(want.base_duration), base.info().session_noun)?;
        let lock = root.cache.lock(&root.name)?;
        root.base_session_locked(&lock, want)
    }

    /// The base session, made under `lock` (this account's) when the cache has none.
    fn base_session_locked(&self, lock: &Lock, want: &Want) -> Result<(Session, bool)> {
        // Another process may have made the session while this one waited for the lock.
        if let Some(session) = self.cached_base(want.min_ttl)? {
            return Ok((session, false));
        }
        let Origin::Base(base) = &self.origin else {
            unreachable!("only a base account makes base sessions");
        };
        let sent = self.sent_codes();
        let connection = self.connection()?;
        let request = Issue {
            env: &self.env,
            codes: want.codes,
            sent: &sent,
            connection: &connection,
            duration: want.base_duration,
        };
        let issued = match base.issue(&request) {
            Ok(issued) => issued,
            Err(error) => return self.fallback(want, error).map(|session| (session, false)),
        };
        let session = Session {
            credentials: issued.credentials,
            kind: base.info().name.to_owned(),
            fingerprint: base.fingerprint()?,
            made_with: issued.made_with,
            role: None,
        };
        self.cache.write(lock, &self.name, &session)?;
        Ok((session, true))
    }

    /// The cached base session in place of a renewal that failed for want of a code, if the
    /// caller accepts one with `want.fallback_ttl` left; else the error.
    fn fallback(&self, want: &Want, error: anyhow::Error) -> Result<Session> {
        let no_code = crate::error::exit_of(&error) == Exit::MfaCode;
        if let (true, Some(ttl)) = (no_code, want.fallback_ttl)
            && let Some(session) = self.cached_base(ttl)?
        {
            crate::error::debug!(
                "no MFA code to renew {}; using the cached session until it ends",
                self.name
            );
            return Ok(session);
        }
        Err(error)
    }

    /// The record of MFA codes sent, so that none is sent twice.
    pub fn sent_codes(&self) -> SentCodes {
        SentCodes::new(self.cache.dir())
    }

    /// The account's own session: its base session, or its role session for a role profile.
    pub fn session(&self, want: &Want) -> Result<(Session, bool)> {
        match self.profile_role() {
            Some(request) => self.role_session(request, want).map(|s| (s, true)),
            None => self.base_session(want),
        }
    }

    /// What `ec2switch` switches to: the cached base session while it is valid, else standing
    /// credentials (long-term keys) as they are, else a new base session; for a role profile, its
    /// role session, assumed now if none is cached. `codes` is made only when a session must be.
    pub fn current(&self, codes: impl FnOnce() -> Result<Codes>) -> Result<(Held, Credentials)> {
        let new_session = |make: &dyn Fn(&Want) -> Result<Session>| -> Result<Session> {
            let codes = codes()?;
            make(&Want::new(&codes, &self.env.settings)?)
        };
        if let Some(request) = self.profile_role() {
            let session = match self.cached_profile_role(0)? {
                Some(session) => session,
                None => new_session(&|want| self.role_session(request, want))?,
            };
            return Ok((Held::role_of(&session), session.credentials));
        }
        let held = Held::Base(self.base().info());
        if let Some(session) = self.cached_base(0)? {
            return Ok((held, session.credentials));
        }
        if let Some(standing) = self.base().standing() {
            return Ok((Held::Standing, standing.clone()));
        }
        let session = new_session(&|want| self.base_session(want).map(|(session, _)| session))?;
        Ok((held, session.credentials))
    }

    /// The session a non-shell consumer gets: the role's with `role`, else the account's own.
    /// With `fallback`, a renewal that would need a code nobody can give falls back to the
    /// cached session while it has a minute left.
    pub fn consumer_session(
        &self,
        role: Option<&str>,
        codes: &Codes,
        min_ttl: i64,
        fallback: bool,
    ) -> Result<Session> {
        let fallback_ttl = fallback.then_some(CONSUMER_FALLBACK_TTL);
        let want = Want { min_ttl, fallback_ttl, ..Want::new(codes, &self.env.settings)? };
        match role {
            Some(role) => {
                let request = RoleRequest::named(role, crate::account::parse_role_duration(None)?);
                let want = Want { min_ttl: renewal_ttl(min_ttl, request.duration_seconds), ..want };
                self.role_session(&request, &want)
            }
            None if self.profile_role().is_none() => {
                // Never more than half the session: a 15-minute session still serves `--min-ttl 15m`.
                let lifetime = self.base().lifetime(want.base_duration);
                let want = Want { min_ttl: renewal_ttl(min_ttl, lifetime), ..want };
                Ok(self.base_session(&want)?.0)
            }
            None => Ok(self.session(&want)?.0),
        }
    }

    /// The session of the kind `held` names (what a shell holds), renewed when it has less than
    /// the refresh window left; `None` when standing credentials have nothing to renew.
    pub fn renew(&self, held: &Held, codes: &Codes) -> Result<Option<(Held, Session)>> {
        let window = self.env.settings.refresh_window()?;
        let mut want = Want::new(codes, &self.env.settings)?;
        match held {
            Held::Standing => Ok(None),
            Held::Base(_) => {
                want.min_ttl = renewal_ttl(window, self.root().base().lifetime(want.base_duration));
                Ok(Some((held.clone(), self.base_session(&want)?.0)))
            }
            Held::Role(role_arn) => {
                let request = self.role_request_for(role_arn);
                want.min_ttl = renewal_ttl(window, request.duration_seconds);
                Ok(Some((held.clone(), self.role_session(&request, &want)?)))
            }
        }
    }
}

/// A new session must be able to satisfy the request at all, or asking for a code is pointless.
fn check_lifetime(min_ttl: i64, duration: i32, what: &str) -> Result<()> {
    if min_ttl >= i64::from(duration) {
        return Err(fail(
            Exit::Usage,
            format!(
                "a {what} of {} can never have {} left; ask for a longer duration",
                human_duration(duration.into()),
                human_duration(min_ttl)
            ),
        ));
    }
    Ok(())
}
