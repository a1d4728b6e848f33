//! The SDK's machinery for one CreateSession: its HTTP client with the TLS and proxy settings
//! awsenv's STS calls have, its standard retries and awsenv's timeouts.

use std::time::Duration;

use anyhow::Result;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime::client::orchestrator::operation::{Operation, OperationBuilder};
use aws_smithy_runtime::client::retries::classifiers::{HttpStatusCodeClassifier, TransientErrorClassifier};

use super::{Connection, ServiceError, X509Signer};

/// An operation builder for `endpoint` with everything but its serializer and deserializer.
pub(super) fn operation(
    endpoint: &str,
    connection: &Connection,
    with_proxy: bool,
    signer: X509Signer,
) -> Result<OperationBuilder> {
    // HTTPS_PROXY / NO_PROXY only with `--with-proxy` (aws_signing_helper's rule), or from a store
    // file, whose accounts use the proxy by default as awsenv's STS calls do.
    let proxy = if with_proxy { ProxyConfig::from_env() } else { ProxyConfig::disabled() };
    let http_client = super::super::http::client(connection.ca_bundle.as_deref(), proxy)?;
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
