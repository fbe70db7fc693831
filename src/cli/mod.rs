//! The command-line tools beside `run`: `export`, `templates` and `plan`, built on the
//! controller's own pure code (validation, desired body, diff, plan decision).
//!
//! Pure parts (naming, manifests, the plan over a listing) live apart from the IO
//! (credentials, Auth0 calls, files), so they have fast unit tests.

pub mod args;
pub mod commands;
pub mod credentials;
pub mod export;
#[cfg(test)]
mod golden;
pub mod kinds;
pub mod manifests;
pub mod plan;
pub mod progress;
pub mod specs;

/// The apiVersion of the project's resources.
pub const API_VERSION: &str = "auth0.operators.dev/v1alpha1";
