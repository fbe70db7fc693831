//! The fault suite: Auth0 failing, dropping and throttling, the operator killed mid-write,
//! the API server stopped, leaders failing over, credentials expiring, rotated, revoked and
//! deleted. Every scenario ends with the same invariants (`invariants.rs`): nothing lost,
//! nothing duplicated, nothing foreign touched, nothing leaked.
//!
//! `make test` runs it at the sizes below; `make soak` (AUTH0_SOAK=1) at larger ones. Each
//! scenario appends its run time and invariant results to the report file
//! (`AUTH0_FAULT_REPORT`, default `$TMPDIR/auth0-fault-report.md`), which `make test` prints.

#[path = "../common/mod.rs"]
mod common;

mod churn;
mod invariants;
mod kinds;

use std::io::Write;
use std::process::Child;
use std::time::{Duration, Instant};

use auth0_emulator::{ClientChange, Endpoint, FaultRule, RateLimitConfig};
use auth0_operator::crd::Auth0Tenant;
use churn::{Fleet, churn, name};
use common::{Harness, SCOPES, condition, id};
use invariants::{Expect, check, seed_foreign};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use testenv::{ControlPlane, TestEnv};

/// The size for `make test`, or for `make soak`.
fn size(test: usize, soak: usize) -> usize {
    if std::env::var_os("AUTH0_SOAK").is_some() {
        soak
    } else {
        test
    }
}

fn scopes() -> Vec<String> {
    SCOPES.iter().map(|s| s.to_string()).collect()
}

/// Appends a scenario's line to the report.
fn report(scenario: &str, started: Instant, summary: &str) {
    let path = std::env::var_os("AUTH0_FAULT_REPORT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("auth0-fault-report.md"));
    let line = format!(
        "- **{scenario}** — {:.0} s — invariants hold: {summary}\n",
        started.elapsed().as_secs_f64()
    );
    eprint!("{line}");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// Auth0 at its worst short of an outage: 20% of requests fail with 500/502/503, 10% of
/// writes are applied and then their connection dropped, and every answer is slow.
fn bad_day() -> Vec<FaultRule> {
    let status = |status| FaultRule {
        probability: 0.0715, // three of them: 1 - (1 - 0.0715)^3 = 20%
        status: Some(status),
        ..FaultRule::default()
    };
    let drop = |endpoint| FaultRule {
        endpoint: Some(endpoint),
        probability: 0.1,
        drop_after_write: true,
        ..FaultRule::default()
    };
    vec![
        status(500),
        status(502),
        status(503),
        drop(Endpoint::CreateProfile),
        drop(Endpoint::UpdateProfile),
        drop(Endpoint::DeleteProfile),
        FaultRule {
            latency_ms: 5,
            jitter_ms: 40,
            ..FaultRule::default()
        },
    ]
}

/// `bad_day()`, with writes of the two other kinds dropped after the write too: their
/// creates, PATCHes and DELETEs, and the PUT of a self-service profile's custom text.
fn bad_day_every_kind() -> Vec<FaultRule> {
    let mut rules = bad_day();
    for endpoint in [
        Endpoint::CreateUserAttributeProfile,
        Endpoint::UpdateUserAttributeProfile,
        Endpoint::DeleteUserAttributeProfile,
        Endpoint::CreateSelfServiceProfile,
        Endpoint::UpdateSelfServiceProfile,
        Endpoint::DeleteSelfServiceProfile,
        Endpoint::SetSelfServiceProfileCustomText,
    ] {
        rules.push(FaultRule {
            endpoint: Some(endpoint),
            probability: 0.1,
            drop_after_write: true,
            ..FaultRule::default()
        });
    }
    rules
}

/// What the faults did, for the report.
fn injected(h: &Harness) -> String {
    let requests = h.emulator.requests(&h.domain).expect("tenant");
    let failed = requests.iter().filter(|r| [500, 502, 503].contains(&r.status)).count();
    let dropped = requests.iter().filter(|r| r.dropped).count();
    format!(
        "{} requests, {failed} answered 5xx, {dropped} dropped after the write",
        requests.len()
    )
}

/// An operator process that is killed when dropped, even by a panicking test.
struct Replica(Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sigkill(replica: &mut Replica) {
    replica.0.kill().expect("SIGKILL");
    replica.0.wait().expect("reaped");
}

/// Every scenario runs against a tenant that lets a second profile of a taken name through
/// (the emulator's `unique_names: false`): no public record shows that Auth0 refuses one,
/// and the ownership rule must not depend on it (docs/faults.md). Scenario 7 runs both ways.
async fn allow_duplicate_names(h: &Harness) {
    h.admin("PATCH", "settings", Some(json!({"unique_names": false}))).await;
}

/// A random pause in `range` milliseconds.
async fn pause(range: std::ops::Range<u64>) {
    tokio::time::sleep(Duration::from_millis(fastrand::u64(range))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_auth0_failing_dropping_and_slow_during_churn() {
    let started = Instant::now();
    let mut h = Harness::prepare("fault-bad-day", scopes()).await;
    let foreign = seed_foreign(&h, &["foreign-a", "foreign-b"]).await;
    allow_duplicate_names(&h).await;
    assert!(h.emulator.set_faults(&h.domain, bad_day()));
    h.start_operator();
    let n = size(200, 1000);
    let fleet = churn(&h, n, Duration::from_secs(2)).await;
    // The faults stay on: the operator must converge through them.
    let summary = check(&h, &fleet, &Expect::default_with(&foreign), Duration::from_secs(300)).await;
    report(
        &format!("1. Auth0 fails 20%, drops 10% of writes, slow; churn of {n}"),
        started,
        &format!("{summary}; {}", injected(&h)),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_operator_killed_20_times_during_churn() {
    let started = Instant::now();
    let h = Harness::prepare("fault-sigkill", scopes()).await;
    let foreign = seed_foreign(&h, &["foreign-a"]).await;
    allow_duplicate_names(&h).await;
    assert!(h.emulator.set_faults(&h.domain, bad_day()));
    let spawn = || Replica(h.spawn_operator(&h.log, &["--http-address", "127.0.0.1:0"]));
    let mut operator = spawn();
    let kills = size(20, 100);
    let killer = async {
        for _ in 0..kills {
            pause(300..1500).await;
            sigkill(&mut operator);
            operator = spawn();
        }
    };
    let (fleet, ()) = tokio::join!(churn(&h, size(200, 1000), Duration::from_secs(3)), killer);
    let summary = check(&h, &fleet, &Expect::default_with(&foreign), Duration::from_secs(300)).await;
    drop(operator);
    // Each restart reconciles only once its tenant and Secret caches are listed: no pass
    // reports the tenant missing (a Warning Event per resource per restart).
    let log = std::fs::read_to_string(&h.log).expect("log");
    // (A process killed within milliseconds of its start may not have logged yet.)
    assert!(log.matches("auth0-operator starting").count() > kills / 2);
    assert!(
        !log.contains("not found: create it")
            && !log.contains("serves the resources of its own namespace")
            && !log.contains("not found, or not labelled"),
        "a restart reported the tenant or its Secret missing"
    );
    report(
        &format!("2. operator SIGKILLed {kills} times during the churn of scenario 1"),
        started,
        &format!("{summary}; {}", injected(&h)),
    );
}

// Found a bug (fixed): errors of the watches reached kube's controller, whose trigger
// backoff then paused every watch for up to ~50 s per error; after the restart each watch's
// 410 came in turn, and the profile cache stayed stale for minutes. Now it converges within a
// few poll intervals of the API server's return; the limit below would catch a regression.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_kube_apiserver_stopped_for_15_seconds() {
    let started = Instant::now();
    // A control plane of its own: the shared one serves the other tests.
    let dir = std::env::temp_dir().join(format!("auth0-faults-apiserver-{}", std::process::id()));
    let mut control_plane = tokio::task::block_in_place(|| ControlPlane::start(&TestEnv::get().bin_dir(), &dir))
        .expect("a second control plane starts");
    let mut h = Harness::prepare_in(TestEnv::at(control_plane.dir()), "fault-apiserver", |_| {}).await;
    let foreign = seed_foreign(&h, &["foreign-a"]).await;
    allow_duplicate_names(&h).await;
    h.start_operator();
    let n = size(60, 300);
    let mut fleet = Fleet::default();
    fleet.apply(&h, (0..n).map(|i| (i, 0)).collect()).await;
    check(&h, &fleet, &Expect::default_with(&foreign), Duration::from_secs(120)).await;

    // Work for the operator to find while its API server is away: a profile deleted in
    // the dashboard (to be recreated) and a burst of resource changes just before.
    let gone = id(&h.profiles().get(&name(0)).await.expect("get"));
    fleet
        .apply(&h, (0..n).filter(|i| i % 2 == 1).map(|i| (i, 1)).collect())
        .await;
    tokio::task::block_in_place(|| control_plane.stop_apiserver());
    h.admin("DELETE", &format!("profiles/{gone}"), None).await;
    tokio::time::sleep(Duration::from_secs(15)).await;
    tokio::task::block_in_place(|| control_plane.start_apiserver()).expect("the API server starts again");
    let back = Instant::now();
    fleet
        .apply(&h, (0..n).filter(|i| i % 3 == 0).map(|i| (i, 2)).collect())
        .await;
    fleet.delete(&h, (0..n).filter(|i| i % 5 == 4).collect()).await;

    let summary = check(&h, &fleet, &Expect::default_with(&foreign), Duration::from_secs(60)).await;
    let recovered = back.elapsed();
    let operator = h.operator.as_mut().expect("operator");
    assert!(
        matches!(operator.try_wait(), Ok(None)),
        "the operator exited instead of riding out the outage"
    );
    let log = std::fs::read_to_string(&h.log).expect("log");
    assert_eq!(
        log.matches("auth0-operator starting").count(),
        1,
        "the operator restarted"
    );
    report(
        &format!("3. kube-apiserver stopped 15 s under {n} resources"),
        started,
        &format!(
            "{summary}; converged {:.1} s after the API server was back; the same operator process throughout",
            recovered.as_secs_f64()
        ),
    );
    drop(h);
    drop(control_plane);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_leader_killed_repeatedly_under_churn() {
    let started = Instant::now();
    let h = Harness::prepare("fault-leader", scopes()).await;
    h.grant_leases().await;
    let foreign = seed_foreign(&h, &["foreign-a"]).await;
    allow_duplicate_names(&h).await;
    let logs: Vec<_> = ["a", "b"]
        .iter()
        .map(|r| h.env.dir().join(format!("operator-{}-{r}.log", h.ns.name())))
        .collect();
    let spawn = |replica: usize| {
        let identity = ["replica-a", "replica-b"][replica];
        Replica(h.spawn_operator(
            &logs[replica],
            &[
                "--leader-election",
                "--lease-name",
                "faults",
                "--lease-duration",
                "3s",
                "--identity",
                identity,
                "--http-address",
                "127.0.0.1:0",
            ],
        ))
    };
    let mut replicas = [spawn(0), spawn(1)];
    let leases: Api<Lease> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let failovers = size(5, 30);
    let killer = async {
        let mut killed = 0;
        while killed < failovers {
            pause(1000..2500).await;
            let holder = leases
                .get_opt("faults")
                .await
                .expect("lease")
                .and_then(|l| l.spec?.holder_identity)
                .unwrap_or_default();
            let Some(leader) = ["replica-a", "replica-b"].iter().position(|r| *r == holder) else {
                continue; // between leaders
            };
            sigkill(&mut replicas[leader]);
            replicas[leader] = spawn(leader);
            killed += 1;
        }
    };
    let (fleet, ()) = tokio::join!(churn(&h, size(100, 500), Duration::from_secs(4)), killer);
    let expect = Expect {
        foreign,
        logs: logs.clone(),
        ..Expect::default()
    };
    let summary = check(&h, &fleet, &expect, Duration::from_secs(240)).await;
    drop(replicas);
    report(
        &format!("4. two replicas, the leader SIGKILLed {failovers} times (3 s lease) under churn"),
        started,
        &summary,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_tokens_expire_secrets_rotate_scopes_are_revoked_credentials_vanish() {
    const ROTATED: &str = "rotated-secret-value";
    let started = Instant::now();
    let mut h = Harness::prepare_in(TestEnv::get(), "fault-creds", |c| c.token_lifetime_secs = 3).await;
    let foreign = seed_foreign(&h, &["foreign-a"]).await;
    allow_duplicate_names(&h).await;
    h.start_operator();
    let n = size(20, 100);
    let mut fleet = Fleet::default();
    let mut expect = Expect {
        foreign,
        secrets: vec![ROTATED.into()],
        ..Expect::default()
    };

    // Tokens that last 3 s, across 12 s of changes.
    fleet.apply(&h, (0..n).map(|i| (i, 0)).collect()).await;
    for round in 1..=3 {
        tokio::time::sleep(Duration::from_secs(4)).await;
        fleet
            .apply(&h, (0..n).filter(|i| i % 2 == 0).map(|i| (i, round)).collect())
            .await;
    }
    check(&h, &fleet, &expect, Duration::from_secs(60)).await;
    let requests = h.emulator.requests(&h.domain).expect("tenant");
    let tokens = requests.iter().filter(|r| r.endpoint == Endpoint::Token).count();
    let unauthorized = requests.iter().filter(|r| r.status == 401).count();
    assert!(
        tokens >= 4,
        "tokens expiring every 3 s were renewed: {tokens} token requests"
    );
    assert!(
        unauthorized <= tokens,
        "no 401 storm: {unauthorized} answers 401 for {tokens} tokens"
    );

    // The secret rotated in Auth0 first, then in the Secret: changes go through again.
    assert!(h.emulator.update_client(
        &h.domain,
        "operator-client",
        ClientChange {
            client_secret: Some(ROTATED.into()),
            scopes: None
        }
    ));
    tokio::time::sleep(Duration::from_secs(4)).await;
    fleet
        .apply(&h, (0..n).filter(|i| i % 2 == 1).map(|i| (i, 1)).collect())
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    h.write_secret("operator-client", ROTATED).await;
    check(&h, &fleet, &expect, Duration::from_secs(60)).await;

    // A scope revoked: the change waits at Forbidden naming it, and the tenant names it.
    let without_update: Vec<String> = scopes()
        .into_iter()
        .filter(|s| s != "update:connection_profiles")
        .collect();
    assert!(h.emulator.update_client(
        &h.domain,
        "operator-client",
        ClientChange {
            client_secret: None,
            scopes: Some(without_update)
        }
    ));
    tokio::time::sleep(Duration::from_secs(4)).await;
    fleet.apply(&h, vec![(0, 7)]).await;
    let refused = h
        .wait_for(&name(0), Duration::from_secs(30), "refused for the scope", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "Forbidden" && c.2.contains("update:connection_profiles"))
        })
        .await;
    // The profile is still there as it was (Ready), and a person is needed (Stalled).
    assert_eq!(condition(&refused, "Ready").map(|c| c.0).as_deref(), Some("True"));
    assert_eq!(condition(&refused, "Stalled").map(|c| c.0).as_deref(), Some("True"));
    let tenants: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = Instant::now() + Duration::from_secs(30);
    while tenants
        .get("t")
        .await
        .expect("tenant")
        .status
        .is_none_or(|s| s.missing_scopes != ["update:connection_profiles"])
    {
        assert!(Instant::now() < deadline, "the tenant never named the revoked scope");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(h.emulator.update_client(
        &h.domain,
        "operator-client",
        ClientChange {
            client_secret: None,
            scopes: Some(scopes())
        }
    ));
    check(&h, &fleet, &expect, Duration::from_secs(60)).await;

    // Credentials deleted while a resource is deleted: it waits, says how to let go, and
    // force-orphan releases it and leaves the profile in Auth0.
    let secrets: Api<Secret> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let doomed = name(2);
    let doomed_id = id(&h.profiles().get(&doomed).await.expect("get"));
    secrets
        .delete("creds", &DeleteParams::default())
        .await
        .expect("delete secret");
    h.profiles()
        .delete(&doomed, &DeleteParams::default())
        .await
        .expect("delete");
    h.wait_for(&doomed, Duration::from_secs(30), "waiting for credentials", |p| {
        condition(p, "Synced").is_some_and(|c| c.1 == "CredentialsUnavailable" && c.2.contains("force-orphan"))
    })
    .await;
    let release = json!({"metadata": {"annotations": {"auth0.operators.dev/force-orphan": "true"}}});
    h.profiles()
        .patch(&doomed, &PatchParams::default(), &Patch::Merge(&release))
        .await
        .expect("annotate");
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.profiles().get_opt(&doomed).await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "force-orphan did not release the resource");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fleet.live.remove(&doomed);
    expect.released.push(doomed_id);
    h.write_secret("operator-client", ROTATED).await;
    let summary = check(&h, &fleet, &expect, Duration::from_secs(60)).await;
    report(
        "5. 3 s tokens; secret rotated; scope revoked; credentials deleted during a delete",
        started,
        &format!("{summary}; {tokens} tokens, {unauthorized} answers 401 in the expiry phase"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_throttled_to_2_per_second() {
    let started = Instant::now();
    let mut h = Harness::prepare_in(TestEnv::get(), "fault-throttle", |c| {
        c.tenants[0].rate_limit = Some(RateLimitConfig {
            burst: 10,
            per_second: 2.0,
        })
    })
    .await;
    let foreign = seed_foreign(&h, &["foreign-a"]).await;
    allow_duplicate_names(&h).await;
    // The Auth0Tenant's own budget (100/s) is far above the real one: the operator must
    // learn the limit from Auth0's answers, not storm it.
    h.start_operator();
    let n = size(40, 500);
    let mut fleet = Fleet::default();
    fleet.apply(&h, (0..n).map(|i| (i, 0)).collect()).await;
    let expect = Expect {
        foreign,
        ..Expect::default()
    };
    let ideal = n as u64 / 2;
    check(&h, &fleet, &expect, Duration::from_secs(ideal * 2 + 60)).await;
    let converged_in = started.elapsed();

    // Settled, with a 2 s poll interval the drift checks alone would use the whole budget;
    // a user's change still goes first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let changed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    fleet.apply(&h, vec![(1, 1)]).await;
    let target = id(&h.profiles().get(&name(1)).await.expect("get"));
    check(&h, &fleet, &expect, Duration::from_secs(30)).await;
    let after: Vec<_> = h
        .emulator
        .requests(&h.domain)
        .expect("tenant")
        .into_iter()
        .filter(|r| r.time_ms >= changed_at && r.endpoint != Endpoint::Token)
        .collect();
    let patch_at = after
        .iter()
        .position(|r| r.method == "PATCH" && r.path.ends_with(&target) && r.status == 200)
        .expect("the change was sent");
    let drift_checks_before = after[..patch_at]
        .iter()
        .filter(|r| r.endpoint == Endpoint::ListProfiles)
        .count();
    assert!(
        drift_checks_before <= 1,
        "the user's change waited behind {drift_checks_before} drift checks"
    );

    // The first burst may meet the limit with several requests in flight at once; after
    // that the operator knows it, and must stay (almost) clear of it.
    let requests = h.emulator.requests(&h.domain).expect("tenant");
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    let first = requests.iter().find(|r| r.status == 429).map(|r| r.time_ms);
    let later = first.map_or(0, |first| {
        requests
            .iter()
            .filter(|r| r.status == 429 && r.time_ms > first + 2000)
            .count()
    });
    assert!(
        later <= 1,
        "a request storm: {later} answers 429 after the first burst ({throttled} in all)"
    );
    report(
        &format!("6. Auth0 limited to 2 requests/s (burst 10), {n} resources"),
        started,
        &format!(
            "converged in {:.0} s (ideal {ideal} s); {throttled} answers 429 in {} requests, {later} after the first burst; \
             the user's change went out behind {drift_checks_before} drift checks",
            converged_in.as_secs_f64(),
            requests.len()
        ),
    );
}

/// Scenario 7, ownership under churn, in a tenant that refuses duplicate names and in one that allows
/// them: a foreign profile holds a name resources want throughout; renames land while
/// creates are interrupted; paused resources are deleted; second claims of managed profiles
/// come and go; Auth0 fails and drops writes all along.
async fn ownership_under_churn(unique_names: bool) {
    let started = Instant::now();
    let prefix = if unique_names {
        "fault-own-unique"
    } else {
        "fault-own-dups"
    };
    let mut h = Harness::prepare_in(TestEnv::get(), prefix, |c| {
        c.tenants[0].clients[0].scopes = scopes();
        c.tenants[0].unique_names = unique_names;
    })
    .await;
    let foreign = seed_foreign(&h, &["foreign-a", "wanted"]).await;
    assert!(h.emulator.set_faults(&h.domain, bad_day()));
    h.start_operator();
    let n = size(40, 300);
    let api = h.profiles();
    let mut fleet = Fleet::default();
    fleet.apply(&h, (0..n).map(|i| (i, 0)).collect()).await;
    // Resources that want the foreign name, throughout.
    let contenders: Vec<String> = (0..3).map(|k| format!("contender-{k}")).collect();
    for c in &contenders {
        h.apply_profile(c, json!({"name": "wanted", "enabledFeatures": ["scim"]}))
            .await;
    }
    // Renames while creates are in flight (and their answers dropped).
    pause(100..400).await;
    let renamed: Vec<(String, serde_json::Value)> = (0..n)
        .filter(|i| i % 3 == 0)
        .map(|i| {
            let mut spec = churn::spec(i, 1);
            spec["name"] = json!(format!("renamed-{i}"));
            (name(i), spec)
        })
        .collect();
    fleet.apply_specs(&h, renamed).await;
    // Paused, then deleted: the deletion waits.
    pause(500..1500).await;
    let paused: Vec<String> = (0..n).filter(|i| i % 5 == 1).map(name).collect();
    for p in &paused {
        api.patch(
            p,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"auth0.operators.dev/paused": "true"}}})),
        )
        .await
        .expect("pause");
    }
    let held: Vec<(String, String)> = {
        let mut held = Vec::new();
        for p in &paused {
            let live = api.get(p).await.expect("get");
            if let Some(id) = live.status.and_then(|s| s.id) {
                held.push((p.clone(), id));
            }
        }
        held
    };
    fleet.delete(&h, (0..n).filter(|i| i % 5 == 1).collect()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (p, id) in &held {
        assert!(
            h.remote_by_id(id).is_some(),
            "{p} was paused, yet its deletion deleted {id}"
        );
        assert!(api.get_opt(p).await.expect("get").is_some(), "{p}: paused, yet let go");
    }
    for p in &paused {
        if api.get_opt(p).await.expect("get").is_some() {
            api.patch(
                p,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"auth0.operators.dev/paused": null}}})),
            )
            .await
            .expect("unpause");
        }
    }
    let expect = Expect {
        bystanders: contenders.clone(),
        ..Expect::default_with(&foreign)
    };
    check(&h, &fleet, &expect, Duration::from_secs(180)).await;

    // Second claims of managed profiles: refused, they write nothing, and their deletion
    // deletes nothing.
    let claimed: Vec<usize> = (0..n)
        .filter(|i| i % 7 == 2 && fleet.live.contains_key(&name(*i)))
        .collect();
    for i in &claimed {
        let owner = id(&api.get(&name(*i)).await.expect("get"));
        h.apply_profile(
            &format!("claim-{i}"),
            json!({"externalID": owner, "name": format!("claim-{i}"), "connectionNamePrefixTemplate": "claim-"}),
        )
        .await;
    }
    for i in &claimed {
        h.wait_for(&format!("claim-{i}"), Duration::from_secs(60), "AlreadyManaged", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "AlreadyManaged")
        })
        .await;
    }
    for c in &contenders {
        let p = h
            .wait_for(c, Duration::from_secs(60), "Conflict", |p| {
                condition(p, "Synced").is_some_and(|c| c.1 == "Conflict")
                    && condition(p, "Stalled").is_some_and(|c| c.0 == "True")
            })
            .await;
        assert!(p.status.and_then(|s| s.id).is_none(), "{c} took the foreign profile");
    }
    let extra: Vec<String> = claimed
        .iter()
        .map(|i| format!("claim-{i}"))
        .chain(contenders.iter().cloned())
        .collect();
    for e in &extra {
        api.delete(e, &DeleteParams::default()).await.expect("delete");
    }
    for e in &extra {
        h.wait_for_gone(e, Duration::from_secs(60)).await;
    }
    let summary = check(&h, &fleet, &expect, Duration::from_secs(60)).await;
    report(
        &format!(
            "7. ownership under churn of {n} (Auth0 {} duplicate names): a foreign name wanted by 3, {} renamed, {} paused then deleted, {} second claims",
            if unique_names { "refuses" } else { "allows" },
            (0..n).filter(|i| i % 3 == 0).count(),
            paused.len(),
            claimed.len()
        ),
        started,
        &format!("{summary}; {}", injected(&h)),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_ownership_under_churn_names_unique() {
    ownership_under_churn(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_ownership_under_churn_duplicate_names_allowed() {
    ownership_under_churn(false).await;
}

/// Scenario 8, the two other kinds: user attribute profiles and the self-service profiles
/// that name them churn under `bad_day()` (every kind's writes dropped too) and SIGKILLs,
/// on a tenant whose 20 self-service profiles are nearly all someone else's: more are
/// wanted than fit, so creates meet the quota's 409 and wait for the slots deletions free.
/// Self-service profiles are created before the profiles they name, re-pointed, and the
/// user attribute profiles some of them use are deleted while in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_user_attribute_and_self_service_profiles_churn_at_the_quota() {
    use auth0_operator::crd::{SelfServiceProfile, UserAttributeProfile};
    use kinds::{KindsFleet, ssp_name, uap_name};
    use kube::ResourceExt;

    let started = Instant::now();
    let h = Harness::prepare("fault-kinds", kinds::scopes()).await;
    allow_duplicate_names(&h).await;
    let uaps = size(8, 40);
    let ssps = size(12, 16);
    let rounds = size(5, 12);
    // Each round deletes every fourth (a rotating quarter) and brings back the last
    // round's; what is left at the end fills the tenant's 20 exactly.
    let last = (0..ssps).filter(|i| i % 4 == rounds % 4).count();
    let theirs = 20 - (ssps - last);
    let foreign_uaps = invariants::seed_foreign_items::<UserAttributeProfile>(
        &h,
        vec![
            kinds::dashboard_uap("foreign-uap-a"),
            kinds::dashboard_uap("foreign-uap-b"),
        ],
    )
    .await;
    let foreign_ssps = invariants::seed_foreign_items::<SelfServiceProfile>(
        &h,
        (0..theirs)
            .map(|i| json!({"name": format!("theirs-{i}"), "description": "someone else's"}))
            .collect(),
    )
    .await;
    assert!(h.emulator.set_faults(&h.domain, bad_day_every_kind()));
    let spawn = || Replica(h.spawn_operator(&h.log, &["--http-address", "127.0.0.1:0"]));
    let mut operator = spawn();
    let kills = size(8, 40);
    let mut dashboard_deletes = 0;
    let killer = async {
        for _ in 0..kills {
            pause(1000..2500).await;
            sigkill(&mut operator);
            operator = spawn();
        }
    };
    let step = Duration::from_secs(2);
    let churn = async {
        let mut fleet = KindsFleet::default();
        // User attribute profiles deleted in use, to be made again once gone.
        let mut pending: Vec<String> = Vec::new();
        // Self-service profiles first: they wait for the profiles they name
        // (ReferenceNotReady); more of them than there are free slots.
        fleet
            .apply_ssps(&h, (0..ssps).map(|i| (i, i % uaps, 0)).collect())
            .await;
        fleet.apply_uaps(&h, (0..uaps).map(|i| (i, 0)).collect()).await;
        // The tenant is full before any slot frees.
        kinds::wait_any_reason::<SelfServiceProfile>(&h, "QuotaExceeded").await;
        for round in 1..=rounds {
            // Changes of both kinds.
            fleet
                .apply_uaps(
                    &h,
                    (0..uaps)
                        .filter(|i| i % 2 == round % 2 && fleet.uaps.contains_key(&uap_name(*i)))
                        .map(|i| (i, round))
                        .collect(),
                )
                .await;
            let edits: Vec<(usize, usize, usize)> = fleet
                .ssps
                .keys()
                .map(|s| index(s))
                .filter(|i| i % 2 == round % 2)
                .map(|i| (i, index(&fleet.uses(&ssp_name(i)).expect("uses")), round))
                .collect();
            fleet.apply_ssps(&h, edits).await;
            // Two user attribute profiles deleted while self-service profiles use them: they
            // must wait (InUse), not let Auth0 refuse.
            let used = fleet.used_and_ready(&h).await;
            let in_use: std::collections::BTreeSet<String> = (0..2.min(used.len()))
                .map(|k| used[(round * 2 + k) % used.len()].clone())
                .collect();
            let in_use: Vec<String> = in_use.into_iter().collect();
            fleet.deleted_in_use.extend(in_use.clone());
            fleet.delete_uaps(&h, in_use.clone()).await;
            // One that nobody uses deleted in the dashboard: recreated under a new id.
            if fleet.dashboard_delete_unused_uap(&h).await.is_some() {
                dashboard_deletes += 1;
            }
            tokio::time::sleep(step).await;
            // Slots freed (the last round's deleted ones come back, this round's go), and
            // the users of the deleted profiles re-pointed at ones that stay, once the
            // deletions have said they wait.
            let keep: Vec<usize> = fleet
                .uaps
                .keys()
                .map(|u| index(u))
                .filter(|i| !in_use.contains(&uap_name(*i)))
                .collect();
            let gone: Vec<usize> = (0..ssps).filter(|i| !fleet.ssps.contains_key(&ssp_name(*i))).collect();
            fleet
                .delete_ssps(
                    &h,
                    (0..ssps)
                        .filter(|i| i % 4 == round % 4 && !gone.contains(i))
                        .map(ssp_name)
                        .collect(),
                )
                .await;
            // (Only those whose deletion is over: one still deleting comes back later.)
            let gone = kinds::gone_now::<SelfServiceProfile>(&h, gone.iter().map(|i| ssp_name(*i)).collect()).await;
            fleet
                .apply_ssps(
                    &h,
                    gone.iter()
                        .map(|s| (index(s), keep[index(s) % keep.len()], round))
                        .collect(),
                )
                .await;
            kinds::wait_reason::<UserAttributeProfile>(&h, &in_use, "InUse").await;
            let users: Vec<(usize, usize, usize)> = fleet
                .ssps
                .keys()
                .filter(|s| fleet.uses(s).is_some_and(|u| in_use.contains(&u)))
                .map(|s| (index(s), keep[index(s) % keep.len()], round))
                .collect();
            fleet.apply_ssps(&h, users).await;
            tokio::time::sleep(step).await;
            // The deleted profiles come back under the same names (new ids), and a third of
            // the self-service profiles are pointed at them: the new ids, never the old.
            // (Those whose deletion is over; the others in a later round.)
            pending.extend(in_use.iter().cloned());
            let again = kinds::gone_now::<UserAttributeProfile>(&h, pending.clone()).await;
            pending.retain(|u| !again.contains(u));
            fleet
                .apply_uaps(&h, again.iter().map(|u| (index(u), round)).collect())
                .await;
            let back: Vec<(usize, usize, usize)> = fleet
                .ssps
                .keys()
                .map(|s| index(s))
                .filter(|i| i % 3 == round % 3 && !again.is_empty())
                .map(|i| (i, index(&again[i % again.len()]), round))
                .collect();
            fleet.apply_ssps(&h, back).await;
            tokio::time::sleep(step).await;
        }
        fleet
    };
    let (fleet, ()) = tokio::join!(churn, killer);

    // The faults stay on: the operator must converge through them.
    let limit = Duration::from_secs(240);
    let live_uaps: std::collections::BTreeSet<String> = fleet.uaps.keys().cloned().collect();
    let live_ssps: std::collections::BTreeSet<String> = fleet.ssps.keys().cloned().collect();
    invariants::converge_kind::<UserAttributeProfile>(&h, &live_uaps, limit).await;
    let ssp_resources = invariants::converge_kind::<SelfServiceProfile>(&h, &live_ssps, limit).await;
    // Read again once the self-service profiles settled: the ids they are compared with.
    let uap_resources = invariants::converge_kind::<UserAttributeProfile>(&h, &live_uaps, limit).await;
    let uap_summary = invariants::check_kind(&h, &uap_resources, &foreign_uaps, |_| Default::default()).await;
    let ssp_summary = invariants::check_kind(&h, &ssp_resources, &foreign_ssps, kinds::resolver(&uap_resources)).await;

    // Every self-service profile carries the current id of the profile it names, never a
    // stale one (check_kind compared every field; this says it in so many words).
    let remote_ssps = invariants::remote_items(&h, "SelfServiceProfile");
    for ssp in &ssp_resources {
        let name = ssp.name_any();
        let uses = fleet.uses(&name).expect("a reference");
        let want = uap_resources
            .iter()
            .find(|u| u.name_any() == uses)
            .and_then(|u| u.status.as_ref()?.id.clone())
            .expect("the referenced profile's id");
        let id = ssp.status.as_ref().and_then(|s| s.id.clone()).expect("status.id");
        let held = remote_ssps.iter().find(|p| p["id"] == id.as_str()).expect("held");
        assert_eq!(
            held["user_attribute_profile_id"],
            want.as_str(),
            "{name} names {uses}: Auth0 holds another user attribute profile id"
        );
    }
    // Nothing a deleted resource made is left.
    let everything: Vec<serde_json::Value> = invariants::remote_items(&h, "UserAttributeProfile")
        .into_iter()
        .chain(remote_ssps)
        .collect();
    for id in &fleet.deleted_ids {
        assert!(
            !everything.iter().any(|p| p["id"] == id.as_str()),
            "{id}, a deleted resource's, is still in Auth0"
        );
    }

    // The quota was met, and never read as a name clash; a profile in use waited.
    let requests = h.emulator.requests(&h.domain).expect("tenant");
    let quota = requests
        .iter()
        .filter(|r| r.endpoint == Endpoint::CreateSelfServiceProfile && r.status == 409)
        .count();
    assert!(quota > 0, "no create met the quota: the scenario did not test it");
    let refused_deletes = requests
        .iter()
        .filter(|r| r.endpoint == Endpoint::DeleteUserAttributeProfile && r.status == 409)
        .count();
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let events: Vec<(String, String, String, String)> = events
        .list(&Default::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .map(|e| {
            let regarding = e.regarding.unwrap_or_default();
            (
                regarding.kind.unwrap_or_default(),
                regarding.name.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
            )
        })
        .collect();
    let conflicts: Vec<_> = events.iter().filter(|e| e.2 == "Conflict").collect();
    assert!(conflicts.is_empty(), "a resource reported Conflict: {conflicts:#?}");
    let quota_events = events.iter().filter(|e| e.2 == "QuotaExceeded").count();
    assert!(
        quota_events > 0,
        "no QuotaExceeded reported, yet {quota} creates met the quota"
    );
    for uap in &fleet.deleted_in_use {
        assert!(
            events
                .iter()
                .any(|e| e.0 == "UserAttributeProfile" && e.1 == *uap && e.2 == "InUse"),
            "{uap} was deleted while in use, yet never waited (InUse)"
        );
    }
    // Auth0 may still refuse one (a user's change that has not reached Auth0, or an
    // interrupted create no status shows yet): reported InUse and retried, never Conflict
    // (checked above), and counted.
    drop(operator);
    let log = std::fs::read_to_string(&h.log).expect("log");
    assert!(
        !log.contains(crate::common::SECRET) && !invariants::has_jwt(&log),
        "a secret or token in the log"
    );
    report(
        &format!(
            "8. {uaps} user attribute and {ssps} self-service profiles churn beside {theirs} foreign self-service profiles (quota 20), {rounds} rounds: {} deleted while in use and re-created, {dashboard_deletes} deleted in the dashboard, re-pointed each round; Auth0 failing as in 1, {kills} SIGKILLs",
            fleet.deleted_in_use.len()
        ),
        started,
        &format!(
            "{uap_summary}; {ssp_summary}; every reference the current id; {quota} creates met the quota (409), 0 reported Conflict, {quota_events} QuotaExceeded events; {refused_deletes} deletes refused in use by Auth0 (reported InUse, retried); {}",
            injected(&h)
        ),
    );
}

/// The number in a resource name (`ssp-3`, `uap-12`).
fn index(name: &str) -> usize {
    name.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("an indexed name")
}

impl Expect {
    fn default_with(foreign: &[serde_json::Value]) -> Expect {
        Expect {
            foreign: foreign.to_vec(),
            ..Expect::default()
        }
    }
}
