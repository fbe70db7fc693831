//! The shipped ClusterRole is least privilege: with all its rules the operator does its
//! job, and without any single one of them it does not (the namespaces rule too: the job has
//! a profile on a ClusterAuth0Tenant with a namespaceSelector). Runs under the control
//! plane's `probe` identity, which nothing else binds, so what it may do is exactly what this
//! test grants.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, SCOPES, condition};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use testenv::{OPERATOR_NAMESPACE, PROBE_SERVICE_ACCOUNT, TestEnv};

const ROLE: &str = "auth0-operator-probe";

/// Binds the probe identity to `rules` only.
async fn grant(env: &TestEnv, mut role: ClusterRole, rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule>) {
    let client = env.admin().await;
    role.metadata = Default::default();
    role.metadata.name = Some(ROLE.into());
    role.rules = Some(rules);
    let params = PatchParams::apply("rbac-test").force();
    Api::<ClusterRole>::all(client.clone())
        .patch(ROLE, &params, &Patch::Apply(&role))
        .await
        .expect("role");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": ROLE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": PROBE_SERVICE_ACCOUNT, "namespace": OPERATOR_NAMESPACE}]
    }))
    .expect("binding");
    Api::<ClusterRoleBinding>::all(client)
        .patch(ROLE, &params, &Patch::Apply(&binding))
        .await
        .expect("binding");
    // The authorizer follows RBAC objects through an informer: give it a moment.
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

/// The operator's job in small: two profiles become Ready and their Created events are
/// recorded, one on the namespace's Auth0Tenant, one on a ClusterAuth0Tenant whose
/// namespaceSelector admits the namespace (so the operator must read namespace labels).
async fn does_its_job(h: &Harness, cluster_tenant: &str, limit: Duration) -> bool {
    h.apply_profile("job", json!({"enabledFeatures": ["scim"]})).await;
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "job-cluster"},
               "spec": {"tenantRef": {"kind": "ClusterAuth0Tenant", "name": cluster_tenant}}}),
    )
    .await;
    let deadline = Instant::now() + limit;
    let mut done = Vec::new();
    while Instant::now() < deadline {
        for name in ["job", "job-cluster"] {
            if done.contains(&name) {
                continue;
            }
            let ready = h
                .profiles()
                .get_opt(name)
                .await
                .ok()
                .flatten()
                .is_some_and(|p| condition(&p, "Ready").is_some_and(|c| c.0 == "True"));
            if ready && h.events(name).await.iter().any(|e| e.1 == "Created") {
                done.push(name);
            }
        }
        if done.len() == 2 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_of_the_shipped_cluster_role_is_needed() {
    let env = TestEnv::get();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base/clusterrole.yaml");
    let shipped: ClusterRole =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("read")).expect("ClusterRole");
    let rules = shipped.rules.clone().expect("rules");
    assert!(rules.len() >= 5, "{rules:?}");

    let mut verdicts = Vec::new();
    for removed in std::iter::once(None).chain((0..rules.len()).map(Some)) {
        let kept: Vec<_> = rules
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != removed)
            .map(|(_, r)| r.clone())
            .collect();
        grant(&env, shipped.clone(), kept).await;
        let mut h = Harness::prepare(
            &format!("rbac-{}", removed.map_or("all".to_string(), |i| format!("minus-{i}"))),
            SCOPES.iter().map(|s| s.to_string()).collect(),
        )
        .await;
        // Admits this namespace by the label the API server sets on every namespace.
        let tenant = h
            .cluster_tenant(
                h.ns.name(),
                json!({"namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [h.ns.name()]}]}}),
            )
            .await;
        let log = h.log.clone();
        h.operator = Some(h.spawn_operator_as("probe", &log, &["--http-address", "127.0.0.1:0"]));
        let limit = if removed.is_none() {
            Duration::from_secs(30)
        } else {
            Duration::from_secs(10)
        };
        let worked = does_its_job(&h, &tenant.name, limit).await;
        h.stop_operator();
        drop(tenant);
        let rule = removed.map(|i| {
            format!(
                "{:?} {:?}",
                rules[i].resources.clone().unwrap_or_default(),
                rules[i].verbs
            )
        });
        verdicts.push((rule, worked));
    }
    let (control, rest) = verdicts.split_first().expect("verdicts");
    assert!(control.1, "with every shipped rule the operator must do its job");
    let unneeded: Vec<_> = rest
        .iter()
        .filter(|(_, worked)| *worked)
        .map(|(rule, _)| rule.clone())
        .collect();
    assert!(
        unneeded.is_empty(),
        "the operator did its job without these rules, so they are not needed: {unneeded:?}"
    );
}
