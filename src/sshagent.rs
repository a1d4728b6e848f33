//! What `ssh-cert` asks of ssh-agent (through ssh-agent-lib) and of key files (through ssh-key).

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use ssh_agent_lib::blocking::Client;
use ssh_agent_lib::proto::{
    AddIdentity, AddIdentityConstrained, EcdsaPrivateKey, KeyConstraint, PrivateCredential, PrivateKeyData,
    PublicCredential,
};
use ssh_agent_lib::ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_agent_lib::ssh_key::public::KeyData;
use ssh_agent_lib::ssh_key::{Certificate, PrivateKey};

use crate::error::{Exit, fail};

/// Reads an unencrypted OpenSSH private key.
pub fn read_private_key(path: &Path) -> Result<PrivateKey> {
    let text = std::fs::read(path)
        .map_err(|e| fail(Exit::Config, format!("{}: cannot read it: {e}", path.display())))?;
    let key = PrivateKey::from_openssh(&text).map_err(|e| {
        fail(
            Exit::Config,
            format!("{}: not an OpenSSH private key (ssh-keygen's format): {e}", path.display()),
        )
    })?;
    if key.is_encrypted() {
        return Err(fail(
            Exit::Config,
            format!(
                "{}: the key is encrypted; use --output file or stdout, or an unencrypted key",
                path.display()
            ),
        ));
    }
    Ok(key)
}

/// A connection to the agent at `socket` (`$SSH_AUTH_SOCK`).
pub struct Agent {
    client: Client<UnixStream>,
}

impl Agent {
    pub fn connect(socket: Option<&Path>) -> Result<Self> {
        let socket =
            socket.ok_or_else(|| fail(Exit::Agent, "SSH_AUTH_SOCK is not set: start ssh-agent first"))?;
        let stream = UnixStream::connect(socket)
            .map_err(|e| fail(Exit::Agent, format!("ssh-agent at {}: {e}", socket.display())))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Self { client: Client::new(stream) })
    }

    /// The latest `valid_before` of the agent's certificates for `key`.
    pub fn certificate_valid_before(&mut self, key: &KeyData) -> Result<Option<u64>> {
        let identities =
            self.client.request_identities().map_err(|e| fail(Exit::Agent, format!("ssh-agent: {e}")))?;
        Ok(identities
            .into_iter()
            .filter_map(|identity| match identity.credential {
                PublicCredential::Cert(cert) if cert.public_key() == key => Some(cert.valid_before()),
                _ => None,
            })
            .max())
    }

    /// Adds `key` with `certificate`, removed by the agent after `lifetime` seconds.
    pub fn add_certificate(
        &mut self,
        key: &PrivateKey,
        certificate: Certificate,
        lifetime: u32,
        comment: String,
    ) -> Result<()> {
        let privkey = agent_private_key(key.key_data())?;
        let credential = PrivateCredential::Cert {
            algorithm: certificate.algorithm(),
            certificate: Box::new(certificate),
            privkey,
            comment,
        };
        let request = AddIdentityConstrained {
            identity: AddIdentity { credential },
            constraints: vec![KeyConstraint::Lifetime(lifetime)],
        };
        self.client
            .add_identity_constrained(request)
            .map_err(|e| fail(Exit::Agent, format!("ssh-agent refused the certificate: {e}")))
    }
}

/// The private half in the form the agent protocol sends beside a certificate.
fn agent_private_key(keypair: &KeypairData) -> Result<PrivateKeyData> {
    Ok(match keypair {
        KeypairData::Ed25519(pair) => PrivateKeyData::Ed25519(pair.clone()),
        KeypairData::Rsa(pair) => PrivateKeyData::Rsa(pair.private.clone()),
        KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => {
            PrivateKeyData::Ecdsa(EcdsaPrivateKey::NistP256(private.clone()))
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP384 { private, .. }) => {
            PrivateKeyData::Ecdsa(EcdsaPrivateKey::NistP384(private.clone()))
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP521 { private, .. }) => {
            PrivateKeyData::Ecdsa(EcdsaPrivateKey::NistP521(private.clone()))
        }
        other => {
            return Err(fail(
                Exit::Config,
                format!("{:?} keys cannot be added with a certificate", other.algorithm()),
            ));
        }
    })
}
