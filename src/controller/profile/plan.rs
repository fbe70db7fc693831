//! The pure decision of a pass: from what the resource can prove it owns, what the cluster's
//! other resources claim and what Auth0 showed, the one thing to do next.
//!
//! The ownership rule (docs/faults.md): a profile is this resource's only on positive
//! evidence — an id it recorded (`status.id`, or the `profile-id` annotation that survives a
//! restore without status), an explicit `spec.externalID`, or a create of its own whose
//! answer was lost *and* whose name a listing begun before that POST showed free. Anything
//! else is foreign: reported, never written, never deleted. One profile, one owner: when two
//! resources claim one id, the first claim (oldest `creationTimestamp`, then uid) keeps it.
//! Nothing here depends on Auth0 refusing a second profile of the same name.
//!
//! The evidence belongs to the tenant it was made on: when `spec.tenantRef` no longer names
//! that tenant (it may change while nothing exists in Auth0 that the API server can see, and
//! the operator's annotations are what it cannot see), nothing is looked at, written or
//! deleted on either tenant ([`Step::TenantChanged`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use kube::ResourceExt;

use super::super::desired::diff;
use crate::crd::{DeletionPolicy, Kind, ManagementPolicy};

/// What the resource can prove about its profile, strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// An id the resource recorded: `status.id`, else the `profile-id` annotation.
    Recorded(String),
    /// `spec.externalID`, not recorded yet: adopt it.
    External(String),
    /// A create of this resource whose answer was lost (the `create-pending` mark, or a POST
    /// this process sent): the name it posted. The mark is written only after a listing
    /// showed that name free.
    Uncertain { posted_name: String },
    /// Nothing: the profile is still to be created.
    Nothing,
}

impl Claim {
    /// The id the claim names, if it names one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Claim::Recorded(id) | Claim::External(id) => Some(id),
            _ => None,
        }
    }
}

/// The resource's evidence (a `profile-id` binding, or a `create-pending` mark) was made on
/// another tenant than the one `spec.tenantRef` names now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantChange {
    /// The tenant the evidence was made on, as the operator recorded it (`Kind/name`, or the
    /// tenant reached when [`Self::repointed`]).
    pub recorded: String,
    /// The tenant `spec.tenantRef` names (`Kind/name`, or the tenant it reaches when
    /// [`Self::repointed`]).
    pub current: String,
    /// The evidence: [`Claim::Recorded`] (the bound id) or [`Claim::Uncertain`] (the name
    /// of a create that may have reached Auth0).
    pub evidence: Claim,
    /// `Some(Kind/name)` when `spec.tenantRef` still names the object the evidence was made
    /// through, but that object now reaches another Auth0 tenant: `recorded` and `current`
    /// are then the tenants reached ([`crate::auth0::client::reached`]).
    pub repointed: Option<String>,
    /// The resource's kind (`ConnectionProfile`), for the message's advice.
    pub kind: &'static str,
}

/// A profile in a listing, and the resource of the cluster that claims it (`namespace/name`),
/// if another one does.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: String,
    pub profile: Value,
    pub claimed_by: Option<String>,
}

/// What a look-up by id found.
#[derive(Debug, Clone, PartialEq)]
pub enum ById {
    Found(Value),
    /// Auth0 answered 404.
    Gone,
    /// A settled resource's drift check, put off to its next interval: another pass is
    /// listing the tenant, and a drift check never waits for one.
    Deferred,
}

/// Which listing a look-up by name needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// One begun after the resource asked for this state (its creation, or this process
    /// first seeing its generation): a profile made before the request is in it.
    Request,
    /// One begun after every POST of this resource was answered: a profile an interrupted
    /// create made is in it.
    PostsOver,
}

/// What the pass must look at before it can decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    ById(String),
    /// The tenant's profiles of `name` (a listing: Auth0 has no look-up by name).
    Named {
        name: String,
        after: After,
    },
}

/// Everything the decision reads. `by_id` and `named` start empty; the driver fills in what
/// [`Step::Look`] asks for and plans again.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub deleting: bool,
    pub paused: bool,
    pub force_orphan: bool,
    pub management: ManagementPolicy,
    pub deletion: DeletionPolicy,
    pub claim: Claim,
    /// The name of a create of this resource that may have reached Auth0 unrecorded (the
    /// create-pending mark, or a POST this process sent). Beside a recorded id it is a
    /// recreate whose answer was lost: the recorded profile is gone, the new one unrecorded.
    pub pending: Option<String>,
    /// The oldest other resource in the cluster claiming the same id under `Manage`, when it
    /// is older than this one (`namespace/name`).
    pub owned_by_other: Option<String>,
    /// The resource's evidence is on another tenant than `spec.tenantRef` names.
    pub tenant_changed: Option<TenantChange>,
    /// The spec's effective name.
    pub name: &'a str,
    /// The desired body ([`crate::crd::Kind::desired`]).
    pub desired: &'a Map<String, Value>,
    /// The resource's kind's [`crate::crd::Kind::normalize`]: Auth0's copy reduced to what
    /// compares with `desired` (each kind has its own fields).
    pub normalize: fn(&Value) -> Map<String, Value>,
    pub by_id: Option<ById>,
    /// The resource's generation, and the [`stuck_key`] of a PATCH whose answer still
    /// differed: the same difference at the same generation is not sent again.
    pub generation: Option<i64>,
    pub stuck: Option<u64>,
    /// The profiles of each name a [`Lookup::Named`] asked for.
    pub named: BTreeMap<String, Vec<Listed>>,
    /// The resource is settled and this process saw its profile match the spec moments ago
    /// (within half its poll interval): no look is due yet.
    pub checked_recently: bool,
    /// The generation the status last described (`status.observedGeneration`): a PATCH at
    /// another generation is what the user asked for; at the same one it mends drift.
    pub observed_generation: Option<i64>,
    /// The id of the `profile-id` binding the resource holds, if any.
    pub bound: Option<String>,
    /// `spec.externalID`.
    pub external_id: Option<&'a str>,
}

impl<'a> Inputs<'a> {
    /// What `profile` itself says, before any look-up: its claim and pending create as its
    /// status and marks give them (the controller puts its own POSTs first), no other
    /// claimant, no tenant change, nothing stuck, nothing checked.
    pub fn of<K: Kind>(profile: &'a K, desired: &'a Map<String, Value>) -> Self {
        let common = profile.common();
        let pending = super::claims::pending_mark(profile);
        Inputs {
            deleting: profile.meta().deletion_timestamp.is_some(),
            paused: super::annotation_is_true(profile, super::annotation::PAUSED),
            force_orphan: super::annotation_is_true(profile, super::annotation::FORCE_ORPHAN),
            management: common.management_policy,
            deletion: common.deletion_policy,
            claim: super::claims::claim_of(profile, pending.clone()),
            pending,
            owned_by_other: None,
            tenant_changed: None,
            name: common.name,
            desired,
            normalize: K::normalize,
            by_id: None,
            generation: profile.meta().generation,
            stuck: None,
            named: BTreeMap::new(),
            checked_recently: false,
            observed_generation: profile.status().and_then(|s| s.observed_generation),
            bound: profile.annotations().get(super::annotation::PROFILE_ID).cloned(),
            external_id: common.external_id,
        }
    }
}

/// Who holds a name this resource may not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// Another resource of the cluster owns that profile.
    Resource { owner: String, id: String },
    /// A profile no resource claims (made in the dashboard, by another tool, ...).
    Foreign { id: String },
    /// Several profiles carry the name and nothing tells which one is this resource's.
    Ambiguous { ids: Vec<String> },
}

/// How the resource came to own the profile it converges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Its recorded id.
    Recorded,
    /// `spec.externalID`, taken for the first time.
    Adopted,
    /// Its own create, whose answer was lost, found by name.
    Claimed,
}

/// The one thing a pass does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Look at Auth0 first, then plan again.
    Look(Lookup),
    /// `paused`: no call, no write to Auth0.
    Paused,
    /// Being deleted while paused: the finalizer stays until the annotation goes or
    /// `force-orphan` is set.
    DeletionPaused,
    /// Observe: report the profile, write nothing.
    Report { remote: Value },
    /// The profile is this resource's: bring it to the spec (`patch` holds the fields that
    /// differ, `None` when it already matches).
    Converge {
        id: String,
        remote: Value,
        via: Via,
        patch: Option<Map<String, Value>>,
        /// Fields that differ although a PATCH sent them at this generation and Auth0 kept
        /// the same values: reported as `NotConverging`, not sent again.
        stuck: Option<Map<String, Value>>,
        /// The patch restores what was changed outside the operator (`DriftCorrected`):
        /// the status already describes this generation of the profile it recorded. Else
        /// the user asked for it (`Updated`).
        drift: bool,
    },
    /// The drift check was put off: nothing to do this time.
    Later,
    /// POST the desired body: the name was seen free (`replacing` names the profile that
    /// was deleted behind the operator's back).
    Create { replacing: Option<String> },
    /// The name is held by a profile this resource may not take.
    Conflict { name: String, holder: Holder },
    /// Another resource owns the id this one claims.
    AlreadyManaged { id: String, owner: String },
    /// The id this resource was told to adopt or observe does not exist.
    Missing { id: String },
    /// Observe found no profile of the name.
    NoneNamed { name: String },
    /// `spec.tenantRef` no longer names the tenant the resource's evidence is on: no call,
    /// no write, no deletion, on either tenant, until a person acts.
    TenantChanged(TenantChange),
    /// Delete the profiles (the recorded one, and a recreate whose answer was lost), then
    /// let the resource go.
    Delete { ids: Vec<String> },
    /// Let the resource go without a call: `kept` names a profile left in Auth0, `why` says
    /// why it is left (for the Event).
    Release { kept: Option<String>, why: Keep },
}

/// Why a deletion leaves the profile in Auth0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// Nothing was ever created for the resource.
    NothingCreated,
    /// `deletionPolicy: Orphan`, `managementPolicy: Observe` or the `force-orphan` annotation.
    Policy,
    /// Another resource owns the profile.
    OwnedBy(String),
    /// An interrupted create left several profiles of its name: none is deleted, since one
    /// may be someone else's.
    Ambiguous(Vec<String>),
}

/// The decision (pure): see the module's rule.
pub fn plan(inputs: &Inputs) -> Step {
    if inputs.deleting {
        return plan_deletion(inputs);
    }
    if inputs.paused {
        return Step::Paused;
    }
    if let Some(change) = &inputs.tenant_changed {
        return Step::TenantChanged(change.clone());
    }
    // Settled and seen matching moments ago (the pass the operator's own writes cause right
    // after a create, a Secret or tenant event): a drift check is due once per poll interval.
    if inputs.checked_recently && matches!(inputs.claim, Claim::Recorded(_)) {
        return Step::Later;
    }
    match inputs.management {
        ManagementPolicy::Observe => plan_observe(inputs),
        ManagementPolicy::Manage => plan_manage(inputs),
    }
}

fn plan_deletion(inputs: &Inputs) -> Step {
    let recorded = match &inputs.claim {
        Claim::Recorded(id) => Some(id.clone()),
        _ => None,
    };
    if inputs.force_orphan
        || inputs.management == ManagementPolicy::Observe
        || inputs.deletion == DeletionPolicy::Orphan
    {
        return Step::Release {
            kept: recorded,
            why: Keep::Policy,
        };
    }
    if inputs.paused {
        return Step::DeletionPaused;
    }
    if let Some(owner) = &inputs.owned_by_other {
        return Step::Release {
            kept: inputs.claim.id().map(str::to_string),
            why: Keep::OwnedBy(owner.clone()),
        };
    }
    // Deleting on the tenant named now could delete a stranger's profile of the posted name;
    // deleting on the recorded one is not what the resource says any more. A person decides:
    // tenantRef back, or force-orphan.
    if let Some(change) = &inputs.tenant_changed {
        return Step::TenantChanged(change.clone());
    }
    match &inputs.claim {
        Claim::Recorded(id) => match &inputs.pending {
            None => Step::Delete { ids: vec![id.clone()] },
            // A recreate of the profile may have reached Auth0: delete it too.
            Some(posted) => match ours(inputs, posted) {
                None => Step::Look(Lookup::Named {
                    name: posted.clone(),
                    after: After::PostsOver,
                }),
                // The recorded profile still listed under the posted name: the pending
                // create was its own (the mark outlived the id's recording). Else the one
                // unclaimed profile of the name is the recreate.
                Some(found) => match found.as_slice() {
                    [one] if one.id != *id => Step::Delete {
                        ids: vec![id.clone(), one.id.clone()],
                    },
                    _ => Step::Delete { ids: vec![id.clone()] },
                },
            },
        },
        // Adoption never completed: nothing of Auth0's was ever this resource's to delete.
        Claim::External(_) | Claim::Nothing => Step::Release {
            kept: None,
            why: Keep::NothingCreated,
        },
        Claim::Uncertain { posted_name } => match ours(inputs, posted_name) {
            None => Step::Look(Lookup::Named {
                name: posted_name.clone(),
                after: After::PostsOver,
            }),
            Some(found) => match found.as_slice() {
                [] => Step::Release {
                    kept: None,
                    why: Keep::NothingCreated,
                },
                [one] => Step::Delete {
                    ids: vec![one.id.clone()],
                },
                many => Step::Release {
                    kept: None,
                    why: Keep::Ambiguous(many.iter().map(|l| l.id.clone()).collect()),
                },
            },
        },
    }
}

fn plan_observe(inputs: &Inputs) -> Step {
    if let Some(id) = inputs.claim.id() {
        return match &inputs.by_id {
            None => Step::Look(Lookup::ById(id.to_string())),
            Some(ById::Found(remote)) => Step::Report { remote: remote.clone() },
            Some(ById::Gone) => Step::Missing { id: id.to_string() },
            Some(ById::Deferred) => Step::Later,
        };
    }
    match named(inputs, inputs.name) {
        None => Step::Look(Lookup::Named {
            name: inputs.name.to_string(),
            after: After::Request,
        }),
        Some(found) => match found {
            [] => Step::NoneNamed {
                name: inputs.name.to_string(),
            },
            [one] => Step::Report {
                remote: one.profile.clone(),
            },
            many => Step::Conflict {
                name: inputs.name.to_string(),
                holder: Holder::Ambiguous {
                    ids: many.iter().map(|l| l.id.clone()).collect(),
                },
            },
        },
    }
}

fn plan_manage(inputs: &Inputs) -> Step {
    if let (Some(id), Some(owner)) = (inputs.claim.id(), &inputs.owned_by_other) {
        return Step::AlreadyManaged {
            id: id.to_string(),
            owner: owner.clone(),
        };
    }
    match &inputs.claim {
        Claim::Recorded(id) => match &inputs.by_id {
            None => Step::Look(Lookup::ById(id.clone())),
            Some(ById::Deferred) => Step::Later,
            Some(ById::Found(remote)) => converge(inputs, id, remote, Via::Recorded),
            // Deleted behind the operator's back: made again, once the name is seen free;
            // unless a recreate already went out and its answer was lost.
            Some(ById::Gone) => match &inputs.pending {
                None => create_if_free(inputs, Some(id.clone())),
                Some(posted) => resolve_uncertain(inputs, posted, Some(id.clone())),
            },
        },
        Claim::External(id) => match &inputs.by_id {
            None => Step::Look(Lookup::ById(id.clone())),
            Some(ById::Deferred) => Step::Later,
            Some(ById::Found(remote)) => converge(inputs, id, remote, Via::Adopted),
            Some(ById::Gone) => Step::Missing { id: id.clone() },
        },
        Claim::Uncertain { posted_name } => resolve_uncertain(inputs, posted_name, None),
        Claim::Nothing => create_if_free(inputs, None),
    }
}

/// A create whose answer was lost: the one unclaimed profile of the posted name is this
/// resource's (its mark was written only after a listing showed the name free); none means
/// nothing was stored; several cannot be told apart.
fn resolve_uncertain(inputs: &Inputs, posted_name: &str, replacing: Option<String>) -> Step {
    match ours(inputs, posted_name) {
        None => Step::Look(Lookup::Named {
            name: posted_name.to_string(),
            after: After::PostsOver,
        }),
        Some(found) => match found.as_slice() {
            [one] => converge(inputs, &one.id, &one.profile, Via::Claimed),
            // Nothing was stored: post again once the name (perhaps renamed since) is seen
            // free.
            [] => create_if_free(inputs, replacing),
            many => Step::Conflict {
                name: posted_name.to_string(),
                holder: Holder::Ambiguous {
                    ids: many.iter().map(|l| l.id.clone()).collect(),
                },
            },
        },
    }
}

fn converge(inputs: &Inputs, id: &str, remote: &Value, via: Via) -> Step {
    let normalized = (inputs.normalize)(remote);
    let patch = diff(inputs.desired, &normalized);
    let stuck = patch
        .as_ref()
        .is_some_and(|p| inputs.stuck == Some(stuck_key(inputs.generation, p, &normalized)));
    let (patch, stuck) = if stuck { (None, patch) } else { (patch, None) };
    // Observe recorded the id named by externalID without binding it: the first converge
    // under Manage is the adoption users see (issue 26: no Adopted Event after the
    // documented Observe-then-Manage path).
    let via = if via == Via::Recorded && inputs.bound.is_none() && inputs.external_id == Some(id) {
        Via::Adopted
    } else {
        via
    };
    let drift = patch.is_some() && via == Via::Recorded && inputs.observed_generation == inputs.generation;
    Step::Converge {
        id: id.to_string(),
        remote: remote.clone(),
        via,
        patch,
        stuck,
        drift,
    }
}

/// Names a difference that a PATCH did not mend: the generation, the fields and values
/// sent, and the values Auth0 kept. A spec change or another value in Auth0 changes it.
pub fn stuck_key(generation: Option<i64>, patch: &Map<String, Value>, remote: &Map<String, Value>) -> u64 {
    let kept: Vec<(&String, Option<&Value>)> = patch.keys().map(|k| (k, remote.get(k))).collect();
    super::memory::fingerprint((
        generation,
        Value::Object(patch.clone()).to_string(),
        format!("{kept:?}"),
    ))
}

/// Create when a listing begun after the request shows no profile of the name, whoever's.
fn create_if_free(inputs: &Inputs, replacing: Option<String>) -> Step {
    match named(inputs, inputs.name) {
        None => Step::Look(Lookup::Named {
            name: inputs.name.to_string(),
            after: After::Request,
        }),
        Some([]) => Step::Create { replacing },
        Some([one]) => Step::Conflict {
            name: inputs.name.to_string(),
            holder: match &one.claimed_by {
                Some(owner) => Holder::Resource {
                    owner: owner.clone(),
                    id: one.id.clone(),
                },
                None => Holder::Foreign { id: one.id.clone() },
            },
        },
        Some(many) => Step::Conflict {
            name: inputs.name.to_string(),
            holder: match many
                .iter()
                .find_map(|l| l.claimed_by.clone().map(|o| (o, l.id.clone())))
            {
                Some((owner, id)) => Holder::Resource { owner, id },
                None => Holder::Ambiguous {
                    ids: many.iter().map(|l| l.id.clone()).collect(),
                },
            },
        },
    }
}

/// The listed profiles of `name`, when a look-up of that name was answered.
fn named<'i>(inputs: &'i Inputs, name: &str) -> Option<&'i [Listed]> {
    inputs.named.get(name).map(Vec::as_slice)
}

/// The profiles of the posted name that an interrupted create may have made: those no other
/// resource claims.
fn ours(inputs: &Inputs, posted_name: &str) -> Option<Vec<Listed>> {
    named(inputs, posted_name).map(|found| found.iter().filter(|l| l.claimed_by.is_none()).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";
    const OTHER: &str = "cop_2cu7Zs1Dfru5Qc9mZea7nm";

    fn desired() -> Map<String, Value> {
        crate::controller::desired::normalize(&json!({"name": "acme", "connection_name_prefix_template": "mine-"}))
    }

    fn remote(id: &str, prefix: &str) -> Value {
        json!({"id": id, "name": "acme", "connection_name_prefix_template": prefix})
    }

    fn inputs(desired: &Map<String, Value>) -> Inputs<'_> {
        Inputs {
            deleting: false,
            paused: false,
            force_orphan: false,
            management: ManagementPolicy::Manage,
            deletion: DeletionPolicy::Delete,
            claim: Claim::Nothing,
            pending: None,
            owned_by_other: None,
            tenant_changed: None,
            name: "acme",
            desired,
            normalize: crate::controller::desired::normalize,
            by_id: None,
            generation: Some(1),
            stuck: None,
            named: BTreeMap::new(),
            checked_recently: false,
            observed_generation: None,
            bound: None,
            external_id: None,
        }
    }

    fn listed(id: &str, prefix: &str, claimed_by: Option<&str>) -> Listed {
        Listed {
            id: id.into(),
            profile: remote(id, prefix),
            claimed_by: claimed_by.map(str::to_string),
        }
    }

    fn writes(action: &Step) -> bool {
        matches!(
            action,
            Step::Create { .. } | Step::Delete { .. } | Step::Converge { patch: Some(_), .. }
        )
    }

    /// Every combination of claim × remote × policy × deletion × paused × claimant, planned
    /// to the end (answering each look-up), must respect the ownership rule.
    #[test]
    fn every_combination_respects_ownership() {
        let want = desired();
        // (the claim, and whether a recreate of the recorded profile went out unanswered)
        let claims = [
            Claim::Recorded(ID.into()),
            Claim::Recorded("recreated-pending".into()),
            Claim::External(ID.into()),
            Claim::Uncertain {
                posted_name: "acme".into(),
            },
            Claim::Uncertain {
                posted_name: "old".into(),
            },
            Claim::Nothing,
        ];
        // What Auth0 holds: in sync, drifted, gone, a foreign same-name profile, a profile of
        // the name that another resource owns, two unclaimed profiles of the name.
        #[derive(Clone, Copy, Debug)]
        enum World {
            InSync,
            Drifted,
            Gone,
            Foreign,
            OtherResources,
            Duplicates,
        }
        let worlds = [
            World::InSync,
            World::Drifted,
            World::Gone,
            World::Foreign,
            World::OtherResources,
            World::Duplicates,
        ];
        let mut rows = 0;
        for claim in &claims {
            for world in worlds {
                for management in [ManagementPolicy::Manage, ManagementPolicy::Observe] {
                    for deletion in [DeletionPolicy::Delete, DeletionPolicy::Orphan] {
                        for paused in [false, true] {
                            for deleting in [false, true] {
                                for owned_by_other in [None, Some("other/first".to_string())] {
                                    for tenant_changed in [false, true] {
                                        // Only evidence (a binding, a pending mark) records a
                                        // tenant.
                                        let evidence = matches!(claim, Claim::Recorded(_) | Claim::Uncertain { .. });
                                        if tenant_changed && !evidence {
                                            continue;
                                        }
                                        rows += 1;
                                        let mut i = inputs(&want);
                                        i.claim = match claim {
                                            Claim::Recorded(marker) if marker == "recreated-pending" => {
                                                i.pending = Some("acme".into());
                                                Claim::Recorded(ID.into())
                                            }
                                            Claim::Uncertain { posted_name } => {
                                                i.pending = Some(posted_name.clone());
                                                claim.clone()
                                            }
                                            other => other.clone(),
                                        };
                                        i.management = management;
                                        i.deletion = deletion;
                                        i.paused = paused;
                                        i.deleting = deleting;
                                        i.owned_by_other = owned_by_other.clone();
                                        i.tenant_changed = tenant_changed.then(|| TenantChange {
                                            recorded: "Auth0Tenant/old".into(),
                                            current: "Auth0Tenant/new".into(),
                                            evidence: i.claim.clone(),
                                            repointed: None,
                                            kind: "ConnectionProfile",
                                        });
                                        let row = format!(
                                            "{claim:?} {world:?} {management:?} {deletion:?} paused={paused} deleting={deleting} other={owned_by_other:?} tenant_changed={tenant_changed}"
                                        );
                                        let action = run(&mut i, world_answer(world));
                                        check(&i, &action, world, &row);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Every claim without a tenant change, and the four kinds of evidence with one.
        assert_eq!(rows, (6 + 4) * 6 * 2 * 2 * 2 * 2 * 2);

        /// What one look-up found: by id, or by name.
        type Answer = (Option<ById>, Option<(String, Vec<Listed>)>);

        fn world_answer(world: World) -> impl Fn(&Lookup) -> Answer {
            move |lookup| match lookup {
                Lookup::ById(id) => (
                    Some(match world {
                        World::InSync if id == ID => ById::Found(remote(ID, "mine-")),
                        World::Drifted if id == ID => ById::Found(remote(ID, "theirs-")),
                        _ => ById::Gone,
                    }),
                    None,
                ),
                Lookup::Named { name, .. } => {
                    let found = match (world, name.as_str()) {
                        (World::InSync | World::Drifted, "acme") => vec![listed(ID, "mine-", None)],
                        (World::Foreign, "acme") => vec![listed(OTHER, "theirs-", None)],
                        (World::OtherResources, "acme") => vec![listed(OTHER, "theirs-", Some("team-b/acme"))],
                        (World::Duplicates, "acme") => {
                            vec![listed(ID, "mine-", None), listed(OTHER, "theirs-", None)]
                        }
                        _ => vec![],
                    };
                    (None, Some((name.clone(), found)))
                }
            }
        }

        fn run(i: &mut Inputs, answer: impl Fn(&Lookup) -> (Option<ById>, Option<(String, Vec<Listed>)>)) -> Step {
            for _ in 0..4 {
                match plan(i) {
                    Step::Look(lookup) => {
                        let (by_id, named) = answer(&lookup);
                        if by_id.is_some() {
                            i.by_id = by_id;
                        }
                        if let Some((name, found)) = named {
                            i.named.insert(name, found);
                        }
                    }
                    action => return action,
                }
            }
            panic!("the plan kept looking: {i:?}");
        }

        fn check(i: &Inputs, action: &Step, world: World, row: &str) {
            // Evidence on another tenant: Auth0 is not even looked at, on either tenant; a
            // deletion lets go only where it calls nothing (a policy, another owner).
            if let Some(change) = &i.tenant_changed {
                assert!(
                    i.by_id.is_none() && i.named.is_empty(),
                    "{row}: looked at Auth0 though the tenant changed"
                );
                match action {
                    Step::TenantChanged(c) => assert_eq!(c, change, "{row}"),
                    Step::Paused => assert!(i.paused && !i.deleting, "{row}"),
                    Step::Release { .. } => assert!(
                        i.deleting
                            && (i.force_orphan
                                || i.deletion == DeletionPolicy::Orphan
                                || i.management == ManagementPolicy::Observe
                                || i.owned_by_other.is_some()),
                        "{row}: {action:?}"
                    ),
                    Step::DeletionPaused => assert!(i.deleting && i.paused, "{row}"),
                    other => panic!("{row}: the tenant changed, yet {other:?}"),
                }
            }
            if i.paused && !matches!(action, Step::Release { .. }) {
                assert!(!writes(action), "{row}: paused, yet {action:?}");
            }
            if i.management == ManagementPolicy::Observe {
                assert!(!writes(action), "{row}: Observe, yet {action:?}");
            }
            if i.owned_by_other.is_some() && i.claim.id().is_some() {
                assert!(!writes(action), "{row}: another resource owns the id, yet {action:?}");
            }
            if i.deleting && (i.deletion == DeletionPolicy::Orphan || i.management == ManagementPolicy::Observe) {
                assert!(matches!(action, Step::Release { .. }), "{row}: {action:?}");
            }
            // The foreign profile (OTHER) is never written or deleted, whatever the claim:
            // the resource never names it. One exception is inherent in the rule: an
            // interrupted create of "acme" whose pre-POST listing showed the name free takes
            // the one unclaimed profile of that name, which then cannot have been there
            // before the POST (a profile made by someone else between that listing and the
            // POST is the rule's window; docs/faults.md).
            let evidence_says_ours = i.pending.as_deref() == Some("acme") && matches!(world, World::Foreign);
            match action {
                _ if evidence_says_ours => {}
                Step::Delete { ids } => {
                    assert!(
                        !ids.iter().any(|id| id == OTHER),
                        "{row}: deleted the foreign profile: {action:?}"
                    )
                }
                Step::Converge { id, patch: Some(_), .. } => {
                    assert_ne!(id, OTHER, "{row}: wrote the foreign profile: {action:?}")
                }
                _ => {}
            }
            // Nothing is created while a profile of the name exists, whoever's.
            if let Step::Create { .. } = action {
                assert!(
                    matches!(world, World::Gone),
                    "{row}: created although the name is taken: {action:?}"
                );
            }
            // Two unclaimed profiles of a posted name: never guessed.
            if matches!(world, World::Duplicates) && matches!(i.claim, Claim::Uncertain { .. }) && !i.paused {
                assert!(
                    !matches!(
                        action,
                        Step::Delete { .. } | Step::Converge { .. } | Step::Create { .. }
                    ),
                    "{row}: {action:?}"
                );
            }
        }
    }

    /// Kills the mutant of `one.id != *id` in `plan_deletion` (issue 28): a resource with a
    /// recorded id whose recreate's answer was lost deletes that recreate too, and deletes
    /// its own profile once when the name lists only that.
    #[test]
    fn a_deletion_deletes_the_recreate_whose_answer_was_lost() {
        let want = desired();
        let mut i = inputs(&want);
        i.deleting = true;
        i.claim = Claim::Recorded(ID.into());
        i.pending = Some("acme".into());
        // The recreate: the one unclaimed profile of the posted name, not the recorded one.
        i.named.insert("acme".into(), vec![listed(OTHER, "mine-", None)]);
        assert_eq!(
            plan(&i),
            Step::Delete {
                ids: vec![ID.into(), OTHER.into()]
            }
        );
        // The recorded profile itself still listed under the posted name: the mark outlived
        // the id's recording, and it is deleted once.
        i.named.insert("acme".into(), vec![listed(ID, "mine-", None)]);
        assert_eq!(plan(&i), Step::Delete { ids: vec![ID.into()] });
        // Two unclaimed profiles of the name: neither is provably the recreate.
        i.named.insert(
            "acme".into(),
            vec![
                listed(OTHER, "mine-", None),
                listed("cop_3cu7Zs1Dfru5Qc9mZea7nm", "x-", None),
            ],
        );
        assert_eq!(plan(&i), Step::Delete { ids: vec![ID.into()] });
        // Not listed yet: look first.
        i.named.clear();
        assert!(matches!(plan(&i), Step::Look(Lookup::Named { .. })), "{:?}", plan(&i));
    }

    #[test]
    fn a_retry_that_meets_a_foreign_profile_is_a_conflict() {
        // Issue 11, input 1: a profile of the name exists that nobody in the cluster claims.
        // The listing taken before any POST shows it, so no POST is sent at all (a 503 and a
        // retry's 409 can no longer make it look like ours).
        let want = desired();
        let mut i = inputs(&want);
        i.named.insert("acme".into(), vec![listed(OTHER, "theirs-", None)]);
        assert_eq!(
            plan(&i),
            Step::Conflict {
                name: "acme".into(),
                holder: Holder::Foreign { id: OTHER.into() }
            }
        );
    }

    #[test]
    fn a_name_another_resource_owns_names_that_resource() {
        let want = desired();
        let mut i = inputs(&want);
        i.named
            .insert("acme".into(), vec![listed(OTHER, "theirs-", Some("team-b/acme"))]);
        assert_eq!(
            plan(&i),
            Step::Conflict {
                name: "acme".into(),
                holder: Holder::Resource {
                    owner: "team-b/acme".into(),
                    id: OTHER.into()
                }
            }
        );
    }

    #[test]
    fn an_interrupted_create_renamed_since_is_claimed_then_renamed() {
        // Issue 11, input 2: posted as "old", answer lost, spec now says "acme".
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Uncertain {
            posted_name: "old".into(),
        };
        assert_eq!(
            plan(&i),
            Step::Look(Lookup::Named {
                name: "old".into(),
                after: After::PostsOver
            })
        );
        i.named.insert(
            "old".into(),
            vec![Listed {
                id: ID.into(),
                profile: json!({"id": ID, "name": "old", "connection_name_prefix_template": "mine-"}),
                claimed_by: None,
            }],
        );
        match plan(&i) {
            Step::Converge {
                id,
                via: Via::Claimed,
                patch: Some(patch),
                ..
            } => {
                assert_eq!(id, ID);
                assert_eq!(patch.get("name"), Some(&json!("acme")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_interrupted_create_that_stored_nothing_posts_again_once_the_name_is_free() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Uncertain {
            posted_name: "acme".into(),
        };
        i.named.insert("acme".into(), vec![]);
        assert_eq!(plan(&i), Step::Create { replacing: None });
        // Renamed since: the new name needs its own look.
        i.named.clear();
        i.claim = Claim::Uncertain {
            posted_name: "old".into(),
        };
        i.named.insert("old".into(), vec![]);
        assert_eq!(
            plan(&i),
            Step::Look(Lookup::Named {
                name: "acme".into(),
                after: After::Request
            })
        );
    }

    #[test]
    fn a_paused_deletion_waits_and_force_orphan_lets_it_go() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        i.deleting = true;
        i.paused = true;
        assert_eq!(plan(&i), Step::DeletionPaused);
        i.force_orphan = true;
        assert_eq!(
            plan(&i),
            Step::Release {
                kept: Some(ID.into()),
                why: Keep::Policy
            }
        );
    }

    #[test]
    fn the_second_claim_writes_nothing_and_deletes_nothing() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::External(ID.into());
        i.owned_by_other = Some("team-a/first".into());
        assert_eq!(
            plan(&i),
            Step::AlreadyManaged {
                id: ID.into(),
                owner: "team-a/first".into()
            }
        );
        i.deleting = true;
        assert_eq!(
            plan(&i),
            Step::Release {
                kept: Some(ID.into()),
                why: Keep::OwnedBy("team-a/first".into())
            }
        );
    }

    #[test]
    fn a_profile_deleted_behind_our_back_is_made_again_only_when_its_name_is_free() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        i.by_id = Some(ById::Gone);
        assert_eq!(
            plan(&i),
            Step::Look(Lookup::Named {
                name: "acme".into(),
                after: After::Request
            })
        );
        i.named.insert("acme".into(), vec![]);
        assert_eq!(
            plan(&i),
            Step::Create {
                replacing: Some(ID.into())
            }
        );
    }

    #[test]
    fn a_patch_auth0_did_not_take_is_not_sent_again_for_the_same_values() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        i.by_id = Some(ById::Found(remote(ID, "MINE-")));
        let Step::Converge { patch: Some(patch), .. } = plan(&i) else {
            panic!("a PATCH first")
        };
        // Auth0 kept "MINE-" (it normalizes): the same difference is not sent again...
        i.stuck = Some(stuck_key(
            Some(1),
            &patch,
            &crate::controller::desired::normalize(&remote(ID, "MINE-")),
        ));
        assert!(matches!(
            plan(&i),
            Step::Converge {
                patch: None,
                stuck: Some(_),
                ..
            }
        ));
        // ...until Auth0 holds another value, or the spec changes.
        i.by_id = Some(ById::Found(remote(ID, "Mine-")));
        assert!(matches!(
            plan(&i),
            Step::Converge {
                patch: Some(_),
                stuck: None,
                ..
            }
        ));
        i.by_id = Some(ById::Found(remote(ID, "MINE-")));
        i.generation = Some(2);
        assert!(matches!(
            plan(&i),
            Step::Converge {
                patch: Some(_),
                stuck: None,
                ..
            }
        ));
    }

    #[test]
    fn evidence_on_another_tenant_stops_everything_but_a_call_free_release() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        let change = TenantChange {
            recorded: "ClusterAuth0Tenant/default".into(),
            current: "Auth0Tenant/acme".into(),
            evidence: Claim::Recorded(ID.into()),
            repointed: None,
            kind: "ConnectionProfile",
        };
        i.tenant_changed = Some(change.clone());
        assert_eq!(plan(&i), Step::TenantChanged(change.clone()));
        // Even a found profile is not converged: the plan does not get that far.
        i.by_id = Some(ById::Found(remote(ID, "theirs-")));
        assert_eq!(plan(&i), Step::TenantChanged(change.clone()));
        // An interrupted create on the old tenant: no listing of either tenant.
        i.by_id = None;
        i.claim = Claim::Uncertain {
            posted_name: "acme".into(),
        };
        i.pending = Some("acme".into());
        assert_eq!(plan(&i), Step::TenantChanged(change.clone()));
        // Deletion: blocked, unless a policy lets the resource go without a call.
        i.deleting = true;
        assert_eq!(plan(&i), Step::TenantChanged(change.clone()));
        i.force_orphan = true;
        assert_eq!(
            plan(&i),
            Step::Release {
                kept: None,
                why: Keep::Policy
            }
        );
    }

    #[test]
    fn adoption_and_drift() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::External(ID.into());
        i.by_id = Some(ById::Found(remote(ID, "theirs-")));
        match plan(&i) {
            Step::Converge {
                via: Via::Adopted,
                patch: Some(patch),
                ..
            } => assert_eq!(patch.keys().collect::<Vec<_>>(), ["connection_name_prefix_template"]),
            other => panic!("{other:?}"),
        }
        i.by_id = Some(ById::Found(remote(ID, "mine-")));
        assert!(matches!(plan(&i), Step::Converge { patch: None, .. }));
        i.by_id = Some(ById::Gone);
        assert_eq!(plan(&i), Step::Missing { id: ID.into() });
    }

    /// What a converge is called: a PATCH at the generation the status already describes,
    /// of the profile the resource recorded, mends drift; any other is what the user asked
    /// for. Observe's recorded id named by externalID, not yet bound, is adopted.
    #[test]
    fn a_patch_is_drift_only_at_the_described_generation_of_the_recorded_profile() {
        let want = desired();
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        i.bound = Some(ID.into());
        i.generation = Some(2);
        i.observed_generation = Some(2);
        i.by_id = Some(ById::Found(remote(ID, "theirs-")));
        let drift = |i: &Inputs| match plan(i) {
            Step::Converge { drift, via, .. } => (drift, via),
            other => panic!("{other:?}"),
        };
        assert_eq!(drift(&i), (true, Via::Recorded), "changed outside the operator");
        i.observed_generation = Some(1);
        assert_eq!(drift(&i), (false, Via::Recorded), "the user changed the spec");
        i.observed_generation = None;
        assert_eq!(drift(&i), (false, Via::Recorded), "never described");
        i.observed_generation = Some(2);
        i.by_id = Some(ById::Found(remote(ID, "mine-")));
        assert_eq!(drift(&i), (false, Via::Recorded), "nothing to send is no drift");
        i.by_id = Some(ById::Found(remote(ID, "theirs-")));
        // Adopted by externalID: asked for, at any generation.
        i.claim = Claim::External(ID.into());
        i.bound = None;
        assert_eq!(drift(&i), (false, Via::Adopted));
        // Observe recorded the externalID's profile without binding it: Manage adopts it.
        i.claim = Claim::Recorded(ID.into());
        i.external_id = Some(ID);
        assert_eq!(drift(&i), (false, Via::Adopted));
        i.bound = Some(ID.into());
        assert_eq!(drift(&i), (true, Via::Recorded), "bound: adopted before");
        i.bound = None;
        i.external_id = Some(OTHER);
        assert_eq!(drift(&i), (true, Via::Recorded), "externalID names another profile");
    }

    /// A settled resource this process saw match moments ago makes no call; anything it does
    /// not own by record is looked at whatever was checked.
    #[test]
    fn a_recorded_profile_checked_moments_ago_is_not_looked_at() {
        let want = desired();
        for management in [ManagementPolicy::Manage, ManagementPolicy::Observe] {
            let mut i = inputs(&want);
            i.management = management;
            i.claim = Claim::Recorded(ID.into());
            assert_eq!(plan(&i), Step::Look(Lookup::ById(ID.into())));
            i.checked_recently = true;
            assert_eq!(plan(&i), Step::Later, "{management:?}");
            i.claim = Claim::External(ID.into());
            assert_eq!(plan(&i), Step::Look(Lookup::ById(ID.into())), "{management:?}");
        }
        // A deletion is never put off.
        let mut i = inputs(&want);
        i.claim = Claim::Recorded(ID.into());
        i.checked_recently = true;
        i.deleting = true;
        assert_eq!(plan(&i), Step::Delete { ids: vec![ID.into()] });
    }

    /// `Inputs::of` reads what the resource says.
    #[test]
    fn inputs_of_a_resource() {
        let profile: crate::crd::ConnectionProfile = serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
            "metadata": {"name": "p", "namespace": "team", "uid": "u1", "generation": 4,
                         "deletionTimestamp": "2026-12-07T10:00:00Z",
                         "annotations": {"auth0.operators.dev/paused": "TRUE",
                                         "auth0.operators.dev/force-orphan": "true",
                                         "auth0.operators.dev/profile-id": ID,
                                         "auth0.operators.dev/create-pending": "acme"}},
            "spec": {"name": "acme", "tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                     "externalID": OTHER, "managementPolicy": "Observe", "deletionPolicy": "Orphan"},
            "status": {"observedGeneration": 3}
        }))
        .expect("profile");
        let want = desired();
        let i = Inputs::of(&profile, &want);
        assert!(i.deleting && i.paused && i.force_orphan);
        assert_eq!(i.management, ManagementPolicy::Observe);
        assert_eq!(i.deletion, DeletionPolicy::Orphan);
        assert_eq!(i.claim, Claim::Recorded(ID.into()));
        assert_eq!(i.pending.as_deref(), Some("acme"));
        assert_eq!(i.name, "acme");
        assert_eq!(i.generation, Some(4));
        assert_eq!(i.observed_generation, Some(3));
        assert_eq!(i.bound.as_deref(), Some(ID));
        assert_eq!(i.external_id, Some(OTHER));
        assert!(!i.checked_recently && i.owned_by_other.is_none() && i.tenant_changed.is_none());
        assert!(i.by_id.is_none() && i.stuck.is_none() && i.named.is_empty());
        assert_eq!(
            (i.normalize)(&json!({"name": "acme"})),
            crate::controller::desired::normalize(&json!({"name": "acme"}))
        );
        let plain: crate::crd::ConnectionProfile = serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
            "metadata": {"name": "p", "namespace": "team", "annotations": {"auth0.operators.dev/paused": "no"}},
            "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}
        }))
        .expect("profile");
        let i = Inputs::of(&plain, &want);
        assert!(!i.deleting && !i.paused && !i.force_orphan);
        assert_eq!(i.claim, Claim::Nothing);
        assert_eq!((i.observed_generation, i.bound, i.external_id), (None, None, None));
    }

    /// A user attribute profile that matches its spec converges with nothing to send: the
    /// remote is read with its own kind's normalize, not a connection profile's.
    #[test]
    fn another_kind_in_sync_sends_nothing() {
        use crate::crd::{Kind, UserAttributeProfile};
        let profile: UserAttributeProfile = serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
            "metadata": {"name": "attrs"},
            "spec": {"userAttributes": {"given_name": {"label": "Given", "description": "First name",
                     "auth0Mapping": "given_name", "profileRequired": false}}}
        }))
        .expect("profile");
        let want = profile.desired(&Default::default());
        let remote = json!({"id": "uap_1cu7Zs1Dfru5Qc9mZea7nm", "name": "attrs",
            "user_id": UserAttributeProfile::normalize(&Value::Null)["user_id"],
            "user_attributes": {"given_name": {"label": "Given", "description": "First name",
                                "auth0_mapping": "given_name", "profile_required": false}}});
        let inputs = Inputs {
            claim: Claim::External("uap_1cu7Zs1Dfru5Qc9mZea7nm".into()),
            name: "attrs",
            normalize: UserAttributeProfile::normalize,
            by_id: Some(ById::Found(remote)),
            ..inputs(&want)
        };
        match plan(&inputs) {
            Step::Converge { patch, .. } => assert_eq!(patch, None),
            other => panic!("{other:?}"),
        }
    }
}
