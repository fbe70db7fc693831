//! Running places: how many passes compute and write to the Kubernetes API at once
//! (`--concurrency`), across every tenant, and how a pass gives its place back while it
//! waits for its tenant (issue 15).
//!
//! A pass holds a place from start to end ([`run`]), except while it waits for Auth0: an
//! Auth0 call (its wait for the tenant's rate limit, its token and its answer) and a whole
//! listing of a tenant run inside [`aside`], which lets the place go and
//! takes one again after. So a tenant that is throttled or does not answer holds no place:
//! its passes wait in their tenant's lane (`controller/lanes.rs`) and in their own calls,
//! and the places go to passes with work to do, whatever their tenant. What bounds CPU
//! and API-server load is the places; what keeps a tenant from flooding Auth0 is its lane.
//!
//! Outside [`run`] (the command line, tests of the client) [`aside`] just runs its future.

use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The place one pass holds, and how deep it is in [`aside`] (nested asides give the
/// place back once and take it again once).
struct Held {
    places: Arc<Semaphore>,
    permit: Mutex<(Option<OwnedSemaphorePermit>, usize)>,
}

tokio::task_local! {
    static PASS: Arc<Held>;
}

/// Runs `pass` holding one of `places` (waiting for one first), except inside [`aside`].
pub async fn run<F: Future>(places: Arc<Semaphore>, pass: F) -> F::Output {
    let permit = places.clone().acquire_owned().await.expect("places are never closed");
    let held = Arc::new(Held {
        places,
        permit: Mutex::new((Some(permit), 0)),
    });
    PASS.scope(held, pass).await
}

/// Runs `wait` (a wait for a tenant) without holding a place, then takes a place again.
pub async fn aside<F: Future>(wait: F) -> F::Output {
    let Ok(held) = PASS.try_with(Arc::clone) else {
        return wait.await;
    };
    let depth = Depth::enter(held.clone());
    let output = wait.await;
    if depth.leave() {
        let permit = held
            .places
            .clone()
            .acquire_owned()
            .await
            .expect("places are never closed");
        held.permit.lock().0 = Some(permit);
    }
    output
}

/// One level of [`aside`]: entering the first gives the place back; leaving (or dropping,
/// when the pass is cancelled mid-wait) counts the level out.
struct Depth {
    held: Arc<Held>,
    counted: bool,
}

impl Depth {
    fn enter(held: Arc<Held>) -> Depth {
        {
            let mut permit = held.permit.lock();
            permit.1 += 1;
            if permit.1 == 1 {
                permit.0 = None;
            }
        }
        Depth { held, counted: true }
    }

    /// Counts this level out; true when it was the last (the caller takes a place again).
    fn leave(mut self) -> bool {
        self.counted = false;
        let mut permit = self.held.permit.lock();
        permit.1 -= 1;
        permit.1 == 0
    }
}

impl Drop for Depth {
    fn drop(&mut self) {
        if self.counted {
            self.held.permit.lock().1 -= 1;
        }
    }
}

/// Whether the running pass holds a place now (for tests).
pub fn holds_place() -> bool {
    PASS.try_with(|held| held.permit.lock().0.is_some()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_pass_waiting_aside_leaves_its_place_to_another() {
        let places = Arc::new(Semaphore::new(1));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        // Pass A takes the only place, then waits for its tenant aside.
        let a = tokio::spawn(run(places.clone(), async move {
            assert!(holds_place());
            aside(async {
                assert!(!holds_place(), "no place held while waiting aside");
                released.await.ok();
            })
            .await;
            assert!(holds_place(), "a place again after the wait");
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Pass B runs meanwhile on the place A gave back.
        tokio::time::timeout(Duration::from_secs(1), run(places.clone(), async {}))
            .await
            .expect("B runs while A waits aside");
        release.send(()).ok();
        tokio::time::timeout(Duration::from_secs(1), a)
            .await
            .expect("A finishes")
            .expect("task");
        assert_eq!(places.available_permits(), 1, "every place given back");
    }

    #[tokio::test]
    async fn nested_asides_give_the_place_back_once() {
        let places = Arc::new(Semaphore::new(1));
        run(places.clone(), async {
            aside(async {
                aside(async {}).await;
                assert!(!holds_place(), "the outer aside still waits");
            })
            .await;
            assert!(holds_place());
        })
        .await;
        assert_eq!(places.available_permits(), 1);
    }

    #[tokio::test]
    async fn an_aside_cancelled_mid_wait_is_counted_out() {
        let places = Arc::new(Semaphore::new(1));
        run(places.clone(), async {
            let never = aside(std::future::pending::<()>());
            assert!(tokio::time::timeout(Duration::from_millis(10), never).await.is_err());
            // The cancelled level is counted out: the next aside gives the place back and
            // takes it again, as the first one would have.
            aside(async { assert!(!holds_place()) }).await;
            assert!(holds_place());
        })
        .await;
        assert_eq!(places.available_permits(), 1);
    }

    #[tokio::test]
    async fn outside_a_pass_aside_just_runs() {
        assert_eq!(aside(async { 7 }).await, 7);
        assert!(!holds_place());
    }
}
