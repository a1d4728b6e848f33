//! An account by name: from the store when it has it, else a profile of the aws CLI's files, with
//! role profiles and their `source_profile` chains on top of any kind (`kinds/`).

use anyhow::Result;

use crate::aws::Connection;
use crate::cache::Cache;
use crate::creds::{Credentials, Timestamp};
use crate::error::{Exit, fail};
use crate::kinds::{Base, Boxed, Env, Held, KINDS};
use crate::profile::{Profile, Profiles};
use crate::shell::Exports;
use crate::store::{Store, validate_name};

/// AssumeRole's limits; the role's own maximum may be lower.
const ROLE_DURATION_RANGE: std::ops::RangeInclusive<i32> = 900..=43_200;
/// AWS caps a role assumed with temporary credentials (role chaining) at one hour.
pub const CHAINED_ROLE_LIMIT: i32 = 3600;
/// Longest `source_profile` chain followed before calling it a loop.
const MAX_CHAIN: usize = 8;

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
    /// The role with the defaults: the kind's session name, no external id.
    pub fn named(role: &str, duration_seconds: i32) -> Self {
        Self { role: role.to_owned(), duration_seconds, session_name: None, external_id: None }
    }
}

pub struct Account {
    pub name: String,
    /// A profile's `region`, applied when the shell has none.
    pub region: Option<String>,
    pub(crate) origin: Origin,
    /// Whether the account is a profile of the aws CLI's files (else the store's).
    is_profile: bool,
    pub(crate) cache: Cache,
    pub(crate) env: Env,
}

/// Where an account's credentials come from.
pub(crate) enum Origin {
    /// A base identity of one of the kinds.
    Base(Box<dyn Base>),
    /// A role profile: the role, assumed with the session of its `source_profile`.
    Role { request: RoleRequest, source: Box<Account> },
}

impl Account {
    /// The account `name`: from the store at `AWSENV_DIR` when it has it, else a profile of the
    /// aws CLI's files.
    pub fn open(name: &str, env: &Env) -> Result<Self> {
        if let Err(invalid) = validate_name(name) {
            return Self::open_by_kind_name(name, env)?.ok_or(invalid);
        }
        let store_dir = env.settings.store_dir()?;
        let cache = Cache::new(&store_dir);
        if let Some(store) = Store::open_optional(store_dir.clone())? {
            for kind in KINDS {
                if let Some((name, base)) = (kind.from_store)(&store, name, env)? {
                    let origin = Origin::Base(base);
                    return Ok(Self {
                        name,
                        region: None,
                        origin,
                        is_profile: false,
                        cache,
                        env: env.clone(),
                    });
                }
            }
        }
        let profiles = Profiles::load(&env.settings)?;
        let Some(profile) = profiles.get(name) else {
            let key_file = store_dir.join(format!("{name}.access_key"));
            return Err(fail(
                Exit::Config,
                format!(
                    "unknown account {name}: no {} and no such profile in {} or {} (run ec2switch to list accounts)",
                    key_file.display(),
                    env.settings.aws_config_file()?.display(),
                    env.settings.aws_credentials_file()?.display()
                ),
            ));
        };
        Self::from_profile(profile, None, &profiles, &mut Vec::new(), env)
    }

    /// An account named by a name of a kind's own (`KindInfo::from_name`), which no store file
    /// and no profile can have.
    fn open_by_kind_name(name: &str, env: &Env) -> Result<Option<Self>> {
        let profiles = Profiles::load(&env.settings)?;
        for kind in KINDS {
            if let Some(base) = (kind.from_name)(name, &profiles, env)? {
                return Self::from_base(name.to_owned(), base, env).map(Some);
            }
        }
        Ok(None)
    }

    /// An account of `base` in the store at `store_dir`, or a role profile on top of `source`.
    #[cfg(test)]
    pub fn for_tests(name: &str, origin: Origin, env: &Env) -> Self {
        let cache = Cache::new(&env.settings.store_dir().expect("a store"));
        Self { name: name.to_owned(), region: None, origin, is_profile: false, cache, env: env.clone() }
    }

    /// An account that is none of the store's files and no profile: a certificate given by flags,
    /// a role named by its sign-in.
    pub fn from_base(name: String, base: Boxed, env: &Env) -> Result<Self> {
        let cache = Cache::new(&env.settings.store_dir()?);
        Ok(Self {
            name,
            region: None,
            origin: Origin::Base(base),
            is_profile: false,
            cache,
            env: env.clone(),
        })
    }

    /// `profile`, as used by the role profile `user` when it names it as its `source_profile`.
    fn from_profile(
        profile: &Profile,
        user: Option<&Profile>,
        profiles: &Profiles,
        chain: &mut Vec<String>,
        env: &Env,
    ) -> Result<Self> {
        let file = profile.file.display().to_string();
        let bad = |what: String| fail(Exit::Config, format!("profile {} in {file}: {what}", profile.name));
        chain.push(profile.name.clone());
        if chain.len() > MAX_CHAIN || chain[..chain.len() - 1].contains(&profile.name) {
            return Err(bad(format!("source_profile loops: {}", chain.join(" -> "))));
        }
        let cache = Cache::new(&env.settings.store_dir()?);
        let region = profile.get("region").map(str::to_owned);
        let account = |region, origin| Self {
            name: profile.name.clone(),
            region,
            origin,
            is_profile: true,
            cache,
            env: env.clone(),
        };
        let Some(role_arn) = profile.get("role_arn") else {
            for kind in KINDS {
                if let Some(base) = (kind.from_profile)(profile, user, profiles, env)? {
                    return Ok(account(region, Origin::Base(base)));
                }
            }
            return Err(
                bad("it has neither aws_access_key_id and aws_secret_access_key nor role_arn".into()),
            );
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
        let source = if source_name == profile.name {
            // A profile may hold both the keys and the role: its keys are the source.
            let mut keys_only = profile.clone();
            keys_only.drop_role();
            Self::from_profile(&keys_only, Some(profile), profiles, &mut Vec::new(), env)?
        } else {
            let next = profiles
                .get(source_name)
                .ok_or_else(|| bad(format!("source_profile {source_name} does not exist")))?;
            Self::from_profile(next, Some(profile), profiles, chain, env)?
        };
        let region = region.or_else(|| source.region.clone());
        Ok(account(region, Origin::Role { request, source: Box::new(source) }))
    }

    /// The complete exports for `creds` of this account; a profile's region fills in for a shell
    /// that has none.
    pub fn exports(&self, held: &Held, creds: &Credentials) -> Result<Exports> {
        let regions = self.env.settings.regions(self.region.clone());
        Exports::new(&self.name, held, creds, self.renewable_until(), &regions)
    }

    /// Until when these credentials can be renewed with no question asked, as far as the base
    /// can tell (an SSO sign-in that refreshes). A role on a cached MFA session is not marked:
    /// that would read the cache again on `assume`'s hot path.
    fn renewable_until(&self) -> Option<Timestamp> {
        self.base().renewable_until(&self.env)
    }

    /// The profiles of the aws CLI's files this account's credentials come from: itself when it is
    /// a profile, and each `source_profile` down its chain.
    pub fn profile_chain(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let mut account = self;
        loop {
            if account.is_profile {
                names.push(account.name.as_str());
            }
            match &account.origin {
                Origin::Base(_) => return names,
                Origin::Role { source, .. } => account = source,
            }
        }
    }

    /// The account that holds the base identity: itself, or the end of its chain.
    pub fn root(&self) -> &Account {
        match &self.origin {
            Origin::Base(_) => self,
            Origin::Role { source, .. } => source.root(),
        }
    }

    /// The base identity at the root of the account's chain.
    pub fn base(&self) -> &dyn Base {
        match &self.origin {
            Origin::Base(base) => base.as_ref(),
            Origin::Role { source, .. } => source.base(),
        }
    }

    /// A role profile's own role.
    pub fn profile_role(&self) -> Option<&RoleRequest> {
        match &self.origin {
            Origin::Role { request, .. } => Some(request),
            Origin::Base(_) => None,
        }
    }

    /// How to reach AWS for this account: the shell's region, else the profile's, else us-east-1.
    pub fn connection(&self) -> Result<Connection> {
        let settings = &self.env.settings;
        let region = settings.regions(self.region.clone()).effective().to_owned();
        Ok(Connection { region, timeout: settings.timeout()?, ca_bundle: settings.ca_bundle.clone() })
    }
}

pub fn parse_role_duration(raw: Option<&str>) -> Result<i32> {
    parse_duration(raw, CHAINED_ROLE_LIMIT, ROLE_DURATION_RANGE, "role session")
}

/// A duration in seconds within `range`, `default` when none is given.
pub fn parse_duration(
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
