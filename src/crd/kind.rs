//! What makes a resource kind: the one trait the kind-agnostic engine (`controller/profile/`)
//! reconciles through. A kind is one file (`connection_profile.rs`,
//! `user_attribute_profile.rs`, `self_service_profile.rs`): its CRD types, its Auth0 API
//! ([`Auth0Api`]: path, id prefix, paging, scopes), its body mapping (spec to Management API
//! body, Auth0's answer back to the resource's spelling), its validation and its references
//! to other kinds. Ownership, the pure plan, the shared listings, lanes, status, marks,
//! memory, metrics and the CLI are the engine's, the same for every kind.
//!
//! docs/kinds.md says how to add a fourth kind.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::{CustomResourceExt, Resource};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tenant::TenantRef;
use super::validation::Invalid;
use super::{DeletionPolicy, ManagementPolicy, PendingChange};

/// How a list endpoint pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `?take=N&from=CURSOR`, answered `{"<list_field>": [...], "next": "CURSOR"}`; the last
    /// page has no `next` (connection profiles, user attribute profiles; documented).
    Checkpoint,
    /// `?page=K&per_page=N&include_totals=true`, answered `{"<list_field>": [...], "start",
    /// "limit", "total"}`; `page` counts from 0 (self-service profiles; documented).
    Offset,
}

/// One kind's Auth0 Management API: every call the engine makes for it.
#[derive(Clone, Debug)]
pub struct Auth0Api {
    /// The Kubernetes kind reconciled against it: `ConnectionProfile`.
    pub kind: &'static str,
    /// The collection under `/api/v2/`: `connection-profiles`.
    pub path: &'static str,
    /// The key of a list answer's items: `connection_profiles`.
    pub list_field: &'static str,
    /// The prefix of the kind's ids (`cop_`); an id is the prefix and 22 letters or digits.
    pub id_prefix: &'static str,
    /// How its list endpoint pages.
    pub paging: Paging,
    /// Items asked for per list page (the listing costs ceil(N/page_size) calls).
    pub page_size: usize,
    /// What Auth0 calls one item, for messages: `connection profile`.
    pub noun: &'static str,
    /// The scopes a client needs to read, create, update and delete items.
    pub scopes: [&'static str; 4],
    /// The scopes a client also needs for a resource that sets documents kept beside its
    /// item ([`Kind::sub_documents`]: a self-service profile's custom text), to read and
    /// replace them; a tenant whose resources set one lists them in `status.missingScopes`
    /// when lacking.
    pub document_scopes: &'static [&'static str],
    /// The most items a tenant may hold, when Auth0 documents one (self-service profiles:
    /// 20, a create past it answered 409); a 409 then is never read as a name clash.
    pub quota: Option<usize>,
    /// Whether Auth0 keeps names unique (409 on a create of a taken name): a 409 on create
    /// then means the name is taken. Self-service profiles allow repeated names (recorded).
    pub unique_names: bool,
    /// The key of the list answer of `GET /api/v2/{path}/templates` (each template
    /// `{id, display_name, template}`, not paginated), when Auth0 serves templates of the
    /// kind: `connection_profile_templates`. The command line's `templates` reads it.
    pub templates: Option<&'static str>,
}

impl Auth0Api {
    /// Whether `id` has the shape of this kind's ids: the prefix and 22 letters or digits.
    pub fn is_id(&self, id: &str) -> bool {
        id.strip_prefix(self.id_prefix)
            .is_some_and(|rest| rest.len() == 22 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    }
}

/// The fields every kind's spec has, as the engine reads them.
#[derive(Clone, Copy, Debug)]
pub struct Common<'a> {
    /// The Auth0 name: `spec.name`, else `metadata.name`.
    pub name: &'a str,
    pub tenant_ref: &'a TenantRef,
    pub deletion_policy: DeletionPolicy,
    pub management_policy: ManagementPolicy,
    pub external_id: Option<&'a str>,
}

/// A reference from one resource to another kind's resource, as its spec names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The wire field the referenced id goes in: `user_attribute_profile_id`.
    pub field: &'static str,
    /// The spec field, for messages: `spec.userAttributeProfileRef`.
    pub spec_field: &'static str,
    /// The referenced kind: `UserAttributeProfile`.
    pub kind: &'static str,
    /// What the spec names.
    pub target: Target,
}

/// What a reference names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A resource of the referenced kind in the same namespace, by `metadata.name`.
    Name(String),
    /// An Auth0 id, sent as it is.
    Id(String),
}

/// The ids the references resolved to, by wire field.
pub type Resolved = BTreeMap<&'static str, String>;

/// A document kept beside an item at `{path}/{id}/{suffix}` (GET, and PUT whole): a
/// self-service profile's custom text.
#[derive(Clone, Debug, PartialEq)]
pub struct SubDocument {
    /// Under the item: `custom-text/en/get-started`.
    pub suffix: &'static str,
    /// The spec field, for messages and Events: `spec.customText.en.getStarted`.
    pub spec_field: &'static str,
    /// What the spec asks for (a JSON object of strings).
    pub desired: Map<String, Value>,
}

impl SubDocument {
    /// What replacing the document Auth0 `held` (its GET's answer) would change: `None` when
    /// it already holds what the spec asks for; else the change as `pendingChanges` shows it
    /// (Auth0's value absent when it holds none).
    pub fn change(&self, held: &Value) -> Option<PendingChange> {
        if held.as_object() == Some(&self.desired) {
            return None;
        }
        let empty = held.is_null() || held.as_object().is_some_and(Map::is_empty);
        Some(PendingChange {
            field: self.spec_field.to_string(),
            auth0: (!empty).then(|| held.to_string()),
            desired: Some(Value::Object(self.desired.clone()).to_string()),
        })
    }
}

/// A resource kind the engine reconciles. Every method is pure.
pub trait Kind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + CustomResourceExt
    + Clone
    + fmt::Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The item as Auth0 last reported it, in the resource's camelCase (`status.atProvider`).
    type AtProvider: Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static;

    /// The kind's Management API.
    const AUTH0: &'static Auth0Api;

    /// The fields every spec has.
    fn common(&self) -> Common<'_>;

    /// The resource's status.
    fn status(&self) -> Option<&Status<Self::AtProvider>>;

    /// A resource with `metadata`, `status` and a default spec: what the watch keeps of an
    /// object the types cannot read (`controller/decode.rs`).
    fn blank(metadata: ObjectMeta, status: Option<Status<Self::AtProvider>>) -> Self;

    /// The spec checked as the CRD schema would (an older CRD may be installed): every
    /// broken rule with its field path and what to fix.
    fn validate(&self) -> Result<(), Invalid>;

    /// What the spec names of other kinds' resources.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// Every writable field in wire spelling and canonical form (what the spec leaves out is
    /// the field's empty value or Auth0's default), with each reference's resolved id.
    fn desired(&self, resolved: &Resolved) -> Map<String, Value>;

    /// The body of a create: what [`Kind::desired`] holds that must be said.
    fn create_body(desired: &Map<String, Value>) -> Map<String, Value>;

    /// The body of a PATCH of the fields that differ (`changed`), given Auth0's copy.
    fn patch_body(changed: &Map<String, Value>, remote: &Value) -> Map<String, Value>;

    /// Auth0's copy reduced to the writable fields this version knows, canonical like
    /// [`Kind::desired`], so the two compare.
    fn normalize(remote: &Value) -> Map<String, Value>;

    /// Auth0's copy in the resource's spelling, for `status.atProvider`.
    fn at_provider(remote: &Value) -> Option<Self::AtProvider>;

    /// What Auth0 holds that this version cannot express, as `path: value` lines.
    fn unrecognized(remote: &Value) -> Vec<String>;

    /// The spec path of a wire field, for messages: `organization.show_as_button` is
    /// `spec.organization.showAsButton`.
    fn spec_path(wire: &str) -> String;

    /// The fields of `body` an early-access feature guards (Auth0 answers 403
    /// `feature_not_enabled` on a tenant without it), as wire paths.
    fn guarded_fields(_body: &Map<String, Value>) -> Vec<String> {
        Vec::new()
    }

    /// The documents kept beside the item that the spec sets.
    fn sub_documents(&self) -> Vec<SubDocument> {
        Vec::new()
    }

    /// `field: auth0 -> desired` changes under Observe (`status.pendingChanges`).
    fn field_changes(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Vec<PendingChange> {
        crate::controller::desired::field_changes(desired, remote)
            .into_iter()
            .map(Into::into)
            .collect()
    }
}

/// The profile as the operator last found it in Auth0, and the outcome of its last pass.
/// The operator writes only status, never spec.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(bound = "A: JsonSchema")]
#[serde(bound(deserialize = "A: Deserialize<'de>", serialize = "A: Serialize"))]
pub struct Status<A> {
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Auth0 profile id, written right after the create succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The Auth0 tenant domain that holds the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The tenantRef the profile in `id` was made or adopted through. Once `id` is set,
    /// spec.tenantRef can still be changed back to this one (when it was edited while the
    /// profile's create was still in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<TenantRef>,
    /// The profile as Auth0 last reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<A>,
    /// What Auth0 holds that this version of the operator cannot express (fields and enum
    /// values of a newer Auth0), as `path: value` lines: kept in Auth0, never changed, never
    /// counted as drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecognized: Vec<String>,
    /// The last value of the auth0.operators.dev/reconcile-requested-at annotation the
    /// operator acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// Under `managementPolicy: Observe`: what `Manage` would change in Auth0, field by field
    /// (empty when the profile matches the spec). Not set under `Manage`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["field"]))]
    pub pending_changes: Vec<PendingChange>,
    /// How many `pendingChanges` there are (the PENDING column); set under Observe only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change_count: Option<i64>,
    /// Ready (the profile exists in Auth0), Synced (the last pass applied the spec),
    /// Reconciling (work in progress or retried) and Stalled (a person must act).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

impl<A> Default for Status<A> {
    fn default() -> Self {
        Status {
            observed_generation: None,
            id: None,
            tenant: None,
            tenant_ref: None,
            at_provider: None,
            unrecognized: Vec::new(),
            last_handled_reconcile_at: None,
            pending_changes: Vec::new(),
            pending_change_count: None,
            conditions: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ConnectionProfile, SelfServiceProfile, UserAttributeProfile};

    /// A document differs when Auth0 holds anything but what the spec asks for; the change
    /// shows Auth0's value only when it holds one.
    #[test]
    fn a_sub_document_changes_unless_auth0_holds_the_spec() {
        let document = SubDocument {
            suffix: "custom-text/en/get-started",
            spec_field: "spec.customText.en.getStarted",
            desired: serde_json::json!({"introduction": "Welcome"})
                .as_object()
                .cloned()
                .unwrap(),
        };
        assert_eq!(document.change(&serde_json::json!({"introduction": "Welcome"})), None);
        let changed = document
            .change(&serde_json::json!({"introduction": "Hello"}))
            .expect("differs");
        assert_eq!(changed.field, "spec.customText.en.getStarted");
        assert_eq!(changed.auth0.as_deref(), Some(r#"{"introduction":"Hello"}"#));
        assert_eq!(changed.desired.as_deref(), Some(r#"{"introduction":"Welcome"}"#));
        for none in [serde_json::json!({}), Value::Null] {
            let change = document.change(&none).expect("differs");
            assert_eq!(change.auth0, None, "{none}");
            assert_eq!(change.desired.as_deref(), Some(r#"{"introduction":"Welcome"}"#));
        }
        // An extra key Auth0 holds is a difference too (the PUT replaces the whole text).
        assert!(
            document
                .change(&serde_json::json!({"introduction": "Welcome", "other": "x"}))
                .is_some()
        );
    }

    /// The lanes and the wake stream name a kind by `Auth0Api::kind`: it must be the kind's
    /// own name, or a woken resource would reach no controller.
    #[test]
    fn each_kind_names_itself_in_its_api() {
        fn check<K: Kind>() {
            assert_eq!(K::AUTH0.kind, K::kind(&()).as_ref());
        }
        check::<ConnectionProfile>();
        check::<UserAttributeProfile>();
        check::<SelfServiceProfile>();
    }

    #[test]
    fn an_id_is_the_prefix_and_22_letters_or_digits() {
        let api = ConnectionProfile::AUTH0;
        assert!(api.is_id("cop_1cu7Zs1Dfru5Qc9mZea7nm"));
        for bad in [
            "cop_1cu7Zs1Dfru5Qc9mZea7n",
            "cop_1cu7Zs1Dfru5Qc9mZea7nmm",
            "uap_1cu7Zs1Dfru5Qc9mZea7nm",
            "cop_1cu7Zs1Dfru5Qc9mZea7n/",
            "",
        ] {
            assert!(!api.is_id(bad), "{bad}");
        }
        assert!(UserAttributeProfile::AUTH0.is_id("uap_1cu7Zs1Dfru5Qc9mZea7nm"));
        assert!(SelfServiceProfile::AUTH0.is_id("ssp_1cu7Zs1Dfru5Qc9mZea7nm"));
    }

    /// The trait's defaults, as the kinds that keep them see them: no references, no
    /// early-access fields, no documents; and the changes Observe reports (one per field).
    #[test]
    fn the_defaults_say_nothing_more_and_field_changes_name_each_field() {
        let uap = UserAttributeProfile::new("attrs", Default::default());
        assert!(uap.references().is_empty());
        assert!(uap.sub_documents().is_empty());
        let body = serde_json::json!({"name": "attrs", "user_attributes": {}, "user_id": {}});
        assert!(UserAttributeProfile::guarded_fields(body.as_object().expect("object")).is_empty());
        let desired = serde_json::json!({"name": "a", "connection_name_prefix_template": "x-"});
        let remote = serde_json::json!({"name": "a", "connection_name_prefix_template": "y-"});
        let changes = ConnectionProfile::field_changes(
            desired.as_object().expect("object"),
            remote.as_object().expect("object"),
        );
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "connectionNamePrefixTemplate");
        assert_eq!(changes[0].desired.as_deref(), Some("\"x-\""));
        assert!(
            ConnectionProfile::field_changes(
                desired.as_object().expect("object"),
                desired.as_object().expect("object")
            )
            .is_empty()
        );
    }
}
