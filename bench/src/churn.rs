//! Scenario `churn` (issue 24, input 4): memory and metrics that must not grow with the
//! resources that came and went. One operator; 10 profiles kept throughout; a warm-up of
//! 50 create/delete cycles; then `--churn-cycles` cycles (20,000 by default), 64 in flight:
//! apply a ConnectionProfile, wait until it is Ready, delete it, wait until it is gone.
//! Every 10th cycle's profile names an Auth0 profile a foreign profile in the emulator
//! already holds: it ends `Synced=False Conflict` without a finalizer and is deleted, so
//! both ways out of the operator's memory run (the finalizer let go, and a Delete event
//! with no finalizer). Resident memory, every `auth0_operator_remembered_resources{map}`
//! series and the `auth0_operator_resources` gauges are read before (after the warm-up) and
//! after the cycles, each once the operator has settled. Figures, not asserts: each row
//! says "flat" or "grew" by the rule in its target column.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth0_operator::crd::ConnectionProfile;
use futures::channel::oneshot;
use futures::{StreamExt, stream};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use testenv::TestEnv;

use super::{Setup, http_get, is_ready};

/// Cycles before the "before" figures: the operator's first token, listing, allocations.
const WARM_UP: usize = 50;
/// Cycles in flight at once: the live resources the cycles keep (besides the kept ones).
const WINDOW: usize = 64;
/// Profiles applied before the warm-up and kept to the end.
const KEPT: usize = 10;
/// Every `CONFLICT_EVERY`th cycle names the foreign profile's name.
const CONFLICT_EVERY: usize = 10;
/// The Auth0 name a foreign profile (made in the emulator's dashboard) holds.
const TAKEN: &str = "churn-taken";
/// How long a cycle waits for each of its two steps before it counts as late.
const STEP_LIMIT: Duration = Duration::from_secs(120);
/// Resident memory counts as flat within this growth (MiB), or within `RSS_FLAT_SHARE`.
const RSS_FLAT_MIB: f64 = 8.0;
const RSS_FLAT_SHARE: f64 = 0.10;
/// The wait before a snapshot: one of the operator's memory sweeps (once a minute), which
/// forget what a pass wrote after its resource's Delete, has run. A leftover entry at most
/// as many as the live resources would otherwise pass for settled.
const SWEEP_WAIT: Duration = Duration::from_secs(65);
/// The longest wait for the operator to settle before a snapshot: two of its memory sweeps.
const SETTLE_LIMIT: Duration = Duration::from_secs(150);
/// The per-resource maps the operator exports, in its order.
const MAPS: [&str; 7] = [
    "failures", "checked", "creates", "stalls", "stuck", "requests", "changes",
];

/// What the watch last showed of a profile.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Phase {
    Pending,
    /// Ready, or `Synced=False Conflict`; whether it held the operator's finalizer then.
    Settled {
        conflict: bool,
        finalizer: bool,
    },
    Gone,
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    Settled,
    Gone,
}

/// The profiles' phases from one watch, and the cycles waiting for one.
#[derive(Default)]
struct Tracker {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    phases: HashMap<String, Phase>,
    waiters: HashMap<String, (Want, oneshot::Sender<Phase>)>,
    /// Names listed since the watch (re)started, until it has listed them all.
    relisted: HashSet<String>,
}

impl Tracker {
    fn seen(&self, profile: &ConnectionProfile) {
        let Some(name) = profile.metadata.name.clone() else {
            return;
        };
        let conflict = profile.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.status == "False" && c.reason == "Conflict")
        });
        let phase = if is_ready(profile) || conflict {
            Phase::Settled {
                conflict,
                finalizer: !profile.metadata.finalizers.as_deref().unwrap_or_default().is_empty(),
            }
        } else {
            Phase::Pending
        };
        self.set(name, phase);
    }

    fn set(&self, name: String, phase: Phase) {
        let mut inner = self.inner.lock().expect("tracker");
        let phase = match (inner.phases.get(&name), phase) {
            // Settled stays settled (the deletion's own writes come after it) until gone.
            (Some(settled @ Phase::Settled { .. }), Phase::Pending) => *settled,
            _ => phase,
        };
        let fire = match inner.waiters.get(&name) {
            Some((Want::Settled, _)) => phase != Phase::Pending,
            Some((Want::Gone, _)) => phase == Phase::Gone,
            None => false,
        };
        if fire {
            let (want, sender) = inner.waiters.remove(&name).expect("waiter");
            let _ = sender.send(phase);
            if want == Want::Gone {
                inner.phases.remove(&name);
                return;
            }
        }
        inner.phases.insert(name, phase);
    }

    /// The phase `name` reached, once it is settled (or gone) or gone; `None` after
    /// `STEP_LIMIT`.
    async fn wait(&self, name: &str, want: Want) -> Option<Phase> {
        let receiver = {
            let mut inner = self.inner.lock().expect("tracker");
            match (inner.phases.get(name).copied(), want) {
                (Some(Phase::Gone), Want::Gone) => {
                    inner.phases.remove(name);
                    return Some(Phase::Gone);
                }
                (Some(phase @ (Phase::Settled { .. } | Phase::Gone)), Want::Settled) => return Some(phase),
                _ => {}
            }
            let (sender, receiver) = oneshot::channel();
            inner.waiters.insert(name.to_string(), (want, sender));
            receiver
        };
        tokio::time::timeout(STEP_LIMIT, receiver).await.ok()?.ok()
    }

    /// Follows the namespace's profiles until the task is aborted.
    fn follow(self: &Arc<Self>, api: Api<ConnectionProfile>) -> tokio::task::JoinHandle<()> {
        let tracker = self.clone();
        tokio::spawn(async move {
            let mut events = watcher(api, watcher::Config::default()).default_backoff().boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(watcher::Event::Apply(p)) => tracker.seen(&p),
                    Ok(watcher::Event::Delete(p)) => {
                        if let Some(name) = p.metadata.name {
                            tracker.set(name, Phase::Gone);
                        }
                    }
                    Ok(watcher::Event::Init) => tracker.inner.lock().expect("tracker").relisted.clear(),
                    Ok(watcher::Event::InitApply(p)) => {
                        if let Some(name) = p.metadata.name.clone() {
                            tracker.inner.lock().expect("tracker").relisted.insert(name);
                        }
                        tracker.seen(&p);
                    }
                    Ok(watcher::Event::InitDone) => {
                        // Deleted while the watch was down: no Delete event came.
                        let missing: Vec<String> = {
                            let inner = tracker.inner.lock().expect("tracker");
                            inner
                                .phases
                                .keys()
                                .filter(|n| !inner.relisted.contains(*n))
                                .cloned()
                                .collect()
                        };
                        for name in missing {
                            tracker.set(name, Phase::Gone);
                        }
                    }
                    Err(e) => eprintln!("churn: watch: {e}"),
                }
            }
        })
    }
}

/// How the cycles went.
#[derive(Default)]
struct Tally {
    cycles: usize,
    conflict_cycles: usize,
    /// Conflict cycles whose profile ended `Synced=False Conflict` with no finalizer.
    conflict_without_finalizer: usize,
    /// Cycles that did not end as meant: not Ready (or not Conflict), with a finalizer on
    /// a Conflict, not settled or not gone within `STEP_LIMIT`, or an API call that failed.
    odd: usize,
    /// Resident memory (MiB) at each progress mark.
    rss: Vec<f64>,
}

/// One cycle: apply `{prefix}-{i}`, wait until it settles, delete it, wait until it is gone.
async fn cycle(api: &Api<ConnectionProfile>, tracker: &Tracker, prefix: &str, i: usize) -> Tally {
    let taken = i % CONFLICT_EVERY == CONFLICT_EVERY - 1;
    let name = format!("{prefix}-{i:06}");
    let mut tally = Tally {
        cycles: 1,
        conflict_cycles: usize::from(taken),
        ..Tally::default()
    };
    let object = profile(&name, taken);
    let mut applied = false;
    for attempt in 0..5u32 {
        match api
            .patch(&name, &PatchParams::apply("bench"), &Patch::Apply(&object))
            .await
        {
            Ok(_) => {
                applied = true;
                break;
            }
            Err(e) if attempt == 4 => eprintln!("churn: apply {name}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200 << attempt)).await,
        }
    }
    if !applied {
        tally.odd += 1;
        return tally;
    }
    match tracker.wait(&name, Want::Settled).await {
        Some(Phase::Settled {
            conflict: true,
            finalizer: false,
        }) if taken => tally.conflict_without_finalizer += 1,
        Some(Phase::Settled { conflict: false, .. }) if !taken => {}
        other => {
            eprintln!("churn: {name}: {other:?}");
            tally.odd += 1;
        }
    }
    let mut deleted = false;
    for attempt in 0..5u32 {
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {
                deleted = true;
                break;
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                deleted = true;
                break;
            }
            Err(e) if attempt == 4 => eprintln!("churn: delete {name}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200 << attempt)).await,
        }
    }
    if !deleted || tracker.wait(&name, Want::Gone).await.is_none() {
        eprintln!("churn: {name} not gone");
        tally.odd += 1;
    }
    tally
}

fn profile(name: &str, taken: bool) -> Value {
    let mut spec = json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"],
                          "connectionNamePrefixTemplate": "b-{org_id}-"});
    if taken {
        spec["name"] = json!(TAKEN);
    }
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
           "metadata": {"name": name}, "spec": spec})
}

/// Runs cycles `range` of `prefix`, `WINDOW` at once; prints progress `marks` times.
async fn cycles(setup: &Setup, tracker: &Tracker, prefix: &str, range: std::ops::Range<usize>, marks: usize) -> Tally {
    let api = setup.profiles();
    let total = range.len();
    let every = total.div_ceil(marks.max(1)).max(1);
    let started = Instant::now();
    let mut done = Tally::default();
    let mut results = stream::iter(range)
        .map(|i| {
            let api = api.clone();
            async move { cycle(&api, tracker, prefix, i).await }
        })
        .buffer_unordered(WINDOW);
    while let Some(t) = results.next().await {
        done.cycles += t.cycles;
        done.conflict_cycles += t.conflict_cycles;
        done.conflict_without_finalizer += t.conflict_without_finalizer;
        done.odd += t.odd;
        if marks > 0 && (done.cycles % every == 0 || done.cycles == total) {
            let (rss, _) = setup.memory();
            done.rss.push(rss);
            let maps = scrape(setup.metrics_port).maps;
            println!(
                "churn: {}/{total} cycles in {:.1} s, {rss:.1} MiB resident, maps {:?}",
                done.cycles,
                started.elapsed().as_secs_f64(),
                maps.iter().map(|(m, n)| format!("{m}={n}")).collect::<Vec<_>>()
            );
        }
    }
    done
}

/// The operator's per-resource figures at one scrape.
#[derive(Default, Debug)]
struct Scrape {
    /// `remembered_resources` by map, in `MAPS` order, then any other the operator exports.
    maps: Vec<(String, i64)>,
    /// `resources` by ready: true, false, unknown.
    resources: [i64; 3],
}

fn scrape(port: u16) -> Scrape {
    let body = http_get(port, "/metrics").unwrap_or_default();
    let mut scrape = Scrape::default();
    let mut maps: HashMap<String, i64> = HashMap::new();
    for line in body.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let label = |key: &str| {
            let start = series.find(&format!("{key}=\""))? + key.len() + 2;
            let end = series[start..].find('"')? + start;
            Some(series[start..end].to_string())
        };
        if series.starts_with("auth0_operator_remembered_resources{") {
            if let Some(map) = label("map") {
                maps.insert(map, value as i64);
            }
        } else if series.starts_with("auth0_operator_resources{") {
            // Summed over the kinds (`kind` label).
            match label("ready").as_deref() {
                Some("true") => scrape.resources[0] += value as i64,
                Some("false") => scrape.resources[1] += value as i64,
                Some("unknown") => scrape.resources[2] += value as i64,
                _ => {}
            }
        }
    }
    for map in MAPS {
        if let Some(n) = maps.remove(map) {
            scrape.maps.push((map.to_string(), n));
        }
    }
    let mut others: Vec<_> = maps.into_iter().collect();
    others.sort();
    scrape.maps.extend(others);
    scrape
}

/// The figures once the operator has settled.
struct Snapshot {
    rss: f64,
    peak: f64,
    /// Anonymous resident memory (MiB): RSS without the binary's file-backed pages.
    anon: f64,
    scrape: Scrape,
    /// ConnectionProfiles in the namespace, from a listing.
    cluster: usize,
    /// How long the operator took to settle (`None`: not within `SETTLE_LIMIT`).
    settled: Option<Duration>,
}

/// Waits until the gauges count the cluster's profiles and every map holds at most those
/// (at most `SETTLE_LIMIT`), then 3 s more, and reads the figures; never before `SWEEP_WAIT`.
async fn settle(setup: &Setup) -> Snapshot {
    let started = Instant::now();
    tokio::time::sleep(SWEEP_WAIT).await;
    let api = setup.profiles();
    let count = async || api.list(&ListParams::default()).await.map_or(0, |l| l.items.len());
    let settled = loop {
        let cluster = count().await;
        let scrape = scrape(setup.metrics_port);
        let counted: i64 = scrape.resources.iter().sum();
        if !scrape.maps.is_empty() && counted == cluster as i64 && scrape.maps.iter().all(|(_, n)| *n <= cluster as i64)
        {
            break Some(started.elapsed());
        }
        if started.elapsed() > SETTLE_LIMIT {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss, peak) = setup.memory();
    Snapshot {
        rss,
        peak,
        anon: setup.anonymous_memory(),
        scrape: scrape(setup.metrics_port),
        cluster: count().await,
        settled,
    }
}

/// Runs the scenario; returns its rows (what, figure, target).
pub async fn run(env: &TestEnv, churn_cycles: usize) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    // Printed by the caller's `row`.
    let mut row = |what: String, figure: String, target: String| rows.push((what, figure, target));
    // No rate limit on the emulator, 1,000/s on the Auth0Tenant; no drift check during
    // the run (poll interval 10 min): creates and deletes only.
    let setup = Setup::new(env, "bench-churn", None, Duration::from_secs(600)).await;
    let admin = format!("/tenants/{}/profiles", setup.domain);
    let port = setup.emulator.admin_addr().port();
    let body = json!({"name": TAKEN}).to_string();
    let answer = http_post(port, &admin, &body).expect("the foreign profile");
    assert!(answer.starts_with("HTTP/1.1 2"), "the foreign profile: {answer}");
    let tracker = Arc::new(Tracker::default());
    let follower = tracker.follow(setup.profiles());
    setup.create("keep", KEPT).await;
    setup.wait_ready(KEPT, Duration::from_secs(120)).await;

    let warm = cycles(&setup, &tracker, "w", 0..WARM_UP, 0).await;
    let before = settle(&setup).await;
    println!(
        "churn: before {:?}, {} in the cluster, settled {:?}",
        before.scrape, before.cluster, before.settled
    );
    let started = Instant::now();
    let churned = cycles(&setup, &tracker, "c", 0..churn_cycles, 20).await;
    let took = started.elapsed();
    let after = settle(&setup).await;
    println!(
        "churn: after {:?}, {} in the cluster, settled {:?}",
        after.scrape, after.cluster, after.settled
    );
    follower.abort();
    let remote = setup.emulator.profiles(&setup.domain).map_or(0, |p| p.len());

    row(
        format!(
            "Churn: {churn_cycles} create/delete cycles, {WINDOW} in flight, {KEPT} profiles kept, every {CONFLICT_EVERY}th a name a foreign profile holds"
        ),
        format!(
            "{:.1} s ({:.1} cycles/s); {} Conflict cycles, {} of them without a finalizer; {} cycles odd (of the {WARM_UP} warm-up: {})",
            took.as_secs_f64(),
            churned.cycles as f64 / took.as_secs_f64(),
            churned.conflict_cycles,
            churned.conflict_without_finalizer,
            churned.odd,
            warm.odd
        ),
        "- (odd: not Ready, or not Conflict without a finalizer, or not gone within 120 s: 0)".into(),
    );
    let grown = after.rss - before.rss;
    let flat = grown <= RSS_FLAT_MIB.max(before.rss * RSS_FLAT_SHARE);
    row(
        "Churn: operator resident memory before, after (after the warm-up, after the cycles)".into(),
        format!(
            "{:.1} MiB, {:.1} MiB ({grown:+.1} MiB, {:+.1}%; peak {:.1} MiB): {}",
            before.rss,
            after.rss,
            grown / before.rss * 100.0,
            after.peak,
            if flat { "flat" } else { "grew" }
        ),
        format!(
            "flat: grows by at most {RSS_FLAT_MIB} MiB or {:.0}%, whichever is more",
            RSS_FLAT_SHARE * 100.0
        ),
    );
    let grown_anon = after.anon - before.anon;
    let flat_anon = grown_anon <= RSS_FLAT_MIB.max(before.anon * RSS_FLAT_SHARE);
    row(
        "Churn: operator anonymous resident memory (RssAnon: heap, stacks, allocator; without the binary's pages, RssFile) before, after".into(),
        format!(
            "{:.1} MiB, {:.1} MiB ({grown_anon:+.1} MiB); file-backed {:.1} MiB, {:.1} MiB: {}",
            before.anon,
            after.anon,
            before.rss - before.anon,
            after.rss - after.anon,
            if flat_anon { "flat" } else { "grew" }
        ),
        format!(
            "flat: grows by at most {RSS_FLAT_MIB} MiB or {:.0}%, whichever is more",
            RSS_FLAT_SHARE * 100.0
        ),
    );
    row(
        "Churn: operator resident memory at each 5% of the cycles".into(),
        format!(
            "{} MiB",
            churned
                .rss
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "-".into(),
    );
    let live = after.cluster as i64;
    let mut names: Vec<&String> = after.scrape.maps.iter().map(|(m, _)| m).collect();
    for (m, _) in &before.scrape.maps {
        if !names.contains(&m) {
            names.push(m);
        }
    }
    for map in names {
        let read = |s: &Snapshot| s.scrape.maps.iter().find(|(m, _)| m == map).map(|(_, n)| *n);
        let (b, a) = (read(&before), read(&after));
        let word = match (b, a) {
            (_, None) => "not exported".to_string(),
            (Some(b), Some(a)) if a > b => format!("grew (+{})", a - b),
            (None, Some(a)) if a > 0 => "grew".to_string(),
            (_, Some(a)) if a > live => format!("flat, above the {live} live resources"),
            _ => "flat".to_string(),
        };
        let show = |n: Option<i64>| n.map_or("-".into(), |n| n.to_string());
        row(
            format!("Churn: remembered_resources{{map=\"{map}\"}} before, after"),
            format!("{}, {}: {word}", show(b), show(a)),
            format!("flat: after at most before, and at most the {live} live resources"),
        );
    }
    let [t, f, u] = after.scrape.resources;
    let counted = t + f + u;
    row(
        "Churn: resources gauge after, ConnectionProfiles in the cluster after".into(),
        format!(
            "{counted} (ready true {t}, false {f}, unknown {u}), {}: {}{}",
            after.cluster,
            if counted == live { "equal" } else { "differ" },
            match (before.settled, after.settled) {
                (Some(b), Some(a)) => format!(
                    " (settled {:.1} s after the warm-up, {:.1} s after the cycles, each at least {} s: a memory sweep)",
                    b.as_secs_f64(),
                    a.as_secs_f64(),
                    SWEEP_WAIT.as_secs()
                ),
                _ => format!(" (not settled within {} s)", SETTLE_LIMIT.as_secs()),
            }
        ),
        "equal".into(),
    );
    row(
        "Churn: Auth0 profiles left after".into(),
        format!("{remote}"),
        format!("{} (the {KEPT} kept and the foreign one)", KEPT + 1),
    );
    rows
}

/// POSTs `body` as JSON to 127.0.0.1:`port`; the whole answer, head included.
fn http_post(port: u16, path: &str, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
