//! The ConnectionProfile reconciler. Each pass: finalizer first; then validate (pure) →
//! desired payload (pure) → observe the remote → diff → create, patch or nothing; then the
//! status, written only when it changed.
//!
//! No duplicates: Auth0 refuses a second profile of the same name (409). Before a POST the
//! resource is marked `create-pending`, in the same write that holds the finalizer; the id
//! is written right after. A pass that finds the mark (or knows this process posted) and no
//! id posts again: a 409 then means an earlier attempt created the profile, which is looked
//! up by name and taken. A resource deleted in that state is looked up by name too.
//!
//! The finalizer is the operator's own, written by server-side apply: adding it is
//! idempotent, so a watch cache that lags behind our own writes cannot make it fail (kube's
//! `finalizer` helper tests the cached list and fails on a stale one).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::{Map, Value, json};

use super::conditions::{Outcome, conditions};
use super::desired::{at_provider, desired, diff, normalize};
use super::tenants::{TenantError, Tenants};
use crate::auth0::ratelimit::Priority;
use crate::auth0::retry::Backoff;
use crate::auth0::{Auth0Client, Auth0Error, Category};
use crate::crd::conditions::{READY, reason};
use crate::crd::validation::{self, Invalid};
use crate::crd::{ConnectionProfile, ConnectionProfileStatus, DeletionPolicy, ManagementPolicy};
use crate::metrics::Metrics;

pub const FINALIZER: &str = "auth0.operators.dev/finalizer";
/// The field manager of every write the operator makes.
pub const MANAGER: &str = "auth0-operator";

/// The annotations a person (or the operator) sets.
pub mod annotation {
    pub const PAUSED: &str = "auth0.operators.dev/paused";
    pub const POLL_INTERVAL: &str = "auth0.operators.dev/poll-interval";
    pub const RECONCILE_REQUESTED_AT: &str = "auth0.operators.dev/reconcile-requested-at";
    pub const FORCE_ORPHAN: &str = "auth0.operators.dev/force-orphan";
    pub const CREATE_PENDING: &str = "auth0.operators.dev/create-pending";
}

/// A tenant's profiles as one listing saw them: the cheap way to check many resources for
/// drift (ceil(N/10) calls per interval instead of N).
struct Snapshot {
    /// When the listing began: a name look-up needs one that began after it asked.
    began: Instant,
    /// When it ended: the age a drift check compares with its interval.
    taken: Instant,
    by_id: HashMap<String, Value>,
}

impl Snapshot {
    async fn take(client: &Auth0Client, priority: Priority) -> Result<Snapshot, Auth0Error> {
        let began = Instant::now();
        let by_id = client
            .list(priority)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.get("id")?.as_str()?.to_string(), p)))
            .collect();
        Ok(Snapshot {
            began,
            taken: Instant::now(),
            by_id,
        })
    }
}

/// One of our own writes: when, and the profile after it (`None` for a delete).
type Written = (Instant, Option<Value>);

/// What every pass shares.
pub struct Context {
    pub client: kube::Client,
    pub tenants: Tenants,
    pub recorder: Recorder,
    /// Default drift-check interval; the `poll-interval` annotation overrides it.
    pub poll_interval: Duration,
    pub backoff: Backoff,
    pub metrics: Arc<Metrics>,
    failures: Mutex<HashMap<ObjectRef<ConnectionProfile>, u32>>,
    /// When each resource was last seen to match Auth0, by this process.
    observed: Mutex<HashMap<ObjectRef<ConnectionProfile>, Instant>>,
    snapshots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Snapshot>>>>>,
    /// The caches (tenants, Secrets, namespaces) every pass reads: listed once before passes run.
    pub caches: Arc<super::CachesSynced>,
    /// Resources (by uid) whose POST this process sent without yet recording an id: the
    /// watch cache may not show their create-pending mark yet.
    creating: Mutex<HashSet<String>>,
    /// When this process's last POST for each resource (by uid) was answered: a look-up by
    /// name needs a listing begun after that. Kept after the id is recorded, since a pass
    /// on a stale cache can still meet the create-pending mark.
    posted: Mutex<HashMap<String, Instant>>,
    /// Our own writes (by tenant domain and id: when, and the profile after it, `None` for a
    /// delete) that the tenant's snapshot may not show yet.
    written: Mutex<HashMap<(String, String), Written>>,
    /// When this process began reconciling: every create an earlier process sent is over.
    started: Instant,
}

impl Context {
    pub fn new(
        client: kube::Client,
        tenants: Tenants,
        recorder: Recorder,
        poll_interval: Duration,
        metrics: Arc<Metrics>,
        caches: Arc<super::CachesSynced>,
    ) -> Self {
        Context {
            caches,
            metrics,
            client,
            tenants,
            recorder,
            poll_interval,
            backoff: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(300),
                max_attempts: u32::MAX,
            },
            failures: Mutex::default(),
            observed: Mutex::default(),
            snapshots: Mutex::default(),
            creating: Mutex::default(),
            posted: Mutex::default(),
            written: Mutex::default(),
            started: Instant::now(),
        }
    }

    /// The next wait after one more failure of this object: exponential with full jitter,
    /// per object, reset by a success.
    fn failed(&self, object: ObjectRef<ConnectionProfile>) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(object).or_insert(0);
        *count += 1;
        // Never zero: a full-jitter draw of 0 would turn into a hot loop.
        self.backoff
            .delay(*count, None, fastrand::f64())
            .max(Duration::from_millis(200))
    }

    fn succeeded(&self, object: &ObjectRef<ConnectionProfile>) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(object);
        self.observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(object.clone(), Instant::now());
    }

    /// Drops what is remembered of a resource that is gone.
    fn forget(&self, object: &ObjectRef<ConnectionProfile>) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(object);
        self.observed.lock().unwrap_or_else(|e| e.into_inner()).remove(object);
    }

    /// Whether this process saw the resource match Auth0 less than `age` ago.
    fn seen_within(&self, object: &ObjectRef<ConnectionProfile>, age: Duration) -> bool {
        self.observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(object)
            .is_some_and(|at| at.elapsed() < age)
    }

    /// Notes (or, with `false`, forgets) that a create of this resource is in flight.
    fn creating(&self, profile: &ConnectionProfile, in_flight: bool) {
        let uid = profile.uid().unwrap_or_default();
        let mut creating = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight {
            creating.insert(uid);
        } else {
            creating.remove(&uid);
        }
    }

    /// Notes that a POST of this resource was answered (or failed) just now.
    fn posted(&self, profile: &ConnectionProfile) {
        self.posted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(profile.uid().unwrap_or_default(), Instant::now());
    }

    /// Drops what is remembered of the creates of a resource: it is gone, or Auth0 refused
    /// them all, so none of them made a profile.
    fn forget_creates(&self, profile: &ConnectionProfile) {
        self.creating(profile, false);
        let uid = profile.uid().unwrap_or_default();
        self.posted.lock().unwrap_or_else(|e| e.into_inner()).remove(&uid);
    }

    /// Whether a create of this resource may have reached Auth0 while the copy at hand shows
    /// no id: its create-pending mark, a POST in flight, or any POST this process sent for it
    /// (the copy may come from a watch cache that has not caught up with the id).
    fn create_uncertain(&self, profile: &ConnectionProfile) -> bool {
        profile.annotations().contains_key(annotation::CREATE_PENDING) || self.attempted(profile)
    }

    /// Whether this process sent a POST for this resource that may have made a profile.
    fn attempted(&self, profile: &ConnectionProfile) -> bool {
        let uid = profile.uid().unwrap_or_default();
        self.creating.lock().unwrap_or_else(|e| e.into_inner()).contains(&uid)
            || self.posted.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&uid)
    }

    /// Since when a listing shows every create of this resource that reached Auth0: this
    /// process's last POST for it, else this process's start (an earlier process's are over).
    fn creates_over_since(&self, profile: &ConnectionProfile) -> Instant {
        self.posted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&profile.uid().unwrap_or_default())
            .copied()
            .unwrap_or(self.started)
    }

    fn snapshot_slot(&self, domain: &str) -> Arc<tokio::sync::Mutex<Option<Snapshot>>> {
        self.snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(domain.to_string())
            .or_default()
            .clone()
    }

    /// The remote profile as the tenant's latest listing saw it, listing again when that
    /// listing is older than `max_age`. One listing serves every resource of the tenant.
    ///
    /// `None` when another pass holds the listing (taking it, or a look-up by name): a drift
    /// check does not wait, since it would hold one of the controller's slots as long as the
    /// listing takes (with 1,000 profiles and a 5xx in five answers, 10–20 s), and settled
    /// resources would crowd out those with work to do (`make soak` found it).
    async fn listed(
        &self,
        client: &Auth0Client,
        id: &str,
        max_age: Duration,
    ) -> Result<Option<Option<Value>>, Auth0Error> {
        let slot = self.snapshot_slot(&client.tenant().domain);
        let Ok(mut snapshot) = slot.try_lock() else {
            return Ok(None);
        };
        let domain = &client.tenant().domain;
        if snapshot.as_ref().is_none_or(|s| s.taken.elapsed() >= max_age) {
            let taken = Snapshot::take(client, Priority::Background).await?;
            // Writes made before this listing began are in it.
            self.written
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(d, _), (at, _)| d != domain || *at >= taken.began);
            *snapshot = Some(taken);
        }
        let Some(snapshot) = snapshot.as_ref() else {
            return Ok(Some(None));
        };
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Some(match written.get(&(domain.clone(), id.to_string())) {
            Some((at, remote)) if *at >= snapshot.began => remote.clone(),
            _ => snapshot.by_id.get(id).cloned(),
        }))
    }

    /// The profile named `name` (Auth0 has no look-up by name), from a listing that began
    /// after `since`, so every profile created before then is in it. The tenant's resources
    /// share listings: after a restart hundreds of them may look up an interrupted create
    /// at once, and a listing costs ceil(N/10) calls (N² calls in all when each listed for
    /// itself; the fault suite's soak run found it).
    async fn find_by_name(
        &self,
        client: &Auth0Client,
        name: &str,
        since: Instant,
    ) -> Result<Option<Value>, Auth0Error> {
        let slot = self.snapshot_slot(&client.tenant().domain);
        let mut snapshot = slot.lock().await;
        if snapshot.as_ref().is_none_or(|s| s.began < since) {
            *snapshot = Some(Snapshot::take(client, Priority::User).await?);
        }
        Ok(snapshot
            .as_ref()
            .and_then(|s| s.by_id.values().find(|p| p["name"] == name).cloned()))
    }

    /// Notes a write of our own, so a drift check does not "correct" a change we just made
    /// from a listing that began before it. Never waits for a listing in progress.
    fn remember(&self, domain: &str, id: &str, remote: Option<&Value>) {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((domain.to_string(), id.to_string()), (Instant::now(), remote.cloned()));
    }
}

/// Why a pass failed, and so which condition reason and whether to wait for a person.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidSpec(Invalid),
    #[error("{0}")]
    Tenant(#[from] TenantError),
    #[error("{0}")]
    Auth0(#[from] Auth0Error),
    #[error(
        "a profile named {name:?} already exists in Auth0 ({id}) and this resource did not create it: set spec.externalID to {id} to adopt it, or choose another spec.name"
    )]
    NameTaken { name: String, id: String },
    #[error("Auth0 said the name {0:?} was taken, then listed no profile of that name: trying again")]
    NameFreed(String),
    #[error("Auth0 has no profile {0}: check spec.externalID")]
    AdoptionTargetMissing(String),
    #[error("no profile named {0:?} exists in Auth0 to observe: create it, or set spec.externalID")]
    ObservedMissing(String),
    #[error("writing to the Kubernetes API failed: {0}")]
    Kube(#[from] kube::Error),
}

impl Error {
    /// The Synced reason and whether the failure needs a person (Stalled).
    pub fn reason(&self) -> (&'static str, bool) {
        match self {
            Error::InvalidSpec(_) => (reason::INVALID_SPEC, true),
            Error::Tenant(e) => e.reason(),
            Error::Auth0(e) => match e.category() {
                Category::Transient => (reason::RECONCILE_ERROR, false),
                Category::Unauthorized => (reason::UNAUTHORIZED, true),
                Category::Forbidden => (reason::FORBIDDEN, true),
                Category::Conflict => (reason::CONFLICT, true),
                Category::NotFound => (reason::NOT_FOUND, true),
                Category::Invalid => (reason::INVALID_SPEC, true),
            },
            Error::NameTaken { .. } => (reason::CONFLICT, true),
            Error::AdoptionTargetMissing(_) | Error::ObservedMissing(_) => (reason::NOT_FOUND, true),
            Error::Kube(_) | Error::NameFreed(_) => (reason::RECONCILE_ERROR, false),
        }
    }
}

/// The controller's entry point: cleanup for a resource being deleted, apply otherwise.
pub async fn reconcile(profile: Arc<ConnectionProfile>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = profile.namespace().unwrap_or_default();
    let api: Api<ConnectionProfile> = Api::namespaced(ctx.client.clone(), &namespace);
    if profile.metadata.deletion_timestamp.is_none() {
        return apply(&profile, &ctx, &api, started).await;
    }
    if !has_finalizer(&profile) {
        return Ok(Action::await_change());
    }
    let action = cleanup(&profile, &ctx, &api, started).await?;
    release(&api, &profile).await?;
    ctx.forget_creates(&profile);
    Ok(action)
}

const KIND: &str = "ConnectionProfile";
/// The longest wait before retrying a pass the Kubernetes API failed.
const KUBE_RETRY_CAP: Duration = Duration::from_secs(5);

/// Records a pass in the metrics: its result and the resource's Ready state.
fn record(ctx: &Context, profile: &ConnectionProfile, result: &'static str, started: Instant, ready: Option<&str>) {
    ctx.metrics.reconciled(KIND, result, started.elapsed());
    let key = format!("{}/{}", profile.namespace().unwrap_or_default(), profile.name_any());
    let state = ready.map(|r| match r {
        "True" => "true",
        "False" => "false",
        _ => "unknown",
    });
    ctx.metrics.set_ready(&key, state);
}

fn ready_of(status: &ConnectionProfileStatus) -> Option<&str> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map(|c| c.status.as_str())
}

/// Unexpected failures (the API server refused or missed a write): retry with this
/// object's backoff, capped low: such a retry costs Auth0 nothing, and a pass that waits
/// minutes after the API server comes back from an outage helps no one.
pub fn error_policy(profile: Arc<ConnectionProfile>, error: &Error, ctx: Arc<Context>) -> Action {
    let wait = ctx.failed(ObjectRef::from_obj(profile.as_ref())).min(KUBE_RETRY_CAP);
    tracing::warn!(error = %error, retry_in = ?wait, "reconcile failed");
    Action::requeue(wait)
}

async fn apply(
    profile: &ConnectionProfile,
    ctx: &Context,
    api: &Api<ConnectionProfile>,
    started: Instant,
) -> Result<Action, Error> {
    let key = ObjectRef::from_obj(profile);
    // A resource that holds an id (or is about to adopt one) needs the finalizer before
    // anything else; a create takes it in the same write as its create-pending mark.
    let holds_profile = profile.status.as_ref().is_some_and(|s| s.id.is_some()) || profile.spec.external_id.is_some();
    if holds_profile && !has_finalizer(profile) {
        hold(api, profile, false).await?;
    }
    if annotation_is_true(profile, annotation::PAUSED) {
        let status = status_with(profile, &Outcome::Paused, |_| {});
        write_status(profile, ctx, api, status.clone()).await?;
        record(ctx, profile, reason::RECONCILE_PAUSED, started, ready_of(&status));
        return Ok(Action::await_change());
    }
    match sync(profile, ctx, api).await {
        Ok((status, created)) => {
            let ready = ready_of(&status).map(str::to_string);
            // The id is recorded by this status write; only then may the create-pending
            // mark go.
            write_status(profile, ctx, api, status).await?;
            if created {
                ctx.creating(profile, false);
                hold(api, profile, false).await?;
            }
            record(ctx, profile, "success", started, ready.as_deref());
            ctx.succeeded(&key);
            Ok(Action::requeue(jittered(poll_interval(profile, ctx))))
        }
        Err(err @ Error::Kube(_)) => Err(err),
        Err(err) => {
            let (why, terminal) = err.reason();
            let message = err.to_string();
            let remote_available = profile.status.as_ref().is_some_and(|s| s.id.is_some())
                && profile
                    .status
                    .as_ref()
                    .is_some_and(|s| s.conditions.iter().any(|c| c.type_ == READY && c.status == "True"));
            let outcome = Outcome::Failed {
                reason: why,
                message: message.clone(),
                terminal,
                remote_available: remote_available
                    && !matches!(err, Error::AdoptionTargetMissing(_) | Error::ObservedMissing(_)),
            };
            let status = status_with(profile, &outcome, |_| {});
            let ready = ready_of(&status).map(str::to_string);
            let changed = write_status(profile, ctx, api, status).await?;
            record(ctx, profile, why, started, ready.as_deref());
            if changed {
                publish(ctx, profile, EventType::Warning, why, &message).await;
            }
            tracing::info!(error = %message, reason = why, terminal, "reconcile failed");
            Ok(if terminal {
                Action::await_change()
            } else {
                Action::requeue(ctx.failed(key))
            })
        }
    }
}

/// Brings the remote to the spec (or only observes it) and returns the status to write, and
/// whether this pass created the profile (so the create-pending mark goes once the status
/// holds the id).
async fn sync(
    profile: &ConnectionProfile,
    ctx: &Context,
    api: &Api<ConnectionProfile>,
) -> Result<(ConnectionProfileStatus, bool), Error> {
    validation::validate(profile).map_err(Error::InvalidSpec)?;
    let namespace = profile.namespace().unwrap_or_default();
    let client = ctx.tenants.client(&profile.spec.tenant_ref, &namespace)?;
    let domain = client.tenant().domain.clone();
    let want = desired(profile);
    let status = profile.status.clone().unwrap_or_default();

    // A settled resource this process checked moments ago (the pass our own writes cause
    // right after a create, a Secret or tenant event) needs no call: drift checks are due
    // only once per poll interval.
    if status.id.is_some()
        && is_settled(profile)
        && ctx.seen_within(&ObjectRef::from_obj(profile), poll_interval(profile, ctx) / 2)
    {
        return Ok((status, false));
    }

    if profile.spec.management_policy == ManagementPolicy::Observe {
        let remote = observe_only(profile, ctx, &client, &status).await?;
        return Ok((settled_status(profile, &domain, &remote), false));
    }

    let mut created_now = false;
    let (id, remote) = match (&status.id, &profile.spec.external_id) {
        (Some(id), _) => match current(profile, ctx, &client, id).await? {
            Remote::Later => return Ok((status, false)),
            Remote::Found(remote) => (id.clone(), remote),
            Remote::Gone => {
                // Deleted in Auth0 behind our back: make it again.
                let created = create(profile, ctx, api, &client, &want).await?;
                created_now = true;
                let new_id = id_of(&created)?;
                ctx.metrics.drift_corrections.inc();
                publish(
                    ctx,
                    profile,
                    EventType::Normal,
                    "DriftCorrected",
                    &format!("profile {id} was deleted outside the operator; recreated as {new_id}"),
                )
                .await;
                (new_id, created)
            }
        },
        (None, Some(external)) => match client.get(external, Priority::User).await? {
            Some(remote) => {
                publish(
                    ctx,
                    profile,
                    EventType::Normal,
                    "Adopted",
                    &format!("adopted Auth0 profile {external}"),
                )
                .await;
                (external.clone(), remote)
            }
            None => return Err(Error::AdoptionTargetMissing(external.clone())),
        },
        (None, None) => {
            let created = create(profile, ctx, api, &client, &want).await?;
            created_now = true;
            let id = id_of(&created)?;
            (id, created)
        }
    };

    let remote = match diff(&want, &normalize(&remote)) {
        None => remote,
        Some(changed) => {
            let updated = client.update(&id, &want).await?;
            ctx.remember(&domain, &id, Some(&updated));
            let fields: Vec<&str> = changed.keys().map(String::as_str).collect();
            let spec_changed = status.observed_generation != profile.metadata.generation;
            let (reason, note) = if spec_changed {
                ("Updated", format!("updated {id}: {}", fields.join(", ")))
            } else {
                ctx.metrics.drift_corrections.inc();
                (
                    "DriftCorrected",
                    format!("{id} was changed outside the operator; restored {}", fields.join(", ")),
                )
            };
            publish(ctx, profile, EventType::Normal, reason, &note).await;
            updated
        }
    };
    let mut settled = settled_status(profile, &domain, &remote);
    settled.id = Some(id);
    Ok((settled, created_now))
}

/// What Auth0 holds for a resource that has an id.
enum Remote {
    Found(Value),
    Gone,
    /// A settled resource's drift check, put off to its next interval: another pass is
    /// listing the tenant.
    Later,
}

/// The remote profile for a resource that has an id. A settled resource is checked against
/// the tenant's listing (shared by all its resources); a changed one with a GET. A profile
/// missing from a listing is confirmed with a GET before anyone calls it gone.
async fn current(profile: &ConnectionProfile, ctx: &Context, client: &Auth0Client, id: &str) -> Result<Remote, Error> {
    let settled = is_settled(profile);
    if settled {
        match ctx.listed(client, id, poll_interval(profile, ctx)).await? {
            None => return Ok(Remote::Later),
            Some(Some(remote)) => return Ok(Remote::Found(remote)),
            Some(None) => {}
        }
    }
    let priority = if settled { Priority::Background } else { Priority::User };
    Ok(match client.get(id, priority).await? {
        Some(remote) => Remote::Found(remote),
        None => Remote::Gone,
    })
}

/// Whether the status already describes this generation as Available and no pass was
/// requested since.
fn is_settled(profile: &ConnectionProfile) -> bool {
    profile.status.as_ref().is_some_and(|s| {
        s.observed_generation == profile.metadata.generation
            && s.conditions.iter().any(|c| c.type_ == READY && c.status == "True")
            && s.last_handled_reconcile_at.as_deref()
                == profile
                    .annotations()
                    .get(annotation::RECONCILE_REQUESTED_AT)
                    .map(String::as_str)
    })
}

/// Creates the profile under the create-pending guard and records its id at once.
async fn create(
    profile: &ConnectionProfile,
    ctx: &Context,
    api: &Api<ConnectionProfile>,
    client: &Auth0Client,
    want: &Map<String, Value>,
) -> Result<Value, Error> {
    let name = profile.effective_name().to_string();
    // Whether an earlier attempt may have made the profile. The cached copy's mark may be
    // one our own later write removed (after a refusal): with no attempt of this process on
    // record, the live object tells, so a name someone else holds is never taken as ours.
    let uncertain = ctx.attempted(profile)
        || (profile.annotations().contains_key(annotation::CREATE_PENDING)
            && api
                .get(&profile.name_any())
                .await?
                .annotations()
                .contains_key(annotation::CREATE_PENDING));
    // One write takes the finalizer and marks the create pending, and its answer is the live
    // object. The watch cache can lag behind this operator's own writes (under load, by
    // seconds) and show no id where one was recorded: the live object tells.
    let live = hold(api, profile, true).await?;
    let known_id = profile.status.as_ref().and_then(|s| s.id.as_ref());
    if let Some(live_id) = live
        .status
        .as_ref()
        .and_then(|s| s.id.as_ref())
        .filter(|id| Some(*id) != known_id)
        && let Some(remote) = client.get(live_id, Priority::User).await?
    {
        return Ok(remote);
    }
    // No look before posting, even when an earlier attempt may have created the profile:
    // Auth0 refuses a second profile of the same name (409), so posting again is safe, and
    // costs one call where a look-up lists the whole tenant. Only a 409 needs the look-up.
    let earlier_creates_over = ctx.creates_over_since(profile);
    ctx.creating(profile, true);
    let answer = client.create(want).await;
    ctx.posted(profile);
    let created = match answer {
        Ok(created) => created,
        Err(e) if e.status() == Some(409) => {
            // A profile of ours is in any listing begun after the attempt that made it, so
            // the resources that post again after a restart share one listing.
            let since = if uncertain {
                earlier_creates_over
            } else {
                Instant::now()
            };
            let owner = ctx.find_by_name(client, &name, since).await?;
            if uncertain && let Some(found) = owner {
                // Ours: an earlier attempt created it and the answer was lost.
                let id = id_of(&found)?;
                publish(
                    ctx,
                    profile,
                    EventType::Normal,
                    "Created",
                    &format!("created Auth0 profile {id} (found after an interrupted create)"),
                )
                .await;
                return Ok(found);
            }
            // Someone else's, or already gone again: nothing of ours exists, the mark can go.
            hold(api, profile, false).await?;
            ctx.forget_creates(profile);
            return Err(match owner.and_then(|p| id_of(&p).ok()) {
                Some(id) => Error::NameTaken { name, id },
                None => Error::NameFreed(name),
            });
        }
        // Refused (400, 403, 429 after retries): nothing was created, so no later pass need
        // wonder whether it was.
        Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => {
            hold(api, profile, false).await?;
            ctx.forget_creates(profile);
            return Err(Error::Auth0(e));
        }
        Err(e) => return Err(e.into()),
    };
    let id = id_of(&created)?;
    ctx.remember(&client.tenant().domain, &id, Some(&created));
    publish(
        ctx,
        profile,
        EventType::Normal,
        "Created",
        &format!("created Auth0 profile {id}"),
    )
    .await;
    Ok(created)
}

/// Observe: find the profile (by id, externalID, else name) and never write.
async fn observe_only(
    profile: &ConnectionProfile,
    ctx: &Context,
    client: &Auth0Client,
    status: &ConnectionProfileStatus,
) -> Result<Value, Error> {
    if let Some(id) = status.id.as_ref().or(profile.spec.external_id.as_ref()) {
        return client
            .get(id, Priority::User)
            .await?
            .ok_or_else(|| Error::AdoptionTargetMissing(id.clone()));
    }
    let name = profile.effective_name();
    ctx.find_by_name(client, name, Instant::now())
        .await?
        .ok_or_else(|| Error::ObservedMissing(name.to_string()))
}

async fn cleanup(
    profile: &ConnectionProfile,
    ctx: &Context,
    api: &Api<ConnectionProfile>,
    started: Instant,
) -> Result<Action, Error> {
    let status = profile.status.clone().unwrap_or_default();
    let id = status.id.clone();
    let keep = profile.spec.deletion_policy == DeletionPolicy::Orphan
        || profile.spec.management_policy == ManagementPolicy::Observe
        || annotation_is_true(profile, annotation::FORCE_ORPHAN);
    if keep {
        if let Some(id) = &id {
            publish(
                ctx,
                profile,
                EventType::Normal,
                "Orphaned",
                &format!("left Auth0 profile {id} in place"),
            )
            .await;
        }
        record(ctx, profile, "success", started, None);
        ctx.forget(&ObjectRef::from_obj(profile));
        return Ok(Action::await_change());
    }
    if id.is_none() && !ctx.create_uncertain(profile) {
        record(ctx, profile, "success", started, None);
        ctx.forget(&ObjectRef::from_obj(profile));
        return Ok(Action::await_change()); // nothing was ever created
    }
    let namespace = profile.namespace().unwrap_or_default();
    let result: Result<(), Error> = async {
        let client = ctx.tenants.client(&profile.spec.tenant_ref, &namespace)?;
        let target = match &id {
            Some(id) => Some(id.clone()),
            None => {
                let name = profile.effective_name();
                ctx.find_by_name(&client, name, ctx.creates_over_since(profile))
                    .await?
                    .and_then(|p| id_of(&p).ok())
            }
        };
        if let Some(target) = target {
            client.delete(&target).await?;
            ctx.remember(&client.tenant().domain, &target, None);
            publish(
                ctx,
                profile,
                EventType::Normal,
                "Deleted",
                &format!("deleted Auth0 profile {target}"),
            )
            .await;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            record(ctx, profile, "success", started, None);
            ctx.forget(&ObjectRef::from_obj(profile));
            Ok(Action::await_change())
        }
        Err(err) => {
            let (why, _) = err.reason();
            let mut message = err.to_string();
            if matches!(err, Error::Tenant(_)) {
                message.push_str(&format!(
                    "; to delete the resource without deleting the Auth0 profile, annotate it {}=true",
                    annotation::FORCE_ORPHAN
                ));
            }
            let outcome = Outcome::Failed {
                reason: why,
                message: message.clone(),
                terminal: false,
                remote_available: id.is_some(),
            };
            if write_status(profile, ctx, api, status_with(profile, &outcome, |_| {})).await? {
                publish(ctx, profile, EventType::Warning, why, &message).await;
            }
            record(ctx, profile, why, started, Some("False"));
            Err(err)
        }
    }
}

/// The status after a successful pass: the remote as observed, every condition Available.
fn settled_status(profile: &ConnectionProfile, domain: &str, remote: &Value) -> ConnectionProfileStatus {
    status_with(profile, &Outcome::Available, |status| {
        status.tenant = Some(domain.to_string());
        status.at_provider = at_provider(remote).ok();
        status.id = remote
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(status.id.take());
    })
}

/// The current status with new conditions for `outcome`, `observedGeneration` and the
/// handled reconcile request, then `edit` applied.
fn status_with(
    profile: &ConnectionProfile,
    outcome: &Outcome,
    edit: impl FnOnce(&mut ConnectionProfileStatus),
) -> ConnectionProfileStatus {
    let mut status = profile.status.clone().unwrap_or_default();
    let generation = profile.metadata.generation.unwrap_or_default();
    let now = Time(Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_else(|_| Timestamp::now()));
    status.conditions = conditions(&status.conditions, generation, outcome, &now);
    status.observed_generation = Some(generation);
    status.last_handled_reconcile_at = profile.annotations().get(annotation::RECONCILE_REQUESTED_AT).cloned();
    edit(&mut status);
    status
}

/// Writes the status when it differs from what the resource already shows. Returns whether
/// it wrote.
///
/// A status that records an id is applied whole (server-side apply, so fields it no longer
/// holds go). One without an id is merged: the copy it was made from may come from a watch
/// cache that lags behind our own writes, and applying it would erase an id recorded since,
/// after which nothing would know the profile was created (a failed cleanup pass on such a
/// copy did exactly that in the fault suite, and the next pass left an orphan in Auth0).
async fn write_status(
    profile: &ConnectionProfile,
    _ctx: &Context,
    api: &Api<ConnectionProfile>,
    status: ConnectionProfileStatus,
) -> Result<bool, Error> {
    if profile.status.as_ref() == Some(&status) {
        return Ok(false);
    }
    api.patch_status(&profile.name_any(), &status_params(&status), &status_patch(status))
        .await?;
    Ok(true)
}

fn status_params(status: &ConnectionProfileStatus) -> PatchParams {
    match status.id {
        Some(_) => PatchParams::apply(MANAGER).force(),
        None => PatchParams {
            field_manager: Some(MANAGER.to_string()),
            ..PatchParams::default()
        },
    }
}

/// The patch for `write_status`: see there why a status without an id is merged.
fn status_patch(status: ConnectionProfileStatus) -> Patch<Value> {
    if status.id.is_some() {
        Patch::Apply(json!({
            "apiVersion": ConnectionProfile::api_version(&()),
            "kind": ConnectionProfile::kind(&()),
            "status": status,
        }))
    } else {
        // Absent fields (id, tenant, atProvider) are left as they are.
        Patch::Merge(json!({ "status": status }))
    }
}

fn has_finalizer(profile: &ConnectionProfile) -> bool {
    profile.finalizers().iter().any(|f| f == FINALIZER)
}

/// Holds the finalizer, and the create-pending mark when `pending`, by server-side apply:
/// what this manager applied before and leaves out now (the mark) is removed; other
/// finalizers and annotations are untouched. Returns the live object.
async fn hold(
    api: &Api<ConnectionProfile>,
    profile: &ConnectionProfile,
    pending: bool,
) -> Result<ConnectionProfile, Error> {
    let mut metadata = json!({"name": profile.name_any(), "finalizers": [FINALIZER]});
    if pending {
        metadata["annotations"] = json!({annotation::CREATE_PENDING: Timestamp::now().to_string()});
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

/// Lets the resource go once its cleanup is done: applies nothing, so the finalizer and
/// mark this manager holds are removed. A finalizer someone else wrote back is removed by
/// a JSON patch that checks its position.
async fn release(api: &Api<ConnectionProfile>, profile: &ConnectionProfile) -> Result<(), Error> {
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

fn id_of(remote: &Value) -> Result<String, Error> {
    remote
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Error::Auth0(Auth0Error::Decode {
                path: "id".into(),
                message: "the profile has no id".into(),
            })
        })
}

async fn publish(ctx: &Context, profile: &ConnectionProfile, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &profile.object_ref(&())).await {
        tracing::warn!(error = %e, "publishing an event failed");
    }
}

fn annotation_is_true(profile: &ConnectionProfile, key: &str) -> bool {
    profile
        .annotations()
        .get(key)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn poll_interval(profile: &ConnectionProfile, ctx: &Context) -> Duration {
    profile
        .annotations()
        .get(annotation::POLL_INTERVAL)
        .and_then(|v| parse_duration(v))
        .unwrap_or(ctx.poll_interval)
}

/// ±10%, so resources created together do not all poll together.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(0.9 + 0.2 * fastrand::f64())
}

/// `90s`, `10m`, `1h`, `1h30m`; at least one second.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return None,
        };
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        for bad in ["", "10", "0s", "5d", "m", "-1m", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(90) && d <= Duration::from_secs(110), "{d:?}");
        }
    }

    #[test]
    fn a_status_without_an_id_cannot_erase_one() {
        let failed = ConnectionProfileStatus {
            observed_generation: Some(2),
            ..ConnectionProfileStatus::default()
        };
        match status_patch(failed.clone()) {
            Patch::Merge(body) => {
                assert_eq!(body, json!({"status": {"observedGeneration": 2}}));
            }
            other => panic!("a status without an id must be merged, not {other:?}"),
        }
        assert!(status_params(&failed).field_manager.as_deref() == Some(MANAGER));
        assert!(!status_params(&failed).force);
        let settled = ConnectionProfileStatus {
            id: Some("cop_1cu7Zs1Dfru5Qc9mZea7nm".into()),
            ..failed
        };
        match status_patch(settled.clone()) {
            Patch::Apply(body) => assert_eq!(body["status"]["id"], "cop_1cu7Zs1Dfru5Qc9mZea7nm"),
            other => panic!("a status with an id is applied whole, not {other:?}"),
        }
        assert!(status_params(&settled).force);
    }

    #[test]
    fn failure_reasons() {
        let conflict = Error::NameTaken {
            name: "acme".into(),
            id: "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
        };
        assert_eq!(conflict.reason(), (reason::CONFLICT, true));
        assert!(
            conflict
                .to_string()
                .contains("set spec.externalID to cop_1cu7Zs1Dfru5Qc9mZea7nm")
        );
        let throttled = Error::Auth0(Auth0Error::Api {
            status: 429,
            error_code: None,
            message: "Too many requests".into(),
            retry_after: None,
        });
        assert_eq!(throttled.reason(), (reason::RECONCILE_ERROR, false));
        let missing = Error::Tenant(TenantError::KeyMissing {
            namespace: "ns".into(),
            name: "creds".into(),
            key: "client_secret".into(),
        });
        assert_eq!(missing.reason(), (reason::CREDENTIALS_UNAVAILABLE, false));
        assert_eq!(missing.to_string(), "Secret ns/creds has no key client_secret");
    }
}
