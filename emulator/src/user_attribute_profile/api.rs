//! The seven `/api/v2/user-attribute-profiles` endpoints, after the shared checks
//! (authentication, scope) of `crate::api`. Create, update and delete are also the admin
//! API's dashboard edits.

use bytes::Bytes;
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::schema::{PROFILE, READ_ONLY, REQUIRED_ON_CREATE};
use super::{UserAttributeProfile, is_well_formed_id, new_id};
use crate::api::{Context, Route, closed_body, feature_not_enabled, malformed_id, segments_under};
use crate::faults::Endpoint;
use crate::http::{self, Answer, auth0_error};
use crate::paging::Checkpoint;
use crate::state::{Shared, Tenant};

const API_PREFIX: &str = "/api/v2/user-attribute-profiles";

pub const SCOPE_READ: &str = "read:user_attribute_profiles";
pub const SCOPE_CREATE: &str = "create:user_attribute_profiles";
pub const SCOPE_UPDATE: &str = "update:user_attribute_profiles";
pub const SCOPE_DELETE: &str = "delete:user_attribute_profiles";

/// `take` when the query has none (documented).
pub const DEFAULT_TAKE: usize = 5;
/// The largest `take` accepted: Auth0 documents none; 100 is decided.
pub const MAX_TAKE: usize = 100;
/// The most profiles one page holds (decided: the SDKs' default `take=50`).
pub const MAX_PAGE: usize = 50;

const CHECKPOINT: Checkpoint = Checkpoint {
    default_take: DEFAULT_TAKE,
    max_take: MAX_TAKE,
    page_cap: MAX_PAGE,
    id_prefix: super::ID_PREFIX,
};

/// The route of a user attribute profile path, `None` for any other path; `/templates`
/// wins over `/{id}`.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let segments = segments_under(path, API_PREFIX)?;
    Some(match (method.clone(), segments.as_slice()) {
        (Method::GET, []) => Route::plain(Endpoint::ListUserAttributeProfiles),
        (Method::POST, []) => Route::plain(Endpoint::CreateUserAttributeProfile),
        (Method::GET, ["templates"]) => Route::plain(Endpoint::ListUserAttributeProfileTemplates),
        (Method::GET, ["templates", id]) => Route::with_id(Endpoint::GetUserAttributeProfileTemplate, id),
        (Method::GET, [id]) => Route::with_id(Endpoint::GetUserAttributeProfile, id),
        (Method::PATCH, [id]) => Route::with_id(Endpoint::UpdateUserAttributeProfile, id),
        (Method::DELETE, [id]) => Route::with_id(Endpoint::DeleteUserAttributeProfile, id),
        _ => Route::plain(Endpoint::Unknown),
    })
}

/// The scope an endpoint needs (documented), `None` for the other resources' endpoints.
pub fn required_scope(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::ListUserAttributeProfiles
        | Endpoint::GetUserAttributeProfile
        | Endpoint::ListUserAttributeProfileTemplates
        | Endpoint::GetUserAttributeProfileTemplate => Some(SCOPE_READ),
        Endpoint::CreateUserAttributeProfile => Some(SCOPE_CREATE),
        Endpoint::UpdateUserAttributeProfile => Some(SCOPE_UPDATE),
        Endpoint::DeleteUserAttributeProfile => Some(SCOPE_DELETE),
        _ => None,
    }
}

fn not_found() -> Answer {
    auth0_error(StatusCode::NOT_FOUND, "User attribute profile not found.", None)
}

fn conflict() -> Answer {
    auth0_error(StatusCode::CONFLICT, "User attribute profile conflict.", None)
}

/// The 409 of a DELETE of a profile a self-service profile uses (decided wording).
fn in_use() -> Answer {
    auth0_error(StatusCode::CONFLICT, "User attribute profile is in use.", None)
}

/// Runs one endpoint for an authenticated, authorised request.
pub(crate) async fn serve<B>(context: &Context<'_>, route: &Route, query: Option<&str>, request: Request<B>) -> Answer
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (shared, tenant) = (context.shared, context.tenant);
    if !tenant.state.lock().settings.user_attribute_profiles {
        return feature_not_enabled();
    }
    let id = route.id.as_deref().unwrap_or_default();
    match route.endpoint {
        Endpoint::ListUserAttributeProfiles => list(context, query),
        Endpoint::GetUserAttributeProfile => get(tenant, id),
        Endpoint::DeleteUserAttributeProfile => delete(shared, tenant, id),
        Endpoint::ListUserAttributeProfileTemplates => http::json(
            StatusCode::OK,
            &json!({"user_attribute_profile_templates": super::templates::built_in()}),
        ),
        Endpoint::GetUserAttributeProfileTemplate => {
            match super::templates::built_in().into_iter().find(|item| item.id == id) {
                Some(item) => http::json(StatusCode::OK, &json!(item)),
                None => auth0_error(
                    StatusCode::NOT_FOUND,
                    "User attribute profile template not found.",
                    None,
                ),
            }
        }
        Endpoint::CreateUserAttributeProfile | Endpoint::UpdateUserAttributeProfile => {
            let updating = route.endpoint == Endpoint::UpdateUserAttributeProfile;
            if updating && !is_well_formed_id(id) {
                return malformed_id(super::ID_PREFIX);
            }
            let body = match context.json_body(request).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            if updating {
                update(shared, tenant, id, &body)
            } else {
                create(shared, tenant, &body)
            }
        }
        _ => http::not_found_route(),
    }
}

fn list(context: &Context<'_>, query: Option<&str>) -> Answer {
    context.checkpoint_list(query, CHECKPOINT, "user_attribute_profiles", |state| {
        &state.user_attribute_profiles
    })
}

/// Reads one profile (400 for a malformed id, 404 for an unknown one).
pub fn get(tenant: &Tenant, id: &str) -> Answer {
    if !is_well_formed_id(id) {
        return malformed_id(super::ID_PREFIX);
    }
    match tenant.state.lock().user_attribute_profiles.get(id) {
        Some(profile) => http::json(StatusCode::OK, &json!(profile)),
        None => not_found(),
    }
}

/// Creates a profile from a JSON body (the API's POST and the dashboard's create): 201, or
/// 409 for a taken name when the tenant's names are unique.
pub fn create(shared: &Shared, tenant: &Tenant, body: &Value) -> Answer {
    let map = match closed_body(tenant, body, PROFILE, REQUIRED_ON_CREATE, READ_ONLY) {
        Ok(map) => map,
        Err(answer) => return answer,
    };
    let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut state = tenant.state.lock();
    if state.settings.unique_names && state.user_attribute_profile_name_taken(name, None) {
        return conflict();
    }
    let id = crate::random::fresh_id(new_id, |id| state.user_attribute_profiles.contains_key(id));
    let profile = UserAttributeProfile::create(id, map);
    let answer = http::json(StatusCode::CREATED, &json!(profile));
    state.user_attribute_profiles.insert(profile.id.clone(), profile);
    drop(state);
    shared.mark_changed();
    answer
}

/// Applies a PATCH (the API's and the dashboard's): 200, 404, or 409 for a rename onto a
/// taken name when names are unique (decided: Auth0 documents no 409 on PATCH).
pub fn update(shared: &Shared, tenant: &Tenant, id: &str, body: &Value) -> Answer {
    let map = match closed_body(tenant, body, PROFILE, &[], READ_ONLY) {
        Ok(map) => map,
        Err(answer) => return answer,
    };
    let mut state = tenant.state.lock();
    let Some(mut profile) = state.user_attribute_profiles.get(id).cloned() else {
        return not_found();
    };
    if let Some(name) = map.get("name").and_then(Value::as_str)
        && state.settings.unique_names
        && state.user_attribute_profile_name_taken(name, Some(id))
    {
        return conflict();
    }
    profile.apply(map);
    let answer = http::json(StatusCode::OK, &json!(profile));
    state.user_attribute_profiles.insert(profile.id.clone(), profile);
    drop(state);
    shared.mark_changed();
    answer
}

/// Deletes a profile: 204, also for an unknown id (recorded); 409 while a self-service
/// profile refers to it, when the tenant refuses that (decided).
pub fn delete(shared: &Shared, tenant: &Tenant, id: &str) -> Answer {
    if !is_well_formed_id(id) {
        return malformed_id(super::ID_PREFIX);
    }
    let mut state = tenant.state.lock();
    if !state.user_attribute_profiles.contains_key(id) {
        return http::empty(StatusCode::NO_CONTENT);
    }
    let used = state
        .self_service_profiles
        .iter()
        .any(|profile| profile.user_attribute_profile_id.as_deref() == Some(id));
    if used && state.settings.refuse_delete_in_use {
        return in_use();
    }
    state.user_attribute_profiles.remove(id);
    drop(state);
    shared.mark_changed();
    http::empty(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_put_templates_before_ids() {
        let r = |method: Method, path: &str| route(&method, path).map(|route| route.endpoint);
        let base = "/api/v2/user-attribute-profiles";
        assert_eq!(r(Method::GET, base), Some(Endpoint::ListUserAttributeProfiles));
        assert_eq!(
            r(Method::POST, &format!("{base}/")),
            Some(Endpoint::CreateUserAttributeProfile)
        );
        assert_eq!(
            r(Method::GET, &format!("{base}/templates")),
            Some(Endpoint::ListUserAttributeProfileTemplates)
        );
        assert_eq!(
            r(Method::GET, &format!("{base}/templates/auth0-generic")),
            Some(Endpoint::GetUserAttributeProfileTemplate)
        );
        assert_eq!(
            r(Method::GET, &format!("{base}/uap_1")),
            Some(Endpoint::GetUserAttributeProfile)
        );
        assert_eq!(
            r(Method::PATCH, &format!("{base}/uap_1")),
            Some(Endpoint::UpdateUserAttributeProfile)
        );
        assert_eq!(
            r(Method::DELETE, &format!("{base}/uap_1")),
            Some(Endpoint::DeleteUserAttributeProfile)
        );
        assert_eq!(r(Method::PUT, &format!("{base}/uap_1")), Some(Endpoint::Unknown));
        assert_eq!(r(Method::GET, "/api/v2/user-attribute-profilesx"), None);
        assert_eq!(r(Method::GET, "/api/v2/connection-profiles"), None);
    }
}
