use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::{Prompt, Shell};
use crate::config::CurrentSession;
use crate::creds::{Timestamp, prompt_lifetime};
use crate::kinds::Held;
use crate::shared::{ALERT_BELOW, ALERT_COLOR, WARN_BELOW, WARN_COLOR};

/// Prints the prompt segment for fish (which has no clock builtin) and for prompts such as
/// starship's `custom` module. bash and zsh compute the same segment in shell code, with no process.
impl Run for Prompt {
    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(current) = ctx.current_session() else {
            return Ok(());
        };
        let label = label(&current);
        let lifetime = Lifetime {
            expires: current.expires.map(Timestamp),
            renewable: current.renewable.map(Timestamp).is_some_and(|until| until > ctx.now),
        };
        let segment = segment(&label, &lifetime, ctx.now, ctx.color(), self.shell);
        print(segment.as_bytes())
    }
}

/// `work`, or `work/Admin` for a role session. Prompts expand `$(...)`, backticks and `%`: whatever
/// set these variables, only the characters of valid names are shown, anything else as '?'.
pub fn label(current: &CurrentSession) -> String {
    let label = match Held::parse(&current.kind, current.role_arn.as_deref()) {
        Some(Held::Role(arn)) => format!("{}/{}", current.account, arn.rsplit('/').next().unwrap_or(&arn)),
        _ => current.account.clone(),
    };
    label.chars().map(|c| if c.is_ascii_alphanumeric() || "._@+=,/-".contains(c) { c } else { '?' }).collect()
}

/// What the prompt shows of the credentials' life.
pub struct Lifetime {
    /// `None`: keys that never expire.
    pub expires: Option<Timestamp>,
    /// The aws wrapper renews them with no question asked (an SSO sign-in that refreshes).
    pub renewable: bool,
}

/// `(aws:prod+42m) `, `(aws:prod!exp) `, or `(aws:prod) ` for keys that never expire, with `*`
/// after the time when they renew with no question asked (`(aws:dev!exp*) `: expired, but the
/// next aws command renews them without a sign-in). The time is yellow under five minutes and red
/// under one, where colour is wanted.
pub fn segment(label: &str, lifetime: &Lifetime, now: Timestamp, color: bool, shell: Shell) -> String {
    let Some(expires) = lifetime.expires else {
        return format!("(aws:{label}) ");
    };
    let mark = if lifetime.renewable { "*" } else { "" };
    let left = expires.seconds_since(now);
    let (sign, value) = match prompt_lifetime(left) {
        Some(value) => ('+', value),
        None => ('!', "exp".to_owned()),
    };
    let code = match left {
        _ if !color => None,
        l if l < ALERT_BELOW => Some(ALERT_COLOR),
        l if l < WARN_BELOW => Some(WARN_COLOR),
        _ => None,
    };
    let Some(code) = code else {
        return format!("(aws:{label}{sign}{value}{mark}) ");
    };
    let (open, close) = match shell {
        Shell::Bash => ("\\[", "\\]"),
        Shell::Zsh => ("%{", "%}"),
        Shell::Fish => ("", ""),
    };
    format!("(aws:{label}{sign}{open}\x1b[{code}m{close}{value}{open}\x1b[39m{close}{mark}) ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_in_aws_session_notation() {
        let now = Timestamp(1_000_000);
        let at = |left: i64| Lifetime { expires: Some(Timestamp(now.0 + left)), renewable: false };
        let renewable = |left: i64| Lifetime { renewable: true, ..at(left) };
        let keys = Lifetime { expires: None, renewable: false };
        assert_eq!(segment("prod", &at(2520), now, true, Shell::Fish), "(aws:prod+42m) ");
        assert_eq!(segment("prod", &at(7200), now, false, Shell::Fish), "(aws:prod+02h) ");
        assert_eq!(segment("prod", &at(0), now, false, Shell::Fish), "(aws:prod!exp) ");
        assert_eq!(segment("prod", &keys, now, true, Shell::Fish), "(aws:prod) ");
        assert_eq!(segment("prod", &at(299), now, true, Shell::Fish), "(aws:prod+\x1b[33m04m\x1b[39m) ");
        assert_eq!(
            segment("prod", &at(59), now, true, Shell::Bash),
            "(aws:prod+\\[\x1b[31m\\]59s\\[\x1b[39m\\]) "
        );
        assert_eq!(
            segment("prod", &at(-5), now, true, Shell::Zsh),
            "(aws:prod!%{\x1b[31m%}exp%{\x1b[39m%}) "
        );
        assert_eq!(segment("dev", &renewable(2520), now, true, Shell::Fish), "(aws:dev+42m*) ");
        assert_eq!(segment("dev", &renewable(-5), now, false, Shell::Fish), "(aws:dev!exp*) ");
        assert_eq!(
            segment("dev", &renewable(30), now, true, Shell::Zsh),
            "(aws:dev+%{\x1b[31m%}30s%{\x1b[39m%}*) "
        );
    }
}
