//! One lane per Auth0 tenant: at most `--tenant-concurrency` passes of a tenant's resources
//! are in progress at once, and a resource waits for a lane place only behind resources of
//! its own tenant (issue 15). Of the passes in progress, at most `--concurrency` run at once
//! across tenants; a pass waiting for Auth0 gives that place back (`places.rs`).
//!
//! Before, 16 workers served every tenant, and passes waiting for one tenant's rate limiter
//! (or for a tenant that never answers) held all of them: a backlog of 300 creates on a
//! tenant limited to 2 requests/s kept another tenant's change waiting 157 s.
//!
//! A resource whose tenant's lane is full is not kept waiting inside the controller: its
//! pass ends at once and the resource joins its lane's queue (a reference, about 100
//! bytes), and it is reconciled again when a place frees (the stream [`Lanes::new`] returns, fed to the
//! controller's `reconcile_on`). A pass waiting inside the controller would pin the copy of
//! the resource it was handed (kube's controller keeps it for the error policy) while the
//! cache moves on: 10,000 waiting passes across 50 tenants held 10,000 stale copies, and
//! the operator passed 200 MB (`make bench`, scenario tenants).
//!
//! The queue is first in, first out, so a tenant's backlog drains in order; changes go
//! before drift checks, and within the running passes the token bucket's reserve keeps
//! Auth0's budget for user changes. A pass that needs the tenant's next listing while
//! another pass is taking it does not wait in its place either: it ends, and the listing
//! queues it here when it ends ([`Lanes::queue_changes`], `profile/listing.rs`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::channel::mpsc;
use kube::runtime::reflector::ObjectRef;
use parking_lot::Mutex;
use tokio::sync::Semaphore;

use crate::auth0::client::Reach;
use crate::crd::Kind;
use crate::metrics::Metrics;

/// A resource of any kind, as the lanes name it: the lanes (and the rate limit) are the
/// tenant's, shared by all its kinds; each kind's controller takes the resources of its kind
/// from the stream [`Lanes::new`] returns (`controller/mod.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The resource's kind: `ConnectionProfile`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

impl Resource {
    /// The resource a reflector reference names, of kind `K`.
    pub fn of<K: Kind>(reference: &ObjectRef<K>) -> Self {
        Resource {
            kind: kind_name::<K>(),
            namespace: reference.namespace.clone().unwrap_or_default(),
            name: reference.name.clone(),
        }
    }

    /// The reflector reference, when the resource is of kind `K`.
    pub fn to_ref<K: Kind>(&self) -> Option<ObjectRef<K>> {
        (self.kind == kind_name::<K>()).then(|| ObjectRef::new(&self.name).within(&self.namespace))
    }
}

/// `K`'s kind name (`ConnectionProfile`), as a `'static` string: a kind's name is a
/// constant of its CRD type.
pub fn kind_name<K: Kind>() -> &'static str {
    K::AUTH0.kind
}

/// How often lanes with free places wake their queue even when no pass ended (a woken
/// resource deleted before its pass ran leaves its place free and wakes nobody).
const SWEEP: Duration = Duration::from_secs(1);

/// One tenant's lane.
#[derive(Default)]
struct Lane {
    in_progress: usize,
    /// Changes waiting for a place (a new or edited resource, a deletion, a retry), oldest
    /// first; woken before any drift check.
    changes: Queue,
    /// Drift checks of settled resources waiting for a place, oldest first.
    checks: Queue,
}

impl Lane {
    /// Nothing in progress and nothing queued.
    fn is_empty(&self) -> bool {
        self.in_progress == 0 && self.changes.queued.is_empty() && self.checks.queued.is_empty()
    }
}

/// Resources waiting for a place, oldest first; an entry not in `queued` is stale (its
/// resource got a place, or moved to the other queue, on another trigger) and is skipped.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Resource>,
    queued: HashSet<Resource>,
}

impl Queue {
    fn push(&mut self, resource: &Resource) {
        if self.queued.insert(resource.clone()) {
            self.waiting.push_back(resource.clone());
        }
    }

    fn pop(&mut self) -> Option<Resource> {
        while let Some(next) = self.waiting.pop_front() {
            if self.queued.remove(&next) {
                return Some(next);
            }
        }
        None
    }
}

/// What a pass is for, as its place in the queue: changes go before drift checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A new or edited resource, a deletion, a retry: someone is waiting for it.
    Change,
    /// The periodic drift check of a settled resource.
    DriftCheck,
}

/// Every tenant's lane, by the tenant as reached ([`Reach`]: two tenant objects with the
/// same endpoint and credentials share a rate bucket, so they share a lane; any other two
/// share neither, issue 25).
pub struct Lanes {
    per_tenant: usize,
    lanes: Mutex<HashMap<Reach, Lane>>,
    /// The running places shared by every tenant (`places.rs`).
    pub running: Arc<Semaphore>,
    /// Where a woken resource goes: its kind's controller ([`Lanes::register`]), else the
    /// stream [`Lanes::new`] returned.
    wake: mpsc::UnboundedSender<Resource>,
    by_kind: Mutex<HashMap<&'static str, mpsc::UnboundedSender<Resource>>>,
    metrics: Option<Arc<Metrics>>,
}

/// A place in a tenant's lane, held for a whole pass; dropping it wakes the lane's queue.
pub struct Place {
    lanes: Arc<Lanes>,
    tenant: Reach,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.lanes.leave(&self.tenant);
    }
}

impl Lanes {
    /// Lanes of `per_tenant` places each (`--tenant-concurrency`), and `running` places
    /// across them (`--concurrency`); at least 1 of each. Also returns the stream of
    /// resources to reconcile again because a place freed for them (for `reconcile_on`).
    /// Each change of a lane is published to `metrics` (`tenant_lane_resources`).
    pub fn new(
        per_tenant: usize,
        running: usize,
        metrics: Option<Arc<Metrics>>,
    ) -> (Arc<Lanes>, mpsc::UnboundedReceiver<Resource>) {
        let (wake, woken) = mpsc::unbounded();
        let lanes = Arc::new(Lanes {
            per_tenant: per_tenant.max(1),
            lanes: Mutex::default(),
            running: Arc::new(Semaphore::new(running.max(1))),
            wake,
            by_kind: Mutex::default(),
            metrics,
        });
        (lanes, woken)
    }

    /// The resources of `kind` to reconcile again from now on (for its controller's
    /// `reconcile_on`), straight from the lane that frees a place: no task in between.
    pub fn register(&self, kind: &'static str) -> mpsc::UnboundedReceiver<Resource> {
        let (tx, rx) = mpsc::unbounded();
        self.by_kind.lock().insert(kind, tx);
        rx
    }

    /// Queues a pass of `resource` at once, in its kind's controller: tenant, Secret and
    /// namespace changes, and references, wake resources through it (`controller/mod.rs`).
    pub fn wake(&self, resource: Resource) {
        let by_kind = self.by_kind.lock();
        let _ = match by_kind.get(resource.kind) {
            Some(sender) => sender.unbounded_send(resource),
            None => self.wake.unbounded_send(resource),
        };
    }

    /// A place in `tenant`'s lane for `resource`, or `None` when the lane is full: the
    /// resource is then queued (once) for its `purpose` and woken when a place frees,
    /// changes before drift checks.
    pub fn try_enter(self: &Arc<Self>, tenant: &Reach, resource: &Resource, purpose: Purpose) -> Option<Place> {
        let mut lanes = self.lanes.lock();
        let lane = lanes.entry(tenant.clone()).or_default();
        let place = if lane.in_progress < self.per_tenant {
            lane.in_progress += 1;
            lane.changes.queued.remove(resource);
            lane.checks.queued.remove(resource);
            Some(Place {
                lanes: self.clone(),
                tenant: tenant.clone(),
            })
        } else {
            match purpose {
                Purpose::Change => {
                    lane.checks.queued.remove(resource);
                    lane.changes.push(resource);
                }
                Purpose::DriftCheck if !lane.changes.queued.contains(resource) => lane.checks.push(resource),
                Purpose::DriftCheck => {}
            }
            None
        };
        self.publish(&lanes, &tenant.reached);
        place
    }

    /// The lanes of every reach shown as `reached` (the metrics label `tenant`), summed: two
    /// credentials on one tenant have a lane each and one label.
    fn publish(&self, lanes: &HashMap<Reach, Lane>, reached: &str) {
        if let Some(metrics) = &self.metrics {
            let (in_progress, changes, checks) =
                lanes
                    .iter()
                    .filter(|(reach, _)| reach.reached == reached)
                    .fold((0, 0, 0), |(p, c, d), (_, lane)| {
                        (
                            p + lane.in_progress,
                            c + lane.changes.queued.len(),
                            d + lane.checks.queued.len(),
                        )
                    });
            metrics.lane(reached, in_progress, changes, checks);
        }
    }

    fn leave(&self, tenant: &Reach) {
        let mut lanes = self.lanes.lock();
        if let Some(lane) = lanes.get_mut(tenant) {
            lane.in_progress = lane.in_progress.saturating_sub(1);
            self.wake_queued(lane);
            self.publish(&lanes, &tenant.reached);
        }
    }

    /// Wakes as many queued resources as the lane has free places, oldest first.
    fn wake_queued(&self, lane: &mut Lane) {
        let free = self.per_tenant.saturating_sub(lane.in_progress);
        for _ in 0..free {
            let Some(next) = lane.changes.pop().or_else(|| lane.checks.pop()) else {
                break;
            };
            // The receiver lives as long as the controller; after it, nothing waits.
            self.wake(next);
        }
    }

    /// Queues `resources` in `tenant`'s lane as changes (ahead of every drift check, behind
    /// the changes queued before them) and wakes as many as the lane has free places: the
    /// resources that waited for a listing another pass was taking (`listing.rs`).
    pub fn queue_changes(&self, tenant: &Reach, resources: impl IntoIterator<Item = Resource>) {
        let mut lanes = self.lanes.lock();
        let lane = lanes.entry(tenant.clone()).or_default();
        for resource in resources {
            lane.checks.queued.remove(&resource);
            lane.changes.push(&resource);
        }
        self.wake_queued(lane);
        self.publish(&lanes, &tenant.reached);
    }

    /// Wakes every lane's queue up to its free places, every second, until the lanes are
    /// dropped: the safety net for a woken resource that never came (deleted meanwhile).
    pub async fn sweep(lanes: Weak<Lanes>) {
        loop {
            tokio::time::sleep(SWEEP).await;
            let Some(lanes) = lanes.upgrade() else { return };
            let mut all = lanes.lanes.lock();
            for lane in all.values_mut() {
                lanes.wake_queued(lane);
            }
            // A lane with nothing in it goes (its gauges read 0 since it emptied): a rotated
            // secret or a re-pointed tenant leaves its old reach's lane behind.
            all.retain(|_, lane| !lane.is_empty());
            let shown: HashSet<String> = all.keys().map(|reach| reach.reached.clone()).collect();
            for reached in shown {
                lanes.publish(&all, &reached);
            }
        }
    }

    /// How many lanes are kept, for tests.
    pub fn len(&self) -> usize {
        self.lanes.lock().len()
    }

    /// No lane is kept.
    pub fn is_empty(&self) -> bool {
        self.lanes.lock().is_empty()
    }

    /// (in progress, queued) in `tenant`'s lane, drift checks included.
    pub fn load(&self, tenant: &Reach) -> (usize, usize) {
        self.lanes.lock().get(tenant).map_or((0, 0), |lane| {
            (lane.in_progress, lane.changes.queued.len() + lane.checks.queued.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn resource(name: &str) -> Resource {
        Resource {
            kind: "ConnectionProfile",
            namespace: "team".into(),
            name: name.into(),
        }
    }

    /// Found by review (issue 25): lanes keyed by the tenant as reached were never removed,
    /// so every rotated secret left one behind.
    #[tokio::test(start_paused = true)]
    async fn an_empty_lane_goes_at_the_next_sweep() {
        let (lanes, _woken) = Lanes::new(1, 1, None);
        tokio::spawn(Lanes::sweep(Arc::downgrade(&lanes)));
        let old = Reach::named("old.auth0.com");
        let place = lanes.try_enter(&old, &resource("a"), Purpose::Change).expect("free");
        assert!(
            lanes.try_enter(&old, &resource("b"), Purpose::Change).is_none(),
            "queued"
        );
        tokio::time::sleep(SWEEP * 2).await;
        assert_eq!(lanes.len(), 1, "in use: kept");
        drop(place); // wakes b, which never comes (its pass went to another reach)
        let _other = lanes.try_enter(&Reach::named("new.auth0.com"), &resource("b"), Purpose::Change);
        tokio::time::sleep(SWEEP * 2).await;
        assert_eq!(lanes.load(&old), (0, 0));
        assert_eq!(lanes.len(), 1, "only the lane in use is left");
    }

    #[tokio::test]
    async fn a_full_lane_queues_its_own_tenant_only_and_wakes_in_order() {
        let (lanes, mut woken) = Lanes::new(2, 1, None);
        let a1 = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("a1"), Purpose::Change)
            .expect("free");
        let _a2 = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("a2"), Purpose::Change)
            .expect("free");
        // Tenant a is full: its next resources queue, once each...
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("a3"), Purpose::Change)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("a4"), Purpose::Change)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("a3"), Purpose::Change)
                .is_none()
        );
        assert_eq!(lanes.load(&Reach::named("a.auth0.com")), (2, 2));
        // ...while tenant b's resource gets a place at once.
        assert!(
            lanes
                .try_enter(&Reach::named("b.auth0.com"), &resource("b1"), Purpose::Change)
                .is_some()
        );
        // A place frees: the oldest queued resource is woken, and gets it.
        drop(a1);
        assert_eq!(woken.next().await, Some(resource("a3")));
        let _a3 = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("a3"), Purpose::Change)
            .expect("the freed place");
        assert_eq!(lanes.load(&Reach::named("a.auth0.com")), (2, 1));
    }

    #[tokio::test]
    async fn a_queued_resource_that_gets_a_place_on_another_trigger_is_not_woken_again() {
        let (lanes, mut woken) = Lanes::new(1, 1, None);
        let first = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("first"), Purpose::Change)
            .expect("free");
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("x"), Purpose::Change)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("y"), Purpose::Change)
                .is_none()
        );
        drop(first);
        assert_eq!(woken.next().await, Some(resource("x")));
        let x = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("x"), Purpose::Change)
            .expect("woken");
        // An event of y's own while x runs finds the lane full: y stays queued, once.
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("y"), Purpose::Change)
                .is_none()
        );
        drop(x);
        assert_eq!(woken.next().await, Some(resource("y")), "y once, though queued twice");
        let _y = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("y"), Purpose::Change)
            .expect("woken");
        assert_eq!(lanes.load(&Reach::named("a.auth0.com")), (1, 0));
    }

    #[tokio::test]
    async fn changes_are_woken_before_drift_checks_queued_earlier() {
        let (lanes, mut woken) = Lanes::new(1, 1, None);
        let first = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("first"), Purpose::Change)
            .expect("free");
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("check"), Purpose::DriftCheck)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("change"), Purpose::Change)
                .is_none()
        );
        // A settled resource edited while its drift check waits: queued as a change now.
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("edited"), Purpose::DriftCheck)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("edited"), Purpose::Change)
                .is_none()
        );
        let mut order = Vec::new();
        let mut held = first;
        for _ in 0..3 {
            drop(held);
            let next = woken.next().await.expect("woken");
            held = lanes
                .try_enter(&Reach::named("a.auth0.com"), &next, Purpose::Change)
                .expect("its place");
            order.push(next.name);
        }
        assert_eq!(order, ["change", "edited", "check"]);
    }

    #[tokio::test]
    async fn the_sweep_wakes_a_lane_whose_woken_resource_never_came() {
        let (lanes, mut woken) = Lanes::new(1, 1, None);
        let first = lanes
            .try_enter(&Reach::named("a.auth0.com"), &resource("first"), Purpose::Change)
            .expect("free");
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("gone"), Purpose::Change)
                .is_none()
        );
        assert!(
            lanes
                .try_enter(&Reach::named("a.auth0.com"), &resource("next"), Purpose::Change)
                .is_none()
        );
        drop(first);
        // "gone" was deleted before its pass: it never takes the place.
        assert_eq!(woken.next().await, Some(resource("gone")));
        tokio::spawn(Lanes::sweep(Arc::downgrade(&lanes)));
        let next = tokio::time::timeout(SWEEP * 5, woken.next()).await;
        assert_eq!(next.expect("woken by the sweep"), Some(resource("next")));
    }

    #[test]
    fn a_lane_has_at_least_one_place() {
        assert_eq!(Lanes::new(0, 0, None).0.per_tenant, 1);
    }
}
