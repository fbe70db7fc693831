//! The self-service profile schema as data, walked by `crate::validate`.
//!
//! Source: Auth0's Management API OpenAPI file (`SelfServiceProfile*` schemas) and the SDKs
//! generated from it. Every object is closed except `branding` and `branding.colors`
//! (`additionalProperties: true`). Where the guide "Manage Self-Service Enterprise
//! Configuration" and the schema disagree on `user_attributes`, the stricter is decided:
//! at most 20 items (the guide) and names and descriptions of at most 250 characters (the
//! schema's name limit; the guide says 255).

use crate::schema::{Field, Kind, Pattern, field, nullable, required};

/// The longest profile name and description (documented).
pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 140;
/// The most `user_attributes` (documented in the guide; decided, see above).
pub const MAX_USER_ATTRIBUTES: usize = 20;
/// The longest attribute name and description (decided, see above).
pub const ATTRIBUTE_TEXT_MAX_CHARS: usize = 250;
/// The longest `branding.logo_url` (documented).
pub const LOGO_URL_MAX_CHARS: usize = 1024;
/// Every `allowed_strategies` value (documented; `auth0-samlp` and `okta-samlp` also
/// recorded), in the order a create without the field stores them.
pub const STRATEGIES: [&str; 10] = [
    "oidc",
    "samlp",
    "waad",
    "google-apps",
    "adfs",
    "okta",
    "auth0-samlp",
    "okta-samlp",
    "keycloak-samlp",
    "pingfederate",
];

/// `^https://` (documented pattern of `logo_url`).
pub fn is_https_url(text: &str) -> bool {
    text.starts_with("https://")
}

/// `^#([\dA-Fa-f]{6}|[\dA-Fa-f]{3})$` (documented pattern of `colors.primary`).
pub fn is_hex_color(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

const fn text(min: usize, max: usize) -> Kind {
    Kind::Text {
        min,
        max,
        pattern: None,
    }
}

const USER_ATTRIBUTE_FIELDS: [Field; 3] = [
    required(field("name", text(1, ATTRIBUTE_TEXT_MAX_CHARS))),
    required(field("description", text(1, ATTRIBUTE_TEXT_MAX_CHARS))),
    required(field("is_optional", Kind::Boolean)),
];

const COLORS_FIELDS: [Field; 1] = [required(field(
    "primary",
    Kind::Text {
        min: 1,
        max: 7,
        pattern: Some(Pattern {
            shown: r"^#([\dA-Fa-f]{6}|[\dA-Fa-f]{3})$",
            matches: is_hex_color,
        }),
    },
))];

const BRANDING_FIELDS: [Field; 2] = [
    field(
        "logo_url",
        Kind::Text {
            min: 1,
            max: LOGO_URL_MAX_CHARS,
            pattern: Some(Pattern {
                shown: "^https://",
                matches: is_https_url,
            }),
        },
    ),
    field("colors", Kind::OpenObject(&COLORS_FIELDS)),
];

/// The writable top-level fields. `name` is required on create only. `null` clears
/// `description`, `branding`, `user_attribute_profile_id` and `user_attributes` (which
/// becomes `[]`), as documented for PATCH; on create it is the same as leaving them out.
pub const PROFILE: &[Field] = &[
    field("name", text(1, NAME_MAX_CHARS)),
    nullable(field("description", text(1, DESCRIPTION_MAX_CHARS))),
    nullable(field(
        "user_attributes",
        Kind::List {
            items: &Kind::Object(&USER_ATTRIBUTE_FIELDS),
            min: 0,
            max: MAX_USER_ATTRIBUTES,
        },
    )),
    field(
        "allowed_strategies",
        Kind::List {
            items: &Kind::Enum(&STRATEGIES),
            min: 1,
            max: STRATEGIES.len(),
        },
    ),
    nullable(field("branding", Kind::OpenObject(&BRANDING_FIELDS))),
    nullable(field("user_attribute_profile_id", text(1, 64))),
];

/// Keys a body must carry on create.
pub const REQUIRED_ON_CREATE: &[&str] = &["name"];
/// Keys the API sets: refused in a body even by a tenant that accepts unknown fields.
pub const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_patterns() {
        for good in ["#fff", "#A0b1C2"] {
            assert!(is_hex_color(good), "{good}");
        }
        for bad in ["fff", "#ffff", "#ggg", "#12345", "#1234567", ""] {
            assert!(!is_hex_color(bad), "{bad}");
        }
        assert!(is_https_url("https://example.com/logo.png"));
        assert!(!is_https_url("http://example.com/logo.png"));
    }
}
