//! The alerts and the dashboard, tested on real series. An end-to-end run of the operator
//! against the emulator captures its `/metrics` healthy, while Auth0 throttles it, with scopes
//! missing from its grant, with its credentials revoked, and a standby replica's; `promtool check rules` and `promtool test
//! rules` then run the PrometheusRule's alerts (deploy/components/prometheus-rule) on input
//! series made from those captures, and every rule expression and dashboard query is parsed
//! by Prometheus's own parser and may name only metrics, labels and label values the
//! captures hold. A metric or label an alert needs and the operator stops exporting fails
//! here.
//!
//! How captures become input series: each capture is one scrape target, with the labels the
//! Prometheus Operator adds (job, namespace, pod, ...). Gauges keep the captured value; a
//! counter starts at its captured value and grows each minute by what it grew between the
//! state's baseline capture and the state's capture, scaled from the real seconds between
//! them to a minute, so a rate is the one observed. The captures and the generated promtool
//! files are kept under the test's target temp folder (printed on failure).
//!
//! promtool and promql-selectors are built by tools/build-tools.sh (cached).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use auth0_emulator::ClientChange;
use auth0_operator::crd::{Auth0Tenant, ConnectionProfile};
use auth0_operator::metrics::{CONDITION_TYPES, REASONS};
use common::{Harness, condition, free_port, http_get, observed};
use kube::api::Api;
use serde_json::{Value, json};

const RULES: &str = "deploy/components/prometheus-rule/prometheusrule.yaml";
const DASHBOARD: &str = "deploy/components/grafana-dashboard/auth0-operator.json";
/// The namespace the scrape gives every series (the operator's, in a real install).
const NAMESPACE: &str = "auth0-operator";
/// Minutes of input series per scenario, and when the alerts are checked: after the longest
/// `for` (15m) plus the 5m rate window.
const MINUTES: u32 = 30;
const EVAL: &str = "25m";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The folder `tools/build-tools.sh` prints (promtool, promql-selectors); builds them on
/// first use.
fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = Command::new(repo("tools/build-tools.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("running tools/build-tools.sh");
        assert!(out.status.success(), "tools/build-tools.sh failed ({})", out.status);
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
}

/// Where this test writes its captures and promtool files.
fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("monitoring");
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

/// Runs a tool; returns stdout, or panics with its output.
fn run(cmd: &mut Command, stdin: &[u8]) -> String {
    use std::io::Write;
    let line = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{line}: {e}"));
    writer.join().expect("writer").expect("stdin");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{line} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout.into_owned()
}

/// The PrometheusRule's rule groups, as a Prometheus rule file (JSON is YAML).
fn rule_groups() -> Value {
    let text = std::fs::read_to_string(repo(RULES)).expect("rules");
    let rule: Value = serde_saphyr::from_str(&text).expect("PrometheusRule YAML");
    assert_eq!(rule["kind"], "PrometheusRule");
    json!({"groups": rule["spec"]["groups"]})
}

fn alerts(groups: &Value) -> Vec<&Value> {
    groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .filter(|r| r.get("alert").is_some())
        .collect()
}

/// Every query of the dashboard, Grafana's interval variables replaced by a duration and
/// `$namespace` by the scrape's namespace, so Prometheus's parser can read them.
fn dashboard_queries() -> Vec<(String, String)> {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(repo(DASHBOARD)).expect("dashboard")).expect("dashboard JSON");
    fn panels<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in list.as_array().into_iter().flatten() {
            out.push(panel);
            panels(&panel["panels"], out);
        }
    }
    let mut all = Vec::new();
    panels(&dashboard["panels"], &mut all);
    let mut queries = Vec::new();
    for panel in all {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("every target has an expr");
            let concrete = expr
                .replace("$__rate_interval", "5m")
                .replace("$__interval", "1m")
                .replace("$__range", "1h")
                .replace("$namespace", NAMESPACE);
            assert!(!concrete.contains('$'), "an unknown variable in {expr:?}");
            let title = format!("{} / {}", panel["title"].as_str().unwrap_or("?"), target["refId"]);
            queries.push((title, concrete));
        }
    }
    assert!(queries.len() >= 10, "the dashboard lost its queries: {queries:?}");
    queries
}

/// Writes the rules and, as recording rules, the dashboard's queries, and has
/// `promtool check rules` parse both. Returns the rule file's path.
fn promtool_check(dir: &Path) -> PathBuf {
    let groups = rule_groups();
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, serde_json::to_vec_pretty(&groups).expect("json")).expect("write");
    let records: Vec<Value> = dashboard_queries()
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| json!({"record": format!("dashboard:query_{i}"), "expr": expr}))
        .collect();
    let dashboard = dir.join("dashboard-queries.yaml");
    let file = json!({"groups": [{"name": "dashboard", "rules": records}]});
    std::fs::write(&dashboard, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
    let promtool = tools().join("promtool");
    let out = run(
        Command::new(&promtool)
            .args(["check", "rules"])
            .arg(&rules)
            .arg(&dashboard),
        b"",
    );
    assert!(out.contains("SUCCESS"), "{out}");
    rules
}

/// Rules and dashboard queries parse (promtool): no control plane needed.
#[test]
fn rules_and_dashboard_queries_pass_promtool_check() {
    let dir = work_dir().join("check");
    std::fs::create_dir_all(&dir).expect("dir");
    promtool_check(&dir);
    let groups = rule_groups();
    let names: Vec<&str> = alerts(&groups)
        .iter()
        .map(|a| a["alert"].as_str().expect("name"))
        .collect();
    let operations = std::fs::read_to_string(repo("docs/operations.md")).expect("docs/operations.md");
    for alert in alerts(&groups) {
        let name = alert["alert"].as_str().expect("name");
        for key in ["summary", "description", "runbook_url"] {
            assert!(
                alert["annotations"][key].as_str().is_some_and(|s| !s.trim().is_empty()),
                "{name} has no {key}"
            );
        }
        // The runbook is a section of docs/operations.md (a GitHub heading anchor).
        let anchor = alert["annotations"]["runbook_url"]
            .as_str()
            .and_then(|u| u.split_once("docs/operations.md#"))
            .map(|(_, a)| a.to_string())
            .unwrap_or_else(|| panic!("{name}: runbook_url is not a section of docs/operations.md"));
        assert_eq!(anchor, name.to_lowercase(), "{name}: the anchor is the alert's name");
        assert!(
            operations
                .lines()
                .any(|l| l.starts_with('#') && l.trim_start_matches('#').trim() == name),
            "docs/operations.md has no heading {name}"
        );
        assert!(
            alert["labels"]["severity"]
                .as_str()
                .is_some_and(|s| ["critical", "warning"].contains(&s)),
            "{name}: severity"
        );
    }
    assert_eq!(names.len(), 6, "{names:?}");
}

/// A series: metric name and labels.
type Series = (String, BTreeMap<String, String>);

/// One scrape of an operator's /metrics.
struct Capture {
    samples: BTreeMap<Series, f64>,
    /// Family name → `counter`, `gauge`, `histogram`, ...
    types: BTreeMap<String, String>,
    at: Instant,
}

impl Capture {
    fn parse(text: &str) -> Capture {
        let mut samples = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (family, kind) = rest.split_once(' ').expect("# TYPE name type");
                types.insert(family.to_string(), kind.to_string());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
            let series = parse_series(series);
            // ClusterAuth0Tenants are cluster-scoped: every operator sees the ones other tests
            // on this control plane make, in whatever state those tests leave them.
            if series.1.get("kind").map(String::as_str) == Some("ClusterAuth0Tenant") {
                continue;
            }
            samples.insert(series, value);
        }
        Capture {
            samples,
            types,
            at: Instant::now(),
        }
    }

    /// Whether a sample only ever grows (a counter's, or a histogram's bucket, sum, count).
    fn cumulative(&self, sample: &str) -> bool {
        self.types.iter().any(|(family, kind)| {
            (kind == "counter" || kind == "histogram")
                && sample
                    .strip_prefix(family.as_str())
                    .is_some_and(|suffix| ["", "_total", "_bucket", "_sum", "_count", "_created"].contains(&suffix))
        })
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|((n, l), _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(v)))
            .map(|(_, v)| *v)
    }
}

/// `name{a="b",c="d"}` → (name, labels).
fn parse_series(text: &str) -> Series {
    let Some((name, rest)) = text.split_once('{') else {
        return (text.to_string(), BTreeMap::new());
    };
    let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unbalanced: {text}"));
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label value not quoted in {text}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().expect("escape")),
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key.trim().to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    (name.to_string(), labels)
}

fn render_series((name, labels): &Series) -> String {
    let body: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{name}{{{}}}", body.join(","))
}

/// The labels a Prometheus Operator scrape of the metrics Service adds to a pod's series.
fn target_labels(pod: &str) -> BTreeMap<String, String> {
    [
        ("job", "auth0-operator-metrics"),
        ("namespace", NAMESPACE),
        ("service", "auth0-operator-metrics"),
        ("endpoint", "http"),
        ("container", "auth0-operator"),
        ("pod", pod),
        (
            "instance",
            if pod.ends_with("leader") {
                "10.0.0.10:8080"
            } else {
                "10.0.0.11:8080"
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// One scrape target in a scenario: `state` as it was, growing as it grew since `baseline`.
struct Target<'a> {
    pod: &'static str,
    baseline: Option<&'a Capture>,
    state: &'a Capture,
}

/// promtool input series for `targets`, one value a minute for MINUTES minutes.
fn input_series(targets: &[Target]) -> Vec<Value> {
    let mut series = Vec::new();
    for target in targets {
        let seconds = target
            .baseline
            .map(|b| target.state.at.duration_since(b.at).as_secs_f64().max(1.0));
        for ((name, labels), value) in &target.state.samples {
            let step = match (target.baseline, seconds) {
                (Some(baseline), Some(seconds)) if target.state.cumulative(name) => {
                    let before = baseline
                        .samples
                        .get(&(name.clone(), labels.clone()))
                        .copied()
                        .unwrap_or(0.0);
                    (value - before).max(0.0) * 60.0 / seconds
                }
                _ => 0.0,
            };
            let values: Vec<String> = (0..=MINUTES)
                .map(|minute| format!("{}", value + step * f64::from(minute)))
                .collect();
            let mut labels = labels.clone();
            labels.extend(target_labels(target.pod));
            series.push(json!({"series": render_series(&(name.clone(), labels)), "values": values.join(" ")}));
        }
    }
    series
}

/// The label sets (besides the rule's own labels) an alert is expected to fire with.
type Instances = Vec<Vec<(&'static str, &'static str)>>;

/// A promtool test case: the alerts named in `expect` fire at EVAL with exactly these label
/// sets (besides the rule's own labels), and no others; alerts not named are not checked.
fn test_case(name: &str, targets: &[Target], expect: &[(&str, Instances)], groups: &Value) -> Value {
    let rules: BTreeMap<&str, &Value> = alerts(groups)
        .into_iter()
        .map(|a| (a["alert"].as_str().expect("alert"), a))
        .collect();
    let checks: Vec<Value> = expect
        .iter()
        .map(|(alert, instances)| {
            let rule = rules
                .get(alert)
                .unwrap_or_else(|| panic!("no alert {alert} in the rules"));
            let exp_alerts: Vec<Value> = instances
                .iter()
                .map(|labels| {
                    let mut all: BTreeMap<String, Value> = rule["labels"]
                        .as_object()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default();
                    for (k, v) in labels {
                        all.insert(k.to_string(), json!(v));
                    }
                    json!({"exp_labels": all, "exp_annotations": rule["annotations"]})
                })
                .collect();
            json!({"eval_time": EVAL, "alertname": alert, "exp_alerts": exp_alerts})
        })
        .collect();
    json!({"name": name, "interval": "1m", "input_series": input_series(targets), "alert_rule_test": checks})
}

/// The metrics, labels and label values the captures (and the scrape) provide.
struct Exported {
    metrics: BTreeSet<String>,
    values: BTreeMap<String, BTreeSet<String>>,
}

impl Exported {
    fn of(captures: &[&Capture]) -> Exported {
        let mut metrics = BTreeSet::new();
        let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for capture in captures {
            for (name, labels) in capture.samples.keys() {
                metrics.insert(name.clone());
                for (k, v) in labels {
                    values.entry(k.clone()).or_default().insert(v.clone());
                }
            }
        }
        for pod in ["auth0-operator-leader", "auth0-operator-standby"] {
            for (k, v) in target_labels(pod) {
                values.entry(k).or_default().insert(v);
            }
        }
        // Label values the operator writes that a short run may not show: every reason it
        // sets (metrics::REASONS, e.g. ReconcilePaused, NotConverging) and condition type.
        values
            .entry("reason".into())
            .or_default()
            .extend(REASONS.iter().map(|r| r.to_string()));
        let results = values.entry("result".into()).or_default();
        results.extend(REASONS.iter().map(|r| r.to_string()));
        results.insert("success".into());
        values
            .entry("condition".into())
            .or_default()
            .extend(CONDITION_TYPES.iter().map(|c| c.to_string()));
        Exported { metrics, values }
    }

    /// What is wrong with `expr`'s selectors, per promql-selectors (Prometheus's parser).
    fn problems(&self, what: &str, parsed: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(error) = parsed["error"].as_str() {
            return vec![format!("{what}: does not parse: {error}")];
        }
        for selector in parsed["selectors"].as_array().into_iter().flatten() {
            let metric = selector["metric"].as_str().unwrap_or("");
            if !self.metrics.contains(metric) {
                problems.push(format!("{what}: the operator exports no metric {metric:?}"));
            }
            for matcher in selector["matchers"].as_array().into_iter().flatten() {
                let label = matcher["label"].as_str().expect("label");
                let value = matcher["value"].as_str().expect("value");
                let Some(known) = self.values.get(label) else {
                    problems.push(format!("{what}: no series of {metric} has a label {label:?}"));
                    continue;
                };
                let alternatives: Vec<&str> = match matcher["type"].as_str().expect("type") {
                    "=" | "!=" => vec![value],
                    // A plain alternation of words: each word must be a value; any other
                    // regular expression is left alone.
                    _ if value.chars().all(|c| c.is_ascii_alphanumeric() || "|_-".contains(c)) => {
                        value.split('|').collect()
                    }
                    _ => vec![],
                };
                for alternative in alternatives {
                    if !known.contains(alternative) {
                        problems.push(format!(
                            "{what}: {metric}'s label {label} never has the value {alternative:?} (known: {known:?})"
                        ));
                    }
                }
            }
        }
        problems
    }
}

/// Every rule expression and dashboard query, through promql-selectors, against `exported`.
fn check_selectors(exported: &Exported) {
    let mut named: Vec<(String, String)> = alerts(&rule_groups())
        .iter()
        .map(|a| {
            (
                format!("alert {}", a["alert"].as_str().expect("alert")),
                a["expr"].as_str().expect("expr").to_string(),
            )
        })
        .collect();
    named.extend(
        dashboard_queries()
            .into_iter()
            .map(|(title, expr)| (format!("dashboard panel {title}"), expr)),
    );
    let exprs: Vec<&str> = named.iter().map(|(_, e)| e.as_str()).collect();
    let out = run(
        &mut Command::new(tools().join("promql-selectors")),
        &serde_json::to_vec(&exprs).expect("json"),
    );
    let parsed: Vec<Value> = serde_json::from_str(&out).expect("promql-selectors JSON");
    assert_eq!(parsed.len(), named.len());
    let problems: Vec<String> = named
        .iter()
        .zip(&parsed)
        .flat_map(|((what, _), p)| exported.problems(what, p))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for ((what, _), p) in named.iter().zip(&parsed) {
        assert!(
            p["selectors"].as_array().is_some_and(|s| !s.is_empty()),
            "{what} selects nothing"
        );
    }
}

/// The rule that the selector check can fail: a metric the operator lacks, a label it never
/// sets, a value it never writes.
#[test]
fn the_selector_check_refuses_unknown_metrics_labels_and_values() {
    let capture = Capture::parse(
        "# TYPE auth0_operator_leader gauge\nauth0_operator_leader 1\n\
         # TYPE auth0_operator_resource_conditions gauge\n\
         auth0_operator_resource_conditions{kind=\"ConnectionProfile\",condition=\"Ready\",status=\"True\",reason=\"Available\"} 1\n# EOF\n",
    );
    let exported = Exported::of(&[&capture]);
    let exprs = [
        "max by (namespace) (auth0_operator_leader) < 1",
        "auth0_operator_leaders",
        r#"auth0_operator_leader{shard="a"}"#,
        r#"sum(auth0_operator_resource_conditions{status="Maybe"})"#,
        r#"sum(auth0_operator_resource_conditions{reason=~"Unauthorized|Expired"})"#,
        "sum(rate(auth0_operator_leader[5m]",
    ];
    let out = run(
        &mut Command::new(tools().join("promql-selectors")),
        &serde_json::to_vec(&exprs).expect("json"),
    );
    let parsed: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    let problems: Vec<Vec<String>> = exprs
        .iter()
        .zip(&parsed)
        .map(|(e, p)| exported.problems(e, p))
        .collect();
    assert!(problems[0].is_empty(), "{:?}", problems[0]);
    assert!(problems[1][0].contains("no metric"), "{:?}", problems[1]);
    assert!(problems[2][0].contains("label \"shard\""), "{:?}", problems[2]);
    assert!(problems[3][0].contains("\"Maybe\""), "{:?}", problems[3]);
    assert_eq!(problems[4].len(), 1, "{:?}", problems[4]);
    assert!(problems[4][0].contains("\"Expired\""), "{:?}", problems[4]);
    assert!(problems[5][0].contains("does not parse"), "{:?}", problems[5]);
}

/// GET /metrics until `ready` holds of the text; panics after `limit`.
async fn scrape_when(port: u16, limit: Duration, what: &str, ready: impl Fn(&Capture) -> bool) -> (Capture, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some((200, body)) = http_get(port, "/metrics") {
            let capture = Capture::parse(&body);
            if ready(&capture) {
                return (capture, body);
            }
            assert!(Instant::now() < deadline, "/metrics never showed {what}:\n{body}");
        } else {
            assert!(Instant::now() < deadline, "/metrics never answered ({what})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Another client of the tenant, calling the Management API ten times a second with its
/// own token until aborted, as a deploy script or a second tool would.
async fn other_client(url: String, domain: String) {
    let http = auth0_operator::auth0::client::http_client(None, Duration::from_secs(5)).expect("http client");
    let grant: Value = http
        .post(format!("{url}/oauth/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": "operator-client",
                      "client_secret": common::SECRET, "audience": format!("https://{domain}/api/v2/")}),
        )
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let token = grant["access_token"].as_str().expect("access_token").to_string();
    loop {
        let _ = http
            .get(format!("{url}/api/v2/connection-profiles"))
            .bearer_auth(&token)
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A process killed when dropped, also when the test panics.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn conditions_count(capture: &Capture, kind: &str, condition: &str, status: &str, reason: &str) -> f64 {
    capture
        .value(
            "auth0_operator_resource_conditions",
            &[
                ("kind", kind),
                ("condition", condition),
                ("status", status),
                ("reason", reason),
            ],
        )
        .unwrap_or(0.0)
}

async fn wait_profiles(h: &Harness, names: &[String], what: &str, check: impl Fn(&ConnectionProfile) -> bool) {
    for name in names {
        h.wait_for(name, Duration::from_secs(60), what, &check).await;
    }
}

fn ready_and_synced(p: &ConnectionProfile) -> bool {
    observed(p)
        && condition(p, "Ready").is_some_and(|c| c.0 == "True")
        && condition(p, "Synced").is_some_and(|c| c.0 == "True")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_dashboard_hold_on_captured_series() {
    let dir = work_dir().join("e2e");
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = promtool_check(&dir);

    // Tokens that last 5 s, so revoked credentials are refused within seconds.
    let mut h = Harness::prepare_in(testenv::TestEnv::get(), "monitoring", |c| c.token_lifetime_secs = 5).await;
    h.grant_leases().await;
    let lease = ["--leader-election", "--lease-name", "monitoring"];
    let (leader_port, standby_port) = (free_port(), free_port());
    let leader_log = h.log.clone();
    let mut args = lease.to_vec();
    let leader_address = format!("127.0.0.1:{leader_port}");
    args.extend(["--identity", "leader", "--http-address", &leader_address]);
    h.operator = Some(h.spawn_operator(&leader_log, &args));
    let leader_held = |c: &Capture| c.value("auth0_operator_leader", &[]) == Some(1.0);
    scrape_when(leader_port, Duration::from_secs(30), "the lease held", leader_held).await;

    let names: Vec<String> = (0..4).map(|i| format!("watched-{i}")).collect();
    for name in &names {
        h.apply_profile(name, json!({"enabledFeatures": ["scim"]})).await;
    }
    wait_profiles(&h, &names, "Ready", ready_and_synced).await;

    // A standby: same lease, another identity; it exports leader 0 and waits.
    let standby_log = h.env.dir().join(format!("operator-{}-standby.log", h.ns.name()));
    let standby_address = format!("127.0.0.1:{standby_port}");
    let mut args = lease.to_vec();
    args.extend(["--identity", "standby", "--http-address", &standby_address]);
    let standby = Stopped(h.spawn_operator(&standby_log, &args));
    let (standby_capture, standby_text) = scrape_when(standby_port, Duration::from_secs(30), "a standby", |c| {
        c.value("auth0_operator_leader", &[]) == Some(0.0)
    })
    .await;
    drop(standby);

    // Healthy: everything Ready, drift checks every 2 s.
    let all_ready = |c: &Capture| {
        leader_held(c)
            && conditions_count(c, "ConnectionProfile", "Ready", "True", "Available") == 4.0
            && conditions_count(c, "Auth0Tenant", "Ready", "True", "Available") == 1.0
    };
    let (healthy_1, healthy_1_text) = scrape_when(leader_port, Duration::from_secs(30), "all Ready", all_ready).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (healthy_2, healthy_2_text) = scrape_when(leader_port, Duration::from_secs(30), "all Ready", all_ready).await;

    // Throttled: Auth0 allows one request a second, and another client of the tenant takes
    // most of them (the operator alone follows Auth0's rate-limit headers and is rarely
    // refused), while every profile changes.
    h.admin("PUT", "rate-limit", Some(json!({"burst": 1, "per_second": 1.0})))
        .await;
    let other_client = tokio::spawn(other_client(
        h.emulator.tenant_url(&h.domain).expect("tenant url"),
        h.domain.clone(),
    ));
    for name in &names {
        h.apply_profile(name, json!({"enabledFeatures": ["scim", "universal_logout"]}))
            .await;
    }
    let throttled_before = healthy_2
        .value("auth0_operator_auth0_throttled_total", &[])
        .unwrap_or(0.0);
    let (throttled, throttled_text) = scrape_when(leader_port, Duration::from_secs(60), "429s", |c| {
        leader_held(c) && c.value("auth0_operator_auth0_throttled_total", &[]).unwrap_or(0.0) >= throttled_before + 5.0
    })
    .await;
    other_client.abort();
    h.admin("DELETE", "rate-limit", None).await;
    wait_profiles(&h, &names, "Ready after the throttling", ready_and_synced).await;

    // Missing scopes: the client's grant loses update and delete; its secret still works.
    let (healthy_before_scopes, _) = scrape_when(leader_port, Duration::from_secs(60), "all Ready", all_ready).await;
    let grant = |scopes: &[&str]| ClientChange {
        client_secret: None,
        scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
    };
    assert!(h.emulator.update_client(
        &h.domain,
        "operator-client",
        grant(&["read:connection_profiles", "create:connection_profiles"])
    ));
    let (scopes_missing, scopes_missing_text) =
        scrape_when(leader_port, Duration::from_secs(60), "MissingScopes", |c| {
            leader_held(c) && conditions_count(c, "Auth0Tenant", "Ready", "False", "MissingScopes") == 1.0
        })
        .await;
    assert!(
        h.emulator
            .update_client(&h.domain, "operator-client", grant(&common::SCOPES))
    );
    scrape_when(leader_port, Duration::from_secs(60), "all Ready again", all_ready).await;

    // Revoked: the client secret changes in Auth0, not in the Secret.
    let (healthy_3, healthy_3_text) = scrape_when(leader_port, Duration::from_secs(30), "all Ready", all_ready).await;
    assert!(h.emulator.update_client(
        &h.domain,
        "operator-client",
        ClientChange {
            client_secret: Some("revoked-secret-value".into()),
            scopes: None,
        }
    ));
    // The token issued before lasts 5 s: after that, every call needs a new one, refused.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for name in &names {
        h.apply_profile(name, json!({"enabledFeatures": ["universal_logout"]}))
            .await;
    }
    h.apply_profile("late", json!({})).await;
    wait_profiles(&h, &names, "refused", |p| {
        observed(p) && condition(p, "Synced").is_some_and(|c| c.1 == "Unauthorized")
    })
    .await;
    h.wait_for("late", Duration::from_secs(60), "not Ready", |p| {
        condition(p, "Ready").is_some_and(|c| c.0 == "False") && condition(p, "Synced").is_some_and(|c| c.0 == "False")
    })
    .await;
    let tenants: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !tenants.get("t").await.expect("tenant").status.is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.reason == "Unauthorized")
    }) {
        assert!(Instant::now() < deadline, "the tenant never reported Unauthorized");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (revoked, revoked_text) = scrape_when(leader_port, Duration::from_secs(30), "the refusals", |c| {
        conditions_count(c, "Auth0Tenant", "Ready", "False", "Unauthorized") == 1.0
            && conditions_count(c, "ConnectionProfile", "Synced", "False", "Unauthorized") >= 5.0
            && conditions_count(c, "ConnectionProfile", "Stalled", "True", "Unauthorized") >= 5.0
            && c.value(
                "auth0_operator_auth0_refused_total",
                &[("endpoint", "token"), ("status_code", "401")],
            )
            .is_some_and(|refused| refused > 0.0)
    })
    .await;
    h.stop_operator();
    for (name, text) in [
        ("standby", &standby_text),
        ("healthy-1", &healthy_1_text),
        ("healthy-2", &healthy_2_text),
        ("throttled", &throttled_text),
        ("scopes-missing", &scopes_missing_text),
        ("healthy-3", &healthy_3_text),
        ("revoked", &revoked_text),
    ] {
        std::fs::write(dir.join(format!("{name}.txt")), text).expect("write capture");
    }
    eprintln!("captures and promtool files: {}", dir.display());

    // Every rule and dashboard query names only what the captures hold.
    check_selectors(&Exported::of(&[
        &standby_capture,
        &healthy_1,
        &healthy_2,
        &throttled,
        &scopes_missing,
        &healthy_3,
        &revoked,
    ]));

    // The alerts on those series.
    let groups = rule_groups();
    let ns = ("namespace", NAMESPACE);
    let quiet =
        |names: &[&'static str]| -> Vec<(&'static str, Instances)> { names.iter().map(|n| (*n, vec![])).collect() };
    let standby_target = Target {
        pod: "auth0-operator-standby",
        baseline: None,
        state: &standby_capture,
    };
    let healthy_expect = quiet(&[
        "Auth0OperatorCredentialsRefused",
        "Auth0OperatorResourcesNotReady",
        "Auth0OperatorThrottled",
        "Auth0OperatorReconcileErrors",
        "Auth0OperatorResourcesStalled",
        "Auth0OperatorNoLeader",
    ]);
    let mut throttled_expect = quiet(&[
        "Auth0OperatorCredentialsRefused",
        "Auth0OperatorResourcesNotReady",
        "Auth0OperatorResourcesStalled",
        "Auth0OperatorNoLeader",
    ]);
    throttled_expect.push(("Auth0OperatorThrottled", vec![vec![ns]]));
    // A grant without a needed scope is a credentials problem too (the tenant's Ready=False
    // MissingScopes), though Auth0 refused nothing yet.
    let mut scopes_expect = quiet(&["Auth0OperatorThrottled", "Auth0OperatorNoLeader"]);
    scopes_expect.push(("Auth0OperatorCredentialsRefused", vec![vec![ns]]));
    let mut revoked_expect = quiet(&["Auth0OperatorThrottled", "Auth0OperatorNoLeader"]);
    revoked_expect.extend([
        ("Auth0OperatorCredentialsRefused", vec![vec![ns]]),
        ("Auth0OperatorReconcileErrors", vec![vec![ns]]),
        (
            "Auth0OperatorResourcesNotReady",
            vec![
                vec![ns, ("kind", "Auth0Tenant")],
                vec![ns, ("kind", "ConnectionProfile")],
            ],
        ),
        (
            "Auth0OperatorResourcesStalled",
            // Tenants have a Stalled condition too: the refused one is Stalled=True.
            vec![
                vec![ns, ("kind", "Auth0Tenant")],
                vec![ns, ("kind", "ConnectionProfile")],
            ],
        ),
    ]);
    let tests = vec![
        test_case(
            "healthy: leader and standby scraped",
            &[
                Target {
                    pod: "auth0-operator-leader",
                    baseline: Some(&healthy_1),
                    state: &healthy_2,
                },
                standby_target,
            ],
            &healthy_expect,
            &groups,
        ),
        test_case(
            "throttled by Auth0",
            &[Target {
                pod: "auth0-operator-leader",
                baseline: Some(&healthy_2),
                state: &throttled,
            }],
            &throttled_expect,
            &groups,
        ),
        test_case(
            "scopes missing from the grant",
            &[Target {
                pod: "auth0-operator-leader",
                baseline: Some(&healthy_before_scopes),
                state: &scopes_missing,
            }],
            &scopes_expect,
            &groups,
        ),
        test_case(
            "credentials revoked",
            &[Target {
                pod: "auth0-operator-leader",
                baseline: Some(&healthy_3),
                state: &revoked,
            }],
            &revoked_expect,
            &groups,
        ),
        test_case(
            "only a standby scraped: no replica holds the lease",
            &[Target {
                pod: "auth0-operator-standby",
                baseline: None,
                state: &standby_capture,
            }],
            &[("Auth0OperatorNoLeader", vec![vec![ns]])],
            &groups,
        ),
        test_case(
            "nothing scraped",
            &[],
            &[("Auth0OperatorNoLeader", vec![vec![]])],
            &groups,
        ),
    ];
    let file = json!({
        "rule_files": [rules.file_name().expect("name").to_string_lossy()],
        "evaluation_interval": "1m",
        "tests": tests,
    });
    let tests_file = dir.join("tests.yaml");
    std::fs::write(&tests_file, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
    let out = run(
        Command::new(tools().join("promtool"))
            .current_dir(&dir)
            .args(["test", "rules", "tests.yaml"]),
        b"",
    );
    assert!(out.contains("SUCCESS"), "{out}");
    assert!(
        !std::fs::read_to_string(&leader_log)
            .unwrap_or_default()
            .contains("revoked-secret-value"),
        "no secret in the logs"
    );
    assert!(!revoked_text.contains(common::SECRET), "no secret in the metrics");
}
