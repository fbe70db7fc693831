//! Scenario `tenants` (issue 15): many tenants in one emulator and one operator. Two
//! rate-limited tenants with backlogs must not delay changes on the others, nor each other;
//! a tenant that never answers must not raise the others' latency; and 10,000 resources
//! across 50 tenants stay cheap (calls per tenant per interval, writes, memory).

use std::process::Child;
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, FaultRule, RateLimitConfig, TenantConfig};
use auth0_operator::crd::{self, ConnectionProfile};
use futures::{StreamExt, stream};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use testenv::{TestEnv, TestNamespace};

use super::{CLIENT_CONCURRENCY, SCOPES, is_ready, percentile};

/// The sizes of the scenario (`--tenants-*` flags).
pub struct Sizes {
    /// Backlog of the first limited tenant (the issue: 1,000).
    pub first_backlog: usize,
    /// Backlog of the second limited tenant (200).
    pub second_backlog: usize,
    /// Changes on the 8 other tenants during the backlogs (100).
    pub changes: usize,
    /// Resources across `large_tenants` tenants (10,000 across 50).
    pub large_n: usize,
    pub large_tenants: usize,
    pub poll: Duration,
}

/// One emulator with `limits.len()` tenants `t0`, `t1`, … (Auth0Tenants of the same names,
/// one Secret), and the operator.
struct Fleet {
    env: TestEnv,
    ns: TestNamespace,
    emulator: Emulator,
    domains: Vec<String>,
    operator: Option<Child>,
    metrics_port: u16,
    /// `--allowed-tenant-hosts`: every tenant's `127.0.0.1:PORT`.
    allowed_hosts: String,
}

impl Fleet {
    async fn new(env: &TestEnv, prefix: &str, limits: &[Option<RateLimitConfig>], poll: Duration) -> Fleet {
        let ns = env.namespace(prefix).await;
        let domains: Vec<String> = (0..limits.len())
            .map(|i| format!("t{i}.{}.auth0.test", ns.name()))
            .collect();
        let emulator = Emulator::start(Config {
            tenants: domains
                .iter()
                .zip(limits)
                .map(|(domain, limit)| TenantConfig {
                    domain: domain.clone(),
                    clients: vec![ClientConfig {
                        client_id: "bench".into(),
                        client_secret: "bench-secret".into(),
                        scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
                    }],
                    port: Some(0),
                    rate_limit: *limit,
                    ..TenantConfig::default()
                })
                .collect(),
            request_log_capacity: 1_000_000,
            ..Config::default()
        })
        .await
        .expect("emulator");
        let client = &ns.client;
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "creds", "labels": {super::CREDENTIALS_LABEL: "true"}},
                            "stringData": {"client_id": "bench", "client_secret": "bench-secret"}});
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), ns.name())
            .patch("creds", &PatchParams::apply("bench"), &Patch::Apply(&secret))
            .await
            .expect("secret");
        for (i, (domain, limit)) in domains.iter().zip(limits).enumerate() {
            let url = emulator.tenant_url(domain).expect("url");
            let (rate, burst) = limit.map_or((1000.0, 1000), |l| (l.per_second, l.burst));
            let tenant = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                "metadata": {"name": format!("t{i}")},
                "spec": {"domain": domain, "credentialsSecretRef": {"name": "creds"}, "endpoint": {"url": url},
                         "rateLimit": {"requestsPerSecond": rate, "burst": burst}}});
            Api::<crd::Auth0Tenant>::namespaced(client.clone(), ns.name())
                .patch(&format!("t{i}"), &PatchParams::apply("bench"), &Patch::Apply(&tenant))
                .await
                .expect("tenant");
        }
        let allowed_hosts = domains
            .iter()
            .map(|d| {
                let url = emulator.tenant_url(d).expect("url");
                url.strip_prefix("http://")
                    .unwrap_or(&url)
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(",");
        let mut fleet = Fleet {
            allowed_hosts,
            env: env.clone(),
            ns,
            emulator,
            domains,
            operator: None,
            metrics_port: super::free_port(),
        };
        fleet.start_operator(poll);
        fleet
    }

    fn start_operator(&mut self, poll: Duration) {
        // The shipped --concurrency and --tenant-concurrency (16 each): what many tenants
        // cost as installed.
        let child = super::spawn_operator(&self.env, &self.ns, poll, &self.allowed_hosts, self.metrics_port, &[]);
        self.operator = Some(child);
    }

    fn profiles(&self) -> Api<ConnectionProfile> {
        Api::namespaced(self.ns.client.clone(), self.ns.name())
    }

    /// Applies profiles `{prefix}-{i}` for `i` in `range` on tenant `t{tenant}`.
    async fn create(&self, tenant: usize, prefix: &str, range: std::ops::Range<usize>) {
        let api = self.profiles();
        stream::iter(range)
            .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
                let api = api.clone();
                async move {
                    let name = format!("{prefix}-{i:05}");
                    api.patch(
                        &name,
                        &PatchParams::apply("bench"),
                        &Patch::Apply(&profile(&name, tenant)),
                    )
                    .await
                    .expect("apply");
                }
            })
            .await;
    }

    /// Applies one profile on `t{tenant}` and returns how long until it is Ready.
    async fn change(&self, tenant: usize, name: &str) -> Duration {
        let api = self.profiles();
        let started = Instant::now();
        api.patch(
            name,
            &PatchParams::apply("bench"),
            &Patch::Apply(&profile(name, tenant)),
        )
        .await
        .expect("apply");
        loop {
            if api.get(name).await.is_ok_and(|p| is_ready(&p)) {
                return started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(300), "{name} never Ready");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// How many profiles named `{prefix}-…` are Ready.
    async fn ready(&self, prefix: &str) -> usize {
        let list = self.profiles().list(&ListParams::default()).await.expect("list");
        list.items
            .iter()
            .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with(prefix)) && is_ready(p))
            .count()
    }

    /// (calls, writes, 429s) the tenant `t{tenant}` answered.
    fn counts(&self, tenant: usize) -> (usize, usize, usize) {
        let log = self.emulator.requests(&self.domains[tenant]).expect("tenant");
        let writes = log
            .iter()
            .filter(|r| r.method != "GET" && r.path != "/oauth/token")
            .count();
        (log.len(), writes, log.iter().filter(|r| r.status == 429).count())
    }

    /// (listings, pages) the tenant `t{tenant}` answered: GETs of the collection, and those
    /// without a `from` cursor (a listing's first page).
    fn listings(&self, tenant: usize) -> (usize, usize) {
        let log = self.emulator.requests(&self.domains[tenant]).expect("tenant");
        let pages: Vec<_> = log
            .iter()
            .filter(|r| r.method == "GET" && r.path == "/api/v2/connection-profiles")
            .collect();
        let first = pages
            .iter()
            .filter(|r| !r.query.as_deref().unwrap_or_default().contains("from="))
            .count();
        (first, pages.len())
    }

    fn memory(&self) -> f64 {
        let pid = self.operator.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn profile(name: &str, tenant: usize) -> serde_json::Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
        "metadata": {"name": name},
        "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": format!("t{tenant}")}, "enabledFeatures": ["scim"],
                 "connectionNamePrefixTemplate": "b-{org_id}-"}})
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits until `n` profiles named `{prefix}-…` are Ready; how long from `since`.
async fn drained(fleet: &Fleet, prefix: &str, n: usize, since: Instant, limit: Duration) -> Duration {
    loop {
        if fleet.ready(prefix).await >= n {
            return since.elapsed();
        }
        assert!(since.elapsed() < limit, "{prefix}: not all {n} Ready after {limit:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs the scenario; returns its rows (what, figure, target).
pub async fn run(env: &TestEnv, sizes: &Sizes) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    let mut row = |what: String, figure: String, target: &str| {
        println!("{what}: {figure} (target: {target})");
        rows.push((what, figure, target.to_string()));
    };
    const RATE: f64 = 2.0;
    let limited = Some(RateLimitConfig {
        burst: 10,
        per_second: RATE,
    });

    // A. Two limited tenants with backlogs; changes on the 8 others meanwhile.
    let mut limits = vec![limited, limited];
    limits.extend(std::iter::repeat_n(None, 8));
    let fleet = Fleet::new(env, "bench-tenants", &limits, Duration::from_secs(600)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Warm the 8 tenants' tokens: the first change on a tenant fetches one.
    for t in 2..10 {
        fleet.change(t, &format!("warm-{t}")).await;
    }
    let started = Instant::now();
    let (first, second) = (sizes.first_backlog, sizes.second_backlog);
    tokio::join!(fleet.create(0, "a", 0..first), fleet.create(1, "b", 0..second));
    // The changes, spread over the shorter backlog's ideal time.
    let spread = Duration::from_secs_f64(second as f64 / RATE) / sizes.changes.max(1) as u32;
    let mut latencies = Vec::new();
    for k in 0..sizes.changes {
        let next = started + spread * k as u32;
        tokio::time::sleep_until(next.into()).await;
        latencies.push(fleet.change(2 + k % 8, &format!("c-{k:05}")).await);
    }
    let during = (fleet.ready("a-").await, fleet.ready("b-").await);
    latencies.sort();
    row(
        format!(
            "Tenants: {} changes on 8 tenants while 2 others (2/s) drain backlogs of {first} and {second}",
            sizes.changes
        ),
        format!(
            "p50 {:.1} ms, p99 {:.1} ms (backlogs at {} and {} Ready after the last change)",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            during.0,
            during.1
        ),
        "p50 under 100 ms, p99 under 1 s",
    );
    let limit = Duration::from_secs_f64(first.max(second) as f64 / RATE * 3.0 + 120.0);
    let (took_b, took_a) = tokio::join!(
        drained(&fleet, "b-", second, started, limit),
        drained(&fleet, "a-", first, started, limit)
    );
    for (tenant, n, took) in [(0, first, took_a), (1, second, took_b)] {
        let ideal = n as f64 / RATE;
        let (calls, _, throttled) = fleet.counts(tenant);
        row(
            format!("Tenants: limited tenant t{tenant} (burst 10, 2/s), backlog of {n}"),
            format!(
                "{:.1} s vs N/rate {ideal:.0} s ({:+.1}%), {calls} calls, {throttled} answers 429",
                took.as_secs_f64(),
                (took.as_secs_f64() / ideal - 1.0) * 100.0
            ),
            "within 10% of N/rate, at most one 429",
        );
    }
    drop(fleet);

    // B. A tenant that never answers (every call hangs past the operator's 10 s timeout)
    // beside 8 healthy ones: their latency with and without it.
    let fleet = Fleet::new(env, "bench-hang", &[None; 9], Duration::from_secs(600)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let runs = (sizes.changes / 2).max(8);
    let measure = async |label: &str| {
        let mut latencies = Vec::new();
        for k in 0..runs {
            latencies.push(fleet.change(1 + k % 8, &format!("{label}-{k:05}")).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        latencies.sort();
        latencies
    };
    let quiet = measure("q").await;
    let hang = FaultRule {
        latency_ms: 600_000,
        ..FaultRule::default()
    };
    assert!(fleet.emulator.set_faults(&fleet.domains[0], vec![hang]), "faults");
    fleet.create(0, "h", 0..200).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hanging = measure("w").await;
    row(
        format!("Tenants: {runs} changes on 8 tenants, alone and beside a tenant that never answers (200 resources)"),
        format!(
            "p99 {:.1} ms alone, {:.1} ms beside it (p50 {:.1} and {:.1} ms)",
            ms(percentile(&quiet, 0.99)),
            ms(percentile(&hanging, 0.99)),
            ms(percentile(&quiet, 0.5)),
            ms(percentile(&hanging, 0.5))
        ),
        "p99 not raised",
    );
    drop(fleet);

    // C. Many resources across many tenants: bulk create, steady state, memory.
    if sizes.large_n > 0 {
        let tenants = sizes.large_tenants.max(1);
        let fleet = Fleet::new(env, "bench-many", &vec![None; tenants], sizes.poll).await;
        let started = Instant::now();
        let per = sizes.large_n.div_ceil(tenants);
        stream::iter(0..tenants)
            .for_each_concurrent(4, |t| {
                let fleet = &fleet;
                async move { fleet.create(t, &format!("m{t}"), 0..per).await }
            })
            .await;
        let n = per * tenants;
        drained(&fleet, "m", n, started, Duration::from_secs(3600)).await;
        row(
            format!("Tenants: bulk create of {n} profiles across {tenants} tenants"),
            format!(
                "{:.1} s, {:.1} MiB resident",
                started.elapsed().as_secs_f64(),
                fleet.memory(),
            ),
            "under 200 MB",
        );
        tokio::time::sleep(sizes.poll).await;
        const INTERVALS: u32 = 6;
        let before: Vec<_> = (0..tenants).map(|t| fleet.counts(t)).collect();
        let listed_before: Vec<_> = (0..tenants).map(|t| fleet.listings(t)).collect();
        tokio::time::sleep(sizes.poll * INTERVALS).await;
        let after: Vec<_> = (0..tenants).map(|t| fleet.counts(t)).collect();
        let listed_after: Vec<_> = (0..tenants).map(|t| fleet.listings(t)).collect();
        let calls: usize = before.iter().zip(&after).map(|(b, a)| a.0 - b.0).sum();
        let writes: usize = before.iter().zip(&after).map(|(b, a)| a.1 - b.1).sum();
        let listings: usize = listed_before.iter().zip(&listed_after).map(|(b, a)| a.0 - b.0).sum();
        let pages: usize = listed_before.iter().zip(&listed_after).map(|(b, a)| a.1 - b.1).sum();
        // Listings are jittered (±10% of the interval), so a count over a few intervals is
        // read as calls per listing and listings per interval, not calls per interval.
        row(
            format!(
                "Tenants: steady state, {per} settled per tenant, {tenants} tenants, over {INTERVALS} intervals of {} s",
                sizes.poll.as_secs()
            ),
            format!(
                "{:.2} calls per listing, {:.2} listings per tenant per interval, {} other calls, {writes} writes; {:.1} MiB resident",
                pages as f64 / listings.max(1) as f64,
                listings as f64 / (tenants as f64 * f64::from(INTERVALS)),
                calls - pages,
                fleet.memory()
            ),
            &format!(
                "ceil(N_t/10) = {} calls per listing (+1 when N_t is a multiple of 10), about 1 listing per interval, 0 writes",
                per.div_ceil(10)
            ),
        );
    }
    rows
}
