//! The four conditions (pure): what a pass found, turned into `Ready`, `Synced`,
//! `Reconciling` and `Stalled` as operator-conventions.md lays them out. A condition keeps its
//! `lastTransitionTime` while its status stays, so an unchanged pass writes nothing.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::crd::conditions::{READY, RECONCILING, STALLED, SYNCED, reason};

/// What a reconcile pass found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The remote matches the spec.
    Available,
    /// A create is in flight (the id is not known yet).
    Creating,
    /// The resource is being deleted.
    Deleting,
    /// The deletion cannot proceed: paused, or a failure. `stalled` when a person must act
    /// (the message says how, `force-orphan` included); `retrying` when it retries with
    /// backoff.
    DeleteBlocked {
        reason: &'static str,
        message: String,
        stalled: bool,
        retrying: bool,
    },
    /// The `paused` annotation stops all writes.
    Paused,
    /// The pass failed. `reason` is a Synced reason (`ReconcileError`, `InvalidSpec`, ...);
    /// `terminal` failures need a person and set `Stalled`; `remote_available` says whether
    /// the profile still exists in Auth0 as last seen.
    Failed {
        reason: &'static str,
        message: String,
        terminal: bool,
        remote_available: bool,
    },
}

/// The conditions for `outcome` at `generation`, reusing each transition time from
/// `previous` while the condition's status is unchanged.
pub fn conditions(previous: &[Condition], generation: i64, outcome: &Outcome, now: &Time) -> Vec<Condition> {
    use Outcome::*;
    let (ready, synced, reconciling, stalled) = match outcome {
        Available => (
            ("True", reason::AVAILABLE, String::new()),
            ("True", reason::RECONCILE_SUCCESS, String::new()),
            ("False", reason::IDLE, String::new()),
            ("False", reason::IDLE, String::new()),
        ),
        Creating => (
            ("False", reason::CREATING, "creating the profile in Auth0".to_string()),
            ("True", reason::RECONCILE_SUCCESS, String::new()),
            ("True", reason::PROGRESSING, "creating the profile in Auth0".to_string()),
            ("False", reason::IDLE, String::new()),
        ),
        Deleting => (
            ("False", reason::DELETING, "deleting the profile from Auth0".to_string()),
            ("True", reason::RECONCILE_SUCCESS, String::new()),
            (
                "True",
                reason::PROGRESSING,
                "deleting the profile from Auth0".to_string(),
            ),
            ("False", reason::IDLE, String::new()),
        ),
        DeleteBlocked {
            reason: why,
            message,
            stalled,
            retrying,
        } => (
            ("False", reason::DELETING, message.clone()),
            ("False", *why, message.clone()),
            if *retrying {
                ("True", reason::PROGRESSING, "retrying with backoff".to_string())
            } else {
                ("False", reason::IDLE, String::new())
            },
            if *stalled {
                ("True", *why, message.clone())
            } else {
                ("False", reason::IDLE, String::new())
            },
        ),
        Paused => (
            (
                "False",
                reason::PAUSED,
                "the auth0.operators.dev/paused annotation stops all writes".to_string(),
            ),
            (
                "False",
                reason::RECONCILE_PAUSED,
                "remove the auth0.operators.dev/paused annotation to resume".to_string(),
            ),
            ("False", reason::IDLE, String::new()),
            ("False", reason::IDLE, String::new()),
        ),
        Failed {
            reason: why,
            message,
            terminal,
            remote_available,
        } => (
            if *remote_available {
                ("True", reason::AVAILABLE, String::new())
            } else {
                ("False", reason::UNAVAILABLE, message.clone())
            },
            ("False", *why, message.clone()),
            if *terminal {
                ("False", reason::IDLE, String::new())
            } else {
                ("True", reason::PROGRESSING, "retrying with backoff".to_string())
            },
            if *terminal {
                ("True", *why, message.clone())
            } else {
                ("False", reason::IDLE, String::new())
            },
        ),
    };
    [
        (READY, ready),
        (SYNCED, synced),
        (RECONCILING, reconciling),
        (STALLED, stalled),
    ]
    .into_iter()
    .map(|(type_, (status, why, message))| {
        let last_transition_time = previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
        Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: why.to_string(),
            message,
            observed_generation: Some(generation),
            last_transition_time,
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).expect("time"))
    }

    fn get<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
        conditions.iter().find(|c| c.type_ == type_).expect("condition present")
    }

    #[test]
    fn every_type_is_set_on_the_first_visit() {
        let set = conditions(&[], 1, &Outcome::Creating, &at(10));
        let types: Vec<&str> = set.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [READY, SYNCED, RECONCILING, STALLED]);
        assert!(
            set.iter()
                .all(|c| c.observed_generation == Some(1) && c.last_transition_time == at(10))
        );
        assert_eq!(get(&set, READY).reason, "Creating");
        assert_eq!(get(&set, RECONCILING).status, "True");
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first = conditions(&[], 1, &Outcome::Available, &at(10));
        let again = conditions(&first, 1, &Outcome::Available, &at(20));
        assert_eq!(first, again, "an unchanged pass must produce identical conditions");
        let failed = Outcome::Failed {
            reason: reason::RECONCILE_ERROR,
            message: "Auth0 answered 503".into(),
            terminal: false,
            remote_available: true,
        };
        let after = conditions(&again, 1, &failed, &at(30));
        assert_eq!(get(&after, READY).last_transition_time, at(10), "Ready stayed True");
        assert_eq!(get(&after, SYNCED).last_transition_time, at(30), "Synced flipped");
        assert_eq!(get(&after, SYNCED).reason, "ReconcileError");
        assert_eq!(get(&after, STALLED).status, "False");
        assert_eq!(get(&after, RECONCILING).status, "True");
    }

    #[test]
    fn terminal_failures_stall() {
        let failed = Outcome::Failed {
            reason: reason::CONFLICT,
            message: "a profile named acme exists that this resource did not create".into(),
            terminal: true,
            remote_available: false,
        };
        let set = conditions(&[], 3, &failed, &at(10));
        assert_eq!(
            (get(&set, STALLED).status.as_str(), get(&set, STALLED).reason.as_str()),
            ("True", "Conflict")
        );
        assert_eq!(
            (get(&set, READY).status.as_str(), get(&set, READY).reason.as_str()),
            ("False", "Unavailable")
        );
        assert_eq!(get(&set, RECONCILING).status, "False");
        assert!(get(&set, SYNCED).message.contains("did not create"));
    }

    #[test]
    fn paused_is_not_ready_and_not_synced() {
        let set = conditions(&[], 1, &Outcome::Paused, &at(10));
        assert_eq!(get(&set, READY).reason, "Paused");
        assert_eq!(get(&set, SYNCED).reason, "ReconcilePaused");
    }
}
