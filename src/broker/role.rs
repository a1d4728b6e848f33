//! Roles on top of any account: the role's ARN and session name, what signs AssumeRole, and the
//! cached role sessions.

use anyhow::Result;

use super::{SIGNER_MIN_TTL, Session, Want, check_lifetime};
use crate::account::{Account, CHAINED_ROLE_LIMIT, Origin, RoleRequest};
use crate::aws::{self, AssumeRoleInput};
use crate::cache::{RoleSpec, Slot};
use crate::codes::Device;
use crate::creds::{Credentials, human_duration};
use crate::error::{Exit, fail};
use crate::kinds::RoleSigning;

/// What signs an AssumeRole call.
pub(super) enum Signer {
    /// Credentials already in hand: another account's session, or standing credentials.
    Ready(Credentials),
    /// This account's base session, made under its lock if needed.
    OwnBase,
    /// Standing credentials with a code, for a role longer than chaining allows.
    Direct(Credentials, Device),
}

impl Account {
    /// The cached session of a role profile, if it has `min_ttl` left now.
    pub fn cached_profile_role(&self, min_ttl: i64) -> Result<Option<Session>> {
        let Some(request) = self.profile_role() else {
            return Ok(None);
        };
        let spec = self.role_spec(request)?;
        let valid_at = self.env.clock.now().plus(min_ttl);
        self.cache.read(&self.name, Slot::Role(&spec), &self.base().fingerprint()?, valid_at)
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

    /// The role's ARN: the request's own when it is one, else in this account, as its kind tells.
    fn role_arn(&self, role: &str) -> Result<String> {
        validate_role(role)?;
        if role.starts_with("arn:") {
            return Ok(role.to_owned());
        }
        let prefix = self.base().arn_prefix(&self.env)?.ok_or_else(|| {
            fail(
                Exit::Usage,
                format!("cannot tell which AWS account {} is in: give the role as a full ARN", self.name),
            )
        })?;
        Ok(format!("{prefix}role/{role}"))
    }

    pub(super) fn role_spec(&self, request: &RoleRequest) -> Result<RoleSpec> {
        let session_name = match &request.session_name {
            Some(name) => name.clone(),
            None => self.base().session_name(&self.env),
        };
        Ok(RoleSpec {
            role_arn: self.role_arn(&request.role)?,
            session_name,
            external_id: request.external_id.clone(),
            duration_seconds: request.duration_seconds,
        })
    }

    /// A role session with `want.min_ttl` left: the cached one, else AssumeRole signed with the
    /// account's own session (for keys, the cached MFA session, made first if needed: one code
    /// for any number of roles), or, for more than AWS allows a chained role, with the long-term
    /// keys and a code.
    pub fn role_session(&self, request: &RoleRequest, want: &Want) -> Result<Session> {
        let spec = self.role_spec(request)?;
        let slot = Slot::Role(&spec);
        let fingerprint = self.base().fingerprint()?;
        let clock = self.env.clock;
        let valid_at = || clock.now().plus(want.min_ttl);
        if let Some(session) = self.cache.read(&self.name, slot, &fingerprint, valid_at())? {
            return Ok(session);
        }
        check_lifetime(want.min_ttl, spec.duration_seconds, "role session")?;
        let signer_want = Want { min_ttl: SIGNER_MIN_TTL, ..*want };
        // A signer with its own lock (another account's session) is got before this account's
        // lock is taken, so that no process ever waits on a lock it holds.
        let signer = self.plan_signer(request, &spec, &signer_want)?;
        let lock = self.cache.lock(&self.name)?;
        if let Some(session) = self.cache.read(&self.name, slot, &fingerprint, valid_at())? {
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
        let serial;
        let sent = self.sent_codes();
        let (credentials, made_with) = match signer {
            Signer::Ready(credentials) => (credentials, None),
            Signer::OwnBase => {
                let session = self.base_session_locked(&lock, &signer_want)?.0;
                (session.credentials, session.made_with)
            }
            Signer::Direct(credentials, device) => {
                code = want.codes.get(&device, &sent, clock)?;
                serial = device.serial;
                input.mfa = Some((&serial, &code));
                (credentials, Some(serial.clone()))
            }
        };
        let sending = match input.mfa {
            Some((serial, code)) => Some(sent.record(serial, code, clock.now())?),
            None => None,
        };
        let result = aws::assume_role(&self.connection()?, &credentials, &input);
        if let Some(sending) = sending {
            sending.settle(&result);
        }
        let credentials = result.map_err(|e| e.context(format!("account {}", self.name)))?;
        let session = Session {
            credentials,
            kind: self.base().info().name.to_owned(),
            fingerprint,
            made_with,
            role: Some(spec),
        };
        self.cache.write(&lock, &self.name, &session)?;
        Ok(session)
    }

    /// What signs the AssumeRole call for `request`: for a role profile's own role, the session
    /// of its source; else this account's base session for a role AWS lets a session assume
    /// (one hour at most), else its standing credentials (with a code where the kind has one).
    pub(super) fn plan_signer(
        &self,
        request: &RoleRequest,
        spec: &RoleSpec,
        signer_want: &Want,
    ) -> Result<Signer> {
        let chained = spec.duration_seconds <= CHAINED_ROLE_LIMIT;
        let is_profile_role = self.profile_role().is_some_and(|own| own.role == request.role);
        let signer_account = match &self.origin {
            Origin::Role { source, .. } if is_profile_role => source.as_ref(),
            _ => self,
        };
        let limited = |by: &str| {
            fail(
                Exit::Usage,
                format!(
                    "{} is assumed with {by}, which AWS limits to 1 hour; ask for 3600 seconds or less",
                    spec.role_arn
                ),
            )
        };
        let base = match &signer_account.origin {
            Origin::Role { .. } if !chained => return Err(limited("another role's session")),
            Origin::Role { .. } => {
                return Ok(Signer::Ready(signer_account.session(signer_want)?.0.credentials));
            }
            Origin::Base(base) => base,
        };
        let signing = match base.role_signing(&self.env) {
            Ok(signing) => signing,
            // Without a device in the account file a full role ARN is assumed with the keys alone.
            Err(_) if request.role.starts_with("arn:") && base.standing().is_some() => RoleSigning {
                with_base_session: false,
                direct: base.standing().map(|standing| (standing.clone(), None)),
            },
            Err(e) => return Err(e),
        };
        if chained && signing.with_base_session {
            if std::ptr::eq(signer_account, self) {
                return Ok(Signer::OwnBase);
            }
            return Ok(Signer::Ready(signer_account.base_session(signer_want)?.0.credentials));
        }
        match signing.direct {
            Some((credentials, Some(device))) if !chained => {
                eprintln!(
                    "awsenv: a role assumed with an MFA session lasts at most 1 hour; assuming {} for {} \
                     with the long-term keys of {} instead, which needs an MFA code",
                    spec.role_arn,
                    human_duration(spec.duration_seconds.into()),
                    signer_account.root().name
                );
                Ok(Signer::Direct(credentials, device))
            }
            Some((credentials, _)) => Ok(Signer::Ready(credentials)),
            None => Err(limited(&format!("a {}", base.info().session_noun))),
        }
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
            printable
                && resource.starts_with("role/")
                && name_ok(resource.rsplit('/').next().unwrap_or(resource))
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
