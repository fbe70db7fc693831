//! A client-side token bucket per tenant that keeps the operator below the tenant's limit,
//! and tightens itself from the `x-ratelimit-*` headers Auth0 sends on every answer.
//! Background work (drift checks) leaves a reserve of tokens for user changes, so a poll
//! over many profiles never delays an edit someone just applied.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::retry::Clock;

/// Who is asking for a request slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A change a person made: creates, updates, deletes, first observations.
    User,
    /// Drift checks and periodic listing.
    Background,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    last: Instant,
    rate: f64,
    /// What the bucket holds at most: the configured burst, or less when Auth0's
    /// `x-ratelimit-limit` said less.
    burst: f64,
    /// The burst the tenant's `spec.rateLimit` asks for.
    configured_burst: f64,
    /// The smallest `x-ratelimit-limit` Auth0 answered with.
    learned_limit: Option<f64>,
    /// Requests sent and not yet answered ([`InFlight`]).
    in_flight: u32,
    /// At most this many in flight (at least one): what Auth0's last answer said remains
    /// (`x-ratelimit-remaining`), else the bucket. Each answer's `remaining` does not count
    /// the requests sent after it and still in flight; with a lane of passes sending at
    /// once, trusting it alone sent more than was left (`make soak`, scenario 6: 3–4
    /// answers 429 after the first burst once passes stopped queueing behind listings).
    window: f64,
    /// When `window` was last set from an answer: an answer without the header for
    /// [`WINDOW_MEMORY`] lets it open to the bucket again (a proxy's answers may lack it).
    window_at: Instant,
}

/// A request counted in flight from its token until it is answered, fails or is dropped.
pub struct InFlight<'a>(&'a TokenBucket);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

/// How often a request held back by the in-flight window looks again (at least; longer
/// when the bucket has no token either).
const WINDOW_POLL: Duration = Duration::from_millis(20);

/// How long Auth0's last `remaining` bounds the requests in flight.
const WINDOW_MEMORY: Duration = Duration::from_secs(2);
/// The longest single wait the bucket asks for (then it looks again).
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// `x` seconds as a wait: 0 for a negative or NaN `x`, at most [`LONGEST_WAIT`] (so no rate,
/// burst or header, however odd, makes a `Duration` that panics or overflows a deadline).
fn seconds(x: f64) -> Duration {
    if x.is_nan() || x <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(x).map_or(LONGEST_WAIT, |d| d.min(LONGEST_WAIT))
}

/// A rate as the bucket uses it: 0.01 to 1,000,000 per second (NaN or infinite: 0.01).
fn sane_rate(rate: f64) -> f64 {
    if rate.is_finite() { rate.clamp(0.01, 1e6) } else { 0.01 }
}

/// The longest a waiting request sleeps before it looks again, so a limit raised meanwhile
/// ([`TokenBucket::set_limit`]) governs it within a second.
const RECHECK: Duration = Duration::from_secs(1);

/// A token bucket: `burst` requests at once, `rate` per second sustained.
#[derive(Debug)]
pub struct TokenBucket {
    state: Mutex<State>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            state: Mutex::new(State {
                tokens: burst,
                last: now,
                rate: sane_rate(rate),
                burst,
                configured_burst: burst,
                learned_limit: None,
                in_flight: 0,
                window: burst,
                window_at: now,
            }),
        }
    }

    /// Takes a token, or says how long until one is free for this priority. Background
    /// requests leave a quarter of the bucket (at least one token) for user changes.
    pub fn try_take(&self, now: Instant, priority: Priority) -> Result<(), Duration> {
        self.take(now, priority, false)
    }

    /// [`Self::try_take`], also held back while the in-flight window is full; `send` counts
    /// the request in flight (the caller holds an [`InFlight`] for it).
    fn take(&self, now: Instant, priority: Priority, send: bool) -> Result<(), Duration> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.tokens = (s.tokens + elapsed * s.rate).min(s.burst);
        s.last = now;
        if now.saturating_duration_since(s.window_at) >= WINDOW_MEMORY {
            s.window = s.burst;
        }
        let reserve = match priority {
            Priority::User => 0.0,
            Priority::Background => (s.burst / 4.0).max(1.0).min(s.burst - 1.0),
        };
        let token_wait = seconds((1.0 + reserve - s.tokens) / s.rate);
        if send && f64::from(s.in_flight) >= s.window.max(1.0) {
            return Err(token_wait.max(WINDOW_POLL));
        }
        if s.tokens >= 1.0 + reserve {
            s.tokens -= 1.0;
            if send {
                s.in_flight += 1;
            }
            Ok(())
        } else {
            Err(token_wait)
        }
    }

    /// Waits for a token and a place in the in-flight window; returns how long it waited,
    /// and the request's place in flight (hold it until the answer is read).
    pub async fn acquire(&self, clock: &dyn Clock, priority: Priority) -> (Duration, InFlight<'_>) {
        (self.wait(clock, priority, true).await, InFlight(self))
    }

    /// Waits for a token only, outside the in-flight window: the token fetch, which a
    /// request holding a place in the window may be waiting for.
    pub async fn acquire_token(&self, clock: &dyn Clock, priority: Priority) -> Duration {
        self.wait(clock, priority, false).await
    }

    async fn wait(&self, clock: &dyn Clock, priority: Priority, send: bool) -> Duration {
        let start = clock.now();
        while let Err(wait) = self.take(clock.now(), priority, send) {
            clock.sleep(wait.min(RECHECK)).await;
        }
        clock.now().saturating_duration_since(start)
    }

    /// Learns from Auth0's headers: a smaller bucket than configured shrinks ours, and
    /// fewer remaining requests than we think we have lowers our count (another client may
    /// share the tenant's budget). `reset_in` is the time until Auth0's next refill.
    pub fn observe(&self, now: Instant, limit: Option<u32>, remaining: Option<u32>, reset_in: Option<Duration>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(limit) = limit.filter(|l| *l > 0) {
            let limit = f64::from(limit);
            s.learned_limit = Some(s.learned_limit.map_or(limit, |l| l.min(limit)));
            s.burst = s.burst.min(limit);
            s.tokens = s.tokens.min(s.burst);
        }
        if let Some(remaining) = remaining {
            let remaining = f64::from(remaining);
            s.window = remaining;
            s.window_at = now;
            if remaining < s.tokens {
                s.tokens = remaining;
                s.last = now;
            }
            // With nothing left, wait for Auth0's own refill rather than our estimate.
            if remaining == 0.0
                && let Some(reset_in) = reset_in
            {
                // Auth0's word, capped: a reset an hour away is as good as any later one.
                s.tokens = -(reset_in.min(LONGEST_WAIT).as_secs_f64() * s.rate);
            }
        }
    }

    /// Applies the tenant's `spec.rateLimit` as it is now: `rate` per second and `burst` from
    /// the next token on, both ways (issue 25: a lowered limit was ignored until a restart).
    /// Tokens earned at the old rate up to `now` are kept, up to the new burst; a burst
    /// Auth0's headers lowered stays lowered. Nothing changes when the limit is the same.
    pub fn set_limit(&self, now: Instant, rate: f64, burst: u32) {
        let rate = sane_rate(rate);
        let burst = f64::from(burst.max(1));
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.rate == rate && s.configured_burst == burst {
            return;
        }
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.tokens = (s.tokens + elapsed * s.rate).min(s.burst);
        s.last = now;
        s.rate = rate;
        s.configured_burst = burst;
        s.burst = s.learned_limit.map_or(burst, |l| burst.min(l));
        s.tokens = s.tokens.min(s.burst);
        s.window = s.window.min(s.burst);
    }

    /// The current (rate, burst), for metrics and tests.
    pub fn settings(&self) -> (f64, f64) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (s.rate, s.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth0::retry::tests::FakeClock;

    #[test]
    fn a_changed_limit_governs_the_next_token_both_ways() {
        let now = Instant::now();
        let bucket = TokenBucket::new(100.0, 100, now);
        bucket.set_limit(now, 0.2, 1);
        assert_eq!(bucket.settings(), (0.2, 1.0));
        assert_eq!(bucket.try_take(now, Priority::User), Ok(()), "one token kept");
        assert_eq!(
            bucket.try_take(now, Priority::User),
            Err(Duration::from_secs(5)),
            "then 0.2 per second"
        );
        let later = now + Duration::from_secs(1);
        bucket.set_limit(later, 100.0, 100);
        // The second at 0.2/s earned 0.2 of a token; at 100/s the next one is 8 ms away.
        let wait = bucket.try_take(later, Priority::User).expect_err("not yet");
        assert!(wait <= Duration::from_millis(8), "{wait:?}");
        assert_eq!(
            bucket.try_take(later + Duration::from_millis(8), Priority::User),
            Ok(())
        );
        // The same limit again changes nothing.
        bucket.set_limit(later, 100.0, 100);
        assert_eq!(bucket.settings(), (100.0, 100.0));
    }

    #[test]
    fn a_burst_auth0_lowered_stays_lowered_when_the_limit_changes() {
        let now = Instant::now();
        let bucket = TokenBucket::new(10.0, 50, now);
        bucket.observe(now, Some(10), None, None);
        bucket.set_limit(now, 20.0, 40);
        assert_eq!(bucket.settings(), (20.0, 10.0));
        bucket.set_limit(now, 20.0, 5);
        assert_eq!(bucket.settings(), (20.0, 5.0));
    }

    #[test]
    fn burst_then_rate() {
        let now = Instant::now();
        let bucket = TokenBucket::new(2.0, 10, now);
        for _ in 0..10 {
            assert_eq!(bucket.try_take(now, Priority::User), Ok(()));
        }
        let wait = bucket.try_take(now, Priority::User).expect_err("empty");
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(
            bucket.try_take(now + Duration::from_millis(500), Priority::User),
            Ok(())
        );
    }

    #[test]
    fn background_work_leaves_a_reserve_for_users() {
        let now = Instant::now();
        let bucket = TokenBucket::new(2.0, 8, now);
        let mut background = 0;
        while bucket.try_take(now, Priority::Background).is_ok() {
            background += 1;
        }
        assert_eq!(background, 6, "a quarter of 8 is kept back");
        assert_eq!(bucket.try_take(now, Priority::User), Ok(()));
        assert_eq!(bucket.try_take(now, Priority::User), Ok(()));
        assert!(bucket.try_take(now, Priority::User).is_err());
    }

    #[test]
    fn headers_tighten_the_bucket() {
        let now = Instant::now();
        let bucket = TokenBucket::new(2.0, 50, now);
        bucket.observe(now, Some(10), Some(3), None);
        assert_eq!(bucket.settings(), (2.0, 10.0));
        for _ in 0..3 {
            assert_eq!(bucket.try_take(now, Priority::User), Ok(()));
        }
        assert!(bucket.try_take(now, Priority::User).is_err());
        bucket.observe(now, Some(10), Some(0), Some(Duration::from_secs(2)));
        let wait = bucket.try_take(now, Priority::User).expect_err("Auth0 said none left");
        assert_eq!(
            wait,
            Duration::from_millis(2500),
            "the 2 s to Auth0's refill, then one token"
        );
    }

    #[tokio::test]
    async fn acquire_waits_on_the_clock() {
        let clock = FakeClock::new();
        let bucket = TokenBucket::new(2.0, 1, clock.now());
        assert_eq!(bucket.acquire(&clock, Priority::User).await.0, Duration::ZERO);
        let waited = bucket.acquire(&clock, Priority::User).await.0;
        assert_eq!(waited, Duration::from_millis(500));
    }

    #[tokio::test]
    async fn no_more_in_flight_than_auth0_said_remain() {
        let clock = FakeClock::new();
        let bucket = TokenBucket::new(100.0, 100, clock.now());
        // Auth0's last answer: 2 left. Plenty of our own tokens, but two requests in flight
        // already spend them: a third waits until one is answered.
        bucket.observe(clock.now(), Some(100), Some(2), None);
        let (_, first) = bucket.acquire(&clock, Priority::User).await;
        let (_, second) = bucket.acquire(&clock, Priority::User).await;
        assert_eq!(bucket.take(clock.now(), Priority::User, true), Err(WINDOW_POLL));
        drop(first);
        // (Our own count of tokens took the 2 as well: the next refills at 100/s.)
        let (waited, _third) = bucket.acquire(&clock, Priority::User).await;
        assert_eq!(waited, Duration::from_millis(10));
        drop(second);
        // Nothing left: one request at a time still goes (its answer tells the refill).
        bucket.observe(clock.now(), Some(100), Some(0), None);
        drop(_third);
        let (_, _only) = bucket.acquire(&clock, Priority::User).await;
        assert_eq!(bucket.take(clock.now(), Priority::User, true), Err(WINDOW_POLL));
        // No answer with the header for a while: the window opens to the bucket again.
        let later = clock.now() + WINDOW_MEMORY;
        assert_eq!(bucket.take(later, Priority::User, true), Ok(()));
    }
}
