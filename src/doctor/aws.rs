//! The way to AWS: the CA bundle, the STS endpoint as the SDK resolves it, a proxy, then DNS,
//! TCP, TLS and an unsigned call (`aws::probe`), each timed, and the clock against the `Date` the
//! endpoint answers with (STS refuses signatures more than 5 minutes off). `--offline` keeps
//! what needs no network.

use std::time::Duration;

use time::PrimitiveDateTime;
use time::macros::format_description;

use super::report::{Section, Status};
use crate::aws::Connection;
use crate::aws::probe::{self, Answer, Step, Target, seconds};
use crate::config::{DoctorEnv, Settings};
use crate::creds::{Clock, Timestamp, human_duration};

/// Skew beyond which the clock is worth a warning, and beyond which STS refuses signatures.
const SKEW_WARN: i64 = 60;
const SKEW_REFUSED: i64 = 300;

const FIX_CLOCK: &str = "sync the clock: sudo timedatectl set-ntp true (or chronyc makestep)";

/// The STS endpoint the SDK is configured with, and where it comes from: the variable that holds
/// it, else the aws CLI's config file (a profile's `endpoint_url` or `services` section).
fn configured_endpoint(
    settings: &Settings,
    vars: &DoctorEnv,
    region: &str,
    timeout: Duration,
) -> Option<(String, String)> {
    let connection = Connection { region: region.to_owned(), timeout, ca_bundle: None };
    let from_env = vars.sts_endpoint.as_ref().map(|(name, url)| ((*name).to_owned(), url.clone()));
    let url = match probe::configured_sts_endpoint(&connection) {
        Ok(url) => url,
        // The SDK could not even read its config: report what the environment says.
        Err(_) => return from_env,
    }?;
    let source = match from_env {
        Some((name, from_env)) if from_env == url => name,
        _ => match settings.aws_config_file() {
            Ok(file) => format!("endpoint_url in {}", file.display()),
            Err(_) => "endpoint_url in the aws CLI's config file".to_owned(),
        },
    };
    Some((source, url))
}

pub fn check(section: &mut Section, settings: &Settings, vars: &DoctorEnv, clock: Clock, offline: bool) {
    let ca_bundle = ca_bundle(section, settings);
    // A refused AWSENV_TIMEOUT is reported with the environment; the probe keeps the default.
    let timeout = settings.timeout().unwrap_or(Duration::from_secs(30));
    let regions = settings.regions(None);
    let configured = configured_endpoint(settings, vars, regions.effective(), timeout);
    if offline {
        let endpoint = configured.as_ref().map_or("the region's default", |(name, _)| name.as_str());
        section.skip(
            "network",
            format!(
                "not checked (--offline): the STS endpoint ({endpoint}), DNS, TCP, TLS, the call \
                and the clock"
            ),
            Some("run awsenv doctor without --offline".to_owned()),
        );
        return;
    }
    let target = Target {
        region: regions.effective(),
        configured: configured.as_ref().map(|(_, url)| url.as_str()),
        timeout,
        ca_bundle,
        proxies: &vars.proxies,
        clock,
    };
    let probe = probe::run(&target);
    let url = match &probe.endpoint {
        Ok(url) => url.clone(),
        Err(why) => {
            let source = configured.as_ref().map_or("the region", |(name, _)| name.as_str());
            section.fail(
                "endpoint",
                format!("no STS endpoint from {source}: {why}"),
                "export AWS_ENDPOINT_URL_STS=https://sts.REGION.amazonaws.com, or unset the endpoint \
                 variables",
            );
            return;
        }
    };
    let source =
        configured.as_ref().map_or(format!("the default for {}", target.region), |(name, _)| name.clone());
    let url = without_credentials(&url);
    let plain = url.starts_with("http://")
        && !["http://127.", "http://localhost", "http://[::1]"].iter().any(|l| url.starts_with(l));
    if plain {
        section.warn(
            "endpoint",
            format!("{url} ({source}) is plain HTTP: session tokens cross the network unencrypted"),
            "use an https:// endpoint",
        );
    } else {
        section.ok("endpoint", format!("{url} ({source})"));
    }
    match &probe.proxy {
        Some(proxy) => section.ok(
            "proxy",
            format!("{proxy}, from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (NO_PROXY does not cover the endpoint)"),
        ),
        None => section.ok("proxy", "none for this endpoint"),
    }
    let fix_network =
        "check the endpoint's host and port, your DNS, VPN or firewall, and HTTPS_PROXY/NO_PROXY";
    step(section, "dns", probe.dns.as_ref(), fix_network);
    step(section, "tcp", probe.tcp.as_ref(), fix_network);
    if let Some(tls) = &probe.tls {
        let fix = match &tls.outcome {
            Err(why) if why.contains("certificate") || why.contains("Certificate") => {
                "a proxy or private endpoint that signs with its own CA needs it in AWS_CA_BUNDLE (a \
                    PEM file)"
            }
            _ => {
                "the endpoint accepted the connection but did not complete TLS: check AWS_ENDPOINT_URL \
                    and the proxy (or raise AWSENV_TIMEOUT)"
            }
        };
        step(section, "tls", Some(tls), fix);
    } else if probe.call.is_some() && probe.proxy.is_some() {
        section.ok("tls", "through the proxy: part of the call");
    } else if probe.call.is_some() {
        section.ok("tls", "none: the endpoint is http://");
    }
    let Some((took, answer)) = probe.call else {
        return;
    };
    match answer {
        Ok(answer) => {
            call(section, took, &answer);
            skew(section, &answer);
        }
        Err(why) => section.fail(
            "call",
            format!("unsigned STS call: {why} ({})", ms(took)),
            format!(
                "the endpoint does not answer: check AWS_ENDPOINT_URL, the proxy, or raise \
                AWSENV_TIMEOUT (now {})",
                seconds(timeout)
            ),
        ),
    }
}

/// `AWS_CA_BUNDLE`, loaded as every AWS call loads it; its PEM when it loads.
fn ca_bundle(section: &mut Section, settings: &Settings) -> Option<Vec<u8>> {
    let Some(path) = &settings.ca_bundle else {
        section.ok("ca bundle", "AWS_CA_BUNDLE not set: the system's roots are trusted");
        return None;
    };
    match crate::aws::ca_bundle(path) {
        Ok(pem) => {
            let count = String::from_utf8_lossy(&pem).matches("-----BEGIN CERTIFICATE-----").count();
            let loads = if count == 1 {
                "1 certificate loads".to_owned()
            } else {
                format!("{count} certificates load")
            };
            section.ok("ca bundle", format!("AWS_CA_BUNDLE {}: {loads}", path.display()));
            Some(pem)
        }
        Err(e) => {
            let fix = "point AWS_CA_BUNDLE at a PEM file of CA certificates (BEGIN CERTIFICATE), or unset it";
            section.error("ca bundle", Status::Fail, &e.context("every AWS call refuses it"), fix);
            None
        }
    }
}

fn step(section: &mut Section, name: &str, step: Option<&Step>, fix: &str) {
    match step {
        Some(Step { took, outcome: Ok(what) }) => section.ok(name, format!("{what} ({})", ms(*took))),
        Some(Step { took, outcome: Err(why) }) => section.fail(name, format!("{why} ({})", ms(*took)), fix),
        None => {}
    }
}

fn call(section: &mut Section, took: Duration, answer: &Answer) {
    let status = answer.status;
    let what = format!("unsigned STS call answered HTTP {status} in {}", ms(took));
    match status {
        407 => section.fail(
            "call",
            format!("{what}: the proxy wants credentials"),
            "put them in the \
            proxy URL: HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT",
        ),
        500.. => section.warn(
            "call",
            format!("{what}: the endpoint has trouble"),
            "try again later; if \
            it stays, check the endpoint and the proxy",
        ),
        _ if !answer.aws_request_id => section.warn(
            "call",
            format!(
                "{what}, without AWS's request id: \
            something else than STS answered (a proxy's or portal's page?)"
            ),
            "check AWS_ENDPOINT_URL and the proxy",
        ),
        _ => section.ok("call", what),
    }
}

/// The clock against the endpoint's `Date` (whole seconds, so a second either way is noise).
fn skew(section: &mut Section, answer: &Answer) {
    let Some(date) = &answer.date else {
        section.warn(
            "clock",
            "the answer had no Date header, so the clock was not compared",
            "run awsenv doctor against the real STS endpoint",
        );
        return;
    };
    let Some(server) = parse_http_date(date) else {
        section.warn(
            "clock",
            format!("the answer's Date {date:?} is not an HTTP date, so the clock was not compared"),
            "check AWS_ENDPOINT_URL",
        );
        return;
    };
    let ahead = answer.received_at.seconds_since(server);
    let off = human_duration(ahead.abs());
    let direction = if ahead > 0 { "ahead of" } else { "behind" };
    match ahead.abs() {
        skew if skew > SKEW_REFUSED => section.fail(
            "clock",
            format!("{off} {direction} the endpoint's: STS refuses signatures more than 5 minutes off"),
            FIX_CLOCK,
        ),
        skew if skew > SKEW_WARN => section.warn(
            "clock",
            format!("{off} {direction} the endpoint's, near the 5 minutes past which STS refuses signatures"),
            FIX_CLOCK,
        ),
        0 | 1 => section.ok("clock", "agrees with the endpoint's (to the second)"),
        _ => section.ok("clock", format!("{off} {direction} the endpoint's, well within STS's 5 minutes")),
    }
}

/// A URL as it may be shown: a `user:password@` in it is left out.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// An HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's preferred form).
fn parse_http_date(text: &str) -> Option<Timestamp> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let parsed = PrimitiveDateTime::parse(text.trim(), format).ok()?;
    Some(Timestamp(parsed.assume_utc().unix_timestamp()))
}

/// `12 ms`, or `1.5 s` from a second on.
fn ms(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_and_others_do_not() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Timestamp(784_111_777)));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("1994-11-06T08:49:37Z"), None);
    }

    #[test]
    fn credentials_in_an_endpoint_url_are_not_shown() {
        assert_eq!(without_credentials("https://me:pw@sts.example.com/x@y"), "https://sts.example.com/x@y");
        assert_eq!(without_credentials("http://127.0.0.1:5000"), "http://127.0.0.1:5000");
    }
}
