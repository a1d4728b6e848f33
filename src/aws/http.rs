//! The HTTP client of every AWS call: the SDK's own hyper client over rustls with ring, trusting
//! the system's roots and `AWS_CA_BUNDLE`'s. Every SDK config and the Roles Anywhere `Operation`
//! get it, so the SDK's default client (rustls with aws-lc) is not built into awsenv.

use std::path::Path;

use anyhow::Result;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder, HttpClientError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::error::{Exit, fail};

/// rustls with ring: the TLS of every AWS call and of `doctor`'s probe.
pub fn tls_provider() -> tls::Provider {
    tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)
}

/// The system's roots, and the PEM certificates of `AWS_CA_BUNDLE` (already checked) when set.
pub fn tls_context(ca_bundle: Option<Vec<u8>>) -> Result<TlsContext, HttpClientError> {
    let mut trust = TrustStore::empty().with_native_roots(true);
    if let Some(pem) = ca_bundle {
        trust = trust.with_pem_certificate(pem);
    }
    TlsContext::builder().with_trust_store(trust).build()
}

/// The client the SDK would make by default (its connector settings, sleep and pool), with the
/// trust of `ca_bundle` besides the system's and the proxy rules of `proxy`:
/// `ProxyConfig::from_env()` is the SDK's own default (`HTTPS_PROXY`, `NO_PROXY`).
pub fn client(ca_bundle: Option<&Path>, proxy: ProxyConfig) -> Result<SharedHttpClient> {
    let pem = ca_bundle.map(super::ca_bundle).transpose()?;
    let context = tls_context(pem).map_err(|e| {
        let bundle = ca_bundle.map(|b| b.display().to_string()).unwrap_or_default();
        fail(Exit::Config, format!("AWS_CA_BUNDLE {bundle}: {e}"))
    })?;
    Ok(Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls_provider())
            .tls_context(context.clone())
            .proxy_config(proxy.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.build()
    }))
}
