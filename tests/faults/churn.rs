//! Churn: resources created, changed and deleted while a fault plays out, and the fleet
//! that should be left when it is over.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::DeleteParams;
use serde_json::{Value, json};

use crate::common::Harness;

/// The resources that should exist at the end, by name, with their last spec.
#[derive(Default, Debug)]
pub struct Fleet {
    pub live: BTreeMap<String, Value>,
}

/// The spec of resource `i` after `round` changes.
pub fn spec(i: usize, round: usize) -> Value {
    let features = if round.is_multiple_of(2) {
        json!(["scim"])
    } else {
        json!(["scim", "universal_logout"])
    };
    let button = ["none", "optional", "required"][round % 3];
    json!({
        "name": format!("churn-{i}"),
        "connectionNamePrefixTemplate": format!("r{round}-{{org_id}}-"),
        "enabledFeatures": features,
        "organization": {"showAsButton": button, "assignMembershipOnLogin": "optional"},
    })
}

pub fn name(i: usize) -> String {
    format!("p-{i}")
}

impl Fleet {
    /// Applies specs, eight at a time, and records them as expected.
    pub async fn apply(&mut self, h: &Harness, items: Vec<(usize, usize)>) {
        let applied: Vec<(String, Value)> = stream::iter(items)
            .map(|(i, round)| async move {
                let spec = spec(i, round);
                h.apply_profile(&name(i), spec.clone()).await;
                (name(i), spec)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        self.live.extend(applied);
    }

    /// Applies the given specs by resource name and records them as expected.
    pub async fn apply_specs(&mut self, h: &Harness, items: Vec<(String, Value)>) {
        let applied: Vec<(String, Value)> = stream::iter(items)
            .map(|(name, spec)| async move {
                h.apply_profile(&name, spec.clone()).await;
                (name, spec)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        self.live.extend(applied);
    }

    /// Deletes resources (the operator deletes their profiles) and stops expecting them.
    pub async fn delete(&mut self, h: &Harness, items: Vec<usize>) {
        let api = h.profiles();
        let names: Vec<String> = items.into_iter().map(name).collect();
        stream::iter(names.clone())
            .map(|n| {
                let api = api.clone();
                async move {
                    api.delete(&n, &DeleteParams::default()).await.expect("delete");
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await;
        for n in names {
            self.live.remove(&n);
        }
    }
}

/// The standard churn over `n` resources: create them all, change half, delete a quarter,
/// change a third of what is left, with a pause between steps so each lands while the
/// previous is still being worked on.
pub async fn churn(h: &Harness, n: usize, pause: Duration) -> Fleet {
    let mut fleet = Fleet::default();
    fleet.apply(h, (0..n).map(|i| (i, 0)).collect()).await;
    tokio::time::sleep(pause).await;
    fleet
        .apply(h, (0..n).filter(|i| i % 2 == 0).map(|i| (i, 1)).collect())
        .await;
    tokio::time::sleep(pause).await;
    fleet.delete(h, (0..n).filter(|i| i % 4 == 1).collect()).await;
    tokio::time::sleep(pause).await;
    fleet
        .apply(h, (0..n).filter(|i| i % 3 == 0 && i % 4 != 1).map(|i| (i, 2)).collect())
        .await;
    fleet
}
