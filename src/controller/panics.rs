//! A pass that panics ends that pass, not the process (issue 24): the panic is caught at the
//! pass's boundary, logged with its message, counted in
//! `auth0_operator_reconcile_panics_total{kind}`, reported on the resource as
//! `Synced=False InternalError`, and the resource is retried with its backoff while every
//! other resource goes on. Without it one resource a user can write (an annotation whose
//! value overflowed a `Duration`) stopped the operator for every tenant, and a Deployment
//! crash-looped on it.
//!
//! Locks held across the panic are `parking_lot`'s (never poisoned) or recovered with
//! `into_inner`; places in a lane and running places are RAII guards, given back as the
//! panic unwinds.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Runs `pass` to its end; `Err` holds the panic's message when it panicked (at most 500
/// characters: a message names the code's own values, never a credential, but is kept
/// short for the log).
pub async fn caught<F: Future>(pass: F) -> Result<F::Output, String> {
    AssertUnwindSafe(pass)
        .catch_unwind()
        .await
        .map_err(|payload| message(&*payload))
}

/// The text a panic carries (`panic!("...")` and failed `expect`s hold a `&str` or a
/// `String`), or a placeholder for any other payload.
pub fn message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    text.chars().take(500).collect()
}

/// The environment variable of the test hook [`injected`]: comma-separated resources
/// (`namespace/name`) whose every pass panics, in debug builds only.
pub const TEST_PANIC_ENV: &str = "AUTH0_OPERATOR_TEST_PANIC";

/// Test hook, compiled into debug builds only (what `cargo test` runs; a release build has
/// no such switch): panics when `resource` (`namespace/name`) is listed in
/// `AUTH0_OPERATOR_TEST_PANIC`, so an end-to-end test can prove that a pass that panics
/// takes neither the process nor any other resource down.
pub fn injected(resource: &str) {
    #[cfg(debug_assertions)]
    if std::env::var(TEST_PANIC_ENV).is_ok_and(|listed| listed.split(',').any(|r| r.trim() == resource)) {
        panic!("injected panic for {resource} ({TEST_PANIC_ENV})");
    }
    #[cfg(not(debug_assertions))]
    let _ = resource;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_caught_with_its_message_and_a_normal_end_passes_through() {
        assert_eq!(caught(async { 7 }).await, Ok(7));
        let overflow = caught(async {
            let huge = std::time::Duration::MAX;
            huge + std::time::Duration::from_secs(1)
        })
        .await;
        assert!(overflow.unwrap_err().contains("overflow"));
        let formatted = caught(async {
            if std::hint::black_box(true) {
                panic!("value {}", 42);
            }
        })
        .await;
        assert_eq!(formatted, Err("value 42".to_string()));
        let long = caught(async {
            if std::hint::black_box(true) {
                panic!("{}", "x".repeat(2000));
            }
        })
        .await;
        assert_eq!(long.unwrap_err().len(), 500);
    }
}
