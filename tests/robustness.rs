//! Nothing a user writes and no churn can crash, stall or bloat the operator (issue 24), end
//! to end: the operator binary, a real kube-apiserver and the Auth0 emulator over HTTP.
//! Each test is one of the issue's inputs, tried with the whole kind around it: odd
//! annotation values, a pass that panics anyway, annotations near the API server's cap,
//! deletions the process must forget, and a name Auth0 keeps in another form while a
//! create's answer is lost. (The lease left by a replica whose clock ran ahead is in
//! `tests/ha.rs`.)

mod common;

use std::time::{Duration, Instant};

use auth0_emulator::FaultRule;
use auth0_emulator::faults::Endpoint;
use common::{Harness, condition, free_port, http_get, id};
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

const POLL_INTERVAL: &str = "auth0.operators.dev/poll-interval";

fn alive(h: &mut Harness) -> bool {
    h.operator
        .as_mut()
        .is_some_and(|child| child.try_wait().expect("try_wait").is_none())
}

fn ready(p: &auth0_operator::crd::ConnectionProfile) -> bool {
    common::observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
}

/// The operator's `/metrics`, once it answers.
async fn metrics(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((200, body)) = http_get(port, "/metrics") {
            return body;
        }
        assert!(Instant::now() < deadline, "/metrics never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the series `line` (name and labels as exported), 0 when absent.
fn series(body: &str, line: &str) -> i64 {
    body.lines()
        .find_map(|l| l.strip_prefix(line).and_then(|rest| rest.trim().parse::<f64>().ok()))
        .map_or(0, |v| v as i64)
}

fn start_with_metrics(h: &mut Harness) -> u16 {
    let port = free_port();
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(&log, &["--http-address", &format!("127.0.0.1:{port}")]));
    port
}

/// Input 1: `poll-interval: "18446744073709551615s"` panicked converting the jittered interval
/// and the process exited. The kind: every value of the annotation is refused with a status
/// that says what to write, and the resource goes on with the default interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_poll_interval_value_stops_the_operator() {
    let mut h = Harness::start("rob-poll").await;
    h.apply_profile("a", json!({"name": "rob-a"})).await;
    h.wait_for("a", Duration::from_secs(30), "Ready", ready).await;
    let odd = [
        "18446744073709551615s",
        "99999999999999999999999h",
        "25h",
        "-1s",
        "1e9s",
        "0s",
        "",
        " ",
        "10m\u{0}",
        "٣s",
        "1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h",
    ];
    let huge = "7".repeat(100_000) + "s";
    for value in odd.iter().copied().chain([huge.as_str()]) {
        h.annotate("a", json!({POLL_INTERVAL: value})).await;
        // The message names this value (at most 40 characters of it), or says none was given.
        let named = if value.trim().is_empty() {
            "no duration given".to_string()
        } else {
            let head: String = value.chars().take(40).collect();
            let cut = if value.chars().count() > 40 { "…" } else { "" };
            format!("{:?}", format!("{head}{cut}"))
        };
        let seen = h
            .wait_for("a", Duration::from_secs(20), "told what to write", |p| {
                condition(p, "Synced").is_some_and(|(status, _, message)| {
                    status == "True" && message.contains(POLL_INTERVAL) && message.contains(&named)
                })
            })
            .await;
        let message = condition(&seen, "Synced").expect("Synced").2;
        assert!(message.contains("like"), "says how to write it: {message}");
        assert!(message.len() < 500, "a bounded message: {} bytes", message.len());
        assert!(alive(&mut h), "the operator exited after poll-interval {value:?}");
    }
    // The largest value accepted works; a fixed value clears the note.
    h.annotate("a", json!({POLL_INTERVAL: "24h"})).await;
    h.wait_for("a", Duration::from_secs(20), "the note cleared", |p| {
        condition(p, "Synced").is_some_and(|(status, _, message)| status == "True" && message.is_empty())
    })
    .await;
    // Another resource still converges, and the process is still the same.
    h.apply_profile("b", json!({"name": "rob-b"})).await;
    h.wait_for("b", Duration::from_secs(30), "Ready", ready).await;
    assert!(alive(&mut h), "the operator exited");
}

/// Beyond the input: a pass that panics anyway ends that pass only. The resource is
/// `Synced=False InternalError`, the panic is logged and counted, and it is retried with
/// backoff while every other resource goes on. (The panic is the debug build's test hook,
/// `AUTH0_OPERATOR_TEST_PANIC`: no user input panics any more.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_panics_ends_that_pass_only() {
    let mut h = Harness::prepare("rob-panic", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.operator_env
        .push(("AUTH0_OPERATOR_TEST_PANIC".into(), format!("{}/boom", h.ns.name())));
    let port = start_with_metrics(&mut h);
    h.apply_profile("boom", json!({"name": "rob-boom"})).await;
    h.apply_profile("fine", json!({"name": "rob-fine"})).await;
    h.wait_for("fine", Duration::from_secs(30), "Ready", ready).await;
    let boom = h
        .wait_for("boom", Duration::from_secs(30), "InternalError", |p| {
            condition(p, "Synced").is_some_and(|(status, reason, _)| status == "False" && reason == "InternalError")
        })
        .await;
    let message = condition(&boom, "Synced").expect("Synced").2;
    assert!(
        message.contains("injected panic") && message.contains("retrying"),
        "{message}"
    );
    // Retried with backoff (1 s doubling), not in a hot loop, and the process stays up.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(alive(&mut h), "the operator exited on a panic");
    let body = metrics(port).await;
    let panics = series(
        &body,
        r#"auth0_operator_reconcile_panics_total{kind="ConnectionProfile"}"#,
    );
    assert!(
        (2..=8).contains(&panics),
        "retried with backoff: {panics} panics in ~8 s\n{body}"
    );
    let log = std::fs::read_to_string(&h.log).expect("log");
    assert!(log.contains("a reconcile pass panicked"), "the panic is logged");
    // A change of another resource is served at once.
    h.apply_profile(
        "fine",
        json!({"name": "rob-fine", "connectionNamePrefixTemplate": "f-"}),
    )
    .await;
    h.wait_for("fine", Duration::from_secs(10), "updated", |p| {
        ready(p) && h.remote().iter().any(|r| r["connection_name_prefix_template"] == "f-")
    })
    .await;
    assert_eq!(h.remote().iter().filter(|r| r["name"] == "rob-boom").count(), 0);
}

/// Input 2: annotations near the 256 KiB cap left no room for the operator's mark: the
/// resource got no status and was retried every 5 s for ever. Now: `Synced=False
/// WriteRefused` with the API server's rule and what to shrink, terminal, no Auth0 call; and
/// once the annotations shrink, it is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_near_the_cap_are_reported_and_cost_nothing() {
    let h = Harness::start("rob-cap").await;
    let key = "example.com/blob";
    // 262,144 bytes in all is the API server's limit: leave less than the marks need.
    let blob = "x".repeat(262_144 - key.len() - 40);
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "big", "annotations": {key: blob}},
               "spec": {"name": "rob-big", "tenantRef": {"kind": "Auth0Tenant", "name": "t"}}}),
    )
    .await;
    let refused = h
        .wait_for("big", Duration::from_secs(30), "WriteRefused", |p| {
            condition(p, "Synced").is_some_and(|(s, r, _)| s == "False" && r == "WriteRefused")
        })
        .await;
    let message = condition(&refused, "Synced").expect("Synced").2;
    for needle in [
        "metadata.annotations: Too long",
        "262144",
        "shrink metadata.annotations by at least",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    assert_eq!(condition(&refused, "Stalled").map(|c| c.0).as_deref(), Some("True"));
    // Terminal: no retry loop (no write of the resource) and no Auth0 call for it. (The
    // tenant's own status, written meanwhile, may wake one more pass: a change of the tenant
    // re-arms a terminal failure.)
    tokio::time::sleep(Duration::from_secs(3)).await;
    let version = h.profiles().get("big").await.expect("get").resource_version();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let later = h.profiles().get("big").await.expect("get");
    assert_eq!(later.resource_version(), version, "no write while nothing changed");
    let profile_calls = h
        .requests()
        .iter()
        .filter(|(_, path, _)| path.starts_with("/api/v2/connection-profiles"))
        .count();
    assert_eq!(profile_calls, 0, "no Auth0 call: {:?}", h.requests());
    // The user shrinks the annotation: created.
    h.annotate("big", json!({key: "small"})).await;
    let created = h.wait_for("big", Duration::from_secs(30), "Ready", ready).await;
    assert_eq!(h.remote().len(), 1);
    assert_eq!(h.remote()[0]["id"], id(&created));
}

/// Input 4: `auth0_operator_resources` counted resources deleted long ago, and per-resource
/// memory kept them. After deletions, by finalizer and without one (a resource that never
/// got one: its name taken by a foreign profile), the gauges equal the cache and every
/// per-resource map holds at most the live resources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_resources_leave_no_gauge_and_no_memory() {
    let mut h = Harness::prepare("rob-churn", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let port = start_with_metrics(&mut h);
    h.admin("POST", "profiles", Some(json!({"name": "rob-taken"}))).await;
    for round in 0..3 {
        for i in 0..6 {
            h.apply_profile(&format!("r{i}"), json!({"name": format!("rob-{round}-{i}")}))
                .await;
        }
        h.apply_profile("taken", json!({"name": "rob-taken"})).await;
        for i in 0..6 {
            h.wait_for(&format!("r{i}"), Duration::from_secs(30), "Ready", ready)
                .await;
        }
        h.wait_for("taken", Duration::from_secs(30), "Conflict", |p| {
            condition(p, "Synced").is_some_and(|(_, r, _)| r == "Conflict")
        })
        .await;
        for name in ["r0", "r1", "r2", "r3", "taken"] {
            h.profiles()
                .delete(name, &DeleteParams::default())
                .await
                .expect("delete");
        }
        for name in ["r0", "r1", "r2", "r3", "taken"] {
            h.wait_for_gone(name, Duration::from_secs(30)).await;
        }
    }
    // Two live resources (r4, r5).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = metrics(port).await;
        let counted: i64 = ["true", "false", "unknown"]
            .iter()
            .map(|s| {
                series(
                    &body,
                    &format!(r#"auth0_operator_resources{{kind="ConnectionProfile",ready="{s}"}}"#),
                )
            })
            .sum();
        let remembered: Vec<(String, i64)> = body
            .lines()
            .filter(|l| l.starts_with("auth0_operator_remembered_resources{"))
            .map(|l| {
                let (name, value) = l.rsplit_once(' ').expect("series");
                (name.to_string(), value.parse::<f64>().expect("value") as i64)
            })
            .collect();
        assert!(remembered.len() >= 6, "every map exported: {remembered:?}");
        if counted == 2 && remembered.iter().all(|(_, n)| *n <= 2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gauges {counted} for 2 live resources, maps {remembered:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(h.remote().len(), 3, "r4, r5 and the foreign profile");
}

/// Input 5, both ways: a tenant that keeps names in lower case, and a create whose answer is
/// lost after the write. `HB07-Mixed-Case` ended `Conflict` with no id, and its deletion left
/// the profile it created. Now the look-up by the posted name finds it: one profile, bound
/// to the resource, `NotConverging` naming `name`, and deleted with the resource.
async fn a_name_auth0_keeps_otherwise_is_still_found(unique_names: bool) {
    let h = Harness::start(if unique_names { "rob-norm-u" } else { "rob-norm-d" }).await;
    h.admin(
        "PATCH",
        "settings",
        Some(json!({"unique_names": unique_names, "normalize": [{"action": "lowercase", "field": "name"}]})),
    )
    .await;
    let rule = FaultRule {
        endpoint: Some(Endpoint::CreateProfile),
        drop_after_write: true,
        times: Some(1),
        ..FaultRule::default()
    };
    h.admin("POST", "faults", Some(serde_json::to_value(rule).expect("rule")))
        .await;
    h.apply_profile("hb07", json!({"name": "HB07-Mixed-Case"})).await;
    let bound = h
        .wait_for("hb07", Duration::from_secs(40), "bound, NotConverging on name", |p| {
            p.status.as_ref().and_then(|s| s.id.clone()).is_some()
                && condition(p, "Synced")
                    .is_some_and(|(s, r, m)| s == "False" && r == "NotConverging" && m.contains("name"))
        })
        .await;
    let remote = h.remote();
    assert_eq!(remote.len(), 1, "exactly one profile: {remote:?}");
    assert_eq!(remote[0]["id"], id(&bound));
    assert_eq!(remote[0]["name"], "hb07-mixed-case");
    let posts = h
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v2/connection-profiles")
        .count();
    assert_eq!(posts, 1, "never posted twice");
    h.profiles()
        .delete("hb07", &DeleteParams::default())
        .await
        .expect("delete");
    h.wait_for_gone("hb07", Duration::from_secs(30)).await;
    assert!(h.remote().is_empty(), "deleted with the resource: {:?}", h.remote());
    let _ = bound.name_any();
}

mod a_name_auth0_keeps_otherwise {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn names_unique() {
        super::a_name_auth0_keeps_otherwise_is_still_found(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicate_names_allowed() {
        super::a_name_auth0_keeps_otherwise_is_still_found(false).await;
    }
}

/// Found by the review of this issue's kind (what a user writes reaches the operator's
/// arithmetic and requests): the `profile-id` annotation went into the request path, so
/// `./cop_<another resource's id>` reached that profile (past the one-owner check, which
/// compares ids as strings) and `../` other APIs. Now such an annotation is
/// `Synced=False InvalidAnnotation` naming it, nothing is sent, and the resource's deletion
/// waits for `force-orphan` rather than delete anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_profile_id_reaches_nothing() {
    let mut h = Harness::start("rob-forged").await;
    h.apply_profile(
        "victim",
        json!({"name": "rob-victim", "connectionNamePrefixTemplate": "v-"}),
    )
    .await;
    let victim = h.wait_for("victim", Duration::from_secs(30), "Ready", ready).await;
    let victim_id = id(&victim);
    let writes_before = h.writes().len();
    for (name, forged) in [
        ("dot", format!("./{victim_id}")),
        ("up", format!("x/../{victim_id}")),
        ("api", "../../clients/abc".to_string()),
    ] {
        h.apply(
            "connectionprofiles",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": name, "annotations": {"auth0.operators.dev/profile-id": forged}},
                   "spec": {"name": "rob-victim", "connectionNamePrefixTemplate": "attacker-",
                            "tenantRef": {"kind": "Auth0Tenant", "name": "t"}}}),
        )
        .await;
        let refused = h
            .wait_for(name, Duration::from_secs(30), "InvalidAnnotation", |p| {
                condition(p, "Synced").is_some_and(|(s, r, _)| s == "False" && r == "InvalidAnnotation")
            })
            .await;
        let message = condition(&refused, "Synced").expect("Synced").2;
        assert!(message.contains("is not an Auth0 connection profile id"), "{message}");
        h.profiles()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    // Refused before any write, they never held the finalizer: gone at once, nothing deleted.
    for name in ["dot", "up", "api"] {
        h.wait_for_gone(name, Duration::from_secs(30)).await;
    }
    assert_eq!(h.writes().len(), writes_before, "no Auth0 write: {:?}", h.writes());
    // One that holds the finalizer (its own profile, then a forged id): its deletion is
    // refused before any request and waits for force-orphan.
    h.apply_profile("holder", json!({"name": "rob-holder"})).await;
    h.wait_for("holder", Duration::from_secs(30), "Ready", ready).await;
    let holder_id = id(&h.profiles().get("holder").await.expect("get"));
    let writes_before = h.writes().len();
    // Forged while no operator runs: a running one knows the id its own create was answered
    // with better than any record, and would delete the right profile.
    h.stop_operator();
    h.profiles()
        .patch_status(
            "holder",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"id": format!("./{victim_id}")}})),
        )
        .await
        .expect("status");
    h.annotate(
        "holder",
        json!({"auth0.operators.dev/profile-id": format!("./{victim_id}")}),
    )
    .await;
    h.start_operator();
    h.profiles()
        .delete("holder", &DeleteParams::default())
        .await
        .expect("delete");
    h.wait_for("holder", Duration::from_secs(30), "blocked, naming force-orphan", |p| {
        condition(p, "Ready").is_some_and(|(s, r, m)| s == "False" && r == "Deleting" && m.contains("force-orphan"))
    })
    .await;
    h.annotate("holder", json!({"auth0.operators.dev/force-orphan": "true"}))
        .await;
    h.wait_for_gone("holder", Duration::from_secs(30)).await;
    assert!(
        h.remote_by_id(&holder_id).is_some(),
        "force-orphan kept its own profile"
    );
    let remote = h.remote_by_id(&victim_id).expect("the victim's profile is still there");
    assert_eq!(remote["connection_name_prefix_template"], "v-");
    assert_eq!(h.writes().len(), writes_before, "no Auth0 write: {:?}", h.writes());
    let bad_paths: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.contains("..") || path.contains("/./") || path.contains("clients"))
        .collect();
    assert!(bad_paths.is_empty(), "{bad_paths:?}");
}
