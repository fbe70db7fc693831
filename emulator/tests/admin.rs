//! The admin API, faults, TLS, the state file and the binary.

mod common;

use std::time::{Duration, Instant};

use auth0_emulator::{Config, FaultRule, TlsConfig};
use common::*;
use serde_json::{Value, json};

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("emu-{}-{name}", auth0_emulator::random::base62(10)))
}

#[tokio::test]
async fn request_log_and_counters_record_every_answer() {
    let (emulator, client) = start_one().await;
    admin(&emulator, "DELETE", &format!("/tenants/{DOMAIN}/requests"), None).await;
    let id = client.create("p").await["id"].as_str().expect("id").to_string();
    client.call("GET", &format!("/{id}"), None).await;
    client.call("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await;
    client.call("GET", "?take=99", None).await;
    let log = admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/requests"), None).await;
    assert_eq!(log.status, 200);
    let entries = log.body.as_array().expect("array");
    let summary: Vec<(String, String, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().into(),
                e["path"].as_str().unwrap_or_default().into(),
                e["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("POST".into(), "/api/v2/connection-profiles".into(), 201),
            ("GET".into(), format!("/api/v2/connection-profiles/{id}"), 200),
            (
                "GET".into(),
                "/api/v2/connection-profiles/cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
                404
            ),
            ("GET".into(), "/api/v2/connection-profiles".into(), 400),
        ]
    );
    assert_eq!(entries[3]["query"], "take=99");
    assert!(
        entries
            .iter()
            .all(|e| e["time_ms"].as_u64().is_some_and(|t| t > 1_600_000_000_000))
    );
    assert!(
        !log.raw.windows(10).any(|w| w == b"all-secret"),
        "no secrets in the log"
    );

    let counters = admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/counters"), None).await;
    assert_eq!(counters.body["create_profile"]["201"], 1);
    assert_eq!(counters.body["get_profile"], json!({"200":1,"404":1}));
    assert_eq!(counters.body["list_profiles"]["400"], 1);
    assert_eq!(counters.body["token"]["200"], 1);
}

#[tokio::test]
async fn reset_empties_profiles_log_and_counters() {
    let (emulator, client) = start_one().await;
    client.create("p").await;
    admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/entitlement"),
        Some(json!({"entitled": false})),
    )
    .await;
    assert_eq!(admin(&emulator, "POST", "/reset", None).await.status, 204);
    assert!(emulator.profiles(DOMAIN).expect("tenant").is_empty());
    assert!(emulator.requests(DOMAIN).expect("tenant").is_empty());
    let counters = admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/counters"), None).await;
    assert_eq!(counters.body, json!({}));
    assert_eq!(
        admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/entitlement"), None)
            .await
            .body,
        json!({"entitled": true})
    );
    // Tokens stay valid across a reset: the signing key is the emulator's, not the data's.
    assert_eq!(client.call("GET", "", None).await.status, 200);
    assert_eq!(
        admin(&emulator, "GET", "/tenants/nope.auth0.local/requests", None)
            .await
            .status,
        404
    );
    assert_eq!(admin(&emulator, "GET", "/nothing", None).await.status, 404);
}

#[tokio::test]
async fn dashboard_edits_and_deletes_are_drift_the_api_sees() {
    let (emulator, client) = start_one().await;
    let id = client.create("p").await["id"].as_str().expect("id").to_string();
    let edited = admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/profiles/{id}"),
        Some(json!({"enabled_features":["scim"]})),
    )
    .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(
        client.call("GET", &format!("/{id}"), None).await.body["enabled_features"],
        json!(["scim"])
    );
    let invalid = admin(
        &emulator,
        "PATCH",
        &format!("/tenants/{DOMAIN}/profiles/{id}"),
        Some(json!({"bogus":1})),
    )
    .await;
    assert_eq!(invalid.status, 400);
    let made = admin(
        &emulator,
        "POST",
        &format!("/tenants/{DOMAIN}/profiles"),
        Some(json!({"name":"from-dashboard"})),
    )
    .await;
    assert_eq!(made.status, 201);
    let listed = admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/profiles"), None).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2));
    assert_eq!(
        admin(&emulator, "DELETE", &format!("/tenants/{DOMAIN}/profiles/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(client.call("GET", &format!("/{id}"), None).await.status, 404);
    // Dashboard actions are not API requests: the log holds only the client's calls.
    let log = emulator.requests(DOMAIN).expect("tenant");
    assert_eq!(log.iter().filter(|e| e.path.contains("connection-profiles")).count(), 3);
}

#[tokio::test]
async fn fault_statuses_answer_before_any_write() {
    let (emulator, client) = start_one().await;
    let rules = json!([{"endpoint":"create_profile","status":503,"times":2}]);
    let set = admin(&emulator, "PUT", &format!("/tenants/{DOMAIN}/faults"), Some(rules)).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    for _ in 0..2 {
        let reply = client.call("POST", "", Some(json!({"name":"p"}))).await;
        assert_eq!(reply.status, 503);
        assert_eq!(
            reply.body,
            json!({"statusCode":503,"error":"Service Unavailable","message":"Service Unavailable"})
        );
        assert!(reply.header("x-ratelimit-limit").is_some());
    }
    assert!(emulator.profiles(DOMAIN).expect("tenant").is_empty());
    assert_eq!(
        client.call("GET", "", None).await.status,
        200,
        "other endpoints unaffected"
    );
    assert_eq!(
        client.call("POST", "", Some(json!({"name":"p"}))).await.status,
        201,
        "times ran out"
    );
    assert_eq!(
        admin(&emulator, "GET", &format!("/tenants/{DOMAIN}/faults"), None)
            .await
            .body,
        json!([])
    );
    let refused = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!([{"status":404}])),
    )
    .await;
    assert_eq!(refused.status, 400);
    let refused = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!([{"status":500,"sparkle":true}])),
    )
    .await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn fault_probability_is_honoured() {
    let (emulator, client) = start_one().await;
    admin(
        &emulator,
        "POST",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!({"endpoint":"list_profiles","status":500,"probability":0.5})),
    )
    .await;
    let mut failures = 0;
    for _ in 0..200 {
        if client.call("GET", "", None).await.status == 500 {
            failures += 1;
        }
    }
    // Binomial(200, 0.5): outside 60..=140 has a probability below 1e-8.
    assert!((60..=140).contains(&failures), "{failures} of 200");
}

#[tokio::test]
async fn latency_with_jitter_is_added() {
    let (emulator, client) = start_one().await;
    assert!(emulator.set_faults(
        DOMAIN,
        vec![FaultRule {
            endpoint: None,
            probability: 1.0,
            status: None,
            latency_ms: 300,
            jitter_ms: 100,
            drop_after_write: false,
            repeat_cursor: false,
            times: None
        }]
    ));
    let started = Instant::now();
    assert_eq!(client.call("GET", "", None).await.status, 200);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_dropped_connection_after_a_write_leaves_the_profile() {
    let (emulator, client) = start_one().await;
    admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/faults"),
        Some(json!([{"endpoint":"create_profile","drop_after_write":true,"times":1}])),
    )
    .await;
    let body = json!({"name":"written-but-unanswered"}).to_string().into_bytes();
    let outcome = client.raw("POST", "", body).await;
    assert!(outcome.is_err(), "the client must see an error, got {outcome:?}");
    let stored = emulator.profiles(DOMAIN).expect("tenant");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "written-but-unanswered");
    let log = emulator.requests(DOMAIN).expect("tenant");
    let last = log.last().expect("logged");
    assert!(last.dropped);
    assert_eq!(last.status, 201);
    // The retry the client makes now meets the name it already wrote.
    assert_eq!(
        client
            .call("POST", "", Some(json!({"name":"written-but-unanswered"})))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn tls_with_a_ca_file_clients_can_trust() {
    let ca_file = temp_path("ca.pem");
    let config = Config {
        tenants: vec![tenant(DOMAIN)],
        tls: Some(TlsConfig {
            ca_cert_file: ca_file.clone(),
        }),
        ..Config::default()
    };
    let emulator = start(config).await;
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read_to_string(&ca_file).expect("CA file written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(Some(pem.as_str()), emulator.ca_cert_pem());
    let connector = tls_connector(&pem);
    for server_name in ["localhost", "127.0.0.1", DOMAIN] {
        let stream = tokio::net::TcpStream::connect(emulator.api_addr())
            .await
            .expect("connect");
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string()).expect("name");
        let tls = connector
            .connect(name, stream)
            .await
            .expect("handshake with the emulator's CA");
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "client_credentials"),
                ("client_id", "all"),
                ("client_secret", "all-secret"),
                ("audience", &format!("https://{DOMAIN}/api/v2/")),
            ])
            .finish();
        let reply = send_on(
            tls,
            request(
                "POST",
                "/oauth/token",
                DOMAIN,
                &[("content-type", "application/x-www-form-urlencoded")],
                body.into_bytes(),
            ),
        )
        .await
        .expect("answer");
        assert_eq!(reply.status, 200, "{server_name}");
    }
    // A client that does not trust the CA cannot connect.
    let stranger = tls_connector(&auth0_emulator_test_ca().await);
    let stream = tokio::net::TcpStream::connect(emulator.api_addr())
        .await
        .expect("connect");
    assert!(
        stranger
            .connect(
                rustls::pki_types::ServerName::try_from("localhost").expect("name"),
                stream
            )
            .await
            .is_err()
    );
    std::fs::remove_file(&ca_file).ok();
}

/// The CA of another emulator, which the first one's certificate does not chain to.
async fn auth0_emulator_test_ca() -> String {
    let path = temp_path("other-ca.pem");
    let config = Config {
        tls: Some(TlsConfig {
            ca_cert_file: path.clone(),
        }),
        ..Config::default()
    };
    let other = start(config).await;
    let pem = other.ca_cert_pem().map(str::to_string).unwrap_or_default();
    std::fs::remove_file(&path).ok();
    pem
}

#[tokio::test]
async fn the_state_file_keeps_profiles_and_tokens_across_restarts() {
    let state = temp_path("state.json");
    let config = || Config {
        tenants: vec![tenant(DOMAIN)],
        state_file: Some(state.clone()),
        ..Config::default()
    };
    let first = start(config()).await;
    let client = Tenant::new(first.api_addr(), DOMAIN).login("all", "all-secret").await;
    let created = client.create("survivor").await;
    let gone = client.create("deleted").await;
    client
        .call("DELETE", &format!("/{}", gone["id"].as_str().expect("id")), None)
        .await;
    // Saved shortly after the change, without waiting for shutdown (a crash loses little).
    let mut saved_early = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("survivor") && !text.contains("\"deleted\"") {
            saved_early = true;
            break;
        }
    }
    assert!(saved_early, "the state file was not written after the changes");
    first.shutdown().await.expect("saved");

    let second = start(config()).await;
    let same_token = Tenant {
        addr: second.api_addr(),
        ..client
    };
    let listed = same_token.call("GET", "", None).await;
    assert_eq!(listed.status, 200, "a token issued before the restart still works");
    assert_eq!(listed.body["connection_profiles"], json!([created]));
    assert_eq!(
        same_token
            .call("POST", "", Some(json!({"name":"survivor"})))
            .await
            .status,
        409,
        "the name index is restored"
    );
    second.shutdown().await.expect("saved");
    let text = std::fs::read_to_string(&state).expect("state file");
    let saved: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(saved["tenants"][DOMAIN].as_array().map(Vec::len), Some(1));
    std::fs::remove_file(&state).ok();
}

#[tokio::test]
async fn the_binary_documents_every_flag_and_serves_the_default_tenant() {
    let binary = env!("CARGO_BIN_EXE_auth0-emulator");
    let help = std::process::Command::new(binary).arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--config",
        "--listen",
        "--admin-listen",
        "--tls-ca-file",
        "--state-file",
        "--templates-file",
        "--token-lifetime-secs",
        "--rate-limit-burst",
        "--rate-limit-per-second",
        "--unentitled",
        "--print-addresses",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    let mut child = tokio::process::Command::new(binary)
        .arg("--print-addresses")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a line");
    let addresses: Value = serde_json::from_str(&line).expect("json");
    let api: std::net::SocketAddr = addresses["api"]
        .as_str()
        .expect("api")
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let client = Tenant::new(api, &format!("localhost:{}", api.port()))
        .login("emulator-client", "emulator-secret")
        .await;
    assert_eq!(client.create("demo").await["name"], "demo");
    child.kill().await.ok();
}

#[tokio::test]
async fn configured_faults_are_active_from_the_start_and_come_back_on_reset() {
    let faulty = auth0_emulator::TenantConfig {
        faults: vec![FaultRule {
            endpoint: Some(auth0_emulator::Endpoint::GetProfile),
            probability: 1.0,
            status: Some(502),
            latency_ms: 0,
            jitter_ms: 0,
            drop_after_write: false,
            repeat_cursor: false,
            times: None,
        }],
        ..tenant(DOMAIN)
    };
    let emulator = start(Config {
        tenants: vec![faulty],
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    assert_eq!(
        client.call("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await.status,
        502
    );
    assert_eq!(
        admin(&emulator, "DELETE", &format!("/tenants/{DOMAIN}/faults"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        client.call("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await.status,
        404
    );
    assert_eq!(
        admin(&emulator, "POST", &format!("/tenants/{DOMAIN}/reset"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        client.call("GET", "/cop_1cu7Zs1Dfru5Qc9mZea7nm", None).await.status,
        502
    );
    let teapot = FaultRule {
        endpoint: None,
        probability: 1.0,
        status: Some(418),
        latency_ms: 0,
        jitter_ms: 0,
        drop_after_write: false,
        repeat_cursor: false,
        times: None,
    };
    let invalid = Config {
        tenants: vec![auth0_emulator::TenantConfig {
            faults: vec![teapot],
            ..tenant(DOMAIN)
        }],
        ..Config::default()
    };
    assert!(
        auth0_emulator::Emulator::start(invalid).await.is_err(),
        "a bad rule is refused at start"
    );
}

#[tokio::test]
async fn the_request_log_keeps_the_newest_entries() {
    let emulator = start(Config {
        tenants: vec![tenant(DOMAIN)],
        request_log_capacity: 3,
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    for take in 1..=5 {
        client.call("GET", &format!("?take={take}"), None).await;
    }
    let queries: Vec<Option<String>> = emulator
        .requests(DOMAIN)
        .expect("tenant")
        .into_iter()
        .map(|e| e.query)
        .collect();
    assert_eq!(
        queries,
        [Some("take=3".to_string()), Some("take=4".into()), Some("take=5".into())]
    );
}

#[tokio::test]
async fn a_rotated_secret_and_a_new_grant_take_effect_for_new_tokens_only() {
    let (emulator, client) = start_one().await;
    let token_status = |secret: &'static str| {
        let tenant = Tenant::new(emulator.api_addr(), DOMAIN);
        async move {
            let audience = format!("https://{DOMAIN}/api/v2/");
            tenant
                .token_reply(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "all"),
                    ("client_secret", secret),
                    ("audience", &audience),
                ])
                .await
        }
    };
    let rotated = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/clients/all"),
        Some(json!({"client_secret": "rotated-secret", "scopes": ["read:connection_profiles"]})),
    )
    .await;
    assert_eq!(rotated.status, 204, "{:?}", rotated.body);
    assert_eq!(
        token_status("all-secret").await.status,
        401,
        "the old secret is refused"
    );
    let fresh = token_status("rotated-secret").await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["scope"], "read:connection_profiles", "the new grant");
    // A token issued before the change keeps its scopes until it expires, as in Auth0.
    assert_eq!(
        client.call("POST", "", Some(json!({"name": "still"}))).await.status,
        201
    );
    let narrowed = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "rotated-secret")
        .await;
    let refused = narrowed.call("POST", "", Some(json!({"name": "refused"}))).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    let unknown = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/clients/nobody"),
        Some(json!({"client_secret": "x"})),
    )
    .await;
    assert_eq!(unknown.status, 404);
    let bad_scope = admin(
        &emulator,
        "PUT",
        &format!("/tenants/{DOMAIN}/clients/all"),
        Some(json!({"scopes": ["delete:everything"]})),
    )
    .await;
    assert_eq!(bad_scope.status, 400);
    emulator.reset();
    assert_eq!(
        token_status("all-secret").await.status,
        200,
        "reset brings the configured client back"
    );
}
