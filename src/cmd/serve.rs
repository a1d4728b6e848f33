use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Context, NO_TERMINAL_HINT, Run};
use crate::account::Account;
use crate::broker::Session;
use crate::cli::Serve;
use crate::codes::Codes;
use crate::creds::{Clock, Credentials, Timestamp};
use crate::error::{Exit, fail, one_line};
use crate::imds::{Provider, Server};

/// Renew when less than this is left, so an SDK never receives credentials about to die.
const RENEW_BEFORE: i64 = 600;
/// After a failed renewal, try again this much later (or sooner when a client asks).
const RETRY_AFTER: Duration = Duration::from_secs(30);

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
        let account = ctx.open_or_flags(self.account.as_deref(), &self.certificate)?;
        let account_name = account.name.clone();
        let codes = Codes::none(NO_TERMINAL_HINT, ctx.settings());
        let renewer = Renewer { account, role: self.role.clone(), codes, clock: ctx.clock };
        // The first session may ask for a code on the terminal; later renewals cannot.
        let first = renewer.session(&Codes::new(None, ctx.settings())?.with_hint(NO_TERMINAL_HINT))?;
        let name = match &self.role {
            Some(role) => role.rsplit('/').next().unwrap_or(role).to_owned(),
            None => renewer.account.name.clone(),
        };
        let shared =
            Arc::new(Shared { current: Mutex::new((first.credentials, ctx.now)), wake: Condvar::new() });
        let server = Server::bind(
            address,
            self.port,
            self.hop_limit,
            SessionProvider { name, shared: Arc::clone(&shared), clock: ctx.clock },
        )?;
        let port = server.port()?;
        std::thread::spawn(move || renewer.run(&shared));
        let host = if address.is_ipv6() { format!("[{address}]") } else { address.to_string() };
        eprintln!("awsenv: serving {account_name} on http://{host}:{port}/");
        eprintln!("awsenv: for SDKs: export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://{host}:{port}/");
        server.run()
    }
}

/// The credentials being served and when they were fetched, shared by the endpoint (which only
/// reads them) and the renewer (which replaces them).
struct Shared {
    current: Mutex<(Credentials, Timestamp)>,
    /// Wakes the renewer early: a client saw credentials close to their end.
    wake: Condvar,
}

fn seconds_left(creds: &Credentials, now: Timestamp) -> i64 {
    creds.expiration.map_or(i64::MAX, |e| e.seconds_since(now))
}

/// Renews the session in the background, without a terminal, before it gets short. It may wait on
/// the account's lock (another shell asking for a code) while the endpoint goes on answering.
struct Renewer {
    account: Account,
    role: Option<String>,
    /// No terminal: only a code command can give a code.
    codes: Codes,
    clock: Clock,
}

impl Renewer {
    fn session(&self, codes: &Codes) -> Result<Session> {
        self.account.consumer_session(self.role.as_deref(), codes, RENEW_BEFORE + 60, true)
    }

    fn run(self, shared: &Shared) {
        // Tries are spaced out: a renewal that fails, or that only found the same session (no code
        // to make a new one), is tried again after RETRY_AFTER, however often clients ask.
        let mut not_before = Instant::now();
        loop {
            let left = {
                let current = shared.current.lock().unwrap_or_else(|e| e.into_inner());
                seconds_left(&current.0, self.clock.now())
            };
            let now = Instant::now();
            if left > RENEW_BEFORE || now < not_before {
                let wait = match left > RENEW_BEFORE {
                    true => Duration::from_secs((left - RENEW_BEFORE).unsigned_abs()),
                    false => not_before - now,
                };
                let current = shared.current.lock().unwrap_or_else(|e| e.into_inner());
                drop(shared.wake.wait_timeout(current, wait).unwrap_or_else(|e| e.into_inner()));
                continue;
            }
            match self.session(&self.codes) {
                Ok(session) => {
                    if seconds_left(&session.credentials, self.clock.now()) <= RENEW_BEFORE {
                        not_before = now + RETRY_AFTER;
                    }
                    let mut current = shared.current.lock().unwrap_or_else(|e| e.into_inner());
                    *current = (session.credentials, self.clock.now());
                }
                Err(error) => {
                    eprintln!(
                        "awsenv: could not renew the session of {}: {}",
                        self.account.name,
                        one_line(&error)
                    );
                    not_before = now + RETRY_AFTER;
                }
            }
        }
    }
}

/// Hands out the current session from memory; never waits on AWS or a lock.
struct SessionProvider {
    name: String,
    shared: Arc<Shared>,
    clock: Clock,
}

impl Provider for SessionProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn document(&self) -> Option<String> {
        let current = self.shared.current.lock().unwrap_or_else(|e| e.into_inner());
        let (creds, updated) = &*current;
        let left = seconds_left(creds, self.clock.now());
        if left <= RENEW_BEFORE {
            self.shared.wake.notify_one();
        }
        // Never expired or empty credentials: 503 tells the SDK to try again later.
        if left <= 0 {
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
