//! The metadata endpoint's logic (`serve`) on requests as hyper hands them over: no request
//! panics, and credentials go only to a local metadata client (an allowed Host, no proxy header)
//! holding a token this endpoint issued, on the credentials path.
#![no_main]

use awsenv::fuzzing::{Method, Provider, Request, StatusCode, imds_answer, imds_state};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const DOCUMENT: &str = r#"{"Code":"Success","AccessKeyId":"ASIAFUZZ","SecretAccessKey":"s3cr3t"}"#;

struct Fixed;
impl Provider for Fixed {
    fn name(&self) -> &str {
        "awsenv"
    }
    fn document(&self) -> Option<String> {
        Some(DOCUMENT.to_owned())
    }
}

const HOSTS: [&str; 9] = [
    "127.0.0.1:9911",
    "localhost",
    "LocalHost:9911",
    "169.254.169.254",
    "169.254.169.254:80",
    "evil.com",
    "evil.com:9911",
    "127.0.0.1:80",
    "[::1]:9911",
];
const ALLOWED: [&str; 6] =
    ["127.0.0.1", "127.0.0.1:9911", "localhost", "localhost:9911", "169.254.169.254", "169.254.169.254:80"];
const PATHS: [&str; 6] = [
    "/latest/api/token",
    "/latest/api/token/",
    "/latest/meta-data/iam/security-credentials",
    "/latest/meta-data/iam/security-credentials/",
    "/latest/meta-data/iam/security-credentials/awsenv",
    "/latest/meta-data/iam/security-credentials/awsenv/",
];
const HEADERS: [&str; 8] = [
    "x-aws-ec2-metadata-token-ttl-seconds",
    "x-aws-ec2-metadata-token",
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "transfer-encoding",
    "host",
    "user-agent",
];

/// One request; `token` asks for the last token issued as its token header.
#[derive(Debug)]
struct Fuzzed {
    method: String,
    path: String,
    host: Option<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
    token: bool,
}

impl<'a> Arbitrary<'a> for Fuzzed {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let method = match u.int_in_range(0..=4)? {
            0 => "GET".to_owned(),
            1 => "PUT".to_owned(),
            2 => "HEAD".to_owned(),
            3 => "DELETE".to_owned(),
            _ => u.arbitrary()?,
        };
        let path = if u.ratio(3, 4)? { (*u.choose(&PATHS)?).to_owned() } else { u.arbitrary()? };
        let host = match u.int_in_range(0..=3)? {
            0 => None,
            1 => Some(u.arbitrary::<Vec<u8>>()?),
            _ => Some(u.choose(&HOSTS)?.as_bytes().to_vec()),
        };
        let mut headers = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            let name = if u.ratio(3, 4)? { (*u.choose(&HEADERS)?).to_owned() } else { u.arbitrary()? };
            let value = if u.arbitrary()? { b"21600".to_vec() } else { u.arbitrary()? };
            headers.push((name, value));
        }
        Ok(Self { method, path, host, headers, token: u.arbitrary()? })
    }
}

fuzz_target!(|requests: Vec<Fuzzed>| {
    let state = imds_state(Fixed, "127.0.0.1:9911".parse().unwrap());
    let mut last_token: Option<Vec<u8>> = None;
    let mut issued: Vec<Vec<u8>> = Vec::new();
    for fuzzed in requests.iter().take(8) {
        let mut builder = Request::builder().method(fuzzed.method.as_bytes()).uri(fuzzed.path.as_str());
        if let Some(host) = &fuzzed.host {
            builder = builder.header("host", host.as_slice());
        }
        for (name, value) in &fuzzed.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        if let (true, Some(token)) = (fuzzed.token, &last_token) {
            builder = builder.header("x-aws-ec2-metadata-token", token.as_slice());
        }
        let Ok(request) = builder.body(()) else { continue };
        let answer = imds_answer(&state, &request);
        let (status, headers, body) = (answer.status, answer.headers, answer.body);
        let host_ok = request.headers().get_all("host").iter().count() == 1
            && request
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .is_some_and(|h| ALLOWED.contains(&h.to_ascii_lowercase().as_str()));
        let proxied =
            ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| request.headers().contains_key(*h));
        if !host_ok || proxied {
            // Refused before any work: no token issued, no credentials.
            assert_eq!(status, StatusCode::FORBIDDEN, "{fuzzed:?}");
            continue;
        }
        assert!(headers.iter().any(|(name, _)| name == "content-type"), "no Content-Type: {fuzzed:?}");
        if status == StatusCode::OK && body == DOCUMENT.as_bytes() {
            let token = request.headers().get("x-aws-ec2-metadata-token").map(|v| v.as_bytes().to_vec());
            assert!(token.is_some_and(|t| issued.contains(&t)), "credentials without a token: {fuzzed:?}");
            assert!(request.method() == Method::GET || request.method() == Method::HEAD);
        }
        if status == StatusCode::OK && request.method() == Method::PUT {
            assert_eq!(body.len(), 64, "a token of {} bytes", body.len());
            issued.push(body.clone());
            last_token = Some(body);
        }
    }
});
