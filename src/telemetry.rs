//! Logging: JSON in a cluster, readable text on a terminal; the level from `--log-level`
//! (`RUST_LOG`, default info).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber, writing to stderr. `level` is an `EnvFilter` directive
/// string, already checked by `config::RunArgs` (an invalid one falls back to `info`).
/// Text is coloured only when stderr is a terminal, so a file or a pipe gets no escape
/// codes.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::builder()
        .parse(level)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.with_ansi(terminal).init();
    }
}
