//! Reading manifests for `plan`: files, folders (recursively, `*.yaml`, `*.yml`, `*.json`)
//! and `-` for stdin, each a YAML stream of any number of documents (kustomize's output,
//! `kubectl get -o yaml` Lists). ConnectionProfiles, UserAttributeProfiles and
//! SelfServiceProfiles are kept; documents of other kinds are skipped.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::kinds::KindName;

/// One document of the operator's kinds and where it came from (`path#index`, 1-based).
#[derive(Debug, Clone)]
pub struct Document {
    pub source: String,
    pub value: Value,
}

impl Document {
    /// The document's kind.
    pub fn kind(&self) -> Option<KindName> {
        KindName::of(self.value.get("kind")?.as_str()?)
    }
}

/// Every document of the operator's kinds under `paths`, in order (folders in name order).
/// Errors name the file: unreadable, or not YAML.
pub fn read(paths: &[PathBuf]) -> Result<Vec<Document>, String> {
    let mut documents = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading stdin: {e}"))?;
            documents.extend(parse("-", &text)?);
        } else {
            read_path(path, &mut documents)?;
        }
    }
    Ok(documents)
}

fn read_path(path: &Path, documents: &mut Vec<Document>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let manifest = entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
            if entry.is_dir() || manifest {
                read_path(&entry, documents)?;
            }
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    documents.extend(parse(&path.display().to_string(), &text)?);
    Ok(())
}

/// The documents of the operator's kinds in one YAML stream (`List` items included).
pub fn parse(source: &str, text: &str) -> Result<Vec<Document>, String> {
    let values: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| format!("{source}: {e}"))?;
    let mut documents = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        let items = match value.get("kind").and_then(Value::as_str) {
            Some("List") => value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => vec![value],
        };
        for item in items {
            let ours = item
                .get("kind")
                .and_then(Value::as_str)
                .and_then(KindName::of)
                .is_some()
                && item
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with("auth0.operators.dev/"));
            if ours {
                documents.push(Document {
                    source: format!("{source}#{}", index + 1),
                    value: item,
                });
            }
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_operators_kinds_of_every_document_and_list() {
        let text = "---\napiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\nmetadata: {name: a}\n\
                    ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\
                    ---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: auth0.operators.dev/v1alpha1\n  kind: ConnectionProfile\n  metadata: {name: b}\n\
                    - apiVersion: auth0.operators.dev/v1alpha1\n  kind: UserAttributeProfile\n  metadata: {name: u}\n\
                    ---\napiVersion: auth0.operators.dev/v1alpha1\nkind: SelfServiceProfile\nmetadata: {name: s}\n\
                    ---\napiVersion: auth0.operators.dev/v1alpha1\nkind: Auth0Tenant\nmetadata: {name: t}\n\
                    ---\napiVersion: other.dev/v1\nkind: SelfServiceProfile\nmetadata: {name: x}\n";
        let found = parse("x.yaml", text).expect("parses");
        let names: Vec<(&str, Option<KindName>)> = found
            .iter()
            .filter_map(|d| Some((d.value["metadata"]["name"].as_str()?, d.kind())))
            .collect();
        assert_eq!(
            names,
            [
                ("a", Some(KindName::ConnectionProfile)),
                ("b", Some(KindName::ConnectionProfile)),
                ("u", Some(KindName::UserAttributeProfile)),
                ("s", Some(KindName::SelfServiceProfile))
            ]
        );
        assert_eq!(found[0].source, "x.yaml#1");
        assert_eq!(found[3].source, "x.yaml#4");
    }

    #[test]
    fn broken_yaml_names_its_source() {
        let err = parse("bad.yaml", "a: [").expect_err("broken");
        assert!(err.starts_with("bad.yaml: "), "{err}");
    }
}
