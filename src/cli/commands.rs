//! The IO of `export`, `templates` and `plan`: read Auth0 (never write), read files, print.
//! Every command returns its exit code; errors go to stderr as one line, never with a secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use super::args::{Deletion, ExportArgs, Output, PlanArgs, TemplatesArgs};
use super::kinds::KindName;
use super::progress::Progress;
use super::{credentials, export, manifests, plan};
use crate::auth0::ratelimit::Priority;
use crate::controller::profile::claims;
use crate::crd::{
    CUSTOM_TEXT_SUFFIX, ConnectionProfile, Kind, SELF_SERVICE_PROFILES, SelfServiceProfile, UserAttributeProfile,
};

/// What went wrong, for the person at the terminal.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// `n` and `noun`, plural when `n` is not 1: "1 profile", "2 profiles".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Every item of `kind` in the tenant (one listing: ceil(N/page size) calls plus the
/// token), with progress on stderr after the first second.
async fn list(client: &crate::auth0::Auth0Client, kind: KindName) -> Result<Vec<Value>, Failure> {
    let mut progress = Progress::new(kind.progress());
    let listing = client
        .list_items(kind.api(), Priority::User, |n| progress.step(n, None))
        .await
        .map_err(|e| format!("listing the tenant's {}: {e}", kind.items()))?;
    Ok(listing.profiles)
}

/// Each self-service profile's custom text (`custom-text/en/get-started`), by id: one GET
/// each (a tenant holds at most 20). A client without the scope to read them is warned about
/// once, and the texts are left out (the operator then leaves them alone); a profile gone
/// since the listing has none.
async fn custom_texts(
    client: &crate::auth0::Auth0Client,
    profiles: &[Value],
) -> Result<BTreeMap<String, Value>, Failure> {
    let mut texts = BTreeMap::new();
    for id in profiles.iter().filter_map(|p| p["id"].as_str()) {
        match client
            .get_document(&SELF_SERVICE_PROFILES, id, CUSTOM_TEXT_SUFFIX, Priority::User)
            .await
        {
            Ok(text) => {
                texts.insert(id.to_string(), text);
            }
            Err(e) if e.status() == Some(404) => {}
            Err(e) if e.status() == Some(403) => {
                eprintln!(
                    "warning: the self-service profiles' custom text could not be read ({e}): spec.customText is left out of the manifests, and the operator leaves the texts in Auth0 alone (the client needs read:self_service_profile_custom_texts to export them)"
                );
                return Ok(BTreeMap::new());
            }
            Err(e) => return Err(format!("reading the custom text of self-service profile {id}: {e}").into()),
        }
    }
    Ok(texts)
}

/// The manifests that adopt `items` of `kind` ([`export`]'s pure builders).
fn manifests_of(
    kind: KindName,
    items: &[Value],
    custom_texts: &BTreeMap<String, Value>,
    names: &BTreeMap<String, String>,
    options: &export::Options,
) -> Result<Vec<export::Manifest>, String> {
    match kind {
        KindName::ConnectionProfile => export::profiles(items, options),
        KindName::UserAttributeProfile => export::user_attribute_profiles(items, options),
        KindName::SelfServiceProfile => export::self_service_profiles(items, custom_texts, names, options),
    }
}

/// The cluster's resources of `kind` as (claimed id, `namespace/name`), and for
/// UserAttributeProfiles also their tenantRef (for references by name).
async fn live_claims(
    cluster: &kube::Client,
    kind: KindName,
    namespace: &str,
) -> Result<Vec<(Option<String>, String, crate::crd::TenantRef)>, Failure> {
    fn claimed<K: Kind>(live: Vec<K>) -> Vec<(Option<String>, String, crate::crd::TenantRef)> {
        live.iter()
            .map(|r| {
                (
                    claims::claimed_id(r).map(str::to_string),
                    claims::key(r),
                    r.common().tenant_ref.clone(),
                )
            })
            .collect()
    }
    let namespaces = BTreeSet::from([namespace.to_string()]);
    Ok(match kind {
        KindName::ConnectionProfile => claimed(live::<ConnectionProfile>(cluster, &namespaces).await?),
        KindName::UserAttributeProfile => claimed(live::<UserAttributeProfile>(cluster, &namespaces).await?),
        KindName::SelfServiceProfile => claimed(live::<SelfServiceProfile>(cluster, &namespaces).await?),
    })
}

/// `export`: 0 when written, 1 on an error.
pub async fn export(args: ExportArgs) -> Result<u8, Failure> {
    let source = args.credentials.source();
    let client = credentials::client(&source).await?;
    let kinds = args.kind.kinds();
    let mut items: BTreeMap<KindName, Vec<Value>> = BTreeMap::new();
    for kind in &kinds {
        let listed = list(&client, *kind).await?;
        // What a field this version cannot express holds is kept by the operator as Auth0
        // holds it, but the manifest cannot say it: one warning per field.
        for item in &listed {
            for field in kind.unrecognized(item) {
                eprintln!(
                    "warning: profile {} ({}): {field} is not expressible by this version's {}; left out of the manifest (the operator keeps it as Auth0 holds it)",
                    item["id"].as_str().unwrap_or_default(),
                    item["name"].as_str().unwrap_or_default(),
                    kind.kind()
                );
            }
        }
        items.insert(*kind, listed);
    }
    let manifest = args.manifest.defaulted_from(source.from_cluster.as_deref());
    let options = manifest.options(Deletion::Orphan);
    let custom_texts = match items.get(&KindName::SelfServiceProfile) {
        Some(profiles) => custom_texts(&client, profiles).await?,
        None => BTreeMap::new(),
    };
    // The UserAttributeProfiles of the cluster a self-service profile's reference may name:
    // (id, metadata.name), in the manifests' namespace, on their tenantRef.
    let mut live_names: Vec<(String, String)> = Vec::new();
    // Profiles the cluster's resources already manage are not exported again (their copy
    // would stall AlreadyManaged), unless the resource is the one this export writes.
    if !args.no_cluster {
        match credentials::kube_client(source.kubeconfig.as_deref()).await {
            Ok((cluster, default_namespace)) => {
                let namespace = manifest.namespace.clone().unwrap_or(default_namespace);
                let mut read = kinds.clone();
                if kinds.contains(&KindName::SelfServiceProfile) && !kinds.contains(&KindName::UserAttributeProfile) {
                    read.push(KindName::UserAttributeProfile);
                }
                for kind in read {
                    let live = match live_claims(&cluster, kind, &namespace).await {
                        Ok(live) => live,
                        // The default kubeconfig names a cluster that cannot be read: say so.
                        Err(e) if source.kubeconfig.is_none() => {
                            eprintln!("{e}: profiles the cluster may already manage are exported too");
                            break;
                        }
                        Err(e) => return Err(e),
                    };
                    if kind == KindName::UserAttributeProfile {
                        let tenant_ref = options.tenant_ref.clone().unwrap_or_default();
                        live_names.extend(live.iter().filter_map(|(id, key, on)| {
                            let (ns, name) = key.split_once('/')?;
                            let id = id.clone().filter(|_| ns == namespace && *on == tenant_ref)?;
                            Some((id, name.to_string()))
                        }));
                    }
                    let Some(listed) = items.get_mut(&kind) else { continue };
                    let manifests = manifests_of(kind, listed, &custom_texts, &BTreeMap::new(), &options)?;
                    let written: HashMap<String, String> = manifests
                        .iter()
                        .filter_map(|m| {
                            Some((m.external_id()?.to_string(), format!("{namespace}/{}", m.metadata.name)))
                        })
                        .collect();
                    listed.retain(|item| {
                        let id = item["id"].as_str().unwrap_or_default();
                        let owner = live.iter().find(|(claimed, _, _)| claimed.as_deref() == Some(id));
                        match owner {
                            Some((_, owner, _)) if written.get(id) != Some(owner) => {
                                eprintln!(
                                    "skipped {} {id} ({}): {} {owner} manages it",
                                    kind.item(),
                                    item["name"].as_str().unwrap_or_default(),
                                    kind.kind()
                                );
                                false
                            }
                            _ => true,
                        }
                    });
                }
            }
            Err(e) if source.kubeconfig.is_none() => {
                eprintln!("no cluster to read ({e}): profiles the cluster may already manage are exported too");
            }
            Err(e) => return Err(format!("reading the kubeconfig: {e}").into()),
        }
    }
    let mut manifests: Vec<export::Manifest> = Vec::new();
    for kind in &kinds {
        let names = export::reference_names(&manifests, &live_names);
        let written = manifests_of(*kind, &items[kind], &custom_texts, &names, &options)?;
        // A manifest the API server or the operator would refuse (Auth0 holds what the kind's
        // rules forbid) is still written, and said: fix it before applying it.
        if *kind != KindName::ConnectionProfile {
            for m in &written {
                if let Err(invalid) = kind.check(serde_json::to_value(m)?) {
                    eprintln!(
                        "warning: {} {} ({}): the manifest would be refused: {invalid}",
                        kind.kind(),
                        m.metadata.name,
                        m.external_id().unwrap_or_default()
                    );
                }
            }
        }
        manifests.extend(written);
    }
    match &args.dir {
        None => {
            let yaml = export::to_yaml(&manifests)?;
            std::io::stdout().lock().write_all(yaml.as_bytes())?;
        }
        Some(dir) => write_dir(dir, &manifests, &kinds)?,
    }
    Ok(0)
}

/// `export --dir`: one file per manifest and a `kustomization.yaml` listing them; the
/// manifests of `kinds` the last export wrote and this one does not are removed.
fn write_dir(dir: &std::path::Path, manifests: &[export::Manifest], kinds: &[KindName]) -> Result<(), Failure> {
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
    let files: Vec<String> = manifests.iter().map(export::Manifest::file).collect();
    if let Some(twice) = export::repeated(&files) {
        return Err(format!(
            "two manifests would both be written to {}: export the kinds into separate folders (nothing was written)",
            dir.join(twice).display()
        )
        .into());
    }
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
    // A re-export leaves the folder what the tenant holds: the manifests of the kinds
    // exported that the last export wrote and this one does not are removed. One of another
    // kind (an export of that kind into the same folder) stays, and stays listed; a listed
    // file that is not such a manifest (the user added it to the list) is kept, and stays
    // listed.
    let mut removed = 0;
    let mut listed = files.clone();
    for stale in before.iter().filter(|f| !files.contains(f)) {
        let path = dir.join(stale);
        match read(&path)? {
            None => {}
            Some(text) => match export::exported_kind(&text) {
                Some(kind) if kinds.contains(&kind) => {
                    std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    removed += 1;
                }
                Some(_) => listed.push(stale.clone()),
                None => {
                    eprintln!(
                        "kept {}: listed in kustomization.yaml, but not a manifest an export wrote",
                        path.display()
                    );
                    listed.push(stale.clone());
                }
            },
        }
    }
    listed.extend(old.as_deref().map(export::listed_by_user).unwrap_or_default());
    listed.sort();
    listed.dedup();
    let kustomization = export::kustomization(&listed)?;
    std::fs::write(&kustomization_path, kustomization).map_err(|e| format!("{}: {e}", kustomization_path.display()))?;
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
    Ok(())
}

/// `templates`: the list, or with `--id` a manifest made from one template.
pub async fn templates(args: TemplatesArgs) -> Result<u8, Failure> {
    let kind = args.kind;
    if kind.api().templates.is_none() {
        return Err(format!(
            "Auth0 serves no templates of {}: --kind takes ConnectionProfile or UserAttributeProfile",
            kind.items()
        )
        .into());
    }
    let client = credentials::client(&args.credentials.source()).await?;
    let Some(id) = &args.id else {
        let templates = client
            .list_templates(kind.api())
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
    let lists = match kind {
        KindName::ConnectionProfile => "`auth0-operator templates`".to_string(),
        other => format!("`auth0-operator templates --kind {}`", other.kind()),
    };
    let template = client
        .get_template(kind.api(), id)
        .await
        .map_err(|e| format!("reading template {id}: {e}"))?
        .ok_or_else(|| format!("no template {id}: {lists} lists them"))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => export::slug(template["display_name"].as_str().unwrap_or_default()),
    };
    let manifest = export::template_of(
        kind,
        &template,
        &name,
        &args
            .manifest
            .defaulted_from(args.credentials.from_cluster.as_deref())
            .options(Deletion::Delete),
    )?;
    // A manifest the API server or the operator would refuse is not printed: what to change
    // is said instead (a --name over 50 characters, or one Auth0 refuses).
    if let Err(invalid) = kind.check(serde_json::to_value(&manifest)?) {
        return Err(format!("the manifest would be refused: {invalid}; give another --name").into());
    }
    std::io::stdout()
        .lock()
        .write_all(export::to_yaml(&[manifest])?.as_bytes())?;
    Ok(0)
}

/// `plan`: its exit code ([`plan::exit`]); an error returned is [`plan::exit::ERROR`].
///
/// Reads the cluster (unless `--no-cluster`): every resource of the manifests' kinds, for
/// what the resources recorded and claim. Each manifest is planned against the tenant its
/// tenantRef names, from one listing per kind of that tenant: the credentials given
/// (`--from-cluster` for that tenant, or the environment when every manifest names one
/// tenant), else the tenant object and its Secret in the cluster.
pub async fn plan(args: PlanArgs) -> Result<u8, Failure> {
    let documents = manifests::read(&args.files)?;
    if documents.is_empty() {
        return Err(
            "no ConnectionProfile, UserAttributeProfile or SelfServiceProfile manifest found in the files given".into(),
        );
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
    let kinds: BTreeSet<KindName> = documents.iter().filter_map(manifests::Document::kind).collect();
    let live = match &cluster {
        Some((client, _)) => {
            let namespaces: BTreeSet<String> = documents
                .iter()
                .map(|d| {
                    d.value["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or(&namespace)
                        .to_string()
                })
                .collect();
            let mut live = plan::Live::default();
            if kinds.contains(&KindName::ConnectionProfile) {
                live.connection_profiles = self::live(client, &namespaces).await?;
            }
            // A self-service profile's reference names a UserAttributeProfile the cluster
            // may hold.
            if kinds.contains(&KindName::UserAttributeProfile) || kinds.contains(&KindName::SelfServiceProfile) {
                live.user_attribute_profiles = self::live(client, &namespaces).await?;
            }
            if kinds.contains(&KindName::SelfServiceProfile) {
                live.self_service_profiles = self::live(client, &namespaces).await?;
            }
            live
        }
        None => plan::Live::default(),
    };
    let tenants = plan::tenants(&documents, &namespace);
    let mut listings = plan::Listings::new();
    // The Auth0 tenant each tenant object reaches, as the operator compares it with what a
    // resource recorded (a tenant object re-pointed elsewhere is TenantChanged): read from
    // the object in the cluster; without a cluster, what the credentials given reach.
    let mut reached = HashMap::new();
    let mut clients = Vec::new();
    for (key, kinds) in &tenants {
        if let Some((cluster, _)) = &cluster {
            match credentials::reached_in(cluster, key, &source.operator_namespace).await {
                Ok(tenant) => {
                    reached.insert(key.clone(), tenant);
                }
                Err(e) => eprintln!("tenant {key}: {e}: a re-pointed tenant object is not seen"),
            }
        }
        let client = match tenant_source(&source, key, tenants.len(), cluster.is_some()) {
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
                            Ok(client)
                        }
                    }
                }
                Err(e) => Err(format!("tenant {key}: {e}")),
            },
            Err(e) => Err(e),
        };
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                eprintln!("{e}");
                for kind in kinds {
                    listings.insert((key.clone(), kind.kind()), Err(e.clone()));
                }
                continue;
            }
        };
        for kind in kinds {
            let listing = list(&client, *kind).await.map_err(|e| format!("tenant {key}: {e}"));
            if let Err(e) = &listing {
                eprintln!("{e}");
            }
            listings.insert((key.clone(), kind.kind()), listing);
        }
        clients.push((key.clone(), client));
    }
    let mut outcomes = plan::plan_all(&documents, &namespace, &live, &listings, &reached);
    // The documents kept beside a profile the operator would converge (a self-service
    // profile's custom text): one GET each, with the tenant's client.
    for outcome in &mut outcomes {
        let (Some(id), false) = (outcome.id.clone(), outcome.documents.is_empty()) else {
            continue;
        };
        let Some((_, client)) = clients.iter().find(|(key, _)| *key == outcome.tenant) else {
            continue;
        };
        let api = KindName::of(outcome.kind).unwrap_or(KindName::ConnectionProfile).api();
        let mut held = Vec::new();
        for document in std::mem::take(&mut outcome.documents) {
            let read = client
                .get_document(api, &id, document.suffix, Priority::User)
                .await
                .map_err(|e| e.to_string());
            held.push((document, read));
        }
        plan::compare_documents(outcome, held);
    }
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

/// Every resource of kind `K` in the cluster, each decoded on its own (one the types cannot
/// read claims nothing, as in the operator); where listing them all is forbidden, those of
/// `namespaces`.
async fn live<K: Kind>(client: &kube::Client, namespaces: &BTreeSet<String>) -> Result<Vec<K>, Failure> {
    let resource = ApiResource::erase::<K>(&());
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let objects = match all.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 403 => {
            let mut items = Vec::new();
            for ns in namespaces {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource);
                let list = api.list(&ListParams::default()).await.map_err(|e| {
                    format!(
                        "reading the {}s of namespace {ns}: {}",
                        K::AUTH0.kind,
                        credentials::kube_message(&e)
                    )
                })?;
                items.extend(list.items);
            }
            items
        }
        Err(e) => {
            return Err(format!(
                "reading the cluster's {}s: {}; --no-cluster plans without the cluster",
                K::AUTH0.kind,
                credentials::kube_message(&e)
            )
            .into());
        }
    };
    Ok(objects
        .into_iter()
        .map(crate::controller::decode::decode::<K>)
        .collect())
}
