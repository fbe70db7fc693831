//! The steps of a walk, as data, and the seeded generator that draws them.
//!
//! A walk is generated whole, before the first step runs, from its seed alone: the
//! generator keeps a rough model of what it has done (which resources exist, their specs,
//! whether the tenant or its Secret is broken) only to draw plausible next steps, never
//! anything read back from the cluster or Auth0. So `AUTH0_WALK_SEED=<n>
//! AUTH0_WALK_STEPS=<k>` draws exactly the same `k` steps again.

use serde_json::{Value, json};

/// How many ConnectionProfile names (`w-0` …) a walk uses.
pub const SLOTS: usize = 6;

/// Auth0 names the resources (and the dashboard) draw from. `wanted` is also a foreign
/// profile's name; `Mixed-Case` changes under the lower-casing normalization.
pub const NAMES: [&str; 6] = ["alpha", "bravo", "charlie", "wanted", "Mixed-Case", "echo"];

pub fn slot_name(slot: usize) -> String {
    format!("w-{slot}")
}

/// How many UserAttributeProfile names (`wu-0` …) and SelfServiceProfile names (`ws-0` …)
/// a walk uses.
pub const UAP_SLOTS: usize = 3;
pub const SSP_SLOTS: usize = 3;

pub fn uap_slot_name(slot: usize) -> String {
    format!("wu-{slot}")
}

pub fn ssp_slot_name(slot: usize) -> String {
    format!("ws-{slot}")
}

/// The second Auth0Tenant of the walk (`t2`: the same Auth0 tenant as `t`, another tenantRef
/// as far as the resources can tell), where some user attribute profiles are made: a
/// self-service profile on `t` that names one is refused (`InvalidReference`).
pub const OTHER_TENANT: &str = "t2";

/// Which of the two other kinds a dashboard step makes an item of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    UserAttributeProfile,
    SelfServiceProfile,
}

/// A profile one of the walk's dashboard steps made: the `n`th successful dashboard create,
/// or one seeded before the walk (`Foreign`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Dashboard(usize),
    Foreign(usize),
}

/// What a ConnectionProfile's `spec.externalID` names, resolved to an id when applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum External {
    Made(Made),
    /// A well-formed id no profile has.
    Nowhere,
}

/// A ConnectionProfile's spec, as the walk writes it (tenantRef is always `Auth0Tenant/t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// `spec.name`, an index into `NAMES`; `None` means metadata.name.
    pub name: Option<usize>,
    pub prefix: Option<String>,
    pub features: Vec<&'static str>,
    pub button: &'static str,
    pub orphan: bool,
    pub observe: bool,
    pub external: Option<External>,
}

impl Spec {
    /// The spec as JSON, with `externalID` already resolved by the caller.
    pub fn json(&self, external_id: Option<String>) -> Value {
        let mut spec = json!({
            "enabledFeatures": self.features,
            "organization": {"showAsButton": self.button, "assignMembershipOnLogin": "none"},
            "deletionPolicy": if self.orphan { "Orphan" } else { "Delete" },
            "managementPolicy": if self.observe { "Observe" } else { "Manage" },
        });
        if let Some(name) = self.name {
            spec["name"] = json!(NAMES[name]);
        }
        if let Some(prefix) = &self.prefix {
            spec["connectionNamePrefixTemplate"] = json!(prefix);
        }
        if let Some(id) = external_id {
            spec["externalID"] = json!(id);
        }
        spec
    }
}

/// Which profile a dashboard edit or delete hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Made(Made),
    /// The profile the resource in this slot records in `status.id` (when it has one).
    OwnedBy(usize),
}

/// An Auth0 fault switched on (they add up until `FaultsOff`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// This share of requests answered 500, 502 or 503.
    ServerErrors(f64),
    /// This share of writes applied, then the connection dropped.
    DropAfterWrite(f64),
    /// Every answer this much later (plus up to as much jitter).
    Latency(u64),
    /// Auth0's rate limit cut to a trickle: a 429 storm until `FaultsOff`.
    RateLimitStorm,
}

/// One step of the walk.
#[derive(Debug, Clone)]
pub enum Step {
    /// Server-side apply of the whole spec (a new resource, or any field edited, a rename,
    /// externalID set or cleared: `what` says which).
    Apply {
        slot: usize,
        what: &'static str,
        spec: Spec,
    },
    Delete {
        slot: usize,
    },
    Pause {
        slot: usize,
    },
    Unpause {
        slot: usize,
    },
    ForceOrphan {
        slot: usize,
    },
    /// An annotation with an odd value.
    Annotate {
        slot: usize,
        key: &'static str,
        value: String,
    },
    /// The Auth0Tenant's rate limit changed (harmless).
    TenantEdit {
        per_second: u32,
    },
    /// The Auth0Tenant pointed at a port where nothing listens (allowed), or at a host not
    /// allowed.
    TenantRepoint {
        allowed: bool,
    },
    /// The Auth0Tenant names a Secret that does not exist.
    TenantBreak,
    /// The Auth0Tenant as it should be (also re-creates a deleted one).
    TenantFix,
    TenantDelete,
    /// The client secret rotated in Auth0, then in the Secret.
    SecretRotate,
    /// The Secret holds a wrong client secret.
    SecretBreak,
    /// The Secret holds the current client secret again.
    SecretFix,
    SecretDelete,
    FaultOn(Fault),
    FaultsOff,
    /// The tenant lower-cases `name` and `connection_name_prefix_template` (or stops).
    Normalize(bool),
    /// The tenant lets a second profile of a taken name through (or refuses it).
    DuplicateNames(bool),
    /// A profile made in the dashboard, named from `NAMES` (a name resources want).
    DashboardCreate {
        name: usize,
    },
    DashboardEdit {
        target: Target,
        prefix: String,
    },
    DashboardDelete {
        target: Target,
    },
    /// SIGKILL one replica (0 or 1), restarted at once.
    Kill {
        replica: usize,
    },
    /// SIGTERM the leader (it releases the Lease); the standby takes over; restarted.
    Failover,
    /// The Lease written as a replica whose clock runs `seconds` ahead would leave it
    /// when it dies: held by a replica that is gone, renewed in the future.
    ClockSkew {
        seconds: u64,
    },
    /// Time passes.
    Wait {
        millis: u64,
    },
    /// A UserAttributeProfile `wu-{slot}` applied: created (on `t`, or on `t2` when
    /// `other_tenant`), or its attributes edited (`round` changes a label).
    UapApply {
        slot: usize,
        round: usize,
        other_tenant: bool,
    },
    /// A UserAttributeProfile deleted (`in_use`: a SelfServiceProfile the generator drew
    /// names it, so the deletion must wait, `InUse`).
    UapDelete {
        slot: usize,
        in_use: bool,
    },
    /// A SelfServiceProfile `ws-{slot}` applied naming `wu-{uses}` (which may not exist yet,
    /// or be on `t2`): created, edited, or re-pointed (`what` says which).
    SspApply {
        slot: usize,
        uses: usize,
        round: usize,
        what: &'static str,
    },
    SspDelete {
        slot: usize,
    },
    /// An item of another kind made in the dashboard: named like slot 0's resource
    /// (`taken`), or a name no resource has.
    DashboardOtherCreate {
        kind: Other,
        taken: bool,
    },
    /// The Auth0 item of `wu-{slot}` deleted in the dashboard (Auth0 refuses while a
    /// self-service profile uses it); the operator makes it again, under a new id.
    DashboardUapDelete {
        slot: usize,
    },
}

/// The generator's model: only what it drew, never what happened.
#[derive(Default)]
struct Model {
    live: Vec<Option<Spec>>,
    paused: Vec<bool>,
    tenant_ok: bool,
    secret_ok: bool,
    faults: usize,
    dashboard: usize,
    /// Live user attribute profiles: whether each is on `t2`.
    uaps: Vec<Option<bool>>,
    /// Live self-service profiles: the user attribute profile slot each names.
    ssps: Vec<Option<usize>>,
    /// Self-service profiles made in the dashboard (kept well under the tenant's 20).
    dashboard_ssps: usize,
}

/// Odd annotation values: known-good, unparsable, extreme. The poll-interval overflow and
/// the near-cap value are known bugs being fixed on main (kept here so the walk covers them).
pub const ODD: [(&str, &str); 12] = [
    ("auth0.operators.dev/poll-interval", "18446744073709551615s"),
    ("auth0.operators.dev/poll-interval", "0s"),
    ("auth0.operators.dev/poll-interval", "5"),
    ("auth0.operators.dev/poll-interval", "1ms"),
    ("auth0.operators.dev/poll-interval", "3s"),
    ("auth0.operators.dev/poll-interval", "-1s"),
    ("auth0.operators.dev/poll-interval", "9999999h"),
    ("auth0.operators.dev/paused", "yes"),
    ("auth0.operators.dev/force-orphan", "false"),
    ("auth0.operators.dev/reconcile-requested-at", "now"),
    ("auth0.operators.dev/profile-id", "cop_000000000000000000nope"),
    ("auth0.operators.dev/walk-big", "BIG"),
];

/// About 250 KiB: the annotations' 256 KiB cap is near (a known bug: the operator's own
/// mark then fails with 422).
pub const BIG_ANNOTATION: usize = 250 * 1024;

pub fn generate(seed: u64, count: usize) -> Vec<Step> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut model = Model {
        live: vec![None; SLOTS],
        paused: vec![false; SLOTS],
        tenant_ok: true,
        secret_ok: true,
        uaps: vec![None; UAP_SLOTS],
        ssps: vec![None; SSP_SLOTS],
        ..Model::default()
    };
    let mut steps = Vec::with_capacity(count);
    // A walk begins with a few resources, so that most steps have something to act on:
    // connection profiles, and a self-service profile with the user attribute profile it
    // names.
    for slot in 0..4.min(count) {
        let spec = fresh_spec(&mut rng, &model);
        model.live[slot] = Some(spec.clone());
        steps.push(Step::Apply {
            slot,
            what: "create",
            spec,
        });
    }
    if count > 6 {
        model.uaps[0] = Some(false);
        model.ssps[0] = Some(0);
        steps.push(Step::UapApply {
            slot: 0,
            round: 0,
            other_tenant: false,
        });
        steps.push(Step::SspApply {
            slot: 0,
            uses: 0,
            round: 0,
            what: "create",
        });
    }
    while steps.len() < count {
        let step = draw(&mut rng, &mut model);
        steps.push(step);
    }
    steps
}

fn fresh_spec(rng: &mut fastrand::Rng, model: &Model) -> Spec {
    Spec {
        name: rng.bool().then(|| rng.usize(..NAMES.len())),
        prefix: rng.bool().then(|| prefix(rng)),
        features: features(rng),
        button: button(rng),
        orphan: rng.u8(..5) == 0,
        observe: rng.u8(..15) == 0,
        external: (rng.u8(..8) == 0).then(|| external(rng, model)),
    }
}

fn prefix(rng: &mut fastrand::Rng) -> String {
    ["p-{org_id}-", "Ab-{org_name}", "x", "Acme-", "r{org_id}"][rng.usize(..5)].to_string()
}

fn features(rng: &mut fastrand::Rng) -> Vec<&'static str> {
    [
        vec![],
        vec!["scim"],
        vec!["universal_logout"],
        vec!["scim", "universal_logout"],
    ][rng.usize(..4)]
    .clone()
}

fn button(rng: &mut fastrand::Rng) -> &'static str {
    ["none", "optional", "required"][rng.usize(..3)]
}

fn external(rng: &mut fastrand::Rng, model: &Model) -> External {
    match rng.u8(..4) {
        0 => External::Nowhere,
        1 => External::Made(Made::Foreign(rng.usize(..2))),
        _ if model.dashboard > 0 => External::Made(Made::Dashboard(rng.usize(..model.dashboard))),
        _ => External::Nowhere,
    }
}

fn made(rng: &mut fastrand::Rng, model: &Model) -> Made {
    if model.dashboard > 0 && rng.u8(..3) != 0 {
        Made::Dashboard(rng.usize(..model.dashboard))
    } else {
        Made::Foreign(rng.usize(..2))
    }
}

/// A step of the two other kinds.
fn draw_other(rng: &mut fastrand::Rng, model: &mut Model) -> Step {
    let live_uaps: Vec<usize> = (0..UAP_SLOTS).filter(|s| model.uaps[*s].is_some()).collect();
    let used: Vec<usize> = model
        .ssps
        .iter()
        .flatten()
        .copied()
        .filter(|u| model.uaps[*u].is_some())
        .collect();
    loop {
        return match rng.u32(..100) {
            0..=21 => {
                let slot = rng.usize(..UAP_SLOTS);
                // The tenant is chosen at creation (the API server refuses a change later).
                let other_tenant = model.uaps[slot].unwrap_or_else(|| rng.u8(..5) == 0);
                model.uaps[slot] = Some(other_tenant);
                Step::UapApply {
                    slot,
                    round: rng.usize(..3),
                    other_tenant,
                }
            }
            22..=35 => {
                // Half of them a profile in use.
                let slot = if !used.is_empty() && rng.bool() {
                    used[rng.usize(..used.len())]
                } else if !live_uaps.is_empty() {
                    live_uaps[rng.usize(..live_uaps.len())]
                } else {
                    continue;
                };
                model.uaps[slot] = None;
                Step::UapDelete {
                    slot,
                    in_use: used.contains(&slot),
                }
            }
            36..=67 => {
                let slot = rng.usize(..SSP_SLOTS);
                // Mostly a user attribute profile that exists, sometimes any (one not made
                // yet, or gone).
                let uses = if !live_uaps.is_empty() && rng.u8(..4) != 0 {
                    live_uaps[rng.usize(..live_uaps.len())]
                } else {
                    rng.usize(..UAP_SLOTS)
                };
                let what = match model.ssps[slot] {
                    None => "create",
                    Some(before) if before != uses => "re-point",
                    Some(_) => "edit",
                };
                model.ssps[slot] = Some(uses);
                Step::SspApply {
                    slot,
                    uses,
                    round: rng.usize(..3),
                    what,
                }
            }
            68..=79 => {
                let live: Vec<usize> = (0..SSP_SLOTS).filter(|s| model.ssps[*s].is_some()).collect();
                if live.is_empty() {
                    continue;
                }
                let slot = live[rng.usize(..live.len())];
                model.ssps[slot] = None;
                Step::SspDelete { slot }
            }
            80..=89 => {
                let kind = if rng.bool() {
                    Other::UserAttributeProfile
                } else {
                    if model.dashboard_ssps >= 8 {
                        continue;
                    }
                    model.dashboard_ssps += 1;
                    Other::SelfServiceProfile
                };
                Step::DashboardOtherCreate {
                    kind,
                    taken: rng.u8(..3) == 0,
                }
            }
            _ => {
                if live_uaps.is_empty() {
                    continue;
                }
                Step::DashboardUapDelete {
                    slot: live_uaps[rng.usize(..live_uaps.len())],
                }
            }
        };
    }
}

fn draw(rng: &mut fastrand::Rng, model: &mut Model) -> Step {
    // A fifth of the steps act on the two other kinds.
    if rng.u8(..5) == 0 {
        return draw_other(rng, model);
    }
    // Mostly a resource the model holds, sometimes any name (a new resource, or a step on
    // one that is gone).
    let live: Vec<usize> = (0..SLOTS).filter(|s| model.live[*s].is_some()).collect();
    let slot = if !live.is_empty() && rng.u8(..5) != 0 {
        live[rng.usize(..live.len())]
    } else {
        rng.usize(..SLOTS)
    };
    loop {
        let roll = rng.u32(..100);
        let step = match roll {
            // Resources: about half the steps.
            0..=11 => {
                // Half of them a new resource, when there is room.
                let free: Vec<usize> = (0..SLOTS).filter(|s| model.live[*s].is_none()).collect();
                let slot = if !free.is_empty() && rng.bool() {
                    free[rng.usize(..free.len())]
                } else {
                    slot
                };
                let spec = match &model.live[slot] {
                    // Re-applying an existing resource keeps its externalID: the API server
                    // refuses a change (clearing it is its own step).
                    Some(old) => Spec {
                        external: old.external,
                        ..fresh_spec(rng, model)
                    },
                    None => fresh_spec(rng, model),
                };
                model.live[slot] = Some(spec.clone());
                Step::Apply {
                    slot,
                    what: "apply",
                    spec,
                }
            }
            12..=27 => {
                let Some(old) = model.live[slot].clone() else { continue };
                let mut spec = old.clone();
                let what = match rng.u8(..7) {
                    0 => {
                        spec.name = (rng.u8(..4) != 0).then(|| rng.usize(..NAMES.len()));
                        "rename"
                    }
                    1 => {
                        spec.prefix = if spec.prefix.is_some() && rng.bool() {
                            None
                        } else {
                            Some(prefix(rng))
                        };
                        "edit prefix"
                    }
                    2 => {
                        spec.features = features(rng);
                        "edit enabledFeatures"
                    }
                    3 => {
                        spec.button = button(rng);
                        "edit organization"
                    }
                    4 => {
                        spec.orphan = !spec.orphan;
                        "edit deletionPolicy"
                    }
                    5 => {
                        spec.observe = !spec.observe;
                        "edit managementPolicy"
                    }
                    _ => {
                        if spec.external.is_some() {
                            spec.external = None;
                            "clear externalID (the API server refuses)"
                        } else {
                            spec.external = Some(external(rng, model));
                            "set externalID"
                        }
                    }
                };
                if old.external.is_some() && spec.external.is_none() {
                    // Refused: the model keeps it.
                } else {
                    model.live[slot] = Some(spec.clone());
                }
                Step::Apply { slot, what, spec }
            }
            28..=34 => {
                if model.live[slot].is_none() {
                    continue;
                }
                if !model.paused[slot] {
                    model.live[slot] = None;
                }
                Step::Delete { slot }
            }
            35..=38 => {
                model.paused[slot] = true;
                Step::Pause { slot }
            }
            39..=42 => {
                if !model.paused[slot] {
                    continue;
                }
                model.paused[slot] = false;
                Step::Unpause { slot }
            }
            43..=44 => Step::ForceOrphan { slot },
            45..=47 => {
                let (key, value) = ODD[rng.usize(..ODD.len())];
                Step::Annotate {
                    slot,
                    key,
                    value: value.to_string(),
                }
            }
            // The tenant and its Secret.
            48..=49 => Step::TenantEdit {
                per_second: rng.u32(20..200),
            },
            50..=51 => {
                model.tenant_ok = false;
                if rng.bool() {
                    Step::TenantRepoint { allowed: rng.bool() }
                } else {
                    Step::TenantBreak
                }
            }
            52..=54 => {
                if model.tenant_ok && rng.bool() {
                    continue;
                }
                model.tenant_ok = true;
                Step::TenantFix
            }
            55 => {
                model.tenant_ok = false;
                Step::TenantDelete
            }
            56..=57 => {
                model.secret_ok = true;
                Step::SecretRotate
            }
            58..=59 => {
                model.secret_ok = false;
                if rng.u8(..3) == 0 {
                    Step::SecretDelete
                } else {
                    Step::SecretBreak
                }
            }
            60..=61 => {
                if model.secret_ok && rng.bool() {
                    continue;
                }
                model.secret_ok = true;
                Step::SecretFix
            }
            // Auth0.
            62..=67 => {
                if model.faults >= 3 {
                    model.faults = 0;
                    Step::FaultsOff
                } else {
                    model.faults += 1;
                    Step::FaultOn(match rng.u8(..4) {
                        0 => Fault::ServerErrors([0.1, 0.3, 0.6][rng.usize(..3)]),
                        1 => Fault::DropAfterWrite([0.2, 0.5, 1.0][rng.usize(..3)]),
                        2 => Fault::Latency(rng.u64(20..400)),
                        _ => Fault::RateLimitStorm,
                    })
                }
            }
            68..=69 => {
                model.faults = 0;
                Step::FaultsOff
            }
            70..=71 => Step::Normalize(rng.bool()),
            72..=73 => Step::DuplicateNames(rng.bool()),
            // The dashboard.
            74..=77 => {
                model.dashboard += 1;
                Step::DashboardCreate {
                    name: rng.usize(..NAMES.len()),
                }
            }
            78..=80 => Step::DashboardEdit {
                target: if rng.bool() {
                    Target::OwnedBy(slot)
                } else {
                    Target::Made(made(rng, model))
                },
                prefix: prefix(rng),
            },
            81..=83 => Step::DashboardDelete {
                target: if rng.u8(..3) != 0 {
                    Target::OwnedBy(slot)
                } else {
                    Target::Made(made(rng, model))
                },
            },
            // The operator.
            84..=86 => Step::Kill {
                replica: rng.usize(..2),
            },
            87 => Step::Failover,
            88 => Step::ClockSkew {
                seconds: rng.u64(3..12),
            },
            _ => Step::Wait {
                millis: rng.u64(200..3000),
            },
        };
        return step;
    }
}

#[test]
fn a_seed_draws_the_same_walk() {
    let a = format!("{:?}", generate(7, 80));
    let b = format!("{:?}", generate(7, 80));
    assert_eq!(a, b);
    assert_ne!(a, format!("{:?}", generate(8, 80)));
    // A prefix of a walk is the shorter walk: AUTH0_WALK_STEPS=k replays the first k steps.
    assert!(a.starts_with(format!("{:?}", generate(7, 40)).trim_end_matches(']')));
}

#[test]
fn every_kind_of_step_is_drawn() {
    let steps = generate(1, 4000);
    let kinds: std::collections::BTreeSet<String> = steps
        .iter()
        .map(|s| {
            format!("{s:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for kind in [
        "Apply",
        "Delete",
        "Pause",
        "Unpause",
        "ForceOrphan",
        "Annotate",
        "TenantEdit",
        "TenantRepoint",
        "TenantBreak",
        "TenantFix",
        "TenantDelete",
        "SecretRotate",
        "SecretBreak",
        "SecretFix",
        "SecretDelete",
        "FaultOn",
        "FaultsOff",
        "Normalize",
        "DuplicateNames",
        "DashboardCreate",
        "DashboardEdit",
        "DashboardDelete",
        "Kill",
        "Failover",
        "ClockSkew",
        "Wait",
        "UapApply",
        "UapDelete",
        "SspApply",
        "SspDelete",
        "DashboardOtherCreate",
        "DashboardUapDelete",
    ] {
        assert!(kinds.contains(kind), "{kind} never drawn: {kinds:?}");
    }
    // The other kinds' steps reach what they are for: a profile deleted while in use, a
    // self-service profile re-pointed, and one naming a profile on the other tenant.
    let text = format!("{steps:?}");
    for wanted in ["in_use: true", "what: \"re-point\"", "other_tenant: true"] {
        assert!(text.contains(wanted), "{wanted} never drawn");
    }
}
