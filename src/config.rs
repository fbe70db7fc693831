//! The `run` command's settings: one clap struct, each flag with an environment fallback.

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::auth0::hosts::{AllowedHosts, HostPattern};

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal (a cluster), text on a terminal.
    Auto,
    Json,
    Text,
}

/// `auth0-operator run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Kubeconfig to use: a file, or several separated by ':' and merged as kubectl merges
    /// them. Without it: KUBECONFIG (the same list form; empty entries are skipped), else
    /// ~/.kube/config, else the in-cluster service account.
    // Not `env = "KUBECONFIG"`: clap would blame this flag for an empty KUBECONFIG, and
    // kubectl reads an empty one as unset (see `kubeconfig::source`).
    #[arg(long)]
    pub kubeconfig: Option<std::ffi::OsString>,

    /// Watch ConnectionProfiles and Auth0Tenants in this namespace only (default: all
    /// namespaces). Secrets are then read in this namespace and in the operator's own
    /// (--operator-namespace, where ClusterAuth0Tenant Secrets live), unless
    /// --secret-namespaces says otherwise.
    #[arg(long, env = "AUTH0_OPERATOR_NAMESPACE_TO_WATCH")]
    pub namespace: Option<String>,

    /// The operator's own namespace, where ClusterAuth0Tenant Secrets live.
    #[arg(long, env = "POD_NAMESPACE", default_value = "auth0-operator")]
    pub operator_namespace: String,

    /// Read Secrets only in these namespaces (comma-separated) and the operator's own, and
    /// watch Secrets only there, so that Roles in exactly those namespaces suffice (no
    /// cluster-wide Secret access). An Auth0Tenant whose Secret lies elsewhere is refused
    /// with Synced=False CredentialsUnavailable. Default: wherever --namespace reaches
    /// (every namespace without it).
    #[arg(long, env = "AUTH0_OPERATOR_SECRET_NAMESPACES", value_delimiter = ',')]
    pub secret_namespaces: Option<Vec<String>>,

    /// How often each profile is checked for changes made outside Kubernetes (drift), unless
    /// its auth0.operators.dev/poll-interval annotation says otherwise. Jittered by ±10%.
    /// Examples: 90s, 10m, 1h.
    #[arg(long, env = "AUTH0_OPERATOR_POLL_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// ConnectionProfiles reconciled at once across all tenants, at least 1. A pass waiting
    /// for Auth0 (its tenant's rate limit, or an answer) does not count: a throttled or
    /// silent tenant never holds the places other tenants' changes need.
    #[arg(long, env = "AUTH0_OPERATOR_CONCURRENCY", default_value = "16", value_parser = parse_concurrency)]
    pub concurrency: u16,

    /// ConnectionProfiles of one tenant in progress at once, waits for Auth0 included, at
    /// least 1: each tenant has its own such lane. Auth0's rate limit, not this, bounds the
    /// request rate.
    #[arg(long, env = "AUTH0_OPERATOR_TENANT_CONCURRENCY", default_value = "16", value_parser = parse_concurrency)]
    pub tenant_concurrency: u16,

    /// Timeout of every call to Auth0.
    #[arg(long, env = "AUTH0_OPERATOR_AUTH0_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub auth0_timeout: Duration,

    /// The hosts a tenant's spec.endpoint.url (or, without one, spec.domain) may point at,
    /// comma-separated: `*` (any), DNS names whose dot-separated parts may each be `*`
    /// (exactly one part), IP addresses (IPv6 in brackets), each optionally with `:PORT`. A
    /// tenant naming any other host is refused (Ready=False HostNotAllowed) before any
    /// connection. Default: Auth0's public cloud tenant domains; add your custom domain,
    /// Private Cloud domain or proxy (docs/security.md).
    #[arg(
        long,
        env = "AUTH0_OPERATOR_ALLOWED_TENANT_HOSTS",
        value_delimiter = ',',
        default_values = crate::auth0::hosts::DEFAULT_ALLOWED_TENANT_HOSTS,
        value_parser = parse_host_pattern
    )]
    pub allowed_tenant_hosts: Vec<HostPattern>,

    /// Allow tenants whose spec.endpoint.url is plain http (the emulator in tests and the
    /// local demo). Never use it against Auth0.
    #[arg(long, env = "AUTH0_OPERATOR_ALLOW_INSECURE_HTTP")]
    pub allow_insecure_http: bool,

    /// Where /healthz, /readyz and /metrics are served: an IP address and a port, like
    /// 0.0.0.0:8080 (every interface) or 127.0.0.1:8080 (this machine only).
    #[arg(long, env = "AUTH0_OPERATOR_HTTP_ADDRESS", default_value = "0.0.0.0:8080", value_parser = parse_http_address)]
    pub http_address: std::net::SocketAddr,

    /// Reconcile only while holding a Lease in the operator's namespace, so that of several
    /// replicas exactly one works. Losing the lease stops reconciling at once.
    #[arg(long, env = "AUTH0_OPERATOR_LEADER_ELECTION")]
    pub leader_election: bool,

    /// The Lease's name.
    #[arg(long, env = "AUTH0_OPERATOR_LEASE_NAME", default_value = "auth0-operator")]
    pub lease_name: String,

    /// How long a Lease lasts unrenewed: a replica that dies without releasing it (SIGKILL,
    /// a lost node) is replaced this long after a standby last saw the Lease change (by the
    /// standby's own clock). The leader renews every 2/15 of it and stops reconciling when
    /// it has not renewed within 2/3 of it (client-go's 15 s / 2 s / 10 s).
    #[arg(long, env = "AUTH0_OPERATOR_LEASE_DURATION", default_value = "15s", value_parser = parse_lease_duration)]
    pub lease_duration: Duration,

    /// This replica's name in the Lease (default: POD_NAME, else the host name).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// How long a shutdown waits for in-flight passes before it stops them.
    #[arg(long, env = "AUTH0_OPERATOR_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Log format. `text` is coloured only when stderr is a terminal.
    #[arg(long, env = "AUTH0_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// Which log lines are written: a level (error, warn, info, debug, trace) or
    /// tracing-subscriber's per-target directives, e.g. `info,auth0_operator=debug`.
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = parse_log_level)]
    pub log_level: String,
}

impl RunArgs {
    /// `--allowed-tenant-hosts` as one matcher.
    pub fn allowed_tenant_hosts(&self) -> AllowedHosts {
        AllowedHosts::new(self.allowed_tenant_hosts.clone())
    }

    /// `--secret-namespaces` without blanks and repeats; `None` when not given.
    pub fn secret_namespaces(&self) -> Option<Vec<String>> {
        self.secret_namespaces.as_ref().map(|names| {
            let mut kept: Vec<String> = Vec::new();
            for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                if !kept.iter().any(|k| k == name) {
                    kept.push(name.to_string());
                }
            }
            kept
        })
    }
}

fn parse_host_pattern(text: &str) -> Result<HostPattern, String> {
    text.parse()
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text).map_err(|e| e.to_string())
}

/// At least 1: zero would reconcile nothing.
fn parse_concurrency(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(0) => Err("0 would reconcile nothing: give at least 1 (the default is 16)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a number from 1 to 65535 (the default is 16)")),
    }
}

/// An IP address and a port; a host name is refused with the addresses that mean what
/// people usually want.
fn parse_http_address(text: &str) -> Result<std::net::SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{text:?} is not an IP address and port: write 0.0.0.0:8080 (every interface), \
             127.0.0.1:8080 (this machine only) or [::]:8080 (every interface, IPv6); \
             host names such as localhost are not resolved"
        )
    })
}

fn parse_log_level(text: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(text)
        .map(|_| text.to_string())
        .map_err(|e| {
            format!("{e}: give a level (error, warn, info, debug, trace) or directives like info,auth0_operator=debug")
        })
}

fn parse_lease_duration(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration < Duration::from_secs(3) || duration.subsec_nanos() != 0 {
        return Err("a lease lasts whole seconds, at least 3s".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn allowed_tenant_hosts_default_to_auth0s_and_take_a_list() {
        let defaults = Cli::try_parse_from(["run"]).expect("defaults");
        assert_eq!(defaults.run.allowed_tenant_hosts(), AllowedHosts::default());
        let listed =
            Cli::try_parse_from(["run", "--allowed-tenant-hosts", "*.eu.auth0.com,127.0.0.1:8443"]).expect("a list");
        assert_eq!(
            listed.run.allowed_tenant_hosts().to_string(),
            "*.eu.auth0.com,127.0.0.1:8443"
        );
        let refused = Cli::try_parse_from(["run", "--allowed-tenant-hosts", "a*.example"])
            .err()
            .expect("a bad pattern");
        assert!(refused.to_string().contains("not a host pattern"), "{refused}");
    }
}
