//! Condition types and reasons (operator-conventions.md): reasons are CamelCase words, never
//! error text.

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

pub mod reason {
    pub const AVAILABLE: &str = "Available";
    pub const CREATING: &str = "Creating";
    pub const DELETING: &str = "Deleting";
    pub const UNAVAILABLE: &str = "Unavailable";
    pub const PAUSED: &str = "Paused";

    pub const RECONCILE_SUCCESS: &str = "ReconcileSuccess";
    pub const RECONCILE_ERROR: &str = "ReconcileError";
    pub const RECONCILE_PAUSED: &str = "ReconcilePaused";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const UNAUTHORIZED: &str = "Unauthorized";
    pub const FORBIDDEN: &str = "Forbidden";
    pub const CONFLICT: &str = "Conflict";
    pub const NOT_FOUND: &str = "NotFound";
    pub const CREDENTIALS_UNAVAILABLE: &str = "CredentialsUnavailable";
    /// The Auth0Tenant or ClusterAuth0Tenant that spec.tenantRef names does not exist.
    pub const TENANT_NOT_FOUND: &str = "TenantNotFound";
    /// spec.tenantRef no longer names the tenant this resource's profile (or interrupted
    /// create) is on: nothing is written or deleted on either tenant.
    pub const TENANT_CHANGED: &str = "TenantChanged";
    /// A ClusterAuth0Tenant's namespaceSelector does not match the profile's namespace.
    pub const NAMESPACE_NOT_ALLOWED: &str = "NamespaceNotAllowed";
    /// The tenant points at a host outside the operator's `--allowed-tenant-hosts`.
    pub const HOST_NOT_ALLOWED: &str = "HostNotAllowed";
    /// Another resource claimed the same Auth0 profile first (one profile, one owner).
    pub const ALREADY_MANAGED: &str = "AlreadyManaged";
    /// Auth0 refused a field its tenant lacks the feature for (403 `feature_not_enabled`).
    pub const FEATURE_NOT_ENABLED: &str = "FeatureNotEnabled";
    /// Auth0 keeps a value other than the one sent: the PATCH is not sent again.
    pub const NOT_CONVERGING: &str = "NotConverging";
    /// A pass panicked (a bug in the operator): caught, logged and retried with backoff.
    pub const INTERNAL_ERROR: &str = "InternalError";
    /// The API server refused the operator's own write to the resource (422 Invalid, e.g.
    /// `metadata.annotations: Too long`): the user must change the resource.
    pub const WRITE_REFUSED: &str = "WriteRefused";
    /// An annotation holds a value the operator cannot use (a `profile-id` that is not a
    /// connection profile id): the message names it and what to write.
    pub const INVALID_ANNOTATION: &str = "InvalidAnnotation";

    /// A reference (`spec.userAttributeProfileRef`) names a resource that is missing, not
    /// Ready yet, or being deleted: nothing is sent until it is Ready.
    pub const REFERENCE_NOT_READY: &str = "ReferenceNotReady";
    /// A reference names a resource on another tenant.
    pub const INVALID_REFERENCE: &str = "InvalidReference";
    /// The deletion waits: other resources reference this one (the message names them).
    pub const IN_USE: &str = "InUse";
    /// Auth0 refused a create: the tenant holds as many of the kind as it may.
    pub const QUOTA_EXCEEDED: &str = "QuotaExceeded";

    pub const PROGRESSING: &str = "Progressing";
    pub const IDLE: &str = "Idle";
}
