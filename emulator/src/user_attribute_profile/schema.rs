//! The user attribute profile schema as data, walked by `crate::validate`.
//!
//! Source: Auth0's Management API OpenAPI file (`UserAttributeProfile*` schemas, unchanged
//! from March to June 2026) and the SDKs generated from it; every object is closed
//! (`additionalProperties: false`). Two limits no schema states are decided from Auth0's
//! Terraform provider and Deploy CLI: attribute keys of 1..=50 characters and at most 3
//! `saml_mapping` items.

use crate::schema::{Field, Kind, STRATEGIES, field, nullable, required};

/// The longest profile name (documented).
pub const NAME_MAX_CHARS: usize = 128;
/// The fewest and most entries of `user_attributes` (documented).
pub const MIN_ATTRIBUTES: usize = 1;
pub const MAX_ATTRIBUTES: usize = 64;
/// The longest attribute key (decided from the Terraform provider; the schema has none).
pub const ATTRIBUTE_KEY_MAX_CHARS: usize = 50;
/// The most `saml_mapping` items (decided from the Terraform provider and the Deploy CLI;
/// the schema has no maximum).
pub const SAML_MAPPING_MAX_ITEMS: usize = 3;
/// `user_id.oidc_mapping` (documented: only `sub`).
pub const USER_ID_OIDC_MAPPINGS: [&str; 1] = ["sub"];
/// `user_id.strategy_overrides.*.oidc_mapping` (documented).
pub const OVERRIDE_OIDC_MAPPINGS: [&str; 3] = ["sub", "oid", "email"];

const fn text(min: usize, max: usize) -> Kind {
    Kind::Text {
        min,
        max,
        pattern: None,
    }
}

const SAML_MAPPING: Kind = Kind::List {
    items: &text(1, 128),
    min: 1,
    max: SAML_MAPPING_MAX_ITEMS,
};
const SCIM_MAPPING: Kind = text(1, 128);

const OIDC_MAPPING_FIELDS: [Field; 2] = [
    required(field("mapping", text(1, 50))),
    field("display_name", text(1, 50)),
];
const OIDC_MAPPING: Kind = Kind::Object(&OIDC_MAPPING_FIELDS);

/// The same value under each of the eight strategy keys (`STRATEGIES`).
const fn per_strategy(kind: Kind) -> [Field; 8] {
    [
        field(STRATEGIES[0], kind),
        field(STRATEGIES[1], kind),
        field(STRATEGIES[2], kind),
        field(STRATEGIES[3], kind),
        field(STRATEGIES[4], kind),
        field(STRATEGIES[5], kind),
        field(STRATEGIES[6], kind),
        field(STRATEGIES[7], kind),
    ]
}

const USER_ID_OVERRIDE_FIELDS: [Field; 3] = [
    field("oidc_mapping", Kind::Enum(&OVERRIDE_OIDC_MAPPINGS)),
    field("saml_mapping", SAML_MAPPING),
    field("scim_mapping", SCIM_MAPPING),
];
const USER_ID_OVERRIDES: [Field; 8] = per_strategy(Kind::Object(&USER_ID_OVERRIDE_FIELDS));

const USER_ID_FIELDS: [Field; 4] = [
    field("oidc_mapping", Kind::Enum(&USER_ID_OIDC_MAPPINGS)),
    field("saml_mapping", SAML_MAPPING),
    field("scim_mapping", SCIM_MAPPING),
    field("strategy_overrides", Kind::Object(&USER_ID_OVERRIDES)),
];

const ATTRIBUTE_OVERRIDE_FIELDS: [Field; 3] = [
    field("oidc_mapping", OIDC_MAPPING),
    field("saml_mapping", SAML_MAPPING),
    field("scim_mapping", SCIM_MAPPING),
];
const ATTRIBUTE_OVERRIDES: [Field; 8] = per_strategy(Kind::Object(&ATTRIBUTE_OVERRIDE_FIELDS));

const ATTRIBUTE_FIELDS: [Field; 8] = [
    required(field("label", text(1, 128))),
    required(field("description", text(1, 128))),
    field("oidc_mapping", OIDC_MAPPING),
    field("saml_mapping", SAML_MAPPING),
    field("scim_mapping", SCIM_MAPPING),
    required(field("auth0_mapping", text(1, 50))),
    required(field("profile_required", Kind::Boolean)),
    field("strategy_overrides", Kind::Object(&ATTRIBUTE_OVERRIDES)),
];

/// The writable top-level fields. `name` and `user_attributes` are required on create
/// only; `user_id: null` is accepted (documented for PATCH) and means the default.
pub const PROFILE: &[Field] = &[
    field("name", text(1, NAME_MAX_CHARS)),
    nullable(field("user_id", Kind::Object(&USER_ID_FIELDS))),
    field(
        "user_attributes",
        Kind::Map {
            values: &Kind::Object(&ATTRIBUTE_FIELDS),
            min: MIN_ATTRIBUTES,
            max: MAX_ATTRIBUTES,
            key_max: ATTRIBUTE_KEY_MAX_CHARS,
        },
    ),
];

/// Keys a body must carry on create.
pub const REQUIRED_ON_CREATE: &[&str] = &["name", "user_attributes"];
/// Keys the API sets: refused in a body even by a tenant that accepts unknown fields.
pub const READ_ONLY: &[&str] = &["id"];
