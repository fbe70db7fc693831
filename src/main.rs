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
    /// Print the CustomResourceDefinitions as YAML (what `make crds` writes to crds/).
    Crd,
}

fn main() -> ExitCode {
    match Args::parse().command {
        Command::Crd => match print_crds() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("auth0-operator crd: {err}");
                ExitCode::FAILURE
            }
        },
    }
}

fn print_crds() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    for crd in auth0_operator::crd::all() {
        writeln!(out, "---")?;
        out.write_all(serde_saphyr::to_string(&crd)?.as_bytes())?;
    }
    Ok(())
}
