//! What a kind knows of its Auth0 body, read from its own CRD schema: the wire keys of every
//! object, the values of every enum, which objects are maps of names the user chooses. The
//! body mapping of `user_attribute_profile.rs` and `self_service_profile.rs` reads Auth0's
//! answers through it: what this version has no name for (a newer Auth0's fields and enum
//! values) is left out of every comparison, listed in `status.unrecognized`, and sent back
//! unchanged inside an object the operator must replace. (`controller/desired.rs` does the
//! same for connection profiles with its own `Known`.)

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::controller::desired::{FieldChange, from_wire, to_wire};

/// The shape of a value, as this version knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A string, number or boolean of any value.
    Scalar,
    /// A string from a closed list.
    Enum(Vec<String>),
    /// An object with named keys, in wire spelling.
    Object(BTreeMap<String, Shape>),
    /// An object whose keys the user chooses (user attribute names), each value of one shape.
    Map(Box<Shape>),
    /// A list of items of one shape.
    List(Box<Shape>),
}

impl Shape {
    /// The shape an OpenAPI schema of a CRD describes, its property names turned to wire
    /// spelling (`logoUrl` is `logo_url`, `googleApps` is `google-apps`).
    pub fn of(schema: &Value) -> Shape {
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return Shape::Enum(values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            return Shape::Object(
                properties
                    .iter()
                    .map(|(key, child)| (wire_key(key), Shape::of(child)))
                    .collect(),
            );
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            return Shape::Map(Box::new(Shape::of(values)));
        }
        if let Some(items) = schema.get("items") {
            return Shape::List(Box::new(Shape::of(items)));
        }
        Shape::Scalar
    }

    /// The shape of a key of an object (`None` for a key this version does not know).
    pub fn field(&self, key: &str) -> Option<&Shape> {
        match self {
            Shape::Object(keys) => keys.get(key),
            Shape::Map(values) => Some(values),
            _ => None,
        }
    }

    /// `value` with what this shape does not describe left out: unknown keys, unknown enum
    /// values (a scalar one is `null`), and known keys whose whole content is unknown.
    pub fn known(&self, value: &Value) -> Value {
        match (self, value) {
            (Shape::Enum(values), Value::String(text)) if !values.contains(text) => Value::Null,
            (Shape::Object(_) | Shape::Map(_), Value::Object(map)) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.field(k).map(|child| (k.clone(), child.known(v), v)))
                    .filter(|(_, part, original)| !only_unknown(part, original))
                    .map(|(k, part, _)| (k, part))
                    .collect(),
            ),
            (Shape::List(item), Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|v| (item.known(v), v))
                    .filter(|(part, original)| !only_unknown(part, original))
                    .map(|(part, _)| part)
                    .collect(),
            ),
            _ => value.clone(),
        }
    }

    /// What this shape does not describe in `value` (at `path`), as `path: value` lines.
    pub fn unknown(&self, path: &str, value: &Value, out: &mut Vec<String>) {
        match (self, value) {
            (Shape::Enum(values), Value::String(text)) if !values.contains(text) => {
                out.push(format!("{path}: {value}"));
            }
            (Shape::Object(_) | Shape::Map(_), Value::Object(map)) => {
                for (k, v) in map {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match self.field(k) {
                        Some(child) => child.unknown(&here, v, out),
                        None if !v.is_null() => out.push(format!("{here}: {v}")),
                        None => {}
                    }
                }
            }
            (Shape::List(item), Value::Array(items)) => {
                for v in items {
                    item.unknown(path, v, out);
                }
            }
            _ => {}
        }
    }

    /// `sent` with what Auth0's copy (`held`) holds that this shape does not describe added
    /// back, at every depth where both are objects (Auth0 replaces an object whole): unknown
    /// keys, known keys whose whole content is unknown, and unknown enum values of a list.
    /// A map's entries the spec left out go; a list of objects is sent as it is.
    pub fn with_unknown(&self, sent: &Value, held: &Value) -> Value {
        match (self, sent, held) {
            (Shape::Object(keys), Value::Object(sent_map), Value::Object(held_map)) => {
                let mut out = sent_map.clone();
                for (key, held_value) in held_map {
                    match (keys.get(key), sent_map.get(key)) {
                        (None, _) if !held_value.is_null() => {
                            out.insert(key.clone(), held_value.clone());
                        }
                        (Some(child), Some(sent_value)) => {
                            out.insert(key.clone(), child.with_unknown(sent_value, held_value));
                        }
                        (Some(child), None) if only_unknown(&child.known(held_value), held_value) => {
                            out.insert(key.clone(), held_value.clone());
                        }
                        _ => {}
                    }
                }
                Value::Object(out)
            }
            (Shape::Map(values), Value::Object(sent_map), Value::Object(held_map)) => Value::Object(
                sent_map
                    .iter()
                    .map(|(key, sent_value)| {
                        let value = match held_map.get(key) {
                            Some(held_value) => values.with_unknown(sent_value, held_value),
                            None => sent_value.clone(),
                        };
                        (key.clone(), value)
                    })
                    .collect(),
            ),
            // The items of which nothing is known: unknown enum values (an object item always
            // keeps an object, so a list of objects gets nothing back).
            (Shape::List(item), Value::Array(sent_items), Value::Array(held_items)) => {
                let mut out = sent_items.clone();
                out.extend(held_items.iter().filter(|v| item.known(v).is_null()).cloned());
                Value::Array(out)
            }
            _ => sent.clone(),
        }
    }
}

/// Whether `original` holds something and `part` (what is known of it) nothing.
fn only_unknown(part: &Value, original: &Value) -> bool {
    is_empty(part) && !is_empty(original)
}

/// `null`, `{}` or `[]`.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The wire spelling of one camelCase key.
pub fn wire_key(key: &str) -> String {
    respelled(&to_wire(&json!({ key: null }))).unwrap_or_else(|| key.to_string())
}

/// The camelCase spelling of one wire key.
pub fn camel_key(key: &str) -> String {
    respelled(&from_wire(&json!({ key: null }))).unwrap_or_else(|| key.to_string())
}

fn respelled(object: &Value) -> Option<String> {
    object.as_object().and_then(|o| o.keys().next().cloned())
}

/// The canonical form of a value: nulls, empty objects and empty lists inside objects are
/// left out (Auth0 leaves an unset field out, and nothing set is the same as nothing), and
/// the lists whose key is in `sets` (order means nothing) are sorted.
pub fn canonical(key: &str, value: &Value, sets: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), canonical(k, v, sets)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(|v| canonical("", v, sets)).collect();
            if sets.contains(&key) {
                items.sort_by_key(ToString::to_string);
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// A path of wire keys (`user_attributes.given_name.oidc_mapping`) in the resource's
/// camelCase (`userAttributes.given_name.oidcMapping`): a key right after one of `free` (a map
/// of names the user chose) stays as it is.
pub fn camel_path(segments: &[&str], free: &[&str]) -> String {
    segments
        .iter()
        .enumerate()
        .map(|(i, segment)| match i.checked_sub(1).map(|before| segments[before]) {
            Some(before) if free.contains(&before) => (*segment).to_string(),
            _ => camel_key(segment),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What Auth0 holds in the `writable` fields of `remote` that `shape` does not describe, as
/// `path: value` lines: at most 20 lines of at most 200 characters (as for connection
/// profiles).
pub fn unrecognized(shape: &Shape, writable: &[&str], remote: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for field in writable {
        if let (Some(value), Some(known)) = (remote.get(*field), shape.field(field)) {
            known.unknown(field, value, &mut out);
        }
    }
    out.truncate(20);
    out.into_iter().map(|line| line.chars().take(200).collect()).collect()
}

/// What a PATCH would change, leaf by leaf (objects walked into, anything else compared
/// whole), each field named by `path` from its wire keys. Both sides are in wire spelling.
pub fn field_changes(
    desired: &Map<String, Value>,
    remote: &Map<String, Value>,
    path: &dyn Fn(&[&str]) -> String,
) -> Vec<FieldChange> {
    fn walk(
        at: &mut Vec<String>,
        have: &Value,
        want: &Value,
        path: &dyn Fn(&[&str]) -> String,
        out: &mut Vec<FieldChange>,
    ) {
        match (have, want) {
            (Value::Object(h), Value::Object(w)) => {
                let keys: std::collections::BTreeSet<&String> = h.keys().chain(w.keys()).collect();
                for key in keys {
                    at.push(key.clone());
                    walk(
                        at,
                        h.get(key).unwrap_or(&Value::Null),
                        w.get(key).unwrap_or(&Value::Null),
                        path,
                        out,
                    );
                    at.pop();
                }
            }
            (h, w) if h != w => out.push(FieldChange {
                field: path(&at.iter().map(String::as_str).collect::<Vec<_>>()),
                auth0: h.clone(),
                desired: w.clone(),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &mut Vec::new(),
        &Value::Object(remote.clone()),
        &Value::Object(desired.clone()),
        path,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape::of(&json!({"properties": {
            "mode": {"enum": ["a", "b", null]},
            "modes": {"items": {"enum": ["a", "b"]}},
            "logoUrl": {"type": "string"},
            "byName": {"additionalProperties": {"properties": {"label": {"type": "string"}}}},
            "items": {"items": {"properties": {"name": {"type": "string"}}}},
            "googleApps": {"properties": {"x": {"type": "string"}}}
        }}))
    }

    #[test]
    fn a_schema_reads_as_its_wire_shape() {
        let Shape::Object(keys) = shape() else {
            panic!("an object")
        };
        assert_eq!(
            keys.keys().map(String::as_str).collect::<Vec<_>>(),
            ["by_name", "google-apps", "items", "logo_url", "mode", "modes"]
        );
        assert_eq!(keys["mode"], Shape::Enum(vec!["a".into(), "b".into()]));
        assert_eq!(keys["logo_url"], Shape::Scalar);
        assert!(matches!(&keys["by_name"], Shape::Map(v) if matches!(**v, Shape::Object(_))));
        assert!(matches!(&keys["items"], Shape::List(v) if matches!(**v, Shape::Object(_))));
        assert_eq!(Shape::Scalar.field("x"), None);
        assert_eq!(
            Shape::List(Box::new(Shape::Scalar)).field("x"),
            None,
            "a list has no keys"
        );
    }

    #[test]
    fn what_is_unknown_is_left_out_listed_and_sent_back() {
        let held = json!({
            "mode": "c", "modes": ["a", "c"], "logo_url": "https://x", "future": 1, "gone": null,
            "by_name": {"any name": {"label": "L", "new": 2}, "other": {"new": 3}},
            "items": [{"name": "n", "new": 4}, {"new": 5}],
            "google-apps": {"new": 6}
        });
        let s = shape();
        assert_eq!(
            s.known(&held),
            json!({"modes": ["a"], "logo_url": "https://x", "by_name": {"any name": {"label": "L"}},
                   "items": [{"name": "n"}]})
        );
        let mut lines = Vec::new();
        s.unknown("", &held, &mut lines);
        assert_eq!(
            lines,
            [
                "by_name.any name.new: 2",
                "by_name.other.new: 3",
                "future: 1",
                "google-apps.new: 6",
                "items.new: 4",
                "items.new: 5",
                "mode: \"c\"",
                "modes: \"c\""
            ]
        );
        let sent = json!({"modes": ["b"], "logo_url": "https://y", "by_name": {"any name": {"label": "M"}, "third": {"label": "T"}}});
        assert_eq!(
            s.with_unknown(&sent, &held),
            json!({"modes": ["b", "c"], "logo_url": "https://y", "future": 1, "mode": "c",
                   "by_name": {"any name": {"label": "M", "new": 2}, "third": {"label": "T"}},
                   "google-apps": {"new": 6}}),
            "the map entry the spec left out goes, the list of objects is not merged"
        );
        // A known key whose content is known and that the spec left out is not sent back.
        assert_eq!(
            s.with_unknown(&json!({}), &json!({"logo_url": "https://x", "items": [{"name": "n"}]})),
            json!({})
        );
    }

    #[test]
    fn canonical_forms_compare() {
        let value = json!({"a": null, "b": {}, "c": [], "d": {"e": {"f": null}}, "s": ["b", "a"], "l": ["b", "a"], "n": 0, "t": ""});
        assert_eq!(
            canonical("", &value, &["s"]),
            json!({"s": ["a", "b"], "l": ["b", "a"], "n": 0, "t": ""})
        );
        assert_eq!(canonical("s", &json!(["b", "a"]), &["s"]), json!(["a", "b"]));
        assert_eq!(canonical("x", &json!(["b", "a"]), &["s"]), json!(["b", "a"]));
        assert!(is_empty(&json!(null)) && is_empty(&json!({})) && is_empty(&json!([])));
        assert!(!is_empty(&json!(0)) && !is_empty(&json!("")) && !is_empty(&json!(false)));
    }

    #[test]
    fn paths_read_in_camel_case_but_the_users_names() {
        assert_eq!(
            camel_path(
                &[
                    "user_attributes",
                    "given_name",
                    "strategy_overrides",
                    "google-apps",
                    "oidc_mapping"
                ],
                &["user_attributes"]
            ),
            "userAttributes.given_name.strategyOverrides.googleApps.oidcMapping"
        );
        assert_eq!(
            camel_path(&["user_attributes", "given_name"], &[]),
            "userAttributes.givenName"
        );
        assert_eq!(camel_path(&[], &[]), "");
        assert_eq!(
            (wire_key("logoUrl"), camel_key("logo_url")),
            ("logo_url".into(), "logoUrl".into())
        );
    }

    #[test]
    fn unrecognized_lines_are_few_and_short() {
        let s = Shape::Object(BTreeMap::from([("f".to_string(), Shape::Object(BTreeMap::new()))]));
        let many: Map<String, Value> = (0..30).map(|i| (format!("k{i:02}"), json!("x".repeat(300)))).collect();
        let lines = unrecognized(&s, &["f", "g"], &json!({"f": many, "g": {"x": 1}}));
        assert_eq!(lines.len(), 20);
        assert!(lines.iter().all(|l| l.chars().count() == 200), "{lines:?}");
        assert!(lines[0].starts_with("f.k00: \"xxx"));
    }

    #[test]
    fn changes_name_each_leaf_by_its_path() {
        let want = json!({"a": {"b": 1, "c": [1]}, "d": "x"});
        let have = json!({"a": {"b": 2, "c": [1]}, "e": true});
        let changes = field_changes(
            want.as_object().expect("object"),
            have.as_object().expect("object"),
            &|segments| segments.join("/"),
        );
        let seen: Vec<(&str, Value, Value)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.auth0.clone(), c.desired.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("a/b", json!(2), json!(1)),
                ("d", Value::Null, json!("x")),
                ("e", json!(true), Value::Null)
            ]
        );
        assert!(
            field_changes(
                want.as_object().expect("object"),
                want.as_object().expect("object"),
                &|s| s.join(".")
            )
            .is_empty()
        );
    }
}
