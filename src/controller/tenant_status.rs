//! The status of Auth0Tenant and ClusterAuth0Tenant: `Ready` when a token was obtained and
//! every needed scope is granted (those of each kind with resources on the tenant, or the
//! connection-profile ones while none uses it: `scopes.rs`); otherwise which scopes are
//! missing, or that the Secret or
//! a key is missing (or unlabelled), that the host is not allowed, or that Auth0 refused the
//! credentials. `Stalled` is True, with the same reason, while only a person can mend it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::Settings;
use super::profile::Shared;
use super::scopes::{self, KindNeeds};
use crate::auth0::Category;
use crate::crd::annotations::MANAGER;
use crate::crd::conditions::{READY, STALLED, reason};
use crate::crd::{Auth0Tenant, ClusterAuth0Tenant, TenantKind, TenantRef, TenantStatus};

/// What the two tenant kinds have in common here.
trait TenantResource:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug + Send + Sync + 'static
{
    const KIND: TenantKind;
    fn status(&self) -> Option<&TenantStatus>;
    fn api(client: Client, namespace: &str) -> Api<Self>;
}

impl TenantResource for Auth0Tenant {
    const KIND: TenantKind = TenantKind::Auth0Tenant;
    fn status(&self) -> Option<&TenantStatus> {
        self.status.as_ref()
    }
    fn api(client: Client, namespace: &str) -> Api<Self> {
        Api::namespaced(client, namespace)
    }
}

impl TenantResource for ClusterAuth0Tenant {
    const KIND: TenantKind = TenantKind::ClusterAuth0Tenant;
    fn status(&self) -> Option<&TenantStatus> {
        self.status.as_ref()
    }
    fn api(client: Client, _namespace: &str) -> Api<Self> {
        Api::all(client)
    }
}

/// Wakes the tenant controllers for a tenant whose Secret changed: the tenant's status
/// follows its Secret within seconds, not at its next poll (issue 25: a fixed Secret left
/// the tenant `Unauthorized` for up to ten minutes while its profiles were Ready).
#[derive(Clone)]
pub struct Wake {
    namespaced: mpsc::UnboundedSender<ObjectRef<Auth0Tenant>>,
    cluster: mpsc::UnboundedSender<ObjectRef<ClusterAuth0Tenant>>,
}

/// What [`Wake`] sends, for [`run`].
pub struct Woken {
    namespaced: mpsc::UnboundedReceiver<ObjectRef<Auth0Tenant>>,
    cluster: mpsc::UnboundedReceiver<ObjectRef<ClusterAuth0Tenant>>,
}

/// A [`Wake`] and the [`Woken`] streams it feeds.
pub fn wake() -> (Wake, Woken) {
    let (namespaced, namespaced_rx) = mpsc::unbounded();
    let (cluster, cluster_rx) = mpsc::unbounded();
    (
        Wake { namespaced, cluster },
        Woken {
            namespaced: namespaced_rx,
            cluster: cluster_rx,
        },
    )
}

impl Wake {
    /// Checks the tenant `kind` `name` (in `namespace`, "" for a ClusterAuth0Tenant) again.
    pub fn tenant(&self, kind: TenantKind, namespace: &str, name: &str) {
        // The receivers live as long as the controllers; after them, nothing is woken.
        let sent = match kind {
            TenantKind::Auth0Tenant => self
                .namespaced
                .unbounded_send(ObjectRef::new(name).within(namespace))
                .is_ok(),
            TenantKind::ClusterAuth0Tenant => self.cluster.unbounded_send(ObjectRef::new(name)).is_ok(),
        };
        if !sent {
            tracing::debug!(%name, "tenant controllers stopped: not woken");
        }
    }
}

/// What each kind's resources on the tenant `kind namespace/name` need of its client's
/// grant, kind by kind (read from the kinds' watch caches), and whether every kind's first
/// listing is in its cache yet.
pub type Needs = Arc<dyn Fn(TenantKind, &str, &str) -> (bool, Vec<KindNeeds>) + Send + Sync>;

/// What a tenant's pass is made with.
struct Context {
    shared: Arc<Shared>,
    needs: Needs,
    /// When the controllers started: the kinds' caches are waited for 30 s at most.
    started: std::time::Instant,
}

/// How long a tenant's status waits for the kinds' first listings (a kind that cannot be
/// listed, a missing RBAC rule, must not keep every tenant without a status): after it, the
/// scopes are judged from what the caches hold.
const KINDS_WAIT: Duration = Duration::from_secs(30);

/// Runs both tenant controllers; each also checks the tenants `woken` names.
pub async fn run<S>(client: Client, settings: &Settings, shared: Arc<Shared>, needs: Needs, shutdown: S, woken: Woken)
where
    S: std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
{
    let namespaced: Api<Auth0Tenant> = match &settings.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let cluster: Api<ClusterAuth0Tenant> = Api::all(client);
    let ctx = Arc::new(Context {
        shared,
        needs,
        started: std::time::Instant::now(),
    });
    tokio::join!(
        controller(namespaced, ctx.clone(), shutdown.clone(), woken.namespaced),
        controller(cluster, ctx, shutdown, woken.cluster)
    );
}

async fn controller<K, S>(api: Api<K>, ctx: Arc<Context>, shutdown: S, woken: mpsc::UnboundedReceiver<ObjectRef<K>>)
where
    K: TenantResource,
    S: std::future::Future<Output = ()> + Send + Sync + 'static,
{
    // The controller's only watch: its errors pause it for `WatchBackoff`, not kube's
    // default (up to ~50 s each, see `log_and_drop_errors`).
    Controller::new(api, watcher::Config::default())
        .trigger_backoff(super::WatchBackoff::default())
        .reconcile_on(woken)
        .graceful_shutdown_on(shutdown)
        .run(
            reconcile::<K>,
            |_, error, _| {
                tracing::warn!(%error, "tenant status");
                Action::requeue(Duration::from_secs(30))
            },
            ctx,
        )
        .for_each(|_| async {})
        .await;
}

/// [`check`], with a panic caught (`controller/panics.rs`): logged, counted in
/// `auth0_operator_reconcile_panics_total{kind}`, retried in 30 s; the process goes on.
async fn reconcile<K: TenantResource>(tenant: Arc<K>, ctx: Arc<Context>) -> Result<Action, kube::Error> {
    match super::panics::caught(check(tenant.clone(), ctx.clone())).await {
        Ok(result) => result,
        Err(panic) => {
            tracing::error!(%panic, tenant = %tenant.name_any(), "a tenant status pass panicked: retried in 30 s");
            ctx.shared
                .metrics
                .reconcile_panics
                .get_or_create(&crate::metrics::KindLabel {
                    kind: match K::KIND {
                        TenantKind::Auth0Tenant => "Auth0Tenant",
                        TenantKind::ClusterAuth0Tenant => "ClusterAuth0Tenant",
                    },
                })
                .inc();
            Ok(Action::requeue(Duration::from_secs(30)))
        }
    }
}

async fn check<K: TenantResource>(tenant: Arc<K>, context: Arc<Context>) -> Result<Action, kube::Error> {
    let ctx = &context.shared;
    // The tenant and its Secret are read from the profile controller's caches.
    ctx.caches.wait().await;
    let namespace = tenant.namespace().unwrap_or_default();
    let reference = TenantRef {
        kind: K::KIND,
        name: tenant.name_any(),
    };
    let (ready, why, message, granted, missing, retry) = match ctx.tenants.tenant_client(&reference, &namespace) {
        Err(e) => {
            // A Secret the operator may not read (--secret-namespaces) stays unreadable until
            // it is reconfigured (a restart); anything else may appear any moment.
            let (why, terminal) = e.reason();
            (false, why, e.to_string(), vec![], vec![], !terminal)
        }
        Ok(client) => match client.scopes().await {
            Ok(granted) => {
                // Judged on every kind's listing: before it, a tenant whose resources are not
                // all listed yet would read Ready, then MissingScopes, at each restart.
                let (listed, in_use) = (context.needs)(K::KIND, &namespace, &reference.name);
                if !listed && context.started.elapsed() < KINDS_WAIT {
                    return Ok(Action::requeue(Duration::from_secs(1)));
                }
                let verdict = scopes::verdict(&granted, &in_use);
                if verdict.missing.is_empty() {
                    (true, reason::AVAILABLE, String::new(), granted, verdict.missing, false)
                } else {
                    (false, "MissingScopes", verdict.message, granted, verdict.missing, false)
                }
            }
            Err(e) if e.category() == Category::Unauthorized => {
                (false, reason::UNAUTHORIZED, e.to_string(), vec![], vec![], false)
            }
            Err(e) => (false, reason::RECONCILE_ERROR, e.to_string(), vec![], vec![], true),
        },
    };
    let previous = tenant.status().cloned().unwrap_or_default();
    let now = Time(Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_else(|_| Timestamp::now()));
    let condition = |type_: &str, status: &str, why: &str, message: String| Condition {
        type_: type_.into(),
        status: status.into(),
        reason: why.into(),
        message,
        observed_generation: tenant.meta().generation,
        last_transition_time: previous
            .conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map_or_else(|| now.clone(), |c| c.last_transition_time.clone()),
    };
    // Not ready and not retrying: a person must act (a host outside the allowed list, a
    // refused client, missing scopes, a Secret where the operator may not read).
    let stalled = if !ready && !retry {
        condition(STALLED, "True", why, message.clone())
    } else {
        condition(STALLED, "False", reason::IDLE, String::new())
    };
    let status = TenantStatus {
        observed_generation: tenant.meta().generation,
        granted_scopes: granted,
        missing_scopes: missing,
        conditions: vec![
            condition(READY, if ready { "True" } else { "False" }, why, message),
            stalled,
        ],
    };
    if tenant.status() != Some(&status) {
        let api = K::api(ctx.client.clone(), &namespace);
        let patch = json!({"apiVersion": K::api_version(&()), "kind": K::kind(&()), "status": status});
        api.patch_status(
            &tenant.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    }
    Ok(if retry {
        Action::requeue(Duration::from_secs(15))
    } else {
        Action::requeue(ctx.poll_interval)
    })
}
