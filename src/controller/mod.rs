//! Reconciling ConnectionProfiles to Auth0: desired state and diff (pure), conditions (pure).

pub mod conditions;
pub mod desired;
