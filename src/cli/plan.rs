//! `plan` (pure): what the operator would do with each manifest, decided by the
//! controller's own [`crate::controller::profile::plan::plan`] over one listing of the
//! tenant, in the words a reviewer reads.
//!
//! No cluster is read: each manifest is planned as a new resource (`Claim::External` with
//! `spec.externalID`, else `Claim::Nothing`), and the claims between the manifests stand in
//! for the cluster's other resources (the first manifest claiming an id owns it; a create
//! planned earlier holds its name).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::manifests::Document;
use crate::auth0::names;
use crate::controller::desired::{FieldChange, desired, field_changes, normalize};
use crate::controller::profile::annotation;
use crate::controller::profile::plan::{Action, ById, Claim, Holder, Inputs, Listed, Lookup, Via, plan};
use crate::crd::{ConnectionProfile, DeletionPolicy, ManagementPolicy, validation};

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
}

impl Kind {
    /// Whether the operator would write to Auth0.
    pub fn writes(self) -> bool {
        matches!(self, Kind::Create | Kind::Update)
    }
    /// Whether the operator would refuse the resource.
    pub fn refused(self) -> bool {
        matches!(self, Kind::Conflict | Kind::Missing | Kind::Invalid)
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
}

impl Outcome {
    fn new(resource: String, source: String, action: Kind) -> Outcome {
        Outcome {
            resource,
            source,
            action,
            id: None,
            changes: Vec::new(),
            message: None,
            owner: None,
            fields: Vec::new(),
        }
    }
}

/// Plans every document against `listing` (every profile of the tenant, Auth0's JSON).
/// `namespace` stands in for a manifest without `metadata.namespace`.
pub fn plan_all(documents: &[Document], listing: &[Value], namespace: &str) -> Vec<Outcome> {
    let by_id: HashMap<&str, &Value> = listing
        .iter()
        .filter_map(|p| p.get("id").and_then(Value::as_str).map(|id| (id, p)))
        .collect();
    // By the form names are compared in: Auth0 may keep a name otherwise than it was sent
    // (`auth0/names.rs`), and the operator looks names up that way.
    let mut by_name: HashMap<String, Vec<&Value>> = HashMap::new();
    for profile in listing {
        if let Some(name) = profile.get("name").and_then(Value::as_str) {
            by_name.entry(names::key(name)).or_default().push(profile);
        }
    }
    // Parse and validate first: the claims between manifests are those of valid ones.
    let parsed: Vec<(String, Result<ConnectionProfile, validation::Invalid>)> = documents
        .iter()
        .map(|d| {
            let ns = d.value["metadata"]["namespace"].as_str().unwrap_or(namespace);
            let name = d.value["metadata"]["name"].as_str().unwrap_or("<no name>");
            (format!("{ns}/{name}"), validation::check(d.value.clone(), None))
        })
        .collect();
    // The first manifest (in input order) to claim an id under Manage owns it.
    let mut first_claim: HashMap<String, String> = HashMap::new();
    for (resource, profile) in &parsed {
        if let Ok(profile) = profile
            && profile.spec.management_policy == ManagementPolicy::Manage
            && let Some(id) = &profile.spec.external_id
        {
            first_claim.entry(id.clone()).or_insert_with(|| resource.clone());
        }
    }
    let mut creating: BTreeMap<String, String> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for ((resource, profile), document) in parsed.into_iter().zip(documents) {
        let source = document.source.clone();
        let profile = match profile {
            Ok(profile) => profile,
            Err(invalid) => {
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
        };
        let want = desired(&profile);
        let claim = match &profile.spec.external_id {
            Some(id) => Claim::External(id.clone()),
            None => Claim::Nothing,
        };
        let owned_by_other = claim
            .id()
            .and_then(|id| first_claim.get(id))
            .filter(|owner| **owner != resource)
            .cloned();
        let paused = profile
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(annotation::PAUSED))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut inputs = Inputs {
            deleting: false,
            paused,
            force_orphan: false,
            management: profile.spec.management_policy,
            deletion: DeletionPolicy::Delete,
            claim,
            pending: None,
            owned_by_other,
            tenant_changed: None,
            name: profile.effective_name(),
            desired: &want,
            by_id: None,
            generation: profile.metadata.generation,
            stuck: None,
            named: BTreeMap::new(),
        };
        let action = loop {
            match plan(&inputs) {
                Action::Look(Lookup::ById(id)) => {
                    inputs.by_id = Some(match by_id.get(id.as_str()) {
                        Some(found) => ById::Found((*found).clone()),
                        None => ById::Gone,
                    });
                }
                Action::Look(Lookup::Named { name, .. }) => {
                    let mut found: Vec<Listed> = by_name
                        .get(&names::key(&name))
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            let id = p["id"].as_str().unwrap_or_default().to_string();
                            Listed {
                                claimed_by: first_claim.get(&id).filter(|o| **o != resource).cloned(),
                                id,
                                profile: (*p).clone(),
                            }
                        })
                        .collect();
                    if let Some(owner) = creating.get(&name) {
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
                action => break action,
            }
        };
        let mut outcome = Outcome::new(resource.clone(), source, Kind::Nothing);
        match action {
            Action::Create { .. } => {
                creating.insert(profile.effective_name().to_string(), resource);
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
                            "the name {name:?} is held by {id}, which no manifest owns: set spec.externalID: {id} to adopt it, or choose another name"
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
                outcome.message = Some(format!("spec.externalID {id} is not in the tenant"));
                outcome.id = Some(id);
            }
            Action::NoneNamed { name } => {
                outcome.action = Kind::Missing;
                outcome.message = Some(format!("no profile is named {name:?} to observe"));
            }
            other @ (Action::Look(_)
            | Action::DeletionPaused
            | Action::Delete { .. }
            | Action::Release { .. }
            | Action::TenantChanged(_)) => {
                unreachable!("a new resource's plan cannot end in {other:?}")
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}

fn changes(want: &Map<String, Value>, have: &Map<String, Value>) -> Vec<Change> {
    field_changes(want, have).into_iter().map(Change::from).collect()
}

/// 0 when nothing would change in Auth0, 2 when something would, 1 when the operator would
/// refuse a manifest (invalid, conflict, missing), as `terraform plan -detailed-exitcode`.
pub fn exit_code(outcomes: &[Outcome]) -> u8 {
    if outcomes.iter().any(|o| o.action.refused()) {
        1
    } else if outcomes.iter().any(|o| o.action.writes()) {
        2
    } else {
        0
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
        out.push_str(&format!("{action:<8} {}{id}", o.resource));
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
    let count = |k: Kind| outcomes.iter().filter(|o| o.action == k).count();
    out.push_str(&format!(
        "Plan: {} to create, {} to update, {} to adopt, {} unchanged, {} conflicts, {} missing, {} invalid.\n",
        count(Kind::Create),
        count(Kind::Update),
        count(Kind::Adopt),
        count(Kind::Nothing),
        count(Kind::Conflict),
        count(Kind::Missing),
        count(Kind::Invalid)
    ));
    out
}

#[cfg(test)]
mod tests {
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
        let outcomes = plan_all(&docs, &listing(), "ns");
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
        assert_eq!(exit_code(&outcomes), 1);
        assert_eq!(exit_code(&outcomes[..3]), 2);
        assert_eq!(exit_code(&outcomes[..1]), 0);
        let text = render(&outcomes[1..2]);
        assert!(
            text.contains("spec.organization.showAsButton: \"none\" → \"required\""),
            "{text}"
        );
    }
}
