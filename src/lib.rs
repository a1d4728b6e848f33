//! awsenv as a library: the binary's `main` calls `run`; the fuzz targets (under `fuzz/`) reach the
//! parsers and renderers that see outside input through `fuzzing`. Nothing else is public.

mod account;
mod accounts;
mod aws;
mod broker;
mod cache;
mod cli;
mod cmd;
mod codes;
mod config;
mod creds;
mod doctor;
mod error;
mod files;
mod imds;
mod ini;
mod keycache;
mod keymap;
mod kinds;
mod lease;
mod profile;
mod qr;
mod shared;
mod shell;
mod sshagent;
mod sso;
mod store;
mod timing;
mod tty;
mod x509;

use std::ffi::OsString;

/// The version and the commit it was built from, as `--version` and `awsenv version` print it.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AWSENV_COMMIT"), ")");

/// Runs awsenv with `args` (the program name first) and returns its exit status. Every error ends
/// here as one line on stderr.
pub fn run(args: Vec<OsString>) -> u8 {
    let started = std::time::Instant::now();
    let cli = match cli::Cli::parse_fast(&args).map_or_else(|| cli::Cli::parse_args(&args), Ok) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let mut dispatched = started;
    // doctor reports a malformed AWSENV_DEBUG with everything else instead of stopping at it.
    let doctor = matches!(cli.command, cli::Command::Doctor(_));
    #[allow(clippy::disallowed_methods, reason = "main's one read of AWSENV_DEBUG, before any command")]
    let result = config::debug().or_else(|e| if doctor { Ok(false) } else { Err(e) }).and_then(|debug| {
        error::enable_debug(cli.debug || debug);
        dispatched = std::time::Instant::now();
        cmd::run(&cli)
    });
    let exit = match result {
        Ok(()) => 0,
        Err(error) => {
            let message = error::one_line(&error);
            if !message.is_empty() {
                eprintln!("awsenv: {message}");
            }
            error::exit_code(&error) as u8
        }
    };
    error::debug!("{}", timing::summary(started, dispatched));
    exit
}

/// The parsers and renderers that see outside input, for the fuzz targets. Not an API: errors
/// come back as their one-line messages, so that a target can check what a user would see.
#[doc(hidden)]
pub mod fuzzing {
    use std::net::SocketAddr;
    use std::path::Path;

    pub use crate::cache::{bounded_name, file_key};
    pub use crate::cli::Shell;
    pub use crate::config::parse_flag;
    pub use crate::creds::{MAX_DURATION, human_duration, parse_human_duration, prompt_lifetime};
    pub use crate::files::strip_bom;
    pub use crate::imds::{HeadScan, Provider};
    pub use crate::ini::{Section, set_in_section};
    pub use crate::shell::quote;
    pub use crate::store::{parse_arn_prefix, validate_name};
    pub use hyper::{Method, Request, StatusCode};

    use crate::config::{CurrentSession, RegionVars};
    use crate::creds::{Credentials, Secret, Timestamp};
    use crate::kinds::Held;
    use crate::shell::Exports;

    fn message(error: &anyhow::Error) -> String {
        crate::error::one_line(error)
    }

    /// An INI file's sections, as `~/.aws/config` and `~/.aws/credentials` are read.
    pub fn ini_parse(text: &str) -> Result<Vec<Section>, String> {
        crate::ini::parse(text, Path::new("config")).map_err(|e| message(&e))
    }

    /// The ARN prefix the account file gives `name`, as `assume` reads it.
    pub fn account_file(text: &str, name: &str) -> Result<Option<String>, String> {
        let file =
            crate::store::AccountFile::parse(Path::new("accounts.json"), text).map_err(|e| message(&e))?;
        file.arn_prefix(name).map_err(|e| message(&e))
    }

    /// A cache entry read and written back: its JSON as awsenv would write it.
    pub fn cache_entry(bytes: &[u8]) -> Result<Vec<u8>, String> {
        let entry = crate::cache::parse(bytes)?;
        serde_json::to_vec(&entry).map_err(|e| e.to_string())
    }

    /// A time as cache entries and STS answers carry it, as seconds since the epoch.
    pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
        Timestamp::parse_rfc3339(text).map(|t| t.0).map_err(|e| message(&e))
    }

    /// Seconds since the epoch as awsenv writes them (`AWS_CREDENTIAL_EXPIRATION`, cache entries).
    pub fn rfc3339(seconds: i64) -> String {
        Timestamp(seconds).rfc3339()
    }

    pub fn mfa_duration(raw: Option<&str>) -> Result<i32, String> {
        crate::broker::parse_base_duration(raw).map_err(|e| message(&e))
    }

    pub fn role_duration(raw: Option<&str>) -> Result<i32, String> {
        crate::account::parse_role_duration(raw).map_err(|e| message(&e))
    }

    /// Whether `role` is accepted as a role name or ARN (`assume ROLE`, a profile's `role_arn`).
    pub fn validate_role(role: &str) -> Result<(), String> {
        crate::broker::validate_role(role).map_err(|e| message(&e))
    }

    /// The prompt segment for a shell whose awsenv variables hold these values.
    pub fn prompt_segment(
        account: &str,
        kind: &str,
        role_arn: Option<&str>,
        expires: Option<i64>,
        now: i64,
        shell: Shell,
    ) -> String {
        let current = CurrentSession {
            account: account.to_owned(),
            kind: kind.to_owned(),
            role_arn: role_arn.map(str::to_owned),
            expires,
            renewable: None,
        };
        let label = crate::cmd::prompt::label(&current);
        let lifetime = crate::cmd::prompt::Lifetime { expires: expires.map(Timestamp), renewable: false };
        crate::cmd::prompt::segment(&label, &lifetime, Timestamp(now), true, shell)
    }

    /// The values an export sets, and the lines for bash, zsh and fish.
    pub struct RenderedExports {
        /// Each variable and its value (`None`: unset).
        pub values: Vec<(&'static str, Option<Vec<u8>>)>,
        pub bash: Vec<u8>,
        pub zsh: Vec<u8>,
        pub fish: Vec<u8>,
    }

    /// The exports of a session with these values; an error where a value cannot be exported.
    pub fn exports(
        account: &str,
        role_arn: Option<&str>,
        access_key_id: &[u8],
        secret_access_key: &[u8],
        session_token: Option<&[u8]>,
        expiration: Option<i64>,
        region: Option<&str>,
    ) -> Result<RenderedExports, String> {
        let creds = Credentials {
            access_key_id: Secret::new(access_key_id),
            secret_access_key: Secret::new(secret_access_key),
            session_token: session_token.map(Secret::new),
            expiration: expiration.map(Timestamp),
        };
        let kind = role_arn.map_or(Held::Base(&crate::kinds::keys::KIND), |arn| Held::Role(arn.to_owned()));
        let regions = RegionVars { region: None, default_region: None, fallback: region.map(str::to_owned) };
        let exports = Exports::new(account, &kind, &creds, expiration.map(Timestamp), &regions)
            .map_err(|e| message(&e))?;
        Ok(RenderedExports {
            values: exports.pairs().map(|(name, value)| (name, value.map(<[u8]>::to_vec))).collect(),
            bash: exports.render(Shell::Bash),
            zsh: exports.render(Shell::Zsh),
            fish: exports.render(Shell::Fish),
        })
    }

    /// Roles Anywhere CreateSession's answer: the access key id and expiry of a successful one
    /// (`success`: a 2xx status), else the one line an error shows.
    pub fn rolesanywhere_answer(
        success: bool,
        error_type: Option<&str>,
        body: &[u8],
    ) -> Result<(Vec<u8>, i64), String> {
        if !success {
            let meta = crate::aws::rolesanywhere::error_from_answer(error_type, body);
            let shown =
                format!("{}: {}", meta.code().unwrap_or("error"), meta.message().unwrap_or("(no message)"));
            return Err(message(&anyhow::anyhow!(shown)));
        }
        let creds =
            crate::aws::rolesanywhere::session_from_answer(body).map_err(|e| message(&anyhow::anyhow!(e)))?;
        let key = creds.access_key_id.expose().to_vec();
        Ok((key, creds.expiration.map_or(i64::MIN, |t| t.0)))
    }

    /// An SSO token file as read for a session of `https://example.awsapps.com/start`: its expiry
    /// and whether it can be refreshed, or why it is not used.
    pub fn sso_token(bytes: &[u8]) -> Result<(i64, bool), String> {
        let token =
            crate::sso::tokens::token_from_json(bytes, "https://example.awsapps.com/start", "eu-west-1")?;
        Ok((token.expires.0, token.refresh.is_some()))
    }

    /// `ssh-cert`'s check of its signer's answer for `key` (an OpenSSH public key line) at `now`:
    /// the certificate's end, or the one line an error shows.
    pub fn signer_answer(answer: &[u8], key: &str, now: i64) -> Result<u64, String> {
        let key = ssh_agent_lib::ssh_key::PublicKey::from_openssh(key).map_err(|e| e.to_string())?;
        let (_, certificate) =
            crate::cmd::ssh_cert::check_answer(answer, &key, Timestamp(now)).map_err(|e| message(&e))?;
        Ok(certificate.valid_before())
    }

    /// The metadata endpoint's logic for an endpoint bound to `bound`.
    pub fn imds_state<P: Provider>(provider: P, bound: SocketAddr) -> crate::imds::State<P> {
        crate::imds::State::new(provider, bound)
    }

    /// What `serve` answers a request with.
    pub struct ImdsAnswer {
        pub status: StatusCode,
        pub headers: Vec<(String, Vec<u8>)>,
        pub body: Vec<u8>,
    }

    pub fn imds_answer<P: Provider, B>(state: &crate::imds::State<P>, request: &Request<B>) -> ImdsAnswer {
        use hyper::body::Body;
        let response = state.answer(request);
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        // A `Full` body is one frame, ready at once.
        while let std::task::Poll::Ready(Some(Ok(frame))) =
            std::pin::Pin::new(&mut body).poll_frame(&mut context)
        {
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        ImdsAnswer { status, headers, body: bytes }
    }

    /// The verdicts (a repeated Content-Length or not) for the heads in `chunks`, read in order.
    pub fn head_verdicts(chunks: &[&[u8]]) -> Vec<bool> {
        let (mut scan, verdicts) = HeadScan::new(());
        for chunk in chunks {
            scan.scan(chunk);
        }
        verdicts.lock().map(|v| v.iter().copied().collect()).unwrap_or_default()
    }

    /// What `json_error` says of `text` as JSON, or `None` when it parses.
    pub fn json_error(text: &[u8]) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(crate::files::strip_bom(text))
            .err()
            .map(|e| crate::files::json_error(&e))
    }
}
