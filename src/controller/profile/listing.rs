//! A tenant's profiles as one listing saw them, shared by every resource of the tenant:
//! drift checks (ceil(N/10) calls per interval instead of one GET per resource) and
//! look-ups by name (Auth0 has none), overlaid with this process's own writes since.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use crate::auth0::ratelimit::Priority;
use crate::auth0::{Auth0Client, Auth0Error};

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
    async fn take(client: &Auth0Client, priority: Priority) -> Result<Snapshot, Auth0Error> {
        // The whole listing waits for the tenant: it gives its running place back once,
        // not between pages (which would queue each page behind every tenant's passes
        // while the tenant's listing lock is held).
        let listing = crate::places::aside(client.list_reporting(priority, |_| {})).await?;
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

/// Every tenant's latest listing and our writes since.
#[derive(Default)]
pub struct Listings {
    snapshots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Snapshot>>>>>,
    /// By tenant domain and id.
    written: Mutex<HashMap<(String, String), Written>>,
}

impl Listings {
    fn slot(&self, domain: &str) -> Arc<tokio::sync::Mutex<Option<Snapshot>>> {
        self.snapshots.lock().entry(domain.to_string()).or_default().clone()
    }

    /// Drops the writes a new listing of `domain` shows.
    fn settle_writes(&self, domain: &str, began: Instant) {
        self.written
            .lock()
            .retain(|(d, _), (at, _)| d != domain || *at >= began);
    }

    /// The profile `id` as the tenant's latest listing saw it (with our writes since),
    /// listing again when that listing is older than `max_age`: the drift check.
    ///
    /// `None` when another pass holds the listing (taking it, or a look-up by name): a drift
    /// check does not wait, since it would hold one of the controller's slots as long as the
    /// listing takes (with 1,000 profiles and a 5xx in five answers, 10–20 s), and settled
    /// resources would crowd out those with work to do (`make soak` found it).
    pub async fn drift_view(
        &self,
        client: &Auth0Client,
        id: &str,
        max_age: Duration,
    ) -> Result<Option<Option<Value>>, Auth0Error> {
        let domain = &client.tenant().domain;
        let slot = self.slot(domain);
        let Ok(mut snapshot) = slot.try_lock() else {
            return Ok(None);
        };
        if snapshot.as_ref().is_none_or(|s| s.taken.elapsed() >= max_age) {
            let taken = Snapshot::take(client, Priority::Background).await?;
            self.settle_writes(domain, taken.began);
            *snapshot = Some(taken);
        }
        let Some(snapshot) = snapshot.as_ref() else {
            return Ok(Some(None));
        };
        let written = self.written.lock();
        Ok(Some(match written.get(&(domain.clone(), id.to_string())) {
            Some((at, remote)) if *at >= snapshot.began => remote.clone(),
            _ => snapshot.by_id.get(id).cloned(),
        }))
    }

    /// The tenant's profiles named `name`, from a listing begun after `since` (so every
    /// profile made before then is in it) and our writes since that listing. The tenant's
    /// resources share listings: after a restart hundreds of them may look up an
    /// interrupted create at once, and a listing costs ceil(N/10) calls (N² calls in all
    /// when each listed for itself; the fault suite's soak run found it).
    pub async fn named(&self, client: &Auth0Client, name: &str, since: Instant) -> Result<Vec<Value>, Auth0Error> {
        let domain = &client.tenant().domain;
        let slot = self.slot(domain);
        // Waiting for another pass's listing of the tenant is waiting for the tenant.
        let mut snapshot = crate::places::aside(slot.lock()).await;
        if snapshot.as_ref().is_none_or(|s| s.began < since) {
            let taken = Snapshot::take(client, Priority::User).await?;
            self.settle_writes(domain, taken.began);
            *snapshot = Some(taken);
        }
        let Some(snapshot) = snapshot.as_ref() else {
            return Ok(Vec::new());
        };
        let written = self.written.lock();
        let newer = |id: &str| {
            written
                .get(&(domain.clone(), id.to_string()))
                .filter(|(at, _)| *at >= snapshot.began)
        };
        let has_name = |p: &Value| p.get("name").and_then(Value::as_str) == Some(name);
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
                .filter(|((d, id), (at, _))| d == domain && *at >= snapshot.began && !snapshot.by_id.contains_key(id))
                .filter_map(|(_, (_, after))| after.as_ref().filter(|p| has_name(p)).cloned()),
        );
        Ok(found)
    }

    /// Notes a write of our own, so a drift check does not "correct" a change we just made
    /// from a listing that began before it, and a name check sees a profile we just made.
    pub fn remember(&self, domain: &str, id: &str, remote: Option<&Value>) {
        self.written
            .lock()
            .insert((domain.to_string(), id.to_string()), (Instant::now(), remote.cloned()));
    }
}
