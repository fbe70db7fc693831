//! Limits, end to end (a real kube-apiserver, the Auth0 emulator and the operator as a
//! process): a profile with every field at its maximum becomes Ready and Auth0 holds exactly
//! those values; one past each limit is refused by the API server naming the field (the cases
//! tests/data/invalid-connection-profiles.yaml already holds are not repeated here); a
//! megabyte spec is refused cleanly and a megabyte object converges without hurting the
//! operator; Unicode names Auth0 accepts converge, and what it refuses is refused before any
//! Auth0 call.

mod common;

use std::time::{Duration, Instant};

use auth0_operator::controller::desired::normalize;
use auth0_operator::crd::validation;
use common::{Harness, SCOPES, condition, free_port, http_get, id, observed};
use kube::Client;
use serde_json::{Value, json};

const GROUP_PATH: &str = "/apis/auth0.operators.dev/v1alpha1";

/// The harness with the operator serving probes on a known port.
async fn start(prefix: &str) -> (Harness, u16) {
    let mut h = Harness::prepare(prefix, SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let port = free_port();
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(&log, &["--http-address", &format!("127.0.0.1:{port}")]));
    // Ready too: `assert_serving` checks /readyz, which answers 503 until the caches are
    // listed (a test whose inputs are all refused by the API server could get there first).
    let deadline = Instant::now() + Duration::from_secs(20);
    for probe in ["/healthz", "/readyz"] {
        while http_get(port, probe).map(|r| r.0) != Some(200) {
            assert!(Instant::now() < deadline, "the operator never served {probe}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (h, port)
}

/// The operator process is still running and its probes answer 200.
fn assert_serving(h: &mut Harness, port: u16) {
    let child = h.operator.as_mut().expect("operator");
    assert!(child.try_wait().expect("try_wait").is_none(), "the operator exited");
    assert_eq!(http_get(port, "/healthz").map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/readyz").map(|r| r.0), Some(200));
}

fn profile(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
           "metadata": {"name": name}, "spec": spec})
}

/// POST with the given field validation (`Strict` is kubectl's default).
async fn create(client: &Client, ns: &str, object: &Value, field_validation: &str) -> Result<Value, kube::Error> {
    let url = format!("{GROUP_PATH}/namespaces/{ns}/connectionprofiles?fieldValidation={field_validation}");
    let request = http::Request::post(url)
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

fn ready(p: &auth0_operator::crd::ConnectionProfile) -> bool {
    observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
}

/// Every field at its maximum: the longest names (metadata.name 253, spec.name 50), the
/// longest prefix template (15, with a variable), both features, both organization settings,
/// all eight strategy overrides each with everything set, all five SCIM scopes, the largest
/// expiries (i64::MAX seconds) and both Cross App Access values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_at_its_maximum_converges_and_auth0_holds_exactly_it() {
    let (mut h, port) = start("lim-max").await;
    let scopes = json!(["get:users", "post:users", "patch:users", "delete:users", "put:users"]);
    let tokens = json!({"scopes": scopes, "defaultExpiry": i64::MAX, "maxAllowedExpiry": i64::MAX});
    let every_override = json!({"enabledFeatures": ["scim", "universal_logout"], "connectionConfig": {},
                                "provisioning": {"scim": {"tokens": tokens}}});
    let name = format!("{:-<50}", "Every field at its maximum ");
    assert_eq!(name.chars().count(), 50);
    let prefix = "{org_name}-abcd";
    assert_eq!(prefix.len(), 15);
    let spec = json!({
        "name": name,
        "connectionNamePrefixTemplate": prefix,
        "enabledFeatures": ["scim", "universal_logout"],
        "organization": {"showAsButton": "required", "assignMembershipOnLogin": "required"},
        "connectionConfig": {},
        "strategyOverrides": {
            "pingfederate": every_override, "ad": every_override, "adfs": every_override,
            "waad": every_override, "googleApps": every_override, "okta": every_override,
            "oidc": every_override, "samlp": every_override
        },
        "provisioning": {"scim": {"tokens": tokens}},
        "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled"]}},
        "deletionPolicy": "Delete",
        "managementPolicy": "Manage",
    });
    let metadata_name = "m".repeat(253);
    let object = profile(&metadata_name, spec.clone());
    validation::check(object.clone(), None).expect("the pure validation accepts it");
    h.apply_profile(&metadata_name, spec).await;
    let ready_profile = h.wait_ready(&metadata_name).await;
    // Its Created Event is published too: client-go and kube's Recorder name an Event
    // `<object name>.<hex>`, over 253 characters for an object name over 236, which the API
    // server refuses; controller/events.rs cuts the object name to fit.
    h.wait_event(&metadata_name, "Created").await;

    let wire_tokens = json!({"scopes": ["delete:users", "get:users", "patch:users", "post:users", "put:users"],
                             "default_expiry": i64::MAX, "max_allowed_expiry": i64::MAX});
    let wire_override = json!({"enabled_features": ["scim", "universal_logout"], "connection_config": {},
                               "provisioning": {"scim": {"tokens": wire_tokens}}});
    let expected = json!({
        "name": name,
        "organization": {"show_as_button": "required", "assign_membership_on_login": "required"},
        "connection_name_prefix_template": prefix,
        "enabled_features": ["scim", "universal_logout"],
        "connection_config": {},
        "strategy_overrides": {
            "pingfederate": wire_override, "ad": wire_override, "adfs": wire_override,
            "waad": wire_override, "google-apps": wire_override, "okta": wire_override,
            "oidc": wire_override, "samlp": wire_override
        },
        "provisioning": {"scim": {"tokens": wire_tokens}},
        "cross_app_access_resource_app": {"status": {"default_value": "enabled", "allowed_values": ["disabled", "enabled"]}},
    });
    let remote = h
        .remote_by_id(&id(&ready_profile))
        .expect("the profile exists in Auth0");
    assert_eq!(Value::Object(normalize(&remote)), expected, "Auth0 holds: {remote:#}");
    // Exactly, not merely equal after normalising: every value as sent, the largest expiry
    // to the last digit.
    assert_eq!(remote["name"], json!(name));
    assert_eq!(
        remote["strategy_overrides"]["google-apps"]["provisioning"]["scim"]["tokens"]["max_allowed_expiry"],
        json!(9_223_372_036_854_775_807_i64)
    );
    assert_eq!(h.remote().len(), 1);

    // status.atProvider reports it all back.
    let at = ready_profile
        .status
        .as_ref()
        .and_then(|s| s.at_provider.clone())
        .expect("atProvider");
    assert_eq!(at.name, name);
    assert_eq!(at.strategy_overrides.map(|s| s.iter().count()), Some(8));

    // Nothing more to do: two poll intervals later, one write in all (the POST).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        h.writes().iter().map(|w| w.0.as_str()).collect::<Vec<_>>(),
        ["POST"],
        "{:?}",
        h.writes()
    );
    assert_serving(&mut h, port);
}

/// One past each limit that tests/data/invalid-connection-profiles.yaml does not cover already
/// (it has: spec.name of 51 ASCII characters, a 51-character metadata.name without spec.name,
/// a 16-letter prefix template, a negative defaultExpiry, an externalID one short, and the
/// enum, set and unknown-field cases). The API server refuses each with a message naming the
/// field, the pure validation names it too, and Auth0 sees no write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_past_each_limit_is_refused_naming_the_field() {
    let (mut h, port) = start("lim-past").await;
    let scopes6 = json!([
        "get:users",
        "post:users",
        "patch:users",
        "delete:users",
        "put:users",
        "get:users"
    ]);
    let cases: Vec<(&str, &str, String, Value)> = vec![
        (
            "spec.name: 51 two-byte characters",
            "spec.name",
            "p".into(),
            json!({"name": "é".repeat(51)}),
        ),
        (
            "spec.name: 51 four-byte characters",
            "spec.name",
            "p".into(),
            json!({"name": "😀".repeat(51)}),
        ),
        (
            "prefix template: 16 characters with a variable",
            "spec.connectionNamePrefixTemplate",
            "p".into(),
            json!({"connectionNamePrefixTemplate": "{org_name}-abcde"}),
        ),
        (
            "enabledFeatures: 3 items",
            "spec.enabledFeatures",
            "p".into(),
            json!({"enabledFeatures": ["scim", "universal_logout", "scim"]}),
        ),
        (
            "strategy override enabledFeatures: 3 items",
            "spec.strategyOverrides.waad.enabledFeatures",
            "p".into(),
            json!({"strategyOverrides": {"waad": {"enabledFeatures": ["scim", "universal_logout", "scim"]}}}),
        ),
        (
            "SCIM scopes: 6 items",
            "spec.provisioning.scim.tokens.scopes",
            "p".into(),
            json!({"provisioning": {"scim": {"tokens": {"scopes": scopes6}}}}),
        ),
        (
            "strategy override SCIM scopes: 6 items",
            "spec.strategyOverrides.googleApps.provisioning.scim.tokens.scopes",
            "p".into(),
            json!({"strategyOverrides": {"googleApps": {"provisioning": {"scim": {"tokens": {"scopes": scopes6}}}}}}),
        ),
        (
            "allowedValues: 3 items",
            "spec.crossAppAccessResourceApp.status.allowedValues",
            "p".into(),
            json!({"crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled", "enabled"]}}}),
        ),
        (
            "maxAllowedExpiry: -1",
            "spec.provisioning.scim.tokens.maxAllowedExpiry",
            "p".into(),
            json!({"provisioning": {"scim": {"tokens": {"scopes": [], "maxAllowedExpiry": -1}}}}),
        ),
        (
            "defaultExpiry: 2^63, one past the largest int64",
            "spec.provisioning.scim.tokens.defaultExpiry",
            "p".into(),
            json!({"provisioning": {"scim": {"tokens": {"scopes": [], "defaultExpiry": 9_223_372_036_854_775_808_u64}}}}),
        ),
        (
            "externalID: one character long",
            "spec.externalID",
            "p".into(),
            json!({"externalID": format!("cop_{}", "a".repeat(23))}),
        ),
        (
            "tenantRef.name: 254 characters",
            "spec.tenantRef.name",
            "p".into(),
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t".repeat(254)}}),
        ),
        (
            "metadata.name: 254 characters (spec.name set)",
            "metadata.name",
            "m".repeat(254),
            json!({"name": "Short"}),
        ),
    ];
    let mut failures = Vec::new();
    for (i, (case, field, name, spec)) in cases.iter().enumerate() {
        let name = if name == "p" { format!("past-{i}") } else { name.clone() };
        let object = profile(&name, spec.clone());
        match create(&h.ns.client, h.ns.name(), &object, "Strict").await {
            Ok(_) => failures.push(format!("{case}: the API server accepted it")),
            Err(err) => {
                let message = api_message(&err);
                eprintln!("{case}: {message}");
                if !message.contains(field) {
                    failures.push(format!(
                        "{case}: the API server's message does not name {field}: {message}"
                    ));
                }
            }
        }
        // metadata.name is the API server's to judge, not the operator's.
        if !field.starts_with("metadata") {
            match validation::check(object, None) {
                Ok(_) => failures.push(format!("{case}: the pure validation accepted it")),
                Err(invalid) if !invalid.0.iter().any(|e| e.field.starts_with(field)) => {
                    failures.push(format!("{case}: the pure validation names no {field}: {invalid}"))
                }
                Err(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(h.writes(), vec![], "Auth0 saw a write");
    assert_serving(&mut h, port);
}

/// About a megabyte: in the spec it is refused by the API server naming the field (no field
/// of the spec may hold that much); as unknown fields under non-strict validation it is
/// pruned, and the profile converges; as a ~1 MB object the API server accepts (256 KiB of
/// annotations, the cap, and ~750 KB of labels) it converges, the operator keeps serving,
/// and another profile still converges after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_spec_is_refused_and_a_megabyte_object_converges() {
    let (mut h, port) = start("lim-mb").await;
    let megabyte = "x".repeat(1 << 20);

    for (field, spec) in [
        ("spec.name", json!({"name": megabyte})),
        (
            "spec.connectionNamePrefixTemplate",
            json!({"connectionNamePrefixTemplate": megabyte}),
        ),
        (
            "spec.enabledFeatures",
            json!({"enabledFeatures": vec!["scim"; 100_000]}),
        ),
    ] {
        let started = Instant::now();
        let err = create(&h.ns.client, h.ns.name(), &profile("huge", spec), "Strict")
            .await
            .expect_err("a megabyte spec is refused");
        let message = api_message(&err);
        eprintln!(
            "{field}: refused in {:?} with a {} byte message: {}",
            started.elapsed(),
            message.len(),
            message.chars().take(300).collect::<String>()
        );
        assert!(
            message.contains(field),
            "{field}: {}",
            &message[..message.len().min(2000)]
        );
        assert!(
            matches!(&err, kube::Error::Api(s) if s.code == 422),
            "{field}: {}",
            &message[..message.len().min(2000)]
        );
        assert!(message.len() < 64 * 1024, "{field}: a {} byte message", message.len());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{field}: {:?}",
            started.elapsed()
        );
    }

    // Unknown fields are pruned under non-strict validation: nothing of the megabyte is stored.
    let mut junk = profile("pruned", json!({"enabledFeatures": ["scim"], "junk": megabyte}));
    junk["spec"]["tenantRef"] = json!({"kind": "Auth0Tenant", "name": "t"});
    create(&h.ns.client, h.ns.name(), &junk, "Ignore")
        .await
        .unwrap_or_else(|e| panic!("accepted and pruned: {}", api_message(&e)));
    let pruned = h.wait_ready("pruned").await;
    assert!(
        serde_json::to_string(&pruned).expect("json").len() < 10_000,
        "the junk was stored"
    );

    // A ~1 MB object the API server accepts: annotations at their 256 KiB cap, and labels.
    let annotations: serde_json::Map<String, Value> = (0..4)
        .map(|i| (format!("example.com/big-{i}"), json!("a".repeat(60 * 1024))))
        .collect();
    let labels: serde_json::Map<String, Value> = (0..6000)
        .map(|i| {
            (
                format!("example.com/label-{i:05}-{}", "k".repeat(40)),
                json!("v".repeat(63)),
            )
        })
        .collect();
    let mut big = profile(
        "big",
        json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"]}),
    );
    big["metadata"]["annotations"] = Value::Object(annotations);
    big["metadata"]["labels"] = Value::Object(labels);
    let size = serde_json::to_vec(&big).expect("json").len();
    assert!(size > 900_000, "the object is {size} bytes");
    create(&h.ns.client, h.ns.name(), &big, "Strict")
        .await
        .unwrap_or_else(|e| panic!("a {size} byte object: {}", api_message(&e)));
    let big_ready = h.wait_for("big", Duration::from_secs(60), "Ready", ready).await;
    assert_eq!(
        h.remote_by_id(&id(&big_ready)).expect("in Auth0")["enabled_features"],
        json!(["scim"])
    );
    assert_serving(&mut h, port);

    // Still converging after all that.
    h.apply_profile("after", json!({"name": "After the megabyte"})).await;
    h.wait_ready("after").await;
    assert_serving(&mut h, port);
}

/// Unicode in names. Auth0 takes any 1 to 50 characters as a profile name (counted in
/// characters, not bytes): those converge and Auth0 holds them byte for byte. Kubernetes
/// object names and prefix templates are ASCII only: the API server refuses those, naming the
/// field, before the operator (or Auth0) sees anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicode_names_auth0_accepts_converge_and_the_rest_are_refused() {
    let (mut h, port) = start("lim-uni").await;
    let names = [
        "Ünïcödé prófïlé ✓".to_string(),
        "日本語のプロファイル".to_string(),
        "مرحبا بالعالم".to_string(),
        "👩‍👩‍👧‍👦 family, ZWJ".to_string(),
        "😀".repeat(50),                      // 50 characters, 200 bytes
        "e\u{301}".repeat(25),                // 50 code points: e + combining acute
        "tab\tnew\nline\u{0}nul".to_string(), // control characters
        "\u{202e}right-to-left override".to_string(),
    ];
    for (i, name) in names.iter().enumerate() {
        h.apply_profile(&format!("unicode-{i}"), json!({"name": name})).await;
    }
    for (i, name) in names.iter().enumerate() {
        let p = h.wait_ready(&format!("unicode-{i}")).await;
        let remote = h.remote_by_id(&id(&p)).expect("in Auth0");
        assert_eq!(remote["name"].as_str(), Some(name.as_str()), "unicode-{i}");
        assert_eq!(
            p.status.and_then(|s| s.at_provider).map(|a| a.name).as_deref(),
            Some(name.as_str())
        );
    }
    let creates = h.writes().iter().filter(|w| w.0 == "POST").count();
    assert_eq!(creates, names.len(), "{:?}", h.writes());

    // Refused by the API server, naming the field; no write reaches Auth0.
    let refused = [
        ("metadata.name", "prófile", json!({})),
        ("metadata.name", "日本", json!({"name": "日本"})),
        (
            "spec.connectionNamePrefixTemplate",
            "prefix-1",
            json!({"connectionNamePrefixTemplate": "ünï-{org_id}"}),
        ),
        (
            "spec.connectionNamePrefixTemplate",
            "prefix-2",
            json!({"connectionNamePrefixTemplate": "{org_ıd}"}),
        ),
        ("spec.name", "too-long", json!({"name": "日".repeat(51)})),
    ];
    for (field, name, spec) in refused {
        let object = profile(name, spec);
        let err = create(&h.ns.client, h.ns.name(), &object, "Strict")
            .await
            .expect_err("refused");
        let message = api_message(&err);
        eprintln!("{name}: {message}");
        assert!(message.contains(field), "{name}: {message}");
        if !field.starts_with("metadata") {
            let invalid = validation::check(object, None).expect_err("the pure validation refuses it");
            assert!(invalid.0.iter().any(|e| e.field == field), "{invalid}");
        }
    }
    assert_eq!(
        h.writes().iter().filter(|w| w.0 == "POST").count(),
        names.len(),
        "{:?}",
        h.writes()
    );
    assert_serving(&mut h, port);
}
