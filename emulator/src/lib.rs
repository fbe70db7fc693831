//! An emulator of the Auth0 Management API for connection profiles, user attribute
//! profiles and self-service profiles, to start in-process in tests (`Emulator::start`) or
//! as the `auth0-emulator` binary.
#![forbid(unsafe_code)]
// Handlers return a finished HTTP answer as their error, once per request; boxing it would
// only add an allocation.
#![allow(clippy::result_large_err)]

mod admin;
pub mod api;
pub mod clock;
pub mod config;
mod error;
pub mod faults;
mod http;
pub mod paging;
mod persist;
pub mod profile;
pub mod random;
pub mod ratelimit;
pub mod schema;
pub mod self_service_profile;
mod server;
pub mod settings;
pub mod state;
pub mod templates;
mod tls;
pub mod token;
pub mod user_attribute_profile;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{ClientConfig, Config, RateLimitConfig, TenantConfig, TlsConfig};
pub use error::{Error, Result};
pub use faults::{Endpoint, FaultRule};
pub use profile::Profile;
pub use self_service_profile::SelfServiceProfile;
pub use settings::{Features, NormalizeRule, TenantSettings};
pub use state::{ClientChange, LogEntry};
pub use user_attribute_profile::UserAttributeProfile;

use server::Role;
use state::Shared;

/// Puts what a state file holds back into the configured tenants.
fn restore(shared: &Shared, restored: persist::Restored) {
    let tenant = |domain: &str| {
        let found = shared.tenant(domain);
        if found.is_none() {
            tracing::warn!(%domain, "state file names a tenant that is not configured");
        }
        found
    };
    for (domain, profiles) in restored.tenants {
        if let Some(tenant) = tenant(&domain) {
            let mut state = tenant.state.lock();
            for profile in profiles {
                state.insert(profile);
            }
        }
    }
    for (domain, profiles) in restored.user_attribute_profiles {
        if let Some(tenant) = tenant(&domain) {
            let mut state = tenant.state.lock();
            for profile in profiles {
                state.user_attribute_profiles.insert(profile.id.clone(), profile);
            }
        }
    }
    for (domain, stored) in restored.self_service_profiles {
        if let Some(tenant) = tenant(&domain) {
            let mut state = tenant.state.lock();
            for entry in stored {
                if !entry.custom_text.is_empty() {
                    state
                        .self_service_custom_texts
                        .insert(entry.profile.id.clone(), entry.custom_text);
                }
                state.self_service_profiles.push(entry.profile);
            }
        }
    }
}

/// A running emulator. Dropping it stops the listeners; `shutdown` also waits for them and
/// writes the state file one last time.
pub struct Emulator {
    shared: Arc<Shared>,
    scheme: &'static str,
    api_addr: SocketAddr,
    admin_addr: SocketAddr,
    tenant_addrs: Vec<(String, SocketAddr)>,
    ca_pem: Option<String>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(address: &str) -> Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|source| Error::Bind {
        address: address.to_string(),
        source,
    })
}

fn local_addr(listener: &TcpListener, address: &str) -> Result<SocketAddr> {
    listener.local_addr().map_err(|source| Error::Bind {
        address: address.to_string(),
        source,
    })
}

impl Emulator {
    /// Validates the configuration, restores the state file if any, writes the CA file if
    /// TLS is on, and starts listening.
    pub async fn start(config: Config) -> Result<Self> {
        config.validate()?;
        let templates = match &config.templates_file {
            Some(path) => templates::load(path)?,
            None => templates::built_in(),
        };
        let restored = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let signer = restored
            .as_ref()
            .map_or_else(token::Signer::random, |restored| restored.signer.clone());
        let tls = match &config.tls {
            Some(tls_config) => {
                let domains: Vec<String> = config.tenants.iter().map(|t| t.domain.clone()).collect();
                let material = tls::make(&domains)?;
                std::fs::write(&tls_config.ca_cert_file, &material.ca_pem).map_err(|source| Error::WriteFile {
                    path: tls_config.ca_cert_file.clone(),
                    source,
                })?;
                Some(material)
            }
            None => None,
        };
        let shared = Arc::new(Shared::new(config, signer, templates));
        if let Some(restored) = restored {
            restore(&shared, restored);
        }

        let (shutdown, shutdown_rx) = watch::channel(false);
        let acceptor = tls.as_ref().map(|material| material.acceptor.clone());
        let mut tasks = Vec::new();
        let listen = shared.config.listen.clone();
        let api_listener = bind(&listen).await?;
        let api_addr = local_addr(&api_listener, &listen)?;
        let admin_listen = shared.config.admin_listen.clone();
        let admin_listener = bind(&admin_listen).await?;
        let admin_addr = local_addr(&admin_listener, &admin_listen)?;
        let mut tenant_addrs = Vec::new();
        for tenant in &shared.tenants {
            if let Some(port) = tenant.initial.port {
                let host = api_addr.ip();
                let address = SocketAddr::new(host, port).to_string();
                let listener = bind(&address).await?;
                tenant_addrs.push((tenant.domain.clone(), local_addr(&listener, &address)?));
                tasks.push(tokio::spawn(server::accept_loop(
                    listener,
                    acceptor.clone(),
                    Role::Api(Some(Arc::clone(tenant))),
                    Arc::clone(&shared),
                    shutdown_rx.clone(),
                )));
            }
        }
        tasks.push(tokio::spawn(server::accept_loop(
            api_listener,
            acceptor,
            Role::Api(None),
            Arc::clone(&shared),
            shutdown_rx.clone(),
        )));
        tasks.push(tokio::spawn(server::accept_loop(
            admin_listener,
            None,
            Role::Admin,
            Arc::clone(&shared),
            shutdown_rx.clone(),
        )));
        if let (Some(path), Some(changed)) = (&shared.config.state_file, &shared.changed) {
            tasks.push(tokio::spawn(persist::saver(
                Arc::clone(&shared),
                path.clone(),
                Arc::clone(changed),
                shutdown_rx,
            )));
        }
        Ok(Self {
            shared,
            scheme: if tls.is_some() { "https" } else { "http" },
            api_addr,
            admin_addr,
            tenant_addrs,
            ca_pem: tls.map(|material| material.ca_pem),
            shutdown,
            tasks,
        })
    }

    /// `http(s)://127.0.0.1:PORT` of the shared listener (tenants chosen by `Host`).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.api_addr)
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// `http://127.0.0.1:PORT` of the admin API (always plain http).
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The URL of a tenant's dedicated port, or the shared one when it has none.
    pub fn tenant_url(&self, domain: &str) -> Option<String> {
        self.shared.tenant(domain)?;
        Some(
            self.tenant_addrs
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(domain))
                .map_or_else(|| self.base_url(), |(_, addr)| format!("{}://{addr}", self.scheme)),
        )
    }

    /// PEM of the CA that signed the server certificate, when TLS is on.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The stored profiles of a tenant, in id order.
    pub fn profiles(&self, domain: &str) -> Option<Vec<Profile>> {
        let tenant = self.shared.tenant(domain)?;
        Some(tenant.state.lock().profiles.values().cloned().collect())
    }

    /// The stored user attribute profiles of a tenant, in id order.
    pub fn user_attribute_profiles(&self, domain: &str) -> Option<Vec<UserAttributeProfile>> {
        let tenant = self.shared.tenant(domain)?;
        Some(tenant.state.lock().user_attribute_profiles.values().cloned().collect())
    }

    /// The stored self-service profiles of a tenant, in creation order.
    pub fn self_service_profiles(&self, domain: &str) -> Option<Vec<SelfServiceProfile>> {
        let tenant = self.shared.tenant(domain)?;
        Some(tenant.state.lock().self_service_profiles.clone())
    }

    /// The request log of a tenant, oldest first.
    pub fn requests(&self, domain: &str) -> Option<Vec<LogEntry>> {
        let tenant = self.shared.tenant(domain)?;
        Some(tenant.state.lock().log.iter().cloned().collect())
    }

    /// Replaces a tenant's faults; false when the tenant is unknown or a rule is invalid.
    pub fn set_faults(&self, domain: &str, rules: Vec<FaultRule>) -> bool {
        let Some(tenant) = self.shared.tenant(domain) else {
            return false;
        };
        if rules.iter().any(|rule| rule.validate().is_err()) {
            return false;
        }
        tenant.state.lock().faults = rules;
        true
    }

    /// Rotates a client's secret and/or replaces its scopes. False when the tenant or the
    /// client does not exist.
    pub fn update_client(&self, domain: &str, client_id: &str, change: ClientChange) -> bool {
        self.shared
            .tenant(domain)
            .is_some_and(|tenant| tenant.update_client(client_id, change))
    }

    /// A tenant's current settings (unique names, feature flags, normalization, unknown
    /// fields).
    pub fn settings(&self, domain: &str) -> Option<TenantSettings> {
        Some(self.shared.tenant(domain)?.state.lock().settings.clone())
    }

    /// Replaces a tenant's settings; false when the tenant is unknown or a rule is invalid.
    pub fn set_settings(&self, domain: &str, settings: TenantSettings) -> bool {
        let Some(tenant) = self.shared.tenant(domain) else {
            return false;
        };
        if settings.validate().is_err() {
            return false;
        }
        tenant.state.lock().settings = settings;
        true
    }

    /// Turns the connection-profile feature on or off for a tenant (the other resources are
    /// not affected).
    pub fn set_entitled(&self, domain: &str, entitled: bool) -> bool {
        self.shared
            .tenant(domain)
            .map(|tenant| tenant.state.lock().entitled = entitled)
            .is_some()
    }

    /// Every tenant back to its configured start.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops listening, lets open connections finish, and saves the state file.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        match &self.shared.config.state_file {
            Some(path) => persist::save(&self.shared, path),
            None => Ok(()),
        }
    }
}
