//! The Management API client for one tenant: connection-profile calls with a cached token,
//! the tenant's token bucket, retries of transient failures, and a timeout on every call.
//!
//! A POST is retried only when Auth0 said it did nothing (429): after a dropped connection
//! or a 5xx the profile may exist, and only the reconciler, which looks it up by name
//! under its create-pending guard, may decide what to do next.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::error::{self, Auth0Error};
use super::ratelimit::{InFlight, Priority, TokenBucket};
use super::retry::{Backoff, Clock};
use crate::crd::CONNECTION_PROFILES;
use crate::crd::kind::{Auth0Api, Paging};
use crate::metrics::Metrics;

/// The most pages one listing may take: 5,000 pages of 10 is 50,000 profiles, five times the
/// largest tenant the project measures (10,000 in the benchmarks); no tenant is known to hold
/// more. A listing that goes past it is looping (a server that keeps handing out cursors) and
/// ends with an error rather than paging for ever. Decided: Auth0 documents no limit.
pub const MAX_LIST_PAGES: usize = 5_000;

/// How long refused credentials are remembered before trying them again.
const REFUSAL_MEMORY: Duration = Duration::from_secs(300);
/// The longest a token is used before it is fetched again, whatever `expires_in` says.
const TOKEN_LIFETIME_CAP: Duration = Duration::from_secs(24 * 3600);

/// The most bytes of one answer read: a page of ten profiles is a few KB; whatever else a
/// misconfigured endpoint sends is not kept in memory beyond this.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// A string that never shows in `Debug`, logs or messages: client secrets and tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where a tenant is and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct TenantConfig {
    /// The tenant's domain, as in `status.tenant`.
    pub domain: String,
    /// Where requests go: `https://{domain}` unless an explicit endpoint was configured.
    pub base_url: Url,
    /// The API audience, `https://{domain}/api/v2/` by default.
    pub audience: String,
    pub client_id: String,
    pub client_secret: Secret,
}

impl TenantConfig {
    /// The Auth0 tenant these settings reach, as bindings record it: [`reached`].
    pub fn reached(&self) -> String {
        reached(&self.domain, &self.base_url)
    }

    /// The tenant as reached and called: what everything kept per tenant is keyed by.
    pub fn reach(&self) -> Reach {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (
            self.base_url.as_str(),
            &self.audience,
            &self.client_id,
            self.client_secret.expose(),
        )
            .hash(&mut hasher);
        Reach {
            reached: self.reached(),
            credentials: hasher.finish(),
        }
    }
}

/// What the operator keeps per tenant (its rate bucket and in-flight window, its lane, the
/// listings name checks read) belongs to the tenant as it is reached: the endpoint it calls
/// and the credentials it calls with, never a name a user wrote. Two tenant objects that
/// reach different endpoints, or call with different credentials, share none of it, so no
/// namespace can steer what another namespace's resources send, read or decide by what it
/// writes in its own objects (issue 25; docs/security.md). Two objects with the same
/// endpoint and credentials are the same principal and share it all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reach {
    /// [`reached`]: the domain, and the endpoint when it is not the domain's own. The only
    /// part ever shown (metrics label `tenant`).
    pub reached: String,
    /// The endpoint, audience, client id and secret, hashed; never shown.
    credentials: u64,
}

impl Reach {
    /// A reach for tests and benches that have no credentials: `reached` alone.
    pub fn named(reached: &str) -> Reach {
        Reach {
            reached: reached.to_string(),
            credentials: 0,
        }
    }
}

/// The Auth0 tenant reached at `base_url` for `domain`, as a resource's bindings record it
/// (`profile-tenant`): the domain (Auth0's name for the tenant, its Management API's
/// audience and token issuer), and the endpoint when it is not the domain's own
/// (`acme.us.auth0.com`; `acme.us.auth0.local at http://127.0.0.1:4000/`), never a user,
/// password, query or fragment the endpoint holds (they may be credentials). Two settings that
/// give different values may reach different tenants; a binding made on one is never used on
/// the other (issue 25). Pure.
pub fn reached(domain: &str, base_url: &Url) -> String {
    let own = format!("https://{domain}/");
    if base_url.as_str() == own {
        return domain.to_string();
    }
    // Scheme, host, port and path only: a user, password, query or fragment in the endpoint
    // may carry credentials, and this text is shown (annotations, messages, metrics).
    let mut shown = base_url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    format!("{domain} at {shown}")
}

/// A token and when to stop using it.
#[derive(Clone)]
struct CachedToken {
    token: Secret,
    refresh_at: Instant,
    scopes: Vec<String>,
}

/// A whole listing of a tenant's profiles.
#[derive(Debug)]
pub struct Listing {
    /// When the first page was asked for (after any wait for the tenant's rate limit): every
    /// profile written and answered before then is in `profiles`.
    pub began: Instant,
    pub profiles: Vec<Value>,
}

/// One page of a list call: the items (under the kind's list field), a checkpoint
/// listing's `next` cursor, an offset listing's `total`.
struct Page {
    items: Vec<Value>,
    next: Option<String>,
    total: Option<usize>,
}

/// A list answer as [`Page`]: `{"<field>": [...], "next"?, "total"?}`.
fn decode_page(answer: Value, field: &str) -> Result<Page, Auth0Error> {
    #[derive(Deserialize)]
    struct Rest {
        next: Option<String>,
        total: Option<usize>,
    }
    let items = match answer.get(field) {
        Some(Value::Array(items)) => items.clone(),
        _ => {
            return Err(Auth0Error::Decode {
                path: field.to_string(),
                message: "missing, or not a list".into(),
            });
        }
    };
    let rest: Rest = decode(answer)?;
    Ok(Page {
        items,
        next: rest.next,
        total: rest.total,
    })
}

/// The client for one tenant.
pub struct Auth0Client {
    http: reqwest::Client,
    tenant: TenantConfig,
    /// [`TenantConfig::reach`], computed once: passes read it several times each.
    reach: Reach,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    /// The last refusal of the credentials: asking again with the same secret cannot
    /// succeed, so it is answered from here for a while (a client is rebuilt when the
    /// Secret changes, which clears it).
    refused: std::sync::Mutex<Option<(Instant, Auth0Error)>>,
    bucket: Arc<TokenBucket>,
    backoff: Backoff,
    clock: Arc<dyn Clock>,
    metrics: Option<Arc<Metrics>>,
    max_list_pages: usize,
}

impl fmt::Debug for Auth0Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth0Client")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Auth0Client {
    pub fn new(
        http: reqwest::Client,
        tenant: TenantConfig,
        bucket: Arc<TokenBucket>,
        backoff: Backoff,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Auth0Client {
            http,
            reach: tenant.reach(),
            tenant,
            token: tokio::sync::Mutex::new(None),
            refused: std::sync::Mutex::new(None),
            bucket,
            backoff,
            clock,
            metrics: None,
            max_list_pages: MAX_LIST_PAGES,
        }
    }

    /// Lowers (or raises) the page bound of a listing (default [`MAX_LIST_PAGES`]).
    pub fn with_max_list_pages(mut self, pages: usize) -> Self {
        self.max_list_pages = pages.max(1);
        self
    }

    /// Counts every request, 429, token refresh and rate-limiter wait in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, endpoint: &'static str, status: Option<u16>) {
        if let Some(m) = &self.metrics {
            m.auth0_request(endpoint, status);
        }
    }

    /// A token of the tenant's bucket, and the request's place in flight: hold it until
    /// the answer is read.
    async fn acquire(&self, priority: Priority) -> InFlight<'_> {
        let (waited, in_flight) = self.bucket.acquire(self.clock.as_ref(), priority).await;
        if let Some(m) = &self.metrics
            && !waited.is_zero()
        {
            m.ratelimit_wait_seconds.inc_by(waited.as_secs_f64());
        }
        in_flight
    }

    pub fn tenant(&self) -> &TenantConfig {
        &self.tenant
    }

    /// The tenant as this client reaches and calls it ([`Reach`]): what per-tenant state is
    /// keyed by.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// Gets a token (cached until shortly before it expires) and returns the scopes granted.
    pub async fn scopes(&self) -> Result<Vec<String>, Auth0Error> {
        // A token fetch waits for the tenant: no running place held meanwhile.
        Ok(crate::places::aside(self.token(false)).await?.scopes)
    }

    /// Every connection profile in the tenant ([`Self::list_items`] of connection profiles).
    pub async fn list(&self, priority: Priority) -> Result<Vec<Value>, Auth0Error> {
        Ok(self.list_reporting(priority, |_| {}).await?.profiles)
    }

    /// [`Self::list_items`] of connection profiles.
    pub async fn list_reporting(&self, priority: Priority, on_page: impl FnMut(usize)) -> Result<Listing, Auth0Error> {
        self.list_items(&CONNECTION_PROFILES, priority, on_page).await
    }

    /// Every item of `api`'s kind in the tenant, calling `on_page` with the number read so
    /// far after each page (the command line's progress), and saying when the first page was
    /// asked for: ceil(N/page size) calls, one more when N is a multiple of the page size
    /// (Auth0 gives a full checkpoint page a `next` and ends with an empty page; an offset
    /// listing ends when it has read `total` items or a page comes back short).
    ///
    /// A listing cannot loop: a `next` cursor that comes back a second time, or more pages
    /// than [`MAX_LIST_PAGES`], ends it with [`Auth0Error::Decode`] at `next` (a transient
    /// error: the caller retries later with a fresh listing). An offset listing keeps each id
    /// once (a create or delete between two pages shifts the later pages by one).
    pub async fn list_items(
        &self,
        api: &Auth0Api,
        priority: Priority,
        mut on_page: impl FnMut(usize),
    ) -> Result<Listing, Auth0Error> {
        let mut profiles = Vec::new();
        let mut from: Option<String> = None;
        let mut cursors = std::collections::HashSet::new();
        let mut seen_ids = std::collections::HashSet::new();
        let mut began = None;
        for page_number in 0..self.max_list_pages {
            let mut query = Vec::new();
            match api.paging {
                Paging::Checkpoint => {
                    query.push(("take", api.page_size.to_string()));
                    if let Some(cursor) = &from {
                        query.push(("from", cursor.clone()));
                    }
                }
                Paging::Offset => {
                    query.push(("page", page_number.to_string()));
                    query.push(("per_page", api.page_size.to_string()));
                    query.push(("include_totals", "true".to_string()));
                }
            }
            let (sent, answer) = self.call_sent(Method::GET, api.path, &query, None, priority).await?;
            let page: Page = decode_page(answer, api.list_field)?;
            let began = *began.get_or_insert(sent);
            let read = page.items.len();
            match api.paging {
                Paging::Checkpoint => profiles.extend(page.items),
                Paging::Offset => profiles.extend(page.items.into_iter().filter(|item| {
                    item.get("id")
                        .and_then(Value::as_str)
                        .is_none_or(|id| seen_ids.insert(id.to_string()))
                })),
            }
            on_page(profiles.len());
            match api.paging {
                Paging::Checkpoint => match page.next {
                    Some(next) if !next.is_empty() => {
                        if !cursors.insert(next.clone()) {
                            return Err(Auth0Error::Decode {
                                path: "next".into(),
                                message: format!(
                                    "the listing handed back a cursor it had given before, after {} pages: it would never end",
                                    cursors.len() + 1
                                ),
                            });
                        }
                        from = Some(next);
                    }
                    _ => return Ok(Listing { began, profiles }),
                },
                Paging::Offset => {
                    let total = page.total.unwrap_or(0);
                    if read < api.page_size || (page_number + 1) * api.page_size >= total {
                        return Ok(Listing { began, profiles });
                    }
                }
            }
        }
        Err(Auth0Error::Decode {
            path: "next".into(),
            message: format!(
                "the listing went on past {} pages ({} profiles) without an end",
                self.max_list_pages,
                profiles.len()
            ),
        })
    }

    /// One connection profile ([`Self::get_item`]).
    pub async fn get(&self, id: &str, priority: Priority) -> Result<Option<Value>, Auth0Error> {
        self.get_item(&CONNECTION_PROFILES, id, priority).await
    }

    /// One item of `api`'s kind, or `None` when Auth0 has none with that id.
    pub async fn get_item(&self, api: &Auth0Api, id: &str, priority: Priority) -> Result<Option<Value>, Auth0Error> {
        item_id(api, id)?;
        match self
            .call(Method::GET, &format!("{}/{id}", api.path), &[], None, priority)
            .await
        {
            Ok(profile) => Ok(Some(profile)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Auth0's connection-profile templates ([`Self::list_templates`] of connection
    /// profiles). Needs `read:connection_profiles`.
    pub async fn templates(&self) -> Result<Vec<Value>, Auth0Error> {
        self.list_templates(&CONNECTION_PROFILES).await
    }

    /// One connection-profile template ([`Self::get_template`]), or `None` on 404.
    pub async fn template(&self, id: &str) -> Result<Option<Value>, Auth0Error> {
        self.get_template(&CONNECTION_PROFILES, id).await
    }

    /// Auth0's templates of `api`'s kind (`GET /{path}/templates`, not paginated): each
    /// `{id, display_name, template}`, `template` holding writable fields in Auth0's
    /// snake_case. Needs the kind's read scope. A kind without templates
    /// ([`Auth0Api::templates`] `None`) is an error, with no call.
    pub async fn list_templates(&self, api: &Auth0Api) -> Result<Vec<Value>, Auth0Error> {
        let field = api.templates.ok_or_else(|| no_templates(api))?;
        let answer = self
            .call(
                Method::GET,
                &format!("{}/templates", api.path),
                &[],
                None,
                Priority::User,
            )
            .await?;
        match answer.get(field) {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err(Auth0Error::Decode {
                path: field.into(),
                message: "missing, or not a list".into(),
            }),
        }
    }

    /// One template of `api`'s kind (`GET /{path}/templates/{id}`), or `None` on 404.
    pub async fn get_template(&self, api: &Auth0Api, id: &str) -> Result<Option<Value>, Auth0Error> {
        api.templates.ok_or_else(|| no_templates(api))?;
        match self
            .call(
                Method::GET,
                &format!("{}/templates/{id}", api.path),
                &[],
                None,
                Priority::User,
            )
            .await
        {
            Ok(template) => Ok(Some(template)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a connection profile ([`Self::create_item`]).
    pub async fn create(&self, body: &Map<String, Value>) -> Result<Value, Auth0Error> {
        self.create_item(&CONNECTION_PROFILES, body).await
    }

    /// Creates an item of `api`'s kind (POST, retried only on 429): Auth0's answer.
    pub async fn create_item(&self, api: &Auth0Api, body: &Map<String, Value>) -> Result<Value, Auth0Error> {
        self.call(Method::POST, api.path, &[], Some(body), Priority::User).await
    }

    /// Updates a connection profile ([`Self::update_item`]).
    pub async fn update(&self, id: &str, body: &Map<String, Value>) -> Result<Value, Auth0Error> {
        self.update_item(&CONNECTION_PROFILES, id, body).await
    }

    /// PATCHes an item of `api`'s kind: Auth0's answer (the whole item after the change).
    pub async fn update_item(&self, api: &Auth0Api, id: &str, body: &Map<String, Value>) -> Result<Value, Auth0Error> {
        item_id(api, id)?;
        self.call(
            Method::PATCH,
            &format!("{}/{id}", api.path),
            &[],
            Some(body),
            Priority::User,
        )
        .await
    }

    /// Deletes a connection profile ([`Self::delete_item`]).
    pub async fn delete(&self, id: &str) -> Result<(), Auth0Error> {
        self.delete_item(&CONNECTION_PROFILES, id).await
    }

    /// Deletes an item of `api`'s kind; one that is already gone counts as deleted.
    pub async fn delete_item(&self, api: &Auth0Api, id: &str) -> Result<(), Auth0Error> {
        item_id(api, id)?;
        match self
            .call(Method::DELETE, &format!("{}/{id}", api.path), &[], None, Priority::User)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The document at `{path}/{id}/{suffix}` (a self-service profile's custom text: `GET
    /// /self-service-profiles/{id}/custom-text/en/get-started`, an object of strings).
    pub async fn get_document(
        &self,
        api: &Auth0Api,
        id: &str,
        suffix: &str,
        priority: Priority,
    ) -> Result<Value, Auth0Error> {
        item_id(api, id)?;
        self.call(Method::GET, &format!("{}/{id}/{suffix}", api.path), &[], None, priority)
            .await
    }

    /// Replaces the document at `{path}/{id}/{suffix}` whole (PUT): Auth0's answer.
    pub async fn put_document(
        &self,
        api: &Auth0Api,
        id: &str,
        suffix: &str,
        body: &Map<String, Value>,
    ) -> Result<Value, Auth0Error> {
        item_id(api, id)?;
        self.call(
            Method::PUT,
            &format!("{}/{id}/{suffix}", api.path),
            &[],
            Some(body),
            Priority::User,
        )
        .await
    }

    /// One logical call: rate limited, retried while transient (POST only on 429), with
    /// the token refreshed once on a 401.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Map<String, Value>>,
        priority: Priority,
    ) -> Result<Value, Auth0Error> {
        Ok(self.call_sent(method, path, query, body, priority).await?.1)
    }

    /// [`Self::call`], with the moment the answered attempt was sent: after its wait in the
    /// tenant's bucket, so a listing's first page shows every write answered before then.
    async fn call_sent(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Map<String, Value>>,
        priority: Priority,
    ) -> Result<(Instant, Value), Auth0Error> {
        // Waiting for the tenant (its rate limit, token, answer, retries) holds no running
        // place: a throttled or silent tenant cannot keep other tenants' passes waiting.
        crate::places::aside(async {
            let mut attempt = 0;
            let mut refreshed = false;
            loop {
                attempt += 1;
                // The bucket first, then the token: a wait in the bucket (seconds when Auth0
                // throttles) must not age a token past its expiry before it is sent.
                let in_flight = self.acquire(priority).await;
                let token = self.token(false).await?;
                let sent = Instant::now();
                let result = self.send(method.clone(), path, query, body, &token.token).await;
                drop(in_flight);
                let err = match result {
                    Ok(value) => return Ok((sent, value)),
                    Err(err) => err,
                };
                if err.status() == Some(401) && !refreshed {
                    refreshed = true;
                    *self.token.lock().await = None;
                    continue;
                }
                let retryable = if method == Method::POST {
                    err.status() == Some(429)
                } else {
                    err.is_transient()
                };
                if !retryable || !self.backoff.allows_another(attempt) {
                    return Err(err);
                }
                let delay = self.backoff.delay(attempt, err.retry_after(), fastrand::f64());
                tracing::debug!(%method, path, attempt, ?delay, error = %err, "retrying Auth0 call");
                self.clock.sleep(delay).await;
            }
        })
        .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Map<String, Value>>,
        token: &Secret,
    ) -> Result<Value, Auth0Error> {
        let endpoint = endpoint_name(&method, path);
        let url = self.url(&format!("api/v2/{path}"))?;
        let mut request = self.http.request(method, url).bearer_auth(token.expose()).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                self.count(endpoint, None);
                return Err(transport(e));
            }
        };
        let status = response.status();
        self.count(endpoint, Some(status.as_u16()));
        let headers = response.headers().clone();
        self.observe_limits(&headers);
        let (bytes, truncated) = read_capped(response).await?;
        if !status.is_success() {
            return Err(api_error(status, &headers, &bytes, truncated));
        }
        if truncated {
            return Err(too_large(path));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| Auth0Error::Decode {
            path: e.path().to_string(),
            message: error::decode_problem(e.inner()),
        })
    }

    fn observe_limits(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let limit = number("x-ratelimit-limit").and_then(|v| u32::try_from(v).ok());
        let remaining = number("x-ratelimit-remaining").and_then(|v| u32::try_from(v).ok());
        let reset_in = number("x-ratelimit-reset").map(seconds_until);
        self.bucket.observe(self.clock.now(), limit, remaining, reset_in);
    }

    /// The cached token, or a new one from /oauth/token. One caller fetches while the others
    /// wait for its result.
    async fn token(&self, force: bool) -> Result<CachedToken, Auth0Error> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| !force && self.clock.now() < t.refresh_at) {
            return Ok(token.clone());
        }
        if let Some((at, err)) = self.refused.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && self.clock.now().saturating_duration_since(*at) < REFUSAL_MEMORY
        {
            return Err(err.clone());
        }
        #[derive(Deserialize)]
        struct Grant {
            access_token: String,
            expires_in: u64,
            #[serde(default)]
            scope: String,
        }
        let url = self.url("oauth/token")?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.tenant.client_id.as_str()),
            ("client_secret", self.tenant.client_secret.expose()),
            ("audience", self.tenant.audience.as_str()),
        ];
        // Not in the in-flight window: the request that needs this token may hold its place.
        self.bucket.acquire_token(self.clock.as_ref(), Priority::User).await;
        let response = match self.http.post(url).form(&form).send().await {
            Ok(response) => response,
            Err(e) => {
                self.count("token", None);
                return Err(transport(e));
            }
        };
        let status = response.status();
        self.count("token", Some(status.as_u16()));
        let headers = response.headers().clone();
        let (bytes, truncated) = read_capped(response).await?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // Only Auth0's own words: an OAuth- or Auth0-shaped body's description, else
            // what the answer was, never its bytes.
            let description = error::token_error_message(status.as_u16(), &bytes).unwrap_or_else(|| {
                format!(
                    "access denied with {}",
                    error::describe_answer(status.as_u16(), content_type(&headers), bytes.len(), truncated)
                )
            });
            let err = Auth0Error::Credentials {
                message: format!("{description} (client id {})", self.tenant.client_id),
            };
            *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some((self.clock.now(), err.clone()));
            return Err(err);
        }
        if !status.is_success() {
            return Err(api_error(status, &headers, &bytes, truncated));
        }
        if truncated {
            return Err(too_large("oauth/token"));
        }
        let grant: Grant = serde_json::from_slice(&bytes).map_err(|e| Auth0Error::Decode {
            path: "oauth/token".into(),
            message: error::decode_problem(&e),
        })?;
        // Refresh once 90% of the lifetime has passed, so no call goes out with a token about
        // to expire, however short-lived tokens are.
        // At most a day: Auth0's `expires_in` is its word, and a huge one would overflow the
        // `Instant` below; refreshing a longer-lived token daily costs one call a day.
        let lifetime = Duration::from_secs(grant.expires_in).min(TOKEN_LIFETIME_CAP);
        let early = lifetime / 10;
        let token = CachedToken {
            token: Secret::new(grant.access_token),
            refresh_at: self.clock.now() + lifetime.saturating_sub(early),
            scopes: scopes_of(&grant.scope),
        };
        *cached = Some(token.clone());
        if let Some(m) = &self.metrics {
            m.token_refreshes.inc();
        }
        Ok(token)
    }

    fn url(&self, path: &str) -> Result<Url, Auth0Error> {
        self.tenant.base_url.join(path).map_err(|e| Auth0Error::Transport {
            message: format!("bad URL for {path}: {e}"),
            timeout: false,
        })
    }
}

/// `Ok` when `id` is an id of `api`'s kind, the only ids that go into a request path
/// (Auth0's ids are a prefix such as `cop_` and 22 base62 characters, recorded).
/// The error of a template call for a kind Auth0 serves no templates of.
fn no_templates(api: &Auth0Api) -> Auth0Error {
    Auth0Error::Decode {
        path: format!("{}/templates", api.path),
        message: format!("Auth0 serves no templates of {}s", api.noun),
    }
}

fn item_id(api: &Auth0Api, id: &str) -> Result<(), Auth0Error> {
    if api.is_id(id) {
        Ok(())
    } else {
        Err(Auth0Error::NotAnId {
            id: id.chars().take(80).collect(),
            noun: api.noun,
            prefix: api.id_prefix,
        })
    }
}

/// The metric name of a connection-profile call.
fn endpoint_name(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path.contains('/')) {
        ("GET", _) if path.contains("/templates") => "templates",
        ("PUT", _) => "update",
        ("POST", _) => "create",
        ("PATCH", _) => "update",
        ("DELETE", _) => "delete",
        (_, true) => "get",
        (_, false) => "list",
    }
}

fn seconds_until(epoch_seconds: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Duration::from_secs(epoch_seconds.saturating_sub(now))
}

fn transport(err: reqwest::Error) -> Auth0Error {
    // reqwest's message names the URL, never headers or bodies, so no secret can leak here.
    let timeout = err.is_timeout();
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Auth0Error::Transport { timeout, message }
}

/// A grant's scopes, as shown in a tenant's `status.grantedScopes`: only words shaped like
/// Management API scopes (`read:connection_profiles`), at most 500 of them, so that an
/// endpoint that is not Auth0 cannot write its own text there.
fn scopes_of(granted: &str) -> Vec<String> {
    granted
        .split_whitespace()
        .filter(|scope| {
            scope.len() <= 100
                && scope.split_once(':').is_some_and(|(verb, object)| {
                    !verb.is_empty()
                        && !object.is_empty()
                        && scope
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:.-".contains(c))
                })
        })
        .take(500)
        .map(str::to_string)
        .collect()
}

/// Reads an answer's body, at most [`MAX_ANSWER_BYTES`]; `true` when there was more.
async fn read_capped(mut response: reqwest::Response) -> Result<(Vec<u8>, bool), Auth0Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            body.extend_from_slice(&chunk[..MAX_ANSWER_BYTES - body.len()]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn too_large(path: &str) -> Auth0Error {
    Auth0Error::Decode {
        path: path.to_string(),
        message: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
    }
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// The one place a non-2xx answer becomes an error: Auth0's own message when the body is
/// Auth0-shaped, else a description of the answer (`error::describe_answer`), never its
/// bytes.
fn api_error(status: StatusCode, headers: &HeaderMap, body: &[u8], truncated: bool) -> Auth0Error {
    let (message, error_code) = match error::auth0_message(status.as_u16(), body) {
        Some((message, code)) if !truncated => (message, code),
        _ => (
            error::describe_answer(status.as_u16(), content_type(headers), body.len(), truncated),
            None,
        ),
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let retry_after = header("retry-after").map(Duration::from_secs).or_else(|| {
        (status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| header("x-ratelimit-reset").map(seconds_until))
            .flatten()
    });
    Auth0Error::Api {
        status: status.as_u16(),
        error_code,
        message,
        retry_after,
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Auth0Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Auth0Error::Decode {
        path: e.path().to_string(),
        message: error::decode_problem(e.inner()),
    })
}

/// An HTTP client for Auth0: rustls with the ring provider, Mozilla's roots plus an optional
/// extra CA bundle (PEM) for an explicitly configured endpoint, a timeout on every call, and
/// no redirects followed: a redirect would carry a request to a host no one checked against
/// `--allowed-tenant-hosts` (the Management API never redirects).
pub fn http_client(extra_ca_pem: Option<&[u8]>, timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("reading the CA bundle: {e}"))?;
            roots.add(cert).map_err(|e| format!("adding a CA certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("the CA bundle holds no PEM certificate".into());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("auth0-operator/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every endpoint name is one `metrics::ENDPOINTS` pre-registers, so each refusal series
    /// exists (at 0) before the first refusal.
    #[test]
    fn endpoint_names_are_the_metrics_endpoints() {
        for (method, path) in [
            (Method::GET, "connection-profiles/templates"),
            (Method::GET, "connection-profiles/templates/cpt_1"),
            (Method::POST, "connection-profiles"),
            (Method::PATCH, "connection-profiles/cop_1"),
            (Method::DELETE, "connection-profiles/cop_1"),
            (Method::GET, "connection-profiles/cop_1"),
            (Method::GET, "connection-profiles"),
        ] {
            let name = endpoint_name(&method, path);
            assert!(crate::metrics::ENDPOINTS.contains(&name), "{name}");
        }
    }

    #[test]
    fn the_tenant_reached_is_shown_without_credentials() {
        let url = |u: &str| Url::parse(u).expect("url");
        assert_eq!(
            reached("acme.us.auth0.com", &url("https://acme.us.auth0.com/")),
            "acme.us.auth0.com"
        );
        assert_eq!(
            reached("acme.us.auth0.com", &url("https://acme.us.auth0.com:443/")),
            "acme.us.auth0.com",
            "the default port is the domain's own"
        );
        assert_eq!(
            reached("acme.us.auth0.com", &url("http://127.0.0.1:4000/")),
            "acme.us.auth0.com at http://127.0.0.1:4000/"
        );
        let shown = reached(
            "acme.us.auth0.com",
            &url("https://svc:hunter2@proxy.example:8443/base/?token=abc#frag"),
        );
        assert_eq!(shown, "acme.us.auth0.com at https://proxy.example:8443/base/");
        for secret in ["svc", "hunter2", "token", "abc", "frag"] {
            assert!(!shown.contains(secret), "{secret} shown: {shown}");
        }
        // The reach tells two credentials apart without showing either.
        let config = |secret: &str| TenantConfig {
            domain: "acme.us.auth0.com".into(),
            base_url: url("https://acme.us.auth0.com/"),
            audience: "https://acme.us.auth0.com/api/v2/".into(),
            client_id: "id".into(),
            client_secret: Secret::new(secret),
        };
        assert_ne!(config("one").reach(), config("two").reach());
        assert_eq!(config("one").reach(), config("one").reach());
        assert!(!format!("{:?}", config("s3cr3t").reach()).contains("s3cr3t"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let tenant = TenantConfig {
            domain: "acme.auth0.com".into(),
            base_url: Url::parse("https://acme.auth0.com/").expect("url"),
            audience: "https://acme.auth0.com/api/v2/".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s3cr3t-value"),
        };
        let shown = format!("{tenant:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn api_errors_read_auth0s_body_and_hints() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().expect("header"));
        let err = api_error(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"statusCode":429,"error":"Too Many Requests","message":"Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers."}"#,
            false,
        );
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.to_string().starts_with("Auth0 answered 429: Too many requests"));
        let err = api_error(
            StatusCode::CONFLICT,
            &HeaderMap::new(),
            br#"{"statusCode":409,"error":"Conflict","message":"Connection profile conflict."}"#,
            false,
        );
        assert_eq!(err.to_string(), "Auth0 answered 409: Connection profile conflict.");
        let mut html = HeaderMap::new();
        html.insert("content-type", "text/html".parse().expect("header"));
        let err = api_error(StatusCode::BAD_GATEWAY, &html, b"<html>bad gateway</html>", false);
        assert_eq!(
            err.to_string(),
            "Auth0 answered 502: an answer that is not an Auth0 error (text/html, 24 bytes; not shown)"
        );
        assert!(err.is_transient());
        // An Auth0-shaped body cut short is not trusted either.
        let err = api_error(
            StatusCode::CONFLICT,
            &HeaderMap::new(),
            br#"{"statusCode":409,"error":"Conflict","message":"x"}"#,
            true,
        );
        assert!(err.to_string().contains("not shown"), "{err}");
    }

    #[test]
    fn granted_scopes_are_scope_shaped_words_only() {
        assert_eq!(
            scopes_of("read:connection_profiles create:connection_profiles <b>hello</b> password=x :x y:"),
            vec!["read:connection_profiles", "create:connection_profiles"]
        );
    }

    #[test]
    fn the_http_client_takes_a_ca_bundle() {
        assert!(http_client(None, Duration::from_secs(5)).is_ok());
        let err = http_client(Some(b"not a certificate"), Duration::from_secs(5)).expect_err("no PEM");
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
