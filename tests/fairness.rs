//! Tenants never wait for each other (issue 15), end to end against a real kube-apiserver
//! and two emulator tenants: a throttled tenant's backlog, or a tenant that never answers,
//! does not delay a change on another tenant, and the throttled backlog still drains at
//! its tenant's rate without 429s.

mod common;

use std::time::{Duration, Instant};

use auth0_emulator::{FaultRule, RateLimitConfig};
use common::{Harness, condition};
use serde_json::json;
use testenv::TestEnv;

/// The test's tenant `t` (the slow one) and a second emulator tenant with its own
/// Auth0Tenant `other` (same client and Secret), unlimited. `limit` rate-limits `t` in the
/// emulator and in the operator alike; `faults` are active on `t` from the start.
async fn two_tenants(prefix: &str, limit: Option<RateLimitConfig>, faults: Vec<FaultRule>) -> (Harness, String) {
    let mut other = String::new();
    let mut h = Harness::prepare_in(TestEnv::get(), prefix, |config| {
        let mut second = config.tenants[0].clone();
        second.domain = format!("other.{}", config.tenants[0].domain);
        other = second.domain.clone();
        config.tenants[0].rate_limit = limit;
        config.tenants[0].faults = faults;
        config.tenants.push(second);
    })
    .await;
    if let Some(limit) = limit {
        let url = h.emulator.tenant_url(&h.domain).expect("tenant url");
        h.apply(
            "auth0tenants",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                   "metadata": {"name": "t"},
                   "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"},
                            "endpoint": {"url": url},
                            "rateLimit": {"requestsPerSecond": limit.per_second, "burst": limit.burst}}}),
        )
        .await;
    }
    let url = h.emulator.tenant_url(&other).expect("other tenant url");
    h.allow_tenant_host(&other);
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "other"},
               "spec": {"domain": other, "credentialsSecretRef": {"name": "creds"},
                        "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}}),
    )
    .await;
    (h, other)
}

async fn apply_on(h: &Harness, name: &str, tenant: &str) {
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": tenant}, "enabledFeatures": ["scim"]}}),
    )
    .await;
}

fn ready(p: &auth0_operator::crd::ConnectionProfile) -> bool {
    condition(p, "Ready").is_some_and(|c| c.0 == "True")
}

/// Applies `name` on the tenant `other` and returns how long it took to become Ready.
async fn time_to_ready(h: &Harness, name: &str) -> Duration {
    let applied = Instant::now();
    apply_on(h, name, "other").await;
    h.wait_for(name, Duration::from_secs(60), "Ready on the other tenant", ready)
        .await;
    applied.elapsed()
}

async fn ready_count(h: &Harness, prefix: &str) -> usize {
    h.profiles()
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with(prefix)) && ready(p))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_backlog_does_not_delay_another_tenant() {
    const BACKLOG: usize = 60;
    let limit = RateLimitConfig {
        burst: 5,
        per_second: 2.0,
    };
    let (mut h, _other) = two_tenants("fair-backlog", Some(limit), vec![]).await;
    h.start_operator();
    let started = Instant::now();
    for i in 0..BACKLOG {
        apply_on(&h, &format!("bulk-{i}"), "t").await;
    }
    // The backlog is under way (its first creates are Ready) before the other change comes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ready_count(&h, "bulk-").await < 2 {
        assert!(Instant::now() < deadline, "the backlog never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = time_to_ready(&h, "elsewhere").await;
    let done = ready_count(&h, "bulk-").await;
    assert!(
        took < Duration::from_secs(3),
        "the other tenant's change took {took:?} behind a backlog ({done} of {BACKLOG} done)"
    );
    assert!(
        done < BACKLOG,
        "the backlog was still draining ({done} of {BACKLOG} done)"
    );

    // The backlog drains at its tenant's rate: about one create per 1/rate (plus the
    // listings and the token), and without a storm of 429s.
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready_count(&h, "bulk-").await < BACKLOG {
        assert!(Instant::now() < deadline, "the backlog did not drain");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drained = started.elapsed();
    let ideal = Duration::from_secs_f64(BACKLOG as f64 / limit.per_second);
    let throttled = h.requests().iter().filter(|(_, _, s)| *s == 429).count();
    eprintln!("backlog of {BACKLOG} drained in {drained:?} (N/rate {ideal:?}); 429s: {throttled}");
    assert!(drained < ideal * 2, "drained in {drained:?}, N/rate is {ideal:?}");
    assert!(throttled <= 1, "{throttled} answers were 429");
    h.stop_operator();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_tenant_does_not_block_another() {
    // Every call to `t`, the token included, hangs for ten minutes (past the 10 s timeout).
    let hang = FaultRule {
        latency_ms: 600_000,
        ..FaultRule::default()
    };
    let (mut h, _other) = two_tenants("fair-hang", None, vec![hang]).await;
    h.start_operator();
    for i in 0..30 {
        apply_on(&h, &format!("stuck-{i}"), "t").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = time_to_ready(&h, "elsewhere-1").await;
    assert!(first < Duration::from_secs(3), "took {first:?} beside a hanging tenant");
    // And again once the first hanging calls have timed out and are being retried.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let second = time_to_ready(&h, "elsewhere-2").await;
    assert!(
        second < Duration::from_secs(3),
        "took {second:?} beside a hanging tenant"
    );
    assert_eq!(
        ready_count(&h, "stuck-").await,
        0,
        "nothing on the hanging tenant converged"
    );
    h.stop_operator();
}

/// A pass that needs the tenant's next listing while another pass is taking it holds no
/// place in the lane: it ends and is queued again when the listing ends. Before, each such
/// pass held a place for the whole listing (100 pages at 1,000 profiles), so a lane of 16
/// moved at 16 passes per listing and a change behind them waited listing after listing
/// (`make soak`, scenario 1: not converged in 300 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_waiting_for_a_listing_leave_their_lane_to_a_change() {
    let mut h = Harness::prepare("fair-listing", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(&log, &["--http-address", "127.0.0.1:0", "--tenant-concurrency", "2"]));
    // Its drift checks (which list the tenant too) are not due during the test.
    let changed = |features: serde_json::Value| {
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "changed", "annotations": {"auth0.operators.dev/poll-interval": "10m"}},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": features}})
    };
    h.apply("connectionprofiles", changed(json!(["scim"]))).await;
    h.wait_ready("changed").await;
    // From now on every listing page takes 3 s.
    let slow_listing = FaultRule {
        endpoint: Some(auth0_emulator::Endpoint::ListProfiles),
        latency_ms: 3_000,
        ..FaultRule::default()
    };
    assert!(h.emulator.set_faults(&h.domain, vec![slow_listing]));
    // Eight creates, each needing a listing begun after it was applied, then a change of a
    // profile the operator already owns (a GET and a PATCH, no listing).
    for i in 0..8 {
        h.apply_profile(&format!("new-{i}"), json!({})).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    h.apply("connectionprofiles", changed(json!(["scim", "universal_logout"])))
        .await;
    h.wait_for("changed", Duration::from_secs(30), "Ready at generation 2", |p| {
        ready(p) && p.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the change took {took:?} behind creates waiting for a 3 s listing in a lane of 2"
    );
    // And the creates converge, sharing listings.
    for i in 0..8 {
        h.wait_for(&format!("new-{i}"), Duration::from_secs(60), "Ready", ready)
            .await;
    }
    h.stop_operator();
}
