//! `/api/v2/self-service-profiles` over real HTTP on 127.0.0.1: CRUD, offset paging, the
//! quota of 20, the closed schema (open `branding`), references to user attribute profiles,
//! custom text, scopes and the dashboard.

mod common;

use auth0_emulator::config::ALL_SCOPES;
use auth0_emulator::{Config, Emulator, TenantConfig};
use common::*;
use serde_json::{Value, json};

const SSP: &str = "/api/v2/self-service-profiles";
const UAP: &str = "/api/v2/user-attribute-profiles";
const ALL_STRATEGIES: [&str; 10] = [
    "oidc",
    "samlp",
    "waad",
    "google-apps",
    "adfs",
    "okta",
    "auth0-samlp",
    "okta-samlp",
    "keycloak-samlp",
    "pingfederate",
];

async fn start_full() -> (Emulator, Tenant) {
    let emulator = start(Config {
        tenants: vec![TenantConfig {
            domain: DOMAIN.into(),
            clients: vec![
                client("all", "all-secret", &ALL_SCOPES),
                client(
                    "crud-only",
                    "crud-secret",
                    &[
                        "read:self_service_profiles",
                        "create:self_service_profiles",
                        "update:self_service_profiles",
                        "delete:self_service_profiles",
                    ],
                ),
                client("reader", "reader-secret", &["read:self_service_profiles"]),
            ],
            ..TenantConfig::default()
        }],
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    (emulator, client)
}

async fn create(client: &Tenant, body: Value) -> Value {
    let reply = client.call_path("POST", SSP, Some(body)).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

fn is_iso_millis(value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    text.len() == 24 && text.ends_with('Z') && text.as_bytes()[10] == b'T' && text.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn create_get_update_delete_round_trip() {
    let (emulator, client) = start_full().await;
    let sent = json!({"name":"Acme SSO","description":"For Acme",
        "user_attributes":[{"name":"email","description":"Email","is_optional":false}],
        "allowed_strategies":["okta-samlp","oidc"],
        "branding":{"logo_url":"https://acme.example/logo.png","colors":{"primary":"#19aecc","secondary":"#fff"},"theme":"dark"}});
    let created = create(&client, sent.clone()).await;
    let id = created["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("ssp_") && id.len() == 26, "{id}");
    assert!(is_iso_millis(&created["created_at"]) && created["created_at"] == created["updated_at"]);
    for key in [
        "name",
        "description",
        "user_attributes",
        "allowed_strategies",
        "branding",
    ] {
        assert_eq!(
            created[key], sent[key],
            "{key} (branding is open: unknown keys are kept)"
        );
    }
    let one = format!("{SSP}/{id}");
    assert_eq!(client.call_path("GET", &one, None).await.body, created);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let patched = client
        .call_path(
            "PATCH",
            &one,
            Some(json!({"description":null,"branding":null,"user_attributes":null})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert!(patched.body.get("description").is_none() && patched.body.get("branding").is_none());
    assert_eq!(patched.body["user_attributes"], json!([]), "recorded: null is []");
    assert_eq!(patched.body["allowed_strategies"], sent["allowed_strategies"]);
    assert_eq!(patched.body["created_at"], created["created_at"]);
    assert_ne!(patched.body["updated_at"], created["updated_at"]);
    let unchanged = client.call_path("PATCH", &one, Some(json!({}))).await;
    assert_eq!(unchanged.status, 200, "an empty PATCH is valid");
    assert_eq!(emulator.self_service_profiles(DOMAIN).map(|all| all.len()), Some(1));

    assert_eq!(client.call_path("DELETE", &one, None).await.status, 204);
    let gone = client.call_path("GET", &one, None).await;
    assert_eq!(
        (gone.status, gone.body),
        (
            404,
            json!({"statusCode":404,"error":"Not Found","message":format!("Profile with ID: {id} not found")})
        )
    );
    assert_eq!(
        client.call_path("DELETE", &one, None).await.status,
        204,
        "recorded: idempotent"
    );
    assert_eq!(client.call_path("PATCH", &one, Some(json!({}))).await.status, 404);
    let malformed = client
        .call_path("GET", &format!("{SSP}/uap_1css47cCzXvXLC4pJ8KBaa"), None)
        .await;
    assert_eq!(
        (malformed.status, &malformed.body["errorCode"]),
        (400, &json!("invalid_uri"))
    );
}

#[tokio::test]
async fn a_bare_create_stores_every_strategy_and_no_optional_keys() {
    let (_emulator, client) = start_full().await;
    let created = create(&client, json!({"name":"bare"})).await;
    assert_eq!(created["allowed_strategies"], json!(ALL_STRATEGIES));
    assert_eq!(created["user_attributes"], json!([]));
    for key in ["description", "branding", "user_attribute_profile_id"] {
        assert!(created.get(key).is_none(), "{key}");
    }
}

#[tokio::test]
async fn twenty_per_tenant_and_names_may_repeat() {
    let (emulator, client) = start_full().await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(create(&client, json!({"name":"Same name"})).await["id"].clone());
    }
    let refused = client.call_path("POST", SSP, Some(json!({"name":"one more"}))).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            409,
            json!({"statusCode":409,"error":"Conflict","message":"No more profiles can be created for this tenant."})
        )
    );
    let dashboard = admin(
        &emulator,
        "POST",
        &format!("/tenants/{DOMAIN}/self-service-profiles"),
        Some(json!({"name":"d"})),
    )
    .await;
    assert_eq!(dashboard.status, 409, "the dashboard counts too");
    client
        .call_path("DELETE", &format!("{SSP}/{}", ids[3].as_str().expect("id")), None)
        .await;
    create(&client, json!({"name":"Same name"})).await;
}

#[tokio::test]
async fn offset_paging_in_creation_order_with_and_without_totals() {
    let (_emulator, client) = start_full().await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(create(&client, json!({"name": format!("p{i}")})).await["id"].clone());
    }
    let bare = client.call_path("GET", SSP, None).await;
    assert_eq!(bare.status, 200);
    let ids: Vec<Value> = bare
        .body
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, made, "creation order");
    let mut seen = Vec::new();
    for page in 0..4 {
        let reply = client
            .call_path(
                "GET",
                &format!("{SSP}?page={page}&per_page=3&include_totals=true"),
                None,
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            (&reply.body["start"], &reply.body["limit"], &reply.body["total"]),
            (&json!(page * 3), &json!(3), &json!(7))
        );
        let items = reply.body["self_service_profiles"].as_array().expect("items").clone();
        assert_eq!(items.len(), [3, 3, 1, 0][page], "page {page}: past the end is empty");
        seen.extend(items.iter().map(|p| p["id"].clone()));
    }
    assert_eq!(seen, made);
    let second = client
        .call_path("GET", &format!("{SSP}?page=1&per_page=3&include_totals=false"), None)
        .await;
    assert_eq!(second.body.as_array().map(Vec::len), Some(3));
    for query in ["per_page=0", "per_page=101", "page=-1", "include_totals=1", "take=5"] {
        let reply = client.call_path("GET", &format!("{SSP}?{query}"), None).await;
        assert_eq!(
            (reply.status, &reply.body["errorCode"]),
            (400, &json!("invalid_query_string")),
            "{query}"
        );
    }
}

#[tokio::test]
async fn the_closed_schema_and_its_limits() {
    let (_emulator, client) = start_full().await;
    let attribute = json!({"name":"a","description":"b","is_optional":true});
    for (body, wanted) in [
        (json!({}), "Missing required property: name"),
        (json!({"name":"x".repeat(101)}), "maximum 100"),
        (json!({"name":"x","description":"d".repeat(141)}), "maximum 140"),
        (
            json!({"name":"x","colour":"red"}),
            "Additional properties not allowed: colour",
        ),
        (
            json!({"name":"x","created_at":"2026-01-01T00:00:00.000Z"}),
            "Additional properties not allowed: created_at",
        ),
        (
            json!({"name":"x","allowed_strategies":[]}),
            "Array is too short (0), minimum 1",
        ),
        (
            json!({"name":"x","allowed_strategies":["github"]}),
            "No enum match for: \"github\"",
        ),
        (
            json!({"name":"x","user_attributes":vec![attribute.clone(); 21]}),
            "Array is too long (21), maximum 20",
        ),
        (
            json!({"name":"x","user_attributes":[{"name":"a","description":"b"}]}),
            "Missing required property: is_optional",
        ),
        (
            json!({"name":"x","user_attributes":[{"name":"n".repeat(251),"description":"b","is_optional":true}]}),
            "maximum 250",
        ),
        (
            json!({"name":"x","branding":{"logo_url":"http://insecure.example/logo.png"}}),
            "String does not match pattern: ^https://",
        ),
        (
            json!({"name":"x","branding":{"colors":{"primary":"red"}}}),
            "does not match pattern",
        ),
        (
            json!({"name":"x","branding":{"colors":{}}}),
            "Missing required property: primary",
        ),
    ] {
        let reply = client.call_path("POST", SSP, Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["errorCode"], "invalid_body");
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(wanted), "{body}: {message}");
    }
    create(&client, json!({"name":"x","user_attributes":vec![attribute; 20]})).await;
    let malformed = client.call_path("GET", "/api/v2/self-service-profiles/", None).await;
    assert_eq!(malformed.status, 200, "a trailing slash is the listing");
}

#[tokio::test]
async fn user_attribute_profile_references() {
    let (emulator, client) = start_full().await;
    let unknown = client
        .call_path(
            "POST",
            SSP,
            Some(json!({"name":"x","user_attribute_profile_id":"uap_1css47cCzXvXLC4pJ8KBaa"})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("User attribute profile not found"))
    );
    let uap = client
        .call_path(
            "POST",
            UAP,
            Some(json!({"name":"u","user_attributes":{"email":{"label":"E","description":"E","auth0_mapping":"email","profile_required":true}}})),
        )
        .await;
    let uap_id = uap.body["id"].as_str().expect("uap id");
    let attached = create(&client, json!({"name":"x","user_attribute_profile_id": uap_id})).await;
    assert_eq!(
        (&attached["user_attribute_profile_id"], &attached["user_attributes"]),
        (&json!(uap_id), &json!([])),
        "recorded"
    );
    let both = json!({"name":"y","user_attribute_profile_id": uap_id,
        "user_attributes":[{"name":"a","description":"b","is_optional":true}]});
    assert_eq!(
        client.call_path("POST", SSP, Some(both.clone())).await.status,
        400,
        "decided: exclusive"
    );
    let path = format!("{SSP}/{}", attached["id"].as_str().expect("id"));
    let detached = client
        .call_path("PATCH", &path, Some(json!({"user_attribute_profile_id":null})))
        .await;
    assert!(
        detached.body.get("user_attribute_profile_id").is_none(),
        "recorded: the key is gone"
    );
    admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/settings"),
        Some(json!({"exclusive_self_service_attributes":false})),
    )
    .await;
    let stored = create(&client, both).await;
    assert_eq!(stored["user_attributes"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn custom_text_get_put_reset_and_lifecycle() {
    let (_emulator, client) = start_full().await;
    let created = create(&client, json!({"name":"x"})).await;
    let id = created["id"].as_str().expect("id");
    let path = format!("{SSP}/{id}/custom-text/en/get-started");
    let empty = client.call_path("GET", &path, None).await;
    assert_eq!((empty.status, empty.body), (200, json!({})), "never set: {{}}");
    let text = json!({"introduction":"Welcome to <b>Acme</b>","footer":"Thanks"});
    let put = client.call_path("PUT", &path, Some(text.clone())).await;
    assert_eq!((put.status, &put.body), (200, &text));
    assert_eq!(client.call_path("GET", &path, None).await.body, text);
    let replaced = client.call_path("PUT", &path, Some(json!({"introduction":"Hi"}))).await;
    assert_eq!(
        replaced.body,
        json!({"introduction":"Hi"}),
        "a PUT replaces the whole map"
    );
    client
        .call_path("PATCH", &format!("{SSP}/{id}"), Some(json!({"name":"renamed"})))
        .await;
    assert_eq!(
        client.call_path("GET", &path, None).await.body,
        json!({"introduction":"Hi"}),
        "a PATCH keeps it"
    );
    let reset = client.call_path("PUT", &path, Some(json!({}))).await;
    assert_eq!((reset.status, reset.body), (200, json!({})));
    assert_eq!(client.call_path("GET", &path, None).await.body, json!({}));

    let too_long = client
        .call_path("PUT", &path, Some(json!({"introduction":"x".repeat(2001)})))
        .await;
    assert_eq!(
        (too_long.status, &too_long.body["errorCode"]),
        (400, &json!("invalid_body"))
    );
    for other in ["fr/get-started", "en/getStarted"] {
        let reply = client
            .call_path("GET", &format!("{SSP}/{id}/custom-text/{other}"), None)
            .await;
        assert_eq!(
            (reply.status, &reply.body["errorCode"]),
            (400, &json!("invalid_uri")),
            "{other}"
        );
    }
    client.call_path("PUT", &path, Some(json!({"introduction":"Hi"}))).await;
    client.call_path("DELETE", &format!("{SSP}/{id}"), None).await;
    let gone = client.call_path("GET", &path, None).await;
    assert_eq!(
        (gone.status, gone.body["message"].as_str()),
        (404, Some("Self-service profile not found."))
    );
    assert_eq!(client.call_path("PUT", &path, Some(json!({}))).await.status, 404);
}

#[tokio::test]
async fn scopes_are_checked_with_the_documented_wording() {
    let (emulator, client) = start_full().await;
    let created = create(&client, json!({"name":"x"})).await;
    let reader = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("reader", "reader-secret")
        .await;
    let refused = reader.call_path("POST", SSP, Some(json!({"name":"y"}))).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            403,
            json!({"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected: create:self_service_profiles.","errorCode":"insufficient_scope"})
        )
    );
    let crud = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("crud-only", "crud-secret")
        .await;
    let path = format!(
        "{SSP}/{}/custom-text/en/get-started",
        created["id"].as_str().expect("id")
    );
    for (method, scope) in [
        ("GET", "read:self_service_profile_custom_texts"),
        ("PUT", "update:self_service_profile_custom_texts"),
    ] {
        let reply = crud.call_path(method, &path, Some(json!({}))).await;
        assert_eq!(reply.status, 403, "{method}");
        assert_eq!(
            reply.body["message"],
            format!("Insufficient scope, expected any of: {scope}"),
            "custom text needs its own scopes"
        );
    }
    // The dashboard reads and edits without a token.
    let listed = admin(
        &emulator,
        "GET",
        &format!("/tenants/{DOMAIN}/self-service-profiles"),
        None,
    )
    .await;
    assert_eq!(listed.body, json!([created]));
    let tenants = admin(&emulator, "GET", "/tenants", None).await;
    assert_eq!(tenants.body[0]["self_service_profiles"], 1);
}
