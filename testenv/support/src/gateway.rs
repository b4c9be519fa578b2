//! The "Kubeflow gateway" of the test environment (component `auth`).
//!
//! `testenv/auth/start.sh` starts Dex (in-memory, issuer under `/dex`, one static
//! password user) and oauth2-proxy configured like Kubeflow ≥ 1.9, in front of an echo
//! upstream that answers JSON describing the request it received. It exports:
//!
//! | variable | field |
//! |---|---|
//! | `KUBEFLOW_TEST_GATEWAY_URL` | [`GatewayEnv::gateway_url`] |
//! | `KUBEFLOW_TEST_DEX_URL` | [`GatewayEnv::dex_url`] |
//! | `KUBEFLOW_TEST_DEX_USERNAME` | [`GatewayEnv::username`] |
//! | `KUBEFLOW_TEST_DEX_PASSWORD` | [`GatewayEnv::password`] |
//! | `KUBEFLOW_TEST_AUTHSERVICE_URL` (optional) | [`GatewayEnv::authservice_url`] |

use secrecy::SecretString;
use url::Url;

/// Name of the variable holding the gateway (oauth2-proxy) base URL.
pub const GATEWAY_URL_VAR: &str = "KUBEFLOW_TEST_GATEWAY_URL";
/// Name of the variable holding the Dex issuer URL.
pub const DEX_URL_VAR: &str = "KUBEFLOW_TEST_DEX_URL";
/// Name of the variable holding the static Dex user's login (an email).
pub const DEX_USERNAME_VAR: &str = "KUBEFLOW_TEST_DEX_USERNAME";
/// Name of the variable holding the static Dex user's password.
pub const DEX_PASSWORD_VAR: &str = "KUBEFLOW_TEST_DEX_PASSWORD";
/// Name of the optional variable holding the legacy oidc-authservice gateway URL.
pub const AUTHSERVICE_URL_VAR: &str = "KUBEFLOW_TEST_AUTHSERVICE_URL";

/// The static OAuth2 client id Kubeflow's Dex and oauth2-proxy share (also in the test env).
pub const KUBEFLOW_CLIENT_ID: &str = "kubeflow-oidc-authservice";
/// oauth2-proxy's session cookie name in Kubeflow ≥ 1.9 (also in the test env).
pub const SESSION_COOKIE: &str = "oauth2_proxy_kubeflow";

/// Connection details of the real Dex + oauth2-proxy gateway started for the tests.
///
/// `Debug` does not show the password.
#[derive(Debug, Clone)]
pub struct GatewayEnv {
    /// Base URL of the gateway (oauth2-proxy), e.g. `http://127.0.0.1:41234`. `/dex/` under
    /// it reaches Dex without login; every other path reaches the echo upstream after login.
    pub gateway_url: Url,
    /// Dex issuer URL, e.g. `http://127.0.0.1:41235/dex` (the `iss` of its tokens).
    pub dex_url: Url,
    /// The static password user's login, `user@example.com` (Kubeflow's default).
    pub username: String,
    /// The static password user's password.
    pub password: SecretString,
    /// Legacy oidc-authservice gateway, when the environment has one.
    pub authservice_url: Option<Url>,
}

impl GatewayEnv {
    /// Reads the environment exported by `testenv/auth/start.sh`.
    ///
    /// # Panics
    ///
    /// When a required variable is missing or a URL does not parse; the message names the
    /// variable. These tests only run with the servers that `scripts/test` starts.
    pub fn from_env() -> Self {
        Self {
            gateway_url: url_var(GATEWAY_URL_VAR),
            dex_url: url_var(DEX_URL_VAR),
            username: required_var(DEX_USERNAME_VAR),
            password: SecretString::from(required_var(DEX_PASSWORD_VAR)),
            authservice_url: optional_var(AUTHSERVICE_URL_VAR)
                .map(|v| parse_url(AUTHSERVICE_URL_VAR, &v)),
        }
    }

    /// `path` (absolute, e.g. `/apis/v2beta1/runs`) resolved against the gateway URL.
    ///
    /// # Panics
    ///
    /// When `path` cannot be joined to the gateway URL (a bug in the calling test).
    pub fn gateway(&self, path: &str) -> Url {
        match self.gateway_url.join(path) {
            Ok(url) => url,
            Err(e) => panic!(
                "cannot join {path:?} to the gateway URL {}: {e}",
                self.gateway_url
            ),
        }
    }
}

fn optional_var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        Ok(_) | Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => panic!("{name} is not valid UTF-8"),
    }
}

fn required_var(name: &str) -> String {
    optional_var(name).unwrap_or_else(|| {
        panic!(
            "{name} is not set: this test needs the Dex + oauth2-proxy gateway that \
             scripts/test starts (testenv/auth/start.sh)"
        )
    })
}

fn url_var(name: &str) -> Url {
    parse_url(name, &required_var(name))
}

fn parse_url(name: &str, value: &str) -> Url {
    match Url::parse(value) {
        Ok(url) => url,
        Err(e) => panic!("{name}={value:?} is not a valid URL: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_url_names_the_variable() {
        let err = std::panic::catch_unwind(|| parse_url("SOME_VAR", "not a url"));
        let payload = err.err().and_then(|p| p.downcast::<String>().ok());
        assert!(payload.is_some_and(|msg| msg.contains("SOME_VAR")));
    }

    #[test]
    fn debug_hides_the_password() {
        let env = GatewayEnv {
            gateway_url: parse_url("G", "http://127.0.0.1:1"),
            dex_url: parse_url("D", "http://127.0.0.1:2/dex"),
            username: "user@example.com".into(),
            password: SecretString::from("hunter2-secret"),
            authservice_url: None,
        };
        let shown = format!("{env:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert_eq!(
            env.gateway("/dex/auth").as_str(),
            "http://127.0.0.1:1/dex/auth"
        );
    }
}
