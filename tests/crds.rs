//! The resource types against a real kube-apiserver: the CRDs install, the examples are
//! accepted, bad input is refused with a message naming the field, and the pure validation
//! gives the same verdict as the API server for every case.

use std::path::{Path, PathBuf};

use auth0_operator::crd::{
    self, ConnectionProfile, ConnectionProfileStatus, Kind, SelfServiceProfile, UserAttributeProfile, rules, validation,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde::Deserialize;
use serde_json::{Value, json};
use testenv::TestEnv;

const GROUP_PATH: &str = "/apis/auth0.operators.dev/v1alpha1";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

async fn setup(prefix: &str) -> (TestEnv, testenv::TestNamespace) {
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let ns = env.namespace(prefix).await;
    (env, ns)
}

fn profile(ns: &str, name: &str, spec: &Value) -> Value {
    json!({
        "apiVersion": "auth0.operators.dev/v1alpha1",
        "kind": "ConnectionProfile",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    })
}

/// POST with strict field validation, as `kubectl create` sends it.
async fn create_strict(client: &Client, ns: &str, object: &Value) -> Result<Value, kube::Error> {
    let url = format!("{GROUP_PATH}/namespaces/{ns}/connectionprofiles?fieldValidation=Strict");
    let request = http::Request::post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(object).expect("json"))
        .expect("request");
    client.request::<Value>(request).await
}

/// Writes `status` through the status subresource (a merge patch), as the operator does;
/// returns the object after it.
async fn write_status(client: &Client, ns: &str, name: &str, status: &Value) -> Result<Value, kube::Error> {
    let url = format!("{GROUP_PATH}/namespaces/{ns}/connectionprofiles/{name}/status");
    let request = http::Request::patch(url)
        .header("content-type", "application/merge-patch+json")
        .body(serde_json::to_vec(&json!({"status": status})).expect("json"))
        .expect("request");
    client.request::<Value>(request).await
}

/// An update: creates `old` (and writes `old_status`), then PUTs `new` over it.
async fn update_strict(
    client: &Client,
    ns: &str,
    old: &Value,
    old_status: Option<&Value>,
    new: &Value,
) -> Result<Value, kube::Error> {
    let name = old["metadata"]["name"].as_str().expect("name");
    let mut created = create_strict(client, ns, old).await?;
    if let Some(status) = old_status {
        created = write_status(client, ns, name, status).await?;
    }
    let mut update = new.clone();
    update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    replace_strict(client, ns, &update).await
}

/// The object an update replaces, as the pure validation reads it.
fn old_object(object: &Value, status: Option<&Value>) -> ConnectionProfile {
    let mut old: ConnectionProfile = serde_json::from_value(object.clone()).expect("old object");
    old.status = status.map(|s| serde_json::from_value::<ConnectionProfileStatus>(s.clone()).expect("old status"));
    old
}

/// PUT with strict field validation.
async fn replace_strict(client: &Client, ns: &str, object: &Value) -> Result<Value, kube::Error> {
    let name = object["metadata"]["name"].as_str().expect("name");
    let url = format!("{GROUP_PATH}/namespaces/{ns}/connectionprofiles/{name}?fieldValidation=Strict");
    let request = http::Request::put(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(object).expect("json"))
        .expect("request");
    client.request::<Value>(request).await
}

fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => format!("not an API error: {other}"),
    }
}

#[tokio::test]
async fn crds_install_and_become_established() {
    let (env, _ns) = setup("crds-established").await;
    let api = Api::<CustomResourceDefinition>::all(env.admin().await);
    let expected = [
        ("connectionprofiles.auth0.operators.dev", "Namespaced", "cprof"),
        ("auth0tenants.auth0.operators.dev", "Namespaced", "a0t"),
        ("clusterauth0tenants.auth0.operators.dev", "Cluster", "ca0t"),
        ("userattributeprofiles.auth0.operators.dev", "Namespaced", "uaprof"),
        ("selfserviceprofiles.auth0.operators.dev", "Namespaced", "ssprof"),
    ];
    for (name, scope, short) in expected {
        let crd = api.get(name).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
        for wanted in ["Established", "NamesAccepted"] {
            assert!(
                conditions.iter().any(|c| c.type_ == wanted && c.status == "True"),
                "{name} is not {wanted}: {conditions:?}"
            );
        }
        assert_eq!(crd.spec.scope, scope, "{name}");
        assert_eq!(
            crd.spec.names.short_names.as_deref(),
            Some(&[short.to_string()][..]),
            "{name}"
        );
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["auth0".to_string()][..]),
            "{name}"
        );
        let version = &crd.spec.versions[0];
        assert!(
            version.subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(),
            "{name} has no status subresource"
        );
    }
}

#[test]
fn committed_crds_are_fresh() {
    let rendered = crd::rendered().expect("rendering CRDs");
    let mut committed: Vec<String> = std::fs::read_dir(repo("crds"))
        .expect("crds/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    committed.sort();
    let mut names: Vec<String> = rendered.iter().map(|(f, _)| f.clone()).collect();
    names.sort();
    assert_eq!(
        committed, names,
        "crds/ holds other files than the CRDs: run `make crds`"
    );
    for (file, yaml) in rendered {
        let on_disk = std::fs::read_to_string(repo("crds").join(&file)).expect("reading CRD");
        assert!(
            on_disk == yaml,
            "crds/{file} is stale: run `make crds` and commit the result"
        );
    }
}

#[tokio::test]
async fn schema_defaults_are_applied_by_the_api_server() {
    let (_env, ns) = setup("crds-defaults").await;
    create_strict(&ns.client, ns.name(), &profile(ns.name(), "minimal", &json!({})))
        .await
        .expect("minimal profile accepted");
    let api: Api<ConnectionProfile> = Api::namespaced(ns.client.clone(), ns.name());
    let stored = api.get("minimal").await.expect("get");
    assert_eq!(stored.spec.tenant_ref, crd::TenantRef::default());
    assert_eq!(stored.spec.deletion_policy, crd::DeletionPolicy::Delete);
    assert_eq!(stored.spec.management_policy, crd::ManagementPolicy::Manage);
    assert_eq!(stored.effective_name(), "minimal");
}

#[derive(Deserialize)]
struct Case {
    case: String,
    field: String,
    name: Option<String>,
    old: Option<Value>,
    #[serde(rename = "oldStatus")]
    old_status: Option<Value>,
    spec: Value,
}

/// Every row is refused by the API server (message naming the field) and by the pure
/// validation (an error on the same field); all failures are reported together.
#[tokio::test]
async fn invalid_profiles_are_refused_by_the_api_server_and_by_pure_validation() {
    let (_env, ns) = setup("crds-invalid").await;
    let text = std::fs::read_to_string(repo("tests/data/invalid-connection-profiles.yaml")).expect("table");
    let cases: Vec<Case> = serde_saphyr::from_str(&text).expect("parsing the table");
    assert!(
        cases.len() >= 30,
        "the table must hold at least 30 cases, it holds {}",
        cases.len()
    );

    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case.name.clone().unwrap_or_else(|| format!("case-{i}"));
        let object = profile(ns.name(), &name, &case.spec);

        // The API server.
        let server = match &case.old {
            None => create_strict(&ns.client, ns.name(), &object).await,
            Some(old) => {
                let old = profile(ns.name(), &name, old);
                let mut created = create_strict(&ns.client, ns.name(), &old).await.unwrap_or_else(|e| {
                    panic!(
                        "{}: the valid starting object was refused: {}",
                        case.case,
                        api_message(&e)
                    )
                });
                if let Some(status) = &case.old_status {
                    created = write_status(&ns.client, ns.name(), &name, status)
                        .await
                        .unwrap_or_else(|e| panic!("{}: the status was refused: {}", case.case, api_message(&e)));
                }
                let mut update = object.clone();
                update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
                replace_strict(&ns.client, ns.name(), &update).await
            }
        };
        match server {
            Ok(_) => failures.push(format!("{}: the API server accepted it", case.case)),
            Err(err) => {
                let message = api_message(&err);
                if !message.contains(&case.field) {
                    failures.push(format!(
                        "{}: the API server's message does not name {}: {message}",
                        case.case, case.field
                    ));
                }
            }
        }

        // The pure validation.
        let old = case
            .old
            .as_ref()
            .map(|old| old_object(&profile(ns.name(), &name, old), case.old_status.as_ref()));
        match validation::check(object, old.as_ref()) {
            Ok(_) => failures.push(format!("{}: the pure validation accepted it", case.case)),
            Err(invalid) => {
                if !invalid.0.iter().any(|e| e.field.starts_with(&case.field)) {
                    failures.push(format!(
                        "{}: the pure validation names no {}: {invalid}",
                        case.case, case.field
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Values at their limits are accepted by both.
#[tokio::test]
async fn values_at_their_limits_are_accepted_by_the_api_server_and_by_pure_validation() {
    let (_env, ns) = setup("crds-limits").await;
    let specs = [
        json!({"name": "n".repeat(50)}),
        json!({"name": "Ünïcödé prófïlé ✓"}),
        json!({"name": "é".repeat(50)}),
        json!({"connectionNamePrefixTemplate": "abcdefghijklmno"}),
        json!({"connectionNamePrefixTemplate": "x-{org_name}-yz"}),
        json!({"connectionNamePrefixTemplate": ""}),
        json!({"enabledFeatures": []}),
        json!({"crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": []}}}),
        json!({"crossAppAccessResourceApp": {"status": {"defaultValue": "disabled", "allowedValues": ["disabled", "enabled"]}}}),
        json!({"provisioning": {"scim": {"tokens": {"scopes": [], "defaultExpiry": 0, "maxAllowedExpiry": 0}}}}),
        json!({"externalID": "cop_ZZZZZZZZZZZZZZZZZZZZZZ"}),
        json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t".repeat(253)}}),
        // An explicit null is the same as leaving the field out.
        json!({"organization": {"showAsButton": null}, "strategyOverrides": null, "externalID": null}),
    ];
    let mut failures = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let object = profile(ns.name(), &format!("limit-{i}"), spec);
        if let Err(e) = create_strict(&ns.client, ns.name(), &object).await {
            failures.push(format!("{spec}: the API server refused it: {}", api_message(&e)));
        }
        if let Err(e) = validation::check(object, None) {
            failures.push(format!("{spec}: the pure validation refused it: {e}"));
        }
    }
    // A 51-character metadata.name is fine once spec.name is set.
    let mut long = profile(ns.name(), &"m".repeat(51), &json!({"name": "Short"}));
    if let Err(e) = create_strict(&ns.client, ns.name(), &long).await {
        failures.push(format!(
            "long metadata.name with spec.name: refused: {}",
            api_message(&e)
        ));
    }
    long["metadata"]["uid"] = json!("ignored");
    if let Err(e) = validation::check(long, None) {
        failures.push(format!(
            "long metadata.name with spec.name: the pure validation refused it: {e}"
        ));
    }
    // Setting externalID later is allowed; only changing it is not.
    let later = profile(ns.name(), "set-later", &json!({}));
    let created = create_strict(&ns.client, ns.name(), &later).await.expect("created");
    let mut update = profile(
        ns.name(),
        "set-later",
        &json!({"externalID": "cop_1cu7Zs1Dfru5Qc9mZea7nm"}),
    );
    update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    if let Err(e) = replace_strict(&ns.client, ns.name(), &update).await {
        failures.push(format!("setting externalID on an update: refused: {}", api_message(&e)));
    }
    // A tenantRef can be corrected while the API server sees nothing in Auth0: no status.id
    // (a status without one, as a failed first pass writes, included) and no externalID.
    let acme = json!({"kind": "Auth0Tenant", "name": "acme"});
    let moves = [
        (
            "moved",
            json!({"tenantRef": acme}),
            None,
            json!({"tenantRef": {"kind": "ClusterAuth0Tenant", "name": "acme"}}),
        ),
        ("to-default", json!({"tenantRef": acme}), None, json!({})),
        (
            "failed-first-pass",
            json!({"tenantRef": acme}),
            Some(json!({"observedGeneration": 1, "tenant": "acme.eu.auth0.com"})),
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "other"}}),
        ),
        ("from-default", json!({}), None, json!({"tenantRef": acme})),
        // The id was recorded through acme after tenantRef had moved on (a change that
        // raced with a create): setting it back to acme, as TenantChanged asks, is allowed.
        (
            "back-to-recorded",
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "other"}}),
            Some(json!({"id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "tenantRef": acme})),
            json!({"tenantRef": acme}),
        ),
    ];
    for (name, old, old_status, new) in moves {
        let old = profile(ns.name(), &format!("tenant-{name}"), &old);
        let new = profile(ns.name(), &format!("tenant-{name}"), &new);
        if let Err(e) = update_strict(&ns.client, ns.name(), &old, old_status.as_ref(), &new).await {
            failures.push(format!("changing tenantRef ({name}): refused: {}", api_message(&e)));
        }
        if let Err(e) = validation::check(new, Some(&old_object(&old, old_status.as_ref()))) {
            failures.push(format!(
                "changing tenantRef ({name}): the pure validation refused it: {e}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn kubectl(env: &TestEnv, args: &[&str]) -> String {
    let output = env.kubectl().args(args).output().expect("running kubectl");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "kubectl {} failed:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `kubectl apply` (strict validation, the default) of crds/ and every example works, the
/// examples pass the pure validation, and `kubectl get` shows the printer columns.
#[tokio::test]
async fn kubectl_applies_crds_and_examples() {
    let env = TestEnv::get();
    kubectl(
        &env,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            repo("crds").to_str().expect("path"),
        ],
    );
    env.install_crds(&crd::all()).await; // waits for Established
    let ns = env.namespace("crds-examples").await;
    let examples = repo("deploy/examples");
    let applied = kubectl(
        &env,
        &["apply", "-n", ns.name(), "-f", examples.to_str().expect("path")],
    );

    let mut profiles = 0;
    for entry in std::fs::read_dir(&examples).expect("deploy/examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("example");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for doc in docs.into_iter().filter(|d| d["kind"] == "ConnectionProfile") {
            let name = doc["metadata"]["name"].as_str().expect("name").to_string();
            assert!(
                applied.contains(&format!("connectionprofile.auth0.operators.dev/{name} created")),
                "{name} not created:\n{applied}"
            );
            validation::check(doc, None)
                .unwrap_or_else(|e| panic!("{}: the pure validation refused it: {e}", path.display()));
            profiles += 1;
        }
    }
    assert!(profiles >= 4, "expected at least 4 example profiles, found {profiles}");

    let api: Api<ConnectionProfile> = Api::namespaced(ns.client.clone(), ns.name());
    let docs = api
        .get("enterprise-connections")
        .await
        .expect("the Auth0 documentation example exists");
    assert_eq!(
        docs.spec.connection_name_prefix_template.as_deref(),
        Some("ec-{org_id}-")
    );
    assert_eq!(
        docs.spec.enabled_features,
        Some(vec![crd::Feature::Scim, crd::Feature::UniversalLogout])
    );
    let org = docs.spec.organization.expect("organization");
    assert_eq!(org.show_as_button, Some(crd::OrganizationSetting::None));
    assert_eq!(org.assign_membership_on_login, Some(crd::OrganizationSetting::None));

    // Printer columns and short names, as a person sees them. Status is written the way the
    // operator will write it, so the columns read real values.
    let status = json!({"status": {"id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Available", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1},
        {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "Auth0 answered 503", "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}
    ]}});
    api.patch_status(
        "enterprise-connections",
        &PatchParams::default(),
        &Patch::Merge(&status),
    )
    .await
    .expect("status subresource");
    let wide = kubectl(&env, &["get", "cprof", "-n", ns.name(), "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().expect("header").split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "ID", "READY", "SYNCED", "PENDING", "AGE", "REASON", "MESSAGE"],
        "{wide}"
    );
    let row = wide
        .lines()
        .find(|l| l.starts_with("enterprise-connections"))
        .expect("row");
    for value in [
        "cop_1cu7Zs1Dfru5Qc9mZea7nm",
        "True",
        "False",
        "ReconcileError",
        "Auth0 answered 503",
    ] {
        assert!(row.contains(value), "column value {value} missing: {row}");
    }
    let narrow = kubectl(&env, &["get", "connectionprofiles", "-n", ns.name()]);
    assert_eq!(
        narrow
            .lines()
            .next()
            .expect("header")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAME", "ID", "READY", "SYNCED", "PENDING", "AGE"]
    );
    let category = kubectl(&env, &["get", "auth0", "-n", ns.name(), "-o", "name"]);
    for expected in [
        "connectionprofile.auth0.operators.dev/partner-sso",
        "auth0tenant.auth0.operators.dev/acme",
        "clusterauth0tenant.auth0.operators.dev/default",
    ] {
        assert!(
            category.contains(expected),
            "`kubectl get auth0` misses {expected}:\n{category}"
        );
    }
    let tenants = kubectl(&env, &["get", "a0t", "-n", ns.name()]);
    assert!(tenants.contains("acme.eu.auth0.com"), "{tenants}");
}

/// Under strict field validation (kubectl's default) an unknown field is an error; under
/// `--validate=false` the API server prunes it, so nothing unknown is ever stored.
#[tokio::test]
async fn unknown_fields_are_refused_by_kubectl() {
    let (env, ns) = setup("crds-strict").await;
    let file = std::env::temp_dir().join(format!("unknown-field-{}.yaml", ns.name()));
    std::fs::write(
        &file,
        "apiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\nmetadata:\n  name: typo\nspec:\n  enabledFeature: [scim]\n",
    )
    .expect("write");
    let output = env
        .kubectl()
        .args(["apply", "-n", ns.name(), "-f"])
        .arg(&file)
        .output()
        .expect("kubectl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "kubectl accepted an unknown field");
    assert!(stderr.contains("unknown field \"spec.enabledFeature\""), "{stderr}");
    let output = env
        .kubectl()
        .args(["apply", "--validate=false", "-n", ns.name(), "-f"])
        .arg(&file)
        .output()
        .expect("kubectl");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stored: Value =
        serde_json::from_str(&kubectl(&env, &["get", "cprof", "typo", "-n", ns.name(), "-o", "json"])).expect("json");
    assert!(
        stored["spec"].get("enabledFeature").is_none(),
        "the unknown field was stored: {}",
        stored["spec"]
    );
    let _ = std::fs::remove_file(file);
}

/// `spec.tenantRef.kind` and `spec.tenantRef.name` are selectable fields (Kubernetes
/// `selectableFields`, GA in 1.32): the API server filters a list by them, through the kube
/// client's field selector and through `kubectl get --field-selector`, and an omitted
/// tenantRef is selected by its schema default (ClusterAuth0Tenant/default). A field the CRD
/// does not declare is refused, not ignored.
#[tokio::test]
async fn tenant_ref_fields_select_exactly_the_matching_profiles() {
    let (env, ns) = setup("crds-select").await;
    let version = ns.client.apiserver_version().await.expect("server version");
    let minor: u32 = version.minor.trim_end_matches('+').parse().expect("minor version");
    assert!(
        version.major == "1" && minor >= 32,
        "selectableFields are GA from Kubernetes 1.32; testenv runs {}.{}",
        version.major,
        version.minor
    );

    let refs = [
        ("acme-ns", json!({"tenantRef": {"kind": "Auth0Tenant", "name": "acme"}})),
        (
            "acme-cluster",
            json!({"tenantRef": {"kind": "ClusterAuth0Tenant", "name": "acme"}}),
        ),
        (
            "other-ns",
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "other"}}),
        ),
        (
            "acme-prefix",
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "acme2"}}),
        ),
        ("defaulted", json!({})),
    ];
    for (name, spec) in &refs {
        create_strict(&ns.client, ns.name(), &profile(ns.name(), name, spec))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    }

    let api: Api<ConnectionProfile> = Api::namespaced(ns.client.clone(), ns.name());
    let select = |fields: &'static str| {
        let api = api.clone();
        async move {
            let list = api
                .list(&kube::api::ListParams::default().fields(fields))
                .await
                .unwrap_or_else(|e| panic!("list --field-selector {fields}: {e}"));
            let mut names: Vec<String> = list.items.into_iter().filter_map(|p| p.metadata.name).collect();
            names.sort();
            names
        }
    };
    assert_eq!(select("spec.tenantRef.name=acme").await, ["acme-cluster", "acme-ns"]);
    assert_eq!(
        select("spec.tenantRef.name=acme,spec.tenantRef.kind=Auth0Tenant").await,
        ["acme-ns"]
    );
    assert_eq!(
        select("spec.tenantRef.kind=ClusterAuth0Tenant").await,
        ["acme-cluster", "defaulted"]
    );
    assert_eq!(select("spec.tenantRef.name=default").await, ["defaulted"]);
    assert_eq!(
        select("spec.tenantRef.name!=acme").await,
        ["acme-prefix", "defaulted", "other-ns"]
    );
    assert!(select("spec.tenantRef.name=nobody").await.is_empty());

    let listed = kubectl(
        &env,
        &[
            "get",
            "connectionprofiles",
            "-n",
            ns.name(),
            "--field-selector",
            "spec.tenantRef.name=acme",
            "-o",
            "name",
        ],
    );
    let mut names: Vec<&str> = listed.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "connectionprofile.auth0.operators.dev/acme-cluster",
            "connectionprofile.auth0.operators.dev/acme-ns"
        ]
    );

    let refused = api
        .list(&kube::api::ListParams::default().fields("spec.name=acme"))
        .await
        .expect_err("spec.name is not a selectable field");
    assert!(
        format!("{refused}").contains("field label not supported"),
        "an undeclared field is refused: {refused}"
    );
}

/// A request with strict field validation to the collection `plural` (POST) or, with
/// `name`, one object of it (PUT; `/status` for a merge patch of status).
async fn send_strict(
    client: &Client,
    method: http::Method,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Result<Value, kube::Error> {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{GROUP_PATH}/{path}?fieldValidation=Strict"))
        .header("content-type", content_type)
        .body(serde_json::to_vec(body).expect("json"))
        .expect("request");
    client.request::<Value>(request).await
}

fn object_of(kind: &str, ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": kind,
           "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// The pure validation's verdict on `object`, as the operator gives it.
fn pure_verdict(object: &Value) -> Result<(), String> {
    let verdict = match object["kind"].as_str() {
        Some("UserAttributeProfile") => serde_json::from_value::<UserAttributeProfile>(object.clone())
            .map_err(|e| e.to_string())?
            .validate(),
        Some("SelfServiceProfile") => serde_json::from_value::<SelfServiceProfile>(object.clone())
            .map_err(|e| e.to_string())?
            .validate(),
        other => panic!("no pure validation for {other:?}"),
    };
    verdict.map_err(|e| e.to_string())
}

/// UserAttributeProfiles and SelfServiceProfiles: valid ones are accepted by the API server
/// and by the pure validation; bad values are refused by both, the API server with the
/// message of `crd::rules` (which names the kind where a kind is named), the pure validation
/// with the same words where the rule is a CEL rule.
#[tokio::test]
async fn user_attribute_and_self_service_profiles_are_checked_by_the_api_server() {
    const UAP_ID: &str = "uap_1css47cCzXvXLC4pJ8KBaa";
    const SSP_ID: &str = "ssp_1css47cCzXvXLC4pJ8KBaa";
    let (_env, ns) = setup("crds-kinds").await;
    let email = json!({"label": "Email", "description": "The user's email address", "auth0Mapping": "email", "profileRequired": true});
    let uap = |name: &str, spec: Value| object_of("UserAttributeProfile", ns.name(), name, spec);
    let ssp = |name: &str, spec: Value| object_of("SelfServiceProfile", ns.name(), name, spec);
    let plural = |object: &Value| match object["kind"].as_str() {
        Some("UserAttributeProfile") => "userattributeprofiles",
        _ => "selfserviceprofiles",
    };
    let create = |object: Value| {
        let client = ns.client.clone();
        let path = format!("namespaces/{}/{}", ns.name(), plural(&object));
        async move { send_strict(&client, http::Method::POST, &path, "application/json", &object).await }
    };

    let valid = [
        uap("minimal", json!({"userAttributes": {"email": email}})),
        uap(
            "full",
            json!({"name": "n".repeat(128), "externalID": UAP_ID,
                "userId": {"oidcMapping": "sub", "samlMapping": ["a", "b", "c"], "scimMapping": "userName",
                           "strategyOverrides": {"googleApps": {"oidcMapping": "email"}, "waad": {"oidcMapping": "oid"}}},
                "userAttributes": {"e".repeat(50): {"label": "L", "description": "D", "auth0Mapping": "app_metadata.dept",
                    "profileRequired": false, "oidcMapping": {"mapping": "${context.tokenset.dept}", "displayName": "Dept"},
                    "samlMapping": ["urn:dept"], "scimMapping": "department",
                    "strategyOverrides": {"okta": {"oidcMapping": {"mapping": "dept"}, "scimMapping": "dept"}}}}}),
        ),
        ssp("minimal", json!({})),
        ssp(
            "full",
            json!({"name": "n".repeat(100), "description": "d".repeat(140), "externalID": SSP_ID,
                "userAttributes": vec![json!({"name": "a".repeat(250), "description": "b".repeat(250), "isOptional": true}); 20],
                "allowedStrategies": ["oidc", "samlp", "waad", "google-apps", "adfs", "okta", "auth0-samlp", "okta-samlp", "keycloak-samlp", "pingfederate"],
                "branding": {"logoUrl": "https://example.com/logo.png", "colors": {"primary": "#fff"}},
                "customText": {"en": {"getStarted": {"introduction": "é".repeat(2000)}}}}),
        ),
        ssp(
            "by-name",
            json!({"userAttributeProfileRef": {"name": "employees"}, "userAttributes": []}),
        ),
        ssp("by-id", json!({"userAttributeProfileRef": {"id": UAP_ID}})),
    ];
    let mut failures = Vec::new();
    for object in valid {
        let name = format!("{} {}", object["kind"], object["metadata"]["name"]);
        if let Err(e) = pure_verdict(&object) {
            failures.push(format!("{name}: the pure validation refused it: {e}"));
        }
        if let Err(e) = create(object).await {
            failures.push(format!("{name}: the API server refused it: {}", api_message(&e)));
        }
    }

    // (object, what the API server's message holds, whether the pure validation says the same)
    let refused = [
        (
            uap(&"m".repeat(129), json!({"userAttributes": {"email": email}})),
            rules::UAP_EFFECTIVE_NAME_MSG,
            true,
        ),
        (ssp(&"m".repeat(101), json!({})), rules::SSP_EFFECTIVE_NAME_MSG, true),
        (
            uap(
                "cop-id",
                json!({"externalID": "cop_1css47cCzXvXLC4pJ8KBaa", "userAttributes": {"email": email}}),
            ),
            rules::UAP_ID_MSG,
            true,
        ),
        (ssp("uap-id", json!({"externalID": UAP_ID})), rules::SSP_ID_MSG, true),
        (
            ssp(
                "ref-both",
                json!({"userAttributeProfileRef": {"name": "employees", "id": UAP_ID}}),
            ),
            rules::SSP_REF_ONE_OF_MSG,
            true,
        ),
        (
            ssp("ref-neither", json!({"userAttributeProfileRef": {}})),
            rules::SSP_REF_ONE_OF_MSG,
            true,
        ),
        (
            ssp("ref-bad-id", json!({"userAttributeProfileRef": {"id": SSP_ID}})),
            rules::UAP_ID_MSG,
            true,
        ),
        (
            ssp(
                "exclusive",
                json!({"userAttributeProfileRef": {"name": "employees"},
                "userAttributes": [{"name": "a", "description": "b", "isOptional": true}]}),
            ),
            rules::SSP_EXCLUSIVE_MSG,
            true,
        ),
        (
            ssp("logo", json!({"branding": {"logoUrl": "http://example.com/logo.png"}})),
            rules::SSP_LOGO_URL_MSG,
            true,
        ),
        (
            ssp("colour", json!({"branding": {"colors": {"primary": "#abcd"}}})),
            rules::SSP_COLOR_MSG,
            true,
        ),
        (
            uap("key", json!({"userAttributes": {"k".repeat(51): email}})),
            rules::UAP_ATTRIBUTE_NAMES_MSG,
            true,
        ),
        // Schema limits: the API server's own words name the field.
        (
            uap("no-attributes", json!({"userAttributes": {}})),
            "spec.userAttributes",
            false,
        ),
        (
            uap(
                "name",
                json!({"name": "n".repeat(129), "userAttributes": {"email": email}}),
            ),
            "spec.name",
            false,
        ),
        (
            uap(
                "oidc",
                json!({"userId": {"oidcMapping": "oid"}, "userAttributes": {"email": email}}),
            ),
            "spec.userId.oidcMapping",
            false,
        ),
        (
            uap(
                "saml",
                json!({"userAttributes": {"email": {"label": "L", "description": "D", "auth0Mapping": "email",
            "profileRequired": true, "samlMapping": ["a", "b", "c", "d"]}}}),
            ),
            "spec.userAttributes.email.samlMapping",
            false,
        ),
        (
            ssp(
                "too-many",
                json!({"userAttributes": vec![json!({"name": "a", "description": "b", "isOptional": true}); 21]}),
            ),
            "spec.userAttributes",
            false,
        ),
        (
            ssp("strategies", json!({"allowedStrategies": ["oidc", "oidc"]})),
            "spec.allowedStrategies",
            false,
        ),
        (
            ssp(
                "text",
                json!({"customText": {"en": {"getStarted": {"introduction": "x".repeat(2001)}}}}),
            ),
            "spec.customText.en.getStarted.introduction",
            false,
        ),
    ];
    for (object, expected, same_words) in refused {
        let name = format!("{} {}", object["kind"], object["metadata"]["name"]);
        match pure_verdict(&object) {
            Ok(()) => failures.push(format!("{name}: the pure validation accepted it")),
            Err(e) if same_words && !e.contains(expected) => {
                failures.push(format!("{name}: the pure validation does not say {expected:?}: {e}"))
            }
            Err(_) => {}
        }
        match create(object).await {
            Ok(_) => failures.push(format!("{name}: the API server accepted it")),
            Err(e) if !api_message(&e).contains(expected) => failures.push(format!(
                "{name}: the API server's message does not say {expected:?}: {}",
                api_message(&e)
            )),
            Err(_) => {}
        }
    }

    // The transition rules name the kind: externalID stays, tenantRef stays once in Auth0.
    for (object, status, new_spec, expected) in [
        (
            uap(
                "adopting",
                json!({"externalID": UAP_ID, "userAttributes": {"email": email}}),
            ),
            None,
            json!({"externalID": "uap_0000000000000000000000", "userAttributes": {"email": email}}),
            rules::UAP_EXTERNAL_ID_IMMUTABLE_MSG,
        ),
        (
            ssp("adopting", json!({"externalID": SSP_ID})),
            None,
            json!({}),
            rules::SSP_EXTERNAL_ID_IMMUTABLE_MSG,
        ),
        (
            uap("moving", json!({"userAttributes": {"email": email}})),
            Some(json!({"id": UAP_ID})),
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "other"}, "userAttributes": {"email": email}}),
            rules::UAP_TENANT_REF_MSG,
        ),
        (
            ssp("moving", json!({})),
            Some(json!({"id": SSP_ID})),
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "other"}}),
            rules::SSP_TENANT_REF_MSG,
        ),
    ] {
        let label = format!("{} {}", object["kind"], object["metadata"]["name"]);
        let path = format!(
            "namespaces/{}/{}/{}",
            ns.name(),
            plural(&object),
            object["metadata"]["name"].as_str().expect("name")
        );
        let mut created = create(object.clone())
            .await
            .unwrap_or_else(|e| panic!("{label}: the starting object was refused: {}", api_message(&e)));
        if let Some(status) = status {
            created = send_strict(
                &ns.client,
                http::Method::PATCH,
                &format!("{path}/status"),
                "application/merge-patch+json",
                &json!({"status": status}),
            )
            .await
            .unwrap_or_else(|e| panic!("{label}: the status was refused: {}", api_message(&e)));
        }
        let mut update = object.clone();
        update["spec"] = new_spec;
        update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
        match send_strict(&ns.client, http::Method::PUT, &path, "application/json", &update).await {
            Ok(_) => failures.push(format!("{label}: the API server accepted the update")),
            Err(e) if !api_message(&e).contains(expected) => failures.push(format!(
                "{label}: the API server's message does not say {expected:?}: {}",
                api_message(&e)
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
