//! Start-up configuration: tenants, their clients and limits, TLS, persistence.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;
use crate::settings::{Features, NormalizeRule, TenantSettings};

/// Every scope the emulator's endpoints check: connection profiles, user attribute
/// profiles, self-service profiles and their custom text (documented).
pub const ALL_SCOPES: [&str; 14] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
    "read:user_attribute_profiles",
    "create:user_attribute_profiles",
    "update:user_attribute_profiles",
    "delete:user_attribute_profiles",
    "read:self_service_profiles",
    "create:self_service_profiles",
    "update:self_service_profiles",
    "delete:self_service_profiles",
    "read:self_service_profile_custom_texts",
    "update:self_service_profile_custom_texts",
];

/// Client id of the client that the default configuration creates.
pub const DEFAULT_CLIENT_ID: &str = "emulator-client";
/// Client secret of the client that the default configuration creates.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";
/// Domain of the tenant that the default configuration creates.
pub const DEFAULT_DOMAIN: &str = "localhost";
/// Auth0's default access-token lifetime for the Management API.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 86_400;

/// Everything the emulator needs to start. Deserialisable from a JSON file (`--config`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the shared API listener, where tenants are told apart by the `Host` header.
    pub listen: String,
    /// Address of the admin API listener.
    pub admin_listen: String,
    pub tenants: Vec<TenantConfig>,
    /// Lifetime of issued access tokens, in seconds.
    pub token_lifetime_secs: u64,
    /// Serve the API (not the admin API) over https with a freshly made CA.
    pub tls: Option<TlsConfig>,
    /// Keep profiles (and the token signing key) across restarts in this JSON file.
    pub state_file: Option<PathBuf>,
    /// Replace the built-in template catalogue with the templates in this JSON file.
    pub templates_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes (Auth0: 1 MB).
    pub max_body_bytes: usize,
    /// How many requests each tenant's log keeps (oldest dropped first).
    pub request_log_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            tenants: vec![TenantConfig::default()],
            token_lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS,
            tls: None,
            state_file: None,
            templates_file: None,
            max_body_bytes: 1024 * 1024,
            request_log_capacity: 10_000,
        }
    }
}

/// One Auth0 tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantConfig {
    /// The tenant's domain, e.g. `tenant-a.auth0.local`; matched against the `Host` header
    /// (with or without its port) and used for the token issuer and audience.
    pub domain: String,
    pub clients: Vec<ClientConfig>,
    /// Tenant-wide token bucket; `None` means unlimited.
    pub rate_limit: Option<RateLimitConfig>,
    /// When false, every connection-profile endpoint answers 403 `insufficient_entitlement`
    /// (the other resources are not affected).
    pub entitled: bool,
    /// Also serve this tenant alone on its own port (0 picks a free one).
    pub port: Option<u16>,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Names are unique per tenant (409 on a taken name); false lets duplicates through.
    pub unique_names: bool,
    /// Feature flags; each on unless set to false.
    pub features: Features,
    /// Rules by which the tenant stores fields differently from how they were sent.
    pub normalize: Vec<NormalizeRule>,
    /// Accept and store unknown fields and enum values, as a newer Auth0 would.
    pub accept_unknown: bool,
    /// The user attribute profile API is on (403 `feature_not_enabled` when off).
    pub user_attribute_profiles: bool,
    /// Deleting a user attribute profile a self-service profile uses is 409.
    pub refuse_delete_in_use: bool,
    /// A self-service profile may not have both `user_attributes` and a
    /// `user_attribute_profile_id` (400).
    pub exclusive_self_service_attributes: bool,
}

impl TenantConfig {
    /// The settings the tenant starts with (and returns to on reset).
    pub fn settings(&self) -> TenantSettings {
        TenantSettings {
            unique_names: self.unique_names,
            features: self.features,
            normalize: self.normalize.clone(),
            accept_unknown: self.accept_unknown,
            user_attribute_profiles: self.user_attribute_profiles,
            refuse_delete_in_use: self.refuse_delete_in_use,
            exclusive_self_service_attributes: self.exclusive_self_service_attributes,
        }
    }
}

impl Default for TenantConfig {
    fn default() -> Self {
        Self {
            domain: DEFAULT_DOMAIN.into(),
            clients: vec![ClientConfig::default()],
            rate_limit: None,
            entitled: true,
            port: None,
            faults: Vec::new(),
            unique_names: true,
            features: Features::default(),
            normalize: Vec::new(),
            accept_unknown: false,
            user_attribute_profiles: true,
            refuse_delete_in_use: true,
            exclusive_self_service_attributes: true,
        }
    }
}

/// A machine-to-machine application allowed the client-credentials grant.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Scopes the client grant allows, e.g. `read:connection_profiles`.
    pub scopes: Vec<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

// The secret must never reach a log line, so Debug is written by hand.
impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_second` requests per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub burst: u32,
    pub per_second: f64,
}

impl RateLimitConfig {
    pub fn is_valid(&self) -> bool {
        self.burst >= 1 && self.per_second.is_finite() && self.per_second > 0.0
    }
}

/// Where to write the PEM of the self-signed CA that signs the server certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub ca_cert_file: PathBuf,
}

impl Config {
    /// Reads a JSON configuration file; absent keys take their defaults.
    pub fn from_json_file(path: &std::path::Path) -> Result<Self, crate::Error> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| crate::Error::ParseConfig {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Checks what serde cannot: unique, non-empty domains and sane limits.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let invalid = |reason: String| Err(crate::Error::InvalidConfig { reason });
        if self.tenants.is_empty() {
            return invalid("at least one tenant is needed".into());
        }
        let mut seen = std::collections::HashSet::new();
        for tenant in &self.tenants {
            if tenant.domain.is_empty() {
                return invalid("a tenant has an empty domain".into());
            }
            if !seen.insert(tenant.domain.to_ascii_lowercase()) {
                return invalid(format!("domain {} is used twice", tenant.domain));
            }
            if tenant.rate_limit.is_some_and(|limit| !limit.is_valid()) {
                return invalid(format!(
                    "tenant {}: rate_limit needs burst >= 1 and per_second > 0",
                    tenant.domain
                ));
            }
            tenant
                .settings()
                .validate()
                .map_err(|reason| crate::Error::InvalidConfig {
                    reason: format!("tenant {}: {reason}", tenant.domain),
                })?;
            for rule in &tenant.faults {
                rule.validate().map_err(|reason| crate::Error::InvalidConfig {
                    reason: format!("tenant {}: {reason}", tenant.domain),
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_one_local_tenant_with_an_all_scopes_client() {
        let config = Config::default();
        config.validate().expect("valid");
        assert_eq!(config.tenants.len(), 1);
        assert_eq!(config.tenants[0].domain, DEFAULT_DOMAIN);
        assert_eq!(config.tenants[0].clients[0].client_id, DEFAULT_CLIENT_ID);
        assert_eq!(config.tenants[0].clients[0].scopes, ALL_SCOPES);
        assert_eq!(config.token_lifetime_secs, 86_400);
        assert_eq!(config.max_body_bytes, 1_048_576);
    }

    #[test]
    fn json_files_fill_defaults_and_refuse_unknown_keys() {
        let config: Config =
            serde_json::from_str(r#"{"tenants":[{"domain":"a.auth0.local","rate_limit":{"burst":2,"per_second":2}}]}"#)
                .expect("parses");
        assert_eq!(config.tenants[0].clients[0].client_id, DEFAULT_CLIENT_ID);
        assert!(config.tenants[0].entitled);
        assert_eq!(config.tenants[0].settings(), TenantSettings::default());
        let set: Config = serde_json::from_str(
            r#"{"tenants":[{"domain":"a","unique_names":false,"accept_unknown":true,
                "features":{"cross_app_access":false,"scim_provisioning":false,"google_workspace_provisioning":false},
                "normalize":[{"action":"lowercase","field":"connection_name_prefix_template"}]}]}"#,
        )
        .expect("parses");
        let settings = set.tenants[0].settings();
        assert!(!settings.unique_names && settings.accept_unknown && !settings.features.cross_app_access);
        assert_eq!(settings.normalize.len(), 1);
        set.validate().expect("valid");
        assert!(serde_json::from_str::<Config>(r#"{"tenant":[]}"#).is_err());
        assert!(serde_json::from_str::<Config>(r#"{"tenants":[{"domain":"a","colour":1}]}"#).is_err());
    }

    #[test]
    fn validation_refuses_duplicate_domains_and_bad_limits() {
        let twice = Config {
            tenants: vec![
                TenantConfig::default(),
                TenantConfig {
                    domain: "LOCALHOST".into(),
                    ..TenantConfig::default()
                },
            ],
            ..Config::default()
        };
        assert!(twice.validate().is_err());
        let no_tenant = Config {
            tenants: vec![],
            ..Config::default()
        };
        assert!(no_tenant.validate().is_err());
        for (burst, per_second) in [(0, 1.0), (1, 0.0), (1, f64::NAN), (1, -2.0)] {
            let limited = Config {
                tenants: vec![TenantConfig {
                    rate_limit: Some(RateLimitConfig { burst, per_second }),
                    ..TenantConfig::default()
                }],
                ..Config::default()
            };
            assert!(limited.validate().is_err(), "{burst} {per_second}");
        }
    }

    #[test]
    fn debug_output_never_shows_a_client_secret() {
        let shown = format!("{:?}", Config::default());
        assert!(shown.contains(DEFAULT_CLIENT_ID));
        assert!(!shown.contains(DEFAULT_CLIENT_SECRET));
    }
}
