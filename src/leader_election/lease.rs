//! The Lease's reads and writes for the election: get, create, and replace under the
//! `resourceVersion` read (optimistic concurrency: of two replicas writing after the same
//! read, one gets a conflict and reads again). What to write comes from `rules`.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};

use super::rules::{self, Timing};

/// The Lease `name` in one namespace, read and written as `identity`.
pub struct LeaseStore {
    api: kube::Api<Lease>,
    name: String,
    identity: String,
    field_manager: String,
}

impl LeaseStore {
    /// A store for the Lease `name` in `api`'s namespace, writing as `identity` with the
    /// field manager `field_manager`.
    pub fn new(api: kube::Api<Lease>, name: &str, identity: &str, field_manager: &str) -> LeaseStore {
        LeaseStore {
            api,
            name: name.to_string(),
            identity: identity.to_string(),
            field_manager: field_manager.to_string(),
        }
    }

    /// This replica's name in the Lease.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The Lease, or `None` when it does not exist. Errors: the API server's (403 when the
    /// Role lacks `get` on Leases), or the connection's.
    pub async fn read(&self) -> Result<Option<Lease>, kube::Error> {
        self.api.get_opt(&self.name).await
    }

    /// Writes this replica in as holder over `current` (the Lease as read; `None`: create it):
    /// a take, or a renewal when it already holds it. The Lease as the API server returned
    /// it, or `None` when another write came first (a conflict, or the Lease was created
    /// meanwhile): read again. Errors: any other refusal or a connection failure.
    pub async fn take(&self, current: Option<&Lease>, timing: &Timing) -> Result<Option<Lease>, kube::Error> {
        let spec = rules::taken(
            current.and_then(|l| l.spec.as_ref()),
            &self.identity,
            timing,
            Timestamp::now(),
        );
        let result = match current {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(spec),
                };
                self.api.create(&self.post_params(), &lease).await
            }
            Some(current) => self.replace(current, spec).await,
        };
        match result {
            Ok(lease) => Ok(Some(lease)),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Clears the holder if it is still this replica, so a standby takes over at once.
    /// `Ok(false)` when another replica holds it (nothing written). Errors: the API server's
    /// or the connection's; a conflict is read again, twice at most.
    pub async fn release(&self) -> Result<bool, kube::Error> {
        for _ in 0..3 {
            let Some(current) = self.read().await? else {
                return Ok(false);
            };
            let spec = current.spec.clone().unwrap_or_default();
            if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
                return Ok(false);
            }
            match self.replace(&current, rules::released(&spec, Timestamp::now())).await {
                Ok(_) => return Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Replaces the Lease's spec; the `resourceVersion` of `current` makes the write fail
    /// with 409 when the Lease changed since it was read.
    async fn replace(&self, current: &Lease, spec: LeaseSpec) -> Result<Lease, kube::Error> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                resource_version: current.metadata.resource_version.clone(),
                // Left out of a replace, the server keeps them as they are.
                managed_fields: None,
                ..current.metadata.clone()
            },
            spec: Some(spec),
        };
        self.api.replace(&self.name, &self.post_params(), &lease).await
    }

    fn post_params(&self) -> PostParams {
        PostParams {
            dry_run: false,
            field_manager: Some(self.field_manager.clone()),
        }
    }
}
