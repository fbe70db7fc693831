//! One lane per Auth0 tenant: at most `--tenant-concurrency` passes of a tenant's resources
//! are in progress at once, and a pass waits for a lane place only behind passes of its own
//! tenant (issue 15). Of the passes in progress, at most `--concurrency` run at once across
//! tenants; a pass waiting for Auth0 gives that place back (`places.rs`).
//!
//! The controller itself has no worker limit; these are the limits. Before, 16 workers
//! served every tenant, and passes waiting for one tenant's rate limiter (or for a tenant
//! that never answers) held all of them: a backlog of 300 creates on a tenant limited to
//! 2 requests/s kept another tenant's change waiting 157 s. Now such a pass holds a place
//! in its own tenant's lane only. A pass waiting for a lane place is a small future (its
//! work is boxed after it gets one), so a backlog of thousands costs little memory.
//!
//! Places are given in the order asked for (tokio's semaphore is fair), so a tenant's
//! backlog drains in order; within a tenant user changes still go before drift checks,
//! as the token bucket's reserve and the shared listing's `try_lock` decided before.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Every tenant's lane, by tenant domain (two tenant resources for one domain share its
/// rate limit, so they share a lane).
pub struct Lanes {
    per_tenant: usize,
    lanes: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// The running places shared by every tenant (`places.rs`).
    pub running: Arc<Semaphore>,
}

impl Lanes {
    /// Lanes of `per_tenant` places each (`--tenant-concurrency`), and `running` places
    /// across them (`--concurrency`); at least 1 of each.
    pub fn new(per_tenant: usize, running: usize) -> Self {
        Lanes {
            per_tenant: per_tenant.max(1),
            lanes: Mutex::default(),
            running: Arc::new(Semaphore::new(running.max(1))),
        }
    }

    /// A place in `domain`'s lane, waiting for one when the lane is full. Held for the
    /// whole pass (its Auth0 calls and its writes to the API server).
    pub async fn enter(&self, domain: &str) -> OwnedSemaphorePermit {
        let lane = self
            .lanes
            .lock()
            .entry(domain.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        // The semaphore is never closed.
        lane.acquire_owned().await.expect("lane semaphores are never closed")
    }

    /// Places taken in `domain`'s lane.
    pub fn busy(&self, domain: &str) -> usize {
        self.lanes
            .lock()
            .get(domain)
            .map_or(0, |lane| self.per_tenant - lane.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_lane_holds_its_own_tenant_only() {
        let lanes = Arc::new(Lanes::new(2, 1));
        let a1 = lanes.enter("a.auth0.com").await;
        let _a2 = lanes.enter("a.auth0.com").await;
        assert_eq!(lanes.busy("a.auth0.com"), 2);
        // Tenant a is full: a third pass of a waits...
        let waiting = tokio::spawn({
            let lanes = lanes.clone();
            async move { lanes.enter("a.auth0.com").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a's third pass waits for a place in a's lane");
        // ...while tenant b's pass gets its place at once.
        let b = tokio::time::timeout(Duration::from_secs(1), lanes.enter("b.auth0.com")).await;
        assert!(b.is_ok(), "b does not wait for a");
        drop(a1);
        let _place = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("a place freed in a's lane goes to the waiting pass")
            .expect("task");
    }

    #[test]
    fn a_lane_has_at_least_one_place() {
        assert_eq!(Lanes::new(0, 0).per_tenant, 1);
    }
}
