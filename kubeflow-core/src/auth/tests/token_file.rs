//! Token files: read, cached, re-read on change and on refresh.

use std::time::Duration;

use super::{authenticator, header_text};
use crate::Error;
use crate::auth::Credentials;

async fn bearer(auth: &crate::auth::Authenticator) -> String {
    let headers = auth.headers().await.expect("headers");
    assert!(headers[0].1.is_sensitive());
    header_text(&headers, &http::header::AUTHORIZATION).unwrap_or_default()
}

#[tokio::test]
async fn rotation_is_picked_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "token-one\n").expect("write");
    let auth = authenticator(Credentials::token_file(&path), None);
    assert!(auth.can_refresh());
    assert_eq!(bearer(&auth).await, "Bearer token-one");
    assert_eq!(bearer(&auth).await, "Bearer token-one");

    // Overwritten in place with a different length.
    std::fs::write(&path, "  token-number-two  \n").expect("write");
    assert_eq!(bearer(&auth).await, "Bearer token-number-two");

    // Same length, new modification time.
    tokio::time::sleep(Duration::from_millis(30)).await;
    std::fs::write(&path, "token-number-333").expect("write");
    assert_eq!(bearer(&auth).await, "Bearer token-number-333");

    // Replaced by rename, as the kubelet's atomic writer does.
    let next = dir.path().join("token.new");
    std::fs::write(&next, "token-number-444").expect("write");
    std::fs::rename(&next, &path).expect("rename");
    assert_eq!(bearer(&auth).await, "Bearer token-number-444");
}

#[tokio::test]
async fn the_cache_holds_until_the_file_changes_and_refresh_rereads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "token-AAAA").expect("write");
    let auth = authenticator(Credentials::token_file(&path), None);
    assert_eq!(bearer(&auth).await, "Bearer token-AAAA");

    // Rewrite in place with the same length and put the old modification time back: the
    // cheap check cannot see it, so the cached value is used...
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(&path, "token-BBBB").expect("write");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(modified))
        .expect("set mtime");
    assert_eq!(bearer(&auth).await, "Bearer token-AAAA");
    // ...until refresh() re-reads it.
    auth.refresh().await.expect("refresh");
    assert_eq!(bearer(&auth).await, "Bearer token-BBBB");
}

#[tokio::test]
async fn missing_empty_and_bad_files_are_auth_errors_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    let auth = authenticator(Credentials::token_file(&path), None);
    let err = auth.headers().await.expect_err("missing");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(auth.refresh().await.is_err());

    std::fs::write(&path, " \n").expect("write");
    let err = auth.headers().await.expect_err("empty");
    assert!(err.to_string().contains("is empty"), "{err}");

    std::fs::write(&path, "tok-SECRET\u{1}x").expect("write");
    let err = auth.headers().await.expect_err("bad bytes");
    let text = format!("{err} {err:?}");
    assert!(text.contains("not allowed in an HTTP header"), "{text}");
    assert!(!text.contains("tok-SECRET"), "{text}");

    std::fs::write(&path, b"\xff\xfe").expect("write");
    let err = auth.headers().await.expect_err("not UTF-8");
    assert!(err.to_string().contains("not UTF-8"), "{err}");

    // Fixed: the next call works.
    std::fs::write(&path, "fine").expect("write");
    assert_eq!(bearer(&auth).await, "Bearer fine");
}
