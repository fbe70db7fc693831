//! Carrying a step out against the real control plane, the emulator and the operator's
//! processes, and recording what the invariants need to know about what happened (which
//! ids the dashboard made, which names a person released, which writes the API server
//! refused).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use auth0_emulator::{ClientChange, Endpoint, FaultRule};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::common::{Harness, free_port};
use crate::steps::{
    BIG_ANNOTATION, External, Fault, Made, NAMES, OTHER_TENANT, Other, Spec, Step, Target, slot_name, ssp_slot_name,
    uap_slot_name,
};

pub const LEASE: &str = "walk";
pub const IDENTITIES: [&str; 2] = ["replica-a", "replica-b"];
/// The client secret the Auth0 client has after `n` rotations.
pub fn secret(n: usize) -> String {
    if n == 0 {
        crate::common::SECRET.to_string()
    } else {
        format!("walk-rotated-secret-{n}")
    }
}
pub const WRONG_SECRET: &str = "walk-wrong-secret-value";

/// An operator replica: killed when dropped, even by a panicking test.
pub struct Replica {
    pub child: Child,
    pub port: u16,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the walk did, as it happened: what the invariants compare Auth0 and the cluster with.
pub struct World<'h> {
    pub h: &'h Harness,
    pub replicas: [Option<Replica>; 2],
    /// How many times each replica was started (the walk's kills and failovers).
    pub starts: [usize; 2],
    /// Replicas that exited on losing the Lease (and were restarted).
    pub lease_exits: usize,
    /// Profiles seeded before the walk.
    pub foreign: Vec<Value>,
    /// Ids the dashboard steps made, by the order they were drawn in (`None`: refused).
    pub dashboard: Vec<Option<String>>,
    /// Ids a resource was pointed at with externalID (they became a resource's).
    pub adopted: BTreeSet<String>,
    /// Auth0 names (lower case) of resources deleted under Orphan, Observe or force-orphan:
    /// a profile of such a name may stay in Auth0 with no owner.
    pub released: BTreeSet<String>,
    /// Every name a slot's resource had since it was last created (lower case).
    pub names: BTreeMap<usize, BTreeSet<String>>,
    /// Whether a slot's resource was ever Orphan, Observe or force-orphaned in its life.
    pub keeps: BTreeMap<usize, bool>,
    /// The resolved externalID of each slot (stable over the walk).
    pub external_ids: BTreeMap<usize, String>,
    /// Rotations of the client secret so far.
    pub rotations: usize,
    /// Every secret value the walk used, to search outputs for.
    pub secrets: Vec<String>,
    /// The Auth0 rules in force.
    pub faults: Vec<FaultRule>,
    /// Whether the lower-casing normalization was ever on.
    pub normalized: bool,
    /// Whether duplicate names were ever allowed.
    pub duplicates: bool,
    /// A port on 127.0.0.1 where nothing listens, in --allowed-tenant-hosts.
    pub dead_port: u16,
    /// Items of the two other kinds that were never a resource's (seeded before the walk,
    /// or made by its dashboard steps), by id: as they were made (compared with `updated_at`).
    pub foreign_other: BTreeMap<String, Value>,
    /// Dashboard deletes of a user attribute profile's item that Auth0 carried out.
    pub dashboard_uap_deletes: usize,
}

impl<'h> World<'h> {
    pub fn new(h: &'h Harness, foreign: Vec<Value>) -> World<'h> {
        World {
            h,
            replicas: [None, None],
            starts: [0, 0],
            lease_exits: 0,
            foreign,
            dashboard: Vec::new(),
            adopted: BTreeSet::new(),
            released: BTreeSet::new(),
            names: BTreeMap::new(),
            keeps: BTreeMap::new(),
            external_ids: BTreeMap::new(),
            rotations: 0,
            secrets: vec![secret(0), WRONG_SECRET.to_string()],
            faults: Vec::new(),
            normalized: false,
            duplicates: false,
            dead_port: free_port(),
            foreign_other: BTreeMap::new(),
            dashboard_uap_deletes: 0,
        }
    }

    /// The second Auth0Tenant, `t2`: the same Auth0 tenant as `t` (never broken by the walk).
    pub async fn add_other_tenant(&self) {
        self.h
            .apply(
                "auth0tenants",
                json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                       "metadata": {"name": OTHER_TENANT}, "spec": self.tenant()}),
            )
            .await;
    }

    /// Items of the other kinds made in the dashboard before the walk.
    pub async fn seed_foreign_other(&mut self) {
        for (path, body) in [
            ("user-attribute-profiles", crate::kinds::dashboard_uap("foreign-uap")),
            ("self-service-profiles", json!({"name": "foreign-ssp"})),
        ] {
            let made = self.h.admin("POST", path, Some(body)).await;
            let id = made["id"].as_str().expect("id").to_string();
            self.foreign_other.insert(id, made);
        }
    }

    /// Server-side apply of an object of our group, answering a refusal instead of panicking.
    async fn apply_object(&self, plural: &str, kind: &str, name: &str, spec: Value) -> String {
        let url = format!(
            "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/{plural}/{name}?fieldManager=test&force=true",
            self.h.ns.name()
        );
        let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": kind,
                            "metadata": {"name": name}, "spec": spec});
        let request = http::Request::patch(url)
            .header("content-type", "application/apply-patch+yaml")
            .body(serde_json::to_vec(&object).expect("json"))
            .expect("request");
        match self.h.ns.client.request::<Value>(request).await {
            Ok(_) => "applied".into(),
            Err(kube::Error::Api(e)) => format!("refused by the API server: {}", e.message),
            Err(e) => panic!("applying {name}: {e}"),
        }
    }

    /// Deletes a resource of kind `K`, answering what happened.
    async fn delete_other<K: auth0_operator::crd::Kind>(&self, name: &str) -> String {
        let api: Api<K> = Api::namespaced(self.h.ns.client.clone(), self.h.ns.name());
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => "deleted".into(),
            Err(kube::Error::Api(e)) if e.code == 404 => "no such resource".into(),
            Err(e) => format!("refused: {e}"),
        }
    }

    pub fn log(&self, replica: usize) -> PathBuf {
        self.h
            .env
            .dir()
            .join(format!("operator-{}-{}.log", self.h.ns.name(), IDENTITIES[replica]))
    }

    pub fn spawn(&mut self, replica: usize) {
        let port = free_port();
        let log = self.log(replica);
        let hosts = format!("{},127.0.0.1:{}", self.h.allowed_hosts, self.dead_port);
        let child = self.h.spawn_operator(
            &log,
            &[
                "--leader-election",
                "--lease-name",
                LEASE,
                "--lease-duration",
                "3s",
                "--identity",
                IDENTITIES[replica],
                "--shutdown-timeout",
                "5s",
                "--allowed-tenant-hosts",
                &hosts,
                "--http-address",
                &format!("127.0.0.1:{port}"),
            ],
        );
        self.starts[replica] += 1;
        self.replicas[replica] = Some(Replica { child, port });
    }

    /// Panics when a replica exited that the walk did not stop, but for a replica that lost
    /// the Lease: it exits (status 1) by design, as Kubernetes restarts it, and so does the
    /// walk (counted in `lease_exits`).
    pub fn supervise(&mut self, after: &str) {
        for (i, identity) in IDENTITIES.iter().enumerate() {
            let replica = self.replicas[i].as_mut().expect("replica");
            let Ok(Some(status)) = replica.child.try_wait() else {
                continue;
            };
            let log = std::fs::read_to_string(self.log(i)).unwrap_or_default();
            let last = log.lines().rev().find(|l| l.contains("ERROR")).unwrap_or_default();
            // "lost the lease: stopped reconciling", "lost the lease: \"x\" holds it: stopped
            // reconciling", "could not renew the lease: …".
            let lost = (last.contains("lost the lease") && last.contains("stopped reconciling"))
                || last.contains("could not renew the lease");
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            assert!(
                lost && status.code() == Some(1),
                "operator {identity} exited by itself ({status}) after {after}; its log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            self.lease_exits += 1;
            self.spawn(i);
        }
    }

    fn resolve(&mut self, slot: usize, external: External) -> String {
        if let Some(id) = self.external_ids.get(&slot) {
            return id.clone();
        }
        let id = match external {
            External::Made(made) => self.made(made),
            External::Nowhere => None,
        }
        .unwrap_or_else(|| format!("cop_walkNowhere{slot:011}"));
        self.external_ids.insert(slot, id.clone());
        id
    }

    fn made(&self, made: Made) -> Option<String> {
        match made {
            Made::Dashboard(k) => self.dashboard.get(k).cloned().flatten(),
            Made::Foreign(k) => self.foreign.get(k).and_then(|p| p["id"].as_str()).map(String::from),
        }
    }

    async fn target(&self, target: Target) -> Option<String> {
        match target {
            Target::Made(made) => self.made(made),
            Target::OwnedBy(slot) => self
                .h
                .profiles()
                .get_opt(&slot_name(slot))
                .await
                .expect("get")
                .and_then(|p| p.status?.id),
        }
    }

    async fn annotate(&self, slot: usize, key: &str, value: Option<&str>) -> Result<(), String> {
        let patch = json!({"metadata": {"annotations": {key: value}}});
        match self
            .h
            .profiles()
            .patch(&slot_name(slot), &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Err("no such resource".into()),
            Err(e) => Err(format!("refused: {e}")),
        }
    }

    fn tenant(&self) -> Value {
        let url = self.h.emulator.tenant_url(&self.h.domain).expect("tenant url");
        json!({"domain": self.h.domain, "credentialsSecretRef": {"name": "creds"},
               "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}})
    }

    async fn apply_tenant(&self, spec: Value) {
        self.h
            .apply(
                "auth0tenants",
                json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                       "metadata": {"name": "t"}, "spec": spec}),
            )
            .await;
    }

    fn set_faults(&self) {
        assert!(self.h.emulator.set_faults(&self.h.domain, self.faults.clone()));
    }

    /// Carries out one step; returns what happened, for the log.
    pub async fn apply(&mut self, step: &Step) -> String {
        let h = self.h;
        match step {
            Step::Apply { slot, spec, what } => format!("{what}: {}", self.apply_spec(*slot, spec).await),
            Step::Delete { slot } => {
                let name = slot_name(*slot);
                let live = h.profiles().get_opt(&name).await.expect("get");
                let Some(live) = live else {
                    return "no such resource".into();
                };
                if live.spec.deletion_policy == auth0_operator::crd::DeletionPolicy::Orphan
                    || live.spec.management_policy == auth0_operator::crd::ManagementPolicy::Observe
                {
                    self.keeps.insert(*slot, true);
                }
                self.release_names(*slot);
                match h.profiles().delete(&name, &DeleteParams::default()).await {
                    Ok(_) => "deleted".into(),
                    Err(e) => format!("refused: {e}"),
                }
            }
            Step::Pause { slot } => outcome(self.annotate(*slot, "auth0.operators.dev/paused", Some("true")).await),
            Step::Unpause { slot } => outcome(self.annotate(*slot, "auth0.operators.dev/paused", None).await),
            Step::ForceOrphan { slot } => {
                let done = self
                    .annotate(*slot, "auth0.operators.dev/force-orphan", Some("true"))
                    .await;
                if done.is_ok() {
                    self.keeps.insert(*slot, true);
                    self.release_names(*slot);
                }
                outcome(done)
            }
            Step::Annotate { slot, key, value } => {
                let value = if value == "BIG" {
                    "x".repeat(BIG_ANNOTATION)
                } else {
                    value.clone()
                };
                outcome(self.annotate(*slot, key, Some(&value)).await)
            }
            Step::TenantEdit { per_second } => {
                let mut spec = self.tenant();
                spec["rateLimit"] = json!({"requestsPerSecond": *per_second as f64, "burst": 50});
                self.apply_tenant(spec).await;
                "edited".into()
            }
            Step::TenantRepoint { allowed } => {
                let mut spec = self.tenant();
                spec["endpoint"]["url"] = if *allowed {
                    json!(format!("http://127.0.0.1:{}", self.dead_port))
                } else {
                    json!("http://127.0.0.2:9/")
                };
                self.apply_tenant(spec).await;
                "re-pointed".into()
            }
            Step::TenantBreak => {
                let mut spec = self.tenant();
                spec["credentialsSecretRef"]["name"] = json!("no-such-secret");
                self.apply_tenant(spec).await;
                "broken".into()
            }
            Step::TenantFix => {
                self.apply_tenant(self.tenant()).await;
                "fixed".into()
            }
            Step::TenantDelete => {
                let tenants: Api<auth0_operator::crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
                match tenants.delete("t", &DeleteParams::default()).await {
                    Ok(_) => "deleted".into(),
                    Err(e) => format!("not deleted: {e}"),
                }
            }
            Step::SecretRotate => {
                self.rotations += 1;
                let value = secret(self.rotations);
                self.secrets.push(value.clone());
                assert!(h.emulator.update_client(
                    &h.domain,
                    "operator-client",
                    ClientChange {
                        client_secret: Some(value.clone()),
                        scopes: None
                    }
                ));
                tokio::time::sleep(Duration::from_millis(500)).await;
                h.write_secret("operator-client", &value).await;
                format!("rotated to secret {}", self.rotations)
            }
            Step::SecretBreak => {
                h.write_secret("operator-client", WRONG_SECRET).await;
                "wrong secret".into()
            }
            Step::SecretFix => {
                h.write_secret("operator-client", &secret(self.rotations)).await;
                "fixed".into()
            }
            Step::SecretDelete => {
                let secrets: Api<Secret> = Api::namespaced(h.ns.client.clone(), h.ns.name());
                match secrets.delete("creds", &DeleteParams::default()).await {
                    Ok(_) => "deleted".into(),
                    Err(e) => format!("not deleted: {e}"),
                }
            }
            Step::FaultOn(fault) => {
                match fault {
                    Fault::ServerErrors(p) => {
                        for status in [500, 502, 503] {
                            self.faults.push(FaultRule {
                                probability: p / 3.0,
                                status: Some(status),
                                ..FaultRule::default()
                            });
                        }
                    }
                    Fault::DropAfterWrite(p) => {
                        for endpoint in [
                            Endpoint::CreateProfile,
                            Endpoint::UpdateProfile,
                            Endpoint::DeleteProfile,
                            Endpoint::CreateUserAttributeProfile,
                            Endpoint::UpdateUserAttributeProfile,
                            Endpoint::DeleteUserAttributeProfile,
                            Endpoint::CreateSelfServiceProfile,
                            Endpoint::UpdateSelfServiceProfile,
                            Endpoint::DeleteSelfServiceProfile,
                            Endpoint::SetSelfServiceProfileCustomText,
                        ] {
                            self.faults.push(FaultRule {
                                endpoint: Some(endpoint),
                                probability: *p,
                                drop_after_write: true,
                                ..FaultRule::default()
                            });
                        }
                    }
                    Fault::Latency(ms) => self.faults.push(FaultRule {
                        latency_ms: *ms,
                        jitter_ms: *ms,
                        ..FaultRule::default()
                    }),
                    Fault::RateLimitStorm => {
                        h.admin("PUT", "rate-limit", Some(json!({"burst": 2, "per_second": 1.0})))
                            .await;
                    }
                }
                self.set_faults();
                "on".into()
            }
            Step::FaultsOff => {
                self.faults.clear();
                self.set_faults();
                h.admin("DELETE", "rate-limit", None).await;
                "off".into()
            }
            Step::Normalize(on) => {
                let rules = if *on {
                    self.normalized = true;
                    json!([{"action": "lowercase", "field": "name"},
                           {"action": "lowercase", "field": "connection_name_prefix_template"}])
                } else {
                    json!([])
                };
                h.admin("PATCH", "settings", Some(json!({"normalize": rules}))).await;
                "set".into()
            }
            Step::DuplicateNames(allowed) => {
                self.duplicates |= *allowed;
                h.admin("PATCH", "settings", Some(json!({"unique_names": !*allowed})))
                    .await;
                "set".into()
            }
            Step::DashboardCreate { name } => {
                let (status, made) = self
                    .admin_try(
                        "POST",
                        "profiles",
                        Some(json!({"name": NAMES[*name], "enabled_features": ["scim"]})),
                    )
                    .await;
                let id = made["id"].as_str().map(String::from).filter(|_| status < 300);
                self.dashboard.push(id.clone());
                match id {
                    Some(id) => format!("made {id}"),
                    None => format!("refused {status}"),
                }
            }
            Step::DashboardEdit { target, prefix } => {
                let Some(id) = self.target(*target).await else {
                    return "no such profile".into();
                };
                let (status, _) = self
                    .admin_try(
                        "PATCH",
                        &format!("profiles/{id}"),
                        Some(json!({"connection_name_prefix_template": prefix,
                                    "organization": {"show_as_button": "required", "assign_membership_on_login": "optional"}})),
                    )
                    .await;
                format!("{id}: {status}")
            }
            Step::DashboardDelete { target } => {
                let Some(id) = self.target(*target).await else {
                    return "no such profile".into();
                };
                let (status, _) = self.admin_try("DELETE", &format!("profiles/{id}"), None).await;
                format!("{id}: {status}")
            }
            Step::Kill { replica } => {
                let mut old = self.replicas[*replica].take().expect("replica");
                old.child.kill().expect("SIGKILL");
                old.child.wait().expect("reaped");
                drop(old);
                self.spawn(*replica);
                "killed and restarted".into()
            }
            Step::Failover => {
                let Some(leader) = self.leader().await else {
                    return "no leader to fail over".into();
                };
                let replica = self.replicas[leader].take().expect("replica");
                let mut replica = replica;
                let status = std::process::Command::new("kill")
                    .args(["-TERM", &replica.child.id().to_string()])
                    .status();
                assert!(status.is_ok_and(|s| s.success()), "kill -TERM");
                let deadline = Instant::now() + Duration::from_secs(15);
                let exited = loop {
                    if let Ok(Some(status)) = replica.child.try_wait() {
                        break Some(status);
                    }
                    if Instant::now() > deadline {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let exited =
                    exited.unwrap_or_else(|| panic!("{} did not stop within 15 s of SIGTERM", IDENTITIES[leader]));
                drop(replica);
                self.spawn(leader);
                format!("{} left ({exited}) and was restarted", IDENTITIES[leader])
            }
            Step::ClockSkew { seconds } => {
                let leases: Api<Lease> = Api::namespaced(h.ns.client.clone(), h.ns.name());
                let ahead =
                    k8s_openapi::jiff::Timestamp::now() + k8s_openapi::jiff::SignedDuration::from_secs(*seconds as i64);
                // A MicroTime: RFC 3339 with exactly six fractional digits.
                let ahead = format!(
                    "{}.{:06}Z",
                    ahead.strftime("%Y-%m-%dT%H:%M:%S"),
                    ahead.subsec_microsecond()
                );
                let patch = json!({"spec": {"holderIdentity": "replica-skewed", "renewTime": ahead,
                                            "acquireTime": ahead, "leaseDurationSeconds": 3}});
                match leases
                    .patch(LEASE, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => format!("lease renewed {seconds} s in the future by a replica that is gone"),
                    Err(e) => format!("no lease yet: {e}"),
                }
            }
            Step::Wait { millis } => {
                tokio::time::sleep(Duration::from_millis(*millis)).await;
                "waited".into()
            }
            Step::UapApply {
                slot,
                round,
                other_tenant,
            } => {
                let mut spec = crate::kinds::uap_spec(*round);
                if *other_tenant {
                    spec["tenantRef"]["name"] = json!(OTHER_TENANT);
                }
                self.apply_object(
                    "userattributeprofiles",
                    "UserAttributeProfile",
                    &uap_slot_name(*slot),
                    spec,
                )
                .await
            }
            Step::UapDelete { slot, in_use } => {
                let done = self
                    .delete_other::<auth0_operator::crd::UserAttributeProfile>(&uap_slot_name(*slot))
                    .await;
                if *in_use { format!("{done} (in use)") } else { done }
            }
            Step::SspApply {
                slot,
                uses,
                round,
                what,
            } => {
                let spec = crate::kinds::ssp_spec(&uap_slot_name(*uses), *round);
                let done = self
                    .apply_object("selfserviceprofiles", "SelfServiceProfile", &ssp_slot_name(*slot), spec)
                    .await;
                format!("{what}: {done}")
            }
            Step::SspDelete { slot } => {
                self.delete_other::<auth0_operator::crd::SelfServiceProfile>(&ssp_slot_name(*slot))
                    .await
            }
            Step::DashboardOtherCreate { kind, taken } => {
                let (path, body) = match kind {
                    Other::UserAttributeProfile => (
                        "user-attribute-profiles",
                        crate::kinds::dashboard_uap(&if *taken {
                            uap_slot_name(0)
                        } else {
                            format!("dash-uap-{}", self.foreign_other.len())
                        }),
                    ),
                    Other::SelfServiceProfile => (
                        "self-service-profiles",
                        json!({"name": if *taken { ssp_slot_name(0) } else { format!("dash-ssp-{}", self.foreign_other.len()) }}),
                    ),
                };
                let (status, made) = self.admin_try("POST", path, Some(body)).await;
                match made["id"].as_str().filter(|_| status < 300) {
                    Some(id) => {
                        self.foreign_other.insert(id.to_string(), made.clone());
                        format!("made {id}")
                    }
                    None => format!("refused {status}"),
                }
            }
            Step::DashboardUapDelete { slot } => {
                let api: Api<auth0_operator::crd::UserAttributeProfile> =
                    Api::namespaced(h.ns.client.clone(), h.ns.name());
                let id = api
                    .get_opt(&uap_slot_name(*slot))
                    .await
                    .expect("get")
                    .and_then(|u| u.status?.id);
                let Some(id) = id else {
                    return "no such profile".into();
                };
                let (status, _) = self
                    .admin_try("DELETE", &format!("user-attribute-profiles/{id}"), None)
                    .await;
                if status < 300 {
                    self.dashboard_uap_deletes += 1;
                }
                format!("{id}: {status}")
            }
        }
    }

    async fn apply_spec(&mut self, slot: usize, spec: &Spec) -> String {
        let name = slot_name(slot);
        let before = self.h.profiles().get_opt(&name).await.expect("get");
        let existed = before.is_some();
        let deleting = before.is_some_and(|p| p.metadata.deletion_timestamp.is_some());
        if !existed {
            // A new resource: its externalID is resolved afresh.
            self.external_ids.remove(&slot);
        }
        let external = spec.external.map(|e| self.resolve(slot, e));
        let body = spec.json(external.clone());
        let url = format!(
            "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/connectionprofiles/{name}?fieldManager=test&force=true",
            self.h.ns.name()
        );
        let mut object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                                "metadata": {"name": name}, "spec": body});
        object["spec"]["tenantRef"] = json!({"kind": "Auth0Tenant", "name": "t"});
        let request = http::Request::patch(url)
            .header("content-type", "application/apply-patch+yaml")
            .body(serde_json::to_vec(&object).expect("json"))
            .expect("request");
        match self.h.ns.client.request::<Value>(request).await {
            Ok(_) => {
                if !existed {
                    self.names.insert(slot, BTreeSet::new());
                    self.keeps.insert(slot, false);
                }
                let effective = spec.name.map_or(name.clone(), |n| NAMES[n].to_string());
                self.names.entry(slot).or_default().insert(effective.to_lowercase());
                if spec.orphan || spec.observe {
                    self.keeps.insert(slot, true);
                }
                if deleting {
                    // A deletion waiting (paused, or for the tenant) that Orphan or Observe
                    // now lets go, leaving what the resource recorded in Auth0.
                    self.release_names(slot);
                }
                if let Some(id) = external {
                    self.adopted.insert(id);
                }
                "applied".into()
            }
            Err(kube::Error::Api(e)) => format!("refused by the API server: {}", e.message),
            Err(e) => panic!("applying {name}: {e}"),
        }
    }

    /// When a slot's resource goes (or may go) under a keeping policy, the names it had may
    /// stay in Auth0 with no owner.
    fn release_names(&mut self, slot: usize) {
        if self.keeps.get(&slot).copied().unwrap_or(false) {
            let names = self.names.get(&slot).cloned().unwrap_or_default();
            self.released.extend(names);
        }
    }

    /// The replica holding the Lease, if one of ours does.
    pub async fn leader(&self) -> Option<usize> {
        let leases: Api<Lease> = Api::namespaced(self.h.ns.client.clone(), self.h.ns.name());
        let holder = leases.get_opt(LEASE).await.ok()??.spec?.holder_identity?;
        IDENTITIES.iter().position(|i| *i == holder)
    }

    /// The admin API, answering (status, body) instead of panicking on a refusal.
    pub async fn admin_try(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/tenants/{}/{path}", self.h.emulator.admin_url(), self.h.domain);
        let method = method.to_string();
        tokio::task::spawn_blocking(move || crate::common::admin_call_try(&method, &url, body))
            .await
            .expect("admin call")
    }

    /// Faults off, limit off, normalization off, the tenant and its Secret as they should be.
    pub async fn stop_faults(&mut self) {
        self.faults.clear();
        self.set_faults();
        self.h.admin("DELETE", "rate-limit", None).await;
        self.h.admin("PATCH", "settings", Some(json!({"normalize": []}))).await;
        self.apply_tenant(self.tenant()).await;
        self.h.write_secret("operator-client", &secret(self.rotations)).await;
    }
}

fn outcome(result: Result<(), String>) -> String {
    match result {
        Ok(()) => "done".into(),
        Err(e) => e,
    }
}
