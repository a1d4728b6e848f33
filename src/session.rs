//! Getting a usable session for an account: from the cache when it has one with enough life left,
//! else from STS while holding the account's lock, so that concurrent callers share one call.

use std::path::Path;

use anyhow::Result;

use crate::aws::{self, AssumeRoleInput, Connection};
use crate::cache::{Cache, Lock, RoleSpec, Session, Slot};
use crate::config::{self, RegionVars};
use crate::creds::{Credentials, Timestamp, human_duration};
use crate::error::{Exit, fail};
use crate::store::{AccountFile, Store};
use crate::tty;

/// The seed's `ec2mfa` asked for four hours.
pub const DEFAULT_MFA_DURATION: i32 = 4 * 3600;
/// GetSessionToken's limits for IAM users.
const MFA_DURATION_RANGE: std::ops::RangeInclusive<i32> = 900..=129_600;
/// AssumeRole's limits; the role's own maximum may be lower.
const ROLE_DURATION_RANGE: std::ops::RangeInclusive<i32> = 900..=43_200;
/// AWS caps a role assumed with temporary credentials (role chaining) at one hour.
pub const CHAINED_ROLE_LIMIT: i32 = 3600;
/// An MFA session used to sign AssumeRole needs only to outlive the call.
const SIGNER_MIN_TTL: i64 = 60;

pub fn parse_mfa_duration(raw: Option<&str>) -> Result<i32> {
    parse_duration(raw, DEFAULT_MFA_DURATION, MFA_DURATION_RANGE, "MFA session")
}

pub fn parse_role_duration(raw: Option<&str>) -> Result<i32> {
    parse_duration(raw, CHAINED_ROLE_LIMIT, ROLE_DURATION_RANGE, "role session")
}

fn parse_duration(
    raw: Option<&str>,
    default: i32,
    range: std::ops::RangeInclusive<i32>,
    what: &str,
) -> Result<i32> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.trim().parse::<i32>().ok().filter(|s| range.contains(s)).ok_or_else(|| {
        fail(
            Exit::Usage,
            format!("the {what} duration must be {} to {} seconds, not {raw:?}", range.start(), range.end()),
        )
    })
}

/// Where an MFA code comes from when one is needed: given up front, else asked on the terminal.
pub struct Codes {
    given: Option<String>,
}

impl Codes {
    /// `--code`, else `AWSENV_MFA_CODE` (or aws-session's `AWS_SESSION_MFA_CODE`); checked now so
    /// that a malformed code fails before any file lock or network call.
    pub fn new(flag: Option<String>) -> Result<Self> {
        let given = flag.or_else(config::mfa_code);
        if given.as_deref().is_some_and(|code| !tty::is_mfa_code(code)) {
            return Err(fail(Exit::MfaCode, "the MFA code must be 6 digits"));
        }
        Ok(Self { given })
    }

    fn get(&self, user: &str) -> Result<String> {
        match &self.given {
            Some(code) => Ok(code.clone()),
            None => tty::ask_mfa_code(
                &format!("Enter token for user {user}: "),
                "pass it as ec2mfa CODE, --code or AWSENV_MFA_CODE",
            ),
        }
    }
}

/// The MFA device that signs for an account.
struct Device {
    user: String,
    serial: String,
}

/// What a caller wants from a session.
pub struct Want<'a> {
    /// Seconds the session must still have left to be used.
    pub min_ttl: i64,
    pub codes: &'a Codes,
    /// `--config`: the account file, when not found in the usual places.
    pub account_file: Option<&'a Path>,
    /// Lifetime of a new MFA session.
    pub mfa_duration: i32,
}

/// A role to assume, as the user asked for it.
pub struct RoleRequest {
    /// A role name in the account, or a full role ARN (for a role in another account).
    pub role: String,
    pub duration_seconds: i32,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

impl RoleRequest {
    /// The role with the defaults: session named after the IAM user, no external id.
    pub fn named(role: &str, duration_seconds: i32) -> Self {
        Self { role: role.to_owned(), duration_seconds, session_name: None, external_id: None }
    }
}

pub struct Account {
    pub store: Store,
    pub name: String,
    pub keys: Credentials,
    cache: Cache,
}

impl Account {
    /// The account `name` of the store at `AWSENV_DIR`, with its long-term keys.
    pub fn open(name: &str) -> Result<Self> {
        let store = Store::open(config::store_dir()?)?;
        let name = store.resolve(name)?;
        let keys = store.long_term_keys(&name)?;
        let cache = Cache::new(store.dir());
        Ok(Self { store, name, keys, cache })
    }

    /// The cached MFA session, if it has `min_ttl` seconds left at `now`.
    pub fn cached_mfa(&self, now: Timestamp, min_ttl: i64) -> Result<Option<Session>> {
        self.cache.read(&self.name, Slot::Mfa, &self.keys.access_key_id, Timestamp(now.0 + min_ttl))
    }

    /// The request a cached session of `role_arn` was made for, else a plain one for that role.
    pub fn role_request_for(&self, role_arn: &str) -> RoleRequest {
        match self.cache.role_spec(&self.name, role_arn) {
            Some(spec) => RoleRequest {
                role: spec.role_arn,
                duration_seconds: spec.duration_seconds,
                session_name: Some(spec.session_name),
                external_id: spec.external_id,
            },
            None => RoleRequest::named(role_arn, CHAINED_ROLE_LIMIT),
        }
    }

    fn device(&self, account_file: Option<&Path>) -> Result<Device> {
        let user = self.store.iam_user(&self.name, config::login_user())?;
        let prefix = AccountFile::locate(account_file, &self.store)?.arn_prefix(&self.name)?;
        Ok(Device { serial: format!("{prefix}mfa/{user}"), user })
    }

    fn source_key(&self) -> Result<String> {
        Ok(self.keys.access_key_id.as_str("the access key id")?.to_owned())
    }

    /// An MFA session with `want.min_ttl` left: the cached one, else a new one. The flag says
    /// whether STS was called.
    pub fn mfa_session(&self, want: &Want) -> Result<(Session, bool)> {
        if let Some(session) = self.cached_mfa(Timestamp::now(), want.min_ttl)? {
            return Ok((session, false));
        }
        check_lifetime(want.min_ttl, want.mfa_duration, "MFA session")?;
        let device = self.device(want.account_file)?;
        let connection = connection()?;
        let lock = self.cache.lock(&self.name)?;
        self.mfa_session_locked(&lock, want, &device, &connection)
    }

    fn mfa_session_locked(
        &self,
        lock: &Lock,
        want: &Want,
        device: &Device,
        connection: &Connection,
    ) -> Result<(Session, bool)> {
        // Another process may have made the session while this one waited for the lock.
        if let Some(session) = self.cached_mfa(Timestamp::now(), want.min_ttl)? {
            return Ok((session, false));
        }
        let code = want.codes.get(&device.user)?;
        let credentials =
            aws::get_session_token(connection, &self.keys, &device.serial, &code, want.mfa_duration)
                .map_err(|e| e.context(format!("account {}", self.name)))?;
        let session = Session {
            credentials,
            source_access_key_id: self.source_key()?,
            mfa_serial: Some(device.serial.clone()),
            role: None,
        };
        self.cache.write(lock, &self.name, &session)?;
        Ok((session, true))
    }

    /// The role's ARN: the request's own when it is one, else in this account.
    fn role_arn(&self, role: &str, account_file: Option<&Path>) -> Result<String> {
        if role.starts_with("arn:") {
            return Ok(role.to_owned());
        }
        let prefix = AccountFile::locate(account_file, &self.store)?.arn_prefix(&self.name)?;
        Ok(format!("{prefix}role/{role}"))
    }

    /// A role session with `want.min_ttl` left: the cached one, else AssumeRole signed with the
    /// cached MFA session (made first if needed: one code for any number of roles), or, for more
    /// than AWS allows a chained role, with the long-term keys and a code.
    pub fn role_session(&self, request: &RoleRequest, want: &Want) -> Result<Session> {
        let user = self.store.iam_user(&self.name, config::login_user());
        let spec = RoleSpec {
            role_arn: self.role_arn(&request.role, want.account_file)?,
            session_name: match (&request.session_name, &user) {
                (Some(name), _) => name.clone(),
                (None, Ok(user)) => user.clone(),
                (None, Err(_)) => "awsenv".to_owned(),
            },
            external_id: request.external_id.clone(),
            duration_seconds: request.duration_seconds,
        };
        let valid_at = |now: Timestamp| Timestamp(now.0 + want.min_ttl);
        let slot = Slot::Role(&spec);
        if let Some(session) =
            self.cache.read(&self.name, slot, &self.keys.access_key_id, valid_at(Timestamp::now()))?
        {
            return Ok(session);
        }
        check_lifetime(want.min_ttl, spec.duration_seconds, "role session")?;
        let device = self.device(want.account_file);
        // Without a device in the account file a full role ARN is assumed with the keys alone.
        let device = match device {
            Ok(device) => Some(device),
            Err(_) if request.role.starts_with("arn:") => None,
            Err(e) => return Err(e),
        };
        let chained = spec.duration_seconds <= CHAINED_ROLE_LIMIT;
        if let (false, Some(_)) = (chained, &device) {
            eprintln!(
                "awsenv: a role assumed with an MFA session lasts at most 1 hour; assuming {} for {} \
                 with the long-term keys of {} instead, which needs an MFA code",
                spec.role_arn,
                human_duration(spec.duration_seconds.into()),
                self.name
            );
        }
        let connection = connection()?;
        let lock = self.cache.lock(&self.name)?;
        if let Some(session) =
            self.cache.read(&self.name, slot, &self.keys.access_key_id, valid_at(Timestamp::now()))?
        {
            return Ok(session);
        }
        let mut input = AssumeRoleInput {
            role_arn: &spec.role_arn,
            session_name: &spec.session_name,
            duration_seconds: spec.duration_seconds,
            external_id: spec.external_id.as_deref(),
            mfa: None,
        };
        let code;
        let signer = match &device {
            Some(device) if chained => {
                let signer_want = Want { min_ttl: SIGNER_MIN_TTL, ..*want };
                self.mfa_session_locked(&lock, &signer_want, device, &connection)?.0.credentials
            }
            Some(device) => {
                code = want.codes.get(&device.user)?;
                input.mfa = Some((&device.serial, &code));
                self.keys.clone()
            }
            None => self.keys.clone(),
        };
        let credentials = aws::assume_role(&connection, &signer, &input)
            .map_err(|e| e.context(format!("account {}", self.name)))?;
        let session = Session {
            credentials,
            source_access_key_id: self.source_key()?,
            mfa_serial: device.map(|d| d.serial),
            role: Some(spec),
        };
        self.cache.write(&lock, &self.name, &session)?;
        Ok(session)
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

fn connection() -> Result<Connection> {
    Ok(Connection {
        region: RegionVars::read().effective().to_owned(),
        timeout: config::aws_timeout()?,
        ca_bundle: config::ca_bundle(),
    })
}
