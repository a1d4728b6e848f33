//! IAM Identity Center's portal API (aws-sdk-sso): role credentials, the accounts and roles a
//! signed-in user may use, and Logout. Every call carries the access token, never shown.

use anyhow::{Context, Result};
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};

use super::{Connection, describe, session_credentials_from_millis, unsigned_config};
use crate::creds::{Credentials, Secret};
use crate::error::debug;

pub struct Portal {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sso::Client,
}

/// One account the user is assigned to.
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Why a portal call failed, where the caller acts on it.
pub enum PortalError {
    /// The token is unknown, expired or signed out (UnauthorizedException).
    Unauthorized,
    /// The user has no such account or role (ForbiddenException "No access", or
    /// ResourceNotFoundException).
    NoAccess,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for PortalError {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

/// Sorts an SDK error into the cases above; `operation` names it in the message of the rest.
fn portal_error<E>(
    operation: &str,
    error: SdkError<E, aws_sdk_sso::config::http::HttpResponse>,
) -> PortalError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &error {
        match service.err().code() {
            Some("UnauthorizedException") => return PortalError::Unauthorized,
            // ForbiddenException is not in the model: the real service answers it for a role the
            // user is not assigned, and the SDK keeps its code.
            Some("ForbiddenException" | "ResourceNotFoundException") => return PortalError::NoAccess,
            _ => {}
        }
    }
    PortalError::Other(describe(operation, error))
}

impl Portal {
    pub fn connect(connection: &Connection) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let config = runtime.block_on(unsigned_config(connection))?;
        Ok(Self { runtime, client: aws_sdk_sso::Client::new(&config) })
    }

    /// GetRoleCredentials: the credentials of `role` in `account_id`.
    pub fn role_credentials(
        &self,
        token: &Secret,
        account_id: &str,
        role: &str,
    ) -> Result<Credentials, PortalError> {
        debug!("sso GetRoleCredentials account {account_id} role {role}");
        let request = self
            .client
            .get_role_credentials()
            .access_token(token.as_str("the SSO access token")?)
            .account_id(account_id)
            .role_name(role);
        let output =
            self.runtime.block_on(request.send()).map_err(|e| portal_error("sso GetRoleCredentials", e))?;
        let creds = output.role_credentials.context("sso GetRoleCredentials returned no credentials")?;
        let incomplete = || "sso GetRoleCredentials returned incomplete credentials";
        Ok(session_credentials_from_millis(
            creds.access_key_id.with_context(incomplete)?,
            creds.secret_access_key.with_context(incomplete)?,
            creds.session_token.with_context(incomplete)?,
            creds.expiration,
        ))
    }

    /// ListAccounts, every page.
    pub fn accounts(&self, token: &Secret) -> Result<Vec<Account>, PortalError> {
        let token = token.as_str("the SSO access token")?;
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        loop {
            debug!("sso ListAccounts{}", if next.is_some() { " (next page)" } else { "" });
            let request = self.client.list_accounts().access_token(token).set_next_token(next.take());
            let output =
                self.runtime.block_on(request.send()).map_err(|e| portal_error("sso ListAccounts", e))?;
            for account in output.account_list.unwrap_or_default() {
                let Some(id) = account.account_id else { continue };
                accounts.push(Account {
                    id,
                    name: account.account_name.unwrap_or_default(),
                    email: account.email_address.unwrap_or_default(),
                });
            }
            match output.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(accounts),
            }
        }
    }

    /// ListAccountRoles of `account_id`, every page.
    pub fn roles(&self, token: &Secret, account_id: &str) -> Result<Vec<String>, PortalError> {
        let token = token.as_str("the SSO access token")?;
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        loop {
            debug!("sso ListAccountRoles account {account_id}");
            let request = self
                .client
                .list_account_roles()
                .access_token(token)
                .account_id(account_id)
                .set_next_token(next.take());
            let output =
                self.runtime.block_on(request.send()).map_err(|e| portal_error("sso ListAccountRoles", e))?;
            roles.extend(output.role_list.unwrap_or_default().into_iter().filter_map(|role| role.role_name));
            match output.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(roles),
            }
        }
    }

    /// Logout: ends the sign-in the token belongs to, its refresh token included.
    pub fn logout(&self, token: &Secret) -> Result<(), PortalError> {
        debug!("sso Logout");
        let request = self.client.logout().access_token(token.as_str("the SSO access token")?);
        self.runtime.block_on(request.send()).map_err(|e| portal_error("sso Logout", e))?;
        Ok(())
    }
}
