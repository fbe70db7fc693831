//! In-memory tenants: connection, user attribute and self-service profiles, limits,
//! faults, the request log and counters.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::Notify;

use crate::config::{ClientConfig, Config, RateLimitConfig, TenantConfig};
use crate::faults::{Endpoint, FaultRule};
use crate::profile::Profile;
use crate::ratelimit::Bucket;
use crate::self_service_profile::SelfServiceProfile;
use crate::settings::TenantSettings;
use crate::templates::TemplateItem;
use crate::token::Signer;
use crate::user_attribute_profile::UserAttributeProfile;

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

pub fn unix_secs() -> u64 {
    unix_now() as u64
}

/// One answered request, as the admin API reports it. Headers and bodies are never kept,
/// so secrets cannot leak through the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub endpoint: Endpoint,
    pub status: u16,
    /// Unix milliseconds when the request arrived.
    pub time_ms: u64,
    pub duration_ms: f64,
    /// True when the connection was dropped instead of answered (`status` is what it
    /// would have been).
    pub dropped: bool,
}

/// What a tenant holds and what can change at run time.
#[derive(Debug)]
pub struct TenantState {
    pub profiles: BTreeMap<String, Profile>,
    /// name → ids, to find a taken name without scanning (several ids only when the
    /// tenant's names are not unique).
    pub names: HashMap<String, BTreeSet<String>>,
    pub bucket: Option<Bucket>,
    pub entitled: bool,
    pub faults: Vec<FaultRule>,
    pub log: VecDeque<LogEntry>,
    pub counters: BTreeMap<Endpoint, BTreeMap<u16, u64>>,
    /// The tenant's machine-to-machine clients: secrets rotate and grants change at run time.
    pub clients: Vec<ClientConfig>,
    /// Unique names, feature flags, normalization, unknown fields.
    pub settings: TenantSettings,
    /// User attribute profiles by id (listed in id order, as recorded).
    pub user_attribute_profiles: BTreeMap<String, UserAttributeProfile>,
    /// Self-service profiles in creation order (listed so, as recorded); at most 20.
    pub self_service_profiles: Vec<SelfServiceProfile>,
    /// The custom text (`en`, `get-started`) of self-service profiles, by profile id; a
    /// profile without any has no entry.
    pub self_service_custom_texts: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl TenantState {
    fn new(config: &TenantConfig) -> Self {
        Self {
            profiles: BTreeMap::new(),
            names: HashMap::new(),
            bucket: config.rate_limit.map(|limit| Bucket::new(limit, Instant::now())),
            entitled: config.entitled,
            faults: config.faults.clone(),
            log: VecDeque::new(),
            counters: BTreeMap::new(),
            clients: config.clients.clone(),
            settings: config.settings(),
            user_attribute_profiles: BTreeMap::new(),
            self_service_profiles: Vec::new(),
            self_service_custom_texts: BTreeMap::new(),
        }
    }

    /// Whether a user attribute profile other than `except` has `name`.
    pub fn user_attribute_profile_name_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.user_attribute_profiles
            .values()
            .any(|profile| profile.name == name && Some(profile.id.as_str()) != except)
    }

    /// The self-service profile with this id.
    pub fn self_service_profile(&self, id: &str) -> Option<&SelfServiceProfile> {
        self.self_service_profiles.iter().find(|profile| profile.id == id)
    }

    /// Removes a self-service profile and its custom text; false when there was none.
    pub fn remove_self_service_profile(&mut self, id: &str) -> bool {
        let before = self.self_service_profiles.len();
        self.self_service_profiles.retain(|profile| profile.id != id);
        self.self_service_custom_texts.remove(id);
        self.self_service_profiles.len() != before
    }

    pub fn insert(&mut self, profile: Profile) {
        self.names
            .entry(profile.name.clone())
            .or_default()
            .insert(profile.id.clone());
        self.profiles.insert(profile.id.clone(), profile);
    }

    pub fn remove(&mut self, id: &str) -> Option<Profile> {
        let removed = self.profiles.remove(id)?;
        if let Some(ids) = self.names.get_mut(&removed.name) {
            ids.remove(id);
            if ids.is_empty() {
                self.names.remove(&removed.name);
            }
        }
        Some(removed)
    }

    /// Whether `name` belongs to a profile other than `except`.
    pub fn name_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.names
            .get(name)
            .is_some_and(|owners| owners.iter().any(|owner| Some(owner.as_str()) != except))
    }

    /// Replaces a stored profile, keeping the name index right.
    pub fn replace(&mut self, profile: Profile) {
        self.remove(&profile.id);
        self.insert(profile);
    }

    pub fn set_rate_limit(&mut self, limit: Option<RateLimitConfig>) {
        self.bucket = limit.map(|limit| Bucket::new(limit, Instant::now()));
    }
}

/// A change to a client: a rotated secret, a new grant, or both.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    pub client_secret: Option<String>,
    pub scopes: Option<Vec<String>>,
}

pub struct Tenant {
    pub domain: String,
    pub initial: TenantConfig,
    pub state: Mutex<TenantState>,
}

impl Tenant {
    fn new(config: &TenantConfig) -> Self {
        Self {
            domain: config.domain.clone(),
            initial: config.clone(),
            state: Mutex::new(TenantState::new(config)),
        }
    }

    /// Back to the configured start: no profiles, empty log and counters, configured
    /// faults, limits and entitlement.
    pub fn reset(&self) {
        *self.state.lock() = TenantState::new(&self.initial);
    }

    /// Rotates a client's secret and/or replaces its grant, as the Auth0 dashboard does.
    /// Tokens issued before keep working until they expire. False when there is no such client.
    pub fn update_client(&self, client_id: &str, change: ClientChange) -> bool {
        let mut state = self.state.lock();
        let Some(client) = state.clients.iter_mut().find(|c| c.client_id == client_id) else {
            return false;
        };
        if let Some(secret) = change.client_secret {
            client.client_secret = secret;
        }
        if let Some(scopes) = change.scopes {
            client.scopes = scopes;
        }
        true
    }

    pub fn issuer(&self) -> String {
        format!("https://{}/", self.domain)
    }
}

/// Everything the listeners share.
pub struct Shared {
    pub config: Config,
    pub signer: Signer,
    pub tenants: Vec<Arc<Tenant>>,
    pub templates: Vec<TemplateItem>,
    /// Woken after every change when a state file is configured.
    pub changed: Option<Arc<Notify>>,
}

impl Shared {
    pub fn new(config: Config, signer: Signer, templates: Vec<TemplateItem>) -> Self {
        let tenants = config.tenants.iter().map(|t| Arc::new(Tenant::new(t))).collect();
        let changed = config.state_file.as_ref().map(|_| Arc::new(Notify::new()));
        Self {
            config,
            signer,
            tenants,
            templates,
            changed,
        }
    }

    pub fn tenant(&self, domain: &str) -> Option<&Arc<Tenant>> {
        self.tenants
            .iter()
            .find(|tenant| tenant.domain.eq_ignore_ascii_case(domain))
    }

    /// The tenant a `Host` header names: exact, then without its port; a lone tenant
    /// answers every host so `127.0.0.1:<port>` works out of the box.
    pub fn tenant_for_host(&self, host: Option<&str>) -> Option<&Arc<Tenant>> {
        if let Some(host) = host {
            if let Some(tenant) = self.tenant(host) {
                return Some(tenant);
            }
            let bare = match host.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => host,
            };
            if let Some(tenant) = self.tenant(bare) {
                return Some(tenant);
            }
        }
        match self.tenants.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    pub fn mark_changed(&self) {
        if let Some(changed) = &self.changed {
            changed.notify_one();
        }
    }

    pub fn reset(&self) {
        for tenant in &self.tenants {
            tenant.reset();
        }
        self.mark_changed();
    }
}
