//! Account kinds: where an account's base credentials come from. Each kind is one file with an
//! implementation of `Base` and a `KindInfo`, listed once in `KINDS`. Everything else (the locked
//! cache, roles on top, exports, the prompt, renewal, `credential-process`, `serve`) is the
//! broker's (`broker.rs`), which never asks which kind it has.

use std::path::PathBuf;

use anyhow::Result;

use crate::aws::Connection;
use crate::codes::{Codes, Device, SentCodes};
use crate::config::Settings;
use crate::creds::{Clock, Credentials, Timestamp};
use crate::profile::{Profile, Profiles};
use crate::store::Store;

pub mod keys;
mod mfa_device;
pub mod sso;
pub mod x509;

/// Every kind of account, in the order an account is recognised. Adding a kind is a file in this
/// directory and one line here.
pub const KINDS: &[&KindInfo] = &[&keys::KIND, &x509::KIND, &sso::KIND];

/// What awsenv knows about a kind before it has an account of it.
pub struct KindInfo {
    /// `AWSENV_SESSION`'s value for the kind's base sessions, and their cache slot (`NAME.mfa.json`):
    /// lowercase letters only, never `keys` or `role`.
    pub name: &'static str,
    /// Added to the account's name in `MY_AWS_SET_FOR` for a base session (the seed's `-MFA-STS`).
    pub label_suffix: &'static str,
    /// What people call the base session, for messages: `MFA session`.
    pub session_noun: &'static str,
    /// The store file that defines an account of this kind (`NAME.access_key`), if any.
    pub store_suffix: Option<&'static str>,
    /// The account `name` of the store, when the store defines it as this kind: its name as the
    /// store spells it, and the account.
    pub from_store: fn(&Store, &str, &Env) -> Result<Option<Named>>,
    /// A profile of the aws CLI's files, when it is this kind. `user` is the role profile that
    /// names it as its `source_profile`, whose settings may complete it (an `mfa_serial`).
    pub from_profile: FromProfile,
    /// An account by a name of the kind's own, neither the store's nor a profile's (SSO's
    /// `SESSION/ACCOUNT_ID/ROLE`); `None` when `name` is not such a name.
    pub from_name: fn(&str, &Profiles, &Env) -> Result<Option<Boxed>>,
    /// The kind's own names known without a network call (`awsenv accounts`), each with the
    /// file that lists it.
    pub known_names: fn(&Settings) -> Result<Vec<KnownName>>,
}

/// A kind's own account name, and the file that lists it.
pub type KnownName = (String, PathBuf);
/// An account found in the store: its name as the store spells it, and the account.
pub type Named = (String, Boxed);
pub type Boxed = Box<dyn Base>;
/// `KindInfo::from_profile`: the profile, the role profile using it, all profiles, the settings.
pub type FromProfile = fn(&Profile, Option<&Profile>, &Profiles, &Env) -> Result<Option<Boxed>>;

/// `KindInfo::from_name` and `known_names` for a kind whose accounts all have store or profile
/// names.
pub fn no_own_name(_: &str, _: &Profiles, _: &Env) -> Result<Option<Boxed>> {
    Ok(None)
}

pub fn no_known_names(_: &Settings) -> Result<Vec<KnownName>> {
    Ok(Vec::new())
}

/// The store's file suffixes that define accounts, one per kind that has one.
pub fn store_suffixes() -> Vec<&'static str> {
    KINDS.iter().filter_map(|kind| kind.store_suffix).collect()
}

/// The kind named `name` (from `AWSENV_SESSION` or a cache file).
pub fn by_name(name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().copied().find(|kind| kind.name == name)
}

/// What kinds and the broker read from the command's context: settings and the clock.
#[derive(Clone)]
pub struct Env {
    pub settings: Settings,
    pub clock: Clock,
}

/// One account's base identity, as the broker uses it.
pub trait Base: Send + Sync {
    fn info(&self) -> &'static KindInfo;

    /// What a cached session must have been made from (for long-term keys, the access key id): a
    /// session made from anything else is never used.
    fn fingerprint(&self) -> Result<String>;

    /// Credentials the account holds without a session (long-term keys), used as they are when
    /// no session is cached; `None` when every use needs a session (a certificate, a sign-in).
    fn standing(&self) -> Option<&Credentials>;

    /// The lifetime of a new base session, given what the user asked for (`AWSENV_DURATION`,
    /// `--duration`); a kind with a lifetime of its own returns that.
    fn lifetime(&self, asked: i32) -> i32 {
        asked
    }

    /// Makes a new base session. The broker calls it holding the account's lock, after it read
    /// the cache again, so any number of callers make one call. It may ask the user (a code);
    /// when it cannot, it fails with `Exit::MfaCode`.
    fn issue(&self, request: &Issue) -> Result<Issued>;

    /// The role-session name when the user gives none.
    fn session_name(&self, env: &Env) -> String;

    /// `arn:PARTITION:iam::ACCOUNT:`, to complete a bare role name, when the kind can tell.
    fn arn_prefix(&self, env: &Env) -> Result<Option<String>>;

    /// How AssumeRole is signed for a role on top of this account.
    fn role_signing(&self, env: &Env) -> Result<RoleSigning>;

    /// Until when new base sessions come with no question asked (no code, no browser), as far as
    /// awsenv can tell now: an SSO sign-in's refresh limit. `None`: a new one may ask the user.
    fn renewable_until(&self, _env: &Env) -> Option<Timestamp> {
        None
    }

    /// The long-term keys behind the account, for the commands about them (`provision-mfa`).
    fn long_term_keys(&self) -> Option<&keys::LongTermKeys> {
        None
    }
}

/// What `Base::issue` gets.
pub struct Issue<'a> {
    pub env: &'a Env,
    pub codes: &'a Codes,
    pub sent: &'a SentCodes,
    pub connection: &'a Connection,
    /// What the user asked for; see `Base::lifetime`.
    pub duration: i32,
}

/// A new base session, and what else made it (for the cache file's readers).
pub struct Issued {
    pub credentials: Credentials,
    pub made_with: Option<String>,
}

/// How AssumeRole is signed on top of an account.
pub struct RoleSigning {
    /// A role within AWS's one-hour limit for chained roles is signed with the base session;
    /// `false` signs it with the standing credentials as they are.
    pub with_base_session: bool,
    /// For a longer role: credentials that may sign AssumeRole themselves, and the MFA device
    /// whose code goes with them. `None`: only chained roles, one hour at most.
    pub direct: Option<(Credentials, Option<Device>)>,
}

/// Which credentials a shell holds, as `AWSENV_SESSION` names them.
#[derive(Clone)]
pub enum Held {
    /// Standing credentials (long-term keys): `keys`.
    Standing,
    /// A base session of one of the kinds: its name (`mfa`).
    Base(&'static KindInfo),
    /// A role session, with the role's ARN: `role`.
    Role(String),
}

impl Held {
    /// `AWSENV_SESSION` and `AWSENV_ROLE` read back; `None` for values no version of awsenv sets.
    pub fn parse(session: &str, role_arn: Option<&str>) -> Option<Self> {
        match (session, role_arn) {
            ("keys", _) => Some(Self::Standing),
            ("role", Some(arn)) => Some(Self::Role(arn.to_owned())),
            ("role", None) => None,
            (name, _) => by_name(name).map(Self::Base),
        }
    }

    /// `AWSENV_SESSION`'s value.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Standing => "keys",
            Self::Base(kind) => kind.name,
            Self::Role(_) => "role",
        }
    }

    /// The seed's label, `work` or `work-MFA-STS`, and `work/Admin` for a role.
    pub fn label(&self, account: &str) -> String {
        match self {
            Self::Standing => account.to_owned(),
            Self::Base(kind) => format!("{account}{}", kind.label_suffix),
            Self::Role(arn) => format!("{account}/{}", arn.rsplit('/').next().unwrap_or(arn)),
        }
    }

    /// A role session, named by the role it was made for.
    pub fn role_of(session: &crate::cache::Session) -> Self {
        Self::Role(session.role.as_ref().map(|spec| spec.role_arn.clone()).unwrap_or_default())
    }

    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Self::Role(arn) => Some(arn),
            _ => None,
        }
    }
}
