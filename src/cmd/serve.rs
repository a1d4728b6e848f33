use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Result;

use super::credential_process::{NO_TERMINAL_HINT, consumer_session};
use super::{Context, Run};
use crate::cli::Serve;
use crate::creds::{Credentials, Timestamp};
use crate::error::{Exit, fail};
use crate::imds::{Provider, Server};
use crate::session::{Account, Codes, Session};

/// Renew when less than this is left, so an SDK never receives credentials about to die.
const RENEW_BEFORE: i64 = 600;

impl Run for Serve {
    fn run(&self, ctx: &Context) -> Result<()> {
        let address: IpAddr = match self.bind.as_str() {
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            other => other
                .parse()
                .map_err(|_| fail(Exit::Usage, format!("--bind takes an IP address, not {other:?}")))?,
        };
        if !address.is_loopback() {
            return Err(fail(
                Exit::Usage,
                format!(
                    "awsenv serve listens on loopback addresses only, not {address}: anyone who can reach it gets the credentials"
                ),
            ));
        }
        let account = Account::open(&self.account)?;
        let account_file = ctx.cli.config.clone();
        // The first session may ask for a code on the terminal; later renewals cannot.
        let codes = Codes::new(None)?.with_hint(NO_TERMINAL_HINT);
        let first = consumer_session(
            &account,
            self.role.as_deref(),
            &codes,
            RENEW_BEFORE + 60,
            Some(60),
            account_file.as_deref(),
        )?;
        let name = match &self.role {
            Some(role) => role.rsplit('/').next().unwrap_or(role).to_owned(),
            None => account.name.clone(),
        };
        let provider = SessionProvider {
            name,
            account,
            role: self.role.clone(),
            account_file,
            current: Mutex::new((first.credentials, Timestamp::now())),
        };
        let server = Server::bind(address, self.port, self.hop_limit, provider)?;
        let port = server.port()?;
        let host = if address.is_ipv6() { format!("[{address}]") } else { address.to_string() };
        eprintln!("awsenv: serving {} on http://{host}:{port}/", self.account);
        eprintln!("awsenv: for SDKs: export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://{host}:{port}/");
        server.run()
    }
}

/// Hands out the account's session, renewed without a terminal when it gets short.
struct SessionProvider {
    name: String,
    account: Account,
    role: Option<String>,
    account_file: Option<PathBuf>,
    current: Mutex<(Credentials, Timestamp)>,
}

impl SessionProvider {
    fn renew(&self) -> Result<Session> {
        let codes = Codes::none(NO_TERMINAL_HINT);
        consumer_session(
            &self.account,
            self.role.as_deref(),
            &codes,
            RENEW_BEFORE + 60,
            Some(60),
            self.account_file.as_deref(),
        )
    }
}

impl Provider for SessionProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn document(&self) -> Option<String> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let now = Timestamp::now();
        let left = |creds: &Credentials| creds.expiration.map_or(i64::MAX, |e| e.seconds_since(now));
        if left(&current.0) <= RENEW_BEFORE {
            match self.renew() {
                Ok(session) => *current = (session.credentials, now),
                Err(error) => eprintln!(
                    "awsenv: could not renew the session of {}: {}",
                    self.account.name,
                    crate::error::one_line(&error)
                ),
            }
        }
        let (creds, updated) = &*current;
        // Never expired or empty credentials: 503 tells the SDK to try again later.
        if left(creds) <= 0 {
            return None;
        }
        let text = |s: &crate::creds::Secret| String::from_utf8_lossy(s.expose()).into_owned();
        let document = serde_json::json!({
            "Code": "Success",
            "LastUpdated": updated.rfc3339(),
            "Type": "AWS-HMAC",
            "AccessKeyId": text(&creds.access_key_id),
            "SecretAccessKey": text(&creds.secret_access_key),
            "Token": creds.session_token.as_ref().map(text).unwrap_or_default(),
            "Expiration": creds.expiration.map(|t| t.rfc3339()).unwrap_or_default(),
        });
        Some(document.to_string())
    }
}
