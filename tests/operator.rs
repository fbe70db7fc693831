//! The operator end to end: the `auth0-operator` binary as a process, a real kube-apiserver,
//! and the Auth0 emulator over HTTP. Each test has its own namespace, tenant, emulator and
//! operator (watching only that namespace), so tests run in parallel without meeting.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, TenantConfig};
use auth0_operator::crd::{self, ConnectionProfile};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use testenv::{TestEnv, TestNamespace};

const SCOPES: [&str; 4] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
];
const POLL: &str = "2s";

struct Harness {
    env: TestEnv,
    ns: TestNamespace,
    emulator: Emulator,
    domain: String,
    operator: Option<Child>,
    log: std::path::PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop_operator();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("----- operator log (last 60 lines) -----");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Harness {
    /// A namespace with an Auth0Tenant `t` pointing at a fresh emulator tenant, and the
    /// operator running.
    async fn start(prefix: &str) -> Harness {
        Self::start_with(prefix, SCOPES.iter().map(|s| s.to_string()).collect()).await
    }

    async fn start_with(prefix: &str, scopes: Vec<String>) -> Harness {
        let env = TestEnv::get();
        env.install_crds(&crd::all()).await;
        let ns = env.namespace(prefix).await;
        let domain = format!("{}.auth0.test", ns.name());
        let emulator = Emulator::start(Config {
            tenants: vec![TenantConfig {
                domain: domain.clone(),
                clients: vec![ClientConfig {
                    client_id: "operator-client".into(),
                    client_secret: "operator-secret-value".into(),
                    scopes,
                }],
                port: Some(0),
                ..TenantConfig::default()
            }],
            ..Config::default()
        })
        .await
        .expect("emulator starts");
        let log = env.dir().join(format!("operator-{}.log", ns.name()));
        let mut harness = Harness {
            env,
            ns,
            emulator,
            domain,
            operator: None,
            log,
        };
        harness.write_secret("operator-client", "operator-secret-value").await;
        let url = harness.emulator.tenant_url(&harness.domain).expect("tenant url");
        harness
            .apply(
                "auth0tenants",
                json!({
                    "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                    "metadata": {"name": "t"},
                    "spec": {"domain": harness.domain, "credentialsSecretRef": {"name": "creds"},
                             "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}
                }),
            )
            .await;
        harness.grant_shipped_rbac().await;
        harness.start_operator();
        harness
    }

    /// Binds the operator's service-account identity to the shipped ClusterRole, and only to
    /// it, and waits until the API server enforces the binding.
    async fn grant_shipped_rbac(&self) {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base");
        let output = self
            .env
            .kubectl()
            .args([
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager",
                "tests",
                "-f",
            ])
            .arg(base.join("clusterrole.yaml"))
            .arg("-f")
            .arg(base.join("clusterrolebinding.yaml"))
            .output()
            .expect("kubectl");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let operator: Api<ConnectionProfile> = Api::namespaced(self.env.client("operator").await, self.ns.name());
        let deadline = Instant::now() + Duration::from_secs(10);
        while operator.list(&ListParams::default()).await.is_err() {
            assert!(Instant::now() < deadline, "the shipped RBAC never took effect");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn start_operator(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_auth0-operator"))
            .args([
                "run",
                "--namespace",
                self.ns.name(),
                "--operator-namespace",
                self.ns.name(),
            ])
            .args(["--poll-interval", POLL, "--allow-insecure-http", "--log-format", "text"])
            .args(["--http-address", "127.0.0.1:0"])
            .arg("--kubeconfig")
            .arg(self.env.kubeconfig("operator"))
            .env("RUST_LOG", "info,auth0_operator=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting auth0-operator");
        self.operator = Some(child);
    }

    fn stop_operator(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn write_secret(&self, id: &str, secret: &str) {
        let secrets: Api<Secret> = Api::namespaced(self.ns.client.clone(), self.ns.name());
        let object = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                            "stringData": {"client_id": id, "client_secret": secret}});
        secrets
            .patch("creds", &PatchParams::apply("test").force(), &Patch::Apply(&object))
            .await
            .expect("secret");
    }

    /// Server-side apply of a namespaced object of our group.
    async fn apply(&self, plural: &str, object: Value) {
        let name = object["metadata"]["name"].as_str().expect("name").to_string();
        let url = format!(
            "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/{plural}/{name}?fieldManager=test&force=true",
            self.ns.name()
        );
        let request = http::Request::patch(url)
            .header("content-type", "application/apply-patch+yaml")
            .body(serde_json::to_vec(&object).expect("json"))
            .expect("request");
        self.ns
            .client
            .request::<Value>(request)
            .await
            .unwrap_or_else(|e| panic!("applying {name}: {e}"));
    }

    /// Applies a profile on this test's tenant (`Auth0Tenant/t`).
    async fn apply_profile(&self, name: &str, mut spec: Value) {
        spec["tenantRef"] = json!({"kind": "Auth0Tenant", "name": "t"});
        self.apply(
            "connectionprofiles",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": name}, "spec": spec}),
        )
        .await;
    }

    fn profiles(&self) -> Api<ConnectionProfile> {
        Api::namespaced(self.ns.client.clone(), self.ns.name())
    }

    /// Polls the resource until `check` holds; panics with the last state after `limit`.
    async fn wait_for(
        &self,
        name: &str,
        limit: Duration,
        what: &str,
        check: impl Fn(&ConnectionProfile) -> bool,
    ) -> ConnectionProfile {
        let deadline = Instant::now() + limit;
        loop {
            let current = self.profiles().get_opt(name).await.expect("get");
            if let Some(profile) = &current
                && check(profile)
            {
                return profile.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "{name}: not {what} within {limit:?}; last seen: {:#?}",
                    current.map(|p| p.status)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_ready(&self, name: &str) -> ConnectionProfile {
        self.wait_for(name, Duration::from_secs(30), "Ready", |p| {
            condition(p, "Ready").is_some_and(|c| c.0 == "True") && observed(p)
        })
        .await
    }

    /// The emulator's stored profiles, as JSON.
    fn remote(&self) -> Vec<Value> {
        self.emulator
            .profiles(&self.domain)
            .expect("tenant")
            .into_iter()
            .map(|p| serde_json::to_value(p).expect("json"))
            .collect()
    }

    fn remote_by_id(&self, id: &str) -> Option<Value> {
        self.remote().into_iter().find(|p| p["id"] == id)
    }

    /// Requests the emulator answered (or dropped), as (method, path, status).
    fn requests(&self) -> Vec<(String, String, u16)> {
        self.emulator
            .requests(&self.domain)
            .expect("tenant")
            .into_iter()
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }

    fn writes(&self) -> Vec<(String, String, u16)> {
        self.requests()
            .into_iter()
            .filter(|(m, p, _)| m != "GET" && p != "/oauth/token")
            .collect()
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/tenants/{}/{path}", self.emulator.admin_url(), self.domain);
        tokio::task::spawn_blocking({
            let method = method.to_string();
            move || admin_call(&method, &url, body)
        })
        .await
        .expect("admin call")
    }

    async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        let events: Api<Event> = Api::namespaced(self.ns.client.clone(), self.ns.name());
        events
            .list(&ListParams::default())
            .await
            .expect("events")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .map(|e| {
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.note.unwrap_or_default(),
                )
            })
            .collect()
    }

    async fn wait_event(&self, name: &str, reason: &str) -> (String, String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(event) = self.events(name).await.into_iter().find(|e| e.1 == reason) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no {reason} event for {name}: {:?}",
                self.events(name).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A tiny blocking HTTP/1.1 client for the emulator's admin API (plain http on loopback).
fn admin_call(method: &str, url: &str, body: Option<Value>) -> Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = std::net::TcpStream::connect(host).expect("connect to admin");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 2"),
        "admin {method} {url}: {head}\n{payload}"
    );
    serde_json::from_str(payload).unwrap_or(Value::Null)
}

fn condition(profile: &ConnectionProfile, type_: &str) -> Option<(String, String, String)> {
    profile
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn observed(profile: &ConnectionProfile) -> bool {
    profile.status.as_ref().and_then(|s| s.observed_generation) == profile.metadata.generation
}

fn id(profile: &ConnectionProfile) -> String {
    profile.status.as_ref().and_then(|s| s.id.clone()).expect("status.id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete() {
    let h = Harness::start("op-crud").await;
    h.apply_profile(
        "acme",
        json!({"name": "Acme", "connectionNamePrefixTemplate": "ac-{org_id}-", "enabledFeatures": ["scim"]}),
    )
    .await;
    let ready = h.wait_ready("acme").await;
    let id = id(&ready);
    assert!(auth0_operator::crd::validation::is_profile_id(&id), "{id}");
    let remote = h.remote_by_id(&id).expect("the profile exists in Auth0");
    assert_eq!(remote["name"], "Acme");
    assert_eq!(remote["connection_name_prefix_template"], "ac-{org_id}-");
    assert_eq!(remote["enabled_features"], json!(["scim"]));
    let status = ready.status.clone().expect("status");
    assert_eq!(status.tenant.as_deref(), Some(h.domain.as_str()));
    assert_eq!(status.at_provider.as_ref().map(|a| a.name.as_str()), Some("Acme"));
    for type_ in ["Synced", "Reconciling", "Stalled"] {
        assert!(condition(&ready, type_).is_some(), "{type_} set on the first visit");
    }
    h.wait_event("acme", "Created").await;

    // Change every kind of field: the remote follows.
    h.apply_profile(
        "acme",
        json!({"name": "Acme Corp", "connectionNamePrefixTemplate": "acme-", "enabledFeatures": ["scim", "universal_logout"],
               "organization": {"showAsButton": "optional", "assignMembershipOnLogin": "required"},
               "strategyOverrides": {"googleApps": {"enabledFeatures": ["scim"]}},
               "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "defaultExpiry": 3600}}},
               "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled"]}}}),
    )
    .await;
    h.wait_for("acme", Duration::from_secs(20), "updated", |p| {
        observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let remote = h.remote_by_id(&id).expect("same profile");
    assert_eq!(remote["name"], "Acme Corp");
    assert_eq!(remote["connection_name_prefix_template"], "acme-");
    assert_eq!(
        remote["organization"],
        json!({"show_as_button": "optional", "assign_membership_on_login": "required"})
    );
    assert_eq!(
        remote["strategy_overrides"],
        json!({"google-apps": {"enabled_features": ["scim"]}})
    );
    assert_eq!(remote["provisioning"]["scim"]["tokens"]["default_expiry"], 3600);
    assert_eq!(
        remote["cross_app_access_resource_app"]["status"]["default_value"],
        "enabled"
    );
    h.wait_event("acme", "Updated").await;

    // Removing fields clears them.
    h.apply_profile("acme", json!({"name": "Acme Corp"})).await;
    h.wait_for("acme", Duration::from_secs(20), "updated", |p| {
        observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let remote = h.remote_by_id(&id).expect("same profile");
    assert_eq!(remote["enabled_features"], json!([]));
    assert!(remote["strategy_overrides"].is_null(), "{remote}");
    assert_eq!(h.remote().len(), 1, "exactly one profile");

    h.profiles()
        .delete("acme", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.profiles().get_opt("acme").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "the resource was not released");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.remote().is_empty(), "the Auth0 profile is gone: {:?}", h.remote());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_leaves_the_profile_and_says_so() {
    let h = Harness::start("op-orphan").await;
    h.apply_profile("keep", json!({"deletionPolicy": "Orphan"})).await;
    let id = id(&h.wait_ready("keep").await);
    h.profiles()
        .delete("keep", &DeleteParams::default())
        .await
        .expect("delete");
    let event = h.wait_event("keep", "Orphaned").await;
    assert!(event.2.contains(&id), "the event names the id: {event:?}");
    assert!(h.remote_by_id(&id).is_some(), "the profile stays in Auth0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_by_external_id_posts_nothing() {
    let h = Harness::start("op-adopt").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "made-in-dashboard", "enabled_features": ["scim"]})),
        )
        .await;
    let existing = made["id"].as_str().expect("id").to_string();
    h.apply_profile(
        "adopt",
        json!({"externalID": existing, "name": "adopted", "enabledFeatures": ["universal_logout"]}),
    )
    .await;
    let ready = h.wait_ready("adopt").await;
    assert_eq!(id(&ready), existing);
    let remote = h.remote_by_id(&existing).expect("still there");
    assert_eq!(remote["name"], "adopted", "the remote takes the spec");
    assert_eq!(remote["enabled_features"], json!(["universal_logout"]));
    assert_eq!(h.remote().len(), 1);
    assert!(
        !h.requests()
            .iter()
            .any(|(m, p, _)| m == "POST" && p.ends_with("/connection-profiles")),
        "no POST: {:?}",
        h.requests()
    );
    h.wait_event("adopt", "Adopted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_never_writes() {
    let h = Harness::start("op-observe").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "watched", "connection_name_prefix_template": "w-"})),
        )
        .await;
    h.apply_profile(
        "watched",
        json!({"managementPolicy": "Observe", "connectionNamePrefixTemplate": "other-"}),
    )
    .await;
    let ready = h.wait_ready("watched").await;
    assert_eq!(id(&ready), made["id"].as_str().expect("id"));
    let observed = ready.status.and_then(|s| s.at_provider).expect("atProvider");
    assert_eq!(
        observed.connection_name_prefix_template.as_deref(),
        Some("w-"),
        "the remote state is reported"
    );
    tokio::time::sleep(Duration::from_secs(5)).await; // two poll intervals
    h.profiles()
        .delete("watched", &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m != "GET" && p != "/oauth/token")
        .collect();
    assert!(writes.is_empty(), "Observe wrote: {writes:?}");
    assert_eq!(h.remote()[0]["connection_name_prefix_template"], "w-");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_we_did_not_create_stalls_with_conflict() {
    let h = Harness::start("op-conflict").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "taken", "connection_name_prefix_template": "theirs-"})),
        )
        .await;
    h.apply_profile(
        "mine",
        json!({"name": "taken", "connectionNamePrefixTemplate": "mine-"}),
    )
    .await;
    let stalled = h
        .wait_for("mine", Duration::from_secs(20), "Stalled", |p| {
            condition(p, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let (_, why, message) = condition(&stalled, "Stalled").expect("stalled");
    assert_eq!(why, "Conflict");
    assert!(
        message.contains(made["id"].as_str().expect("id")),
        "the message names the owner: {message}"
    );
    assert_eq!(h.remote().len(), 1);
    assert_eq!(
        h.remote()[0]["connection_name_prefix_template"],
        "theirs-",
        "nothing overwritten"
    );
    h.wait_event("mine", "Conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_and_out_of_band_deletes_are_corrected() {
    let h = Harness::start("op-drift").await;
    h.apply_profile("drifty", json!({"connectionNamePrefixTemplate": "good-"}))
        .await;
    let id = id(&h.wait_ready("drifty").await);
    h.admin(
        "PATCH",
        &format!("profiles/{id}"),
        Some(json!({"connection_name_prefix_template": "bad-"})),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.remote_by_id(&id).expect("exists")["connection_name_prefix_template"] != "good-" {
        assert!(
            Instant::now() < deadline,
            "drift not corrected within the poll interval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.wait_event("drifty", "DriftCorrected").await;

    h.admin("DELETE", &format!("profiles/{id}"), None).await;
    let recreated = h
        .wait_for("drifty", Duration::from_secs(15), "recreated", |p| {
            p.status
                .as_ref()
                .and_then(|s| s.id.as_deref())
                .is_some_and(|new| new != id)
        })
        .await;
    let new_id = recreated.status.and_then(|s| s.id).expect("id");
    assert!(h.remote_by_id(&new_id).is_some());
    assert_eq!(h.remote().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_answer_after_create_makes_exactly_one_profile() {
    let h = Harness::start("op-dropped").await;
    h.admin(
        "PUT",
        "faults",
        Some(json!([{"endpoint": "create_profile", "drop_after_write": true, "times": 1}])),
    )
    .await;
    h.apply_profile("once", json!({"enabledFeatures": ["scim"]})).await;
    let ready = h.wait_ready("once").await;
    assert_eq!(h.remote().len(), 1, "exactly one profile: {:?}", h.remote());
    assert_eq!(h.remote()[0]["id"], id(&ready).as_str());
    let posts = h
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.ends_with("/connection-profiles"))
        .count();
    assert_eq!(posts, 1, "never POST twice: {:?}", h.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_resource_costs_no_writes() {
    let h = Harness::start("op-settled").await;
    h.apply_profile("calm", json!({"enabledFeatures": ["scim"]})).await;
    let ready = h.wait_ready("calm").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_version = h.profiles().get("calm").await.expect("get").metadata.resource_version;
    let before = h.requests().len();
    tokio::time::sleep(Duration::from_millis(6500)).await; // three poll intervals of 2 s
    let after = h.requests();
    let new: Vec<_> = after[before..].to_vec();
    assert!(
        new.iter().all(|(m, _, _)| m == "GET"),
        "no Auth0 writes while settled: {new:?}"
    );
    assert!(
        new.iter().all(|(_, p, _)| !p.contains(&id(&ready))),
        "drift checks list, they do not GET each profile: {new:?}"
    );
    assert!(new.len() <= 4, "about one listing per interval: {new:?}");
    let after_version = h.profiles().get("calm").await.expect("get").metadata.resource_version;
    assert_eq!(before_version, after_version, "no API-server writes while settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_resources_are_not_written() {
    let h = Harness::start("op-paused").await;
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "held", "annotations": {"auth0.operators.dev/paused": "true"}},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}}),
    )
    .await;
    let paused = h
        .wait_for("held", Duration::from_secs(20), "paused", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "ReconcilePaused")
        })
        .await;
    assert_eq!(condition(&paused, "Ready").map(|c| c.1), Some("Paused".into()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(h.remote().is_empty(), "nothing created while paused");
    assert!(h.writes().is_empty(), "no writes while paused: {:?}", h.writes());
    // Unpausing resumes.
    h.apply_profile("held", json!({})).await;
    h.wait_ready("held").await;
    assert_eq!(h.remote().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_fail_clearly_without_a_retry_storm() {
    let h = Harness::start("op-badcreds").await;
    h.write_secret("operator-client", "wrong-secret").await;
    h.apply_profile("denied", json!({})).await;
    let failed = h
        .wait_for("denied", Duration::from_secs(20), "Unauthorized", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "Unauthorized")
        })
        .await;
    let (_, _, message) = condition(&failed, "Synced").expect("synced");
    assert!(message.contains("refused the client credentials"), "{message}");
    assert!(!message.contains("wrong-secret"), "the secret must not leak: {message}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let tokens = h.requests().into_iter().filter(|(_, p, _)| p == "/oauth/token").count();
    assert!(tokens <= 2, "no retry storm: {tokens} token requests");
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let tenant = tenants.get("t").await.expect("tenant");
    let ready = tenant
        .status
        .expect("tenant status")
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "Unauthorized")
    );

    // The fixed secret is picked up without a restart.
    h.write_secret("operator-client", "operator-secret-value").await;
    h.wait_ready("denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_is_named_by_the_tenant() {
    let h = Harness::start_with(
        "op-scope",
        vec!["read:connection_profiles".into(), "create:connection_profiles".into()],
    )
    .await;
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tenant = tenants.get("t").await.expect("tenant");
        if let Some(status) = tenant.status
            && !status.missing_scopes.is_empty()
        {
            assert_eq!(
                status.missing_scopes,
                ["update:connection_profiles", "delete:connection_profiles"]
            );
            let ready = status.conditions.iter().find(|c| c.type_ == "Ready").expect("Ready");
            assert_eq!(ready.reason, "MissingScopes");
            assert!(
                ready.message.contains("update:connection_profiles"),
                "{}",
                ready.message
            );
            break;
        }
        assert!(Instant::now() < deadline, "the tenant never named the missing scopes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_without_credentials_waits_until_force_orphan() {
    let h = Harness::start("op-nocreds").await;
    h.apply_profile("stuck", json!({})).await;
    let id = id(&h.wait_ready("stuck").await);
    let secrets: Api<Secret> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    secrets
        .delete("creds", &DeleteParams::default())
        .await
        .expect("delete secret");
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.profiles()
        .delete("stuck", &DeleteParams::default())
        .await
        .expect("delete");
    let waiting = h
        .wait_for(
            "stuck",
            Duration::from_secs(20),
            "CredentialsUnavailable on delete",
            |p| condition(p, "Synced").is_some_and(|c| c.1 == "CredentialsUnavailable" && c.2.contains("force-orphan")),
        )
        .await;
    let (_, _, message) = condition(&waiting, "Synced").expect("synced");
    assert!(
        message.contains("force-orphan"),
        "the message names the escape hatch: {message}"
    );
    h.wait_event("stuck", "CredentialsUnavailable").await;
    let patch = json!({"metadata": {"annotations": {"auth0.operators.dev/force-orphan": "true"}}});
    h.profiles()
        .patch("stuck", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.profiles().get_opt("stuck").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "force-orphan did not release the resource");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.remote_by_id(&id).is_some(), "the profile stays in Auth0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_requested_at_forces_a_pass() {
    let h = Harness::start("op-requested").await;
    h.apply_profile("poke", json!({})).await;
    let id = id(&h.wait_ready("poke").await);
    let gets_before = h
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with(&id))
        .count();
    let patch =
        json!({"metadata": {"annotations": {"auth0.operators.dev/reconcile-requested-at": "2026-11-27T12:00:00Z"}}});
    h.profiles()
        .patch("poke", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    h.wait_for("poke", Duration::from_secs(10), "handled", |p| {
        p.status.as_ref().and_then(|s| s.last_handled_reconcile_at.as_deref()) == Some("2026-11-27T12:00:00Z")
    })
    .await;
    let gets_after = h
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with(&id))
        .count();
    assert_eq!(
        gets_after,
        gets_before + 1,
        "the requested pass read the profile from Auth0"
    );
}
