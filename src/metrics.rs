//! Prometheus metrics with bounded labels only: kinds, result categories, endpoint names,
//! status classes and condition reasons; never a resource name, an id or an error text.
//!
//! The alerting rules and the dashboard under `deploy/` name these metrics;
//! `tests/monitoring.rs` checks them against a real capture of `/metrics`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `ConnectionProfile`.
    pub kind: &'static str,
    /// `success` or a Synced reason (`ReconcileError`, `Conflict`, ...).
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `token`, `list`, `get`, `create`, `update`, `delete`.
    pub endpoint: &'static str,
    /// `2xx`, `4xx`, `5xx` or `error` (no answer).
    pub status_class: &'static str,
}

/// The `endpoint` label values: the token endpoint and each Management API call
/// (`auth0::client`'s `endpoint_name`).
pub const ENDPOINTS: [&str; 7] = ["token", "list", "get", "create", "update", "delete", "templates"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// `token` or a Management API endpoint, as in [`RequestLabels`].
    pub endpoint: &'static str,
    /// `401` or `403`.
    pub status_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct ConditionLabels {
    /// `ConnectionProfile`, `Auth0Tenant` or `ClusterAuth0Tenant`.
    pub kind: &'static str,
    /// The condition type: `Ready`, `Synced` or `Stalled`.
    pub condition: &'static str,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// One of [`REASONS`], or `Other` for a reason the operator does not set.
    pub reason: &'static str,
}

/// The condition types counted in `auth0_operator_resource_conditions`.
pub const CONDITION_TYPES: [&str; 3] = ["Ready", "Synced", "Stalled"];

/// Every reason the operator writes (crd::conditions::reason, the tenants' `MissingScopes`)
/// and the ones the ConnectionProfile reconciler is about to write (`NotConverging`,
/// `FeatureNotEnabled`, issue 12). Any other text is counted as `Other`, so a status written
/// by hand cannot grow the label set.
pub const REASONS: [&str; 32] = [
    "Available",
    "Creating",
    "Deleting",
    "Unavailable",
    "Paused",
    "ReconcileSuccess",
    "ReconcileError",
    "ReconcilePaused",
    "InvalidSpec",
    "Unauthorized",
    "Forbidden",
    "Conflict",
    "NotFound",
    "CredentialsUnavailable",
    "TenantNotFound",
    "TenantChanged",
    "NamespaceNotAllowed",
    "AlreadyManaged",
    "HostNotAllowed",
    "Progressing",
    "Idle",
    "MissingScopes",
    "NotConverging",
    "FeatureNotEnabled",
    "InternalError",
    "WriteRefused",
    "InvalidAnnotation",
    "ReferenceNotReady",
    "InvalidReference",
    "InUse",
    "QuotaExceeded",
    "Other",
];

/// One resource's conditions as read from a watch cache: (type, status, reason) each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceConditions {
    /// `ConnectionProfile`, `Auth0Tenant` or `ClusterAuth0Tenant`.
    pub kind: &'static str,
    pub conditions: Vec<(String, String, String)>,
}

/// Reads every watched resource's conditions at scrape time.
pub type ConditionSource = Box<dyn Fn() -> Vec<ResourceConditions> + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReadyLabels {
    /// `ConnectionProfile`, `UserAttributeProfile` or `SelfServiceProfile`.
    pub kind: &'static str,
    /// `true`, `false` or `unknown`.
    pub ready: &'static str,
}

/// Reads the size of each per-resource map at scrape time: `(map, resources)`.
pub type MemorySource = Box<dyn Fn() -> Vec<(&'static str, usize)> + Send + Sync>;

/// One of the controller's per-resource maps (`controller/profile/memory.rs`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MapLabel {
    pub map: &'static str,
}

/// A tenant's lane (`controller/lanes.rs`): its domain, and `in_progress`,
/// `queued_changes` or `queued_drift_checks`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LaneLabels {
    pub tenant: String,
    pub state: &'static str,
}

/// Every metric the operator exports.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_duration: Family<KindLabel, Histogram>,
    pub auth0_requests: Family<RequestLabels, Counter>,
    pub auth0_throttled: Counter,
    pub ratelimit_wait_seconds: Counter<f64, AtomicU64>,
    pub token_refreshes: Counter,
    pub drift_corrections: Counter,
    /// Passes that panicked, by kind (caught: `controller/panics.rs`).
    pub reconcile_panics: Family<KindLabel, Counter>,
    /// 401 and 403 answers from Auth0 (the token endpoint or the Management API).
    pub refused: Family<RefusalLabels, Counter>,
    /// 1 while this replica holds the leader-election Lease (or runs without leader
    /// election) and reconciles; 0 while it waits as a standby.
    pub leader: Gauge,
    /// ConnectionProfiles per tenant in progress in its lane, and queued for a place.
    pub tenant_lane: Family<LaneLabels, Gauge>,
    resources: Family<ReadyLabels, Gauge>,
    remembered: Family<MapLabel, Gauge>,
    memory_sources: Mutex<Vec<MemorySource>>,
    resource_conditions: Family<ConditionLabels, Gauge>,
    condition_source: Mutex<Option<ConditionSource>>,
    known_conditions: Mutex<BTreeSet<ConditionLabels>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("auth0_operator");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register("reconciles", "Reconcile passes by kind and result", reconciles.clone());
        let reconcile_duration = Family::<KindLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconcile passes",
            reconcile_duration.clone(),
        );
        let auth0_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "auth0_requests",
            "Auth0 Management API requests by endpoint and status class",
            auth0_requests.clone(),
        );
        let auth0_throttled = Counter::default();
        registry.register("auth0_throttled", "Auth0 answers with 429", auth0_throttled.clone());
        let ratelimit_wait_seconds = Counter::<f64, AtomicU64>::default();
        registry.register(
            "ratelimit_wait_seconds",
            "Seconds spent waiting on the client-side rate limiter",
            ratelimit_wait_seconds.clone(),
        );
        let token_refreshes = Counter::default();
        registry.register(
            "token_refreshes",
            "Access tokens obtained from Auth0",
            token_refreshes.clone(),
        );
        let drift_corrections = Counter::default();
        registry.register(
            "drift_corrections",
            "Changes made outside the operator that it reverted, and profiles it recreated",
            drift_corrections.clone(),
        );
        let reconcile_panics = Family::<KindLabel, Counter>::default();
        registry.register(
            "reconcile_panics",
            "Reconcile passes that panicked (a bug: caught, the resource reported InternalError and retried)",
            reconcile_panics.clone(),
        );
        let refused = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "auth0_refused",
            "Auth0 answers 401 (client credentials or token refused) and 403 (a scope or feature missing), by endpoint and status code",
            refused.clone(),
        );
        // Every series from the start, at 0, so an alert or a rate() sees the first refusal
        // as an increase rather than as a new series.
        for endpoint in ENDPOINTS {
            for status_code in ["401", "403"] {
                drop(refused.get_or_create(&RefusalLabels { endpoint, status_code }));
            }
        }
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader-election Lease and reconciles, 0 on a standby",
            leader.clone(),
        );
        let tenant_lane = Family::<LaneLabels, Gauge>::default();
        registry.register(
            "tenant_lane_resources",
            "ConnectionProfiles by tenant domain in progress in the tenant's lane (at most --tenant-concurrency), or queued for a place: changes, then drift checks",
            tenant_lane.clone(),
        );
        let resources = Family::<ReadyLabels, Gauge>::default();
        registry.register(
            "resources",
            "Resources of each reconciled kind in the watch cache by Ready condition (unknown: none yet), counted at each scrape (leader only)",
            resources.clone(),
        );
        let remembered = Family::<MapLabel, Gauge>::default();
        registry.register(
            "remembered_resources",
            "Resources each of the controller's per-resource maps holds, read at each scrape (bounded by the live resources)",
            remembered.clone(),
        );
        let resource_conditions = Family::<ConditionLabels, Gauge>::default();
        registry.register(
            "resource_conditions",
            "Resources by kind and condition type, status and reason, read from the watch caches at each scrape (leader only)",
            resource_conditions.clone(),
        );
        Metrics {
            registry,
            reconciles,
            reconcile_duration,
            auth0_requests,
            auth0_throttled,
            ratelimit_wait_seconds,
            token_refreshes,
            drift_corrections,
            reconcile_panics,
            refused,
            leader,
            tenant_lane,
            resources,
            remembered,
            memory_sources: Mutex::default(),
            resource_conditions,
            condition_source: Mutex::default(),
            known_conditions: Mutex::default(),
        }
    }

    /// Sets a tenant's lane figures.
    pub fn lane(&self, tenant: &str, in_progress: usize, changes: usize, drift_checks: usize) {
        for (state, value) in [
            ("in_progress", in_progress),
            ("queued_changes", changes),
            ("queued_drift_checks", drift_checks),
        ] {
            self.tenant_lane
                .get_or_create(&LaneLabels {
                    tenant: tenant.to_string(),
                    state,
                })
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
    }

    /// Records a finished pass.
    pub fn reconciled(&self, kind: &'static str, result: &'static str, took: Duration) {
        self.reconciles.get_or_create(&ReconcileLabels { kind, result }).inc();
        self.reconcile_duration
            .get_or_create(&KindLabel { kind })
            .observe(took.as_secs_f64());
    }

    /// Records one HTTP exchange with Auth0; `status` is `None` when no answer came.
    pub fn auth0_request(&self, endpoint: &'static str, status: Option<u16>) {
        let status_class = match status {
            Some(200..=299) => "2xx",
            Some(400..=499) => "4xx",
            Some(500..=599) => "5xx",
            Some(_) => "other",
            None => "error",
        };
        self.auth0_requests
            .get_or_create(&RequestLabels { endpoint, status_class })
            .inc();
        match status {
            Some(429) => {
                self.auth0_throttled.inc();
            }
            Some(code @ (401 | 403)) => {
                let status_code = if code == 401 { "401" } else { "403" };
                self.refused
                    .get_or_create(&RefusalLabels { endpoint, status_code })
                    .inc();
            }
            _ => {}
        }
    }

    /// Sets where `auth0_operator_resource_conditions` is read from at each scrape: the
    /// controllers' watch caches, so it counts what the API server holds.
    pub fn observe_conditions(&self, source: ConditionSource) {
        *self.condition_source.lock().unwrap_or_else(|e| e.into_inner()) = Some(source);
    }

    /// Counts the resources by (kind, condition, status, reason); a combination seen before
    /// and gone now reads 0 rather than vanishing.
    fn count_conditions(&self) {
        let source = self.condition_source.lock().unwrap_or_else(|e| e.into_inner());
        let Some(source) = source.as_ref() else {
            return;
        };
        let resources = source();
        // Every resource of a reconciled kind in the cache counts once, by its kind and Ready
        // condition: the gauge equals the cache after any deletion (issue 24: it kept deleted
        // resources), and each kind has its three series from the first scrape.
        for (labels, count) in ready_counts(&resources) {
            self.resources.get_or_create(&labels).set(count);
        }
        let counts = condition_counts(&resources);
        // A family cannot be listed, so every combination ever set is remembered here.
        let mut known = self.known_conditions.lock().unwrap_or_else(|e| e.into_inner());
        for labels in known.iter().filter(|l| !counts.contains_key(*l)) {
            self.resource_conditions.get_or_create(labels).set(0);
        }
        for (labels, count) in counts {
            self.resource_conditions
                .get_or_create(&labels)
                .set(i64::try_from(count).unwrap_or(i64::MAX));
            known.insert(labels);
        }
    }

    /// Adds a source `auth0_operator_remembered_resources` is read from at each scrape (one
    /// per reconciled kind: each kind's memory has its own owner); a map's figure is the sum
    /// over the sources.
    pub fn observe_memory(&self, source: MemorySource) {
        self.memory_sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(source);
    }

    fn count_memory(&self) {
        let sources = self.memory_sources.lock().unwrap_or_else(|e| e.into_inner());
        let mut sizes: BTreeMap<&'static str, usize> = BTreeMap::new();
        for source in sources.iter() {
            for (map, size) in source() {
                *sizes.entry(map).or_default() += size;
            }
        }
        for (map, size) in sizes {
            self.remembered
                .get_or_create(&MapLabel { map })
                .set(i64::try_from(size).unwrap_or(i64::MAX));
        }
    }

    /// The Prometheus text exposition (OpenMetrics), with the resource conditions counted
    /// anew from their source.
    pub fn render(&self) -> String {
        self.count_conditions();
        self.count_memory();
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The resources of each reconciled kind ([`crate::crd::KINDS`]) by Ready condition (pure):
/// `true`, `false`, or `unknown` (none yet); every kind has its three, zero or not.
pub fn ready_counts(resources: &[ResourceConditions]) -> Vec<(ReadyLabels, i64)> {
    const STATES: [&str; 3] = ["true", "false", "unknown"];
    let mut counts: Vec<(ReadyLabels, i64)> = crate::crd::KINDS
        .iter()
        .flat_map(|api| STATES.map(|ready| (ReadyLabels { kind: api.kind, ready }, 0)))
        .collect();
    for resource in resources {
        let ready = match resource.conditions.iter().find(|(t, _, _)| t == "Ready") {
            Some((_, status, _)) if status == "True" => "true",
            Some((_, status, _)) if status == "False" => "false",
            _ => "unknown",
        };
        if let Some((_, count)) = counts
            .iter_mut()
            .find(|(labels, _)| labels.kind == resource.kind && labels.ready == ready)
        {
            *count += 1;
        }
    }
    counts
}

/// The (kind, condition, status, reason) counts of `resources` (pure). Only the types in
/// [`CONDITION_TYPES`] are counted; a status other than True or False counts as `Unknown`
/// and a reason outside [`REASONS`] as `Other`.
pub fn condition_counts(resources: &[ResourceConditions]) -> BTreeMap<ConditionLabels, u64> {
    let mut counts = BTreeMap::new();
    for resource in resources {
        for (type_, status, reason) in &resource.conditions {
            let Some(condition) = CONDITION_TYPES.iter().find(|t| *t == type_) else {
                continue;
            };
            let status = match status.as_str() {
                "True" => "True",
                "False" => "False",
                _ => "Unknown",
            };
            let reason = REASONS.iter().find(|r| *r == reason).copied().unwrap_or("Other");
            *counts
                .entry(ConditionLabels {
                    kind: resource.kind,
                    condition,
                    status,
                    reason,
                })
                .or_default() += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_bounded_families() {
        let metrics = Metrics::new();
        metrics.reconciled("ConnectionProfile", "success", Duration::from_millis(20));
        metrics.auth0_request("create", Some(201));
        metrics.auth0_request("list", Some(429));
        metrics.auth0_request("get", None);
        let cached = |ready: &str| ResourceConditions {
            kind: "ConnectionProfile",
            conditions: vec![("Ready".into(), ready.into(), "Available".into())],
        };
        metrics.observe_conditions(Box::new(move || vec![cached("True")]));
        metrics.observe_memory(Box::new(|| vec![("checked", 3)]));
        // A second kind's memory adds to the first's.
        metrics.observe_memory(Box::new(|| vec![("checked", 2), ("stalls", 1)]));
        let text = metrics.render();
        for line in [
            r#"auth0_operator_reconciles_total{kind="ConnectionProfile",result="success"} 1"#,
            r#"auth0_operator_auth0_requests_total{endpoint="create",status_class="2xx"} 1"#,
            r#"auth0_operator_auth0_requests_total{endpoint="get",status_class="error"} 1"#,
            "auth0_operator_auth0_throttled_total 1",
            r#"auth0_operator_resources{kind="ConnectionProfile",ready="true"} 1"#,
            r#"auth0_operator_resources{kind="ConnectionProfile",ready="false"} 0"#,
            r#"auth0_operator_resources{kind="ConnectionProfile",ready="unknown"} 0"#,
            r#"auth0_operator_resources{kind="UserAttributeProfile",ready="true"} 0"#,
            r#"auth0_operator_resources{kind="SelfServiceProfile",ready="unknown"} 0"#,
            r#"auth0_operator_remembered_resources{map="checked"} 5"#,
            r#"auth0_operator_remembered_resources{map="stalls"} 1"#,
        ] {
            assert!(text.contains(line), "missing {line} in:\n{text}");
        }
        assert!(text.contains("auth0_operator_reconcile_duration_seconds_bucket"));
    }

    fn conditions(kind: &'static str, list: &[(&str, &str, &str)]) -> ResourceConditions {
        ResourceConditions {
            kind,
            conditions: list
                .iter()
                .map(|(t, s, r)| (t.to_string(), s.to_string(), r.to_string()))
                .collect(),
        }
    }

    /// A reason added to crd::conditions::reason is a label value the alerts may name.
    #[test]
    fn every_reason_the_operator_writes_is_a_known_label_value() {
        let source = include_str!("crd/conditions.rs");
        let written: Vec<&str> = source
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter_map(|l| l.split_once("&str = \""))
            .filter_map(|(_, rest)| rest.split_once('"').map(|(value, _)| value))
            .collect();
        assert!(written.len() > 15, "{written:?}");
        for reason in written {
            assert!(
                REASONS.contains(&reason) || CONDITION_TYPES.contains(&reason) || reason == "Reconciling",
                "{reason} is missing from metrics::REASONS"
            );
        }
    }

    #[test]
    fn conditions_are_counted_with_bounded_labels() {
        let resources = [
            conditions(
                "ConnectionProfile",
                &[
                    ("Ready", "True", "Available"),
                    ("Synced", "False", "Unauthorized"),
                    ("Reconciling", "False", "Idle"),
                    ("Stalled", "True", "Unauthorized"),
                ],
            ),
            conditions(
                "ConnectionProfile",
                &[
                    ("Ready", "True", "Available"),
                    ("Synced", "False", "some text a person wrote"),
                ],
            ),
            conditions("Auth0Tenant", &[("Ready", "Maybe", "Unauthorized")]),
        ];
        let counts = condition_counts(&resources);
        let get = |kind, condition, status, reason| {
            counts
                .get(&ConditionLabels {
                    kind,
                    condition,
                    status,
                    reason,
                })
                .copied()
        };
        assert_eq!(get("ConnectionProfile", "Ready", "True", "Available"), Some(2));
        assert_eq!(get("ConnectionProfile", "Synced", "False", "Unauthorized"), Some(1));
        assert_eq!(get("ConnectionProfile", "Synced", "False", "Other"), Some(1));
        assert_eq!(get("ConnectionProfile", "Stalled", "True", "Unauthorized"), Some(1));
        assert_eq!(get("Auth0Tenant", "Ready", "Unknown", "Unauthorized"), Some(1));
        assert_eq!(counts.len(), 5, "Reconciling is not counted: {counts:?}");
    }

    /// Every reconciled kind counts, each by its own Ready; tenants (also in the condition
    /// source) do not, and every kind has its three series though none of it exists.
    #[test]
    fn resources_are_counted_by_kind_and_ready() {
        let resources = [
            conditions("ConnectionProfile", &[("Ready", "True", "Available")]),
            conditions("ConnectionProfile", &[("Ready", "False", "Unavailable")]),
            conditions("UserAttributeProfile", &[("Ready", "True", "Available")]),
            conditions("UserAttributeProfile", &[("Synced", "False", "Forbidden")]),
            conditions("UserAttributeProfile", &[("Ready", "Unknown", "Creating")]),
            conditions("SelfServiceProfile", &[("Ready", "False", "Unavailable")]),
            conditions("Auth0Tenant", &[("Ready", "True", "Available")]),
        ];
        let counts: BTreeMap<(&str, &str), i64> = ready_counts(&resources)
            .into_iter()
            .map(|(labels, count)| ((labels.kind, labels.ready), count))
            .collect();
        assert_eq!(
            counts,
            BTreeMap::from([
                (("ConnectionProfile", "true"), 1),
                (("ConnectionProfile", "false"), 1),
                (("ConnectionProfile", "unknown"), 0),
                (("UserAttributeProfile", "true"), 1),
                (("UserAttributeProfile", "false"), 0),
                (("UserAttributeProfile", "unknown"), 2),
                (("SelfServiceProfile", "true"), 0),
                (("SelfServiceProfile", "false"), 1),
                (("SelfServiceProfile", "unknown"), 0),
            ])
        );
    }

    #[test]
    fn a_combination_that_empties_reads_zero_and_refusals_are_counted() {
        let metrics = Metrics::new();
        let state = std::sync::Arc::new(Mutex::new(vec![conditions(
            "ConnectionProfile",
            &[("Synced", "False", "Unauthorized")],
        )]));
        let source = state.clone();
        metrics.observe_conditions(Box::new(move || source.lock().expect("lock").clone()));
        let line = r#"auth0_operator_resource_conditions{kind="ConnectionProfile",condition="Synced",status="False",reason="Unauthorized"}"#;
        assert!(metrics.render().contains(&format!("{line} 1")));
        *state.lock().expect("lock") = vec![conditions(
            "ConnectionProfile",
            &[("Synced", "True", "ReconcileSuccess")],
        )];
        let text = metrics.render();
        assert!(text.contains(&format!("{line} 0")), "{text}");
        // Refusals are exported at 0 before the first one.
        for endpoint in ENDPOINTS {
            for code in ["401", "403"] {
                let zero =
                    format!(r#"auth0_operator_auth0_refused_total{{endpoint="{endpoint}",status_code="{code}"}} 0"#);
                assert!(text.contains(&zero), "missing {zero} in:\n{text}");
            }
        }
        metrics.auth0_request("token", Some(401));
        metrics.auth0_request("update", Some(403));
        metrics.auth0_request("get", Some(404));
        metrics.leader.set(1);
        let text = metrics.render();
        for line in [
            r#"auth0_operator_auth0_refused_total{endpoint="token",status_code="401"} 1"#,
            r#"auth0_operator_auth0_refused_total{endpoint="update",status_code="403"} 1"#,
            "auth0_operator_leader 1",
        ] {
            assert!(text.contains(line), "missing {line} in:\n{text}");
        }
        assert!(!text.contains(r#"status_code="404""#), "{text}");
        assert!(
            text.contains(r#"auth0_operator_auth0_refused_total{endpoint="get",status_code="401"} 0"#),
            "{text}"
        );
    }
}
