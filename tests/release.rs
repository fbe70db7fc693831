//! What the release publishes, checked here where no registry is reachable: the chart packages
//! (`make chart-package`) with exactly its files, and the package renders what the folder
//! does; its Artifact Hub annotations agree with the chart (CRDs, examples, image, license);
//! `make release-check` refuses a tag that is not the version everywhere; and the workflows
//! run only Makefile targets and use actions pinned by commit. The pushes and cosign
//! signatures need ghcr.io and GitHub's OIDC issuer, so only the release itself runs them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const CHART: &str = "deploy/helm/auth0-operator";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `make ARGS` in the repository; (success, stdout + stderr).
fn make(args: &[&str]) -> (bool, String) {
    let out = Command::new("make")
        .args(["--no-print-directory"])
        .args(args)
        .current_dir(repo(""))
        .output()
        .expect("running make");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// An Artifact Hub annotation: a YAML document held in a string.
fn annotation(chart: &Value, key: &str) -> Value {
    let text = chart["annotations"][key]
        .as_str()
        .unwrap_or_else(|| panic!("Chart.yaml: annotation {key} missing"));
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("Chart.yaml: {key}: {e}"))
}

#[test]
fn artifact_hub_annotations_agree_with_the_chart() {
    let chart = yaml(&format!("{CHART}/Chart.yaml"));
    let values = yaml(&format!("{CHART}/values.yaml"));

    // The CRDs listed are the chart's crds/, by name, kind and served version.
    let mut in_chart = BTreeSet::new();
    for entry in std::fs::read_dir(repo(&format!("{CHART}/crds"))).expect("crds/") {
        let path = entry.expect("entry").path();
        let crd = yaml(path.strip_prefix(repo("")).expect("inside").to_str().expect("utf-8"));
        let version = crd["spec"]["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .find(|v| v["storage"] == true)
            .expect("a storage version")["name"]
            .clone();
        in_chart.insert((
            crd["metadata"]["name"].as_str().expect("name").to_string(),
            crd["spec"]["names"]["kind"].as_str().expect("kind").to_string(),
            version.as_str().expect("version").to_string(),
        ));
    }
    let crds = annotation(&chart, "artifacthub.io/crds");
    let mut listed = BTreeSet::new();
    for crd in crds.as_array().expect("a list") {
        for key in ["displayName", "description"] {
            assert!(
                crd[key].as_str().is_some_and(|s| !s.is_empty()),
                "artifacthub.io/crds: {key} of {crd}"
            );
        }
        listed.insert((
            crd["name"].as_str().expect("name").to_string(),
            crd["kind"].as_str().expect("kind").to_string(),
            crd["version"].as_str().expect("version").to_string(),
        ));
    }
    assert_eq!(listed, in_chart, "artifacthub.io/crds against {CHART}/crds");

    // One example per CRD kind, each the object of a file of deploy/examples (comments aside).
    let mut examples = Vec::new();
    for entry in std::fs::read_dir(repo("deploy/examples")).expect("deploy/examples") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("example");
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("example YAML");
        examples.extend(documents);
    }
    let shown = annotation(&chart, "artifacthub.io/crdsExamples");
    let shown = shown.as_array().expect("a list");
    let kinds: BTreeSet<String> = shown
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect();
    let crd_kinds: BTreeSet<String> = in_chart.iter().map(|(_, kind, _)| kind.clone()).collect();
    assert_eq!(kinds, crd_kinds, "artifacthub.io/crdsExamples: one per kind");
    assert_eq!(
        shown.len(),
        crd_kinds.len(),
        "artifacthub.io/crdsExamples: one per kind"
    );
    for example in shown {
        assert!(
            examples.contains(example),
            "artifacthub.io/crdsExamples: {example} is no object of deploy/examples"
        );
    }

    // The image is the one the chart deploys by default, on the platforms the release builds.
    let images = annotation(&chart, "artifacthub.io/images");
    let images = images.as_array().expect("a list");
    assert_eq!(images.len(), 1, "artifacthub.io/images: the operator's image");
    let image = format!(
        "{}:{}",
        values["image"]["repository"].as_str().expect("image.repository"),
        chart["appVersion"].as_str().expect("appVersion")
    );
    assert_eq!(values["image"]["tag"], "", "values' image.tag defaults to appVersion");
    assert_eq!(images[0]["image"], image.as_str(), "artifacthub.io/images");
    let (ok, platforms) = make(&[
        "-s",
        "--eval",
        "print-platforms: ; @echo $(PLATFORMS)",
        "print-platforms",
    ]);
    assert!(ok, "{platforms}");
    let platforms: Vec<&str> = platforms.trim().split(',').collect();
    assert_eq!(
        images[0]["platforms"],
        serde_json::json!(platforms),
        "the Makefile's PLATFORMS"
    );

    // The license is the workspace's; the rest is well formed.
    let cargo = std::fs::read_to_string(repo("Cargo.toml")).expect("Cargo.toml");
    assert!(cargo.contains(&format!(
        "license = \"{}\"",
        chart["annotations"]["artifacthub.io/license"].as_str().expect("license")
    )));
    assert_eq!(chart["annotations"]["artifacthub.io/operator"], "true");
    let capability = chart["annotations"]["artifacthub.io/operatorCapabilities"]
        .as_str()
        .expect("operatorCapabilities");
    let levels = [
        "Basic Install",
        "Seamless Upgrades",
        "Full Lifecycle",
        "Deep Insights",
        "Auto Pilot",
    ];
    assert!(levels.contains(&capability), "operatorCapabilities: {capability}");
    let changes = annotation(&chart, "artifacthub.io/changes");
    let changes = changes.as_array().expect("a list");
    assert!(!changes.is_empty(), "artifacthub.io/changes");
    for change in changes {
        let kind = change["kind"].as_str().expect("kind");
        let kinds = ["added", "changed", "deprecated", "removed", "fixed", "security"];
        assert!(kinds.contains(&kind), "artifacthub.io/changes: kind {kind}");
        assert!(change["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    for link in annotation(&chart, "artifacthub.io/links").as_array().expect("a list") {
        assert!(link["name"].as_str().is_some_and(|n| !n.is_empty()), "{link}");
        assert!(
            link["url"].as_str().is_some_and(|u| u.starts_with("https://")),
            "{link}"
        );
    }
}

/// `make chart-package` writes dist/auth0-operator-VERSION.tgz holding exactly the chart's
/// committed files, byte for byte, and the packaged chart renders what the folder renders.
#[test]
fn the_chart_packages_with_exactly_its_files() {
    let dist = tempdir("chart-package");
    let dist_arg = format!("DIST={}", dist.display());
    let (ok, out) = make(&["chart-package", &dist_arg]);
    assert!(ok, "make chart-package failed:\n{out}");
    let version = yaml(&format!("{CHART}/Chart.yaml"))["version"]
        .as_str()
        .expect("version")
        .to_string();
    let package = dist.join(format!("auth0-operator-{version}.tgz"));
    assert!(package.is_file(), "{} missing:\n{out}", package.display());

    let unpacked = dist.join("unpacked");
    std::fs::create_dir_all(&unpacked).expect("mkdir");
    let status = Command::new("tar")
        .arg("-mxzf")
        .arg(&package)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar");
    assert!(status.success(), "tar -xzf {}", package.display());

    let committed = Command::new("git")
        .args(["ls-files", CHART])
        .current_dir(repo(""))
        .output()
        .expect("git ls-files");
    let committed: BTreeSet<String> = String::from_utf8(committed.stdout)
        .expect("utf-8")
        .lines()
        .map(|f| f.strip_prefix(&format!("{CHART}/")).expect("in the chart").to_string())
        .collect();
    let packaged = files_under(&unpacked.join("auth0-operator"));
    assert_eq!(packaged, committed, "the package holds the chart's committed files");
    for file in &committed {
        let have = std::fs::read(unpacked.join("auth0-operator").join(file)).expect("packaged");
        let want = std::fs::read(repo(&format!("{CHART}/{file}"))).expect("committed");
        if file == "Chart.yaml" {
            // helm rewrites Chart.yaml; its content must survive it.
            let have: Value = serde_saphyr::from_str(&String::from_utf8(have).expect("utf-8")).expect("yaml");
            let want: Value = serde_saphyr::from_str(&String::from_utf8(want).expect("utf-8")).expect("yaml");
            assert_eq!(have, want, "the packaged Chart.yaml");
        } else {
            assert!(have == want, "{file} differs in the package");
        }
    }

    let helm = helm();
    let render = |chart: &Path| {
        let out = Command::new(&helm)
            .args(["template", "auth0-operator"])
            .arg(chart)
            .args(["--namespace", "auth0-operator", "--include-crds"])
            .output()
            .expect("helm template");
        assert!(
            out.status.success(),
            "helm template {}: {}",
            chart.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert!(
        render(&package) == render(&repo(CHART)),
        "the packaged chart renders other objects than the folder"
    );
    std::fs::remove_dir_all(&dist).ok();
}

#[test]
fn release_check_refuses_a_tag_that_is_not_the_version_everywhere() {
    let version = yaml(&format!("{CHART}/Chart.yaml"))["version"]
        .as_str()
        .expect("version")
        .to_string();
    let (ok, out) = make(&["release-check", &format!("TAG=v{version}")]);
    assert!(ok, "make release-check TAG=v{version}:\n{out}");
    let (ok, out) = make(&["release-check", "TAG=v99.0.0"]);
    assert!(!ok, "make release-check TAG=v99.0.0 passed:\n{out}");
    for what in [
        "chart version",
        "chart appVersion",
        "Cargo.toml version",
        "artifacthub.io/images tag",
    ] {
        assert!(
            out.contains(&format!("{what} is '{version}', the tag is v99.0.0")),
            "release-check names the {what}:\n{out}"
        );
    }
    let (ok, out) = make(&["release-check", "TAG="]);
    assert!(!ok && out.contains("set TAG=vX.Y.Z"), "no tag:\n{out}");
}

/// Every `run:` of the workflows is `make TARGET [VAR=value]` for a target the Makefile has;
/// every action is pinned by a commit with its version in a comment; every job says its
/// permissions, and the release's top level grants none.
#[test]
fn the_workflows_run_makefile_targets_with_pinned_actions() {
    let makefile = std::fs::read_to_string(repo("Makefile")).expect("Makefile");
    let targets: BTreeSet<&str> = makefile
        .lines()
        .filter_map(|l| l.split_once(':').map(|(t, _)| t))
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    let mut runs = 0;
    for name in ["ci.yml", "release.yml"] {
        let path = format!(".github/workflows/{name}");
        let workflow = yaml(&path);
        for (job_name, job) in workflow["jobs"].as_object().expect("jobs") {
            assert!(
                job["permissions"].is_object() || workflow["permissions"].is_object(),
                "{name}: job {job_name} has no permissions"
            );
            for step in job["steps"].as_array().expect("steps") {
                if let Some(run) = step["run"].as_str() {
                    runs += 1;
                    let words: Vec<&str> = run.split_whitespace().collect();
                    assert!(
                        words.len() >= 2 && words[0] == "make" && words[2..].iter().all(|w| w.contains('=')),
                        "{name}: `{run}` is not `make TARGET [VAR=value]`"
                    );
                    assert!(targets.contains(words[1]), "{name}: no Makefile target {}", words[1]);
                }
            }
        }
        let text = std::fs::read_to_string(repo(&path)).expect("workflow");
        for line in text
            .lines()
            .filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:"))
        {
            let reference = line.split("uses:").nth(1).expect("uses").trim();
            let (action, rest) = reference.split_once('@').unwrap_or_else(|| panic!("{name}: {line}"));
            let (sha, comment) = rest
                .split_once(" # ")
                .unwrap_or_else(|| panic!("{name}: {line}: no version comment"));
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}: {action} is not pinned by a commit"
            );
            assert!(!comment.trim().is_empty(), "{name}: {line}");
        }
    }
    assert!(runs >= 9, "the workflows' run steps were not found ({runs})");
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(
        release["permissions"],
        serde_json::json!({}),
        "release.yml grants nothing at the top"
    );
    let ci = yaml(".github/workflows/ci.yml");
    assert_eq!(ci["permissions"], serde_json::json!({"contents": "read"}));
    // The registry the release pushes to is the one the chart's image names.
    let values = yaml(&format!("{CHART}/values.yaml"));
    assert_eq!(
        format!(
            "{}/auth0-operator",
            release["env"]["REGISTRY"].as_str().expect("env.REGISTRY")
        ),
        values["image"]["repository"].as_str().expect("image.repository")
    );
}

fn helm() -> PathBuf {
    let out = Command::new(repo("tools/build-tools.sh"))
        .arg("helm")
        .output()
        .expect("tools/build-tools.sh helm");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auth0-{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("inside");
                files.insert(relative.to_str().expect("utf-8").to_string());
            }
        }
    }
    files
}

/// Every base image of the Dockerfile is pinned by digest (the tag stays for the reader and for
/// Dependabot), so the release builds from the bytes that were reviewed.
#[test]
fn the_dockerfile_pins_its_base_images_by_digest() {
    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).expect("Dockerfile");
    let bases: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .map(|l| l.split_whitespace().next().expect("an image"))
        .collect();
    assert!(bases.len() >= 2, "the builder and the runtime stage: {bases:?}");
    for base in bases {
        let (image, digest) = base
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{base} is not pinned by digest"));
        assert!(image.contains(':'), "{base}: keep the tag beside the digest");
        assert!(
            digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
            "{base}: not a sha256 digest"
        );
    }
}

/// docs/install.md's `cosign verify` commands name the identity the release signs with: this
/// repository's release workflow at a version tag, issued by GitHub Actions' OIDC issuer, for
/// the image and the chart where the release pushes them.
#[test]
fn the_documented_cosign_verify_names_the_release_identity() {
    let doc = std::fs::read_to_string(repo("docs/install.md")).expect("docs/install.md");
    let cargo = std::fs::read_to_string(repo("Cargo.toml")).expect("Cargo.toml");
    let repository = cargo
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the workspace's repository");
    assert!(repo(".github/workflows/release.yml").is_file());
    let identity = format!(
        "'^{}/\\.github/workflows/release\\.yml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$'",
        repository.replace('.', "\\.")
    );
    let release = yaml(".github/workflows/release.yml");
    let registry = release["env"]["REGISTRY"].as_str().expect("env.REGISTRY");
    let version = yaml(&format!("{CHART}/Chart.yaml"))["version"]
        .as_str()
        .expect("version")
        .to_string();
    for artifact in ["auth0-operator", "charts/auth0-operator"] {
        let command = format!(
            "cosign verify {registry}/{artifact}:{version} \\\n  --certificate-identity-regexp {identity} \\\n  \
             --certificate-oidc-issuer https://token.actions.githubusercontent.com\n"
        );
        assert!(doc.contains(&command), "docs/install.md lacks:\n{command}");
    }
    // The tags the workflow runs on are the ones the identity accepts.
    assert_eq!(
        release["on"]["push"]["tags"],
        serde_json::json!(["v[0-9]+.[0-9]+.[0-9]+"]),
        "release.yml's tag filter"
    );
}
