//! What the walk found, each as a named test of its own.

/// Found by the walk (`AUTH0_WALK_SEED=2 AUTH0_WALK_STEPS=100`, 2026-12-07; 2 runs of 2):
/// once the faults stop and the Secret holds the right client secret again, a resource
/// stays `Synced=False Unauthorized` for good (not settled after 124 s).
///
/// Its pass woken by the Secret's fix needs the tenant's listing for a name check and
/// waits for the one another pass is taking (`waiting for the tenant's listing another pass
/// is taking`). That listing began with the old, wrong secret; its token request is
/// refused, and the refusal is handed to every resource that waited (`listing.rs`,
/// `failed` and `take_failure`). The waiter's next pass reports it: `Unauthorized` is
/// terminal, so the resource waits for a change of itself, its tenant or its Secret, and
/// the change that would have mended it (the Secret's fix) is the one that woke the pass
/// now spent. Log of the second run (replica-b, leader):
///
/// ```text
/// 06:56:02.446 w-0 reason=related object updated: Secret creds: waiting for the tenant's listing another pass is taking
/// 06:56:03.212 w-0 reason=unknown: reconcile failed error=Auth0 refused the client credentials: Unauthorized (client id operator-client) terminal=true
/// ```
///
/// A targeted test (a wrong secret, 2 s token answers, the Secret fixed while a listing's
/// token request is in flight) did not reproduce it: the tenant's status, flipping to
/// healthy a moment later, wakes every resource again. In the walk the tenant had been
/// deleted and re-created by the settling, so no such flip came after the handed refusal.
/// The replay is the test until a targeted one is found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "open bug (docs/faults.md, the walk): a listing refused with the old secret strands a resource that waited for it"]
async fn walk_seed_2_a_refusal_handed_from_a_stale_listing_strands_a_resource() {
    crate::walk(2, 100).await;
}
