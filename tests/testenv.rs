//! The control plane's two identities: the admin, and the operator's service-account user
//! whose rights come only from RBAC, so the shipped RBAC can be tested for real.

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use testenv::{OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, TestEnv};

#[tokio::test]
async fn the_operator_identity_has_only_what_rbac_grants() {
    let env = TestEnv::get();
    let ns = env.namespace("testenv-rbac").await;
    let operator = env.client("operator").await;
    let configmaps: Api<ConfigMap> = Api::namespaced(operator.clone(), ns.name());

    match configmaps.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("the operator identity could list ConfigMaps without RBAC: {other:?}"),
    }

    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "read-configmaps"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]
    }))
    .expect("role");
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "operator-reads-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
        "subjects": [{"kind": "ServiceAccount", "name": OPERATOR_SERVICE_ACCOUNT, "namespace": OPERATOR_NAMESPACE}]
    }))
    .expect("binding");
    Api::<Role>::namespaced(ns.client.clone(), ns.name())
        .create(&PostParams::default(), &role)
        .await
        .expect("role");
    Api::<RoleBinding>::namespaced(ns.client.clone(), ns.name())
        .create(&PostParams::default(), &binding)
        .await
        .expect("binding");

    // RBAC caches settle within moments; poll briefly rather than sleep a fixed time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match configmaps.list(&ListParams::default()).await {
            Ok(_) => break,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the binding did not take effect: {e}"),
        }
    }
    // The grant is exactly list: creating is still refused.
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).expect("cm");
    match configmaps.create(&PostParams::default(), &cm).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403),
        other => panic!("create was allowed: {other:?}"),
    }
}
