//! What the controller remembers between passes, in memory only. Each piece names the fault
//! that made it necessary; none of it is needed for correctness after a restart (the
//! resource's marks and status carry that), only to avoid wasted calls and loops.
//!
//! [`Memory`] owns every per-resource map, and [`Memory::forget`] is the one way a resource
//! leaves them: when its finalizer is let go (`cleanup.rs`), when it vanished under a create
//! (`vanished.rs`), or when it is gone from the watch cache without either (a Delete event,
//! or missing from a fresh listing: [`Memory::retain`]). Their sizes are exported as
//! `auth0_operator_remembered_resources{map}` and stay bounded by the live resources
//! (issue 24: they grew with every deleted resource).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::auth0::retry::Backoff;
use crate::controller::events::Series;

/// A resource, by uid: names can be reused by a new resource, uids cannot.
pub type Uid = String;

/// Everything the process remembers per resource (by uid), with one way out.
pub struct Memory {
    pub failures: Failures,
    pub checked: Checked,
    pub creates: Creates,
    pub stalls: Stalls,
    pub stuck: Stuck,
    pub requests: Requests,
    /// What the watch last showed of each resource that can start a pass.
    pub changes: Changes,
    /// The Events published for each resource, counted on while they repeat
    /// (`controller/events.rs`).
    pub events: Series,
}

impl Memory {
    /// Empty; `backoff` is the per-resource failure backoff.
    pub fn new(backoff: Backoff) -> Self {
        Memory {
            failures: Failures::new(backoff),
            checked: Checked::default(),
            creates: Creates::default(),
            stalls: Stalls::default(),
            stuck: Stuck::default(),
            requests: Requests::default(),
            changes: Changes::default(),
            events: Series::default(),
        }
    }

    /// Forgets everything about `uid`, its record of POSTs included.
    pub fn forget(&self, uid: &str) {
        self.creates.0.lock().remove(uid);
        self.forget_all_but_creates(uid);
    }

    /// Forgets everything about `uid` but its record of POSTs (a POST still waiting for its
    /// answer: its pass cleans up).
    pub fn forget_all_but_creates(&self, uid: &str) {
        self.failures.counts.lock().remove(uid);
        self.checked.0.lock().remove(uid);
        self.stalls.0.lock().remove(uid);
        self.stuck.0.lock().remove(uid);
        self.requests.0.lock().remove(uid);
        self.changes.0.lock().remove(uid);
        self.events.forget(uid);
    }

    /// Forgets every resource `live` does not hold, except a POST still waiting for its
    /// answer: the pass that sent it ends with a 404 and cleans up what it made
    /// (`vanished.rs`), which needs that record. For a fresh listing of the cache, which
    /// delivers no Delete for what was deleted while the watch was down.
    pub fn retain(&self, live: &std::collections::HashSet<Uid>) {
        let keep = |uid: &Uid| live.contains(uid);
        self.failures.counts.lock().retain(|uid, _| keep(uid));
        self.checked.0.lock().retain(|uid, _| keep(uid));
        self.creates
            .0
            .lock()
            .retain(|uid, posted| keep(uid) || posted.answered.is_none());
        self.stalls.0.lock().retain(|uid, _| keep(uid));
        self.stuck.0.lock().retain(|uid, _| keep(uid));
        self.requests.0.lock().retain(|uid, _| keep(uid));
        self.changes.0.lock().retain(|uid, _| keep(uid));
        self.events.0.lock().retain(|uid, _| keep(uid));
    }

    /// How many resources each map holds: `(map, resources)`, for
    /// `auth0_operator_remembered_resources{map}`.
    pub fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("failures", self.failures.counts.lock().len()),
            ("checked", self.checked.0.lock().len()),
            ("creates", self.creates.0.lock().len()),
            ("stalls", self.stalls.0.lock().len()),
            ("stuck", self.stuck.0.lock().len()),
            ("requests", self.requests.0.lock().len()),
            ("changes", self.changes.0.lock().len()),
            ("events", self.events.len()),
        ]
    }
}

/// Per-resource failure counts for exponential backoff with full jitter. kube-runtime has no
/// per-object error backoff (operator-conventions.md, "Backoff per object").
pub struct Failures {
    backoff: Backoff,
    counts: Mutex<HashMap<Uid, u32>>,
}

impl Failures {
    pub fn new(backoff: Backoff) -> Self {
        Failures {
            backoff,
            counts: Mutex::default(),
        }
    }

    /// The wait after one more failure of `uid`; never under 200 ms (a full-jitter draw of 0
    /// would be a hot loop).
    pub fn failed(&self, uid: &str) -> Duration {
        let mut counts = self.counts.lock();
        let count = counts.entry(uid.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        self.backoff
            .delay(*count, None, fastrand::f64())
            .max(Duration::from_millis(200))
    }

    pub fn succeeded(&self, uid: &str) {
        self.counts.lock().remove(uid);
    }
}

/// When each resource was last seen to match Auth0, and what it was seen to match (the
/// [`desired_key`] of its desired body). Our own writes (the status after a create, a Secret
/// or tenant event) cause passes right after one that checked: those need no call, since
/// drift is due only once per poll interval, unless what the resource asks of Auth0 changed
/// without a new generation (a referenced resource's id).
#[derive(Default)]
pub struct Checked(Mutex<HashMap<Uid, (Instant, u64)>>);

impl Checked {
    /// `uid` was seen to match Auth0 now, asking for the body of key `desired`.
    pub fn now(&self, uid: &str, desired: u64) {
        self.0.lock().insert(uid.to_string(), (Instant::now(), desired));
    }

    /// What `uid` was seen to match (its [`desired_key`]) when that was less than `age` ago.
    pub fn within(&self, uid: &str, age: Duration) -> Option<u64> {
        self.0
            .lock()
            .get(uid)
            .filter(|(at, _)| at.elapsed() < age)
            .map(|(_, desired)| *desired)
    }
}

/// A desired body, hashed: what [`Checked`] remembers a resource was seen to match.
pub fn desired_key(desired: &serde_json::Map<String, serde_json::Value>) -> u64 {
    fingerprint(serde_json::Value::Object(desired.clone()).to_string())
}

/// The POSTs this process sent for each resource: the name posted and when the last answer
/// came (or failed). Needed because the watch cache can lag behind our own writes: a pass on
/// a copy that shows neither the create-pending mark nor the recorded id must still know a
/// create may have reached Auth0 (fault suite, an orphan in CI). Kept until the resource is
/// gone, or until Auth0 refused every POST (then none made a profile).
#[derive(Default)]
pub struct Creates(Mutex<HashMap<Uid, Posted>>);

/// One resource's POSTs.
#[derive(Debug, Clone)]
pub struct Posted {
    pub name: String,
    /// `None` while a POST is in flight.
    pub answered: Option<Instant>,
    /// The id Auth0 answered with: the create is certain, nothing is pending.
    pub created: Option<String>,
}

impl Creates {
    pub fn sending(&self, uid: &str, name: &str) {
        self.0.lock().insert(
            uid.to_string(),
            Posted {
                name: name.to_string(),
                answered: None,
                created: None,
            },
        );
    }

    pub fn answered(&self, uid: &str) {
        if let Some(posted) = self.0.lock().get_mut(uid) {
            posted.answered = Some(Instant::now());
        }
    }

    /// Notes the id a POST of `uid` was answered with.
    pub fn created(&self, uid: &str, id: &str) {
        if let Some(posted) = self.0.lock().get_mut(uid) {
            posted.created = Some(id.to_string());
        }
    }

    pub fn get(&self, uid: &str) -> Option<Posted> {
        self.0.lock().get(uid).cloned()
    }

    pub fn forget(&self, uid: &str) {
        self.0.lock().remove(uid);
    }

    /// The record of `uid`'s POSTs, removed.
    pub fn take(&self, uid: &str) -> Option<Posted> {
        self.0.lock().remove(uid)
    }
}

/// Resources whose last pass ended in a terminal failure, with the fingerprint of what that
/// pass read. A pass with the same fingerprint does nothing: without this, a refused create
/// looped (the create-pending mark's write and removal each wake the next pass; 1,347 writes
/// in 20 s against a tenant with a wrong client secret). A change of the resource, its
/// tenant or its Secret changes the fingerprint and re-arms it.
#[derive(Default)]
pub struct Stalls(Mutex<HashMap<Uid, u64>>);

impl Stalls {
    pub fn stalled(&self, uid: &str, fingerprint: u64) {
        self.0.lock().insert(uid.to_string(), fingerprint);
    }

    pub fn is_stalled(&self, uid: &str, fingerprint: u64) -> bool {
        self.0.lock().get(uid) == Some(&fingerprint)
    }

    pub fn clear(&self, uid: &str) {
        self.0.lock().remove(uid);
    }
}

/// PATCHes whose answer still differed from the spec (Auth0 normalized or refused a value
/// without an error), by the [`super::plan::stuck_key`] of the difference. Without this,
/// one server-side normalization the operator does not know of means a PATCH and a
/// `DriftCorrected` Event per resource per poll interval, forever, on the tenant's rate
/// limit.
#[derive(Default)]
pub struct Stuck(Mutex<HashMap<Uid, u64>>);

impl Stuck {
    pub fn stuck(&self, uid: &str, key: u64) {
        self.0.lock().insert(uid.to_string(), key);
    }

    pub fn get(&self, uid: &str) -> Option<u64> {
        self.0.lock().get(uid).copied()
    }

    pub fn forget(&self, uid: &str) {
        self.0.lock().remove(uid);
    }
}

/// What a pass reads that can turn a terminal failure into a success, hashed.
pub fn fingerprint(parts: impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// When this process first saw each resource's current request (its generation and its
/// `reconcile-requested-at`, hashed), noted as the watch delivers it. A name check before a
/// POST needs a listing begun after the user asked for the name, so a profile made before
/// the request (by anyone) is in it. (`creationTimestamp` has whole seconds: a listing begun
/// in the same second could miss a profile made just before the resource, and did in a test.)
#[derive(Default)]
pub struct Requests(Mutex<HashMap<Uid, (u64, Instant)>>);

impl Requests {
    /// When `request` of `uid` was first seen by this process.
    pub fn seen(&self, uid: &str, request: u64) -> Instant {
        let mut seen = self.0.lock();
        let entry = seen.entry(uid.to_string()).or_insert((request, Instant::now()));
        if entry.0 != request {
            *entry = (request, Instant::now());
        }
        entry.1
    }

    pub fn forget(&self, uid: &str) {
        self.0.lock().remove(uid);
    }
}

/// What the watch last delivered of each resource, as far as it can need a pass: its
/// generation, annotations and finalizers, hashed ([`change_key`]). A status write changes
/// none of them, so it starts no pass; an edit of the spec, a pause, `reconcile-requested-at`,
/// a mark and a deletion do.
///
/// This is kube-runtime's `predicate_filter` with one owner: its own cache keeps a deleted
/// resource until an hour has passed without an event for it (its TTL), so 20,000 resources
/// made and deleted within an hour were 20,000 entries, about 8 MiB (issue 24, the churn
/// benchmark); here a resource leaves with everything else [`Memory::forget`] forgets.
#[derive(Default)]
pub struct Changes(Mutex<HashMap<Uid, u64>>);

impl Changes {
    /// Whether `key` differs from what `uid` showed last (true for a resource not seen
    /// before, or forgotten since), noting `key` as what it shows now.
    pub fn changed(&self, uid: &str, key: u64) -> bool {
        self.0.lock().insert(uid.to_string(), key) != Some(key)
    }
}

/// What of a resource can start a pass, hashed: `(generation, annotations, finalizers)`.
pub fn change_key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> u64 {
    fingerprint((&meta.generation, &meta.annotations, &meta.finalizers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_per_resource_and_resets() {
        let failures = Failures::new(Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: u32::MAX,
        });
        for _ in 0..12 {
            failures.failed("a");
        }
        assert!(failures.failed("b") <= Duration::from_secs(1));
        failures.succeeded("a");
        assert!(failures.failed("a") <= Duration::from_secs(1));
    }

    /// A check is remembered with what was asked: a pass asking for another body (a
    /// referenced resource's new id) is not "checked moments ago".
    #[test]
    fn a_check_remembers_what_the_resource_asked_for() {
        let checked = Checked::default();
        let body = |id: &str| {
            serde_json::json!({"name": "portal", "user_attribute_profile_id": id})
                .as_object()
                .cloned()
                .unwrap()
        };
        assert_eq!(checked.within("a", Duration::from_secs(60)), None, "never checked");
        checked.now("a", desired_key(&body("uap_1")));
        assert_eq!(
            checked.within("a", Duration::from_secs(60)),
            Some(desired_key(&body("uap_1")))
        );
        assert_ne!(desired_key(&body("uap_1")), desired_key(&body("uap_2")));
        assert_eq!(checked.within("a", Duration::ZERO), None, "too long ago");
        assert_eq!(checked.within("b", Duration::from_secs(60)), None, "another resource");
    }

    #[test]
    fn a_stall_holds_for_its_fingerprint_only() {
        let stalls = Stalls::default();
        stalls.stalled("a", fingerprint((1, "secret-v1")));
        assert!(stalls.is_stalled("a", fingerprint((1, "secret-v1"))));
        assert!(!stalls.is_stalled("a", fingerprint((1, "secret-v2"))));
        assert!(!stalls.is_stalled("a", fingerprint((2, "secret-v1"))));
        stalls.clear("a");
        assert!(!stalls.is_stalled("a", fingerprint((1, "secret-v1"))));
    }

    #[test]
    fn forget_and_retain_empty_every_map() {
        let memory = Memory::new(Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: u32::MAX,
        });
        let fill = |uid: &str| {
            memory.failures.failed(uid);
            memory.checked.now(uid, 0);
            memory.creates.sending(uid, "n");
            memory.creates.answered(uid);
            memory.stalls.stalled(uid, 1);
            memory.stuck.stuck(uid, 1);
            memory.requests.seen(uid, 1);
            memory.changes.changed(uid, 1);
            memory.events.note(
                uid,
                crate::controller::events::Published {
                    type_: crate::controller::events::EventType::Normal,
                    reason: "Created".into(),
                    name: format!("{uid}.1"),
                    count: 1,
                    last: Instant::now(),
                },
            );
        };
        for uid in ["a", "b", "c"] {
            fill(uid);
        }
        assert!(memory.sizes().iter().all(|(_, n)| *n == 3), "{:?}", memory.sizes());
        memory.forget("a");
        assert!(memory.sizes().iter().all(|(_, n)| *n == 2), "{:?}", memory.sizes());
        // A POST still waiting for its answer outlives a sweep; its pass cleans up.
        memory.creates.sending("c", "n");
        memory.retain(&["b".to_string()].into_iter().collect());
        let sizes: std::collections::BTreeMap<_, _> = memory.sizes().into_iter().collect();
        assert_eq!(sizes["creates"], 2);
        assert!(
            sizes.iter().filter(|(m, _)| **m != "creates").all(|(_, n)| *n == 1),
            "{sizes:?}"
        );
        memory.forget("c");
        memory.forget("b");
        assert!(memory.sizes().iter().all(|(_, n)| *n == 0), "{:?}", memory.sizes());
    }

    #[test]
    fn only_a_change_of_what_can_start_a_pass_is_a_change() {
        let changes = Changes::default();
        let mut meta = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            generation: Some(1),
            ..Default::default()
        };
        assert!(changes.changed("a", change_key(&meta)), "seen first");
        assert!(!changes.changed("a", change_key(&meta)), "the same again");
        assert!(changes.changed("b", change_key(&meta)), "another resource");
        type Edit = fn(&mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta);
        let edits: [Edit; 3] = [
            |m| m.generation = Some(2),
            |m| m.annotations = Some([("auth0.operators.dev/paused".to_string(), "true".to_string())].into()),
            |m| m.finalizers = Some(vec!["auth0.operators.dev/finalizer".to_string()]),
        ];
        for edit in edits {
            edit(&mut meta);
            assert!(changes.changed("a", change_key(&meta)), "{meta:?}");
            assert!(!changes.changed("a", change_key(&meta)), "{meta:?}");
        }
        // What a status write changes is not a change.
        meta.resource_version = Some("99".to_string());
        meta.managed_fields = Some(vec![Default::default()]);
        assert!(!changes.changed("a", change_key(&meta)));
        let memory = Memory::new(Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: u32::MAX,
        });
        assert!(memory.changes.changed("a", change_key(&meta)));
        memory.forget("a");
        assert!(
            memory.changes.changed("a", change_key(&meta)),
            "forgotten: seen first again"
        );
    }

    #[test]
    fn a_new_generation_is_a_new_request() {
        let requests = Requests::default();
        let first = requests.seen("a", 1);
        assert_eq!(requests.seen("a", 1), first);
        std::thread::sleep(Duration::from_millis(2));
        assert!(requests.seen("a", 2) > first);
    }
}
