use anyhow::Result;
use serde::Serialize;

use super::{Context, NO_TERMINAL_HINT, Run, print};
use crate::cli::CredentialProcess;
use crate::codes::Codes;
use crate::creds::{Credentials, parse_human_duration};
use crate::error::{Exit, fail};

/// The Version 1 document of the `credential_process` protocol, fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
}

impl Run for CredentialProcess {
    fn run(&self, ctx: &Context) -> Result<()> {
        let min_ttl = parse_human_duration(&self.min_ttl).ok_or_else(|| {
            fail(Exit::Usage, format!("--min-ttl takes a duration like 15m, not {:?}", self.min_ttl))
        })?;
        // An account name, or aws_signing_helper's certificate flags: the same cache either way.
        let account = ctx.open_or_flags(self.account.as_deref(), &self.certificate)?;
        let codes = Codes::new(None, ctx.settings())?.with_hint(NO_TERMINAL_HINT);
        let session = account.consumer_session(self.role.as_deref(), &codes, min_ttl, true)?;
        print(&process_json(&session.credentials)?)
    }
}

fn process_json(creds: &Credentials) -> Result<Vec<u8>> {
    let token = creds.session_token.as_ref().ok_or_else(|| fail(Exit::Failure, "a session has a token"))?;
    let document = ProcessCredentials {
        version: 1,
        access_key_id: creds.access_key_id.as_str("the access key id")?,
        secret_access_key: creds.secret_access_key.as_str("the secret key")?,
        session_token: token.as_str("the session token")?,
        expiration: creds.expiration.map(|t| t.rfc3339()).unwrap_or_default(),
    };
    let mut out = serde_json::to_vec(&document)?;
    out.push(b'\n');
    Ok(out)
}
