//! The admin API: reset, request log, counters, faults, limits, entitlement, tenant settings,
//! the schema dump and direct ("dashboard") edits of stored connection, user attribute and
//! self-service profiles. Served on its own listener, never to tenants.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::config::RateLimitConfig;
use crate::faults::FaultRule;
use crate::http::{self, Answer, BodyError};
use crate::settings::TenantSettings;
use crate::state::{ClientChange, Shared, Tenant};

fn admin_error(status: StatusCode, message: &str) -> Answer {
    http::json(status, &json!({ "error": message }))
}

fn not_found() -> Answer {
    admin_error(StatusCode::NOT_FOUND, "no such admin route")
}

/// Reads and parses a JSON body, answering 400/413 itself.
async fn json_body<B>(request: Request<B>, limit: usize) -> Result<Value, Answer>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = request.into_parts();
    let bytes = http::read_body(&parts.headers, body, limit)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => http::too_large(limit),
            BodyError::Broken => admin_error(StatusCode::BAD_REQUEST, "unreadable body"),
        })?;
    crate::api::parse_json(&bytes)
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Answer> {
    serde_json::from_value(value).map_err(|error| admin_error(StatusCode::BAD_REQUEST, &error.to_string()))
}

pub async fn handle<B>(shared: Arc<Shared>, request: Request<B>) -> Answer
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.clone(), segments.as_slice()) {
        (Method::GET, ["health"]) => http::json(StatusCode::OK, &json!({"status": "ok"})),
        (Method::GET, ["schema"]) => http::json(StatusCode::OK, &crate::schema::dump()),
        (Method::POST, ["reset"]) => {
            shared.reset();
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["tenants"]) => {
            let tenants: Vec<Value> = shared
                .tenants
                .iter()
                .map(|tenant| {
                    let state = tenant.state.lock();
                    json!({
                        "domain": tenant.domain,
                        "entitled": state.entitled,
                        "rate_limit": state.bucket.as_ref().map(|b| b.config()),
                        "profiles": state.profiles.len(),
                        "user_attribute_profiles": state.user_attribute_profiles.len(),
                        "self_service_profiles": state.self_service_profiles.len(),
                        "settings": state.settings,
                    })
                })
                .collect();
            http::json(StatusCode::OK, &json!(tenants))
        }
        (_, ["tenants", domain, rest @ ..]) => {
            let domain = percent_decode(domain);
            let Some(tenant) = shared.tenant(&domain).cloned() else {
                return admin_error(StatusCode::NOT_FOUND, &format!("no tenant {domain}"));
            };
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            match tenant_route(&shared, &tenant, &method, &rest, request).await {
                Ok(answer) | Err(answer) => answer,
            }
        }
        _ => not_found(),
    }
}

fn percent_decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

async fn tenant_route<B>(
    shared: &Shared,
    tenant: &Tenant,
    method: &Method,
    rest: &[String],
    request: Request<B>,
) -> Result<Answer, Answer>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = shared.config.max_body_bytes;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let answer = match (method.clone(), rest.as_slice()) {
        (Method::POST, ["reset"]) => {
            tenant.reset();
            shared.mark_changed();
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["requests"]) => http::json(StatusCode::OK, &json!(tenant.state.lock().log)),
        (Method::DELETE, ["requests"]) => {
            tenant.state.lock().log.clear();
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["counters"]) => {
            let state = tenant.state.lock();
            let counters: serde_json::Map<String, Value> = state
                .counters
                .iter()
                .map(|(endpoint, by_status)| {
                    let by_status: serde_json::Map<String, Value> = by_status
                        .iter()
                        .map(|(status, count)| (status.to_string(), json!(count)))
                        .collect();
                    (endpoint.name().to_string(), Value::Object(by_status))
                })
                .collect();
            http::json(StatusCode::OK, &Value::Object(counters))
        }
        (Method::DELETE, ["counters"]) => {
            tenant.state.lock().counters.clear();
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["faults"]) => http::json(StatusCode::OK, &json!(tenant.state.lock().faults)),
        (Method::PUT | Method::POST, ["faults"]) => {
            let body = json_body(request, limit).await?;
            let rules: Vec<FaultRule> = if method == Method::POST {
                vec![parse(body)?]
            } else {
                parse(body)?
            };
            for rule in &rules {
                rule.validate()
                    .map_err(|reason| admin_error(StatusCode::BAD_REQUEST, &reason))?;
            }
            let mut state = tenant.state.lock();
            if method == Method::PUT {
                state.faults = rules;
            } else {
                state.faults.extend(rules);
            }
            http::json(StatusCode::OK, &json!(state.faults))
        }
        (Method::DELETE, ["faults"]) => {
            tenant.state.lock().faults.clear();
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["rate-limit"]) => http::json(
            StatusCode::OK,
            &json!(tenant.state.lock().bucket.as_ref().map(|b| b.config())),
        ),
        (Method::PUT, ["rate-limit"]) => {
            let limit: Option<RateLimitConfig> = parse(json_body(request, limit).await?)?;
            if limit.is_some_and(|config| !config.is_valid()) {
                return Err(admin_error(
                    StatusCode::BAD_REQUEST,
                    "burst must be >= 1 and per_second > 0",
                ));
            }
            tenant.state.lock().set_rate_limit(limit);
            http::json(StatusCode::OK, &json!(limit))
        }
        (Method::DELETE, ["rate-limit"]) => {
            tenant.state.lock().set_rate_limit(None);
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["settings"]) => http::json(StatusCode::OK, &json!(tenant.state.lock().settings)),
        (Method::PUT | Method::PATCH, ["settings"]) => {
            let body = json_body(request, limit).await?;
            let settings: TenantSettings = if method == Method::PUT {
                parse(body)?
            } else {
                // PATCH: the keys sent replace the current ones (`features` key by key).
                let mut merged = json!(tenant.state.lock().settings);
                let Value::Object(changes) = body else {
                    return Err(admin_error(StatusCode::BAD_REQUEST, "settings must be an object"));
                };
                for (key, value) in changes {
                    match (key.as_str(), value) {
                        ("features", Value::Object(flags)) => {
                            for (flag, on) in flags {
                                merged["features"][flag] = on;
                            }
                        }
                        (_, value) => merged[key] = value,
                    }
                }
                parse(merged)?
            };
            settings
                .validate()
                .map_err(|reason| admin_error(StatusCode::BAD_REQUEST, &reason))?;
            tenant.state.lock().settings = settings.clone();
            http::json(StatusCode::OK, &json!(settings))
        }
        (Method::GET, ["entitlement"]) => {
            http::json(StatusCode::OK, &json!({"entitled": tenant.state.lock().entitled}))
        }
        (Method::PUT, ["entitlement"]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Entitlement {
                entitled: bool,
            }
            let wanted: Entitlement = parse(json_body(request, limit).await?)?;
            tenant.state.lock().entitled = wanted.entitled;
            http::json(StatusCode::OK, &json!({"entitled": wanted.entitled}))
        }
        (Method::PUT, ["clients", client_id]) => {
            let change: ClientChange = parse(json_body(request, limit).await?)?;
            if change.scopes.as_ref().is_some_and(|scopes| {
                scopes
                    .iter()
                    .any(|scope| !crate::config::ALL_SCOPES.contains(&scope.as_str()))
            }) {
                return Err(admin_error(StatusCode::BAD_REQUEST, "unknown scope"));
            }
            if !tenant.update_client(client_id, change) {
                return Err(admin_error(StatusCode::NOT_FOUND, "no such client"));
            }
            http::empty(StatusCode::NO_CONTENT)
        }
        (Method::GET, ["profiles"]) => {
            let state = tenant.state.lock();
            let profiles: Vec<_> = state.profiles.values().collect();
            http::json(StatusCode::OK, &json!(profiles))
        }
        (Method::POST, ["profiles"]) => {
            let body = json_body(request, limit).await?;
            crate::api::create(shared, tenant, &body, crate::api::Via::Dashboard)
        }
        (Method::GET, ["profiles", id]) => match tenant.state.lock().profiles.get(*id) {
            Some(profile) => http::json(StatusCode::OK, &json!(profile)),
            None => admin_error(StatusCode::NOT_FOUND, "no such profile"),
        },
        (Method::PATCH, ["profiles", id]) => {
            let body = json_body(request, limit).await?;
            crate::api::update(shared, tenant, id, &body, crate::api::Via::Dashboard)
        }
        (Method::GET, ["user-attribute-profiles"]) => {
            let state = tenant.state.lock();
            let profiles: Vec<_> = state.user_attribute_profiles.values().collect();
            http::json(StatusCode::OK, &json!(profiles))
        }
        (Method::POST, ["user-attribute-profiles"]) => {
            let body = json_body(request, limit).await?;
            crate::user_attribute_profile::api::create(shared, tenant, &body)
        }
        (Method::GET, ["user-attribute-profiles", id]) => match tenant.state.lock().user_attribute_profiles.get(*id) {
            Some(profile) => http::json(StatusCode::OK, &json!(profile)),
            None => admin_error(StatusCode::NOT_FOUND, "no such user attribute profile"),
        },
        (Method::PATCH, ["user-attribute-profiles", id]) => {
            let body = json_body(request, limit).await?;
            crate::user_attribute_profile::api::update(shared, tenant, id, &body)
        }
        (Method::DELETE, ["user-attribute-profiles", id]) => {
            crate::user_attribute_profile::api::delete(shared, tenant, id)
        }
        (Method::GET, ["self-service-profiles"]) => {
            http::json(StatusCode::OK, &json!(tenant.state.lock().self_service_profiles))
        }
        (Method::POST, ["self-service-profiles"]) => {
            let body = json_body(request, limit).await?;
            crate::self_service_profile::api::create(shared, tenant, &body)
        }
        (Method::GET, ["self-service-profiles", id]) => match tenant.state.lock().self_service_profile(id) {
            Some(profile) => http::json(StatusCode::OK, &json!(profile)),
            None => admin_error(StatusCode::NOT_FOUND, "no such self-service profile"),
        },
        (Method::PATCH, ["self-service-profiles", id]) => {
            let body = json_body(request, limit).await?;
            crate::self_service_profile::api::update(shared, tenant, id, &body)
        }
        (Method::DELETE, ["self-service-profiles", id]) => crate::self_service_profile::api::delete(shared, tenant, id),
        (Method::GET, ["self-service-profiles", id, "custom-text"]) => {
            let state = tenant.state.lock();
            match state.self_service_profile(id) {
                Some(_) => http::json(
                    StatusCode::OK,
                    &Value::Object(state.self_service_custom_texts.get(*id).cloned().unwrap_or_default()),
                ),
                None => admin_error(StatusCode::NOT_FOUND, "no such self-service profile"),
            }
        }
        (Method::PUT, ["self-service-profiles", id, "custom-text"]) => {
            let body = json_body(request, limit).await?;
            crate::self_service_profile::api::set_custom_text(shared, tenant, id, &body)
        }
        (Method::DELETE, ["profiles", id]) => {
            let removed = tenant.state.lock().remove(id);
            match removed {
                Some(_) => {
                    shared.mark_changed();
                    http::empty(StatusCode::NO_CONTENT)
                }
                None => admin_error(StatusCode::NOT_FOUND, "no such profile"),
            }
        }
        _ => not_found(),
    };
    Ok(answer)
}
