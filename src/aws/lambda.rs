//! Lambda Invoke, for `ssh-cert`'s signer function.

use anyhow::Result;
use aws_sdk_lambda::primitives::Blob;

use super::{Aws, describe};
use crate::error::{Exit, debug, fail};

impl Aws {
    fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.config)
    }

    /// Invokes `function` synchronously with `payload` and returns the function's answer. An
    /// answer marked with a `FunctionError` is an error (exit 11) carrying the function's own
    /// `errorMessage`, never its whole payload.
    pub fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>> {
        debug!("lambda Invoke {function}");
        let request = self.lambda().invoke().function_name(function).payload(Blob::new(payload));
        let output = self.runtime.block_on(request.send()).map_err(|e| describe("lambda Invoke", e))?;
        let answer = output.payload.map(Blob::into_inner).unwrap_or_default();
        if let Some(kind) = output.function_error {
            let message = serde_json::from_slice::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["errorMessage"].as_str().map(|m| m.chars().take(200).collect::<String>()))
                .unwrap_or_else(|| "no errorMessage".to_owned());
            return Err(fail(Exit::Signer, format!("lambda {function} failed ({kind}): {message}")));
        }
        Ok(answer)
    }
}
