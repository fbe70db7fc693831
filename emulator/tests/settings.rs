//! Per-tenant settings over real HTTP: unique names, feature flags (403
//! `feature_not_enabled`), normalization of what is stored, accepting unknown fields and
//! enum values, and the admin API that reads and changes them.

mod common;

use auth0_emulator::{Config, Features, NormalizeRule, TenantConfig, TenantSettings};
use common::{DOMAIN, Tenant, admin, start, start_one, tenant};
use serde_json::{Value, json};

async fn start_with(config: TenantConfig) -> (auth0_emulator::Emulator, Tenant) {
    let emulator = start(Config {
        tenants: vec![config],
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    (emulator, client)
}

const FEATURE_NOT_ENABLED: &str = r#"{"statusCode":403,"error":"Forbidden","message":"This feature is not enabled for this tenant.","errorCode":"feature_not_enabled"}"#;

#[tokio::test]
async fn without_unique_names_a_taken_name_is_let_through_on_create_and_rename() {
    let (emulator, client) = start_with(TenantConfig {
        unique_names: false,
        ..tenant(DOMAIN)
    })
    .await;
    let first = client.call("POST", "", Some(json!({"name":"twin"}))).await;
    let second = client.call("POST", "", Some(json!({"name":"twin"}))).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_ne!(first.body["id"], second.body["id"]);
    let other = client.call("POST", "", Some(json!({"name":"other"}))).await;
    let id = other.body["id"].as_str().expect("id");
    let renamed = client
        .call("PATCH", &format!("/{id}"), Some(json!({"name":"twin"})))
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(
        emulator
            .profiles(DOMAIN)
            .expect("tenant")
            .iter()
            .filter(|p| p.name == "twin")
            .count(),
        3
    );
    // Deleting one twin leaves the others findable by name when uniqueness comes back.
    let first_id = first.body["id"].as_str().expect("id");
    assert_eq!(client.call("DELETE", &format!("/{first_id}"), None).await.status, 204);
    assert!(emulator.set_settings(DOMAIN, TenantSettings::default()));
    assert_eq!(client.call("POST", "", Some(json!({"name":"twin"}))).await.status, 409);
}

#[tokio::test]
async fn a_tenant_without_a_flag_refuses_any_body_that_carries_its_fields() {
    let (emulator, client) = start_with(TenantConfig {
        features: Features {
            cross_app_access: false,
            scim_provisioning: false,
            google_workspace_provisioning: false,
        },
        ..tenant(DOMAIN)
    })
    .await;
    let refused: Value = serde_json::from_str(FEATURE_NOT_ENABLED).expect("json");
    let scim = json!({"scim":{"tokens":{"scopes":["get:users"]}}});
    for body in [
        json!({"name":"a","cross_app_access_resource_app":null}),
        json!({"name":"a","cross_app_access_resource_app":{"status":{"default_value":"disabled"}}}),
        json!({"name":"a","provisioning":{}}),
        json!({"name":"a","provisioning":null}),
        json!({"name":"a","provisioning":scim}),
        json!({"name":"a","strategy_overrides":{"okta":{"provisioning":scim}}}),
    ] {
        let reply = client.call("POST", "", Some(body.clone())).await;
        assert_eq!((reply.status, &reply.body), (403, &refused), "{body}");
    }
    // Every other field works, and the PATCH of a guarded field is refused the same way.
    let made = client
        .call(
            "POST",
            "",
            Some(json!({"name":"plain","organization":{"show_as_button":"optional"},"enabled_features":["scim"],
                "connection_name_prefix_template":"p-","connection_config":{},"strategy_overrides":{"okta":{"enabled_features":[]}}})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["id"].as_str().expect("id");
    let patch = client
        .call(
            "PATCH",
            &format!("/{id}"),
            Some(json!({"cross_app_access_resource_app":null})),
        )
        .await;
    assert_eq!((patch.status, &patch.body), (403, &refused));
    // A body invalid as well is a 400 first.
    assert_eq!(
        client
            .call("POST", "", Some(json!({"name":"a","provisioning":5})))
            .await
            .status,
        400
    );
    // The dashboard (admin API) is not held back by flags: it seeds what such a tenant holds.
    let seeded = admin(
        &emulator,
        "POST",
        &format!("/tenants/{DOMAIN}/profiles"),
        Some(json!({"name":"seeded","provisioning":scim})),
    )
    .await;
    assert_eq!(seeded.status, 201);
    // Turning one flag on lets its fields through, the others stay refused.
    let on = admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/settings"),
        Some(json!({"features":{"scim_provisioning":true}})),
    )
    .await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    assert_eq!(
        on.body["features"],
        json!({"cross_app_access":false,"scim_provisioning":true,"google_workspace_provisioning":false})
    );
    assert_eq!(
        client
            .call("POST", "", Some(json!({"name":"b","provisioning":scim})))
            .await
            .status,
        201
    );
    assert_eq!(
        client
            .call(
                "POST",
                "",
                Some(json!({"name":"c","cross_app_access_resource_app":null}))
            )
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn normalize_rules_store_fields_differently_from_how_they_were_sent() {
    let rules: Vec<NormalizeRule> = serde_json::from_value(json!([
        {"action":"lowercase","field":"connection_name_prefix_template"},
        {"action":"drop_value","field":"enabled_features","value":"universal_logout"}
    ]))
    .expect("rules");
    let (_emulator, client) = start_with(TenantConfig {
        normalize: rules,
        ..tenant(DOMAIN)
    })
    .await;
    let created = client
        .call(
            "POST",
            "",
            Some(json!({"name":"n","connection_name_prefix_template":"ACME-","enabled_features":["scim","universal_logout"]})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["connection_name_prefix_template"], "acme-");
    assert_eq!(created.body["enabled_features"], json!(["scim"]));
    let id = created.body["id"].as_str().expect("id");
    // The same PATCH sent again is stored the same way again: it never converges.
    for _ in 0..2 {
        let patched = client
            .call(
                "PATCH",
                &format!("/{id}"),
                Some(json!({"connection_name_prefix_template":"ACME-"})),
            )
            .await;
        assert_eq!(patched.body["connection_name_prefix_template"], "acme-");
    }
}

#[tokio::test]
async fn a_newer_auth0_accepts_and_keeps_unknown_fields_and_values() {
    let (emulator, client) = start_with(TenantConfig {
        accept_unknown: true,
        ..tenant(DOMAIN)
    })
    .await;
    let body = json!({"name":"newer","enabled_features":["scim","teleport"],
        "provisioning":{"scim":{"tokens":{"scopes":["get:users","fly:users"],"future_knob":3}},"okta_sync":{"on":true}},
        "organization":{"show_as_button":"sometimes","colour":"blue"},
        "strategy_overrides":{"github":{"enabled_features":["x"]},"okta":{"extra":[1]}},
        "brand_new":{"a":[1,2]}});
    let created = client.call("POST", "", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("id").to_string();
    let fetched = client.call("GET", &format!("/{id}"), None).await.body;
    for key in [
        "enabled_features",
        "provisioning",
        "organization",
        "strategy_overrides",
        "brand_new",
    ] {
        assert_eq!(fetched[key], body[key], "{key} kept as sent");
    }
    // Known checks still apply, and id stays read-only.
    assert_eq!(
        client
            .call("POST", "", Some(json!({"name":"x".repeat(51)})))
            .await
            .status,
        400
    );
    assert_eq!(
        client
            .call("POST", "", Some(json!({"name":"dup","enabled_features":["x","x"]})))
            .await
            .status,
        400
    );
    let with_id = client.call("POST", "", Some(json!({"name":"i","id":"cop_x"}))).await;
    assert_eq!(with_id.status, 400);
    // A PATCH of another field keeps the unknown top-level field; null clears it.
    let patched = client
        .call(
            "PATCH",
            &format!("/{id}"),
            Some(json!({"connection_name_prefix_template":"n-"})),
        )
        .await;
    assert_eq!(patched.body["brand_new"], body["brand_new"]);
    let cleared = client
        .call("PATCH", &format!("/{id}"), Some(json!({"brand_new":null})))
        .await;
    assert_eq!(cleared.body.get("brand_new"), None);
    // The stored profile survives a listing and the state-file round trip through serde.
    let stored = emulator.profiles(DOMAIN).expect("tenant");
    let text = serde_json::to_string(&stored).expect("serialises");
    let again: Vec<auth0_emulator::Profile> = serde_json::from_str(&text).expect("parses");
    assert_eq!(again, stored);
}

#[tokio::test]
async fn settings_are_read_and_changed_through_the_admin_api_and_reset_restores_them() {
    let (emulator, client) = start_one().await;
    let path = format!("/tenants/{DOMAIN}/settings");
    let read = admin(&emulator, "GET", &path, None).await;
    assert_eq!(
        read.body,
        json!({"unique_names":true,"features":{"cross_app_access":true,"scim_provisioning":true,
            "google_workspace_provisioning":true},"normalize":[],"accept_unknown":false,
            "user_attribute_profiles":true,"refuse_delete_in_use":true,"exclusive_self_service_attributes":true})
    );
    let put = admin(
        &emulator,
        "PUT",
        &path,
        Some(json!({"unique_names":false,"normalize":[{"action":"lowercase","field":"name"}]})),
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["features"]["cross_app_access"], true, "PUT fills defaults");
    let made = client.call("POST", "", Some(json!({"name":"LOUD"}))).await;
    assert_eq!(made.body["name"], "loud");
    assert_eq!(client.call("POST", "", Some(json!({"name":"loud"}))).await.status, 201);
    for bad in [
        json!({"normalize":[{"action":"lowercase","field":"colour"}]}),
        json!({"unique":false}),
        json!({"features":{"teleport":true}}),
    ] {
        assert_eq!(
            admin(&emulator, "PATCH", &path, Some(bad.clone())).await.status,
            400,
            "{bad}"
        );
    }
    assert_eq!(admin(&emulator, "POST", "/reset", None).await.status, 204);
    assert_eq!(admin(&emulator, "GET", &path, None).await.body, read.body);
    assert_eq!(emulator.settings(DOMAIN), Some(TenantSettings::default()));
}

#[tokio::test]
async fn the_schema_is_served_for_the_sdk_model_check() {
    let (emulator, _client) = start_one().await;
    let schema = admin(&emulator, "GET", "/schema", None).await;
    assert_eq!(schema.status, 200);
    let paths: Vec<&str> = schema.body["connection_profile"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["path"].as_str())
        .collect();
    for wanted in [
        "name",
        "organization.assign_membership_on_login",
        "strategy_overrides.google-apps.provisioning.scim.tokens.scopes[]",
        "cross_app_access_resource_app.status.allowed_values[]",
    ] {
        assert!(paths.contains(&wanted), "{wanted} in {paths:?}");
    }
}

/// Issue 13: `directory_sync` and Google Workspace provisioning, top level and in overrides,
/// the latter behind its own flag.
#[tokio::test]
async fn directory_sync_and_google_workspace_are_stored_and_google_workspace_has_a_flag() {
    let (emulator, client) = start_one().await;
    let body = json!({"name":"gw","enabled_features":["directory_sync"],
        "provisioning":{"google_workspace":{"sync_users":true}},
        "strategy_overrides":{"google-apps":{"enabled_features":["directory_sync","scim"],
            "provisioning":{"google_workspace":{"sync_users":false}}}}});
    let created = client.call("POST", "", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    for key in ["enabled_features", "provisioning", "strategy_overrides"] {
        assert_eq!(created.body[key], body[key], "{key}");
    }
    let path = format!("/tenants/{DOMAIN}/settings");
    let off = admin(
        &emulator,
        "PATCH",
        &path,
        Some(json!({"features":{"google_workspace_provisioning":false}})),
    )
    .await;
    assert_eq!(off.status, 200);
    let refused: Value = serde_json::from_str(FEATURE_NOT_ENABLED).expect("json");
    for body in [
        json!({"name":"g2","provisioning":{"google_workspace":{"sync_users":true}}}),
        json!({"name":"g2","strategy_overrides":{"okta":{"provisioning":{"google_workspace":{"sync_users":false}}}}}),
    ] {
        let reply = client.call("POST", "", Some(body.clone())).await;
        assert_eq!((reply.status, &reply.body), (403, &refused), "{body}");
    }
    // SCIM provisioning and directory_sync need no Google Workspace flag.
    let scim = client
        .call(
            "POST",
            "",
            Some(json!({"name":"g3","enabled_features":["directory_sync"],"provisioning":{"scim":{"tokens":{"scopes":["get:users"]}}}})),
        )
        .await;
    assert_eq!(scim.status, 201, "{:?}", scim.body);
}
