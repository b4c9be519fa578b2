//! Prism serving the official KFP v2beta1 swagger as a validating mock (`testenv/prism`).
//!
//! Every operation of that swagger declares an apiKey security scheme on the `authorization`
//! header: Prism answers **401** to any request without an `Authorization` header, whatever the
//! body. Send `Authorization: Bearer <anything>` ([`AUTHORIZATION`]). A request that breaks the
//! spec gets **422**; a valid one gets **200** with an example built from the response schema.
//! Swagger 2.0 objects allow unknown properties, so Prism does not flag extra fields.

/// Environment variable: Prism's base URL.
pub const PRISM_URL_ENV: &str = "KUBEFLOW_TEST_PRISM_URL";

/// An `Authorization` header value Prism accepts (it checks presence, not the token).
pub const AUTHORIZATION: &str = "Bearer kubeflow-rs-test";

/// Base URL of Prism (`http://127.0.0.1:<port>`, no trailing slash). Panics naming
/// `KUBEFLOW_TEST_PRISM_URL` when it is unset.
pub fn prism_url() -> String {
    match std::env::var(PRISM_URL_ENV) {
        Ok(value) if !value.is_empty() => value.trim_end_matches('/').to_owned(),
        _ => panic!(
            "environment variable {PRISM_URL_ENV} is not set: run the real-server tests through \
             scripts/test (or testenv/prism/start.sh RUN and `. RUN/env`)"
        ),
    }
}
