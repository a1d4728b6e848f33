//! How botocore names the files of its SSO cache, so that awsenv and the aws CLI find each
//! other's: a token under the SHA-1 of the sso-session's name (or of a legacy profile's start
//! URL), a client registration under the SHA-1 of its arguments as Python's `json.dumps` writes
//! them.

use super::config::SsoSession;

/// The token's file name.
pub fn token_file(session: &SsoSession) -> String {
    format!("{}.json", sha1_hex(session.token_key()))
}

/// The client registration's file name: botocore's `_registration_cache_key`, the SHA-1 of
/// `json.dumps(args, sort_keys=True)`.
pub fn registration_file(session: &SsoSession) -> String {
    let scopes = match &session.scopes {
        None => "null".to_owned(),
        Some(scopes) => format!("[{}]", scopes.iter().map(|s| python_json(s)).collect::<Vec<_>>().join(", ")),
    };
    let name = session.name.as_deref().map_or_else(|| "null".to_owned(), python_json);
    let args = format!(
        "{{\"region\": {}, \"scopes\": {scopes}, \"session_name\": {name}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
        python_json(&session.region),
        python_json(&session.start_url)
    );
    format!("{}.json", sha1_hex(&args))
}

pub fn sha1_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A string as Python's `json.dumps` writes it (ASCII only, its escapes).
fn python_json(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected values are Python's: `hashlib.sha1(json.dumps(args, sort_keys=True).encode())`.
    #[test]
    fn registration_keys_are_botocores() {
        let session = |name: Option<&str>, url: &str, region: &str, scopes: Option<Vec<&str>>| SsoSession {
            name: name.map(str::to_owned),
            label: String::new(),
            start_url: url.to_owned(),
            region: region.to_owned(),
            scopes: scopes.map(|s| s.into_iter().map(str::to_owned).collect()),
            device_code: false,
        };
        let key = registration_file;
        let url = "https://d-9067000000.awsapps.com/start";
        assert_eq!(
            key(&session(Some("corp"), url, "us-east-1", None)),
            "fc2c371156b14340a98b735451bdd54da6fe953c.json"
        );
        let scoped =
            session(None, url, "eu-west-1", Some(vec!["sso:account:access", "codewhisperer:completions"]));
        assert_eq!(key(&scoped), "c6a42509137e5d7f29b37634713ea834cc4c7070.json");
        let odd = session(
            Some("caf\u{e9} \u{1F600}\t\u{1}\u{7f}"),
            "https://x/start?a=\"b\"\\",
            "us-east-1",
            Some(vec!["a"]),
        );
        assert_eq!(key(&odd), "44941da54566b15e06eaec96b66ee2f4460f7517.json");
    }

    #[test]
    fn token_keys_are_the_sha1_of_the_name_or_start_url() {
        assert_eq!(sha1_hex("corp"), "ee0bfd2552fbd840c02cc48b6e823320543c450f");
        assert_eq!(
            sha1_hex("https://d-9067000000.awsapps.com/start"),
            "a574cfb52e1a87cd150b091145491e1f48cec919"
        );
    }
}
