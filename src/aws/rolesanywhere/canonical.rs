//! The SigV4-X509 canonical request and string to sign. Unlike SigV4 there is no key derivation:
//! the string to sign is signed with the certificate's private key.

use std::collections::BTreeMap;
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::x509::hex;

/// RFC 3986's unreserved characters stay as they are; everything else is `%XX`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `profileArn=..&roleArn=..&trustAnchorArn=..`: sorted, every value encoded.
pub fn query(profile_arn: &str, role_arn: &str, trust_anchor_arn: &str) -> String {
    let mut pairs =
        [("profileArn", profile_arn), ("roleArn", role_arn), ("trustAnchorArn", trust_anchor_arn)];
    pairs.sort();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| {
            format!("{}={}", utf8_percent_encode(name, UNRESERVED), utf8_percent_encode(value, UNRESERVED))
        })
        .collect();
    encoded.join("&")
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(now: SystemTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from(now).format(&format).unwrap_or_default()
}

/// `YYYYMMDD/REGION/rolesanywhere/aws4_request`.
pub fn scope(amz_date: &str, region: &str) -> String {
    format!("{}/{region}/rolesanywhere/aws4_request", amz_date.get(..8).unwrap_or_default())
}

/// The canonical request and its signed header names. `headers` are lower-case names with their
/// values; a name given more than once has its values joined with commas.
pub fn request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (String, String) {
    let mut grouped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        grouped.entry(name.as_str()).or_default().push(value);
    }
    let lines: Vec<String> =
        grouped.iter().map(|(name, values)| format!("{name}:{}", values.join(","))).collect();
    let signed = grouped.keys().copied().collect::<Vec<_>>().join(";");
    let canonical = format!(
        "{method}\n{path}\n{query}\n{}\n\n{signed}\n{}",
        lines.join("\n"),
        hex(&Sha256::digest(body))
    );
    (canonical, signed)
}

pub fn string_to_sign(algorithm: &str, amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("{algorithm}\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_sorted_and_encoded() {
        let query =
            query("arn:aws:rolesanywhere:us-east-1:1:profile/p", "arn:aws:iam::1:role/a b", "arn:t/x");
        assert_eq!(
            query,
            "profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A1%3Aprofile%2Fp&roleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b\
             &trustAnchorArn=arn%3At%2Fx"
        );
    }

    #[test]
    fn dates_and_scopes() {
        let moment = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_658_896_615);
        let date = amz_date(moment);
        assert_eq!(date, "20220727T043655Z");
        assert_eq!(scope(&date, "eu-west-1"), "20220727/eu-west-1/rolesanywhere/aws4_request");
    }

    #[test]
    fn the_canonical_request_follows_sigv4() {
        let headers = [
            ("x-amz-x509".to_owned(), "MIIB".to_owned()),
            ("host".to_owned(), "  ra.example:8443 ".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-amz-date".to_owned(), "20220727T043655Z".to_owned()),
            ("x-custom".to_owned(), "a   b".to_owned()),
            ("x-custom".to_owned(), "c".to_owned()),
        ];
        let (canonical, signed) = request("POST", "/sessions", "a=b", &headers, b"{}");
        assert_eq!(signed, "content-type;host;x-amz-date;x-amz-x509;x-custom");
        assert_eq!(
            canonical,
            "POST\n/sessions\na=b\ncontent-type:application/json\nhost:ra.example:8443\nx-amz-date:20220727T043655Z\n\
             x-amz-x509:MIIB\nx-custom:a b,c\n\ncontent-type;host;x-amz-date;x-amz-x509;x-custom\n\
             44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let to_sign = string_to_sign(
            "AWS4-X509-RSA-SHA256",
            "20220727T043655Z",
            "20220727/r/rolesanywhere/aws4_request",
            &canonical,
        );
        assert!(
            to_sign.starts_with(
                "AWS4-X509-RSA-SHA256\n20220727T043655Z\n20220727/r/rolesanywhere/aws4_request\n"
            )
        );
    }
}
