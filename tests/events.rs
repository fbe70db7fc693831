//! The Event publisher against a real kube-apiserver: a repeated occurrence counts the series
//! of the Event it repeats (client-go's rule), an Event the API server no longer has is
//! published anew, and an object without a uid is never counted. `make mutants` judges the
//! publisher's decisions by the unit tests (`events.rs`); this is the IO around them.

use auth0_operator::controller::events::{EventType, Publisher, Series};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use testenv::TestEnv;

/// The Events about `name`, each with its series count.
async fn events(api: &Api<Event>, name: &str) -> Vec<(Event, Option<i32>)> {
    api.list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| {
            let count = e.series.as_ref().map(|s| s.count);
            (e, count)
        })
        .collect()
}

/// Names and counts, for a failure's message.
fn summary(found: &[(Event, Option<i32>)]) -> Vec<(Option<String>, Option<i32>)> {
    found
        .iter()
        .map(|(e, count)| (e.metadata.name.clone(), *count))
        .collect()
}

fn regarding(namespace: &str, name: &str, uid: Option<&str>) -> ObjectReference {
    ObjectReference {
        api_version: Some("auth0.operators.dev/v1alpha1".into()),
        kind: Some("ConnectionProfile".into()),
        namespace: Some(namespace.into()),
        name: Some(name.into()),
        uid: uid.map(str::to_string),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_repeat_counts_the_series_a_gone_event_is_published_anew_and_no_uid_is_never_counted() {
    let env = TestEnv::get();
    let ns = env.namespace("events").await;
    let client = env.admin().await;
    let api: Api<Event> = Api::namespaced(client.clone(), ns.name());
    let publisher = Publisher::new(client, "auth0-operator", Some("auth0-operator-0".into()));
    let series = Series::default();

    let counted = regarding(ns.name(), "counted", Some("uid-counted"));
    for _ in 0..3 {
        publisher
            .publish(
                &series,
                &counted,
                EventType::Warning,
                "ReconcileError",
                "Auth0 answered 503",
            )
            .await
            .expect("published");
    }
    let found = events(&api, "counted").await;
    assert_eq!(found.len(), 1, "one Event, counted: {:?}", summary(&found));
    assert_eq!(found[0].1, Some(3), "the series counts every occurrence");
    let event = &found[0].0;
    assert_eq!(event.reason.as_deref(), Some("ReconcileError"));
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.reporting_instance.as_deref(), Some("auth0-operator-0"));

    // Events expire (an hour by default): the next occurrence publishes a new one.
    let name = event.metadata.name.clone().expect("name");
    api.delete(&name, &DeleteParams::default()).await.expect("delete");
    publisher
        .publish(
            &series,
            &counted,
            EventType::Warning,
            "ReconcileError",
            "Auth0 answered 503",
        )
        .await
        .expect("published anew");
    let found = events(&api, "counted").await;
    assert_eq!(found.len(), 1, "{:?}", summary(&found));
    assert_eq!(found[0].1, None, "a new Event, not a series");
    publisher
        .publish(
            &series,
            &counted,
            EventType::Warning,
            "ReconcileError",
            "Auth0 answered 503",
        )
        .await
        .expect("published");
    assert_eq!(
        events(&api, "counted").await[0].1,
        Some(2),
        "and it is counted from there"
    );

    // Another reason is another Event.
    publisher
        .publish(&series, &counted, EventType::Normal, "Created", "created cop_x")
        .await
        .expect("published");
    assert_eq!(events(&api, "counted").await.len(), 2);

    // Without a uid nothing can key the series: each occurrence is its own Event.
    let unkeyed = regarding(ns.name(), "unkeyed", None);
    for _ in 0..2 {
        publisher
            .publish(&series, &unkeyed, EventType::Normal, "Created", "created cop_y")
            .await
            .expect("published");
    }
    let found = events(&api, "unkeyed").await;
    assert_eq!(found.len(), 2, "{:?}", summary(&found));
    assert!(found.iter().all(|(_, count)| count.is_none()));
}
