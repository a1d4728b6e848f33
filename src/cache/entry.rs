//! What a cache file holds, and how it is read back.

use serde::{Deserialize, Serialize};

use super::{RoleSpec, Session};
use crate::creds::{Credentials, Secret, Timestamp};
use crate::files;

/// Version 1 is the layout of the first kind, long-term keys with an MFA code (`mfa`), kept
/// byte for byte so that any version of awsenv reads the other's files. Version 2 is every other
/// kind's: it names the kind and a generic fingerprint.
pub const MFA_KIND: &str = "mfa";

/// What one cache file holds. Not `Debug`: it carries secrets in plain strings.
#[derive(Serialize, Deserialize)]
pub struct Entry {
    pub(super) version: u32,
    pub(super) account: String,
    /// Version 2: the kind of the base session at the root (`x509`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<String>,
    pub(super) access_key_id: String,
    pub(super) secret_access_key: String,
    pub(super) session_token: String,
    pub(super) expiration: String,
    /// Version 1: the long-term key the session was made with (a rotated key retires it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) source_access_key_id: Option<String>,
    /// Version 2: what the session was made from; a session whose origin changed is never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fingerprint: Option<String>,
    /// Version 1: the MFA device whose code made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) mfa_serial: Option<String>,
    /// Version 2: what else made it, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) made_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<RoleSpec>,
}

pub fn parse(text: &[u8]) -> std::result::Result<Entry, String> {
    let entry: Entry = serde_json::from_slice(files::strip_bom(text))
        .map_err(|e| format!("it {}", files::json_error(&e)))?;
    let complete = match entry.version {
        1 => entry.kind.is_none() && entry.source_access_key_id.is_some() && entry.fingerprint.is_none(),
        2 => entry.kind.as_deref().is_some_and(|k| k != MFA_KIND) && entry.fingerprint.is_some(),
        version => return Err(format!("unknown version {version}")),
    };
    if !complete {
        return Err(format!("it is not a version {} entry", entry.version));
    }
    Timestamp::parse_rfc3339(&entry.expiration)
        .map_err(|_| "its expiration is not an RFC 3339 time".to_owned())?;
    if entry.access_key_id.is_empty() || entry.secret_access_key.is_empty() || entry.session_token.is_empty()
    {
        return Err("a credential is empty".to_owned());
    }
    Ok(entry)
}

impl Entry {
    pub(super) fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or(MFA_KIND)
    }

    pub(super) fn fingerprint(&self) -> &str {
        self.fingerprint.as_deref().or(self.source_access_key_id.as_deref()).unwrap_or_default()
    }

    pub(super) fn session(self) -> Session {
        let kind = self.kind().to_owned();
        let fingerprint = self.fingerprint().to_owned();
        Session {
            credentials: Credentials {
                access_key_id: Secret::new(self.access_key_id),
                secret_access_key: Secret::new(self.secret_access_key),
                session_token: Some(Secret::new(self.session_token)),
                // `parse` has checked it.
                expiration: Timestamp::parse_rfc3339(&self.expiration).ok(),
            },
            kind,
            fingerprint,
            made_with: self.made_with.or(self.mfa_serial),
            role: self.role,
        }
    }
}
