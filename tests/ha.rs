//! Running in a cluster: probes and metrics over HTTP, and two replicas with leader
//! election (exactly one reconciles; a killed leader is replaced; a stopped one hands over).

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::{Harness, SCOPES, free_port, http_get, id};
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
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let body = wait_http(port, "/metrics", 200).await;
        if body.contains(r#"auth0_operator_resources{ready="true"} 1"#) || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for expected in [
        r#"auth0_operator_reconciles_total{kind="ConnectionProfile",result="success"}"#,
        r#"auth0_operator_auth0_requests_total{endpoint="create",status_class="2xx"} 1"#,
        r#"auth0_operator_auth0_requests_total{endpoint="token",status_class="2xx"}"#,
        "auth0_operator_token_refreshes_total",
        "auth0_operator_reconcile_duration_seconds_bucket",
        r#"auth0_operator_resources{ready="true"} 1"#,
    ] {
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
