//! Injected faults: error statuses, latency with jitter, and connections dropped after a write.

use serde::{Deserialize, Serialize};

/// The endpoints the emulator tells apart in counters, logs and fault rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Token,
    ListProfiles,
    CreateProfile,
    GetProfile,
    UpdateProfile,
    DeleteProfile,
    ListTemplates,
    GetTemplate,
    ListUserAttributeProfiles,
    CreateUserAttributeProfile,
    GetUserAttributeProfile,
    UpdateUserAttributeProfile,
    DeleteUserAttributeProfile,
    ListUserAttributeProfileTemplates,
    GetUserAttributeProfileTemplate,
    ListSelfServiceProfiles,
    CreateSelfServiceProfile,
    GetSelfServiceProfile,
    UpdateSelfServiceProfile,
    DeleteSelfServiceProfile,
    GetSelfServiceProfileCustomText,
    SetSelfServiceProfileCustomText,
    /// A path that matches no route.
    Unknown,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::ListProfiles => "list_profiles",
            Self::CreateProfile => "create_profile",
            Self::GetProfile => "get_profile",
            Self::UpdateProfile => "update_profile",
            Self::DeleteProfile => "delete_profile",
            Self::ListTemplates => "list_templates",
            Self::GetTemplate => "get_template",
            Self::ListUserAttributeProfiles => "list_user_attribute_profiles",
            Self::CreateUserAttributeProfile => "create_user_attribute_profile",
            Self::GetUserAttributeProfile => "get_user_attribute_profile",
            Self::UpdateUserAttributeProfile => "update_user_attribute_profile",
            Self::DeleteUserAttributeProfile => "delete_user_attribute_profile",
            Self::ListUserAttributeProfileTemplates => "list_user_attribute_profile_templates",
            Self::GetUserAttributeProfileTemplate => "get_user_attribute_profile_template",
            Self::ListSelfServiceProfiles => "list_self_service_profiles",
            Self::CreateSelfServiceProfile => "create_self_service_profile",
            Self::GetSelfServiceProfile => "get_self_service_profile",
            Self::UpdateSelfServiceProfile => "update_self_service_profile",
            Self::DeleteSelfServiceProfile => "delete_self_service_profile",
            Self::GetSelfServiceProfileCustomText => "get_self_service_profile_custom_text",
            Self::SetSelfServiceProfileCustomText => "set_self_service_profile_custom_text",
            Self::Unknown => "unknown",
        }
    }

    /// A listing paged by cursor, where a `repeat_cursor` fault applies.
    pub fn pages_by_checkpoint(self) -> bool {
        matches!(self, Self::ListProfiles | Self::ListUserAttributeProfiles)
    }
}

/// Statuses a fault may answer with.
pub const FAULT_STATUSES: [u16; 3] = [500, 502, 503];

fn always() -> f64 {
    1.0
}

/// One fault. When a request reaches a matching endpoint, the rule fires with `probability`
/// (and while `times` lasts): it waits `latency_ms` plus up to `jitter_ms`, then answers
/// `status` without doing anything, or does the work and drops the connection before
/// answering (`drop_after_write`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// `None` matches every endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    #[serde(default = "always")]
    pub probability: f64,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub jitter_ms: u64,
    #[serde(default)]
    pub drop_after_write: bool,
    /// On a listing: answer the page as usual but hand back as `next` the cursor the request
    /// sent (on a first page, a cursor that the next call gets back), so a client that
    /// follows `next` would loop for ever.
    #[serde(default)]
    pub repeat_cursor: bool,
    /// How many more times the rule may fire; `None` is forever.
    #[serde(default)]
    pub times: Option<u64>,
}

impl Default for FaultRule {
    /// A rule that always fires on every endpoint and does nothing: set what it should do.
    fn default() -> Self {
        Self {
            endpoint: None,
            probability: 1.0,
            status: None,
            latency_ms: 0,
            jitter_ms: 0,
            drop_after_write: false,
            repeat_cursor: false,
            times: None,
        }
    }
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!("probability {} is not within 0..=1", self.probability));
        }
        if let Some(status) = self.status {
            if !FAULT_STATUSES.contains(&status) {
                return Err(format!("status {status} is not one of {FAULT_STATUSES:?}"));
            }
            if self.drop_after_write {
                return Err("a rule cannot both answer a status and drop the connection".into());
            }
        }
        if self.repeat_cursor {
            if self.endpoint.is_some_and(|endpoint| !endpoint.pages_by_checkpoint()) {
                return Err("repeat_cursor applies to list_profiles and list_user_attribute_profiles only".into());
            }
            if self.status.is_some() || self.drop_after_write {
                return Err("repeat_cursor answers the listing: no status or drop_after_write with it".into());
            }
        }
        if self.status.is_none()
            && !self.drop_after_write
            && !self.repeat_cursor
            && self.latency_ms == 0
            && self.jitter_ms == 0
        {
            return Err("a rule needs a status, drop_after_write, repeat_cursor or latency".into());
        }
        Ok(())
    }
}

/// What the fired rules ask of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub delay_ms: u64,
    pub status: Option<u16>,
    pub drop_after_write: bool,
    pub repeat_cursor: bool,
}

/// Rolls the dice for every rule matching `endpoint` and spends their `times`.
/// `roll` gives uniform numbers in [0, 1) so tests can be exact.
pub fn plan(rules: &mut Vec<FaultRule>, endpoint: Endpoint, mut roll: impl FnMut() -> f64) -> Plan {
    let mut plan = Plan::default();
    for rule in rules.iter_mut() {
        if rule.endpoint.is_some_and(|only| only != endpoint) || rule.times == Some(0) {
            continue;
        }
        if roll() >= rule.probability {
            continue;
        }
        if let Some(times) = rule.times.as_mut() {
            *times -= 1;
        }
        let jitter = if rule.jitter_ms == 0 {
            0
        } else {
            (roll() * (rule.jitter_ms + 1) as f64) as u64
        };
        plan.delay_ms += rule.latency_ms + jitter;
        plan.status = plan.status.or(rule.status);
        plan.drop_after_write |= rule.drop_after_write;
        plan.repeat_cursor |= rule.repeat_cursor && endpoint.pages_by_checkpoint();
    }
    rules.retain(|rule| rule.times != Some(0));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(endpoint: Option<Endpoint>) -> FaultRule {
        FaultRule {
            endpoint,
            probability: 0.5,
            status: Some(503),
            latency_ms: 10,
            jitter_ms: 0,
            drop_after_write: false,
            repeat_cursor: false,
            times: Some(1),
        }
    }

    #[test]
    fn a_rule_fires_below_its_probability_on_its_endpoint_and_runs_out() {
        let mut rules = vec![rule(Some(Endpoint::CreateProfile))];
        assert_eq!(plan(&mut rules, Endpoint::GetProfile, || 0.0), Plan::default());
        assert_eq!(plan(&mut rules, Endpoint::CreateProfile, || 0.7), Plan::default());
        assert_eq!(
            plan(&mut rules, Endpoint::CreateProfile, || 0.2),
            Plan {
                delay_ms: 10,
                status: Some(503),
                drop_after_write: false,
                repeat_cursor: false
            }
        );
        assert!(rules.is_empty(), "a rule with times=1 is spent");
    }

    #[test]
    fn validation_rejects_nonsense() {
        assert!(rule(None).validate().is_ok());
        assert!(
            FaultRule {
                status: Some(404),
                ..rule(None)
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultRule {
                probability: 1.5,
                ..rule(None)
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultRule {
                status: None,
                latency_ms: 0,
                ..rule(None)
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultRule {
                drop_after_write: true,
                ..rule(None)
            }
            .validate()
            .is_err()
        );
        let repeat = FaultRule {
            endpoint: Some(Endpoint::ListProfiles),
            status: None,
            latency_ms: 0,
            repeat_cursor: true,
            ..rule(None)
        };
        assert!(repeat.validate().is_ok());
        assert!(
            FaultRule {
                endpoint: Some(Endpoint::GetProfile),
                ..repeat.clone()
            }
            .validate()
            .is_err()
        );
    }
}
