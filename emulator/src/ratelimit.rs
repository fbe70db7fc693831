//! A tenant-wide token bucket and the `x-ratelimit-*` figures it reports.

use std::time::Instant;

use crate::config::RateLimitConfig;

/// What one request did to the bucket, for the answer's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Bucket size (`x-ratelimit-limit`).
    pub limit: u64,
    /// Whole tokens left after this request (`x-ratelimit-remaining`).
    pub remaining: u64,
    /// Unix seconds of the next refill (`x-ratelimit-reset`).
    pub reset: u64,
}

/// Without a configured bucket the emulator reports an inexhaustible one.
pub const UNLIMITED: u64 = u32::MAX as u64;

#[derive(Debug, Clone)]
pub struct Bucket {
    config: RateLimitConfig,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    pub fn new(config: RateLimitConfig, now: Instant) -> Self {
        Self {
            config,
            tokens: f64::from(config.burst),
            updated: now,
        }
    }

    pub fn config(&self) -> RateLimitConfig {
        self.config
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.config.per_second).min(f64::from(self.config.burst));
        self.updated = now;
    }

    /// Takes one token if there is one. `unix_now` is the wall clock matching `now`.
    pub fn take(&mut self, now: Instant, unix_now: f64) -> Decision {
        self.refill(now);
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let burst = f64::from(self.config.burst);
        let until_next = if self.tokens >= burst {
            0.0
        } else {
            (self.tokens.floor() + 1.0 - self.tokens) / self.config.per_second
        };
        Decision {
            allowed,
            limit: u64::from(self.config.burst),
            remaining: self.tokens.floor() as u64,
            reset: (unix_now + until_next).ceil() as u64,
        }
    }
}

pub fn unlimited(unix_now: f64) -> Decision {
    Decision {
        allowed: true,
        limit: UNLIMITED,
        remaining: UNLIMITED,
        reset: unix_now.ceil() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_at_the_configured_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(
            RateLimitConfig {
                burst: 3,
                per_second: 2.0,
            },
            start,
        );
        let decisions: Vec<Decision> = (0..4).map(|_| bucket.take(start, 1000.0)).collect();
        assert_eq!(
            decisions.iter().map(|d| d.allowed).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(decisions.iter().map(|d| d.remaining).collect::<Vec<_>>(), [2, 1, 0, 0]);
        assert!(decisions.iter().all(|d| d.limit == 3));
        // Empty bucket at 2/s: the next token comes in 0.5 s, so the reset rounds up to 1001.
        assert_eq!(decisions[3].reset, 1001);
        let later = bucket.take(start + Duration::from_millis(500), 1000.5);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
        let full = Bucket::new(
            RateLimitConfig {
                burst: 3,
                per_second: 2.0,
            },
            start,
        )
        .take(start + Duration::from_secs(60), 1060.0);
        assert_eq!(full.remaining, 2);
    }
}
