//! `plan` (pure): what the operator would do with each manifest, decided by the
//! controller's own [`crate::controller::profile::plan::plan`] over one listing per kind of
//! the manifest's tenant, in the words a reviewer reads. Every kind is planned alike, with
//! its own [`crate::crd::Kind`] (desired body, normalize, changes); a SelfServiceProfile's
//! reference to a UserAttributeProfile resolves as the operator resolves it
//! ([`references::resolve`]), against the UserAttributeProfiles the manifests hold (as
//! planned) and the cluster holds.
//!
//! Ownership is decided as the operator decides it, from what the cluster records: each
//! manifest is the live resource of its kind, namespace and name (when the cluster holds
//! one) with the manifest's spec applied, so its recorded id (`status.id`, the `profile-id`
//! annotation), its `create-pending` mark and its tenant marks count; the claims of every
//! other resource of its kind read from the cluster count too ([`claims`]). A manifest the
//! cluster does not hold is a new resource, younger than every live one; between new
//! manifests, input order stands in for age (the first to claim an id owns it; a create
//! planned earlier holds its name). Without a cluster, every manifest is new.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value};

use super::kinds::{KindName, checked};
use super::manifests::Document;
use crate::auth0::names;
use crate::controller::profile::error::Error;
use crate::controller::profile::plan::{ById, Claim, Holder, Inputs, Listed, Lookup, Step, Via, plan};
use crate::controller::profile::references::{self, Referent, Unresolved};
use crate::controller::profile::{annotation_is_true, claims, marks};
use crate::crd::annotations::annotation;
use crate::crd::kind::{Resolved, SubDocument};
use crate::crd::{
    ConnectionProfile, Kind as ResourceKind, PendingChange, SelfServiceProfile, TenantKind, TenantRef,
    UserAttributeProfile, validation,
};

/// What the operator would do with one manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// POST a new profile.
    Create,
    /// PATCH the fields listed.
    Update,
    /// Take the profile `spec.externalID` names; no Auth0 write (it already matches).
    Adopt,
    /// Nothing: `managementPolicy: Observe` (changes listed are what `Manage` would make), or
    /// paused.
    Nothing,
    /// The operator would refuse: the name or id is another's.
    Conflict,
    /// The operator would refuse: the id or name it must observe or adopt is not in the
    /// tenant, or the resource a reference names would never be Ready.
    Missing,
    /// The manifest breaks a rule of the schema.
    Invalid,
    /// The manifest's tenant could not be read (no credentials for it, or Auth0 refused):
    /// nothing is known of what the operator would do.
    Unreachable,
}

impl Kind {
    /// Whether the operator would write to Auth0.
    pub fn writes(self) -> bool {
        matches!(self, Kind::Create | Kind::Update)
    }
    /// Whether the operator would refuse the resource.
    pub fn refused(self) -> bool {
        matches!(self, Kind::Conflict | Kind::Missing | Kind::Invalid | Kind::Unreachable)
    }
}

/// One field: its path (`spec.…`), Auth0's value and the new one (`null` when unset).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub auth0: Value,
    pub desired: Value,
}

impl From<PendingChange> for Change {
    /// A change as the kind reports it in `status.pendingChanges` (its values as JSON text,
    /// absent when unset), with `spec.` before its path.
    fn from(c: PendingChange) -> Self {
        let value = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null);
        Change {
            field: format!("spec.{}", c.field),
            auth0: value(c.auth0),
            desired: value(c.desired),
        }
    }
}

/// The plan of one manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The manifest's kind; left out for a ConnectionProfile (the plan's first kind, whose
    /// output is as it always was).
    #[serde(skip_serializing_if = "is_connection_profile")]
    pub kind: &'static str,
    /// `namespace/name`.
    pub resource: String,
    /// `file#document`.
    pub source: String,
    /// The tenant the manifest names ([`tenant_key`]), empty for an invalid manifest.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    pub action: Kind,
    /// The Auth0 profile concerned, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The fields that change (create: every field set; update: each that differs;
    /// nothing under Observe: what Manage would change).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Why, for conflict, missing and invalid (naming the owner, the id or the field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The resource that owns the profile or name, for a conflict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The fields that break a rule, for invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Whether deleting the resource (removing it from the cluster, or a GitOps prune) would
    /// delete its Auth0 profile: it manages one under `deletionPolicy: Delete`.
    #[serde(rename = "deletesProfileOnRemoval", skip_serializing_if = "std::ops::Not::not")]
    pub deletes_on_removal: bool,
    /// The documents kept beside the profile (a self-service profile's custom text) that the
    /// operator would compare and replace when they differ: read by `plan` after the
    /// listing, one GET each ([`compare_documents`]).
    #[serde(skip)]
    pub documents: Vec<SubDocument>,
}

fn is_connection_profile(kind: &&'static str) -> bool {
    *kind == KindName::ConnectionProfile.kind()
}

impl Outcome {
    fn new(kind: &'static str, resource: String, source: String, action: Kind) -> Outcome {
        Outcome {
            kind,
            resource,
            source,
            tenant: String::new(),
            action,
            id: None,
            changes: Vec::new(),
            message: None,
            owner: None,
            fields: Vec::new(),
            deletes_on_removal: false,
            documents: Vec::new(),
        }
    }

    /// The resource as the text output names it: `namespace/name` for a ConnectionProfile,
    /// `Kind namespace/name` for the others.
    pub fn shown(&self) -> String {
        if is_connection_profile(&self.kind) {
            self.resource.clone()
        } else {
            format!("{} {}", self.kind, self.resource)
        }
    }
}

/// The tenant `tenant_ref` names from `namespace`: `ClusterAuth0Tenant/NAME` or
/// `Auth0Tenant/NAMESPACE/NAME` (the form `--from-cluster` takes).
pub fn tenant_key(namespace: &str, tenant_ref: &TenantRef) -> String {
    match tenant_ref.kind {
        TenantKind::ClusterAuth0Tenant => format!("ClusterAuth0Tenant/{}", tenant_ref.name),
        TenantKind::Auth0Tenant => format!("Auth0Tenant/{namespace}/{}", tenant_ref.name),
    }
}

/// Each tenant's listing of each kind (Auth0's JSON), by ([`tenant_key`], kind), or why the
/// tenant could not be read.
pub type Listings = HashMap<(String, &'static str), Result<Vec<Value>, String>>;

/// The resources of each kind the cluster holds (empty without a cluster).
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub connection_profiles: Vec<ConnectionProfile>,
    pub user_attribute_profiles: Vec<UserAttributeProfile>,
    pub self_service_profiles: Vec<SelfServiceProfile>,
}

/// A manifest read and validated: `namespace/name`, its namespace, and the resource.
struct Parsed<K> {
    resource: String,
    namespace: String,
    profile: Result<K, validation::Invalid>,
}

/// The documents of kind `K` among `documents`, with their place in the input.
fn of_kind<K: ResourceKind>(documents: &[Document]) -> Vec<(usize, &Document)> {
    documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.value["kind"].as_str() == Some(K::AUTH0.kind))
        .collect()
}

fn parse<K: ResourceKind>(documents: &[(usize, &Document)], namespace: &str) -> Vec<Parsed<K>> {
    documents
        .iter()
        .map(|(_, d)| {
            let ns = d.value["metadata"]["namespace"]
                .as_str()
                .unwrap_or(namespace)
                .to_string();
            let name = d.value["metadata"]["name"].as_str().unwrap_or("<no name>");
            let profile = checked::<K>(d.value.clone()).map(|mut p| {
                p.meta_mut().namespace = Some(ns.clone());
                p
            });
            Parsed {
                resource: format!("{ns}/{name}"),
                namespace: ns,
                profile,
            }
        })
        .collect()
}

/// The tenants the valid manifests name ([`tenant_key`]), and the kinds of the manifests
/// naming each: what `plan` must list.
pub fn tenants(documents: &[Document], namespace: &str) -> BTreeMap<String, BTreeSet<KindName>> {
    fn add<K: ResourceKind>(
        documents: &[Document],
        namespace: &str,
        kind: KindName,
        out: &mut BTreeMap<String, BTreeSet<KindName>>,
    ) {
        for p in parse::<K>(&of_kind::<K>(documents), namespace) {
            if let Ok(profile) = p.profile {
                let key = tenant_key(&p.namespace, profile.common().tenant_ref);
                out.entry(key).or_default().insert(kind);
            }
        }
    }
    let mut out = BTreeMap::new();
    add::<ConnectionProfile>(documents, namespace, KindName::ConnectionProfile, &mut out);
    add::<UserAttributeProfile>(documents, namespace, KindName::UserAttributeProfile, &mut out);
    add::<SelfServiceProfile>(documents, namespace, KindName::SelfServiceProfile, &mut out);
    out
}

/// A tenant's profiles, indexed as the operator looks them up.
struct Index<'a> {
    by_id: HashMap<&'a str, &'a Value>,
    /// By the form names are compared in: Auth0 may keep a name otherwise than it was sent
    /// (`auth0/names.rs`), and the operator looks names up that way.
    by_name: HashMap<String, Vec<&'a Value>>,
    /// How many profiles the listing holds (against the kind's quota).
    len: usize,
}

impl<'a> Index<'a> {
    fn new(listing: &'a [Value]) -> Index<'a> {
        let mut by_name: HashMap<String, Vec<&Value>> = HashMap::new();
        for profile in listing {
            if let Some(name) = profile.get("name").and_then(Value::as_str) {
                by_name.entry(names::key(name)).or_default().push(profile);
            }
        }
        Index {
            by_id: listing
                .iter()
                .filter_map(|p| p.get("id").and_then(Value::as_str).map(|id| (id, p)))
                .collect(),
            by_name,
            len: listing.len(),
        }
    }
}

/// The resource the operator would see once `manifest` is applied: the live object of the
/// same namespace and name (its uid, age, annotations and status: what it recorded) with the
/// manifest's spec and annotations applied; or, when the cluster holds none, a new resource
/// younger than every live one, `index` ordering the new ones.
fn as_applied<K: ResourceKind>(manifest: &K, live: Option<&K>, index: usize, now: &Time) -> K {
    match live {
        Some(live) => {
            let mut merged = serde_json::to_value(live).unwrap_or(Value::Null);
            merged["spec"] = serde_json::to_value(manifest)
                .map(|m| m["spec"].clone())
                .unwrap_or(Value::Null);
            let mut merged: K = serde_json::from_value(merged).unwrap_or_else(|_| manifest.clone());
            if let Some(annotations) = &manifest.meta().annotations {
                merged
                    .meta_mut()
                    .annotations
                    .get_or_insert_default()
                    .extend(annotations.clone());
            }
            merged.meta_mut().deletion_timestamp = None;
            merged
        }
        None => {
            // A new resource has no status (one in the manifest, `kubectl get -o yaml`'s,
            // is not applied).
            let mut new = match manifest.status() {
                None => manifest.clone(),
                Some(_) => {
                    let mut value = serde_json::to_value(manifest).unwrap_or(Value::Null);
                    if let Some(object) = value.as_object_mut() {
                        object.remove("status");
                    }
                    serde_json::from_value(value).unwrap_or_else(|_| manifest.clone())
                }
            };
            // Sorts after every real uid of the same second (those are lowercase hex).
            new.meta_mut().uid = Some(format!("~plan-{index:08}"));
            new.meta_mut().creation_timestamp = Some(now.clone());
            new
        }
    }
}

/// Plans every document. `namespace` stands in for a manifest without
/// `metadata.namespace`; `live` holds the resources the cluster holds (empty without a
/// cluster); `listings` each tenant's profiles of each kind (Auth0's JSON) by
/// ([`tenant_key`], kind), or why the tenant could not be read; `reached` the Auth0 tenant
/// each tenant object reaches ([`crate::auth0::client::reached`]), where it is known, which
/// the operator compares with the tenant a resource's evidence was made on.
///
/// The outcomes are in the documents' order. User attribute profiles are planned before
/// the self-service profiles that may name them.
pub fn plan_all(
    documents: &[Document],
    namespace: &str,
    live: &Live,
    listings: &Listings,
    reached: &HashMap<String, String>,
) -> Vec<Outcome> {
    let mut planned: Vec<(usize, Outcome)> = Vec::new();
    let connection = plan_kind::<ConnectionProfile>(
        &of_kind::<ConnectionProfile>(documents),
        namespace,
        &live.connection_profiles,
        listings,
        reached,
        &unreferenced,
    );
    planned.extend(connection.into_iter().map(|p| (p.index, p.outcome)));
    let attributes = plan_kind::<UserAttributeProfile>(
        &of_kind::<UserAttributeProfile>(documents),
        namespace,
        &live.user_attribute_profiles,
        listings,
        reached,
        &unreferenced,
    );
    let referents = referents(&attributes, &live.user_attribute_profiles);
    planned.extend(attributes.into_iter().map(|p| (p.index, p.outcome)));
    let resolve = |profile: &SelfServiceProfile| {
        let namespace = profile.namespace().unwrap_or_default();
        references::resolve(&profile.references(), profile.common().tenant_ref, |_, name| {
            referents.get(&(namespace.clone(), name.to_string())).cloned()
        })
    };
    let self_service = plan_kind::<SelfServiceProfile>(
        &of_kind::<SelfServiceProfile>(documents),
        namespace,
        &live.self_service_profiles,
        listings,
        reached,
        &resolve,
    );
    planned.extend(self_service.into_iter().map(|p| (p.index, p.outcome)));
    planned.sort_by_key(|(index, _)| *index);
    planned.into_iter().map(|(_, outcome)| outcome).collect()
}

/// What a resource that references nothing resolves to: nothing.
fn unreferenced<K>(_: &K) -> Result<Resolved, Unresolved> {
    Ok(Resolved::new())
}

/// The planned outcome of one manifest, its place in the input, and the resource as applied
/// (for a valid manifest).
struct Planned<K> {
    index: usize,
    outcome: Outcome,
    applied: Option<K>,
}

/// What a SelfServiceProfile's reference finds, by (namespace, name): the UserAttributeProfile
/// manifests as planned (one to be created stands in with the words of its future id; one the
/// operator would refuse never becomes Ready), else the cluster's UserAttributeProfiles as
/// they are.
fn referents(
    planned: &[Planned<UserAttributeProfile>],
    live: &[UserAttributeProfile],
) -> HashMap<(String, String), Referent> {
    let mut found: HashMap<(String, String), Referent> = live
        .iter()
        .map(|p| ((p.namespace().unwrap_or_default(), p.name_any()), Referent::of(p)))
        .collect();
    for p in planned {
        let Some(applied) = &p.applied else { continue };
        let key = (applied.namespace().unwrap_or_default(), applied.name_any());
        let id = match p.outcome.action {
            Kind::Create => Some(format!(
                "(the id of UserAttributeProfile {}, once created)",
                p.outcome.resource
            )),
            Kind::Update | Kind::Adopt | Kind::Nothing => p.outcome.id.clone(),
            _ => None,
        };
        // A paused manifest without an id is as the cluster holds it.
        if id.is_none() && p.outcome.action == Kind::Nothing {
            continue;
        }
        found.insert(
            key,
            Referent {
                ready: id.is_some(),
                id,
                deleting: false,
                paused: false,
                tenant_ref: applied.spec.tenant_ref.clone(),
            },
        );
    }
    found
}

/// Plans the manifests of kind `K` (`documents`, with their place in the input); `live` the
/// cluster's resources of the kind; `resolve` what each resource's references name.
fn plan_kind<K: ResourceKind>(
    documents: &[(usize, &Document)],
    namespace: &str,
    live: &[K],
    listings: &Listings,
    reached: &HashMap<String, String>,
    resolve: &dyn Fn(&K) -> Result<Resolved, Unresolved>,
) -> Vec<Planned<K>> {
    let kind = K::AUTH0.kind;
    let indexes: HashMap<&str, Index> = listings
        .iter()
        .filter(|((_, of), _)| *of == kind)
        .filter_map(|((key, _), listing)| Some((key.as_str(), Index::new(listing.as_ref().ok()?))))
        .collect();
    let parsed = parse::<K>(documents, namespace);
    let live_by_key: HashMap<String, &K> = live.iter().map(|p| (claims::key(p), p)).collect();
    // Every resource the operator would see: the live ones, each manifest applied over its
    // own, and the new ones.
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let applied: Vec<Option<K>> = parsed
        .iter()
        .zip(documents)
        .map(|(p, (index, _))| {
            p.profile
                .as_ref()
                .ok()
                .map(|m| as_applied(m, live_by_key.get(&p.resource).copied(), *index, &now))
        })
        .collect();
    let manifested: BTreeSet<&str> = parsed
        .iter()
        .zip(&applied)
        .filter(|(_, a)| a.is_some())
        .map(|(p, _)| p.resource.as_str())
        .collect();
    let universe: Vec<Arc<K>> = live
        .iter()
        .filter(|p| !manifested.contains(claims::key(*p).as_str()))
        .cloned()
        .chain(applied.iter().flatten().cloned())
        .map(Arc::new)
        .collect();
    // Creates planned so far, by tenant and name: a later manifest of that name conflicts.
    let mut creating: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for ((p, profile), (index, document)) in parsed.into_iter().zip(applied).zip(documents) {
        let source = document.source.clone();
        let Parsed {
            resource,
            profile: valid,
            ..
        } = p;
        let mut planned = |outcome: Outcome, applied: Option<K>| {
            outcomes.push(Planned {
                index: *index,
                outcome,
                applied,
            })
        };
        let profile = match (valid, profile) {
            (Ok(_), Some(profile)) => profile,
            (Err(invalid), _) => {
                let mut outcome = Outcome::new(kind, resource, source, Kind::Invalid);
                for error in &invalid.0 {
                    if !outcome.fields.contains(&error.field) {
                        outcome.fields.push(error.field.clone());
                    }
                }
                outcome.message = Some(invalid.to_string());
                planned(outcome, None);
                continue;
            }
            (Ok(_), None) => unreachable!("a valid manifest is applied"),
        };
        let tenant = tenant_key(&profile.namespace().unwrap_or_default(), profile.common().tenant_ref);
        let mut outcome = Outcome::new(kind, resource.clone(), source, Kind::Nothing);
        outcome.tenant = tenant.clone();
        // References resolve before anything else is decided (as in the operator, where a
        // paused resource is not looked at at all).
        let resolved = if annotation_is_true(&profile, annotation::PAUSED) {
            Resolved::new()
        } else {
            match resolve(&profile) {
                Ok(resolved) => resolved,
                Err(unresolved) => {
                    outcome.action = match &unresolved {
                        Unresolved::NotReady { .. } => Kind::Missing,
                        Unresolved::OtherTenant { spec_field, .. } => {
                            outcome.fields.push(spec_field.to_string());
                            Kind::Invalid
                        }
                    };
                    outcome.message = Some(unresolved.to_string());
                    planned(outcome, Some(profile));
                    continue;
                }
            }
        };
        let index = match listings.get(&(tenant.clone(), kind)) {
            Some(Ok(_)) => &indexes[tenant.as_str()],
            Some(Err(why)) => {
                outcome.action = Kind::Unreachable;
                outcome.message = Some(why.clone());
                planned(outcome, Some(profile));
                continue;
            }
            None => {
                outcome.action = Kind::Unreachable;
                outcome.message = Some(format!("the tenant {tenant} was not read"));
                planned(outcome, Some(profile));
                continue;
            }
        };
        let want = profile.desired(&resolved);
        let inputs = inputs(&profile, &want, &universe, reached.get(&tenant).map(String::as_str));
        let name = profile.common().name.to_string();
        let (action, inputs) = decide(
            inputs,
            index,
            &profile,
            &universe,
            creating.get(&(tenant.clone(), name.clone())),
            &want,
        );
        outcome.deletes_on_removal = deletes_on_removal(&inputs, &action);
        match action {
            Step::Create { .. } => {
                let held = index.len + creating.keys().filter(|(t, _)| *t == tenant).count();
                match K::AUTH0.quota.filter(|quota| held >= *quota) {
                    // Auth0 would refuse the create: the operator's QuotaExceeded.
                    Some(quota) => {
                        outcome.action = Kind::Conflict;
                        outcome.deletes_on_removal = false;
                        outcome.message = Some(format!(
                            "the tenant would hold more than {quota} {}s, Auth0's most: the create would be refused (the operator's QuotaExceeded); delete one first",
                            K::AUTH0.noun
                        ));
                    }
                    None => {
                        creating.insert((tenant, name), resource);
                        outcome.action = Kind::Create;
                        outcome.changes = changes::<K>(&want, &K::normalize(&Value::Null));
                        outcome
                            .changes
                            .extend(profile.sub_documents().into_iter().map(|d| Change {
                                field: d.spec_field.to_string(),
                                auth0: Value::Null,
                                desired: Value::Object(d.desired),
                            }));
                    }
                }
            }
            Step::Converge {
                id, remote, via, patch, ..
            } => {
                outcome.id = Some(id);
                outcome.action = match (patch.is_some(), via) {
                    (true, _) => Kind::Update,
                    (false, Via::Adopted) => Kind::Adopt,
                    (false, _) => Kind::Nothing,
                };
                outcome.changes = changes::<K>(&want, &K::normalize(&remote));
                outcome.documents = profile.sub_documents();
            }
            Step::Report { remote } => {
                outcome.id = remote.get("id").and_then(Value::as_str).map(str::to_string);
                outcome.message = Some("managementPolicy Observe: nothing is written".into());
                outcome.changes = changes::<K>(&want, &K::normalize(&remote));
            }
            Step::Paused | Step::Later => {
                outcome.message = Some("paused: nothing is written".into());
            }
            Step::Conflict { name, holder } => {
                outcome.action = Kind::Conflict;
                let (message, owner, id) = match holder {
                    Holder::Resource { owner, id } => (
                        format!("the name {name:?} is held by {id}, which {owner} owns"),
                        Some(owner),
                        Some(id),
                    ),
                    Holder::Foreign { id } => (
                        format!(
                            "the name {name:?} is held by {id}, which no resource owns: set spec.externalID: {id} to adopt it, or choose another name"
                        ),
                        None,
                        Some(id),
                    ),
                    Holder::Ambiguous { ids } => (
                        format!(
                            "several profiles are named {name:?}: {}; set spec.externalID to one",
                            ids.join(", ")
                        ),
                        None,
                        None,
                    ),
                };
                outcome.message = Some(message);
                outcome.owner = owner;
                outcome.id = id;
            }
            Step::AlreadyManaged { id, owner } => {
                outcome.action = Kind::Conflict;
                outcome.message = Some(format!("{id} is already managed by {owner}"));
                outcome.owner = Some(owner);
                outcome.id = Some(id);
            }
            Step::Missing { id } => {
                outcome.action = Kind::Missing;
                outcome.message = Some(format!("{id} is not in the tenant"));
                outcome.id = Some(id);
            }
            Step::NoneNamed { name } => {
                outcome.action = Kind::Missing;
                outcome.message = Some(format!("no profile is named {name:?} to observe"));
            }
            Step::TenantChanged(change) => {
                // The operator's own refusal, as its Synced condition would say it.
                outcome.action = Kind::Conflict;
                outcome.id = claims::recorded_id(&profile).map(str::to_string);
                outcome.message = Some(format!(
                    "the operator would stall (TenantChanged): {}",
                    Error::TenantChanged(change)
                ));
            }
            other @ (Step::Look(_) | Step::DeletionPaused | Step::Delete { .. } | Step::Release { .. }) => {
                unreachable!("a resource not being deleted cannot plan {other:?}")
            }
        }
        planned(outcome, Some(profile));
    }
    outcomes
}

/// The inputs of the operator's plan for `profile` (as applied), before any look-up;
/// `reached`: the Auth0 tenant its tenant object reaches, when known.
fn inputs<'i, K: ResourceKind>(
    profile: &'i K,
    want: &'i Map<String, Value>,
    universe: &[Arc<K>],
    reached: Option<&str>,
) -> Inputs<'i> {
    Inputs {
        owned_by_other: claims::Claims::of(profile, universe).older_claimant,
        tenant_changed: marks::tenant_change(profile, reached),
        // What applying the manifest does: never a deletion.
        deleting: false,
        ..Inputs::of(profile, want)
    }
}

/// Answers the plan's look-ups from the tenant's listing until it decides.
fn decide<'i, K: ResourceKind>(
    mut inputs: Inputs<'i>,
    index: &Index,
    profile: &K,
    universe: &[Arc<K>],
    creating: Option<&String>,
    want: &Map<String, Value>,
) -> (Step, Inputs<'i>) {
    loop {
        match plan(&inputs) {
            Step::Look(Lookup::ById(id)) => {
                inputs.by_id = Some(match index.by_id.get(id.as_str()) {
                    Some(found) => ById::Found((*found).clone()),
                    None => ById::Gone,
                });
            }
            Step::Look(Lookup::Named { name, .. }) => {
                let mut found: Vec<Listed> = index
                    .by_name
                    .get(&names::key(&name))
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let id = p["id"].as_str().unwrap_or_default().to_string();
                        Listed {
                            claimed_by: claims::owner_of(profile, &id, universe),
                            id,
                            profile: (*p).clone(),
                        }
                    })
                    .collect();
                if let Some(owner) = creating.filter(|_| name == profile.common().name) {
                    found.push(Listed {
                        id: "(to be created)".into(),
                        profile: Value::Object(want.clone()),
                        claimed_by: Some(owner.clone()),
                    });
                }
                if inputs.named.insert(name, found).is_some() {
                    unreachable!("the plan asked for the same name twice");
                }
            }
            action => return (action, inputs),
        }
    }
}

/// Whether deleting the resource would delete a profile in Auth0, by the operator's own
/// deletion plan: asked when the resource owns a profile (or will, once created).
fn deletes_on_removal(inputs: &Inputs, action: &Step) -> bool {
    let id = match action {
        Step::Converge { id, .. } => id.clone(),
        Step::Create { .. } => "(to be created)".to_string(),
        _ => return false,
    };
    let deleting = Inputs {
        deleting: true,
        claim: Claim::Recorded(id),
        pending: None,
        named: BTreeMap::new(),
        ..inputs.clone()
    };
    matches!(plan(&deleting), Step::Delete { .. })
}

fn changes<K: ResourceKind>(want: &Map<String, Value>, have: &Map<String, Value>) -> Vec<Change> {
    K::field_changes(want, have).into_iter().map(Change::from).collect()
}

/// Adds to `outcome` what the operator would do with each document kept beside its profile
/// (`held`: each of [`Outcome::documents`] with what Auth0 holds, or why it could not be
/// read): one that differs is replaced whole (a change, and an adopt or nothing becomes an
/// update); one that could not be read leaves the plan not whole (unreachable).
pub fn compare_documents(outcome: &mut Outcome, held: Vec<(SubDocument, Result<Value, String>)>) {
    for (document, held) in held {
        match held {
            Ok(held) if held.as_object() == Some(&document.desired) => {}
            Ok(held) => {
                outcome.changes.push(Change {
                    field: document.spec_field.to_string(),
                    auth0: held,
                    desired: Value::Object(document.desired),
                });
                if matches!(outcome.action, Kind::Adopt | Kind::Nothing) {
                    outcome.action = Kind::Update;
                }
            }
            Err(why) => {
                outcome.action = Kind::Unreachable;
                outcome.message = Some(format!("reading {}: {why}", document.spec_field));
            }
        }
    }
}

/// `plan`'s exit codes, as `kubectl diff`'s (0 no difference, 1 differences, above 1 an
/// error), each its own so that a CI script can tell them apart.
pub mod exit {
    /// Nothing would change in Auth0.
    pub const NOTHING: u8 = 0;
    /// Something would: a create or an update.
    pub const CHANGES: u8 = 1;
    /// The command line is wrong (clap's own code for a usage error): nothing was read.
    pub const USAGE: u8 = 2;
    /// A manifest would be refused: conflict, missing, invalid.
    pub const REFUSED: u8 = 3;
    /// The plan could not be made, or not whole: an error, or a manifest's tenant unreachable.
    pub const ERROR: u8 = 4;
}

/// The exit code of a plan: the highest of [`exit`] that applies.
pub fn exit_code(outcomes: &[Outcome]) -> u8 {
    if outcomes.iter().any(|o| o.action == Kind::Unreachable) {
        exit::ERROR
    } else if outcomes.iter().any(|o| o.action.refused()) {
        exit::REFUSED
    } else if outcomes.iter().any(|o| o.action.writes()) {
        exit::CHANGES
    } else {
        exit::NOTHING
    }
}

/// The plan as a person reads it: one line per resource, one indented line per field.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let show = |v: &Value| match v {
        Value::Null => "(unset)".to_string(),
        other => other.to_string(),
    };
    for o in outcomes {
        let id = o.id.as_deref().map(|id| format!(" {id}")).unwrap_or_default();
        let action = serde_json::to_value(o.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!("{action:<11} {}{id}", o.shown()));
        if let Some(message) = &o.message {
            out.push_str(&format!(": {message}"));
        }
        out.push_str(&format!("  ({})\n", o.source));
        for c in &o.changes {
            match o.action {
                Kind::Create => out.push_str(&format!("    {}: {}\n", c.field, show(&c.desired))),
                _ => out.push_str(&format!("    {}: {} → {}\n", c.field, show(&c.auth0), show(&c.desired))),
            }
        }
    }
    let deleting: Vec<&Outcome> = outcomes.iter().filter(|o| o.deletes_on_removal).collect();
    if !deleting.is_empty() {
        out.push_str(
            "Deleting these resources would delete their Auth0 profile (deletionPolicy Delete; set Orphan to keep it):\n",
        );
        for o in deleting {
            let id = o.id.as_deref().unwrap_or("(to be created)");
            out.push_str(&format!("    {} {id}\n", o.shown()));
        }
    }
    let count = |k: Kind| outcomes.iter().filter(|o| o.action == k).count();
    out.push_str(&format!(
        "Plan: {} to create, {} to update, {} to adopt, {} unchanged, {} conflicts, {} missing, {} invalid",
        count(Kind::Create),
        count(Kind::Update),
        count(Kind::Adopt),
        count(Kind::Nothing),
        count(Kind::Conflict),
        count(Kind::Missing),
        count(Kind::Invalid)
    ));
    match count(Kind::Unreachable) {
        0 => out.push_str(".\n"),
        n => out.push_str(&format!(", {n} on unreachable tenants.\n")),
    }
    out
}

/// Whether credentials that reach `given` may plan the manifests of a tenant object that
/// reaches `object` (both [`crate::auth0::client::reached`] texts): the same Auth0 tenant,
/// its domain; the endpoint may differ (a proxy, `AUTH0_BASE_URL`). Credentials of another
/// tenant would plan every manifest against the wrong profiles.
pub fn same_tenant(given: &str, object: &str) -> bool {
    let domain = |reached: &str| reached.split(" at ").next().unwrap_or(reached).to_ascii_lowercase();
    domain(given) == domain(object)
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_plan_only_the_tenant_they_reach() {
        use super::same_tenant;
        assert!(same_tenant("acme.eu.auth0.com", "acme.eu.auth0.com"));
        assert!(same_tenant(
            "acme.eu.auth0.com at http://127.0.0.1:4000/",
            "acme.eu.auth0.com"
        ));
        assert!(same_tenant("ACME.eu.auth0.com", "acme.eu.auth0.com at https://proxy/"));
        assert!(!same_tenant("acme.eu.auth0.com", "acme.us.auth0.com"));
        assert!(!same_tenant(
            "acme.eu.auth0.com at http://127.0.0.1:4000/",
            "acme.us.auth0.com at http://127.0.0.1:4000/"
        ));
    }

    use super::*;
    use serde_json::json;

    const A: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";
    const B: &str = "cop_2cu7Zs1Dfru5Qc9mZea7nm";

    fn doc(name: &str, spec: Value) -> Document {
        Document {
            source: format!("{name}.yaml#1"),
            value: json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                          "metadata": {"name": name}, "spec": spec}),
        }
    }

    fn listing() -> Vec<Value> {
        vec![
            json!({"id": A, "name": "a", "connection_name_prefix_template": "a-"}),
            json!({"id": B, "name": "b", "organization": {"show_as_button": "none"}}),
        ]
    }

    fn listings(listing: Vec<Value>) -> Listings {
        HashMap::from([(
            ("ClusterAuth0Tenant/default".to_string(), "ConnectionProfile"),
            Ok(listing),
        )])
    }

    /// A cluster holding these ConnectionProfiles.
    fn cluster(connection_profiles: Vec<ConnectionProfile>) -> Live {
        Live {
            connection_profiles,
            ..Live::default()
        }
    }

    /// A resource of the cluster that recorded `id` (as the operator does after a create).
    fn live(name: &str, id: &str, created: i64) -> ConnectionProfile {
        let value = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"),
                         "creationTimestamp": k8s_openapi::jiff::Timestamp::from_second(created).expect("time").to_string(),
                         "annotations": {annotation::PROFILE_ID: id}},
            "spec": {}, "status": {"id": id}});
        serde_json::from_value(value).expect("profile")
    }

    #[test]
    fn a_profile_the_cluster_already_manages_is_its_resources() {
        // `a` was created by the operator (no externalID: recorded in status.id); `b`'s
        // manifest is not in the input, but its live resource claims B.
        let docs = [
            doc("a", json!({"connectionNamePrefixTemplate": "a-"})),
            doc("a2", json!({"name": "a"})),
            doc("b-copy", json!({"externalID": B})),
            doc("b-named", json!({"name": "b"})),
        ];
        let live = cluster(vec![live("a", A, 100), live("b", B, 100)]);
        let outcomes = plan_all(&docs, "ns", &live, &listings(listing()), &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        assert_eq!(kinds, [Kind::Nothing, Kind::Conflict, Kind::Conflict, Kind::Conflict]);
        assert_eq!(outcomes[0].id.as_deref(), Some(A));
        assert!(outcomes[0].deletes_on_removal);
        assert_eq!(outcomes[1].owner.as_deref(), Some("ns/a"));
        assert_eq!(outcomes[2].owner.as_deref(), Some("ns/b"));
        assert_eq!(outcomes[3].owner.as_deref(), Some("ns/b"));
        // Without the cluster, `a` is a new resource and its name is someone's.
        let alone = plan_all(
            &docs[..1],
            "ns",
            &Live::default(),
            &listings(listing()),
            &HashMap::new(),
        );
        assert_eq!(alone[0].action, Kind::Conflict);
    }

    /// Issue 26: a tenant object re-pointed at another Auth0 tenant takes no profile with it;
    /// `plan` says so as the operator does (TenantChanged), from what the object reaches now.
    #[test]
    fn a_tenant_object_reaching_another_tenant_is_the_operators_refusal() {
        let mut made = live("a", A, 100);
        made.metadata.annotations.get_or_insert_default().insert(
            annotation::PROFILE_TENANT.into(),
            "ClusterAuth0Tenant/default on acme.us.auth0.com".into(),
        );
        let docs = [doc("a", json!({"connectionNamePrefixTemplate": "a-"}))];
        let reached = |tenant: &str| HashMap::from([("ClusterAuth0Tenant/default".to_string(), tenant.to_string())]);
        let live = cluster(vec![made]);
        let same = plan_all(&docs, "ns", &live, &listings(listing()), &reached("acme.us.auth0.com"));
        assert_eq!((same[0].action, same[0].id.as_deref()), (Kind::Nothing, Some(A)));
        let moved = plan_all(&docs, "ns", &live, &listings(listing()), &reached("acme.eu.auth0.com"));
        assert_eq!((moved[0].action, moved[0].id.as_deref()), (Kind::Conflict, Some(A)));
        assert!(!moved[0].deletes_on_removal);
        let message = moved[0].message.as_deref().unwrap_or_default();
        assert!(
            message.starts_with(
                "the operator would stall (TenantChanged): ClusterAuth0Tenant/default now reaches acme.eu.auth0.com"
            ) && message.contains(&format!("Auth0 profile {A} is on acme.us.auth0.com")),
            "{message}"
        );
        assert_eq!(exit_code(&moved), exit::REFUSED);
        // Not known what the object reaches: not seen (as before).
        let unknown = plan_all(&docs, "ns", &live, &listings(listing()), &HashMap::new());
        assert_eq!(unknown[0].action, Kind::Nothing);
    }

    #[test]
    fn each_manifest_is_planned_on_its_own_tenant() {
        let docs = [
            doc("a", json!({"externalID": A})),
            doc(
                "b",
                json!({"externalID": B, "tenantRef": {"kind": "Auth0Tenant", "name": "eu"}}),
            ),
            doc(
                "c",
                json!({"tenantRef": {"kind": "ClusterAuth0Tenant", "name": "gone"}}),
            ),
            doc(
                "d",
                json!({"externalID": A, "deletionPolicy": "Orphan", "tenantRef": {"kind": "Auth0Tenant", "name": "eu"}}),
            ),
        ];
        let mut listings = listings(vec![json!({"id": A, "name": "a"})]);
        listings.insert(
            ("Auth0Tenant/ns/eu".into(), "ConnectionProfile"),
            Ok(vec![json!({"id": B, "name": "b"})]),
        );
        listings.insert(
            ("ClusterAuth0Tenant/gone".into(), "ConnectionProfile"),
            Err("tenant gone: not found".into()),
        );
        assert_eq!(
            tenants(&docs, "ns").keys().cloned().collect::<Vec<_>>(),
            [
                "Auth0Tenant/ns/eu",
                "ClusterAuth0Tenant/default",
                "ClusterAuth0Tenant/gone"
            ]
        );
        let outcomes = plan_all(&docs, "ns", &Live::default(), &listings, &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        // d names A on the eu tenant, which holds no such profile; the claim of `a` is on
        // the default tenant, yet one id has one owner (as in the operator): a conflict.
        assert_eq!(kinds, [Kind::Adopt, Kind::Adopt, Kind::Unreachable, Kind::Conflict]);
        assert_eq!(outcomes[1].tenant, "Auth0Tenant/ns/eu");
        assert_eq!(outcomes[2].message.as_deref(), Some("tenant gone: not found"));
        assert!(outcomes[0].deletes_on_removal && outcomes[1].deletes_on_removal);
        let orphan = plan_all(&docs[3..], "ns", &Live::default(), &listings, &HashMap::new());
        assert_eq!(orphan[0].action, Kind::Missing);
        assert!(!orphan[0].deletes_on_removal);
        // c's tenant was not read: the plan is not whole, which outranks d's conflict.
        assert_eq!(exit_code(&outcomes), exit::ERROR);
        assert_eq!(exit_code(&outcomes[..2]), exit::NOTHING);
        assert!(render(&outcomes).contains("Deleting these resources would delete their Auth0 profile"));
    }

    #[test]
    fn each_manifest_gets_the_operators_decision() {
        let docs = [
            doc("a", json!({"externalID": A, "connectionNamePrefixTemplate": "a-"})),
            doc(
                "b",
                json!({"externalID": B, "organization": {"showAsButton": "required"}}),
            ),
            doc("new", json!({"enabledFeatures": ["scim"]})),
            doc("taken", json!({"name": "a"})),
            doc("twice", json!({"externalID": A, "connectionNamePrefixTemplate": "a-"})),
            doc("gone", json!({"externalID": "cop_9cu7Zs1Dfru5Qc9mZea7nm"})),
            doc("bad", json!({"connectionNamePrefixTemplate": "--x"})),
            doc(
                "watch",
                json!({"name": "b", "managementPolicy": "Observe", "connectionNamePrefixTemplate": "b-"}),
            ),
            doc("new-again", json!({"name": "new"})),
        ];
        let outcomes = plan_all(&docs, "ns", &Live::default(), &listings(listing()), &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        assert_eq!(
            kinds,
            [
                Kind::Adopt,
                Kind::Update,
                Kind::Create,
                Kind::Conflict,
                Kind::Conflict,
                Kind::Missing,
                Kind::Invalid,
                Kind::Nothing,
                Kind::Conflict
            ]
        );
        assert_eq!(
            outcomes[1].changes,
            [Change {
                field: "spec.organization.showAsButton".into(),
                auth0: json!("none"),
                desired: json!("required")
            }]
        );
        assert_eq!(outcomes[2].changes[0].field, "spec.enabledFeatures");
        assert!(outcomes[3].message.as_deref().is_some_and(|m| m.contains(A)));
        assert_eq!(outcomes[4].owner.as_deref(), Some("ns/a"));
        assert_eq!(outcomes[6].fields, ["spec.connectionNamePrefixTemplate"]);
        assert_eq!(outcomes[7].changes.len(), 1);
        assert_eq!(outcomes[8].owner.as_deref(), Some("ns/new"));
        assert_eq!(exit_code(&outcomes), exit::REFUSED);
        assert_eq!(exit_code(&outcomes[..3]), exit::CHANGES);
        assert_eq!(exit_code(&outcomes[..1]), exit::NOTHING);
        // Each its own code, clap's usage error among them.
        let codes = [exit::NOTHING, exit::CHANGES, exit::USAGE, exit::REFUSED, exit::ERROR];
        assert_eq!(codes.iter().collect::<BTreeSet<_>>().len(), codes.len());
        let text = render(&outcomes[1..2]);
        assert!(
            text.contains("spec.organization.showAsButton: \"none\" → \"required\""),
            "{text}"
        );
    }

    const UAP: &str = "uap_1cu7Zs1Dfru5Qc9mZea7nm";
    const SSP: &str = "ssp_1cu7Zs1Dfru5Qc9mZea7nm";

    fn of(kind: &str, name: &str, spec: Value) -> Document {
        Document {
            source: format!("{name}.yaml#1"),
            value: json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": kind,
                          "metadata": {"name": name}, "spec": spec}),
        }
    }

    fn attributes() -> Value {
        json!({"email": {"label": "Email", "description": "Work email", "auth0Mapping": "email", "profileRequired": true}})
    }

    fn kinds_listings(ssps: Vec<Value>) -> Listings {
        let default = "ClusterAuth0Tenant/default".to_string();
        HashMap::from([
            ((default.clone(), "ConnectionProfile"), Ok(listing())),
            (
                (default.clone(), "UserAttributeProfile"),
                Ok(vec![json!({"id": UAP, "name": "attrs",
                    "user_id": crate::crd::auth0_default_user_id(),
                    "user_attributes": {"email": {"label": "Email", "description": "Work email",
                                                  "auth0_mapping": "email", "profile_required": true}}})]),
            ),
            ((default, "SelfServiceProfile"), Ok(ssps)),
        ])
    }

    fn portal() -> Value {
        json!({"id": SSP, "name": "portal", "allowed_strategies": ["oidc"], "user_attributes": [],
               "user_attribute_profile_id": UAP})
    }

    #[test]
    fn each_kind_is_planned_on_its_own_listing_and_references_resolve_as_the_operator_resolves_them() {
        let docs = [
            doc("a", json!({"externalID": A, "connectionNamePrefixTemplate": "a-"})),
            of(
                "UserAttributeProfile",
                "attrs",
                json!({"externalID": UAP, "userAttributes": attributes()}),
            ),
            of(
                "SelfServiceProfile",
                "portal",
                json!({"externalID": SSP, "allowedStrategies": ["oidc"], "userAttributeProfileRef": {"name": "attrs"},
                       "customText": {"en": {"getStarted": {"introduction": "Hi"}}}}),
            ),
            of(
                "SelfServiceProfile",
                "dangling",
                json!({"userAttributeProfileRef": {"name": "nowhere"}}),
            ),
            of("UserAttributeProfile", "fresh", json!({"userAttributes": attributes()})),
            of(
                "SelfServiceProfile",
                "uses-fresh",
                json!({"userAttributeProfileRef": {"name": "fresh"}}),
            ),
            of(
                "SelfServiceProfile",
                "elsewhere",
                json!({"tenantRef": {"kind": "Auth0Tenant", "name": "eu"}, "userAttributeProfileRef": {"name": "attrs"}}),
            ),
            of("SelfServiceProfile", "broken", json!({"allowedStrategies": []})),
        ];
        assert_eq!(
            tenants(&docs, "ns"),
            BTreeMap::from([
                (
                    "Auth0Tenant/ns/eu".to_string(),
                    BTreeSet::from([KindName::SelfServiceProfile])
                ),
                ("ClusterAuth0Tenant/default".to_string(), BTreeSet::from(KindName::ALL)),
            ])
        );
        let outcomes = plan_all(
            &docs,
            "ns",
            &Live::default(),
            &kinds_listings(vec![portal()]),
            &HashMap::new(),
        );
        let seen: Vec<(&str, Kind)> = outcomes.iter().map(|o| (o.kind, o.action)).collect();
        assert_eq!(
            seen,
            [
                ("ConnectionProfile", Kind::Adopt),
                ("UserAttributeProfile", Kind::Adopt),
                ("SelfServiceProfile", Kind::Adopt),
                ("SelfServiceProfile", Kind::Missing),
                ("UserAttributeProfile", Kind::Create),
                ("SelfServiceProfile", Kind::Create),
                ("SelfServiceProfile", Kind::Invalid),
                ("SelfServiceProfile", Kind::Invalid),
            ]
        );
        // The reference by name is the adopted profile's id: nothing differs but the custom
        // text, which plan reads beside the profile.
        assert_eq!(outcomes[2].changes, []);
        assert_eq!(outcomes[2].documents.len(), 1);
        let message = outcomes[3].message.as_deref().unwrap_or_default();
        assert!(
            message
                .starts_with("spec.userAttributeProfileRef names UserAttributeProfile nowhere, which does not exist"),
            "{message}"
        );
        assert!(
            outcomes[5].changes.contains(&Change {
                field: "spec.userAttributeProfileRef".into(),
                auth0: Value::Null,
                desired: json!("(the id of UserAttributeProfile ns/fresh, once created)")
            }),
            "{:?}",
            outcomes[5].changes
        );
        assert_eq!(outcomes[6].fields, ["spec.userAttributeProfileRef"]);
        assert_eq!(outcomes[7].fields, ["spec.allowedStrategies"]);
        // A kind's output names it; a ConnectionProfile's is as it always was.
        let json = serde_json::to_value(&outcomes).expect("json");
        assert_eq!(json[0].get("kind"), None);
        assert_eq!(json[1]["kind"], "UserAttributeProfile");
        let text = render(&outcomes[..3]);
        assert!(
            text.starts_with(&format!("adopt       ns/a {A}  (a.yaml#1)\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "adopt       UserAttributeProfile ns/attrs {UAP}  (attrs.yaml#1)\n"
            )),
            "{text}"
        );

        // The custom text Auth0 holds: the same is nothing to do; another is an update.
        let mut same = outcomes[2].clone();
        let document = std::mem::take(&mut same.documents).remove(0);
        compare_documents(&mut same, vec![(document.clone(), Ok(json!({"introduction": "Hi"})))]);
        assert_eq!((same.action, same.changes.len()), (Kind::Adopt, 0));
        let mut other = same.clone();
        compare_documents(&mut other, vec![(document.clone(), Ok(json!({})))]);
        assert_eq!(other.action, Kind::Update);
        assert_eq!(
            other.changes,
            [Change {
                field: "spec.customText.en.getStarted".into(),
                auth0: json!({}),
                desired: json!({"introduction": "Hi"})
            }]
        );
        let mut unread = same.clone();
        compare_documents(&mut unread, vec![(document, Err("403 insufficient_scope".into()))]);
        assert_eq!(unread.action, Kind::Unreachable);
        assert_eq!(exit_code(&[unread]), exit::ERROR);
    }

    #[test]
    fn a_reference_finds_the_clusters_resource_and_one_that_would_not_be_ready_is_missing() {
        let docs = [
            of(
                "UserAttributeProfile",
                "taken",
                json!({"name": "attrs", "userAttributes": attributes()}),
            ),
            of(
                "SelfServiceProfile",
                "uses-taken",
                json!({"userAttributeProfileRef": {"name": "taken"}}),
            ),
            of(
                "SelfServiceProfile",
                "uses-live",
                json!({"externalID": SSP, "name": "portal", "allowedStrategies": ["oidc"],
                                                           "userAttributeProfileRef": {"name": "live-attrs"}}),
            ),
        ];
        let live: UserAttributeProfile = serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
            "metadata": {"name": "live-attrs", "namespace": "ns", "uid": "u1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"userAttributes": attributes()},
            "status": {"id": UAP, "conditions": [{"type": "Ready", "status": "True", "reason": "Available", "message": "",
                                                   "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
        .expect("live");
        let cluster = Live {
            user_attribute_profiles: vec![live],
            ..Live::default()
        };
        let outcomes = plan_all(&docs, "ns", &cluster, &kinds_listings(vec![portal()]), &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        // `taken`'s name is Auth0's attrs, which no resource owns: the operator refuses it,
        // so it never becomes Ready, and the profile naming it would wait.
        assert_eq!(kinds, [Kind::Conflict, Kind::Missing, Kind::Adopt]);
        assert!(
            outcomes[1]
                .message
                .as_deref()
                .is_some_and(|m| m.contains("is not Ready yet")),
            "{:?}",
            outcomes[1].message
        );
        assert_eq!(exit_code(&outcomes), exit::REFUSED);
    }

    #[test]
    fn a_self_service_create_past_the_tenants_quota_is_refused() {
        let held: Vec<Value> = (0..19)
            .map(|i| json!({"id": format!("ssp_{i:022}"), "name": format!("held-{i}")}))
            .collect();
        let docs = [
            of("SelfServiceProfile", "twentieth", json!({})),
            of("SelfServiceProfile", "twenty-first", json!({})),
        ];
        let outcomes = plan_all(&docs, "ns", &Live::default(), &kinds_listings(held), &HashMap::new());
        assert_eq!(outcomes[0].action, Kind::Create);
        assert_eq!(outcomes[1].action, Kind::Conflict);
        assert!(!outcomes[1].deletes_on_removal);
        let message = outcomes[1].message.as_deref().unwrap_or_default();
        assert!(
            message.contains("more than 20 self-service profiles") && message.contains("QuotaExceeded"),
            "{message}"
        );
        // A kind whose listing was not read: the plan is not whole.
        let mut partial = kinds_listings(Vec::new());
        partial.retain(|(_, kind), _| *kind != "SelfServiceProfile");
        let unread = plan_all(&docs[..1], "ns", &Live::default(), &partial, &HashMap::new());
        assert_eq!(unread[0].action, Kind::Unreachable);
    }

    /// A manifest as `kubectl get -o yaml` prints it carries a status, which applying it
    /// does not set: a new resource claims nothing by it, of any kind.
    #[test]
    fn a_manifests_status_is_not_applied() {
        let mut cop = doc("a", json!({}));
        cop.value["status"] = json!({"id": A});
        let mut uap = of("UserAttributeProfile", "attrs", json!({"userAttributes": attributes()}));
        uap.value["status"] = json!({"id": UAP});
        let outcomes = plan_all(
            &[cop, uap],
            "ns",
            &Live::default(),
            &kinds_listings(Vec::new()),
            &HashMap::new(),
        );
        // Each a create of its name, which Auth0 already holds for a profile no resource
        // owns: not an update of the id its status names.
        let seen: Vec<(Kind, Option<&str>)> = outcomes.iter().map(|o| (o.action, o.id.as_deref())).collect();
        assert_eq!(seen, [(Kind::Conflict, Some(A)), (Kind::Conflict, Some(UAP))]);
        assert!(outcomes.iter().all(|o| {
            o.message
                .as_deref()
                .is_some_and(|m| m.contains("which no resource owns"))
        }));
    }
}
