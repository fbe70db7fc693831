//! The uninstall docs/install.md documents, on a control plane of the test's own (it deletes
//! the CRDs, which the shared one's other tests need): with Ready profiles whose
//! `deletionPolicy` is the default `Delete`, removing the operator the documented way (the
//! kustomize base and a Helm release) leaves the CRDs and every ConnectionProfile, and the
//! documented commands that then remove the CRDs leave every Auth0 profile in place.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{Harness, id};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use serde_json::json;
use testenv::{ControlPlane, TestEnv};

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs a shell command in the repository with the control plane's admin kubeconfig and
/// its kubectl (and helm) first on PATH; panics with its output on failure.
fn sh(env: &TestEnv, tools: &Path, script: &str) -> String {
    let path = format!(
        "{}:{}:{}",
        env.bin_dir().display(),
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(repo(""))
        .env("PATH", path)
        .env("KUBECONFIG", env.kubeconfig("admin"))
        .stdin(Stdio::null())
        .output()
        .expect("bash");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{script}\nfailed:\n{stdout}\n{stderr}");
    stdout
}

/// The fenced `sh` block of docs/install.md's "Uninstalling" section: the commands the test
/// runs are the ones the reader copies.
fn documented_crd_removal() -> String {
    let doc = std::fs::read_to_string(repo("docs/install.md")).expect("docs/install.md");
    let section = doc.split("## Uninstalling").nth(1).expect("an Uninstalling section");
    let section = section.split("\n## ").next().unwrap_or_default();
    let start = section.find("```sh").expect("a sh block") + "```sh".len();
    let end = start + section[start..].find("```").expect("the block's end");
    section[start..end]
        .lines()
        .map(|l| l.strip_prefix("   ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn helm_tools() -> std::path::PathBuf {
    let out = Command::new(repo("tools/build-tools.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("tools/build-tools.sh");
    assert!(out.status.success(), "tools/build-tools.sh failed");
    std::path::PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_uninstall_keeps_every_auth0_profile() {
    let script = documented_crd_removal();
    assert!(script.contains("kubectl delete -k crds"), "{script}");
    let tools = helm_tools();
    let dir = std::env::temp_dir().join(format!("auth0-uninstall-{}", std::process::id()));
    let control_plane = tokio::task::block_in_place(|| ControlPlane::start(&TestEnv::get().bin_dir(), &dir))
        .expect("a control plane of the test's own starts");
    let env = TestEnv::at(control_plane.dir());
    let mut h = Harness::prepare_in(env.clone(), "uninstall", |_| {}).await;
    // The operator as the kustomize base and as a Helm release install it (no kubelet runs
    // here, so the process below stands for their Pods).
    sh(
        &env,
        &tools,
        "kubectl apply --server-side -k crds && kubectl apply --server-side -k deploy/base",
    );
    sh(
        &env,
        &tools,
        "helm install auth0-team-a deploy/helm/auth0-operator -n team-a --create-namespace",
    );
    h.start_operator();
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        h.apply_profile(name, json!({"enabledFeatures": ["scim"]})).await;
        ids.push(id(&h.wait_ready(name).await));
    }

    // Step 1: the operator goes, the documented ways. `--wait=false`: without a
    // kube-controller-manager here, the Namespace would stay Terminating.
    h.stop_operator();
    sh(&env, &tools, "kubectl delete -k deploy/base --wait=false");
    sh(&env, &tools, "helm uninstall auth0-team-a -n team-a");
    let crds: Api<CustomResourceDefinition> = Api::all(env.admin().await);
    for crd in auth0_operator::crd::all() {
        let name = crd.metadata.name.expect("name");
        crds.get(&name)
            .await
            .unwrap_or_else(|e| panic!("CRD {name} is gone after uninstalling the operator: {e}"));
    }
    for name in ["alpha", "beta", "gamma"] {
        h.profiles()
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("ConnectionProfile {name} is gone: {e}"));
    }

    // Step 2: the documented commands that remove the API too.
    sh(&env, &tools, &script);
    for crd in auth0_operator::crd::all() {
        let name = crd.metadata.name.expect("name");
        assert!(
            crds.get_opt(&name).await.expect("get").is_none(),
            "CRD {name} still there"
        );
    }
    for id in &ids {
        assert!(
            h.remote_by_id(id).is_some(),
            "the Auth0 profile {id} was deleted by the uninstall"
        );
    }
    assert_eq!(
        h.writes().iter().filter(|(method, _, _)| method == "DELETE").count(),
        0,
        "no DELETE reached Auth0"
    );
    drop(h);
    tokio::task::block_in_place(|| control_plane.stop());
}
