//! The two kinds beside ConnectionProfile under churn: a fleet of UserAttributeProfiles and
//! SelfServiceProfiles that name them, on a tenant whose 20 self-service profiles are almost
//! all taken by someone else, and what should be left of it when the churn is over.

use std::collections::{BTreeMap, BTreeSet};

use auth0_operator::crd::kind::{Resolved, Target};
use auth0_operator::crd::{Kind, SelfServiceProfile, UserAttributeProfile};
use futures::{StreamExt, stream};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};

use crate::common::Harness;
pub use crate::common::all_scopes as scopes;

pub fn uap_name(i: usize) -> String {
    format!("uap-{i}")
}

pub fn ssp_name(i: usize) -> String {
    format!("ssp-{i}")
}

/// The body of a user attribute profile made in the dashboard.
pub fn dashboard_uap(name: &str) -> Value {
    json!({"name": name, "user_attributes": {"email": {"label": "Email", "description": "Work email",
           "auth0_mapping": "email", "profile_required": true}}})
}

/// A user attribute profile's spec after `round` changes.
pub fn uap_spec(round: usize) -> Value {
    json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
           "userAttributes": {"email": {"label": format!("Email r{round}"), "description": "Work email",
                                        "auth0Mapping": "email", "profileRequired": true,
                                        "oidcMapping": {"mapping": "email"}}}})
}

/// A self-service profile's spec after `round` changes, naming the user attribute profile
/// `uses`, with custom text.
pub fn ssp_spec(uses: &str, round: usize) -> Value {
    json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
           "description": format!("SSO for customers, r{round}"),
           "allowedStrategies": if round.is_multiple_of(2) { json!(["oidc", "samlp"]) } else { json!(["oidc"]) },
           "userAttributeProfileRef": {"name": uses},
           "customText": {"en": {"getStarted": {"introduction": format!("Connect your IdP (r{round}).")}}}})
}

/// The resources of both kinds that should exist at the end, by name, with their last
/// spec; and what happened to them on the way.
#[derive(Default, Debug)]
pub struct KindsFleet {
    pub uaps: BTreeMap<String, Value>,
    pub ssps: BTreeMap<String, Value>,
    /// User attribute profiles deleted while a self-service profile named them.
    pub deleted_in_use: Vec<String>,
    /// The ids of deleted resources, as their status last recorded them.
    pub deleted_ids: Vec<String>,
}

async fn apply_all(h: &Harness, plural: &'static str, kind: &'static str, items: Vec<(String, Value)>) {
    stream::iter(items)
        .map(|(name, spec)| async move {
            h.apply(
                plural,
                json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": kind,
                       "metadata": {"name": name}, "spec": spec}),
            )
            .await;
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
}

/// Deletes resources of kind `K` by name; returns the ids their status recorded.
async fn delete_all<K: Kind>(h: &Harness, names: Vec<String>) -> Vec<String> {
    let api: Api<K> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    stream::iter(names)
        .map(|n| {
            let api = api.clone();
            async move {
                let id = api
                    .get_opt(&n)
                    .await
                    .expect("get")
                    .and_then(|r| r.status().and_then(|s| s.id.clone()));
                api.delete(&n, &DeleteParams::default()).await.expect("delete");
                id
            }
        })
        .buffer_unordered(8)
        .filter_map(|id| async move { id })
        .collect()
        .await
}

impl KindsFleet {
    pub async fn apply_uaps(&mut self, h: &Harness, items: Vec<(usize, usize)>) {
        let items: Vec<(String, Value)> = items
            .into_iter()
            .map(|(i, round)| (uap_name(i), uap_spec(round)))
            .collect();
        apply_all(h, "userattributeprofiles", "UserAttributeProfile", items.clone()).await;
        self.uaps.extend(items);
    }

    /// Applies self-service profiles: (index, the user attribute profile it names, round).
    pub async fn apply_ssps(&mut self, h: &Harness, items: Vec<(usize, usize, usize)>) {
        let items: Vec<(String, Value)> = items
            .into_iter()
            .map(|(i, uses, round)| (ssp_name(i), ssp_spec(&uap_name(uses), round)))
            .collect();
        apply_all(h, "selfserviceprofiles", "SelfServiceProfile", items.clone()).await;
        self.ssps.extend(items);
    }

    pub async fn delete_uaps(&mut self, h: &Harness, names: Vec<String>) {
        for n in &names {
            self.uaps.remove(n);
        }
        let ids = delete_all::<UserAttributeProfile>(h, names).await;
        self.deleted_ids.extend(ids);
    }

    pub async fn delete_ssps(&mut self, h: &Harness, names: Vec<String>) {
        for n in &names {
            self.ssps.remove(n);
        }
        let ids = delete_all::<SelfServiceProfile>(h, names).await;
        self.deleted_ids.extend(ids);
    }

    /// The user attribute profile (resource name) a live self-service profile names.
    pub fn uses(&self, ssp: &str) -> Option<String> {
        self.ssps.get(ssp)?["userAttributeProfileRef"]["name"]
            .as_str()
            .map(String::from)
    }

    /// The user attribute profiles some live self-service profile names.
    pub fn used(&self) -> BTreeSet<String> {
        self.ssps.keys().filter_map(|s| self.uses(s)).collect()
    }
}

/// The id each reference of a self-service profile must carry: the current `status.id` of
/// the user attribute profile it names (`uaps`, settled).
pub fn resolver(uaps: &[UserAttributeProfile]) -> impl Fn(&SelfServiceProfile) -> Resolved + '_ {
    move |ssp| {
        ssp.references()
            .into_iter()
            .map(|reference| {
                let id = match &reference.target {
                    Target::Id(id) => id.clone(),
                    Target::Name(name) => uaps
                        .iter()
                        .find(|u| u.name_any() == *name)
                        .and_then(|u| u.status.as_ref()?.id.clone())
                        .unwrap_or_else(|| panic!("{}: names {name}, which is not Ready", ssp.name_any())),
                };
                (reference.field, id)
            })
            .collect()
    }
}

impl KindsFleet {
    /// The user attribute profiles some live self-service profile names that are Ready (so
    /// they hold the finalizer: one the operator has not reached yet is deleted at once by
    /// the API server, with nothing in Auth0 to wait for).
    pub async fn used_and_ready(&self, h: &Harness) -> Vec<String> {
        let api: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
        let mut ready = Vec::new();
        for name in self.used() {
            let live = api.get_opt(&name).await.expect("get");
            if self.uaps.contains_key(&name)
                && live.is_some_and(|u| {
                    crate::invariants::condition_of(&u, "Ready").is_some_and(|c| c.0 == "True")
                        && !u.finalizers().is_empty()
                        && u.metadata.deletion_timestamp.is_none()
                })
            {
                ready.push(name);
            }
        }
        ready
    }

    /// Deletes, in the dashboard, the Auth0 item of a live user attribute profile that no
    /// self-service profile names (Auth0 refuses it while one still uses it in Auth0: then
    /// nothing is deleted). Returns the id deleted.
    pub async fn dashboard_delete_unused_uap(&self, h: &Harness) -> Option<String> {
        let used = self.used();
        let api: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
        for name in self.uaps.keys().filter(|u| !used.contains(*u)) {
            let Some(id) = api
                .get_opt(name)
                .await
                .expect("get")
                .and_then(|u| u.status.and_then(|s| s.id))
            else {
                continue;
            };
            let url = format!(
                "{}/tenants/{}/user-attribute-profiles/{id}",
                h.emulator.admin_url(),
                h.domain
            );
            let (status, _) = tokio::task::spawn_blocking(move || crate::common::admin_call_try("DELETE", &url, None))
                .await
                .expect("admin call");
            if status < 300 {
                return Some(id);
            }
        }
        None
    }
}

/// Those of the resources of kind `K` named that are gone (their deletion over).
pub async fn gone_now<K: Kind>(h: &Harness, names: Vec<String>) -> Vec<String> {
    let api: Api<K> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let mut gone = Vec::new();
    for name in names {
        if api.get_opt(&name).await.expect("get").is_none() {
            gone.push(name);
        }
    }
    gone
}

/// Waits (up to a minute) until each resource of kind `K` named reports `reason` (Synced).
pub async fn wait_reason<K: Kind>(h: &Harness, names: &[String], reason: &str) {
    let api: Api<K> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for name in names {
        loop {
            let now = api.get_opt(name).await.expect("get");
            let synced = now.as_ref().and_then(|r| crate::invariants::condition_of(r, "Synced"));
            if synced.as_ref().is_some_and(|c| c.1 == reason) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} {name}: not {reason} within 60 s: {synced:?}",
                K::AUTH0.kind
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Waits (up to a minute) until some resource of kind `K` reports `reason` (Synced).
pub async fn wait_any_reason<K: Kind>(h: &Harness, reason: &str) {
    let api: Api<K> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let all = api.list(&Default::default()).await.expect("list").items;
        if all
            .iter()
            .any(|r| crate::invariants::condition_of(r, "Synced").is_some_and(|c| c.1 == reason))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {} reported {reason} within 60 s",
            K::AUTH0.kind
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
