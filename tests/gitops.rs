//! What GitOps tools make of live ConnectionProfiles: objects created in the real
//! kube-apiserver, their status written through the status subresource as the operator writes
//! it, read back with `kubectl get -o json`, and judged by the real libraries: kstatus
//! (sigs.k8s.io/cli-utils, what Flux and `kubectl wait` use) and Argo CD's health check
//! (deploy/argocd/health.lua in gopher-lua). Both run in `gitops-check`, built from
//! tools/gitops by tools/build-tools.sh.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use auth0_operator::crd::{self, ConnectionProfile};
use kube::api::{Api, Patch, PatchParams, PostParams};
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

/// Creates a profile, writes `conditions` (with observedGeneration = generation) through the
/// status subresource, and returns the live object as `kubectl get -o json` prints it.
async fn live_profile(env: &TestEnv, ns: &str, name: &str, conditions: impl Fn(i64) -> Vec<Value>) -> Vec<u8> {
    let api = Api::<ConnectionProfile>::namespaced(env.admin().await, ns);
    let profile: ConnectionProfile = serde_json::from_value(json!({
        "apiVersion": "auth0.operators.dev/v1alpha1",
        "kind": "ConnectionProfile",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"enabledFeatures": ["scim"]},
    }))
    .expect("profile");
    let created = api
        .create(&PostParams::default(), &profile)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    let generation = created.metadata.generation.expect("generation");
    let status = json!({"status": {
        "observedGeneration": generation,
        "id": "cop_4oZkvfjkK7ZnLMykP2JDQE",
        "conditions": conditions(generation),
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("writing the status of {name}: {e}"));
    let out = env
        .kubectl()
        .args(["get", "connectionprofile", name, "-n", ns, "-o", "json"])
        .output()
        .expect("kubectl get");
    assert!(
        out.status.success(),
        "kubectl get {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let object: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        object["status"]["observedGeneration"], generation,
        "the status was not stored: {object}"
    );
    out.stdout
}

#[tokio::test]
async fn a_ready_profile_is_current_for_kstatus_and_healthy_for_argo_cd() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let object = live_profile(&env, ns.name(), "ready", |g| {
        vec![
            condition("Ready", "True", "Available", "", g),
            condition("Synced", "True", "ReconcileSuccess", "", g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "False", "Idle", "", g),
        ]
    })
    .await;

    let kstatus = gitops_check(&["kstatus"], &object);
    assert_eq!(kstatus.status, "Current", "kstatus: {kstatus:?}");
    let health = repo("deploy/argocd/health.lua");
    let argo = gitops_check(&["argocd", health.to_str().expect("utf-8 path")], &object);
    assert_eq!((argo.status.as_str(), argo.message.as_str()), ("Healthy", "Available"));
}

#[tokio::test]
async fn a_stalled_profile_is_failed_for_kstatus_and_degraded_for_argo_cd() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    let conflict = "an Auth0 profile named \"stalled\" already exists (cop_1cu7Zs1Dfru5Qc9mZea7nm) and this \
                    resource did not create it; adopt it with spec.externalID";
    let object = live_profile(&env, ns.name(), "stalled", |g| {
        vec![
            condition("Ready", "False", "Unavailable", "", g),
            condition("Synced", "False", "Conflict", conflict, g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "True", "Conflict", conflict, g),
        ]
    })
    .await;

    let kstatus = gitops_check(&["kstatus"], &object);
    assert_eq!(kstatus.status, "Failed", "kstatus: {kstatus:?}");
    assert_eq!(kstatus.message, conflict, "kstatus carries the Stalled message");
    let health = repo("deploy/argocd/health.lua");
    let argo = gitops_check(&["argocd", health.to_str().expect("utf-8 path")], &object);
    assert_eq!(argo.status, "Degraded", "Argo CD: {argo:?}");
    assert_eq!(argo.message, format!("Conflict: {conflict}"));
}

#[tokio::test]
async fn a_profile_whose_generation_is_not_observed_is_in_progress() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("gitops").await;
    // The status speaks for an older generation than the spec.
    let object = live_profile(&env, ns.name(), "behind", |g| {
        vec![
            condition("Ready", "True", "Available", "", g),
            condition("Synced", "True", "ReconcileSuccess", "", g),
            condition("Reconciling", "False", "Idle", "", g),
            condition("Stalled", "False", "Idle", "", g),
        ]
    })
    .await;
    let api = Api::<ConnectionProfile>::namespaced(env.admin().await, ns.name());
    api.patch(
        "behind",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"enabledFeatures": ["scim", "universal_logout"]}})),
    )
    .await
    .expect("changing the spec");
    let out = env
        .kubectl()
        .args(["get", "connectionprofile", "behind", "-n", ns.name(), "-o", "json"])
        .output()
        .expect("kubectl get");
    assert!(out.status.success());
    let changed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        changed["metadata"]["generation"].as_i64()
            > serde_json::from_slice::<Value>(&object).expect("json")["metadata"]["generation"].as_i64(),
        "the spec change did not bump the generation"
    );

    let kstatus = gitops_check(&["kstatus"], &out.stdout);
    assert_eq!(kstatus.status, "InProgress", "kstatus: {kstatus:?}");
    let health = repo("deploy/argocd/health.lua");
    let argo = gitops_check(&["argocd", health.to_str().expect("utf-8 path")], &out.stdout);
    assert_eq!(argo.status, "Progressing", "Argo CD: {argo:?}");
}

/// The Argo CD health check against every status fixture (tools/gitops/testdata/argocd), and
/// the argocd-cm snippet holding the same script: `go test ./...` in tools/gitops.
#[test]
fn argo_cd_health_check_passes_its_fixtures_in_gopher_lua() {
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
