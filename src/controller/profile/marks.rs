//! The operator's marks on a resource, held by server-side apply under one field manager:
//! the finalizer, the `create-pending` mark (the name a POST is about to send) and the
//! `profile-id` binding (the id, kept in metadata so it survives a restore without status).
//! Every apply states all three, since an apply drops what this manager applied before and
//! leaves out now: that is how the mark goes in the same write that records the binding.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::{Error, FINALIZER, MANAGER, annotation};
use crate::crd::ConnectionProfile;

/// The marks a resource should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    /// The name of the create about to be sent, or whose answer was lost.
    pub pending: Option<String>,
    /// The id this resource owns.
    pub bound: Option<String>,
}

impl Marks {
    /// The marks the resource carries now.
    pub fn of(profile: &ConnectionProfile) -> Marks {
        let annotations = profile.annotations();
        Marks {
            pending: annotations.get(annotation::CREATE_PENDING).cloned(),
            bound: annotations.get(annotation::PROFILE_ID).cloned(),
        }
    }

    /// The same marks without the create-pending one: Auth0 refused the create.
    pub fn without_pending(&self) -> Marks {
        Marks {
            pending: None,
            bound: self.bound.clone(),
        }
    }
}

pub fn has_finalizer(profile: &ConnectionProfile) -> bool {
    profile.finalizers().iter().any(|f| f == FINALIZER)
}

/// Holds the finalizer and exactly `marks`; other finalizers and annotations are untouched.
/// Writes nothing when the resource already carries them. Returns the live object after a
/// write (`None` when nothing was written).
pub async fn hold(
    api: &Api<ConnectionProfile>,
    profile: &ConnectionProfile,
    marks: &Marks,
) -> Result<Option<ConnectionProfile>, Error> {
    if has_finalizer(profile) && Marks::of(profile) == *marks {
        return Ok(None);
    }
    apply(api, profile, marks).await.map(Some)
}

/// Holds the finalizer and exactly `marks` whatever the copy at hand shows, and returns the
/// live object. Before a POST: the copy may come from a watch cache that lags behind our own
/// writes (a resource this process already let go, or whose mark it removed), and only the
/// live answer tells (the fault suite's SIGKILL scenario left an orphan when a create
/// trusted the cache). An apply to a resource already gone fails: its spec is required.
pub async fn apply(
    api: &Api<ConnectionProfile>,
    profile: &ConnectionProfile,
    marks: &Marks,
) -> Result<ConnectionProfile, Error> {
    let mut annotations = serde_json::Map::new();
    if let Some(name) = &marks.pending {
        annotations.insert(annotation::CREATE_PENDING.into(), json!(name));
    }
    if let Some(id) = &marks.bound {
        annotations.insert(annotation::PROFILE_ID.into(), json!(id));
    }
    let mut metadata = json!({"name": profile.name_any(), "finalizers": [FINALIZER]});
    if !annotations.is_empty() {
        metadata["annotations"] = annotations.into();
    }
    let patch = json!({
        "apiVersion": ConnectionProfile::api_version(&()),
        "kind": ConnectionProfile::kind(&()),
        "metadata": metadata,
    });
    Ok(api
        .patch(
            &profile.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?)
}

/// Lets the resource go once its cleanup is done: applies nothing, so the finalizer and the
/// marks this manager holds are removed. A finalizer someone else wrote back (a restore, a
/// client-side apply) is removed by a JSON patch that checks its position.
pub async fn release(api: &Api<ConnectionProfile>, profile: &ConnectionProfile) -> Result<(), Error> {
    let patch = json!({
        "apiVersion": ConnectionProfile::api_version(&()),
        "kind": ConnectionProfile::kind(&()),
        "metadata": {"name": profile.name_any()},
    });
    let name = profile.name_any();
    let live = match api
        .patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch))
        .await
    {
        Ok(live) => live,
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if let Some(index) = live.finalizers().iter().position(|f| f == FINALIZER) {
        let path = format!("/metadata/finalizers/{index}");
        let ops = json!([
            {"op": "test", "path": path, "value": FINALIZER},
            {"op": "remove", "path": path},
        ]);
        let ops: json_patch::Patch = serde_json::from_value(ops).map_err(kube::Error::SerdeError)?;
        match api.patch(&name, &PatchParams::default(), &Patch::Json::<()>(ops)).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
