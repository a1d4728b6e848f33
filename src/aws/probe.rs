//! How `awsenv doctor` reaches STS without credentials: the endpoint as the SDK resolves it, then
//! each step of a connection timed on its own (DNS, TCP, TLS with the roots the SDK trusts), then
//! one unsigned request through the SDK's own HTTP connector (the proxy, the trust and the time
//! limit every AWS call has), whose `Date` header tells how far the clock is off. Nothing is
//! signed and no credential is sent.

use std::future::Future;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use hyper::http::Uri;
use hyper_util::client::proxy::matcher::Matcher;

use crate::creds::{Clock, Timestamp};

/// An unsigned GetCallerIdentity: STS answers it with an error that proves it is STS, and
/// nothing in it is a secret.
const UNSIGNED_CALL: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// Where and how to probe.
pub struct Target<'a> {
    pub region: &'a str,
    /// The configured endpoint (`configured_sts_endpoint`), when there is one.
    pub configured: Option<&'a str>,
    /// `AWSENV_TIMEOUT`: the limit of each step.
    pub timeout: Duration,
    /// The PEM of an `AWS_CA_BUNDLE` that loads, trusted besides the system's roots.
    pub ca_bundle: Option<Vec<u8>>,
    pub proxies: &'a Matcher,
    pub clock: Clock,
}

/// One step: how long it took, and what it found or why it failed.
pub struct Step {
    pub took: Duration,
    pub outcome: Result<String, String>,
}

/// What the endpoint answered the unsigned call with.
pub struct Answer {
    pub status: u16,
    /// The `Date` header, as sent.
    pub date: Option<String>,
    /// The local clock when the answer came.
    pub received_at: Timestamp,
    /// Whether it carries AWS's request id header, as every answer of STS does.
    pub aws_request_id: bool,
}

pub struct Probe {
    /// The endpoint URL, or why there is none.
    pub endpoint: Result<String, String>,
    /// The proxy the SDK goes through for it, as `scheme://host:port` (never its credentials).
    pub proxy: Option<String>,
    /// Each step, `None` when not tried (an earlier one failed, or it does not apply).
    pub dns: Option<Step>,
    pub tcp: Option<Step>,
    pub tls: Option<Step>,
    pub call: Option<(Duration, Result<Answer, String>)>,
}

pub fn run(target: &Target) -> Probe {
    let mut probe =
        Probe { endpoint: resolve(target), proxy: None, dns: None, tcp: None, tls: None, call: None };
    let Ok(url) = probe.endpoint.clone() else {
        return probe;
    };
    let uri = match url.parse::<Uri>() {
        Ok(uri) if uri.host().is_some() && matches!(uri.scheme_str(), Some("http" | "https")) => uri,
        _ => {
            probe.endpoint = Err(format!("{url} is not an http:// or https:// URL"));
            return probe;
        }
    };
    let proxy = target.proxies.intercept(&uri).map(|intercept| intercept.uri().clone());
    probe.proxy = proxy.as_ref().map(shown);
    // Through a proxy, the steps that can be timed alone are those to the proxy.
    let direct = proxy.as_ref().unwrap_or(&uri);
    let host = direct.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let https = direct.scheme_str() == Some("https");
    let port = direct.port_u16().unwrap_or(if https { 443 } else { 80 });
    let (dns, addresses) = lookup(&host, port, target.timeout);
    probe.dns = Some(dns);
    if addresses.is_empty() {
        return probe;
    }
    let (tcp, stream) = connect(&addresses, target.timeout);
    probe.tcp = Some(tcp);
    let Some(stream) = stream else {
        return probe;
    };
    if proxy.is_none() && https {
        let tls = handshake(stream, &host, target);
        let failed = tls.outcome.is_err();
        probe.tls = Some(tls);
        if failed {
            return probe;
        }
    }
    probe.call = Some(call(&url, target));
    probe
}

/// The STS endpoint configured for the SDK, read by the SDK's own config loader as awsenv's STS
/// clients get it: `AWS_ENDPOINT_URL_STS`, the profile's `services` section, `AWS_ENDPOINT_URL`,
/// the profile's `endpoint_url` (none of them under `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or
/// the profile's `ignore_configured_endpoint_urls`). `None`: the region's default.
pub fn configured_sts_endpoint(connection: &crate::aws::Connection) -> anyhow::Result<Option<String>> {
    use aws_types::service_config::ServiceConfigKey;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let config = runtime.block_on(crate::aws::unsigned_config(connection))?;
    // The key an STS client built from this config looks its endpoint up with.
    let key = ServiceConfigKey::builder()
        .service_id("STS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .map_err(|e| anyhow::anyhow!("the SDK's endpoint key: {e}"))?;
    Ok(config
        .service_config()
        .and_then(|service| service.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned)))
}

/// The endpoint the SDK's own rules give STS: the configured one, else the region's.
fn resolve(target: &Target) -> Result<String, String> {
    let params = Params::builder()
        .region(target.region)
        .use_dual_stack(false)
        .use_fips(false)
        .use_global_endpoint(false)
        .set_endpoint(target.configured.map(str::to_owned))
        .build()
        .map_err(|e| e.to_string())?;
    let resolver = DefaultResolver::new();
    // The SDK's resolver computes; it never waits, so its future is ready at the first poll.
    let mut future = std::pin::pin!(resolver.resolve_endpoint(&params));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(endpoint) => Ok(endpoint.map_err(|e| e.to_string())?.url().to_owned()),
        std::task::Poll::Pending => Err("the SDK's endpoint rules gave no answer".to_owned()),
    }
}

/// A proxy's address as it may be shown: scheme, host and port, without credentials.
fn shown(uri: &Uri) -> String {
    let port = uri.port_u16().map(|port| format!(":{port}")).unwrap_or_default();
    format!("{}://{}{port}", uri.scheme_str().unwrap_or("http"), uri.host().unwrap_or_default())
}

/// Resolves `host`, in a thread of its own so that a resolver that never answers costs
/// `timeout`, no more.
fn lookup(host: &str, port: u16, timeout: Duration) -> (Step, Vec<SocketAddr>) {
    let start = Instant::now();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let step = Step { took: start.elapsed(), outcome: Ok(format!("{host} is an address: no lookup")) };
        return (step, vec![SocketAddr::new(ip, port)]);
    }
    let (sender, receiver) = mpsc::channel();
    let name = host.to_owned();
    std::thread::spawn(move || {
        let _ = sender.send((name.as_str(), port).to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    let result = receiver.recv_timeout(timeout);
    let took = start.elapsed();
    let (outcome, addresses) = match result {
        Ok(Ok(addresses)) if !addresses.is_empty() => {
            let ips: Vec<String> = addresses.iter().take(3).map(|a| a.ip().to_string()).collect();
            (Ok(format!("{host} is {}", ips.join(", "))), addresses)
        }
        Ok(Ok(_)) => (Err(format!("{host} has no address")), Vec::new()),
        Ok(Err(e)) => (Err(format!("{host} could not be resolved: {e}")), Vec::new()),
        Err(_) => {
            (Err(format!("{host}: no answer from the resolver within {}", seconds(timeout))), Vec::new())
        }
    };
    (Step { took, outcome }, addresses)
}

/// Connects to the first address that accepts within the time left.
fn connect(addresses: &[SocketAddr], timeout: Duration) -> (Step, Option<TcpStream>) {
    let start = Instant::now();
    let mut last = String::new();
    for address in addresses {
        let Some(left) = timeout.checked_sub(start.elapsed()).filter(|left| !left.is_zero()) else {
            break;
        };
        match TcpStream::connect_timeout(address, left) {
            Ok(stream) => {
                let step = Step { took: start.elapsed(), outcome: Ok(format!("connected to {address}")) };
                return (step, Some(stream));
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("{address}: no answer within {}", seconds(timeout));
            }
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    let took = start.elapsed();
    if last.is_empty() {
        last = format!("no connection within {}", seconds(timeout));
    }
    (Step { took, outcome: Err(last) }, None)
}

/// A TLS handshake with the roots the SDK trusts: the system's, and the bundle's.
fn handshake(mut stream: TcpStream, host: &str, target: &Target) -> Step {
    let start = Instant::now();
    let outcome = (|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(pem) = &target.ca_bundle {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            roots.add_parsable_certificates(CertificateDer::pem_slice_iter(pem).flatten());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let mut tls = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
        while tls.is_handshaking() {
            let left = target.timeout.checked_sub(start.elapsed()).filter(|left| !left.is_zero());
            let Some(left) = left else {
                return Err(format!("no handshake within {}", seconds(target.timeout)));
            };
            stream
                .set_read_timeout(Some(left))
                .and_then(|()| stream.set_write_timeout(Some(left)))
                .map_err(|e| e.to_string())?;
            tls.complete_io(&mut stream).map_err(|e| match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    format!("no handshake within {}", seconds(target.timeout))
                }
                std::io::ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
                _ => e.to_string(),
            })?;
        }
        let version = tls.protocol_version().map_or("TLS".to_owned(), |v| format!("{v:?}").replace('_', "."));
        Ok(format!("{version}, certificate of {host} trusted"))
    })();
    Step { took: start.elapsed(), outcome }
}

/// The unsigned call through the SDK's HTTP connector, on a connection of its own.
fn call(url: &str, target: &Target) -> (Duration, Result<Answer, String>) {
    let start = Instant::now();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return (start.elapsed(), Err(e.to_string())),
    };
    let result = runtime.block_on(async {
        let context = super::http::tls_context(target.ca_bundle.clone()).map_err(|e| e.to_string())?;
        let connector = aws_smithy_http_client::Connector::builder()
            .tls_provider(super::http::tls_provider())
            .tls_context(context)
            .proxy_config(ProxyConfig::from_env())
            .build();
        let mut request = HttpRequest::new(SdkBody::from(UNSIGNED_CALL));
        request.set_method("POST").map_err(|e| e.to_string())?;
        request.set_uri(url).map_err(|e| e.to_string())?;
        request.headers_mut().insert("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        let response = tokio::time::timeout(target.timeout, connector.call(request))
            .await
            .map_err(|_| format!("no answer within {}", seconds(target.timeout)))?
            .map_err(|e| super::safe_cause(&e).unwrap_or_else(|| "no answer".to_owned()))?;
        let received_at = target.clock.now();
        let headers = response.headers();
        Ok(Answer {
            status: response.status().as_u16(),
            date: headers.get("date").map(str::to_owned),
            received_at,
            aws_request_id: headers.get("x-amzn-requestid").is_some(),
        })
    });
    // The connector's pool may hold a connection that never answered: leave it behind.
    runtime.shutdown_background();
    (start.elapsed(), result)
}

/// A duration as people write a time limit: `2s`, `0.5s`.
pub fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}
