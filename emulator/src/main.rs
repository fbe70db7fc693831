//! The `auth0-emulator` binary: parses flags, starts the emulator, waits for a signal.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use auth0_emulator::{Config, Emulator, RateLimitConfig, TlsConfig};
use clap::Parser;

/// An emulator of the Auth0 Management API (connection, user attribute and self-service
/// profiles) for tests and demos.
///
/// Without --config it serves one tenant, `localhost`, whose client `emulator-client` /
/// `emulator-secret` is granted every scope the emulator checks. Flags override the file.
#[derive(Debug, Parser)]
#[command(name = "auth0-emulator", version)]
struct Args {
    /// JSON configuration file (tenants, clients, limits, faults); see docs/emulator.md.
    #[arg(long, env = "AUTH0_EMULATOR_CONFIG")]
    config: Option<PathBuf>,
    /// Address of the tenant API listener, tenants told apart by the Host header
    /// [default: 127.0.0.1:0, a free port; see --print-addresses].
    #[arg(long, env = "AUTH0_EMULATOR_LISTEN")]
    listen: Option<String>,
    /// Address of the admin API listener (plain http, no authentication: keep it on
    /// loopback) [default: 127.0.0.1:0, a free port].
    #[arg(long, env = "AUTH0_EMULATOR_ADMIN_LISTEN")]
    admin_listen: Option<String>,
    /// Serve the tenant API over https; the self-signed CA's PEM is written to this file.
    #[arg(long, env = "AUTH0_EMULATOR_TLS_CA_FILE")]
    tls_ca_file: Option<PathBuf>,
    /// Keep profiles across restarts in this JSON file.
    #[arg(long, env = "AUTH0_EMULATOR_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// Replace the built-in template catalogue with this JSON file.
    #[arg(long, env = "AUTH0_EMULATOR_TEMPLATES_FILE")]
    templates_file: Option<PathBuf>,
    /// Access-token lifetime in seconds (default 86400).
    #[arg(long, env = "AUTH0_EMULATOR_TOKEN_LIFETIME")]
    token_lifetime_secs: Option<u64>,
    /// Rate-limit burst (bucket size) for every tenant; needs --rate-limit-per-second.
    #[arg(long, requires = "rate_limit_per_second")]
    rate_limit_burst: Option<u32>,
    /// Rate-limit refill, requests per second, for every tenant; needs --rate-limit-burst.
    #[arg(long, requires = "rate_limit_burst")]
    rate_limit_per_second: Option<f64>,
    /// Start every tenant unentitled (403 insufficient_entitlement).
    #[arg(long)]
    unentitled: bool,
    /// Print the listening addresses as one JSON line on stdout once ready.
    #[arg(long)]
    print_addresses: bool,
    /// Print the connection-profile schema the emulator accepts (every field path, type,
    /// enum and feature flag) as JSON, and exit.
    #[arg(long)]
    print_schema: bool,
}

fn config_from(args: &Args) -> auth0_emulator::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::from_json_file(path)?,
        None => Config::default(),
    };
    if let Some(listen) = &args.listen {
        config.listen = listen.clone();
    }
    if let Some(listen) = &args.admin_listen {
        config.admin_listen = listen.clone();
    }
    if let Some(path) = &args.tls_ca_file {
        config.tls = Some(TlsConfig {
            ca_cert_file: path.clone(),
        });
    }
    if args.state_file.is_some() {
        config.state_file = args.state_file.clone();
    }
    if args.templates_file.is_some() {
        config.templates_file = args.templates_file.clone();
    }
    if let Some(lifetime) = args.token_lifetime_secs {
        config.token_lifetime_secs = lifetime;
    }
    if let (Some(burst), Some(per_second)) = (args.rate_limit_burst, args.rate_limit_per_second) {
        for tenant in &mut config.tenants {
            tenant.rate_limit = Some(RateLimitConfig { burst, per_second });
        }
    }
    if args.unentitled {
        for tenant in &mut config.tenants {
            tenant.entitled = false;
        }
    }
    Ok(config)
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn report(error: &dyn std::error::Error) {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("auth0-emulator: {message}");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.print_schema {
        println!("{:#}", auth0_emulator::schema::dump());
        return std::process::ExitCode::SUCCESS;
    }
    let emulator = match config_from(&args) {
        Ok(config) => Emulator::start(config).await,
        Err(error) => Err(error),
    };
    let emulator = match emulator {
        Ok(emulator) => emulator,
        Err(error) => {
            report(&error);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(api = %emulator.base_url(), admin = %emulator.admin_url(), "auth0-emulator ready");
    if args.print_addresses {
        println!(
            "{}",
            serde_json::json!({"api": emulator.base_url(), "admin": emulator.admin_url()})
        );
    }
    wait_for_signal().await;
    match emulator.shutdown().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn flags_override_the_defaults_for_every_tenant() {
        let args = Args::parse_from([
            "auth0-emulator",
            "--listen",
            "127.0.0.1:9000",
            "--tls-ca-file",
            "/tmp/ca.pem",
            "--token-lifetime-secs",
            "60",
            "--rate-limit-burst",
            "10",
            "--rate-limit-per-second",
            "2",
            "--unentitled",
        ]);
        let config = config_from(&args).expect("config");
        assert_eq!(config.listen, "127.0.0.1:9000");
        assert_eq!(config.token_lifetime_secs, 60);
        assert_eq!(
            config.tls.map(|tls| tls.ca_cert_file),
            Some(PathBuf::from("/tmp/ca.pem"))
        );
        assert!(config.tenants.iter().all(|tenant| !tenant.entitled
            && tenant.rate_limit
                == Some(RateLimitConfig {
                    burst: 10,
                    per_second: 2.0
                })));
    }

    #[test]
    fn a_rate_limit_needs_both_flags() {
        assert!(Args::try_parse_from(["auth0-emulator", "--rate-limit-burst", "10"]).is_err());
    }
}
