//! The IO of `export`, `templates` and `plan`: read Auth0 (never write), read files, print.
//! Every command returns its exit code; errors go to stderr as one line, never with a secret.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use super::args::{Deletion, ExportArgs, Output, PlanArgs, TemplatesArgs};
use super::progress::Progress;
use super::{credentials, export, manifests, plan};
use crate::auth0::ratelimit::Priority;
use crate::crd::ConnectionProfile;

/// What went wrong, for the person at the terminal.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// `n` and `noun`, plural when `n` is not 1: "1 profile", "2 profiles".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Every profile of the tenant (one listing: ceil(N/10) calls plus the token), with
/// progress on stderr after the first second.
async fn list(client: &crate::auth0::Auth0Client) -> Result<Vec<Value>, Failure> {
    let mut progress = Progress::new("listed profiles:");
    let profiles = client
        .list_reporting(Priority::User, |n| progress.step(n, None))
        .await
        .map_err(|e| format!("listing the tenant's profiles: {e}"))?;
    Ok(profiles.profiles)
}

/// `export`: 0 when written, 1 on an error.
pub async fn export(args: ExportArgs) -> Result<u8, Failure> {
    let source = args.credentials.source();
    let client = credentials::client(&source).await?;
    let mut profiles = list(&client).await?;
    // What a field this version cannot express holds is kept by the operator as Auth0 holds
    // it, but the manifest cannot say it: one warning per field.
    for profile in &profiles {
        for field in crate::controller::desired::unrecognized(profile) {
            eprintln!(
                "warning: profile {} ({}): {field} is not expressible by this version's ConnectionProfile; left out of the manifest (the operator keeps it as Auth0 holds it)",
                profile["id"].as_str().unwrap_or_default(),
                profile["name"].as_str().unwrap_or_default()
            );
        }
    }
    let manifest = args.manifest.defaulted_from(source.from_cluster.as_deref());
    let options = manifest.options(Deletion::Orphan);
    // Profiles the cluster's resources already manage are not exported again (their copy
    // would stall AlreadyManaged), unless the resource is the one this export writes.
    if !args.no_cluster {
        match credentials::kube_client(source.kubeconfig.as_deref()).await {
            Ok((cluster, default_namespace)) => {
                let namespace = manifest.namespace.clone().unwrap_or(default_namespace);
                let live = match live_profiles(&cluster, &[], &namespace).await {
                    Ok(live) => live,
                    // The default kubeconfig names a cluster that cannot be read: say so.
                    Err(e) if source.kubeconfig.is_none() => {
                        eprintln!("{e}: profiles the cluster may already manage are exported too");
                        Vec::new()
                    }
                    Err(e) => return Err(e),
                };
                let manifests = export::profiles(&profiles, &options)?;
                let written: HashMap<String, String> = manifests
                    .iter()
                    .filter_map(|m| Some((m.spec.external_id.clone()?, format!("{namespace}/{}", m.metadata.name))))
                    .collect();
                profiles.retain(|profile| {
                    let id = profile["id"].as_str().unwrap_or_default();
                    let owner = live
                        .iter()
                        .find(|r| crate::controller::profile::claims::claimed_id(*r) == Some(id))
                        .map(crate::controller::profile::claims::key);
                    match owner {
                        Some(owner) if written.get(id) != Some(&owner) => {
                            eprintln!(
                                "skipped profile {id} ({}): ConnectionProfile {owner} manages it",
                                profile["name"].as_str().unwrap_or_default()
                            );
                            false
                        }
                        _ => true,
                    }
                });
            }
            Err(e) if source.kubeconfig.is_none() => {
                eprintln!("no cluster to read ({e}): profiles the cluster may already manage are exported too");
            }
            Err(e) => return Err(format!("reading the kubeconfig: {e}").into()),
        }
    }
    let manifests = export::profiles(&profiles, &options)?;
    match &args.dir {
        None => {
            let yaml = export::to_yaml(&manifests)?;
            std::io::stdout().lock().write_all(yaml.as_bytes())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let kustomization_path = dir.join("kustomization.yaml");
            let read = |path: &std::path::Path| match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", path.display())),
            };
            let old = read(&kustomization_path)?;
            // A kustomization.yaml the user wrote is theirs: never overwritten.
            if let Some(text) = &old
                && !text.starts_with(export::KUSTOMIZATION_HEADER)
            {
                return Err(format!(
                    "{}: not written by `auth0-operator export --dir`: export into another folder, or move it away (nothing was written)",
                    kustomization_path.display()
                )
                .into());
            }
            let before = old.as_deref().map(export::exported_before).unwrap_or_default();
            let files: Vec<String> = manifests.iter().map(|m| format!("{}.yaml", m.metadata.name)).collect();
            // Only a file the last export listed and that still is one of its manifests is
            // replaced: anything else of that name is the user's, and nothing is written.
            let mut foreign = Vec::new();
            for file in &files {
                let path = dir.join(file);
                let ours = match read(&path) {
                    Ok(None) => true,
                    Ok(Some(text)) => before.contains(file) && export::is_exported_manifest(&text),
                    Err(_) => !path.exists(),
                };
                if !ours {
                    foreign.push(path.display().to_string());
                }
            }
            if !foreign.is_empty() {
                return Err(format!(
                    "{} not written by the last export into this folder; move it away, or export into another folder (nothing was written)",
                    foreign.join(", ")
                )
                .into());
            }
            for (manifest, file) in manifests.iter().zip(&files) {
                let yaml = export::to_yaml(std::slice::from_ref(manifest))?;
                std::fs::write(dir.join(file), yaml).map_err(|e| format!("{}: {e}", dir.join(file).display()))?;
            }
            // A re-export leaves the folder what the tenant holds: the manifests the last
            // export wrote and this one does not are removed. A listed file that is not such
            // a manifest (the user added it to the list) is kept, and stays listed.
            let mut removed = 0;
            let mut listed = files.clone();
            for stale in before.iter().filter(|f| !files.contains(f)) {
                let path = dir.join(stale);
                match read(&path)? {
                    None => {}
                    Some(text) if export::is_exported_manifest(&text) => {
                        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                        removed += 1;
                    }
                    Some(_) => {
                        eprintln!(
                            "kept {}: listed in kustomization.yaml, but not a manifest an export wrote",
                            path.display()
                        );
                        listed.push(stale.clone());
                    }
                }
            }
            listed.extend(old.as_deref().map(export::listed_by_user).unwrap_or_default());
            listed.sort();
            listed.dedup();
            let kustomization = export::kustomization(&listed)?;
            std::fs::write(&kustomization_path, kustomization)
                .map_err(|e| format!("{}: {e}", kustomization_path.display()))?;
            eprintln!(
                "wrote {} and kustomization.yaml to {}{}",
                count(files.len(), "profile"),
                dir.display(),
                if removed > 0 {
                    format!("; removed {} the last export wrote", count(removed, "file"))
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(0)
}

/// `templates`: the list, or with `--id` a manifest made from one template.
pub async fn templates(args: TemplatesArgs) -> Result<u8, Failure> {
    let client = credentials::client(&args.credentials.source()).await?;
    let Some(id) = &args.id else {
        let templates = client
            .templates()
            .await
            .map_err(|e| format!("listing templates: {e}"))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{:<28} DISPLAY NAME", "ID")?;
        for template in templates {
            writeln!(
                out,
                "{:<28} {}",
                template["id"].as_str().unwrap_or_default(),
                template["display_name"].as_str().unwrap_or_default()
            )?;
        }
        return Ok(0);
    };
    let template = client
        .template(id)
        .await
        .map_err(|e| format!("reading template {id}: {e}"))?
        .ok_or_else(|| format!("no template {id}: `auth0-operator templates` lists them"))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => export::slug(template["display_name"].as_str().unwrap_or_default()),
    };
    let manifest = export::template(
        &template,
        &name,
        &args
            .manifest
            .defaulted_from(args.credentials.from_cluster.as_deref())
            .options(Deletion::Delete),
    )?;
    // A manifest the API server or the operator would refuse is not printed: what to change
    // is said instead (a --name over 50 characters, or one Auth0 refuses).
    if let Err(invalid) = crate::crd::validation::check(serde_json::to_value(&manifest)?, None) {
        return Err(format!("the manifest would be refused: {invalid}; give another --name").into());
    }
    std::io::stdout()
        .lock()
        .write_all(export::to_yaml(&[manifest])?.as_bytes())?;
    Ok(0)
}

/// `plan`: its exit code ([`plan::exit`]); an error returned is [`plan::exit::ERROR`].
///
/// Reads the cluster (unless `--no-cluster`): every ConnectionProfile, for what the
/// resources recorded and claim. Each manifest is planned against the tenant its tenantRef
/// names: the credentials given (`--from-cluster` for that tenant, or the environment when
/// every manifest names one tenant), else the tenant object and its Secret in the cluster.
pub async fn plan(args: PlanArgs) -> Result<u8, Failure> {
    let documents = manifests::read(&args.files)?;
    if documents.is_empty() {
        return Err("no ConnectionProfile manifest found in the files given".into());
    }
    let source = args.credentials.source();
    let cluster = if args.no_cluster {
        None
    } else {
        match credentials::kube_client(source.kubeconfig.as_deref()).await {
            Ok(cluster) => Some(cluster),
            // No kubeconfig at all: plan without a cluster, and say so.
            Err(e) if source.kubeconfig.is_none() => {
                eprintln!("no cluster to read ({e}): every manifest is planned as a new resource");
                None
            }
            Err(e) => return Err(format!("reading the kubeconfig: {e}").into()),
        }
    };
    let namespace = args
        .namespace
        .clone()
        .or_else(|| cluster.as_ref().map(|(_, ns)| ns.clone()))
        .unwrap_or_else(|| "default".to_string());
    let live = match &cluster {
        Some((client, _)) => live_profiles(client, &documents, &namespace).await?,
        None => Vec::new(),
    };
    let tenants = plan::tenants(&documents, &namespace);
    let mut listings = HashMap::new();
    // The Auth0 tenant each tenant object reaches, as the operator compares it with what a
    // resource recorded (a tenant object re-pointed elsewhere is TenantChanged): read from
    // the object in the cluster; without a cluster, what the credentials given reach.
    let mut reached = HashMap::new();
    for key in tenants.keys() {
        if let Some((cluster, _)) = &cluster {
            match credentials::reached_in(cluster, key, &source.operator_namespace).await {
                Ok(tenant) => {
                    reached.insert(key.clone(), tenant);
                }
                Err(e) => eprintln!("tenant {key}: {e}: a re-pointed tenant object is not seen"),
            }
        }
        let listing = match tenant_source(&source, key, tenants.len(), cluster.is_some()) {
            Ok(source) => match credentials::client(&source).await {
                Ok(client) => {
                    let given = client.reach().reached.clone();
                    match reached.get(key) {
                        // The environment's credentials reach another Auth0 tenant than the
                        // tenant object in the cluster: its listing would plan the wrong one.
                        Some(object) if !plan::same_tenant(&given, object) => Err(format!(
                            "tenant {key}: the credentials given reach {given}, but {key} in the cluster reaches {object}: give the credentials of {object}, or plan without them (the tenant's own Secret is then read from the cluster)"
                        )),
                        _ => {
                            if cluster.is_none() {
                                reached.insert(key.clone(), given);
                            }
                            list(&client).await.map_err(|e| format!("tenant {key}: {e}"))
                        }
                    }
                }
                Err(e) => Err(format!("tenant {key}: {e}")),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = &listing {
            eprintln!("{e}");
        }
        listings.insert(key.clone(), listing);
    }
    let outcomes = plan::plan_all(&documents, &namespace, &live, &listings, &reached);
    let mut out = std::io::stdout().lock();
    match args.output {
        Output::Text => out.write_all(plan::render(&outcomes).as_bytes())?,
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({"resources": outcomes}))?;
            writeln!(out)?;
        }
    }
    Ok(plan::exit_code(&outcomes))
}

/// Where the credentials of the tenant `key` ([`plan::tenant_key`]) come from: the
/// `--from-cluster` tenant when it is that one; the environment when every manifest names
/// one tenant; else the tenant object in the cluster. Errors say why it cannot be reached.
fn tenant_source(
    given: &credentials::Source,
    key: &str,
    tenants: usize,
    cluster: bool,
) -> Result<credentials::Source, String> {
    let from_cluster = |key: &str| credentials::Source {
        from_cluster: Some(key.to_string()),
        ..given.clone()
    };
    match &given.from_cluster {
        Some(named) if named == key => return Ok(given.clone()),
        Some(_) => {}
        None if credentials::in_env() && tenants == 1 => return Ok(given.clone()),
        None => {}
    }
    if cluster {
        return Ok(from_cluster(key));
    }
    Err(match (&given.from_cluster, credentials::in_env()) {
        (Some(named), _) => format!(
            "cannot reach tenant {key}: --from-cluster names {named}, and there is no cluster to read {key} from"
        ),
        (None, true) => format!(
            "cannot reach tenant {key}: the manifests name {tenants} tenants and the environment's credentials reach one; plan with a cluster that holds the tenants, or plan each tenant's manifests apart"
        ),
        (None, false) => format!(
            "cannot reach tenant {key}: give --from-cluster {key}, or set {}, {} and {}",
            credentials::DOMAIN_ENV,
            credentials::CLIENT_ID_ENV,
            credentials::CLIENT_SECRET_ENV
        ),
    })
}

/// Every ConnectionProfile of the cluster, each decoded on its own (one the types cannot
/// read claims nothing, as in the operator); where listing them all is forbidden, those of
/// the manifests' namespaces.
async fn live_profiles(
    client: &kube::Client,
    documents: &[manifests::Document],
    namespace: &str,
) -> Result<Vec<ConnectionProfile>, Failure> {
    let resource = ApiResource::erase::<ConnectionProfile>(&());
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let objects = match all.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 403 => {
            let namespaces: BTreeSet<&str> = documents
                .iter()
                .map(|d| d.value["metadata"]["namespace"].as_str().unwrap_or(namespace))
                .collect();
            let mut items = Vec::new();
            for ns in namespaces {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource);
                let list = api.list(&ListParams::default()).await.map_err(|e| {
                    format!(
                        "reading the ConnectionProfiles of namespace {ns}: {}",
                        credentials::kube_message(&e)
                    )
                })?;
                items.extend(list.items);
            }
            items
        }
        Err(e) => {
            return Err(format!(
                "reading the cluster's ConnectionProfiles: {}; --no-cluster plans without the cluster",
                credentials::kube_message(&e)
            )
            .into());
        }
    };
    Ok(objects.into_iter().map(crate::controller::decode::decode).collect())
}
