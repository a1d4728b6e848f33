use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::{Context, Run, print};
use crate::aws::Connection;
use crate::aws::rolesanywhere;
use crate::cli::CredentialProcess;
use crate::config;
use crate::creds::{Credentials, parse_human_duration};
use crate::error::{Exit, debug, fail};
use crate::session::{Account, Codes, RoleRequest, Session, Want, parse_role_duration};
use crate::x509::CertificateSource;

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

/// Hint for SDKs and IDEs that run awsenv with no terminal.
pub(super) const NO_TERMINAL_HINT: &str =
    "run ec2mfa (or awsenv mfa ACCOUNT) in a terminal first, or set AWSENV_MFA_CODE or AWSENV_MFA_COMMAND";

impl Run for CredentialProcess {
    fn run(&self, ctx: &Context) -> Result<()> {
        let min_ttl = parse_human_duration(&self.min_ttl).ok_or_else(|| {
            fail(Exit::Usage, format!("--min-ttl takes a duration like 15m, not {:?}", self.min_ttl))
        })?;
        if self.certificate.certificate.is_some() {
            let source = CertificateSource::from_flags(&self.certificate)?;
            return certificate_session(&source, self.role.as_deref());
        }
        let name = self.account.as_deref().ok_or_else(|| fail(Exit::Usage, "an account name is needed"))?;
        // TODO(broker): certificate accounts become an account kind of the broker.
        if let Some(store_file) = certificate_account(name)? {
            return certificate_session(
                &CertificateSource::from_store_file(&store_file)?,
                self.role.as_deref(),
            );
        }
        let account = Account::open(name)?;
        let codes = Codes::new(None)?.with_hint(NO_TERMINAL_HINT);
        let account_file = ctx.account_file.as_deref();
        let session =
            consumer_session(&account, self.role.as_deref(), &codes, min_ttl, Some(60), account_file)?;
        print(&process_json(&session.credentials)?)
    }
}

/// aws_signing_helper's `credential-process`: a CreateSession with the certificate flags.
// TODO(broker): this calls IAM Roles Anywhere every time; the broker's certificate account kind
// will take it from the locked cache (one CreateSession for any number of callers) instead.
fn certificate_session(source: &CertificateSource, role: Option<&str>) -> Result<()> {
    if role.is_some() {
        return Err(fail(
            Exit::Usage,
            "--role cannot be used with a certificate account yet (its role is --role-arn)",
        ));
    }
    source.check()?;
    debug!("certificate account {}", source.fingerprint()?);
    let connection = Connection {
        region: source.region()?,
        timeout: config::aws_timeout()?,
        ca_bundle: config::ca_bundle(),
    };
    let creds = rolesanywhere::create_session(source, &connection)?;
    print(&process_json(&creds)?)
}

/// `STORE/NAME.x509` when the account is a certificate account.
fn certificate_account(name: &str) -> Result<Option<std::path::PathBuf>> {
    if crate::store::validate_name(name).is_err() {
        return Ok(None);
    }
    let path = config::store_dir()?.join(format!("{name}.x509"));
    Ok(path.exists().then_some(path))
}

/// The session a non-shell consumer gets: the role's with `--role`, else the account's own (MFA
/// session, or a role profile's role). With `fallback_ttl`, a renewal that would need a code
/// nobody can give falls back to the cached session while it has that long left.
pub(super) fn consumer_session(
    account: &Account,
    role: Option<&str>,
    codes: &Codes,
    min_ttl: i64,
    fallback_ttl: Option<i64>,
    account_file: Option<&Path>,
) -> Result<Session> {
    let want = Want { min_ttl, fallback_ttl, ..Want::new(codes, account_file)? };
    match role {
        Some(role) => {
            let request = RoleRequest::named(role, parse_role_duration(None)?);
            let want = Want { min_ttl: min_ttl.min(i64::from(request.duration_seconds) / 2), ..want };
            account.role_session(&request, &want)
        }
        None => Ok(account.session(&want)?.0),
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
