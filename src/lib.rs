//! auth0-operator: manages Auth0 Connection Profiles as Kubernetes resources.
#![forbid(unsafe_code)]
#![deny(warnings)]
// kube's printcolumn(...) lists repeat `priority = 1`, which clippy takes for duplicates.
#![allow(clippy::duplicated_attributes)]

pub mod auth0;
pub mod controller;
pub mod crd;
