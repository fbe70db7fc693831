//! Kubernetes Events (`events.k8s.io/v1`) about the operator's resources: one Event per
//! resource, reason and type, and a repeat within [`SERIES_WINDOW`] counted on it as a series
//! (`series.count`, `series.lastObservedTime`) rather than a new object, as client-go's
//! event recorder does.
//!
//! Why not kube-runtime's `events::Recorder`: it keeps every Event it published in the last
//! six minutes in one process-wide map, pruned only when the next Event is published, whose
//! table never shrinks. Under churn (issue 24: 20,000 create/delete cycles) that cache held
//! 47 of the 57 MB the heap grew by (heaptrack). Here each resource's series are part of what
//! the process remembers of it ([`Series`], in `profile/memory.rs`'s `Memory`) and are
//! forgotten with it; what a resource keeps is bounded by the reasons it can have.
//!
//! The decision is pure ([`next`]); [`Publisher::publish`] does the one call it says.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use parking_lot::Mutex;

/// How long after its last occurrence an Event is counted on rather than published anew:
/// six minutes, client-go's and kube-runtime's window.
pub const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

/// The longest note sent: `events.k8s.io/v1` refuses notes over 1 KiB.
const NOTE_MAX_CHARS: usize = 1000;

/// `Normal` or `Warning`, the two types the API server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// One Event this process published for a resource: what repeats of it are counted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub type_: EventType,
    pub reason: String,
    /// The Event object's `metadata.name`.
    pub name: String,
    /// Occurrences so far (1 for a new Event).
    pub count: i32,
    /// When it last occurred.
    pub last: Instant,
}

/// What to do for one more occurrence of an Event.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Publish a new Event object.
    Create,
    /// Count it on the Event named `name`: its series becomes `count`.
    Count { name: String, count: i32 },
}

/// The one call for an occurrence at `now` of an Event of `type_` and `reason`, given what
/// was `published` for the same resource: counted on the same Event within
/// [`SERIES_WINDOW`] of its last occurrence, else a new one.
pub fn next(published: &[Published], type_: EventType, reason: &str, now: Instant) -> Next {
    published
        .iter()
        .find(|p| p.type_ == type_ && p.reason == reason && now.saturating_duration_since(p.last) < SERIES_WINDOW)
        .map_or(Next::Create, |p| Next::Count {
            name: p.name.clone(),
            count: p.count.saturating_add(1),
        })
}

/// Each resource's published Events, by uid; owned by `Memory`, forgotten with the resource.
#[derive(Default)]
pub struct Series(pub(crate) Mutex<HashMap<String, Vec<Published>>>);

impl Series {
    /// What was published for `uid` within the window, older entries dropped.
    fn current(&self, uid: &str, now: Instant) -> Vec<Published> {
        let mut all = self.0.lock();
        let Some(published) = all.get_mut(uid) else {
            return Vec::new();
        };
        published.retain(|p| now.saturating_duration_since(p.last) < SERIES_WINDOW);
        if published.is_empty() {
            all.remove(uid);
            return Vec::new();
        }
        published.clone()
    }

    /// Notes an occurrence of the Event `name` of `uid` (its `count`-th), replacing any
    /// earlier entry of the same type and reason.
    pub(crate) fn note(&self, uid: &str, entry: Published) {
        let mut all = self.0.lock();
        let published = all.entry(uid.to_string()).or_default();
        published.retain(|p| !(p.type_ == entry.type_ && p.reason == entry.reason));
        published.push(entry);
    }

    /// Forgets `uid`'s Events.
    pub fn forget(&self, uid: &str) {
        self.0.lock().remove(uid);
    }

    /// How many resources have an Event series remembered.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// No resource has one.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }
}

/// Publishes Events as `controller` (`reportingController`), from `instance`
/// (`reportingInstance`: the pod's name, else the controller's).
#[derive(Clone)]
pub struct Publisher {
    client: kube::Client,
    controller: String,
    instance: String,
}

impl Publisher {
    pub fn new(client: kube::Client, controller: &str, instance: Option<String>) -> Self {
        Publisher {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
        }
    }

    /// One occurrence of an Event about `regarding` (which must name its namespace, name and
    /// uid): a new Event, or the series of the last one of this type and reason counted up.
    /// `note` is cut to 1,000 characters. A counted Event the API server no longer has (Events
    /// expire after an hour by default) is published anew.
    ///
    /// Errors: the API server's refusal of the create or the patch.
    pub async fn publish(
        &self,
        series: &Series,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.clone().unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let uid = regarding.uid.clone().unwrap_or_default();
        let now = Instant::now();
        let at = Timestamp::now();
        let counted = match next(&series.current(&uid, now), type_, reason, now) {
            Next::Create => None,
            Next::Count { name, count } => {
                let patch = serde_json::json!({
                    "series": EventSeries { count, last_observed_time: MicroTime(at) }
                });
                match api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => Some((name, count)),
                    Err(e) => {
                        gone(e)?;
                        None
                    }
                }
            }
        };
        let (name, count) = match counted {
            Some(counted) => counted,
            None => {
                let event = event_object(
                    &self.controller,
                    &self.instance,
                    regarding,
                    &namespace,
                    type_,
                    reason,
                    note,
                    at,
                );
                let created = api.create(&PostParams::default(), &event).await?;
                (created.metadata.name.unwrap_or_default(), 1)
            }
        };
        if !uid.is_empty() {
            series.note(
                &uid,
                Published {
                    type_,
                    reason: reason.to_string(),
                    name,
                    count,
                    last: now,
                },
            );
        }
        Ok(())
    }
}

/// What the API server's refusal to count an Event up means: `Ok` when it says the Event is
/// gone (404: Events expire, an hour by default), so the occurrence is published as a new
/// Event; any other refusal is the pass's error, returned as it is.
fn gone(error: kube::Error) -> Result<(), kube::Error> {
    match &error {
        kube::Error::Api(status) if status.code == 404 => Ok(()),
        _ => Err(error),
    }
}

/// The Event object for one new occurrence (pure): named [`event_name`], action `Reconcile`,
/// the note cut to [`NOTE_MAX_CHARS`], reported by `controller` from `instance`.
#[allow(clippy::too_many_arguments)]
fn event_object(
    controller: &str,
    instance: &str,
    regarding: &ObjectReference,
    namespace: &str,
    type_: EventType,
    reason: &str,
    note: &str,
    at: Timestamp,
) -> Event {
    let base = regarding.name.as_deref().unwrap_or(controller);
    Event {
        metadata: ObjectMeta {
            name: Some(event_name(base, at.as_nanosecond())),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        action: Some("Reconcile".into()),
        reason: Some(reason.to_string()),
        note: Some(note.chars().take(NOTE_MAX_CHARS).collect()),
        type_: Some(type_.as_str().into()),
        event_time: Some(MicroTime(at)),
        regarding: Some(regarding.clone()),
        reporting_controller: Some(controller.to_string()),
        reporting_instance: Some(instance.to_string()),
        ..Default::default()
    }
}

/// The longest object name the API server accepts (a DNS subdomain).
const NAME_MAX: usize = 253;

/// An Event's name: `<object name>.<nanoseconds, hex>`, as client-go names it, with the object
/// name cut so the whole stays a valid name of at most 253 characters (client-go's and
/// kube-runtime's are refused for an object name over 236 characters, and the Event is lost).
fn event_name(object: &str, nanos: i128) -> String {
    let suffix = format!(".{:x}", nanos.max(0));
    let room = NAME_MAX.saturating_sub(suffix.len());
    let cut = object.get(..room.min(object.len())).unwrap_or(object);
    // A DNS subdomain's labels end in a letter or digit; object names are ASCII.
    let base = cut.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    let base = if base.is_empty() { "event" } else { base };
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_404_means_the_counted_event_is_gone() {
        let answer = |code: u16| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                ..Default::default()
            }))
        };
        assert!(gone(answer(404)).is_ok());
        for code in [403, 409, 422, 500] {
            let refused = gone(answer(code)).expect_err("not gone");
            assert!(matches!(refused, kube::Error::Api(s) if s.code == code), "{code}");
        }
    }

    fn published(type_: EventType, reason: &str, count: i32, last: Instant) -> Published {
        Published {
            type_,
            reason: reason.into(),
            name: format!("{reason}.{count}"),
            count,
            last,
        }
    }

    #[test]
    fn event_names_stay_valid_for_the_longest_object_names() {
        assert_eq!(event_name("web", 255), "web.ff");
        let nanos = 1_800_000_000_000_000_000;
        let longest = "m".repeat(253);
        let name = event_name(&longest, nanos);
        assert_eq!(name.len(), NAME_MAX);
        assert!(name.ends_with(&format!(".{nanos:x}")));
        // A cut that would end a label in '-' or '.' goes back to a letter or digit.
        let dashed = format!("{}-.-b", "a".repeat(233));
        let name = event_name(&dashed, nanos);
        assert!(name.starts_with(&format!("{}.", "a".repeat(233))), "{name}");
        assert_eq!(event_name("--", 1), "event.1");
    }

    #[test]
    fn types_and_window_are_what_the_api_server_and_client_go_use() {
        // events.k8s.io/v1 accepts exactly these two types.
        assert_eq!(EventType::Normal.as_str(), "Normal");
        assert_eq!(EventType::Warning.as_str(), "Warning");
        // client-go's and kube-runtime's series window.
        assert_eq!(SERIES_WINDOW, Duration::from_secs(360));
    }

    #[test]
    fn a_new_event_says_what_regards_whom_and_who_reports() {
        let regarding = ObjectReference {
            kind: Some("ConnectionProfile".into()),
            name: Some("web".into()),
            namespace: Some("team".into()),
            uid: Some("u-1".into()),
            ..Default::default()
        };
        let at = Timestamp::from_second(1_800_000_000).expect("time");
        let note = "n".repeat(2000);
        let event = event_object(
            "ctl",
            "pod-1",
            &regarding,
            "team",
            EventType::Warning,
            "Conflict",
            &note,
            at,
        );
        assert_eq!(event.metadata.name, Some(event_name("web", at.as_nanosecond())));
        assert_eq!(event.metadata.namespace.as_deref(), Some("team"));
        assert_eq!(event.action.as_deref(), Some("Reconcile"));
        assert_eq!(event.reason.as_deref(), Some("Conflict"));
        assert_eq!(event.note.as_ref().map(|n| n.chars().count()), Some(NOTE_MAX_CHARS));
        assert_eq!(event.type_.as_deref(), Some("Warning"));
        assert_eq!(event.event_time, Some(MicroTime(at)));
        assert_eq!(event.regarding, Some(regarding.clone()));
        assert_eq!(event.reporting_controller.as_deref(), Some("ctl"));
        assert_eq!(event.reporting_instance.as_deref(), Some("pod-1"));
        // Nothing else is said: a series only comes with a repeat.
        assert_eq!(event.series, None);
        let unnamed = ObjectReference::default();
        let event = event_object("ctl", "ctl", &unnamed, "ns", EventType::Normal, "Created", "", at);
        assert!(event.metadata.name.is_some_and(|n| n.starts_with("ctl.")));
    }

    #[test]
    fn a_first_occurrence_is_a_new_event() {
        assert_eq!(next(&[], EventType::Normal, "Created", Instant::now()), Next::Create);
    }

    #[test]
    fn a_repeat_within_the_window_counts_on_the_same_event() {
        let now = Instant::now();
        let seen = [published(EventType::Warning, "Conflict", 3, now)];
        let later = now + SERIES_WINDOW - Duration::from_secs(1);
        assert_eq!(
            next(&seen, EventType::Warning, "Conflict", later),
            Next::Count {
                name: "Conflict.3".into(),
                count: 4
            }
        );
    }

    #[test]
    fn a_repeat_after_the_window_is_a_new_event() {
        let now = Instant::now();
        let seen = [published(EventType::Warning, "Conflict", 3, now)];
        assert_eq!(
            next(&seen, EventType::Warning, "Conflict", now + SERIES_WINDOW),
            Next::Create
        );
    }

    #[test]
    fn another_reason_or_type_is_another_event() {
        let now = Instant::now();
        let seen = [published(EventType::Warning, "Conflict", 1, now)];
        assert_eq!(next(&seen, EventType::Warning, "Created", now), Next::Create);
        assert_eq!(next(&seen, EventType::Normal, "Conflict", now), Next::Create);
    }

    #[test]
    fn the_count_saturates() {
        let now = Instant::now();
        let seen = [published(EventType::Normal, "Updated", i32::MAX, now)];
        assert_eq!(
            next(&seen, EventType::Normal, "Updated", now),
            Next::Count {
                name: "Updated.2147483647".into(),
                count: i32::MAX
            }
        );
    }

    #[test]
    fn series_keep_one_entry_per_reason_drop_old_ones_and_forget() {
        let series = Series::default();
        let now = Instant::now();
        series.note("u", published(EventType::Normal, "Created", 1, now));
        series.note("u", published(EventType::Normal, "Created", 2, now));
        assert!(!series.is_empty());
        series.note("u", published(EventType::Normal, "Deleted", 1, now));
        series.note("u", published(EventType::Warning, "Created", 1, now));
        assert_eq!(series.current("u", now).len(), 3, "one per type and reason");
        assert_eq!(series.len(), 1);
        assert_eq!(series.current("u", now + SERIES_WINDOW), vec![]);
        assert!(series.is_empty(), "a resource whose Events all aged out is dropped");
        series.note("u", published(EventType::Normal, "Created", 1, now));
        series.forget("u");
        assert_eq!(series.len(), 0);
    }
}
