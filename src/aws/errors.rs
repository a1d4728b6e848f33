//! What a failed AWS call says to the user: AWS's code and message, or why no answer came, and
//! never the request (the SDK's own messages may quote its body, secrets included).

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::error::{Exit, fail};

/// One line for a failed call: AWS's own code and message when it answered, else why it could not.
pub(crate) fn describe<E>(operation: &str, error: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let raw = service.raw();
            // An error body the SDK could not parse (a proxy's page, an emulator's dialect) still
            // says something: look for the usual tags, else give the HTTP status.
            let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
            let code = inner.code().map(str::to_owned).or_else(|| xml_tag(&body, "Code"));
            let message = inner.message().map(str::to_owned).or_else(|| xml_tag(&body, "Message"));
            let status = raw.status().as_u16();
            let what = match (code, message) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                (None, _) => format!("HTTP {status} with no error code"),
            };
            fail(Exit::Rejected, format!("{operation} failed: {what}"))
        }
        SdkError::TimeoutError(_) => fail(Exit::Unreachable, format!("{operation} timed out")),
        SdkError::DispatchFailure(dispatch) => {
            let why = if dispatch.is_timeout() { "timed out" } else { "could not reach the endpoint" };
            let cause = safe_cause(&error).map(|cause| format!(" ({cause})")).unwrap_or_default();
            fail(Exit::Unreachable, format!("{operation} {why}{cause}"))
        }
        SdkError::ConstructionFailure(_) => fail(
            Exit::Config,
            format!("{operation} could not be made: check AWS_ENDPOINT_URL and the region"),
        ),
        _ => {
            let cause = safe_cause(&error).unwrap_or_else(|| "the answer could not be read".to_owned());
            fail(Exit::Failure, format!("{operation} failed: {cause}"))
        }
    }
}

/// The text of the first `<tag>...</tag>` in an XML body.
fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_owned()).filter(|text| !text.is_empty())
}

/// Why a request got no answer, from the errors in the chain known to say only that (I/O, TLS,
/// HTTP, URI): the SDK's own messages may quote the whole request, body and secrets included.
pub fn safe_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let known = error
            .downcast_ref::<std::io::Error>()
            .map(|e| e.to_string())
            .or_else(|| error.downcast_ref::<rustls::Error>().map(ToString::to_string))
            .or_else(|| error.downcast_ref::<hyper::Error>().map(ToString::to_string))
            .or_else(|| {
                error
                    .downcast_ref::<hyper::http::uri::InvalidUri>()
                    .map(|e| format!("the endpoint is not a valid URL: {e}"))
            });
        if let Some(text) = known
            && !parts.iter().any(|part| part.contains(&text))
        {
            parts.push(text);
        }
        next = error.source();
    }
    (!parts.is_empty()).then(|| parts.join(": "))
}
