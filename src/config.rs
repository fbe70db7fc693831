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
    /// Kubeconfig to use; without it, KUBECONFIG, ~/.kube/config or the in-cluster
    /// service account, in that order.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Watch ConnectionProfiles, Auth0Tenants and Secrets in this namespace only
    /// (default: all namespaces).
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

    /// ConnectionProfiles reconciled at once. Auth0's rate limit, not this, bounds the
    /// request rate.
    #[arg(long, env = "AUTH0_OPERATOR_CONCURRENCY", default_value_t = 16)]
    pub concurrency: u16,

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

    /// Where /healthz, /readyz and /metrics are served.
    #[arg(long, env = "AUTH0_OPERATOR_HTTP_ADDRESS", default_value = "0.0.0.0:8080")]
    pub http_address: std::net::SocketAddr,

    /// Reconcile only while holding a Lease in the operator's namespace, so that of several
    /// replicas exactly one works. Losing the lease stops reconciling at once.
    #[arg(long, env = "AUTH0_OPERATOR_LEADER_ELECTION")]
    pub leader_election: bool,

    /// The Lease's name.
    #[arg(long, env = "AUTH0_OPERATOR_LEASE_NAME", default_value = "auth0-operator")]
    pub lease_name: String,

    /// How long a Lease lasts unrenewed: a replica that dies without releasing it (SIGKILL,
    /// a lost node) is replaced after this long. Renewed a third of it before it ends.
    #[arg(long, env = "AUTH0_OPERATOR_LEASE_DURATION", default_value = "15s", value_parser = parse_lease_duration)]
    pub lease_duration: Duration,

    /// This replica's name in the Lease (default: POD_NAME, else the host name).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// How long a shutdown waits for in-flight passes before it stops them.
    #[arg(long, env = "AUTH0_OPERATOR_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Log format.
    #[arg(long, env = "AUTH0_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
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
    crate::controller::profile::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration like 90s, 10m or 1h"))
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
