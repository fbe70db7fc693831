//! `/api/v2/user-attribute-profiles` over real HTTP on 127.0.0.1: the seven endpoints,
//! checkpoint paging, the closed schema, names, templates, scopes, the feature flag, the
//! in-use rule, faults, counters and the state file.

mod common;

use std::time::Duration;

use auth0_emulator::config::ALL_SCOPES;
use auth0_emulator::{Config, Emulator, FaultRule, TenantConfig};
use common::*;
use serde_json::{Value, json};

const UAP: &str = "/api/v2/user-attribute-profiles";
const SSP: &str = "/api/v2/self-service-profiles";

fn full_tenant() -> TenantConfig {
    TenantConfig {
        domain: DOMAIN.into(),
        clients: vec![
            client("all", "all-secret", &ALL_SCOPES),
            client("cp-only", "cp-secret", &ALL),
            client(
                "uap-reader",
                "uap-secret",
                &["read:user_attribute_profiles", "read:self_service_profiles"],
            ),
        ],
        ..TenantConfig::default()
    }
}

async fn start_with(config: TenantConfig) -> (Emulator, Tenant) {
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

fn attribute(label: &str) -> Value {
    json!({"label": label, "description": format!("The {label}"), "auth0_mapping": "email", "profile_required": true})
}

fn body(name: &str) -> Value {
    json!({"name": name, "user_attributes": {"email": attribute("Email")}})
}

async fn create(client: &Tenant, name: &str) -> Value {
    let reply = client.call_path("POST", UAP, Some(body(name))).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

fn default_user_id() -> Value {
    json!({"oidc_mapping":"sub","saml_mapping":[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"],"scim_mapping":"externalId"})
}

#[tokio::test]
async fn create_get_update_delete_round_trip() {
    let (emulator, client) = start_with(full_tenant()).await;
    let created = create(&client, "Workforce").await;
    let id = created["id"].as_str().expect("id").to_string();
    assert!(
        id.starts_with("uap_") && id.len() == 26 && id[4..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    // Recorded: a create without user_id gets the default, no strategy_overrides.
    assert_eq!(
        created,
        json!({"id": id, "name":"Workforce","user_id": default_user_id(),"user_attributes":{"email": attribute("Email")}})
    );
    let one = format!("{UAP}/{id}");
    assert_eq!(client.call_path("GET", &one, None).await.body, created);

    // Recorded: a PATCH of user_id replaces it whole and fills the defaults; a PATCH of
    // user_attributes replaces the map; what the PATCH leaves out stays.
    let patched = client
        .call_path(
            "PATCH",
            &one,
            Some(json!({"user_id":{"scim_mapping":"userName"},"user_attributes":{"name": attribute("Name")}})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["name"], "Workforce");
    assert_eq!(patched.body["user_id"]["scim_mapping"], "userName");
    assert_eq!(
        patched.body["user_id"]["saml_mapping"],
        default_user_id()["saml_mapping"]
    );
    assert_eq!(patched.body["user_attributes"], json!({"name": attribute("Name")}));
    let reset = client.call_path("PATCH", &one, Some(json!({"user_id":{}}))).await;
    assert_eq!(
        reset.body["user_id"],
        default_user_id(),
        "user_id {{}} resets (recorded)"
    );
    assert_eq!(emulator.user_attribute_profiles(DOMAIN).map(|all| all.len()), Some(1));

    let deleted = client.call_path("DELETE", &one, None).await;
    assert_eq!((deleted.status, deleted.raw.is_empty()), (204, true));
    let gone = client.call_path("GET", &one, None).await;
    assert_eq!(
        (gone.status, gone.body),
        (
            404,
            json!({"statusCode":404,"error":"Not Found","message":"User attribute profile not found."})
        )
    );
    assert_eq!(
        client.call_path("DELETE", &one, None).await.status,
        204,
        "recorded: idempotent"
    );
    assert_eq!(client.call_path("PATCH", &one, Some(json!({}))).await.status, 404);
    for method in ["GET", "PATCH", "DELETE"] {
        let malformed = client
            .call_path(method, &format!("{UAP}/cop_1cu7Zs1Dfru5Qc9mZea7nm"), Some(json!({})))
            .await;
        assert_eq!(malformed.status, 400, "{method}");
        assert_eq!(malformed.body["errorCode"], "invalid_uri");
        assert!(
            malformed.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("^uap_[A-Za-z0-9]{22}$"))
        );
    }
}

async fn pages(client: &Tenant, take: Option<usize>) -> (Vec<usize>, Vec<String>) {
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let mut query = Vec::new();
        if let Some(take) = take {
            query.push(format!("take={take}"));
        }
        if let Some(from) = &from {
            query.push(format!("from={from}"));
        }
        let reply = client
            .call_path("GET", &format!("{UAP}?{}", query.join("&")), None)
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let page = reply.body["user_attribute_profiles"].as_array().expect("page").clone();
        sizes.push(page.len());
        seen.extend(page.iter().map(|p| p["id"].as_str().expect("id").to_string()));
        match reply.body.get("next").and_then(Value::as_str) {
            Some(next) => from = Some(next.to_string()),
            None => break,
        }
        assert!(sizes.len() < 100, "paging does not end");
    }
    (sizes, seen)
}

#[tokio::test]
async fn checkpoint_paging_in_id_order_with_the_recorded_last_page() {
    let (_emulator, client) = start_with(full_tenant()).await;
    let mut made = Vec::new();
    for i in 0..12 {
        made.push(
            create(&client, &format!("p{i:02}")).await["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    made.sort();
    let (sizes, seen) = pages(&client, None).await;
    assert_eq!(sizes, [5, 5, 2], "take defaults to 5");
    assert_eq!(seen, made, "id order, each once");
    let (sizes, _) = pages(&client, Some(4)).await;
    assert_eq!(
        sizes,
        [4, 4, 4, 0],
        "a full last page gets a next; the page after is empty"
    );
    let (sizes, _) = pages(&client, Some(100)).await;
    assert_eq!(sizes, [12]);
}

#[tokio::test]
async fn pages_hold_at_most_fifty_and_bad_queries_are_400() {
    let (emulator, client) = start_with(full_tenant()).await;
    for i in 0..51 {
        let reply = admin(
            &emulator,
            "POST",
            &format!("/tenants/{DOMAIN}/user-attribute-profiles"),
            Some(body(&format!("p{i}"))),
        )
        .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    let (sizes, seen) = pages(&client, Some(100)).await;
    assert_eq!(sizes, [50, 1], "take 51..=100 is served 50 a page (decided)");
    assert_eq!(seen.len(), 51);
    let cp_cursor = {
        for i in 0..2 {
            client.create(&format!("cp{i}")).await;
        }
        let listed = client.call("GET", "?take=1", None).await;
        listed.body["next"].as_str().expect("next").to_string()
    };
    for (query, property) in [
        ("take=0", "take"),
        ("take=101", "take"),
        ("take=x", "take"),
        ("from=garbage", "from"),
        (&*format!("from={cp_cursor}"), "from"),
        ("include_totals=true", ""),
    ] {
        let reply = client.call_path("GET", &format!("{UAP}?{query}"), None).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.body["errorCode"], "invalid_query_string", "{query}");
        assert!(
            reply.body["message"].as_str().is_some_and(|m| m.contains(property)),
            "{query}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_closed_schema_and_its_limits() {
    let (_emulator, client) = start_with(full_tenant()).await;
    let refused = |body: Value, wanted: &'static str| {
        let client = client.clone();
        async move {
            let reply = client.call_path("POST", UAP, Some(body.clone())).await;
            assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
            assert_eq!(reply.body["errorCode"], "invalid_body");
            let message = reply.body["message"].as_str().unwrap_or_default().to_string();
            assert!(message.contains(wanted), "{body}: {message}");
        }
    };
    refused(json!({"name":"x"}), "Missing required property: user_attributes").await;
    refused(
        json!({"user_attributes":{"a": attribute("A")}}),
        "Missing required property: name",
    )
    .await;
    refused(
        json!({"name":"x","user_attributes":{}}),
        "Too few properties defined (0), minimum 1",
    )
    .await;
    let many: serde_json::Map<String, Value> = (0..65).map(|i| (format!("a{i}"), attribute("A"))).collect();
    refused(
        json!({"name":"x","user_attributes": many}),
        "Too many properties defined (65), maximum 64",
    )
    .await;
    refused(
        json!({"name":"x".repeat(129),"user_attributes":{"a": attribute("A")}}),
        "maximum 128",
    )
    .await;
    refused(
        json!({"name":"x","user_attributes":{"k".repeat(51): attribute("A")}}),
        "is not 1 to 50 characters",
    )
    .await;
    refused(
        json!({"name":"x","colour":1,"user_attributes":{"a": attribute("A")}}),
        "Additional properties not allowed: colour",
    )
    .await;
    refused(
        json!({"id":"uap_1css47cCzXvXLC4pJ8KBaa","name":"x","user_attributes":{"a": attribute("A")}}),
        "Additional properties not allowed: id",
    )
    .await;
    refused(
        json!({"name":"x","user_attributes":{"a":{"label":"A"}}}),
        "Missing required property: description",
    )
    .await;
    let mut saml = attribute("A");
    saml["saml_mapping"] = json!(["a", "b", "c", "d"]);
    refused(
        json!({"name":"x","user_attributes":{"a": saml}}),
        "Array is too long (4), maximum 3",
    )
    .await;
    refused(
        json!({"name":"x","user_id":{"oidc_mapping":"email"},"user_attributes":{"a": attribute("A")}}),
        "No enum match for: \"email\"' on property user_id.oidc_mapping",
    )
    .await;
    // The asymmetry: in user_id overrides oidc_mapping is an enum, in attribute overrides an object.
    let mut overridden = attribute("A");
    overridden["strategy_overrides"] = json!({"waad":{"oidc_mapping":"oid"}});
    refused(
        json!({"name":"x","user_attributes":{"a": overridden}}),
        "Expected type object but found type string",
    )
    .await;
    refused(
        json!({"name":"x","user_id":{"strategy_overrides":{"github":{}}},"user_attributes":{"a": attribute("A")}}),
        "github",
    )
    .await;

    let mut full = attribute("A");
    full["oidc_mapping"] = json!({"mapping":"${context.tokenset.email}","display_name":"Mail"});
    full["saml_mapping"] = json!(["a", "b", "c"]);
    full["scim_mapping"] = json!("emails[primary eq true].value");
    full["strategy_overrides"] =
        json!({"okta":{"oidc_mapping":{"mapping":"email"},"saml_mapping":["x"],"scim_mapping":"userName"}});
    let accepted = json!({"name":"x","user_id":{"oidc_mapping":"sub","strategy_overrides":{"waad":{"oidc_mapping":"oid"},"google-apps":{"oidc_mapping":"email"}}},
        "user_attributes":{"a": full}});
    let reply = client.call_path("POST", UAP, Some(accepted.clone())).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["user_attributes"], accepted["user_attributes"]);
    assert_eq!(
        reply.body["user_id"]["strategy_overrides"],
        accepted["user_id"]["strategy_overrides"]
    );
    let id = reply.body["id"].as_str().expect("id");
    let patch = client
        .call_path("PATCH", &format!("{UAP}/{id}"), Some(json!({"user_attributes":null})))
        .await;
    assert_eq!(patch.status, 400, "user_attributes cannot be null");
}

#[tokio::test]
async fn names_are_unique_unless_the_tenant_says_otherwise() {
    let (emulator, client) = start_with(full_tenant()).await;
    create(&client, "taken").await;
    let other = create(&client, "other").await;
    let conflict = client.call_path("POST", UAP, Some(body("taken"))).await;
    assert_eq!(
        (conflict.status, conflict.body),
        (
            409,
            json!({"statusCode":409,"error":"Conflict","message":"User attribute profile conflict."})
        )
    );
    let rename = format!("{UAP}/{}", other["id"].as_str().expect("id"));
    assert_eq!(
        client
            .call_path("PATCH", &rename, Some(json!({"name":"taken"})))
            .await
            .status,
        409
    );
    assert_eq!(
        client
            .call_path("PATCH", &rename, Some(json!({"name":"other"})))
            .await
            .status,
        200,
        "its own name"
    );
    // A connection profile of the same name is another namespace.
    assert_eq!(client.call("POST", "", Some(json!({"name":"taken"}))).await.status, 201);
    let settings = admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/settings"),
        Some(json!({"unique_names":false})),
    )
    .await;
    assert_eq!(settings.status, 200);
    assert_eq!(client.call_path("POST", UAP, Some(body("taken"))).await.status, 201);
    assert_eq!(
        client
            .call_path("PATCH", &rename, Some(json!({"name":"taken"})))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn templates_list_get_and_create_from_one() {
    let (_emulator, client) = start_with(full_tenant()).await;
    let listed = client.call_path("GET", &format!("{UAP}/templates"), None).await;
    assert_eq!(listed.status, 200);
    let templates = listed.body["user_attribute_profile_templates"]
        .as_array()
        .expect("templates")
        .clone();
    assert_eq!(templates[0]["id"], "auth0-generic");
    assert_eq!(
        templates[0]["display_name"],
        "Auth0 Generic User Attribute Profile Template"
    );
    let one = client
        .call_path("GET", &format!("{UAP}/templates/auth0-generic"), None)
        .await;
    assert_eq!(one.body, templates[0]);
    let missing = client.call_path("GET", &format!("{UAP}/templates/nope"), None).await;
    assert_eq!(
        (missing.status, missing.body["message"].as_str()),
        (404, Some("User attribute profile template not found."))
    );
    let created = client.call_path("POST", UAP, Some(one.body["template"].clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["user_id"], one.body["template"]["user_id"]);
}

#[tokio::test]
async fn scopes_the_feature_flag_and_entitlement() {
    let (emulator, client) = start_with(full_tenant()).await;
    let cp_only = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("cp-only", "cp-secret")
        .await;
    let reply = cp_only.call_path("GET", UAP, None).await;
    assert_eq!(
        (reply.status, reply.body),
        (
            403,
            json!({"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:user_attribute_profiles","errorCode":"insufficient_scope"})
        )
    );
    let reader = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("uap-reader", "uap-secret")
        .await;
    assert_eq!(reader.call_path("GET", UAP, None).await.status, 200);
    for (method, path, scope) in [
        ("POST", UAP.to_string(), "create:user_attribute_profiles"),
        (
            "PATCH",
            format!("{UAP}/uap_1css47cCzXvXLC4pJ8KBaa"),
            "update:user_attribute_profiles",
        ),
        (
            "DELETE",
            format!("{UAP}/uap_1css47cCzXvXLC4pJ8KBaa"),
            "delete:user_attribute_profiles",
        ),
    ] {
        let reply = reader.call_path(method, &path, Some(body("x"))).await;
        assert_eq!(reply.status, 403, "{method}");
        assert!(
            reply.body["message"].as_str().is_some_and(|m| m.ends_with(scope)),
            "{:?}",
            reply.body
        );
    }

    // Entitlement is the connection profiles' alone.
    admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/entitlement"),
        Some(json!({"entitled":false})),
    )
    .await;
    assert_eq!(client.call("GET", "", None).await.status, 403);
    assert_eq!(client.call_path("GET", UAP, None).await.status, 200);

    // The early-access flag off: every endpoint 403 feature_not_enabled; the dashboard still writes.
    admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/settings"),
        Some(json!({"user_attribute_profiles":false})),
    )
    .await;
    for (method, path) in [
        ("GET", UAP.to_string()),
        ("POST", UAP.to_string()),
        ("GET", format!("{UAP}/templates")),
    ] {
        let reply = client.call_path(method, &path, Some(body("x"))).await;
        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.body["errorCode"], "feature_not_enabled");
    }
    let seeded = admin(
        &emulator,
        "POST",
        &format!("/tenants/{DOMAIN}/user-attribute-profiles"),
        Some(body("seeded")),
    )
    .await;
    assert_eq!(seeded.status, 201);
}

#[tokio::test]
async fn deleting_a_profile_a_self_service_profile_uses_is_409_unless_the_tenant_allows_it() {
    let (emulator, client) = start_with(full_tenant()).await;
    let uap = create(&client, "used").await;
    let uap_id = uap["id"].as_str().expect("id");
    let ssp = client
        .call_path(
            "POST",
            SSP,
            Some(json!({"name":"sso","user_attribute_profile_id": uap_id})),
        )
        .await;
    assert_eq!(ssp.status, 201, "{:?}", ssp.body);
    let refused = client.call_path("DELETE", &format!("{UAP}/{uap_id}"), None).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            409,
            json!({"statusCode":409,"error":"Conflict","message":"User attribute profile is in use."})
        )
    );
    // Detached, it goes.
    let ssp_path = format!("{SSP}/{}", ssp.body["id"].as_str().expect("id"));
    client
        .call_path("PATCH", &ssp_path, Some(json!({"user_attribute_profile_id":null})))
        .await;
    assert_eq!(
        client
            .call_path("DELETE", &format!("{UAP}/{uap_id}"), None)
            .await
            .status,
        204
    );

    // A tenant that lets it go leaves the self-service profile with a dangling id.
    let other = create(&client, "other").await;
    let other_id = other["id"].as_str().expect("id");
    client
        .call_path("PATCH", &ssp_path, Some(json!({"user_attribute_profile_id": other_id})))
        .await;
    admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/settings"),
        Some(json!({"refuse_delete_in_use":false})),
    )
    .await;
    assert_eq!(
        client
            .call_path("DELETE", &format!("{UAP}/{other_id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        client.call_path("GET", &ssp_path, None).await.body["user_attribute_profile_id"],
        other_id
    );
}

#[tokio::test]
async fn faults_counters_the_log_and_rate_limit_headers_apply() {
    let (emulator, client) = start_with(full_tenant()).await;
    let rule = FaultRule {
        endpoint: Some(auth0_emulator::Endpoint::CreateUserAttributeProfile),
        status: Some(503),
        times: Some(1),
        ..FaultRule::default()
    };
    assert!(emulator.set_faults(DOMAIN, vec![rule]));
    let failed = client.call_path("POST", UAP, Some(body("x"))).await;
    assert_eq!(failed.status, 503);
    assert!(failed.header("x-ratelimit-limit").is_some());
    create(&client, "x").await;
    let counters = admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/counters"), None).await;
    assert_eq!(counters.body["create_user_attribute_profile"], json!({"201":1,"503":1}));
    let log = emulator.requests(DOMAIN).expect("log");
    assert!(log.iter().any(|e| e.path == UAP && e.status == 503));

    // repeat_cursor applies to this checkpoint listing too.
    create(&client, "y").await;
    let repeat = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!([{"endpoint":"list_user_attribute_profiles","repeat_cursor":true}])),
    )
    .await;
    assert_eq!(repeat.status, 200, "{:?}", repeat.body);
    let first = client.call_path("GET", &format!("{UAP}?take=1"), None).await;
    let next = first.body["next"].as_str().expect("next").to_string();
    let second = client
        .call_path("GET", &format!("{UAP}?take=1&from={next}"), None)
        .await;
    assert_eq!(second.body["next"], next.as_str());
    let refused = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!([{"endpoint":"list_self_service_profiles","repeat_cursor":true}])),
    )
    .await;
    assert_eq!(refused.status, 400, "offset listings have no cursor");
}

#[tokio::test]
async fn the_state_file_keeps_both_kinds_and_the_custom_text() {
    let state = std::env::temp_dir().join(format!("emu-{}-state.json", auth0_emulator::random::base62(10)));
    let config = || Config {
        tenants: vec![full_tenant()],
        state_file: Some(state.clone()),
        ..Config::default()
    };
    let first = start(config()).await;
    let client = Tenant::new(first.api_addr(), DOMAIN).login("all", "all-secret").await;
    let uap = create(&client, "kept").await;
    let ssp = client
        .call_path(
            "POST",
            SSP,
            Some(json!({"name":"sso","user_attribute_profile_id": uap["id"]})),
        )
        .await
        .body;
    let text_path = format!("{SSP}/{}/custom-text/en/get-started", ssp["id"].as_str().expect("id"));
    let text = json!({"introduction":"Welcome"});
    assert_eq!(
        client.call_path("PUT", &text_path, Some(text.clone())).await.status,
        200
    );
    first.shutdown().await.expect("saved");

    let second = start(config()).await;
    let again = Tenant {
        addr: second.api_addr(),
        ..client
    };
    assert_eq!(
        again.call_path("GET", UAP, None).await.body["user_attribute_profiles"],
        json!([uap])
    );
    assert_eq!(again.call_path("GET", SSP, None).await.body, json!([ssp]));
    assert_eq!(again.call_path("GET", &text_path, None).await.body, text);
    tokio::time::sleep(Duration::from_millis(10)).await;
    second.shutdown().await.expect("saved");
    std::fs::remove_file(&state).ok();
}

#[tokio::test]
async fn form_encoded_bodies_are_refused_as_for_connection_profiles() {
    let (_emulator, client) = start_with(full_tenant()).await;
    let bearer = format!("Bearer {}", client.token.as_deref().unwrap_or_default());
    for path in [UAP, "/api/v2/self-service-profiles"] {
        let reply = send(
            client.addr,
            "POST",
            path,
            DOMAIN,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &bearer),
            ],
            b"name=x".to_vec(),
        )
        .await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(reply.body["message"], "Invalid request payload JSON format", "{path}");
    }
}
