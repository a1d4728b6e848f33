//! Getting a usable session for an account: from the cache when it has one with enough life left,
//! else from STS while holding the account's lock, so that concurrent callers share one call.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::aws::{self, AssumeRoleInput, Aws, Connection};
pub use crate::cache::Session;
use crate::cache::{Cache, Lock, RoleSpec, Slot};
pub use crate::codes::Codes;
use crate::codes::{Device, SentCodes};
use crate::config::{self, RegionVars};
use crate::creds::{Credentials, Secret, Timestamp, human_duration};
use crate::error::{Exit, fail};
use crate::profile::{Profile, Profiles};
use crate::shell::{Exports, Kind};
use crate::store::{AccountFile, Store, validate_name};
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

/// Where an account's MFA device is named.
enum DeviceSource {
    /// The store's account file (`PREFIX` + `mfa/` + the IAM user).
    AccountFile,
    /// A profile's `mfa_serial`, and its `mfa_process` command for codes.
    Serial { serial: String, command: Option<String> },
    /// Nowhere: the keys are used without MFA.
    None,
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
    /// When renewing would need a code that cannot be had, a cached session with at least this
    /// many seconds left is used instead (for consumers that will simply ask again later).
    pub fallback_ttl: Option<i64>,
}

impl<'a> Want<'a> {
    /// What most callers want: any valid session, new MFA sessions as long as `AWSENV_DURATION`
    /// (or aws-session's `AWS_SESSION_DURATION`) says, no fallback.
    pub fn new(codes: &'a Codes, account_file: Option<&'a Path>) -> Result<Self> {
        let mfa_duration = parse_mfa_duration(config::duration_env().as_deref())?;
        Ok(Self { min_ttl: 0, codes, account_file, mfa_duration, fallback_ttl: None })
    }
}

/// A role to assume, as the user asked for it.
#[derive(Debug, Clone)]
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

/// How an account gets its credentials.
enum Source {
    /// Long-term keys (the store's, or a profile's static keys) and the MFA device that goes with them.
    Keys { keys: Credentials, device: DeviceSource, store: Option<Store> },
    /// A role profile: the role, assumed with the session of its `source_profile`.
    Role { request: RoleRequest, source: Box<Account> },
}

pub struct Account {
    pub name: String,
    /// A profile's `region`, applied when the shell has none.
    pub region: Option<String>,
    source: Source,
    cache: Cache,
}

/// Longest `source_profile` chain followed before calling it a loop.
const MAX_CHAIN: usize = 8;

impl Account {
    /// The account `name`: from the store at `AWSENV_DIR` when it has it, else a profile of the
    /// aws CLI's files.
    pub fn open(name: &str) -> Result<Self> {
        validate_name(name)?;
        let store_dir = config::store_dir()?;
        let cache = Cache::new(&store_dir);
        let store = Store::open_optional(store_dir.clone())?;
        if let Some(store) = store
            && let Some(name) = store.find(name)?
        {
            let keys = store.long_term_keys(&name)?;
            let source = Source::Keys { keys, device: DeviceSource::AccountFile, store: Some(store) };
            return Ok(Self { name, region: None, source, cache });
        }
        let profiles = Profiles::load()?;
        let Some(profile) = profiles.get(name) else {
            let key_file = store_dir.join(format!("{name}.access_key"));
            return Err(fail(
                Exit::Config,
                format!(
                    "unknown account {name}: no {} and no such profile in {} or {} (run ec2switch to list accounts)",
                    key_file.display(),
                    config::aws_config_file()?.display(),
                    config::aws_credentials_file()?.display()
                ),
            ));
        };
        Self::from_profile(profile, &profiles, &mut Vec::new())
    }

    fn from_profile(profile: &Profile, profiles: &Profiles, chain: &mut Vec<String>) -> Result<Self> {
        let file = profile.file.display().to_string();
        let bad = |what: String| fail(Exit::Config, format!("profile {} in {file}: {what}", profile.name));
        chain.push(profile.name.clone());
        if chain.len() > MAX_CHAIN || chain[..chain.len() - 1].contains(&profile.name) {
            return Err(bad(format!("source_profile loops: {}", chain.join(" -> "))));
        }
        let cache = Cache::new(&config::store_dir()?);
        let region = profile.get("region").map(str::to_owned);
        let Some(role_arn) = profile.get("role_arn") else {
            let (Some(key_id), Some(secret)) =
                (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key"))
            else {
                return Err(bad(
                    "it has neither aws_access_key_id and aws_secret_access_key nor role_arn".into()
                ));
            };
            let keys = Credentials {
                access_key_id: Secret::new(key_id),
                secret_access_key: Secret::new(secret),
                session_token: profile.get("aws_session_token").map(Secret::new),
                expiration: None,
            };
            let command = profile.get("mfa_process").map(str::to_owned);
            let device = profile.get("mfa_serial").map_or(DeviceSource::None, |serial| {
                DeviceSource::Serial { serial: serial.to_owned(), command }
            });
            let source = Source::Keys { keys, device, store: None };
            return Ok(Self { name: profile.name.clone(), region, source, cache });
        };
        let duration_seconds = match profile.get("duration_seconds") {
            Some(raw) => parse_role_duration(Some(raw))
                .map_err(|_| bad(format!("duration_seconds {raw:?} is not 900 to 43200")))?,
            None => CHAINED_ROLE_LIMIT,
        };
        let request = RoleRequest {
            role: role_arn.to_owned(),
            duration_seconds,
            session_name: profile.get("role_session_name").map(str::to_owned),
            external_id: profile.get("external_id").map(str::to_owned),
        };
        let source_name = match (profile.get("source_profile"), profile.get("credential_source")) {
            (Some(name), _) => name,
            (None, Some(_)) => {
                return Err(bad("credential_source is not supported; use source_profile".into()));
            }
            (None, None) => return Err(bad("role_arn needs a source_profile".into())),
        };
        let mut source = if source_name == profile.name {
            // A profile may hold both the keys and the role: its keys are the source.
            let mut keys_only = profile.clone();
            keys_only.drop_role();
            Self::from_profile(&keys_only, profiles, &mut Vec::new())?
        } else {
            let next = profiles
                .get(source_name)
                .ok_or_else(|| bad(format!("source_profile {source_name} does not exist")))?;
            Self::from_profile(next, profiles, chain)?
        };
        // The role profile's mfa_serial names the device when its source names none.
        if let (Some(serial), Source::Keys { device: device @ DeviceSource::None, .. }) =
            (profile.get("mfa_serial"), &mut source.source)
        {
            let command = profile.get("mfa_process").map(str::to_owned);
            *device = DeviceSource::Serial { serial: serial.to_owned(), command };
        }
        let region = region.or_else(|| source.region.clone());
        let source = Source::Role { request, source: Box::new(source) };
        Ok(Self { name: profile.name.clone(), region, source, cache })
    }

    /// The complete exports for `creds` of this account; a profile's region fills in for a shell
    /// that has none.
    pub fn exports(&self, kind: &Kind, creds: &Credentials) -> Result<Exports> {
        Exports::new(&self.name, kind, creds, &RegionVars::read(self.region.clone()))
    }

    /// The profiles of the aws CLI's files this account's credentials come from: itself when it is
    /// a profile, and each `source_profile` down its chain.
    pub fn profile_chain(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let mut account = self;
        loop {
            match &account.source {
                Source::Keys { store: Some(_), .. } => return names,
                Source::Keys { .. } => {
                    names.push(account.name.as_str());
                    return names;
                }
                Source::Role { source, .. } => {
                    names.push(account.name.as_str());
                    account = source;
                }
            }
        }
    }

    /// The long-term keys at the root of the account's chain.
    pub fn keys(&self) -> &Credentials {
        match &self.source {
            Source::Keys { keys, .. } => keys,
            Source::Role { source, .. } => source.keys(),
        }
    }

    /// AWS, signed with the long-term keys at the root of the account's chain.
    pub fn connect_root(&self) -> Result<Aws> {
        let root = self.root();
        Aws::connect(&connection(root)?, root.keys())
    }

    /// The record of MFA codes sent, so that none is sent twice.
    pub fn sent_codes(&self) -> SentCodes {
        SentCodes::new(self.cache.dir())
    }

    /// The name of the account that holds the keys (itself, or the end of its chain).
    pub fn root_name(&self) -> &str {
        &self.root().name
    }

    /// Makes `serial` the root account's MFA device for `ec2mfa` and the rest: `NAME.mfa_serial`
    /// in the store, `mfa_serial` in a profile's section of the config file. Returns the file.
    pub fn remember_serial(&self, serial: &str) -> Result<PathBuf> {
        let root = self.root();
        match &root.source {
            Source::Keys { store: Some(store), .. } => store.write_text(&root.name, "mfa_serial", serial),
            _ => {
                let path = config::aws_config_file()?;
                let header = if root.name == "default" {
                    "default".to_owned()
                } else {
                    format!("profile {}", root.name)
                };
                crate::ini::update_file(&path, &header, &[("mfa_serial", serial)])?;
                Ok(path)
            }
        }
    }

    /// The account that holds the keys and the MFA device: itself, or the end of its chain.
    fn root(&self) -> &Account {
        match &self.source {
            Source::Keys { .. } => self,
            Source::Role { source, .. } => source.root(),
        }
    }

    /// A role profile's own role, with the ARN it will be cached under.
    pub fn profile_role(&self) -> Option<&RoleRequest> {
        match &self.source {
            Source::Role { request, .. } => Some(request),
            Source::Keys { .. } => None,
        }
    }

    /// The root's cached MFA session, if it has `min_ttl` seconds left at `now`.
    pub fn cached_mfa(&self, now: Timestamp, min_ttl: i64) -> Result<Option<Session>> {
        let root = self.root();
        root.cache.read(&root.name, Slot::Mfa, &root.keys().access_key_id, now.plus(min_ttl))
    }

    /// The cached session of a role profile, if it has `min_ttl` left at `now`.
    pub fn cached_profile_role(&self, now: Timestamp, min_ttl: i64) -> Result<Option<Session>> {
        let Some(request) = self.profile_role() else {
            return Ok(None);
        };
        let spec = self.role_spec(request, None)?;
        self.cache.read(&self.name, Slot::Role(&spec), &self.keys().access_key_id, now.plus(min_ttl))
    }

    /// The account's MFA device: for the store, `NAME.mfa_serial`, else the account file's prefix
    /// with `mfa/` and the IAM user, else asked of AWS (and remembered in `NAME.mfa_serial`); for a
    /// profile, its `mfa_serial`.
    fn device(&self, account_file: Option<&Path>) -> Result<Option<Device>> {
        match &self.source {
            Source::Keys { device: DeviceSource::AccountFile, store: Some(store), keys } => {
                let command = store.text(&self.name, "mfa_command")?;
                if let Some(serial) = store.text(&self.name, "mfa_serial")? {
                    let user = store.iam_user(&self.name, None).unwrap_or_else(|_| arn_tail(&serial));
                    return Ok(Some(Device { user, serial, command }));
                }
                if let Some(file) = AccountFile::locate(account_file, store)?
                    && let Some(prefix) = file.arn_prefix(&self.name)?
                {
                    let user = store.iam_user(&self.name, config::login_user())?;
                    return Ok(Some(Device { serial: format!("{prefix}mfa/{user}"), user, command }));
                }
                let device = self.discover_device(keys, command)?;
                let path = store.write_text(&self.name, "mfa_serial", &device.serial)?;
                eprintln!(
                    "awsenv: MFA device {} of IAM user {} found; remembered in {}",
                    device.serial,
                    device.user,
                    path.display()
                );
                Ok(Some(device))
            }
            Source::Keys { device: DeviceSource::Serial { serial, command }, .. } => {
                Ok(Some(Device { user: arn_tail(serial), serial: serial.clone(), command: command.clone() }))
            }
            Source::Keys { .. } => Ok(None),
            Source::Role { source, .. } => source.device(account_file),
        }
    }

    /// Finds the device as aws-session did: the caller's identity gives the IAM user, whose MFA
    /// devices AWS lists; with several, the user picks one.
    fn discover_device(&self, keys: &Credentials, command: Option<String>) -> Result<Device> {
        let aws = Aws::connect(&connection(self)?, keys)?;
        let arn = aws
            .caller_arn()
            .map_err(|e| e.context(format!("looking for the MFA device of {}", self.name)))?;
        let user = iam_user_of(&arn).ok_or_else(|| {
            fail(
                Exit::Config,
                format!(
                    "the keys of {} belong to {arn}, not an IAM user: name the MFA device in {}.mfa_serial",
                    self.name, self.name
                ),
            )
        })?;
        let mut serials = aws
            .mfa_devices(&user)
            .map_err(|e| e.context(format!("looking for the MFA device of {}", self.name)))?;
        let serial = match serials.len() {
            0 => {
                return Err(fail(
                    Exit::Config,
                    format!(
                        "IAM user {user} has no MFA device: create one with awsenv provision-mfa {}",
                        self.name
                    ),
                ));
            }
            1 => serials.remove(0),
            _ => choose_device(&user, &self.name, &serials)?,
        };
        Ok(Device { user, serial, command })
    }

    fn source_key(&self) -> Result<String> {
        Ok(self.keys().access_key_id.as_str("the access key id")?.to_owned())
    }

    /// An MFA session of the root account with `want.min_ttl` left: the cached one, else a new
    /// one. The flag says whether STS was called.
    pub fn mfa_session(&self, want: &Want) -> Result<(Session, bool)> {
        let root = self.root();
        if let Some(session) = root.cached_mfa(Timestamp::now(), want.min_ttl)? {
            return Ok((session, false));
        }
        check_lifetime(want.min_ttl, want.mfa_duration, "MFA session")?;
        let device = root.device(want.account_file)?.ok_or_else(|| {
            fail(
                Exit::Config,
                format!("account {} has no MFA device: set mfa_serial in its profile", root.name),
            )
        })?;
        let connection = connection(root)?;
        let lock = root.cache.lock(&root.name)?;
        root.mfa_session_locked(&lock, want, &device, &connection)
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
        let sent = self.sent_codes();
        let code = match want.codes.get(device, &sent) {
            Ok(code) => code,
            Err(error) => return self.fallback(want, error).map(|session| (session, false)),
        };
        let sending = sent.record(&device.serial, &code, Timestamp::now())?;
        let result =
            aws::get_session_token(connection, self.keys(), &device.serial, &code, want.mfa_duration);
        sending.settle(&result);
        let credentials = result.map_err(|e| e.context(format!("account {}", self.name)))?;
        let session = Session {
            credentials,
            source_access_key_id: self.source_key()?,
            mfa_serial: Some(device.serial.clone()),
            role: None,
        };
        self.cache.write(lock, &self.name, &session)?;
        Ok((session, true))
    }

    /// The cached MFA session in place of a renewal that failed for want of a code, if the caller
    /// accepts one with `want.fallback_ttl` left; else the error.
    fn fallback(&self, want: &Want, error: anyhow::Error) -> Result<Session> {
        let no_code = crate::error::exit_code(&error) == Exit::MfaCode as i32;
        if let (true, Some(ttl)) = (no_code, want.fallback_ttl)
            && let Some(session) = self.cached_mfa(Timestamp::now(), ttl)?
        {
            crate::error::debug!(
                "no MFA code to renew {}; using the cached session until it ends",
                self.name
            );
            return Ok(session);
        }
        Err(error)
    }

    /// The request a cached session of `role_arn` was made for, else a plain one for that role.
    pub fn role_request_for(&self, role_arn: &str) -> RoleRequest {
        if let Some(request) = self.profile_role().filter(|r| r.role == role_arn) {
            return request.clone();
        }
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

    /// The role's ARN: the request's own when it is one, else in this account: the account file's
    /// prefix, else the one of the account's MFA device.
    fn role_arn(&self, role: &str, account_file: Option<&Path>) -> Result<String> {
        validate_role(role)?;
        if role.starts_with("arn:") {
            return Ok(role.to_owned());
        }
        let root = self.root();
        let listed = match &root.source {
            Source::Keys { store: Some(store), .. } => match AccountFile::locate(account_file, store)? {
                Some(file) => file.arn_prefix(&root.name)?,
                None => None,
            },
            _ => None,
        };
        let prefix = match listed {
            Some(prefix) => prefix,
            None => match self
                .device(account_file)?
                .and_then(|device| device.serial.split_once("mfa/").map(|(p, _)| p.to_owned()))
            {
                Some(prefix) => prefix,
                None => {
                    return Err(fail(
                        Exit::Usage,
                        format!(
                            "cannot tell which AWS account {} is in: give the role as a full ARN",
                            self.name
                        ),
                    ));
                }
            },
        };
        Ok(format!("{prefix}role/{role}"))
    }

    fn role_spec(&self, request: &RoleRequest, account_file: Option<&Path>) -> Result<RoleSpec> {
        let session_name = match &request.session_name {
            Some(name) => name.clone(),
            None => match &self.root().source {
                Source::Keys { store: Some(store), .. } => store
                    .iam_user(&self.root().name, config::login_user())
                    .unwrap_or_else(|_| "awsenv".into()),
                _ => match self.device(account_file) {
                    Ok(Some(device)) => device.user,
                    _ => config::login_user().unwrap_or_else(|| "awsenv".into()),
                },
            },
        };
        Ok(RoleSpec {
            role_arn: self.role_arn(&request.role, account_file)?,
            session_name,
            external_id: request.external_id.clone(),
            duration_seconds: request.duration_seconds,
        })
    }

    /// The account's own session: its MFA session for keys, its role session for a role profile.
    pub fn session(&self, want: &Want) -> Result<(Session, bool)> {
        match self.profile_role() {
            Some(request) => self.role_session(request, want).map(|s| (s, true)),
            None => self.mfa_session(want),
        }
    }

    /// A role session with `want.min_ttl` left: the cached one, else AssumeRole signed with the
    /// account's own session (for keys, the cached MFA session, made first if needed: one code
    /// for any number of roles), or, for more than AWS allows a chained role, with the long-term
    /// keys and a code.
    pub fn role_session(&self, request: &RoleRequest, want: &Want) -> Result<Session> {
        let spec = self.role_spec(request, want.account_file)?;
        let slot = Slot::Role(&spec);
        let source_key = &self.keys().access_key_id;
        let valid_at = |now: Timestamp| now.plus(want.min_ttl);
        if let Some(session) = self.cache.read(&self.name, slot, source_key, valid_at(Timestamp::now()))? {
            return Ok(session);
        }
        check_lifetime(want.min_ttl, spec.duration_seconds, "role session")?;
        let chained = spec.duration_seconds <= CHAINED_ROLE_LIMIT;
        // The signer: this account's keys (and MFA), or, for a role profile, its own role session.
        let is_profile_role = self.profile_role().is_some_and(|own| own.role == request.role);
        let signer_account = match &self.source {
            Source::Role { source, .. } if is_profile_role => source.as_ref(),
            _ => self,
        };
        let device = signer_account.device(want.account_file);
        let device = match device {
            Ok(device) => device,
            // Without a device in the account file a full role ARN is assumed with the keys alone.
            Err(_) if request.role.starts_with("arn:") => None,
            Err(e) => return Err(e),
        };
        let direct = matches!(signer_account.source, Source::Keys { .. }) && device.is_some() && !chained;
        if !chained && !direct && signer_account.profile_role().is_some() {
            return Err(fail(
                Exit::Usage,
                format!(
                    "{} is assumed with another role's session, which AWS limits to 1 hour; ask for 3600 seconds or less",
                    spec.role_arn
                ),
            ));
        }
        if direct {
            eprintln!(
                "awsenv: a role assumed with an MFA session lasts at most 1 hour; assuming {} for {} \
                 with the long-term keys of {} instead, which needs an MFA code",
                spec.role_arn,
                human_duration(spec.duration_seconds.into()),
                signer_account.root().name
            );
        }
        let connection = connection(self)?;
        let signer_want = Want { min_ttl: SIGNER_MIN_TTL, ..*want };
        // A signer with its own lock (another account's session) is got before this account's
        // lock is taken, so that no process ever waits on a lock it holds.
        let plan = match (&signer_account.source, &device) {
            (Source::Role { .. }, _) => Signer::Ready(signer_account.session(&signer_want)?.0.credentials),
            (Source::Keys { .. }, Some(device)) if direct => Signer::Direct(device),
            (Source::Keys { .. }, Some(device)) if std::ptr::eq(signer_account, self) => {
                Signer::OwnMfa(device)
            }
            (Source::Keys { .. }, Some(_)) => {
                Signer::Ready(signer_account.mfa_session(&signer_want)?.0.credentials)
            }
            (Source::Keys { keys, .. }, None) => Signer::Ready(keys.clone()),
        };
        let lock = self.cache.lock(&self.name)?;
        if let Some(session) = self.cache.read(&self.name, slot, source_key, valid_at(Timestamp::now()))? {
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
        let sent = self.sent_codes();
        let signer = match plan {
            Signer::Ready(credentials) => credentials,
            Signer::OwnMfa(device) => {
                self.mfa_session_locked(&lock, &signer_want, device, &connection)?.0.credentials
            }
            Signer::Direct(device) => {
                code = want.codes.get(device, &sent)?;
                input.mfa = Some((&device.serial, &code));
                signer_account.keys().clone()
            }
        };
        let sending = match input.mfa {
            Some((serial, code)) => Some(sent.record(serial, code, Timestamp::now())?),
            None => None,
        };
        let result = aws::assume_role(&connection, &signer, &input);
        if let Some(sending) = sending {
            sending.settle(&result);
        }
        let credentials = result.map_err(|e| e.context(format!("account {}", self.name)))?;
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

/// A role name as IAM allows it (1 to 64 of letters, digits and `+=,.@_-`), or a role ARN whose
/// path is printable and whose name is one: anything else is refused before it reaches STS, the
/// shell's variables or a prompt.
pub fn validate_role(role: &str) -> Result<()> {
    let name_ok = |name: &str| {
        (1..=64).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    };
    let valid = match role.strip_prefix("arn:") {
        None => name_ok(role),
        Some(_) => {
            let resource = role.splitn(6, ':').nth(5).unwrap_or("");
            let printable = role.len() <= 2048 && role.bytes().all(|b| b.is_ascii_graphic());
            printable && resource.starts_with("role/") && name_ok(arn_tail(resource).as_str())
        }
    };
    if valid {
        return Ok(());
    }
    let shown: String = role.chars().take(64).collect::<String>().escape_debug().to_string();
    Err(fail(
        Exit::Usage,
        format!(
            "invalid role {shown:?}: give a role name (letters, digits and +=,.@_-, up to 64) or a role ARN"
        ),
    ))
}

/// The last part of an ARN: the user of `arn:aws:iam::1:mfa/alice`.
fn arn_tail(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// The user name of an IAM user's ARN, `arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`.
pub fn iam_user_of(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource.strip_prefix("user/").map(arn_tail)
}

/// Asks which of several MFA devices to use.
fn choose_device(user: &str, account: &str, serials: &[String]) -> Result<String> {
    let tty = tty::open(|| {
        format!(
            "IAM user {user} has {} MFA devices ({}) and there is no terminal to ask which: put one in {account}.mfa_serial",
            serials.len(),
            serials.join(", ")
        )
    })?;
    let mut menu = format!("IAM user {user} has {} MFA devices:\n", serials.len());
    for (number, serial) in serials.iter().enumerate() {
        menu.push_str(&format!("  {}) {serial}\n", number + 1));
    }
    std::io::Write::write_all(&mut &tty, menu.as_bytes())?;
    for _ in 0..3 {
        let answer = tty::ask(&tty, "Which one? ")?;
        let chosen = answer.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| serials.get(i));
        if let Some(serial) = chosen {
            return Ok(serial.clone());
        }
    }
    Err(fail(Exit::MfaCode, "no MFA device chosen"))
}

/// What signs an AssumeRole call.
enum Signer<'a> {
    /// Credentials already in hand: another account's session, or keys without MFA.
    Ready(Credentials),
    /// This account's MFA session, made under its lock if needed.
    OwnMfa(&'a Device),
    /// The long-term keys with a code, for a role longer than chaining allows.
    Direct(&'a Device),
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

/// How to reach STS for `account`: the shell's region, else the profile's, else us-east-1.
fn connection(account: &Account) -> Result<Connection> {
    let region = RegionVars::read(account.region.clone()).effective().to_owned();
    Ok(Connection { region, timeout: config::aws_timeout()?, ca_bundle: config::ca_bundle() })
}
