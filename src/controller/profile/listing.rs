//! A tenant's profiles as one listing saw them, shared by every resource of the tenant:
//! drift checks (ceil(N/10) calls per interval instead of one GET per resource) and
//! look-ups by name (Auth0 has none), overlaid with this process's own writes since.
//!
//! One pass at a time takes a tenant's next listing; the latest stays readable meanwhile. A
//! look-up by name that needs a newer listing than the latest while another pass is taking
//! one does not wait for it: its pass ends (no write, no Auth0 call) and the resource is
//! queued in its tenant's lane as a change when that listing ends ([`Listings::named`]).
//! Waiting would hold a lane place for the whole listing (100 pages at 1,000 profiles,
//! 5–10 s when Auth0 fails one answer in five): `make soak` found a fleet of 1,000 under
//! churn moving at 16 passes per listing, and a resource with no first pass after 300 s.
//! And the latest listing is read without the lock, or a resource woken by a listing would
//! find the next one already being taken (by a drift check) and wait again, and again.
//!
//! The pass that takes a name check's listing first waits for the burst of applies it
//! belongs to (`GATHER_QUIET`), so one listing serves the burst.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use crate::auth0::client::Reach;
use crate::auth0::ratelimit::Priority;
use crate::auth0::{Auth0Client, Auth0Error};
use crate::controller::lanes::{Lanes, Resource};
use crate::crd::kind::Auth0Api;

/// How long the pass taking a name check's listing waits for other resources' name checks
/// to share it: until none came for `GATHER_QUIET`, at most `GATHER_AT_MOST` in all
/// ([`Listings::gather`]). A burst of applies (`kubectl apply -f dir/`, an Argo CD sync)
/// reaches the operator over some hundred milliseconds, and a listing serves only the
/// requests delivered before it began: without the wait, the rate-limited bench's 200
/// applies (delivered over 330 ms) took 6–10 one-page listings, each half a second of the
/// tenant's budget of 2 calls/s; with it, one. A lone create pays `GATHER_QUIET`.
const GATHER_QUIET: Duration = Duration::from_millis(100);
const GATHER_AT_MOST: Duration = Duration::from_secs(1);

/// One listing of a tenant.
struct Snapshot {
    /// When the listing's first page was asked for (after its wait for the tenant's rate
    /// limit, not before it): every write answered before then is in it, and every pass
    /// whose request the watch delivered before then can use it. Under a rate limit the
    /// wait is most of a listing's time, so the passes that arrive during it share it
    /// (the rate-limited bench's name checks: 12 listings for 200 creates before).
    began: Instant,
    /// When it ended: the age a drift check compares with its interval.
    taken: Instant,
    by_id: HashMap<String, Value>,
}

impl Snapshot {
    async fn take(api: &Auth0Api, client: &Auth0Client, priority: Priority) -> Result<Snapshot, Auth0Error> {
        // The whole listing waits for the tenant: it gives its running place back once,
        // not between pages (which would queue each page behind every tenant's passes
        // while the right to take the tenant's listing is held).
        let listing = crate::places::aside(client.list_items(api, priority, |_| {})).await?;
        let by_id = listing
            .profiles
            .into_iter()
            .filter_map(|p| Some((p.get("id")?.as_str()?.to_string(), p)))
            .collect();
        Ok(Snapshot {
            began: listing.began,
            taken: Instant::now(),
            by_id,
        })
    }
}

/// One of our own writes: when it was answered, and the profile after it (`None`: deleted).
type Written = (Instant, Option<Value>);

/// A tenant's latest listing, readable while the next is being taken, and the lock of the
/// pass taking it.
#[derive(Default)]
struct Tenant {
    /// Read and replaced under [`Listings::written`]'s lock too ([`Listings::read`]).
    latest: Mutex<Option<Snapshot>>,
    /// Resources that waited for a listing that failed, with its error: each gets it once
    /// (its pass reports it and backs off) instead of listing again at once, so a tenant
    /// that fails every listing is listed about once per backoff, not back to back; after
    /// that the resource lists for itself. Cleared by a listing that succeeds.
    failed: Mutex<HashMap<Resource, (Auth0Error, Credentials)>>,
    taking: tokio::sync::Mutex<()>,
}

/// Which credentials and endpoint a listing was taken with, hashed: a failure is handed
/// only to a waiter whose client has the same (the walk found a resource stranded for good:
/// it waited for a listing begun with the old client secret, was handed its refusal after
/// the Secret was fixed, and stalled on `Unauthorized` keyed by the new secret).
type Credentials = u64;

fn credentials(client: &Auth0Client) -> Credentials {
    let config = client.tenant();
    super::memory::fingerprint((
        config.base_url.as_str(),
        &config.client_id,
        config.client_secret.expose(),
    ))
}

/// How long a tenant's listing is kept after the last pass that used it.
const LISTING_IDLE: Duration = Duration::from_secs(3600);

/// Every tenant's latest listing, our writes since, and the resources waiting for a newer
/// listing.
pub struct Listings {
    /// Each tenant as reached, with when a pass last used it: one unused for
    /// [`LISTING_IDLE`] goes, its listing with it (a rotated secret or a re-pointed tenant
    /// leaves its old reach behind; the next pass that needs it lists again).
    tenants: Mutex<HashMap<Reach, (Arc<Tenant>, Instant)>>,
    /// By tenant (as reached) and id.
    written: Mutex<HashMap<(Reach, String), Written>>,
    /// By tenant (as reached): resources whose look-up by name needed a newer listing while
    /// another pass was taking one. Queued in their lane when that pass lets go.
    waiting: Mutex<HashMap<Reach, HashSet<Resource>>>,
    /// Where waiting resources are queued (as changes) when a listing ends.
    lanes: Arc<Lanes>,
    /// The kind's API these listings list.
    api: &'static Auth0Api,
}

/// The right to take a tenant's next listing, held by one pass; letting it go (the listing
/// ended or failed, or the pass was cancelled) queues every resource that waited meanwhile.
struct Taking<'a> {
    guard: Option<tokio::sync::MutexGuard<'a, ()>>,
    listings: &'a Listings,
    reach: &'a Reach,
}

impl Drop for Taking<'_> {
    fn drop(&mut self) {
        // Let go first: a resource that found it taken registers, then tries once more, so
        // it is either queued here or finds it free.
        self.guard.take();
        let waiting = self.listings.waiting.lock().remove(self.reach);
        if let Some(waiting) = waiting {
            self.listings.lanes.queue_changes(self.reach, waiting);
        }
    }
}

impl Listings {
    /// No listing yet; resources waiting for one are queued in `lanes`.
    pub fn new(api: &'static Auth0Api, lanes: Arc<Lanes>) -> Self {
        Listings {
            api,
            tenants: Mutex::default(),
            written: Mutex::default(),
            waiting: Mutex::default(),
            lanes,
        }
    }

    fn tenant(&self, reach: &Reach) -> Arc<Tenant> {
        let now = Instant::now();
        let mut gone = Vec::new();
        let tenant = {
            let mut tenants = self.tenants.lock();
            let tenant = {
                let entry = tenants.entry(reach.clone()).or_insert_with(|| (Arc::default(), now));
                entry.1 = now;
                entry.0.clone()
            };
            tenants.retain(|other, (kept, used)| {
                let keep = other == reach
                    || Arc::strong_count(kept) > 1
                    || now.saturating_duration_since(*used) < LISTING_IDLE;
                if !keep {
                    gone.push(other.clone());
                }
                keep
            });
            tenant
        };
        if !gone.is_empty() {
            self.written.lock().retain(|(r, _), _| !gone.contains(r));
        }
        tenant
    }

    /// How many tenants (as reached) have a listing kept, for tests.
    pub fn kept(&self) -> usize {
        self.tenants.lock().len()
    }

    /// The right to take `reach`'s next listing, or, when another pass has it, `None`
    /// after noting that `resource` waits (it is queued when that pass lets go).
    fn take_or_wait<'a>(&'a self, reach: &'a Reach, tenant: &'a Tenant, resource: &Resource) -> Option<Taking<'a>> {
        let guard = match tenant.taking.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                self.waiting
                    .lock()
                    .entry(reach.clone())
                    .or_default()
                    .insert(resource.clone());
                // Let go between the two tries: nobody would queue this resource. (Queued
                // all the same when the next pass lets go: one spare pass, no call.)
                tenant.taking.try_lock().ok()?
            }
        };
        Some(Taking {
            guard: Some(guard),
            listings: self,
            reach,
        })
    }

    /// Takes `reach`'s next listing (the caller holds [`Taking`]) and makes it the latest.
    async fn refresh(&self, client: &Auth0Client, tenant: &Tenant, priority: Priority) -> Result<(), Auth0Error> {
        let reach = client.reach();
        let taken = match Snapshot::take(self.api, client, priority).await {
            Ok(taken) => taken,
            Err(e) => {
                self.failed(reach, tenant, &e, credentials(client));
                return Err(e);
            }
        };
        tenant.failed.lock().clear();
        let before = {
            // One lock with the reads ([`Self::read`]): a reader of the listing before must
            // not see our writes after it dropped (this one shows them, that one does not).
            let mut written = self.written.lock();
            written.retain(|(d, _), (at, _)| d != reach || *at >= taken.began);
            tenant.latest.lock().replace(taken)
        };
        // Freed outside the lock every tenant's writes share.
        drop(before);
        Ok(())
    }

    /// Waits while resources keep registering for `reach`'s next listing (the caller holds
    /// [`Taking`]): until a period of `quiet` passes with none registering (so `quiet` to
    /// twice `quiet` after the last), at most `at_most` in all.
    ///
    /// Only passes that run can register: arrivals queued behind a full lane do not prolong
    /// the wait. They need not: a listing serves every request delivered before it began,
    /// registered or not.
    async fn gather(&self, reach: &Reach, quiet: Duration, at_most: Duration) {
        // Tokio's clock (the system's outside tests), so a test can run it paused.
        use tokio::time::Instant;
        let waiting = || self.waiting.lock().get(reach).map_or(0, HashSet::len);
        let deadline = Instant::now() + at_most;
        let mut seen = waiting();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(quiet.min(left)).await;
            let now = waiting();
            if now == seen {
                return;
            }
            seen = now;
        }
    }

    /// Hands the error of a failed listing of `reach` to every resource waiting for it.
    fn failed(&self, reach: &Reach, tenant: &Tenant, error: &Auth0Error, with: Credentials) {
        let waiting = self.waiting.lock().get(reach).cloned().unwrap_or_default();
        tenant
            .failed
            .lock()
            .extend(waiting.into_iter().map(|r| (r, (error.clone(), with))));
    }

    /// Its error once, for a resource that waited for a listing that failed, when that
    /// listing was taken with the credentials the resource's client has now (`with`); a
    /// failure of other credentials is dropped, and the resource lists for itself.
    fn take_failure(tenant: &Tenant, resource: &Resource, with: Credentials) -> Option<Auth0Error> {
        tenant
            .failed
            .lock()
            .remove(resource)
            .and_then(|(error, taken_with)| (taken_with == with).then_some(error))
    }

    /// `read` of the tenant's latest listing and our writes since it began, if that listing
    /// is `usable`.
    fn read<T>(
        &self,
        tenant: &Tenant,
        usable: impl Fn(&Snapshot) -> bool,
        read: impl FnOnce(&Snapshot, &HashMap<(Reach, String), Written>) -> T,
    ) -> Option<T> {
        let written = self.written.lock();
        let latest = tenant.latest.lock();
        let snapshot = latest.as_ref().filter(|s| usable(s))?;
        Some(read(snapshot, &written))
    }

    /// The profile `id` as the tenant's latest listing saw it (with our writes since),
    /// listing again when that listing is older than `max_age`: the drift check.
    ///
    /// `None` when that listing is too old and another pass is taking the next: a drift
    /// check does not wait, since it would hold a place in its tenant's lane as long as the
    /// listing takes (with 1,000 profiles and a 5xx in five answers, 10–20 s), and settled
    /// resources would crowd out those with work to do (`make soak` found it).
    pub async fn drift_view(
        &self,
        client: &Auth0Client,
        id: &str,
        max_age: Duration,
    ) -> Result<Option<Option<Value>>, Auth0Error> {
        let reach = client.reach();
        let tenant = self.tenant(reach);
        let fresh = |s: &Snapshot| s.taken.elapsed() < max_age;
        let by_id = |s: &Snapshot, written: &HashMap<(Reach, String), Written>| match written
            .get(&(reach.clone(), id.to_string()))
        {
            Some((at, remote)) if *at >= s.began => remote.clone(),
            _ => s.by_id.get(id).cloned(),
        };
        if let Some(remote) = self.read(&tenant, fresh, by_id) {
            return Ok(Some(remote));
        }
        let Ok(guard) = tenant.taking.try_lock() else {
            return Ok(None);
        };
        let _taking = Taking {
            guard: Some(guard),
            listings: self,
            reach,
        };
        if let Some(remote) = self.read(&tenant, fresh, by_id) {
            return Ok(Some(remote));
        }
        self.refresh(client, &tenant, Priority::Background).await?;
        // Ours since it was taken: no other pass takes one while we hold `_taking`.
        Ok(self.read(&tenant, |_| true, by_id))
    }

    /// The tenant's profiles named `name`, from a listing begun after `since` (so every
    /// profile made before then is in it) and our writes since that listing. The tenant's
    /// resources share listings: after a restart hundreds of them may look up an
    /// interrupted create at once, and a listing costs ceil(N/10) calls (N² calls in all
    /// when each listed for itself; the fault suite's soak run found it).
    ///
    /// `Ok(None)` when the latest listing began before `since` and another pass is taking
    /// the next: `resource` is queued in its lane as a change when that pass lets go, and
    /// its next pass looks again (served by that listing if it began after `since`, else
    /// taking the next).
    pub async fn named(
        &self,
        client: &Auth0Client,
        name: &str,
        since: Instant,
        resource: &Resource,
    ) -> Result<Option<Vec<Value>>, Auth0Error> {
        let reach = client.reach();
        let tenant = self.tenant(reach);
        let fresh = |s: &Snapshot| s.began >= since;
        let with_name = |s: &Snapshot, written: &HashMap<(Reach, String), Written>| with_name(reach, s, written, name);
        if let Some(found) = self.read(&tenant, fresh, with_name) {
            return Ok(Some(found));
        }
        if let Some(e) = Self::take_failure(&tenant, resource, credentials(client)) {
            return Err(e);
        }
        let Some(_taking) = self.take_or_wait(reach, &tenant, resource) else {
            return Ok(None);
        };
        if let Some(found) = self.read(&tenant, fresh, with_name) {
            return Ok(Some(found));
        }
        // One aside for both: the running place is not taken back between them.
        crate::places::aside(async {
            self.gather(reach, GATHER_QUIET, GATHER_AT_MOST).await;
            self.refresh(client, &tenant, Priority::User).await
        })
        .await?;
        // Ours, begun after `since`: no other pass takes one while we hold `_taking`.
        Ok(self.read(&tenant, |_| true, with_name))
    }

    /// Notes a write of our own, so a drift check does not "correct" a change we just made
    /// from a listing that began before it, and a name check sees a profile we just made.
    pub fn remember(&self, reach: &Reach, id: &str, remote: Option<&Value>) {
        self.written
            .lock()
            .insert((reach.clone(), id.to_string()), (Instant::now(), remote.cloned()));
    }
}

/// The profiles named `name` in `snapshot`, overlaid with our writes since it began.
fn with_name(
    reach: &Reach,
    snapshot: &Snapshot,
    written: &HashMap<(Reach, String), Written>,
    name: &str,
) -> Vec<Value> {
    let newer = |id: &str| {
        written
            .get(&(reach.clone(), id.to_string()))
            .filter(|(at, _)| *at >= snapshot.began)
    };
    // In the form Auth0 may keep it in (`auth0/names.rs`): a create that posted
    // `HB07-Mixed-Case` finds the profile a normalizing tenant keeps as `hb07-mixed-case`.
    let has_name = |p: &Value| {
        p.get("name")
            .and_then(Value::as_str)
            .is_some_and(|stored| crate::auth0::names::same(stored, name))
    };
    let mut found: Vec<Value> = snapshot
        .by_id
        .iter()
        .filter_map(|(id, listed)| match newer(id) {
            Some((_, after)) => after.as_ref().filter(|p| has_name(p)).cloned(),
            None => has_name(listed).then(|| listed.clone()),
        })
        .collect();
    found.extend(
        written
            .iter()
            .filter(|((d, id), (at, _))| d == reach && *at >= snapshot.began && !snapshot.by_id.contains_key(id))
            .filter_map(|(_, (_, after))| after.as_ref().filter(|p| has_name(p)).cloned()),
    );
    found
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

    #[tokio::test]
    async fn a_look_up_that_finds_the_listing_taken_ends_and_is_queued_when_it_is_let_go() {
        let (lanes, mut woken) = Lanes::new(4, 1, None);
        let listings = Listings::new(&crate::crd::CONNECTION_PROFILES, lanes.clone());
        let reach = &Reach::named("a.auth0.com");
        let tenant = listings.tenant(reach);
        let taking = listings.take_or_wait(reach, &tenant, &resource("taker")).expect("free");
        // Two passes find it taken: they do not wait, and are not queued yet.
        assert!(listings.take_or_wait(reach, &tenant, &resource("w1")).is_none());
        assert!(listings.take_or_wait(reach, &tenant, &resource("w2")).is_none());
        assert!(listings.take_or_wait(reach, &tenant, &resource("w1")).is_none());
        assert_eq!(lanes.load(reach), (0, 0));
        // The taker lets go (its listing ended, failed, or its pass was cancelled): both
        // are queued as changes, once each, and woken (the lane has free places).
        drop(taking);
        let mut got = vec![woken.next().await.expect("woken"), woken.next().await.expect("woken")];
        got.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(got, vec![resource("w1"), resource("w2")]);
        // Nobody waits any more: the next hold lets go without queueing anyone.
        drop(listings.take_or_wait(reach, &tenant, &resource("w1")).expect("free"));
        assert!(futures::poll!(woken.next()).is_pending());
    }

    #[tokio::test]
    async fn waiting_resources_are_queued_behind_changes_and_ahead_of_drift_checks() {
        use crate::controller::lanes::Purpose;
        let (lanes, mut woken) = Lanes::new(1, 1, None);
        let listings = Listings::new(&crate::crd::CONNECTION_PROFILES, lanes.clone());
        let reach = &Reach::named("a.auth0.com");
        let tenant = listings.tenant(reach);
        // The lane's one place is the taker's; a drift check and a change queue behind it.
        let place = lanes
            .try_enter(reach, &resource("taker"), Purpose::Change)
            .expect("free");
        assert!(
            lanes
                .try_enter(reach, &resource("check"), Purpose::DriftCheck)
                .is_none()
        );
        assert!(lanes.try_enter(reach, &resource("change"), Purpose::Change).is_none());
        let taking = listings.take_or_wait(reach, &tenant, &resource("taker")).expect("free");
        assert!(listings.take_or_wait(reach, &tenant, &resource("waiter")).is_none());
        drop(taking);
        assert_eq!(lanes.load(reach), (1, 3));
        drop(place);
        assert_eq!(woken.next().await, Some(resource("change")));
        let change = lanes
            .try_enter(reach, &resource("change"), Purpose::Change)
            .expect("freed");
        drop(change);
        assert_eq!(woken.next().await, Some(resource("waiter")));
    }

    /// The pass taking a name check's listing waits while other resources register for it,
    /// `quiet` after the last, at most `at_most` in all; a lone one waits `quiet` once.
    #[tokio::test(start_paused = true)]
    async fn a_name_checks_listing_waits_while_resources_keep_registering() {
        use tokio::time::{Instant, sleep};
        let (quiet, at_most) = (Duration::from_millis(100), Duration::from_secs(1));
        let (lanes, _woken) = Lanes::new(4, 1, None);
        let listings = Arc::new(Listings::new(&crate::crd::CONNECTION_PROFILES, lanes));
        let reach = &Reach::named("a.auth0.com");
        let tenant = listings.tenant(reach);
        let taking = listings.take_or_wait(reach, &tenant, &resource("taker")).expect("free");
        let started = Instant::now();
        listings.gather(reach, quiet, at_most).await;
        assert_eq!(started.elapsed(), quiet, "nobody registered: one quiet period");

        // Ten arrivals 60 ms apart: it waits for the last, then one quiet period.
        let arrivals = |prefix: &'static str, count: usize, every: Duration| {
            let (listings, tenant, reach) = (listings.clone(), tenant.clone(), reach.clone());
            tokio::spawn(async move {
                for i in 0..count {
                    sleep(every).await;
                    assert!(
                        listings
                            .take_or_wait(&reach, &tenant, &resource(&format!("{prefix}-{i}")))
                            .is_none()
                    );
                }
            })
        };
        let started = Instant::now();
        let burst = arrivals("burst", 10, Duration::from_millis(60));
        listings.gather(reach, quiet, at_most).await;
        burst.await.expect("arrivals");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(700) && waited <= Duration::from_millis(800),
            "{waited:?}: the last came at 600 ms"
        );

        // Arrivals that never stop: it lists after `at_most` all the same.
        let started = Instant::now();
        let endless = arrivals("endless", 1000, Duration::from_millis(50));
        listings.gather(reach, quiet, at_most).await;
        assert_eq!(started.elapsed(), at_most);
        endless.abort();
        drop(taking);
    }

    #[tokio::test]
    async fn a_failed_listing_answers_each_resource_that_waited_for_it_once() {
        let (lanes, mut woken) = Lanes::new(4, 1, None);
        let listings = Listings::new(&crate::crd::CONNECTION_PROFILES, lanes);
        let reach = &Reach::named("a.auth0.com");
        let tenant = listings.tenant(reach);
        let taking = listings.take_or_wait(reach, &tenant, &resource("taker")).expect("free");
        assert!(listings.take_or_wait(reach, &tenant, &resource("waiter")).is_none());
        let error = Auth0Error::Transport {
            message: "timed out".into(),
            timeout: true,
        };
        listings.failed(reach, &tenant, &error, 1);
        drop(taking);
        assert_eq!(woken.next().await, Some(resource("waiter")));
        // Its next pass reports the listing's error (and backs off) instead of listing...
        assert_eq!(
            Listings::take_failure(&tenant, &resource("waiter"), 1),
            Some(error.clone())
        );
        // ...once: the pass after that lists for itself.
        assert_eq!(Listings::take_failure(&tenant, &resource("waiter"), 1), None);
        // The taker got the error from its own call, not from here.
        assert_eq!(Listings::take_failure(&tenant, &resource("taker"), 1), None);
        // A fixed Secret never meets the error of a listing made with the old one.
        let taking = listings.take_or_wait(reach, &tenant, &resource("taker")).expect("free");
        assert!(listings.take_or_wait(reach, &tenant, &resource("late")).is_none());
        listings.failed(reach, &tenant, &error, 1);
        drop(taking);
        assert_eq!(Listings::take_failure(&tenant, &resource("late"), 2), None);
        assert_eq!(
            Listings::take_failure(&tenant, &resource("late"), 1),
            None,
            "dropped, not kept"
        );
    }
}
