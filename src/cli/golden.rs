//! The ConnectionProfile output of `export`, `templates` and `plan`, byte for byte as the
//! command line wrote it before it learned the other kinds (tests/data/cli-golden/, written
//! by the code of commit 365e263 from these inputs): the other kinds change nothing of it.

fn golden_profiles() -> Vec<serde_json::Value> {
    use serde_json::json;
    let mut v = vec![
        json!({"id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "name": "Acme Corp", "enabled_features": ["scim"]}),
        json!({"id": "cop_2cu7Zs1Dfru5Qc9mZea7nm", "name": "acme-corp", "connection_name_prefix_template": "acme-"}),
        json!({"id": "cop_3cu7Zs1Dfru5Qc9mZea7nm", "name": "東京 パートナー", "organization": {"show_as_button": "optional"}}),
        json!({"id": "cop_4cu7Zs1Dfru5Qc9mZea7nm", "name": "plain", "future_field": 1}),
    ];
    v.push(json!({"id": "cop_5cu7Zs1Dfru5Qc9mZea7nm", "name": "Team — ëxport",
        "organization": {"show_as_button": "required", "assign_membership_on_login": "optional"},
        "provisioning": {"scim": {"tokens": {"scopes": ["post:users", "get:users"], "default_expiry": 3600, "max_allowed_expiry": 7200}}},
        "cross_app_access_resource_app": {"status": {"default_value": "enabled", "allowed_values": ["enabled", "disabled"]}},
        "strategy_overrides": {"google-apps": {"enabled_features": ["scim"], "connection_config": {},
             "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "default_expiry": 60}}}}}}));
    v
}
fn golden_docs() -> Vec<crate::cli::manifests::Document> {
    use serde_json::json;
    let doc = |name: &str, spec: serde_json::Value| crate::cli::manifests::Document {
        source: format!("{name}.yaml#1"),
        value: json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                      "metadata": {"name": name}, "spec": spec}),
    };
    vec![
        doc(
            "a",
            json!({"externalID": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "enabledFeatures": ["scim"]}),
        ),
        doc(
            "b",
            json!({"externalID": "cop_2cu7Zs1Dfru5Qc9mZea7nm", "organization": {"showAsButton": "required"}}),
        ),
        doc(
            "new",
            json!({"enabledFeatures": ["scim"], "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}}),
        ),
        doc("taken", json!({"name": "plain"})),
        doc("twice", json!({"externalID": "cop_1cu7Zs1Dfru5Qc9mZea7nm"})),
        doc("gone", json!({"externalID": "cop_9cu7Zs1Dfru5Qc9mZea7nm"})),
        doc("bad", json!({"connectionNamePrefixTemplate": "--x"})),
        doc(
            "watch",
            json!({"name": "acme-corp", "managementPolicy": "Observe", "connectionNamePrefixTemplate": "b-"}),
        ),
        doc("other", json!({"tenantRef": {"kind": "Auth0Tenant", "name": "eu"}})),
        doc("live", json!({"connectionNamePrefixTemplate": "x-"})),
    ]
}
fn golden_live() -> Vec<crate::crd::ConnectionProfile> {
    use serde_json::json;
    let value = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
        "metadata": {"name": "live", "namespace": "ns", "uid": "uid-live", "creationTimestamp": "2026-01-01T00:00:00Z",
                     "annotations": {"auth0.operators.dev/profile-id": "cop_5cu7Zs1Dfru5Qc9mZea7nm"}},
        "spec": {}, "status": {"id": "cop_5cu7Zs1Dfru5Qc9mZea7nm"}});
    vec![serde_json::from_value(value).expect("profile")]
}
fn golden_options() -> crate::cli::export::Options {
    crate::cli::export::Options {
        namespace: Some("team".into()),
        tenant_ref: Some(crate::crd::TenantRef {
            kind: crate::crd::TenantKind::Auth0Tenant,
            name: "t".into(),
        }),
        management_policy: crate::crd::ManagementPolicy::Observe,
        deletion_policy: crate::crd::DeletionPolicy::Orphan,
    }
}

#[test]
fn connection_profile_output_is_unchanged() {
    use std::collections::HashMap;
    let m = crate::cli::export::profiles(&golden_profiles(), &golden_options()).expect("export");
    assert_eq!(
        crate::cli::export::to_yaml(&m).expect("yaml"),
        include_str!("../../tests/data/cli-golden/export.yaml")
    );
    let item = serde_json::json!({"id": "cpt_1", "display_name": "Okta", "template": {"name": "Okta Express", "connection_name_prefix_template": "okta-{org_id}", "enabled_features": ["scim"], "organization": {"show_as_button": "required"}}});
    let t = crate::cli::export::template(&item, "Okta Express", &crate::cli::export::Options::default()).expect("t");
    assert_eq!(
        crate::cli::export::to_yaml(&[t]).expect("yaml"),
        include_str!("../../tests/data/cli-golden/template.yaml")
    );
    let mut listings = crate::cli::plan::Listings::new();
    listings.insert(
        ("ClusterAuth0Tenant/default".to_string(), "ConnectionProfile"),
        Ok(golden_profiles()),
    );
    listings.insert(
        ("Auth0Tenant/ns/eu".to_string(), "ConnectionProfile"),
        Err("tenant eu: nope".to_string()),
    );
    let live = crate::cli::plan::Live {
        connection_profiles: golden_live(),
        ..Default::default()
    };
    let o = crate::cli::plan::plan_all(&golden_docs(), "ns", &live, &listings, &HashMap::new());
    assert_eq!(
        crate::cli::plan::render(&o),
        include_str!("../../tests/data/cli-golden/plan.txt")
    );
    assert_eq!(
        serde_json::to_string_pretty(&serde_json::json!({"resources": o})).expect("json"),
        include_str!("../../tests/data/cli-golden/plan.json")
    );
    assert_eq!(crate::cli::plan::exit_code(&o), crate::cli::plan::exit::ERROR);
}
