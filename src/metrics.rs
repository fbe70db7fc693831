//! Prometheus metrics with bounded labels only: kinds, result categories, endpoint names and
//! status classes; never a resource name, an id or an error text.

use std::collections::HashMap;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReadyLabel {
    /// `true`, `false` or `unknown`.
    pub ready: &'static str,
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
    resources: Family<ReadyLabel, Gauge>,
    ready_by_object: Mutex<HashMap<String, &'static str>>,
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
        let resources = Family::<ReadyLabel, Gauge>::default();
        registry.register("resources", "ConnectionProfiles by Ready state", resources.clone());
        Metrics {
            registry,
            reconciles,
            reconcile_duration,
            auth0_requests,
            auth0_throttled,
            ratelimit_wait_seconds,
            token_refreshes,
            drift_corrections,
            resources,
            ready_by_object: Mutex::default(),
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
        if status == Some(429) {
            self.auth0_throttled.inc();
        }
    }

    /// Remembers an object's Ready state (`None` when it is gone) for the resources gauge.
    pub fn set_ready(&self, object: &str, ready: Option<&'static str>) {
        let mut states = self.ready_by_object.lock().unwrap_or_else(|e| e.into_inner());
        match ready {
            Some(state) => states.insert(object.to_string(), state),
            None => states.remove(object),
        };
        for state in ["true", "false", "unknown"] {
            let count = states.values().filter(|s| **s == state).count();
            self.resources
                .get_or_create(&ReadyLabel { ready: state })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
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
        metrics.set_ready("ns/a", Some("true"));
        metrics.set_ready("ns/b", Some("false"));
        metrics.set_ready("ns/b", None);
        let text = metrics.render();
        for line in [
            r#"auth0_operator_reconciles_total{kind="ConnectionProfile",result="success"} 1"#,
            r#"auth0_operator_auth0_requests_total{endpoint="create",status_class="2xx"} 1"#,
            r#"auth0_operator_auth0_requests_total{endpoint="get",status_class="error"} 1"#,
            "auth0_operator_auth0_throttled_total 1",
            r#"auth0_operator_resources{ready="true"} 1"#,
            r#"auth0_operator_resources{ready="false"} 0"#,
        ] {
            assert!(text.contains(line), "missing {line} in:\n{text}");
        }
        assert!(text.contains("auth0_operator_reconcile_duration_seconds_bucket"));
    }
}
