//! A local endpoint that answers the IMDSv2 paths SDKs use for credentials: a session token from
//! `PUT /latest/api/token`, then `GET /latest/meta-data/iam/security-credentials/[NAME]` with it.
//!
//! HTTP is hyper's HTTP/1 server (its header limits, header-read timeout, HEAD and Content-Length
//! handling); what is ours is the metadata logic: paths, tokens, and the checks that keep the
//! endpoint to local metadata clients. A request is answered from memory and never waits: the
//! provider renews its credentials elsewhere.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue, SERVER, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::error::debug;

mod head_scan;
pub use head_scan::HeadScan;

const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// Headers a proxy adds: a proxy in front would make the endpoint one for the whole network.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];
/// The address EC2's endpoint has; clients redirected to this one send it as their Host.
const EC2_METADATA_ADDRESS: &str = "169.254.169.254";
/// At most this many live tokens; the one expiring first makes room for a new one.
const MAX_TOKENS: usize = 256;
/// At most this many connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 512;
/// A client has this long to send a whole request head (slow senders hold nothing longer).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a request head may take, blank lines before it included (hyper's minimum).
const MAX_HEAD: usize = 8192;

/// What the endpoint hands out. Both methods answer from memory, at once.
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

/// What the endpoint knows between requests: the Host values it answers and the tokens it issued.
pub struct State<P> {
    provider: P,
    /// The Host values a metadata client of this endpoint sends.
    hosts: Vec<String>,
    tokens: Mutex<HashMap<String, Instant>>,
    connections: AtomicUsize,
}

impl<P: Provider> Server<P> {
    pub fn bind(address: IpAddr, port: u16, hop_limit: u8, provider: P) -> Result<Self> {
        let listener = TcpListener::bind((address, port))
            .with_context(|| format!("could not listen on {address}:{port}"))?;
        let state = State::new(provider, listener.local_addr()?);
        Ok(Self { listener, hop_limit, state: Arc::new(state) })
    }

    pub fn port(&self) -> Result<u16> {
        Ok(self.listener.local_addr()?.port())
    }

    /// Serves until the process is stopped.
    pub fn run(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(self.serve())
    }

    async fn serve(self) -> Result<()> {
        self.listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            set_hop_limit(&stream, self.hop_limit);
            let state = Arc::clone(&self.state);
            let over = state.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS;
            let (stream, heads) = HeadScan::new(stream);
            tokio::spawn(async move {
                let service = service_fn(|request| {
                    let repeated =
                        heads.lock().unwrap_or_else(|e| e.into_inner()).pop_front().unwrap_or(false);
                    let answer = match (over, repeated) {
                        (true, _) => text(StatusCode::SERVICE_UNAVAILABLE, "too many connections"),
                        (false, true) => text(StatusCode::BAD_REQUEST, "more than one Content-Length"),
                        (false, false) => handle(&state, &request),
                    };
                    debug!(
                        "imds {} {} -> {}",
                        request.method(),
                        request.uri().path().escape_debug(),
                        answer.status()
                    );
                    async move { Ok::<_, Infallible>(answer) }
                });
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_buf_size(MAX_HEAD)
                    .keep_alive(!over)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                state.connections.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }
}

/// The Host values a local metadata client sends: the bound address, `localhost` (each alone or
/// with the bound port), and EC2's address (for clients redirected here), as aws-vault accepts
/// (99designs/aws-vault#578). None of these is a name a web page can rebind; anything else is.
fn allowed_hosts(bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let ip = match bound.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let mut hosts = Vec::new();
    for name in [ip.as_str(), "localhost"] {
        hosts.extend([name.to_owned(), format!("{name}:{port}")]);
    }
    hosts.extend([EC2_METADATA_ADDRESS.to_owned(), format!("{EC2_METADATA_ADDRESS}:80")]);
    hosts
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    answer(status, "text/plain", body.to_owned())
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(SERVER, HeaderValue::from_static("awsenv"));
    response
}

fn handle<P: Provider, B>(state: &State<P>, request: &Request<B>) -> Response<Full<Bytes>> {
    let headers = request.headers();
    // Before any work: only a local metadata client, directly.
    // Exactly one Host (RFC 9112 3.2): with two, a check of the first says nothing of the other.
    let mut hosts = headers.get_all(HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok().map(str::to_ascii_lowercase),
        _ => None,
    };
    if !host.is_some_and(|host| state.hosts.contains(&host)) {
        return text(StatusCode::FORBIDDEN, "this endpoint answers local metadata clients only (Host)");
    }
    if PROXY_HEADERS.iter().any(|name| headers.contains_key(*name)) {
        return text(StatusCode::FORBIDDEN, "requests through a proxy are refused");
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        return text(StatusCode::BAD_REQUEST, "metadata requests have no body");
    }
    let path = request.uri().path();
    let method = request.method();
    if path == TOKEN_PATH || path == "/latest/api/token/" {
        if method != Method::PUT {
            return text(StatusCode::METHOD_NOT_ALLOWED, "the token path takes PUT");
        }
        let ttl = headers
            .get(TTL_HEADER)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .filter(|t| (1..=21_600).contains(t));
        let Some(ttl) = ttl else {
            return text(StatusCode::BAD_REQUEST, &format!("{TTL_HEADER} must be 1 to 21600 seconds"));
        };
        let mut response = text(StatusCode::OK, &state.issue_token(Duration::from_secs(ttl)));
        response.headers_mut().insert("x-aws-ec2-metadata-token-ttl-seconds", HeaderValue::from(ttl));
        return response;
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PATH) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "metadata paths take GET");
    }
    match headers.get(TOKEN_HEADER).map(|v| v.to_str().unwrap_or("")) {
        None => return text(StatusCode::UNAUTHORIZED, "a session token is required (IMDSv2)"),
        Some(token) if !state.token_valid(token) => {
            return text(StatusCode::UNAUTHORIZED, "invalid or expired session token");
        }
        Some(_) => {}
    }
    let name = state.provider.name();
    match rest.trim_end_matches('/') {
        "" => text(StatusCode::OK, name),
        other if other.strip_prefix('/') == Some(name) => match state.provider.document() {
            Some(document) => answer(StatusCode::OK, "application/json", document),
            None => text(StatusCode::SERVICE_UNAVAILABLE, "no valid credentials; see the awsenv serve log"),
        },
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

/// EC2's endpoint answers with a TTL of 1 so that its answers die at the first hop: a container
/// behind a bridge cannot reach it. The same is set here on every connection.
fn set_hop_limit(stream: &tokio::net::TcpStream, hop_limit: u8) {
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

impl<P: Provider> State<P> {
    /// The state of an endpoint bound to `bound`, with no tokens issued yet.
    pub fn new(provider: P, bound: SocketAddr) -> Self {
        Self {
            provider,
            hosts: allowed_hosts(bound),
            tokens: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
        }
    }

    /// The answer to one request whose head hyper has parsed (the body is not read).
    pub fn answer<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        handle(self, request)
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
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the pointer and length describe the unfilled rest of the buffer.
        let got = unsafe { libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0) };
        if got > 0 {
            filled += got.unsigned_abs();
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        let state = State {
            provider: Fixed,
            hosts: Vec::new(),
            tokens: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
        };
        let first = state.issue_token(Duration::from_secs(10));
        for _ in 0..MAX_TOKENS * 2 {
            state.issue_token(Duration::from_secs(100));
        }
        assert_eq!(state.token_count(), MAX_TOKENS);
        assert!(!state.token_valid(&first), "the token expiring first made room");
        assert_eq!(random_token().len(), 64);
    }

    #[test]
    fn repeated_content_lengths_are_seen_per_head() {
        let (mut scan, verdicts) = HeadScan::new(());
        scan.scan(b"PUT / HTTP/1.1\r\nContent-Length: 2\r\n\r\nxx");
        scan.scan(b"GET / HTTP/1.1\r\nContent-Length: 0\r\nCONTENT-LENGTH: 0\r\n");
        scan.scan(b"\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!(*verdicts.lock().unwrap(), [false, true, false]);
    }

    /// A case of the `imds_request` fuzz target's property (a request whose Host is not one
    /// allowed value is refused): a second Host header was not looked at.
    #[test]
    fn a_request_with_two_hosts_is_refused() {
        let state = State::new(Fixed, "127.0.0.1:9911".parse().unwrap());
        let request = |hosts: &[&str]| {
            let mut builder = Request::builder().method("PUT").uri(TOKEN_PATH).header(TTL_HEADER, "60");
            for host in hosts {
                builder = builder.header(HOST, *host);
            }
            state.answer(&builder.body(()).unwrap()).status()
        };
        assert_eq!(request(&["127.0.0.1:9911"]), StatusCode::OK);
        assert_eq!(request(&["127.0.0.1:9911", "evil.com"]), StatusCode::FORBIDDEN);
        assert_eq!(request(&["evil.com", "127.0.0.1:9911"]), StatusCode::FORBIDDEN);
        assert_eq!(request(&[]), StatusCode::FORBIDDEN);
    }

    #[test]
    fn only_local_metadata_hosts_are_allowed() {
        let hosts = allowed_hosts("127.0.0.1:9911".parse().unwrap());
        for good in ["127.0.0.1:9911", "127.0.0.1", "localhost:9911", "localhost", "169.254.169.254:80"] {
            assert!(hosts.iter().any(|h| h == good), "{good}");
        }
        for bad in ["evil.com", "evil.com:9911", "127.0.0.1:80", "localhost:1", "127.0.0.2:9911", ""] {
            assert!(!hosts.iter().any(|h| h == bad), "{bad}");
        }
        let v6 = allowed_hosts("[::1]:8080".parse().unwrap());
        assert!(v6.iter().any(|h| h == "[::1]:8080"));
    }
}
