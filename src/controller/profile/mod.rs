//! The ConnectionProfile reconciler. Each pass: gather what the resource can prove it owns
//! ([`claims`]), ask the pure [`plan`] what to do, look at Auth0 when it asks ([`listing`]
//! or a GET), and carry out its one action ([`apply`] for a live resource, [`cleanup`] for
//! one being deleted); then the status ([`status`]), written only when it changed, and the
//! marks ([`marks`]). What the controller remembers between passes is in [`memory`].
//!
//! Where to find a behaviour: ownership and every decision in `plan.rs`; one profile, one
//! owner in `claims.rs`; no duplicates (the create-pending mark, the `profile-id` binding)
//! in `apply.rs` and `marks.rs`; drift (one listing per tenant per interval) in
//! `listing.rs` and `apply.rs`; deletion, orphaning and the paused deletion in `cleanup.rs`;
//! no hot loops and per-object backoff in this file and `memory.rs`.

pub mod apply;
pub mod claims;
pub mod cleanup;
pub mod error;
pub mod listing;
pub mod marks;
pub mod memory;
pub mod plan;
pub mod references;
pub mod status;
pub mod vanished;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::controller::events::{EventType, Publisher};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::Value;

use super::conditions::Outcome;
use super::lanes::Purpose;
use super::tenants::Tenants;
use crate::auth0::Auth0Client;
use crate::auth0::ratelimit::Priority;
use crate::auth0::retry::Backoff;
use crate::crd::{Kind, Status};
use crate::metrics::Metrics;
pub use error::{Disposition, Error};
use memory::Memory;
use plan::{After, ById, Claim, Inputs, Listed, Lookup};

pub const FINALIZER: &str = "auth0.operators.dev/finalizer";
/// The field manager of every write the operator makes.
pub const MANAGER: &str = "auth0-operator";

/// The annotations a person (or the operator) sets.
pub mod annotation {
    pub const PAUSED: &str = "auth0.operators.dev/paused";
    pub const POLL_INTERVAL: &str = "auth0.operators.dev/poll-interval";
    pub const RECONCILE_REQUESTED_AT: &str = "auth0.operators.dev/reconcile-requested-at";
    pub const FORCE_ORPHAN: &str = "auth0.operators.dev/force-orphan";
    /// The operator's: the name a create is about to post, or posted without an answer.
    pub const CREATE_PENDING: &str = "auth0.operators.dev/create-pending";
    /// The operator's: the id of the profile this resource owns (also in `status.id`; this
    /// copy survives a backup restore or a re-apply that drops status).
    pub const PROFILE_ID: &str = "auth0.operators.dev/profile-id";
    /// The operator's: the tenant (`Kind/name`, as `spec.tenantRef` named it) the
    /// `create-pending` mark and the `profile-id` binding were made on, held beside them. A
    /// resource whose tenantRef no longer names it is refused (`TenantChanged`).
    pub const PROFILE_TENANT: &str = "auth0.operators.dev/profile-tenant";
    /// kubectl's copy of the last applied object (client-side `kubectl apply`); the caches
    /// drop it.
    pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
    /// In memory only, never written: the size in bytes of the [`LAST_APPLIED`] value the
    /// caches dropped (it counts toward the API server's 256 KiB of annotations).
    pub const LAST_APPLIED_BYTES: &str = "auth0.operators.dev/last-applied-bytes";
}

/// What the passes of every kind share: the clients, the tenants, Events, metrics, the
/// caches every pass waits for, and each tenant's lane (a tenant's lane and rate limit are
/// one for all its kinds).
pub struct Shared {
    pub client: kube::Client,
    pub tenants: Tenants,
    /// Publishes the resources' Events (`controller/events.rs`).
    pub events: Publisher,
    /// Default drift-check interval; the `poll-interval` annotation overrides it.
    pub poll_interval: Duration,
    pub metrics: Arc<Metrics>,
    /// The caches (tenants, Secrets, namespaces) every pass reads: listed once before passes run.
    pub caches: Arc<super::CachesSynced>,
    /// Each tenant's lane: the passes of one tenant that may run at once (issue 15).
    pub lanes: Arc<super::lanes::Lanes>,
    /// When this process began reconciling: every create an earlier process sent is over.
    started: Instant,
}

impl Shared {
    pub fn new(
        client: kube::Client,
        tenants: Tenants,
        events: Publisher,
        poll_interval: Duration,
        metrics: Arc<Metrics>,
        caches: Arc<super::CachesSynced>,
        lanes: Arc<super::lanes::Lanes>,
    ) -> Self {
        Shared {
            client,
            tenants,
            events,
            poll_interval,
            metrics,
            caches,
            lanes,
            started: Instant::now(),
        }
    }
}

/// What the passes of one kind share: [`Shared`] (reached through `Deref`), the kind's
/// cache, its tenants' listings, its per-resource memory (this context is its one owner)
/// and how its references resolve.
pub struct Context<K: Kind> {
    pub shared: Arc<Shared>,
    /// Every resource of the kind, for the claims of the others (one profile, one owner).
    pub profiles: Store<K>,
    /// Each tenant's latest listing of the kind's items (`listing.rs`).
    pub listings: listing::Listings,
    /// Everything remembered per resource of the kind, with one `forget` (`memory.rs`).
    pub memory: Arc<Memory>,
    /// The resources of other kinds this kind's references name, and the resources of
    /// other kinds that reference this kind's (`references.rs`).
    pub references: references::Referents,
}

impl<K: Kind> std::ops::Deref for Context<K> {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl<K: Kind> Context<K> {
    pub fn new(shared: Arc<Shared>, watched: Watched<K>, references: references::Referents) -> Self {
        let Watched { profiles, memory } = watched;
        Context {
            listings: listing::Listings::new(K::AUTH0, shared.lanes.clone()),
            shared,
            profiles,
            memory,
            references,
        }
    }
}

/// What the controller's watches feed every pass of one kind.
pub struct Watched<K: Kind> {
    /// Every resource of the kind (the controller's own cache).
    pub profiles: Store<K>,
    /// Everything remembered per resource; the watch notes when each resource's current
    /// request was first delivered, and forgets resources gone from the cache.
    pub memory: Arc<Memory>,
}

/// The per-resource failure backoff: 1 s doubling to 5 min, full jitter.
pub fn failure_backoff() -> Backoff {
    Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(300),
        max_attempts: u32::MAX,
    }
}

/// One pass over one resource: what it reads, and the look-ups the plan asks for.
pub struct Pass<'a, K: Kind> {
    pub profile: &'a K,
    pub ctx: &'a Context<K>,
    pub api: Api<K>,
    pub uid: String,
    pub claims: claims::Claims,
    /// Whether this pass saw the recorded profile gone from Auth0 (a GET by id answered
    /// 404): a failure after that must not report it available.
    pub saw_gone: std::sync::atomic::AtomicBool,
}

impl<'a, K: Kind> Pass<'a, K> {
    fn new(profile: &'a K, ctx: &'a Context<K>) -> Self {
        let namespace = profile.namespace().unwrap_or_default();
        Pass {
            profile,
            ctx,
            api: Api::namespaced(ctx.client.clone(), &namespace),
            uid: profile.uid().unwrap_or_default(),
            claims: claims::Claims::of(profile, &ctx.profiles.state()),
            saw_gone: Default::default(),
        }
    }

    /// The tenant's client, once the tenant admits the resource's namespace.
    pub fn client(&self) -> Result<Arc<Auth0Client>, Error> {
        let namespace = self.profile.namespace().unwrap_or_default();
        Ok(self.ctx.tenants.client(self.profile.common().tenant_ref, &namespace)?)
    }

    /// [`Self::client`], refused with `TenantChanged` when the tenant it reaches is not the
    /// one the resource's evidence was made on: the plan's check read the tenant's settings
    /// a moment before, and a re-point in between must not slip through.
    pub fn checked_client(&self) -> Result<Arc<Auth0Client>, Error> {
        let client = self.client()?;
        match marks::tenant_change(self.profile, Some(&client.tenant().reached())) {
            Some(change) => Err(Error::TenantChanged(change)),
            None => Ok(client),
        }
    }

    /// The Auth0 tenant `spec.tenantRef` reaches now (`Tenants::reached`): `None` when it
    /// cannot be told (no such tenant, a refused endpoint).
    pub fn reached(&self) -> Option<String> {
        let namespace = self.profile.namespace().unwrap_or_default();
        self.ctx.tenants.reached(self.profile.common().tenant_ref, &namespace)
    }

    /// The ids the resource's references name (`references.rs`): refused before any Auth0
    /// call while a referenced resource is not Ready (`ReferenceNotReady`, retried) or is on
    /// another tenant (`InvalidReference`).
    pub fn resolve(&self) -> Result<crate::crd::kind::Resolved, Error> {
        let references = self.profile.references();
        if references.is_empty() {
            return Ok(Default::default());
        }
        let namespace = self.profile.namespace().unwrap_or_default();
        self.ctx
            .references
            .resolve(&namespace, self.profile.common().tenant_ref, &references)
            .map_err(|unresolved| match unresolved {
                references::Unresolved::NotReady { .. } => Error::ReferenceNotReady(unresolved.to_string()),
                references::Unresolved::OtherTenant { .. } => Error::InvalidReference(unresolved.to_string()),
            })
    }

    /// The resources of other kinds that reference this one (`references.rs`).
    pub fn users(&self) -> Vec<super::lanes::Resource> {
        let namespace = self.profile.namespace().unwrap_or_default();
        self.ctx.references.users(
            K::AUTH0.kind,
            &namespace,
            &self.profile.name_any(),
            claims::recorded_id(self.profile),
        )
    }

    /// Queues a pass of every resource that references this one (its readiness or id
    /// changed, or it is gone).
    pub fn wake_users(&self) {
        let namespace = self.profile.namespace().unwrap_or_default();
        self.ctx.references.wake_users(
            K::AUTH0.kind,
            &namespace,
            &self.profile.name_any(),
            claims::recorded_id(self.profile),
        );
    }

    /// Queues a pass of every resource this one names by reference (one waiting to be
    /// deleted until nothing uses it goes on when this one lets go).
    pub fn wake_referenced(&self) {
        let Some(wake) = &self.ctx.references.wake else { return };
        let namespace = self.profile.namespace().unwrap_or_default();
        for reference in self.profile.references() {
            if let crate::crd::kind::Target::Name(name) = reference.target {
                wake(super::lanes::Resource {
                    kind: reference.kind,
                    namespace: namespace.clone(),
                    name,
                });
            }
        }
    }

    /// What the resource can prove about its profile, strongest first.
    ///
    /// The id this process's own last create was answered with comes first: the copy at hand
    /// may come from a watch cache that does not show it recorded yet (or shows the id of the
    /// profile it replaced).
    pub fn claim(&self) -> Claim {
        let profile = self.profile;
        if let Some(id) = self.ctx.memory.creates.get(&self.uid).and_then(|posted| posted.created) {
            return Claim::Recorded(id);
        }
        claims::claim_of(profile, self.pending())
    }

    /// The name of a create of this resource that may have reached Auth0 unrecorded: its
    /// create-pending mark, or a POST this process sent (the copy at hand may come from a
    /// watch cache that does not show the mark yet).
    ///
    /// Earlier versions of the operator wrote a timestamp into the mark: such a mark stands
    /// for the resource's own name (they never posted another).
    pub fn pending(&self) -> Option<String> {
        // This process's own POSTs are known better than any copy of the mark: one answered
        // with an id is recorded, not pending (a pending name kept after a success once made
        // a renamed resource's deletion delete a later profile of its old name).
        if let Some(posted) = self.ctx.memory.creates.get(&self.uid) {
            return posted.created.is_none().then_some(posted.name);
        }
        claims::pending_mark(self.profile)
    }

    /// The inputs of [`plan::plan`] before any look-up.
    pub fn inputs<'i>(&self, desired: &'i serde_json::Map<String, Value>) -> Inputs<'i>
    where
        'a: 'i,
    {
        let profile = self.profile;
        Inputs {
            deleting: profile.meta().deletion_timestamp.is_some(),
            paused: annotation_is_true(profile, annotation::PAUSED),
            force_orphan: annotation_is_true(profile, annotation::FORCE_ORPHAN),
            management: profile.common().management_policy,
            deletion: profile.common().deletion_policy,
            claim: self.claim(),
            pending: self.pending(),
            owned_by_other: self.claims.older_claimant.clone(),
            tenant_changed: marks::tenant_change(profile, self.reached().as_deref()),
            name: profile.common().name,
            desired,
            normalize: K::normalize,
            by_id: None,
            generation: profile.meta().generation,
            stuck: self.ctx.memory.stuck.get(&self.uid),
            named: Default::default(),
        }
    }

    /// Answers a look-up the plan asked for, into `inputs`.
    pub async fn look(&self, client: &Auth0Client, lookup: Lookup, inputs: &mut Inputs<'_>) -> Result<(), Error> {
        match lookup {
            Lookup::ById(id) => inputs.by_id = Some(self.by_id(client, &id).await?),
            Lookup::Named { name, after } => {
                let since = match after {
                    After::Request => self.request_time(),
                    After::PostsOver => self.posts_over_since(),
                };
                let resource = super::lanes::Resource::of(&ObjectRef::from_obj(self.profile));
                let Some(named) = self.ctx.listings.named(client, &name, since, &resource).await? else {
                    return Err(Error::AwaitingListing);
                };
                let all = self.ctx.profiles.state();
                let found = named
                    .into_iter()
                    .filter_map(|profile| {
                        let id = profile.get("id")?.as_str()?.to_string();
                        Some(Listed {
                            claimed_by: claims::owner_of(self.profile, &id, &all),
                            id,
                            profile,
                        })
                    })
                    .collect();
                inputs.named.insert(name, found);
            }
        }
        Ok(())
    }

    /// The remote profile by id. A settled resource is checked against the tenant's listing
    /// (shared by all its resources); a changed one with a GET. A profile missing from a
    /// listing is confirmed with a GET before anyone calls it gone.
    async fn by_id(&self, client: &Auth0Client, id: &str) -> Result<ById, Error> {
        let settled = status::is_settled(self.profile);
        if settled {
            match self.ctx.listings.drift_view(client, id, self.poll_interval()).await? {
                None => return Ok(ById::Deferred),
                Some(Some(remote)) => return Ok(ById::Found(remote)),
                Some(None) => {}
            }
        }
        let priority = if settled { Priority::Background } else { Priority::User };
        Ok(match client.get_item(K::AUTH0, id, priority).await? {
            Some(remote) => ById::Found(remote),
            None => {
                self.saw_gone.store(true, std::sync::atomic::Ordering::Relaxed);
                ById::Gone
            }
        })
    }

    /// Since when a listing shows every profile made before the user asked for this state:
    /// when this process first saw the resource's current request (its generation and
    /// `reconcile-requested-at`), noted as the watch delivered it ([`request_key`]).
    fn request_time(&self) -> Instant {
        self.ctx.memory.requests.seen(&self.uid, request_key(self.profile))
    }

    /// Since when a listing shows every create of this resource that reached Auth0: this
    /// process's last POST for it, else this process's start (an earlier process's are over).
    fn posts_over_since(&self) -> Instant {
        self.ctx
            .memory
            .creates
            .get(&self.uid)
            .and_then(|p| p.answered)
            .unwrap_or(self.ctx.shared.started)
    }

    pub fn poll_interval(&self) -> Duration {
        poll_interval(self.profile, self.ctx)
    }

    pub async fn publish(&self, type_: EventType, reason: &str, note: &str) {
        publish(self.ctx, self.profile, type_, reason, note).await;
    }

    /// What this pass reads that can turn a terminal failure into a success: the spec, the
    /// annotations a person sets, deletion, the tenant's client (its settings and Secret),
    /// and what the references resolve to.
    fn fingerprint(&self) -> u64 {
        let profile = self.profile;
        let people: BTreeMap<&String, &String> = profile
            .annotations()
            .iter()
            .filter(|(k, _)| {
                ![
                    annotation::CREATE_PENDING,
                    annotation::PROFILE_ID,
                    annotation::PROFILE_TENANT,
                    annotation::LAST_APPLIED,
                ]
                .contains(&k.as_str())
            })
            .collect();
        let tenant = match self.client() {
            Ok(client) => {
                let config = client.tenant();
                memory::fingerprint((
                    Arc::as_ptr(&client) as usize,
                    &config.domain,
                    config.base_url.as_str(),
                    &config.client_id,
                    config.client_secret.expose(),
                ))
            }
            Err(e) => memory::fingerprint(e.to_string()),
        };
        let namespace = profile.namespace().unwrap_or_default();
        let tenant_version = self.ctx.tenants.version(profile.common().tenant_ref, &namespace);
        // What the references resolve to: a referenced resource's new id or readiness.
        let references = references::fingerprint(&self.ctx.references.resolve(
            &namespace,
            profile.common().tenant_ref,
            &profile.references(),
        ));
        memory::fingerprint((
            profile.meta().generation,
            profile.meta().deletion_timestamp.is_some(),
            people,
            tenant,
            tenant_version,
            references,
        ))
    }
}

/// What the user asks of a resource: its generation and its `reconcile-requested-at`,
/// hashed. The watch notes when each was first seen ([`memory::Requests`]); a name check
/// before a POST needs a listing begun after that.
pub fn request_key<K: Kind>(profile: &K) -> u64 {
    memory::fingerprint((
        profile.meta().generation,
        profile.annotations().get(annotation::RECONCILE_REQUESTED_AT),
    ))
}

/// What a pass that did not fail leaves behind.
pub struct Done<A> {
    /// The status to write (skipped when unchanged).
    pub status: Option<Status<A>>,
    /// The marks to hold after the status is written (the id first, then the mark goes).
    pub marks: Option<marks::Marks>,
    pub next: Action,
    /// Whether this pass saw the remote match the spec (a drift check is then not due).
    pub checked: bool,
}

/// The controller's entry point: takes a place in the lane of the resource's tenant, or
/// queues the resource there when the lane is full (only resources of that tenant can keep
/// it waiting; it is reconciled again when a place frees: `lanes.rs`), then runs the pass
/// on one of the running places (given back while it waits for Auth0: `places.rs`). A
/// resource whose tenant cannot be resolved makes no Auth0 call and needs no place.
///
/// A pass that panics is caught here (`controller/panics.rs`): the resource is reported
/// `Synced=False InternalError` and retried with its backoff; the process and every other
/// resource go on.
pub async fn reconcile<K: Kind>(profile: Arc<K>, ctx: Arc<Context<K>>) -> Result<Action, Error> {
    let started = Instant::now();
    match super::panics::caught(reconcile_in_lane(profile.clone(), ctx.clone())).await {
        Ok(result) => result,
        Err(panic) => Ok(internal_error(profile.as_ref(), &ctx, &panic, started).await),
    }
}

/// After a pass panicked: the log line (with the panic), the metric, the status, backoff.
async fn internal_error<K: Kind>(profile: &K, ctx: &Context<K>, panic: &str, started: Instant) -> Action {
    let uid = profile.uid().unwrap_or_default();
    tracing::error!(%panic, resource = %claims::key(profile), "a reconcile pass panicked: reported as InternalError, retried with backoff");
    ctx.metrics
        .reconcile_panics
        .get_or_create(&crate::metrics::KindLabel { kind: K::AUTH0.kind })
        .inc();
    let wait = ctx.memory.failures.failed(&uid);
    // The latest copy: the pass may have written since the controller's copy was read.
    let latest = ctx
        .profiles
        .get(&ObjectRef::from_obj(profile))
        .filter(|p| p.uid().as_deref() == Some(uid.as_str()));
    let profile = latest.as_deref().unwrap_or(profile);
    let message = format!(
        "an internal error (a bug in the operator) ended the pass: {panic}; retrying with backoff. Please report it with the operator's log"
    );
    let reason = crate::crd::conditions::reason::INTERNAL_ERROR;
    let outcome = if profile.meta().deletion_timestamp.is_some() {
        Outcome::DeleteBlocked {
            reason,
            message: message.clone(),
            stalled: false,
            retrying: true,
        }
    } else {
        Outcome::Failed {
            reason,
            message: message.clone(),
            terminal: false,
            // A profile it recorded and reported available stays reported so: the panic
            // says nothing about Auth0.
            remote_available: claims::recorded_id(profile).is_some()
                && profile
                    .status()
                    .as_ref()
                    .is_some_and(|s| status::ready_of(s) == Some("True")),
        }
    };
    let new_status = status::with(profile, &outcome, |_| {});
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &profile.namespace().unwrap_or_default());
    match status::write(&api, profile, new_status).await {
        Ok(true) => {
            publish(
                ctx,
                profile,
                EventType::Warning,
                crate::crd::conditions::reason::INTERNAL_ERROR,
                &message,
            )
            .await
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "writing the InternalError status failed"),
    }
    record(ctx, crate::crd::conditions::reason::INTERNAL_ERROR, started);
    Action::requeue(wait)
}

/// [`reconcile`] without the panic guard.
async fn reconcile_in_lane<K: Kind>(profile: Arc<K>, ctx: Arc<Context<K>>) -> Result<Action, Error> {
    let namespace = profile.namespace().unwrap_or_default();
    let _place = match ctx.tenants.client(profile.common().tenant_ref, &namespace) {
        Ok(client) => match ctx.lanes.try_enter(
            client.reach(),
            &super::lanes::Resource::of(&ObjectRef::from_obj(profile.as_ref())),
            if status::is_settled(profile.as_ref()) {
                Purpose::DriftCheck
            } else {
                Purpose::Change
            },
        ) {
            Some(place) => Some(place),
            None => return Ok(Action::await_change()),
        },
        Err(_) => None,
    };
    let running = ctx.lanes.running.clone();
    let result = crate::places::run(running, Box::pin(run(profile.clone(), ctx.clone()))).await;
    match result {
        // Gone under a create of ours (`vanished.rs`): the created profile is cleaned up.
        Err(e) if vanished::is_gone(&e) && vanished::handle(profile.as_ref(), &ctx).await => Ok(Action::await_change()),
        other => other,
    }
}

/// One pass over a resource.
async fn run<K: Kind>(profile: Arc<K>, ctx: Arc<Context<K>>) -> Result<Action, Error> {
    // The copy the controller handed over was read before the waits for a lane and a
    // running place (minutes behind a throttled backlog): a pause, a force-orphan or a
    // deletion set meanwhile must count. The cache's copy is the latest the watch gave.
    let Some(latest) = ctx.profiles.get(&ObjectRef::from_obj(profile.as_ref())) else {
        return Ok(Action::await_change());
    };
    let profile: &K = latest.as_ref();
    super::panics::injected(&claims::key(profile));
    let started = Instant::now();
    let deleting = profile.meta().deletion_timestamp.is_some();
    if deleting && !marks::has_finalizer(profile) {
        return Ok(Action::await_change());
    }
    let pass = Pass::new(profile, &ctx);
    // A terminal failure costs one pass, then waits for a change (memory::Stalls).
    let fingerprint = pass.fingerprint();
    // A stalled resource that still reports its profile available is looked at again once
    // per poll interval, like any Ready one: its profile may be deleted or changed meanwhile
    // (found by the walk: a rename onto a taken name kept Ready=True for a profile deleted in
    // the dashboard).
    let claims_available = profile
        .status()
        .as_ref()
        .is_some_and(|s| status::ready_of(s) == Some("True"));
    let recheck_due = claims_available && !ctx.memory.checked.within(&pass.uid, pass.poll_interval() / 2);
    if ctx.memory.stalls.is_stalled(&pass.uid, fingerprint) && !recheck_due {
        return Ok(Action::await_change());
    }
    let lets_go = deleting && annotation_is_true(profile, annotation::FORCE_ORPHAN);
    let undecodable = super::decode::undecodable(profile).filter(|_| !lets_go);
    let malformed = marks::malformed_id(profile).filter(|_| deleting && !lets_go);
    let result = if let Some(why) = undecodable {
        // Read with an empty spec: nothing may be looked at, written or deleted for it.
        Err(Error::Undecodable(why))
    } else if let Some(why) = malformed {
        // A deletion would send the forged id (a live resource is refused in `apply.rs`).
        Err(Error::InvalidAnnotation(why))
    } else if deleting {
        cleanup::run(&pass).await
    } else {
        // A bad poll-interval annotation is not a failure: drift checks use the default,
        // and a Warning says what to fix.
        if let Err((_, why)) = poll_interval_or_why(profile, &ctx) {
            // Once per value: the Synced condition's message carries it after this pass.
            let noted = profile.status().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == crate::crd::conditions::SYNCED && c.message == why)
            });
            if !noted {
                tracing::warn!(%why, "ignoring the poll-interval annotation");
                pass.publish(EventType::Warning, "InvalidAnnotation", &why).await;
            }
        }
        apply::run(&pass).await
    };
    let result: Result<Action, Error> = match result {
        Ok(mut done) => {
            if !deleting {
                let note = poll_interval_or_why(profile, &ctx).err().map(|(_, why)| why);
                done.status = status::noted(done.status, profile, note.as_deref());
            }
            // An unchanged status is not written: the resource's own says how it stands.
            let written = async {
                if let Some(new_status) = done.status {
                    let before = profile
                        .status()
                        .map(|s| (status::ready_of(s).map(str::to_string), s.id.clone()));
                    let after = (status::ready_of(&new_status).map(str::to_string), new_status.id.clone());
                    status::write(&pass.api, profile, new_status).await?;
                    // Resources that reference this one wait for it to be Ready: they go on now.
                    if before.as_ref() != Some(&after) {
                        pass.wake_users();
                    }
                }
                if let Some(marks) = &done.marks {
                    marks::hold(&pass.api, profile, marks).await?;
                }
                Ok::<(), Error>(())
            }
            .await;
            match written {
                Ok(()) => {
                    if done.checked {
                        ctx.memory.checked.now(&pass.uid);
                    }
                    ctx.memory.stalls.clear(&pass.uid);
                    ctx.memory.failures.succeeded(&pass.uid);
                    record(&ctx, "success", started);
                    return Ok(done.next);
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    // The API server refusing our own write as invalid (422) is the resource's to mend (its
    // annotations too large for our marks): reported and stalled, not retried every 5 s.
    let result = result.map_err(|e| marks::refused_write(e, profile));
    match result {
        Ok(next) => Ok(next),
        Err(err @ Error::Kube(_)) => Err(err),
        // The listing it needs wakes it (`listing.rs`); the requeue is a safety net only.
        Err(Error::AwaitingListing) => {
            tracing::debug!("waiting for the tenant's listing another pass is taking");
            Ok(Action::requeue(jittered(pass.poll_interval())))
        }
        Err(err) => {
            let disposition = err.disposition();
            let mut message = err.to_string();
            // A deletion that cannot proceed waits for a person unless it mends by itself.
            let stalled = disposition.terminal || (deleting && matches!(err, Error::Tenant(_)));
            let outcome = if deleting {
                if stalled {
                    message.push_str(&format!(
                        "; to delete the resource and leave the Auth0 profile in place, annotate it {}=true",
                        annotation::FORCE_ORPHAN
                    ));
                }
                Outcome::DeleteBlocked {
                    reason: disposition.reason,
                    message: message.clone(),
                    stalled,
                    retrying: !stalled,
                }
            } else {
                let remote_available = claims::recorded_id(profile).is_some()
                    && profile
                        .status()
                        .as_ref()
                        .is_some_and(|s| status::ready_of(s) == Some("True"))
                    && !pass.saw_gone.load(std::sync::atomic::Ordering::Relaxed)
                    && !matches!(
                        err,
                        Error::AdoptionTargetMissing(_) | Error::ObservedMissing(_) | Error::TenantChanged(_)
                    );
                Outcome::Failed {
                    reason: disposition.reason,
                    message: message.clone(),
                    terminal: disposition.terminal,
                    remote_available,
                }
            };
            let new_status = status::with(profile, &outcome, |_| {});
            let still_available = !deleting && status::ready_of(&new_status) == Some("True");
            if status::write(&pass.api, profile, new_status).await? {
                pass.publish(EventType::Warning, disposition.reason, &message).await;
            }
            record(&ctx, disposition.reason, started);
            tracing::info!(error = %message, reason = disposition.reason, terminal = stalled, "reconcile failed");
            Ok(if stalled && still_available {
                // Stalled, yet reporting its profile available: checked again once per poll
                // interval (above), so a profile deleted meanwhile is not reported forever.
                ctx.memory.stalls.stalled(&pass.uid, fingerprint);
                ctx.memory.checked.now(&pass.uid);
                Action::requeue(jittered(pass.poll_interval()))
            } else if stalled {
                ctx.memory.stalls.stalled(&pass.uid, fingerprint);
                Action::await_change()
            } else {
                Action::requeue(ctx.memory.failures.failed(&pass.uid))
            })
        }
    }
}

/// The longest wait before retrying a pass the Kubernetes API failed.
const KUBE_RETRY_CAP: Duration = Duration::from_secs(5);

/// Records a pass in the metrics: its result and duration. (The Ready gauge is counted from
/// the cache at each scrape: `metrics.rs`.)
fn record<K: Kind>(ctx: &Context<K>, result: &'static str, started: Instant) {
    ctx.metrics.reconciled(K::AUTH0.kind, result, started.elapsed());
}

/// Failures of the Kubernetes API (a write refused or lost): retry with this object's
/// backoff, capped low: such a retry costs Auth0 nothing, and a pass that waits minutes
/// after the API server comes back from an outage helps no one.
pub fn error_policy<K: Kind>(profile: Arc<K>, error: &Error, ctx: Arc<Context<K>>) -> Action {
    let wait = ctx
        .memory
        .failures
        .failed(&profile.uid().unwrap_or_default())
        .min(KUBE_RETRY_CAP);
    tracing::warn!(error = %error, retry_in = ?wait, "reconcile failed");
    Action::requeue(wait)
}

async fn publish<K: Kind>(ctx: &Context<K>, profile: &K, type_: EventType, reason: &str, note: &str) {
    let regarding = profile.object_ref(&());
    if let Err(e) = ctx
        .events
        .publish(&ctx.memory.events, &regarding, type_, reason, note)
        .await
    {
        tracing::warn!(error = %e, "publishing an event failed");
    }
}

/// Whether the annotation `key` of `profile` says `true` (any case).
pub fn annotation_is_true<K: Kind>(profile: &K, key: &str) -> bool {
    profile
        .annotations()
        .get(key)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The resource's drift-check interval: its `poll-interval` annotation, else the default;
/// `Err` carries the default and what is wrong with the annotation.
fn poll_interval_or_why<K: Kind>(profile: &K, ctx: &Context<K>) -> Result<Duration, (Duration, String)> {
    let value = profile.annotations().get(annotation::POLL_INTERVAL).map(String::as_str);
    crate::duration::poll_interval_annotation(value, ctx.poll_interval).map_err(|why| (ctx.poll_interval, why))
}

fn poll_interval<K: Kind>(profile: &K, ctx: &Context<K>) -> Duration {
    poll_interval_or_why(profile, ctx).unwrap_or_else(|(default, _)| default)
}

/// ±10%, so resources created together do not all poll together. `interval` is capped at
/// [`crate::duration::MAX`] (24h) first, so the product and the deadline kube-runtime adds
/// it to cannot overflow, whatever the caller passes.
pub fn jittered(interval: Duration) -> Duration {
    interval.min(crate::duration::MAX).mul_f64(0.9 + 0.2 * fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(90) && d <= Duration::from_secs(110), "{d:?}");
        }
        // The issue-24 input: what `18446744073709551615s` would have been.
        assert!(jittered(Duration::MAX) <= crate::duration::MAX.mul_f64(1.1));
    }
}
