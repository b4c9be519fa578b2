//! Cross-crate integration tests of the Kubeflow Rust SDK. The tests live in `tests/tests/`;
//! the ones that need real servers are `#[ignore]`d and run by `scripts/test`.
