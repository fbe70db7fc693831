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
    /// Whether the `paused` annotation stops its writes (its Ready is then `False`, while
    /// its profile stays in Auth0 under the recorded id).
    pub paused: bool,
    /// The tenant it names.
    pub tenant_ref: TenantRef,
}

impl Referent {
    /// `found` as a reference to it sees it.
    pub fn of<K: crate::crd::Kind>(found: &K) -> Referent {
        let status = found.status();
        Referent {
            id: status.and_then(|s| s.id.clone()),
            ready: status.is_some_and(|s| super::status::ready_of(s) == Some("True")),
            deleting: found.meta().deletion_timestamp.is_some(),
            paused: super::annotation_is_true(found, super::annotation::PAUSED),
            tenant_ref: found.common().tenant_ref.clone(),
        }
    }
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
        match (&referent.id, referent.ready || referent.paused) {
            // A paused referent keeps its profile in Auth0 under its recorded id: a pause
            // stops its own writes, not every resource that uses it.
            (Some(id), true) => {
                resolved.insert(reference.field, id.clone());
            }
            (None, true) if referent.paused => {
                return Err(not_ready("is paused before its profile was created"));
            }
            // Observe found its profile by name: reported, never recorded as its id.
            (None, true) => {
                return Err(not_ready(
                    "is Ready but records no Auth0 id (under managementPolicy: Observe it records one only when spec.externalID names it)",
                ));
            }
            _ => return Err(not_ready("is not Ready yet")),
        }
    }
    Ok(resolved)
}

/// A resource that others may reference: what [`uses`] compares their references with.
#[derive(Clone, Copy, Debug)]
pub struct Referenced<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// Its recorded Auth0 id.
    pub id: Option<&'a str>,
    /// The tenant it names (`spec.tenantRef`).
    pub tenant: &'a TenantRef,
}

/// A resource that may reference others, as [`uses`] reads it.
#[derive(Clone, Copy, Debug)]
pub struct User<'a> {
    pub namespace: &'a str,
    /// The tenant it names (`spec.tenantRef`).
    pub tenant: &'a TenantRef,
    /// What its spec references.
    pub references: &'a [Reference],
    /// The id of the referenced kind that Auth0's copy still carries, as its status last
    /// recorded it: a reference changed in the spec whose PATCH has not landed yet still
    /// uses the old one (a delete then would be refused by Auth0: found by fault scenario 8).
    pub held: Option<&'a str>,
}

/// Whether `user` references `referenced` (pure): by its name, or by its recorded id, or
/// Auth0's copy of it still holds that id (`User::held`), and only from the same namespace
/// and the same `tenantRef`.
///
/// A resource of another namespace never holds up a deletion here, even one that names the
/// id: no namespace can steer what another's resources do (were the profile really in use
/// there, Auth0's refusal of the delete says so, and the deletion retries). One on another
/// tenant cannot be using this tenant's profile.
pub fn uses(user: &User, referenced: &Referenced) -> bool {
    let User {
        namespace,
        tenant,
        references,
        held,
    } = *user;
    namespace == referenced.namespace
        && tenant == referenced.tenant
        && (references.iter().any(|reference| {
            reference.kind == referenced.kind
                && match &reference.target {
                    Target::Name(name) => name == referenced.name,
                    Target::Id(id) => Some(id.as_str()) == referenced.id,
                }
        }) || (held.is_some() && held == referenced.id))
}

/// A resource that [`uses`] another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referencing {
    pub resource: Resource,
    /// Whether it has, or may have, a profile in Auth0 (a recorded id, or a create whose
    /// answer was lost). Only such a user holds up the deletion of what it references: one
    /// that never sent anything (paused before its create, or itself waiting for this very
    /// reference) uses nothing in Auth0, and the two would otherwise wait for each other.
    pub in_auth0: bool,
}

/// Looks a resource of one kind up by namespace and name.
pub type Find = Arc<dyn Fn(&str, &str) -> Option<Referent> + Send + Sync>;
/// The resources of one kind that use a resource ([`uses`]).
pub type Users = Arc<dyn Fn(&Referenced) -> Vec<Referencing> + Send + Sync>;

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

    /// The referenced resources by name as their caches show them now, in `references`'
    /// order (`None` for one missing, or a reference by id): what a terminal failure of the
    /// referencing resource (`InvalidReference`) waits to see change.
    pub fn seen(&self, namespace: &str, references: &[Reference]) -> Vec<Option<Referent>> {
        references
            .iter()
            .map(|reference| match &reference.target {
                Target::Name(name) => self.find.get(reference.kind).and_then(|find| find(namespace, name)),
                Target::Id(_) => None,
            })
            .collect()
    }

    /// The resources of other kinds that use `referenced` ([`uses`]) and are (or may be) in
    /// Auth0: what its deletion waits for.
    pub fn users(&self, referenced: &Referenced) -> Vec<Resource> {
        self.users
            .iter()
            .flat_map(|users| users(referenced))
            .filter(|user| user.in_auth0)
            .map(|user| user.resource)
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

    /// Queues a pass of every resource that uses `referenced`, in Auth0 or not (one waiting
    /// for it to be Ready most of all): its readiness or id changed, or it is gone.
    pub fn wake_users(&self, referenced: &Referenced) {
        if let Some(wake) = &self.wake {
            for user in self.users.iter().flat_map(|users| users(referenced)) {
                wake(user.resource);
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

    fn in_auth0(resource: &Resource) -> Referencing {
        Referencing {
            resource: resource.clone(),
            in_auth0: true,
        }
    }

    /// The user attribute profile `team/attrs` on `tenant`, nothing recorded.
    fn attrs(tenant: &TenantRef) -> Referenced<'_> {
        Referenced {
            kind: "UserAttributeProfile",
            namespace: "team",
            name: "attrs",
            id: None,
            tenant,
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
            paused: false,
            tenant_ref: tenant("default"),
        }
    }

    /// A resource as a reference to it sees it.
    #[test]
    fn a_referent_is_read_from_the_resource() {
        let read = |extra: serde_json::Value| {
            let mut object = serde_json::json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
                "metadata": {"name": "attrs", "namespace": "team"},
                "spec": {"tenantRef": {"kind": "ClusterAuth0Tenant", "name": "default"},
                         "userAttributes": {"email": {"label": "E", "description": "E", "auth0Mapping": "email", "profileRequired": true}}}});
            json_patch::merge(&mut object, &extra);
            Referent::of(&serde_json::from_value::<crate::crd::UserAttributeProfile>(object).expect("object"))
        };
        assert_eq!(
            read(serde_json::json!({})),
            Referent {
                id: None,
                ready: false,
                deleting: false,
                paused: false,
                tenant_ref: tenant("default"),
            }
        );
        let all = read(serde_json::json!({
            "metadata": {"deletionTimestamp": "2026-12-07T10:00:00Z", "finalizers": ["f"],
                         "annotations": {"auth0.operators.dev/paused": "True"}},
            "status": {"id": "uap_1", "conditions": [{"type": "Ready", "status": "True", "reason": "Available",
                       "message": "", "lastTransitionTime": "2026-12-07T10:00:00Z"}]}}));
        assert_eq!(
            all,
            Referent {
                id: Some("uap_1".into()),
                ready: true,
                deleting: true,
                paused: true,
                tenant_ref: tenant("default"),
            }
        );
    }

    /// A paused referent with a recorded id resolves (Ready=False by the pause); one paused
    /// before it was created waits, saying so.
    #[test]
    fn a_paused_referent_resolves_by_its_recorded_id() {
        let by_name = [reference(Target::Name("attrs".into()))];
        let paused = Referent {
            ready: false,
            paused: true,
            ..ready("uap_1")
        };
        let resolved = resolve(&by_name, &tenant("default"), |_, _| Some(paused.clone())).expect("resolves");
        assert_eq!(
            resolved.get("user_attribute_profile_id").map(String::as_str),
            Some("uap_1")
        );
        let never = Referent {
            id: None,
            ..paused.clone()
        };
        let err = resolve(&by_name, &tenant("default"), |_, _| Some(never.clone())).expect_err("waits");
        assert!(
            err.to_string().contains("is paused before its profile was created"),
            "{err}"
        );
        // Paused and being deleted: it waits like any deletion.
        let going = Referent {
            deleting: true,
            ..paused
        };
        let err = resolve(&by_name, &tenant("default"), |_, _| Some(going.clone())).expect_err("waits");
        assert!(err.to_string().contains("is being deleted"), "{err}");
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
        let cases: [(Option<Referent>, &str); 5] = [
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
                "is Ready but records no Auth0 id (under managementPolicy: Observe",
            ),
            (
                Some(Referent {
                    id: None,
                    ready: false,
                    ..ready("uap_1")
                }),
                "is not Ready yet",
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
                Arc::new(move |_: &Referenced| vec![in_auth0(&a)]),
                Arc::new(move |referenced: &Referenced| {
                    if referenced.name == "attrs" {
                        vec![in_auth0(&b)]
                    } else {
                        vec![]
                    }
                }),
            ],
            ..Default::default()
        };
        let default = tenant("default");
        let attrs = attrs(&default);
        let users = referents.users(&attrs);
        assert_eq!(shown(&users), "SelfServiceProfile team/a, SelfServiceProfile team/b");
        assert_eq!(referents.users(&Referenced { name: "other", ..attrs }).len(), 1);
    }

    /// A resource uses another by its name or its recorded id, only from the same namespace
    /// and tenant: no namespace can hold up another's deletion.
    #[test]
    fn only_the_same_namespace_and_tenant_use_a_resource_by_name_or_id() {
        const UAP: &str = "uap_1cu7Zs1Dfru5Qc9mZea7nm";
        let default = tenant("default");
        let staging = tenant("staging");
        let attrs = Referenced {
            id: Some(UAP),
            ..attrs(&default)
        };
        let by_name = [reference(Target::Name("attrs".into()))];
        let by_id = [reference(Target::Id(UAP.into()))];
        let user = |namespace, tenant, references| User {
            namespace,
            tenant,
            references,
            held: None,
        };
        assert!(uses(&user("team", &default, &by_name), &attrs));
        assert!(uses(&user("team", &default, &by_id), &attrs));
        // Another namespace, even naming the id: not a user here.
        assert!(!uses(&user("other-team", &default, &by_id), &attrs));
        assert!(!uses(&user("other-team", &default, &by_name), &attrs));
        // Another tenant: not a user.
        assert!(!uses(&user("team", &staging, &by_name), &attrs));
        assert!(!uses(&user("team", &staging, &by_id), &attrs));
        // Another name, another id, another kind, nothing recorded: not a user.
        let other_name = [reference(Target::Name("other".into()))];
        assert!(!uses(&user("team", &default, &other_name), &attrs));
        let other_id = [reference(Target::Id("uap_2cu7Zs1Dfru5Qc9mZea7nm".into()))];
        assert!(!uses(&user("team", &default, &other_id), &attrs));
        let unrecorded = Referenced { id: None, ..attrs };
        assert!(!uses(&user("team", &default, &by_id), &unrecorded));
        let other_kind = Referenced {
            kind: "ConnectionProfile",
            ..attrs
        };
        assert!(!uses(&user("team", &default, &by_name), &other_kind));
        assert!(!uses(&user("team", &default, &[]), &attrs));
        // Re-pointed in the spec while Auth0 still holds its id: still a user of it, from
        // the same namespace and tenant only.
        let held = |namespace, tenant| User {
            held: Some(UAP),
            ..user(namespace, tenant, &other_name)
        };
        assert!(uses(&held("team", &default), &attrs));
        assert!(!uses(&held("other-team", &default), &attrs));
        assert!(!uses(&held("team", &staging), &attrs));
        assert!(!uses(&held("team", &default), &unrecorded));
        let elsewhere = User {
            held: Some("uap_2cu7Zs1Dfru5Qc9mZea7nm"),
            ..user("team", &default, &other_name)
        };
        assert!(!uses(&elsewhere, &attrs));
        // One reference of several is enough.
        let both = [
            reference(Target::Name("other".into())),
            reference(Target::Name("attrs".into())),
        ];
        assert!(uses(&user("team", &default, &both), &attrs));
    }

    /// What a stalled referencing resource watches: each referenced resource by name as its
    /// cache shows it, nothing for an id.
    #[test]
    fn seen_shows_each_referent_by_name() {
        let referents = Referents {
            find: [(
                "UserAttributeProfile",
                Arc::new(|namespace: &str, name: &str| (namespace == "team" && name == "attrs").then(|| ready("uap_1")))
                    as Find,
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let references = [
            reference(Target::Name("attrs".into())),
            reference(Target::Id("uap_2".into())),
            reference(Target::Name("missing".into())),
        ];
        assert_eq!(
            referents.seen("team", &references),
            vec![Some(ready("uap_1")), None, None]
        );
        assert_eq!(referents.seen("other", &references[..1]), vec![None]);
        let unknown = Reference {
            kind: "Unknown",
            ..reference(Target::Name("attrs".into()))
        };
        assert_eq!(referents.seen("team", &[unknown]), vec![None]);
    }

    /// Only a user in Auth0 holds up a deletion; every user is woken.
    #[test]
    fn a_user_never_in_auth0_is_woken_but_holds_nothing_up() {
        let resource = |name: &str| Resource {
            kind: "SelfServiceProfile",
            namespace: "team".into(),
            name: name.into(),
        };
        let woken = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let referents = Referents {
            users: vec![Arc::new(move |_: &Referenced| {
                vec![
                    Referencing {
                        resource: resource("created"),
                        in_auth0: true,
                    },
                    Referencing {
                        resource: resource("waiting"),
                        in_auth0: false,
                    },
                ]
            })],
            wake: Some({
                let woken = woken.clone();
                Arc::new(move |resource| woken.lock().push(resource))
            }),
            ..Default::default()
        };
        let default = tenant("default");
        let attrs = attrs(&default);
        assert_eq!(shown(&referents.users(&attrs)), "SelfServiceProfile team/created");
        referents.wake_users(&attrs);
        let names: Vec<String> = woken.lock().iter().map(|r| r.name.clone()).collect();
        assert_eq!(names, ["created", "waiting"]);
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
                Arc::new(move |referenced: &Referenced| {
                    if referenced.name == "attrs" {
                        vec![in_auth0(&user)]
                    } else {
                        vec![]
                    }
                })
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
        let default = tenant("default");
        let attrs = attrs(&default);
        referents.wake_users(&attrs);
        referents.wake_users(&Referenced {
            name: "unused",
            ..attrs
        });
        assert_eq!(*woken.lock(), vec![user]);
    }
}
