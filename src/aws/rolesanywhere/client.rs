//! The SDK's machinery for one CreateSession: its HTTP client with the TLS and proxy settings
//! awsenv's STS calls have, its standard retries and awsenv's timeouts.

use std::time::Duration;

use anyhow::Result;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder as HttpClientBuilder, ConnectorBuilder};
use aws_smithy_runtime::client::orchestrator::operation::{Operation, OperationBuilder};
use aws_smithy_runtime::client::retries::classifiers::{HttpStatusCodeClassifier, TransientErrorClassifier};

use super::{Connection, ServiceError, X509Signer};
use crate::error::{Exit, fail};

/// An operation builder for `endpoint` with everything but its serializer and deserializer.
pub(super) fn operation(
    endpoint: &str,
    connection: &Connection,
    with_proxy: bool,
    signer: X509Signer,
) -> Result<OperationBuilder> {
    let mut trust = TrustStore::empty().with_native_roots(true);
    if let Some(bundle) = &connection.ca_bundle {
        trust = trust.with_pem_certificate(super::super::ca_bundle(bundle)?);
    }
    let context = TlsContext::builder().with_trust_store(trust).build().map_err(|e| {
        let bundle = connection.ca_bundle.as_ref().map(|b| b.display().to_string()).unwrap_or_default();
        fail(Exit::Config, format!("AWS_CA_BUNDLE {bundle}: {e}"))
    })?;
    // HTTPS_PROXY / NO_PROXY only with `--with-proxy` (aws_signing_helper's rule), or from a store
    // file, whose accounts use the proxy by default as awsenv's STS calls do.
    let proxy = if with_proxy { ProxyConfig::from_env() } else { ProxyConfig::disabled() };
    let http_client = HttpClientBuilder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .tls_context(context.clone())
            .proxy_config(proxy.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.build()
    });
    // As for STS: one attempt may take the whole budget, so a retry still fits when it can.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(connection.timeout.min(Duration::from_secs(5)))
        .operation_attempt_timeout(connection.timeout)
        .operation_timeout(connection.timeout)
        .build();
    Ok(Operation::builder()
        .service_name("rolesanywhere")
        .operation_name("CreateSession")
        .endpoint_url(endpoint)
        .http_client(http_client)
        .no_auth()
        .with_connection_poisoning()
        .interceptor(signer)
        .sleep_impl(TokioSleep::new())
        .timeout_config(timeouts)
        .standard_retry(&RetryConfig::standard().with_max_attempts(3))
        .retry_classifier(TransientErrorClassifier::<ServiceError>::new())
        .retry_classifier(HttpStatusCodeClassifier::default()))
}
