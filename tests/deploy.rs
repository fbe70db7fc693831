//! The install manifests against a real kube-apiserver: the kustomize base (`deploy/base`)
//! and the Helm chart (`deploy/helm/auth0-operator`) both apply with a server-side dry run,
//! describe the same objects, and hold what the operator's hardening promises (non-root,
//! read-only, no capabilities, probes, leader-election Role limited to Leases, the network
//! policy's ports). With `metrics.*` (Helm) or the components (kustomize), the
//! ServiceMonitor, PrometheusRule and dashboard ConfigMap apply to a server with the
//! Prometheus Operator's CRDs installed.
//!
//! helm is built from its Go module by `tools/build-tools.sh` (cached by version); kubectl is
//! the one built beside the control plane.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use testenv::TestEnv;

const OPERATOR_NAMESPACE: &str = "auth0-operator";
const IMAGE: &str = "ghcr.io/auth0-operator/auth0-operator:0.1.0";
const CHART: &str = "deploy/helm/auth0-operator";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The folder `tools/build-tools.sh` prints (helm, gitops-check, promtool, the Prometheus
/// Operator CRDs); builds them on first use.
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

/// Runs a command with `stdin`, returns stdout; panics with the command line and stderr on
/// failure, or when stderr holds a warning and `no_warnings` is set.
fn run(cmd: &mut Command, stdin: &[u8], no_warnings: bool) -> Vec<u8> {
    let line = format!("{cmd:?}");
    let mut child = cmd
        .current_dir(repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    // The CRDs are larger than a pipe's buffer: write while the child's output is read.
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{line}: {e}"));
    writer
        .join()
        .expect("writer")
        .unwrap_or_else(|e| panic!("{line}: writing stdin: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{line} failed ({}):\n{stderr}", out.status);
    if no_warnings {
        assert!(!stderr.contains("Warning"), "{line} warned:\n{stderr}");
    }
    out.stdout
}

/// The kustomize install: the CRDs (`crds`, a kustomization of their own) and the operator
/// (`deploy/base`), as the two documented `kubectl apply -k` commands apply them.
fn kustomize(env: &TestEnv) -> Vec<u8> {
    let mut all = run(env.kubectl().args(["kustomize", "crds"]), b"", true);
    all.extend_from_slice(b"---\n");
    all.extend(run(env.kubectl().args(["kustomize", "deploy/base"]), b"", true));
    all
}

fn helm_template(args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new(tools().join("helm"));
    cmd.args([
        "template",
        "auth0-operator",
        CHART,
        "--namespace",
        OPERATOR_NAMESPACE,
        "--include-crds",
    ])
    .args(args);
    run(&mut cmd, b"", false)
}

/// The namespace exists for real (a dry run of namespaced objects needs it), and so do the
/// CRDs (a dry run of a ClusterAuth0Tenant needs its kind).
async fn prepare(env: &TestEnv) {
    env.install_crds(&auth0_operator::crd::all()).await;
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": OPERATOR_NAMESPACE}})).expect("namespace");
    match Api::<Namespace>::all(env.admin().await)
        .create(&PostParams::default(), &ns)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => panic!("creating namespace {OPERATOR_NAMESPACE}: {e}"),
    }
}

/// `kubectl apply --server-side --dry-run=server`: every object is admitted (schema, defaults,
/// validation, RBAC escalation checks); returns the objects as the server would store them.
fn dry_run(env: &TestEnv, manifests: &[u8]) -> Vec<Value> {
    let out = run(
        env.kubectl().args([
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            "deploy-test",
            "--dry-run=server",
            "-o",
            "json",
            "-f",
            "-",
        ]),
        manifests,
        true,
    );
    let list: Value = serde_json::from_slice(&out).expect("kubectl printed JSON");
    match list["kind"].as_str() {
        Some("List") => list["items"].as_array().expect("items").clone(),
        _ => vec![list],
    }
}

fn key(object: &Value) -> (String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (
        s(&object["kind"]),
        s(&object["metadata"]["namespace"]),
        s(&object["metadata"]["name"]),
    )
}

fn keys(objects: &[Value]) -> BTreeSet<(String, String, String)> {
    objects.iter().map(key).collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} among {:?}", keys(objects)))
}

fn container(objects: &[Value]) -> &Value {
    let containers = &find(objects, "Deployment", "auth0-operator")["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers.as_array().map(Vec::len),
        Some(1),
        "one container: {containers}"
    );
    &containers[0]
}

fn args(objects: &[Value]) -> Vec<String> {
    container(objects)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect()
}

/// What the issue asks of every rendering with default values.
fn check_hardening(objects: &[Value], what: &str) {
    let names = keys(objects);
    for (kind, ns, name) in [
        ("CustomResourceDefinition", "", "connectionprofiles.auth0.operators.dev"),
        ("CustomResourceDefinition", "", "auth0tenants.auth0.operators.dev"),
        (
            "CustomResourceDefinition",
            "",
            "clusterauth0tenants.auth0.operators.dev",
        ),
        ("ServiceAccount", OPERATOR_NAMESPACE, "auth0-operator"),
        ("ClusterRole", "", "auth0-operator"),
        ("ClusterRoleBinding", "", "auth0-operator"),
        ("Role", OPERATOR_NAMESPACE, "auth0-operator-leader-election"),
        ("RoleBinding", OPERATOR_NAMESPACE, "auth0-operator-leader-election"),
        ("Deployment", OPERATOR_NAMESPACE, "auth0-operator"),
        ("PodDisruptionBudget", OPERATOR_NAMESPACE, "auth0-operator"),
        ("Service", OPERATOR_NAMESPACE, "auth0-operator-metrics"),
        ("NetworkPolicy", OPERATOR_NAMESPACE, "auth0-operator"),
    ] {
        assert!(
            names.contains(&(kind.into(), ns.into(), name.into())),
            "{what}: no {kind} {ns}/{name} in {names:?}"
        );
    }

    let role = find(objects, "Role", "auth0-operator-leader-election");
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update", "patch"]}]),
        "{what}: the leader-election Role grants Leases get/create/update and nothing else"
    );
    for binding in ["RoleBinding", "ClusterRoleBinding"] {
        let name = if binding == "RoleBinding" {
            "auth0-operator-leader-election"
        } else {
            "auth0-operator"
        };
        assert_eq!(
            find(objects, binding, name)["subjects"],
            json!([{"kind": "ServiceAccount", "name": "auth0-operator", "namespace": OPERATOR_NAMESPACE}]),
            "{what}: {binding} subject"
        );
    }

    let deployment = find(objects, "Deployment", "auth0-operator");
    assert_eq!(deployment["spec"]["replicas"], 2, "{what}: replicas");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "auth0-operator", "{what}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}: pod runAsNonRoot");
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
        "{what}: pod seccomp"
    );
    let c = container(objects);
    assert_eq!(c["image"], IMAGE, "{what}: image");
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true, "{what}: runAsNonRoot");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}: readOnlyRootFilesystem");
    assert_eq!(
        sc["allowPrivilegeEscalation"], false,
        "{what}: allowPrivilegeEscalation"
    );
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{what}: capabilities");
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}: seccomp");
    for side in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][side][resource].is_string(),
                "{what}: no resources.{side}.{resource}: {}",
                c["resources"]
            );
        }
    }
    assert_eq!(
        c["ports"],
        json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]),
        "{what}: ports"
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(c[probe]["httpGet"]["path"], path, "{what}: {probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{what}: {probe}");
    }
    assert_eq!(
        args(objects),
        [
            "run",
            "--leader-election",
            "--http-address",
            "0.0.0.0:8080",
            "--log-format",
            "json"
        ],
        "{what}: args"
    );
    let env_vars: Vec<(String, String)> = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("").to_string(),
                e["valueFrom"]["fieldRef"]["fieldPath"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        env_vars,
        [
            ("POD_NAME".to_string(), "metadata.name".to_string()),
            ("POD_NAMESPACE".to_string(), "metadata.namespace".to_string())
        ],
        "{what}: env from the downward API"
    );

    let pdb = find(objects, "PodDisruptionBudget", "auth0-operator");
    assert_eq!(pdb["spec"]["minAvailable"], 1, "{what}: PDB");
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    assert_eq!(
        &pdb["spec"]["selector"]["matchLabels"], selector,
        "{what}: PDB selector"
    );

    let service = find(objects, "Service", "auth0-operator-metrics");
    assert_eq!(&service["spec"]["selector"], selector, "{what}: Service selector");
    let ports = &service["spec"]["ports"];
    assert_eq!(ports.as_array().map(Vec::len), Some(1), "{what}: Service ports {ports}");
    assert_eq!(
        (&ports[0]["name"], &ports[0]["port"]),
        (&json!("http"), &json!(8080)),
        "{what}"
    );

    let policy = &find(objects, "NetworkPolicy", "auth0-operator")["spec"];
    assert_eq!(
        &policy["podSelector"]["matchLabels"], selector,
        "{what}: NetworkPolicy selector"
    );
    assert_eq!(policy["policyTypes"], json!(["Ingress", "Egress"]), "{what}");
    let ports_of = |rules: &Value| -> BTreeSet<(String, i64)> {
        rules
            .as_array()
            .expect("rules")
            .iter()
            .flat_map(|rule| {
                assert!(rule.get("to").is_none() && rule.get("from").is_none(), "{what}: {rule}");
                rule["ports"].as_array().expect("ports").clone()
            })
            .map(|p| {
                (
                    p["protocol"].as_str().unwrap_or("").to_string(),
                    p["port"].as_i64().expect("port"),
                )
            })
            .collect()
    };
    assert_eq!(
        ports_of(&policy["egress"]),
        BTreeSet::from([
            ("UDP".to_string(), 53),
            ("TCP".to_string(), 53),
            ("TCP".to_string(), 443),
            ("TCP".to_string(), 6443)
        ]),
        "{what}: egress only to DNS, the API server and HTTPS"
    );
    assert_eq!(
        ports_of(&policy["ingress"]),
        BTreeSet::from([("TCP".to_string(), 8080)]),
        "{what}: ingress only to 8080"
    );
}

#[tokio::test]
async fn kustomize_base_applies_with_a_server_side_dry_run() {
    let env = TestEnv::get();
    prepare(&env).await;
    let objects = dry_run(&env, &kustomize(&env));
    check_hardening(&objects, "kustomize deploy/base");
    let namespace = find(&objects, "Namespace", OPERATOR_NAMESPACE);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted",
        "the namespace enforces the restricted Pod Security profile"
    );
}

#[tokio::test]
async fn helm_chart_renders_the_same_objects_as_kustomize() {
    let env = TestEnv::get();
    prepare(&env).await;
    let from_kustomize = dry_run(&env, &kustomize(&env));
    let from_helm = dry_run(&env, &helm_template(&[]));
    check_hardening(&from_helm, "helm template");

    // Helm leaves the namespace to `--create-namespace`; everything else is the same set.
    let mut expected = keys(&from_kustomize);
    expected.remove(&("Namespace".into(), String::new(), OPERATOR_NAMESPACE.into()));
    assert_eq!(keys(&from_helm), expected, "kind/namespace/name of the two renderings");

    assert_eq!(
        find(&from_helm, "ClusterRole", "auth0-operator")["rules"],
        find(&from_kustomize, "ClusterRole", "auth0-operator")["rules"],
        "ClusterRole rules"
    );
    for kind in ["ClusterRoleBinding", "RoleBinding"] {
        for object in from_kustomize.iter().filter(|o| o["kind"] == kind) {
            let name = object["metadata"]["name"].as_str().expect("name");
            let helm = find(&from_helm, kind, name);
            assert_eq!(
                (&helm["roleRef"], &helm["subjects"]),
                (&object["roleRef"], &object["subjects"]),
                "{kind}/{name}"
            );
        }
    }
    let (k, h) = (
        find(&from_kustomize, "Deployment", "auth0-operator"),
        find(&from_helm, "Deployment", "auth0-operator"),
    );
    assert_eq!(h["spec"]["replicas"], k["spec"]["replicas"], "replicas");
    assert_eq!(h["spec"]["selector"], k["spec"]["selector"], "selector");
    let (kp, hp) = (&k["spec"]["template"]["spec"], &h["spec"]["template"]["spec"]);
    assert_eq!(hp["securityContext"], kp["securityContext"], "pod securityContext");
    assert_eq!(hp["serviceAccountName"], kp["serviceAccountName"], "serviceAccountName");
    let (kc, hc) = (container(&from_kustomize), container(&from_helm));
    for field in [
        "image",
        "args",
        "env",
        "ports",
        "securityContext",
        "livenessProbe",
        "readinessProbe",
        "resources",
    ] {
        assert_eq!(hc[field], kc[field], "container {field}");
    }
    for (kind, name) in [
        ("PodDisruptionBudget", "auth0-operator"),
        ("Service", "auth0-operator-metrics"),
        ("NetworkPolicy", "auth0-operator"),
    ] {
        let (k, h) = (find(&from_kustomize, kind, name), find(&from_helm, kind, name));
        let strip = |v: &Value| {
            let mut spec = v["spec"].clone();
            // Allocated by the server on each dry run.
            if let Some(spec) = spec.as_object_mut() {
                for field in ["clusterIP", "clusterIPs"] {
                    spec.remove(field);
                }
            }
            spec
        };
        assert_eq!(strip(h), strip(k), "{kind}/{name} spec");
    }
    for object in from_kustomize
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
    {
        let name = object["metadata"]["name"].as_str().expect("name");
        assert_eq!(
            find(&from_helm, "CustomResourceDefinition", name)["spec"],
            object["spec"],
            "CRD {name}"
        );
    }
}

#[tokio::test]
async fn helm_values_reach_the_objects() {
    let env = TestEnv::get();
    prepare(&env).await;
    let tenants = json!([
        {"name": "deploy-test-default", "spec": {"domain": "acme.eu.auth0.com", "credentialsSecretRef": {"name": "default-auth0-credentials"}}},
        {"name": "deploy-test-staging", "spec": {"domain": "acme-staging.eu.auth0.com", "credentialsSecretRef": {"name": "staging-auth0-credentials"}}},
    ]);
    let objects = dry_run(
        &env,
        &helm_template(&[
            "--set",
            "image.repository=registry.example/auth0-operator,image.tag=9.9.9,replicas=3",
            "--set",
            "watchNamespace=team-a,logFormat=text",
            "--set",
            "resources.limits.memory=512Mi",
            "--set-json",
            &format!("tenants={tenants}"),
            "--set-json",
            r#"allowedTenantHosts=["*.eu.auth0.com","auth0-proxy.internal:8443"]"#,
        ]),
    );
    let deployment = find(&objects, "Deployment", "auth0-operator");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let c = container(&objects);
    assert_eq!(c["image"], "registry.example/auth0-operator:9.9.9");
    assert_eq!(c["resources"]["limits"]["memory"], "512Mi");
    assert_eq!(
        args(&objects),
        [
            "run",
            "--leader-election",
            "--http-address",
            "0.0.0.0:8080",
            "--log-format",
            "text",
            "--namespace",
            "team-a",
            "--allowed-tenant-hosts",
            "*.eu.auth0.com,auth0-proxy.internal:8443"
        ]
    );
    for tenant in tenants.as_array().expect("tenants") {
        let name = tenant["name"].as_str().expect("name");
        let object = find(&objects, "ClusterAuth0Tenant", name);
        // The server adds the schema's defaults (the key names); what was given is there.
        assert_eq!(
            object["spec"]["domain"], tenant["spec"]["domain"],
            "ClusterAuth0Tenant/{name}"
        );
        assert_eq!(
            object["spec"]["credentialsSecretRef"]["name"], tenant["spec"]["credentialsSecretRef"]["name"],
            "ClusterAuth0Tenant/{name}"
        );
    }

    // A tenant the CRD refuses is refused at install time, not by the operator later.
    let mut cmd = env.kubectl();
    cmd.args(["apply", "--server-side", "--dry-run=server", "-f", "-"]);
    let bad = helm_template(&[
        "--set-json",
        r#"tenants=[{"name":"bad","spec":{"domain":"acme.eu.auth0.com"}}]"#,
    ]);
    let out = cmd
        .current_dir(repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let mut pipe = child.stdin.take().expect("stdin");
            let writer = std::thread::spawn(move || pipe.write_all(&bad));
            let out = child.wait_with_output();
            writer.join().expect("writer")?;
            out
        })
        .expect("kubectl");
    assert!(
        !out.status.success(),
        "a ClusterAuth0Tenant without credentialsSecretRef was accepted"
    );
}

/// crds/Kustomization (a name `kubectl apply -f crds/` skips) lists every generated CRD,
/// and the Helm chart's crds/ holds a copy of each, byte for byte and nothing else (`make
/// crds` writes both).
#[test]
fn the_kustomization_and_the_chart_carry_every_crd() {
    let generated: BTreeSet<String> = std::fs::read_dir(repo("crds"))
        .expect("crds/")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert!(!generated.is_empty());
    let kustomization = std::fs::read_to_string(repo("crds/Kustomization")).expect("kustomization");
    for name in &generated {
        assert!(
            kustomization.contains(&format!("- {name}")),
            "crds/Kustomization does not list {name}"
        );
    }
    let in_chart: BTreeSet<String> = std::fs::read_dir(repo(&format!("{CHART}/crds")))
        .expect("the chart's crds/")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(
        in_chart, generated,
        "{CHART}/crds/ holds other files than crds/*.yaml: run `make crds`"
    );
    for name in &generated {
        assert_copy(&format!("crds/{name}"), &format!("{CHART}/crds/{name}"));
    }
}

/// The chart's files/ are copies of the monitoring component's rules and the dashboard,
/// byte for byte (`make crds` writes them), not links out of the chart.
#[test]
fn the_chart_files_are_copies_of_the_monitoring_sources() {
    let pairs = [
        (
            "deploy/components/prometheus-rule/prometheusrule.yaml",
            "files/prometheusrule.yaml",
        ),
        (
            "deploy/components/grafana-dashboard/auth0-operator.json",
            "files/auth0-operator-dashboard.json",
        ),
    ];
    let in_chart: BTreeSet<String> = std::fs::read_dir(repo(&format!("{CHART}/files")))
        .expect("the chart's files/")
        .map(|e| format!("files/{}", e.expect("entry").file_name().into_string().expect("utf-8")))
        .collect();
    assert_eq!(
        in_chart,
        pairs.iter().map(|(_, copy)| copy.to_string()).collect::<BTreeSet<_>>(),
        "{CHART}/files/"
    );
    for (source, copy) in pairs {
        assert_copy(source, &format!("{CHART}/{copy}"));
    }
}

/// `copy` is a regular file (not a symbolic link: a packaged chart cannot follow one, and
/// helm warns about each) with the same bytes as `source`.
fn assert_copy(source: &str, copy: &str) {
    let meta = std::fs::symlink_metadata(repo(copy)).unwrap_or_else(|e| panic!("{copy}: {e}"));
    assert!(
        meta.is_file(),
        "{copy} is not a regular file (a link?): run `make crds`"
    );
    let parent = Path::new(copy).parent().expect("parent");
    let link = std::fs::symlink_metadata(repo(parent.to_str().expect("utf-8"))).expect("folder");
    assert!(
        !link.file_type().is_symlink(),
        "{} is a link: make it a folder",
        parent.display()
    );
    let want = std::fs::read(repo(source)).unwrap_or_else(|e| panic!("{source}: {e}"));
    let have = std::fs::read(repo(copy)).unwrap_or_else(|e| panic!("{copy}: {e}"));
    assert!(have == want, "{copy} differs from {source}: run `make crds`");
}

/// The namespaces that hold a Role or RoleBinding `auth0-operator-secrets`, each checked:
/// get/list/watch on Secrets and nothing else, bound to the operator's ServiceAccount.
fn secret_grants(objects: &[Value], what: &str) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    let mut bindings = BTreeSet::new();
    for object in objects {
        if object["metadata"]["name"] != "auth0-operator-secrets" {
            continue;
        }
        let ns = object["metadata"]["namespace"].as_str().unwrap_or("").to_string();
        match object["kind"].as_str() {
            Some("Role") => {
                assert_eq!(
                    object["rules"],
                    json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]),
                    "{what}: Role {ns}/auth0-operator-secrets"
                );
                roles.insert(ns);
            }
            Some("RoleBinding") => {
                assert_eq!(
                    object["subjects"],
                    json!([{"kind": "ServiceAccount", "name": "auth0-operator", "namespace": OPERATOR_NAMESPACE}]),
                    "{what}: RoleBinding {ns} subject"
                );
                assert_eq!(object["roleRef"]["name"], "auth0-operator-secrets", "{what}");
                bindings.insert(ns);
            }
            _ => {}
        }
    }
    assert_eq!(roles, bindings, "{what}: a RoleBinding beside each Role");
    roles
}

fn grants_secrets_cluster_wide(objects: &[Value]) -> bool {
    find(objects, "ClusterRole", "auth0-operator")["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == "secrets"))
        })
}

#[tokio::test]
async fn confined_secret_access_grants_secrets_in_exactly_the_listed_namespaces() {
    let env = TestEnv::get();
    prepare(&env).await;
    for name in ["team-a", "team-b"] {
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
        match Api::<Namespace>::all(env.admin().await)
            .create(&PostParams::default(), &ns)
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => panic!("creating namespace {name}: {e}"),
        }
    }

    // The default: Secrets through the ClusterRole, no Role for them, every namespace read.
    let default = dry_run(&env, &kustomize(&env));
    assert!(
        grants_secrets_cluster_wide(&default),
        "the default reads Secrets everywhere"
    );
    assert!(secret_grants(&default, "default").is_empty());
    let rule = json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]});
    assert!(
        find(&default, "ClusterRole", "auth0-operator")["rules"]
            .as_array()
            .expect("rules")
            .contains(&rule),
        "the ClusterRole reads namespace labels (ClusterAuth0Tenant namespaceSelector)"
    );

    // Helm: secretNamespaces.
    let helm = dry_run(&env, &helm_template(&["--set", "secretNamespaces={team-a,team-b}"]));
    assert!(!grants_secrets_cluster_wide(&helm), "helm: no cluster-wide Secret rule");
    assert_eq!(
        secret_grants(&helm, "helm"),
        BTreeSet::from([OPERATOR_NAMESPACE.to_string(), "team-a".into(), "team-b".into()])
    );
    let a = args(&helm);
    assert_eq!(a[a.len() - 2..], ["--secret-namespaces", "team-a,team-b"], "helm args");

    // kustomize: the component, as the documented overlay uses it.
    let overlay = run(
        env.kubectl()
            .args(["kustomize", "tests/data/kustomize-secret-namespaces"]),
        b"",
        true,
    );
    let objects = dry_run(&env, &overlay);
    assert!(
        !grants_secrets_cluster_wide(&objects),
        "kustomize: no cluster-wide Secret rule"
    );
    assert_eq!(
        secret_grants(&objects, "kustomize"),
        BTreeSet::from([OPERATOR_NAMESPACE.to_string(), "team-a".into()])
    );
    let env_var = container(&objects)["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "AUTH0_OPERATOR_SECRET_NAMESPACES")
        .cloned()
        .expect("AUTH0_OPERATOR_SECRET_NAMESPACES");
    let map_name = env_var["valueFrom"]["configMapKeyRef"]["name"]
        .as_str()
        .expect("ConfigMap");
    assert_eq!(find(&objects, "ConfigMap", map_name)["data"]["namespaces"], "team-a");
    // Nothing else changed: the same rules as the base without the Secret one.
    let without_secrets: Vec<Value> = find(&default, "ClusterRole", "auth0-operator")["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["resources"] != json!(["secrets"]))
        .cloned()
        .collect();
    assert_eq!(
        find(&objects, "ClusterRole", "auth0-operator")["rules"],
        json!(without_secrets)
    );
    assert_eq!(
        find(&helm, "ClusterRole", "auth0-operator")["rules"],
        json!(without_secrets)
    );
}

/// The documented kustomize overlay that allows more tenant hosts renders, passes a
/// server-side dry run, and hands the operator a list it accepts.
#[tokio::test]
async fn the_allowed_hosts_overlay_reaches_the_operator() {
    let env = TestEnv::get();
    prepare(&env).await;
    let overlay = run(
        env.kubectl().args(["kustomize", "tests/data/kustomize-allowed-hosts"]),
        b"",
        true,
    );
    let objects = dry_run(&env, &overlay);
    let a = args(&objects);
    let flag = a.last().expect("an argument");
    let list = flag
        .strip_prefix("--allowed-tenant-hosts=")
        .unwrap_or_else(|| panic!("the last argument is the flag: {a:?}"));
    assert_eq!(list, "*.eu.auth0.com,login.example.com,auth0-proxy.internal:8443");
    for pattern in list.split(',') {
        pattern
            .parse::<auth0_operator::auth0::hosts::HostPattern>()
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // The documented patch in docs/install.md is this overlay's.
    let docs = std::fs::read_to_string("docs/install.md").expect("docs/install.md");
    assert!(
        docs.contains(&format!("value: --allowed-tenant-hosts={list}")),
        "docs/install.md shows the overlay's patch"
    );
}

/// The image runs as the same numeric, non-root user the manifests ask for (runAsNonRoot
/// can only verify a numeric USER), from a distroless base without a shell.
#[test]
fn the_image_runs_as_a_numeric_non_root_user() {
    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).expect("Dockerfile");
    let last_stage = dockerfile
        .rsplit_once("\nFROM ")
        .map(|(_, stage)| stage)
        .expect("a final stage");
    assert!(
        last_stage.starts_with("gcr.io/distroless/"),
        "a distroless final stage: {last_stage}"
    );
    let user = last_stage
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the final stage sets USER");
    let (uid, gid) = user.trim().split_once(':').expect("USER uid:gid");
    let (uid, gid): (u32, u32) = (uid.parse().expect("numeric uid"), gid.parse().expect("numeric gid"));
    assert!(uid != 0 && gid != 0, "non-root: {user}");
    let deployment: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(repo("deploy/base/deployment.yaml")).expect("deployment"))
            .expect("yaml");
    let pod = &deployment["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(
        (pod["runAsUser"].as_u64(), pod["runAsGroup"].as_u64()),
        (Some(uid.into()), Some(gid.into()))
    );
}

/// `helm template RELEASE CHART -n NAMESPACE ARGS` without the CRDs; the raw output.
fn helm_raw(release: &str, namespace: &str, args: &[&str]) -> std::process::Output {
    Command::new(tools().join("helm"))
        .args(["template", release, CHART, "--namespace", namespace])
        .args(args)
        .current_dir(repo(""))
        .output()
        .expect("helm")
}

fn helm_render(release: &str, namespace: &str, args: &[&str]) -> Vec<u8> {
    let out = helm_raw(release, namespace, args);
    assert!(
        out.status.success(),
        "helm template {release} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `helm lint --strict` passes, and `values.schema.json` refuses unknown values (typos) and
/// values of the wrong shape at render time, naming the value.
#[test]
fn the_chart_lints_and_its_schema_refuses_typos() {
    let lint = Command::new(tools().join("helm"))
        .args(["lint", "--strict", CHART])
        .current_dir(repo(""))
        .output()
        .expect("helm lint");
    let stderr = String::from_utf8_lossy(&lint.stderr);
    assert!(
        lint.status.success(),
        "helm lint --strict failed:\n{}{stderr}",
        String::from_utf8_lossy(&lint.stdout)
    );
    // The chart holds every file it uses: helm finds no link to follow out of it.
    assert!(!stderr.contains("symbolic link"), "helm lint: {stderr}");
    let template = helm_raw("links", "default", &["--include-crds"]);
    let stderr = String::from_utf8_lossy(&template.stderr);
    assert!(template.status.success(), "helm template: {stderr}");
    assert!(!stderr.contains("symbolic link"), "helm template: {stderr}");
    for (set, named) in [
        ("replica=3", "replica"),
        ("image.tagg=1.0", "tagg"),
        ("concurrency=0", "concurrency"),
        ("pollInterval=0s", "pollInterval"),
        ("pollInterval=10", "pollInterval"),
        ("logFormat=yaml", "logFormat"),
        ("fullnameOverride=Team_A", "fullnameOverride"),
    ] {
        let out = helm_raw("schema", "default", &["--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--set {set} was accepted");
        assert!(
            stderr.contains("values don't meet the specifications of the schema") && stderr.contains(named),
            "--set {set}: {stderr}"
        );
    }
}

/// Two releases, one per team namespace: every object name comes from its release, nothing
/// is shared, and both apply (for real, server-side, without forcing) side by side.
#[tokio::test]
async fn the_chart_installs_twice_side_by_side() {
    let env = TestEnv::get();
    prepare(&env).await;
    let (a, b) = (env.namespace("helm-a").await, env.namespace("helm-b").await);
    let render = |release: &str, namespace: &str| {
        helm_render(
            release,
            namespace,
            &["--set", &format!("watchNamespace={namespace}"), "--include-crds"],
        )
    };
    let (ra, rb) = (render("auth0-team-a", a.name()), render("auth0-team-b", b.name()));
    let (oa, ob) = (dry_run(&env, &ra), dry_run(&env, &rb));
    let crd = |k: &(String, String, String)| k.0 == "CustomResourceDefinition";
    let (ka, kb): (BTreeSet<_>, BTreeSet<_>) = (
        keys(&oa).into_iter().filter(|k| !crd(k)).collect(),
        keys(&ob).into_iter().filter(|k| !crd(k)).collect(),
    );
    assert!(ka.len() >= 10, "{ka:?}");
    assert!(
        ka.is_disjoint(&kb),
        "shared objects: {:?}",
        ka.intersection(&kb).collect::<Vec<_>>()
    );
    for (objects, release, ns) in [(&oa, "auth0-team-a", a.name()), (&ob, "auth0-team-b", b.name())] {
        let name = format!("{release}-auth0-operator");
        let deployment = find(objects, "Deployment", &name);
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"], release,
            "the selector tells the releases apart"
        );
        let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let lease = args.windows(2).find(|w| w[0] == "--lease-name").map(|w| w[1]);
        assert_eq!(lease, Some(name.as_str()), "each release its own Lease: {args:?}");
        assert_eq!(
            find(objects, "ClusterRoleBinding", &name)["subjects"][0],
            json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
        );
        assert_eq!(
            find(objects, "RoleBinding", &format!("{name}-leader-election"))["subjects"][0]["name"],
            name
        );
        find(objects, "ClusterRole", &format!("{name}-edit"));
        find(objects, "ClusterRole", &format!("{name}-view"));
    }
    // For real: a collision would be a field-manager conflict or an object of the other's.
    let apply = |manifests: &[u8], manager: &str| {
        run(
            env.kubectl()
                .args(["apply", "--server-side", "--field-manager", manager, "-f", "-"]),
            manifests,
            true,
        )
    };
    apply(&ra, "helm-auth0-team-a");
    apply(&rb, "helm-auth0-team-b");
    // The cluster-scoped objects go with the test (the namespaces take the rest); the CRDs
    // stay for the other tests.
    for (rendered, release) in [(&oa, "auth0-team-a"), (&ob, "auth0-team-b")] {
        let name = format!("{release}-auth0-operator");
        run(
            env.kubectl().args([
                "delete",
                "--ignore-not-found",
                "clusterrole",
                &name,
                &format!("{name}-edit"),
                &format!("{name}-view"),
            ]),
            b"",
            true,
        );
        run(
            env.kubectl()
                .args(["delete", "--ignore-not-found", "clusterrolebinding", &name]),
            b"",
            true,
        );
        assert!(rendered.iter().all(|o| o["kind"] != "ClusterAuth0Tenant"));
    }
}

/// fullnameOverride, imagePullSecrets, extraArgs, pollInterval, concurrency, logLevel and the
/// topology spread reach the objects.
#[tokio::test]
async fn the_new_chart_values_reach_the_objects() {
    let env = TestEnv::get();
    prepare(&env).await;
    let objects = dry_run(
        &env,
        &helm_render(
            "anything",
            OPERATOR_NAMESPACE,
            &[
                "--set",
                "fullnameOverride=team-x-auth0,pollInterval=90s,concurrency=4,logLevel=debug",
                "--set-json",
                r#"imagePullSecrets=[{"name":"registry-credentials"}]"#,
                "--set-json",
                r#"extraArgs=["--auth0-timeout=20s"]"#,
            ],
        ),
    );
    let deployment = find(&objects, "Deployment", "team-x-auth0");
    for (kind, name) in [
        ("ServiceAccount", "team-x-auth0"),
        ("ClusterRole", "team-x-auth0"),
        ("Service", "team-x-auth0-metrics"),
        ("Role", "team-x-auth0-leader-election"),
        ("PodDisruptionBudget", "team-x-auth0"),
        ("NetworkPolicy", "team-x-auth0"),
    ] {
        find(&objects, kind, name);
    }
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["imagePullSecrets"], json!([{"name": "registry-credentials"}]));
    assert_eq!(pod["serviceAccountName"], "team-x-auth0");
    let args: Vec<&str> = pod["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        args,
        [
            "run",
            "--leader-election",
            "--lease-name",
            "team-x-auth0",
            "--http-address",
            "0.0.0.0:8080",
            "--log-format",
            "json",
            "--poll-interval",
            "90s",
            "--concurrency",
            "4",
            "--log-level",
            "debug",
            "--auth0-timeout=20s"
        ]
    );
    // Two replicas by default: spread over nodes and zones, selecting this release's Pods.
    let spread = pod["topologySpreadConstraints"].as_array().expect("topology spread");
    let keys: Vec<&str> = spread.iter().filter_map(|c| c["topologyKey"].as_str()).collect();
    assert_eq!(keys, ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for constraint in spread {
        assert_eq!(
            constraint["labelSelector"]["matchLabels"],
            deployment["spec"]["selector"]["matchLabels"]
        );
    }
    // Every flag the chart passes is one the binary knows.
    let help = Command::new(env!("CARGO_BIN_EXE_auth0-operator"))
        .args(["run", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        let flag = flag.split('=').next().unwrap_or_default();
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "{flag}"
        );
    }
}

/// Kubernetes' built-in `edit` and `view` ClusterRoles take in the shipped aggregated roles
/// (through the real aggregation controller of kube-controller-manager), so a RoleBinding to
/// `edit` lets a user create ConnectionProfiles and Auth0Tenants, and one to `view` lets a
/// user read them and nothing more. Checked by impersonation against the real API server.
#[tokio::test]
async fn users_bound_to_edit_and_view_can_use_the_resources() {
    use k8s_openapi::api::rbac::v1::ClusterRole;
    let env = TestEnv::get();
    prepare(&env).await;
    run(
        env.kubectl().args([
            "apply",
            "--server-side",
            "-f",
            "deploy/base/aggregate-clusterroles.yaml",
        ]),
        b"",
        true,
    );
    let manager = AggregationController::start(&env);
    let roles: Api<ClusterRole> = Api::all(env.admin().await);
    let aggregated = |role: &ClusterRole| {
        role.rules
            .iter()
            .flatten()
            .any(|r| r.resources.iter().flatten().any(|res| res == "connectionprofiles"))
    };
    let start = std::time::Instant::now();
    for name in ["edit", "view", "admin"] {
        loop {
            let role = roles.get(name).await.expect("built-in role");
            if aggregated(&role) {
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(120),
                "ClusterRole {name} never took in the auth0 rules; kube-controller-manager log:\n{}",
                manager.log()
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    drop(manager);

    let ns = env.namespace("edit-view").await;
    for (user, role) in [("team-editor", "edit"), ("team-viewer", "view")] {
        run(
            env.kubectl().args([
                "create",
                "rolebinding",
                &format!("{user}-{role}"),
                "-n",
                ns.name(),
                &format!("--clusterrole={role}"),
                &format!("--user={user}"),
            ]),
            b"",
            true,
        );
    }
    let profile = br#"{"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
        "metadata": {"name": "by-editor"}, "spec": {"enabledFeatures": ["scim"]}}"#;
    let tenant = br#"{"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
        "metadata": {"name": "by-editor"}, "spec": {"domain": "acme.eu.auth0.com", "credentialsSecretRef": {"name": "creds"}}}"#;
    let as_user = |user: &str, args: &[&str], stdin: &[u8]| {
        let mut cmd = env.kubectl();
        cmd.args(["--as", user, "-n", ns.name()])
            .args(args)
            .current_dir(repo(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl");
        child.stdin.take().expect("stdin").write_all(stdin).expect("stdin");
        child.wait_with_output().expect("kubectl")
    };
    // RBAC takes a moment to see a new binding.
    let start = std::time::Instant::now();
    loop {
        let out = as_user("team-editor", &["apply", "--server-side", "-f", "-"], profile);
        if out.status.success() {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "a user bound to edit cannot create a ConnectionProfile: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let out = as_user("team-editor", &["apply", "--server-side", "-f", "-"], tenant);
    assert!(
        out.status.success(),
        "edit: Auth0Tenant: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = as_user(
        "team-viewer",
        &["get", "connectionprofiles,auth0tenants", "-o", "name"],
        b"",
    );
    assert!(
        out.status.success(),
        "view: get: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "connectionprofile.auth0.operators.dev/by-editor",
            "auth0tenant.auth0.operators.dev/by-editor"
        ])
    );
    let out = as_user("team-viewer", &["delete", "connectionprofile", "by-editor"], b"");
    assert!(
        !out.status.success(),
        "a user bound to view deleted a ConnectionProfile"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Forbidden"), "{out:?}");
}

/// kube-controller-manager (built beside the control plane by testenv/build.sh) running
/// only the ClusterRole aggregation controller, against the shared API server; stopped on
/// drop.
struct AggregationController {
    child: std::process::Child,
    log: PathBuf,
}

impl AggregationController {
    fn start(env: &TestEnv) -> AggregationController {
        let log = env
            .dir()
            .join(format!("kube-controller-manager-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("log");
        let child = Command::new(env.bin_dir().join("kube-controller-manager"))
            .arg("--kubeconfig")
            .arg(env.kubeconfig("admin"))
            .args([
                "--controllers=clusterrole-aggregation-controller",
                "--leader-elect=false",
                "--secure-port=0",
            ])
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting {}: {e}",
                    env.bin_dir().join("kube-controller-manager").display()
                )
            });
        AggregationController { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for AggregationController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, as its Go
/// module ships them (fetched by tools/build-tools.sh), and waits until they are served.
fn install_prometheus_operator_crds(env: &TestEnv) {
    let dir = tools().join("crds");
    let mut cmd = env.kubectl();
    cmd.args([
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager",
        "deploy-test",
    ]);
    for name in [
        "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
    ] {
        cmd.arg("-f").arg(dir.join(name));
    }
    run(&mut cmd, b"", true);
    run(
        env.kubectl().args([
            "wait",
            "--for",
            "condition=Established",
            "--timeout",
            "60s",
            "crd/servicemonitors.monitoring.coreos.com",
            "crd/prometheusrules.monitoring.coreos.com",
        ]),
        b"",
        true,
    );
}

/// What a ServiceMonitor must say to scrape the operator: it selects the metrics Service
/// (in the Service's namespace) by labels the Service has, on its `http` port, at /metrics.
fn check_service_monitor(monitor: &Value, service: &Value, what: &str) {
    let service_namespace = service["metadata"]["namespace"].as_str().expect("namespace");
    let watched = monitor["spec"]["namespaceSelector"]["matchNames"]
        .as_array()
        .map(|names| names.iter().any(|n| n == service_namespace))
        .unwrap_or(monitor["metadata"]["namespace"] == service_namespace);
    assert!(
        watched,
        "{what}: the ServiceMonitor does not look in {service_namespace}: {monitor}"
    );
    let wanted = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels");
    assert!(!wanted.is_empty(), "{what}: an empty selector selects every Service");
    for (label, value) in wanted {
        assert_eq!(
            &service["metadata"]["labels"][label], value,
            "{what}: the Service lacks the selector's label {label}"
        );
    }
    let endpoints = monitor["spec"]["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 1, "{what}: {endpoints:?}");
    assert_eq!(
        endpoints[0]["port"], service["spec"]["ports"][0]["name"],
        "{what}: port"
    );
    assert_eq!(endpoints[0]["path"], "/metrics", "{what}: path");
}

/// The component's PrometheusRule, as committed.
fn committed_rules() -> Value {
    let text = std::fs::read_to_string(repo("deploy/components/prometheus-rule/prometheusrule.yaml")).expect("rules");
    serde_saphyr::from_str(&text).expect("PrometheusRule YAML")
}

#[tokio::test]
async fn monitoring_objects_apply_with_the_prometheus_operator_crds() {
    let env = TestEnv::get();
    prepare(&env).await;
    install_prometheus_operator_crds(&env);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "monitoring"}})).expect("namespace");
    match Api::<Namespace>::all(env.admin().await)
        .create(&PostParams::default(), &ns)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => panic!("creating namespace monitoring: {e}"),
    }
    let committed = committed_rules();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("deploy/components/grafana-dashboard/auth0-operator.json")).expect("dashboard"),
    )
    .expect("dashboard JSON");

    // Off by default.
    let default = dry_run(&env, &helm_template(&[]));
    for kind in ["ServiceMonitor", "PrometheusRule", "ConfigMap"] {
        assert!(
            default.iter().all(|o| o["kind"] != kind),
            "helm renders a {kind} by default"
        );
    }

    // Helm, both toggles and the dashboard, in the release namespace.
    let helm = dry_run(
        &env,
        &helm_template(&[
            "--set",
            "metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.dashboard.enabled=true",
        ]),
    );
    let service = find(&helm, "Service", "auth0-operator-metrics");
    let monitor = find(&helm, "ServiceMonitor", "auth0-operator");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["metadata"]["namespace"], OPERATOR_NAMESPACE);
    check_service_monitor(monitor, service, "helm");
    let rule = find(&helm, "PrometheusRule", "auth0-operator");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(
        rule["spec"], committed["spec"],
        "helm's PrometheusRule holds the component's rules"
    );
    let map = find(&helm, "ConfigMap", "auth0-operator-dashboard");
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    let shipped: Value = serde_json::from_str(map["data"]["auth0-operator.json"].as_str().expect("dashboard data"))
        .expect("the ConfigMap holds JSON");
    assert_eq!(shipped, dashboard, "helm's ConfigMap holds the dashboard");

    // Namespace and labels settable; the ServiceMonitor still finds the Service.
    let elsewhere = dry_run(
        &env,
        &helm_template(&[
            "--set",
            "metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true",
            "--set",
            "metrics.serviceMonitor.namespace=monitoring,metrics.prometheusRule.namespace=monitoring",
            "--set",
            "metrics.serviceMonitor.labels.release=kube-prometheus-stack,metrics.prometheusRule.labels.release=kube-prometheus-stack",
            "--set",
            "metrics.serviceMonitor.interval=15s",
        ]),
    );
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        let object = find(&elsewhere, kind, "auth0-operator");
        assert_eq!(object["metadata"]["namespace"], "monitoring", "{kind}");
        assert_eq!(
            object["metadata"]["labels"]["release"], "kube-prometheus-stack",
            "{kind}"
        );
    }
    let monitor = find(&elsewhere, "ServiceMonitor", "auth0-operator");
    assert_eq!(monitor["spec"]["endpoints"][0]["interval"], "15s");
    check_service_monitor(
        monitor,
        find(&elsewhere, "Service", "auth0-operator-metrics"),
        "helm, in another namespace",
    );

    // kustomize: the components, as the documented overlay uses them.
    let overlay = run(
        env.kubectl().args(["kustomize", "tests/data/kustomize-monitoring"]),
        b"",
        true,
    );
    let objects = dry_run(&env, &overlay);
    check_service_monitor(
        find(&objects, "ServiceMonitor", "auth0-operator"),
        find(&objects, "Service", "auth0-operator-metrics"),
        "kustomize",
    );
    assert_eq!(
        find(&objects, "PrometheusRule", "auth0-operator")["spec"],
        committed["spec"],
        "kustomize"
    );
    let map = find(&objects, "ConfigMap", "auth0-operator-dashboard");
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    let shipped: Value = serde_json::from_str(map["data"]["auth0-operator.json"].as_str().expect("dashboard data"))
        .expect("the ConfigMap holds JSON");
    assert_eq!(shipped, dashboard, "kustomize's ConfigMap holds the dashboard");

    // The CRD's schema is enforced: a rule without an expression is refused.
    let mut broken = committed.clone();
    broken["spec"]["groups"][0]["rules"][0]
        .as_object_mut()
        .expect("rule")
        .remove("expr");
    let mut cmd = env.kubectl();
    cmd.args(["apply", "--server-side", "--dry-run=server", "-f", "-"]);
    let body = serde_json::to_vec(&broken).expect("json");
    let out = cmd
        .current_dir(repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let mut pipe = child.stdin.take().expect("stdin");
            let writer = std::thread::spawn(move || pipe.write_all(&body));
            let out = child.wait_with_output();
            writer.join().expect("writer")?;
            out
        })
        .expect("kubectl");
    assert!(
        !out.status.success(),
        "a PrometheusRule rule without expr was accepted: the CRD is not installed with its schema"
    );
}
