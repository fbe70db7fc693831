//! Watching ConnectionProfiles so that one object the Rust types cannot read stops nothing.
//!
//! kube's typed watch decodes a whole LIST at once: a single ConnectionProfile that does not
//! match this version's types (written under an older or looser CRD, or a newer one after a
//! rollback: `deletionPolicy: delete`, a feature this version has no name for) failed every
//! LIST, and no resource in the cluster was reconciled (issue 24; kube-rs#774). The watch
//! here reads `DynamicObject`s and decodes each on its own; one that does not decode is
//! kept with its metadata and status, an empty spec and the in-memory annotation
//! [`UNDECODABLE`] naming the field and the error, so its pass reports
//! `Synced=False InvalidSpec` saying what to fix, writes nothing and calls no one
//! (`profile/mod.rs`), and its deletion waits for `force-orphan` like any blocked deletion.

use futures::{Stream, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use crate::crd::{ConnectionProfile, Kind};

/// In-memory only (never written): why this copy of the resource could not be decoded.
pub const UNDECODABLE: &str = "auth0.operators.dev/undecodable";

/// A watch of kind `K` in `namespace` (all when `None`) that decodes each object on its own
/// ([`decode`]).
pub fn watch<K: Kind>(
    client: kube::Client,
    namespace: &Option<String>,
    config: watcher::Config,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send + use<K> {
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    watcher::watcher(api, config).map(|event| event.map(decode_event::<K>))
}

/// [`watch`] of ConnectionProfiles.
pub fn profiles(
    client: kube::Client,
    namespace: &Option<String>,
    config: watcher::Config,
) -> impl Stream<Item = Result<Event<ConnectionProfile>, watcher::Error>> + Send + use<> {
    watch::<ConnectionProfile>(client, namespace, config)
}

fn decode_event<K: Kind>(event: Event<DynamicObject>) -> Event<K> {
    match event {
        Event::Apply(o) => Event::Apply(decode(o)),
        Event::Delete(o) => Event::Delete(decode(o)),
        Event::Init => Event::Init,
        Event::InitApply(o) => Event::InitApply(decode(o)),
        Event::InitDone => Event::InitDone,
    }
}

/// The object as a `K`; one the types cannot read keeps its metadata and (when it decodes)
/// its status, with a default spec and [`UNDECODABLE`] saying which field is wrong and how.
pub fn decode<K: Kind>(object: DynamicObject) -> K {
    let value = serde_json::to_value(&object).unwrap_or(Value::Null);
    let why = match serde_path_to_error::deserialize::<_, K>(&value) {
        Ok(profile) => return profile,
        Err(e) => {
            let path = e.path().to_string();
            let message: String = e.inner().to_string().chars().take(300).collect();
            format!("{path}: {message}")
        }
    };
    let status = object
        .data
        .get("status")
        .and_then(|status| serde_json::from_value(status.clone()).ok());
    let mut metadata = object.metadata;
    metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(UNDECODABLE.to_string(), why);
    K::blank(metadata, status)
}

/// Why `profile` could not be decoded, as a message saying what to fix; `None` for a
/// profile that decoded.
pub fn undecodable<K: Kind>(profile: &K) -> Option<String> {
    use kube::ResourceExt;
    profile.annotations().get(UNDECODABLE).map(|why| {
        format!(
            "the resource does not match this operator's ConnectionProfile schema at {why}: it was accepted by another CRD than this version's (an older or looser one, or a newer one after a rollback); correct the field, and install this version's CRDs (kubectl apply --server-side -f crds/); nothing was sent to Auth0"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dynamic(spec: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u", "annotations": {"a": "b"}},
            "spec": spec,
            "status": {"id": "cop_1cu7Zs1Dfru5Qc9mZea7nm"}
        }))
        .expect("dynamic")
    }

    #[test]
    fn a_good_object_decodes_and_a_bad_one_keeps_its_identity_and_says_why() {
        let good = decode::<ConnectionProfile>(dynamic(json!({"name": "acme", "deletionPolicy": "Orphan"})));
        assert!(undecodable(&good).is_none());
        assert_eq!(good.spec.name.as_deref(), Some("acme"));
        let bad = decode::<ConnectionProfile>(dynamic(json!({"name": "acme", "deletionPolicy": "delete"})));
        let why = undecodable(&bad).expect("undecodable");
        assert!(why.contains("spec.deletionPolicy"), "{why}");
        assert!(why.contains("delete"), "{why}");
        assert_eq!(bad.metadata.uid.as_deref(), Some("u"));
        assert_eq!(bad.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(
            bad.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("a"))
                .map(String::as_str),
            Some("b")
        );
        assert_eq!(
            bad.status.and_then(|s| s.id).as_deref(),
            Some("cop_1cu7Zs1Dfru5Qc9mZea7nm")
        );
        let wrong_type = decode::<ConnectionProfile>(dynamic(json!({"enabledFeatures": "scim"})));
        assert!(
            undecodable(&wrong_type)
                .expect("undecodable")
                .contains("spec.enabledFeatures")
        );
    }
}
