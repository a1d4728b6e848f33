//! PKCS#11 URIs (RFC 7512): `pkcs11:token=awsenv;object=leaf;id=%01;type=private?pin-value=1234`.

use std::fmt;
use std::path::PathBuf;

use anyhow::Result;
use percent_encoding::percent_decode_str;

use crate::creds::Secret;
use crate::error::{Exit, fail};

/// Path attributes awsenv matches on; the others of RFC 7512 are accepted and ignored.
const KNOWN_PATH: &[&str] = &[
    "token",
    "manufacturer",
    "model",
    "serial",
    "object",
    "id",
    "type",
    "library-manufacturer",
    "library-description",
    "library-version",
    "slot-manufacturer",
    "slot-description",
    "slot-id",
];

pub fn is_uri(text: &str) -> bool {
    text.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("pkcs11:"))
}

/// A parsed URI. `Debug` leaves out the PIN.
#[derive(Clone, Default)]
pub struct Uri {
    path: Vec<(String, Vec<u8>)>,
    pub pin_value: Option<Secret>,
    pub pin_source: Option<String>,
    pub module_path: Option<PathBuf>,
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path: Vec<String> = self
            .path
            .iter()
            .map(|(name, value)| format!("{name}={}", String::from_utf8_lossy(value)))
            .collect();
        f.debug_struct("Uri")
            .field("path", &path)
            .field("pin_value", &self.pin_value.as_ref().map(|_| "<redacted>"))
            .field("pin_source", &self.pin_source)
            .field("module_path", &self.module_path)
            .finish()
    }
}

impl Uri {
    /// `what` names the option it came from; errors never repeat a `pin-value`.
    pub fn parse(text: &str, what: &str) -> Result<Self> {
        let bad =
            |why: String| fail(Exit::Usage, format!("{what}: not a valid PKCS#11 URI (RFC 7512): {why}"));
        if !is_uri(text) {
            return Err(bad("it does not start with pkcs11:".to_owned()));
        }
        let (path, query) = text[7..].split_once('?').unwrap_or((&text[7..], ""));
        let mut uri = Uri::default();
        for part in path.split(';').filter(|part| !part.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| bad(format!("{part:?} has no =")))?;
            let name = name.to_ascii_lowercase();
            if uri.path.iter().any(|(seen, _)| *seen == name) {
                return Err(bad(format!("{name} is given twice")));
            }
            if !KNOWN_PATH.contains(&name.as_str()) && !name.starts_with("x-") {
                return Err(bad(format!("unknown attribute {name}")));
            }
            let value =
                decode(value).ok_or_else(|| bad(format!("the value of {name} is badly %-encoded")))?;
            uri.path.push((name, value));
        }
        for part in query.split('&').filter(|part| !part.is_empty()) {
            let (name, value) =
                part.split_once('=').ok_or_else(|| bad("a query attribute has no =".to_owned()))?;
            let value =
                decode(value).ok_or_else(|| bad(format!("the value of {name} is badly %-encoded")))?;
            let text = || String::from_utf8(value.clone()).map_err(|_| bad(format!("{name} is not UTF-8")));
            match name.to_ascii_lowercase().as_str() {
                "pin-value" => uri.pin_value = Some(Secret::new(value)),
                "pin-source" => uri.pin_source = Some(text()?),
                "module-path" => uri.module_path = Some(PathBuf::from(text()?)),
                // A module name is looked up by p11-kit, which awsenv does not use.
                "module-name" => {}
                other if other.starts_with("x-") => {}
                other => return Err(bad(format!("unknown query attribute {other}"))),
            }
        }
        if let Some(kind) = uri.get("type")
            && !matches!(kind, b"private" | b"cert" | b"public" | b"secret-key" | b"data")
        {
            return Err(bad(format!("unknown object type {}", String::from_utf8_lossy(kind))));
        }
        Ok(uri)
    }

    /// A path attribute's decoded value.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.path.iter().find(|(seen, _)| seen == name).map(|(_, value)| value.as_slice())
    }

    /// Whether `value` is what the URI asks for `name` (an absent attribute matches anything).
    pub fn matches(&self, name: &str, value: &[u8]) -> bool {
        self.get(name).is_none_or(|wanted| wanted == value)
    }
}

fn decode(value: &str) -> Option<Vec<u8>> {
    // percent_decode passes a stray % through; RFC 7512 does not allow one.
    let bytes = value.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(at, byte)| {
        *byte != b'%' || bytes.get(at + 1..at + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    well_formed.then(|| percent_decode_str(value).collect())
}

/// `%01%ab` for bytes, as URIs write an id.
pub fn encode_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

/// A label or token name in a URI, %-encoding what RFC 7512 does not allow bare.
pub fn encode_text(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b':'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b'='
            | b'&' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_softhsm_uri() {
        let uri =
            Uri::parse("pkcs11:token=awsenv;object=awsenv-leaf;id=%01;type=private?pin-value=1234", "--x")
                .unwrap();
        assert_eq!(uri.get("token"), Some(&b"awsenv"[..]));
        assert_eq!(uri.get("id"), Some(&[1u8][..]));
        assert!(uri.matches("object", b"awsenv-leaf") && !uri.matches("object", b"other"));
        assert!(uri.matches("serial", b"anything"));
        assert_eq!(uri.pin_value.as_ref().map(Secret::expose), Some(&b"1234"[..]));
        assert!(!format!("{uri:?}").contains("1234"));
    }

    #[test]
    fn refuses_malformed_uris_without_repeating_the_pin() {
        for bad in [
            "pkcs12:token=a",
            "pkcs11:token",
            "pkcs11:id=%0",
            "pkcs11:token=a;token=b",
            "pkcs11:colour=red",
            "pkcs11:type=door",
            "pkcs11:token=a?pin-value=9876&flavour=x",
        ] {
            let error = Uri::parse(bad, "--certificate").unwrap_err().to_string();
            assert!(error.starts_with("--certificate: not a valid PKCS#11 URI"), "{error}");
            assert!(!error.contains("9876"), "{error}");
        }
    }

    #[test]
    fn encodes_ids_and_labels() {
        assert_eq!(encode_bytes(&[1, 0xab]), "%01%ab");
        assert_eq!(encode_text("my token;x"), "my%20token%3Bx");
    }
}
