//! Start-up errors, as a user meets them: the `auth0-operator` binary run with a bad flag, no
//! or a broken kubeconfig, an API server that is not there, or an identity without RBAC,
//! each exiting with a message that names the cause and the fix (checked word for word).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use testenv::TestEnv;

/// The operator with a clean environment: no KUBECONFIG, a HOME without `.kube`, not in a
/// Pod (and no NO_COLOR: text logs to a pipe must be plain on their own).
fn operator(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth0-operator"));
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn home() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auth0-startup-{}-{}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&dir).expect("temp home");
    dir
}

/// Runs to exit (at most 60 s) and returns the output; the process must fail.
fn fails(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("auth0-operator");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("auth0-operator did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert!(!out.status.success(), "auth0-operator succeeded: {out:?}");
    out
}

/// The message of the one ERROR line the operator logs before it exits. `--log-format text`
/// into a pipe (not a terminal) carries no colour codes.
fn error_message(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\x1b'), "colour codes in a pipe:\n{stderr:?}");
    let line = stderr
        .lines()
        .find(|l| l.contains(" ERROR auth0_operator: "))
        .unwrap_or_else(|| panic!("no ERROR line in:\n{stderr}"));
    line.split_once("auth0_operator: ")
        .map(|(_, message)| message.to_string())
        .unwrap_or_else(|| panic!("unexpected line {line}"))
}

/// clap's refusal of a flag value: `error: invalid value ...: <ours>`.
fn flag_error(args: &[&str]) -> String {
    let out = fails(operator(&home()).arg("run").args(args));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stderr.lines().next().unwrap_or_default().to_string()
}

#[test]
fn bad_flag_values_say_what_to_write() {
    assert_eq!(
        flag_error(&["--poll-interval", "0s"]),
        "error: invalid value '0s' for '--poll-interval <POLL_INTERVAL>': \"0s\" is zero: give at least 1s, like 90s, 10m or 1h"
    );
    assert_eq!(
        flag_error(&["--poll-interval", "10"]),
        "error: invalid value '10' for '--poll-interval <POLL_INTERVAL>': \"10\" is not a duration: write a number and a unit (s, m, h), like 90s, 10m or 1h30m"
    );
    assert_eq!(
        flag_error(&["--concurrency", "0"]),
        "error: invalid value '0' for '--concurrency <CONCURRENCY>': 0 would reconcile nothing: give at least 1 (the default is 16)"
    );
    assert_eq!(
        flag_error(&["--http-address", "localhost:8080"]),
        "error: invalid value 'localhost:8080' for '--http-address <HTTP_ADDRESS>': \"localhost:8080\" is not an IP address and port: write 0.0.0.0:8080 (every interface), 127.0.0.1:8080 (this machine only) or [::]:8080 (every interface, IPv6); host names such as localhost are not resolved"
    );
    assert_eq!(
        flag_error(&["--log-level", "info,=x["]),
        "error: invalid value 'info,=x[' for '--log-level <LOG_LEVEL>': invalid filter directive: give a level (error, warn, info, debug, trace) or directives like info,auth0_operator=debug"
    );
}

#[test]
fn no_kubeconfig_names_what_was_tried_and_the_fix() {
    let home = home();
    let out = fails(operator(&home).args(["run", "--log-format", "text"]));
    assert_eq!(
        error_message(&out),
        format!(
            "no Kubernetes configuration found: KUBECONFIG is not set, {}/.kube/config does not exist, \
             and this is not a Pod (KUBERNETES_SERVICE_HOST is not set). Give --kubeconfig FILE or \
             set KUBECONFIG (a file, or several separated by ':'), or run the operator in a cluster",
            home.display()
        )
    );
    // An empty KUBECONFIG is unset (as in kubectl), not a flag given without a value.
    let out = fails(
        operator(&home)
            .env("KUBECONFIG", "")
            .args(["run", "--log-format", "text"]),
    );
    assert_eq!(
        error_message(&out),
        format!(
            "no Kubernetes configuration found: KUBECONFIG is set but empty, {}/.kube/config does \
             not exist, and this is not a Pod (KUBERNETES_SERVICE_HOST is not set). Give \
             --kubeconfig FILE or set KUBECONFIG (a file, or several separated by ':'), or run the \
             operator in a cluster",
            home.display()
        )
    );
    // A missing file: the path once, plainly.
    let missing = home.join("missing.kubeconfig");
    let out = fails(
        operator(&home)
            .args(["run", "--log-format", "text", "--kubeconfig"])
            .arg(&missing),
    );
    assert_eq!(
        error_message(&out),
        format!(
            "cannot read kubeconfig {} (from --kubeconfig): No such file or directory (os error 2)",
            missing.display()
        )
    );
    let out = fails(
        operator(&home)
            .env(
                "KUBECONFIG",
                format!("{}:{}", missing.display(), home.join("also-missing").display()),
            )
            .args(["run", "--log-format", "text"]),
    );
    assert_eq!(
        error_message(&out),
        format!(
            "KUBECONFIG names no file that exists ({}, {}): point it at a kubeconfig file (several \
             separated by ':'), or unset it to use ~/.kube/config or the in-cluster service account",
            missing.display(),
            home.join("also-missing").display()
        )
    );
}

/// The admin kubeconfig split in two files as `KUBECONFIG=a:b` holds them: the cluster and
/// context in one, the user in the other. `impersonate` makes the user act as another.
fn split_kubeconfig(env: &TestEnv, dir: &Path, server: Option<&str>, impersonate: Option<&str>) -> String {
    let admin = std::fs::read_to_string(env.kubeconfig("admin")).expect("admin kubeconfig");
    let (head, rest) = admin.split_once("users:\n").expect("users section");
    let (users, contexts) = rest.split_once("contexts:\n").expect("contexts section");
    let mut cluster = format!("{head}contexts:\n{contexts}");
    if let Some(server) = server {
        let line = cluster
            .lines()
            .find(|l| l.trim_start().starts_with("server: "))
            .expect("server line")
            .to_string();
        let indent = &line[..line.len() - line.trim_start().len()];
        cluster = cluster.replace(&line, &format!("{indent}server: {server}"));
    }
    let mut user = format!("apiVersion: v1\nkind: Config\nusers:\n{users}");
    if let Some(name) = impersonate {
        user.push_str(&format!("    as: {name}\n"));
    }
    let (a, b) = (dir.join("cluster.kubeconfig"), dir.join("user.kubeconfig"));
    std::fs::write(&a, cluster).expect("writing a");
    std::fs::write(&b, user).expect("writing b");
    format!("{}:{}", a.display(), b.display())
}

#[tokio::test]
async fn rbac_403_is_not_a_missing_crd_and_kubeconfig_lists_merge() {
    let env = TestEnv::get();
    env.install_crds(&auth0_operator::crd::all()).await;
    let home = home();
    // Two files, merged: without the second (the user), the server would answer 401.
    let list = split_kubeconfig(&env, &home, None, Some("startup-test-nobody"));
    let out = fails(
        operator(&home)
            .env("KUBECONFIG", &list)
            .args(["run", "--log-format", "text"]),
    );
    assert_eq!(
        error_message(&out),
        "the operator may not read CRD clusterauth0tenants.auth0.operators.dev (403 Forbidden: \
         customresourcedefinitions.apiextensions.k8s.io \"clusterauth0tenants.auth0.operators.dev\" \
         is forbidden: User \"startup-test-nobody\" cannot get resource \"customresourcedefinitions\" \
         in API group \"apiextensions.k8s.io\" at the cluster scope): bind the operator's service \
         account to its ClusterRole, which grants get on its five customresourcedefinitions \
         (deploy/base/clusterrole.yaml, deploy/base/clusterrolebinding.yaml)"
    );
}

#[test]
fn an_unreachable_api_server_is_not_a_missing_crd() {
    let env = TestEnv::get();
    let home = home();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let server = format!("https://127.0.0.1:{port}");
    let list = split_kubeconfig(&env, &home, Some(&server), None);
    let out = fails(
        operator(&home)
            .env("KUBECONFIG", &list)
            .args(["run", "--log-format", "text"]),
    );
    let message = error_message(&out);
    let expected_start = format!("cannot reach the Kubernetes API server at {server}/ (");
    assert!(message.starts_with(&expected_start), "{message}");
    assert!(message.contains("Connection refused"), "{message}");
    assert!(
        message.ends_with(
            "): check the server address in the kubeconfig (or, in a Pod, the network policy's \
             egress to the API server) and that the API server is running"
        ),
        "{message}"
    );
    assert!(!message.contains("not installed"), "{message}");
}
