//! The command-line tools end to end: `export`, `plan` and `templates` as the
//! `auth0-operator` binary, against the emulator over HTTP and a real kube-apiserver, with
//! the operator adopting what they write.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use auth0_operator::cli::plan::exit;
use auth0_operator::controller::desired::at_provider;
use auth0_operator::crd::OrganizationSetting;
use common::{Harness, SECRET, condition, observed};
use serde_json::{Value, json};

/// The binary with the emulator tenant's credentials in the environment.
fn tool(h: &Harness, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth0-operator"));
    command
        .args(args)
        .args(["--requests-per-second", "100", "--burst", "100"])
        .env("AUTH0_DOMAIN", &h.domain)
        .env("AUTH0_CLIENT_ID", "operator-client")
        .env("AUTH0_CLIENT_SECRET", SECRET)
        .env("AUTH0_BASE_URL", h.emulator.tenant_url(&h.domain).expect("tenant url"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("joins")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Server-side apply of `path` (a file or a folder) as the admin.
async fn kubectl_apply(h: &Harness, path: &Path) {
    let mut command = h.env.kubectl();
    command
        .args(["apply", "--server-side", "--field-manager", "gitops", "-f"])
        .arg(path);
    let output = run(command).await;
    assert!(output.status.success(), "kubectl apply: {}", text(&output.stderr));
}

/// `kubectl apply --server-side -k DIR`, as docs/migrate.md says to apply an export.
async fn kubectl_apply_kustomization(h: &Harness, dir: &Path) {
    let mut command = h.env.kubectl();
    command
        .args(["apply", "--server-side", "--field-manager", "gitops", "-k"])
        .arg(dir);
    let output = run(command).await;
    assert!(output.status.success(), "kubectl apply -k: {}", text(&output.stderr));
}

/// Profiles of every field shape: Unicode names, two names with one DNS name, every
/// strategy override, provisioning, Cross App Access, organization settings.
fn shapes() -> Vec<Value> {
    let strategies = [
        "pingfederate",
        "ad",
        "adfs",
        "waad",
        "google-apps",
        "okta",
        "oidc",
        "samlp",
    ];
    let mut profiles = vec![
        json!({"name": "Acme Corp", "enabled_features": ["scim"]}),
        json!({"name": "acme-corp", "connection_name_prefix_template": "acme-"}),
        json!({"name": "Ünïcödé Partners"}),
        json!({"name": "東京 パートナー", "organization": {"show_as_button": "optional"}}),
        json!({"name": "plain"}),
    ];
    for i in 0..48 {
        let mut profile = json!({"name": format!("Team {i} — ëxport")});
        match i % 6 {
            0 => profile["enabled_features"] = json!(["universal_logout", "scim"]),
            1 => profile["connection_name_prefix_template"] = json!(format!("t{i}-{{org_id}}-")),
            2 => {
                profile["organization"] =
                    json!({"show_as_button": "required", "assign_membership_on_login": "optional"})
            }
            3 => {
                profile["provisioning"] = json!({"scim": {"tokens": {"scopes": ["get:users", "post:users"],
                                                   "default_expiry": 3600, "max_allowed_expiry": 7200}}})
            }
            4 => {
                profile["cross_app_access_resource_app"] =
                    json!({"status": {"default_value": "enabled", "allowed_values": ["enabled", "disabled"]}})
            }
            _ => profile["connection_config"] = json!({}),
        }
        let strategy = strategies[i % strategies.len()];
        profile["strategy_overrides"] = json!({strategy: {
            "enabled_features": ["scim"],
            "connection_config": {},
            "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "default_expiry": 60}}}
        }});
        profiles.push(profile);
    }
    profiles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_apply_adopts_everything_with_no_write_and_plan_shows_edits() {
    let mut h = Harness::start("cli-export").await;
    let shapes = shapes();
    assert!(shapes.len() >= 50);
    for profile in &shapes {
        h.admin("POST", "profiles", Some(profile.clone())).await;
    }
    h.admin("DELETE", "requests", None).await;
    let ns = h.ns.name().to_string();

    // Export from the environment's credentials.
    let first = run(tool(
        &h,
        &["export", "--namespace", &ns, "--tenant-ref", "Auth0Tenant/t"],
    ))
    .await;
    assert!(first.status.success(), "export: {}", text(&first.stderr));
    let yaml = text(&first.stdout);
    assert!(!yaml.contains(SECRET) && !text(&first.stderr).contains(SECRET));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("YAML");
    assert_eq!(documents.len(), shapes.len());
    let names: std::collections::BTreeSet<&str> = documents
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names.len(), shapes.len(), "distinct metadata.names: {names:?}");
    assert!(names.contains("acme-corp") && names.contains("plain"), "{names:?}");
    // Production's profiles stay in Auth0 when a resource goes (issue 26).
    assert!(
        documents.iter().all(|d| d["spec"]["deletionPolicy"] == "Orphan"),
        "export writes deletionPolicy: Orphan"
    );

    let dir = h.env.dir().join(format!("export-{ns}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("all.yaml");
    std::fs::write(&file, &yaml).expect("write");
    kubectl_apply(&h, &file).await;

    // Every resource Ready, its atProvider the profile, and not one write to Auth0.
    let remote = h.remote();
    for document in &documents {
        let name = document["metadata"]["name"].as_str().expect("name");
        let id = document["spec"]["externalID"].as_str().expect("externalID");
        let ready = h
            .wait_for(name, Duration::from_secs(90), "Ready", |p| {
                condition(p, "Ready").is_some_and(|c| c.0 == "True") && observed(p)
            })
            .await;
        let profile = remote.iter().find(|p| p["id"] == id).expect("in Auth0");
        let status = ready.status.expect("status");
        assert_eq!(status.id.as_deref(), Some(id));
        // atProvider as the API server stores it: the schema fills in Auth0's default
        // (`none`) for an organization setting Auth0's answer leaves out.
        let mut expected = at_provider(profile).expect("parses");
        if let Some(organization) = expected.organization.as_mut() {
            organization.show_as_button = organization.show_as_button.or(OrganizationSetting::auth0_default());
            organization.assign_membership_on_login = organization
                .assign_membership_on_login
                .or(OrganizationSetting::auth0_default());
        }
        assert_eq!(status.at_provider, Some(expected), "{name}");
    }
    assert_eq!(h.writes(), vec![], "adoption writes nothing to Auth0");
    assert_eq!(h.remote(), remote, "Auth0 is unchanged");

    // A second export, from the tenant resource in the cluster this time: byte-identical,
    // its namespace and tenantRef those of the tenant it was read from.
    let mut again = tool(
        &h,
        &[
            "export",
            "--from-cluster",
            &format!("Auth0Tenant/{ns}/t"),
            "--allow-insecure-http",
        ],
    );
    again.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
    let again = run(again).await;
    assert!(again.status.success(), "export --from-cluster: {}", text(&again.stderr));
    assert_eq!(text(&again.stdout), yaml, "a second export is byte-identical");

    // --dir: one file per profile and a kustomization.yaml.
    let tree = dir.join("tree");
    let written = run(tool(
        &h,
        &[
            "export",
            "--namespace",
            &ns,
            "--tenant-ref",
            "Auth0Tenant/t",
            "--dir",
            tree.to_str().expect("utf-8"),
        ],
    ))
    .await;
    assert!(written.status.success(), "export --dir: {}", text(&written.stderr));
    let kustomization: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(tree.join("kustomization.yaml")).expect("kustomization"))
            .expect("YAML");
    assert_eq!(kustomization["resources"].as_array().map(Vec::len), Some(shapes.len()));
    // The documented apply of the folder (the same resources: nothing changes).
    kubectl_apply_kustomization(&h, &tree).await;

    // Plan with the operator stopped, so that the request log is the plan's alone.
    h.stop_operator();
    h.admin("DELETE", "requests", None).await;
    let unchanged = run(tool(
        &h,
        &["plan", "-f", tree.to_str().expect("utf-8"), "--output", "json"],
    ))
    .await;
    assert_eq!(
        unchanged.status.code(),
        Some(exit::NOTHING.into()),
        "{}{}",
        text(&unchanged.stdout),
        text(&unchanged.stderr)
    );

    // With the cluster read, the resources own their profiles (status.id): nothing to do,
    // and none would delete its profile if removed (Orphan).
    let mut live = tool(&h, &["plan", "-f", tree.to_str().expect("utf-8"), "--output", "json"]);
    live.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
    let live = run(live).await;
    assert_eq!(live.status.code(), Some(exit::NOTHING.into()), "{}", text(&live.stderr));
    let report: Value = serde_json::from_slice(&live.stdout).expect("JSON");
    for r in report["resources"].as_array().expect("resources") {
        assert_eq!(r["action"], "nothing", "{r}");
        assert_eq!(r.get("deletesProfileOnRemoval"), None, "{r}");
    }

    // Edit three manifests.
    let edit = |name: &str, change: &dyn Fn(&mut Value)| {
        let path = tree.join(format!("{name}.yaml"));
        let mut value: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("read")).expect("YAML");
        change(&mut value);
        std::fs::write(&path, serde_saphyr::to_string(&value).expect("YAML")).expect("write");
    };
    edit("plain", &|v| v["spec"]["connectionNamePrefixTemplate"] = json!("pl-"));
    edit("acme-corp", &|v| {
        v["spec"]["connectionNamePrefixTemplate"] = json!("acme2-")
    });
    let unicode = documents
        .iter()
        .find(|d| d["spec"]["name"] == "東京 パートナー")
        .and_then(|d| d["metadata"]["name"].as_str())
        .expect("exported")
        .to_string();
    edit(&unicode, &|v| {
        v["spec"]["organization"]["showAsButton"] = json!("required")
    });

    let edited = run(tool(
        &h,
        &["plan", "-f", tree.to_str().expect("utf-8"), "--output", "json"],
    ))
    .await;
    assert_eq!(
        edited.status.code(),
        Some(exit::CHANGES.into()),
        "{}{}",
        text(&edited.stdout),
        text(&edited.stderr)
    );
    let report: Value = serde_json::from_slice(&edited.stdout).expect("JSON");
    let mut updates: Vec<(String, Vec<Value>)> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["action"] != "adopt")
        .map(|r| {
            assert_eq!(r["action"], "update", "{r}");
            let changes = r["changes"].as_array().cloned().expect("changes");
            (r["resource"].as_str().expect("resource").to_string(), changes)
        })
        .collect();
    updates.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (
            format!("{ns}/acme-corp"),
            vec![json!({"field": "spec.connectionNamePrefixTemplate", "auth0": "acme-", "desired": "acme2-"})],
        ),
        (
            format!("{ns}/plain"),
            vec![json!({"field": "spec.connectionNamePrefixTemplate", "auth0": "", "desired": "pl-"})],
        ),
        (
            format!("{ns}/{unicode}"),
            vec![json!({"field": "spec.organization.showAsButton", "auth0": "optional", "desired": "required"})],
        ),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(updates, expected, "exactly the three edits, field by field");
    let human = run(tool(&h, &["plan", "-f", tree.to_str().expect("utf-8")])).await;
    assert_eq!(human.status.code(), Some(exit::CHANGES.into()));
    assert!(
        text(&human.stdout).contains("spec.organization.showAsButton: \"optional\" → \"required\""),
        "{}",
        text(&human.stdout)
    );
    // Only the token and listings: no write, no look-up by id.
    let requests = h.requests();
    assert!(!requests.is_empty());
    for (method, path, _) in &requests {
        assert!(
            (method == "POST" && path == "/oauth/token") || (method == "GET" && path == "/api/v2/connection-profiles"),
            "plan made {method} {path}"
        );
    }
    assert_eq!(h.remote(), remote, "Auth0 is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_manifest_applies_and_becomes_ready() {
    let h = Harness::start("cli-templates").await;
    let ns = h.ns.name().to_string();
    let list = run(tool(&h, &["templates"])).await;
    assert!(list.status.success(), "templates: {}", text(&list.stderr));
    let listing = text(&list.stdout);
    let id = "cpt_0kta3xpressC0nfig0001";
    assert!(
        listing.contains(id) && listing.contains("Okta Express Configuration"),
        "{listing}"
    );

    // A reader that went away (`templates | head -0`) gets no "Broken pipe" on stderr.
    let mut closed = tool(&h, &["templates"]);
    closed.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = closed.spawn().expect("templates runs");
    drop(child.stdout.take());
    let closed = tokio::task::spawn_blocking(move || child.wait_with_output().expect("templates ends"))
        .await
        .expect("join");
    assert!(
        !text(&closed.stderr).to_lowercase().contains("broken pipe"),
        "{}",
        text(&closed.stderr)
    );

    let made = run(tool(
        &h,
        &[
            "templates",
            "--id",
            id,
            "--name",
            "Okta Express",
            "--namespace",
            &ns,
            "--tenant-ref",
            "Auth0Tenant/t",
        ],
    ))
    .await;
    assert!(made.status.success(), "templates --id: {}", text(&made.stderr));
    let file = h.env.dir().join(format!("template-{ns}.yaml"));
    std::fs::write(&file, &made.stdout).expect("write");
    kubectl_apply(&h, &file).await;
    let ready = h.wait_ready("okta-express").await;
    let at = ready.status.and_then(|s| s.at_provider).expect("atProvider");
    assert_eq!(at.name, "Okta Express", "the name given, metadata.name its slug");
    assert_eq!(at.connection_name_prefix_template.as_deref(), Some("okta-{org_id}"));

    // A name the operator would refuse (over 50 characters) prints no manifest, and says why.
    let long = "x".repeat(51);
    let refused = run(tool(&h, &["templates", "--id", id, "--name", &long])).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(refused.stdout.is_empty(), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("would be refused") && text(&refused.stderr).contains("spec.name"),
        "{}",
        text(&refused.stderr)
    );

    let missing = run(tool(&h, &["templates", "--id", "cpt_nothere"])).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("no template cpt_nothere"),
        "{}",
        text(&missing.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_shows_pending_changes_until_manage_applies_them() {
    let h = Harness::start("cli-pending").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "watched", "connection_name_prefix_template": "w-",
                        "organization": {"show_as_button": "none"}})),
        )
        .await;
    let id = made["id"].as_str().expect("id").to_string();
    let spec = json!({"externalID": id, "name": "watched", "managementPolicy": "Observe",
                      "connectionNamePrefixTemplate": "new-", "organization": {"showAsButton": "required"}});
    h.apply_profile("watched", spec.clone()).await;
    let seen = h
        .wait_for("watched", Duration::from_secs(30), "reporting pending changes", |p| {
            p.status.as_ref().is_some_and(|s| s.pending_change_count == Some(2))
        })
        .await;
    let pending: Vec<(String, Option<String>, Option<String>)> = seen
        .status
        .expect("status")
        .pending_changes
        .into_iter()
        .map(|c| (c.field, c.auth0, c.desired))
        .collect();
    assert_eq!(
        pending,
        vec![
            (
                "connectionNamePrefixTemplate".into(),
                Some("\"w-\"".into()),
                Some("\"new-\"".into())
            ),
            // The emulator, as Auth0, gives a profile created without features both of them,
            // which is also what a spec without enabledFeatures means: no change there.
            (
                "organization.showAsButton".into(),
                Some("\"none\"".into()),
                Some("\"required\"".into())
            ),
        ]
    );
    assert_eq!(h.writes(), vec![], "Observe writes nothing");

    let mut managed = spec;
    managed["managementPolicy"] = json!("Manage");
    h.apply_profile("watched", managed).await;
    let done = h
        .wait_for(
            "watched",
            Duration::from_secs(30),
            "managed, pending changes gone",
            |p| {
                observed(p)
                    && condition(p, "Ready").is_some_and(|c| c.0 == "True")
                    && p.status
                        .as_ref()
                        .is_some_and(|s| s.pending_changes.is_empty() && s.pending_change_count.is_none())
            },
        )
        .await;
    assert!(done.status.is_some());
    assert_eq!(
        h.remote_by_id(&id).expect("profile")["connection_name_prefix_template"],
        "new-"
    );
    // The switch to Manage is the adoption docs/operations.md lists as an Event (issue 26).
    let (kind, _, note) = h.wait_event("watched", "Adopted").await;
    assert_eq!(kind, "Normal");
    assert!(note.contains(&id), "{note}");
}

/// Issue 26, item 4: a re-export into the same folder leaves it exactly what the tenant
/// holds, and a profile a ConnectionProfile already manages is not exported again (its copy
/// would stall AlreadyManaged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_skips_what_the_cluster_manages_and_a_re_export_leaves_no_stale_file() {
    let h = Harness::start("cli-reexport").await;
    let ns = h.ns.name().to_string();
    // Managed by a resource the export would not write (the export names it `by-team-a`).
    h.apply_profile("team-a-sso", json!({"name": "by-team-a"})).await;
    let managed = h.wait_ready("team-a-sso").await;
    let managed_id = common::id(&managed);
    let keep = h.admin("POST", "profiles", Some(json!({"name": "keep-me"}))).await;
    let gone = h.admin("POST", "profiles", Some(json!({"name": "gone-soon"}))).await;
    let dir = h.env.dir().join(format!("reexport-{ns}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("mine.yaml"), "# a file the export never wrote\n").expect("write");
    let export = |h: &Harness| {
        let mut command = tool(
            h,
            &[
                "export",
                "--namespace",
                &ns,
                "--tenant-ref",
                "Auth0Tenant/t",
                "--dir",
                dir.to_str().expect("utf-8"),
            ],
        );
        command.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
        command
    };
    let first = run(export(&h)).await;
    assert!(first.status.success(), "export: {}", text(&first.stderr));
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains(&format!("skipped profile {managed_id}")) && stderr.contains(&format!("{ns}/team-a-sso")),
        "{stderr}"
    );
    let listed = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        listed(&dir),
        ["gone-soon.yaml", "keep-me.yaml", "kustomization.yaml", "mine.yaml"],
        "the managed profile is not exported"
    );
    assert!(keep["id"].is_string());
    // The profile goes from the tenant; the re-export removes its file, and only it.
    let id = gone["id"].as_str().expect("id");
    h.admin("DELETE", &format!("profiles/{id}"), None).await;
    let second = run(export(&h)).await;
    assert!(second.status.success(), "export: {}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("removed 1 file the last export wrote"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(listed(&dir), ["keep-me.yaml", "kustomization.yaml", "mine.yaml"]);

    // A file the user added to the list by hand is theirs: a re-export keeps it, and listed.
    let tenant =
        "apiVersion: auth0.operators.dev/v1alpha1\nkind: Auth0Tenant\nmetadata: {name: t}\nspec: {domain: x}\n";
    std::fs::write(dir.join("tenant.yaml"), tenant).expect("write");
    let kustomization = dir.join("kustomization.yaml");
    let list = std::fs::read_to_string(&kustomization).expect("read");
    std::fs::write(&kustomization, format!("{list}- tenant.yaml\n")).expect("write");
    let third = run(export(&h)).await;
    assert!(third.status.success(), "export: {}", text(&third.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("tenant.yaml")).expect("kept"), tenant);
    let list = std::fs::read_to_string(&kustomization).expect("read");
    assert!(
        list.contains("- tenant.yaml\n") && list.contains("- keep-me.yaml\n"),
        "{list}"
    );

    // A file of a name the export would write, the last export did not: refused, nothing
    // written. So is a kustomization.yaml the export did not write.
    let newer = h.admin("POST", "profiles", Some(json!({"name": "mine-too"}))).await;
    assert!(newer["id"].is_string());
    std::fs::write(dir.join("mine-too.yaml"), "# the user's\n").expect("write");
    let refused = run(export(&h)).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("mine-too.yaml not written by the last export"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("mine-too.yaml")).expect("kept"),
        "# the user's\n"
    );
    assert_eq!(std::fs::read_to_string(&kustomization).expect("read"), list);
    std::fs::remove_file(dir.join("mine-too.yaml")).expect("remove");
    let theirs = "resources: [mine.yaml]\n";
    std::fs::write(&kustomization, theirs).expect("write");
    let refused = run(export(&h)).await;
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("not written by `auth0-operator export --dir`"));
    assert_eq!(std::fs::read_to_string(&kustomization).expect("read"), theirs);
    assert!(!dir.join("mine-too.yaml").exists(), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reads_stdin_and_export_writes_observe() {
    let h = Harness::prepare("cli-stdin", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    let made = h.admin("POST", "profiles", Some(json!({"name": "Taken Name"}))).await;
    let id = made["id"].as_str().expect("id").to_string();
    let ns = h.ns.name().to_string();

    let tree = h.env.dir().join(format!("observe-{ns}"));
    let _ = std::fs::remove_dir_all(&tree);
    let written = run(tool(
        &h,
        &[
            "export",
            "--management-policy",
            "Observe",
            "--dir",
            tree.to_str().expect("utf-8"),
        ],
    ))
    .await;
    assert!(written.status.success(), "{}", text(&written.stderr));
    let file = std::fs::read_to_string(tree.join(format!(
        "{}.yaml",
        auth0_operator::cli::export::dns_names(&[(&id, "Taken Name")])[0]
    )))
    .expect("one file per profile");
    assert!(
        file.contains("managementPolicy: Observe") && file.contains(&id),
        "{file}"
    );

    // Through stdin, as `kustomize build | auth0-operator plan -f -`.
    let manifests = "apiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\nmetadata: {name: taken}\nspec: {name: Taken Name}\n\
                     ---\napiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\nmetadata: {name: bad}\nspec: {connectionNamePrefixTemplate: --x}\n\
                     ---\napiVersion: auth0.operators.dev/v1alpha1\nkind: ConnectionProfile\nmetadata: {name: fresh}\nspec: {}\n";
    let mut command = tool(&h, &["plan", "-f", "-", "-n", &ns, "--output", "json"]);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("spawns");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(manifests.as_bytes())
            .expect("writes");
        child.wait_with_output().expect("runs")
    })
    .await
    .expect("joins");
    assert_eq!(
        output.status.code(),
        Some(exit::REFUSED.into()),
        "{}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let actions: Vec<&str> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(actions, ["conflict", "invalid", "create"]);
    assert_eq!(report["resources"][0]["id"], id.as_str());
    assert_eq!(
        report["resources"][1]["fields"],
        json!(["spec.connectionNamePrefixTemplate"])
    );
    assert_eq!(report["resources"][2]["resource"], format!("{ns}/fresh"));
    assert_eq!(h.writes(), vec![]);

    // Issue 26: every outcome its own exit code, so a CI script can tell "changes" from a
    // usage error (clap's 2) and from a plan that could not be made; --help says them.
    let usage = run(tool(&h, &["plan", "--output", "json"])).await;
    assert_eq!(usage.status.code(), Some(exit::USAGE.into()), "{}", text(&usage.stderr));
    let unknown_flag = run(tool(&h, &["plan", "-f", "x.yaml", "--no-such-flag"])).await;
    assert_eq!(unknown_flag.status.code(), Some(exit::USAGE.into()));
    let missing = h.env.dir().join(format!("no-such-{ns}.yaml"));
    let unreadable = run(tool(&h, &["plan", "-f", missing.to_str().expect("utf-8")])).await;
    let said = text(&unreadable.stderr);
    assert_eq!(unreadable.status.code(), Some(exit::ERROR.into()), "{said}");
    assert!(
        said.starts_with("auth0-operator plan:") && said.lines().count() == 1,
        "{said}"
    );
    let help = run(tool(&h, &["plan", "--help"])).await;
    let help = text(&help.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "0 nothing would change in Auth0",
        "1 something would",
        "2 the command line is wrong",
        "3 a manifest would be refused",
        "4 the plan could not be made",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from plan --help: {help}");
    }

    // Issue 26: a manifest without metadata.namespace is placed where `kubectl apply` (and
    // so an export without --namespace) would place it: -n, else the kubeconfig context's
    // namespace, else `default`.
    let file = h.env.dir().join(format!("plain-{ns}.yaml"));
    std::fs::write(&file, manifests).expect("write");
    let placed = |output: &Output| -> Vec<String> {
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["resource"].as_str().map(str::to_string))
            .collect()
    };
    let file = file.to_str().expect("utf-8");
    let no_cluster = run(tool(&h, &["plan", "--no-cluster", "-f", file, "-o", "json"])).await;
    assert_eq!(placed(&no_cluster), ["default/taken", "default/bad", "default/fresh"]);
    let flag = run(tool(
        &h,
        &["plan", "--no-cluster", "-n", "team", "-f", file, "-o", "json"],
    ))
    .await;
    assert_eq!(placed(&flag), ["team/taken", "team/bad", "team/fresh"]);
    let mut kubeconfig: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(h.env.kubeconfig("admin")).expect("kubeconfig")).expect("YAML");
    for context in kubeconfig["contexts"].as_array_mut().expect("contexts") {
        context["context"]["namespace"] = json!(ns);
    }
    let in_context = h.env.dir().join(format!("context-{ns}.kubeconfig"));
    std::fs::write(&in_context, serde_saphyr::to_string(&kubeconfig).expect("YAML")).expect("write");
    let mut context = tool(&h, &["plan", "-f", file, "-o", "json"]);
    context.arg("--kubeconfig").arg(&in_context);
    let context = run(context).await;
    assert_eq!(
        context.status.code(),
        Some(exit::REFUSED.into()),
        "{}",
        text(&context.stderr)
    );
    assert_eq!(
        placed(&context),
        [format!("{ns}/taken"), format!("{ns}/bad"), format!("{ns}/fresh")]
    );
    let mut both = tool(&h, &["plan", "-n", "team", "-f", file, "-o", "json"]);
    both.arg("--kubeconfig").arg(&in_context);
    assert_eq!(placed(&run(both).await), ["team/taken", "team/bad", "team/fresh"]);
}

/// Issue 26, items 1-3 and 6: `plan` decides ownership from what the cluster records (the
/// operator's own creates, without `spec.externalID`, are `update`/`nothing`, not
/// `conflict`), plans each manifest on the tenant its tenantRef names, lists what would
/// delete its profile if removed, and a missing tenant is one clear line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reads_what_the_cluster_records_on_each_manifests_tenant() {
    let mut h = Harness::prepare_in(testenv::TestEnv::get(), "cli-live", |config| {
        let mut eu = config.tenants[0].clone();
        eu.domain = format!("eu-{}", eu.domain);
        config.tenants.push(eu);
    })
    .await;
    let ns = h.ns.name().to_string();
    let eu_domain = format!("eu-{}", h.domain);
    let eu_url = h.emulator.tenant_url(&eu_domain).expect("tenant url");
    h.apply(
        "auth0tenants",
        json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant", "metadata": {"name": "eu"},
            "spec": {"domain": eu_domain, "credentialsSecretRef": {"name": "creds"},
                     "endpoint": {"url": eu_url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}
        }),
    )
    .await;
    let eu_host = url::Url::parse(&eu_url).expect("url");
    h.allowed_hosts = format!(
        "{},{}:{}",
        h.allowed_hosts,
        eu_host.host_str().expect("host"),
        eu_host.port().expect("port")
    );
    h.start_operator();

    // Two profiles the operator created (no externalID), one per tenant, as `make demo`
    // and a template manifest make them.
    h.apply_profile("made", json!({"connectionNamePrefixTemplate": "m-"}))
        .await;
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "eu-made"},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "eu"}, "deletionPolicy": "Orphan"}}),
    )
    .await;
    let made = common::id(&h.wait_ready("made").await);
    let eu_made = common::id(&h.wait_ready("eu-made").await);
    h.stop_operator();
    h.admin("DELETE", "requests", None).await;

    let manifest = |name: &str, spec: Value| {
        format!(
            "---\n{}",
            serde_saphyr::to_string(
                &json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                "metadata": {"name": name, "namespace": ns}, "spec": spec})
            )
            .expect("yaml")
        )
    };
    let t = json!({"kind": "Auth0Tenant", "name": "t"});
    let eu = json!({"kind": "Auth0Tenant", "name": "eu"});
    let dir = h.env.dir().join(format!("live-{ns}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let base = [
        manifest("made", json!({"tenantRef": t, "connectionNamePrefixTemplate": "m2-"})),
        manifest("eu-made", json!({"tenantRef": eu, "deletionPolicy": "Orphan"})),
        // The name `made` is free on the eu tenant: a create there, not a conflict with t's.
        manifest("made-on-eu", json!({"tenantRef": eu, "name": "made"})),
    ]
    .concat();
    std::fs::write(dir.join("profiles.yaml"), &base).expect("write");
    let plan = |files: &Path| {
        let mut command = tool(
            &h,
            &[
                "plan",
                "-f",
                files.to_str().expect("utf-8"),
                "--output",
                "json",
                "--allow-insecure-http",
            ],
        );
        command.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
        command
    };
    let output = run(plan(&dir)).await;
    assert_eq!(
        output.status.code(),
        Some(exit::CHANGES.into()),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let summary: Vec<(String, String, Value, bool)> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["resource"].as_str().unwrap_or_default().to_string(),
                r["action"].as_str().unwrap_or_default().to_string(),
                r["id"].clone(),
                r["deletesProfileOnRemoval"] == true,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (format!("{ns}/made"), "update".to_string(), json!(made), true),
            (format!("{ns}/eu-made"), "nothing".to_string(), json!(eu_made), false),
            (format!("{ns}/made-on-eu"), "create".to_string(), Value::Null, true),
        ]
    );
    assert_eq!(report["resources"][2]["tenant"], format!("Auth0Tenant/{ns}/eu"));

    // What the operator itself would refuse is still a conflict, naming the owner; a tenant
    // the cluster does not hold is refused with a clear message.
    let extra = [
        manifest("copy", json!({"tenantRef": t, "name": "made"})),
        manifest("lost", json!({"tenantRef": {"kind": "Auth0Tenant", "name": "nothere"}})),
    ]
    .concat();
    std::fs::write(dir.join("refused.yaml"), extra).expect("write");
    let output = run(plan(&dir)).await;
    assert_eq!(
        output.status.code(),
        Some(exit::ERROR.into()),
        "{}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let copy = &report["resources"][3];
    assert_eq!(
        (copy["action"].as_str(), copy["owner"].as_str()),
        (Some("conflict"), Some(format!("{ns}/made").as_str())),
        "{copy}"
    );
    let lost = &report["resources"][4];
    assert_eq!(lost["action"], "unreachable", "{lost}");
    let why = lost["message"].as_str().expect("message");
    assert!(
        why.contains("nothere") && why.contains("not found") && !why.contains("Status"),
        "{why}"
    );

    // People read the same, and the deletion list.
    let profiles = dir.join("profiles.yaml");
    let mut human = tool(
        &h,
        &["plan", "--allow-insecure-http", "-f", profiles.to_str().expect("utf-8")],
    );
    human.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
    let human = run(human).await;
    let said = text(&human.stdout);
    assert_eq!(
        human.status.code(),
        Some(exit::CHANGES.into()),
        "{said}{}",
        text(&human.stderr)
    );
    assert!(
        said.contains(&format!(
            "Deleting these resources would delete their Auth0 profile (deletionPolicy Delete; set Orphan to keep it):\n    {ns}/made {made}\n    {ns}/made-on-eu (to be created)\n"
        )),
        "{said}"
    );
    assert_eq!(h.writes(), vec![], "plan writes nothing");

    // Manifests that all name the eu tenant, with the environment holding t's credentials:
    // planned against t's Auth0 tenant they would be a create (wrong tenant); refused, each
    // naming both tenants.
    // One manifest in a folder of its own, planned.
    let plan_alone = async |folder: &str, name: &str, spec: Value| {
        let at = dir.join(folder);
        std::fs::create_dir_all(&at).expect("dir");
        std::fs::write(at.join(format!("{name}.yaml")), manifest(name, spec)).expect("write");
        run(plan(&at)).await
    };
    let output = plan_alone("eu-only", "made-on-eu", json!({"tenantRef": eu, "name": "made"})).await;
    assert_eq!(
        output.status.code(),
        Some(exit::ERROR.into()),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let other = &report["resources"][0];
    assert_eq!(other["action"], "unreachable", "{other}");
    let why = other["message"].as_str().expect("message");
    assert!(
        why.contains(&format!("the credentials given reach {}", h.domain)) && why.contains(&eu_domain),
        "{why}"
    );

    // The eu tenant object re-pointed at t's Auth0 tenant takes no profile with it: plan
    // says what the operator would (TenantChanged), from what the object reaches now.
    let t_url = h.emulator.tenant_url(&h.domain).expect("tenant url");
    h.apply(
        "auth0tenants",
        json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant", "metadata": {"name": "eu"},
            "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"},
                     "endpoint": {"url": t_url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}
        }),
    )
    .await;
    let output = plan_alone("moved", "eu-made", json!({"tenantRef": eu, "deletionPolicy": "Orphan"})).await;
    assert_eq!(
        output.status.code(),
        Some(exit::REFUSED.into()),
        "{}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let refused = &report["resources"][0];
    assert_eq!(
        (refused["action"].as_str(), refused["id"].as_str()),
        (Some("conflict"), Some(eu_made.as_str())),
        "{refused}"
    );
    let why = refused["message"].as_str().expect("message");
    for needle in [
        "the operator would stall (TenantChanged)".to_string(),
        format!("Auth0Tenant/eu now reaches {}", h.domain),
        format!("Auth0 profile {eu_made} is on {eu_domain}"),
    ] {
        assert!(why.contains(&needle), "{needle:?} missing from: {why}");
    }
    assert_eq!(h.writes(), vec![], "plan writes nothing");

    // A missing tenant: one line, no debug dump.
    let mut missing = tool(&h, &["export", "--from-cluster", "ClusterAuth0Tenant/nothere"]);
    missing.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
    let missing = run(missing).await;
    let said = text(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("reading ClusterAuth0Tenant/nothere:") && said.contains("not found") && !said.contains("Status"),
        "{said}"
    );
}

/// The command line docs/migrate.md shows (an indented code line equal to `command`),
/// split into words with the doc's placeholders made the test's: `team` its namespace,
/// `profiles/` its folder (tests/docs.rs checks that the walk runs every command of the
/// doc's steps). Panics when the doc no longer shows it: the walk below runs the
/// doc's own commands.
fn doc_command(command: &str, ns: &str, dir: &Path) -> Vec<String> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/migrate.md")).expect("docs/migrate.md");
    assert!(
        doc.lines().any(|l| l.starts_with("    ") && l.trim() == command),
        "docs/migrate.md no longer shows `{command}`"
    );
    command
        .split_whitespace()
        .map(|word| match (word, word.strip_prefix("profiles/")) {
            ("team", _) => ns.to_string(),
            (_, Some(rest)) => format!("{}/{rest}", dir.display()),
            (other, None) => other.to_string(),
        })
        .collect()
}

/// Runs a command line of the doc: `auth0-operator …` as the binary (the environment's
/// credentials, the admin's kubeconfig as KUBECONFIG), `kubectl …` as the admin.
async fn run_doc(h: &Harness, words: &[String]) -> Output {
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let command = match words[0].as_str() {
        "auth0-operator" => {
            let mut command = tool(h, &args);
            command.env("KUBECONFIG", h.env.kubeconfig("admin"));
            command
        }
        "kubectl" => {
            let mut command = h.env.kubectl();
            command.args(&args);
            command
        }
        other => panic!("not a command of the walk: {other}"),
    };
    run(command).await
}

/// `plan` in text and JSON: nothing to do for each of `expected` (resource, id), and none
/// would delete its profile if removed.
async fn check_plan(h: &Harness, [plan_text, plan_json]: [&[String]; 2], expected: &[(String, String)]) {
    let said = run_doc(h, plan_text).await;
    let out = text(&said.stdout);
    assert_eq!(
        said.status.code(),
        Some(exit::NOTHING.into()),
        "{out}{}",
        text(&said.stderr)
    );
    assert!(
        out.ends_with(&format!(
            "Plan: 0 to create, 0 to update, 0 to adopt, {} unchanged, 0 conflicts, 0 missing, 0 invalid.\n",
            expected.len()
        )),
        "{out}"
    );
    let json = run_doc(h, plan_json).await;
    assert_eq!(json.status.code(), Some(exit::NOTHING.into()), "{}", text(&json.stderr));
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let mut seen: Vec<(String, String)> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            assert_eq!(r["action"], "nothing", "{r}");
            assert_eq!(r.get("deletesProfileOnRemoval"), None, "{r}");
            (
                r["resource"].as_str().unwrap_or_default().to_string(),
                r["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, expected);
}

/// Issue 26: the whole walk of docs/migrate.md, end to end, with the doc's own commands: a
/// tenant of hand-made profiles (one holding fields this version cannot express, nested);
/// export (Observe, Orphan), review, apply, Observe (Ready, nothing pending, nothing
/// written), plan (nothing to do), switch to Manage (not one Auth0 write), delete one
/// resource (its profile stays in Auth0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_migration_runs_end_to_end() {
    let h = Harness::start("cli-walk").await;
    let ns = h.ns.name().to_string();
    // A newer Auth0: fields this version has no name for, kept as sent.
    h.admin("PATCH", "settings", Some(json!({"accept_unknown": true})))
        .await;
    for profile in [
        json!({"name": "Acme Corp", "enabled_features": ["scim"]}),
        json!({"name": "partners-eu", "connection_name_prefix_template": "eu-",
               "organization": {"show_as_button": "optional"}}),
        json!({"name": "Newer", "connection_config": {"future_option": true},
               "strategy_overrides": {"oidc": {"enabled_features": ["scim"], "future_knob": 2,
                                               "connection_config": {"nested_future": "x"}}}}),
    ] {
        h.admin("POST", "profiles", Some(profile)).await;
    }
    let remote = h.remote();
    assert_eq!(remote.len(), 3);
    h.admin("DELETE", "requests", None).await;
    let dir = h.env.dir().join(format!("walk-{ns}")).join("profiles");
    let _ = std::fs::remove_dir_all(&dir);

    // 1. Export, as the doc writes it.
    let export = doc_command(
        "auth0-operator export --namespace team --tenant-ref Auth0Tenant/t --management-policy Observe --dir profiles/",
        &ns,
        &dir,
    );
    let exported = run_doc(&h, &export).await;
    let said = text(&exported.stderr);
    assert!(exported.status.success(), "export: {said}");
    // One warning per field the manifest cannot say, at any depth.
    for field in [
        "connection_config.future_option: true",
        "strategy_overrides.oidc.connection_config.nested_future: \"x\"",
        "strategy_overrides.oidc.future_knob: 2",
    ] {
        assert_eq!(said.matches(field).count(), 1, "{field:?} once in: {said}");
    }

    // Review: a manifest per profile, each adopting it under Observe and Orphan.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f != "kustomization.yaml")
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let mut names = Vec::new();
    for file in &files {
        let manifest: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(dir.join(file)).expect("read")).expect("YAML");
        let id = manifest["spec"]["externalID"].as_str().expect("externalID");
        assert!(remote.iter().any(|p| p["id"] == id), "{manifest}");
        assert_eq!(manifest["metadata"]["namespace"], ns.as_str());
        assert_eq!(manifest["spec"]["managementPolicy"], "Observe");
        assert_eq!(manifest["spec"]["deletionPolicy"], "Orphan");
        names.push((
            manifest["metadata"]["name"].as_str().expect("name").to_string(),
            id.to_string(),
            manifest["spec"]["name"].as_str().unwrap_or_default().to_string(),
        ));
    }

    // 2. Apply under Observe: every resource Ready, nothing pending, nothing written.
    let apply = doc_command("kubectl apply --server-side -k profiles/", &ns, &dir);
    let applied = run_doc(&h, &apply).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    for (name, id, spec_name) in &names {
        let ready = h.wait_ready(name).await;
        let status = ready.status.expect("status");
        assert_eq!(status.id.as_deref(), Some(id.as_str()));
        assert!(
            status.pending_changes.is_empty(),
            "{name}: {:?}",
            status.pending_changes
        );
        if spec_name == "Newer" {
            assert_eq!(
                status.unrecognized,
                [
                    "connection_config.future_option: true",
                    "strategy_overrides.oidc.connection_config.nested_future: \"x\"",
                    "strategy_overrides.oidc.future_knob: 2"
                ],
                "status.unrecognized at any depth"
            );
        }
    }
    assert_eq!(h.writes(), vec![], "Observe writes nothing");

    // 3. Plan, text and JSON: nothing to do, nothing that would delete a profile.
    let plan_text = doc_command("auth0-operator plan -f profiles/", &ns, &dir);
    let plan_json = doc_command("auth0-operator plan -f profiles/ --output json", &ns, &dir);
    let mut expected: Vec<(String, String)> = names
        .iter()
        .map(|(n, id, _)| (format!("{ns}/{n}"), id.clone()))
        .collect();
    expected.sort();
    check_plan(&h, [&plan_text, &plan_json], &expected).await;

    // 4. Switch to Manage by dropping the line, and apply: adopted, not one Auth0 write.
    for file in &files {
        let path = dir.join(file);
        let yaml = std::fs::read_to_string(&path).expect("read");
        let managed: String = yaml
            .lines()
            .filter(|l| l.trim() != "managementPolicy: Observe")
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(managed, yaml, "{file}: the line is there to drop");
        std::fs::write(&path, managed).expect("write");
    }
    let applied = run_doc(&h, &apply).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    for (name, id, _) in &names {
        h.wait_for(name, Duration::from_secs(30), "Ready under Manage", |p| {
            p.spec.management_policy == auth0_operator::crd::ManagementPolicy::Manage
                && observed(p)
                && condition(p, "Ready").is_some_and(|c| c.0 == "True")
        })
        .await;
        let (_, _, note) = h.wait_event(name, "Adopted").await;
        assert!(note.contains(id.as_str()), "{note}");
    }
    check_plan(&h, [&plan_text, &plan_json], &expected).await;
    assert_eq!(h.writes(), vec![], "the switch to Manage writes nothing");

    // Delete one resource (a file removed from Git and pruned): Orphan keeps its profile.
    let (gone, gone_id, _) = &names[0];
    let delete: Vec<String> = doc_command("kubectl delete -f profiles/NAME.yaml", &ns, &dir)
        .into_iter()
        .map(|word| word.replace("NAME", gone))
        .collect();
    let deleted = run_doc(&h, &delete).await;
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    h.wait_for_gone(gone, Duration::from_secs(30)).await;
    assert!(h.remote_by_id(gone_id).is_some(), "the profile stays in Auth0");
    assert_eq!(h.writes(), vec![], "nothing deleted or written in Auth0");
    assert_eq!(h.remote(), remote, "Auth0 is as the team made it");
}

/// Every scope the three kinds need, custom texts included.
fn every_kind_scopes() -> Vec<String> {
    let mut all: Vec<String> = common::SCOPES.iter().map(|s| s.to_string()).collect();
    for kind in ["user_attribute_profiles", "self_service_profiles"] {
        for verb in ["read", "create", "update", "delete"] {
            all.push(format!("{verb}:{kind}"));
        }
    }
    all.push("read:self_service_profile_custom_texts".into());
    all.push("update:self_service_profile_custom_texts".into());
    all
}

/// A Management API client of the harness's tenant, to make what a team made by hand.
fn management(h: &Harness) -> auth0_operator::auth0::Auth0Client {
    use auth0_operator::auth0::ratelimit::TokenBucket;
    use auth0_operator::auth0::retry::{Backoff, SystemClock};
    use std::sync::Arc;
    let url = h.emulator.tenant_url(&h.domain).expect("url");
    auth0_operator::auth0::Auth0Client::new(
        auth0_operator::auth0::client::http_client(None, Duration::from_secs(5)).expect("http"),
        auth0_operator::auth0::TenantConfig {
            domain: h.domain.clone(),
            base_url: url::Url::parse(&format!("{url}/")).expect("url"),
            audience: format!("https://{}/api/v2/", h.domain),
            client_id: "operator-client".into(),
            client_secret: auth0_operator::auth0::Secret::new(SECRET),
        },
        Arc::new(TokenBucket::new(1000.0, 1000, std::time::Instant::now())),
        Backoff::default(),
        Arc::new(SystemClock),
    )
}

fn body(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().expect("object").clone()
}

/// Polls a resource of any kind (as JSON) until it is Ready at its generation.
async fn wait_ready_as<K>(h: &Harness, name: &str) -> Value
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + serde::Serialize,
{
    let api: kube::Api<K> = kube::Api::namespaced(h.ns.client.clone(), h.ns.name());
    common::wait_object_for(&api, name, "Ready", Duration::from_secs(90), common::object_ready).await
}

/// The files of a folder, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `export --kind all` of a tenant holding every kind: a UserAttributeProfile keeps its
/// attribute names, a SelfServiceProfile names the exported UserAttributeProfile it uses and
/// carries its custom text; applied, all are adopted with not one Auth0 write; `plan` lists
/// each kind once and sees nothing to do, then each edit (an attribute, a custom text) field
/// by field; a one-kind re-export into the folder leaves the other kinds' files; the
/// reference of a self-service profile exported alone names the cluster's resource, or,
/// without a cluster, the id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_exports_adopts_with_no_write_and_plans_each_kind_once() {
    use auth0_operator::crd::{
        SELF_SERVICE_PROFILES, SelfServiceProfile, USER_ATTRIBUTE_PROFILES, UserAttributeProfile,
    };
    let mut h = Harness::start_with("cli-kinds", every_kind_scopes()).await;
    let ns = h.ns.name().to_string();
    let auth0 = management(&h);
    let partners = auth0
        .create_item(
            &USER_ATTRIBUTE_PROFILES,
            &body(json!({"name": "Partner attributes",
                "user_id": {"scim_mapping": "userName", "strategy_overrides": {"google-apps": {"oidc_mapping": "email"}}},
                "user_attributes": {
                    "given_name": {"label": "Given name", "description": "First name", "auth0_mapping": "given_name",
                                   "profile_required": false, "oidc_mapping": {"mapping": "given_name"}},
                    "email": {"label": "Email", "description": "Work email", "auth0_mapping": "email",
                              "profile_required": true, "saml_mapping": ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"]}}})),
        )
        .await
        .expect("user attribute profile");
    let partners_id = partners["id"].as_str().expect("id").to_string();
    auth0
        .create_item(
            &USER_ATTRIBUTE_PROFILES,
            &body(
                json!({"name": "staff", "user_attributes": {"email": {"label": "Email", "description": "Email",
                         "auth0_mapping": "email", "profile_required": true}}}),
            ),
        )
        .await
        .expect("user attribute profile");
    let portal = auth0
        .create_item(
            &SELF_SERVICE_PROFILES,
            &body(json!({"name": "Customer portal", "description": "SSO for customers",
                         "allowed_strategies": ["oidc", "samlp"], "user_attribute_profile_id": partners_id,
                         "branding": {"logo_url": "https://example.com/logo.png", "colors": {"primary": "#0059d6"}}})),
        )
        .await
        .expect("self-service profile");
    let portal_id = portal["id"].as_str().expect("id").to_string();
    auth0
        .put_document(
            &SELF_SERVICE_PROFILES,
            &portal_id,
            "custom-text/en/get-started",
            &body(json!({"introduction": "Connect <b>your</b> IdP."})),
        )
        .await
        .expect("custom text");
    auth0
        .create_item(
            &SELF_SERVICE_PROFILES,
            &body(json!({"name": "plain-ssp", "user_attributes": [{"name": "email", "description": "Email", "is_optional": false}]})),
        )
        .await
        .expect("self-service profile");
    h.admin("POST", "profiles", Some(json!({"name": "cop-one"}))).await;
    h.admin("DELETE", "requests", None).await;

    let dir = h.env.dir().join(format!("kinds-{ns}"));
    let _ = std::fs::remove_dir_all(&dir);
    let export = |h: &Harness, kind: &str| {
        let mut command = tool(
            h,
            &[
                "export",
                "--kind",
                kind,
                "--namespace",
                &ns,
                "--tenant-ref",
                "Auth0Tenant/t",
                "--dir",
                dir.to_str().expect("utf-8"),
            ],
        );
        command.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
        command
    };
    let exported = run(export(&h, "all")).await;
    assert!(exported.status.success(), "export: {}", text(&exported.stderr));
    assert!(
        !text(&exported.stderr).contains(SECRET) && !text(&exported.stderr).contains("warning"),
        "{}",
        text(&exported.stderr)
    );
    let files = files_in(&dir);
    let uap_file = files
        .iter()
        .find(|f| f.starts_with("userattributeprofile-partner-attributes-"))
        .expect("the partners' file")
        .clone();
    let ssp_file = files
        .iter()
        .find(|f| f.starts_with("selfserviceprofile-customer-portal-"))
        .expect("the portal's file")
        .clone();
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(
        files.contains(&"cop-one.yaml".to_string())
            && files.contains(&"userattributeprofile-staff.yaml".to_string())
            && files.contains(&"selfserviceprofile-plain-ssp.yaml".to_string())
            && files.contains(&"kustomization.yaml".to_string()),
        "{files:?}"
    );
    let read = |file: &str| -> Value {
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join(file)).expect("read")).expect("YAML")
    };
    let uap = read(&uap_file);
    let uap_name = uap["metadata"]["name"].as_str().expect("name").to_string();
    assert_eq!(uap["kind"], "UserAttributeProfile");
    assert_eq!(uap["spec"]["externalID"], partners_id.as_str());
    assert_eq!(uap["spec"]["deletionPolicy"], "Orphan");
    assert_eq!(
        uap["spec"]["userId"],
        json!({"scimMapping": "userName", "strategyOverrides": {"googleApps": {"oidcMapping": "email"}}}),
        "the default mappings left out"
    );
    assert_eq!(
        uap["spec"]["userAttributes"]["given_name"],
        json!({"label": "Given name", "description": "First name", "auth0Mapping": "given_name",
               "profileRequired": false, "oidcMapping": {"mapping": "given_name"}}),
        "attribute names as Auth0 holds them"
    );
    let ssp = read(&ssp_file);
    let ssp_name = ssp["metadata"]["name"].as_str().expect("name").to_string();
    assert_eq!(
        ssp["spec"],
        json!({"name": "Customer portal", "externalID": portal_id, "tenantRef": {"kind": "Auth0Tenant", "name": "t"},
               "deletionPolicy": "Orphan", "description": "SSO for customers", "allowedStrategies": ["oidc", "samlp"],
               "branding": {"logoUrl": "https://example.com/logo.png", "colors": {"primary": "#0059d6"}},
               "userAttributeProfileRef": {"name": uap_name},
               "customText": {"en": {"getStarted": {"introduction": "Connect <b>your</b> IdP."}}}})
    );
    assert_eq!(
        read("selfserviceprofile-plain-ssp.yaml")["spec"].get("allowedStrategies"),
        None,
        "every strategy: left out"
    );

    // Applied: every resource Ready, adopted, and not one write to Auth0.
    kubectl_apply_kustomization(&h, &dir).await;
    for name in [uap_name.as_str(), "staff"] {
        let ready = wait_ready_as::<UserAttributeProfile>(&h, name).await;
        assert!(ready["status"]["id"].is_string(), "{ready}");
    }
    for name in [ssp_name.as_str(), "plain-ssp"] {
        wait_ready_as::<SelfServiceProfile>(&h, name).await;
    }
    h.wait_ready("cop-one").await;
    let uaps: kube::Api<UserAttributeProfile> = kube::Api::namespaced(h.ns.client.clone(), &ns);
    assert_eq!(
        uaps.get(&uap_name).await.expect("get").status.and_then(|s| s.id),
        Some(partners_id.clone())
    );
    assert_eq!(h.writes(), vec![], "adopting every kind writes nothing");

    // plan: nothing to do; one listing of each kind (a page each), one GET of the custom text
    // (the operator stopped, so that every call counted is plan's).
    h.stop_operator();
    h.admin("DELETE", "requests", None).await;
    let mut plan = tool(&h, &["plan", "-f", dir.to_str().expect("utf-8")]);
    plan.env("KUBECONFIG", h.env.kubeconfig("admin"));
    let planned = run(plan).await;
    let out = text(&planned.stdout);
    assert_eq!(
        planned.status.code(),
        Some(exit::NOTHING.into()),
        "{out}{}",
        text(&planned.stderr)
    );
    assert!(
        out.ends_with("Plan: 0 to create, 0 to update, 0 to adopt, 5 unchanged, 0 conflicts, 0 missing, 0 invalid.\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("nothing     SelfServiceProfile {ns}/{ssp_name} {portal_id}")),
        "{out}"
    );
    let lists = |path: &str| h.requests().iter().filter(|(m, p, _)| m == "GET" && p == path).count();
    assert_eq!(
        [
            lists("/api/v2/connection-profiles"),
            lists("/api/v2/user-attribute-profiles"),
            lists("/api/v2/self-service-profiles")
        ],
        [1, 1, 1],
        "{:#?}",
        h.requests()
    );
    assert_eq!(
        lists(&format!(
            "/api/v2/self-service-profiles/{portal_id}/custom-text/en/get-started"
        )),
        1
    );
    // Without the cluster, the reference by name resolves to the manifest's adopted id.
    let mut alone = tool(
        &h,
        &["plan", "--no-cluster", "-n", &ns, "-f", dir.to_str().expect("utf-8")],
    );
    alone.env("KUBECONFIG", h.env.kubeconfig("admin"));
    let alone = run(alone).await;
    assert_eq!(
        alone.status.code(),
        Some(exit::NOTHING.into()),
        "{}",
        text(&alone.stdout)
    );
    assert!(text(&alone.stdout).contains("5 to adopt"), "{}", text(&alone.stdout));

    // Edits: an attribute's label, the portal's custom text: two updates, field by field.
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.join(file);
        let yaml = std::fs::read_to_string(&path).expect("read");
        assert!(yaml.contains(from), "{yaml}");
        std::fs::write(&path, yaml.replace(from, to)).expect("write");
    };
    edit(&uap_file, "label: Given name", "label: First name");
    edit(&ssp_file, "Connect <b>your</b> IdP.", "Connect your identity provider.");
    let mut plan = tool(&h, &["plan", "-f", dir.to_str().expect("utf-8"), "--output", "json"]);
    plan.env("KUBECONFIG", h.env.kubeconfig("admin"));
    let planned = run(plan).await;
    assert_eq!(
        planned.status.code(),
        Some(exit::CHANGES.into()),
        "{}",
        text(&planned.stderr)
    );
    let report: Value = serde_json::from_slice(&planned.stdout).expect("JSON");
    let find = |kind: &str, name: &str| {
        report["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["kind"] == kind && r["resource"] == format!("{ns}/{name}"))
            .unwrap_or_else(|| panic!("{kind} {name} in {report:#}"))
            .clone()
    };
    let updated = find("UserAttributeProfile", &uap_name);
    assert_eq!(updated["action"], "update");
    assert_eq!(
        updated["changes"],
        json!([{"field": "spec.userAttributes.given_name.label", "auth0": "Given name", "desired": "First name"}])
    );
    let updated = find("SelfServiceProfile", &ssp_name);
    assert_eq!(updated["action"], "update");
    assert_eq!(
        updated["changes"],
        json!([{"field": "spec.customText.en.getStarted",
                "auth0": {"introduction": "Connect <b>your</b> IdP."},
                "desired": {"introduction": "Connect your identity provider."}}])
    );
    assert_eq!(
        report["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|r| r.get("kind").is_none())
            .count(),
        1,
        "a ConnectionProfile's output names no kind, as before"
    );
    assert_eq!(h.writes(), vec![], "plan writes nothing");

    // A re-export of one kind rewrites its files and leaves the others', listed.
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).expect("read");
    let again = run(export(&h, "UserAttributeProfile")).await;
    assert!(again.status.success(), "export: {}", text(&again.stderr));
    assert_eq!(files_in(&dir), files);
    assert_eq!(
        std::fs::read_to_string(dir.join("kustomization.yaml")).expect("read"),
        kustomization
    );
    assert!(
        std::fs::read_to_string(dir.join(&uap_file))
            .expect("read")
            .contains("label: Given name"),
        "the edit is replaced by what Auth0 holds"
    );

    // A self-service profile exported alone names the cluster's UserAttributeProfile; without
    // the cluster, its id.
    let mut with_cluster = tool(
        &h,
        &[
            "export",
            "--kind",
            "SelfServiceProfile",
            "--namespace",
            &ns,
            "--tenant-ref",
            "Auth0Tenant/t",
        ],
    );
    with_cluster.arg("--kubeconfig").arg(h.env.kubeconfig("admin"));
    let with_cluster = run(with_cluster).await;
    assert!(with_cluster.status.success(), "{}", text(&with_cluster.stderr));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text(&with_cluster.stdout)).expect("YAML");
    assert_eq!(
        documents.len(),
        2,
        "no profile skipped: the resources are the ones written"
    );
    let named = documents
        .iter()
        .find(|d| d["spec"]["externalID"] == portal_id.as_str())
        .expect("portal");
    assert_eq!(named["spec"]["userAttributeProfileRef"], json!({"name": uap_name}));
    let by_id = run(tool(
        &h,
        &[
            "export",
            "--kind",
            "SelfServiceProfile",
            "--no-cluster",
            "--tenant-ref",
            "Auth0Tenant/t",
        ],
    ))
    .await;
    assert!(by_id.status.success(), "{}", text(&by_id.stderr));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text(&by_id.stdout)).expect("YAML");
    let named = documents
        .iter()
        .find(|d| d["spec"]["externalID"] == portal_id.as_str())
        .expect("portal");
    assert_eq!(named["spec"]["userAttributeProfileRef"], json!({"id": partners_id}));
    assert_eq!(h.writes(), vec![], "nothing written");
}

/// `templates --kind UserAttributeProfile` lists Auth0's user attribute profile templates
/// and prints a manifest from one that the API server takes and the operator creates;
/// self-service profiles have no templates: one clear line, no call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_attribute_profile_templates_and_none_of_self_service() {
    use auth0_operator::crd::UserAttributeProfile;
    let mut h = Harness::start_with("cli-uap-templates", every_kind_scopes()).await;
    let ns = h.ns.name().to_string();
    let list = run(tool(&h, &["templates", "--kind", "UserAttributeProfile"])).await;
    assert!(list.status.success(), "templates: {}", text(&list.stderr));
    let listing = text(&list.stdout);
    assert!(
        listing.starts_with("ID                           DISPLAY NAME\n")
            && listing.contains("auth0-generic                Auth0 Generic User Attribute Profile Template"),
        "{listing}"
    );
    let made = run(tool(
        &h,
        &[
            "templates",
            "--kind",
            "UserAttributeProfile",
            "--id",
            "auth0-generic",
            "--name",
            "Partner SSO",
            "--namespace",
            &ns,
            "--tenant-ref",
            "Auth0Tenant/t",
        ],
    ))
    .await;
    assert!(made.status.success(), "templates --id: {}", text(&made.stderr));
    let manifest: Value = serde_saphyr::from_str(&text(&made.stdout)).expect("YAML");
    assert_eq!(manifest["kind"], "UserAttributeProfile");
    assert_eq!(manifest["metadata"]["name"], "partner-sso");
    assert_eq!(manifest["spec"]["name"], "Partner SSO");
    assert!(
        manifest["spec"]["userAttributes"]["given_name"].is_object(),
        "{manifest}"
    );
    assert_eq!(
        manifest["spec"].get("deletionPolicy"),
        None,
        "the resource creates this profile"
    );
    let file = h.env.dir().join(format!("uap-template-{ns}.yaml"));
    std::fs::write(&file, &made.stdout).expect("write");
    kubectl_apply(&h, &file).await;
    let ready = wait_ready_as::<UserAttributeProfile>(&h, "partner-sso").await;
    let id = ready["status"]["id"].as_str().expect("id");
    let held = h.emulator.user_attribute_profiles(&h.domain).expect("tenant");
    let held = serde_json::to_value(held).expect("json");
    let held = held
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id))
        .expect("created")
        .clone();
    assert_eq!(held["name"], "Partner SSO");
    assert_eq!(
        held["user_id"]["strategy_overrides"]["google-apps"]["oidc_mapping"],
        "email"
    );

    let missing = run(tool(
        &h,
        &["templates", "--kind", "UserAttributeProfile", "--id", "nothere"],
    ))
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr)
            .contains("no template nothere: `auth0-operator templates --kind UserAttributeProfile` lists them"),
        "{}",
        text(&missing.stderr)
    );
    // (The operator stopped: every call counted would be the command's.)
    h.stop_operator();
    h.admin("DELETE", "requests", None).await;
    for args in [
        &["templates", "--kind", "SelfServiceProfile"][..],
        &["templates", "--kind", "SelfServiceProfile", "--id", "x"][..],
    ] {
        let none = run(tool(&h, args)).await;
        let said = text(&none.stderr);
        assert_eq!(none.status.code(), Some(1), "{said}");
        assert_eq!(
            said,
            "auth0-operator templates: Auth0 serves no templates of self-service profiles: --kind takes ConnectionProfile or UserAttributeProfile\n"
        );
    }
    assert_eq!(h.requests(), vec![], "no call for a kind without templates");
}
