//! The names the operator writes on resources and reads from them: its finalizer, its field
//! manager and the annotations (a person's and its own). Beside the conditions
//! (`conditions.rs`), so that every layer (the controller, the CLI, the tests) reads them
//! from the API's own module.

/// The finalizer the operator holds on a resource until its cleanup is done.
pub const FINALIZER: &str = "auth0.operators.dev/finalizer";
/// The field manager of every write the operator makes.
pub const MANAGER: &str = "auth0-operator";

/// The annotations a person (or the operator) sets.
pub mod annotation {
    pub const PAUSED: &str = "auth0.operators.dev/paused";
    pub const POLL_INTERVAL: &str = "auth0.operators.dev/poll-interval";
    pub const RECONCILE_REQUESTED_AT: &str = "auth0.operators.dev/reconcile-requested-at";
    pub const FORCE_ORPHAN: &str = "auth0.operators.dev/force-orphan";
    /// The operator's: the name a create is about to post, or posted without an answer.
    pub const CREATE_PENDING: &str = "auth0.operators.dev/create-pending";
    /// The operator's: the id of the profile this resource owns (also in `status.id`; this
    /// copy survives a backup restore or a re-apply that drops status).
    pub const PROFILE_ID: &str = "auth0.operators.dev/profile-id";
    /// The operator's: the tenant (`Kind/name`, as `spec.tenantRef` named it) the
    /// `create-pending` mark and the `profile-id` binding were made on, held beside them. A
    /// resource whose tenantRef no longer names it is refused (`TenantChanged`).
    pub const PROFILE_TENANT: &str = "auth0.operators.dev/profile-tenant";
    /// kubectl's copy of the last applied object (client-side `kubectl apply`); the caches
    /// drop it.
    pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
    /// In memory only, never written: the size in bytes of the [`LAST_APPLIED`] value the
    /// caches dropped (it counts toward the API server's 256 KiB of annotations).
    pub const LAST_APPLIED_BYTES: &str = "auth0.operators.dev/last-applied-bytes";
}
