//! `testenv`: runs a command against a fresh real control plane, or keeps one up.
//!
//!   testenv run -- cargo test      start, run the command with AUTH0_TESTENV_DIR and
//!                                  KUBECONFIG set, print the logs if it fails, stop
//!   testenv up                     start and wait for Ctrl-C (for people and demos)
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use testenv::{ControlPlane, ENV_DIR};

const USAGE: &str = "usage: testenv run [--dir DIR] -- COMMAND [ARGS...]\n       testenv up [--dir DIR]\n\
env: AUTH0_TESTENV_BIN (folder with etcd, kube-apiserver, kubectl; default: built by testenv/build.sh)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = match args.split_first() {
        Some((mode, rest)) if mode == "run" || mode == "up" => (mode.as_str(), rest),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (dir, command) = match parse(rest) {
        Ok(parsed) => parsed,
        Err(msg) => {
            eprintln!("testenv: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if mode == "run" && command.is_empty() {
        eprintln!("testenv: run needs a command after --\n{USAGE}");
        return ExitCode::from(2);
    }
    let bin = match binaries() {
        Ok(bin) => bin,
        Err(msg) => {
            eprintln!("testenv: the control plane cannot be built: {msg}");
            return ExitCode::FAILURE;
        }
    };
    let control_plane = match ControlPlane::start(&bin, &dir) {
        Ok(cp) => cp,
        Err(err) => {
            eprintln!("testenv: the control plane did not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "testenv: kube-apiserver ready at {} in {:.1} s (logs and kubeconfigs in {})",
        control_plane.server,
        control_plane.started_in.as_secs_f64(),
        dir.display()
    );
    let code = if mode == "run" {
        run(&control_plane, &command)
    } else {
        up(&control_plane)
    };
    control_plane.stop();
    if code == ExitCode::SUCCESS {
        let _ = std::fs::remove_dir_all(&dir);
    }
    code
}

fn parse(args: &[String]) -> Result<(PathBuf, Vec<String>), String> {
    let mut dir = std::env::temp_dir().join(format!("auth0-testenv-{}", std::process::id()));
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--dir" => dir = iter.next().ok_or("--dir needs a folder")?.into(),
            "--" => return Ok((dir, iter.cloned().collect())),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok((dir, Vec::new()))
}

/// The folder with etcd, kube-apiserver and kubectl: AUTH0_TESTENV_BIN, else what
/// build.sh builds (or finds in its cache).
fn binaries() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("AUTH0_TESTENV_BIN") {
        return Ok(bin.into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed ({})", script.display(), output.status));
    }
    let bin = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(bin.into())
}

fn run(control_plane: &ControlPlane, command: &[String]) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("testenv: {err}");
            return ExitCode::FAILURE;
        }
    };
    let status = runtime.block_on(async {
        let mut child = tokio::process::Command::new(&command[0])
            .args(&command[1..])
            .env(ENV_DIR, control_plane.dir())
            .env("KUBECONFIG", control_plane.dir().join("admin.kubeconfig"))
            .spawn()?;
        // A signal to the runner stops the command too, and then what the runner started.
        tokio::select! {
            status = child.wait() => status.map(Some),
            () = signalled() => {
                if let Some(pid) = child.id() {
                    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
                }
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait()).await;
                let _ = child.kill().await;
                Ok(None)
            }
        }
    });
    match status {
        Ok(Some(status)) if status.success() => ExitCode::SUCCESS,
        Ok(Some(status)) => {
            eprintln!(
                "testenv: `{}` failed ({status}); control plane logs:\n{}",
                command.join(" "),
                testenv::log_tails_of(control_plane.dir(), 60)
            );
            ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1).max(1))
        }
        Ok(None) => {
            eprintln!("testenv: interrupted; stopping the control plane");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("testenv: cannot run {:?}: {err}", command[0]);
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM or SIGINT.
async fn signalled() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn up(control_plane: &ControlPlane) -> ExitCode {
    let dir = control_plane.dir();
    println!("export {ENV_DIR}={}", dir.display());
    println!("export KUBECONFIG={}", dir.join("admin.kubeconfig").display());
    eprintln!("testenv: up; press Ctrl-C to stop");
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(signalled()),
        Err(err) => eprintln!("testenv: {err}"),
    }
    ExitCode::SUCCESS
}
