//! Scenario 7, the peer: the Auth0 Deploy CLI (`auth0-deploy-cli`, pinned by
//! `emulator/conformance/package-lock.json`) deploys the bulk create's N profiles from one
//! YAML file to a fresh tenant of the emulator, twice: the first deploy creates all N, the
//! second has nothing to change. Each deploy is one `node bench/deploy-cli.mjs` process
//! (the Deploy CLI's Node API, which `a0deploy import` runs). The tenant's request log gives
//! the Auth0 calls; the tenant's stored profiles prove the first deploy did its work.
//!
//! Node (>= 20) and npm are required: without them the bench fails, it never skips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use auth0_emulator::{ClientConfig, Config, Emulator, Endpoint, LogEntry, TenantConfig, TlsConfig};
use auth0_operator::controller::desired::{desired, normalize};
use auth0_operator::crd::ConnectionProfile;
use serde_json::{Value, json};

const DOMAIN: &str = "deploy-cli.auth0.test";
const MIN_NODE_MAJOR: u32 = 20;

/// What the operator did with the same N, from the `bulk` scenario of the same run.
pub struct OperatorFigures {
    /// Bulk create: the applies until all N are Ready.
    pub create: Duration,
    /// Auth0 calls during the bulk create (token included).
    pub create_calls: usize,
    /// Steady state: Auth0 calls per poll interval.
    pub calls_per_interval: f64,
    pub poll: Duration,
}

/// Node and the Deploy CLI, checked (and installed) before any scenario runs.
pub struct Prepared {
    node_version: String,
    cli_version: String,
    /// The folder whose node_modules holds the Deploy CLI.
    modules: PathBuf,
    script: PathBuf,
}

/// One deploy: its times, its calls per endpoint, the profiles it left behind.
struct Deploy {
    /// The `deploy()` call alone, timed inside the Node process.
    deploy: Duration,
    /// The whole `node` process: start-up, loading the Deploy CLI, the deploy.
    process: Duration,
    /// From the start of `deploy()` to its first connection-profile call (after the token).
    before_first_call: Duration,
    calls: BTreeMap<&'static str, usize>,
    total_calls: usize,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

fn fail(reason: &str) -> ! {
    panic!(
        "scenario 7 (the Auth0 Deploy CLI) cannot run: {reason}. It needs node >= {MIN_NODE_MAJOR} \
         and npm; install them, or leave the scenario out with --only bulk,rate-limited,large"
    )
}

fn version_of(program: &str) -> String {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => fail(&format!(
            "`{program} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => fail(&format!("`{program}` not found ({e})")),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Checks node, and runs `npm ci` in emulator/conformance when its node_modules is missing
/// or older than the lockfile (as emulator/conformance/run.sh does).
pub fn prepare() -> Prepared {
    let node_version = version_of("node");
    let major = node_version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        fail(&format!("node is {node_version}"));
    }
    let modules = repo_root().join("emulator/conformance");
    let installed = modules.join("node_modules/.package-lock.json");
    let stale = match (modified(&installed), modified(&modules.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => lock > installed,
        _ => true,
    };
    if stale {
        let npm_version = version_of("npm");
        println!("scenario 7: npm ci in {} (npm {npm_version})", modules.display());
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&modules)
            .status()
            .unwrap_or_else(|e| fail(&format!("npm ci: {e}")));
        if !status.success() {
            fail(&format!("npm ci in {} failed ({status})", modules.display()));
        }
    }
    let manifest = modules.join("node_modules/auth0-deploy-cli/package.json");
    let cli_version = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_else(|| fail(&format!("{} is missing after npm ci", manifest.display())));
    Prepared {
        node_version,
        cli_version,
        modules,
        script: repo_root().join("bench/deploy-cli.mjs"),
    }
}

/// The Deploy CLI's YAML for the profiles: each one the body the operator would send for
/// it, with the fields it leaves empty left out.
fn yaml(profiles: &[ConnectionProfile]) -> String {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    let mut out = String::from("connectionProfiles:\n");
    for profile in profiles {
        let body = desired(profile);
        let mut lead = "  - ";
        // JSON values are YAML flow values; the name first, as the Deploy CLI exports it.
        let name = body.get("name").into_iter().map(|v| ("name", v));
        let rest = body
            .iter()
            .filter(|(k, v)| k.as_str() != "name" && !empty(v))
            .map(|(k, v)| (k.as_str(), v));
        for (key, value) in name.chain(rest) {
            out.push_str(&format!("{lead}{key}: {value}\n"));
            lead = "    ";
        }
    }
    out
}

/// Runs one deploy of `input` and reads its calls from the tenant's request log.
async fn deploy(prepared: &Prepared, dir: &Path, label: &str, emulator: &Emulator) -> Deploy {
    let seen = emulator.requests(DOMAIN).expect("tenant").len();
    let started = Instant::now();
    let output = tokio::process::Command::new("node")
        .arg(&prepared.script)
        .arg(&prepared.modules)
        .arg(dir.join("tenant.yaml"))
        .arg(dir.join("config.json"))
        .env("NODE_EXTRA_CA_CERTS", dir.join("ca.pem"))
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|e| fail(&format!("starting node: {e}")));
    let process = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let log = dir.join(format!("{label}.log"));
    std::fs::write(&log, format!("{stdout}\n--- stderr\n{stderr}")).expect("deploy log");
    let tail = |text: &str| {
        text.lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        output.status.success(),
        "the Deploy CLI's {label} deploy failed ({}); log {}:\n{}\n{}",
        output.status,
        log.display(),
        tail(&stdout),
        tail(&stderr)
    );
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(|v| v.get("deploy_ms").is_some())
        })
        .unwrap_or_else(|| panic!("no result line from the {label} deploy; log {}", log.display()));
    let ms = |key: &str| {
        result[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {result}"))
    };

    let entries: Vec<LogEntry> = emulator.requests(DOMAIN).expect("tenant").split_off(seen);
    let bad: Vec<String> = entries
        .iter()
        .filter(|e| !(200..300).contains(&e.status) || e.endpoint == Endpoint::Unknown || e.dropped)
        .take(5)
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.status))
        .collect();
    assert!(
        bad.is_empty(),
        "the Deploy CLI's {label} deploy made calls that failed: {bad:?}; log {}",
        log.display()
    );
    let mut calls = BTreeMap::new();
    for entry in &entries {
        let name = match entry.endpoint {
            Endpoint::Token => "token",
            Endpoint::ListProfiles => "list",
            Endpoint::GetProfile => "get",
            Endpoint::CreateProfile => "create",
            Endpoint::UpdateProfile => "update",
            Endpoint::DeleteProfile => "delete",
            _ => "templates",
        };
        *calls.entry(name).or_insert(0) += 1;
    }
    let deploy_started = ms("deploy_started_unix_ms");
    let first_call = entries
        .iter()
        .find(|e| e.endpoint != Endpoint::Token)
        .map_or(deploy_started, |e| e.time_ms as f64);
    Deploy {
        deploy: Duration::from_secs_f64(ms("deploy_ms") / 1000.0),
        process,
        before_first_call: Duration::from_secs_f64(((first_call - deploy_started) / 1000.0).max(0.0)),
        calls,
        total_calls: entries.len(),
    }
}

/// The stored profiles must be exactly the N desired ones: each, normalised as the operator
/// compares, equal to the body the operator would send for it.
fn verify(emulator: &Emulator, profiles: &[ConnectionProfile]) {
    let stored = emulator.profiles(DOMAIN).expect("tenant");
    assert_eq!(
        stored.len(),
        profiles.len(),
        "after the Deploy CLI's first deploy the tenant holds {} profiles, not {}",
        stored.len(),
        profiles.len()
    );
    let by_name: BTreeMap<&str, &auth0_emulator::Profile> = stored.iter().map(|p| (p.name.as_str(), p)).collect();
    for profile in profiles {
        let name = profile.effective_name();
        let found = by_name
            .get(name)
            .unwrap_or_else(|| panic!("the Deploy CLI did not create {name}"));
        let found = serde_json::to_value(found).expect("profile");
        assert_eq!(
            normalize(&found),
            desired(profile),
            "the Deploy CLI stored {name} with other fields than the operator's: {found}"
        );
    }
}

fn breakdown(calls: &BTreeMap<&'static str, usize>) -> String {
    ["token", "list", "get", "create", "update", "delete", "templates"]
        .iter()
        .filter_map(|name| calls.get(name).map(|count| format!("{name} {count}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// Runs scenario 7 and returns its Markdown: a heading, a table, how it is made fair.
pub async fn run(prepared: &Prepared, n: usize, operator: Option<&OperatorFigures>) -> String {
    let dir = std::env::temp_dir().join(format!("auth0-bench-deploy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let profiles: Vec<ConnectionProfile> = (0..n)
        .map(|i| serde_json::from_value(crate::bench_profile("p", i)).expect("a ConnectionProfile"))
        .collect();
    std::fs::write(dir.join("tenant.yaml"), yaml(&profiles)).expect("tenant.yaml");

    // The operator's bulk-create tenant, but over https: the Deploy CLI speaks nothing else.
    let emulator = Emulator::start(Config {
        tenants: vec![TenantConfig {
            domain: DOMAIN.into(),
            clients: vec![ClientConfig {
                client_id: "bench".into(),
                client_secret: "bench-secret".into(),
                scopes: crate::SCOPES.iter().map(|s| s.to_string()).collect(),
            }],
            port: Some(0),
            rate_limit: None,
            ..TenantConfig::default()
        }],
        tls: Some(TlsConfig {
            ca_cert_file: dir.join("ca.pem"),
        }),
        request_log_capacity: 1_000_000,
        ..Config::default()
    })
    .await
    .expect("emulator");
    let url = emulator.tenant_url(DOMAIN).expect("url");
    let config = json!({
        "AUTH0_DOMAIN": url.trim_start_matches("https://"),
        "AUTH0_CLIENT_ID": "bench",
        "AUTH0_CLIENT_SECRET": "bench-secret",
        "AUTH0_INCLUDED_ONLY": ["connectionProfiles"],
        "AUTH0_ALLOW_DELETE": false,
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config.json");

    println!("scenario 7: the Deploy CLI deploys {n} profiles (first deploy)");
    let first = deploy(prepared, &dir, "first", &emulator).await;
    verify(&emulator, &profiles);
    let after_first = emulator.profiles(DOMAIN).expect("tenant");
    println!("scenario 7: the Deploy CLI deploys them again (nothing to change)");
    let second = deploy(prepared, &dir, "second", &emulator).await;
    assert!(
        emulator.profiles(DOMAIN).expect("tenant") == after_first,
        "the Deploy CLI's second deploy changed stored profiles"
    );
    emulator.shutdown().await.expect("emulator shutdown");
    let _ = std::fs::remove_dir_all(&dir);

    let secs = |d: Duration| d.as_secs_f64();
    let deploy_cell = |d: &Deploy| {
        format!(
            "{:.2} s ({:.1} s of it before its first connection-profile call; {:.2} s with Node's start-up and loading the Deploy CLI)",
            secs(d.deploy),
            secs(d.before_first_call),
            secs(d.process)
        )
    };
    let ratios = operator.map(|op| {
        (
            secs(first.deploy) / secs(op.create),
            second.total_calls as f64 / op.calls_per_interval.max(f64::MIN_POSITIVE),
        )
    });
    let (op_create, op_create_calls, op_idle) = match operator {
        Some(op) => (
            format!(
                "{:.2} s (bulk create: applied at once until all Ready)",
                secs(op.create)
            ),
            format!("{}", op.create_calls),
            format!(
                "{:.1} per poll interval ({} s), steady state",
                op.calls_per_interval,
                op.poll.as_secs()
            ),
        ),
        None => {
            let missing = "not measured (`--only` without `bulk`)".to_string();
            (missing.clone(), missing.clone(), missing)
        }
    };
    let (speed_up, speed_target, fewer, calls_target) = match ratios {
        Some((speed_up, fewer)) => (
            format!("operator {speed_up:.1}x faster"),
            format!("at least 2x: {}", verdict(speed_up >= 2.0)),
            format!("{fewer:.1}x fewer for the operator"),
            format!("at least 10x: {}", verdict(fewer >= 10.0)),
        ),
        None => (
            "-".to_string(),
            "at least 2x: not judged".to_string(),
            "-".to_string(),
            "at least 10x: not judged".to_string(),
        ),
    };
    let every_profile_updated = second.calls.get("update") == Some(&n);
    format!(
        "### Scenario 7: the Auth0 Deploy CLI on the same profiles\n\n\
         `auth0-deploy-cli` {cli} (its Node API `deploy`, which `a0deploy import` runs; Node {node}) \
         deploys the same N = {n} profiles as the bulk create from one YAML file to a fresh emulator \
         tenant, in the same run: a first deploy that creates them all, then the same file again, \
         with nothing to change. Both were checked: after the first the tenant held exactly the {n} \
         profiles, each with the fields the operator would have written; the second changed no \
         stored profile; no call failed.\n\n\
         | What | Deploy CLI | Operator | Ratio | Target |\n|---|---|---|---|---|\n\
         | Create {n} profiles: seconds | {d1} | {op_create} | {speed_up} | {speed_target} |\n\
         | Create {n} profiles: Auth0 calls | {c1} ({b1}) | {op_create_calls} | - | - |\n\
         | Nothing to change: seconds | {d2} | - (nothing to run: the operator keeps checking) | - | - |\n\
         | Nothing to change: Auth0 calls | {c2} ({b2}) per deploy | {op_idle} | {fewer} | {calls_target} |\n\n\
         How the comparison is made fair: the same emulator code (a fresh in-process instance, \
         not rate limited, like the bulk create's), the same N and the same profiles (the YAML holds, \
         for each bulk-create resource, the body the operator sends, its empty fields left out), \
         the same machine, in the same run, Auth0 calls counted the same way (from the emulator's \
         request log, token requests included). The Deploy CLI's seconds are its `deploy()` call \
         alone, timed inside a Node process that has already started and loaded the Deploy CLI: \
         **its process start-up is not counted** (the figure with it is beside it), as the \
         operator's bulk create does not count the operator's start-up (it is running before the \
         applies). What `deploy()` does is counted: its schema validation before the first \
         connection-profile call, and its built-in pacing (at most 8 Management API requests a \
         second, 3 in flight, not configurable), which every `a0deploy import` pays. What differs: \
         the Deploy CLI talks https (it cannot talk http) to an emulator with a CA of its own, the \
         operator plain http; the operator's seconds also include the Kubernetes API server (the \
         bench's {n} applies and the operator's status writes). The operator needs no deploy when \
         nothing changed: its figure is one poll interval of its steady state{updated}.\n",
        cli = prepared.cli_version,
        node = prepared.node_version,
        d1 = deploy_cell(&first),
        c1 = first.total_calls,
        b1 = breakdown(&first.calls),
        d2 = deploy_cell(&second),
        c2 = second.total_calls,
        b2 = breakdown(&second.calls),
        updated = if every_profile_updated {
            "; the Deploy CLI lists every profile and then sends an update for each, changed or not"
        } else {
            ""
        },
    )
}
