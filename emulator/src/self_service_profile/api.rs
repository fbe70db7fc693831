//! The `/api/v2/self-service-profiles` endpoints (CRUD and custom text), after the shared
//! checks (authentication, scope) of `crate::api`. Create, update and delete are also the
//! admin API's dashboard edits.

use bytes::Bytes;
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};
use serde_json::{Map, Value, json};

use super::schema::{PROFILE, READ_ONLY, REQUIRED_ON_CREATE};
use super::{MAX_PROFILES, SelfServiceProfile, custom_text, is_well_formed_id, new_id};
use crate::api::{Context, Route, closed_body, invalid_body, malformed_id, segments_under};
use crate::faults::Endpoint;
use crate::http::{self, Answer, auth0_error};
use crate::paging;
use crate::state::{Shared, Tenant};
use crate::validate::ValidationError;

const API_PREFIX: &str = "/api/v2/self-service-profiles";

pub const SCOPE_READ: &str = "read:self_service_profiles";
pub const SCOPE_CREATE: &str = "create:self_service_profiles";
pub const SCOPE_UPDATE: &str = "update:self_service_profiles";
pub const SCOPE_DELETE: &str = "delete:self_service_profiles";
pub const SCOPE_READ_CUSTOM_TEXT: &str = "read:self_service_profile_custom_texts";
pub const SCOPE_UPDATE_CUSTOM_TEXT: &str = "update:self_service_profile_custom_texts";

/// `per_page` when the query has none, and its maximum (documented).
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 100;

/// The route of a self-service profile path, `None` for any other path.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let segments = segments_under(path, API_PREFIX)?;
    Some(match (method.clone(), segments.as_slice()) {
        (Method::GET, []) => Route::plain(Endpoint::ListSelfServiceProfiles),
        (Method::POST, []) => Route::plain(Endpoint::CreateSelfServiceProfile),
        (Method::GET, [id]) => Route::with_id(Endpoint::GetSelfServiceProfile, id),
        (Method::PATCH, [id]) => Route::with_id(Endpoint::UpdateSelfServiceProfile, id),
        (Method::DELETE, [id]) => Route::with_id(Endpoint::DeleteSelfServiceProfile, id),
        (Method::GET | Method::PUT, [id, "custom-text", language, page]) => Route {
            rest: vec![(*language).to_string(), (*page).to_string()],
            ..Route::with_id(
                if method == Method::GET {
                    Endpoint::GetSelfServiceProfileCustomText
                } else {
                    Endpoint::SetSelfServiceProfileCustomText
                },
                id,
            )
        },
        _ => Route::plain(Endpoint::Unknown),
    })
}

/// The scope an endpoint needs (documented), `None` for the other resources' endpoints.
pub fn required_scope(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::ListSelfServiceProfiles | Endpoint::GetSelfServiceProfile => Some(SCOPE_READ),
        Endpoint::CreateSelfServiceProfile => Some(SCOPE_CREATE),
        Endpoint::UpdateSelfServiceProfile => Some(SCOPE_UPDATE),
        Endpoint::DeleteSelfServiceProfile => Some(SCOPE_DELETE),
        Endpoint::GetSelfServiceProfileCustomText => Some(SCOPE_READ_CUSTOM_TEXT),
        Endpoint::SetSelfServiceProfileCustomText => Some(SCOPE_UPDATE_CUSTOM_TEXT),
        _ => None,
    }
}

/// Whether the 403 of a missing scope reads "Insufficient scope, expected: …." (documented
/// for the profile CRUD endpoints; custom text uses the connection profiles' wording).
pub fn words_scope_singly(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::ListSelfServiceProfiles
            | Endpoint::GetSelfServiceProfile
            | Endpoint::CreateSelfServiceProfile
            | Endpoint::UpdateSelfServiceProfile
            | Endpoint::DeleteSelfServiceProfile
    )
}

/// The recorded 404 of the profile endpoints (Auth0's API reference words it
/// "Self-service profile not found").
fn not_found(id: &str) -> Answer {
    auth0_error(StatusCode::NOT_FOUND, &format!("Profile with ID: {id} not found"), None)
}

/// The documented 404 of the custom-text endpoints.
fn custom_text_not_found() -> Answer {
    auth0_error(StatusCode::NOT_FOUND, "Self-service profile not found.", None)
}

/// The documented text of the quota 409 (no recording shows the body; no `errorCode` is
/// decided).
fn quota_reached() -> Answer {
    auth0_error(
        StatusCode::CONFLICT,
        "No more profiles can be created for this tenant.",
        None,
    )
}

fn body_error(problem: &str, property: Option<&str>) -> Answer {
    invalid_body(&ValidationError {
        problem: problem.to_string(),
        property: property.map(str::to_string),
    })
}

/// Runs one endpoint for an authenticated, authorised request.
pub(crate) async fn serve<B>(context: &Context<'_>, route: &Route, query: Option<&str>, request: Request<B>) -> Answer
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (shared, tenant) = (context.shared, context.tenant);
    let id = route.id.as_deref().unwrap_or_default();
    if route.id.is_some() && !is_well_formed_id(id) {
        return malformed_id(super::ID_PREFIX);
    }
    match route.endpoint {
        Endpoint::ListSelfServiceProfiles => list(tenant, query),
        Endpoint::GetSelfServiceProfile => match tenant.state.lock().self_service_profile(id) {
            Some(profile) => http::json(StatusCode::OK, &json!(profile)),
            None => not_found(id),
        },
        Endpoint::DeleteSelfServiceProfile => delete(shared, tenant, id),
        Endpoint::CreateSelfServiceProfile | Endpoint::UpdateSelfServiceProfile => {
            let body = match context.json_body(request).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            if route.endpoint == Endpoint::UpdateSelfServiceProfile {
                update(shared, tenant, id, &body)
            } else {
                create(shared, tenant, &body)
            }
        }
        Endpoint::GetSelfServiceProfileCustomText | Endpoint::SetSelfServiceProfileCustomText => {
            let (language, page) = match route.rest.as_slice() {
                [language, page] => (language.as_str(), page.as_str()),
                _ => return http::not_found_route(),
            };
            if let Err(error) = custom_text::check_path(language, page) {
                return auth0_error(StatusCode::BAD_REQUEST, &error.message("Path"), Some("invalid_uri"));
            }
            if route.endpoint == Endpoint::GetSelfServiceProfileCustomText {
                let state = tenant.state.lock();
                if state.self_service_profile(id).is_none() {
                    return custom_text_not_found();
                }
                let text = state.self_service_custom_texts.get(id).cloned().unwrap_or_default();
                return http::json(StatusCode::OK, &Value::Object(text));
            }
            let body = match context.json_body(request).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            set_custom_text(shared, tenant, id, &body)
        }
        _ => http::not_found_route(),
    }
}

fn list(tenant: &Tenant, query: Option<&str>) -> Answer {
    let offset = match paging::offset_query(query, DEFAULT_PER_PAGE, MAX_PER_PAGE) {
        Ok(offset) => offset,
        Err(answer) => return answer,
    };
    let state = tenant.state.lock();
    let page = offset.cut(&state.self_service_profiles);
    let body = if offset.include_totals {
        json!({
            "self_service_profiles": page,
            "start": offset.start(),
            "limit": offset.per_page,
            "total": state.self_service_profiles.len(),
        })
    } else {
        json!(page)
    };
    http::json(StatusCode::OK, &body)
}

/// Validates a body as the tenant does (400: the closed schema, both `user_attributes` and
/// a `user_attribute_profile_id` when the tenant refuses that, a profile id the tenant does
/// not hold) and returns it as a map.
fn accepted<'a>(tenant: &Tenant, body: &'a Value, required: &[&str]) -> Result<&'a Map<String, Value>, Answer> {
    let map = closed_body(tenant, body, PROFILE, required, READ_ONLY)?;
    let exclusive = tenant.state.lock().settings.exclusive_self_service_attributes;
    let attributes = map
        .get("user_attributes")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    let reference = map.get("user_attribute_profile_id").and_then(Value::as_str);
    if exclusive && attributes && reference.is_some() {
        return Err(body_error(
            "user_attributes cannot be used together with user_attribute_profile_id",
            None,
        ));
    }
    if let Some(reference) = reference
        && !tenant.state.lock().user_attribute_profiles.contains_key(reference)
    {
        return Err(body_error(
            "User attribute profile not found",
            Some("user_attribute_profile_id"),
        ));
    }
    Ok(map)
}

/// Creates a profile (the API's POST and the dashboard's create): 201, or 409 once the
/// tenant holds 20 (documented). Names may repeat (recorded).
pub fn create(shared: &Shared, tenant: &Tenant, body: &Value) -> Answer {
    let map = match accepted(tenant, body, REQUIRED_ON_CREATE) {
        Ok(map) => map,
        Err(answer) => return answer,
    };
    let mut state = tenant.state.lock();
    if state.self_service_profiles.len() >= MAX_PROFILES {
        return quota_reached();
    }
    let id = crate::random::fresh_id(new_id, |id| state.self_service_profile(id).is_some());
    let profile = SelfServiceProfile::create(id, map, crate::clock::now());
    let answer = http::json(StatusCode::CREATED, &json!(profile));
    state.self_service_profiles.push(profile);
    drop(state);
    shared.mark_changed();
    answer
}

/// Applies a PATCH (the API's and the dashboard's): 200 or 404.
pub fn update(shared: &Shared, tenant: &Tenant, id: &str, body: &Value) -> Answer {
    let map = match accepted(tenant, body, &[]) {
        Ok(map) => map,
        Err(answer) => return answer,
    };
    let mut state = tenant.state.lock();
    let Some(profile) = state.self_service_profiles.iter_mut().find(|profile| profile.id == id) else {
        return not_found(id);
    };
    profile.apply(map, crate::clock::now());
    let answer = http::json(StatusCode::OK, &json!(profile));
    drop(state);
    shared.mark_changed();
    answer
}

/// Deletes a profile and its custom text: 204, also for an unknown id (recorded).
pub fn delete(shared: &Shared, tenant: &Tenant, id: &str) -> Answer {
    if tenant.state.lock().remove_self_service_profile(id) {
        shared.mark_changed();
    }
    http::empty(StatusCode::NO_CONTENT)
}

/// Replaces a profile's custom text whole; `{}` goes back to Auth0's default text, which a
/// GET shows as `{}` (documented and recorded). Answers the stored map.
pub fn set_custom_text(shared: &Shared, tenant: &Tenant, id: &str, body: &Value) -> Answer {
    let text = match custom_text::check_body(body) {
        Ok(text) => text,
        Err(error) => return invalid_body(&error),
    };
    let mut state = tenant.state.lock();
    if state.self_service_profile(id).is_none() {
        return custom_text_not_found();
    }
    if text.is_empty() {
        state.self_service_custom_texts.remove(id);
    } else {
        state.self_service_custom_texts.insert(id.to_string(), text.clone());
    }
    drop(state);
    shared.mark_changed();
    http::json(StatusCode::OK, &Value::Object(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = |method: Method, path: &str| route(&method, path);
        let base = "/api/v2/self-service-profiles";
        let endpoint = |method: Method, path: &str| r(method, path).map(|route| route.endpoint);
        assert_eq!(endpoint(Method::GET, base), Some(Endpoint::ListSelfServiceProfiles));
        assert_eq!(endpoint(Method::POST, base), Some(Endpoint::CreateSelfServiceProfile));
        assert_eq!(
            endpoint(Method::GET, &format!("{base}/ssp_1")),
            Some(Endpoint::GetSelfServiceProfile)
        );
        assert_eq!(
            endpoint(Method::PATCH, &format!("{base}/ssp_1")),
            Some(Endpoint::UpdateSelfServiceProfile)
        );
        assert_eq!(
            endpoint(Method::DELETE, &format!("{base}/ssp_1")),
            Some(Endpoint::DeleteSelfServiceProfile)
        );
        let text = r(Method::PUT, &format!("{base}/ssp_1/custom-text/en/get-started")).expect("route");
        assert_eq!(text.endpoint, Endpoint::SetSelfServiceProfileCustomText);
        assert_eq!(
            (text.id.as_deref(), text.rest.as_slice()),
            (Some("ssp_1"), &["en".to_string(), "get-started".to_string()][..])
        );
        assert_eq!(
            endpoint(Method::GET, &format!("{base}/ssp_1/custom-text/en/get-started")),
            Some(Endpoint::GetSelfServiceProfileCustomText)
        );
        assert_eq!(
            endpoint(Method::DELETE, &format!("{base}/ssp_1/custom-text/en/get-started")),
            Some(Endpoint::Unknown)
        );
        assert_eq!(
            endpoint(Method::GET, &format!("{base}/ssp_1/custom-text/en")),
            Some(Endpoint::Unknown)
        );
        assert_eq!(endpoint(Method::GET, "/api/v2/self-service-profilesx"), None);
    }
}
