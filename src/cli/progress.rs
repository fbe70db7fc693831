//! Progress on stderr for long commands: silent for the first second, then one line per
//! step at most every second.

use std::time::{Duration, Instant};

/// Reports `what` with a count, once the work has taken more than a second.
pub struct Progress {
    started: Instant,
    last: Option<Instant>,
    what: &'static str,
}

impl Progress {
    pub fn new(what: &'static str) -> Progress {
        Progress {
            started: Instant::now(),
            last: None,
            what,
        }
    }

    /// `done` so far (of `total` when known); prints only after the first second, then at
    /// most once a second.
    pub fn step(&mut self, done: usize, total: Option<usize>) {
        let now = Instant::now();
        if now.duration_since(self.started) < Duration::from_secs(1)
            || self
                .last
                .is_some_and(|l| now.duration_since(l) < Duration::from_secs(1))
        {
            return;
        }
        self.last = Some(now);
        match total {
            Some(total) => eprintln!(
                "{} {done}/{total} ({:.0?})",
                self.what,
                now.duration_since(self.started)
            ),
            None => eprintln!("{} {done} ({:.0?})", self.what, now.duration_since(self.started)),
        }
    }
}
