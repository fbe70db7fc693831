//! Reconciling ConnectionProfiles to Auth0: desired state and diff (pure), conditions
//! (pure), tenants and their clients, the reconciler, and the controllers that run them.

pub mod conditions;
pub mod decode;
pub mod desired;
pub mod events;
pub mod lanes;
pub mod panics;
pub mod profile;
pub mod scopes;
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
use crate::crd::{
    Auth0Tenant, ClusterAuth0Tenant, ConnectionProfile, Kind, SelfServiceProfile, TenantKind, UserAttributeProfile,
};
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

    // Every kind's cache, made before any controller runs: references and triggers read them.
    let (profile_store, profile_writer) = reflector::store::<ConnectionProfile>();
    let (uap_store, uap_writer) = reflector::store::<UserAttributeProfile>();
    let (ssp_store, ssp_writer) = reflector::store::<SelfServiceProfile>();
    let kinds = Caches {
        connection_profiles: profile_store.clone(),
        user_attribute_profiles: uap_store.clone(),
        self_service_profiles: ssp_store.clone(),
    };

    metrics.observe_conditions(condition_source(
        kinds.clone(),
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
    let events = events::Publisher::new(
        client.clone(),
        crate::crd::annotations::MANAGER,
        std::env::var("POD_NAME").ok(),
    );
    // Each tenant's lane, shared by all its kinds, and the resources it wakes when a place
    // frees (issue 15); the wake stream is split by kind for the kinds' controllers.
    let (lanes, woken) = lanes::Lanes::new(
        settings.tenant_concurrency.into(),
        settings.concurrency.into(),
        Some(metrics.clone()),
    );
    let shared = Arc::new(profile::Shared::new(
        client.clone(),
        tenants,
        events,
        settings.poll_interval,
        metrics.clone(),
        gate.clone(),
        lanes.clone(),
    ));
    tokio::spawn(lanes::Lanes::sweep(Arc::downgrade(&lanes)));
    // Each kind's controller takes its own resources from the lanes (nothing else is woken).
    drop(woken);
    let woken_profiles = lanes.register(ConnectionProfile::AUTH0.kind);
    let woken_uaps = lanes.register(UserAttributeProfile::AUTH0.kind);
    let woken_ssps = lanes.register(SelfServiceProfile::AUTH0.kind);
    let wake: profile::references::Wake = {
        let lanes = lanes.clone();
        Arc::new(move |resource| lanes.wake(resource))
    };

    // A tenant, Secret or namespace change wakes every resource of every kind that uses it.
    let (wake_tenants, woken_tenants) = tenant_status::wake();
    let triggers = {
        let (kinds, shared, wake, wake_tenants) = (kinds.clone(), shared.clone(), wake.clone(), wake_tenants.clone());
        let tenant_events = tenant_stream
            .filter_map(|event| std::future::ready(event.ok()))
            .map(|t: Auth0Tenant| {
                Trigger::Tenant(TenantKind::Auth0Tenant, t.namespace().unwrap_or_default(), t.name_any())
            })
            .boxed();
        // Any change of a ClusterAuth0Tenant (its namespaceSelector too) wakes its resources.
        let cluster_events = cluster_stream
            .filter_map(|event| std::future::ready(event.ok()))
            .map(|t: ClusterAuth0Tenant| Trigger::Tenant(TenantKind::ClusterAuth0Tenant, String::new(), t.name_any()))
            .boxed();
        let secret_events = secret_stream
            .filter_map(|event| std::future::ready(event.ok()))
            .map(|s: Secret| Trigger::Secret(s.namespace().unwrap_or_default(), s.name_any()))
            .boxed();
        // A namespace's labels changed: its resources on ClusterAuth0Tenants may be admitted
        // or refused now.
        let namespace_events = namespace_stream
            .filter_map(|event| std::future::ready(event.ok()))
            .map(|ns: PartialObjectMeta<Namespace>| Trigger::Namespace(ns.name_any()))
            .boxed();
        // Until shutdown, like the controllers: `run` returns (and a leader lets its lease go)
        // only when every part has ended (a handover waited the grace period out: the kind
        // test's handover took 20 s for a lease of 15).
        futures::stream::select_all([tenant_events, cluster_events, secret_events, namespace_events])
            .take_until(shutdown.clone())
            .for_each(move |trigger| {
                let tenants = match trigger {
                    Trigger::Tenant(kind, namespace, name) => vec![(kind, namespace, name)],
                    // A Secret changed: its tenants' resources, and the tenants' own status,
                    // are checked again (issue 25).
                    Trigger::Secret(namespace, name) => {
                        let using = shared.tenants.tenants_using(&namespace, &name);
                        for (kind, ns, name) in &using {
                            wake_tenants.tenant(*kind, ns, name);
                        }
                        using
                    }
                    Trigger::Namespace(namespace) => {
                        for resource in kinds.in_namespace_on_cluster_tenants(&namespace) {
                            wake(resource);
                        }
                        Vec::new()
                    }
                };
                for (kind, namespace, name) in tenants {
                    for resource in kinds.using_tenant(kind, &namespace, &name) {
                        wake(resource);
                    }
                }
                std::future::ready(())
            })
    };

    let controllers = KindControllers {
        client: client.clone(),
        settings: settings.clone(),
        shared: shared.clone(),
        gate: gate.clone(),
        wake: wake.clone(),
        wake_tenants,
        metrics: metrics.clone(),
        // Ready once every kind's first full listing is in its cache. Counted from each
        // kind's watch as its first listing ends, not with `Store::wait_until_ready`: a
        // store's readiness wakes only one of the tasks waiting for it (kube-runtime's
        // DelayedInit holds one waker), and the controller waits for it too.
        synced: Arc::new(Synced {
            waiting: std::sync::atomic::AtomicUsize::new(KINDS),
            readiness: readiness.clone(),
        }),
    };
    let profiles_controller = controllers.run(
        profile_writer,
        profile_store.clone(),
        woken_profiles,
        profile::references::Referents::default(),
        shutdown.clone(),
    );
    let uap_controller = controllers.run(
        uap_writer,
        uap_store.clone(),
        woken_uaps,
        profile::references::Referents {
            users: vec![users_of_user_attribute_profiles(ssp_store.clone())],
            wake: Some(wake.clone()),
            // Every kind's first listing is in its cache (the self-service profiles' too).
            listed: Some({
                let readiness = readiness.clone();
                Arc::new(move || readiness.get())
            }),
            ..Default::default()
        },
        shutdown.clone(),
    );
    let ssp_controller = controllers.run(
        ssp_writer,
        ssp_store.clone(),
        woken_ssps,
        profile::references::Referents {
            find: [("UserAttributeProfile", find_in(uap_store.clone()))]
                .into_iter()
                .collect(),
            ..Default::default()
        },
        shutdown.clone(),
    );
    // What the tenant's resources need, and whether every kind's first listing is in its
    // cache (a tenant judged on half-listed caches would flip its status at each restart).
    let needs: tenant_status::Needs = {
        let synced = controllers.synced.clone();
        Arc::new(move |kind, namespace: &str, name: &str| (synced.all(), kinds.scopes_needed(kind, namespace, name)))
    };
    let tenant_controllers = tenant_status::run(client, &settings, shared, needs, shutdown, woken_tenants);
    tokio::join!(
        profiles_controller,
        uap_controller,
        ssp_controller,
        triggers,
        tenant_controllers
    );
}

/// What the tenant, Secret and namespace watches say changed.
enum Trigger {
    Tenant(TenantKind, String, String),
    Secret(String, String),
    Namespace(String),
}

/// Every reconciled kind's cache.
#[derive(Clone)]
struct Caches {
    connection_profiles: reflector::Store<ConnectionProfile>,
    user_attribute_profiles: reflector::Store<UserAttributeProfile>,
    self_service_profiles: reflector::Store<SelfServiceProfile>,
}

impl Caches {
    /// Every resource, of every kind, whose `spec.tenantRef` names the tenant `kind
    /// namespace/name` (a ClusterAuth0Tenant's namespace is empty).
    fn using_tenant(&self, kind: TenantKind, namespace: &str, name: &str) -> Vec<lanes::Resource> {
        let uses = |reference: &crate::crd::TenantRef, own_namespace: Option<String>| {
            reference.kind == kind
                && reference.name == name
                && (kind == TenantKind::ClusterAuth0Tenant || own_namespace.as_deref() == Some(namespace))
        };
        self.matching(|tenant_ref, own| uses(tenant_ref, own))
    }

    /// What each kind's resources on the tenant `kind namespace/name` need of its client's
    /// grant (`scopes.rs`), kind by kind; kinds without a resource on it are left out.
    fn scopes_needed(&self, kind: TenantKind, namespace: &str, name: &str) -> Vec<scopes::KindNeeds> {
        fn of<K: Kind>(store: &reflector::Store<K>, tenant: &scopes::TenantKey) -> Option<scopes::KindNeeds> {
            let mut needed: Vec<&'static str> = Vec::new();
            let mut used = false;
            for resource in store.state() {
                let (on, scopes) = scopes::needs_of(resource.as_ref());
                if &on == tenant {
                    used = true;
                    needed.extend(scopes.into_iter().filter(|s| !needed.contains(s)).collect::<Vec<_>>());
                }
            }
            used.then_some((K::AUTH0.kind, needed))
        }
        let tenant = (kind, namespace.to_string(), name.to_string());
        [
            of(&self.connection_profiles, &tenant),
            of(&self.user_attribute_profiles, &tenant),
            of(&self.self_service_profiles, &tenant),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Every resource in `namespace` on a ClusterAuth0Tenant.
    fn in_namespace_on_cluster_tenants(&self, namespace: &str) -> Vec<lanes::Resource> {
        self.matching(|tenant_ref, own| {
            tenant_ref.kind == TenantKind::ClusterAuth0Tenant && own.as_deref() == Some(namespace)
        })
    }

    fn matching(&self, wanted: impl Fn(&crate::crd::TenantRef, Option<String>) -> bool) -> Vec<lanes::Resource> {
        fn of<K: Kind>(
            store: &reflector::Store<K>,
            wanted: &impl Fn(&crate::crd::TenantRef, Option<String>) -> bool,
        ) -> Vec<lanes::Resource> {
            store
                .state()
                .iter()
                .filter(|r| wanted(r.common().tenant_ref, r.namespace()))
                .map(|r| lanes::Resource::of(&ObjectRef::from_obj(r.as_ref())))
                .collect()
        }
        let mut all = of(&self.connection_profiles, &wanted);
        all.extend(of(&self.user_attribute_profiles, &wanted));
        all.extend(of(&self.self_service_profiles, &wanted));
        all
    }
}

/// A read-only look-up of a kind's resources by namespace and name, for references.
fn find_in<K: Kind>(store: reflector::Store<K>) -> profile::references::Find {
    Arc::new(move |namespace: &str, name: &str| {
        let found = store.get(&ObjectRef::new(name).within(namespace))?;
        Some(profile::references::Referent::of(found.as_ref()))
    })
}

/// The SelfServiceProfiles that use a UserAttributeProfile (`references::uses`: by name or
/// by its recorded id, from its namespace and tenant), and whether each is in Auth0.
fn users_of_user_attribute_profiles(store: reflector::Store<SelfServiceProfile>) -> profile::references::Users {
    Arc::new(move |referenced: &profile::references::Referenced| {
        store
            .state()
            .iter()
            .filter(|ssp| {
                let namespace = ssp.namespace().unwrap_or_default();
                let references = ssp.references();
                let user = profile::references::User {
                    namespace: &namespace,
                    tenant: ssp.common().tenant_ref,
                    references: &references,
                    held: ssp
                        .status
                        .as_ref()
                        .and_then(|s| s.at_provider.as_ref())
                        .and_then(|a| a.user_attribute_profile_id.as_deref()),
                };
                profile::references::uses(&user, referenced)
            })
            .map(|ssp| profile::references::Referencing {
                resource: lanes::Resource::of(&ObjectRef::from_obj(ssp.as_ref())),
                in_auth0: profile::claims::recorded_id(ssp.as_ref()).is_some()
                    || profile::claims::pending_mark(ssp.as_ref()).is_some(),
            })
            .collect()
    })
}

/// How many kinds the controllers reconcile.
const KINDS: usize = 3;

/// The kinds whose first listing has not ended yet; the operator is ready when none is left.
struct Synced {
    waiting: std::sync::atomic::AtomicUsize,
    readiness: Arc<Readiness>,
}

impl Synced {
    /// Whether every kind's first full listing is in its cache.
    fn all(&self) -> bool {
        self.waiting.load(std::sync::atomic::Ordering::Acquire) == 0
    }

    /// A kind's first full listing is in its cache (once per kind).
    fn kind_synced(&self, kind: &str) {
        use std::sync::atomic::Ordering;
        let left = self.waiting.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        tracing::debug!(kind, left, "cache synced");
        if left == 0 && !self.readiness.get() {
            tracing::info!("caches synced: ready");
            self.readiness.set(true);
        }
    }
}

/// What every kind's controller is made with.
struct KindControllers {
    client: Client,
    settings: Settings,
    shared: Arc<profile::Shared>,
    gate: Arc<CachesSynced>,
    wake: profile::references::Wake,
    /// Checks a tenant's status again when the scopes its resources need change.
    wake_tenants: tenant_status::Wake,
    metrics: Arc<Metrics>,
    synced: Arc<Synced>,
}

impl KindControllers {
    /// Runs the controller of kind `K` until `shutdown`: its watch (each object decoded on
    /// its own, `decode.rs`) fills `store` through `writer`; passes start on a change of
    /// generation, annotations or finalizers, and when `woken` says (a lane place freed, a
    /// tenant or Secret changed, a referenced resource changed).
    fn run<K: Kind, S>(
        &self,
        writer: reflector::store::Writer<K>,
        store: reflector::Store<K>,
        woken: futures::channel::mpsc::UnboundedReceiver<lanes::Resource>,
        references: profile::references::Referents,
        shutdown: S,
    ) -> impl std::future::Future<Output = ()> + use<K, S>
    where
        S: std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
    {
        let kind = K::AUTH0.kind;
        // Everything remembered per resource of the kind (`profile/memory.rs`): when each
        // resource's current request was first seen (a create's name check lists the tenant
        // after it), and resources gone from the cache are forgotten (`gone` below).
        let memory = Arc::new(profile::memory::Memory::new(profile::failure_backoff()));
        let (gone_tx, gone_rx) = tokio::sync::mpsc::unbounded_channel::<Gone<K>>();
        // Status writes change neither generation, annotations nor finalizers, so they do
        // not start another pass; pause and reconcile-requested-at (annotations) and
        // deletion do. Each object decoded on its own: one the types cannot read stops
        // nothing (`decode.rs`).
        let stream = decode::watch::<K>(
            self.client.clone(),
            &self.settings.namespace,
            watcher::Config::default(),
        )
        .backoff(WatchBackoff::default())
        .modify(trim)
        .reflect(writer)
        .inspect({
            // Ready once the first full listing of every kind is in the caches.
            let (synced, seen) = (self.synced.clone(), std::sync::atomic::AtomicBool::new(false));
            move |event| {
                if matches!(event, Ok(watcher::Event::InitDone))
                    && !seen.swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    synced.kind_synced(kind);
                }
            }
        })
        .inspect({
            // The first resource of the kind on a tenant (or the last one leaving it) changes
            // the scopes the tenant's client needs: its status is checked again now, not at
            // its next poll (`scopes.rs`).
            let wake_tenants = self.wake_tenants.clone();
            let mut used = scopes::TenantUse::default();
            move |event| {
                let key = |r: &K| (r.namespace().unwrap_or_default(), r.name_any());
                let changed = match event {
                    Ok(watcher::Event::Apply(r)) => {
                        let (tenant, needs) = scopes::needs_of(r);
                        used.apply(key(r), tenant, needs)
                    }
                    Ok(watcher::Event::Delete(r)) => used.delete(&key(r)),
                    Ok(watcher::Event::Init) => {
                        used.relisting();
                        Vec::new()
                    }
                    Ok(watcher::Event::InitApply(r)) => {
                        let (tenant, needs) = scopes::needs_of(r);
                        used.listed(key(r), tenant, needs);
                        Vec::new()
                    }
                    Ok(watcher::Event::InitDone) => used.relisted(),
                    Err(_) => Vec::new(),
                };
                for (kind, namespace, name) in changed {
                    wake_tenants.tenant(kind, &namespace, &name);
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
            move |object: &Result<K, watcher::Error>| {
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
            move |object: &Result<K, watcher::Error>| {
                let pass = match object {
                    Ok(profile) => memory.changes.changed(
                        &profile.uid().unwrap_or_default(),
                        profile::memory::change_key(profile.meta()),
                    ),
                    Err(_) => true,
                };
                std::future::ready(pass)
            }
        })
        .then({
            let gate = self.gate.clone();
            move |object| {
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    object
                }
            }
        })
        .filter(log_and_drop_errors(kind));
        let mut references = references;
        references.wake.get_or_insert_with(|| self.wake.clone());
        let ctx = Arc::new(profile::Context::new(
            self.shared.clone(),
            profile::Watched {
                profiles: store.clone(),
                memory: memory.clone(),
            },
            references,
        ));
        tokio::spawn(forget_gone(gone_rx, ctx.clone()));
        self.metrics.observe_memory({
            let memory = memory.clone();
            Box::new(move || memory.sizes())
        });
        Controller::for_stream(stream, store)
            // No worker limit here: each tenant's lane and the running places are the limits
            // (`lanes.rs`, `places.rs`), so a pass waiting for one tenant never holds a place
            // another tenant's pass needs.
            .with_config(kube::runtime::controller::Config::default().concurrency(0))
            .reconcile_on(woken.filter_map(|resource| std::future::ready(resource.to_ref::<K>())))
            .graceful_shutdown_on(shutdown)
            .run(profile::reconcile, profile::error_policy, ctx)
            .for_each(move |result| async move {
                if let Err(e) = result {
                    tracing::debug!(error = %e, kind, "controller");
                }
            })
    }
}

/// How often the per-resource maps are swept against the cache.
const MEMORY_SWEEP: Duration = Duration::from_secs(60);

/// What a kind's watch says left the cache.
enum Gone<K> {
    /// A Delete event: the object is gone from the API server.
    Deleted(Box<K>),
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
async fn forget_gone<K: Kind>(mut gone: tokio::sync::mpsc::UnboundedReceiver<Gone<K>>, ctx: Arc<profile::Context<K>>) {
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
                                if profile::vanished::handle(profile.as_ref(), &ctx).await
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
    kinds: Caches,
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
    fn of_kind<K: Kind>(store: &reflector::Store<K>) -> Vec<crate::metrics::ResourceConditions> {
        store
            .state()
            .iter()
            .map(|p| of(K::AUTH0.kind, p.status().map(|s| &s.conditions)))
            .collect()
    }
    Box::new(move || {
        let mut all = of_kind(&kinds.connection_profiles);
        all.extend(of_kind(&kinds.user_attribute_profiles));
        all.extend(of_kind(&kinds.self_service_profiles));
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

/// kubectl's copy is replaced by its size ([`crate::crd::annotations::annotation::LAST_APPLIED_BYTES`],
/// in memory only): it counts toward the API server's 256 KiB of annotations, which
/// `marks::room` checks.
fn trim<K: kube::Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
    if let Some(annotations) = object.meta_mut().annotations.as_mut()
        && let Some(copy) = annotations.remove(crate::crd::annotations::annotation::LAST_APPLIED)
    {
        annotations.insert(
            crate::crd::annotations::annotation::LAST_APPLIED_BYTES.into(),
            copy.len().to_string(),
        );
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
