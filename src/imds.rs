//! A local endpoint that answers the IMDSv2 paths SDKs use for credentials: a session token from
//! `PUT /latest/api/token`, then `GET /latest/meta-data/iam/security-credentials/[NAME]` with it.
//! Plain HTTP/1.1 on a loopback socket, one thread per connection up to a fixed number.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::debug;

const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// At most this many live tokens; the one expiring first makes room for a new one.
const MAX_TOKENS: usize = 256;
/// At most this many connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 64;
const MAX_HEAD: usize = 16 * 1024;
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the endpoint hands out: the JSON document for the credentials path, or why not.
pub trait Provider: Send + Sync + 'static {
    /// The name listed under `security-credentials/`.
    fn name(&self) -> &str;
    /// The credentials document, or `None` when no valid credentials can be had (503).
    fn document(&self) -> Option<String>;
}

pub struct Server<P: Provider> {
    listener: TcpListener,
    hop_limit: u8,
    state: Arc<State<P>>,
}

struct State<P> {
    provider: P,
    tokens: Mutex<HashMap<String, Instant>>,
    connections: AtomicUsize,
}

impl<P: Provider> Server<P> {
    pub fn bind(address: IpAddr, port: u16, hop_limit: u8, provider: P) -> Result<Self> {
        let listener = TcpListener::bind((address, port))
            .with_context(|| format!("could not listen on {address}:{port}"))?;
        let state = State { provider, tokens: Mutex::new(HashMap::new()), connections: AtomicUsize::new(0) };
        Ok(Self { listener, hop_limit, state: Arc::new(state) })
    }

    pub fn port(&self) -> Result<u16> {
        Ok(self.listener.local_addr()?.port())
    }

    /// Serves until the process is stopped.
    pub fn run(self) -> Result<()> {
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            set_hop_limit(&stream, self.hop_limit);
            let state = Arc::clone(&self.state);
            if state.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                state.connections.fetch_sub(1, Ordering::SeqCst);
                let _ = respond(&mut &stream, 503, "text/plain", &[], "too many connections", true);
                continue;
            }
            std::thread::spawn(move || {
                let _ = serve_connection(&state, stream);
                state.connections.fetch_sub(1, Ordering::SeqCst);
            });
        }
        Ok(())
    }
}

/// EC2's endpoint answers with a TTL of 1 so that its answers die at the first hop: a container
/// behind a bridge cannot reach it. The same is set here on every connection.
fn set_hop_limit(stream: &TcpStream, hop_limit: u8) {
    let value = libc::c_int::from(hop_limit);
    let (level, option) = match stream.local_addr() {
        Ok(address) if address.is_ipv6() => (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS),
        _ => (libc::IPPROTO_IP, libc::IP_TTL),
    };
    // SAFETY: the descriptor is open for the lifetime of `stream`; the value is a c_int.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            level,
            option,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn serve_connection<P: Provider>(state: &State<P>, stream: TcpStream) -> Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(&stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(_) => {
                respond(&mut &stream, 400, "text/plain", &[], "bad request", true)?;
                return Ok(());
            }
        };
        let keep_alive = request.keep_alive;
        let (status, extra, body) = handle(state, &request);
        debug!("imds {} {} -> {status}", request.method, request.path);
        let extra: Vec<(&str, String)> = extra.into_iter().collect();
        respond(&mut &stream, status, content_type(status, &request), &extra, &body, !keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn content_type(status: u16, request: &Request) -> &'static str {
    let is_document = status == 200 && request.path.trim_end_matches('/').len() > CREDENTIALS_PATH.len();
    if is_document { "application/json" } else { "text/plain" }
}

/// Reads one request head (and discards a small body); `None` at a clean end of the connection.
fn read_request(reader: &mut BufReader<&TcpStream>) -> Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let read = reader.by_ref().take((MAX_HEAD - head.len()) as u64 + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            anyhow::ensure!(head.is_empty(), "connection closed mid-request");
            return Ok(None);
        }
        anyhow::ensure!(head.len() + line.len() <= MAX_HEAD, "request head too large");
        if line == b"\r\n" || line == b"\n" {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.extend_from_slice(&line);
    }
    let head = String::from_utf8(head)?;
    let mut lines = head.lines();
    let mut first = lines.next().context("empty request")?.split(' ');
    let (method, target, version) = (first.next(), first.next(), first.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        anyhow::bail!("malformed request line");
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').context("malformed header")?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let connection = headers.iter().find(|(k, _)| k == "connection").map(|(_, v)| v.to_ascii_lowercase());
    let keep_alive = match version {
        "HTTP/1.1" => connection.as_deref() != Some("close"),
        _ => connection.as_deref() == Some("keep-alive"),
    };
    let length: usize = match headers.iter().find(|(k, _)| k == "content-length") {
        Some((_, v)) => v.parse().context("bad content-length")?,
        None => 0,
    };
    anyhow::ensure!(length <= 4096, "request body too large");
    anyhow::ensure!(
        !headers.iter().any(|(k, _)| k == "transfer-encoding"),
        "chunked requests are not supported"
    );
    std::io::copy(&mut reader.by_ref().take(length as u64), &mut std::io::sink())?;
    let path = target.split('?').next().unwrap_or(target).to_owned();
    Ok(Some(Request { method: method.to_owned(), path, headers, keep_alive }))
}

type Answer = (u16, Option<(&'static str, String)>, String);

fn handle<P: Provider>(state: &State<P>, request: &Request) -> Answer {
    // A proxy in front would turn the endpoint into one for the whole network; EC2 refuses too.
    if request.header("x-forwarded-for").is_some() {
        return (403, None, "requests through a proxy (X-Forwarded-For) are refused".into());
    }
    let path = request.path.as_str();
    if path == TOKEN_PATH || path == "/latest/api/token/" {
        if request.method != "PUT" {
            return (405, None, "the token path takes PUT".into());
        }
        let ttl = request
            .header(TTL_HEADER)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|t| (1..=21_600).contains(t));
        let Some(ttl) = ttl else {
            return (400, None, format!("{TTL_HEADER} must be 1 to 21600 seconds"));
        };
        let token = state.issue_token(Duration::from_secs(ttl));
        return (200, Some(("X-aws-ec2-metadata-token-ttl-seconds", ttl.to_string())), token);
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PATH) else {
        return (404, None, "not found".into());
    };
    if request.method != "GET" && request.method != "HEAD" {
        return (405, None, "metadata paths take GET".into());
    }
    match request.header(TOKEN_HEADER) {
        None => return (401, None, "a session token is required (IMDSv2)".into()),
        Some(token) if !state.token_valid(token) => {
            return (401, None, "invalid or expired session token".into());
        }
        Some(_) => {}
    }
    let name = state.provider.name();
    match rest.trim_end_matches('/') {
        "" => (200, None, name.to_owned()),
        other if other.strip_prefix('/') == Some(name) => match state.provider.document() {
            Some(document) => (200, None, document),
            None => (503, None, "no valid credentials; see the awsenv serve log".into()),
        },
        _ => (404, None, "not found".into()),
    }
}

impl<P> State<P> {
    fn issue_token(&self, ttl: Duration) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, expiry| *expiry > now);
        if tokens.len() >= MAX_TOKENS
            && let Some(first) = tokens.iter().min_by_key(|(_, expiry)| **expiry).map(|(t, _)| t.clone())
        {
            tokens.remove(&first);
        }
        tokens.insert(token.clone(), now + ttl);
        token
    }

    fn token_valid(&self, token: &str) -> bool {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).is_some_and(|expiry| *expiry > Instant::now())
    }

    #[cfg(test)]
    fn token_count(&self) -> usize {
        self.tokens.lock().unwrap().len()
    }
}

/// 32 bytes from the kernel's generator, as 64 hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // SAFETY: the buffer is valid for its length; getrandom fills at most that.
    let filled = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    assert_eq!(filled, bytes.len() as isize, "getrandom failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn respond(
    stream: &mut &TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(&str, String)],
    body: &str,
    close: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nServer: awsenv\r\n",
        body.len()
    );
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Provider for Fixed {
        fn name(&self) -> &str {
            "work"
        }
        fn document(&self) -> Option<String> {
            Some("{}".into())
        }
    }

    #[test]
    fn the_token_store_is_bounded() {
        let state =
            State { provider: Fixed, tokens: Mutex::new(HashMap::new()), connections: AtomicUsize::new(0) };
        let first = state.issue_token(Duration::from_secs(10));
        for _ in 0..MAX_TOKENS * 2 {
            state.issue_token(Duration::from_secs(100));
        }
        assert_eq!(state.token_count(), MAX_TOKENS);
        assert!(!state.token_valid(&first), "the token expiring first made room");
        assert_eq!(random_token().len(), 64);
    }
}
