//! Running in a cluster: probes and metrics over HTTP, and two replicas with leader
//! election (exactly one reconciles; a killed leader is replaced; a stopped one hands over;
//! a Lease renewed in the future by a fast clock is taken a lease duration later; a leader
//! that cannot renew stops within the renew deadline).

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::{Harness, SCOPES, free_port, http_get, id};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use serde_json::json;

async fn wait_http(port: u16, path: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((got, body)) = http_get(port, path)
            && got == status
        {
            return body;
        }
        assert!(Instant::now() < deadline, "GET {path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_metrics() {
    let mut h = Harness::prepare("ha-metrics", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let port = free_port();
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(&log, &["--http-address", &format!("127.0.0.1:{port}")]));
    wait_http(port, "/healthz", 200).await;
    wait_http(port, "/readyz", 200).await;
    h.apply_profile("measured", json!({"enabledFeatures": ["scim"]})).await;
    h.wait_ready("measured").await;
    let expected = [
        r#"auth0_operator_reconciles_total{kind="ConnectionProfile",result="success"}"#,
        r#"auth0_operator_auth0_requests_total{endpoint="create",status_class="2xx"} 1"#,
        r#"auth0_operator_auth0_requests_total{endpoint="token",status_class="2xx"}"#,
        "auth0_operator_token_refreshes_total",
        "auth0_operator_reconcile_duration_seconds_bucket",
        r#"auth0_operator_resources{kind="ConnectionProfile",ready="true"} 1"#,
    ];
    // Every line, not the first: the resource is Ready in the cache a moment before its pass
    // ends and is counted in reconciles_total.
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let body = wait_http(port, "/metrics", 200).await;
        if expected.iter().all(|line| body.contains(line)) || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for expected in expected {
        assert!(metrics.contains(expected), "missing {expected}:\n{metrics}");
    }
    assert!(!metrics.contains("measured"), "no resource names in labels");
    // It parses as Prometheus (OpenMetrics) text: comments, `name{labels} value` samples, EOF.
    assert_eq!(metrics.lines().last(), Some("# EOF"), "{metrics}");
    for line in metrics.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok(), "not a number in {line}");
        let name = series.split('{').next().unwrap_or_default();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line}"
        );
        assert!(
            series.ends_with('}') == series.contains('{'),
            "unbalanced labels in {line}"
        );
    }
    assert!(!metrics.contains("operator-secret-value"), "no secrets");
}

fn holds_lease(log: &std::path::Path) -> bool {
    std::fs::read_to_string(log).is_ok_and(|l| l.contains("holding the lease"))
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_election_one_reconciles_and_another_takes_over() {
    let h = Harness::prepare("ha-leader", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.grant_leases().await;
    let logs: Vec<_> = (0..3)
        .map(|i| h.env.dir().join(format!("operator-{}-{i}.log", h.ns.name())))
        .collect();
    let args = [
        "--leader-election",
        "--lease-name",
        "test-lease",
        "--http-address",
        "127.0.0.1:0",
    ];
    let mut replicas = Replicas(vec![
        Some(h.spawn_operator(&logs[0], &args)),
        Some(h.spawn_operator(&logs[1], &args)),
    ]);

    h.apply_profile("first", json!({})).await;
    h.wait_ready("first").await;
    let leaders: Vec<usize> = (0..2).filter(|i| holds_lease(&logs[*i])).collect();
    assert_eq!(leaders.len(), 1, "exactly one replica leads: {leaders:?}");
    let leader = leaders[0];
    let standby = 1 - leader;
    let standby_log = std::fs::read_to_string(&logs[standby]).unwrap_or_default();
    assert!(
        !standby_log.contains("reconciling object"),
        "the standby reconciled:\n{standby_log}"
    );

    // The leader dies without a word: the standby takes over once the lease expires.
    let mut killed = replicas[leader].take().expect("leader");
    signal(&killed, "KILL");
    let _ = killed.wait();
    let started = Instant::now();
    h.apply_profile("second", json!({})).await;
    h.wait_for("second", Duration::from_secs(45), "Ready after failover", |p| {
        common::condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    eprintln!("failover after SIGKILL took {:?}", started.elapsed());
    assert!(holds_lease(&logs[standby]), "the standby took the lease");

    // A third replica waits; SIGTERM on the leader hands over at once (the lease is released).
    replicas.push(Some(h.spawn_operator(&logs[2], &args)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!holds_lease(&logs[2]), "the newcomer must wait for the lease");
    let mut stopping = replicas[standby].take().expect("current leader");
    signal(&stopping, "TERM");
    let exited = tokio::task::spawn_blocking(move || stopping.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exited.success(), "SIGTERM ends the process cleanly: {exited}");
    let started = Instant::now();
    h.apply_profile("third", json!({})).await;
    h.wait_for("third", Duration::from_secs(20), "Ready after hand-over", |p| {
        common::condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let handover = started.elapsed();
    eprintln!("hand-over after SIGTERM took {handover:?}");
    assert!(
        handover < Duration::from_secs(10),
        "a released lease is taken quickly: {handover:?}"
    );
    assert!(holds_lease(&logs[2]));
    assert_eq!(
        h.remote().len(),
        3,
        "one profile each, none duplicated: {:?}",
        h.remote()
    );
    let first = h.profiles().get("first").await.expect("first");
    assert!(h.remote_by_id(&id(&first)).is_some());
}

/// `--lease-duration 3s`: a renew deadline of 2 s, a retry period of 400 ms.
const SHORT_LEASE: [&str; 6] = [
    "--leader-election",
    "--lease-name",
    "test-lease",
    "--lease-duration",
    "3s",
    "--http-address",
];

fn leases_of(h: &Harness) -> Api<Lease> {
    Api::namespaced(h.ns.client.clone(), h.ns.name())
}

fn ready(p: &auth0_operator::crd::ConnectionProfile) -> bool {
    common::condition(p, "Ready").is_some_and(|c| c.0 == "True")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_renewed_an_hour_ahead_is_taken_one_lease_duration_after_it_is_seen() {
    let h = Harness::prepare("ha-skew", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.grant_leases().await;
    // What a replica whose clock ran an hour fast wrote before it died.
    let ahead = Timestamp::now() + SignedDuration::from_hours(1);
    let leases = leases_of(&h);
    let dead = Lease {
        metadata: ObjectMeta {
            name: Some("test-lease".into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("dead-replica".into()),
            lease_duration_seconds: Some(3),
            acquire_time: Some(MicroTime(ahead)),
            renew_time: Some(MicroTime(ahead)),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        }),
    };
    leases
        .create(&PostParams::default(), &dead)
        .await
        .expect("the dead replica's Lease");

    let log = h.env.dir().join(format!("operator-{}-skew.log", h.ns.name()));
    let started = Instant::now();
    let _replicas = Replicas(vec![Some(
        h.spawn_operator(&log, &[&SHORT_LEASE[..], &["127.0.0.1:0"]].concat()),
    )]);
    h.apply_profile("after-skew", json!({})).await;
    // Before this fix the standby waited for renewTime + 3 s by its clock: an hour.
    h.wait_for("after-skew", Duration::from_secs(30), "Ready after the takeover", ready)
        .await;
    let took = started.elapsed();
    eprintln!("takeover of a lease renewed an hour ahead took {took:?} from the replica's start");
    assert!(holds_lease(&log), "the replica took the lease");
    let lease = leases.get("test-lease").await.expect("Lease");
    let spec = lease.spec.expect("spec");
    assert_ne!(spec.holder_identity.as_deref(), Some("dead-replica"));
    assert_eq!(spec.lease_transitions, Some(1), "one hand-over counted");
    // It waited out the dead replica's lease duration (3 s), and not much more: start-up,
    // the wait, cache sync and one pass.
    assert!(
        took >= Duration::from_secs(3),
        "taken before the lease duration: {took:?}"
    );
    assert!(took < Duration::from_secs(15), "taken too late: {took:?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("the lease is held by another replica holder=dead-replica"),
        "the replica saw the dead replica's lease first:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_stops_within_the_renew_deadline() {
    let h = Harness::prepare("ha-renew", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.grant_leases().await;
    let log = h.env.dir().join(format!("operator-{}-renew.log", h.ns.name()));
    let mut replicas = Replicas(vec![Some(
        h.spawn_operator(&log, &[&SHORT_LEASE[..], &["127.0.0.1:0"]].concat()),
    )]);
    h.apply_profile("before-revocation", json!({})).await;
    h.wait_for("before-revocation", Duration::from_secs(30), "Ready", ready)
        .await;
    assert!(holds_lease(&log));
    // Renewing several times over is fine; then every renewal is refused (403).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bindings: Api<RoleBinding> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let names: Vec<String> = bindings
        .list(&Default::default())
        .await
        .expect("RoleBindings")
        .items
        .into_iter()
        .filter_map(|b| b.metadata.name)
        .filter(|n| n.contains("leader-election"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    bindings
        .delete(&names[0], &DeleteParams::default())
        .await
        .expect("revoking the Lease permissions");
    let revoked = Instant::now();
    let stopped = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("stopped reconciling") {
            break revoked.elapsed();
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(20),
            "the leader went on after its renewals were refused:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("the leader stopped {stopped:?} after its renewals began to be refused");
    tokio::time::sleep(Duration::from_millis(200)).await; // the rest of the line
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.contains("stopped reconciling"))
        .expect("the line");
    assert!(
        line.contains("could not renew the lease within the renew deadline"),
        "{text}"
    );
    // Measured from its last renewal that succeeded (the Lease's renewTime, written by this
    // machine's clock just as the request left): it went on through the refusals until the
    // renew deadline (2 s), and no longer.
    let stopped_at: Timestamp = line
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line}"));
    let lease = leases_of(&h).get("test-lease").await.expect("Lease");
    let renewed = lease.spec.and_then(|s| s.renew_time).expect("renewTime").0;
    let after_renewal = stopped_at.duration_since(renewed);
    eprintln!("the leader stopped {after_renewal:?} after its last successful renewal");
    assert!(
        after_renewal >= SignedDuration::from_millis(1_900) && after_renewal <= SignedDuration::from_millis(2_500),
        "stopped {after_renewal:?} after the last renewal, not at the 2 s renew deadline"
    );
    assert!(stopped < Duration::from_secs(10), "stopped too late: {stopped:?}");
    // And the process ends (its pod would restart as a standby).
    let mut leader = replicas[0].take().expect("leader");
    let exited = tokio::task::spawn_blocking(move || leader.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        !exited.success(),
        "a lost lease ends the process with an error: {exited}"
    );
}

/// The operator processes of a test, stopped when it ends, whether it passed or panicked.
struct Replicas(Vec<Option<Child>>);

impl std::ops::Deref for Replicas {
    type Target = Vec<Option<Child>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Replicas {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for child in self.0.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
