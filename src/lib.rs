//! auth0-operator: manages Auth0 Connection Profiles as Kubernetes resources.
#![forbid(unsafe_code)]
#![deny(warnings)]

pub mod crd;
