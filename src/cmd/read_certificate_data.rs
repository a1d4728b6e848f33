use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;

use super::{Context, Run, print};
use crate::cli::ReadCertificateData;
use crate::x509::{CertificateListing, KeyKind, read_certificates};

/// aws_signing_helper's JSON, members in its order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateData {
    key_type: &'static str,
    certificate_data: String,
    serial_number: String,
    supported_algorithms: [&'static str; 3],
}

impl Run for ReadCertificateData {
    fn run(&self, ctx: &Context) -> Result<()> {
        match read_certificates(
            &self.certificate,
            self.pkcs11_lib.as_deref(),
            ctx.settings().certificates().pkcs11_module.clone(),
        )? {
            CertificateListing::File(cert) => {
                let kind = cert.public_key.kind();
                let data = CertificateData {
                    key_type: kind.name(),
                    certificate_data: cert.base64(),
                    serial_number: cert.serial_decimal(),
                    supported_algorithms: match kind {
                        KeyKind::Rsa => ["RSASHA256", "RSASHA384", "RSASHA512"],
                        KeyKind::Ec => ["ECSHA256", "ECSHA384", "ECSHA512"],
                    },
                };
                print(&serde_json::to_vec(&data)?)
            }
            CertificateListing::Token(found) => {
                let mut out = String::new();
                if found.is_empty() {
                    out.push_str("No matching identities\n");
                } else {
                    out.push_str("Matching identities\n");
                }
                for (number, (cert, uri)) in found.iter().enumerate() {
                    let _ = write!(
                        out,
                        "{}) Hex Fingerprint: {}\nSubject: {}\nIssuer: {}\nSerial Number: {}\nURI: {uri}\n\n",
                        number + 1,
                        cert.sha1_hex(),
                        cert.subject,
                        cert.issuer,
                        cert.serial_hex()
                    );
                }
                print(out.as_bytes())
            }
        }
    }
}
