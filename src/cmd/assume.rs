use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::{Context, ExportsTo, Run, print, say_keys_set};
use crate::account::parse_role_duration;
use crate::broker::{RoleRequest, Want, min_ttl};
use crate::cli::{Assume, Format, Shell};
use crate::codes::Codes;
use crate::error::{Exit, fail};
use crate::kinds::Held;

impl Run for Assume {
    fn run(&self, ctx: &Context) -> Result<()> {
        if let Some(name) = &self.session_name {
            validate_session_name(name)?;
        }
        let request = RoleRequest {
            role: self.role.clone(),
            duration_seconds: parse_role_duration(self.duration.as_deref())?,
            session_name: self.session_name.clone(),
            external_id: self.external_id.clone(),
        };
        let settings = ctx.settings();
        let min_ttl = min_ttl(self.min_ttl.as_deref(), settings, request.duration_seconds)?;
        let codes = Codes::new(self.code.clone(), settings)?;
        let want = Want { min_ttl, ..Want::new(&codes, settings)? };
        let account = ctx.open(&self.account)?;
        let session = account.role_session(&request, &want)?;
        let role_arn = session.role.map(|spec| spec.role_arn).context("a role session names its role")?;
        let creds = session.credentials;
        let out = match self.format {
            Format::Json => {
                let text = |s: &crate::creds::Secret| String::from_utf8_lossy(s.expose()).into_owned();
                // The keys and layout generate-sts-role-token printed: sorted, four-space indent.
                let document = BTreeMap::from([
                    ("access_key", text(&creds.access_key_id)),
                    ("expiration", creds.expiration.map(|t| t.rfc3339()).unwrap_or_default()),
                    ("secret_key", text(&creds.secret_access_key)),
                    ("session_token", creds.session_token.as_ref().map(text).unwrap_or_default()),
                ]);
                let mut out = Vec::new();
                let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                document.serialize(&mut serde_json::Serializer::with_formatter(&mut out, formatter))?;
                out.push(b'\n');
                out
            }
            Format::Bash | Format::Fish => {
                let shell = if self.format == Format::Fish { Shell::Fish } else { Shell::Bash };
                let to = ExportsTo { shell, only_changes: self.only_changes };
                to.render(ctx, &account.exports(&Held::Role(role_arn.clone()), &creds)?)
            }
        };
        print(&out)?;
        if self.format != Format::Json {
            say_keys_set(&Held::Role(role_arn).label(&account.name));
        }
        Ok(())
    }
}

fn validate_session_name(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (2..=64).contains(&name.len()) && name.chars().all(allowed) {
        return Ok(());
    }
    Err(fail(
        Exit::Usage,
        format!("invalid role session name {name:?}: 2 to 64 of letters, digits and +=,.@_-"),
    ))
}
