//! Which Management API scopes a tenant's client needs (pure): the scopes of each kind that
//! has resources on the tenant, and of the documents those resources set (a self-service
//! profile's custom text); with no resource on it yet, the connection-profile scopes (what a
//! tenant was checked for before there were other kinds). A tenant used only for connection
//! profiles is never held back by the user-attribute-profile scopes it does not need.
//!
//! [`TenantUse`] follows one kind's watch and says which tenants gained or lost a need, so
//! that the tenant's status is checked again when the first resource of a kind starts
//! using it (or the last one stops), not at its next poll.

use std::collections::{HashMap, HashSet};

use kube::ResourceExt;

use crate::crd::{ConnectionProfile, Kind, TenantKind};

/// A tenant resource: its kind, namespace (empty for a ClusterAuth0Tenant) and name.
pub type TenantKey = (TenantKind, String, String);

/// What one kind's resources on a tenant need: the kind, and its scopes in order.
pub type KindNeeds = (&'static str, Vec<&'static str>);

/// The tenant `resource` uses, and the scopes its client needs for it: the kind's four,
/// then, when the spec sets a document kept beside the item, the kind's document scopes.
pub fn needs_of<K: Kind>(resource: &K) -> (TenantKey, Vec<&'static str>) {
    let reference = resource.common().tenant_ref;
    let namespace = match reference.kind {
        TenantKind::Auth0Tenant => resource.namespace().unwrap_or_default(),
        TenantKind::ClusterAuth0Tenant => String::new(),
    };
    let mut scopes = K::AUTH0.scopes.to_vec();
    if !resource.sub_documents().is_empty() {
        scopes.extend(K::AUTH0.document_scopes.iter().filter(|s| !K::AUTH0.scopes.contains(s)));
    }
    ((reference.kind, namespace, reference.name.clone()), scopes)
}

/// What a tenant's status says of its grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The needed scopes the grant lacks, kind by kind (`status.missingScopes`).
    pub missing: Vec<String>,
    /// The Ready message when some are missing, naming them and the kinds that need them.
    pub message: String,
}

/// The scopes of `in_use` (each kind with resources on the tenant, in the order given) that
/// `granted` lacks; with no kind in use, those of connection profiles. Empty when none.
pub fn verdict(granted: &[String], in_use: &[KindNeeds]) -> Verdict {
    let fallback = [(ConnectionProfile::AUTH0.kind, ConnectionProfile::AUTH0.scopes.to_vec())];
    let needs = if in_use.is_empty() { &fallback[..] } else { in_use };
    let mut missing: Vec<String> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for (kind, scopes) in needs {
        for scope in scopes {
            if !granted.iter().any(|g| g == scope) && !missing.iter().any(|m| m == scope) {
                missing.push((*scope).to_string());
                if !kinds.contains(kind) {
                    kinds.push(kind);
                }
            }
        }
    }
    let message = if missing.is_empty() {
        String::new()
    } else {
        let users = if in_use.is_empty() {
            "ConnectionProfiles (none uses the tenant yet)".to_string()
        } else {
            let named: Vec<String> = kinds.iter().map(|k| format!("{k}s")).collect();
            format!("the {} on this tenant", named.join(" and "))
        };
        format!(
            "the client's grant lacks {} (needed by {users}): add them to its Management API grant",
            missing.join(", ")
        )
    };
    Verdict { missing, message }
}

/// One resource, by namespace and name.
type ResourceKey = (String, String);

/// Which tenants one kind's resources use, and for which scopes, as its watch reports them:
/// each change returns the tenants whose needs changed (a scope needed by none of the kind's
/// resources before, or by none now).
#[derive(Debug, Default)]
pub struct TenantUse {
    by_resource: HashMap<ResourceKey, (TenantKey, Vec<&'static str>)>,
    /// How many resources need each scope of each tenant.
    counts: HashMap<(TenantKey, &'static str), usize>,
    /// A relisting in progress (after `Init`): what it has seen so far.
    relisting: Option<HashMap<ResourceKey, (TenantKey, Vec<&'static str>)>>,
}

impl TenantUse {
    /// A resource was created or changed.
    pub fn apply(&mut self, resource: ResourceKey, tenant: TenantKey, scopes: Vec<&'static str>) -> Vec<TenantKey> {
        // Taken before the old one is let go: a resource that keeps its tenant and scopes
        // changes nothing.
        let mut changed = Vec::new();
        self.take(&tenant, &scopes, &mut changed);
        if let Some(old) = self.by_resource.insert(resource, (tenant, scopes)) {
            self.release(old, &mut changed);
        }
        changed
    }

    /// A resource was deleted.
    pub fn delete(&mut self, resource: &ResourceKey) -> Vec<TenantKey> {
        let mut changed = Vec::new();
        if let Some(old) = self.by_resource.remove(resource) {
            self.release(old, &mut changed);
        }
        changed
    }

    /// The watch lists the kind again (its `Init`): what it lists until [`Self::relisted`]
    /// replaces what is known.
    pub fn relisting(&mut self) {
        self.relisting = Some(HashMap::new());
    }

    /// One resource of the relisting (its `InitApply`).
    pub fn listed(&mut self, resource: ResourceKey, tenant: TenantKey, scopes: Vec<&'static str>) {
        self.relisting
            .get_or_insert_with(HashMap::new)
            .insert(resource, (tenant, scopes));
    }

    /// The relisting ended (its `InitDone`): it is now all there is; resources deleted while
    /// the watch was away are let go.
    pub fn relisted(&mut self) -> Vec<TenantKey> {
        let listed = self.relisting.take().unwrap_or_default();
        let before: HashSet<(TenantKey, &'static str)> = self.counts.keys().cloned().collect();
        self.by_resource.clear();
        self.counts.clear();
        for (resource, (tenant, scopes)) in listed {
            self.take(&tenant, &scopes, &mut Vec::new());
            self.by_resource.insert(resource, (tenant, scopes));
        }
        let after: HashSet<(TenantKey, &'static str)> = self.counts.keys().cloned().collect();
        let mut changed = Vec::new();
        for (tenant, _) in before.symmetric_difference(&after) {
            note(&mut changed, tenant);
        }
        changed
    }

    fn take(&mut self, tenant: &TenantKey, scopes: &[&'static str], changed: &mut Vec<TenantKey>) {
        for scope in scopes {
            let count = self.counts.entry((tenant.clone(), *scope)).or_insert(0);
            *count += 1;
            if *count == 1 {
                note(changed, tenant);
            }
        }
    }

    fn release(&mut self, (tenant, scopes): (TenantKey, Vec<&'static str>), changed: &mut Vec<TenantKey>) {
        for scope in scopes {
            let key = (tenant.clone(), scope);
            if let Some(count) = self.counts.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(&key);
                    note(changed, &tenant);
                }
            }
        }
    }
}

fn note(changed: &mut Vec<TenantKey>, tenant: &TenantKey) {
    if !changed.contains(tenant) {
        changed.push(tenant.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{SelfServiceProfile, UserAttributeProfile};

    const CP: [&str; 4] = [
        "read:connection_profiles",
        "create:connection_profiles",
        "update:connection_profiles",
        "delete:connection_profiles",
    ];

    fn granted(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    fn uap_scopes() -> Vec<&'static str> {
        UserAttributeProfile::AUTH0.scopes.to_vec()
    }

    fn tenant(name: &str) -> TenantKey {
        (TenantKind::Auth0Tenant, "ns".into(), name.into())
    }

    fn key(name: &str) -> ResourceKey {
        ("ns".into(), name.into())
    }

    /// A tenant used only for connection profiles is judged by their scopes alone: the
    /// user-attribute-profile scopes it lacks are not its business.
    #[test]
    fn a_tenant_needs_the_scopes_of_the_kinds_in_use_only() {
        let cp_only = [("ConnectionProfile", CP.to_vec())];
        assert_eq!(verdict(&granted(&CP), &cp_only).missing, Vec::<String>::new());
        assert_eq!(verdict(&granted(&CP), &cp_only).message, "");
        let with_uap = [
            ("ConnectionProfile", CP.to_vec()),
            ("UserAttributeProfile", uap_scopes()),
        ];
        let judged = verdict(&granted(&CP), &with_uap);
        assert_eq!(
            judged.missing,
            [
                "read:user_attribute_profiles",
                "create:user_attribute_profiles",
                "update:user_attribute_profiles",
                "delete:user_attribute_profiles"
            ]
        );
        assert_eq!(
            judged.message,
            "the client's grant lacks read:user_attribute_profiles, create:user_attribute_profiles, \
             update:user_attribute_profiles, delete:user_attribute_profiles (needed by the \
             UserAttributeProfiles on this tenant): add them to its Management API grant"
        );
        // A tenant used for user attribute profiles only needs none of the others' scopes.
        let uap_only = [("UserAttributeProfile", uap_scopes())];
        assert!(verdict(&granted(&uap_scopes()), &uap_only).missing.is_empty());
    }

    /// With no resource on it yet, a tenant is judged as before there were other kinds: by
    /// the connection-profile scopes, in their order.
    #[test]
    fn an_unused_tenant_needs_the_connection_profile_scopes() {
        let judged = verdict(
            &granted(&["read:connection_profiles", "create:connection_profiles"]),
            &[],
        );
        assert_eq!(
            judged.missing,
            ["update:connection_profiles", "delete:connection_profiles"]
        );
        assert!(
            judged
                .message
                .contains("(needed by ConnectionProfiles (none uses the tenant yet))"),
            "{}",
            judged.message
        );
        assert!(verdict(&granted(&CP), &[]).missing.is_empty());
    }

    /// Each missing scope is listed once, kind by kind, and the message names each kind
    /// that lacks one (and no other).
    #[test]
    fn missing_scopes_are_listed_once_and_name_their_kinds() {
        let needs = [
            ("ConnectionProfile", CP.to_vec()),
            ("UserAttributeProfile", vec!["read:user_attribute_profiles"]),
            (
                "SelfServiceProfile",
                vec!["read:self_service_profiles", "read:user_attribute_profiles"],
            ),
        ];
        let judged = verdict(&granted(&CP), &needs);
        assert_eq!(
            judged.missing,
            ["read:user_attribute_profiles", "read:self_service_profiles"]
        );
        assert!(
            judged
                .message
                .contains("(needed by the UserAttributeProfiles and SelfServiceProfiles on this tenant)"),
            "{}",
            judged.message
        );
        assert!(!judged.message.contains("ConnectionProfiles"), "{}", judged.message);
    }

    /// A self-service profile that sets custom text needs its scopes too; one that does not,
    /// only the kind's four. The tenant is the one its tenantRef names (a cluster tenant's
    /// namespace is empty).
    #[test]
    fn a_resource_needs_its_kinds_scopes_and_its_documents() {
        let ssp = |spec: serde_json::Value| -> SelfServiceProfile {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
                "metadata": {"name": "p", "namespace": "team"}, "spec": spec}))
            .expect("profile")
        };
        let plain = ssp(serde_json::json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}));
        assert_eq!(
            needs_of(&plain),
            (
                (TenantKind::Auth0Tenant, "team".to_string(), "t".to_string()),
                SelfServiceProfile::AUTH0.scopes.to_vec()
            )
        );
        let texted = ssp(serde_json::json!({"tenantRef": {"name": "shared"},
                                            "customText": {"en": {"getStarted": {"introduction": "Hi"}}}}));
        let (on, scopes) = needs_of(&texted);
        assert_eq!(
            on,
            (TenantKind::ClusterAuth0Tenant, String::new(), "shared".to_string())
        );
        assert_eq!(
            scopes[4..],
            [
                "read:self_service_profile_custom_texts",
                "update:self_service_profile_custom_texts"
            ]
        );
        assert_eq!(scopes.len(), 6);
    }

    /// The first resource of a kind on a tenant changes the tenant's needs, and so does the
    /// last one leaving; the others, and a resource changed in place, do not.
    #[test]
    fn only_the_first_and_the_last_user_change_a_tenants_needs() {
        let mut used = TenantUse::default();
        assert_eq!(used.apply(key("a"), tenant("t"), uap_scopes()), [tenant("t")]);
        assert!(used.apply(key("b"), tenant("t"), uap_scopes()).is_empty());
        assert!(
            used.apply(key("a"), tenant("t"), uap_scopes()).is_empty(),
            "changed in place"
        );
        assert!(used.delete(&key("a")).is_empty());
        assert!(used.delete(&key("a")).is_empty(), "deleted twice");
        assert_eq!(used.delete(&key("b")), [tenant("t")]);
        assert!(used.delete(&key("b")).is_empty());
    }

    /// A resource that moves to another tenant changes both; one that gains a document's
    /// scopes changes its tenant.
    #[test]
    fn a_move_changes_both_tenants_and_new_scopes_change_the_tenant() {
        let mut used = TenantUse::default();
        used.apply(key("a"), tenant("t"), vec!["read:x"]);
        let moved = used.apply(key("a"), tenant("u"), vec!["read:x"]);
        assert_eq!(moved, [tenant("u"), tenant("t")]);
        assert_eq!(
            used.apply(key("a"), tenant("u"), vec!["read:x", "read:y"]),
            [tenant("u")]
        );
        assert_eq!(used.apply(key("a"), tenant("u"), vec!["read:x"]), [tenant("u")]);
    }

    /// A relisting replaces what was known: the tenants whose needs differ after it are
    /// changed (a resource deleted while the watch was away lets its tenant go), the others
    /// are not.
    #[test]
    fn a_relisting_changes_the_tenants_whose_needs_differ() {
        let mut used = TenantUse::default();
        used.apply(key("a"), tenant("t"), vec!["read:x"]);
        used.apply(key("b"), tenant("u"), vec!["read:x"]);
        used.relisting();
        used.listed(key("a"), tenant("t"), vec!["read:x"]);
        used.listed(key("c"), tenant("v"), vec!["read:x"]);
        let mut changed = used.relisted();
        changed.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(changed, [tenant("u"), tenant("v")]);
        assert_eq!(used.delete(&key("c")), [tenant("v")]);
        assert!(used.delete(&key("b")).is_empty(), "b went with the relisting");
        // A relisting that finds nothing lets every tenant go.
        used.relisting();
        assert_eq!(used.relisted(), [tenant("t")]);
        // Listed without a relisting begun (no Init seen): still taken at its end.
        used.listed(key("d"), tenant("w"), vec!["read:x"]);
        assert_eq!(used.relisted(), [tenant("w")]);
    }
}
