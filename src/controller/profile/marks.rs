//! The operator's marks on a resource, held by server-side apply under one field manager:
//! the finalizer, the `create-pending` mark (the name a POST is about to send), the
//! `profile-id` binding (the id, kept in metadata so it survives a restore without status)
//! and, beside either, `profile-tenant`: the tenant they were made on (`Kind/name on
//! reached`: the tenant object, and the Auth0 tenant it reached).
//! Every apply states them all, since an apply drops what this manager applied before and
//! leaves out now: that is how the mark goes in the same write that records the binding, and
//! how the tenant goes with the last of them.

use crate::crd::Kind;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::plan::{Claim, TenantChange};
use super::{Error, FINALIZER, MANAGER, annotation};
use crate::crd::TenantRef;

/// The marks a resource should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    /// The name of the create about to be sent, or whose answer was lost.
    pub pending: Option<String>,
    /// The id this resource owns.
    pub bound: Option<String>,
    /// The tenant `pending` and `bound` were made on (`Kind/name on reached`, e.g.
    /// `ClusterAuth0Tenant/default on acme.us.auth0.com`); held only beside one of them.
    /// Marks written by earlier versions have `Kind/name` only, or none.
    pub tenant: Option<String>,
}

impl Marks {
    /// The marks the resource carries now.
    pub fn of<K: Kind>(profile: &K) -> Marks {
        let annotations = profile.annotations();
        Marks {
            pending: annotations.get(annotation::CREATE_PENDING).cloned(),
            bound: annotations.get(annotation::PROFILE_ID).cloned(),
            tenant: annotations.get(annotation::PROFILE_TENANT).cloned(),
        }
    }

    /// Marks made through the client of `tenant` (the tenantRef of the copy the pass read),
    /// which reaches `reached` ([`crate::auth0::client::reached`]): the tenant is recorded
    /// beside them (`Kind/name on reached`), and goes with them.
    pub fn on(tenant: &TenantRef, reached: &str, pending: Option<String>, bound: Option<String>) -> Marks {
        let tenant = (pending.is_some() || bound.is_some()).then(|| format!("{tenant}{ON}{reached}"));
        Marks { pending, bound, tenant }
    }
}

/// Between the tenant object and the tenant it reached, in `profile-tenant`.
const ON: &str = " on ";

/// Whether the resource's evidence was made on another tenant than the one it would use now
/// (pure): a `profile-id` binding or a `create-pending` mark whose recorded tenant differs,
/// either by the object `spec.tenantRef` names or by the Auth0 tenant that object reaches
/// (`current_reached`, [`crate::auth0::client::reached`]; `None` when it cannot be told): a
/// tenant object re-pointed at another domain or endpoint does not take the resource's
/// profile with it (issue 25). The API server refuses a tenantRef change once `status.id`
/// or `spec.externalID` is set; these annotations are what its rules cannot read.
///
/// Marks written by earlier versions record `Kind/name` only, or no tenant at all (while
/// tenantRef was immutable): they are checked against `status.tenant`, the domain an earlier
/// pass reported, which must be the domain reached now; with neither recorded they are taken
/// as the current tenant's, and the tenant is recorded at the next write of the marks.
pub fn tenant_change<K: Kind>(profile: &K, current_reached: Option<&str>) -> Option<TenantChange> {
    let marks = Marks::of(profile);
    // The id the resource records (status.id, else the binding), as the claims read it: an
    // id in status alone (the annotations dropped by a replace) is evidence too.
    let recorded = super::claims::recorded_id(profile).map(str::to_string);
    let evidence = match (recorded, marks.pending) {
        (Some(id), _) => Claim::Recorded(id),
        (None, Some(posted_name)) => Claim::Uncertain { posted_name },
        // A tenant recorded beside nothing proves nothing.
        (None, None) => return None,
    };
    let current = profile.common().tenant_ref.to_string();
    let change = |recorded: String, current: String, repointed: Option<String>| {
        Some(TenantChange {
            recorded,
            current,
            evidence: evidence.clone(),
            repointed,
            kind: K::AUTH0.kind,
        })
    };
    // What earlier versions recorded: the domain reported in status.
    let reported_elsewhere = || {
        let reported = profile
            .status()
            .as_ref()
            .and_then(|s| s.tenant.as_deref())
            .filter(|d| !d.is_empty())?;
        let domain = current_reached?.split(" at ").next()?;
        (reported != domain).then(|| format!("the tenant at {reported}"))
    };
    match marks.tenant.as_deref() {
        Some(mark) => match mark.split_once(ON) {
            Some((made_on, _)) if made_on != current => change(made_on.to_string(), current, None),
            Some((_, made_reached)) => match current_reached {
                Some(now) if now != made_reached => change(made_reached.to_string(), now.to_string(), Some(current)),
                _ => None,
            },
            None if mark != current => change(mark.to_string(), current, None),
            None => reported_elsewhere().and_then(|recorded| change(recorded, current, None)),
        },
        None => reported_elsewhere().and_then(|recorded| change(recorded, current, None)),
    }
}

/// Kubernetes' limit on an object's annotations, keys and values together, in bytes
/// (`TotalAnnotationSizeLimitB`, apimachinery's `ValidateAnnotationsSize`: 256 KiB).
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// The longest id Auth0 gives a profile: `cop_` and 22 base62 characters.
const ID_LENGTH: usize = 26;

/// Bytes of annotations, keys and values, as the API server counts them: kubectl's copy of
/// the last applied object, which the caches replace by its size, counts at that size.
fn annotation_bytes<'a>(annotations: impl IntoIterator<Item = (&'a String, &'a String)>) -> usize {
    annotations
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            annotation::LAST_APPLIED_BYTES => annotation::LAST_APPLIED.len() + v.parse::<usize>().unwrap_or(0),
            _ => k.len() + v.len(),
        })
        .sum()
}

/// Whether the resource's annotations leave room for every mark the operator may hold on it
/// (the create-pending name, the profile id and the tenant at once, during a recreate), so
/// a create never starts that the mark's write would then be refused for (`reached`: the
/// tenant the marks would record, [`crate::auth0::client::reached`]; issue 24: a
/// resource near the 256 KiB cap got no status and was retried every 5 s for ever). Pure;
/// `Err` is [`Error::WriteRefused`] naming the sizes and what to shrink, before any Auth0
/// call.
pub fn room<K: Kind>(profile: &K, reached: &str) -> Result<(), Error> {
    let ours = [
        annotation::CREATE_PENDING,
        annotation::PROFILE_ID,
        annotation::PROFILE_TENANT,
    ];
    let theirs = annotation_bytes(
        profile
            .annotations()
            .iter()
            .filter(|(k, _)| !ours.contains(&k.as_str())),
    );
    let marks = annotation::CREATE_PENDING.len()
        + profile.common().name.len()
        + annotation::PROFILE_ID.len()
        + ID_LENGTH
        + annotation::PROFILE_TENANT.len()
        + profile.common().tenant_ref.to_string().len()
        + ON.len()
        + reached.len();
    if theirs + marks <= ANNOTATIONS_LIMIT {
        return Ok(());
    }
    Err(Error::WriteRefused(format!(
        "metadata.annotations: Too long: must have at most {ANNOTATIONS_LIMIT} bytes (the API server's limit, keys and values together): {}",
        shrink_advice(theirs, marks)
    )))
}

fn shrink_advice(theirs: usize, marks: usize) -> String {
    format!(
        "the resource's own annotations take {theirs} bytes and the operator's marks ({}, {}, {}) need up to {marks}: shrink metadata.annotations by at least {} bytes (client-side kubectl apply stores the whole object in kubectl.kubernetes.io/last-applied-configuration: kubectl apply --server-side does not); nothing was sent to Auth0",
        annotation::CREATE_PENDING,
        annotation::PROFILE_ID,
        annotation::PROFILE_TENANT,
        (theirs + marks).saturating_sub(ANNOTATIONS_LIMIT).max(1)
    )
}

/// A Kubernetes error of the operator's own write to `profile` that the resource must mend:
/// 422 (Invalid, e.g. `metadata.annotations: Too long`) or 413 (too large) becomes
/// [`Error::WriteRefused`] with the API server's message and what to shrink; any other
/// error is returned as it is (retried).
pub fn refused_write<K: Kind>(error: Error, profile: &K) -> Error {
    match &error {
        Error::Kube {
            source: kube::Error::Api(status),
            ..
        } if status.code == 422 || status.code == 413 => {
            let mut message = format!("the API server refused the operator's write: {}", status.message);
            if status.message.contains("metadata.annotations") {
                let theirs = annotation_bytes(profile.annotations());
                message.push_str(&format!("; {}", shrink_advice(theirs, 0)));
            }
            Error::WriteRefused(message)
        }
        _ => error,
    }
}

/// What is wrong with an id the resource records (`status.id`, the `profile-id`
/// annotation), which anyone who may edit the resource can write: `None` when each is a
/// `K`'s id (`cop_`, `uap_`, `ssp_` and 22 letters or digits). An id goes into a request's path; `./cop_…` or `../clients/…`
/// would reach another namespace's profile or another API (the client refuses such an id
/// too: `Auth0Error::NotAnId`).
pub fn malformed_id<K: Kind>(profile: &K) -> Option<String> {
    let status_id = profile.status().and_then(|s| s.id.as_deref());
    let annotated = profile.annotations().get(annotation::PROFILE_ID).map(String::as_str);
    let bad = |id: &&str| !id.is_empty() && !K::AUTH0.is_id(id);
    let short = |id: &str| id.chars().take(80).collect::<String>();
    if let Some(id) = annotated.filter(bad) {
        return Some(format!(
            "annotation {}: {:?} is not an Auth0 {} id ({} and 22 letters or digits): remove the annotation, or set it to the id of the profile this resource manages; nothing was sent to Auth0",
            annotation::PROFILE_ID,
            short(id),
            K::AUTH0.noun,
            K::AUTH0.id_prefix
        ));
    }
    status_id.filter(bad).map(|id| {
        format!(
            "status.id {:?} is not an Auth0 {} id ({} and 22 letters or digits): it was not written by the operator; nothing was sent to Auth0",
            short(id),
            K::AUTH0.noun,
            K::AUTH0.id_prefix
        )
    })
}

pub fn has_finalizer<K: Kind>(profile: &K) -> bool {
    profile.finalizers().iter().any(|f| f == FINALIZER)
}

/// Holds the finalizer and exactly `marks`; other finalizers and annotations are untouched.
/// Writes nothing when the resource already carries them. Returns the live object after a
/// write (`None` when nothing was written).
pub async fn hold<K: Kind>(api: &Api<K>, profile: &K, marks: &Marks) -> Result<Option<K>, Error> {
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
pub async fn apply<K: Kind>(api: &Api<K>, profile: &K, marks: &Marks) -> Result<K, Error> {
    let mut annotations = serde_json::Map::new();
    if let Some(name) = &marks.pending {
        annotations.insert(annotation::CREATE_PENDING.into(), json!(name));
    }
    if let Some(id) = &marks.bound {
        annotations.insert(annotation::PROFILE_ID.into(), json!(id));
    }
    if let Some(tenant) = &marks.tenant {
        annotations.insert(annotation::PROFILE_TENANT.into(), json!(tenant));
    }
    let mut metadata = json!({"name": profile.name_any(), "finalizers": [FINALIZER]});
    if !annotations.is_empty() {
        metadata["annotations"] = annotations.into();
    }
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": metadata,
    });
    api.patch(
        &profile.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(Error::kube(super::Write::Marks))
}

/// Lets the resource go once its cleanup is done: applies nothing, so the finalizer and the
/// marks this manager holds are removed. A finalizer someone else wrote back (a restore, a
/// client-side apply) is removed by a JSON patch that checks its position.
pub async fn release<K: Kind>(api: &Api<K>, profile: &K) -> Result<(), Error> {
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": profile.name_any()},
    });
    let name = profile.name_any();
    let live = match api
        .patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch))
        .await
    {
        Ok(live) => live,
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
        Err(e) => return Err(Error::kube(super::Write::Release)(e)),
    };
    if let Some(index) = live.finalizers().iter().position(|f| f == FINALIZER) {
        let path = format!("/metadata/finalizers/{index}");
        let ops = json!([
            {"op": "test", "path": path, "value": FINALIZER},
            {"op": "remove", "path": path},
        ]);
        let ops: json_patch::Patch = serde_json::from_value(ops)
            .map_err(kube::Error::SerdeError)
            .map_err(Error::kube(super::Write::Release))?;
        match api.patch(&name, &PatchParams::default(), &Patch::Json::<()>(ops)).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(Error::kube(super::Write::Release)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ConnectionProfile;
    use crate::crd::{ConnectionProfileSpec, TenantKind};

    const ID: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";

    fn profile(tenant: TenantRef, annotations: &[(&str, &str)]) -> ConnectionProfile {
        let mut p = ConnectionProfile::new(
            "acme",
            ConnectionProfileSpec {
                tenant_ref: tenant,
                ..Default::default()
            },
        );
        p.metadata.annotations = Some(
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        p
    }

    fn acme() -> TenantRef {
        TenantRef {
            kind: TenantKind::Auth0Tenant,
            name: "acme".into(),
        }
    }

    #[test]
    fn the_tenant_is_recorded_beside_the_evidence_and_goes_with_it() {
        let on = Marks::on(&acme(), US, None, Some(ID.into()));
        assert_eq!(on.tenant.as_deref(), Some("Auth0Tenant/acme on acme.us.auth0.com"));
        let pending = Marks::on(&TenantRef::default(), US, Some("acme".into()), None);
        assert_eq!(
            pending.tenant.as_deref(),
            Some("ClusterAuth0Tenant/default on acme.us.auth0.com")
        );
        assert_eq!(Marks::on(&acme(), US, None, None).tenant, None);
    }

    const US: &str = "acme.us.auth0.com";
    const EU: &str = "acme.eu.auth0.com";

    #[test]
    fn a_tenant_object_repointed_elsewhere_is_a_tenant_change() {
        let bound = [
            (annotation::PROFILE_ID, ID),
            (annotation::PROFILE_TENANT, "Auth0Tenant/acme on acme.us.auth0.com"),
        ];
        assert_eq!(tenant_change(&profile(acme(), &bound), Some(US)), None);
        assert_eq!(
            tenant_change(&profile(acme(), &bound), None),
            None,
            "nothing reached now: no call can be made either"
        );
        assert_eq!(
            tenant_change(&profile(acme(), &bound), Some(EU)),
            Some(TenantChange {
                recorded: US.into(),
                current: EU.into(),
                evidence: Claim::Recorded(ID.into()),
                repointed: Some("Auth0Tenant/acme".into()),
                kind: "ConnectionProfile",
            })
        );
        // The same domain at another endpoint is another tenant as reached.
        let elsewhere = "acme.us.auth0.com at https://proxy.example/";
        assert!(tenant_change(&profile(acme(), &bound), Some(elsewhere)).is_some());
        // A create that may have reached the tenant the object pointed at then.
        let pending = [
            (annotation::CREATE_PENDING, "acme"),
            (annotation::PROFILE_TENANT, "Auth0Tenant/acme on acme.us.auth0.com"),
        ];
        assert_eq!(
            tenant_change(&profile(acme(), &pending), Some(EU)).map(|c| (c.evidence, c.repointed)),
            Some((
                Claim::Uncertain {
                    posted_name: "acme".into()
                },
                Some("Auth0Tenant/acme".into())
            ))
        );
        // Another object is a tenantRef change, whatever it reaches.
        assert_eq!(
            tenant_change(&profile(TenantRef::default(), &bound), Some(US)).map(|c| (c.recorded, c.repointed)),
            Some(("Auth0Tenant/acme".into(), None))
        );
    }

    /// Found by review (issue 25): `kubectl replace` or Argo CD's `Replace=true` drops the
    /// annotations and keeps status; the id in status is evidence on the tenant status names.
    #[test]
    fn an_id_in_status_alone_is_checked_against_status_tenant() {
        let mut replaced = profile(acme(), &[]);
        replaced.status = Some(crate::crd::ConnectionProfileStatus {
            id: Some(ID.into()),
            tenant: Some(US.into()),
            ..Default::default()
        });
        assert_eq!(tenant_change(&replaced, Some(US)), None);
        assert_eq!(
            tenant_change(&replaced, Some(EU)),
            Some(TenantChange {
                recorded: "the tenant at acme.us.auth0.com".into(),
                current: "Auth0Tenant/acme".into(),
                evidence: Claim::Recorded(ID.into()),
                repointed: None,
                kind: "ConnectionProfile",
            })
        );
    }

    #[test]
    fn a_recorded_kind_and_name_only_is_checked_against_status_tenant() {
        let mut legacy = profile(
            acme(),
            &[
                (annotation::PROFILE_ID, ID),
                (annotation::PROFILE_TENANT, "Auth0Tenant/acme"),
            ],
        );
        assert_eq!(tenant_change(&legacy, Some(EU)), None, "nothing reported");
        legacy.status = Some(crate::crd::ConnectionProfileStatus {
            tenant: Some(US.into()),
            ..Default::default()
        });
        assert_eq!(tenant_change(&legacy, Some(US)), None);
        assert_eq!(
            tenant_change(&legacy, Some("acme.us.auth0.com at http://127.0.0.1:4000/")),
            None,
            "the domain is compared"
        );
        assert_eq!(
            tenant_change(&legacy, Some(EU)).map(|c| c.recorded),
            Some("the tenant at acme.us.auth0.com".into())
        );
    }

    #[test]
    fn evidence_on_another_tenant_is_a_tenant_change() {
        let bound = [
            (annotation::PROFILE_ID, ID),
            (annotation::PROFILE_TENANT, "ClusterAuth0Tenant/default"),
        ];
        // Same tenant: nothing changed.
        assert_eq!(tenant_change(&profile(TenantRef::default(), &bound), None), None);
        // Another tenant: the binding names the old one.
        assert_eq!(
            tenant_change(&profile(acme(), &bound), None),
            Some(TenantChange {
                recorded: "ClusterAuth0Tenant/default".into(),
                current: "Auth0Tenant/acme".into(),
                evidence: Claim::Recorded(ID.into()),
                repointed: None,
                kind: "ConnectionProfile",
            })
        );
        // A create that may have reached the old tenant.
        let pending = [
            (annotation::CREATE_PENDING, "acme"),
            (annotation::PROFILE_TENANT, "ClusterAuth0Tenant/default"),
        ];
        assert_eq!(
            tenant_change(&profile(acme(), &pending), None).map(|c| c.evidence),
            Some(Claim::Uncertain {
                posted_name: "acme".into()
            })
        );
        // A tenant recorded beside nothing, or an empty binding, proves nothing.
        let alone = [(annotation::PROFILE_TENANT, "ClusterAuth0Tenant/default")];
        assert_eq!(tenant_change(&profile(acme(), &alone), None), None);
        let empty = [
            (annotation::PROFILE_ID, ""),
            (annotation::PROFILE_TENANT, "ClusterAuth0Tenant/default"),
        ];
        assert_eq!(tenant_change(&profile(acme(), &empty), None), None);
        // A value nobody can read is another tenant too: refused, never guessed.
        let garbled = [(annotation::PROFILE_ID, ID), (annotation::PROFILE_TENANT, "acme")];
        assert!(tenant_change(&profile(acme(), &garbled), None).is_some());
    }

    #[test]
    fn marks_of_earlier_versions_stay_readable() {
        // No recorded tenant: the binding is the current tenant's (tenantRef was immutable
        // when it was written), and the next write of the marks records the tenant.
        let mut legacy = profile(acme(), &[(annotation::PROFILE_ID, ID)]);
        assert_eq!(tenant_change(&legacy, Some("acme.eu.auth0.com")), None);
        // ...unless an earlier pass reported another tenant's domain in status.tenant.
        legacy.status = Some(crate::crd::ConnectionProfileStatus {
            tenant: Some("acme.eu.auth0.com".into()),
            ..Default::default()
        });
        assert_eq!(tenant_change(&legacy, Some("acme.eu.auth0.com")), None);
        assert_eq!(
            tenant_change(&legacy, Some("acme.us.auth0.com")),
            Some(TenantChange {
                recorded: "the tenant at acme.eu.auth0.com".into(),
                current: "Auth0Tenant/acme".into(),
                evidence: Claim::Recorded(ID.into()),
                repointed: None,
                kind: "ConnectionProfile",
            })
        );
        assert_eq!(
            tenant_change(&legacy, None),
            None,
            "no tenant resolved: no domain to compare"
        );
        legacy.status = None;
        let now = Marks::of(&legacy);
        assert_eq!(now.bound.as_deref(), Some(ID));
        assert_eq!(now.tenant, None);
        assert_ne!(
            now,
            Marks::on(&acme(), US, None, Some(ID.into())),
            "the next hold writes"
        );
    }
}
