//! One ConnectionProfile this version's types cannot read stops nothing (issue 24, found by
//! the review of its kind): kube's typed watch decoded a whole LIST at once, so a single
//! object accepted by an older or looser CRD (`deletionPolicy: delete`) failed every LIST and
//! no resource in the cluster was reconciled. Its own file: it loosens the cluster's CRD for
//! the length of one test, which no other test may see.

mod common;

use std::time::{Duration, Instant};

use auth0_operator::crd;
use common::{Harness, condition};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_object_the_types_cannot_read_stops_nothing() {
    let mut h = Harness::prepare("undecodable", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    // The CRD as an older version might have shipped it: any deletionPolicy string.
    let strict = crd::all();
    let mut loose = serde_json::to_value(
        strict
            .iter()
            .find(|c| c.spec.names.kind == "ConnectionProfile")
            .expect("the ConnectionProfile CRD"),
    )
    .expect("json");
    let policy = &mut loose["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["deletionPolicy"];
    assert!(policy.get("enum").is_some(), "the strict CRD has an enum: {policy}");
    policy.as_object_mut().expect("object").remove("enum");
    h.env.install_crds(&[serde_json::from_value(loose).expect("crd")]).await;
    // The API server takes the new schema a moment after the CRD is Established.
    let deadline = Instant::now() + Duration::from_secs(20);
    let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                        "metadata": {"name": "bad"},
                        "spec": {"name": "undecodable-bad", "deletionPolicy": "delete",
                                 "tenantRef": {"kind": "Auth0Tenant", "name": "t"}}});
    let resource = kube::api::ApiResource::erase::<crd::ConnectionProfile>(&());
    let untyped: Api<DynamicObject> = Api::namespaced_with(h.ns.client.clone(), h.ns.name(), &resource);
    let bad: DynamicObject = serde_json::from_value(object).expect("object");
    while let Err(e) = untyped.create(&PostParams::default(), &bad).await {
        assert!(Instant::now() < deadline, "the loosened CRD never took: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.apply_profile("good", json!({"name": "undecodable-good"})).await;
    h.start_operator();
    h.wait_for("good", Duration::from_secs(30), "Ready", |p| {
        common::observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    // Read untyped: the test's own typed client cannot read it either.
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let bad = untyped.get("bad").await.expect("get");
        let synced = bad.data["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "Synced")
            .cloned();
        if let Some(c) = synced.filter(|c| c["status"] == "False" && c["reason"] == "InvalidSpec") {
            break c["message"].as_str().unwrap_or_default().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "bad: not InvalidSpec: {:?}",
            bad.data["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for needle in ["spec.deletionPolicy", "delete", "install this version's CRDs"] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    assert!(
        h.remote().iter().all(|p| p["name"] != "undecodable-bad"),
        "nothing sent for it"
    );
    // Its deletion deletes nothing (it never held the finalizer) and the good one stays.
    untyped.delete("bad", &DeleteParams::default()).await.expect("delete");
    let deadline = Instant::now() + Duration::from_secs(30);
    while untyped.get_opt("bad").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "bad was not let go");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.env.install_crds(&strict).await;
    assert_eq!(h.remote().len(), 1);
}
