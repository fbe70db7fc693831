//! The custom resources, their shared rules, condition vocabulary and pure validation.

pub mod conditions;
pub mod connection_profile;
pub mod rules;
pub mod tenant;
pub mod validation;

pub use connection_profile::*;
pub use tenant::*;

use kube::CustomResourceExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Every CRD this operator serves, in install order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![ClusterAuth0Tenant::crd(), Auth0Tenant::crd(), ConnectionProfile::crd()]
}
