//! A certificate and its private key (a file or a PKCS#11 token): the base session is IAM Roles
//! Anywhere's CreateSession, signed with the key. Defined by `STORE/NAME.x509`, by a profile whose
//! `credential_process` runs aws_signing_helper's (or awsenv's) `credential-process` with the
//! certificate flags, or by those flags on awsenv's own command line.

use anyhow::Result;
use clap::Parser;

use super::{Base, Boxed, Env, Issue, Issued, KindInfo, Named, RoleSigning};
use crate::aws::{Connection, rolesanywhere};
use crate::cli::CertificateArgs;
use crate::creds::Credentials;
use crate::error::{Exit, fail};
use crate::profile::{Profile, Profiles};
use crate::store::Store;
use crate::x509::CertificateSource;

pub const KIND: KindInfo = KindInfo {
    name: "x509",
    label_suffix: "-X509",
    session_noun: "Roles Anywhere session",
    store_suffix: Some(STORE_SUFFIX),
    from_store,
    from_profile,
    from_name: super::no_own_name,
    known_names: super::no_known_names,
};

/// The store file that makes `NAME` a certificate account.
pub const STORE_SUFFIX: &str = "x509";

pub struct Certificate {
    source: CertificateSource,
}

impl Certificate {
    /// A checked certificate account.
    pub fn new(source: CertificateSource) -> Result<Self> {
        source.check()?;
        Ok(Self { source })
    }

    /// The account aws_signing_helper's flags describe, named after what it is (its
    /// fingerprint), so that every caller with the same flags shares one cached session.
    pub fn from_flags(flags: &CertificateArgs, env: &Env) -> Result<(String, Boxed)> {
        let account = Self::new(CertificateSource::from_flags(flags, &env.settings)?)?;
        let fingerprint = account.source.fingerprint()?;
        Ok((format!("x509-{}", &fingerprint[..fingerprint.len().min(16)]), Box::new(account)))
    }
}

fn from_store(store: &Store, name: &str, env: &Env) -> Result<Option<Named>> {
    let Some(name) = store.find_with(name, STORE_SUFFIX)? else {
        return Ok(None);
    };
    let path = store.dir().join(format!("{name}.{STORE_SUFFIX}"));
    let account = Certificate::new(CertificateSource::from_store_file(&path, &env.settings)?)
        .map_err(|e| e.context(format!("certificate account {}", path.display())))?;
    Ok(Some((name, Box::new(account))))
}

/// aws_signing_helper's flags, as a profile's `credential_process` line gives them.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct SigningHelperLine {
    /// The flags' `--certificate` conflicts with an account name; the line has none.
    #[arg(hide = true)]
    account: Option<String>,
    #[command(flatten)]
    certificate: CertificateArgs,
}

/// A profile whose `credential_process` runs `aws_signing_helper credential-process` (or
/// `awsenv credential-process`) with `--certificate`: the same account, served from awsenv's cache.
fn from_profile(
    profile: &Profile,
    _user: Option<&Profile>,
    _profiles: &Profiles,
    env: &Env,
) -> Result<Option<Boxed>> {
    let Some(line) = profile.get("credential_process") else {
        return Ok(None);
    };
    let bad = |why: String| {
        fail(
            Exit::Config,
            format!("profile {} in {}: credential_process {why}", profile.name, profile.file.display()),
        )
    };
    let words = shell_words::split(line).map_err(|e| bad(format!("cannot be split into words: {e}")))?;
    let program = words.first().map(|w| w.rsplit('/').next().unwrap_or(w)).unwrap_or_default();
    let is_helper = matches!(program, "aws_signing_helper" | "aws_signing_helper.exe" | "awsenv");
    if !is_helper || words.get(1).map(String::as_str) != Some("credential-process") {
        return Ok(None);
    }
    if !words.iter().any(|w| w == "--certificate" || w.starts_with("--certificate=")) {
        return Ok(None);
    }
    let parsed = SigningHelperLine::try_parse_from(&words[2..])
        .ok()
        .filter(|line| line.account.is_none())
        .ok_or_else(|| bad("has flags awsenv cannot read".to_owned()))?;
    let account = Certificate::new(CertificateSource::from_flags(&parsed.certificate, &env.settings)?)
        .map_err(|e| e.context(format!("profile {}", profile.name)))?;
    Ok(Some(Box::new(account)))
}

impl Base for Certificate {
    fn info(&self) -> &'static KindInfo {
        &KIND
    }

    fn fingerprint(&self) -> Result<String> {
        self.source.fingerprint()
    }

    fn standing(&self) -> Option<&Credentials> {
        None
    }

    fn lifetime(&self, _asked: i32) -> i32 {
        i32::try_from(self.source.session_duration).unwrap_or(i32::MAX)
    }

    fn issue(&self, request: &Issue) -> Result<Issued> {
        // The service's region is the trust anchor's (or --region), whatever the shell's is.
        let connection = Connection { region: self.source.region()?, ..request.connection.clone() };
        let credentials = rolesanywhere::create_session(&self.source, &connection, request.env.clock.now())?;
        Ok(Issued { credentials, made_with: Some(self.source.profile_arn.clone()) })
    }

    fn session_name(&self, env: &Env) -> String {
        let login = env.settings.login_user.clone();
        self.source.role_session_name.clone().or(login).unwrap_or_else(|| "awsenv".into())
    }

    fn arn_prefix(&self, _env: &Env) -> Result<Option<String>> {
        // The account of the role the certificate's session is for.
        let role = &self.source.role_arn;
        Ok(role.split_once(":role/").map(|(prefix, _)| format!("{prefix}:")))
    }

    fn role_signing(&self, _env: &Env) -> Result<RoleSigning> {
        Ok(RoleSigning { with_base_session: true, direct: None })
    }
}
