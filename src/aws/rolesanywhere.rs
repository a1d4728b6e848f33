//! IAM Roles Anywhere CreateSession, signed with an X.509 identity (SigV4-X509). The SDK has no
//! client for it, so the call is a smithy `Operation` on the SDK's runtime: its HTTP client (the
//! same TLS, `AWS_CA_BUNDLE` and proxy handling as STS), retries and timeouts. Only the signature
//! is ours, made afresh for each attempt by an interceptor.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Result;
use aws_sdk_sts::error::{ErrorMetadata, ProvideErrorMetadata};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Deserialize;

use super::Connection;
use crate::creds::{Credentials, Secret, Timestamp};
use crate::error::{Exit, Fail, debug, fail};
use crate::x509::{Certificate, CertificateSource, Digest, Identity};

mod canonical;
mod client;

/// Headers the service leaves out of the signature, as aws_signing_helper does.
const UNSIGNED: &[&str] = &["authorization", "user-agent", "x-amzn-trace-id"];

/// Loads the source's identity, checks it, and asks IAM Roles Anywhere for a session.
pub fn create_session(
    source: &CertificateSource,
    connection: &Connection,
    now: Timestamp,
) -> Result<Credentials> {
    source.check()?;
    let identity = crate::x509::load_identity(source.key_spec(), now)?;
    create_session_with(source, identity, connection)
}

/// CreateSession with an identity already loaded (a token's key stays logged in between calls).
pub fn create_session_with(
    source: &CertificateSource,
    identity: Identity,
    connection: &Connection,
) -> Result<Credentials> {
    let endpoint = source.endpoint()?;
    let region = connection.region.clone();
    debug!(
        "rolesanywhere CreateSession {endpoint} region {region} {} serial {} role {} duration {}s",
        identity.kind().algorithm(),
        identity.leaf.serial_decimal(),
        source.role_arn,
        source.session_duration
    );
    let input = Input {
        query: canonical::query(&source.profile_arn, &source.role_arn, &source.trust_anchor_arn),
        body: body(source),
        certificate: identity.leaf.base64(),
        chain: identity.chain.iter().map(Certificate::base64).collect(),
    };
    let signer = X509Signer { identity: Arc::new(identity), region };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let operation = client::operation(&endpoint, connection, source.with_proxy, signer)?
        .serializer(serialize)
        .deserializer(deserialize)
        .build();
    runtime.block_on(operation.invoke(input)).map_err(explain)
}

fn body(source: &CertificateSource) -> Vec<u8> {
    let mut body = serde_json::json!({ "durationSeconds": source.session_duration });
    if let Some(name) = &source.role_session_name {
        body["roleSessionName"] = serde_json::Value::String(name.clone());
    }
    body.to_string().into_bytes()
}

/// What the request carries; nothing in it is secret.
#[derive(Debug)]
struct Input {
    query: String,
    body: Vec<u8>,
    certificate: String,
    chain: Vec<String>,
}

fn serialize(input: Input) -> Result<HttpRequest, BoxError> {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("/sessions?{}", input.query))
        .header("content-type", "application/json")
        .header("x-amz-x509", input.certificate);
    if !input.chain.is_empty() {
        request = request.header("x-amz-x509-chain", input.chain.join(","));
    }
    Ok(HttpRequest::try_from(request.body(SdkBody::from(input.body))?)?)
}

/// Signs each attempt just before it is sent, when its URI, headers and body are final.
struct X509Signer {
    identity: Arc<Identity>,
    region: String,
}

impl fmt::Debug for X509Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X509Signer(serial {}, {})", self.identity.leaf.serial_decimal(), self.region)
    }
}

impl Intercept for X509Signer {
    fn name(&self) -> &'static str {
        "X509Signer"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The SDK's clock (its default is the system's): each attempt is signed as it is sent.
        #[allow(clippy::disallowed_methods, reason = "a signature's date is the moment it is sent")]
        let now = components.time_source().map_or_else(SystemTime::now, |clock| clock.now());
        let request = context.request_mut();
        let uri: http::Uri = request.uri().parse()?;
        let host = uri.authority().ok_or("the endpoint has no host")?.as_str().to_owned();
        let amz_date = canonical::amz_date(now);
        request.headers_mut().insert("host", host);
        request.headers_mut().insert("x-amz-date", amz_date.clone());
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .filter(|(name, _)| !UNSIGNED.contains(&name.as_str()))
            .collect();
        let body = request.body().bytes().ok_or("the request body is not in memory")?;
        let (canonical_request, signed_headers) =
            canonical::request("POST", uri.path(), uri.query().unwrap_or(""), &headers, body);
        let algorithm = self.identity.kind().algorithm();
        let scope = canonical::scope(&amz_date, &self.region);
        let to_sign = canonical::string_to_sign(algorithm, &amz_date, &scope, &canonical_request);
        let signature = self.identity.sign(Digest::Sha256, to_sign.as_bytes()).map_err(as_fail)?;
        let authorization = format!(
            "{algorithm} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
            self.identity.leaf.serial_decimal(),
            crate::x509::hex(&signature)
        );
        request.headers_mut().insert("authorization", authorization);
        Ok(())
    }
}

/// An awsenv error as one the orchestrator can carry back unchanged.
fn as_fail(error: anyhow::Error) -> BoxError {
    let exit =
        error.chain().find_map(|cause| cause.downcast_ref::<Fail>()).map_or(Exit::Failure, |own| own.exit);
    Box::new(Fail { exit, message: crate::error::one_line(&error) })
}

/// The service's error: its type (`x-amzn-ErrorType`) and message, never its body.
#[derive(Debug)]
struct ServiceError(ErrorMetadata);

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code().unwrap_or("error"), self.0.message().unwrap_or("(no message)"))
    }
}

impl std::error::Error for ServiceError {}

impl ProvideErrorMetadata for ServiceError {
    fn meta(&self) -> &ErrorMetadata {
        &self.0
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(alias = "Message")]
    message: Option<String>,
    #[serde(rename = "__type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    credential_set: Vec<CredentialSetItem>,
}

#[derive(Deserialize)]
struct CredentialSetItem {
    credentials: AnswerCredentials,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

fn deserialize(response: &HttpResponse) -> Result<Credentials, OrchestratorError<ServiceError>> {
    let body = response.body().bytes().unwrap_or_default();
    if !response.status().is_success() {
        let error_type = response.headers().get("x-amzn-errortype");
        return Err(OrchestratorError::operation(ServiceError(error_from_answer(error_type, body))));
    }
    session_from_answer(body)
        .map_err(|message| OrchestratorError::other(Fail { exit: Exit::Rejected, message }))
}

/// The code and message of a failed answer: the `x-amzn-errortype` header or the body's `__type`,
/// as `AccessDeniedException:http://internal...` or `com.amazon...#AccessDeniedException`, and
/// the body's message cut to 400 characters.
pub(crate) fn error_from_answer(error_type: Option<&str>, body: &[u8]) -> ErrorMetadata {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let kind = error_type.map(str::to_owned).or_else(|| parsed.as_ref().and_then(|p| p.kind.clone()));
    let code = kind.map(|kind| {
        let kind = kind.split(':').next().unwrap_or_default();
        kind.rsplit('#').next().unwrap_or_default().to_owned()
    });
    let mut meta = ErrorMetadata::builder();
    if let Some(code) = code.filter(|code| !code.is_empty()) {
        meta = meta.code(code);
    }
    if let Some(message) = parsed.and_then(|p| p.message) {
        meta = meta.message(message.chars().take(400).collect::<String>());
    }
    meta.build()
}

/// The first credentials of a successful answer's body, or why there are none. Empty keys are
/// refused like missing ones: they would only fail later, at the first signed call.
pub(crate) fn session_from_answer(body: &[u8]) -> Result<Credentials, String> {
    let unreadable = |why: &str| format!("rolesanywhere CreateSession: the answer {why}");
    let answer: SessionAnswer =
        serde_json::from_slice(body).map_err(|e| unreadable(&crate::files::json_error(&e)))?;
    let Some(first) = answer.credential_set.into_iter().next() else {
        return Err(unreadable(
            "holds no credentials (unable to obtain temporary security credentials from CreateSession)",
        ));
    };
    let creds = first.credentials;
    if [&creds.access_key_id, &creds.secret_access_key, &creds.session_token].iter().any(|v| v.is_empty()) {
        return Err(unreadable("holds an empty access key id, secret key or session token"));
    }
    let expiration = Timestamp::parse_rfc3339(&creds.expiration)
        .map_err(|_| unreadable("has an expiration that is not an RFC 3339 time"))?;
    Ok(Credentials {
        access_key_id: Secret::new(creds.access_key_id),
        secret_access_key: Secret::new(creds.secret_access_key),
        session_token: Some(Secret::new(creds.session_token)),
        expiration: Some(expiration),
    })
}

/// One line: our own failure as it was, else what `describe` says of the SDK's error.
fn explain(error: SdkError<ServiceError, HttpResponse>) -> anyhow::Error {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = next {
        if let Some(own) = cause.downcast_ref::<Fail>() {
            return fail(own.exit, own.message.clone());
        }
        next = cause.source();
    }
    super::describe("rolesanywhere CreateSession", error)
}
