//! The `auth0-operator` command line.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kubernetes operator that manages Auth0 Connection Profiles.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions as YAML, or write one file per CRD into a folder
    /// (`make crds` writes crds/).
    Crd {
        /// Write `<plural>.<group>.yaml` files here instead of printing.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Run the operator: reconcile ConnectionProfiles to Auth0 until SIGTERM or Ctrl-C.
    // Boxed: the flags are large beside `Crd` (clippy::large_enum_variant).
    Run(Box<auth0_operator::config::RunArgs>),
    /// Write every profile of a tenant of one kind (--kind: ConnectionProfile, the default,
    /// UserAttributeProfile, SelfServiceProfile, or all) as manifests that adopt them
    /// (spec.externalID set): one YAML stream on stdout, or --dir. Only reads Auth0.
    Export(Box<auth0_operator::cli::args::ExportArgs>),
    /// List Auth0's connection-profile templates (--kind UserAttributeProfile: user attribute
    /// profile templates), or with --id print a manifest made from one.
    Templates(Box<auth0_operator::cli::args::TemplatesArgs>),
    /// Show what the operator would do in Auth0 with these manifests (ConnectionProfiles,
    /// UserAttributeProfiles, SelfServiceProfiles): create, update (field by field), adopt,
    /// nothing, conflict, invalid. Only reads Auth0.
    ///
    /// Exit status, as kubectl diff's (above 1: do not merge), the highest that applies: 0
    /// nothing would change in Auth0; 1 something would (create, update); 2 the command line
    /// is wrong; 3 a manifest would be refused (conflict, missing, invalid); 4 the plan could
    /// not be made, or not whole (an error, or a manifest's tenant unreachable).
    Plan(Box<auth0_operator::cli::args::PlanArgs>),
}

fn main() -> ExitCode {
    match Args::parse().command {
        Command::Run(args) => run(*args),
        Command::Export(args) => tool("export", 1, auth0_operator::cli::commands::export(*args)),
        Command::Templates(args) => tool("templates", 1, auth0_operator::cli::commands::templates(*args)),
        Command::Plan(args) => tool(
            "plan",
            auth0_operator::cli::plan::exit::ERROR,
            auth0_operator::cli::commands::plan(*args),
        ),
        Command::Crd { dir } => match write_crds(dir.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("auth0-operator crd: {err}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run(args: auth0_operator::config::RunArgs) -> ExitCode {
    auth0_operator::telemetry::init(args.log_format, &args.log_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("auth0-operator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(auth0_operator::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command-line tool to its exit code; an error is one line on stderr and exit
/// `error` (`plan` keeps 1 for "changes").
fn tool(
    name: &str,
    error: u8,
    work: impl std::future::Future<Output = Result<u8, auth0_operator::cli::commands::Failure>>,
) -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.into())
        .and_then(|rt| rt.block_on(work));
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`plan ... | head`): nothing to say to it, as a tool killed by
        // SIGPIPE says nothing.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::from(error)
        }
        Err(e) => {
            eprintln!("auth0-operator {name}: {e}");
            ExitCode::from(error)
        }
    }
}

fn write_crds(dir: Option<&std::path::Path>) -> Result<(), Box<dyn std::error::Error>> {
    for (file, yaml) in auth0_operator::crd::rendered()? {
        match dir {
            Some(dir) => std::fs::write(dir.join(&file), yaml)
                .map_err(|e| format!("writing {}: {e}", dir.join(&file).display()))?,
            None => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "---")?;
                out.write_all(yaml.as_bytes())?;
            }
        }
    }
    Ok(())
}
