//! The tenant-facing API: `/oauth/token`, the seven connection-profile endpoints, and the
//! dispatch (authentication, scopes, entitlement) of the user attribute and self-service
//! profile endpoints, which live in their own modules.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Body;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::faults::{self, Endpoint};
use crate::http::{self, Answer, BodyError, auth0_error};
use crate::profile::{self, Profile};
use crate::ratelimit::{self, Decision};
use crate::state::{LogEntry, Shared, Tenant, TenantState, unix_now, unix_secs};
use crate::token::{Claims, TokenError};
use crate::validate::{self, Mode};

/// `take` when the query has none (documented).
pub const DEFAULT_TAKE: usize = 5;
/// The most profiles one page holds (documented maximum of `take`).
pub const MAX_PAGE: usize = 10;
/// The largest `take` accepted. Auth0 documents 10, yet its own Python and Node SDKs list
/// with `take=50` by default; refusing it would break their `list()`, so `take` 11..=50 is
/// accepted and served 10 a page (decided until a live result says otherwise).
pub const MAX_TAKE: usize = 50;
const API_PREFIX: &str = "/api/v2/connection-profiles";

const SCOPE_READ: &str = "read:connection_profiles";
const SCOPE_CREATE: &str = "create:connection_profiles";
const SCOPE_UPDATE: &str = "update:connection_profiles";
const SCOPE_DELETE: &str = "delete:connection_profiles";

/// A matched route: the endpoint and the id in the path, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    pub id: Option<String>,
    /// Path segments after the id (custom text: the language and the page).
    pub rest: Vec<String>,
}

impl Route {
    /// A route without an id.
    pub fn plain(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            id: None,
            rest: Vec::new(),
        }
    }

    /// A route with an id in the path.
    pub fn with_id(endpoint: Endpoint, id: &str) -> Self {
        Self {
            endpoint,
            id: Some(id.to_string()),
            rest: Vec::new(),
        }
    }
}

/// The segments of `path` below `prefix` (`/a/b` → `["a", "b"]`, the prefix itself → `[]`),
/// or `None` when the path is not under it. A trailing `/` is ignored.
pub fn segments_under<'a>(path: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let rest = path
        .strip_prefix(prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))?;
    Some(rest.split('/').skip(1).collect())
}

/// Maps method and path to an endpoint; `/templates` wins over `/{id}`.
pub fn route(method: &Method, path: &str) -> Route {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let plain = Route::plain;
    if path == "/oauth/token" {
        return plain(if method == Method::POST {
            Endpoint::Token
        } else {
            Endpoint::Unknown
        });
    }
    if let Some(route) = crate::user_attribute_profile::api::route(method, path)
        .or_else(|| crate::self_service_profile::api::route(method, path))
    {
        return route;
    }
    let Some(segments) = segments_under(path, API_PREFIX) else {
        return plain(Endpoint::Unknown);
    };
    let with_id = Route::with_id;
    match (method.clone(), segments.as_slice()) {
        (Method::GET, []) => plain(Endpoint::ListProfiles),
        (Method::POST, []) => plain(Endpoint::CreateProfile),
        (Method::GET, ["templates"]) => plain(Endpoint::ListTemplates),
        (Method::GET, ["templates", id]) => with_id(Endpoint::GetTemplate, id),
        (Method::GET, [id]) => with_id(Endpoint::GetProfile, id),
        (Method::PATCH, [id]) => with_id(Endpoint::UpdateProfile, id),
        (Method::DELETE, [id]) => with_id(Endpoint::DeleteProfile, id),
        _ => plain(Endpoint::Unknown),
    }
}

fn required_scope(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::ListProfiles | Endpoint::GetProfile | Endpoint::ListTemplates | Endpoint::GetTemplate => {
            Some(SCOPE_READ)
        }
        Endpoint::CreateProfile => Some(SCOPE_CREATE),
        Endpoint::UpdateProfile => Some(SCOPE_UPDATE),
        Endpoint::DeleteProfile => Some(SCOPE_DELETE),
        Endpoint::ListUserAttributeProfiles
        | Endpoint::CreateUserAttributeProfile
        | Endpoint::GetUserAttributeProfile
        | Endpoint::UpdateUserAttributeProfile
        | Endpoint::DeleteUserAttributeProfile
        | Endpoint::ListUserAttributeProfileTemplates
        | Endpoint::GetUserAttributeProfileTemplate => crate::user_attribute_profile::api::required_scope(endpoint),
        Endpoint::ListSelfServiceProfiles
        | Endpoint::CreateSelfServiceProfile
        | Endpoint::GetSelfServiceProfile
        | Endpoint::UpdateSelfServiceProfile
        | Endpoint::DeleteSelfServiceProfile
        | Endpoint::GetSelfServiceProfileCustomText
        | Endpoint::SetSelfServiceProfileCustomText => crate::self_service_profile::api::required_scope(endpoint),
        Endpoint::Token | Endpoint::Unknown => None,
    }
}

/// Whether an endpoint is one of the seven connection-profile ones (the only ones the
/// tenant's entitlement governs).
fn is_connection_profile_endpoint(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::ListProfiles
            | Endpoint::CreateProfile
            | Endpoint::GetProfile
            | Endpoint::UpdateProfile
            | Endpoint::DeleteProfile
            | Endpoint::ListTemplates
            | Endpoint::GetTemplate
    )
}

/// The 403 message for a missing scope: the self-service profile CRUD endpoints word it
/// differently (documented).
fn insufficient_scope_message(endpoint: Endpoint, scope: &str) -> String {
    if crate::self_service_profile::api::words_scope_singly(endpoint) {
        format!("Insufficient scope, expected: {scope}.")
    } else {
        format!("Insufficient scope, expected any of: {scope}")
    }
}

/// Handles one request on a tenant listener; `fixed` is the tenant of a dedicated port.
pub async fn handle<B>(
    shared: Arc<Shared>,
    fixed: Option<Arc<Tenant>>,
    request: Request<B>,
    abort: Arc<Notify>,
) -> Answer
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let arrived = Instant::now();
    let time_ms = (unix_now() * 1000.0) as u64;
    let host = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let tenant = match fixed {
        Some(tenant) => tenant,
        None => match shared.tenant_for_host(host.as_deref()) {
            Some(tenant) => Arc::clone(tenant),
            None => return auth0_error(StatusCode::NOT_FOUND, "Unknown tenant", None),
        },
    };
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let route = route(&method, &path);

    let plan = faults::plan(&mut tenant.state.lock().faults, route.endpoint, crate::random::unit);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let context = Context {
        shared: &shared,
        tenant: &tenant,
        host: host.as_deref(),
        repeat_cursor: plan.repeat_cursor,
    };
    let (mut answer, decision) = if route.endpoint == Endpoint::Token {
        let answer = match plan.status {
            Some(status) => fault_answer(status),
            None => context.token(request).await,
        };
        (answer, None)
    } else {
        let decision = {
            let mut state = tenant.state.lock();
            match state.bucket.as_mut() {
                Some(bucket) => bucket.take(Instant::now(), unix_now()),
                None => ratelimit::unlimited(unix_now()),
            }
        };
        let answer = if !decision.allowed {
            too_many_requests()
        } else if let Some(status) = plan.status {
            fault_answer(status)
        } else {
            context.api(&route, query.as_deref(), request).await
        };
        (answer, Some(decision))
    };
    // A request the bucket refused did nothing, so there is no write to drop after.
    let dropped = plan.drop_after_write && answer.status() != StatusCode::TOO_MANY_REQUESTS;
    if let Some(decision) = decision {
        add_rate_limit_headers(&mut answer, decision);
    }
    let status = answer.status().as_u16();
    {
        let mut state = tenant.state.lock();
        *state
            .counters
            .entry(route.endpoint)
            .or_default()
            .entry(status)
            .or_default() += 1;
        if shared.config.request_log_capacity > 0 {
            if state.log.len() >= shared.config.request_log_capacity {
                state.log.pop_front();
            }
            state.log.push_back(LogEntry {
                method: method.to_string(),
                path,
                query,
                endpoint: route.endpoint,
                status,
                time_ms,
                duration_ms: arrived.elapsed().as_secs_f64() * 1000.0,
                dropped,
            });
        }
    }
    if dropped {
        // The work is done; the connection task closes the socket before anything is sent.
        abort.notify_one();
        std::future::pending::<()>().await;
    }
    answer
}

fn add_rate_limit_headers(answer: &mut Answer, decision: Decision) {
    let headers = answer.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset));
}

fn too_many_requests() -> Answer {
    auth0_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
        None,
    )
}

fn fault_answer(status: u16) -> Answer {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = status.canonical_reason().unwrap_or("Internal Server Error");
    auth0_error(status, message, None)
}

/// A 400 `invalid_body` answer for a schema violation.
pub(crate) fn invalid_body(error: &validate::ValidationError) -> Answer {
    auth0_error(StatusCode::BAD_REQUEST, &error.message("Payload"), Some("invalid_body"))
}

/// Validates a body against a closed schema as the tenant does (400; unknown fields pass
/// where the tenant accepts them) and returns it as a map: the user attribute and
/// self-service profile endpoints.
pub(crate) fn closed_body<'a>(
    tenant: &Tenant,
    body: &'a Value,
    fields: &[crate::schema::Field],
    required: &[&str],
    read_only: &[&str],
) -> Result<&'a serde_json::Map<String, Value>, Answer> {
    let strictness = validate::Strictness {
        accept_unknown: tenant.state.lock().settings.accept_unknown,
    };
    validate::validate_object(body, fields, required, read_only, strictness).map_err(|error| invalid_body(&error))?;
    body.as_object()
        .ok_or_else(|| invalid_body(&validate::ValidationError::at("", "Expected type object")))
}

fn profile_not_found() -> Answer {
    auth0_error(StatusCode::NOT_FOUND, "Connection profile not found.", None)
}

fn conflict() -> Answer {
    auth0_error(StatusCode::CONFLICT, "Connection profile conflict.", None)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Answer {
    http::json(status, &json!({"error": error, "error_description": description}))
}

/// Parses a JSON body the way Auth0 does: empty is `null`, bad JSON is a 400.
pub fn parse_json(bytes: &[u8]) -> Result<Value, Answer> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|_| {
        auth0_error(
            StatusCode::BAD_REQUEST,
            "Invalid request payload JSON format",
            Some("invalid_body"),
        )
    })
}

/// Checks the query of a list call: `take` 1..=50 (default 5) and an optional cursor.
/// Returns the page size (`take`, at most 10) and the id to list after.
pub fn list_query(
    shared: &Shared,
    tenant: &Tenant,
    query: Option<&str>,
    now: u64,
) -> Result<(usize, Option<String>), Answer> {
    crate::paging::checkpoint_query(shared, tenant, query, now, CHECKPOINT)
}

/// The limits of the connection-profile listing.
const CHECKPOINT: crate::paging::Checkpoint = crate::paging::Checkpoint {
    default_take: DEFAULT_TAKE,
    max_take: MAX_TAKE,
    page_cap: MAX_PAGE,
    id_prefix: profile::ID_PREFIX,
};

fn invalid_id(id: &str) -> Option<Answer> {
    (!profile::is_well_formed_id(id)).then(|| malformed_id(profile::ID_PREFIX))
}

/// A 400 `invalid_uri` answer for an id that does not have its resource's shape
/// (`prefix` + 22 base62 characters).
pub(crate) fn malformed_id(prefix: &str) -> Answer {
    auth0_error(
        StatusCode::BAD_REQUEST,
        &format!("Path validation error: 'String does not match pattern: ^{prefix}[A-Za-z0-9]{{22}}$' on property id."),
        Some("invalid_uri"),
    )
}

/// One authenticated request's surroundings, handed to each resource's handlers.
pub(crate) struct Context<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) tenant: &'a Tenant,
    host: Option<&'a str>,
    /// A `repeat_cursor` fault fired on this listing.
    pub(crate) repeat_cursor: bool,
}

impl Context<'_> {
    /// Reads the request body and parses it as JSON (400 / 413 answers on failure).
    pub(crate) async fn json_body<B>(&self, request: Request<B>) -> Result<Value, Answer>
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.body(request).await.and_then(|bytes| parse_json(&bytes))
    }

    /// The `next` of a checkpoint listing's page whose last item is `last`: a cursor after
    /// it when the page is full, or (under a `repeat_cursor` fault) the cursor the request
    /// sent.
    /// A checkpoint listing (connection and user attribute profiles): the query checked
    /// against `limits`, then one page of the items `of` picks from the tenant's state, as
    /// `{"<field>": [...], "next": "..."}` (`next` on a full page only).
    pub(crate) fn checkpoint_list<T: serde::Serialize>(
        &self,
        query: Option<&str>,
        limits: crate::paging::Checkpoint,
        field: &str,
        of: fn(&TenantState) -> &std::collections::BTreeMap<String, T>,
    ) -> Answer {
        let (take, after) = match crate::paging::checkpoint_query(self.shared, self.tenant, query, unix_secs(), limits)
        {
            Ok(parsed) => parsed,
            Err(answer) => return answer,
        };
        let state = self.tenant.state.lock();
        let (page, full) = crate::paging::page_with_ids(of(&state), after.as_deref(), take);
        let last = page.last().map(|(id, _)| id.as_str());
        let next = self.next_cursor(query, last, full);
        let items: Vec<&T> = page.into_iter().map(|(_, item)| item).collect();
        let mut body = json!({ field: items });
        if let Some(next) = next {
            body["next"] = json!(next);
        }
        http::json(StatusCode::OK, &body)
    }

    pub(crate) fn next_cursor(&self, query: Option<&str>, last: Option<&str>, full: bool) -> Option<String> {
        if self.repeat_cursor {
            // The fault: the cursor the request sent comes back as `next`.
            let sent = http::query_pairs(query)
                .into_iter()
                .find(|(key, value)| key == "from" && !value.is_empty())
                .map(|(_, value)| value);
            return Some(sent.unwrap_or_else(|| {
                self.shared
                    .signer
                    .cursor(&self.tenant.domain, last.unwrap_or(""), unix_secs())
            }));
        }
        match last {
            Some(last) if full => Some(self.shared.signer.cursor(&self.tenant.domain, last, unix_secs())),
            _ => None,
        }
    }

    async fn body<B>(&self, request: Request<B>) -> Result<Bytes, Answer>
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limit = self.shared.config.max_body_bytes;
        let (parts, body) = request.into_parts();
        http::read_body(&parts.headers, body, limit)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => http::too_large(limit),
                BodyError::Broken => {
                    auth0_error(StatusCode::BAD_REQUEST, "Invalid request payload", Some("invalid_body"))
                }
            })
    }

    /// The audiences this tenant answers to: its domain, and the host it was reached at.
    fn audience_ok(&self, audience: &str) -> bool {
        let for_host = |host: &str| format!("https://{host}/api/v2/");
        audience == for_host(&self.tenant.domain) || self.host.is_some_and(|host| audience == for_host(host))
    }

    async fn token<B>(&self, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/json"));
        let bytes = match self.body(request).await {
            Ok(bytes) => bytes,
            Err(answer) => return answer,
        };
        let params: Vec<(String, String)> = if is_json {
            match serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes) {
                Ok(map) => map
                    .into_iter()
                    .filter_map(|(key, value)| value.as_str().map(|text| (key, text.to_string())))
                    .collect(),
                Err(_) => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Invalid JSON body");
                }
            }
        } else {
            form_urlencoded::parse(&bytes)
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect()
        };
        self.grant(&params)
    }

    fn grant(&self, params: &[(String, String)]) -> Answer {
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        match param("grant_type") {
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameter: grant_type",
                );
            }
            Some("client_credentials") => {}
            Some(other) => {
                return oauth_error(
                    StatusCode::FORBIDDEN,
                    "unsupported_grant_type",
                    &format!("Unsupported grant type: {other}"),
                );
            }
        }
        let id = param("client_id").unwrap_or_default();
        let secret = param("client_secret").unwrap_or_default();
        let client = self
            .tenant
            .state
            .lock()
            .clients
            .iter()
            .find(|client| {
                client.client_id == id
                    && crate::token::constant_time_eq(client.client_secret.as_bytes(), secret.as_bytes())
            })
            .cloned();
        let Some(client) = client else {
            return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
        };
        let Some(audience) = param("audience") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: audience",
            );
        };
        if !self.audience_ok(audience) {
            return oauth_error(
                StatusCode::FORBIDDEN,
                "access_denied",
                &format!("Service not enabled within domain: {audience}"),
            );
        }
        if client.scopes.is_empty() {
            return oauth_error(
                StatusCode::FORBIDDEN,
                "access_denied",
                &format!(
                    "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."
                ),
            );
        }
        let granted: Vec<&str> = match param("scope") {
            Some(requested) => {
                let requested: Vec<&str> = requested.split_whitespace().collect();
                client
                    .scopes
                    .iter()
                    .map(String::as_str)
                    .filter(|scope| requested.contains(scope))
                    .collect()
            }
            None => client.scopes.iter().map(String::as_str).collect(),
        };
        let lifetime = self.shared.config.token_lifetime_secs;
        let now = unix_secs();
        let scope = granted.join(" ");
        let claims = Claims {
            iss: self.tenant.issuer(),
            sub: format!("{}@clients", client.client_id),
            aud: audience.to_string(),
            iat: now,
            exp: now.saturating_add(lifetime),
            scope: scope.clone(),
            gty: "client-credentials".into(),
            azp: client.client_id.clone(),
        };
        http::json(
            StatusCode::OK,
            &json!({
                "access_token": self.shared.signer.issue(&claims),
                "token_type": "Bearer",
                "expires_in": lifetime,
                "scope": scope,
            }),
        )
    }

    /// Authenticates, checks entitlement and scope, then runs the endpoint.
    async fn api<B>(&self, route: &Route, query: Option<&str>, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let Some(scope) = required_scope(route.endpoint) else {
            return http::not_found_route();
        };
        let bearer = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim);
        let Some(bearer) = bearer.filter(|token| !token.is_empty()) else {
            return auth0_error(StatusCode::UNAUTHORIZED, "Missing authentication", None);
        };
        let claims = match self.shared.signer.verify(bearer, unix_secs()) {
            Ok(claims) if claims.iss == self.tenant.issuer() => claims,
            Ok(_) | Err(TokenError::Invalid) => {
                return auth0_error(StatusCode::UNAUTHORIZED, "Invalid token.", None);
            }
            Err(TokenError::Expired) => {
                return auth0_error(
                    StatusCode::UNAUTHORIZED,
                    "Expired token received for JSON Web Token validation",
                    None,
                );
            }
        };
        if is_connection_profile_endpoint(route.endpoint) && !self.tenant.state.lock().entitled {
            return auth0_error(
                StatusCode::FORBIDDEN,
                "This tenant is not entitled to use connection profiles.",
                Some("insufficient_entitlement"),
            );
        }
        if !claims.has_scope(scope) {
            return auth0_error(
                StatusCode::FORBIDDEN,
                &insufficient_scope_message(route.endpoint, scope),
                Some("insufficient_scope"),
            );
        }
        if !is_connection_profile_endpoint(route.endpoint) {
            return match crate::user_attribute_profile::api::required_scope(route.endpoint) {
                Some(_) => crate::user_attribute_profile::api::serve(self, route, query, request).await,
                None => crate::self_service_profile::api::serve(self, route, query, request).await,
            };
        }
        let id = route.id.as_deref().unwrap_or_default();
        match route.endpoint {
            Endpoint::ListProfiles => self.list(query),
            Endpoint::GetProfile => self.get(id),
            Endpoint::DeleteProfile => self.delete(id),
            Endpoint::ListTemplates => http::json(
                StatusCode::OK,
                &json!({"connection_profile_templates": self.shared.templates}),
            ),
            Endpoint::GetTemplate => match self.shared.templates.iter().find(|t| t.id == id) {
                Some(template) => http::json(StatusCode::OK, &json!(template)),
                None => auth0_error(StatusCode::NOT_FOUND, "Connection profile template not found.", None),
            },
            Endpoint::CreateProfile | Endpoint::UpdateProfile => {
                if route.endpoint == Endpoint::UpdateProfile
                    && let Some(answer) = invalid_id(id)
                {
                    return answer;
                }
                let body = match self.json_body(request).await {
                    Ok(body) => body,
                    Err(answer) => return answer,
                };
                if route.endpoint == Endpoint::CreateProfile {
                    create(self.shared, self.tenant, &body, Via::Api)
                } else {
                    update(self.shared, self.tenant, id, &body, Via::Api)
                }
            }
            _ => http::not_found_route(),
        }
    }

    fn list(&self, query: Option<&str>) -> Answer {
        self.checkpoint_list(query, CHECKPOINT, "connection_profiles", |state| &state.profiles)
    }

    fn get(&self, id: &str) -> Answer {
        if let Some(answer) = invalid_id(id) {
            return answer;
        }
        match self.tenant.state.lock().profiles.get(id) {
            Some(profile) => http::json(StatusCode::OK, &json!(profile)),
            None => profile_not_found(),
        }
    }

    fn delete(&self, id: &str) -> Answer {
        if let Some(answer) = invalid_id(id) {
            return answer;
        }
        let removed = self.tenant.state.lock().remove(id);
        match removed {
            Some(_) => {
                self.shared.mark_changed();
                http::empty(StatusCode::NO_CONTENT)
            }
            None => profile_not_found(),
        }
    }
}

/// One page of the connection-profile listing (see `crate::paging::page`).
pub fn page<'a>(
    profiles: &'a std::collections::BTreeMap<String, Profile>,
    after: Option<&str>,
    take: usize,
) -> (Vec<&'a Profile>, bool) {
    crate::paging::page(profiles, after, take)
}

/// Who writes: a client of the API, or the admin API acting as the dashboard (which
/// bypasses feature flags, so a test can seed what a tenant without the flag holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Api,
    Dashboard,
}

/// The 403 of a tenant that lacks a feature flag.
pub(crate) fn feature_not_enabled() -> Answer {
    auth0_error(
        StatusCode::FORBIDDEN,
        "This feature is not enabled for this tenant.",
        Some("feature_not_enabled"),
    )
}

/// Validates a body as the tenant does (400), checks its feature flags (403), and returns
/// the changes to write after the tenant's normalization.
fn accepted(tenant: &Tenant, body: &Value, mode: Mode, via: Via) -> Result<(validate::Changes, bool), Answer> {
    let settings = tenant.state.lock().settings.clone();
    let strictness = validate::Strictness {
        accept_unknown: settings.accept_unknown,
    };
    validate::validate_body_with(body, mode, strictness).map_err(|error| invalid_body(&error))?;
    if via == Via::Api
        && crate::schema::features_needed(body)
            .into_iter()
            .any(|feature| !settings.features.enabled(feature))
    {
        return Err(feature_not_enabled());
    }
    let mut stored = body.as_object().cloned().unwrap_or_default();
    crate::settings::normalize(&mut stored, &settings.normalize);
    Ok((validate::changes_of(&stored), settings.unique_names))
}

/// Creates a profile from a JSON body (the API's POST and the dashboard's create).
pub fn create(shared: &Shared, tenant: &Tenant, body: &Value, via: Via) -> Answer {
    let (changes, unique_names) = match accepted(tenant, body, Mode::Create, via) {
        Ok(accepted) => accepted,
        Err(answer) => return answer,
    };
    let Some(name) = changes.name.clone() else {
        return invalid_body(&validate::ValidationError {
            problem: "Missing required property: name".into(),
            property: None,
        });
    };
    let mut state = tenant.state.lock();
    if unique_names && state.name_taken(&name, None) {
        return conflict();
    }
    let id = crate::random::fresh_id(profile::new_id, |id| state.profiles.contains_key(id));
    let profile = Profile::create(id, name, changes);
    let answer = http::json(StatusCode::CREATED, &json!(profile));
    state.insert(profile);
    drop(state);
    shared.mark_changed();
    answer
}

/// Applies a partial update (the API's PATCH and the dashboard's edit).
pub fn update(shared: &Shared, tenant: &Tenant, id: &str, body: &Value, via: Via) -> Answer {
    let (changes, unique_names) = match accepted(tenant, body, Mode::Update, via) {
        Ok(accepted) => accepted,
        Err(answer) => return answer,
    };
    let mut state = tenant.state.lock();
    let Some(mut profile) = state.profiles.get(id).cloned() else {
        return profile_not_found();
    };
    if let Some(name) = &changes.name
        && unique_names
        && state.name_taken(name, Some(id))
    {
        return conflict();
    }
    profile.apply(changes);
    let answer = http::json(StatusCode::OK, &json!(profile));
    state.replace(profile);
    drop(state);
    shared.mark_changed();
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_put_templates_before_ids() {
        let r = |method: Method, path: &str| route(&method, path).endpoint;
        assert_eq!(r(Method::GET, "/api/v2/connection-profiles"), Endpoint::ListProfiles);
        assert_eq!(r(Method::GET, "/api/v2/connection-profiles/"), Endpoint::ListProfiles);
        assert_eq!(r(Method::POST, "/api/v2/connection-profiles"), Endpoint::CreateProfile);
        assert_eq!(
            r(Method::GET, "/api/v2/connection-profiles/templates"),
            Endpoint::ListTemplates
        );
        assert_eq!(
            r(Method::GET, "/api/v2/connection-profiles/templates/cpt_1"),
            Endpoint::GetTemplate
        );
        assert_eq!(
            r(Method::GET, "/api/v2/connection-profiles/cop_1"),
            Endpoint::GetProfile
        );
        assert_eq!(
            r(Method::PATCH, "/api/v2/connection-profiles/cop_1"),
            Endpoint::UpdateProfile
        );
        assert_eq!(
            r(Method::DELETE, "/api/v2/connection-profiles/cop_1"),
            Endpoint::DeleteProfile
        );
        assert_eq!(r(Method::PUT, "/api/v2/connection-profiles/cop_1"), Endpoint::Unknown);
        assert_eq!(
            r(Method::DELETE, "/api/v2/connection-profiles/templates/x"),
            Endpoint::Unknown
        );
        assert_eq!(r(Method::GET, "/api/v2/connection-profilesx"), Endpoint::Unknown);
        assert_eq!(r(Method::POST, "/oauth/token"), Endpoint::Token);
        assert_eq!(r(Method::GET, "/oauth/token"), Endpoint::Unknown);
    }
}
