//! When to retry (the classifier in [`super::error`] says whether): capped exponential backoff
//! with full jitter; a server hint wins but is clamped; a bounded number of attempts; and a
//! clock that tests replace so they never sleep.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Time, as the client and the controller see it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How long to wait between attempts, and how many to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// No delay is longer than this, hint or not.
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// Auth0 asks clients to back off for up to a few seconds on 429; five attempts over at
    /// most ~1+2+4+8 s (plus hints) ride out a short outage without holding a worker long.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1 for the first). `random` is uniform in
    /// [0, 1): full jitter picks anywhere between zero and the exponential ceiling, so many
    /// clients failing together do not retry together. A server hint replaces the ceiling
    /// and is honoured in full (plus up to 10% jitter), but never beyond `cap`.
    pub fn delay(&self, attempt: u32, hint: Option<Duration>, random: f64) -> Duration {
        let random = random.clamp(0.0, 1.0);
        match hint {
            // Capped first: a hint is the server's word (Retry-After, up to u64::MAX seconds),
            // and adding its jitter to a huge one would overflow.
            Some(hint) => {
                let hint = hint.min(self.cap);
                hint.saturating_add(hint.mul_f64(0.1 * random)).min(self.cap)
            }
            None => {
                let exponent = attempt.saturating_sub(1).min(20);
                let ceiling = self.base.saturating_mul(1u32 << exponent).min(self.cap);
                ceiling.mul_f64(random)
            }
        }
    }

    /// Whether another attempt may follow failed attempt `attempt`.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A clock that jumps forward instead of sleeping, and remembers every sleep.
    #[derive(Clone)]
    pub struct FakeClock {
        pub start: Instant,
        pub slept: Arc<Mutex<Vec<Duration>>>,
    }

    impl FakeClock {
        pub fn new() -> Self {
            FakeClock {
                start: Instant::now(),
                slept: Arc::default(),
            }
        }
        pub fn total(&self) -> Duration {
            self.slept.lock().expect("lock").iter().sum()
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + self.total()
        }
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            self.slept.lock().expect("lock").push(duration);
            Box::pin(std::future::ready(()))
        }
    }

    #[test]
    fn full_jitter_stays_under_a_doubling_capped_ceiling() {
        let backoff = Backoff::default();
        for attempt in 1..=10 {
            let ceiling = Duration::from_millis(500 * (1 << (attempt - 1))).min(backoff.cap);
            assert_eq!(backoff.delay(attempt, None, 0.0), Duration::ZERO);
            assert!(backoff.delay(attempt, None, 0.999) <= ceiling, "attempt {attempt}");
            assert!(
                backoff.delay(attempt, None, 0.999) > ceiling.mul_f64(0.99),
                "attempt {attempt}"
            );
        }
        assert_eq!(
            backoff.delay(40, None, 0.5),
            backoff.cap / 2,
            "no overflow at large attempts"
        );
    }

    #[test]
    fn server_hints_win_but_are_clamped() {
        let backoff = Backoff::default();
        assert_eq!(
            backoff.delay(1, Some(Duration::from_secs(3)), 0.0),
            Duration::from_secs(3)
        );
        assert_eq!(
            backoff.delay(1, Some(Duration::from_secs(3)), 0.5),
            Duration::from_millis(3150)
        );
        assert_eq!(backoff.delay(1, Some(Duration::from_secs(3600)), 0.0), backoff.cap);
        assert_eq!(backoff.delay(1, Some(Duration::MAX), 0.999), backoff.cap);
        assert_eq!(backoff.delay(u32::MAX, None, 1.0), backoff.cap);
    }

    #[test]
    fn attempts_are_bounded() {
        let backoff = Backoff::default();
        assert!(backoff.allows_another(4));
        assert!(!backoff.allows_another(5));
    }

    #[tokio::test]
    async fn the_fake_clock_never_sleeps() {
        let clock = FakeClock::new();
        let before = std::time::Instant::now();
        clock.sleep(Duration::from_secs(3600)).await;
        assert!(before.elapsed() < Duration::from_secs(1));
        assert_eq!(clock.now() - clock.start, Duration::from_secs(3600));
    }
}
