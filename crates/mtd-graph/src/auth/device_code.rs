//! The device code flow: show the admin a code and a URL, then poll the
//! token endpoint until they have signed in, declined, or the code expired.

use std::time::Duration;

use serde::Deserialize;

use super::{AuthError, TokenBody, TokenProvider};

/// What the admin must do, as the token service words it.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceCodePrompt {
    /// The code to enter.
    pub user_code: String,
    /// Where to enter it.
    pub verification_uri: String,
    /// Entra's instructions, ready to show.
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct DeviceCodeBody {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
    #[serde(default)]
    message: String,
}

fn default_interval() -> u64 {
    5
}

pub(super) async fn run(
    provider: &TokenProvider,
    tenant: &str,
    client_id: &str,
    scope: &str,
    prompt: &(dyn Fn(&DeviceCodePrompt) + Send + Sync),
) -> Result<TokenBody, AuthError> {
    let url = provider.endpoints.oauth_url(tenant, "devicecode");
    let started: DeviceCodeBody =
        match provider.post_form(&url, &[("client_id", client_id), ("scope", scope)]).await? {
            Ok(b) => b,
            Err(e) => return Err(AuthError::Refused { error: e.error, description: e.error_description }),
        };
    prompt(&DeviceCodePrompt {
        user_code: started.user_code,
        verification_uri: started.verification_uri,
        message: started.message,
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(started.expires_in);
    let mut interval = Duration::from_secs(started.interval.max(1));
    let token_url = provider.endpoints.oauth_url(tenant, "token");
    loop {
        if tokio::time::Instant::now() >= deadline {
            return Err(AuthError::DeviceCode("not completed before the code expired".into()));
        }
        tokio::time::sleep(interval).await;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", started.device_code.as_str()),
        ];
        match provider.post_form::<TokenBody>(&token_url, &form).await? {
            Ok(body) => return Ok(body),
            Err(e) => match e.error.as_str() {
                "authorization_pending" => continue,
                "slow_down" => interval += Duration::from_secs(5),
                "authorization_declined" => return Err(AuthError::DeviceCode("declined by the user".into())),
                "expired_token" => {
                    return Err(AuthError::DeviceCode("not completed before the code expired".into()))
                }
                "bad_verification_code" => {
                    return Err(AuthError::DeviceCode("refused: unknown device code".into()))
                }
                _ => return Err(AuthError::Refused { error: e.error, description: e.error_description }),
            },
        }
    }
}
