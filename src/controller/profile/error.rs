//! Why a pass failed, and how that is reported: a Synced reason and whether a person must
//! act (Stalled), named together as a [`Disposition`].

use super::plan::{Claim, Holder, TenantChange};
use crate::auth0::{Auth0Error, Category};
use crate::controller::tenants::TenantError;
use crate::crd::conditions::reason;
use crate::crd::validation::Invalid;

/// A failed pass. Messages name resources, fields and ids, never a credential.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidSpec(Invalid),
    #[error("{0}")]
    Tenant(#[from] TenantError),
    #[error("{0}")]
    Auth0(#[from] Auth0Error),
    #[error("{}", name_taken(name, holder))]
    NameTaken { name: String, holder: Holder },
    #[error(
        "Auth0 refused the name {0:?} as taken (409), though a listing moments before showed it free: another client took it since; choose another spec.name, or set spec.externalID to adopt that profile"
    )]
    NameRefused(String),
    #[error(
        "Auth0 profile {id} is already managed by {owner}, which claimed it first: this resource writes nothing to it and its deletion deletes nothing; remove its spec.externalID or auth0.operators.dev/profile-id annotation, or delete this copy"
    )]
    AlreadyManaged { id: String, owner: String },
    #[error(
        "Auth0 answered 403 (feature_not_enabled): {message} The request set {}: enable the feature on the tenant, or remove {} from the spec",
        fields.join(", "),
        if fields.len() == 1 { "it" } else { "them" }
    )]
    FeatureNotEnabled { message: String, fields: Vec<String> },
    #[error("Auth0 has no profile {0}: check spec.externalID")]
    AdoptionTargetMissing(String),
    #[error("no profile named {0:?} exists in Auth0 to observe: create it, or set spec.externalID")]
    ObservedMissing(String),
    #[error("{}", tenant_changed(.0))]
    TenantChanged(TenantChange),
    /// One of the operator's own writes of the resource failed (retried with a short
    /// backoff: it costs Auth0 nothing); `write` says which.
    #[error("the Kubernetes API failed {write}: {source}")]
    Kube { write: Write, source: kube::Error },
    /// The API server refused the operator's own write of the resource (its marks or
    /// status) as invalid, or the resource leaves no room for them: the message is the API
    /// server's (or its rule's) and says what to shrink. Terminal: waits for a change.
    #[error("{0}")]
    WriteRefused(String),
    /// An annotation (or `status.id`) holds a value the operator cannot use: the message
    /// names it and what to write instead. Terminal: waits for a change.
    #[error("{0}")]
    InvalidAnnotation(String),
    /// The object does not match this version's types (accepted by another CRD): the
    /// message names the field (`controller/decode.rs`). Terminal: waits for a change.
    #[error("{0}")]
    Undecodable(String),
    /// A reference names a resource that is missing, not Ready or being deleted
    /// (`references.rs`): retried, and woken when it becomes Ready.
    #[error("{0}")]
    ReferenceNotReady(String),
    /// A reference names a resource on another tenant: terminal, waits for a change.
    #[error("{0}")]
    InvalidReference(String),
    /// Deleting the profile would break the resources that use it: the deletion waits
    /// for them to let go (retried; woken when one does).
    #[error(
        "Auth0 {noun} {id} is used by {users}: its deletion waits until they no longer reference it (delete them or change their reference), or annotate this resource auth0.operators.dev/force-orphan=true to leave the profile in Auth0"
    )]
    InUse {
        noun: &'static str,
        id: String,
        users: String,
    },
    /// Auth0 refused to delete the profile (409): something still uses it that this
    /// namespace does not show (a resource of another namespace, or a profile made outside
    /// the operator). Retried with backoff.
    #[error(
        "Auth0 refused to delete {noun} {id}: {message} Something no resource of this namespace shows still uses it (a profile of another namespace, one left in Auth0 by deletionPolicy: Orphan, or one made outside the operator): the deletion retries with backoff; remove that use, or annotate this resource auth0.operators.dev/force-orphan=true to leave the profile in Auth0"
    )]
    DeleteRefused {
        noun: &'static str,
        id: String,
        message: String,
    },
    /// Auth0 refused a create because the tenant holds as many of the kind as it may (a
    /// 409 from a kind with a quota): never a name clash.
    #[error(
        "Auth0 refused the create: the tenant holds its most {noun}s ({quota}): {message} Delete one the tenant no longer needs, or use another tenant"
    )]
    QuotaReached {
        noun: &'static str,
        quota: usize,
        message: String,
    },
    /// The pass panicked (a bug in the operator): caught (`controller/panics.rs`), reported
    /// and retried with backoff.
    #[error(
        "an internal error (a bug in the operator) ended the pass: {0}; retrying with backoff. Please report it with the operator's log"
    )]
    Internal(String),
    /// Not a failure: a look-up by name needs a newer listing of the tenant than the one
    /// at hand, and another pass is taking one. The pass ends with no write and no backoff;
    /// the resource is queued again when that listing ends (`listing.rs`).
    #[error("waiting for another pass's listing of the tenant")]
    AwaitingListing,
}

/// Which of the operator's writes of a resource to the Kubernetes API failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `status` (`status.rs`).
    Status,
    /// The finalizer and the operator's marks (`create-pending`, `profile-id`,
    /// `profile-tenant`: `marks.rs`).
    Marks,
    /// The removal of the finalizer and marks once the cleanup is done.
    Release,
}

impl std::fmt::Display for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Write::Status => "to write the resource's status",
            Write::Marks => {
                "to write the resource's finalizer and marks (auth0.operators.dev/create-pending, profile-id)"
            }
            Write::Release => "to remove the resource's finalizer",
        })
    }
}

impl Error {
    /// A failed write of the resource: `write` names which.
    pub fn kube(write: Write) -> impl FnOnce(kube::Error) -> Error {
        move |source| Error::Kube { write, source }
    }
}

fn name_taken(name: &str, holder: &Holder) -> String {
    match holder {
        Holder::Foreign { id } => format!(
            "a profile named {name:?} already exists in Auth0 ({id}) and this resource did not create it: set spec.externalID to {id} to adopt it, or choose another spec.name"
        ),
        Holder::Resource { owner, id } => format!(
            "the name {name:?} belongs to Auth0 profile {id}, which {owner} manages: choose another spec.name (adopting {id} here too would give it two owners)"
        ),
        Holder::Ambiguous { ids } => format!(
            "{} profiles named {name:?} exist in Auth0 ({}) and none can be shown to be this resource's: set spec.externalID to the one it should manage, or choose another spec.name",
            ids.len(),
            ids.join(", ")
        ),
    }
}

fn tenant_changed(change: &TenantChange) -> String {
    let TenantChange {
        recorded,
        current,
        evidence,
        repointed,
        kind,
    } = change;
    let what = match evidence {
        Claim::Recorded(id) => format!("this resource's Auth0 profile {id} is on {recorded}"),
        Claim::Uncertain { posted_name } => {
            format!("this resource's create of {posted_name:?} may have reached Auth0 on {recorded}")
        }
        Claim::External(id) => format!("this resource adopts Auth0 profile {id} on {recorded}"),
        Claim::Nothing => format!("this resource's records name {recorded}"),
    };
    match repointed {
        Some(tenant) => format!(
            "{tenant} now reaches {current}, but {what}: nothing is written or deleted on either tenant while they differ. Point {tenant} back at {recorded} (its spec.domain, spec.endpoint and credentials Secret); to use {current}, create a new {kind} (and set deletionPolicy: Orphan on this one before deleting it if its profile must stay on {recorded}); to manage both tenants, give the new one a tenant object of its own"
        ),
        None => format!(
            "spec.tenantRef names {current}, but {what}: nothing is written or deleted on either tenant while they differ. Set spec.tenantRef back to {recorded}; to use {current}, create a new {kind} that names it (and set deletionPolicy: Orphan on this one before deleting it if its profile must stay on {recorded})"
        ),
    }
}

/// How a failure is reported: the Synced reason, and whether it needs a person (Stalled;
/// no retry until the resource, its tenant or its Secret changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disposition {
    pub reason: &'static str,
    pub terminal: bool,
}

const fn terminal(reason: &'static str) -> Disposition {
    Disposition { reason, terminal: true }
}

const fn transient(reason: &'static str) -> Disposition {
    Disposition {
        reason,
        terminal: false,
    }
}

impl Error {
    pub fn disposition(&self) -> Disposition {
        match self {
            Error::InvalidSpec(_) => terminal(reason::INVALID_SPEC),
            Error::Tenant(e) => {
                let (why, stalled) = e.reason();
                Disposition {
                    reason: why,
                    terminal: stalled,
                }
            }
            Error::Auth0(e) => match e.category() {
                Category::Transient => transient(reason::RECONCILE_ERROR),
                Category::Unauthorized => terminal(reason::UNAUTHORIZED),
                Category::Forbidden => terminal(reason::FORBIDDEN),
                Category::Conflict => terminal(reason::CONFLICT),
                Category::NotFound => terminal(reason::NOT_FOUND),
                Category::Invalid => terminal(reason::INVALID_SPEC),
            },
            Error::NameTaken { .. } | Error::NameRefused(_) => terminal(reason::CONFLICT),
            Error::AlreadyManaged { .. } => terminal(reason::ALREADY_MANAGED),
            Error::FeatureNotEnabled { .. } => terminal(reason::FEATURE_NOT_ENABLED),
            Error::AdoptionTargetMissing(_) | Error::ObservedMissing(_) => terminal(reason::NOT_FOUND),
            Error::TenantChanged(_) => terminal(reason::TENANT_CHANGED),
            Error::WriteRefused(_) => terminal(reason::WRITE_REFUSED),
            Error::InvalidAnnotation(_) => terminal(reason::INVALID_ANNOTATION),
            Error::Undecodable(_) => terminal(reason::INVALID_SPEC),
            Error::ReferenceNotReady(_) => transient(reason::REFERENCE_NOT_READY),
            Error::InvalidReference(_) => terminal(reason::INVALID_REFERENCE),
            Error::InUse { .. } | Error::DeleteRefused { .. } => transient(reason::IN_USE),
            Error::QuotaReached { .. } => transient(reason::QUOTA_EXCEEDED),
            Error::Internal(_) => transient(reason::INTERNAL_ERROR),
            Error::Kube { .. } | Error::AwaitingListing => transient(reason::RECONCILE_ERROR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_and_messages() {
        let foreign = Error::NameTaken {
            name: "acme".into(),
            holder: Holder::Foreign {
                id: "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            },
        };
        assert_eq!(foreign.disposition(), terminal(reason::CONFLICT));
        assert!(
            foreign
                .to_string()
                .contains("set spec.externalID to cop_1cu7Zs1Dfru5Qc9mZea7nm")
        );
        // A name another resource owns: the message names it and never advises externalID.
        let owned = Error::NameTaken {
            name: "acme".into(),
            holder: Holder::Resource {
                owner: "ConnectionProfile team-b/acme".into(),
                id: "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            },
        };
        assert!(owned.to_string().contains("ConnectionProfile team-b/acme manages"));
        assert!(!owned.to_string().contains("set spec.externalID"));
        let claimed = Error::AlreadyManaged {
            id: "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            owner: "team-a/first".into(),
        };
        assert_eq!(claimed.disposition(), terminal(reason::ALREADY_MANAGED));
        let throttled = Error::Auth0(Auth0Error::Api {
            status: 429,
            error_code: None,
            message: "Too many requests".into(),
            retry_after: None,
        });
        assert_eq!(throttled.disposition(), transient(reason::RECONCILE_ERROR));
        let missing = Error::Tenant(TenantError::KeyMissing {
            namespace: "ns".into(),
            name: "creds".into(),
            key: "client_secret".into(),
        });
        assert_eq!(missing.disposition(), transient(reason::CREDENTIALS_UNAVAILABLE));
        assert_eq!(missing.to_string(), "Secret ns/creds has no key client_secret");
        let gone = Error::Tenant(TenantError::TenantNotFound {
            kind: crate::crd::TenantKind::ClusterAuth0Tenant,
            namespace: String::new(),
            name: "defualt".into(),
        });
        assert_eq!(gone.disposition(), transient(reason::TENANT_NOT_FOUND));
    }

    /// A failed write of the resource says which write failed, and is retried.
    #[test]
    fn a_failed_write_names_the_write() {
        let refused = || {
            kube::Error::Api(Box::new(
                kube::core::Status::failure("etcdserver: request timed out", "InternalError").with_code(500),
            ))
        };
        for (write, needle) in [
            (Write::Status, "failed to write the resource's status: "),
            (Write::Marks, "failed to write the resource's finalizer and marks"),
            (Write::Release, "failed to remove the resource's finalizer: "),
        ] {
            let error = Error::kube(write)(refused());
            assert_eq!(error.disposition(), transient(reason::RECONCILE_ERROR));
            let message = error.to_string();
            assert!(message.starts_with("the Kubernetes API failed"), "{message}");
            assert!(message.contains(needle), "{message}");
            assert!(message.contains("etcdserver: request timed out"), "{message}");
            assert!(matches!(error, Error::Kube { write: w, .. } if w == write));
        }
    }

    #[test]
    fn a_changed_tenant_stalls_and_names_both_tenants_and_the_fix() {
        let moved = Error::TenantChanged(TenantChange {
            recorded: "ClusterAuth0Tenant/default".into(),
            current: "Auth0Tenant/acme".into(),
            evidence: Claim::Recorded("cop_1cu7Zs1Dfru5Qc9mZea7nm".into()),
            repointed: None,
            kind: "ConnectionProfile",
        });
        assert_eq!(moved.disposition(), terminal(reason::TENANT_CHANGED));
        let message = moved.to_string();
        for needle in [
            "spec.tenantRef names Auth0Tenant/acme",
            "Auth0 profile cop_1cu7Zs1Dfru5Qc9mZea7nm is on ClusterAuth0Tenant/default",
            "nothing is written or deleted on either tenant",
            "Set spec.tenantRef back to ClusterAuth0Tenant/default",
            "create a new ConnectionProfile",
            "deletionPolicy: Orphan",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let pending = Error::TenantChanged(TenantChange {
            recorded: "Auth0Tenant/old".into(),
            current: "Auth0Tenant/new".into(),
            evidence: Claim::Uncertain {
                posted_name: "acme".into(),
            },
            repointed: None,
            kind: "ConnectionProfile",
        });
        assert!(
            pending
                .to_string()
                .contains("create of \"acme\" may have reached Auth0 on Auth0Tenant/old"),
            "{pending}"
        );
    }

    #[test]
    fn a_repointed_tenant_names_both_tenants_it_reached_and_the_ways_out() {
        let repointed = Error::TenantChanged(TenantChange {
            recorded: "acme.us.auth0.com".into(),
            current: "acme.eu.auth0.com".into(),
            evidence: Claim::Recorded("cop_1cu7Zs1Dfru5Qc9mZea7nm".into()),
            repointed: Some("ClusterAuth0Tenant/acme".into()),
            kind: "ConnectionProfile",
        });
        assert_eq!(repointed.disposition(), terminal(reason::TENANT_CHANGED));
        let message = repointed.to_string();
        for needle in [
            "ClusterAuth0Tenant/acme now reaches acme.eu.auth0.com",
            "Auth0 profile cop_1cu7Zs1Dfru5Qc9mZea7nm is on acme.us.auth0.com",
            "nothing is written or deleted on either tenant",
            "Point ClusterAuth0Tenant/acme back at acme.us.auth0.com",
            "give the new one a tenant object of its own",
            "deletionPolicy: Orphan",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }
}
