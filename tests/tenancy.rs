//! Who may use which tenant, end to end against a real kube-apiserver: a ClusterAuth0Tenant's
//! namespaceSelector (a refused namespace costs no Auth0 call, on create or delete), confined
//! Secret access (`--secret-namespaces` under the RBAC the Helm chart renders for it), and an
//! Auth0Tenant that cannot name another namespace's Secret.
//!
//! ClusterAuth0Tenants are cluster-wide and every operator watches them all, so these tests
//! take turns (one lock) and delete theirs when they end.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use auth0_operator::crd;
use common::{Harness, SCOPES, condition, id};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use testenv::{PROBE_SERVICE_ACCOUNT, TestEnv};

/// One test at a time: see the module comment.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests the emulator saw that are not the token endpoint: the profile calls.
fn profile_calls(h: &Harness) -> Vec<(String, String, u16)> {
    h.requests()
        .into_iter()
        .filter(|(_, p, _)| p != "/oauth/token")
        .collect()
}

async fn label_namespace(h: &Harness, labels: Value) {
    let patch = json!({"metadata": {"labels": labels}});
    Api::<Namespace>::all(h.env.admin().await)
        .patch(h.ns.name(), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("label the namespace");
}

async fn apply_cluster_profile(h: &Harness, name: &str, tenant: &str) {
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name},
               "spec": {"tenantRef": {"kind": "ClusterAuth0Tenant", "name": tenant}, "enabledFeatures": ["scim"]}}),
    )
    .await;
}

fn synced_reason(reason: &'static str) -> impl Fn(&crd::ConnectionProfile) -> bool {
    move |p| condition(p, "Synced").is_some_and(|c| c.0 == "False" && c.1 == reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_the_tenant_selector_refuses_costs_no_auth0_call() {
    let _turn = TURN.lock().await;
    let mut h = Harness::prepare("ten-selector", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let team = "auth0-operator-test/team";
    let selector = json!({"matchLabels": {team: "a"}});
    let tenant = h
        .cluster_tenant(h.ns.name(), json!({"namespaceSelector": selector}))
        .await;
    h.start_operator();
    apply_cluster_profile(&h, "shared", &tenant.name).await;

    // Refused: the condition names the tenant, the namespace and the way out; Auth0 never
    // heard of the profile.
    let refused = h
        .wait_for(
            "shared",
            Duration::from_secs(20),
            "NamespaceNotAllowed",
            synced_reason("NamespaceNotAllowed"),
        )
        .await;
    let (_, _, message) = condition(&refused, "Synced").expect("Synced");
    for needle in [
        tenant.name.as_str(),
        h.ns.name(),
        "label the namespace",
        "namespaceSelector",
    ] {
        assert!(message.contains(needle), "{needle:?} missing from: {message}");
    }
    assert_eq!(
        condition(&refused, "Stalled").map(|c| (c.0, c.1)),
        Some(("True".to_string(), "NamespaceNotAllowed".to_string())),
        "a person must act"
    );
    assert_eq!(condition(&refused, "Ready").map(|c| c.0).as_deref(), Some("False"));
    h.wait_event("shared", "NamespaceNotAllowed").await;
    tokio::time::sleep(Duration::from_secs(3)).await; // more than a poll interval
    assert!(
        profile_calls(&h).is_empty(),
        "Auth0 was called: {:?}",
        profile_calls(&h)
    );
    assert!(h.remote().is_empty());

    // Labelling the namespace admits it: the profile converges without any other change.
    label_namespace(&h, json!({team: "a"})).await;
    let ready = h.wait_ready("shared").await;
    let id = id(&ready);
    assert!(h.remote_by_id(&id).is_some(), "created in Auth0");

    // Unlabelled again: refused again (the namespace watch wakes the profile).
    label_namespace(&h, json!({team: null})).await;
    h.wait_for(
        "shared",
        Duration::from_secs(20),
        "refused after unlabelling",
        synced_reason("NamespaceNotAllowed"),
    )
    .await;

    // Changing the tenant's selector wakes its profiles too.
    h.apply_cluster_tenant(
        &tenant.name,
        json!({"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [h.ns.name()]}]}}),
    )
    .await;
    h.wait_for("shared", Duration::from_secs(20), "admitted by the new selector", |p| {
        condition(p, "Synced").is_some_and(|c| c.0 == "True")
    })
    .await;
    h.apply_cluster_tenant(&tenant.name, json!({"namespaceSelector": selector}))
        .await;
    h.wait_for(
        "shared",
        Duration::from_secs(20),
        "refused by the old selector",
        synced_reason("NamespaceNotAllowed"),
    )
    .await;

    // Deleting a refused profile does not use the tenant's credentials either: it waits,
    // names force-orphan, and the annotation lets it go with the Auth0 profile left alone.
    let calls_before = profile_calls(&h).len();
    h.profiles()
        .delete("shared", &DeleteParams::default())
        .await
        .expect("delete");
    let waiting = h
        .wait_for("shared", Duration::from_secs(20), "waiting on delete", |p| {
            p.metadata.deletion_timestamp.is_some()
                && condition(p, "Synced").is_some_and(|c| c.1 == "NamespaceNotAllowed" && c.2.contains("force-orphan"))
        })
        .await;
    assert!(
        waiting
            .finalizers()
            .iter()
            .any(|f| f == "auth0.operators.dev/finalizer"),
        "the finalizer holds the resource"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        profile_calls(&h).len(),
        calls_before,
        "no Auth0 call on delete: {:?}",
        profile_calls(&h)
    );
    assert!(
        h.profiles().get_opt("shared").await.expect("get").is_some(),
        "still waiting"
    );
    let patch = json!({"metadata": {"annotations": {"auth0.operators.dev/force-orphan": "true"}}});
    h.profiles()
        .patch("shared", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.profiles().get_opt("shared").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "force-orphan did not release the resource");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.remote_by_id(&id).is_some(), "the Auth0 profile stays");
    assert_eq!(profile_calls(&h).len(), calls_before, "no Auth0 call at all");
    h.stop_operator();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_tenant_without_selector_serves_every_namespace() {
    let _turn = TURN.lock().await;
    let mut h = Harness::prepare("ten-noselector", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let tenant = h.cluster_tenant(h.ns.name(), json!({})).await;
    h.start_operator();
    apply_cluster_profile(&h, "open", &tenant.name).await;
    h.wait_ready("open").await;
    h.stop_operator();
}

/// The folder `tools/build-tools.sh` prints (helm); builds it on first use.
fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/build-tools.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("running tools/build-tools.sh");
        assert!(out.status.success(), "tools/build-tools.sh failed ({})", out.status);
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
}

/// The chart's objects for a release in `namespace` with `secretNamespaces`, as JSON.
fn render_chart(env: &TestEnv, namespace: &str, secret_namespaces: &[&str]) -> Vec<Value> {
    let helm = Command::new(tools().join("helm"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "template",
            "auth0-operator",
            "deploy/helm/auth0-operator",
            "--namespace",
            namespace,
        ])
        .args([
            "--set",
            &format!("secretNamespaces={{{}}}", secret_namespaces.join(",")),
        ])
        .output()
        .expect("helm");
    assert!(helm.status.success(), "{}", String::from_utf8_lossy(&helm.stderr));
    let mut kubectl = env
        .kubectl()
        .args(["create", "--dry-run=client", "-o", "json", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    let mut stdin = kubectl.stdin.take().expect("stdin");
    let manifests = helm.stdout;
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &manifests));
    let out = kubectl.wait_with_output().expect("kubectl");
    writer.join().expect("writer").expect("write");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // One JSON document per object, one after the other.
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .map(|o| o.expect("json"))
        .collect()
}

/// Binds the probe identity to exactly the RBAC the chart renders: its ClusterRole's rules
/// and each of its Roles, in their namespaces.
async fn grant_rendered(env: &TestEnv, objects: &[Value], operator_namespace: &str) {
    const NAME: &str = "auth0-operator-probe";
    let client = env.admin().await;
    let params = PatchParams::apply("tenancy-test").force();
    let subject =
        json!([{"kind": "ServiceAccount", "name": PROBE_SERVICE_ACCOUNT, "namespace": testenv::OPERATOR_NAMESPACE}]);
    let rules = objects
        .iter()
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "auth0-operator")
        .expect("ClusterRole")["rules"]
        .clone();
    let role: ClusterRole = serde_json::from_value(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": NAME}, "rules": rules}),
    )
    .expect("role");
    Api::<ClusterRole>::all(client.clone())
        .patch(NAME, &params, &Patch::Apply(&role))
        .await
        .expect("ClusterRole");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": NAME},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
        "subjects": subject,
    }))
    .expect("binding");
    Api::<ClusterRoleBinding>::all(client.clone())
        .patch(NAME, &params, &Patch::Apply(&binding))
        .await
        .expect("ClusterRoleBinding");
    for object in objects.iter().filter(|o| o["kind"] == "Role") {
        let name = object["metadata"]["name"].as_str().expect("name");
        let namespace = object["metadata"]["namespace"].as_str().expect("namespace");
        let role: Role = serde_json::from_value(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": object["rules"],
        }))
        .expect("role");
        Api::<Role>::namespaced(client.clone(), namespace)
            .patch(name, &params, &Patch::Apply(&role))
            .await
            .expect("Role");
        let binding = objects
            .iter()
            .find(|o| {
                o["kind"] == "RoleBinding" && o["metadata"]["namespace"] == namespace && o["roleRef"]["name"] == name
            })
            .unwrap_or_else(|| panic!("no RoleBinding for Role {namespace}/{name}"));
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "auth0-operator", "namespace": operator_namespace}]),
            "the chart binds its own ServiceAccount"
        );
        let binding: RoleBinding = serde_json::from_value(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        }))
        .expect("binding");
        Api::<RoleBinding>::namespaced(client.clone(), namespace)
            .patch(name, &params, &Patch::Apply(&binding))
            .await
            .expect("RoleBinding");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // the authorizer's informer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confined_secret_access_reads_only_the_listed_namespaces() {
    let _turn = TURN.lock().await;
    let mut h = Harness::prepare("ten-confined", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let listed = h.env.namespace("ten-listed").await;
    let unlisted = h.env.namespace("ten-unlisted").await;
    for ns in [listed.name(), unlisted.name()] {
        h.tenant_in(ns).await;
    }

    let objects = render_chart(&h.env, h.ns.name(), &[listed.name()]);
    let cluster_rules = &objects
        .iter()
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "auth0-operator")
        .expect("ClusterRole")["rules"];
    assert!(
        !cluster_rules.to_string().contains("secrets"),
        "the ClusterRole grants no Secrets: {cluster_rules}"
    );
    grant_rendered(&h.env, &objects, h.ns.name()).await;

    // The identity reads Secrets in the listed namespace and its own, nowhere else.
    let probe = h.env.client("probe").await;
    for ns in [h.ns.name(), listed.name()] {
        Api::<Secret>::namespaced(probe.clone(), ns)
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("Secrets in {ns}: {e}"));
    }
    for forbidden in [
        Api::<Secret>::namespaced(probe.clone(), unlisted.name()),
        Api::<Secret>::all(probe.clone()),
    ] {
        match forbidden.list(&ListParams::default()).await {
            Err(kube::Error::Api(status)) if status.code == 403 => {}
            other => panic!("expected 403, got {:?}", other.map(|l| l.items.len())),
        }
    }

    // A profile in the listed namespace converges under that RBAC.
    let profile = |name: &str| {
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name}, "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}})
    };
    h.apply_in(listed.name(), "connectionprofiles", profile("listed")).await;
    let secret_namespaces = listed.name().to_string();
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator_watching(
        "probe",
        listed.name(),
        &log,
        &[
            "--http-address",
            "127.0.0.1:0",
            "--secret-namespaces",
            &secret_namespaces,
        ],
    ));
    let in_listed: Api<crd::ConnectionProfile> = Api::namespaced(h.ns.client.clone(), listed.name());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = in_listed.get("listed").await.expect("get");
        if condition(&p, "Ready").is_some_and(|c| c.0 == "True") {
            break;
        }
        assert!(Instant::now() < deadline, "not Ready: {:?}", p.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.stop_operator();

    // A tenant whose Secret is outside the list: a clear condition on the profile and the
    // tenant, no Auth0 call, no crash.
    h.apply_in(unlisted.name(), "connectionprofiles", profile("unlisted"))
        .await;
    let calls_before = h.requests().len();
    let mut operator = h.spawn_operator_watching(
        "probe",
        unlisted.name(),
        &log,
        &[
            "--http-address",
            "127.0.0.1:0",
            "--secret-namespaces",
            &secret_namespaces,
        ],
    );
    let in_unlisted: Api<crd::ConnectionProfile> = Api::namespaced(h.ns.client.clone(), unlisted.name());
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let p = in_unlisted.get("unlisted").await.expect("get");
        // Wait for the refusal itself: a pass that ran before the tenant was in the cache
        // says TenantNotFound (or CredentialsUnavailable for a Secret not yet cached), and
        // retries.
        if let Some((status, reason, message)) = condition(&p, "Synced")
            && status == "False"
            && reason == "CredentialsUnavailable"
            && message.contains("--secret-namespaces")
        {
            assert_eq!(
                condition(&p, "Stalled").map(|c| c.0).as_deref(),
                Some("True"),
                "a person must act"
            );
            break message;
        }
        assert!(Instant::now() < deadline, "no CredentialsUnavailable: {:?}", p.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for needle in [unlisted.name(), "--secret-namespaces", "creds"] {
        assert!(message.contains(needle), "{needle:?} missing from: {message}");
    }
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), unlisted.name());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = tenants.get("t").await.expect("tenant").status.and_then(|s| {
            s.conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| (c.status, c.reason, c.message))
        });
        // The tenant's first status may come from before its Secret's cache was listed.
        if let Some((status, reason, message)) = &ready
            && message.contains("--secret-namespaces")
        {
            assert_eq!((status.as_str(), reason.as_str()), ("False", "CredentialsUnavailable"));
            break;
        }
        assert!(Instant::now() < deadline, "the tenant never named the flag: {ready:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.requests().len(), calls_before, "no Auth0 call: {:?}", h.requests());
    assert!(
        operator.try_wait().expect("status").is_none(),
        "the operator keeps running"
    );
    let _ = operator.kill();
    let _ = operator.wait();
}

/// An Auth0Tenant's credentialsSecretRef has no namespace: the API server refuses one (strict
/// field validation), and the type has no field to carry it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth0tenant_cannot_name_another_namespaces_secret() {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace("ten-secretref").await;
    let url = format!(
        "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/auth0tenants/t?fieldManager=test&fieldValidation=Strict",
        ns.name()
    );
    let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant", "metadata": {"name": "t"},
                        "spec": {"domain": "acme.eu.auth0.com",
                                 "credentialsSecretRef": {"name": "creds", "namespace": "kube-system"}}});
    let request = http::Request::patch(url)
        .header("content-type", "application/apply-patch+yaml")
        .body(serde_json::to_vec(&object).expect("json"))
        .expect("request");
    match ns.client.request::<Value>(request).await {
        Err(kube::Error::Api(status)) => assert!(
            status.message.contains("credentialsSecretRef.namespace"),
            "{}",
            status.message
        ),
        other => panic!("a Secret in another namespace was accepted: {other:?}"),
    }
    let crd = crd::all()
        .into_iter()
        .find(|c| c.spec.names.kind == "Auth0Tenant")
        .expect("Auth0Tenant CRD");
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).expect("schema");
    let mut fields: Vec<&String> =
        schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["credentialsSecretRef"]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
    fields.sort();
    assert_eq!(fields, ["clientIdKey", "clientSecretKey", "name"]);
}
