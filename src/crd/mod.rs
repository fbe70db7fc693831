//! The custom resources, their shared rules, condition vocabulary and pure validation.

pub mod annotations;
pub mod conditions;
pub mod connection_profile;
pub mod kind;
pub mod rules;
pub mod self_service_profile;
pub mod tenant;
pub mod user_attribute_profile;
pub mod validation;
pub mod wire;

pub use connection_profile::*;
pub use kind::{Kind, Status};
pub use self_service_profile::*;
pub use tenant::*;
pub use user_attribute_profile::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Every CRD this operator serves, in install order.
pub fn all() -> Vec<CustomResourceDefinition> {
    [
        ClusterAuth0Tenant::crd(),
        Auth0Tenant::crd(),
        ConnectionProfile::crd(),
        UserAttributeProfile::crd(),
        SelfServiceProfile::crd(),
    ]
    .into_iter()
    .map(without_nulls)
    .map(readable_descriptions)
    .map(kept)
    .collect()
}

/// Every reconciled kind's Management API, in the order the operator lists them (the
/// `auth0_operator_resources` gauge has a series of each).
pub static KINDS: [&kind::Auth0Api; 3] = [&CONNECTION_PROFILES, &USER_ATTRIBUTE_PROFILES, &SELF_SERVICE_PROFILES];

/// Annotations that keep the CRDs when the operator is uninstalled or pruned: deleting a CRD
/// deletes every resource of its kind, and a ConnectionProfile deleted while the operator
/// runs takes its Auth0 profile with it (`deletionPolicy: Delete`). Helm leaves a resource
/// with `helm.sh/resource-policy: keep` in place on uninstall; Argo CD neither prunes
/// (`Prune=false`) nor deletes with the Application (`Delete=false`) one with these sync
/// options. docs/install.md has the uninstall order.
pub const KEEP_ANNOTATIONS: [(&str, &str); 2] = [
    ("helm.sh/resource-policy", "keep"),
    ("argocd.argoproj.io/sync-options", "Prune=false,Delete=false"),
];

fn kept(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let annotations = crd.metadata.annotations.get_or_insert_with(Default::default);
    for (key, value) in KEEP_ANNOTATIONS {
        annotations.insert(key.to_string(), value.to_string());
    }
    crd
}

/// What `kubectl explain` shows: doc comments arrive hard-wrapped at our line width, which
/// kubectl wraps again, so lines within a paragraph are joined (blank lines still part
/// paragraphs). A list whose items are an enum gets its values in its own description,
/// since kubectl shows `ENUM` only for a field that is itself an enum.
fn readable_descriptions(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                let item_values: Option<Vec<String>> = map
                    .get("items")
                    .and_then(|items| items.get("enum"))
                    .and_then(|e| e.as_array())
                    .map(|values| values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
                if let Some(serde_json::Value::String(text)) = map.get_mut("description") {
                    *text = join_wrapped_lines(text);
                    if let Some(values) = item_values.filter(|v| !v.is_empty()) {
                        text.push_str(&format!(" Values: {}.", values.join(", ")));
                    }
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&crd).expect("a CRD serializes to JSON");
    walk(&mut value);
    serde_json::from_value(value).expect("rewriting descriptions keeps a valid CRD")
}

/// Joins the lines of each paragraph with a space; paragraphs stay apart by a blank line.
pub fn join_wrapped_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// schemars marks every `Option` field `nullable` and adds `null` to optional enums, so
/// kubectl would list "null" among the supported values. Our optional fields are simply
/// omitted (the API server prunes a null sent for a field that is not nullable), so both
/// marks go.
fn without_nulls(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("nullable") == Some(&serde_json::Value::Bool(true)) {
                    map.remove("nullable");
                }
                if let Some(serde_json::Value::Array(values)) = map.get_mut("enum") {
                    values.retain(|v| !v.is_null());
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&crd).expect("a CRD serializes to JSON");
    strip(&mut value);
    serde_json::from_value(value).expect("removing nullable keeps a valid CRD")
}

/// Each CRD as the YAML committed under `crds/`: `(file name, text)`.
pub fn rendered() -> Result<Vec<(String, String)>, serde_saphyr::ser_error::Error> {
    all()
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let yaml = serde_saphyr::to_string(&crd)?;
            Ok((
                format!("{name}.yaml"),
                format!("# Generated by `auth0-operator crd --dir crds` (make crds); do not edit.\n{yaml}"),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_join_and_paragraphs_stay() {
        assert_eq!(
            join_wrapped_lines("The prefix of connection names, at most\nfifteen characters.\n\nSecond\n paragraph."),
            "The prefix of connection names, at most fifteen characters.\n\nSecond paragraph."
        );
        assert_eq!(join_wrapped_lines("One line."), "One line.");
    }

    /// Every description in every CRD is free of line breaks inside a paragraph, and every
    /// property has one (what `kubectl explain` prints for it).
    #[test]
    fn every_property_is_described_in_whole_lines() {
        fn check(path: &str, schema: &serde_json::Value, missing: &mut Vec<String>) {
            if let Some(text) = schema.get("description").and_then(|d| d.as_str()) {
                for paragraph in text.split("\n\n") {
                    assert!(!paragraph.contains('\n'), "{path}: a broken line in {text:?}");
                }
            }
            if let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) {
                for (name, property) in properties {
                    let at = format!("{path}.{name}");
                    if property.get("description").is_none() && !at.contains(".metadata") {
                        missing.push(at.clone());
                    }
                    check(&at, property, missing);
                }
            }
            if let Some(items) = schema.get("items") {
                check(&format!("{path}[]"), items, missing);
            }
        }
        let mut missing = Vec::new();
        for crd in all() {
            let value = serde_json::to_value(&crd).expect("json");
            let schema = &value["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
            check(&crd.spec.names.kind, schema, &mut missing);
        }
        // Conditions are Kubernetes' own type, described by k8s-openapi.
        missing.retain(|path| !path.contains(".conditions[]"));
        assert!(missing.is_empty(), "properties without a description: {missing:#?}");
    }

    #[test]
    fn lists_of_enums_name_their_values() {
        let crd = serde_json::to_value(ConnectionProfile::crd()).expect("json");
        let crd = serde_json::to_value(readable_descriptions(serde_json::from_value(crd).expect("crd"))).expect("json");
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        let features = spec["enabledFeatures"]["description"].as_str().expect("described");
        assert!(
            features.ends_with(" Values: scim, universal_logout, directory_sync."),
            "{features}"
        );
        let scopes =
            spec["provisioning"]["properties"]["scim"]["properties"]["tokens"]["properties"]["scopes"]["description"]
                .as_str()
                .expect("described");
        assert!(
            scopes.ends_with(" Values: get:users, post:users, patch:users, delete:users, put:users."),
            "{scopes}"
        );
    }
}
