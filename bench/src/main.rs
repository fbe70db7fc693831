//! `auth0-bench`: how close the operator comes to the limits no software can beat (the API
//! server's write rate, Auth0's rate limit), measured in one run on one machine, against a
//! real kube-apiserver (run under `testenv run`) and the Auth0 emulator. Writes a Markdown
//! report. Not a test: it asserts nothing and prints figures.
//!
//!   auth0-bench [--n 1000] [--rate-limited-n 200] [--latency-runs 100] [--large-n 10000]
//!               [--unrelated-secrets 1000] [--poll-interval-secs 10] [--out docs/benchmarks.md]
//!               [--only bulk,rate-limited,large,secrets,deploy-cli,plan,tenants,churn]
//!               [--tenants-backlogs 1000,200] [--tenants-changes 100]
//!               [--tenants-large-n 10000] [--tenants-large-tenants 50] [--churn-cycles 20000]
//!
//! Scenarios (`--only` picks some, default all): `bulk` (the API-server floor, bulk create,
//! memory, steady state, restart, latency), `rate-limited`, `large` (memory at `--large-n`),
//! `secrets` (resident memory before and after `--unrelated-secrets` Secrets of 100 KB
//! without the credentials label land in the operator's namespace, the shape of Helm
//! release Secrets), `deploy-cli` (scenario 7: the Auth0 Deploy CLI deploying the same N
//! profiles from YAML, beside the operator's `bulk` figures; needs node >= 20 and npm, see
//! deploy_cli.rs) and `plan` (scenario 8: `auth0-operator plan` over N manifests against N
//! profiles, see plan.rs) and `tenants` (many tenants in one operator: throttled and hanging
//! tenants beside others, many resources across many tenants; see tenants.rs) and `churn`
//! (`--churn-cycles` create/delete cycles: resident memory, the per-resource maps and the
//! resources gauge before and after; see churn.rs).
//!
//! The operators it starts log at `warn` into the test environment's folder;
//! `AUTH0_BENCH_OPERATOR_LOG` sets another `RUST_LOG` filter (`auth0_operator=debug`).
#![forbid(unsafe_code)]

mod churn;
mod deploy_cli;
mod plan;
mod tenants;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth0_emulator::{ClientConfig, Config, Emulator, RateLimitConfig, TenantConfig};
use auth0_operator::crd::{self, ConnectionProfile};
use futures::{StreamExt, stream};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use testenv::{TestEnv, TestNamespace};

const SCOPES: [&str; 4] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
];
/// Requests the bench itself keeps in flight against the API server.
const CLIENT_CONCURRENCY: usize = 32;

struct Args {
    n: usize,
    rate_limited_n: usize,
    latency_runs: usize,
    large_n: usize,
    /// Unrelated 100 KB Secrets added in the `secrets` scenario.
    unrelated_secrets: usize,
    poll_secs: u64,
    out: PathBuf,
    /// The scenarios to run; empty means all.
    only: Vec<String>,
    /// Scenario `tenants`: the two limited tenants' backlogs.
    tenants_backlogs: (usize, usize),
    tenants_changes: usize,
    tenants_large_n: usize,
    tenants_large_tenants: usize,
    /// Scenario `churn`: create/delete cycles.
    churn_cycles: usize,
}

const SCENARIOS: [&str; 8] = [
    "bulk",
    "rate-limited",
    "large",
    "secrets",
    "deploy-cli",
    "plan",
    "tenants",
    "churn",
];
/// The label the operator's Secret watch selects on.
const CREDENTIALS_LABEL: &str = "auth0.operators.dev/credentials";
/// The size of each unrelated Secret's data in the `secrets` scenario, in bytes.
const UNRELATED_SECRET_BYTES: usize = 100 * 1024;

impl Args {
    fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

fn args() -> Args {
    let mut a = Args {
        n: 1000,
        rate_limited_n: 200,
        latency_runs: 100,
        large_n: 10_000,
        unrelated_secrets: 1000,
        poll_secs: 10,
        out: PathBuf::from("docs/benchmarks.md"),
        only: Vec::new(),
        tenants_backlogs: (1000, 200),
        tenants_changes: 100,
        tenants_large_n: 10_000,
        tenants_large_tenants: 50,
        churn_cycles: 20_000,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        let number = || {
            value
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{} needs a number", raw[i]))
        };
        match raw[i].as_str() {
            "--n" => a.n = number(),
            "--rate-limited-n" => a.rate_limited_n = number(),
            "--latency-runs" => a.latency_runs = number(),
            "--large-n" => a.large_n = number(),
            "--unrelated-secrets" => a.unrelated_secrets = number(),
            "--poll-interval-secs" => a.poll_secs = number() as u64,
            "--out" => a.out = PathBuf::from(&value),
            "--tenants-backlogs" => {
                let (first, second) = value.split_once(',').expect("--tenants-backlogs FIRST,SECOND");
                a.tenants_backlogs = (
                    first.parse().expect("--tenants-backlogs: a number"),
                    second.parse().expect("--tenants-backlogs: a number"),
                );
            }
            "--tenants-changes" => a.tenants_changes = number(),
            "--tenants-large-n" => a.tenants_large_n = number(),
            "--tenants-large-tenants" => a.tenants_large_tenants = number(),
            "--churn-cycles" => a.churn_cycles = number(),
            "--only" => {
                a.only = value.split(',').map(|s| s.trim().to_string()).collect();
                for s in &a.only {
                    assert!(
                        SCENARIOS.contains(&s.as_str()),
                        "--only: unknown scenario {s:?}; the scenarios are {SCENARIOS:?}"
                    );
                }
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// One tenant on the emulator, a namespace with its Auth0Tenant `t`, and the operator.
struct Setup {
    env: TestEnv,
    ns: TestNamespace,
    emulator: Emulator,
    domain: String,
    operator: Option<Child>,
    metrics_port: u16,
    poll: Duration,
    /// `--allowed-tenant-hosts`: the emulator tenant's `127.0.0.1:PORT`.
    allowed_hosts: String,
}

impl Setup {
    async fn new(env: &TestEnv, prefix: &str, limit: Option<(u32, f64)>, poll: Duration) -> Setup {
        let ns = env.namespace(prefix).await;
        let domain = format!("{}.auth0.test", ns.name());
        let emulator = Emulator::start(Config {
            tenants: vec![TenantConfig {
                domain: domain.clone(),
                clients: vec![ClientConfig {
                    client_id: "bench".into(),
                    client_secret: "bench-secret".into(),
                    scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
                }],
                port: Some(0),
                rate_limit: limit.map(|(burst, per_second)| RateLimitConfig { burst, per_second }),
                ..TenantConfig::default()
            }],
            request_log_capacity: 1_000_000,
            ..Config::default()
        })
        .await
        .expect("emulator");
        let url = emulator.tenant_url(&domain).expect("url");
        let (rate, burst) = limit.map_or((1000.0, 1000), |(burst, rate)| (rate, burst));
        let client = &ns.client;
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "creds", "labels": {CREDENTIALS_LABEL: "true"}},
                            "stringData": {"client_id": "bench", "client_secret": "bench-secret"}});
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), ns.name())
            .patch("creds", &PatchParams::apply("bench"), &Patch::Apply(&secret))
            .await
            .expect("secret");
        let tenant = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant", "metadata": {"name": "t"},
            "spec": {"domain": domain, "credentialsSecretRef": {"name": "creds"}, "endpoint": {"url": url},
                     "rateLimit": {"requestsPerSecond": rate, "burst": burst}}});
        Api::<crd::Auth0Tenant>::namespaced(client.clone(), ns.name())
            .patch("t", &PatchParams::apply("bench"), &Patch::Apply(&tenant))
            .await
            .expect("tenant");
        let metrics_port = free_port();
        let allowed_hosts = url
            .strip_prefix("http://")
            .unwrap_or(&url)
            .trim_end_matches('/')
            .to_string();
        let mut setup = Setup {
            env: env.clone(),
            ns,
            emulator,
            domain,
            operator: None,
            metrics_port,
            poll,
            allowed_hosts,
        };
        setup.start_operator();
        setup
    }

    fn start_operator(&mut self) {
        // The one-tenant scenarios raise both limits to the bench client's 32 in flight.
        let limits = ["--concurrency", "32", "--tenant-concurrency", "32"];
        let child = spawn_operator(
            &self.env,
            &self.ns,
            self.poll,
            &self.allowed_hosts,
            self.metrics_port,
            &limits,
        );
        self.operator = Some(child);
    }

    fn stop_operator(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn profiles(&self) -> Api<ConnectionProfile> {
        Api::namespaced(self.ns.client.clone(), self.ns.name())
    }

    /// Auth0 requests so far: (all, writes, 429s), the token endpoint included in all.
    fn auth0_counts(&self) -> (usize, usize, usize) {
        let log = self.emulator.requests(&self.domain).expect("tenant");
        let writes = log
            .iter()
            .filter(|r| r.method != "GET" && r.path != "/oauth/token")
            .count();
        let throttled = log.iter().filter(|r| r.status == 429).count();
        (log.len(), writes, throttled)
    }

    /// Creates `n` profiles at once (as `kubectl apply` of a large folder would).
    async fn create(&self, prefix: &str, n: usize) {
        let api = self.profiles();
        stream::iter(0..n)
            .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
                let api = api.clone();
                async move {
                    let object = bench_profile(prefix, i);
                    api.patch(
                        &format!("{prefix}-{i:05}"),
                        &PatchParams::apply("bench"),
                        &Patch::Apply(&object),
                    )
                    .await
                    .expect("apply");
                }
            })
            .await;
    }

    /// Waits until `n` profiles are Ready for their current generation.
    async fn wait_ready(&self, n: usize, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let list = self.profiles().list(&ListParams::default()).await.expect("list");
            let ready = list.items.iter().filter(|p| is_ready(p)).count();
            if ready >= n {
                return start.elapsed();
            }
            assert!(start.elapsed() < limit, "only {ready} of {n} Ready after {limit:?}");
            // Listing N objects is itself load on the API server: poll gently.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// (resident, peak) memory of the operator in MiB.
    fn memory(&self) -> (f64, f64) {
        (self.status_mib("VmRSS:"), self.status_mib("VmHWM:"))
    }

    /// The operator's anonymous resident memory in MiB (`RssAnon`: heap, stacks, the
    /// allocator's free pages), without the pages of its binary it has touched (`RssFile`).
    fn anonymous_memory(&self) -> f64 {
        self.status_mib("RssAnon:")
    }

    /// A `kB` field of the operator's /proc/PID/status, in MiB (0 when unreadable).
    fn status_mib(&self, name: &str) -> f64 {
        let pid = self.operator.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    /// A counter from the operator's /metrics, summed over the label sets that match.
    fn operator_metric(&self, prefix: &str) -> f64 {
        http_get(self.metrics_port, "/metrics")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.stop_operator();
    }
}

/// The `i`th profile of a bulk create: the same spec for the operator's bulk create and,
/// mapped to the Deploy CLI's YAML, for the Deploy CLI's deploys (scenario 7).
pub fn bench_profile(prefix: &str, i: usize) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
        "metadata": {"name": format!("{prefix}-{i:05}")},
        "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"],
                 "connectionNamePrefixTemplate": "b-{org_id}-"}})
}

fn is_ready(p: &ConnectionProfile) -> bool {
    p.status.as_ref().is_some_and(|s| {
        s.observed_generation == p.metadata.generation
            && s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Writes to the API server so far (every verb but reads), from its own metrics.
async fn apiserver_writes(env: &TestEnv) -> f64 {
    let client = env.admin().await;
    let request = http::Request::get("/metrics").body(Vec::new()).expect("request");
    let text = client.request_text(request).await.expect("apiserver metrics");
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter(|l| {
            [
                "verb=\"POST\"",
                "verb=\"PATCH\"",
                "verb=\"PUT\"",
                "verb=\"DELETE\"",
                "verb=\"APPLY\"",
            ]
            .iter()
            .any(|v| l.contains(v))
        })
        .filter(|l| l.contains("group=\"auth0.operators.dev\"") || l.contains("resource=\"events\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = args();
    let load_at_start = load_average();
    // Before minutes of other scenarios: fail now if the Deploy CLI cannot run.
    let deploy_cli = args.runs("deploy-cli").then(deploy_cli::prepare);
    let env = TestEnv::get();
    env.install_crds(&crd::all()).await;
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut row = |what: &str, figure: String, target: &str| {
        println!("{what}: {figure} (target: {target})");
        rows.push((what.to_string(), figure, target.to_string()));
    };
    let n = args.n;
    let poll = Duration::from_secs(args.poll_secs);

    // The operator's figures that scenario 7 sets the Deploy CLI's beside.
    let mut operator = None;

    if args.runs("bulk") {
        // 0. The floor: the API server's own rate for N status writes from a tight client loop.
        let floor_ns = env.namespace("bench-floor").await;
        let floor_api: Api<ConnectionProfile> = Api::namespaced(floor_ns.client.clone(), floor_ns.name());
        stream::iter(0..n)
            .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
                let api = floor_api.clone();
                async move {
                    let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                        "metadata": {"name": format!("floor-{i:05}"), "annotations": {"auth0.operators.dev/paused": "true"}}, "spec": {}});
                    api.patch(&format!("floor-{i:05}"), &PatchParams::apply("bench"), &Patch::Apply(&object)).await.expect("create");
                }
            })
            .await;
        let started = Instant::now();
        stream::iter(0..n)
            .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
                let api = floor_api.clone();
                async move {
                    let status = json!({"status": {"id": format!("cop_{:022}", i), "observedGeneration": 1}});
                    api.patch_status(
                        &format!("floor-{i:05}"),
                        &PatchParams::default(),
                        &Patch::Merge(&status),
                    )
                    .await
                    .expect("status");
                }
            })
            .await;
        let floor = started.elapsed();
        row(
            &format!("API-server floor: {n} status writes, {CLIENT_CONCURRENCY} in flight"),
            format!(
                "{:.2} s ({:.0} writes/s)",
                floor.as_secs_f64(),
                n as f64 / floor.as_secs_f64()
            ),
            "-",
        );

        // 1. Bulk create.
        let mut bulk = Setup::new(&env, "bench-bulk", None, poll).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let writes_before = apiserver_writes(&env).await;
        let started = Instant::now();
        bulk.create("p", n).await;
        bulk.wait_ready(n, Duration::from_secs(600)).await;
        let took = started.elapsed();
        let writes = apiserver_writes(&env).await - writes_before;
        let (calls, auth0_writes, _) = bulk.auth0_counts();
        let create_figures = (took, calls);
        row(
            &format!("Bulk create: {n} profiles applied at once until all Ready"),
            format!(
                "{:.2} s ({:.2}x the floor)",
                took.as_secs_f64(),
                took.as_secs_f64() / floor.as_secs_f64()
            ),
            "within 2x the floor",
        );
        row(
            "Bulk create: Auth0 calls per resource",
            format!("{:.2} ({calls} calls, {auth0_writes} writes)", calls as f64 / n as f64),
            "-",
        );
        row(
            "Bulk create: API-server writes per resource",
            format!("{:.2} (the bench's own {n} applies included)", writes / n as f64),
            "-",
        );
        let (rss, peak) = bulk.memory();
        row(
            &format!("Memory at {n} resources: resident, peak"),
            format!("{rss:.1} MiB, {peak:.1} MiB"),
            "under 50 MB",
        );

        // 3. Steady state over three poll intervals.
        tokio::time::sleep(poll).await; // let the first drift pass after creation settle
        let (calls_before, writes_before_auth0, _) = bulk.auth0_counts();
        let api_before = apiserver_writes(&env).await;
        tokio::time::sleep(poll * 3).await;
        let (calls_after, writes_after_auth0, _) = bulk.auth0_counts();
        let api_after = apiserver_writes(&env).await;
        let per_interval = (calls_after - calls_before) as f64 / 3.0;
        operator = Some(deploy_cli::OperatorFigures {
            create: create_figures.0,
            create_calls: create_figures.1,
            calls_per_interval: per_interval,
            poll,
        });
        row(
            &format!(
                "Steady state: Auth0 calls per poll interval ({}s), {n} settled",
                poll.as_secs()
            ),
            format!("{per_interval:.1}"),
            &format!("ceil(N/10) = {}", n.div_ceil(10)),
        );
        row(
            "Steady state: Auth0 writes and API-server writes over 3 intervals",
            format!(
                "{} and {}",
                writes_after_auth0 - writes_before_auth0,
                api_after - api_before
            ),
            "0 and 0",
        );

        // 4. Restart with N settled resources.
        bulk.stop_operator();
        let (calls_before, writes_before_auth0, _) = bulk.auth0_counts();
        let api_before = apiserver_writes(&env).await;
        let started = Instant::now();
        bulk.start_operator();
        let confirmed = loop {
            if bulk.operator_metric("auth0_operator_reconciles_total{kind=\"ConnectionProfile\",result=\"success\"}")
                >= n as f64
            {
                break started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "restart never confirmed every resource"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let (calls_after, writes_after_auth0, _) = bulk.auth0_counts();
        let api_after = apiserver_writes(&env).await;
        row(
            &format!("Restart with {n} settled: seconds until every resource is confirmed"),
            format!("{:.2} s", confirmed.as_secs_f64()),
            "-",
        );
        row(
            "Restart: Auth0 calls, Auth0 writes, API-server writes",
            format!(
                "{}, {}, {}",
                calls_after - calls_before,
                writes_after_auth0 - writes_before_auth0,
                api_after - api_before
            ),
            "writes 0",
        );

        // 5. Latency: one resource changed 100 times in a row.
        let mut latencies = Vec::with_capacity(args.latency_runs);
        let api = bulk.profiles();
        for run in 0..args.latency_runs {
            let template = if run % 2 == 0 { "l-{org_id}-" } else { "m-{org_id}-" };
            let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                "metadata": {"name": "p-00000"},
                "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"], "connectionNamePrefixTemplate": template}});
            let started = Instant::now();
            let applied = api
                .patch("p-00000", &PatchParams::apply("bench"), &Patch::Apply(&object))
                .await
                .expect("apply");
            let generation = applied.metadata.generation;
            loop {
                let current = api.get("p-00000").await.expect("get");
                if current.metadata.generation == generation && is_ready(&current) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies.push(started.elapsed());
        }
        latencies.sort();
        row(
            &format!("Latency: apply to Ready, {} changes in a row", args.latency_runs),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
                percentile(&latencies, 0.99).as_secs_f64() * 1000.0
            ),
            "p50 under 100 ms",
        );
        drop(bulk);
    }

    if args.runs("rate-limited") {
        // 2. Under Auth0's rate limit (Enterprise non-production: burst 10, 2 requests/s).
        let limited_n = args.rate_limited_n;
        let limited = Setup::new(&env, "bench-limited", Some((10, 2.0)), Duration::from_secs(600)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = Instant::now();
        limited.create("r", limited_n).await;
        limited.wait_ready(limited_n, Duration::from_secs(1200)).await;
        let took = started.elapsed();
        let (calls, _, throttled) = limited.auth0_counts();
        let ideal = limited_n as f64 / 2.0;
        row(
            &format!("Rate-limited create: {limited_n} profiles at burst 10, 2/s"),
            format!(
                "{:.1} s vs ideal {ideal:.0} s ({:+.1}%)",
                took.as_secs_f64(),
                (took.as_secs_f64() / ideal - 1.0) * 100.0
            ),
            "within 10% of N/2 s",
        );
        let log = limited.emulator.requests(&limited.domain).expect("tenant");
        let kind = |method: &str, path: &str| log.iter().filter(|r| r.method == method && r.path == path).count();
        let (tokens, pages, posts) = (
            kind("POST", "/oauth/token"),
            kind("GET", "/api/v2/connection-profiles"),
            kind("POST", "/api/v2/connection-profiles"),
        );
        row(
            &format!("Rate-limited create: Auth0 calls for {limited_n} profiles"),
            format!(
                "{calls} ({:.3} per profile): {posts} create, {pages} listing pages, {tokens} token, {} other",
                calls as f64 / limited_n as f64,
                calls - tokens - pages - posts
            ),
            "at most 1.05 per profile, listings included",
        );
        row("Rate-limited create: 429 answers", format!("{throttled}"), "at most 1");
        drop(limited);
    }

    // 6. Memory at the large N.
    if args.runs("large") && args.large_n > 0 {
        let mut large = Setup::new(&env, "bench-large", None, Duration::from_secs(600)).await;
        large.create("q", args.large_n).await;
        large.wait_ready(args.large_n, Duration::from_secs(1500)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss, peak) = large.memory();
        row(
            &format!("Memory at {} resources: resident, peak", args.large_n),
            format!("{rss:.1} MiB, {peak:.1} MiB"),
            "under 200 MB",
        );
        large.stop_operator();
    }

    // 8. Memory against the cluster's other Secrets: the operator caches labelled ones only.
    if args.runs("secrets") && args.unrelated_secrets > 0 {
        let count = args.unrelated_secrets;
        let mut quiet = Setup::new(&env, "bench-secrets", None, Duration::from_secs(600)).await;
        quiet.create("s", 10).await;
        quiet.wait_ready(10, Duration::from_secs(120)).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (before, _) = quiet.memory();
        // In the operator's own namespace, which it watches for Secrets: without the label
        // selector every one of them would be listed and cached.
        let secrets: Api<k8s_openapi::api::core::v1::Secret> =
            Api::namespaced(quiet.ns.client.clone(), quiet.ns.name());
        let filler = "x".repeat(UNRELATED_SECRET_BYTES);
        stream::iter(0..count)
            .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
                let secrets = secrets.clone();
                let filler = filler.clone();
                async move {
                    let name = format!("sh.helm.release.v1.unrelated-{i:05}.v1");
                    let object = json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
                        "metadata": {"name": name, "labels": {"owner": "helm"}}, "stringData": {"release": filler}});
                    secrets
                        .patch(&name, &PatchParams::apply("bench"), &Patch::Apply(&object))
                        .await
                        .expect("unrelated secret");
                }
            })
            .await;
        // Time for a watch that did see them to deliver and cache them all.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (after, _) = quiet.memory();
        row(
            &format!(
                "Memory with {count} unrelated Secrets of {} KB added: resident before, after",
                UNRELATED_SECRET_BYTES / 1024
            ),
            format!("{before:.1} MiB, {after:.1} MiB ({:+.1} MiB)", after - before),
            "grows by less than 5 MiB",
        );
        quiet.stop_operator();
    }

    // 9. `plan` over N manifests against a tenant of N profiles.
    if args.runs("plan") {
        let measured = plan::run(n, env.dir()).await;
        // A listing of N profiles takes ceil(N/10) pages, one more (empty) when N is a
        // multiple of 10: Auth0 does not look ahead (see Auth0Client::list).
        let pages = n / 10 + 1;
        row(
            &format!("plan: {n} manifests against {n} profiles, wall time (exit code)"),
            format!("{:.2} s ({:?})", measured.took.as_secs_f64(), measured.exit_code),
            "under 5 s, exit 0",
        );
        row(
            &format!("plan: {n} manifests, Auth0 calls"),
            format!(
                "{} list, {} token, {} other",
                measured.lists, measured.tokens, measured.others
            ),
            &format!("{pages} list (ceil(N/10), +1 empty page when N is a multiple of 10), 1 token, 0 other"),
        );
    }

    // 10. Many tenants in one operator (issue 15).
    if args.runs("tenants") {
        let sizes = tenants::Sizes {
            first_backlog: args.tenants_backlogs.0,
            second_backlog: args.tenants_backlogs.1,
            changes: args.tenants_changes,
            large_n: args.tenants_large_n,
            large_tenants: args.tenants_large_tenants,
            poll: Duration::from_secs(args.poll_secs),
        };
        for (what, figure, target) in tenants::run(&env, &sizes).await {
            row(&what, figure, &target);
        }
    }

    // 11. Create/delete churn: memory and per-resource metrics stay flat (issue 24).
    if args.runs("churn") && args.churn_cycles > 0 {
        for (what, figure, target) in churn::run(&env, args.churn_cycles).await {
            row(&what, figure, &target);
        }
    }

    // 7. The peer: the Auth0 Deploy CLI deploying the same profiles from YAML.
    let comparison = match deploy_cli {
        Some(prepared) => Some(deploy_cli::run(&prepared, n, operator.as_ref()).await),
        None => None,
    };

    write_report(&args, &rows, comparison.as_deref(), load_at_start);
}

/// Starts the operator for `ns` (its own namespace too) against the emulator's
/// `allowed_hosts`, logging to the test environment's folder, with `extra` flags.
fn spawn_operator(
    env: &TestEnv,
    ns: &TestNamespace,
    poll: Duration,
    allowed_hosts: &str,
    metrics_port: u16,
    extra: &[&str],
) -> Child {
    let binary = std::env::current_exe().expect("exe").with_file_name("auth0-operator");
    let log = env.dir().join(format!("bench-operator-{}.log", ns.name()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log");
    Command::new(&binary)
        .args(["run", "--namespace", ns.name(), "--operator-namespace", ns.name()])
        .args([
            "--poll-interval",
            &format!("{}s", poll.as_secs()),
            "--allow-insecure-http",
        ])
        .args(["--allowed-tenant-hosts", allowed_hosts, "--log-format", "text"])
        .args(extra)
        .args(["--http-address", &format!("127.0.0.1:{metrics_port}")])
        .arg("--kubeconfig")
        .arg(env.kubeconfig("admin"))
        .env(
            "RUST_LOG",
            std::env::var("AUTH0_BENCH_OPERATOR_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()))
}

/// The machine's 1-minute load average: other work on a shared machine slows the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Rewrites the "## Operator" section of `args.out`: the table of `rows`, then scenario 7's
/// comparison with the Deploy CLI when it ran.
fn write_report(args: &Args, rows: &[(String, String, String)], comparison: Option<&str>, load_at_start: String) {
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut table = format!(
        "## Operator\n\nMeasured by `{}` on {date}: {cores} cores ({machine}), kube-apiserver v1.36.3 and etcd v3.6.16 \
         built from their Go modules, the Auth0 emulator in-process, auth0-operator {} as a process. \
         N = {}, poll interval {} s for the steady-state figures. Load average (1 minute) {load_at_start} \
         at the start, {} at the end.\n\n",
        std::env::args().collect::<Vec<_>>().join(" "),
        env!("CARGO_PKG_VERSION"),
        args.n,
        args.poll_secs,
        load_average()
    );
    if !rows.is_empty() {
        table.push_str("| What | Figure | Target |\n|---|---|---|\n");
    }
    for (what, figure, target) in rows {
        table.push_str(&format!("| {what} | {figure} | {target} |\n"));
    }
    if let Some(comparison) = comparison {
        table.push('\n');
        table.push_str(comparison);
    }
    let existing = std::fs::read_to_string(&args.out).unwrap_or_default();
    let kept = match existing.find("## Operator") {
        Some(start) => {
            let end = existing[start + 1..]
                .find("\n## ")
                .map_or(existing.len(), |e| start + 1 + e + 1);
            format!("{}{}", &existing[..start], &existing[end..])
        }
        None => existing,
    };
    let report = format!("{}\n\n{table}", kept.trim_end());
    std::fs::write(&args.out, report).unwrap_or_else(|e| panic!("writing {}: {e}", args.out.display()));
    println!("wrote {}", args.out.display());
}
