//! `plan` (pure): what the operator would do with each manifest, decided by the
//! controller's own [`crate::controller::profile::plan::plan`] over one listing of the
//! manifest's tenant, in the words a reviewer reads.
//!
//! Ownership is decided as the operator decides it, from what the cluster records: each
//! manifest is the live ConnectionProfile of its namespace and name (when the cluster holds
//! one) with the manifest's spec applied, so its recorded id (`status.id`, the `profile-id`
//! annotation), its `create-pending` mark and its tenant marks count; the claims of every
//! other resource read from the cluster count too ([`claims`]). A manifest the cluster does
//! not hold is a new resource, younger than every live one; between new manifests, input
//! order stands in for age (the first to claim an id owns it; a create planned earlier holds
//! its name). Without a cluster, every manifest is new.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value};

use super::manifests::Document;
use crate::auth0::names;
use crate::controller::desired::{FieldChange, desired, field_changes, normalize};
use crate::controller::profile::error::Error;
use crate::controller::profile::plan::{Action, ById, Claim, Holder, Inputs, Listed, Lookup, Via, plan};
use crate::controller::profile::{annotation, annotation_is_true, claims, marks};
use crate::crd::{ConnectionProfile, TenantKind, TenantRef, validation};

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
    /// The operator would refuse: the id or name it must observe or adopt is not in the tenant.
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

impl From<FieldChange> for Change {
    fn from(c: FieldChange) -> Self {
        Change {
            field: format!("spec.{}", c.field),
            auth0: c.auth0,
            desired: c.desired,
        }
    }
}

/// The plan of one manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
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
}

impl Outcome {
    fn new(resource: String, source: String, action: Kind) -> Outcome {
        Outcome {
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

/// A manifest read and validated: `namespace/name`, its namespace, and the resource.
struct Parsed {
    resource: String,
    namespace: String,
    profile: Result<ConnectionProfile, validation::Invalid>,
}

fn parse(documents: &[Document], namespace: &str) -> Vec<Parsed> {
    documents
        .iter()
        .map(|d| {
            let ns = d.value["metadata"]["namespace"]
                .as_str()
                .unwrap_or(namespace)
                .to_string();
            let name = d.value["metadata"]["name"].as_str().unwrap_or("<no name>");
            let profile = validation::check(d.value.clone(), None).map(|mut p| {
                p.metadata.namespace = Some(ns.clone());
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

/// The tenants the valid manifests name ([`tenant_key`]), and `(namespace, tenantRef)` of
/// one manifest naming each: what `plan` must list.
pub fn tenants(documents: &[Document], namespace: &str) -> BTreeMap<String, (String, TenantRef)> {
    parse(documents, namespace)
        .into_iter()
        .filter_map(|p| {
            let profile = p.profile.ok()?;
            let tenant_ref = profile.spec.tenant_ref.clone();
            Some((tenant_key(&p.namespace, &tenant_ref), (p.namespace, tenant_ref)))
        })
        .collect()
}

/// A tenant's profiles, indexed as the operator looks them up.
struct Index<'a> {
    by_id: HashMap<&'a str, &'a Value>,
    /// By the form names are compared in: Auth0 may keep a name otherwise than it was sent
    /// (`auth0/names.rs`), and the operator looks names up that way.
    by_name: HashMap<String, Vec<&'a Value>>,
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
        }
    }
}

/// The resource the operator would see once `manifest` is applied: the live object of the
/// same namespace and name (its uid, age, annotations and status: what it recorded) with the
/// manifest's spec and annotations applied; or, when the cluster holds none, a new resource
/// younger than every live one, `index` ordering the new ones.
fn as_applied(
    manifest: &ConnectionProfile,
    live: Option<&ConnectionProfile>,
    index: usize,
    now: &Time,
) -> ConnectionProfile {
    match live {
        Some(live) => {
            let mut merged = live.clone();
            merged.spec = manifest.spec.clone();
            if let Some(annotations) = &manifest.metadata.annotations {
                merged
                    .metadata
                    .annotations
                    .get_or_insert_default()
                    .extend(annotations.clone());
            }
            merged.metadata.deletion_timestamp = None;
            merged
        }
        None => {
            let mut new = manifest.clone();
            // Sorts after every real uid of the same second (those are lowercase hex).
            new.metadata.uid = Some(format!("~plan-{index:08}"));
            new.metadata.creation_timestamp = Some(now.clone());
            new.status = None;
            new
        }
    }
}

/// Plans every document. `namespace` stands in for a manifest without
/// `metadata.namespace`; `live` holds the ConnectionProfiles the cluster holds (empty
/// without a cluster); `listings` each tenant's profiles (Auth0's JSON) by [`tenant_key`],
/// or why the tenant could not be read; `reached` the Auth0 tenant each tenant object
/// reaches ([`crate::auth0::client::reached`]), where it is known, which the operator
/// compares with the tenant a resource's evidence was made on.
pub fn plan_all(
    documents: &[Document],
    namespace: &str,
    live: &[ConnectionProfile],
    listings: &HashMap<String, Result<Vec<Value>, String>>,
    reached: &HashMap<String, String>,
) -> Vec<Outcome> {
    let indexes: HashMap<&str, Index> = listings
        .iter()
        .filter_map(|(key, listing)| Some((key.as_str(), Index::new(listing.as_ref().ok()?))))
        .collect();
    let parsed = parse(documents, namespace);
    let live_by_key: HashMap<String, &ConnectionProfile> = live.iter().map(|p| (claims::key(p), p)).collect();
    // Every resource the operator would see: the live ones, each manifest applied over its
    // own, and the new ones.
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let applied: Vec<Option<ConnectionProfile>> = parsed
        .iter()
        .enumerate()
        .map(|(index, p)| {
            p.profile
                .as_ref()
                .ok()
                .map(|m| as_applied(m, live_by_key.get(&p.resource).copied(), index, &now))
        })
        .collect();
    let manifested: BTreeSet<&str> = parsed
        .iter()
        .zip(&applied)
        .filter(|(_, a)| a.is_some())
        .map(|(p, _)| p.resource.as_str())
        .collect();
    let universe: Vec<Arc<ConnectionProfile>> = live
        .iter()
        .filter(|p| !manifested.contains(claims::key(*p).as_str()))
        .cloned()
        .chain(applied.iter().flatten().cloned())
        .map(Arc::new)
        .collect();
    // Creates planned so far, by tenant and name: a later manifest of that name conflicts.
    let mut creating: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for ((p, profile), document) in parsed.into_iter().zip(applied).zip(documents) {
        let source = document.source.clone();
        let Parsed {
            resource,
            profile: valid,
            ..
        } = p;
        let profile = match (valid, profile) {
            (Ok(_), Some(profile)) => profile,
            (Err(invalid), _) => {
                let mut outcome = Outcome::new(resource, source, Kind::Invalid);
                for error in &invalid.0 {
                    if !outcome.fields.contains(&error.field) {
                        outcome.fields.push(error.field.clone());
                    }
                }
                outcome.message = Some(invalid.to_string());
                outcomes.push(outcome);
                continue;
            }
            (Ok(_), None) => unreachable!("a valid manifest is applied"),
        };
        let tenant = tenant_key(&profile.namespace().unwrap_or_default(), &profile.spec.tenant_ref);
        let mut outcome = Outcome::new(resource.clone(), source, Kind::Nothing);
        outcome.tenant = tenant.clone();
        let index = match listings.get(&tenant) {
            Some(Ok(_)) => &indexes[tenant.as_str()],
            Some(Err(why)) => {
                outcome.action = Kind::Unreachable;
                outcome.message = Some(why.clone());
                outcomes.push(outcome);
                continue;
            }
            None => {
                outcome.action = Kind::Unreachable;
                outcome.message = Some(format!("the tenant {tenant} was not read"));
                outcomes.push(outcome);
                continue;
            }
        };
        let want = desired(&profile);
        let inputs = inputs(&profile, &want, &universe, reached.get(&tenant).map(String::as_str));
        let (action, inputs) = decide(
            inputs,
            index,
            &profile,
            &universe,
            creating.get(&(tenant.clone(), profile.effective_name().to_string())),
            &want,
        );
        outcome.deletes_on_removal = deletes_on_removal(&inputs, &action);
        match action {
            Action::Create { .. } => {
                creating.insert((tenant, profile.effective_name().to_string()), resource);
                outcome.action = Kind::Create;
                outcome.changes = changes(&want, &normalize(&Value::Null));
            }
            Action::Converge {
                id, remote, via, patch, ..
            } => {
                outcome.id = Some(id);
                outcome.action = match (patch.is_some(), via) {
                    (true, _) => Kind::Update,
                    (false, Via::Adopted) => Kind::Adopt,
                    (false, _) => Kind::Nothing,
                };
                outcome.changes = changes(&want, &normalize(&remote));
            }
            Action::Report { remote } => {
                outcome.id = remote.get("id").and_then(Value::as_str).map(str::to_string);
                outcome.message = Some("managementPolicy Observe: nothing is written".into());
                outcome.changes = changes(&want, &normalize(&remote));
            }
            Action::Paused | Action::Later => {
                outcome.message = Some("paused: nothing is written".into());
            }
            Action::Conflict { name, holder } => {
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
            Action::AlreadyManaged { id, owner } => {
                outcome.action = Kind::Conflict;
                outcome.message = Some(format!("{id} is already managed by {owner}"));
                outcome.owner = Some(owner);
                outcome.id = Some(id);
            }
            Action::Missing { id } => {
                outcome.action = Kind::Missing;
                outcome.message = Some(format!("{id} is not in the tenant"));
                outcome.id = Some(id);
            }
            Action::NoneNamed { name } => {
                outcome.action = Kind::Missing;
                outcome.message = Some(format!("no profile is named {name:?} to observe"));
            }
            Action::TenantChanged(change) => {
                // The operator's own refusal, as its Synced condition would say it.
                outcome.action = Kind::Conflict;
                outcome.id = claims::recorded_id(&profile).map(str::to_string);
                outcome.message = Some(format!(
                    "the operator would stall (TenantChanged): {}",
                    Error::TenantChanged(change)
                ));
            }
            other @ (Action::Look(_) | Action::DeletionPaused | Action::Delete { .. } | Action::Release { .. }) => {
                unreachable!("a resource not being deleted cannot plan {other:?}")
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}

/// The inputs of the operator's plan for `profile` (as applied), before any look-up;
/// `reached`: the Auth0 tenant its tenant object reaches, when known.
fn inputs<'i>(
    profile: &'i ConnectionProfile,
    want: &'i Map<String, Value>,
    universe: &[Arc<ConnectionProfile>],
    reached: Option<&str>,
) -> Inputs<'i> {
    let pending = claims::pending_mark(profile);
    Inputs {
        deleting: false,
        paused: annotation_is_true(profile, annotation::PAUSED),
        force_orphan: annotation_is_true(profile, annotation::FORCE_ORPHAN),
        management: profile.spec.management_policy,
        deletion: profile.spec.deletion_policy,
        claim: claims::claim_of(profile, pending.clone()),
        pending,
        owned_by_other: claims::Claims::of(profile, universe).older_claimant,
        tenant_changed: marks::tenant_change(profile, reached),
        name: profile.effective_name(),
        desired: want,
        normalize,
        by_id: None,
        generation: profile.metadata.generation,
        stuck: None,
        named: BTreeMap::new(),
    }
}

/// Answers the plan's look-ups from the tenant's listing until it decides.
fn decide<'i>(
    mut inputs: Inputs<'i>,
    index: &Index,
    profile: &ConnectionProfile,
    universe: &[Arc<ConnectionProfile>],
    creating: Option<&String>,
    want: &Map<String, Value>,
) -> (Action, Inputs<'i>) {
    loop {
        match plan(&inputs) {
            Action::Look(Lookup::ById(id)) => {
                inputs.by_id = Some(match index.by_id.get(id.as_str()) {
                    Some(found) => ById::Found((*found).clone()),
                    None => ById::Gone,
                });
            }
            Action::Look(Lookup::Named { name, .. }) => {
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
                if let Some(owner) = creating.filter(|_| name == profile.effective_name()) {
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
fn deletes_on_removal(inputs: &Inputs, action: &Action) -> bool {
    let id = match action {
        Action::Converge { id, .. } => id.clone(),
        Action::Create { .. } => "(to be created)".to_string(),
        _ => return false,
    };
    let deleting = Inputs {
        deleting: true,
        claim: Claim::Recorded(id),
        pending: None,
        named: BTreeMap::new(),
        ..inputs.clone()
    };
    matches!(plan(&deleting), Action::Delete { .. })
}

fn changes(want: &Map<String, Value>, have: &Map<String, Value>) -> Vec<Change> {
    field_changes(want, have).into_iter().map(Change::from).collect()
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
        out.push_str(&format!("{action:<11} {}{id}", o.resource));
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
            out.push_str(&format!("    {} {id}\n", o.resource));
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

    fn listings(listing: Vec<Value>) -> HashMap<String, Result<Vec<Value>, String>> {
        HashMap::from([("ClusterAuth0Tenant/default".to_string(), Ok(listing))])
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
        let live = [live("a", A, 100), live("b", B, 100)];
        let outcomes = plan_all(&docs, "ns", &live, &listings(listing()), &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        assert_eq!(kinds, [Kind::Nothing, Kind::Conflict, Kind::Conflict, Kind::Conflict]);
        assert_eq!(outcomes[0].id.as_deref(), Some(A));
        assert!(outcomes[0].deletes_on_removal);
        assert_eq!(outcomes[1].owner.as_deref(), Some("ns/a"));
        assert_eq!(outcomes[2].owner.as_deref(), Some("ns/b"));
        assert_eq!(outcomes[3].owner.as_deref(), Some("ns/b"));
        // Without the cluster, `a` is a new resource and its name is someone's.
        let alone = plan_all(&docs[..1], "ns", &[], &listings(listing()), &HashMap::new());
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
        let live = [made];
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
        listings.insert("Auth0Tenant/ns/eu".into(), Ok(vec![json!({"id": B, "name": "b"})]));
        listings.insert("ClusterAuth0Tenant/gone".into(), Err("tenant gone: not found".into()));
        assert_eq!(
            tenants(&docs, "ns").keys().cloned().collect::<Vec<_>>(),
            [
                "Auth0Tenant/ns/eu",
                "ClusterAuth0Tenant/default",
                "ClusterAuth0Tenant/gone"
            ]
        );
        let outcomes = plan_all(&docs, "ns", &[], &listings, &HashMap::new());
        let kinds: Vec<Kind> = outcomes.iter().map(|o| o.action).collect();
        // d names A on the eu tenant, which holds no such profile; the claim of `a` is on
        // the default tenant, yet one id has one owner (as in the operator): a conflict.
        assert_eq!(kinds, [Kind::Adopt, Kind::Adopt, Kind::Unreachable, Kind::Conflict]);
        assert_eq!(outcomes[1].tenant, "Auth0Tenant/ns/eu");
        assert_eq!(outcomes[2].message.as_deref(), Some("tenant gone: not found"));
        assert!(outcomes[0].deletes_on_removal && outcomes[1].deletes_on_removal);
        let orphan = plan_all(&docs[3..], "ns", &[], &listings, &HashMap::new());
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
        let outcomes = plan_all(&docs, "ns", &[], &listings(listing()), &HashMap::new());
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
}
