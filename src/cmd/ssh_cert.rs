use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use ssh_agent_lib::ssh_key::Certificate;

use super::{Context, Run, print};
use crate::aws::identity_url::{StsEndpoint, presigned_caller_identity_url};
use crate::aws::{Aws, Connection};
use crate::cli::{CertOutput, SshCert};
use crate::codes::Codes;
use crate::creds::{Credentials, Timestamp, parse_human_duration};
use crate::error::{Exit, fail};
use crate::files::write_atomic;
use crate::sshagent::{Agent, read_private_key};

/// The identity URL proves who asks only for this long; the seed's Lambda takes 10 s old at most.
const IDENTITY_URL_EXPIRY: Duration = Duration::from_secs(60);
/// A certificate in the agent is reused by the ProxyCommand while it has this long left.
const REUSE_MIN_SECONDS: u64 = 15;

/// What the Lambda gets, fields in the seed's order.
#[derive(Serialize)]
struct SignRequest<'a> {
    identity_url: String,
    environment: &'a str,
    ssh_public_key: String,
    duration: i64,
    source_addresses: Option<&'a [String]>,
}

/// What the Lambda answers.
#[derive(Deserialize)]
pub(crate) struct SignResponse {
    certificate: String,
    duration: i64,
    valid_before: String,
}

impl Run for SshCert {
    fn run(&self, ctx: &Context) -> Result<()> {
        let duration = parse_human_duration(&self.duration).filter(|d| *d >= 1).ok_or_else(|| {
            fail(Exit::Usage, format!("--duration takes a duration like 60s or 5m, not {:?}", self.duration))
        })?;
        if self.proxy_config.is_some() && self.output == CertOutput::Stdout {
            // As a ProxyCommand, stdout is the SSH connection itself.
            return Err(fail(Exit::Usage, "--proxy-config takes --output agent or file, not stdout"));
        }
        let private_path = self.private_key_path(ctx)?;
        let public_path =
            self.ssh_public_key_filename.clone().unwrap_or_else(|| with_suffix(&private_path, ".pub"));
        let public_text = std::fs::read_to_string(&public_path)
            .map_err(|e| fail(Exit::Config, format!("{}: cannot read it: {e}", public_path.display())))?;
        let public_key =
            ssh_agent_lib::ssh_key::PublicKey::from_openssh(public_text.trim()).map_err(|e| {
                fail(Exit::Config, format!("{}: not an SSH public key: {e}", public_path.display()))
            })?;
        // Read before any call, so that a key the agent cannot take fails before the Lambda signs.
        let private_key = match self.output {
            CertOutput::Agent => Some(read_private_key(&private_path)?),
            CertOutput::Stdout | CertOutput::File => None,
        };
        if let Some(key) = &private_key
            && key.public_key().key_data() != public_key.key_data()
        {
            return Err(fail(
                Exit::Config,
                format!("{} is not the public key of {}", public_path.display(), private_path.display()),
            ));
        }
        let target = self.proxy_config.as_deref().map(parse_target).transpose()?;
        if let Some(target) = &target
            && self.output == CertOutput::Agent
        {
            let mut agent = Agent::connect(ctx.ssh_auth_sock().as_deref())?;
            let now = ctx.now.0 as u64;
            if agent
                .certificate_valid_before(public_key.key_data())?
                .is_some_and(|end| end >= now + REUSE_MIN_SECONDS)
            {
                return proxy(target);
            }
        }
        let (creds, account_region) = caller_credentials(self.account.as_deref(), self.role.as_deref(), ctx)?;
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| ctx.settings().regions(account_region).effective().to_owned());
        let endpoint = if self.regional_sts { StsEndpoint::Regional(&region) } else { StsEndpoint::Global };
        let request = SignRequest {
            identity_url: presigned_caller_identity_url(
                &creds,
                endpoint,
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(ctx.now.0.unsigned_abs()),
                IDENTITY_URL_EXPIRY,
            )?,
            environment: &self.environment,
            ssh_public_key: public_text,
            duration,
            source_addresses: (!self.source_address.is_empty()).then_some(self.source_address.as_slice()),
        };
        let payload = serde_json::to_vec(&request)?;
        if self.dump {
            return print(&[payload, b"\n".to_vec()].concat());
        }
        let connection = Connection {
            region,
            timeout: ctx.settings().timeout()?,
            ca_bundle: ctx.settings().ca_bundle.clone(),
        };
        let answer = Aws::connect(&connection, &creds)?.invoke(&self.lambda_arn, payload)?;
        let (response, certificate) = check_answer(&answer, &public_key, ctx.now)?;
        match self.output {
            CertOutput::Stdout => print(&[answer, b"\n".to_vec()].concat())?,
            CertOutput::File => write_certificate(&private_path, &response.certificate)?,
            CertOutput::Agent => {
                // From this moment, not the command's start: the agent counts from when it adds.
                let lifetime = certificate.valid_before().saturating_sub(ctx.clock.now().0 as u64);
                let comment = format!(
                    "iam-request-ssh-key-signature env=\"{}\" expires=\"{}\"",
                    self.environment, response.valid_before
                );
                let key = private_key
                    .as_ref()
                    .ok_or_else(|| fail(Exit::Failure, "the private key was not read"))?;
                let lifetime = u32::try_from(lifetime).unwrap_or(u32::MAX);
                Agent::connect(ctx.ssh_auth_sock().as_deref())?.add_certificate(
                    key,
                    certificate,
                    lifetime,
                    comment,
                )?;
            }
        }
        match &target {
            Some(target) => proxy(target),
            None => Ok(()),
        }
    }
}

impl SshCert {
    /// `--ssh-private-key-filename`, else the first default key that exists, ed25519 first.
    fn private_key_path(&self, ctx: &Context) -> Result<PathBuf> {
        if let Some(path) = &self.ssh_private_key_filename {
            return Ok(path.clone());
        }
        let ssh_dir = ctx.settings().home_dir()?.join(".ssh");
        ["id_ed25519", "id_ecdsa", "id_rsa"]
            .iter()
            .map(|name| ssh_dir.join(name))
            .find(|p| p.exists())
            .ok_or_else(|| {
                fail(
                    Exit::Config,
                    format!(
                        "no default key in {} (id_ed25519, id_ecdsa, id_rsa): use --ssh-private-key-filename",
                        ssh_dir.display()
                    ),
                )
            })
    }
}

/// The caller's credentials and the account's region: the one place `ssh-cert` asks for a
/// session, with `--role` a role session, else the account's own.
fn caller_credentials(
    account: Option<&str>,
    role: Option<&str>,
    ctx: &Context,
) -> Result<(Credentials, Option<String>)> {
    let name = account.map(str::to_owned).or_else(|| ctx.current_account()).ok_or_else(|| {
        fail(Exit::Config, "no account given and none set in this shell: use --account NAME")
    })?;
    let account = ctx.open(&name)?;
    let codes = Codes::new(None, ctx.settings())?;
    let session = account.consumer_session(role, &codes, 60, false)?;
    Ok((session.credentials, account.region.clone()))
}

/// The Lambda's answer, checked: JSON of the agreed shape holding a certificate of `key` that is
/// still valid. Anything else is an error, before anything is written.
pub(crate) fn check_answer(
    answer: &[u8],
    key: &ssh_agent_lib::ssh_key::PublicKey,
    now: Timestamp,
) -> Result<(SignResponse, Certificate)> {
    let malformed =
        |why: String| fail(Exit::Signer, format!("the signer's answer is not a certificate: {why}"));
    let response: SignResponse = serde_json::from_slice(answer).map_err(|e| malformed(format!("{e}")))?;
    let certificate =
        Certificate::from_openssh(response.certificate.trim()).map_err(|e| malformed(format!("{e}")))?;
    if certificate.public_key() != key.key_data() {
        return Err(malformed("it certifies another key".to_owned()));
    }
    if certificate.valid_before() <= now.0 as u64 {
        return Err(malformed(format!(
            "it expired at {}",
            Timestamp(certificate.valid_before() as i64).rfc3339()
        )));
    }
    if response.duration < 0 || Timestamp::parse_rfc3339(&response.valid_before).is_err() {
        return Err(malformed("duration or valid_before is malformed".to_owned()));
    }
    Ok((response, certificate))
}

/// `KEY-cert.pub` beside the private key, as ssh looks for it: replaced atomically, mode 0644.
fn write_certificate(private_path: &Path, certificate: &str) -> Result<()> {
    let path = with_suffix(private_path, "-cert.pub");
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut text = certificate.trim_end().to_owned();
    text.push('\n');
    write_atomic(dir, &path, text.as_bytes())
        .map_err(|e| fail(Exit::Failure, format!("{}: {e:#}", path.display())))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn parse_target(text: &str) -> Result<(String, u16)> {
    let bad = || fail(Exit::Usage, format!("--proxy-config takes HOST:PORT, not {text:?}"));
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// ssh's ProxyCommand: stdin to the server, the server to stdout, until the server closes.
fn proxy((host, port): &(String, u16)) -> Result<()> {
    let stream = TcpStream::connect((host.as_str(), *port))
        .map_err(|e| fail(Exit::Unreachable, format!("cannot connect to {host}:{port}: {e}")))?;
    let mut upstream = stream.try_clone()?;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    let mut downstream = stream;
    let mut stdout = std::io::stdout().lock();
    let mut buffer = [0u8; 32 * 1024];
    loop {
        let read = downstream.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        stdout.write_all(&buffer[..read])?;
        stdout.flush()?;
    }
}
