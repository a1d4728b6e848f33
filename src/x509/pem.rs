//! PEM files as they come: several blocks in one file (a key and its certificate, a bundle of
//! intermediates), text around them, and DER certificates with no PEM at all.

use anyhow::Result;
use der::pem;
use zeroize::Zeroizing;

use crate::error::{Exit, fail};

/// One `-----BEGIN LABEL-----` block, decoded. Its bytes are wiped when dropped: it may be a key.
pub struct Block {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block({}, {} bytes)", self.label, self.der.len())
    }
}

/// Every PEM block in `bytes`, in order. `what` names the file in errors, which never quote it.
pub fn blocks(bytes: &[u8], what: &str) -> Result<Vec<Block>> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut lines = text.lines().map(str::trim_end).enumerate();
    while let Some((number, line)) = lines.next() {
        let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|rest| rest.strip_suffix("-----")) else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut armored = Zeroizing::new(format!("{line}\n"));
        let mut closed = false;
        for (_, body) in lines.by_ref() {
            armored.push_str(body);
            armored.push('\n');
            if body == end {
                closed = true;
                break;
            }
        }
        let at = || format!("{what}: the {label} block at line {}", number + 1);
        if !closed {
            return Err(fail(Exit::Config, format!("{} has no {end} line", at())));
        }
        if armored.contains("Proc-Type:") {
            return Err(fail(
                Exit::Config,
                format!(
                    "{} is encrypted the legacy OpenSSL way, which awsenv does not read; convert it with \
                     `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`",
                    at()
                ),
            ));
        }
        let (decoded_label, der) = pem::decode_vec(armored.as_bytes())
            .map_err(|e| fail(Exit::Config, format!("{} is not valid PEM: {e}", at())))?;
        found.push(Block { label: decoded_label.to_owned(), der: Zeroizing::new(der) });
    }
    Ok(found)
}

/// Whether the bytes are PEM text at all (else they may be a DER certificate).
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|window| window == b"-----BEGIN ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";

    #[test]
    fn finds_every_block_between_other_text() {
        let text = format!("subject=CN=x\n{CERT}\nnoise\n{}", CERT.replace("AAEC", "AwQF"));
        let found = blocks(text.as_bytes(), "f").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "CERTIFICATE");
        assert_eq!(found[1].der.as_slice(), &[3, 4, 5]);
    }

    #[test]
    fn refuses_unclosed_and_legacy_encrypted_blocks() {
        let unclosed = blocks(b"-----BEGIN CERTIFICATE-----\nAAEC\n", "f").unwrap_err();
        assert!(unclosed.to_string().contains("has no -----END CERTIFICATE----- line"), "{unclosed}");
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n\
                      AAEC\n-----END RSA PRIVATE KEY-----\n";
        let error = blocks(legacy.as_bytes(), "f").unwrap_err().to_string();
        assert!(error.contains("legacy OpenSSL way"), "{error}");
        assert!(!error.contains("AAEC"), "{error}");
    }
}
