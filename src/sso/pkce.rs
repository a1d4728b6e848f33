//! The authorization code flow with PKCE (RFC 7636, RFC 8252) as the aws CLI v2 runs it: the
//! browser signs in at the OIDC endpoint's `/authorize` page, which redirects to a listener of
//! ours on 127.0.0.1 with a random port; the code it brings is good only with our verifier.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::creds::Secret;
use crate::error::{Exit, debug, fail};

/// The redirect URI registered (the aws CLI's); the listener's port is added when signing in.
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
const CALLBACK_PATH: &str = "/oauth/callback";

/// RFC 3986's unreserved characters stay; everything else in a query value is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One sign-in's PKCE verifier, its S256 challenge, and the state the redirect must bring back.
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
    pub state: String,
}

fn random_base64url(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buf).map_err(|_| fail(Exit::Failure, "no random bytes from the system"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

impl Pkce {
    pub fn new() -> Result<Self> {
        // 32 random bytes: a 43-character verifier, as RFC 7636 4.1 recommends.
        let verifier = random_base64url(32)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        Ok(Self {
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            verifier: Secret::new(verifier),
            state: random_base64url(16)?,
        })
    }
}

/// The `/authorize` URL the aws CLI builds, at the OIDC endpoint `base`.
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    pkce: &Pkce,
) -> String {
    let scopes = scopes.join(" ");
    let pairs = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", &pkce.state),
        ("code_challenge_method", "S256"),
        ("scopes", &scopes),
        ("code_challenge", &pkce.challenge),
    ];
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, QUERY_VALUE)))
        .collect();
    format!("{}/authorize?{}", base.trim_end_matches('/'), query.join("&"))
}

/// How the browser came back.
pub enum Callback {
    Code(Secret),
    /// `error=...`: `access_denied` when the user said no.
    Error {
        error: String,
        description: Option<String>,
    },
}

/// The listener the browser is redirected to.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

const PAGE_SIGNED_IN: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>awsenv</title></head>\
<body><h1>Signed in</h1><p>awsenv has your IAM Identity Center sign-in. You may close this window.</p></body></html>";
const PAGE_FAILED: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>awsenv</title></head>\
<body><h1>Sign-in failed</h1><p>awsenv did not get a sign-in; the terminal says why. You may close this window.</p></body></html>";

impl Loopback {
    pub fn bind() -> Result<Self> {
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).context("could not listen on 127.0.0.1 for the sign-in")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        Ok(Self { listener, port })
    }

    /// The registered redirect URI with this listener's port.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits until `deadline` for the browser's redirect. Other requests (a favicon, a browser's
    /// speculative connection) get a 404 or nothing. A redirect whose state is not ours is refused
    /// and ends the sign-in: it was not started by this awsenv.
    pub fn wait(&self, state: &str, deadline: Instant) -> Result<Option<Callback>> {
        while Instant::now() < deadline {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(e) => return Err(e).context("the sign-in listener on 127.0.0.1 failed"),
            };
            if let Some(callback) = answer(stream, state)? {
                return Ok(Some(callback));
            }
        }
        Ok(None)
    }
}

/// Reads one request and answers it; the callback when it was one.
fn answer(mut stream: TcpStream, state: &str) -> Result<Option<Callback>> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != CALLBACK_PATH {
        respond(&mut stream, "404 Not Found", "<!doctype html><title>awsenv</title><p>Not found</p>");
        return Ok(None);
    }
    let params = parse_query(query);
    let one = |key: &str| -> Option<String> {
        let mut values = params.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone());
        values.next().filter(|_| values.next().is_none())
    };
    let state_ok = one("state").is_some_and(|got| constant_time_eq(got.as_bytes(), state.as_bytes()));
    if !state_ok {
        respond(&mut stream, "400 Bad Request", PAGE_FAILED);
        return Err(fail(
            Exit::Rejected,
            "the sign-in was refused: the browser came back with a state that is not this sign-in's \
             (another page may have tried to sign you in)",
        ));
    }
    if let Some(error) = one("error") {
        respond(&mut stream, "200 OK", PAGE_FAILED);
        return Ok(Some(Callback::Error { error, description: one("error_description") }));
    }
    match one("code") {
        Some(code) if !code.is_empty() => {
            respond(&mut stream, "200 OK", PAGE_SIGNED_IN);
            debug!("the browser brought an authorization code");
            Ok(Some(Callback::Code(Secret::new(code))))
        }
        _ => {
            respond(&mut stream, "400 Bad Request", PAGE_FAILED);
            Err(fail(Exit::Rejected, "the sign-in page redirected back without an authorization code"))
        }
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
    let _ = stream.flush();
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode = |text: &str| percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_s256_of_the_verifier() {
        let pkce = Pkce::new().unwrap();
        let verifier = pkce.verifier.as_str("v").unwrap();
        assert_eq!(verifier.len(), 43);
        assert_eq!(pkce.challenge.len(), 43);
        // RFC 7636 appendix B.
        let digest =
            ring::digest::digest(&ring::digest::SHA256, b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(URL_SAFE_NO_PAD.encode(digest.as_ref()), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_ne!(Pkce::new().unwrap().state, pkce.state);
    }

    #[test]
    fn the_authorize_url_is_the_aws_clis() {
        let pkce = Pkce { verifier: Secret::new("v"), challenge: "C_h-a".into(), state: "s/t".into() };
        let url = authorize_url(
            "http://127.0.0.1:5/",
            "id",
            "http://127.0.0.1:9/oauth/callback",
            &["sso:account:access".into(), "x:y".into()],
            &pkce,
        );
        assert_eq!(
            url,
            "http://127.0.0.1:5/authorize?response_type=code&client_id=id&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth%2Fcallback\
             &state=s%2Ft&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess%20x%3Ay&code_challenge=C_h-a"
        );
    }

    #[test]
    fn queries_decode() {
        assert_eq!(
            parse_query("code=a%2Bb&state=x+y&&e"),
            [("code".into(), "a+b".into()), ("state".into(), "x y".into()), ("e".into(), String::new())]
        );
        assert!(
            constant_time_eq(b"abc", b"abc")
                && !constant_time_eq(b"abc", b"abd")
                && !constant_time_eq(b"a", b"ab")
        );
    }
}
