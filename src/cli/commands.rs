//! The IO of `export`, `templates` and `plan`: read Auth0 (never write), read files, print.
//! Every command returns its exit code; errors go to stderr as one line, never with a secret.

use std::io::Write;

use serde_json::Value;

use super::args::{ExportArgs, Output, PlanArgs, TemplatesArgs};
use super::progress::Progress;
use super::{credentials, export, manifests, plan};
use crate::auth0::ratelimit::Priority;

/// What went wrong, for the person at the terminal.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

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
    let client = credentials::client(&args.credentials.source()).await?;
    let profiles = list(&client).await?;
    let manifests = export::profiles(&profiles, &args.manifest.options())?;
    match &args.dir {
        None => {
            let yaml = export::to_yaml(&manifests)?;
            std::io::stdout().lock().write_all(yaml.as_bytes())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut files = Vec::new();
            for manifest in &manifests {
                let file = format!("{}.yaml", manifest.metadata.name);
                let yaml = export::to_yaml(std::slice::from_ref(manifest))?;
                std::fs::write(dir.join(&file), yaml).map_err(|e| format!("{}: {e}", dir.join(&file).display()))?;
                files.push(file);
            }
            let kustomization = export::kustomization(&files)?;
            std::fs::write(dir.join("kustomization.yaml"), kustomization)
                .map_err(|e| format!("{}: {e}", dir.join("kustomization.yaml").display()))?;
            eprintln!(
                "wrote {} profiles and kustomization.yaml to {}",
                files.len(),
                dir.display()
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
    let manifest = export::template(&template, &name, &args.manifest.options())?;
    std::io::stdout()
        .lock()
        .write_all(export::to_yaml(&[manifest])?.as_bytes())?;
    Ok(0)
}

/// `plan`: 0 nothing would change, 2 something would, 1 refused manifests or an error.
pub async fn plan(args: PlanArgs) -> Result<u8, Failure> {
    let documents = manifests::read(&args.files)?;
    if documents.is_empty() {
        return Err("no ConnectionProfile manifest found in the files given".into());
    }
    let client = credentials::client(&args.credentials.source()).await?;
    let listing = list(&client).await?;
    let outcomes = plan::plan_all(&documents, &listing, &args.namespace);
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
