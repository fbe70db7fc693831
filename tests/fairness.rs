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
