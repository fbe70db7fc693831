//! The custom text of a self-service profile
//! (`/self-service-profiles/{id}/custom-text/{language}/{page}`): which languages and pages
//! exist, and what a PUT body may hold.

use serde_json::{Map, Value};

use crate::validate::{ValidationError, type_name};

/// The only language (documented).
pub const LANGUAGES: [&str; 1] = ["en"];
/// The only page (documented).
pub const PAGES: [&str; 1] = ["get-started"];
/// The longest value (documented).
pub const VALUE_MAX_CHARS: usize = 2000;

/// Checks the language and page of the path: an unknown one is a path validation error
/// (decided: 400 rather than 404).
pub fn check_path(language: &str, page: &str) -> Result<(), ValidationError> {
    if !LANGUAGES.contains(&language) {
        return Err(ValidationError::at(
            "language",
            format!("No enum match for: \"{language}\""),
        ));
    }
    if !PAGES.contains(&page) {
        return Err(ValidationError::at("page", format!("No enum match for: \"{page}\"")));
    }
    Ok(())
}

/// Checks a PUT body: an object of strings of at most 2000 characters, any key (documented;
/// `introduction` is the one the guide names). Returns the map to store whole.
pub fn check_body(body: &Value) -> Result<Map<String, Value>, ValidationError> {
    let map = body
        .as_object()
        .ok_or_else(|| ValidationError::at("", format!("Expected type object but found type {}", type_name(body))))?;
    for (key, value) in map {
        let text = value.as_str().ok_or_else(|| {
            ValidationError::at(key, format!("Expected type string but found type {}", type_name(value)))
        })?;
        let chars = text.chars().count();
        if chars > VALUE_MAX_CHARS {
            return Err(ValidationError::at(
                key,
                format!("String is too long ({chars} chars), maximum {VALUE_MAX_CHARS}"),
            ));
        }
    }
    Ok(map.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_en_and_get_started_exist() {
        assert!(check_path("en", "get-started").is_ok());
        assert_eq!(
            check_path("fr", "get-started").map_err(|e| e.property),
            Err(Some("language".into()))
        );
        assert_eq!(
            check_path("en", "getStarted").map_err(|e| e.property),
            Err(Some("page".into()))
        );
    }

    #[test]
    fn bodies_are_maps_of_short_strings() {
        let long = "é".repeat(VALUE_MAX_CHARS);
        assert!(check_body(&json!({"introduction": long, "other": ""})).is_ok());
        assert!(check_body(&json!({})).is_ok_and(|map| map.is_empty()));
        let too_long = check_body(&json!({"introduction": "x".repeat(VALUE_MAX_CHARS + 1)})).expect_err("long");
        assert_eq!(
            too_long.message("Payload"),
            "Payload validation error: 'String is too long (2001 chars), maximum 2000' on property introduction."
        );
        assert!(check_body(&json!({"introduction": 1})).is_err());
        assert!(check_body(&json!(["x"])).is_err());
        assert!(check_body(&Value::Null).is_err());
    }
}
