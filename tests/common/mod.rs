//! The shared harness of the operator's end-to-end tests: a namespace with an Auth0Tenant `t`
//! pointing at a fresh emulator tenant, the shipped RBAC bound to the operator's identity,
//! and the `auth0-operator` binary as a process.
#![allow(dead_code)] // each test crate uses part of it

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, TenantConfig};
use auth0_operator::crd::{self, ConnectionProfile};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use testenv::{OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, TestEnv, TestNamespace};

pub const SCOPES: [&str; 4] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
];
pub const POLL: &str = "2s";
/// The client secret every harness uses, so a test can search every output for it.
pub const SECRET: &str = "operator-secret-value";
/// The label the operator's Secret watch selects on; every credential Secret carries it.
pub const CREDENTIALS_LABEL: (&str, &str) = ("auth0.operators.dev/credentials", "true");

pub struct Harness {
    pub env: TestEnv,
    pub ns: TestNamespace,
    pub emulator: Emulator,
    pub domain: String,
    pub operator: Option<Child>,
    pub log: std::path::PathBuf,
    /// `--allowed-tenant-hosts` of every operator this harness starts: the emulator
    /// tenant's `127.0.0.1:PORT` and nothing else, as a real user lists a proxy.
    pub allowed_hosts: String,
    /// Environment variables of every operator this harness starts (test hooks).
    pub operator_env: Vec<(String, String)>,
    /// `--poll-interval` of the operators started after it is set ([`POLL`] unless changed).
    pub poll_interval: String,
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
    pub async fn start(prefix: &str) -> Harness {
        Self::start_with(prefix, SCOPES.iter().map(|s| s.to_string()).collect()).await
    }

    pub async fn start_with(prefix: &str, scopes: Vec<String>) -> Harness {
        let mut harness = Self::prepare(prefix, scopes).await;
        harness.start_operator();
        harness
    }

    /// Everything but the operator.
    pub async fn prepare(prefix: &str, scopes: Vec<String>) -> Harness {
        Self::prepare_in(TestEnv::get(), prefix, |config| {
            config.tenants[0].clients[0].scopes = scopes
        })
        .await
    }

    /// Everything but the operator, on the control plane `env`, with the emulator's
    /// configuration (one tenant, one client) changed by `configure` first.
    pub async fn prepare_in(env: TestEnv, prefix: &str, configure: impl FnOnce(&mut Config)) -> Harness {
        env.install_crds(&crd::all()).await;
        let ns = env.namespace(prefix).await;
        let domain = format!("{}.auth0.test", ns.name());
        let mut config = Config {
            tenants: vec![TenantConfig {
                domain: domain.clone(),
                clients: vec![ClientConfig {
                    client_id: "operator-client".into(),
                    client_secret: SECRET.into(),
                    scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
                }],
                port: Some(0),
                ..TenantConfig::default()
            }],
            ..Config::default()
        };
        configure(&mut config);
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let log = env.dir().join(format!("operator-{}.log", ns.name()));
        let tenant_url = url::Url::parse(&emulator.tenant_url(&domain).expect("tenant url")).expect("tenant url");
        let allowed_hosts = format!(
            "{}:{}",
            tenant_url.host_str().expect("host"),
            tenant_url.port_or_known_default().expect("port")
        );
        let harness = Harness {
            env,
            ns,
            emulator,
            domain,
            operator: None,
            log,
            allowed_hosts,
            operator_env: Vec::new(),
            poll_interval: POLL.to_string(),
        };
        harness.write_secret("operator-client", SECRET).await;
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
        harness
    }

    /// Binds the operator's service-account identity to the shipped ClusterRole, and only to
    /// it, and waits until the API server enforces the binding.
    pub async fn grant_shipped_rbac(&self) {
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

    /// Applies the shipped leader-election Role and RoleBinding (deploy/base) in the test's
    /// namespace, where this test's operators keep their Lease: the shipped rules must suffice.
    pub async fn grant_leases(&self) {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base");
        let mut role: Role =
            serde_saphyr::from_str(&std::fs::read_to_string(base.join("role.yaml")).expect("role.yaml")).expect("Role");
        let mut binding: RoleBinding =
            serde_saphyr::from_str(&std::fs::read_to_string(base.join("rolebinding.yaml")).expect("rolebinding.yaml"))
                .expect("RoleBinding");
        role.metadata.namespace = Some(self.ns.name().to_string());
        binding.metadata.namespace = Some(self.ns.name().to_string());
        for subject in binding.subjects.iter_mut().flatten() {
            assert_eq!(
                (subject.name.as_str(), subject.namespace.as_deref()),
                (OPERATOR_SERVICE_ACCOUNT, Some(OPERATOR_NAMESPACE))
            );
        }
        let params = PatchParams::apply("tests").force();
        let name = role.metadata.name.clone().expect("name");
        Api::<Role>::namespaced(self.ns.client.clone(), self.ns.name())
            .patch(&name, &params, &Patch::Apply(&role))
            .await
            .expect("role");
        let name = binding.metadata.name.clone().expect("name");
        Api::<RoleBinding>::namespaced(self.ns.client.clone(), self.ns.name())
            .patch(&name, &params, &Patch::Apply(&binding))
            .await
            .expect("binding");
    }

    pub fn start_operator(&mut self) {
        let child = self.spawn_operator(&self.log.clone(), &["--http-address", "127.0.0.1:0"]);
        self.operator = Some(child);
    }

    /// Another operator process for this namespace, logging to `log`, with `extra` flags.
    pub fn spawn_operator(&self, log: &std::path::Path, extra: &[&str]) -> Child {
        self.spawn_operator_as("operator", log, extra)
    }

    /// An operator process under another of the control plane's identities.
    pub fn spawn_operator_as(&self, identity: &str, log: &std::path::Path, extra: &[&str]) -> Child {
        self.spawn_operator_watching(identity, self.ns.name(), log, extra)
    }

    /// An operator process that reconciles `namespace` (its own namespace stays this test's);
    /// `""`: every namespace.
    pub fn spawn_operator_watching(
        &self,
        identity: &str,
        namespace: &str,
        log: &std::path::Path,
        extra: &[&str],
    ) -> Child {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let watching: &[&str] = if namespace.is_empty() {
            &[]
        } else {
            &["--namespace", namespace]
        };
        Command::new(env!("CARGO_BIN_EXE_auth0-operator"))
            .arg("run")
            .args(watching)
            .args(["--operator-namespace", self.ns.name()])
            .args([
                "--poll-interval",
                &self.poll_interval,
                "--allow-insecure-http",
                "--log-format",
                "text",
            ])
            .args(["--allowed-tenant-hosts", &self.allowed_hosts])
            .args(extra)
            .arg("--kubeconfig")
            .arg(self.env.kubeconfig(identity))
            .env(
                "RUST_LOG",
                std::env::var("AUTH0_TEST_RUST_LOG").unwrap_or_else(|_| "info,auth0_operator=debug".into()),
            )
            .env("NO_COLOR", "1")
            .envs(self.operator_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("starting auth0-operator")
    }

    /// Merges `annotations` into the resource's (`null` removes one).
    pub async fn annotate(&self, name: &str, annotations: Value) {
        self.profiles()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
            )
            .await
            .expect("annotate");
    }

    pub fn stop_operator(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn write_secret(&self, id: &str, secret: &str) {
        self.write_secret_in(self.ns.name(), id, secret).await;
    }

    /// The Secret `creds` in `namespace`, labelled for the operator.
    pub async fn write_secret_in(&self, namespace: &str, id: &str, secret: &str) {
        let secrets: Api<Secret> = Api::namespaced(self.ns.client.clone(), namespace);
        let object = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "creds", "labels": {CREDENTIALS_LABEL.0: CREDENTIALS_LABEL.1}},
                            "stringData": {"client_id": id, "client_secret": secret}});
        secrets
            .patch("creds", &PatchParams::apply("test").force(), &Patch::Apply(&object))
            .await
            .expect("secret");
    }

    /// Server-side apply of a namespaced object of our group.
    pub async fn apply(&self, plural: &str, object: Value) {
        self.apply_in(self.ns.name(), plural, object).await;
    }

    /// Server-side apply of an object of our group in `namespace` ("" for cluster-scoped).
    pub async fn apply_in(&self, namespace: &str, plural: &str, object: Value) {
        let name = object["metadata"]["name"].as_str().expect("name").to_string();
        let scope = if namespace.is_empty() {
            String::new()
        } else {
            format!("namespaces/{namespace}/")
        };
        let url = format!("/apis/auth0.operators.dev/v1alpha1/{scope}{plural}/{name}?fieldManager=test&force=true");
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
    pub async fn apply_profile(&self, name: &str, mut spec: Value) {
        spec["tenantRef"] = json!({"kind": "Auth0Tenant", "name": "t"});
        self.apply(
            "connectionprofiles",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": name}, "spec": spec}),
        )
        .await;
    }

    /// An Auth0Tenant `t` in `namespace` on this test's emulator tenant, its Secret `creds`
    /// beside it.
    pub async fn tenant_in(&self, namespace: &str) {
        self.write_secret_in(namespace, "operator-client", "operator-secret-value")
            .await;
        let url = self.emulator.tenant_url(&self.domain).expect("tenant url");
        self.apply_in(
            namespace,
            "auth0tenants",
            json!({
                "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                "metadata": {"name": "t"},
                "spec": {"domain": self.domain, "credentialsSecretRef": {"name": "creds"},
                         "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}
            }),
        )
        .await;
    }

    /// A ClusterAuth0Tenant on this test's emulator tenant, its Secret `creds` in this test's
    /// namespace (the operator's), with `extra` merged into its spec. Deleted when the
    /// returned guard drops: every operator watches every ClusterAuth0Tenant.
    pub async fn cluster_tenant(&self, name: &str, extra: Value) -> ClusterTenantGuard {
        self.apply_cluster_tenant(name, extra).await;
        ClusterTenantGuard {
            name: name.to_string(),
            env: self.env.clone(),
        }
    }

    /// Creates or changes a ClusterAuth0Tenant as `cluster_tenant` does, without a guard.
    pub async fn apply_cluster_tenant(&self, name: &str, extra: Value) {
        let url = self.emulator.tenant_url(&self.domain).expect("tenant url");
        let mut spec = json!({"domain": self.domain, "credentialsSecretRef": {"name": "creds"},
                              "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        self.apply_in(
            "",
            "clusterauth0tenants",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ClusterAuth0Tenant",
                   "metadata": {"name": name}, "spec": spec}),
        )
        .await;
    }

    /// Adds the emulator's listener for tenant `domain` (a second tenant of the test) to the
    /// `--allowed-tenant-hosts` of the operators started after it.
    pub fn allow_tenant_host(&mut self, domain: &str) {
        let url = url::Url::parse(&self.emulator.tenant_url(domain).expect("tenant url")).expect("url");
        self.allowed_hosts = format!(
            "{},{}:{}",
            self.allowed_hosts,
            url.host_str().expect("host"),
            url.port_or_known_default().expect("port")
        );
    }

    pub fn profiles(&self) -> Api<ConnectionProfile> {
        Api::namespaced(self.ns.client.clone(), self.ns.name())
    }

    /// Polls the resource until `check` holds; panics with the last state after `limit`.
    pub async fn wait_for(
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

    /// Polls until the resource is gone; panics after `limit`.
    pub async fn wait_for_gone(&self, name: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while let Some(left) = self.profiles().get_opt(name).await.expect("get") {
            if Instant::now() > deadline {
                panic!("{name}: not let go within {limit:?}; last seen: {:#?}", left.status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_ready(&self, name: &str) -> ConnectionProfile {
        self.wait_for(name, Duration::from_secs(30), "Ready", |p| {
            condition(p, "Ready").is_some_and(|c| c.0 == "True") && observed(p)
        })
        .await
    }

    /// The emulator's stored profiles, as JSON.
    pub fn remote(&self) -> Vec<Value> {
        self.emulator
            .profiles(&self.domain)
            .expect("tenant")
            .into_iter()
            .map(|p| serde_json::to_value(p).expect("json"))
            .collect()
    }

    pub fn remote_by_id(&self, id: &str) -> Option<Value> {
        self.remote().into_iter().find(|p| p["id"] == id)
    }

    /// Requests the emulator answered (or dropped), as (method, path, status).
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        self.emulator
            .requests(&self.domain)
            .expect("tenant")
            .into_iter()
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }

    pub fn writes(&self) -> Vec<(String, String, u16)> {
        self.requests()
            .into_iter()
            .filter(|(m, p, _)| m != "GET" && p != "/oauth/token")
            .collect()
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/tenants/{}/{path}", self.emulator.admin_url(), self.domain);
        tokio::task::spawn_blocking({
            let method = method.to_string();
            move || admin_call(&method, &url, body)
        })
        .await
        .expect("admin call")
    }

    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
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

    pub async fn wait_event(&self, name: &str, reason: &str) -> (String, String, String) {
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

/// A free port on loopback, for an operator's --http-address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A plain HTTP GET on loopback: (status, body), or None when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// A tiny blocking HTTP/1.1 client for the emulator's admin API (plain http on loopback):
/// the answer's status and JSON body (`Null` when it is not JSON).
pub fn admin_call_try(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
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
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

/// [`admin_call_try`] that must succeed (2xx): its JSON body.
pub fn admin_call(method: &str, url: &str, body: Option<Value>) -> Value {
    let (status, payload) = admin_call_try(method, url, body);
    assert!(
        (200..300).contains(&status),
        "admin {method} {url}: {status}\n{payload}"
    );
    payload
}

pub fn condition(profile: &ConnectionProfile, type_: &str) -> Option<(String, String, String)> {
    profile
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

pub fn observed(profile: &ConnectionProfile) -> bool {
    profile.status.as_ref().and_then(|s| s.observed_generation) == profile.metadata.generation
}

pub fn id(profile: &ConnectionProfile) -> String {
    profile.status.as_ref().and_then(|s| s.id.clone()).expect("status.id")
}

/// Deletes a ClusterAuth0Tenant when dropped, even when the test panics.
pub struct ClusterTenantGuard {
    pub name: String,
    env: TestEnv,
}

impl Drop for ClusterTenantGuard {
    fn drop(&mut self) {
        let _ = self
            .env
            .kubectl()
            .args([
                "delete",
                "clusterauth0tenant",
                &self.name,
                "--ignore-not-found",
                "--wait=false",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The condition `type_` of an object's status (as JSON), as (status, reason, message);
/// empty strings when it has none.
pub fn object_condition(object: &Value, type_: &str) -> (String, String, String) {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_)
        .map(|c| {
            let text = |key: &str| c[key].as_str().unwrap_or_default().to_string();
            (text("status"), text("reason"), text("message"))
        })
        .unwrap_or_default()
}

/// Whether an object (as JSON) is Ready at its generation.
pub fn object_ready(object: &Value) -> bool {
    object_condition(object, "Ready").0 == "True"
        && object["status"]["observedGeneration"] == object["metadata"]["generation"]
}

/// Polls a resource of any kind (as JSON) until `check` holds; panics with the last state
/// after 30 s.
pub async fn wait_object<K>(api: &Api<K>, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    wait_object_for(api, name, what, Duration::from_secs(30), check).await
}

/// [`wait_object`] with another limit.
pub async fn wait_object_for<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    limit: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let deadline = Instant::now() + limit;
    loop {
        let current = api
            .get_opt(name)
            .await
            .expect("get")
            .map(|o| serde_json::to_value(o).expect("json"));
        if let Some(object) = &current
            && check(object)
        {
            return object.clone();
        }
        if Instant::now() > deadline {
            panic!("{name}: not {what} within {limit:?}; last seen: {current:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until a resource of any kind is gone; panics after `limit`.
pub async fn wait_object_gone<K>(api: &Api<K>, name: &str, limit: Duration)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let deadline = Instant::now() + limit;
    while api.get_opt(name).await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "{name} not deleted within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every scope the three kinds need (the emulator's whole list: the four of each kind, and
/// the two of self-service profiles' custom text).
pub fn all_scopes() -> Vec<String> {
    auth0_emulator::config::ALL_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect()
}
