//! `export` (pure): Auth0 profiles of any kind (or a template) to manifests of their kind,
//! with deterministic DNS-1123 names. A connection profile's spec is read here; a user
//! attribute or self-service profile's in [`super::specs`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::kinds::KindName;
use super::specs::{self, SelfServiceFields, UserAttributeFields};
use crate::controller::desired::{from_wire, normalize};
use crate::crd::{
    ConnectionConfig, CrossAppAccessResourceApp, DeletionPolicy, Feature, ManagementPolicy, Organization, Provisioning,
    StrategyOverrides, TenantRef,
};

/// Longest slug kept before the hash suffix: with `-` and 8 hex digits the name stays well
/// inside a DNS-1123 label (63).
const SLUG_MAX: usize = 50;

/// What the user chose for every manifest.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `metadata.namespace`; left out when `None` (kubectl's current namespace applies).
    pub namespace: Option<String>,
    /// `spec.tenantRef`; left out when `None` (the default, ClusterAuth0Tenant/default).
    pub tenant_ref: Option<TenantRef>,
    /// `spec.managementPolicy`; left out for `Manage`, the default.
    pub management_policy: ManagementPolicy,
    /// `spec.deletionPolicy`; left out for `Delete`, the default.
    pub deletion_policy: DeletionPolicy,
}

/// A manifest of one of the operator's kinds, its keys in the order a person reads them.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: AnySpec,
}

impl Manifest {
    /// `spec.externalID`, when the manifest adopts a profile.
    pub fn external_id(&self) -> Option<&str> {
        match &self.spec {
            AnySpec::ConnectionProfile(spec) => spec.external_id.as_deref(),
            AnySpec::UserAttributeProfile(spec) => spec.header.external_id.as_deref(),
            AnySpec::SelfServiceProfile(spec) => spec.header.external_id.as_deref(),
        }
    }

    /// The file `export --dir` writes the manifest to ([`KindName::file`]).
    pub fn file(&self) -> String {
        KindName::of(self.kind)
            .unwrap_or(KindName::ConnectionProfile)
            .file(&self.metadata.name)
    }
}

/// The spec of a manifest of any kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum AnySpec {
    ConnectionProfile(Box<Spec>),
    UserAttributeProfile(Box<KindSpec<UserAttributeFields>>),
    SelfServiceProfile(Box<KindSpec<SelfServiceFields>>),
}

/// The fields every kind's spec has, in the order a ConnectionProfile's [`Spec`] writes
/// them, each left out when it is the default.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "externalID", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<TenantRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_policy: Option<ManagementPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// A user attribute or self-service profile's spec: the [`Header`], then the kind's fields.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct KindSpec<F> {
    #[serde(flatten)]
    pub header: Header,
    #[serde(flatten)]
    pub fields: F,
}

/// `metadata`: name and, when chosen, namespace.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metadata {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The spec, with every default left out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "externalID", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<TenantRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_policy: Option<ManagementPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_name_prefix_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_features: Option<Vec<Feature>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<StrategyOverrides>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_app_access_resource_app: Option<CrossAppAccessResourceApp>,
}

impl Spec {
    /// The writable fields of `fields` (Auth0's snake_case, as a profile or a template holds
    /// them) as [`normalize`] reads them, with the top-level fields that equal their default
    /// (no prefix, no features, empty objects, null) left out. Nested values stay exactly as
    /// Auth0 holds them (an empty `connection_config` inside an override included), so the
    /// spec's desired body equals the profile and adopting it writes nothing. Returns the spec
    /// and the profile's name.
    pub fn from_wire(fields: &Value) -> Result<(Spec, String), String> {
        let normalized = normalize(fields);
        let name = normalized
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or("the profile has no name")?
            .to_string();
        let kept: Map<String, Value> = normalized
            .into_iter()
            .filter(|(field, _)| field != "name")
            .map(|(field, value)| {
                let value = without_defaults(&field, value);
                (field, value)
            })
            .filter(|(field, value)| !is_default(field, value))
            .collect();
        let spec =
            serde_json::from_value(from_wire(&Value::Object(kept))).map_err(|e| format!("reading the profile: {e}"))?;
        Ok((spec, name))
    }
}

/// `organization` without the settings that equal Auth0's default (`none`), which the CRD
/// schema fills in again.
fn without_defaults(field: &str, value: Value) -> Value {
    match (field, value) {
        ("organization", Value::Object(map)) => Value::Object(map.into_iter().filter(|(_, v)| v != "none").collect()),
        (_, value) => value,
    }
}

/// A top-level value that means the same as leaving the field out: Auth0's default for
/// `enabled_features` (both features; an empty list is a setting), else nothing set.
fn is_default(field: &str, value: &Value) -> bool {
    if field == "enabled_features" {
        return *value == serde_json::json!(["scim", "universal_logout"]);
    }
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

impl AnySpec {
    /// The spec with `spec.name` and `spec.externalID` set.
    fn named(self, name: Option<String>, external_id: Option<String>) -> AnySpec {
        match self {
            AnySpec::ConnectionProfile(spec) => AnySpec::ConnectionProfile(Box::new(Spec {
                name,
                external_id,
                ..*spec
            })),
            AnySpec::UserAttributeProfile(spec) => AnySpec::UserAttributeProfile(Box::new(KindSpec {
                header: Header {
                    name,
                    external_id,
                    ..spec.header
                },
                fields: spec.fields,
            })),
            AnySpec::SelfServiceProfile(spec) => AnySpec::SelfServiceProfile(Box::new(KindSpec {
                header: Header {
                    name,
                    external_id,
                    ..spec.header
                },
                fields: spec.fields,
            })),
        }
    }

    fn kind(&self) -> KindName {
        match self {
            AnySpec::ConnectionProfile(_) => KindName::ConnectionProfile,
            AnySpec::UserAttributeProfile(_) => KindName::UserAttributeProfile,
            AnySpec::SelfServiceProfile(_) => KindName::SelfServiceProfile,
        }
    }
}

impl Manifest {
    fn new(name: String, spec: AnySpec, options: &Options) -> Manifest {
        let tenant_ref = options.tenant_ref.clone();
        let management_policy =
            (options.management_policy != ManagementPolicy::Manage).then_some(options.management_policy);
        let deletion_policy = (options.deletion_policy != DeletionPolicy::Delete).then_some(options.deletion_policy);
        let header = |header: Header| Header {
            tenant_ref: tenant_ref.clone(),
            management_policy,
            deletion_policy,
            ..header
        };
        let kind = spec.kind().kind();
        let spec = match spec {
            AnySpec::ConnectionProfile(spec) => AnySpec::ConnectionProfile(Box::new(Spec {
                tenant_ref: tenant_ref.clone(),
                management_policy,
                deletion_policy,
                ..*spec
            })),
            AnySpec::UserAttributeProfile(spec) => AnySpec::UserAttributeProfile(Box::new(KindSpec {
                header: header(spec.header),
                fields: spec.fields,
            })),
            AnySpec::SelfServiceProfile(spec) => AnySpec::SelfServiceProfile(Box::new(KindSpec {
                header: header(spec.header),
                fields: spec.fields,
            })),
        };
        Manifest {
            api_version: super::API_VERSION,
            kind,
            metadata: Metadata {
                name,
                namespace: options.namespace.clone(),
            },
            spec,
        }
    }
}

/// Every profile (Auth0's JSON, each with `id` and `name`) as a manifest that adopts it:
/// `spec.externalID` its id, `spec.name` its Auth0 name, `metadata.name` from [`dns_names`].
/// Sorted by `metadata.name`, so the same tenant always exports the same bytes.
///
/// Errors: a profile without an id, or with a field the resource cannot hold, named by id.
pub fn profiles(profiles: &[Value], options: &Options) -> Result<Vec<Manifest>, String> {
    adopting(profiles, options, |profile| {
        let (spec, name) = Spec::from_wire(profile)?;
        Ok((AnySpec::ConnectionProfile(Box::new(spec)), name))
    })
}

/// Every user attribute profile as a UserAttributeProfile manifest that adopts it, as
/// [`profiles`] does for connection profiles ([`specs::user_attribute_profile`]).
pub fn user_attribute_profiles(items: &[Value], options: &Options) -> Result<Vec<Manifest>, String> {
    adopting(items, options, |item| {
        let (fields, name) = specs::user_attribute_profile(item)?;
        Ok((
            AnySpec::UserAttributeProfile(Box::new(KindSpec {
                header: Header::default(),
                fields,
            })),
            name,
        ))
    })
}

/// Every self-service profile as a SelfServiceProfile manifest that adopts it, as
/// [`profiles`] does for connection profiles ([`specs::self_service_profile`]):
/// `custom_texts` holds each profile's custom text by id (a profile left out has its texts
/// left alone), `names` the `metadata.name` of the UserAttributeProfile that manages each
/// user attribute profile id in the manifests' namespace ([`reference_names`]).
pub fn self_service_profiles(
    items: &[Value],
    custom_texts: &BTreeMap<String, Value>,
    names: &BTreeMap<String, String>,
    options: &Options,
) -> Result<Vec<Manifest>, String> {
    adopting(items, options, |item| {
        let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
        let (fields, name) = specs::self_service_profile(item, custom_texts.get(id), names)?;
        Ok((
            AnySpec::SelfServiceProfile(Box::new(KindSpec {
                header: Header::default(),
                fields,
            })),
            name,
        ))
    })
}

/// The `metadata.name` a self-service profile's `userAttributeProfileRef` names for each
/// user attribute profile id: the UserAttributeProfile manifests exported beside it, else
/// `live` (`(id, metadata.name)` of the cluster's UserAttributeProfiles that manage an id
/// in the manifests' namespace, on their tenantRef).
pub fn reference_names(exported: &[Manifest], live: &[(String, String)]) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> = live.iter().cloned().collect();
    for manifest in exported {
        if let (AnySpec::UserAttributeProfile(_), Some(id)) = (&manifest.spec, manifest.external_id()) {
            names.insert(id.to_string(), manifest.metadata.name.clone());
        }
    }
    names
}

/// Items as manifests that adopt them, each item's spec and Auth0 name read by `read`.
fn adopting(
    items: &[Value],
    options: &Options,
    read: impl Fn(&Value) -> Result<(AnySpec, String), String>,
) -> Result<Vec<Manifest>, String> {
    let mut entries = Vec::new();
    for item in items {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a profile in the listing has no id")?;
        let (spec, name) = read(item).map_err(|e| format!("profile {id}: {e}"))?;
        entries.push((id.to_string(), name, spec));
    }
    let pairs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(id, name, _)| (id.as_str(), name.as_str()))
        .collect();
    let names = dns_names(&pairs);
    let mut manifests: Vec<Manifest> = entries
        .into_iter()
        .zip(names)
        .map(|((id, name, spec), meta)| Manifest::new(meta, spec.named(Some(name), Some(id)), options))
        .collect();
    manifests.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(manifests)
}

/// A template (Auth0's `{id, display_name, template}`) as a manifest that creates a new
/// profile named `name`. A `name` that is a DNS-1123 label (`okta-express`) is
/// `metadata.name` and, without `spec.name`, the Auth0 name; any other (`Okta Express`) is
/// kept as `spec.name`, the Auth0 name, and `metadata.name` is its [`slug`].
pub fn template(template: &Value, name: &str, options: &Options) -> Result<Manifest, String> {
    template_of(KindName::ConnectionProfile, template, name, options)
}

/// A template of `kind` (connection and user attribute profiles have templates) as a
/// manifest that creates a new profile named `name`, as [`template`] says.
pub fn template_of(kind: KindName, template: &Value, name: &str, options: &Options) -> Result<Manifest, String> {
    let mut fields = template.get("template").cloned().unwrap_or(Value::Null);
    if !fields.is_object() {
        return Err("the template has no `template` object".into());
    }
    // The template's own name is a suggestion; the resource's is the user's choice.
    fields["name"] = Value::String(name.to_string());
    let spec = match kind {
        KindName::ConnectionProfile => AnySpec::ConnectionProfile(Box::new(Spec::from_wire(&fields)?.0)),
        KindName::UserAttributeProfile => AnySpec::UserAttributeProfile(Box::new(KindSpec {
            header: Header::default(),
            fields: specs::user_attribute_profile(&fields)?.0,
        })),
        KindName::SelfServiceProfile => return Err("Auth0 serves no self-service profile templates".into()),
    };
    let meta = slug(name);
    let spec = spec.named((meta != name).then(|| name.to_string()), None);
    Ok(Manifest::new(meta, spec, options))
}

/// `metadata.name`s for profiles given as `(id, Auth0 name)`: the name itself when it is
/// already a DNS-1123 label of at most 50 characters that no other profile is named exactly;
/// otherwise its slug (lowercase ASCII letters and digits, every other run of characters one
/// `-`, at most 50, `profile` when nothing is left) plus `-` and 8 hex digits of a hash of
/// the id. Deterministic and independent of order; distinct for distinct ids.
pub fn dns_names(profiles: &[(&str, &str)]) -> Vec<String> {
    let slugs: Vec<String> = profiles.iter().map(|(_, name)| slug(name)).collect();
    // How many profiles are named exactly this slug: one keeps it, two (a tenant that
    // allows duplicate names) both take a hash.
    let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
    for ((_, name), s) in profiles.iter().zip(&slugs) {
        if *name == s {
            *uses.entry(s.as_str()).or_default() += 1;
        }
    }
    let mut names: Vec<String> = profiles
        .iter()
        .zip(&slugs)
        .map(|((id, name), s)| {
            // `kustomization` is the file `export --dir` lists the others in: a profile of
            // that name takes the hash, so its manifest never overwrites the list.
            if *name == s && uses[s.as_str()] == 1 && s != KUSTOMIZATION {
                s.clone()
            } else {
                format!("{s}-{:08x}", fnv1a(id.as_bytes()) as u32)
            }
        })
        .collect();
    // A hashed name equal to another profile's plain name (a profile literally named
    // `acme-1a2b3c4d`): take the full 64-bit hash for the hashed one.
    let plain: std::collections::HashSet<String> = profiles
        .iter()
        .zip(&names)
        .filter(|((_, name), meta)| name == meta)
        .map(|(_, meta)| meta.clone())
        .collect();
    for ((id, name), meta) in profiles.iter().zip(names.iter_mut()) {
        if *name != meta && plain.contains(meta.as_str()) {
            *meta = format!("{}-{:016x}", slug(name), fnv1a(id.as_bytes()));
        }
    }
    names
}

/// Lowercase ASCII letters and digits; every other run of characters one `-`; no `-` at
/// either end; at most 50 characters; `profile` when nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(SLUG_MAX);
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "profile".to_string()
    } else {
        trimmed.to_string()
    }
}

/// FNV-1a, 64 bits: a fixed, documented hash, so names never change between releases (the
/// standard library's hasher may).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Manifests as one multi-document YAML stream, each document opened by `---`.
pub fn to_yaml(manifests: &[Manifest]) -> Result<String, String> {
    let mut out = String::new();
    for manifest in manifests {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(manifest).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The name `export --dir` gives its list (`kustomization.yaml`), which no profile's file
/// may take.
const KUSTOMIZATION: &str = "kustomization";

/// Whether `text` (a file's content) is a manifest as `export` writes it: one
/// ConnectionProfile, UserAttributeProfile or SelfServiceProfile document with
/// `spec.externalID`. A re-export replaces or removes only
/// such a file, edited or not; anything else in the folder is the user's (a file added to
/// the list by hand, a note), and is never overwritten or removed.
pub fn is_exported_manifest(text: &str) -> bool {
    exported_kind(text).is_some()
}

/// The kind of the manifest `text` holds when it is one as `export` writes it: one
/// document of one of the operator's kinds with `spec.externalID`; `None` for anything else
/// (see [`is_exported_manifest`]).
pub fn exported_kind(text: &str) -> Option<KindName> {
    let value = serde_saphyr::from_str::<Value>(text).ok()?;
    let ours = value["apiVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("auth0.operators.dev/"))
        && value["spec"]["externalID"].is_string();
    KindName::of(value["kind"].as_str()?).filter(|_| ours)
}

/// A file name that two manifests would both be written to, if any (a ConnectionProfile
/// literally named like another kind's file).
pub fn repeated(files: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    files.iter().find(|f| !seen.insert(f.as_str())).map(String::as_str)
}

/// The entries of an earlier export's `resources` (`kustomization`, its text) that are not
/// the plain file names [`exported_before`] returns: what the user added (a folder, a base,
/// a `.yml` file). A re-export keeps them in the list it writes.
pub fn listed_by_user(kustomization: &str) -> Vec<String> {
    let ours = exported_before(kustomization);
    let parsed: Value = serde_saphyr::from_str(kustomization).unwrap_or(Value::Null);
    parsed["resources"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(Value::as_str)
                .filter(|e| !ours.iter().any(|o| o == e))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The first line of every `kustomization.yaml` `export --dir` writes: a re-export removes
/// the files such a kustomization lists and the new export does not write, and no other.
pub const KUSTOMIZATION_HEADER: &str =
    "# Written by `auth0-operator export --dir`: a re-export replaces the files listed here.";

/// The files an earlier `export --dir` listed in `kustomization` (its text), when it carries
/// [`KUSTOMIZATION_HEADER`]; plain file names only (no path, no `..`): nothing else is ever
/// removed.
pub fn exported_before(kustomization: &str) -> Vec<String> {
    if !kustomization.starts_with(KUSTOMIZATION_HEADER) {
        return Vec::new();
    }
    let parsed: Value = serde_saphyr::from_str(kustomization).unwrap_or(Value::Null);
    parsed["resources"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(Value::as_str)
                .filter(|f| f.ends_with(".yaml") && !f.contains('/') && !f.contains("..") && !f.starts_with('.'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `kustomization.yaml` listing `files`, under [`KUSTOMIZATION_HEADER`].
pub fn kustomization(files: &[String]) -> Result<String, String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Kustomization<'a> {
        api_version: &'static str,
        kind: &'static str,
        resources: &'a [String],
    }
    serde_saphyr::to_string(&Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: files,
    })
    .map(|yaml| format!("{KUSTOMIZATION_HEADER}\n{yaml}"))
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::validation;
    use serde_json::json;

    const A: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";
    const B: &str = "cop_2cu7Zs1Dfru5Qc9mZea7nm";
    const C: &str = "cop_3cu7Zs1Dfru5Qc9mZea7nm";

    fn is_dns_label(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }

    #[test]
    fn names_are_dns_labels_distinct_and_independent_of_order() {
        let input = [
            (A, "acme"),
            (B, "Acme"),
            (C, "Ünïcödé 日本"),
            ("cop_4cu7Zs1Dfru5Qc9mZea7nm", "日本"),
            ("cop_5cu7Zs1Dfru5Qc9mZea7nm", "acme"),
            ("cop_6cu7Zs1Dfru5Qc9mZea7nm", &"x".repeat(50)),
            ("cop_7cu7Zs1Dfru5Qc9mZea7nm", "--a--b--"),
        ];
        let names = dns_names(&input);
        assert!(names.iter().all(|n| is_dns_label(n)), "{names:?}");
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // Two profiles named `acme` and one `Acme`: none keeps the bare slug.
        assert!(names[..2].iter().all(|n| n.starts_with("acme-")), "{names:?}");
        assert!(names[2].starts_with("n-c-d-"), "{names:?}");
        assert!(names[3].starts_with("profile-"), "{names:?}");
        assert_eq!(names[5], "x".repeat(50));
        let mut reversed = input;
        reversed.reverse();
        let mut again = dns_names(&reversed);
        again.reverse();
        assert_eq!(again, names);
    }

    #[test]
    fn a_clean_name_is_kept_as_is() {
        assert_eq!(
            dns_names(&[(A, "partners-eu"), (B, "Partners EU")]),
            vec![
                "partners-eu".to_string(),
                format!("partners-eu-{:08x}", fnv1a(B.as_bytes()) as u32)
            ]
        );
    }

    #[test]
    fn a_hashed_name_never_takes_a_plain_one() {
        let hashed = format!("acme-{:08x}", fnv1a(B.as_bytes()) as u32);
        let names = dns_names(&[(A, &hashed), (B, "Acme")]);
        assert_eq!(names[0], hashed);
        assert_ne!(names[1], hashed);
    }

    #[test]
    fn an_exported_profile_is_a_valid_resource_that_adopts_it_with_defaults_left_out() {
        let remote = json!({
            "id": A, "name": "Okta partners", "connection_name_prefix_template": "",
            "organization": {"show_as_button": "required"}, "enabled_features": [],
            "connection_config": {}, "strategy_overrides": {"google-apps": {"enabled_features": ["scim"], "connection_config": {}}},
            "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}
        });
        let options = Options {
            namespace: Some("team".into()),
            tenant_ref: None,
            management_policy: ManagementPolicy::Observe,
            deletion_policy: DeletionPolicy::Orphan,
        };
        let manifests = profiles(std::slice::from_ref(&remote), &options).expect("exports");
        let value = serde_json::to_value(&manifests[0]).expect("json");
        assert_eq!(
            value["spec"],
            json!({"name": "Okta partners", "externalID": A, "managementPolicy": "Observe", "deletionPolicy": "Orphan",
                   "organization": {"showAsButton": "required"}, "enabledFeatures": [],
                   "strategyOverrides": {"googleApps": {"enabledFeatures": ["scim"], "connectionConfig": {}}},
                   "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}})
        );
        let parsed = validation::check(value, None).expect("valid");
        let want = crate::controller::desired::desired(&parsed);
        let have = crate::controller::desired::normalize(&remote);
        assert_eq!(crate::controller::desired::diff(&want, &have), None);
    }

    #[test]
    fn a_re_export_removes_only_what_an_export_listed() {
        let written = kustomization(&["a.yaml".into(), "b.yaml".into()]).expect("yaml");
        assert!(written.starts_with(KUSTOMIZATION_HEADER));
        assert_eq!(exported_before(&written), ["a.yaml", "b.yaml"]);
        // A kustomization someone else wrote is not ours to clean up after.
        let theirs = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n";
        assert!(exported_before(theirs).is_empty());
        // Nothing outside the folder, whatever the list says.
        let odd = format!("{KUSTOMIZATION_HEADER}\nresources: [../x.yaml, sub/y.yaml, .hidden.yaml, z.yml, ok.yaml]\n");
        assert_eq!(exported_before(&odd), ["ok.yaml"]);
    }

    #[test]
    fn a_profile_named_kustomization_never_takes_the_lists_file() {
        let names = dns_names(&[(A, "kustomization"), (B, "other")]);
        assert_ne!(names[0], "kustomization");
        assert!(names[0].starts_with("kustomization-"), "{names:?}");
        assert_eq!(names[1], "other");
    }

    #[test]
    fn only_an_exported_manifest_is_ours_to_replace_or_remove() {
        let manifests = profiles(&[json!({"id": A, "name": "plain"})], &Options::default()).expect("exports");
        let ours = to_yaml(&manifests).expect("yaml");
        assert!(is_exported_manifest(&ours));
        // Edited (switched to Manage, a field changed), still ours.
        assert!(is_exported_manifest(&format!(
            "{ours}  connectionNamePrefixTemplate: x-\n"
        )));
        // The user's: another kind, a resource with no externalID, two documents, not YAML.
        assert!(!is_exported_manifest(
            &ours.replace("kind: ConnectionProfile", "kind: Auth0Tenant")
        ));
        assert!(!is_exported_manifest(&ours.replace("externalID", "note")));
        assert!(!is_exported_manifest(
            &ours.replace("apiVersion: auth0.operators.dev/", "apiVersion: other.dev/")
        ));
        assert!(!is_exported_manifest(&format!("{ours}{ours}")));
        assert!(!is_exported_manifest("# notes\n"));
        assert!(!is_exported_manifest("a: [\n"));
    }

    #[test]
    fn entries_the_user_added_to_the_list_are_kept() {
        let text = format!("{KUSTOMIZATION_HEADER}\nresources: [a.yaml, ../base, tenant.yml, sub/x.yaml, b.yaml]\n");
        assert_eq!(listed_by_user(&text), ["../base", "tenant.yml", "sub/x.yaml"]);
        assert!(listed_by_user(&format!("{KUSTOMIZATION_HEADER}\n")).is_empty());
    }

    #[test]
    fn yaml_is_stable_and_parses_back() {
        let remote = json!({"id": A, "name": "ünï", "enabled_features": ["universal_logout", "scim"]});
        let manifests = profiles(&[remote], &Options::default()).expect("exports");
        let yaml = to_yaml(&manifests).expect("yaml");
        assert!(
            yaml.starts_with("---\napiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\n"),
            "{yaml}"
        );
        let back: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("parses");
        assert_eq!(back[0]["spec"]["name"], "ünï");
        // Both features are Auth0's default, which the CRD schema fills in: left out.
        assert_eq!(back[0]["spec"].get("enabledFeatures"), None);
    }

    #[test]
    fn a_template_becomes_a_manifest_named_by_the_user() {
        let item = json!({"id": "cpt_1", "display_name": "Okta", "template": {
            "name": "Okta Express Configuration", "connection_name_prefix_template": "okta-{org_id}",
            "enabled_features": ["scim"]}});
        let manifest = template(&item, "okta", &Options::default()).expect("manifest");
        let value = serde_json::to_value(&manifest).expect("json");
        assert_eq!(value["metadata"], json!({"name": "okta"}));
        assert_eq!(
            value["spec"],
            json!({"connectionNamePrefixTemplate": "okta-{org_id}", "enabledFeatures": ["scim"]})
        );
        validation::check(value, None).expect("valid");
        // A name that is no DNS-1123 label: the Auth0 name, with a slug for metadata.name.
        let manifest = template(&item, "Okta Express", &Options::default()).expect("manifest");
        let value = serde_json::to_value(&manifest).expect("json");
        assert_eq!(value["metadata"], json!({"name": "okta-express"}));
        assert_eq!(value["spec"]["name"], "Okta Express");
        validation::check(value, None).expect("valid");
    }

    const UAP: &str = "uap_1cu7Zs1Dfru5Qc9mZea7nm";
    const SSP: &str = "ssp_1cu7Zs1Dfru5Qc9mZea7nm";

    fn user_attribute_profile() -> Value {
        json!({"id": UAP, "name": "Partner attributes",
               "user_id": {"oidc_mapping": "sub",
                           "saml_mapping": ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
                                            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                                            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"],
                           "scim_mapping": "userName"},
               "user_attributes": {"given_name": {"label": "Given", "description": "First name",
                                                  "auth0_mapping": "given_name", "profile_required": true,
                                                  "oidc_mapping": {"mapping": "given_name"}}}})
    }

    fn self_service_profile() -> Value {
        json!({"id": SSP, "name": "Portal", "description": "SSO for customers",
               "allowed_strategies": ["samlp", "oidc"], "user_attributes": [],
               "user_attribute_profile_id": UAP,
               "branding": {"colors": {"primary": "#0059d6"}}})
    }

    /// What the operator would PATCH after adopting `manifest` (its JSON) over `remote`:
    /// nothing, when the export says what Auth0 holds.
    fn patch_on_adoption<K: crate::crd::Kind>(manifest: Value, resolved: &crate::crd::kind::Resolved, remote: &Value) {
        let parsed = crate::cli::kinds::checked::<K>(manifest).expect("valid");
        let want = parsed.desired(resolved);
        assert_eq!(crate::controller::desired::diff(&want, &K::normalize(remote)), None);
    }

    #[test]
    fn each_kind_exports_what_auth0_holds_and_adopting_it_writes_nothing() {
        let options = Options {
            deletion_policy: DeletionPolicy::Orphan,
            ..Options::default()
        };
        let attributes = user_attribute_profiles(&[user_attribute_profile()], &options).expect("exports");
        let value = serde_json::to_value(&attributes[0]).expect("json");
        assert_eq!(value["kind"], "UserAttributeProfile");
        assert_eq!(
            value["metadata"],
            json!({"name": format!("partner-attributes-{:08x}", fnv1a(UAP.as_bytes()) as u32)})
        );
        // The header first, as a ConnectionProfile's; attribute names as Auth0 holds them,
        // the mappings equal to Auth0's default left out.
        assert_eq!(
            value["spec"],
            json!({"name": "Partner attributes", "externalID": UAP, "deletionPolicy": "Orphan",
                   "userId": {"scimMapping": "userName"},
                   "userAttributes": {"given_name": {"label": "Given", "description": "First name",
                                                     "auth0Mapping": "given_name", "profileRequired": true,
                                                     "oidcMapping": {"mapping": "given_name"}}}})
        );
        let yaml = to_yaml(&attributes).expect("yaml");
        assert!(
            yaml.contains("spec:\n  name: Partner attributes\n  externalID: uap_"),
            "{yaml}"
        );
        assert!(yaml.contains("    given_name:\n"), "{yaml}");
        patch_on_adoption::<crate::crd::UserAttributeProfile>(value, &Default::default(), &user_attribute_profile());

        // The self-service profile names the exported user attribute profile by name, and
        // the reference resolves to the id Auth0 holds: nothing to PATCH.
        let names = reference_names(&attributes, &[]);
        let texts = BTreeMap::from([(SSP.to_string(), json!({"introduction": "Connect your IdP."}))]);
        let portal = self_service_profiles(&[self_service_profile()], &texts, &names, &options).expect("exports");
        let value = serde_json::to_value(&portal[0]).expect("json");
        assert_eq!(
            value["metadata"]["name"],
            "portal-".to_string() + &format!("{:08x}", fnv1a(SSP.as_bytes()) as u32)
        );
        assert_eq!(
            value["spec"],
            json!({"name": "Portal", "externalID": SSP, "deletionPolicy": "Orphan", "description": "SSO for customers",
                   "allowedStrategies": ["oidc", "samlp"], "branding": {"colors": {"primary": "#0059d6"}},
                   "userAttributeProfileRef": {"name": attributes[0].metadata.name},
                   "customText": {"en": {"getStarted": {"introduction": "Connect your IdP."}}}})
        );
        let resolved = crate::crd::kind::Resolved::from([("user_attribute_profile_id", UAP.to_string())]);
        patch_on_adoption::<crate::crd::SelfServiceProfile>(value, &resolved, &self_service_profile());
        // Without the user attribute profile exported beside it: by id.
        let alone = self_service_profiles(&[self_service_profile()], &BTreeMap::new(), &BTreeMap::new(), &options)
            .expect("exports");
        let value = serde_json::to_value(&alone[0]).expect("json");
        assert_eq!(value["spec"]["userAttributeProfileRef"], json!({"id": UAP}));
        assert_eq!(value["spec"].get("customText"), None);
        patch_on_adoption::<crate::crd::SelfServiceProfile>(value, &Default::default(), &self_service_profile());
    }

    #[test]
    fn an_exported_user_attribute_profile_is_named_before_a_live_one() {
        let exported = user_attribute_profiles(&[user_attribute_profile()], &Options::default()).expect("exports");
        let other = "uap_2cu7Zs1Dfru5Qc9mZea7nm";
        let live = [
            (UAP.to_string(), "stale-name".to_string()),
            (other.to_string(), "in-cluster".to_string()),
        ];
        let names = reference_names(&exported, &live);
        assert_eq!(names[UAP], exported[0].metadata.name);
        assert_eq!(names[other], "in-cluster");
        // A connection profile's id is nobody's reference.
        let profiles = profiles(&[json!({"id": A, "name": "a"})], &Options::default()).expect("exports");
        assert_eq!(reference_names(&profiles, &[]).len(), 0);
    }

    #[test]
    fn every_kind_is_an_export_and_two_kinds_get_two_files() {
        let attributes = user_attribute_profiles(&[user_attribute_profile()], &Options::default()).expect("exports");
        let text = to_yaml(&attributes).expect("yaml");
        assert_eq!(exported_kind(&text), Some(KindName::UserAttributeProfile));
        assert!(is_exported_manifest(&text));
        let portal = self_service_profiles(
            &[self_service_profile()],
            &BTreeMap::new(),
            &BTreeMap::new(),
            &Options::default(),
        )
        .expect("exports");
        assert_eq!(
            exported_kind(&to_yaml(&portal).expect("yaml")),
            Some(KindName::SelfServiceProfile)
        );
        let cop = profiles(&[json!({"id": A, "name": "plain"})], &Options::default()).expect("exports");
        assert_eq!(
            exported_kind(&to_yaml(&cop).expect("yaml")),
            Some(KindName::ConnectionProfile)
        );
        assert_eq!(cop[0].file(), "plain.yaml");
        assert_eq!(
            attributes[0].file(),
            format!("userattributeprofile-{}.yaml", attributes[0].metadata.name)
        );
        assert_eq!(exported_kind(&text.replace("externalID", "note")), None);
        assert_eq!(repeated(&["a.yaml".into(), "b.yaml".into()]), None);
        assert_eq!(
            repeated(&["a.yaml".into(), "b.yaml".into(), "a.yaml".into()]),
            Some("a.yaml")
        );
    }

    #[test]
    fn a_user_attribute_template_becomes_a_manifest_and_self_service_has_none() {
        let item = json!({"id": "auth0-generic", "display_name": "Generic", "template": {
            "name": "Auth0 Generic", "user_id": crate::crd::auth0_default_user_id(),
            "user_attributes": {"email": {"label": "Email", "description": "Email", "auth0_mapping": "email",
                                          "profile_required": true}}}});
        let manifest = template_of(
            KindName::UserAttributeProfile,
            &item,
            "Partner SSO",
            &Options::default(),
        )
        .expect("manifest");
        let value = serde_json::to_value(&manifest).expect("json");
        assert_eq!(value["kind"], "UserAttributeProfile");
        assert_eq!(value["metadata"], json!({"name": "partner-sso"}));
        assert_eq!(
            value["spec"],
            json!({"name": "Partner SSO", "userAttributes": {"email": {"label": "Email", "description": "Email",
                   "auth0Mapping": "email", "profileRequired": true}}})
        );
        KindName::UserAttributeProfile.check(value).expect("valid");
        assert!(template_of(KindName::SelfServiceProfile, &item, "x", &Options::default()).is_err());
    }
}
