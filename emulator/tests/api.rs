//! The tenant API over real HTTP on 127.0.0.1: tokens, the seven endpoints, validation,
//! pagination, scopes, entitlement, rate limits, several tenants.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use auth0_emulator::{Config, RateLimitConfig, TenantConfig};
use common::*;
use serde_json::{Value, json};

fn audience(host: &str) -> String {
    format!("https://{host}/api/v2/")
}

#[tokio::test]
async fn token_by_form_and_json_with_scopes_and_default_lifetime() {
    let (emulator, _) = start_one().await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN);
    let aud = audience(DOMAIN);
    let form = client
        .token_reply(&[
            ("grant_type", "client_credentials"),
            ("client_id", "reader"),
            ("client_secret", "reader-secret"),
            ("audience", &aud),
        ])
        .await;
    assert_eq!(form.status, 200, "{:?}", form.body);
    assert_eq!(form.body["token_type"], "Bearer");
    assert_eq!(form.body["expires_in"], 86400);
    assert_eq!(form.body["scope"], "read:connection_profiles");
    assert_eq!(
        form.body["access_token"].as_str().map(|t| t.split('.').count()),
        Some(3)
    );

    let json_body =
        json!({"grant_type":"client_credentials","client_id":"all","client_secret":"all-secret","audience":aud});
    let reply = send(
        emulator.api_addr(),
        "POST",
        "/oauth/token",
        DOMAIN,
        &[("content-type", "application/json")],
        json_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["scope"], ALL.join(" "));

    // A requested scope narrows the grant.
    let narrowed = client
        .token_reply(&[
            ("grant_type", "client_credentials"),
            ("client_id", "all"),
            ("client_secret", "all-secret"),
            ("audience", &aud),
            ("scope", "delete:connection_profiles read:users"),
        ])
        .await;
    assert_eq!(narrowed.body["scope"], "delete:connection_profiles");
}

#[tokio::test]
async fn token_errors_bad_credentials_audience_and_grant() {
    let (emulator, _) = start_one().await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN);
    let aud = audience(DOMAIN);
    for (id, secret) in [("all", "wrong"), ("nobody", "all-secret"), ("all", "")] {
        let reply = client
            .token_reply(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("audience", &aud),
            ])
            .await;
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.body,
            json!({"error":"access_denied","error_description":"Unauthorized"})
        );
    }
    let reply = client
        .token_reply(&[
            ("grant_type", "client_credentials"),
            ("client_id", "all"),
            ("client_secret", "all-secret"),
            ("audience", "https://other.auth0.local/api/v2/"),
        ])
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "access_denied");
    let reply = client
        .token_reply(&[
            ("grant_type", "password"),
            ("client_id", "all"),
            ("client_secret", "all-secret"),
            ("audience", &aud),
        ])
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "unsupported_grant_type");
    let reply = client.token_reply(&[("client_id", "all")]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"], "invalid_request");
    let log = emulator.requests(DOMAIN).expect("tenant");
    assert!(log.iter().all(|entry| entry.path == "/oauth/token"));
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401() {
    let emulator = start(Config {
        tenants: vec![tenant(DOMAIN)],
        token_lifetime_secs: 2,
        ..Config::default()
    })
    .await;
    let anonymous = Tenant::new(emulator.api_addr(), DOMAIN);
    let reply = anonymous.call("GET", "", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        json!({"statusCode":401,"error":"Unauthorized","message":"Missing authentication"})
    );
    let forged = Tenant {
        token: Some("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl".into()),
        ..anonymous.clone()
    };
    let reply = forged.call("GET", "", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["message"], "Invalid token.");

    let client = anonymous.login("all", "all-secret").await;
    // `exp` is whole seconds, so a 2 s token is valid for at least 1 s after it was issued.
    assert_eq!(client.call("GET", "", None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let reply = client.call("GET", "", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body["message"],
        "Expired token received for JSON Web Token validation"
    );
}

#[tokio::test]
async fn create_get_update_delete_round_trip() {
    let (_emulator, client) = start_one().await;
    let body = json!({"name":"Test-Profile-X","organization":{"show_as_button":"optional","assign_membership_on_login":"required"},
        "connection_name_prefix_template":"template1","enabled_features":["scim","universal_logout"],"connection_config":{}});
    let created = client.call("POST", "", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.header("content-type"), Some("application/json; charset=utf-8"));
    let id = created.body["id"].as_str().expect("id").to_string();
    assert!(
        id.starts_with("cop_") && id.len() == 26 && id[4..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    let mut expected = body.as_object().expect("object").clone();
    expected.insert("id".into(), json!(id));
    // An unset strategy_overrides is left out, as in the later recordings.
    assert_eq!(created.body, Value::Object(expected.clone()));

    let fetched = client.call("GET", &format!("/{id}"), None).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, created.body);

    let patched = client.call("PATCH", &format!("/{id}"), Some(json!({"organization":{"show_as_button":"none"},"strategy_overrides":{"okta":{"enabled_features":["scim"]}}}))).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["name"], "Test-Profile-X", "omitted fields stay");
    assert_eq!(
        patched.body["organization"],
        json!({"show_as_button":"none"}),
        "a sent nested object replaces the stored one"
    );
    assert_eq!(
        patched.body["strategy_overrides"],
        json!({"okta":{"enabled_features":["scim"]}})
    );
    let cleared = client
        .call("PATCH", &format!("/{id}"), Some(json!({"strategy_overrides":null})))
        .await;
    assert_eq!(cleared.body.get("strategy_overrides"), None);
    assert_eq!(client.call("GET", &format!("/{id}"), None).await.body, cleared.body);

    let deleted = client.call("DELETE", &format!("/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.raw.is_empty());
    let gone = client.call("GET", &format!("/{id}"), None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body,
        json!({"statusCode":404,"error":"Not Found","message":"Connection profile not found."})
    );
    assert_eq!(client.call("DELETE", &format!("/{id}"), None).await.status, 404);
    assert_eq!(
        client.call("PATCH", &format!("/{id}"), Some(json!({}))).await.status,
        404
    );
}

#[tokio::test]
async fn malformed_ids_are_invalid_uri() {
    let (_emulator, client) = start_one().await;
    for (method, body) in [("GET", None), ("PATCH", Some(json!({}))), ("DELETE", None)] {
        let reply = client.call(method, "/cop_short", body).await;
        assert_eq!(reply.status, 400, "{method}");
        assert_eq!(reply.body["errorCode"], "invalid_uri");
    }
}

#[tokio::test]
async fn names_are_unique_per_tenant() {
    let (_emulator, client) = start_one().await;
    let first = client.create("taken").await;
    let other = client.create("other").await;
    let reply = client.call("POST", "", Some(json!({"name":"taken"}))).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.body,
        json!({"statusCode":409,"error":"Conflict","message":"Connection profile conflict."})
    );
    let other_id = other["id"].as_str().expect("id");
    let rename = client
        .call("PATCH", &format!("/{other_id}"), Some(json!({"name":"taken"})))
        .await;
    assert_eq!(rename.status, 409);
    let first_id = first["id"].as_str().expect("id");
    assert_eq!(
        client
            .call("PATCH", &format!("/{first_id}"), Some(json!({"name":"taken"})))
            .await
            .status,
        200,
        "keeping one's own name"
    );
    assert_eq!(
        client
            .call("PATCH", &format!("/{first_id}"), Some(json!({"name":"renamed"})))
            .await
            .status,
        200
    );
    assert_eq!(
        client.call("POST", "", Some(json!({"name":"taken"}))).await.status,
        201,
        "a freed name can be reused"
    );
}

#[tokio::test]
async fn bad_bodies_get_auth0_shaped_400_and_413() {
    let (emulator, client) = start_one().await;
    let unknown = client.call("POST", "", Some(json!({"name":"a","colour":"red"}))).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.body,
        json!({"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Additional properties not allowed: colour'.","errorCode":"invalid_body"})
    );
    let long = client
        .call(
            "POST",
            "",
            Some(json!({"name":"a","connection_name_prefix_template":"x".repeat(23)})),
        )
        .await;
    assert_eq!(
        long.body["message"],
        "Payload validation error: 'String is too long (23 chars), maximum 15' on property connection_name_prefix_template."
    );
    let wrong_type = client
        .call(
            "PATCH",
            "/cop_1cu7Zs1Dfru5Qc9mZea7nm",
            Some(json!({"enabled_features":"scim"})),
        )
        .await;
    assert_eq!(wrong_type.status, 400, "validation comes before the lookup");
    assert_eq!(
        wrong_type.body["message"],
        "Payload validation error: 'Expected type array but found type string' on property enabled_features."
    );
    let missing = client.call("POST", "", Some(json!({}))).await;
    assert_eq!(
        missing.body["message"],
        "Payload validation error: 'Missing required property: name'."
    );

    for garbage in [&b"{\"name\":"[..], b"not json", b"\xff\xfe", b"[1,2"] {
        let reply = client.raw("POST", "", garbage.to_vec()).await.expect("answer");
        assert_eq!(reply.status, 400, "{garbage:?}");
        assert_eq!(reply.body["message"], "Invalid request payload JSON format");
    }
    let empty = client.raw("POST", "", Vec::new()).await.expect("answer");
    assert_eq!(
        empty.body["message"],
        "Payload validation error: 'Expected type object but found type null'."
    );

    let huge = json!({"name": "x".repeat(1024 * 1024)}).to_string().into_bytes();
    let reply = client.raw("POST", "", huge).await.expect("answer");
    assert_eq!(reply.status, 413);
    assert_eq!(reply.body["statusCode"], 413);
    assert_eq!(reply.body["error"], "Payload Too Large");
    // Just under the limit is read and validated (and refused for its length, not its size).
    let under = json!({"name": "x".repeat(1024 * 1024 - 20)}).to_string().into_bytes();
    assert_eq!(client.raw("POST", "", under).await.expect("answer").status, 400);
    assert!(emulator.profiles(DOMAIN).expect("tenant").is_empty());
}

#[tokio::test]
async fn paging_through_25_profiles_with_concurrent_changes() {
    let (_emulator, client) = start_one().await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(
            client.create(&format!("profile-{i:02}")).await["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    ids.sort();
    let first = client.call("GET", "?take=10", None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["connection_profiles"].as_array().map(Vec::len), Some(10));
    let default_take = client.call("GET", "", None).await;
    assert_eq!(
        default_take.body["connection_profiles"].as_array().map(Vec::len),
        Some(5)
    );

    // Page through while profiles are created and deleted between the pages: every profile
    // that existed for the whole listing is seen exactly once.
    let doomed: Vec<String> = ids.iter().step_by(6).cloned().collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(next) => format!(
                "?take=10&from={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
            None => "?take=10".to_string(),
        };
        let page = client.call("GET", &query, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        pages += 1;
        for profile in page.body["connection_profiles"].as_array().expect("array") {
            seen.push(profile["id"].as_str().expect("id").to_string());
        }
        client.create(&format!("added-during-page-{pages}")).await;
        if let Some(id) = doomed.get(pages - 1) {
            client.call("DELETE", &format!("/{id}"), None).await;
        }
        match page.body.get("next").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 20, "listing does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no profile repeated");
    for id in ids.iter().filter(|id| !doomed.contains(id)) {
        assert!(unique.contains(id), "{id} existed throughout but was skipped");
    }
}

/// Recorded from real tenants: a full page gets `next` (Auth0 does not look ahead), so a
/// listing of exactly 20 ends with `{"connection_profiles":[]}` and no `next` key. Decided:
/// `take` 11..=50 (the SDKs' default 50) is served 10 a page.
#[tokio::test]
async fn a_full_last_page_is_followed_by_an_empty_one_and_take_50_pages_by_ten() {
    let (_emulator, client) = start_one().await;
    for i in 0..20 {
        client.create(&format!("p{i:02}")).await;
    }
    let mut query = "?take=50".to_string();
    let mut sizes = Vec::new();
    loop {
        let page = client.call("GET", &query, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        sizes.push(page.body["connection_profiles"].as_array().map(Vec::len));
        match page.body.get("next").and_then(Value::as_str) {
            Some(next) => {
                query = format!(
                    "?take=50&from={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                )
            }
            None => {
                assert_eq!(page.body, json!({"connection_profiles": []}), "the recorded last page");
                break;
            }
        }
        assert!(sizes.len() < 10, "listing does not end");
    }
    assert_eq!(sizes, [Some(10), Some(10), Some(0)]);
}

/// Recorded from real tenants: a create that leaves fields out is answered with Auth0's
/// defaults for them, and `connection_config: null`.
#[tokio::test]
async fn a_create_without_optional_fields_gets_the_recorded_defaults() {
    let (_emulator, client) = start_one().await;
    let created = client.call("POST", "", Some(json!({"name":"bare"}))).await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        created.body,
        json!({"id": id, "name": "bare",
            "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
            "enabled_features": ["scim", "universal_logout"],
            "connection_config": null})
    );
    // PATCH replaces a nested object whole and null clears it.
    let patched = client
        .call(
            "PATCH",
            &format!("/{id}"),
            Some(json!({"organization":{"show_as_button":"optional"}})),
        )
        .await;
    assert_eq!(patched.body["organization"], json!({"show_as_button":"optional"}));
    let cleared = client
        .call(
            "PATCH",
            &format!("/{id}"),
            Some(json!({"organization":null,"connection_config":null})),
        )
        .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(cleared.body.get("organization"), None);
    assert_eq!(cleared.body["connection_config"], Value::Null);
}

#[tokio::test]
async fn list_query_is_validated() {
    let (emulator, client) = start_one().await;
    for query in [
        "?take=0",
        "?take=51",
        "?take=abc",
        "?take=-1",
        "?from=bogus",
        "?per_page=5",
    ] {
        let reply = client.call("GET", query, None).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.body["errorCode"], "invalid_query_string", "{query}");
    }
    assert_eq!(
        client.call("GET", "?take=51", None).await.body["message"],
        "Query validation error: 'Value 51 is greater than maximum 50' on property take."
    );
    for i in 0..3 {
        client.create(&format!("p{i}")).await;
    }
    let page = client.call("GET", "?take=1", None).await;
    let next = page.body["next"].as_str().expect("next").to_string();
    // A cursor is bound to the tenant that made it.
    let other = start(Config {
        tenants: vec![tenant("b.auth0.local")],
        ..Config::default()
    })
    .await;
    let other_client = Tenant::new(other.api_addr(), "b.auth0.local")
        .login("all", "all-secret")
        .await;
    assert_eq!(
        other_client.call("GET", &format!("?from={next}"), None).await.status,
        400
    );
    let last = client.call("GET", "?take=10", None).await;
    assert!(last.body.get("next").is_none(), "no next on the last page");
    drop(emulator);
}

#[tokio::test]
async fn each_endpoint_demands_its_scope() {
    let (emulator, writer) = start_one().await;
    let id = writer.create("p").await["id"].as_str().expect("id").to_string();
    let reader = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("reader", "reader-secret")
        .await;
    for (method, path, body) in [
        ("GET", String::new(), None),
        ("GET", format!("/{id}"), None),
        ("GET", "/templates".into(), None),
    ] {
        assert_eq!(reader.call(method, &path, body).await.status, 200, "{method} {path}");
    }
    for (method, path, body, scope) in [
        (
            "POST",
            String::new(),
            Some(json!({"name":"q"})),
            "create:connection_profiles",
        ),
        ("PATCH", format!("/{id}"), Some(json!({})), "update:connection_profiles"),
        ("DELETE", format!("/{id}"), None, "delete:connection_profiles"),
    ] {
        let reply = reader.call(method, &path, body).await;
        assert_eq!(reply.status, 403, "{method}");
        assert_eq!(reply.body["errorCode"], "insufficient_scope");
        assert!(
            reply.body["message"].as_str().expect("message").contains(scope),
            "{:?}",
            reply.body
        );
    }
    let config = Config {
        tenants: vec![TenantConfig {
            clients: vec![client("none", "s", &[])],
            ..tenant(DOMAIN)
        }],
        ..Config::default()
    };
    let ungranted = start(config).await;
    let reply = Tenant::new(ungranted.api_addr(), DOMAIN)
        .token_reply(&[
            ("grant_type", "client_credentials"),
            ("client_id", "none"),
            ("client_secret", "s"),
            ("audience", &audience(DOMAIN)),
        ])
        .await;
    assert_eq!(reply.status, 403, "no client grant");
}

#[tokio::test]
async fn an_unentitled_tenant_answers_403_everywhere() {
    let config = Config {
        tenants: vec![TenantConfig {
            entitled: false,
            ..tenant(DOMAIN)
        }],
        ..Config::default()
    };
    let emulator = start(config).await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    for (method, path) in [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/templates"),
        ("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm"),
    ] {
        let reply = client.call(method, path, Some(json!({"name":"x"}))).await;
        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.body["errorCode"], "insufficient_entitlement");
    }
    assert!(emulator.set_entitled(DOMAIN, true));
    assert_eq!(client.call("GET", "", None).await.status, 200);
}

#[tokio::test]
async fn templates_list_and_get() {
    let (_emulator, client) = start_one().await;
    let list = client.call("GET", "/templates", None).await;
    assert_eq!(list.status, 200);
    let templates = list.body["connection_profile_templates"]
        .as_array()
        .expect("array")
        .clone();
    assert!(!templates.is_empty());
    let first = &templates[0];
    let id = first["id"].as_str().expect("id");
    let one = client.call("GET", &format!("/templates/{id}"), None).await;
    assert_eq!(one.status, 200);
    assert_eq!(&one.body, first);
    assert_eq!(client.call("GET", "/templates/cpt_unknown", None).await.status, 404);
    // A template's body is a valid create body as-is (what Okta Express Configuration does).
    let created = client.call("POST", "", Some(first["template"].clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
}

#[tokio::test]
async fn a_templates_file_replaces_the_catalogue() {
    let path = std::env::temp_dir().join(format!("emu-templates-{}.json", auth0_emulator::random::base62(8)));
    std::fs::write(
        &path,
        r#"[{"id":"cpt_mine","display_name":"Mine","template":{"name":"Mine","enabled_features":["scim"]}}]"#,
    )
    .expect("write");
    let emulator = start(Config {
        tenants: vec![tenant(DOMAIN)],
        templates_file: Some(path.clone()),
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    let list = client.call("GET", "/templates", None).await;
    assert_eq!(
        list.body,
        json!({"connection_profile_templates":[{"id":"cpt_mine","display_name":"Mine","template":{"name":"Mine","enabled_features":["scim"]}}]})
    );
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let config = Config {
        tenants: vec![TenantConfig {
            rate_limit: Some(RateLimitConfig {
                burst: 3,
                per_second: 0.05,
            }),
            ..tenant(DOMAIN)
        }],
        ..Config::default()
    };
    let emulator = start(config).await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = client.call("GET", "", None).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header_u64("x-ratelimit-limit"), 3);
        remaining.push(reply.header_u64("x-ratelimit-remaining"));
    }
    assert_eq!(remaining, [2, 1, 0]);
    let limited = client.call("POST", "", Some(json!({"name":"x"}))).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.body,
        json!({"statusCode":429,"error":"Too Many Requests","message":"Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers."})
    );
    assert_eq!(limited.header_u64("x-ratelimit-remaining"), 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let reset = limited.header_u64("x-ratelimit-reset");
    assert!(reset > now && reset <= now + 21, "reset {reset} vs now {now}");
    assert!(
        emulator.profiles(DOMAIN).expect("tenant").is_empty(),
        "a limited request does nothing"
    );
    // Errors carry the headers too, and the limit can be lifted at run time.
    let lifted = admin(&emulator, "DELETE", &format!("/tenants/{DOMAIN}/rate-limit"), None).await;
    assert_eq!(lifted.status, 204);
    let reply = client.call("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await;
    assert_eq!(reply.status, 404);
    assert!(reply.header("x-ratelimit-limit").is_some());
    let set = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/rate-limit"),
        Some(json!({"burst":1,"per_second":0.01})),
    )
    .await;
    assert_eq!(set.status, 200);
    assert_eq!(client.call("GET", "", None).await.status, 200);
    assert_eq!(client.call("GET", "", None).await.status, 429);
}

#[tokio::test]
async fn tenants_by_host_header_and_own_port_are_separate() {
    let config = Config {
        tenants: vec![
            tenant("a.auth0.local"),
            TenantConfig {
                port: Some(0),
                ..tenant("b.auth0.local")
            },
        ],
        ..Config::default()
    };
    let emulator = start(config).await;
    let a = Tenant::new(emulator.api_addr(), "a.auth0.local")
        .login("all", "all-secret")
        .await;
    let b = Tenant::new(emulator.api_addr(), "b.auth0.local:443")
        .login("all", "all-secret")
        .await;
    a.create("same-name").await;
    b.create("same-name").await;
    a.create("only-a").await;
    assert_eq!(emulator.profiles("a.auth0.local").map(|p| p.len()), Some(2));
    assert_eq!(emulator.profiles("b.auth0.local").map(|p| p.len()), Some(1));
    // A token of one tenant is refused by another.
    let crossed = Tenant {
        token: a.token.clone(),
        ..b.clone()
    };
    assert_eq!(crossed.call("GET", "", None).await.status, 401);
    // An unknown host on the shared port is not silently mapped to some tenant.
    let stranger = send(
        emulator.api_addr(),
        "GET",
        "/api/v2/connection-profiles",
        "c.auth0.local",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(stranger.status, 404);
    // b's own port serves b whatever the Host header says.
    let url = emulator.tenant_url("b.auth0.local").expect("b");
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("addr");
    assert_ne!(addr, emulator.api_addr());
    let own = Tenant {
        addr,
        host: "127.0.0.1".into(),
        token: b.token.clone(),
    };
    let listed = own.call("GET", "", None).await;
    assert_eq!(listed.body["connection_profiles"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let (_emulator, client) = start_one().await;
    let reply = send(client.addr, "GET", "/api/v2/clients", DOMAIN, &[], Vec::new()).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["statusCode"], 404);
    assert_eq!(
        client
            .call("PUT", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", Some(json!({})))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn concurrent_creates_of_one_name_make_exactly_one_profile() {
    let (emulator, client) = start_one().await;
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call("POST", "", Some(json!({"name":"race"}))).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    assert_eq!(emulator.profiles(DOMAIN).map(|p| p.len()), Some(1));
}

#[tokio::test]
async fn rate_limit_headers_are_on_auth_errors_too() {
    let config = Config {
        tenants: vec![TenantConfig {
            rate_limit: Some(RateLimitConfig {
                burst: 5,
                per_second: 0.01,
            }),
            ..tenant(DOMAIN)
        }],
        ..Config::default()
    };
    let emulator = start(config).await;
    let anonymous = Tenant::new(emulator.api_addr(), DOMAIN);
    let reply = anonymous.call("GET", "", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header_u64("x-ratelimit-limit"), 5);
    assert_eq!(
        reply.header_u64("x-ratelimit-remaining"),
        4,
        "an unauthenticated call still spends a token"
    );
    let reader = anonymous.login("reader", "reader-secret").await;
    let forbidden = reader.call("DELETE", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.header_u64("x-ratelimit-remaining"), 3);
}
