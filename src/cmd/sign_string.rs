use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::{SignDigest, SignFormat, SignString};
use crate::x509::{Digest, KeySpec, Secrets, hex, load_signer};

/// aws_signing_helper's test message before its key-dependent suffix; the `1` is its version.
const TEST_MESSAGE: &[u8] = b"AWS Roles Anywhere Credential Helper Signing Test1";

impl Run for SignString {
    fn run(&self, ctx: &Context) -> Result<()> {
        let env = ctx.settings().certificates();
        let spec = KeySpec {
            certificate: self.certificate.as_deref(),
            private_key: self.private_key.as_deref(),
            intermediates: None,
            pkcs11_lib: self.key.pkcs11_lib.as_deref(),
            pkcs11_module: env.pkcs11_module.clone(),
            secrets: Secrets::new(self.key.pkcs8_password.clone(), self.key.reuse_pin, env),
        };
        let key = load_signer(spec, ctx.now)?;
        let digest = match self.digest {
            SignDigest::Sha256 => Digest::Sha256,
            SignDigest::Sha384 => Digest::Sha384,
            SignDigest::Sha512 => Digest::Sha512,
        };
        let signature = key.sign(digest, &test_message(key.public_key.bytes()))?;
        // No line end after any of them, as aws_signing_helper prints them.
        let out = match self.format {
            SignFormat::Text => hex(&signature).into_bytes(),
            SignFormat::Json => format!("\"{}\"", hex(&signature)).into_bytes(),
            SignFormat::Bin => signature,
        };
        print(&out)
    }
}

/// The message: the fixed text, then SHA-256 of `IAM RA` and the public key (PKCS#1 DER for RSA,
/// the uncompressed point for EC), so that a signature proves which key made it.
pub fn test_message(public_key: &[u8]) -> Vec<u8> {
    let suffix = Digest::Sha256.hash(&[b"IAM RA".as_slice(), public_key].concat());
    [TEST_MESSAGE, suffix.as_slice()].concat()
}
