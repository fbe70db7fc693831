//! Property-based fuzzing of request validation: arbitrary JSON, bytes and query strings
//! never panic, and what is accepted round-trips. More cases: `PROPTEST_CASES=100000`; or
//! `FUZZ_SECONDS=600` (what `make fuzz` sets): each test runs fresh random batches until that
//! many seconds have passed and prints how many cases it ran.

mod common;

use auth0_emulator::api::{list_query, parse_json};
use auth0_emulator::config::Config;
use auth0_emulator::profile::Profile;
use auth0_emulator::state::Shared;
use auth0_emulator::token::Signer;
use auth0_emulator::validate::{Mode, WRITABLE_FIELDS, validate_body};
use std::fmt::Debug;
use std::time::Instant;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, TestCaseResult, TestRunner};
use serde_json::{Map, Value, json};

#[path = "common/fuzz_runner.rs"]
mod fuzz_runner;
use fuzz_runner::budget;

fn fuzz<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: Debug,
{
    fuzz_runner::fuzz(file!(), name, strategy, test)
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(&[
            "name", "organization", "show_as_button", "assign_membership_on_login",
            "connection_name_prefix_template", "enabled_features", "connection_config",
            "strategy_overrides", "okta", "google-apps", "samlp", "provisioning", "scim", "tokens",
            "scopes", "default_expiry", "max_allowed_expiry", "cross_app_access_resource_app",
            "status", "default_value", "allowed_values", "id", "google_workspace", "sync_users",
        ][..]).prop_map(str::to_string),
        1 => "[a-z_-]{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        proptest::sample::select(
            &[
                "none",
                "optional",
                "required",
                "scim",
                "universal_logout",
                "directory_sync",
                "enabled",
                "disabled",
                "get:users",
                "put:users",
                "con-{org_id}-",
                "{org_name}",
                "a--b",
                "-x",
                "",
            ][..]
        )
        .prop_map(|s| json!(s)),
        ".{0,60}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn shared() -> Shared {
    Shared::new(Config::default(), Signer::random(), Vec::new())
}

#[test]
fn validation_never_panics_and_accepted_bodies_round_trip() {
    fuzz("validation: accepted bodies round-trip", json_value(), |body| {
        for mode in [Mode::Create, Mode::Update] {
            if let Ok(changes) = validate_body(&body, mode)
                && mode == Mode::Create
            {
                let name = changes.name.clone().expect("create requires a name");
                let profile = Profile::create("cop_1cu7Zs1Dfru5Qc9mZea7nm".into(), name, changes);
                // What the API returns, minus `id`, is itself a valid body that changes nothing.
                let mut echoed = serde_json::to_value(&profile).expect("serialises");
                echoed.as_object_mut().expect("object").remove("id");
                let again = validate_body(&echoed, Mode::Update).expect("echo is valid");
                let mut copy = profile.clone();
                copy.apply(again);
                prop_assert_eq!(copy, profile);
            }
        }
        Ok(())
    });
}

#[test]
fn an_unknown_top_level_key_is_always_refused_by_name() {
    let strategy = ("[a-zA-Z0-9 ]{1,50}", "[a-z]{1,10}_x", json_value());
    fuzz("unknown top-level key refused", strategy, |(name, extra, value)| {
        prop_assume!(!WRITABLE_FIELDS.contains(&extra.as_str()));
        let body = json!({"name": name, extra.clone(): value});
        let error = validate_body(&body, Mode::Create).expect_err("unknown key refused");
        prop_assert!(error.message("Payload").contains(&extra));
        Ok(())
    });
}

#[test]
fn arbitrary_bytes_never_panic() {
    fuzz(
        "arbitrary bytes",
        proptest::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            if let Ok(value) = parse_json(&bytes) {
                let _ = validate_body(&value, Mode::Create);
                let _ = validate_body(&value, Mode::Update);
            }
            Ok(())
        },
    );
}

#[test]
fn arbitrary_list_queries_never_panic() {
    let shared = shared();
    fuzz("arbitrary list queries", (".{0,80}", any::<i64>()), |(query, take)| {
        let tenant = &shared.tenants[0];
        let _ = list_query(&shared, tenant, Some(&query), 0);
        let parsed = list_query(&shared, tenant, Some(&format!("take={take}")), 0);
        prop_assert_eq!(parsed.is_ok(), (1..=50).contains(&take));
        if let Ok((size, _)) = parsed {
            prop_assert!(size <= 10);
        }
        Ok(())
    });
}

/// Random bodies over HTTP: always an Auth0-shaped 4xx, never a broken connection.
#[tokio::test]
async fn random_bodies_over_http_get_auth0_shaped_errors() {
    let (emulator, client) = common::start_one().await;
    // Deterministic under `cargo test`; fresh seeds until the deadline with FUZZ_SECONDS.
    let budget = budget();
    let mut runner = match budget {
        None => TestRunner::deterministic(),
        Some(_) => TestRunner::new(RunnerConfig::default()),
    };
    let strategy = prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..256),
        // Bodies that create (Unicode names, some taken: 409) and rename.
        "\\PC{1,50}".prop_map(|name| json!({"name": name}).to_string().into_bytes()),
    ];
    let start = Instant::now();
    let mut created = 0;
    let mut bodies = 0u64;
    while match budget {
        None => bodies < 300,
        Some(budget) => start.elapsed() < budget,
    } {
        bodies += 1;
        let body = strategy.new_tree(&mut runner).expect("value").current();
        for (method, path) in [("POST", ""), ("PATCH", "/cop_1cu7Zs1Dfru5Qc9mZea7nm")] {
            let reply = client
                .raw(method, path, body.clone())
                .await
                .expect("an answer, not a dropped connection");
            assert!(
                matches!(reply.status, 201 | 400 | 404 | 409),
                "{method} {}: {:?}",
                reply.status,
                reply.body
            );
            if reply.status == 201 {
                created += 1;
            } else {
                assert_eq!(reply.body["statusCode"], reply.status, "{:?}", reply.body);
            }
        }
    }
    assert_eq!(
        emulator.profiles(common::DOMAIN).map(|p| p.len()),
        Some(created),
        "every 201 stored one profile"
    );
    eprintln!(
        "fuzz random bodies over HTTP: {bodies} bodies ({} requests, {created} created) in {:.1} s",
        bodies * 2,
        start.elapsed().as_secs_f64()
    );
}

/// A change made by someone else between two pages of a listing.
#[derive(Debug, Clone)]
enum Interleaved {
    Create(String),
    DeleteNth(usize),
}

fn interleaved() -> impl Strategy<Value = Interleaved> {
    prop_oneof![
        "[0-9A-Za-z]{22}".prop_map(Interleaved::Create),
        any::<usize>().prop_map(Interleaved::DeleteNth),
    ]
}

fn stub(id: String) -> Profile {
    let changes = validate_body(&json!({"name": id}), Mode::Create).expect("valid");
    Profile::create(id.clone(), id, changes)
}

#[test]
fn paging_never_skips_or_repeats_a_profile_that_stays() {
    let strategy = (
        proptest::collection::btree_set("[0-9A-Za-z]{22}", 0..60),
        1usize..=10,
        proptest::collection::vec(proptest::collection::vec(interleaved(), 0..4), 0..30),
    );
    fuzz(
        "paging under interleaved changes",
        strategy,
        |(initial, take, changes)| {
            use std::collections::{BTreeMap, BTreeSet};
            let mut profiles: BTreeMap<String, Profile> = initial
                .iter()
                .map(|id| (format!("cop_{id}"), stub(format!("cop_{id}"))))
                .collect();
            let mut deleted = BTreeSet::new();
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            let mut changes = changes.into_iter();
            for _ in 0..1000 {
                let (page, full) = auth0_emulator::api::page(&profiles, after.as_deref(), take);
                prop_assert!(page.len() <= take);
                prop_assert_eq!(full, page.len() == take);
                seen.extend(page.iter().map(|p| p.id.clone()));
                if !full {
                    break;
                }
                after = page.last().map(|p| p.id.clone());
                for change in changes.next().unwrap_or_default() {
                    match change {
                        Interleaved::Create(id) => {
                            profiles
                                .entry(format!("cop_{id}"))
                                .or_insert_with(|| stub(format!("cop_{id}")));
                        }
                        Interleaved::DeleteNth(n) if !profiles.is_empty() => {
                            let victim = profiles.keys().nth(n % profiles.len()).cloned().unwrap_or_default();
                            profiles.remove(&victim);
                            deleted.insert(victim);
                        }
                        Interleaved::DeleteNth(_) => {}
                    }
                }
            }
            let unique: BTreeSet<&String> = seen.iter().collect();
            prop_assert_eq!(unique.len(), seen.len(), "a profile was repeated");
            for id in initial.iter().map(|id| format!("cop_{id}")) {
                if !deleted.contains(&id) {
                    prop_assert!(unique.contains(&id), "{} stayed but was skipped", id);
                }
            }
            Ok(())
        },
    );
}
