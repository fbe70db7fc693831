//! What a namespace's own tenant cannot make the operator do, end to end against a real
//! kube-apiserver, with a listener on 127.0.0.1 standing in for another service of the
//! cluster network: call a host outside `--allowed-tenant-hosts` (no connection at all),
//! echo another service's answers into status, Events or logs (only Auth0-shaped error
//! messages get through), or read a Secret nobody labelled for it.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth0_operator::crd::{Auth0Tenant, ConnectionProfile};
use common::{Harness, SCOPES, condition};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

/// Text the stand-in service puts in its answers; none of it may reach status, Events or
/// the operator's log.
const MARKERS: [&str; 4] = [
    "MARKER-HTML-internal-admin",
    "MARKER-JSON-db-password",
    "MARKER-REDIRECT-body",
    "MARKER-REDIRECT-target",
];
/// The stand-in's HTML page.
const HTML_PAGE: &str = "<html><body><h1>MARKER-HTML-internal-admin</h1><p>cluster admin console</p></body></html>";
/// Auth0's own words in an Auth0-shaped error body: shown.
const AUTH0_WORDS: &str = "AUTH0-SAYS Payload validation error: 'Invalid request payload JSON format'";

/// A plain HTTP/1.1 listener on 127.0.0.1 that records every connection and request path and
/// answers by the first path segment (the tenant's endpoint names its mode):
/// `html` and `json` grant a token, then answer API calls with an HTML page (502) or a JSON
/// body that is not Auth0's (404); `redirect` answers the token request with a 302 to
/// `/MARKER-REDIRECT-target`; `auth0` grants a token, then answers with Auth0's 400 body;
/// `json-token` refuses the token with a 401 whose JSON is not OAuth's.
struct StandIn {
    port: u16,
    connections: Arc<Mutex<usize>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    fn start() -> StandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(Mutex::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), paths.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                *count.lock().expect("count") += 1;
                let seen = seen.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // The head, then as much body as Content-Length says.
                    let head_end = loop {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    seen.lock().expect("paths").push(path.clone());
                    let _ = stream.write_all(answer(&path).as_bytes());
                    let _ = stream.flush();
                });
            }
        });
        StandIn {
            port,
            connections,
            paths,
        }
    }

    fn url(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}", self.port)
    }

    fn connections(&self) -> usize {
        *self.connections.lock().expect("count")
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().expect("paths").clone()
    }
}

fn respond(status: &str, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn answer(path: &str) -> String {
    let mode = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let token = path.ends_with("/oauth/token");
    let grant = json!({"access_token": "stand-in-token", "token_type": "Bearer", "expires_in": 86400,
                       "scope": SCOPES.join(" ")})
    .to_string();
    match (mode, token) {
        ("html" | "json" | "auth0", true) => respond("200 OK", "application/json", "", &grant),
        ("html", false) => respond("502 Bad Gateway", "text/html; charset=utf-8", "", HTML_PAGE),
        ("json", false) => respond(
            "404 Not Found",
            "application/json",
            "",
            r#"{"message":"MARKER-JSON-db-password","error":"not here","code":404}"#,
        ),
        ("json-token", _) => respond(
            "401 Unauthorized",
            "application/json",
            "",
            r#"{"message":"MARKER-JSON-db-password","error_description":"MARKER-JSON-db-password"}"#,
        ),
        ("redirect", _) => respond(
            "302 Found",
            "text/plain",
            "location: /MARKER-REDIRECT-target\r\n",
            "MARKER-REDIRECT-body",
        ),
        ("auth0", false) => respond(
            "400 Bad Request",
            "application/json; charset=utf-8",
            "",
            &json!({"statusCode": 400, "error": "Bad Request", "message": AUTH0_WORDS, "errorCode": "invalid_body"})
                .to_string(),
        ),
        _ => respond("404 Not Found", "text/plain", "", "MARKER-HTML-internal-admin"),
    }
}

async fn apply_tenant(h: &Harness, name: &str, spec: Value) {
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": name}, "spec": spec}),
    )
    .await;
}

async fn apply_profile_on(h: &Harness, name: &str, tenant: &str) {
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": tenant}, "enabledFeatures": ["scim"]}}),
    )
    .await;
}

/// The tenant's condition `type_`: (status, reason, message).
async fn tenant_condition(h: &Harness, name: &str, type_: &str) -> Option<(String, String, String)> {
    let api: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let tenant = api.get_opt(name).await.expect("get tenant")?;
    tenant
        .status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status, c.reason, c.message))
}

async fn wait_tenant(h: &Harness, name: &str, what: &str, check: impl Fn(&(String, String, String)) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = tenant_condition(h, name, "Ready").await;
        if ready.as_ref().is_some_and(&check) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tenant {name}: not {what}; last seen {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn synced(reason: &'static str, needle: &'static str) -> impl Fn(&ConnectionProfile) -> bool {
    move |p| condition(p, "Synced").is_some_and(|c| c.0 == "False" && c.1 == reason && c.2.contains(needle))
}

/// Every status of every profile and tenant in the namespace, every Event's note, and the
/// operator's log, as one text to search.
async fn everything_people_read(h: &Harness) -> String {
    let mut all = String::new();
    let profiles = h.profiles().list(&ListParams::default()).await.expect("profiles");
    for p in profiles.items {
        all.push_str(&serde_json::to_string(&p.status).expect("json"));
    }
    let tenants: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for t in tenants.list(&ListParams::default()).await.expect("tenants").items {
        all.push_str(&serde_json::to_string(&t.status).expect("json"));
    }
    let events: Api<Event> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for e in events.list(&ListParams::default()).await.expect("events").items {
        all.push_str(&e.note.unwrap_or_default());
        all.push('\n');
    }
    all.push_str(&std::fs::read_to_string(&h.log).unwrap_or_default());
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_outside_the_allowed_hosts_makes_no_connection() {
    let h = Harness::start("sec-hosts").await;
    let target = StandIn::start();
    // The harness allows the emulator's 127.0.0.1:PORT only: the stand-in's port is outside.
    // Through spec.endpoint.url (with a CA bundle for its private certificate), and through
    // spec.domain alone.
    apply_tenant(
        &h,
        "by-endpoint",
        json!({"domain": "acme.eu.auth0.com", "credentialsSecretRef": {"name": "creds"},
               "endpoint": {"url": target.url("json"), "caBundle": "-----BEGIN CERTIFICATE-----\nnot read\n-----END CERTIFICATE-----\n"}}),
    )
    .await;
    apply_tenant(
        &h,
        "by-domain",
        json!({"domain": format!("127.0.0.1:{}", target.port), "credentialsSecretRef": {"name": "creds"}}),
    )
    .await;
    apply_profile_on(&h, "via-endpoint", "by-endpoint").await;
    apply_profile_on(&h, "via-domain", "by-domain").await;

    let port = target.port.to_string();
    wait_tenant(&h, "by-endpoint", "HostNotAllowed", |c| {
        c.0 == "False" && c.1 == "HostNotAllowed" && c.2.contains("spec.endpoint.url") && c.2.contains(&port)
    })
    .await;
    wait_tenant(&h, "by-domain", "HostNotAllowed", |c| {
        c.0 == "False" && c.1 == "HostNotAllowed" && c.2.contains("spec.domain") && c.2.contains(&port)
    })
    .await;
    for tenant in ["by-endpoint", "by-domain"] {
        let stalled = tenant_condition(&h, tenant, "Stalled").await.expect("Stalled");
        assert_eq!(
            (stalled.0.as_str(), stalled.1.as_str()),
            ("True", "HostNotAllowed"),
            "{tenant}"
        );
    }
    for name in ["via-endpoint", "via-domain"] {
        let profile = h
            .wait_for(
                name,
                Duration::from_secs(30),
                "HostNotAllowed",
                synced("HostNotAllowed", "--allowed-tenant-hosts"),
            )
            .await;
        assert_eq!(
            condition(&profile, "Stalled").map(|c| c.0),
            Some("True".to_string()),
            "{name}: a person must act"
        );
        let (kind, _, note) = h.wait_event(name, "HostNotAllowed").await;
        assert_eq!(kind, "Warning");
        assert!(note.contains(&port), "{note}");
    }
    // The harness's own tenant still works beside them, and is not stalled.
    h.apply_profile("fine", json!({})).await;
    h.wait_ready("fine").await;
    let stalled = tenant_condition(&h, "t", "Stalled").await.expect("Stalled");
    assert_eq!(stalled.0, "False", "{stalled:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(target.connections(), 0, "the operator connected: {:?}", target.paths());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_auth0s_words_reach_status_events_and_logs() {
    let mut h = Harness::prepare("sec-words", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let stand_in = StandIn::start();
    for mode in ["html", "json", "json-token", "redirect", "auth0"] {
        apply_tenant(
            &h,
            mode,
            json!({"domain": format!("{mode}.auth0.test"), "credentialsSecretRef": {"name": "creds"},
                   "endpoint": {"url": stand_in.url(mode)}}),
        )
        .await;
        apply_profile_on(&h, &format!("on-{mode}"), mode).await;
    }
    // Allowed, as a user lists a proxy: now the operator does call it.
    let allowed = format!("127.0.0.1:{}", stand_in.port);
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(
        &log,
        &["--http-address", "127.0.0.1:0", "--allowed-tenant-hosts", &allowed],
    ));

    // HTML and arbitrary JSON from the API, described by status, content type and size.
    let html = h
        .wait_for(
            "on-html",
            Duration::from_secs(30),
            "described, not shown",
            synced(
                "ReconcileError",
                "502: an answer that is not an Auth0 error (text/html, ",
            ),
        )
        .await;
    let message = condition(&html, "Synced").expect("Synced").2;
    assert!(
        message.contains(&format!("(text/html, {} bytes; not shown)", HTML_PAGE.len())),
        "{message}"
    );
    h.wait_for(
        "on-json",
        Duration::from_secs(30),
        "described, not shown",
        synced(
            "NotFound",
            "404: an answer that is not an Auth0 error (application/json, ",
        ),
    )
    .await;
    // A refused token whose JSON is not OAuth's, on the profile and the tenant.
    h.wait_for(
        "on-json-token",
        Duration::from_secs(30),
        "described, not shown",
        synced(
            "Unauthorized",
            "access denied with an answer that is not an Auth0 error (application/json",
        ),
    )
    .await;
    wait_tenant(&h, "json-token", "Unauthorized", |c| {
        c.1 == "Unauthorized" && c.2.contains("not an Auth0 error")
    })
    .await;
    // A redirect: not followed, and its target never asked.
    h.wait_for(
        "on-redirect",
        Duration::from_secs(30),
        "redirect not followed",
        synced(
            "InvalidSpec",
            "302: a redirect, not followed (text/plain, 20 bytes; not shown)",
        ),
    )
    .await;
    wait_tenant(&h, "redirect", "refused", |c| {
        c.0 == "False" && c.2.contains("a redirect, not followed")
    })
    .await;
    // Auth0's own words, from an Auth0-shaped body, are shown.
    let shown = h
        .wait_for(
            "on-auth0",
            Duration::from_secs(30),
            "Auth0's message",
            synced("InvalidSpec", "AUTH0-SAYS"),
        )
        .await;
    let message = condition(&shown, "Synced").expect("Synced").2;
    assert!(
        message.contains(&format!("Auth0 answered 400 (invalid_body): {AUTH0_WORDS}")),
        "{message}"
    );
    let events = h.events("on-auth0").await;
    assert!(events.iter().any(|e| e.2.contains("AUTH0-SAYS")), "{events:?}");

    let paths = stand_in.paths();
    // The listener was reached through the API (a create, or the listing before it).
    assert!(
        paths.iter().any(|p| p.starts_with("/html/api/v2/connection-profiles")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "/redirect/oauth/token"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("MARKER-REDIRECT-target")), "{paths:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let read = everything_people_read(&h).await;
    assert!(read.contains("AUTH0-SAYS"), "Auth0's words are shown");
    for marker in MARKERS {
        assert!(!read.contains(marker), "{marker} reached status, an Event or the log");
    }
    assert!(
        !read.contains("stand-in-token"),
        "the token reached status, an Event or the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_naming_an_unlabelled_secret_sends_nothing() {
    let mut h = Harness::prepare("sec-label", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let stand_in = StandIn::start();
    // A Secret nobody marked for the operator: say, a database password.
    let secrets: Api<Secret> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let plain = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                       "stringData": {"user": "app", "password": "db-password-value"}});
    secrets
        .patch("db", &PatchParams::apply("test").force(), &Patch::Apply(&plain))
        .await
        .expect("secret");
    apply_tenant(
        &h,
        "reader",
        json!({"domain": "reader.auth0.test",
               "credentialsSecretRef": {"name": "db", "clientIdKey": "user", "clientSecretKey": "password"},
               "endpoint": {"url": stand_in.url("auth0")}}),
    )
    .await;
    apply_profile_on(&h, "exfiltrate", "reader").await;
    let allowed = format!("127.0.0.1:{}", stand_in.port);
    let log = h.log.clone();
    h.operator = Some(h.spawn_operator(
        &log,
        &["--http-address", "127.0.0.1:0", "--allowed-tenant-hosts", &allowed],
    ));

    wait_tenant(&h, "reader", "CredentialsUnavailable", |c| {
        c.0 == "False"
            && c.1 == "CredentialsUnavailable"
            && c.2.contains("kubectl label secret -n")
            && c.2.contains("auth0.operators.dev/credentials=true")
    })
    .await;
    h.wait_for(
        "exfiltrate",
        Duration::from_secs(30),
        "CredentialsUnavailable",
        synced(
            "CredentialsUnavailable",
            "not labelled auth0.operators.dev/credentials=true",
        ),
    )
    .await;
    // The harness's own tenant works meanwhile: the operator is up and sending.
    h.apply_profile("fine", json!({})).await;
    h.wait_ready("fine").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stand_in.connections(), 0, "sent: {:?}", stand_in.paths());
    assert!(!everything_people_read(&h).await.contains("db-password-value"));

    // The label, and only it, was in the way: once set, the operator uses the Secret.
    let label = json!({"metadata": {"labels": {"auth0.operators.dev/credentials": "true"}}});
    secrets
        .patch("db", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .expect("label");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stand_in.paths().iter().any(|p| p == "/auth0/oauth/token") {
        assert!(Instant::now() < deadline, "the labelled Secret was never used");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
