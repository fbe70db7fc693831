//! A minimal HTTP/1.1 client over a fresh connection per request, so tests see exactly
//! what the emulator sends (including a connection dropped without an answer).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use auth0_emulator::{ClientConfig, Config, Emulator, TenantConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub const ALL: [&str; 4] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
];

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub raw: Bytes,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn header_u64(&self, name: &str) -> u64 {
        self.header(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("header {name} missing or not a number: {:?}", self.headers))
    }
}

pub async fn send_on<I>(io: I, request: Request<Full<Bytes>>) -> Result<Reply, hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.into_body().collect().await?.to_bytes();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        headers,
        raw,
        body,
    })
}

pub fn request(method: &str, path: &str, host: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(path)
        .header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(Bytes::from(body))).expect("request")
}

pub async fn try_send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Reply, hyper::Error> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    send_on(stream, request(method, path, host, headers, body)).await
}

pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    try_send(addr, method, path, host, headers, body).await.expect("answer")
}

/// A client of one tenant, holding a token once it has one.
#[derive(Clone)]
pub struct Tenant {
    pub addr: SocketAddr,
    pub host: String,
    pub token: Option<String>,
}

impl Tenant {
    pub fn new(addr: SocketAddr, host: &str) -> Self {
        Self {
            addr,
            host: host.into(),
            token: None,
        }
    }

    pub async fn token_reply(&self, params: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        send(
            self.addr,
            "POST",
            "/oauth/token",
            &self.host,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.into_bytes(),
        )
        .await
    }

    pub async fn login(mut self, client_id: &str, client_secret: &str) -> Self {
        let audience = format!("https://{}/api/v2/", self.host);
        let reply = self
            .token_reply(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("audience", &audience),
            ])
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        self.token = reply.body["access_token"].as_str().map(str::to_string);
        self
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        send(
            self.addr,
            method,
            &format!("/api/v2/connection-profiles{path}"),
            &self.host,
            &headers,
            body,
        )
        .await
    }

    /// Calls any API path (`/api/v2/…`) with the token, if any.
    pub async fn call_path(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        send(self.addr, method, path, &self.host, &headers, body).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: Vec<u8>) -> Result<Reply, hyper::Error> {
        let bearer = format!("Bearer {}", self.token.as_deref().unwrap_or_default());
        try_send(
            self.addr,
            method,
            &format!("/api/v2/connection-profiles{path}"),
            &self.host,
            &[("content-type", "application/json"), ("authorization", &bearer)],
            body,
        )
        .await
    }

    pub async fn create(&self, name: &str) -> Value {
        let reply = self.call("POST", "", Some(json!({"name": name}))).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    }
}

pub fn client(id: &str, secret: &str, scopes: &[&str]) -> ClientConfig {
    ClientConfig {
        client_id: id.into(),
        client_secret: secret.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn tenant(domain: &str) -> TenantConfig {
    TenantConfig {
        domain: domain.into(),
        clients: vec![
            client("all", "all-secret", &ALL),
            client("reader", "reader-secret", &ALL[..1]),
        ],
        ..TenantConfig::default()
    }
}

pub const DOMAIN: &str = "tenant-a.auth0.local";

pub async fn start(config: Config) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// One tenant (`DOMAIN`) with an all-scopes client, started, with a logged-in client.
pub async fn start_one() -> (Emulator, Tenant) {
    let emulator = start(Config {
        tenants: vec![tenant(DOMAIN)],
        ..Config::default()
    })
    .await;
    let client = Tenant::new(emulator.api_addr(), DOMAIN)
        .login("all", "all-secret")
        .await;
    (emulator, client)
}

/// Calls the admin API.
pub async fn admin(emulator: &Emulator, method: &str, path: &str, body: Option<Value>) -> Reply {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send(
        emulator.admin_addr(),
        method,
        path,
        "admin",
        &[("content-type", "application/json")],
        body,
    )
    .await
}

pub fn tls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM"))
        .expect("CA accepted");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
