//! Reconciling ConnectionProfiles to Auth0: desired state and diff (pure), conditions
//! (pure), tenants and their clients, the reconciler, and the controllers that run them.

pub mod conditions;
pub mod decode;
pub mod desired;
pub mod events;
pub mod lanes;
pub mod panics;
pub mod profile;
pub mod tenant_status;
pub mod tenants;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, predicates, watcher};
use kube::{Api, Client, ResourceExt};

use crate::auth0::retry::SystemClock;
use crate::crd::{Auth0Tenant, ClusterAuth0Tenant, ConnectionProfile, TenantKind};
use crate::http::Readiness;
use crate::metrics::Metrics;
use tenants::{Namespaces, TenantOptions, Tenants};

/// How the controllers run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch one namespace, or all when `None`.
    pub namespace: Option<String>,
    pub tenant: TenantOptions,
    pub poll_interval: Duration,
    /// Passes running at once across tenants (waits for Auth0 excluded: `places.rs`).
    pub concurrency: u16,
    /// Passes of one tenant in progress at once (each tenant has its own lane).
    pub tenant_concurrency: u16,
}

/// Runs the ConnectionProfile and tenant controllers until `shutdown` completes, then lets
/// in-flight passes finish. `readiness` turns true once the caches are synced.
pub async fn run<S>(client: Client, settings: Settings, metrics: Arc<Metrics>, readiness: Arc<Readiness>, shutdown: S)
where
    S: std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
{
    let tenants_api: Api<Auth0Tenant> = scoped(&client, &settings.namespace);
    let cluster_tenants_api: Api<ClusterAuth0Tenant> = Api::all(client.clone());
    let secret_apis: Vec<Api<Secret>> = secret_namespaces(&settings).map_or_else(
        || vec![Api::all(client.clone())],
        |names| names.iter().map(|ns| Api::namespaced(client.clone(), ns)).collect(),
    );
    // Namespace labels, for ClusterAuth0Tenants' namespaceSelector: metadata only (labels are
    // all it needs; kube 5 makes `Api<PartialObjectMeta<_>>` a metadata watch, what
    // `metadata_watcher` did before), and only the watched namespace when there is one.
    let namespace_config = match &settings.namespace {
        Some(ns) => watcher::Config::default().fields(&format!("metadata.name={ns}")),
        None => watcher::Config::default(),
    };

    // Profiles wait for the caches they are reconciled against: a pass that ran before its
    // tenant or Secret was listed would report it missing (a Warning Event and a status
    // write per resource on every restart) and then retry.
    let (profile_store, profile_writer) = reflector::store();
    let (tenant_store, tenant_writer) = reflector::store();
    let (cluster_store, cluster_writer) = reflector::store();
    let (secret_stores, secret_writers): (Vec<_>, Vec<_>) = secret_apis.iter().map(|_| reflector::store()).unzip();
    let (namespace_store, namespace_writer) = reflector::store();
    let gate = Arc::new(CachesSynced::new({
        let (tenants, clusters, namespaces) = (tenant_store.clone(), cluster_store.clone(), namespace_store.clone());
        let secrets = secret_stores.clone();
        async move {
            let _ = futures::join!(
                tenants.wait_until_ready(),
                clusters.wait_until_ready(),
                namespaces.wait_until_ready(),
                futures::future::join_all(secrets.iter().map(|s: &reflector::Store<Secret>| s.wait_until_ready())),
            );
        }
    }));

    // Everything remembered per resource (`profile/memory.rs`): when each resource's current
    // request was first seen (a create's name check lists the tenant after it), and
    // resources gone from the cache are forgotten (`gone` below).
    let memory = Arc::new(profile::memory::Memory::new(profile::failure_backoff()));
    let (gone_tx, gone_rx) = tokio::sync::mpsc::unbounded_channel::<Gone>();
    // Status writes change neither generation, annotations nor finalizers, so they do not
    // start another pass; pause and reconcile-requested-at (annotations) and deletion do.
    // Each object decoded on its own: one the types cannot read stops nothing (`decode.rs`).
    let profile_stream = decode::profiles(client.clone(), &settings.namespace, watcher::Config::default())
        .backoff(WatchBackoff::default())
        .modify(trim)
        .reflect(profile_writer)
        .inspect({
            // Ready once the first full listing is in the cache.
            let readiness = readiness.clone();
            move |event| {
                if matches!(event, Ok(watcher::Event::InitDone)) && !readiness.get() {
                    tracing::info!("caches synced: ready");
                    readiness.set(true);
                }
            }
        })
        .inspect(move |event| {
            // What left the cache is forgotten (the receiver ends only with the process).
            let gone = match event {
                Ok(watcher::Event::Delete(profile)) => Gone::Deleted(Box::new(profile.clone())),
                Ok(watcher::Event::InitDone) => Gone::Relisted,
                _ => return,
            };
            let _ = gone_tx.send(gone);
        })
        .applied_objects()
        .inspect({
            let memory = memory.clone();
            move |object: &Result<ConnectionProfile, watcher::Error>| {
                if let Ok(profile) = object {
                    memory
                        .requests
                        .seen(&profile.uid().unwrap_or_default(), profile::request_key(profile));
                }
            }
        })
        // Only a change of generation, annotations or finalizers starts a pass; what the
        // filter remembers is forgotten with the resource (`memory.rs`, `Changes`).
        .filter({
            let memory = memory.clone();
            move |object: &Result<ConnectionProfile, watcher::Error>| {
                let pass = match object {
                    Ok(profile) => memory.changes.changed(
                        &profile.uid().unwrap_or_default(),
                        profile::memory::change_key(&profile.metadata),
                    ),
                    Err(_) => true,
                };
                std::future::ready(pass)
            }
        })
        .then({
            let gate = gate.clone();
            move |object| {
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    object
                }
            }
        })
        .filter(log_and_drop_errors("ConnectionProfile"));
    let tenant_stream = watcher(tenants_api, watcher::Config::default())
        .backoff(WatchBackoff::default())
        .modify(trim)
        .reflect(tenant_writer)
        .touched_objects()
        .filter(log_and_drop_errors("Auth0Tenant"));
    let cluster_stream = watcher(cluster_tenants_api, watcher::Config::default())
        .backoff(WatchBackoff::default())
        .modify(trim)
        .reflect(cluster_writer)
        .touched_objects()
        .filter(log_and_drop_errors("ClusterAuth0Tenant"));
    let mut secret_streams = Vec::new();
    // Only Secrets labelled for the operator are listed, watched and cached: its memory does
    // not grow with the cluster's other Secrets (Helm keeps each release in one), and a
    // tenant cannot name a Secret nobody marked for it.
    let secret_config = watcher::Config::default().labels(&format!(
        "{}={}",
        tenants::CREDENTIALS_LABEL,
        tenants::CREDENTIALS_LABEL_VALUE
    ));
    for (api, writer) in secret_apis.into_iter().zip(secret_writers) {
        secret_streams.push(
            watcher(api, secret_config.clone())
                .backoff(WatchBackoff::default())
                .modify(trim)
                .reflect(writer)
                .touched_objects()
                .filter(log_and_drop_errors("Secret"))
                .boxed(),
        );
    }
    let secret_stream = futures::stream::select_all(secret_streams);
    let namespaces = Namespaces::new(namespace_store);
    let namespace_api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let namespace_stream = watcher(namespace_api, namespace_config)
        .backoff(WatchBackoff::default())
        .modify(trim)
        .reflect(namespace_writer)
        .inspect({
            let synced = namespaces.synced.clone();
            move |event| {
                if matches!(event, Ok(watcher::Event::InitDone)) {
                    synced.store(true, std::sync::atomic::Ordering::Release);
                }
            }
        })
        .touched_objects()
        // Only a change of labels can change what a namespaceSelector says.
        .predicate_filter(predicates::labels, Default::default())
        .filter(log_and_drop_errors("Namespace"));

    metrics.observe_conditions(condition_source(
        profile_store.clone(),
        tenant_store.clone(),
        cluster_store.clone(),
    ));
    let tenants = Tenants::new(
        settings.tenant.clone(),
        cluster_store.clone(),
        tenant_store.clone(),
        secret_stores,
        namespaces,
        Arc::new(SystemClock),
        metrics.clone(),
    );
    let events = events::Publisher::new(client.clone(), profile::MANAGER, std::env::var("POD_NAME").ok());
    // Each tenant's lane, and the resources it wakes when a place frees (issue 15).
    let (lanes, woken) = lanes::Lanes::new(
        settings.tenant_concurrency.into(),
        settings.concurrency.into(),
        Some(metrics.clone()),
    );
    let ctx = Arc::new(profile::Context::new(
        client.clone(),
        tenants,
        events,
        settings.poll_interval,
        metrics.clone(),
        profile::Watched {
            caches: gate.clone(),
            profiles: profile_store.clone(),
            memory: memory.clone(),
        },
        lanes.clone(),
    ));
    tokio::spawn(forget_gone(gone_rx, ctx.clone()));
    metrics.observe_memory({
        let memory = memory.clone();
        Box::new(move || memory.sizes())
    });
    tokio::spawn(lanes::Lanes::sweep(Arc::downgrade(&lanes)));

    // A tenant or Secret change wakes every profile that uses it.
    let by_tenant = {
        let store = profile_store.clone();
        move |kind: TenantKind, namespace: String, name: String| -> Vec<ObjectRef<ConnectionProfile>> {
            store
                .state()
                .iter()
                .filter(|p| {
                    p.spec.tenant_ref.kind == kind
                        && p.spec.tenant_ref.name == name
                        && (kind == TenantKind::ClusterAuth0Tenant
                            || p.namespace().as_deref() == Some(namespace.as_str()))
                })
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect()
        }
    };
    let (on_tenant, on_cluster, on_secret) = (by_tenant.clone(), by_tenant.clone(), by_tenant);
    // A namespace's labels changed: its profiles on ClusterAuth0Tenants may be admitted or
    // refused now.
    let in_namespace = {
        let store = profile_store.clone();
        move |namespace: String| -> Vec<ObjectRef<ConnectionProfile>> {
            store
                .state()
                .iter()
                .filter(|p| {
                    p.spec.tenant_ref.kind == TenantKind::ClusterAuth0Tenant
                        && p.namespace().as_deref() == Some(namespace.as_str())
                })
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect()
        }
    };
    let secret_ctx = ctx.clone();
    let (wake_tenants, woken_tenants) = tenant_status::wake();

    let profiles_controller = Controller::for_stream(profile_stream, profile_store)
        // No worker limit here: each tenant's lane and the running places are the limits
        // (`lanes.rs`, `places.rs`), so a pass waiting for one tenant never holds a place
        // another tenant's pass needs.
        .with_config(kube::runtime::controller::Config::default().concurrency(0))
        .watches_stream(tenant_stream, move |t: Auth0Tenant| {
            on_tenant(TenantKind::Auth0Tenant, t.namespace().unwrap_or_default(), t.name_any())
        })
        // Any change of a ClusterAuth0Tenant (its namespaceSelector too) wakes its profiles.
        .watches_stream(cluster_stream, move |t: ClusterAuth0Tenant| {
            on_cluster(TenantKind::ClusterAuth0Tenant, String::new(), t.name_any())
        })
        // A Secret changed: its tenants' profiles, and the tenants' own status, are checked
        // again (issue 25).
        .watches_stream(secret_stream, move |s: Secret| {
            let namespace = s.namespace().unwrap_or_default();
            let using = secret_ctx.tenants.tenants_using(&namespace, &s.name_any());
            for (kind, ns, name) in &using {
                wake_tenants.tenant(*kind, ns, name);
            }
            using
                .into_iter()
                .flat_map(|(kind, ns, name)| on_secret(kind, ns, name))
                .collect::<Vec<_>>()
        })
        .watches_stream(namespace_stream, move |ns| in_namespace(ns.name_any()))
        .reconcile_on(woken)
        .graceful_shutdown_on(shutdown.clone())
        .run(profile::reconcile, profile::error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "profile controller");
            }
        });

    let tenant_controllers = tenant_status::run(client, &settings, ctx, shutdown, woken_tenants);
    tokio::join!(profiles_controller, tenant_controllers);
}

/// How often the per-resource maps are swept against the cache.
const MEMORY_SWEEP: Duration = Duration::from_secs(60);

/// What the ConnectionProfile watch says left the cache.
enum Gone {
    /// A Delete event: the object is gone from the API server.
    Deleted(Box<ConnectionProfile>),
    /// A fresh listing is in the cache (what was deleted while the watch was down gets no
    /// Delete event), or the minute's sweep is due.
    Relisted,
}

/// Forgets every resource that left the cache (`profile/memory.rs`). A resource deleted
/// under a create of this process's that was answered with an id has that profile cleaned
/// up as a pass's 404 would (`profile/vanished.rs`), then is forgotten.
///
/// A pass still running when its resource's Delete arrives can write to the maps after they
/// forgot it (its failure, its check): once a minute every map keeps only what the cache
/// holds, so such a leftover lives a minute at most.
async fn forget_gone(mut gone: tokio::sync::mpsc::UnboundedReceiver<Gone>, ctx: Arc<profile::Context>) {
    // The first a minute in: by then the first listing is in the cache.
    let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + MEMORY_SWEEP, MEMORY_SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            event = gone.recv() => match event {
                Some(event) => event,
                None => return,
            },
            _ = sweep.tick() => Gone::Relisted,
        };
        match event {
            Gone::Deleted(profile) => {
                let uid = profile.uid().unwrap_or_default();
                match ctx.memory.creates.get(&uid).map(|posted| posted.answered.is_some()) {
                    None => ctx.memory.forget(&uid),
                    // A POST still in flight keeps the record: its pass ends with a 404 and
                    // cleans up what it made (`vanished.rs`); the rest is forgotten.
                    Some(false) => ctx.memory.forget_all_but_creates(&uid),
                    // Answered, never let go by a finalizer: the profile it made is cleaned
                    // up (retried while the look-up that confirms the object gone fails),
                    // then the resource is forgotten.
                    Some(true) => {
                        let ctx = ctx.clone();
                        tokio::spawn(async move {
                            for _ in 0..5 {
                                if profile::vanished::handle(&profile, &ctx).await
                                    || ctx.memory.creates.get(&uid).is_none()
                                {
                                    break;
                                }
                                tokio::time::sleep(Duration::from_secs(2)).await;
                            }
                            ctx.memory.forget(&uid);
                        });
                    }
                }
            }
            Gone::Relisted => {
                let live = ctx.profiles.state().iter().filter_map(|p| p.uid()).collect();
                ctx.memory.retain(&live);
            }
        }
    }
}

/// The namespaces whose Secrets are watched, or `None` for all: `--secret-namespaces` and
/// the operator's own; else the watched namespace and the operator's own (where
/// ClusterAuth0Tenant Secrets live); else every namespace.
fn secret_namespaces(settings: &Settings) -> Option<Vec<String>> {
    let own = settings.tenant.operator_namespace.clone();
    let others = match (&settings.tenant.secret_namespaces, &settings.namespace) {
        (Some(listed), _) => listed.clone(),
        (None, Some(watched)) => vec![watched.clone()],
        (None, None) => return None,
    };
    let mut names = vec![own];
    for ns in others {
        if !names.contains(&ns) {
            names.push(ns);
        }
    }
    Some(names)
}

/// What the caches need not hold: server-side apply's field ownership and kubectl's copy
/// of the last applied object (which, for a Secret, repeats its data). Together they are
/// often most of an object's size.
/// Every cached resource's conditions, for `auth0_operator_resource_conditions`: read from
/// the watch caches at scrape time, so the metric says what the API server holds.
fn condition_source(
    profiles: reflector::Store<ConnectionProfile>,
    tenants: reflector::Store<Auth0Tenant>,
    cluster_tenants: reflector::Store<ClusterAuth0Tenant>,
) -> crate::metrics::ConditionSource {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    fn of(kind: &'static str, conditions: Option<&Vec<Condition>>) -> crate::metrics::ResourceConditions {
        crate::metrics::ResourceConditions {
            kind,
            conditions: conditions
                .into_iter()
                .flatten()
                .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
                .collect(),
        }
    }
    Box::new(move || {
        let mut all = Vec::new();
        all.extend(
            profiles
                .state()
                .iter()
                .map(|p| of("ConnectionProfile", p.status.as_ref().map(|s| &s.conditions))),
        );
        all.extend(
            tenants
                .state()
                .iter()
                .map(|t| of("Auth0Tenant", t.status.as_ref().map(|s| &s.conditions))),
        );
        all.extend(
            cluster_tenants
                .state()
                .iter()
                .map(|t| of("ClusterAuth0Tenant", t.status.as_ref().map(|s| &s.conditions))),
        );
        all
    })
}

/// kubectl's copy is replaced by its size ([`profile::annotation::LAST_APPLIED_BYTES`],
/// in memory only): it counts toward the API server's 256 KiB of annotations, which
/// `marks::room` checks.
fn trim<K: kube::Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
    if let Some(annotations) = object.meta_mut().annotations.as_mut()
        && let Some(copy) = annotations.remove(profile::annotation::LAST_APPLIED)
    {
        annotations.insert(profile::annotation::LAST_APPLIED_BYTES.into(), copy.len().to_string());
    }
}

fn scoped<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Logs a watch's error and keeps it from the controller. Each watch already waits before
/// it reconnects (`WatchBackoff`); an error that reached the controller would also pause its
/// trigger stream, which merges every watch, with kube's default backoff (0.8 s doubling to
/// 30 s, jittered up to ~50 s, and not reset until two quiet minutes). After an API server
/// restart each of the five watches gets its 410 "too old resource version" in turn, so the
/// pauses added up to minutes in which no watch, the profiles' included, was read: the
/// operator acted on a stale cache (fault scenario 3).
fn log_and_drop_errors<K>(watch: &'static str) -> impl FnMut(&Result<K, watcher::Error>) -> std::future::Ready<bool> {
    move |event| {
        if let Err(error) = event {
            tracing::info!(watch, %error, "watch interrupted; reconnecting");
        }
        std::future::ready(event.is_ok())
    }
}

/// The tenant, Secret and namespace caches' first listing (kube's `Store::wait_until_ready`
/// of each), which every pass waits for.
pub struct CachesSynced {
    ready: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
    /// Set once [`SYNC_WAIT`] has passed without them: later passes do not wait again.
    gave_up: std::sync::atomic::AtomicBool,
}

impl CachesSynced {
    fn new(ready: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        use futures::FutureExt;
        CachesSynced {
            ready: ready.boxed().shared(),
            gave_up: Default::default(),
        }
    }

    /// Returns once every cache has been listed, or after 30 s at most: a cache that cannot
    /// be listed (a missing RBAC rule) must not stop every profile; its watch logs why.
    pub async fn wait(&self) {
        if self.gave_up.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        if tokio::time::timeout(SYNC_WAIT, self.ready.clone()).await.is_err()
            && !self.gave_up.swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            tracing::warn!("some caches are still not listed after {SYNC_WAIT:?}; reconciling anyway");
        }
    }
}

const SYNC_WAIT: Duration = Duration::from_secs(30);

/// How a watch reconnects after an error: from 250 ms, doubling, at most 5 s, with jitter
/// (kube's own `ExponentialBackoff`). kube's default waits up to 30 s, and again after the
/// 410 that follows an API server restart; with it, a change made just after an outage
/// waited a minute to be seen.
pub struct WatchBackoff(kube::runtime::watcher::ExponentialBackoff);

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff(
            backon::ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(250))
                .with_max_delay(Duration::from_secs(5))
                .with_factor(2.0)
                .with_jitter()
                .without_max_times()
                .into(),
        )
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.0.next()
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.0.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::WatchBackoff;
    use kube::runtime::utils::Backoff;
    use std::time::Duration;

    #[test]
    fn watch_backoff_grows_to_five_seconds_and_resets() {
        let mut backoff = WatchBackoff::default();
        let first = backoff.next().expect("a delay");
        assert!(
            first >= Duration::from_millis(250) && first <= Duration::from_millis(500),
            "{first:?}"
        );
        let later: Vec<Duration> = (0..20).filter_map(|_| backoff.next()).collect();
        assert!(later.iter().all(|d| *d <= Duration::from_secs(10)), "{later:?}");
        assert!(later.last().is_some_and(|d| *d >= Duration::from_secs(5)), "{later:?}");
        backoff.reset();
        assert!(backoff.next().is_some_and(|d| d <= Duration::from_millis(500)));
    }
}
