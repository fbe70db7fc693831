//! The optional state file: profiles (connection, user attribute and self-service, with
//! the custom text) and the signing key, so tokens and cursors survive a restart. Written
//! atomically (temp file + rename), shortly after each change. Files written before user
//! attribute and self-service profiles existed still load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::self_service_profile::SelfServiceProfile;
use crate::state::Shared;
use crate::token::Signer;
use crate::user_attribute_profile::UserAttributeProfile;

/// Changes arriving within this window are saved together.
const SAVE_DEBOUNCE: Duration = Duration::from_millis(100);
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    pub version: u32,
    pub signing_key: String,
    /// Profiles per tenant domain.
    pub tenants: BTreeMap<String, Vec<Profile>>,
    /// User attribute profiles per tenant domain.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_attribute_profiles: BTreeMap<String, Vec<UserAttributeProfile>>,
    /// Self-service profiles per tenant domain, in creation order, with their custom text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub self_service_profiles: BTreeMap<String, Vec<StoredSelfServiceProfile>>,
}

/// A self-service profile and its custom text (`{}` when it has none).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSelfServiceProfile {
    pub profile: SelfServiceProfile,
    #[serde(default)]
    pub custom_text: serde_json::Map<String, serde_json::Value>,
}

/// What a state file restores.
pub struct Restored {
    pub signer: Signer,
    pub tenants: BTreeMap<String, Vec<Profile>>,
    pub user_attribute_profiles: BTreeMap<String, Vec<UserAttributeProfile>>,
    pub self_service_profiles: BTreeMap<String, Vec<StoredSelfServiceProfile>>,
}

pub fn load(path: &Path) -> Result<Option<Restored>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::ReadFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let file: StateFile = serde_json::from_str(&text).map_err(|source| Error::ParseState {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: &str| Error::InvalidConfig {
        reason: format!("state file {}: {reason}", path.display()),
    };
    if file.version != FORMAT_VERSION {
        return Err(bad("unknown version"));
    }
    let key: [u8; 32] = B64
        .decode(&file.signing_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad("signing_key is not 32 bytes of base64"))?;
    Ok(Some(Restored {
        signer: Signer::new(key),
        tenants: file.tenants,
        user_attribute_profiles: file.user_attribute_profiles,
        self_service_profiles: file.self_service_profiles,
    }))
}

pub fn snapshot(shared: &Shared) -> StateFile {
    let mut file = StateFile {
        version: FORMAT_VERSION,
        signing_key: B64.encode(shared.signer.secret()),
        tenants: BTreeMap::new(),
        user_attribute_profiles: BTreeMap::new(),
        self_service_profiles: BTreeMap::new(),
    };
    for tenant in &shared.tenants {
        let state = tenant.state.lock();
        let domain = tenant.domain.clone();
        file.tenants
            .insert(domain.clone(), state.profiles.values().cloned().collect());
        if !state.user_attribute_profiles.is_empty() {
            file.user_attribute_profiles.insert(
                domain.clone(),
                state.user_attribute_profiles.values().cloned().collect(),
            );
        }
        if !state.self_service_profiles.is_empty() {
            let stored = state
                .self_service_profiles
                .iter()
                .map(|profile| StoredSelfServiceProfile {
                    profile: profile.clone(),
                    custom_text: state
                        .self_service_custom_texts
                        .get(&profile.id)
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            file.self_service_profiles.insert(domain, stored);
        }
    }
    file
}

pub fn save(shared: &Shared, path: &Path) -> Result<()> {
    let write_error = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_vec(&snapshot(shared)).map_err(|error| write_error(error.into()))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}

/// Saves after changes until shutdown.
pub async fn saver(shared: Arc<Shared>, path: PathBuf, changed: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = changed.notified() => {}
            _ = shutdown.changed() => return,
        }
        tokio::time::sleep(SAVE_DEBOUNCE).await;
        let (shared, path) = (Arc::clone(&shared), path.clone());
        let saved = tokio::task::spawn_blocking(move || save(&shared, &path)).await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "cannot save the state file"),
            Err(error) => tracing::error!(error = %error, "state file saver failed"),
        }
    }
}
