//! The flags of `export`, `templates` and `plan`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::kinds::{ExportKind, KindName};
use crate::crd::{DeletionPolicy, ManagementPolicy, TenantKind, TenantRef};

/// Where the tenant's credentials come from.
#[derive(Args, Debug, Clone)]
pub struct CredentialArgs {
    /// Read the tenant and its Secret from the cluster with your kubeconfig:
    /// `ClusterAuth0Tenant/NAME` or `Auth0Tenant/NAMESPACE/NAME`. Without it, AUTH0_DOMAIN,
    /// AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (and, for tests and proxies only,
    /// AUTH0_BASE_URL) are used. The client needs only the read scope of each kind read:
    /// read:connection_profiles, read:user_attribute_profiles, read:self_service_profiles
    /// (and read:self_service_profile_custom_texts to export their custom text).
    #[arg(long, value_name = "KIND/NAME")]
    pub from_cluster: Option<String>,

    /// Kubeconfig for --from-cluster; without it, KUBECONFIG or ~/.kube/config.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Where ClusterAuth0Tenant Secrets live: the operator's namespace.
    #[arg(long, default_value = "auth0-operator")]
    pub operator_namespace: String,

    /// Accept a tenant whose spec.endpoint.url is plain http (the emulator). Never against
    /// Auth0.
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Requests per second to Auth0, instead of the tenant's spec.rateLimit (default 1.5).
    #[arg(long)]
    pub requests_per_second: Option<f64>,

    /// Requests at once before the rate applies, with --requests-per-second (default 8).
    #[arg(long, default_value_t = 8)]
    pub burst: u32,

    /// Timeout of every call to Auth0, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_seconds: u64,
}

impl CredentialArgs {
    pub fn source(&self) -> super::credentials::Source {
        super::credentials::Source {
            from_cluster: self.from_cluster.clone(),
            kubeconfig: self.kubeconfig.clone(),
            operator_namespace: self.operator_namespace.clone(),
            allow_insecure_http: self.allow_insecure_http,
            rate_limit: self.requests_per_second.map(|rate| (rate, self.burst.max(1))),
            timeout: Duration::from_secs(self.timeout_seconds.max(1)),
        }
    }
}

/// How the written manifests look.
#[derive(Args, Debug, Clone)]
pub struct ManifestArgs {
    /// metadata.namespace of every manifest (default: none, kubectl's namespace applies).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,

    /// spec.tenantRef: `ClusterAuth0Tenant/NAME` or `Auth0Tenant/NAME` (default: the tenant
    /// `--from-cluster` names, the Auth0 tenant the profiles come from; without it left out,
    /// which means ClusterAuth0Tenant/default).
    #[arg(long, value_name = "KIND/NAME", value_parser = parse_tenant_ref)]
    pub tenant_ref: Option<TenantRef>,

    /// spec.managementPolicy: Observe reports what Manage would change and writes nothing.
    #[arg(long, value_enum, default_value_t = Policy::Manage)]
    pub management_policy: Policy,

    /// spec.deletionPolicy: Orphan leaves the Auth0 profile when the resource is deleted,
    /// Delete deletes it (default: Orphan for `export`, whose profiles are production's;
    /// left out, so Delete, for `templates`, whose profile the resource creates).
    #[arg(long, value_enum)]
    pub deletion_policy: Option<Deletion>,
}

impl ManifestArgs {
    /// These choices with `spec.tenantRef` (and, for an `Auth0Tenant`, which serves its own
    /// namespace only, `metadata.namespace`) defaulted to the tenant `from_cluster` names
    /// (`ClusterAuth0Tenant/NAME` or `Auth0Tenant/NAMESPACE/NAME`): the manifests then name
    /// the Auth0 tenant their profiles were read from, not `ClusterAuth0Tenant/default`.
    /// What the user gave wins; a `-n` other than an `Auth0Tenant`'s namespace is kept and
    /// warned about on stderr (the resources would not find that tenant).
    pub fn defaulted_from(&self, from_cluster: Option<&str>) -> ManifestArgs {
        let mut manifest = self.clone();
        let parts: Vec<&str> = from_cluster.unwrap_or_default().split('/').collect();
        let (tenant, namespace) = match parts.as_slice() {
            ["ClusterAuth0Tenant", name] => ((TenantKind::ClusterAuth0Tenant, *name), None),
            ["Auth0Tenant", namespace, name] => ((TenantKind::Auth0Tenant, *name), Some(*namespace)),
            _ => return manifest,
        };
        if manifest.tenant_ref.is_some() {
            return manifest;
        }
        manifest.tenant_ref = Some(TenantRef {
            kind: tenant.0,
            name: tenant.1.to_string(),
        });
        match (&manifest.namespace, namespace) {
            (None, Some(namespace)) => manifest.namespace = Some(namespace.to_string()),
            (Some(given), Some(namespace)) if given != namespace => eprintln!(
                "warning: -n {given}: Auth0Tenant/{} serves namespace {namespace} only; the manifests name it as their tenant and will not find it in {given} (give --tenant-ref)",
                tenant.1
            ),
            _ => {}
        }
        manifest
    }

    /// The choices as [`super::export::Options`]; `deletion` when `--deletion-policy` is not
    /// given.
    pub fn options(&self, deletion: Deletion) -> super::export::Options {
        super::export::Options {
            deletion_policy: match self.deletion_policy.unwrap_or(deletion) {
                Deletion::Delete => DeletionPolicy::Delete,
                Deletion::Orphan => DeletionPolicy::Orphan,
            },
            namespace: self.namespace.clone(),
            tenant_ref: self.tenant_ref.clone(),
            management_policy: match self.management_policy {
                Policy::Manage => ManagementPolicy::Manage,
                Policy::Observe => ManagementPolicy::Observe,
            },
        }
    }
}

/// `spec.managementPolicy`, as a flag value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum Policy {
    Manage,
    Observe,
}

/// `spec.deletionPolicy`, as a flag value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum Deletion {
    Delete,
    Orphan,
}

/// `auth0-operator export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// The kind to export: every item of it in the tenant. `all` exports the three, a
    /// SelfServiceProfile naming the exported UserAttributeProfile it uses by its name.
    #[arg(long, value_enum, default_value_t = ExportKind::ConnectionProfile)]
    pub kind: ExportKind,
    /// Write one file per profile (`<metadata.name>.yaml` for a ConnectionProfile,
    /// `<kind>-<metadata.name>.yaml` for the other kinds) and a kustomization.yaml here,
    /// instead of one multi-document YAML on stdout. A re-export into the same folder
    /// removes the files of the kinds exported that the last export wrote and this one does
    /// not.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Do not read the cluster: export every profile, also those a resource of its kind
    /// already manages (skipped otherwise, each named on stderr with its resource).
    #[arg(long)]
    pub no_cluster: bool,
}

/// `auth0-operator templates`.
#[derive(Args, Debug, Clone)]
pub struct TemplatesArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// Whose templates: ConnectionProfile's or UserAttributeProfile's (Auth0 has no
    /// self-service profile templates).
    #[arg(long, value_enum, default_value_t = KindName::ConnectionProfile)]
    pub kind: KindName,
    /// Print a manifest of the kind made from this template instead of the list.
    #[arg(long)]
    pub id: Option<String>,
    /// The Auth0 profile name with --id: metadata.name when it is a DNS-1123 label
    /// (`okta-express`), else spec.name with its slug as metadata.name (`Okta Express` is
    /// `okta-express`). Default: the template's display name as a DNS-1123 name.
    #[arg(long)]
    pub name: Option<String>,
}

/// `auth0-operator plan`.
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Manifests: files, folders (recursively) or `-` for stdin; repeatable.
    #[arg(long = "filename", short = 'f', required = true)]
    pub files: Vec<PathBuf>,
    /// The namespace of manifests that name none (default: kubectl's, the kubeconfig
    /// context's namespace, else `default`), as `kubectl apply -n` would place them.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Read no cluster: plan every manifest as a new resource (ownership between the
    /// manifests only). Without it, the cluster of the kubeconfig, when there is one, says
    /// which profiles the resources already own.
    #[arg(long)]
    pub no_cluster: bool,
    /// text for people, json for bots.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// How `plan` and `templates` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

fn parse_tenant_ref(text: &str) -> Result<TenantRef, String> {
    let (kind, name) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: give KIND/NAME, e.g. ClusterAuth0Tenant/default"))?;
    let kind = match kind {
        "ClusterAuth0Tenant" => TenantKind::ClusterAuth0Tenant,
        "Auth0Tenant" => TenantKind::Auth0Tenant,
        other => return Err(format!("{other:?} is not ClusterAuth0Tenant or Auth0Tenant")),
    };
    if name.is_empty() || name.contains('/') {
        return Err(format!("{text:?}: give KIND/NAME"));
    }
    Ok(TenantRef {
        kind,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(namespace: Option<&str>, tenant_ref: Option<&str>) -> ManifestArgs {
        ManifestArgs {
            namespace: namespace.map(str::to_string),
            tenant_ref: tenant_ref.map(|t| parse_tenant_ref(t).expect("a tenant ref")),
            management_policy: Policy::Manage,
            deletion_policy: None,
        }
    }

    fn shown(m: &ManifestArgs) -> (Option<String>, Option<String>) {
        (
            m.namespace.clone(),
            m.tenant_ref.as_ref().map(|t| format!("{:?}/{}", t.kind, t.name)),
        )
    }

    #[test]
    fn manifests_name_the_tenant_they_were_exported_from() {
        let none = manifest(None, None);
        assert_eq!(
            shown(&none.defaulted_from(Some("ClusterAuth0Tenant/acme-eu"))),
            (None, Some("ClusterAuth0Tenant/acme-eu".into()))
        );
        assert_eq!(
            shown(&none.defaulted_from(Some("Auth0Tenant/team/t"))),
            (Some("team".into()), Some("Auth0Tenant/t".into()))
        );
        // What the user gave wins.
        assert_eq!(
            shown(&manifest(Some("other"), None).defaulted_from(Some("Auth0Tenant/team/t"))),
            (Some("other".into()), Some("Auth0Tenant/t".into()))
        );
        assert_eq!(
            shown(&manifest(None, Some("ClusterAuth0Tenant/x")).defaulted_from(Some("Auth0Tenant/team/t"))),
            (None, Some("ClusterAuth0Tenant/x".into()))
        );
        // From the environment, or a reference the command refuses elsewhere: unchanged.
        for from in [None, Some("Auth0Tenant/t"), Some("Secret/a/b")] {
            assert_eq!(shown(&none.defaulted_from(from)), (None, None), "{from:?}");
        }
    }
}
