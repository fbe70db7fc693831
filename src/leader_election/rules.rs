//! The election's decisions, pure: when a Lease held by another replica counts as expired,
//! what a taken, renewed or released record holds, and when the leader must stop acting.
//!
//! Every decision is made on this replica's own monotonic clock ([`Instant`]): a standby
//! notes the instant it last saw the Lease's record change and takes the lease
//! `leaseDurationSeconds` after that; the leader stops `renew_deadline` after the instant it
//! sent its last renewal that succeeded. The record's `renewTime` is written for people and
//! compared with no clock, so a replica whose wall clock runs ahead (a `renewTime` an hour in
//! the future) or behind moves nothing. This is client-go's rule (`observedTime`,
//! `RenewDeadline`), for the same reason; kube-lease-manager judged expiry by `renewTime +
//! leaseDurationSeconds` against the local wall clock.
//!
//! The bound, in monotonic time: the old leader acts at most `renew_deadline` after it sent
//! its last successful renewal; a standby saw that renewal no earlier than it was sent, and
//! takes over no earlier than `lease_duration` after it saw it. With `renew_deadline <
//! lease_duration` they never act together unless their clocks' *rates* differ by more than
//! `(lease_duration - renew_deadline) / lease_duration` (a third with the derived timing).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

/// The election's three durations, all derived from `--lease-duration` in client-go's
/// proportions (its defaults are 15 s, 10 s and 2 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a standby waits, after it last saw the Lease's record change, before it takes
    /// the lease (written to the Lease as `leaseDurationSeconds`, whole seconds).
    pub lease_duration: Duration,
    /// How long the leader may act after sending its last renewal that succeeded: 2/3 of the
    /// lease duration. Past it, it stops reconciling.
    pub renew_deadline: Duration,
    /// How often the leader renews, and how often a standby reads the Lease when its watch
    /// brings nothing: 2/15 of the lease duration.
    pub retry_period: Duration,
}

impl Timing {
    /// The timing for a lease of `lease_duration` (15 s gives 15 s, 10 s, 2 s).
    pub fn from_lease_duration(lease_duration: Duration) -> Timing {
        Timing {
            lease_duration,
            renew_deadline: lease_duration * 2 / 3,
            retry_period: lease_duration * 2 / 15,
        }
    }

    /// `lease_duration` in whole seconds, as the Lease holds it.
    pub fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// The Lease's record as this replica last saw it, and the instant (its own monotonic clock)
/// it first saw the record in that form.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The record last read.
    pub spec: LeaseSpec,
    /// When this replica first saw `spec` as it is: the start of the holder's lease in its eyes.
    pub changed_at: Instant,
}

impl Observed {
    /// The observation after reading `spec` at `now`: the instant moves only when the record
    /// differs from the one seen before (any field: holder, times, duration, transitions).
    pub fn after(previous: Option<Observed>, spec: LeaseSpec, now: Instant) -> Observed {
        match previous {
            Some(seen) if seen.spec == spec => seen,
            _ => Observed { spec, changed_at: now },
        }
    }

    /// The holder's identity, if any (an empty one is none: a released lease).
    pub fn holder(&self) -> Option<&str> {
        self.spec.holder_identity.as_deref().filter(|h| !h.is_empty())
    }

    /// When the holder's lease ends in this replica's eyes: `leaseDurationSeconds` (the
    /// holder's own promise; `fallback` when missing or not positive) after `changed_at`.
    pub fn expires_at(&self, fallback: Duration) -> Instant {
        let duration = self
            .spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .filter(|s| *s > 0)
            .map_or(fallback, Duration::from_secs);
        self.changed_at + duration
    }

    /// What a candidate named `identity` does at `now`.
    pub fn verdict(&self, identity: &str, timing: &Timing, now: Instant) -> Verdict {
        match self.holder() {
            None => Verdict::Take,
            Some(holder) if holder == identity => Verdict::Take,
            Some(holder) => {
                let until = self.expires_at(timing.lease_duration);
                if now >= until {
                    Verdict::Take
                } else {
                    Verdict::Wait {
                        holder: holder.to_string(),
                        until,
                    }
                }
            }
        }
    }
}

/// What a candidate does with the record it has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Write itself in as holder: the lease is free, expired, or already its own.
    Take,
    /// Another replica holds it: wait, at the latest until `until`.
    Wait {
        /// The current holder.
        holder: String,
        /// When the holder's lease ends unless the record changes first.
        until: Instant,
    },
}

/// The record that makes `identity` the holder, from the record read (`None` when there is no
/// Lease yet), at wall-clock time `wall_now` (written for people only). A change of holder
/// sets `acquireTime` and counts a transition; `renewTime` is `wall_now`, moved by a
/// microsecond if the previous record holds that very time, so that every renewal changes
/// the record standbys watch.
pub fn taken(previous: Option<&LeaseSpec>, identity: &str, timing: &Timing, wall_now: Timestamp) -> LeaseSpec {
    let previous = previous.cloned().unwrap_or_default();
    let ours = previous.holder_identity.as_deref() == Some(identity);
    let renew_time = changed(wall_now, previous.renew_time.as_ref());
    LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(timing.lease_seconds()),
        acquire_time: if ours {
            previous.acquire_time.clone().or_else(|| Some(renew_time.clone()))
        } else {
            Some(renew_time.clone())
        },
        lease_transitions: if ours || previous.holder_identity.is_none() {
            Some(previous.lease_transitions.unwrap_or(0))
        } else {
            Some(previous.lease_transitions.unwrap_or(0).saturating_add(1))
        },
        renew_time: Some(renew_time),
        ..previous
    }
}

/// The record that hands the lease over: no holder, so a candidate takes it at once; the
/// transition count stays.
pub fn released(previous: &LeaseSpec, wall_now: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        renew_time: Some(changed(wall_now, previous.renew_time.as_ref())),
        ..previous.clone()
    }
}

/// `wall_now` at the Lease's precision (microseconds), or a microsecond later if that is
/// `previous`.
fn changed(wall_now: Timestamp, previous: Option<&MicroTime>) -> MicroTime {
    let now = wall_now.round(k8s_openapi::jiff::Unit::Microsecond).unwrap_or(wall_now);
    if previous.is_some_and(|p| p.0 == now) {
        MicroTime(now.checked_add(SignedDuration::from_micros(1)).unwrap_or(now))
    } else {
        MicroTime(now)
    }
}

/// The leader's side: the instant (its own monotonic clock) it sent the last write that made
/// or kept it the holder and succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tenure {
    renewed_at: Instant,
}

impl Tenure {
    /// Leadership won by a write sent at `sent_at`.
    pub fn won(sent_at: Instant) -> Tenure {
        Tenure { renewed_at: sent_at }
    }

    /// A renewal sent at `sent_at` succeeded.
    pub fn renewed(&mut self, sent_at: Instant) {
        self.renewed_at = self.renewed_at.max(sent_at);
    }

    /// The last instant this replica may act as leader without another successful renewal.
    pub fn deadline(&self, timing: &Timing) -> Instant {
        self.renewed_at + timing.renew_deadline
    }

    /// True once `now` is past the deadline: stop reconciling at once.
    pub fn must_stop(&self, timing: &Timing, now: Instant) -> bool {
        now >= self.deadline(timing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing() -> Timing {
        Timing::from_lease_duration(Duration::from_secs(15))
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).expect("time")
    }

    fn held_by(holder: &str, renewed: Timestamp) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(MicroTime(at(0))),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(3),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn timing_follows_client_go_proportions() {
        let t = timing();
        assert_eq!(
            (t.lease_duration, t.renew_deadline, t.retry_period),
            (Duration::from_secs(15), Duration::from_secs(10), Duration::from_secs(2))
        );
        let short = Timing::from_lease_duration(Duration::from_secs(3));
        assert_eq!(
            (short.renew_deadline, short.retry_period),
            (Duration::from_secs(2), Duration::from_millis(400))
        );
        assert!(short.renew_deadline < short.lease_duration);
    }

    #[test]
    fn a_renew_time_an_hour_ahead_expires_a_lease_duration_after_it_was_seen() {
        // What a replica whose clock ran an hour fast wrote before it died.
        let start = Instant::now();
        let spec = held_by("dead-replica", Timestamp::now() + SignedDuration::from_hours(1));
        let seen = Observed::after(None, spec.clone(), start);
        // Read again and again, unchanged: the clock does not restart.
        let seen = Observed::after(Some(seen), spec.clone(), start + Duration::from_secs(5));
        let seen = Observed::after(Some(seen), spec, start + Duration::from_secs(10));
        assert_eq!(seen.changed_at, start);
        let just_before = start + Duration::from_millis(14_999);
        assert!(matches!(
            seen.verdict("me", &timing(), just_before),
            Verdict::Wait { ref holder, until } if holder == "dead-replica" && until == start + Duration::from_secs(15)
        ));
        assert_eq!(
            seen.verdict("me", &timing(), start + Duration::from_secs(15)),
            Verdict::Take
        );
    }

    #[test]
    fn a_renew_time_far_behind_is_not_expired_when_just_seen() {
        // A leader whose clock runs an hour slow still holds the lease while it renews.
        let start = Instant::now();
        let spec = held_by("slow-leader", Timestamp::now() - SignedDuration::from_hours(1));
        let seen = Observed::after(None, spec, start);
        assert!(matches!(
            seen.verdict("me", &timing(), start + Duration::from_secs(1)),
            Verdict::Wait { .. }
        ));
    }

    #[test]
    fn a_record_that_keeps_changing_never_expires() {
        let start = Instant::now();
        let mut seen: Option<Observed> = None;
        // Renewed every 2 s for ten minutes, whatever the renewTime says (here it even goes
        // backwards: only the change counts).
        for step in 0..300u32 {
            let now = start + Duration::from_secs(2) * step;
            let spec = held_by("leader", at(-i64::from(step)));
            let observed = Observed::after(seen.take(), spec, now);
            assert_eq!(observed.changed_at, now);
            assert!(
                matches!(
                    observed.verdict("me", &timing(), now + Duration::from_millis(1999)),
                    Verdict::Wait { .. }
                ),
                "step {step}"
            );
            seen = Some(observed);
        }
    }

    #[test]
    fn any_field_counts_as_a_change() {
        let start = Instant::now();
        let spec = held_by("leader", at(0));
        let seen = Observed::after(None, spec.clone(), start);
        let later = start + Duration::from_secs(9);
        let changes = [
            LeaseSpec {
                holder_identity: Some("other".into()),
                ..spec.clone()
            },
            LeaseSpec {
                acquire_time: Some(MicroTime(at(1))),
                ..spec.clone()
            },
            LeaseSpec {
                lease_transitions: Some(4),
                ..spec.clone()
            },
            LeaseSpec {
                renew_time: Some(MicroTime(at(2))),
                ..spec.clone()
            },
        ];
        for changed in changes {
            assert_eq!(Observed::after(Some(seen.clone()), changed, later).changed_at, later);
        }
    }

    #[test]
    fn the_holders_own_duration_counts() {
        let start = Instant::now();
        let spec = LeaseSpec {
            lease_duration_seconds: Some(60),
            ..held_by("leader", at(0))
        };
        let seen = Observed::after(None, spec, start);
        assert_eq!(
            seen.expires_at(Duration::from_secs(15)),
            start + Duration::from_secs(60)
        );
        let spec = LeaseSpec {
            lease_duration_seconds: None,
            ..held_by("leader", at(0))
        };
        let seen = Observed::after(None, spec, start);
        assert_eq!(
            seen.expires_at(Duration::from_secs(15)),
            start + Duration::from_secs(15)
        );
    }

    #[test]
    fn a_free_or_own_lease_is_taken_at_once() {
        let start = Instant::now();
        for holder in [None, Some(""), Some("me")] {
            let spec = LeaseSpec {
                holder_identity: holder.map(str::to_string),
                ..held_by("x", at(0))
            };
            let seen = Observed::after(None, spec, start);
            assert_eq!(seen.verdict("me", &timing(), start), Verdict::Take, "{holder:?}");
        }
    }

    #[test]
    fn taking_counts_a_transition_and_renewing_does_not() {
        let t = timing();
        let created = taken(None, "me", &t, at(10));
        assert_eq!(created.holder_identity.as_deref(), Some("me"));
        assert_eq!(created.lease_transitions, Some(0));
        assert_eq!(created.lease_duration_seconds, Some(15));
        assert_eq!(created.acquire_time, Some(MicroTime(at(10))));
        assert_eq!(created.renew_time, Some(MicroTime(at(10))));

        let from_other = taken(Some(&held_by("dead-replica", at(3600))), "me", &t, at(20));
        assert_eq!(from_other.lease_transitions, Some(4));
        assert_eq!(from_other.acquire_time, from_other.renew_time);

        let renewed = taken(Some(&from_other), "me", &t, at(22));
        assert_eq!(renewed.lease_transitions, Some(4));
        assert_eq!(renewed.acquire_time, from_other.acquire_time);
        assert_eq!(renewed.renew_time, Some(MicroTime(at(22))));

        let after_release = taken(Some(&released(&renewed, at(23))), "other", &t, at(24));
        assert_eq!(after_release.lease_transitions, Some(4));
    }

    #[test]
    fn every_renewal_changes_the_record_whatever_the_wall_clock_says() {
        // Standbys count only changes: a renewal at the very microsecond of the last one (a
        // clock stepped back, a coarse clock) must still change it.
        let t = timing();
        let first = taken(None, "me", &t, at(100));
        let second = taken(Some(&first), "me", &t, at(100));
        assert_eq!(
            second.renew_time,
            Some(MicroTime(at(100) + SignedDuration::from_micros(1)))
        );
        assert_ne!(first, second);
        let back = taken(Some(&second), "me", &t, at(50));
        assert_eq!(back.renew_time, Some(MicroTime(at(50))), "the wall clock, as it is");
        assert_ne!(back, second);
        // Below the Lease's precision, the time written is the one the server keeps.
        let fine = taken(None, "me", &t, at(0) + SignedDuration::from_nanos(1_500));
        assert_eq!(fine.renew_time, Some(MicroTime(at(0) + SignedDuration::from_micros(2))));
    }

    #[test]
    fn released_clears_the_holder_and_keeps_the_count() {
        let spec = held_by("me", at(5));
        let free = released(&spec, at(6));
        assert_eq!(free.holder_identity, None);
        assert_eq!(free.lease_transitions, Some(3));
        assert_eq!(free.renew_time, Some(MicroTime(at(6))));
    }

    #[test]
    fn the_leader_stops_a_renew_deadline_after_its_last_successful_renewal() {
        let t = timing();
        let start = Instant::now();
        let mut tenure = Tenure::won(start);
        assert!(!tenure.must_stop(&t, start + Duration::from_millis(9_999)));
        assert!(tenure.must_stop(&t, start + Duration::from_secs(10)));
        // A renewal sent at 8 s succeeded: the deadline moves to 18 s.
        tenure.renewed(start + Duration::from_secs(8));
        assert!(!tenure.must_stop(&t, start + Duration::from_secs(17)));
        assert!(tenure.must_stop(&t, start + Duration::from_secs(18)));
        // A success reported late for an earlier send never moves it back.
        tenure.renewed(start + Duration::from_secs(2));
        assert_eq!(tenure.deadline(&t), start + Duration::from_secs(18));
    }

    #[test]
    fn leader_and_standby_never_overlap_on_equal_clock_rates() {
        // The standby saw the renewal no earlier than it was sent; it takes over a lease
        // duration later, the old leader stopped a renew deadline after sending.
        let t = timing();
        let sent = Instant::now();
        let tenure = Tenure::won(sent);
        let seen = Observed::after(None, held_by("leader", at(0)), sent + Duration::from_millis(1));
        let takeover = seen.expires_at(t.lease_duration);
        assert!(tenure.deadline(&t) < takeover);
        assert_eq!(takeover - tenure.deadline(&t), Duration::from_millis(5_001));
    }
}
