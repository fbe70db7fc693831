//! Property-based fuzzing of the operator's pure code: `crd::validation` and
//! `controller::desired`, fed arbitrary ConnectionProfiles (valid and invalid, Unicode, every
//! field at and past its limits, megabyte strings) and checked against the Auth0 emulator's own
//! request validation and profile model; and every kind (UserAttributeProfile and
//! SelfServiceProfile too) fed valid objects with one value anywhere replaced by arbitrary
//! JSON, through decoding, validation and each pure method of its `Kind`.
//!
//! Under `cargo test` each property runs PROPTEST_CASES cases (256 by default). With
//! FUZZ_SECONDS set (`make fuzz` sets 600), each property runs fresh random batches until that
//! many seconds have passed, and prints how many cases it ran.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth0_emulator::profile::Profile;
use auth0_emulator::validate::{Mode, validate_body};
use auth0_operator::controller::desired::{at_provider, desired, diff, from_wire, normalize, to_wire};
use auth0_operator::crd::validation::{self, Invalid};
use auth0_operator::crd::{ConnectionProfile, ConnectionProfileSpec};
use proptest::prelude::*;
use proptest::strategy::LazyJust;
use proptest::test_runner::TestCaseResult;
use serde_json::{Map, Value, json};

// The runner (shared with the emulator's fuzz suite): a fixed number of cases, or batches
// until FUZZ_SECONDS have passed.
#[path = "../emulator/tests/common/fuzz_runner.rs"]
mod fuzz_runner;

fn fuzz<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: Debug,
{
    fuzz_runner::fuzz(file!(), name, strategy, test)
}

// ---------------------------------------------------------------------------------------------
// Strategies: each field absent, null, valid, at its limit, one past it, of the wrong type,
// Unicode, or huge. With `noisy` off, only values the operator must accept (limits and
// Unicode included); with it on, about one field in ten is broken somehow.

type Gen = BoxedStrategy<Value>;

/// A megabyte string, the size of Auth0's whole request body limit.
fn huge() -> String {
    "x".repeat(1 << 20)
}

/// `good`, or when noisy, sometimes `bad`.
fn pick(noisy: bool, good: Gen, bad: Gen) -> Gen {
    if noisy {
        prop_oneof![9 => good, 1 => bad].boxed()
    } else {
        good
    }
}

fn name_value(noisy: bool) -> Gen {
    let good = prop_oneof![
        6 => "\\PC{1,50}".prop_map(Value::String),
        2 => "[A-Za-z0-9 -]{50}".prop_map(Value::String),
        2 => "[é日😀\u{301}\u{200d}]{50}".prop_map(Value::String),
        1 => "[a-z]{1,2}".prop_map(Value::String),
    ];
    let bad = prop_oneof![
        2 => "[A-Za-z0-9 -]{51}".prop_map(Value::String),
        2 => "[é日😀]{51,60}".prop_map(Value::String),
        1 => Just(json!("")),
        1 => LazyJust::new(|| json!(huge())),
        1 => any::<i64>().prop_map(|n| json!(n)),
    ];
    pick(noisy, good.boxed(), bad.boxed())
}

fn metadata_name(noisy: bool) -> BoxedStrategy<Option<Value>> {
    let good = prop_oneof![
        6 => "[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?".prop_map(|s| Some(json!(s))),
        2 => "[a-z]{50}".prop_map(|s| Some(json!(s))),
    ];
    if !noisy {
        return good.boxed();
    }
    prop_oneof![
        8 => good,
        1 => "[a-z]{51,253}".prop_map(|s| Some(json!(s))),
        1 => "\\PC{0,10}".prop_map(|s| Some(json!(s))),
        1 => Just(None),
    ]
    .boxed()
}

/// Prefix templates made of pieces: valid ones, or a mix of valid and invalid ones.
fn prefix_template(noisy: bool) -> Gen {
    let piece = proptest::sample::select(&["a", "Z", "9", "con", "-", "{org_id}", "{org_name}"][..]);
    let good = prop_oneof![
        4 => proptest::collection::vec(piece, 0..5)
            .prop_map(|p| p.concat())
            .prop_filter("valid", |t| t.len() <= 15 && !t.starts_with('-') && !t.contains("--"))
            .prop_map(Value::String),
        1 => Just(json!("{org_name}-abcd")),
        1 => Just(json!("abcdefghijklmno")),
        1 => Just(json!("")),
    ];
    let any_piece = proptest::sample::select(
        &[
            "a",
            "Z",
            "9",
            "con",
            "-",
            "{org_id}",
            "{org_name}",
            "_",
            "é",
            "{org",
            "}",
            " ",
            "{ORG_ID}",
            "日",
        ][..],
    );
    let bad = prop_oneof![
        4 => proptest::collection::vec(any_piece, 0..8).prop_map(|p| json!(p.concat())),
        2 => "[A-Za-z0-9-]{16}".prop_map(Value::String),
        1 => ".{0,20}".prop_map(Value::String),
        1 => LazyJust::new(|| json!(huge())),
        1 => any::<bool>().prop_map(Value::Bool),
    ];
    pick(noisy, good.boxed(), bad.boxed())
}

/// A set of values from `good` (shuffled, each at most once), or when noisy anything.
fn set_of(noisy: bool, good: &'static [&'static str]) -> Gen {
    let valid = proptest::sample::subsequence(good, 0..=good.len())
        .prop_shuffle()
        .prop_map(|items| json!(items));
    let item = prop_oneof![
        8 => proptest::sample::select(good).prop_map(|s| json!(s)),
        1 => "\\PC{0,12}".prop_map(Value::String),
        1 => Just(json!(7)),
    ];
    let bad = prop_oneof![
        4 => proptest::collection::vec(item, 0..8).prop_map(Value::Array),
        1 => Just(json!("scim")),
        1 => LazyJust::new(move || Value::Array(vec![json!(good[0]); 100_000])),
    ];
    pick(noisy, valid.boxed(), bad.boxed())
}

fn one_of(noisy: bool, good: &'static [&'static str]) -> Gen {
    let bad = prop_oneof![
        "\\PC{0,12}".prop_map(Value::String),
        Just(json!(1)),
        Just(json!(["none"]))
    ];
    pick(
        noisy,
        proptest::sample::select(good).prop_map(|s| json!(s)).boxed(),
        bad.boxed(),
    )
}

/// An object from optional fields; an occasional unknown key.
fn object(fields: Vec<(&'static str, Option<Value>)>, unknown: Option<Value>) -> Value {
    let mut map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
    if let Some(value) = unknown {
        map.insert("unknownField".into(), value);
    }
    Value::Object(map)
}

/// Absent, null (the same as absent) or present.
fn maybe(strategy: Gen) -> BoxedStrategy<Option<Value>> {
    prop_oneof![3 => Just(None), 1 => Just(Some(Value::Null)), 6 => strategy.prop_map(Some)].boxed()
}

/// Absent or present: for the fields that are not nullable in the schema (the API server drops
/// a null there and applies the default; see `nulls_where_the_api_server_defaults`).
fn absent_or(noisy: bool, strategy: Gen) -> BoxedStrategy<Option<Value>> {
    if noisy {
        maybe(strategy)
    } else {
        proptest::option::weighted(0.6, strategy).boxed()
    }
}

/// An unknown field, rarely and only when noisy.
fn unknown(noisy: bool) -> BoxedStrategy<Option<Value>> {
    if noisy {
        proptest::option::weighted(0.02, Just(json!("x"))).boxed()
    } else {
        Just(None).boxed()
    }
}

const FEATURES: &[&str] = &["scim", "universal_logout"];
const SCOPES: &[&str] = &["get:users", "post:users", "patch:users", "delete:users", "put:users"];
const STATES: &[&str] = &["enabled", "disabled"];
const SETTINGS: &[&str] = &["none", "optional", "required"];

fn expiry(noisy: bool) -> Gen {
    let good = prop_oneof![
        4 => (0i64..100_000).prop_map(|n| json!(n)),
        1 => Just(json!(0)),
        1 => Just(json!(i64::MAX)),
        1 => (0..=i64::MAX).prop_map(|n| json!(n)),
    ];
    let bad = prop_oneof![
        Just(json!(-1)),
        (i64::MIN..0).prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        Just(json!(1.5)),
        Just(json!("forever")),
    ];
    pick(noisy, good.boxed(), bad.boxed())
}

fn provisioning(noisy: bool) -> Gen {
    let scopes = if noisy {
        proptest::option::weighted(0.97, set_of(noisy, SCOPES)).boxed()
    } else {
        set_of(noisy, SCOPES).prop_map(Some).boxed()
    };
    (
        scopes,
        maybe(expiry(noisy)),
        maybe(expiry(noisy)),
        proptest::bool::weighted(0.9),
        unknown(noisy),
    )
        .prop_map(|(scopes, default_expiry, max_allowed_expiry, has_scim, unknown)| {
            let tokens = object(
                vec![
                    ("scopes", scopes),
                    ("defaultExpiry", default_expiry),
                    ("maxAllowedExpiry", max_allowed_expiry),
                ],
                None,
            );
            object(vec![("scim", has_scim.then(|| json!({"tokens": tokens})))], unknown)
        })
        .boxed()
}

fn connection_config(noisy: bool) -> Gen {
    pick(
        noisy,
        Just(json!({})).boxed(),
        Just(json!({"domain": "acme.com"})).boxed(),
    )
}

fn strategy_override(noisy: bool) -> Gen {
    (
        maybe(set_of(noisy, FEATURES)),
        maybe(connection_config(noisy)),
        maybe(provisioning(noisy)),
        unknown(noisy),
    )
        .prop_map(|(features, config, provisioning, unknown)| {
            object(
                vec![
                    ("enabledFeatures", features),
                    ("connectionConfig", config),
                    ("provisioning", provisioning),
                ],
                unknown,
            )
        })
        .boxed()
}

fn strategy_overrides(noisy: bool) -> Gen {
    let good = proptest::sample::select(
        &[
            "pingfederate",
            "ad",
            "adfs",
            "waad",
            "googleApps",
            "okta",
            "oidc",
            "samlp",
        ][..],
    );
    let strategy = if noisy {
        prop_oneof![30 => good, 1 => Just("google-apps"), 1 => Just("github")].boxed()
    } else {
        good.boxed()
    };
    let noisy_override = if noisy {
        prop_oneof![19 => strategy_override(false), 1 => strategy_override(true)].boxed()
    } else {
        strategy_override(false)
    };
    proptest::collection::btree_map(strategy, noisy_override, 0..9)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
        .boxed()
}

fn cross_app(noisy: bool) -> Gen {
    let allowed = pick(
        noisy,
        prop_oneof![
            Just(json!([])),
            Just(json!(["enabled", "disabled"])),
            Just(json!(["disabled", "enabled"]))
        ]
        .boxed(),
        set_of(true, STATES),
    );
    let default_value = if noisy {
        proptest::option::weighted(0.97, one_of(noisy, STATES)).boxed()
    } else {
        one_of(noisy, STATES).prop_map(Some).boxed()
    };
    (default_value, maybe(allowed))
        .prop_map(|(default_value, allowed_values)| {
            let status = object(
                vec![("defaultValue", default_value), ("allowedValues", allowed_values)],
                None,
            );
            json!({"status": status})
        })
        .boxed()
}

fn organization(noisy: bool) -> Gen {
    (
        maybe(one_of(noisy, SETTINGS)),
        maybe(one_of(noisy, SETTINGS)),
        unknown(noisy),
    )
        .prop_map(|(show, assign, unknown)| {
            object(
                vec![("showAsButton", show), ("assignMembershipOnLogin", assign)],
                unknown,
            )
        })
        .boxed()
}

fn tenant_ref(noisy: bool) -> Gen {
    let name = pick(
        noisy,
        prop_oneof![6 => "[a-z0-9-]{1,20}", 1 => "[a-z]{253}"]
            .prop_map(Value::String)
            .boxed(),
        prop_oneof![
            Just(json!("")),
            "[a-z]{254}".prop_map(Value::String).boxed(),
            LazyJust::new(|| json!(huge()))
        ]
        .boxed(),
    );
    (one_of(noisy, &["Auth0Tenant", "ClusterAuth0Tenant"]), name)
        .prop_map(|(kind, name)| json!({"kind": kind, "name": name}))
        .boxed()
}

fn external_id(noisy: bool) -> Gen {
    pick(
        noisy,
        "cop_[A-Za-z0-9]{22}".prop_map(Value::String).boxed(),
        prop_oneof![
            "cop_[A-Za-z0-9]{21}",
            "cop_[A-Za-z0-9]{23}",
            "con_[A-Za-z0-9]{22}",
            "\\PC{0,30}",
        ]
        .prop_map(Value::String)
        .boxed(),
    )
}

/// A whole ConnectionProfile as the API server (or a manifest) hands it over.
fn profile_value(noisy: bool) -> impl Strategy<Value = Value> {
    let fields_a = (
        maybe(name_value(noisy)),
        absent_or(noisy, tenant_ref(noisy)),
        absent_or(noisy, one_of(noisy, &["Delete", "Orphan"])),
        absent_or(noisy, one_of(noisy, &["Manage", "Observe"])),
        proptest::option::weighted(0.1, external_id(noisy)),
        maybe(organization(noisy)),
        maybe(prefix_template(noisy)),
    );
    let fields_b = (
        maybe(set_of(noisy, FEATURES)),
        maybe(connection_config(noisy)),
        maybe(strategy_overrides(noisy)),
        maybe(provisioning(noisy)),
        maybe(cross_app(noisy)),
        unknown(noisy),
    );
    (metadata_name(noisy), fields_a, fields_b).prop_map(
        |(
            metadata_name,
            (name, tenant, deletion, management, external, org, prefix),
            (features, config, overrides, provisioning, cross, unknown),
        )| {
            let spec = object(
                vec![
                    ("name", name),
                    ("tenantRef", tenant),
                    ("deletionPolicy", deletion),
                    ("managementPolicy", management),
                    ("externalID", external),
                    ("organization", org),
                    ("connectionNamePrefixTemplate", prefix),
                    ("enabledFeatures", features),
                    ("connectionConfig", config),
                    ("strategyOverrides", overrides),
                    ("provisioning", provisioning),
                    ("crossAppAccessResourceApp", cross),
                ],
                unknown,
            );
            let metadata = object(vec![("name", metadata_name), ("namespace", Some(json!("ns")))], None);
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": metadata, "spec": spec})
        },
    )
}

/// Valid and invalid profiles, about half and half.
fn connection_profile() -> impl Strategy<Value = Value> {
    prop_oneof![profile_value(false), profile_value(true)]
}

/// Arbitrary JSON whose keys are mostly the resource's and Auth0's, for the functions that
/// take any remote answer.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => proptest::sample::select(&[
            "name", "organization", "show_as_button", "connection_name_prefix_template",
            "enabled_features", "connection_config", "strategy_overrides", "google-apps", "okta",
            "provisioning", "scim", "tokens", "scopes", "default_expiry", "max_allowed_expiry",
            "cross_app_access_resource_app", "status", "default_value", "allowed_values", "id",
            "spec", "metadata", "enabledFeatures", "tenantRef", "showAsButton",
        ][..]).prop_map(str::to_string),
        1 => "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        proptest::sample::select(&["none", "scim", "enabled", "get:users", "con-{org_id}-", ""][..])
            .prop_map(|s| json!(s)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers for the properties.

/// What the emulator stores for a create body, as its API returns it (through JSON text, as
/// over HTTP).
fn stored(body: &Map<String, Value>) -> Result<Value, String> {
    let body = Value::Object(body.clone());
    let changes = validate_body(&body, Mode::Create).map_err(|e| e.message("Payload"))?;
    let name = changes.name.clone().ok_or("no name")?;
    let profile = Profile::create("cop_1cu7Zs1Dfru5Qc9mZea7nm".into(), name, changes);
    let text = serde_json::to_string(&profile).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Every error of a refusal names a field of the spec and says something.
fn assert_well_formed(invalid: &Invalid) -> TestCaseResult {
    prop_assert!(!invalid.0.is_empty(), "a refusal with no error");
    for error in &invalid.0 {
        prop_assert!(
            error.field == "spec" || error.field.starts_with("spec.") || error.field.starts_with("metadata"),
            "{error}"
        );
        prop_assert!(!error.message.is_empty(), "{error}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The properties.

/// `check` never panics; whatever it accepts, `desired` turns into a create body the emulator
/// (Auth0's schema) accepts; the stored profile shows no drift; `at_provider` reads it; the
/// accepted object round-trips through serde and is accepted again.
#[test]
fn accepted_profiles_become_bodies_auth0_accepts_and_show_no_drift() {
    let accepted = AtomicU64::new(0);
    fuzz(
        "accepted profiles: Auth0 accepts, no drift, serde round trip",
        connection_profile(),
        |value| {
            let profile = match validation::check(value.clone(), None) {
                Err(invalid) => return assert_well_formed(&invalid),
                Ok(profile) => profile,
            };
            accepted.fetch_add(1, Ordering::Relaxed);

            // (c) serde round trip: the accepted object serialises and is the same object again.
            let text = serde_json::to_string(&profile).expect("serialises");
            let again: ConnectionProfile = serde_json::from_str(&text).expect("deserialises");
            prop_assert_eq!(&again.spec, &profile.spec);
            prop_assert_eq!(&again.metadata, &profile.metadata);
            let rechecked = validation::check(serde_json::to_value(&profile).expect("value"), None);
            prop_assert_eq!(
                rechecked.as_ref().ok().map(|p| &p.spec),
                Some(&profile.spec),
                "{:?}",
                rechecked.as_ref().err()
            );
            let spec: ConnectionProfileSpec =
                serde_json::from_value(serde_json::to_value(&profile.spec).unwrap()).unwrap();
            prop_assert_eq!(&spec, &profile.spec);

            // (a) the desired body is a valid Auth0 create body.
            let want = desired(&profile);
            prop_assert_eq!(want.keys().count(), 8);
            let remote = match stored(&want) {
                Ok(remote) => remote,
                Err(message) => {
                    return Err(TestCaseError::fail(format!(
                        "the operator accepted {value} but Auth0 refuses its body {}: {message}",
                        Value::Object(want)
                    )));
                }
            };
            // ... and a valid update body too (the operator PATCHes the same fields).
            prop_assert!(validate_body(&Value::Object(want.clone()), Mode::Update).is_ok());

            // (b) idempotence: a freshly created profile shows no drift.
            prop_assert_eq!(diff(&want, &normalize(&remote)), None, "stored: {}", remote);
            prop_assert_eq!(normalize(&Value::Object(want.clone())), want.clone());

            // status.atProvider reads what Auth0 holds, and says the same thing.
            let observed = at_provider(&remote).map_err(|e| TestCaseError::fail(format!("at_provider: {e}")))?;
            prop_assert_eq!(observed.name.as_str(), profile.effective_name());
            let observed_wire = to_wire(&serde_json::to_value(&observed).expect("value"));
            for field in [
                "organization",
                "connection_name_prefix_template",
                "enabled_features",
                "provisioning",
            ] {
                prop_assert_eq!(
                    &normalize(&observed_wire)[field],
                    &want[field],
                    "atProvider disagrees on {}",
                    field
                );
            }
            Ok(())
        },
    );
    let accepted = accepted.load(Ordering::Relaxed);
    eprintln!("fuzz accepted profiles: {accepted} accepted by the operator's validation");
    assert!(accepted > 0, "the strategy never produced a valid profile");
}

/// From any accepted profile to any other, the PATCH that `diff` computes is a valid Auth0
/// update body and, applied to the stored profile, leaves nothing to change.
#[test]
fn one_patch_converges_from_any_profile_to_any_other() {
    let pairs = (profile_value(false), profile_value(false)).prop_map(|(a, b)| {
        let valid = |v: Value| validation::check(v.clone(), None).unwrap_or_else(|e| panic!("{v}: {e}"));
        (valid(a), valid(b))
    });
    fuzz("one PATCH converges", pairs, |(before, after)| {
        let before_body = desired(&before);
        let changes = validate_body(&Value::Object(before_body.clone()), Mode::Create).expect("valid create");
        let mut profile = Profile::create(
            "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            changes.name.clone().unwrap(),
            changes,
        );
        let want = desired(&after);
        let remote = serde_json::to_value(&profile).expect("value");
        match diff(&want, &normalize(&remote)) {
            None => prop_assert_eq!(&want, &before_body),
            Some(patch) => {
                prop_assert!(
                    patch.keys().all(|k| want[k] != before_body[k]),
                    "patch sends unchanged fields"
                );
                let changes = validate_body(&Value::Object(patch.clone()), Mode::Update)
                    .map_err(|e| TestCaseError::fail(format!("Auth0 refuses the PATCH: {}", e.message("Payload"))))?;
                profile.apply(changes);
                let remote = serde_json::to_value(&profile).expect("value");
                prop_assert_eq!(diff(&want, &normalize(&remote)), None, "after the PATCH: {}", remote);
            }
        }
        Ok(())
    });
}

/// The pure functions never panic on arbitrary JSON: `check` on any object, and `normalize`,
/// `diff` and `at_provider` on any remote answer.
#[test]
fn pure_code_never_panics_on_arbitrary_json() {
    fuzz("arbitrary JSON never panics", (json_value(), json_value()), |(a, b)| {
        if let Err(invalid) = validation::check(a.clone(), None) {
            prop_assert!(!invalid.0.is_empty());
        }
        let wrapped = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                             "metadata": {"name": "p"}, "spec": a});
        let _ = validation::check(wrapped, None);
        let left = normalize(&a);
        let right = normalize(&b);
        prop_assert_eq!(diff(&left, &left), None);
        if let Some(patch) = diff(&left, &right) {
            prop_assert!(patch.iter().all(|(k, v)| right.get(k) != Some(v)));
        }
        let _ = at_provider(&a);
        prop_assert_eq!(from_wire(&to_wire(&from_wire(&a))), from_wire(&a));
        Ok(())
    });
}

/// A spec of about a megabyte in each field that can hold one is refused by the operator's
/// validation, naming the field, in bounded time and with a message that fits a condition
/// (the API server caps condition messages at 32768 characters).
#[test]
fn megabyte_fields_are_refused_with_short_messages() {
    let big = huge();
    let cases = [
        ("spec.name", json!({"name": big})),
        (
            "spec.connectionNamePrefixTemplate",
            json!({"connectionNamePrefixTemplate": big}),
        ),
        ("spec.externalID", json!({"externalID": big})),
        (
            "spec.tenantRef.name",
            json!({"tenantRef": {"kind": "Auth0Tenant", "name": big}}),
        ),
        (
            "spec.enabledFeatures",
            json!({"enabledFeatures": vec!["scim"; 1 << 17]}),
        ),
        (
            "spec.provisioning.scim.tokens.scopes",
            json!({"provisioning": {"scim": {"tokens": {"scopes": vec!["get:users"; 1 << 16]}}}}),
        ),
    ];
    for (field, spec) in cases {
        let started = Instant::now();
        let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                            "metadata": {"name": "p"}, "spec": spec});
        let profile: ConnectionProfile = serde_json::from_value(object.clone()).expect("typed");
        let invalid = validation::validate(&profile).expect_err(field);
        assert!(invalid.0.iter().any(|e| e.field == field), "{field}: {invalid}");
        assert!(
            invalid.to_string().len() < 32768,
            "{field}: a {} byte message",
            invalid.to_string().len()
        );
        let invalid = validation::check(object, None).expect_err(field);
        assert!(
            invalid.to_string().len() < 32768,
            "{field}: a {} byte message",
            invalid.to_string().len()
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{field}: {:?}",
            started.elapsed()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Annotations and the arithmetic on their values (issue 24: `poll-interval:
// "18446744073709551615s"` panicked converting the jittered interval, and the process exited).

/// Text a person may write into an annotation: durations near and past every limit, digits
/// of other scripts, control characters, arbitrary Unicode, and huge values.
fn annotation_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (0u64..=u64::MAX, prop::sample::select(vec!["s", "m", "h", "d", "", "ms"]))
            .prop_map(|(n, unit)| format!("{n}{unit}")),
        2 => prop::collection::vec((0u64..100_000, prop::sample::select(vec!["s", "m", "h"])), 1..8)
            .prop_map(|parts| parts.iter().map(|(n, u)| format!("{n}{u}")).collect()),
        2 => "\\PC{0,40}",
        1 => "[0-9smh \\t\\-+.eE]{0,30}",
        1 => Just("18446744073709551615s".to_string()),
        1 => Just("9".repeat(5000) + "h"),
        1 => (1usize..300_000).prop_map(|n| "1".repeat(n % 70_000) + "s"),
    ]
    .boxed()
}

/// Every parser of a duration a user writes accepts exactly 1 s to 24 h, refuses the rest
/// with a message that names the text and how to write it, and whatever it accepts can be
/// jittered and added to the clock without overflow.
#[test]
fn any_duration_text_is_refused_or_safe_to_compute_with() {
    use auth0_operator::controller::profile::jittered;
    use auth0_operator::duration::{MAX, parse, poll_interval_annotation};
    let default = Duration::from_secs(600);
    fuzz("duration texts", annotation_text(), |text| {
        match parse(&text) {
            Ok(d) => {
                prop_assert!(d >= Duration::from_secs(1) && d <= MAX, "{text:?} -> {d:?}");
                let j = jittered(d);
                prop_assert!(j >= d.mul_f64(0.9) && j <= d.mul_f64(1.1), "{d:?} -> {j:?}");
                prop_assert!(Instant::now().checked_add(j).is_some());
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.contains("like"), "says how to write it: {message}");
                prop_assert!(message.len() < 400, "bounded: {} bytes", message.len());
            }
        }
        match poll_interval_annotation(Some(&text), default) {
            Ok(d) => prop_assert!(d <= MAX),
            Err(why) => prop_assert!(why.contains("auth0.operators.dev/poll-interval") && why.contains("10m")),
        }
        Ok(())
    });
    // Any Duration at all, whatever computed it: the jitter never overflows.
    fuzz(
        "jittered durations",
        (0u64..=u64::MAX, 0u32..1_000_000_000),
        |(secs, nanos)| {
            let j = jittered(Duration::new(secs, nanos));
            prop_assert!(j <= MAX.mul_f64(1.1));
            prop_assert!(Instant::now().checked_add(j).is_some());
            Ok(())
        },
    );
}

/// A ConnectionProfile with arbitrary annotations (ours among them, with any value; others
/// up to the API server's 256 KiB) is read without a panic by every pure function that reads
/// annotations, and the room check agrees with the API server's arithmetic.
#[test]
fn any_annotations_are_read_without_panicking() {
    use auth0_operator::controller::profile::{annotation, marks, request_key, status};
    let keys = prop::sample::select(vec![
        annotation::PAUSED.to_string(),
        annotation::POLL_INTERVAL.to_string(),
        annotation::RECONCILE_REQUESTED_AT.to_string(),
        annotation::FORCE_ORPHAN.to_string(),
        annotation::CREATE_PENDING.to_string(),
        annotation::PROFILE_ID.to_string(),
        annotation::PROFILE_TENANT.to_string(),
        "example.com/other".to_string(),
    ]);
    let annotations = prop::collection::btree_map(
        keys,
        prop_oneof![4 => annotation_text(), 1 => (0usize..270_000).prop_map(|n| "x".repeat(n))],
        0..8,
    );
    fuzz(
        "annotations on a resource",
        (annotations, proptest::option::of("\\PC{0,60}")),
        |(annotations, domain)| {
            let object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                                "metadata": {"name": "p", "namespace": "ns", "uid": "u", "generation": 1,
                                             "annotations": annotations},
                                "spec": {"name": "p"}});
            let profile: ConnectionProfile = serde_json::from_value(object).expect("typed");
            let total: usize = annotations
                .iter()
                .filter(|(k, _)| {
                    ![
                        annotation::CREATE_PENDING,
                        annotation::PROFILE_ID,
                        annotation::PROFILE_TENANT,
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| k.len() + v.len())
                .sum();
            let reached = domain.clone().unwrap_or_default();
            match marks::room(&profile, &reached) {
                Ok(()) => prop_assert!(total < marks::ANNOTATIONS_LIMIT),
                Err(e) => {
                    // Refused only when the marks the operator may hold at once would not
                    // fit: the create-pending name, the id (26), the tenant and what it reached.
                    let marks = annotation::CREATE_PENDING.len()
                        + profile.effective_name().len()
                        + annotation::PROFILE_ID.len()
                        + 26
                        + annotation::PROFILE_TENANT.len()
                        + profile.spec.tenant_ref.to_string().len()
                        + " on ".len()
                        + reached.len();
                    prop_assert!(
                        total + marks > marks::ANNOTATIONS_LIMIT,
                        "{total} bytes refused with {marks} bytes of marks"
                    );
                    prop_assert!(e.to_string().contains("shrink metadata.annotations"));
                }
            }
            let _ = marks::Marks::of(&profile);
            let _ = marks::tenant_change(&profile, domain.as_deref());
            let _ = request_key(&profile);
            let _ = status::is_settled(&profile);
            let _ = status::noted(None, &profile, Some("note"));
            Ok(())
        },
    );
}

/// The token bucket (fed by `spec.rateLimit`, an older CRD's unchecked values included, and
/// by Auth0's `x-ratelimit-*` headers) never panics and never asks for a wait that would
/// overflow the clock, whatever the rate, burst and headers.
#[test]
fn any_rate_limit_and_headers_give_a_finite_wait() {
    use auth0_operator::auth0::ratelimit::{Priority, TokenBucket};
    let rate = prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0),
        Just(0.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        any::<f64>(),
        0.1f64..1000.0,
    ];
    let header = (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of((0u64..=u64::MAX).prop_map(Duration::from_secs)),
    );
    fuzz(
        "token bucket",
        (
            rate,
            any::<u32>(),
            prop::collection::vec((header, any::<bool>(), 0u64..10_000), 1..20),
        ),
        |(rate, burst, steps)| {
            let start = Instant::now();
            let bucket = TokenBucket::new(rate, burst, start);
            let mut now = start;
            for ((limit, remaining, reset_in), user, millis) in steps {
                now += Duration::from_millis(millis);
                bucket.observe(now, limit, remaining, reset_in);
                let priority = if user { Priority::User } else { Priority::Background };
                if let Err(wait) = bucket.try_take(now, priority) {
                    prop_assert!(wait <= Duration::from_secs(3600), "{wait:?}");
                    prop_assert!(now.checked_add(wait).is_some());
                }
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Every kind: a valid object with one value anywhere in it replaced by arbitrary JSON.

/// Where a value stands in a JSON document: object keys and array indices.
type Path = Vec<Value>;

/// Every place in `value` (itself included).
fn places(value: &Value, at: Path, out: &mut Vec<Path>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let mut next = at.clone();
                next.push(json!(key));
                places(inner, next, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                let mut next = at.clone();
                next.push(json!(i));
                places(inner, next, out);
            }
        }
        _ => {}
    }
}

/// `base` with the value at `path` replaced by `new` (or, for an object, `new` added under
/// an unknown key when `add` is set).
fn replaced(base: &Value, path: &[Value], new: Value, add: bool) -> Value {
    let mut out = base.clone();
    let mut here = &mut out;
    for step in path {
        here = match step {
            Value::String(key) => &mut here[key.as_str()],
            Value::Number(i) => &mut here[i.as_u64().unwrap_or_default() as usize],
            _ => unreachable!(),
        };
    }
    match here {
        Value::Object(map) if add => {
            map.insert("unknownField".into(), new);
        }
        other => *other = new,
    }
    out
}

/// A valid user attribute profile with every field set.
fn user_attribute_profile() -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
           "metadata": {"name": "employees", "namespace": "team", "uid": "u1", "generation": 1},
           "spec": {"name": "Employees", "tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                    "externalID": "uap_1cu7Zs1Dfru5Qc9mZea7nm",
                    "userId": {"oidcMapping": "sub", "samlMapping": ["urn:id"], "scimMapping": "externalId",
                               "strategyOverrides": {"googleApps": {"oidcMapping": "email"}}},
                    "userAttributes": {
                        "email": {"label": "Email", "description": "Work email", "auth0Mapping": "email",
                                  "profileRequired": true, "oidcMapping": {"mapping": "email", "displayName": "Email"},
                                  "samlMapping": ["urn:email"], "scimMapping": "emails[primary eq true].value",
                                  "strategyOverrides": {"okta": {"oidcMapping": {"mapping": "mail"}}}},
                        "given_name": {"label": "Given", "description": "First name",
                                       "auth0Mapping": "given_name", "profileRequired": false}}}})
}

/// A valid self-service profile with every field set.
fn self_service_profile() -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
           "metadata": {"name": "portal", "namespace": "team", "uid": "u2", "generation": 1},
           "spec": {"name": "Portal", "tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                    "description": "SSO for partners", "allowedStrategies": ["oidc", "samlp"],
                    "branding": {"logoUrl": "https://example.com/logo.png", "colors": {"primary": "#0059d6"}},
                    "userAttributeProfileRef": {"name": "employees"},
                    "customText": {"en": {"getStarted": {"introduction": "Connect your IdP."}}}}})
}

/// Decoding, validation and every pure method of kind `K` on `value` never panic; a refusal
/// is well formed; an accepted object's body reads back with no drift.
fn kind_never_panics<K: auth0_operator::crd::Kind>(value: &Value, remote: &Value) -> TestCaseResult {
    let Ok(object) = serde_json::from_value::<K>(value.clone()) else {
        // Undecodable: the operator reports it (controller/decode.rs) and never calls the kind.
        return Ok(());
    };
    let _ = object.references();
    let _ = object.sub_documents();
    match object.validate() {
        Err(invalid) => assert_well_formed(&invalid)?,
        Ok(()) => {
            let resolved = object
                .references()
                .iter()
                .map(|r| (r.field, "uap_1cu7Zs1Dfru5Qc9mZea7nm".to_string()))
                .collect();
            let want = object.desired(&resolved);
            let body = K::create_body(&want);
            let stored = K::normalize(&Value::Object(body.clone()));
            prop_assert!(
                K::field_changes(&want, &stored).is_empty(),
                "its own create body differs from what it asks: {:?}",
                K::field_changes(&want, &stored)
            );
            let _ = K::patch_body(&want, remote);
            for field in K::guarded_fields(&want) {
                let _ = K::spec_path(&field);
            }
        }
    }
    let normalized = K::normalize(remote);
    let _ = K::field_changes(&normalized, &K::normalize(value));
    let _ = K::at_provider(remote);
    let _ = K::unrecognized(remote);
    Ok(())
}

/// Nothing a user writes in any kind, and nothing Auth0 answers, crashes the operator: a valid
/// object of each kind with one value anywhere replaced by arbitrary JSON (or an unknown key
/// added) goes through decoding, validation and every pure method of its kind.
#[test]
fn every_kind_s_pure_code_never_panics_on_near_valid_objects() {
    let bases = [
        ("ConnectionProfile", profile_value(false).boxed()),
        ("UserAttributeProfile", Just(user_attribute_profile()).boxed()),
        ("SelfServiceProfile", Just(self_service_profile()).boxed()),
    ];
    for (kind, base) in bases {
        let cases = (
            base,
            any::<prop::sample::Index>(),
            json_value(),
            any::<bool>(),
            json_value(),
        );
        fuzz(
            &format!("{kind}: near-valid objects never panic"),
            cases,
            |(base, index, new, add, remote)| {
                let mut all = Vec::new();
                places(&base, Vec::new(), &mut all);
                let path = index.get(&all).clone();
                let value = replaced(&base, &path, new, add);
                match kind {
                    "ConnectionProfile" => kind_never_panics::<ConnectionProfile>(&value, &remote),
                    "UserAttributeProfile" => {
                        kind_never_panics::<auth0_operator::crd::UserAttributeProfile>(&value, &remote)
                    }
                    _ => kind_never_panics::<auth0_operator::crd::SelfServiceProfile>(&value, &remote),
                }
            },
        );
    }
}
