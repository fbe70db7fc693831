//! Which of the operator's kinds a command works on (`--kind`), and what each command says
//! of a kind: its Auth0 API, its words in messages, its file names.

use clap::ValueEnum;
use serde_json::Value;

use crate::crd::kind::Auth0Api;
use crate::crd::validation::{Invalid, parse_strict};
use crate::crd::{
    CONNECTION_PROFILES, ConnectionProfile, Kind, SELF_SERVICE_PROFILES, SelfServiceProfile, USER_ATTRIBUTE_PROFILES,
    UserAttributeProfile,
};

/// One kind of resource, as `--kind` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum KindName {
    ConnectionProfile,
    UserAttributeProfile,
    SelfServiceProfile,
}

impl KindName {
    /// Every kind, in the order their manifests are written: a self-service profile after
    /// the user attribute profiles it may name.
    pub const ALL: [KindName; 3] = [
        KindName::ConnectionProfile,
        KindName::UserAttributeProfile,
        KindName::SelfServiceProfile,
    ];

    /// The kind's Auth0 API.
    pub fn api(self) -> &'static Auth0Api {
        match self {
            KindName::ConnectionProfile => &CONNECTION_PROFILES,
            KindName::UserAttributeProfile => &USER_ATTRIBUTE_PROFILES,
            KindName::SelfServiceProfile => &SELF_SERVICE_PROFILES,
        }
    }

    /// The Kubernetes kind: `ConnectionProfile`.
    pub fn kind(self) -> &'static str {
        self.api().kind
    }

    /// The kind a manifest's `kind` names, when it is one of the operator's.
    pub fn of(kind: &str) -> Option<KindName> {
        KindName::ALL.into_iter().find(|k| k.kind() == kind)
    }

    /// What messages call the kind's items in the plural: `profiles` for connection
    /// profiles (the words the command line has always used), else Auth0's noun.
    pub fn items(self) -> String {
        match self {
            KindName::ConnectionProfile => "profiles".into(),
            other => format!("{}s", other.api().noun),
        }
    }

    /// What messages call one item: `profile` for a connection profile, else Auth0's noun.
    pub fn item(self) -> &'static str {
        match self {
            KindName::ConnectionProfile => "profile",
            other => other.api().noun,
        }
    }

    /// The progress line of a listing.
    pub fn progress(self) -> &'static str {
        match self {
            KindName::ConnectionProfile => "listed profiles:",
            KindName::UserAttributeProfile => "listed user attribute profiles:",
            KindName::SelfServiceProfile => "listed self-service profiles:",
        }
    }

    /// The file `export --dir` writes a manifest named `name` of this kind to:
    /// `<name>.yaml` for a ConnectionProfile (as ever), `<kind>-<name>.yaml` for the others
    /// (`userattributeprofile-attrs.yaml`), so that resources of two kinds named alike get
    /// two files.
    pub fn file(self, name: &str) -> String {
        match self {
            KindName::ConnectionProfile => format!("{name}.yaml"),
            other => format!("{}-{name}.yaml", other.kind().to_ascii_lowercase()),
        }
    }
}

impl KindName {
    /// What this version cannot express of `item` (Auth0's JSON), as `path: value` lines
    /// ([`Kind::unrecognized`]).
    pub fn unrecognized(self, item: &Value) -> Vec<String> {
        match self {
            KindName::ConnectionProfile => ConnectionProfile::unrecognized(item),
            KindName::UserAttributeProfile => UserAttributeProfile::unrecognized(item),
            KindName::SelfServiceProfile => SelfServiceProfile::unrecognized(item),
        }
    }

    /// Checks a manifest of this kind (as JSON) as the API server and the operator would:
    /// strict parsing, then the kind's rules.
    pub fn check(self, manifest: Value) -> Result<(), Invalid> {
        match self {
            KindName::ConnectionProfile => checked::<ConnectionProfile>(manifest).map(drop),
            KindName::UserAttributeProfile => checked::<UserAttributeProfile>(manifest).map(drop),
            KindName::SelfServiceProfile => checked::<SelfServiceProfile>(manifest).map(drop),
        }
    }
}

/// A manifest read strictly as a `K` and checked by its rules ([`Kind::validate`]): the
/// verdict the API server and the operator give it. For a ConnectionProfile, what
/// [`crate::crd::validation::check`] says of a new object.
pub fn checked<K: Kind>(manifest: Value) -> Result<K, Invalid> {
    let resource: K = parse_strict(manifest)?;
    resource.validate()?;
    Ok(resource)
}

/// `export --kind`: one kind, or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    #[value(name = "ConnectionProfile")]
    ConnectionProfile,
    #[value(name = "UserAttributeProfile")]
    UserAttributeProfile,
    #[value(name = "SelfServiceProfile")]
    SelfServiceProfile,
    /// Every kind: connection, user attribute and self-service profiles.
    #[value(name = "all")]
    All,
}

impl ExportKind {
    /// The kinds chosen, in [`KindName::ALL`]'s order.
    pub fn kinds(self) -> Vec<KindName> {
        match self {
            ExportKind::ConnectionProfile => vec![KindName::ConnectionProfile],
            ExportKind::UserAttributeProfile => vec![KindName::UserAttributeProfile],
            ExportKind::SelfServiceProfile => vec![KindName::SelfServiceProfile],
            ExportKind::All => KindName::ALL.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_api_words_and_files() {
        for kind in KindName::ALL {
            assert_eq!(KindName::of(kind.kind()), Some(kind));
            assert_eq!(kind.api().kind, kind.kind());
        }
        assert_eq!(KindName::of("Auth0Tenant"), None);
        assert_eq!(
            KindName::ALL.map(KindName::items),
            ["profiles", "user attribute profiles", "self-service profiles"]
        );
        assert_eq!(
            KindName::ALL.map(KindName::item),
            ["profile", "user attribute profile", "self-service profile"]
        );
        // A ConnectionProfile's file is its name, as before; the others' are kind-prefixed,
        // so `attrs` of two kinds are two files.
        assert_eq!(
            KindName::ALL.map(|k| k.file("attrs")),
            [
                "attrs.yaml",
                "userattributeprofile-attrs.yaml",
                "selfserviceprofile-attrs.yaml"
            ]
        );
        assert_eq!(ExportKind::All.kinds(), KindName::ALL);
        assert_eq!(ExportKind::SelfServiceProfile.kinds(), [KindName::SelfServiceProfile]);
        assert!(KindName::ALL.iter().all(|k| k.progress().starts_with("listed ")));
    }

    #[test]
    fn a_manifest_is_checked_strictly_by_its_kinds_rules() {
        let manifest = |spec: Value| {
            serde_json::json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
                               "metadata": {"name": "attrs"}, "spec": spec})
        };
        let attributes = serde_json::json!({"email": {"label": "E", "description": "E", "auth0Mapping": "email",
                                                      "profileRequired": true}});
        assert!(
            KindName::UserAttributeProfile
                .check(manifest(serde_json::json!({"userAttributes": attributes})))
                .is_ok()
        );
        let unknown = KindName::UserAttributeProfile
            .check(manifest(
                serde_json::json!({"userAttributes": attributes, "colour": "red"}),
            ))
            .expect_err("unknown field");
        assert_eq!(unknown.0[0].field, "spec.colour");
        let empty = KindName::UserAttributeProfile
            .check(manifest(serde_json::json!({"userAttributes": {}})))
            .expect_err("no attribute");
        assert_eq!(empty.0[0].field, "spec.userAttributes");
    }
}
