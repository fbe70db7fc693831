//! What GitOps tools make of live ConnectionProfiles, Auth0Tenants and ClusterAuth0Tenants:
//! objects created in the real kube-apiserver, their status written through the status
//! subresource as the operator writes it, read back with `kubectl get -o json`, and judged by
//! the real libraries: kstatus (sigs.k8s.io/cli-utils, what Flux and `kubectl wait` use),
//! Argo CD's health checks (deploy/argocd/health.lua and tenant-health.lua in gopher-lua) and
//! Flux's healthCheckExprs (deploy/flux/health-check-exprs.yaml in cel-go, evaluated as Flux
//! evaluates them). All run in `gitops-check`, built from tools/gitops by tools/build-tools.sh.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use auth0_operator::crd::{self, Auth0Tenant, ClusterAuth0Tenant, ConnectionProfile};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde::Deserialize;
use serde_json::{Value, json};
use testenv::TestEnv;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The folder `tools/build-tools.sh` prints (helm, gitops-check); builds them on first use.
fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = Command::new(repo("tools/build-tools.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("running tools/build-tools.sh");
        assert!(out.status.success(), "tools/build-tools.sh failed ({})", out.status);
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
}

#[derive(Debug, Deserialize)]
struct Verdict {
    status: String,
    message: String,
}

/// `gitops-check <args>` with the object on stdin.
fn gitops_check(args: &[&str], object: &[u8]) -> Verdict {
    let mut child = Command::new(tools().join("gitops-check"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running gitops-check");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(object)
        .expect("writing the object");
    let out = child.wait_with_output().expect("gitops-check");
    assert!(
        out.status.success(),
        "gitops-check {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("gitops-check printed {:?}: {e}", String::from_utf8_lossy(&out.stdout)))
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, generation: i64) -> Value {
    json!({
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": generation,
    })
}

/// One of the operator's kinds, as the tests create and read it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    ConnectionProfile,
    Auth0Tenant,
    ClusterAuth0Tenant,
}

impl Kind {
    fn resource(self) -> ApiResource {
        match self {
            Kind::ConnectionProfile => ApiResource::erase::<ConnectionProfile>(&()),
            Kind::Auth0Tenant => ApiResource::erase::<Auth0Tenant>(&()),
            Kind::ClusterAuth0Tenant => ApiResource::erase::<ClusterAuth0Tenant>(&()),
        }
    }

    fn namespaced(self) -> bool {
        self != Kind::ClusterAuth0Tenant
    }

    /// The Argo CD health check for the kind (argocd-cm-snippet.yaml registers these).
    fn argo_script(self) -> PathBuf {
        match self {
            Kind::ConnectionProfile => repo("deploy/argocd/health.lua"),
            Kind::Auth0Tenant | Kind::ClusterAuth0Tenant => repo("deploy/argocd/tenant-health.lua"),
        }
    }

    /// A valid spec of the kind.
    fn spec(self) -> Value {
        match self {
            Kind::ConnectionProfile => json!({"enabledFeatures": ["scim"]}),
            Kind::Auth0Tenant | Kind::ClusterAuth0Tenant => json!({
                "domain": "acme.eu.auth0.com",
                "credentialsSecretRef": {"name": "acme-auth0-credentials"},
            }),
        }
    }

    /// A spec change that bumps metadata.generation.
    fn spec_change(self) -> Value {
        match self {
            Kind::ConnectionProfile => json!({"spec": {"enabledFeatures": ["scim", "universal_logout"]}}),
            Kind::Auth0Tenant | Kind::ClusterAuth0Tenant => {
                json!({"spec": {"credentialsSecretRef": {"name": "acme-auth0-credentials-rotated"}}})
            }
        }
    }
}

/// A live object of one kind, in one test's namespace (a ClusterAuth0Tenant's name carries
/// the namespace's, so tests running at once do not meet).
struct Live {
    kind: Kind,
    api: Api<DynamicObject>,
    name: String,
    namespace: String,
}

impl Live {
    async fn create(env: &TestEnv, kind: Kind, ns: &str, name: &str) -> Live {
        let resource = kind.resource();
        let client = env.admin().await;
        let (api, name) = if kind.namespaced() {
            (Api::namespaced_with(client, ns, &resource), name.to_string())
        } else {
            (Api::all_with(client, &resource), format!("{ns}-{name}"))
        };
        let mut metadata = json!({"name": name});
        if kind.namespaced() {
            metadata["namespace"] = json!(ns);
        }
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "metadata": metadata,
            "spec": kind.spec(),
        }))
        .expect("object");
        api.create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("creating {kind:?} {name}: {e}"));
        Live {
            kind,
            api,
            name,
            namespace: ns.to_string(),
        }
    }

    /// Writes `status` (given the current generation) through the status subresource.
    async fn write_status(&self, status: impl Fn(i64) -> Value) {
        let generation = self.get()["metadata"]["generation"].as_i64().expect("generation");
        let status = status(generation);
        self.api
            .patch_status(
                &self.name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await
            .unwrap_or_else(|e| panic!("writing the status of {:?} {}: {e}", self.kind, self.name));
        let stored = self.get();
        assert_eq!(
            stored["status"]["observedGeneration"], status["observedGeneration"],
            "the status was not stored: {stored}"
        );
    }

    /// Changes the spec and checks that the generation moved past the status's.
    async fn change_spec(&self) {
        let before = self.get()["metadata"]["generation"].as_i64();
        self.api
            .patch(
                &self.name,
                &PatchParams::default(),
                &Patch::Merge(self.kind.spec_change()),
            )
            .await
            .unwrap_or_else(|e| panic!("changing the spec of {:?} {}: {e}", self.kind, self.name));
        let after = self.get()["metadata"]["generation"].as_i64();
        assert!(
            after > before,
            "the spec change did not bump the generation ({before:?} -> {after:?})"
        );
    }

    /// The object as `kubectl get -o json` prints it.
    fn json(&self) -> Vec<u8> {
        let plural = self.kind.resource().plural;
        let mut args = vec!["get".to_string(), plural, self.name.clone(), "-o".into(), "json".into()];
        if self.kind.namespaced() {
            args.extend(["-n".to_string(), self.namespace.clone()]);
        }
        let out = TestEnv::get().kubectl().args(&args).output().expect("kubectl get");
        assert!(
            out.status.success(),
            "kubectl get {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn get(&self) -> Value {
        serde_json::from_slice(&self.json()).expect("json")
    }

    /// What kstatus, Argo CD and Flux make of the object now.
    fn judge(&self) -> Verdicts {
        let object = self.json();
        let script = self.kind.argo_script();
        let exprs = repo("deploy/flux/health-check-exprs.yaml");
        Verdicts {
            kstatus: gitops_check(&["kstatus"], &object),
            argo: gitops_check(&["argocd", script.to_str().expect("utf-8 path")], &object),
            flux: gitops_check(&["flux", exprs.to_str().expect("utf-8 path")], &object),
        }
    }
}

#[derive(Debug)]
struct Verdicts {
    kstatus: Verdict,
    argo: Verdict,
    flux: Verdict,
}

impl Verdicts {
    /// (kstatus, Argo CD, Flux) statuses.
    fn statuses(&self) -> (&str, &str, &str) {
        (&self.kstatus.status, &self.argo.status, &self.flux.status)
    }
}

/// Creates an object of `kind` and writes `conditions` (with observedGeneration = generation)
/// through the status subresource.
async fn live(env: &TestEnv, kind: Kind, ns: &str, name: &str, conditions: impl Fn(i64) -> Vec<Value>) -> Live {
    let object = Live::create(env, kind, ns, name).await;
    object
        .write_status(|g| {
            let mut status = json!({"observedGeneration": g, "conditions": conditions(g)});
            match kind {
                Kind::ConnectionProfile => status["id"] = json!("cop_4oZkvfjkK7ZnLMykP2JDQE"),
                Kind::Auth0Tenant | Kind::ClusterAuth0Tenant => {
                    status["grantedScopes"] = json!(["read:connection_profiles", "create:connection_profiles"])
                }
            }
            status
        })
        .await;
    object
}

fn tenant_ready(g: i64) -> Vec<Value> {
    vec![
        condition("Ready", "True", "Available", "", g),
        condition("Stalled", "False", "Idle", "", g),
    ]
}

#[tokio::test]
async fn a_ready_profile_is_current_for_kstatus_and_flux_and_healthy_for_argo_cd() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let profile = live(&env, Kind::ConnectionProfile, ns.name(), "ready", |g| {
        vec![
            condition("Ready", "True", "Available", "", g),
            condition("Synced", "True", "ReconcileSuccess", "", g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "False", "Idle", "", g),
        ]
    })
    .await;

    let v = profile.judge();
    assert_eq!(v.statuses(), ("Current", "Healthy", "Current"), "{v:?}");
    assert_eq!(v.argo.message, "Available");
}

#[tokio::test]
async fn a_stalled_profile_is_failed_for_kstatus_and_flux_and_degraded_for_argo_cd() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let conflict = "an Auth0 profile named \"stalled\" already exists (cop_1cu7Zs1Dfru5Qc9mZea7nm) and this \
                    resource did not create it; adopt it with spec.externalID";
    let profile = live(&env, Kind::ConnectionProfile, ns.name(), "stalled", |g| {
        vec![
            condition("Ready", "False", "Unavailable", "", g),
            condition("Synced", "False", "Conflict", conflict, g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "True", "Conflict", conflict, g),
        ]
    })
    .await;

    let v = profile.judge();
    assert_eq!(v.statuses(), ("Failed", "Degraded", "Failed"), "{v:?}");
    assert_eq!(v.kstatus.message, conflict, "kstatus carries the Stalled message");
    assert_eq!(v.argo.message, format!("Conflict: {conflict}"));
}

#[tokio::test]
async fn a_profile_whose_generation_is_not_observed_is_in_progress() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    // The status speaks for an older generation than the spec.
    let profile = live(&env, Kind::ConnectionProfile, ns.name(), "behind", |g| {
        vec![
            condition("Ready", "True", "Available", "", g),
            condition("Synced", "True", "ReconcileSuccess", "", g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "False", "Idle", "", g),
        ]
    })
    .await;
    assert_eq!(profile.judge().statuses(), ("Current", "Healthy", "Current"));
    profile.change_spec().await;

    let v = profile.judge();
    assert_eq!(v.statuses(), ("InProgress", "Progressing", "InProgress"), "{v:?}");
}

#[tokio::test]
async fn ready_tenants_are_healthy_for_argo_cd_and_current_for_flux() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    for kind in [Kind::Auth0Tenant, Kind::ClusterAuth0Tenant] {
        let tenant = live(&env, kind, ns.name(), "ready", tenant_ready).await;
        let v = tenant.judge();
        assert_eq!(v.statuses(), ("Current", "Healthy", "Current"), "{kind:?}: {v:?}");
        assert_eq!(v.argo.message, "Available", "{kind:?}");
    }
}

/// The case of issue 25: a tenant whose credentials Auth0 refuses was Healthy to Argo CD, so
/// the sync wave after it went ahead.
#[tokio::test]
async fn tenants_auth0_refuses_are_degraded_for_argo_cd_and_failed_for_flux() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let refused = "Auth0 refused the client credentials: Unauthorized (access_denied)";
    for kind in [Kind::Auth0Tenant, Kind::ClusterAuth0Tenant] {
        let tenant = live(&env, kind, ns.name(), "refused", |g| {
            vec![
                condition("Ready", "False", "Unauthorized", refused, g),
                condition("Stalled", "True", "Unauthorized", refused, g),
            ]
        })
        .await;
        let v = tenant.judge();
        assert_eq!(v.statuses(), ("Failed", "Degraded", "Failed"), "{kind:?}: {v:?}");
        assert_eq!(v.argo.message, format!("Unauthorized: {refused}"), "{kind:?}");
    }
    // Missing scopes are stalled the same way.
    let lacking = "the client's grant lacks delete:connection_profiles: add them to its Management API grant";
    let tenant = live(&env, Kind::ClusterAuth0Tenant, ns.name(), "lacking", |g| {
        vec![
            condition("Ready", "False", "MissingScopes", lacking, g),
            condition("Stalled", "True", "MissingScopes", lacking, g),
        ]
    })
    .await;
    let v = tenant.judge();
    assert_eq!(v.statuses(), ("Failed", "Degraded", "Failed"), "{v:?}");
    assert_eq!(v.argo.message, format!("MissingScopes: {lacking}"));
}

#[tokio::test]
async fn tenants_whose_generation_is_not_observed_are_in_progress() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let refused = "Auth0 refused the client credentials: Unauthorized (access_denied)";
    for kind in [Kind::Auth0Tenant, Kind::ClusterAuth0Tenant] {
        // A ready tenant, then a new Secret: the old Ready says nothing about it.
        let tenant = live(&env, kind, ns.name(), "rotated", tenant_ready).await;
        tenant.change_spec().await;
        let v = tenant.judge();
        assert_eq!(
            v.statuses(),
            ("InProgress", "Progressing", "InProgress"),
            "{kind:?}: {v:?}"
        );
        assert!(
            v.argo
                .message
                .starts_with("Waiting for the operator to observe generation"),
            "{v:?}"
        );

        // A refused tenant, then the fix: not Degraded while the operator has not looked.
        let tenant = live(&env, kind, ns.name(), "fixed", |g| {
            vec![
                condition("Ready", "False", "Unauthorized", refused, g),
                condition("Stalled", "True", "Unauthorized", refused, g),
            ]
        })
        .await;
        tenant.change_spec().await;
        let v = tenant.judge();
        assert_eq!(
            v.statuses(),
            ("InProgress", "Progressing", "InProgress"),
            "{kind:?}: {v:?}"
        );
    }
}

/// A tenant whose Secret is not there yet (it may come in the same sync wave) is retried by
/// the operator: in progress, not failed.
#[tokio::test]
async fn a_tenant_waiting_for_its_secret_is_in_progress() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let missing = format!(
        "Secret {}/acme-auth0-credentials not found, or not labelled auth0.operators.dev/credentials=true",
        ns.name()
    );
    let tenant = live(&env, Kind::Auth0Tenant, ns.name(), "waiting", |g| {
        vec![
            condition("Ready", "False", "CredentialsUnavailable", &missing, g),
            condition("Stalled", "False", "Idle", "", g),
        ]
    })
    .await;
    let v = tenant.judge();
    assert_eq!(v.statuses(), ("InProgress", "Progressing", "InProgress"), "{v:?}");
    assert_eq!(v.argo.message, format!("CredentialsUnavailable: {missing}"));
}

/// Before the operator's first status write: kstatus alone calls an object without status
/// Current; Argo CD's checks say Progressing, and Flux's expressions cannot read the status
/// (Unknown), so Flux keeps waiting.
#[tokio::test]
async fn objects_without_status_are_not_done() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    for kind in [Kind::ConnectionProfile, Kind::Auth0Tenant, Kind::ClusterAuth0Tenant] {
        let object = Live::create(&env, kind, ns.name(), "new").await;
        let v = object.judge();
        assert_eq!(v.statuses(), ("Current", "Progressing", "Unknown"), "{kind:?}: {v:?}");
        assert_eq!(v.argo.message, "Waiting for the operator to report status", "{kind:?}");
        assert!(v.flux.message.contains("no such attribute"), "{kind:?}: {v:?}");
    }
}

/// The health checks against every status fixture (tools/gitops/testdata/argocd and
/// testdata/tenant) in gopher-lua, kstatus and cel-go, the argocd-cm snippet holding the same
/// scripts, and docs/install.md showing them: `go test ./...` in tools/gitops.
#[test]
fn health_checks_pass_their_fixtures() {
    let out = Command::new("go")
        .args(["test", "-count=1", "./..."])
        .current_dir(repo("tools/gitops"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("running go test in tools/gitops (Go 1.26+ is needed)");
    assert!(
        out.status.success(),
        "go test ./... in tools/gitops failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
