//! The simulation: a seeded random walk over the real control plane, the Auth0 emulator and
//! two operator replicas with leader election. Each step is one of the things a cluster,
//! a person, Auth0 or the machine can do (`steps.rs`); after the walk the faults stop, the
//! fleet settles, and the invariants are checked (`checks.rs`).
//!
//! - `make test`: the fixed seeds below, `STEPS` steps each.
//! - `make soak` (`AUTH0_SOAK=1`): `SOAK_WALKS` walks of `SOAK_STEPS` steps on fresh seeds.
//! - `AUTH0_WALK_SEED=<n> [AUTH0_WALK_STEPS=<k>]`: replays exactly that walk (the steps are
//!   drawn from the seed alone, before the first one runs); with `AUTH0_WALK_DRY=1` it only
//!   prints the steps.
//!
//! A failure prints its seed, the command that replays it, and every step with what it did.
//! Each walk appends a line to the fault report (`AUTH0_FAULT_REPORT`), which `make test`
//! prints.

#[path = "../common/mod.rs"]
mod common;

#[allow(dead_code)]
#[path = "../faults/churn.rs"]
mod churn;
#[allow(dead_code)]
#[path = "../faults/invariants.rs"]
mod invariants;
#[allow(dead_code)]
#[path = "../faults/kinds.rs"]
mod kinds;

mod apply;
mod checks;
mod found;
mod other_kinds;
mod steps;

use std::io::Write;
use std::time::{Duration, Instant};

use apply::World;
use common::Harness;
use steps::{Step, generate};

/// `make test`'s walks.
const SEEDS: [u64; 3] = [20261201, 424242, 3];
const STEPS: usize = 50;
/// `make soak`'s walks.
const SOAK_WALKS: usize = 4;
const SOAK_STEPS: usize = 300;
/// The pause between two steps, so the operator has something in flight when the next lands.
const GAP: Duration = Duration::from_millis(400);

/// How long the fleet may take to settle once the faults stop: a minute for a few passes
/// each (a pass takes milliseconds, the poll interval is 2 s, a lane is shared by the
/// walk's six resources), plus the longest per-resource backoff the walk can have built up:
/// a resource failing all along backs off 1 s doubling with full jitter, so its next pass
/// comes at most about as long after the faults end as it had been failing (the walk's
/// length, capped at the 5 min backoff cap).
fn settle_bound(walked: Duration) -> Duration {
    Duration::from_secs(60) + walked.min(Duration::from_secs(300))
}

/// Three poll intervals (the harness's `--poll-interval` is 2 s).
const DRIFT_MARGIN: Duration = Duration::from_secs(6);

/// Prints the seed, the replay command and the steps when the walk fails.
struct Trace {
    seed: u64,
    steps: Vec<Step>,
    done: Vec<String>,
    logs: Vec<std::path::PathBuf>,
}

impl Drop for Trace {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for log in &self.logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("----- {} (last 40 lines) -----", log.display());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        eprintln!("----- the walk -----");
        for (i, step) in self.steps.iter().enumerate() {
            let outcome = self.done.get(i).map_or("(not run)", String::as_str);
            eprintln!("{i:>4}. {step:?} -> {outcome}");
        }
        eprintln!(
            "WALK FAILED: AUTH0_WALK_SEED={} AUTH0_WALK_STEPS={} (replay: AUTH0_WALK_SEED={} AUTH0_WALK_STEPS={} \
             cargo run -p testenv -- run -- cargo test --test walk -- --nocapture)",
            self.seed,
            self.steps.len(),
            self.seed,
            self.steps.len()
        );
    }
}

fn report(line: &str) {
    eprintln!("{line}");
    let path = std::env::var_os("AUTH0_FAULT_REPORT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("auth0-fault-report.md"));
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

async fn walk(seed: u64, count: usize) {
    let started = Instant::now();
    let steps = generate(seed, count);
    eprintln!("walk: AUTH0_WALK_SEED={seed} AUTH0_WALK_STEPS={count}");
    let h = Harness::prepare("walk", kinds::scopes()).await;
    h.grant_leases().await;
    let foreign = invariants::seed_foreign(&h, &["foreign-a", "wanted"]).await;
    let mut world = World::new(&h, foreign);
    world.add_other_tenant().await;
    world.seed_foreign_other().await;
    let mut trace = Trace {
        seed,
        steps: steps.clone(),
        done: Vec::new(),
        logs: vec![world.log(0), world.log(1)],
    };
    world.spawn(0);
    world.spawn(1);
    for (i, step) in steps.iter().enumerate() {
        let outcome = world.apply(step).await;
        trace.done.push(outcome);
        tokio::time::sleep(GAP).await;
        world.supervise(&format!("step {i} ({step:?})"));
    }
    let walked = started.elapsed();
    world.stop_faults().await;
    let bound = settle_bound(walked);
    let (profiles, first) = checks::settle(&mut world, bound).await;
    let (_, first_others) = other_kinds::settle(&mut world, bound).await;
    let asked = checks::ask_again_where_a_name_appeared(&world, &profiles).await;
    // Settled by its conditions; now three poll intervals, so that a drift check sees what
    // the dashboard did last (a profile deleted in the walk's last steps), then again.
    tokio::time::sleep(DRIFT_MARGIN).await;
    let (profiles, again) = checks::settle(&mut world, bound).await;
    let (others, again_others) = other_kinds::settle(&mut world, bound).await;
    let settled = first + first_others + DRIFT_MARGIN + again + again_others;
    let summary = checks::check(&world, &profiles, others.uaps.len() + others.ssps.len()).await;
    let others = other_kinds::check(&world, &others).await;
    world.supervise("the checks");
    let restarts = world.starts.iter().sum::<usize>() - 2 - world.lease_exits;
    report(&format!(
        "- **walk, seed {seed}, {count} steps** — {:.0} s — invariants hold: walked in {:.0} s, settled in {:.1} s \
         (bound {:.0} s); {restarts} restarts by the walk, {} exits on losing the Lease; {asked} stalled NotFound asked again \
         (a name appeared); {summary}; {others}",
        started.elapsed().as_secs_f64(),
        walked.as_secs_f64(),
        settled.as_secs_f64(),
        bound.as_secs_f64(),
        world.lease_exits,
    ));
    drop(trace);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_walk() {
    let number = |var: &str| std::env::var(var).ok().map(|v| v.parse::<u64>().expect(var));
    if let Some(seed) = number("AUTH0_WALK_SEED") {
        let count = number("AUTH0_WALK_STEPS").map_or(STEPS, |k| k as usize);
        if std::env::var_os("AUTH0_WALK_DRY").is_some() {
            // Only print the walk, without running it.
            for (i, step) in generate(seed, count).iter().enumerate() {
                eprintln!("{i:>4}. {step:?}");
            }
            return;
        }
        return walk(seed, count).await;
    }
    if std::env::var_os("AUTH0_SOAK").is_some() {
        for _ in 0..SOAK_WALKS {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
                % 1_000_000_007;
            walk(seed, SOAK_STEPS).await;
        }
        return;
    }
    for seed in SEEDS {
        walk(seed, STEPS).await;
    }
}
