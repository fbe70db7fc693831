//! Scenario 8, `plan`: `auth0-operator plan` over N exported manifests against a tenant of
//! N profiles. What it costs in Auth0 calls (one listing and the token, nothing per
//! manifest) and how long it takes end to end, the binary's start included.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, TenantConfig};
use auth0_operator::auth0::ratelimit::TokenBucket;
use auth0_operator::auth0::retry::{Backoff, Clock, SystemClock};
use auth0_operator::auth0::{Auth0Client, Secret};
use futures::{StreamExt, stream};
use serde_json::json;

/// What one run measured.
pub struct Measured {
    pub took: Duration,
    pub exit_code: Option<i32>,
    pub lists: usize,
    pub tokens: usize,
    pub others: usize,
}

/// Seeds `n` profiles, exports them with the library's own export, and times `plan` on them.
pub async fn run(n: usize, dir: &std::path::Path) -> Measured {
    let domain = "bench-plan.auth0.test".to_string();
    let emulator = Emulator::start(Config {
        tenants: vec![TenantConfig {
            domain: domain.clone(),
            clients: vec![ClientConfig {
                client_id: "bench".into(),
                client_secret: "bench-secret".into(),
                scopes: super::SCOPES.iter().map(|s| s.to_string()).collect(),
            }],
            port: Some(0),
            ..TenantConfig::default()
        }],
        request_log_capacity: 1_000_000,
        ..Config::default()
    })
    .await
    .expect("emulator");
    let url = emulator.tenant_url(&domain).expect("url");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let client = Auth0Client::new(
        auth0_operator::auth0::client::http_client(None, Duration::from_secs(10)).expect("http"),
        auth0_operator::auth0::TenantConfig {
            domain: domain.clone(),
            base_url: url::Url::parse(&format!("{url}/")).expect("url"),
            audience: format!("https://{domain}/api/v2/"),
            client_id: "bench".into(),
            client_secret: Secret::new("bench-secret"),
        },
        Arc::new(TokenBucket::new(10_000.0, 10_000, clock.now())),
        Backoff::default(),
        clock,
    );
    stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let client = &client;
            async move {
                let body = json!({"name": format!("Plan bench {i:05}"), "enabled_features": ["scim"],
                                  "connection_name_prefix_template": format!("p{i}-")});
                client.create(body.as_object().expect("object")).await.expect("create");
            }
        })
        .await;
    let listing = client
        .list(auth0_operator::auth0::ratelimit::Priority::User)
        .await
        .expect("list");
    let manifests = auth0_operator::cli::export::profiles(&listing, &Default::default()).expect("export");
    let file = dir.join("plan-bench.yaml");
    std::fs::write(&file, auth0_operator::cli::export::to_yaml(&manifests).expect("yaml")).expect("write");
    let before = emulator.requests(&domain).expect("tenant").len();

    let binary = std::env::current_exe().expect("exe").with_file_name("auth0-operator");
    let started = Instant::now();
    let output = Command::new(&binary)
        .args(["plan", "-f"])
        .arg(&file)
        .args(["--output", "json", "--requests-per-second", "1000", "--burst", "1000"])
        .env("AUTH0_DOMAIN", &domain)
        .env("AUTH0_CLIENT_ID", "bench")
        .env("AUTH0_CLIENT_SECRET", "bench-secret")
        .env("AUTH0_BASE_URL", &url)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    let took = started.elapsed();
    let log = emulator.requests(&domain).expect("tenant");
    let after = &log[before..];
    let lists = after
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v2/connection-profiles")
        .count();
    let tokens = after.iter().filter(|r| r.path == "/oauth/token").count();
    if !output.status.success() {
        eprintln!("plan: {}", String::from_utf8_lossy(&output.stderr));
    }
    Measured {
        took,
        exit_code: output.status.code(),
        lists,
        tokens,
        others: after.len() - lists - tokens,
    }
}
