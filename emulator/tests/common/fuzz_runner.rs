//! The property-test runner both fuzz suites share (`emulator/tests/fuzz.rs` and the
//! operator's `tests/fuzz.rs`, which includes this file by path): PROPTEST_CASES cases (256
//! by default), or with FUZZ_SECONDS set (`make fuzz` sets 600), fresh random batches until
//! that many seconds have passed; either way it prints how many cases it ran.
#![allow(dead_code)]

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseResult, TestRunner};

/// The FUZZ_SECONDS budget, if any.
pub fn budget() -> Option<Duration> {
    std::env::var("FUZZ_SECONDS")
        .ok()
        .map(|s| Duration::from_secs(s.trim().parse().expect("FUZZ_SECONDS is a whole number of seconds")))
}

/// Runs `test` on values of `strategy`: a fixed number of cases, or batches until the
/// FUZZ_SECONDS deadline. Failing seeds are kept beside `source_file` (the calling test
/// file's `file!()`), in `<name>.proptest-regressions`.
pub fn fuzz<S>(source_file: &'static str, name: &str, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: Debug,
{
    let budget = budget();
    let start = Instant::now();
    let cases = AtomicU64::new(0);
    let counted = |value: S::Value| {
        cases.fetch_add(1, Ordering::Relaxed);
        test(value)
    };
    let mut batches = 0u64;
    loop {
        let config = Config {
            // Config::default() reads PROPTEST_CASES; in a timed run, short batches keep close
            // to the deadline.
            cases: if budget.is_some() { 64 } else { Config::default().cases },
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
            source_file: Some(source_file),
            ..Config::default()
        };
        if let Err(failure) = TestRunner::new(config).run(&strategy, counted) {
            panic!("{name}: {failure}");
        }
        batches += 1;
        match budget {
            Some(budget) if start.elapsed() < budget => continue,
            _ => break,
        }
    }
    eprintln!(
        "fuzz {name}: {} cases in {batches} batches, {:.1} s",
        cases.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
}
