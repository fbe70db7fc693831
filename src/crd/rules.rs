//! The validation rules the CRD schema and the operator share: each CEL expression beside the
//! message a user reads when it fails. The messages say what to fix.

/// Longest Auth0 profile name.
pub const NAME_MAX: usize = 50;
/// Longest connection name prefix template, counted on the raw template.
pub const PREFIX_MAX: usize = 15;
/// The variables a prefix template may hold.
pub const PREFIX_VARIABLES: [&str; 2] = ["{org_id}", "{org_name}"];

pub const EFFECTIVE_NAME_CEL: &str = "has(self.spec.name) || size(self.metadata.name) <= 50";
pub const EFFECTIVE_NAME_MSG: &str = "the Auth0 profile name defaults to metadata.name, which is longer than 50 characters: set spec.name to a name of 1 to 50 characters";

pub const PREFIX_CHARS_CEL: &str = r"self.matches('^([A-Za-z0-9-]|\\{org_id\\}|\\{org_name\\})*$')";
pub const PREFIX_CHARS_MSG: &str = "may hold only letters, digits, '-' and the variables {org_id} and {org_name}";
pub const PREFIX_LEADING_DASH_CEL: &str = "!self.startsWith('-')";
pub const PREFIX_LEADING_DASH_MSG: &str = "must not start with '-'";
pub const PREFIX_DOUBLE_DASH_CEL: &str = "!self.contains('--')";
pub const PREFIX_DOUBLE_DASH_MSG: &str = "must not contain '--'";

pub const EXTERNAL_ID_CEL: &str = "self.matches('^cop_[A-Za-z0-9]{22}$')";
pub const EXTERNAL_ID_MSG: &str = "must be an Auth0 connection profile id: cop_ followed by 22 letters or digits";

pub const ALLOWED_VALUES_CEL: &str = "!has(self.allowedValues) || size(self.allowedValues) == 0 || (size(self.allowedValues) == 2 && 'enabled' in self.allowedValues && 'disabled' in self.allowedValues)";
pub const ALLOWED_VALUES_MSG: &str = "must be empty or hold both 'enabled' and 'disabled'";

/// `spec.tenantRef` may change only while the API server sees nothing of the resource in
/// Auth0: no recorded id (`status.id`) and no adopted one (`spec.externalID`). A transition
/// rule at the object's root, the one place where both spec and status are in reach (the
/// root is always correlatable, so `oldSelf` is defined on every update). The evidence CEL
/// cannot read (the operator's `profile-id` and `create-pending` annotations) is the
/// operator's to check: it refuses with `TenantChanged` and touches neither tenant.
///
/// A change back to `status.tenantRef` (the reference the recorded id was made through) is
/// always allowed (compared field by field: CEL has no `==` across two object types; a kind
/// left out is `ClusterAuth0Tenant`, as serde defaults it): a tenantRef changed while a create was in flight gets the id recorded
/// after the change, and the operator then asks for exactly that change back.
pub const TENANT_REF_CEL: &str = "!has(oldSelf.spec.tenantRef) || (has(self.spec.tenantRef) && self.spec.tenantRef == oldSelf.spec.tenantRef) || (has(self.spec.tenantRef) && has(oldSelf.status) && has(oldSelf.status.tenantRef) && self.spec.tenantRef.name == oldSelf.status.tenantRef.name && (has(self.spec.tenantRef.kind) ? self.spec.tenantRef.kind : 'ClusterAuth0Tenant') == (has(oldSelf.status.tenantRef.kind) ? oldSelf.status.tenantRef.kind : 'ClusterAuth0Tenant')) || !(has(oldSelf.spec.externalID) || (has(oldSelf.status) && has(oldSelf.status.id) && oldSelf.status.id != ''))";
pub const TENANT_REF_MSG: &str = "cannot change once the resource has a profile in Auth0 (status.id is set) or adopts one (spec.externalID is set): to move to another tenant, create a new ConnectionProfile that names it (and set deletionPolicy: Orphan on this one before deleting it if the profile must stay)";
pub const EXTERNAL_ID_IMMUTABLE_CEL: &str =
    "!has(oldSelf.externalID) || (has(self.externalID) && self.externalID == oldSelf.externalID)";
pub const EXTERNAL_ID_IMMUTABLE_MSG: &str =
    "cannot change or be removed once set: create a new ConnectionProfile to adopt another profile";

/// Longest Auth0 user attribute profile name (documented: 1 to 128 characters).
pub const UAP_NAME_MAX: usize = 128;
pub const UAP_EFFECTIVE_NAME_CEL: &str = "has(self.spec.name) || size(self.metadata.name) <= 128";
pub const UAP_EFFECTIVE_NAME_MSG: &str = "the Auth0 user attribute profile name defaults to metadata.name, which is longer than 128 characters: set spec.name to a name of 1 to 128 characters";
pub const UAP_ID_CEL: &str = "self.matches('^uap_[A-Za-z0-9]{22}$')";
pub const UAP_ID_MSG: &str = "must be an Auth0 user attribute profile id: uap_ followed by 22 letters or digits";
pub const UAP_TENANT_REF_MSG: &str = "cannot change once the resource has a profile in Auth0 (status.id is set) or adopts one (spec.externalID is set): to move to another tenant, create a new UserAttributeProfile that names it (and set deletionPolicy: Orphan on this one before deleting it if the profile must stay)";
pub const UAP_EXTERNAL_ID_IMMUTABLE_MSG: &str =
    "cannot change or be removed once set: create a new UserAttributeProfile to adopt another profile";
/// Longest user attribute name (a key of `spec.userAttributes`; decided by the emulator from
/// Auth0's Terraform provider: Auth0's schema states none).
pub const UAP_ATTRIBUTE_NAME_MAX: usize = 50;
pub const UAP_ATTRIBUTE_NAMES_CEL: &str = "self.all(k, size(k) >= 1 && size(k) <= 50)";
pub const UAP_ATTRIBUTE_NAMES_MSG: &str = "every attribute name (key) must be 1 to 50 characters long";

/// Longest Auth0 self-service profile name (documented: 1 to 100 characters).
pub const SSP_NAME_MAX: usize = 100;
pub const SSP_EFFECTIVE_NAME_CEL: &str = "has(self.spec.name) || size(self.metadata.name) <= 100";
pub const SSP_EFFECTIVE_NAME_MSG: &str = "the Auth0 self-service profile name defaults to metadata.name, which is longer than 100 characters: set spec.name to a name of 1 to 100 characters";
pub const SSP_ID_CEL: &str = "self.matches('^ssp_[A-Za-z0-9]{22}$')";
pub const SSP_ID_MSG: &str = "must be an Auth0 self-service profile id: ssp_ followed by 22 letters or digits";
pub const SSP_TENANT_REF_MSG: &str = "cannot change once the resource has a profile in Auth0 (status.id is set) or adopts one (spec.externalID is set): to move to another tenant, create a new SelfServiceProfile that names it (and set deletionPolicy: Orphan on this one before deleting it if the profile must stay)";
pub const SSP_EXTERNAL_ID_IMMUTABLE_MSG: &str =
    "cannot change or be removed once set: create a new SelfServiceProfile to adopt another profile";
pub const SSP_REF_ONE_OF_CEL: &str = "has(self.name) != has(self.id)";
pub const SSP_REF_ONE_OF_MSG: &str = "set exactly one of name (a UserAttributeProfile in this namespace) and id (an Auth0 user attribute profile id, uap_ followed by 22 letters or digits)";
/// Auth0's Terraform provider and Deploy CLI refuse both, the guide says a profile with a
/// user attribute profile has no attributes of its own, and a tenant may answer 400 (the
/// emulator's `exclusive_self_service_attributes`; not recorded): refused up front.
pub const SSP_EXCLUSIVE_CEL: &str =
    "!has(self.userAttributeProfileRef) || !has(self.userAttributes) || size(self.userAttributes) == 0";
pub const SSP_EXCLUSIVE_MSG: &str = "cannot be set together with userAttributeProfileRef: the profile then takes its attributes from the user attribute profile, so remove userAttributes or the reference";
pub const SSP_LOGO_URL_CEL: &str = "self.startsWith('https://')";
pub const SSP_LOGO_URL_MSG: &str = "must be an https:// URL";
pub const SSP_COLOR_CEL: &str = "self.matches('^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$')";
pub const SSP_COLOR_MSG: &str = "must be a hex colour: # followed by 3 or 6 hex digits, such as #0059d6";
