//! The Auth0 Management API client: errors and their classifier, retry timing, the
//! per-tenant rate limiter, and the hosts a tenant may point it at.

pub mod client;
pub mod error;
pub mod hosts;
pub mod names;
pub mod ratelimit;
pub mod retry;

pub use client::{Auth0Client, Secret, TenantConfig};
pub use error::{Auth0Error, Category};
