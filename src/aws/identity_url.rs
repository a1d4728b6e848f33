//! A presigned STS GetCallerIdentity URL: proof of who the caller is that a third party (the
//! signer Lambda) can check by fetching it, without ever holding the caller's keys.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::creds::Credentials;

/// Characters SigV4 leaves unencoded in a query (RFC 3986's unreserved set).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Which STS endpoint the URL names: the global one (signed for us-east-1), which the seed's
/// Lambda insists on, or the caller's regional one.
pub enum StsEndpoint<'a> {
    Global,
    Regional(&'a str),
}

/// `https://sts.../?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...`, valid for `expires_in`
/// from `now`.
pub fn presigned_caller_identity_url(
    creds: &Credentials,
    endpoint: StsEndpoint,
    now: SystemTime,
    expires_in: Duration,
) -> Result<String> {
    let (host, region) = match endpoint {
        StsEndpoint::Global => ("sts.amazonaws.com".to_owned(), "us-east-1"),
        StsEndpoint::Regional(region) => (format!("sts.{region}.amazonaws.com"), region),
    };
    let token = creds.session_token.as_ref().map(|t| t.as_str("the session token")).transpose()?;
    let sdk_creds = aws_credential_types::Credentials::new(
        creds.access_key_id.as_str("the access key id")?,
        creds.secret_access_key.as_str("the secret key")?,
        token.map(str::to_owned),
        None,
        "awsenv",
    );
    let identity = sdk_creds.into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .context("SigV4 parameters for the identity URL")?
        .into();
    let mut url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .context("the identity URL cannot be signed")?;
    let (instructions, _signature) = sign(request, &params).context("signing the identity URL")?.into_parts();
    for (name, value) in instructions.params() {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::Secret;

    #[test]
    fn the_url_carries_the_expiry_and_the_token() {
        let creds = Credentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("secret"),
            session_token: Some(Secret::new("tok/en+=")),
            expiration: None,
        };
        let url = presigned_caller_identity_url(
            &creds,
            StsEndpoint::Global,
            SystemTime::UNIX_EPOCH,
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(
            url.starts_with("https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(url.contains("X-Amz-Security-Token=tok%2Fen%2B%3D"), "{url}");
        assert!(
            url.contains("X-Amz-Credential=AKIDEXAMPLE%2F19700101%2Fus-east-1%2Fsts%2Faws4_request"),
            "{url}"
        );
        assert!(!url.contains("secret"), "{url}");
    }
}
