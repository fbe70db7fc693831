//! The Management API client against the emulator over HTTP: paging, retries decided by the
//! classifier (a POST only on 429), the token refreshed once on a 401, TLS with a CA bundle,
//! and secrets absent from every error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, Endpoint, FaultRule, TenantConfig, TlsConfig};
use auth0_operator::auth0::client::http_client;
use auth0_operator::auth0::ratelimit::{Priority, TokenBucket};
use auth0_operator::auth0::retry::{Backoff, SystemClock};
use auth0_operator::auth0::{Auth0Client, Secret, TenantConfig as Tenant};
use serde_json::{Map, Value, json};

const DOMAIN: &str = "client.auth0.test";

async fn emulator(token_lifetime_secs: u64, tls: Option<TlsConfig>) -> Emulator {
    emulator_with(token_lifetime_secs, tls, None).await
}

async fn emulator_with(
    token_lifetime_secs: u64,
    tls: Option<TlsConfig>,
    rate_limit: Option<auth0_emulator::RateLimitConfig>,
) -> Emulator {
    Emulator::start(Config {
        tenants: vec![TenantConfig {
            domain: DOMAIN.into(),
            clients: vec![ClientConfig {
                client_id: "id".into(),
                client_secret: "the-client-secret".into(),
                scopes: auth0_emulator::config::ALL_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            }],
            port: Some(0),
            rate_limit,
            ..TenantConfig::default()
        }],
        token_lifetime_secs,
        tls,
        ..Config::default()
    })
    .await
    .expect("emulator")
}

fn client(emulator: &Emulator, secret: &str, ca: Option<&[u8]>) -> Auth0Client {
    let url = emulator.tenant_url(DOMAIN).expect("url");
    Auth0Client::new(
        http_client(ca, Duration::from_secs(5)).expect("http"),
        Tenant {
            domain: DOMAIN.into(),
            base_url: url::Url::parse(&format!("{url}/")).expect("url"),
            audience: format!("https://{DOMAIN}/api/v2/"),
            client_id: "id".into(),
            client_secret: Secret::new(secret),
        },
        Arc::new(TokenBucket::new(1000.0, 1000, Instant::now())),
        Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            max_attempts: 4,
        },
        Arc::new(SystemClock),
    )
}

fn body(name: &str) -> Map<String, Value> {
    json!({"name": name, "enabled_features": ["scim"]})
        .as_object()
        .expect("object")
        .clone()
}

fn calls(emulator: &Emulator, endpoint: Endpoint) -> usize {
    emulator
        .requests(DOMAIN)
        .expect("tenant")
        .iter()
        .filter(|r| r.endpoint == endpoint)
        .count()
}

fn fault(endpoint: Endpoint, status: u16, times: u64) -> FaultRule {
    FaultRule {
        endpoint: Some(endpoint),
        probability: 1.0,
        status: Some(status),
        latency_ms: 0,
        jitter_ms: 0,
        drop_after_write: false,
        repeat_cursor: false,
        times: Some(times),
    }
}

#[tokio::test]
async fn listing_pages_ten_at_a_time() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "the-client-secret", None);
    for i in 0..25 {
        c.create(&body(&format!("p{i:02}"))).await.expect("create");
    }
    let before = calls(&emu, Endpoint::ListProfiles);
    let all = c.list(Priority::User).await.expect("list");
    assert_eq!(all.len(), 25);
    assert_eq!(calls(&emu, Endpoint::ListProfiles) - before, 3, "ceil(25/10) calls");
    let mut names: Vec<&str> = all.iter().map(|p| p["name"].as_str().expect("name")).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 25, "no profile repeated");
}

/// A kind's API with a small page, to count pages.
fn paged(
    api: &'static auth0_operator::crd::kind::Auth0Api,
    page_size: usize,
) -> &'static auth0_operator::crd::kind::Auth0Api {
    Box::leak(Box::new(auth0_operator::crd::kind::Auth0Api {
        page_size,
        ..api.clone()
    }))
}

/// Self-service profiles page by offset (`page`, `per_page`, `include_totals`): 10 in pages
/// of 4 is 3 calls, each id once; a create or delete between pages would shift them.
#[tokio::test]
async fn an_offset_listing_reads_every_page_once() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "the-client-secret", None);
    let api = paged(&auth0_operator::crd::SELF_SERVICE_PROFILES, 4);
    for i in 0..10 {
        let body = json!({"name": format!("s{i:02}")}).as_object().expect("object").clone();
        c.create_item(api, &body).await.expect("create");
    }
    let before = calls(&emu, Endpoint::ListSelfServiceProfiles);
    let all = c.list_items(api, Priority::User, |_| {}).await.expect("list").profiles;
    assert_eq!(
        calls(&emu, Endpoint::ListSelfServiceProfiles) - before,
        3,
        "ceil(10/4) calls"
    );
    let mut ids: Vec<&str> = all.iter().map(|p| p["id"].as_str().expect("id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "every profile once");
    // A full last page ends the listing by the total, without an empty page.
    let api = paged(&auth0_operator::crd::SELF_SERVICE_PROFILES, 5);
    let before = calls(&emu, Endpoint::ListSelfServiceProfiles);
    assert_eq!(
        c.list_items(api, Priority::User, |_| {})
            .await
            .expect("list")
            .profiles
            .len(),
        10
    );
    assert_eq!(calls(&emu, Endpoint::ListSelfServiceProfiles) - before, 2, "10/5 calls");
}

/// User attribute profiles page by checkpoint like connection profiles; get, update and
/// delete go to their own path, and an id of another kind is refused before any call.
#[tokio::test]
async fn a_user_attribute_profile_round_trip_on_its_own_path() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "the-client-secret", None);
    let api = paged(&auth0_operator::crd::USER_ATTRIBUTE_PROFILES, 2);
    let attributes = json!({"email": {"label": "Email", "description": "Work email", "auth0_mapping": "email",
                                       "profile_required": true}});
    for i in 0..5 {
        let body = json!({"name": format!("u{i}"), "user_attributes": attributes});
        c.create_item(api, body.as_object().expect("object"))
            .await
            .expect("create");
    }
    let before = calls(&emu, Endpoint::ListUserAttributeProfiles);
    let all = c.list_items(api, Priority::User, |_| {}).await.expect("list").profiles;
    assert_eq!(all.len(), 5);
    assert_eq!(
        calls(&emu, Endpoint::ListUserAttributeProfiles) - before,
        3,
        "ceil(5/2) calls"
    );
    let id = all[0]["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("uap_"), "{id}");
    let renamed = json!({"name": "renamed"});
    let updated = c
        .update_item(api, &id, renamed.as_object().expect("object"))
        .await
        .expect("update");
    assert_eq!(updated["name"], "renamed");
    assert_eq!(
        c.get_item(api, &id, Priority::User).await.expect("get").expect("found")["name"],
        "renamed"
    );
    c.delete_item(api, &id).await.expect("delete");
    assert_eq!(c.get_item(api, &id, Priority::User).await.expect("get"), None);
    // A connection profile's id is no user attribute profile's.
    let err = c
        .get_item(api, "cop_1cu7Zs1Dfru5Qc9mZea7nm", Priority::User)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("cop_1cu7Zs1Dfru5Qc9mZea7nm"), "{err}");
}

/// A listing dates itself from its first page's request, after the wait for the tenant's rate
/// limit: the name checks of every resource delivered during that wait can share it (the
/// rate-limited create's listings). The bucket holds one token and refills at 4/s, so the
/// listing waits at least 250 ms for its first page.
#[tokio::test]
async fn a_listing_begins_when_its_first_page_is_sent_not_when_it_was_asked_for() {
    let emu = emulator(86400, None).await;
    let mut c = client(&emu, "the-client-secret", None);
    c = Auth0Client::new(
        http_client(None, Duration::from_secs(5)).expect("http"),
        c.tenant().clone(),
        Arc::new(TokenBucket::new(4.0, 1, Instant::now())),
        Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            max_attempts: 4,
        },
        Arc::new(SystemClock),
    );
    c.create(&body("spends-the-token")).await.expect("create");
    let asked = Instant::now();
    let listing = c.list_reporting(Priority::User, |_| {}).await.expect("list");
    assert_eq!(listing.profiles.len(), 1);
    assert!(
        listing.began >= asked + Duration::from_millis(200),
        "began {:?} after it was asked for: the wait for a token must not count",
        listing.began - asked
    );
}

/// Issue 12 item 5: a listing fed a repeated cursor ends with an error within a second.
#[tokio::test]
async fn a_listing_fed_a_repeated_cursor_ends_with_an_error_within_a_second() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "the-client-secret", None);
    for i in 0..12 {
        c.create(&body(&format!("p{i:02}"))).await.expect("create");
    }
    c.list(Priority::User)
        .await
        .expect("a token and a listing before the fault");
    assert!(emu.set_faults(
        DOMAIN,
        vec![FaultRule {
            endpoint: Some(Endpoint::ListProfiles),
            repeat_cursor: true,
            ..FaultRule::default()
        }]
    ));
    let before = calls(&emu, Endpoint::ListProfiles);
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(1), c.list(Priority::User))
        .await
        .expect("the listing ends within a second")
        .expect_err("a repeated cursor is an error");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(&err, auth0_operator::auth0::Auth0Error::Decode { path, message } if path == "next" && message.contains("cursor")),
        "{err}"
    );
    // The first page's cursor, then the same cursor back: two calls, a third is refused.
    assert_eq!(calls(&emu, Endpoint::ListProfiles) - before, 2);
}

/// A listing longer than the bound ends with an error instead of paging on.
#[tokio::test]
async fn a_listing_past_the_page_bound_ends_with_an_error() {
    let emu = emulator(86400, None).await;
    for i in 0..25 {
        client(&emu, "the-client-secret", None)
            .create(&body(&format!("p{i:02}")))
            .await
            .expect("create");
    }
    let bounded = client(&emu, "the-client-secret", None).with_max_list_pages(2);
    let err = bounded.list(Priority::User).await.expect_err("3 pages > 2");
    assert!(err.to_string().contains("past 2 pages"), "{err}");
    let roomy = client(&emu, "the-client-secret", None).with_max_list_pages(3);
    assert_eq!(roomy.list(Priority::User).await.expect("3 pages").len(), 25);
}

#[tokio::test]
async fn transient_failures_are_retried_but_a_post_only_on_429() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "the-client-secret", None);
    let created = c.create(&body("first")).await.expect("create");
    let id = created["id"].as_str().expect("id").to_string();

    assert!(emu.set_faults(DOMAIN, vec![fault(Endpoint::GetProfile, 503, 2)]));
    assert!(c.get(&id, Priority::User).await.expect("retried to success").is_some());
    assert_eq!(calls(&emu, Endpoint::GetProfile), 3, "two 503s, then the answer");

    assert!(emu.set_faults(DOMAIN, vec![fault(Endpoint::CreateProfile, 500, 1)]));
    let err = c
        .create(&body("second"))
        .await
        .expect_err("a POST is not retried on 500");
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        calls(&emu, Endpoint::CreateProfile),
        2,
        "one POST for first, one for second"
    );

    c.create(&body("third")).await.expect("create");

    assert!(emu.set_faults(DOMAIN, vec![fault(Endpoint::GetProfile, 503, 10)]));
    let err = c.get(&id, Priority::User).await.expect_err("gives up");
    assert!(err.is_transient());
    assert_eq!(calls(&emu, Endpoint::GetProfile), 3 + 4, "bounded at four attempts");

    assert!(emu.set_faults(DOMAIN, vec![]));
    let err = c.update(&id, &body("third")).await.expect_err("name taken");
    assert_eq!(err.status(), Some(409), "{err}");
    assert_eq!(calls(&emu, Endpoint::UpdateProfile), 1, "a 409 is not retried");
    assert!(
        c.get("cop_0000000000000000000000", Priority::User)
            .await
            .expect("404 is None")
            .is_none()
    );
    c.delete("cop_0000000000000000000000")
        .await
        .expect("404 on delete is success");
}

/// Another client spent the tenant's budget: the POST meets a real 429, waits for the
/// refill the headers announce, and goes through once.
#[tokio::test]
async fn a_post_is_retried_after_a_429() {
    let limit = auth0_emulator::RateLimitConfig {
        burst: 1,
        per_second: 1.0,
    };
    let emu = emulator_with(86400, None, Some(limit)).await;
    let other = client(&emu, "the-client-secret", None);
    let ours = client(&emu, "the-client-secret", None);
    ours.scopes().await.expect("our token"); // /oauth/token is outside the API bucket
    other
        .list(Priority::User)
        .await
        .expect("the other client spends the whole burst");
    ours.create(&body("after-429")).await.expect("retried after the 429");
    let statuses: Vec<u16> = emu
        .requests(DOMAIN)
        .expect("tenant")
        .iter()
        .filter(|r| r.endpoint == Endpoint::CreateProfile)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [429, 201], "one 429, then one successful POST");
    assert_eq!(emu.profiles(DOMAIN).expect("tenant").len(), 1);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let emu = emulator(1, None).await; // tokens live one second
    let c = client(&emu, "the-client-secret", None);
    c.list(Priority::User).await.expect("first call");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.list(Priority::User).await.expect("after expiry");
    assert_eq!(
        calls(&emu, Endpoint::Token),
        2,
        "a new token, fetched before or after one 401"
    );
}

#[tokio::test]
async fn refused_credentials_are_clear_and_secret_free() {
    let emu = emulator(86400, None).await;
    let c = client(&emu, "a-wrong-secret", None);
    let err = c.list(Priority::User).await.expect_err("refused");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("refused the client credentials"), "{shown}");
    assert!(!shown.contains("a-wrong-secret"), "the secret leaked: {shown}");
    c.list(Priority::User).await.expect_err("still refused");
    assert_eq!(
        calls(&emu, Endpoint::Token),
        1,
        "refused credentials are not tried again at once"
    );
}

#[tokio::test]
async fn https_with_a_ca_bundle() {
    let dir = std::env::temp_dir().join(format!("auth0-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca_file = dir.join("ca.pem");
    let emu = emulator(
        86400,
        Some(TlsConfig {
            ca_cert_file: ca_file.clone(),
        }),
    )
    .await;
    let url = emu.tenant_url(DOMAIN).expect("url");
    assert!(url.starts_with("https://"), "{url}");
    let ca = std::fs::read(&ca_file).expect("ca");
    let trusted = client(&emu, "the-client-secret", Some(&ca));
    trusted.list(Priority::User).await.expect("trusted CA");
    let untrusted = client(&emu, "the-client-secret", None);
    let err = untrusted
        .list(Priority::User)
        .await
        .expect_err("an unknown CA is refused");
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");
}
