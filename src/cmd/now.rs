use anyhow::Result;

use super::{Context, Run, print};
use crate::creds::{Timestamp, human_duration};
use crate::error::{Exit, silent};

/// Describes the credentials this shell holds, from its variables alone.
pub struct Now;

impl Run for Now {
    fn run(&self, ctx: &Context) -> Result<()> {
        let state = ctx.shell_state();
        let Some(label) = state.label else {
            eprintln!("No keys set");
            return Err(silent(Exit::Config));
        };
        let mut out = format!("Keys set for {label} AWS account\n");
        if let Some(region) = state.region {
            out.push_str(&format!("Region is {region}\n"));
        }
        if let Some(expires) = state.expires.and_then(|e| e.parse::<i64>().ok()).map(Timestamp) {
            let left = expires.seconds_since(ctx.now);
            if left > 0 {
                out.push_str(&format!(
                    "Session ends in {}, at {}\n",
                    human_duration(left),
                    expires.human_utc()
                ));
            } else {
                out.push_str(&format!(
                    "Session expired {} ago, at {}\n",
                    human_duration(left.saturating_neg()),
                    expires.human_utc()
                ));
            }
        }
        if let Some(until) = state.renewable.and_then(|e| e.parse::<i64>().ok()).map(Timestamp) {
            let left = until.seconds_since(ctx.now);
            if left > 0 {
                out.push_str(&format!(
                    "Renewed with no sign-in or code for {}, until {}\n",
                    human_duration(left),
                    until.human_utc()
                ));
            }
        }
        print(out.as_bytes())
    }
}
