//! The optional state file: profiles and the signing key, so tokens and cursors survive a
//! restart. Written atomically (temp file + rename), shortly after each change.

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
use crate::state::Shared;
use crate::token::Signer;

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
}

/// What a state file restores.
pub struct Restored {
    pub signer: Signer,
    pub tenants: BTreeMap<String, Vec<Profile>>,
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
    }))
}

pub fn snapshot(shared: &Shared) -> StateFile {
    StateFile {
        version: FORMAT_VERSION,
        signing_key: B64.encode(shared.signer.secret()),
        tenants: shared
            .tenants
            .iter()
            .map(|tenant| {
                let state = tenant.state.lock();
                (tenant.domain.clone(), state.profiles.values().cloned().collect())
            })
            .collect(),
    }
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
