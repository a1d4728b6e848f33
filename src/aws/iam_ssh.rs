//! IAM's SSH public keys and group members, for `authorized-keys`: the only IAM calls a login makes.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_iam::types::{EncodingType, StatusType};
use aws_sdk_sts::config::Region;
use aws_smithy_http_client::proxy::ProxyConfig;

use super::{Aws, describe};
use crate::error::{Exit, debug, fail};

/// The active keys of one IAM user, as their bodies (`ssh-ed25519 AAAA... comment`).
pub struct UserKeys {
    pub user: String,
    pub bodies: Vec<String>,
}

impl Aws {
    /// A connection with the SDK's own credential chain (environment, profile, the instance's role
    /// through IMDS), for a server that holds no awsenv store. `profile` picks a profile of the
    /// aws CLI's files; the whole chain, retries included, gives up after `timeout`.
    pub fn connect_default_chain(region: &str, profile: Option<&str>, timeout: Duration) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout)
            .build();
        // What the SDK's default client would be: the system's roots and the SDK's proxy rules.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(timeouts)
            .http_client(super::http::client(None, ProxyConfig::from_env())?);
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        let config = runtime.block_on(loader.load());
        Ok(Self { runtime, config })
    }

    /// The active SSH keys of each user in `users`, all fetched within `budget`. A user IAM does not
    /// know (deleted) has no keys; any other failure fails the whole call, so that a partial answer
    /// never replaces a complete one in the cache.
    pub fn ssh_keys_of(&self, users: &[String], budget: Duration) -> Result<Vec<UserKeys>> {
        let work = async {
            let mut all = Vec::new();
            for user in users {
                all.push(UserKeys { user: user.clone(), bodies: self.active_keys(user).await? });
            }
            Ok::<_, anyhow::Error>(all)
        };
        self.with_budget(work, budget, "iam ListSSHPublicKeys")
    }

    /// The members of each group in `groups` (a group IAM does not know has none), within `budget`.
    pub fn members_of(&self, groups: &[String], budget: Duration) -> Result<Vec<(String, Vec<String>)>> {
        let work = async {
            let mut all = Vec::new();
            for group in groups {
                all.push((group.clone(), self.group_members(group).await?));
            }
            Ok::<_, anyhow::Error>(all)
        };
        self.with_budget(work, budget, "iam GetGroup")
    }

    fn with_budget<T>(
        &self,
        work: impl Future<Output = Result<T>>,
        budget: Duration,
        operation: &str,
    ) -> Result<T> {
        // The timer needs the runtime's context: make it inside the block.
        match self.runtime.block_on(async { tokio::time::timeout(budget, work).await }) {
            Ok(result) => result,
            Err(_) => Err(fail(Exit::Unreachable, format!("{operation} timed out after {budget:?}"))),
        }
    }

    async fn active_keys(&self, user: &str) -> Result<Vec<String>> {
        debug!("iam ListSSHPublicKeys user {user}");
        let mut ids = Vec::new();
        let mut marker = None;
        loop {
            let request = self.iam().list_ssh_public_keys().user_name(user).set_marker(marker.take());
            let page = match request.send().await {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(describe("iam ListSSHPublicKeys", e)),
            };
            let keys = page.ssh_public_keys.unwrap_or_default();
            ids.extend(
                keys.into_iter().filter(|k| k.status == StatusType::Active).map(|k| k.ssh_public_key_id),
            );
            match page.marker {
                Some(next) if page.is_truncated => marker = Some(next),
                _ => break,
            }
        }
        let mut bodies = Vec::new();
        for id in ids {
            debug!("iam GetSSHPublicKey user {user} key {id}");
            let request = self
                .iam()
                .get_ssh_public_key()
                .user_name(user)
                .ssh_public_key_id(&id)
                .encoding(EncodingType::Ssh);
            let key = match request.send().await {
                Ok(output) => output.ssh_public_key.context("iam GetSSHPublicKey returned no key")?,
                // Deleted between the two calls: it is not active any more.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => continue,
                Err(e) => return Err(describe("iam GetSSHPublicKey", e)),
            };
            // Deactivated between the two calls, likewise.
            if key.status == StatusType::Active {
                bodies.push(key.ssh_public_key_body);
            }
        }
        Ok(bodies)
    }

    async fn group_members(&self, group: &str) -> Result<Vec<String>> {
        debug!("iam GetGroup {group}");
        let mut members = Vec::new();
        let mut marker = None;
        loop {
            let request = self.iam().get_group().group_name(group).set_marker(marker.take());
            let page = match request.send().await {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(describe("iam GetGroup", e)),
            };
            members.extend(page.users.into_iter().map(|user| user.user_name));
            match page.marker {
                Some(next) if page.is_truncated => marker = Some(next),
                _ => break,
            }
        }
        Ok(members)
    }
}
