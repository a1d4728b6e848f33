//! The device authorization flow (RFC 8628): the user opens a URL on any device and approves
//! the code shown here, while awsenv polls CreateToken. For SSH sessions, containers and
//! machines without a display, where no browser can reach a listener on this machine.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::browser::tell;
use super::signin::{Deadline, denied};
use crate::aws::sso_oidc::{ClientId, Grant, Oidc, Token, TokenError};
use crate::error::{Exit, fail};

/// RFC 8628 3.5: a `slow_down` answer adds 5 seconds to the interval for good.
const SLOW_DOWN: i64 = 5;

/// Starts a device authorization, shows its URL and code, and polls until the user approves,
/// denies, or the code or `deadline` runs out.
pub fn sign_in(
    oidc: &Oidc,
    client: &ClientId,
    start_url: &str,
    label: &str,
    deadline: Deadline,
) -> Result<Token> {
    let device = oidc.start_device_authorization(client, start_url)?;
    let ends = deadline.at.min(Instant::now() + Duration::from_secs(device.expires_in.max(1).unsigned_abs()));
    let complete = device.verification_uri_complete.as_deref();
    let mut lines =
        vec![format!("to sign in to {label}, open {}", complete.unwrap_or(&device.verification_uri))];
    lines.push(match complete {
        Some(_) => format!(
            "and check that it shows the code {} (or open {} and enter it)",
            device.user_code, device.verification_uri
        ),
        None => format!("and enter the code {}", device.user_code),
    });
    lines.push(format!(
        "waiting for the approval (at most {}s)...",
        ends.saturating_duration_since(Instant::now()).as_secs()
    ));
    tell(&lines);
    let mut interval = device.interval;
    loop {
        let wait = Duration::from_secs(interval.max(1).unsigned_abs());
        if Instant::now() + wait > ends {
            return Err(deadline.passed(label));
        }
        std::thread::sleep(wait);
        match oidc.create_token(client, &Grant::DeviceCode(&device.device_code)) {
            Ok(token) => return Ok(token),
            Err(TokenError::Pending) => {}
            Err(TokenError::SlowDown) => interval += SLOW_DOWN,
            Err(TokenError::Denied) => return Err(denied(label)),
            Err(TokenError::Expired) => return Err(deadline.passed(label)),
            Err(TokenError::InvalidGrant) => {
                return Err(fail(
                    Exit::Rejected,
                    format!("the sign-in to {label} was refused: the device code is no longer valid"),
                ));
            }
            Err(TokenError::InvalidClient) => {
                return Err(fail(
                    Exit::Rejected,
                    format!("the sign-in to {label} was refused: the client registration is not valid"),
                ));
            }
            Err(TokenError::Other(e)) => return Err(e),
        }
    }
}
