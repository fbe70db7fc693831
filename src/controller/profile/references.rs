//! References between kinds: a SelfServiceProfile's `userAttributeProfileRef` names a
//! UserAttributeProfile by its Kubernetes name. Before any Auth0 call a pass resolves each
//! reference its spec makes ([`resolve`], pure) to the referenced resource's Auth0 id: only a
//! resource that is Ready with a recorded id, not being deleted, and on the same tenant
//! gives one, so a stale or foreign id is never sent. Otherwise the pass waits
//! (`ReferenceNotReady`, retried) or is refused (`InvalidReference`, a resource on another
//! tenant). A resource that others reference waits before its deletion deletes anything in
//! Auth0 (`InUse`, naming them: [`Referents::users`]) instead of letting Auth0 refuse it.
//!
//! The controllers fill [`Referents`] with read-only views of the other kinds' caches
//! (`controller/mod.rs`); a pass that changes a referenced resource's readiness wakes the
//! resources that reference it ([`Referents::wake_users`]).

use std::collections::HashMap;
use std::sync::Arc;

use crate::crd::TenantRef;
use crate::crd::kind::{Reference, Resolved, Target};

use super::super::lanes::Resource;

/// A referenced resource as its kind's cache shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referent {
    /// Its recorded Auth0 id (`status.id`).
    pub id: Option<String>,
    /// Whether its Ready condition is `True`.
    pub ready: bool,
    /// Whether it is being deleted.
    pub deleting: bool,
    /// The tenant it names.
    pub tenant_ref: TenantRef,
}

/// Why a reference did not resolve.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Unresolved {
    /// The referenced resource is missing, not Ready yet, or being deleted: the pass waits.
    NotReady { spec_field: &'static str, what: String },
    /// The referenced resource is on another tenant: a person must change one of them.
    OtherTenant { spec_field: &'static str, what: String },
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::NotReady { spec_field, what } => write!(
                f,
                "{spec_field} names {what}: nothing is sent to Auth0 until it is Ready (the pass is retried, and runs again when it becomes Ready)"
            ),
            Unresolved::OtherTenant { spec_field, what } => write!(
                f,
                "{spec_field} names {what}: a profile can only use one on its own tenant; point both at the same tenantRef, or reference the id of a profile on this tenant"
            ),
        }
    }
}

/// Resolves every reference (pure): an id given as such is taken as it is; a name is
/// looked up with `find(kind, name)` in the referencing resource's namespace and gives the
/// referenced resource's recorded id only when it is Ready, not being deleted, and names
/// the same tenant as `tenant` (the referencing resource's `spec.tenantRef`).
pub fn resolve(
    references: &[Reference],
    tenant: &TenantRef,
    find: impl Fn(&str, &str) -> Option<Referent>,
) -> Result<Resolved, Unresolved> {
    let mut resolved = Resolved::new();
    for reference in references {
        let name = match &reference.target {
            Target::Id(id) => {
                resolved.insert(reference.field, id.clone());
                continue;
            }
            Target::Name(name) => name,
        };
        let what = |state: &str| format!("{} {name}, which {state}", reference.kind);
        let not_ready = |state: &str| Unresolved::NotReady {
            spec_field: reference.spec_field,
            what: what(state),
        };
        let Some(referent) = find(reference.kind, name) else {
            return Err(not_ready("does not exist in this namespace"));
        };
        if referent.tenant_ref != *tenant {
            return Err(Unresolved::OtherTenant {
                spec_field: reference.spec_field,
                what: what(&format!("is on tenant {}, not {tenant}", referent.tenant_ref)),
            });
        }
        if referent.deleting {
            return Err(not_ready("is being deleted"));
        }
        match (&referent.id, referent.ready) {
            (Some(id), true) => {
                resolved.insert(reference.field, id.clone());
            }
            _ => return Err(not_ready("is not Ready yet")),
        }
    }
    Ok(resolved)
}

/// What a resource's references resolve to, hashed: part of what a terminal failure waits
/// to change (`memory::Stalls`). A self-service profile refused for an id Auth0 no longer
/// holds (its user attribute profile deleted in the dashboard and not yet re-created) must
/// be tried again once the profile it names has its new id: the wake that the new id sends
/// would otherwise find the same fingerprint and stop (found by fault scenario 8).
pub fn fingerprint(resolution: &Result<Resolved, Unresolved>) -> u64 {
    super::memory::fingerprint(resolution)
}

/// Whether Auth0's answer `status` to a DELETE of an item of a kind that other kinds
/// reference (`referenced`) says the item is still in use: a 409, which a DELETE can mean
/// nothing else by. The deletion then waits (`InUse`, retried) like one the operator saw
/// coming, instead of a terminal `Conflict`: a user whose change has not reached Auth0 yet
/// (an interrupted create, a status not yet written), or an item no resource shows.
pub fn refused_in_use(status: Option<u16>, referenced: bool) -> bool {
    referenced && status == Some(409)
}

/// Looks a resource of one kind up by namespace and name.
pub type Find = Arc<dyn Fn(&str, &str) -> Option<Referent> + Send + Sync>;
/// The resources (`Kind namespace/name`) of one kind that reference a resource, given its
/// kind, namespace, name and recorded id, with what each is: `(resource to wake, shown)`.
pub type Users = Arc<dyn Fn(&str, &str, &str, Option<&str>) -> Vec<Resource> + Send + Sync>;

/// Queues a pass of a resource of any kind (the lanes' `wake`).
pub type Wake = Arc<dyn Fn(Resource) + Send + Sync>;

/// How one kind's references resolve and who references its resources.
#[derive(Clone, Default)]
pub struct Referents {
    /// The kinds this kind references, by kind name.
    pub find: HashMap<&'static str, Find>,
    /// The kinds that may reference this kind.
    pub users: Vec<Users>,
    /// Where the resources to wake go (the lanes' wake stream, dispatched by kind).
    pub wake: Option<Wake>,
    /// Whether the caches [`Referents::users`] reads have had their first listing since the
    /// start (none: nothing to wait for).
    pub listed: Option<Listed>,
}

/// Whether some caches have had their first listing.
pub type Listed = Arc<dyn Fn() -> bool + Send + Sync>;

impl Referents {
    /// Resolves `references` of a resource in `namespace` on `tenant` ([`resolve`]).
    pub fn resolve(
        &self,
        namespace: &str,
        tenant: &TenantRef,
        references: &[Reference],
    ) -> Result<Resolved, Unresolved> {
        resolve(references, tenant, |kind, name| {
            self.find.get(kind).and_then(|find| find(namespace, name))
        })
    }

    /// The resources of other kinds that reference the resource `kind namespace/name`
    /// (recorded id `id`).
    pub fn users(&self, kind: &str, namespace: &str, name: &str, id: Option<&str>) -> Vec<Resource> {
        self.users
            .iter()
            .flat_map(|users| users(kind, namespace, name, id))
            .collect()
    }

    /// Whether [`Referents::users`] can be trusted: the caches of the kinds that may use
    /// this one have been listed since the start. Until then an empty answer means nothing
    /// (found by fault scenario 8: after a SIGKILL's restart, a user attribute profile's
    /// deletion ran before the self-service profiles were listed, found no user, and deleted
    /// a profile one of them named).
    pub fn users_known(&self) -> bool {
        self.listed.as_ref().is_none_or(|listed| listed())
    }

    /// Queues a pass of every resource that references `kind namespace/name`: its
    /// readiness or id changed.
    pub fn wake_users(&self, kind: &str, namespace: &str, name: &str, id: Option<&str>) {
        if let Some(wake) = &self.wake {
            for user in self.users(kind, namespace, name, id) {
                wake(user);
            }
        }
    }
}

/// `Kind namespace/name` of each resource, for messages.
pub fn shown(resources: &[Resource]) -> String {
    resources
        .iter()
        .map(|r| format!("{} {}/{}", r.kind, r.namespace, r.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::TenantKind;

    fn tenant(name: &str) -> TenantRef {
        TenantRef {
            kind: TenantKind::ClusterAuth0Tenant,
            name: name.into(),
        }
    }

    fn reference(target: Target) -> Reference {
        Reference {
            field: "user_attribute_profile_id",
            spec_field: "spec.userAttributeProfileRef",
            kind: "UserAttributeProfile",
            target,
        }
    }

    fn ready(id: &str) -> Referent {
        Referent {
            id: Some(id.into()),
            ready: true,
            deleting: false,
            tenant_ref: tenant("default"),
        }
    }

    #[test]
    fn a_ready_referent_on_the_same_tenant_gives_its_id() {
        let found = |kind: &str, name: &str| {
            assert_eq!((kind, name), ("UserAttributeProfile", "attrs"));
            Some(ready("uap_1"))
        };
        let resolved =
            resolve(&[reference(Target::Name("attrs".into()))], &tenant("default"), found).expect("resolved");
        assert_eq!(
            resolved.get("user_attribute_profile_id").map(String::as_str),
            Some("uap_1")
        );
    }

    #[test]
    fn an_id_is_taken_as_it_is_and_no_reference_resolves_to_nothing() {
        let none = |_: &str, _: &str| -> Option<Referent> { panic!("an id is not looked up") };
        let resolved = resolve(&[reference(Target::Id("uap_2".into()))], &tenant("default"), none).expect("resolved");
        assert_eq!(
            resolved.get("user_attribute_profile_id").map(String::as_str),
            Some("uap_2")
        );
        assert!(resolve(&[], &tenant("default"), none).expect("resolved").is_empty());
    }

    #[test]
    fn missing_unready_deleting_or_idless_referents_wait() {
        let by_name = [reference(Target::Name("attrs".into()))];
        let cases: [(Option<Referent>, &str); 4] = [
            (None, "does not exist"),
            (
                Some(Referent {
                    ready: false,
                    ..ready("uap_1")
                }),
                "is not Ready",
            ),
            (
                Some(Referent {
                    id: None,
                    ..ready("uap_1")
                }),
                "is not Ready",
            ),
            (
                Some(Referent {
                    deleting: true,
                    ..ready("uap_1")
                }),
                "is being deleted",
            ),
        ];
        for (referent, says) in cases {
            let err = resolve(&by_name, &tenant("default"), |_, _| referent.clone()).expect_err("waits");
            assert!(matches!(err, Unresolved::NotReady { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains(says), "{message}");
            assert!(
                message.starts_with("spec.userAttributeProfileRef names UserAttributeProfile attrs"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_referent_on_another_tenant_is_refused_even_when_ready() {
        let other = Referent {
            tenant_ref: tenant("staging"),
            ..ready("uap_1")
        };
        let err = resolve(
            &[reference(Target::Name("attrs".into()))],
            &tenant("default"),
            |_, _| Some(other.clone()),
        )
        .expect_err("refused");
        assert!(matches!(err, Unresolved::OtherTenant { .. }), "{err:?}");
        assert!(err.to_string().contains("staging"), "{err}");
    }

    #[test]
    fn users_are_gathered_from_every_kind_and_shown_by_kind_and_name() {
        let user = |name: &str| Resource {
            kind: "SelfServiceProfile",
            namespace: "team".into(),
            name: name.into(),
        };
        let (a, b) = (user("a"), user("b"));
        let referents = Referents {
            users: vec![
                Arc::new(move |_: &str, _: &str, _: &str, _: Option<&str>| vec![a.clone()]),
                Arc::new(
                    move |_: &str, _: &str, name: &str, _: Option<&str>| {
                        if name == "attrs" { vec![b.clone()] } else { vec![] }
                    },
                ),
            ],
            ..Default::default()
        };
        let users = referents.users("UserAttributeProfile", "team", "attrs", None);
        assert_eq!(shown(&users), "SelfServiceProfile team/a, SelfServiceProfile team/b");
        assert_eq!(referents.users("UserAttributeProfile", "team", "other", None).len(), 1);
    }

    #[test]
    fn users_are_known_once_their_caches_are_listed() {
        assert!(Referents::default().users_known(), "nothing to wait for");
        let listed = |done: bool| Referents {
            listed: Some(Arc::new(move || done)),
            ..Default::default()
        };
        assert!(!listed(false).users_known());
        assert!(listed(true).users_known());
    }

    #[test]
    fn only_a_409_to_the_delete_of_a_referenced_kind_is_in_use() {
        assert!(refused_in_use(Some(409), true));
        assert!(!refused_in_use(Some(409), false));
        assert!(!refused_in_use(Some(400), true));
        assert!(!refused_in_use(Some(500), true));
        assert!(!refused_in_use(None, true));
    }

    #[test]
    fn the_fingerprint_changes_with_what_the_references_resolve_to() {
        let resolved = |id: &str| Ok(Resolved::from([("user_attribute_profile_id", id.to_string())]));
        let not_ready = |what: &str| {
            Err(Unresolved::NotReady {
                spec_field: "spec.userAttributeProfileRef",
                what: what.into(),
            })
        };
        assert_eq!(fingerprint(&resolved("uap_1")), fingerprint(&resolved("uap_1")));
        let all = [
            fingerprint(&resolved("uap_1")),
            fingerprint(&resolved("uap_2")),
            fingerprint(&Ok(Resolved::new())),
            fingerprint(&not_ready("UserAttributeProfile attrs, which is not Ready yet")),
            fingerprint(&not_ready("UserAttributeProfile attrs, which is being deleted")),
            fingerprint(&Err(Unresolved::OtherTenant {
                spec_field: "spec.userAttributeProfileRef",
                what: "UserAttributeProfile attrs, which is on tenant b".into(),
            })),
        ];
        let distinct: std::collections::BTreeSet<u64> = all.iter().copied().collect();
        assert_eq!(distinct.len(), all.len(), "{all:?}");
    }

    #[test]
    fn a_kinds_referents_look_up_in_the_referencing_namespace_and_wake_the_users() {
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let woken = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let find: Find = {
            let seen = seen.clone();
            Arc::new(move |namespace: &str, name: &str| {
                seen.lock().push((namespace.to_string(), name.to_string()));
                Some(ready("uap_1"))
            })
        };
        let user = Resource {
            kind: "SelfServiceProfile",
            namespace: "team".into(),
            name: "portal".into(),
        };
        let referents = Referents {
            find: [("UserAttributeProfile", find)].into_iter().collect(),
            users: vec![{
                let user = user.clone();
                Arc::new(
                    move |_: &str, _: &str, name: &str, _: Option<&str>| {
                        if name == "attrs" { vec![user.clone()] } else { vec![] }
                    },
                )
            }],
            wake: Some({
                let woken = woken.clone();
                Arc::new(move |resource| woken.lock().push(resource))
            }),
            listed: None,
        };
        let resolved = referents
            .resolve("team", &tenant("default"), &[reference(Target::Name("attrs".into()))])
            .expect("resolved");
        assert_eq!(
            resolved.get("user_attribute_profile_id").map(String::as_str),
            Some("uap_1")
        );
        assert_eq!(*seen.lock(), vec![("team".to_string(), "attrs".to_string())]);
        // A kind it does not reference resolves nothing: the reference waits.
        let other = Reference {
            kind: "Unknown",
            ..reference(Target::Name("attrs".into()))
        };
        assert!(matches!(
            referents.resolve("team", &tenant("default"), &[other]),
            Err(Unresolved::NotReady { .. })
        ));
        referents.wake_users("UserAttributeProfile", "team", "attrs", None);
        referents.wake_users("UserAttributeProfile", "team", "unused", None);
        assert_eq!(*woken.lock(), vec![user]);
    }
}
