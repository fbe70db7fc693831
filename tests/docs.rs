//! The docs against the repository: every repository path, make target and `auth0-operator`
//! flag that README.md and docs/*.md name exists, every example manifest (deploy/examples and
//! the docs' own YAML blocks of our kinds) passes a server-side dry run against a real
//! kube-apiserver, and the README's validation example prints what server-side apply prints.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use testenv::TestEnv;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// README.md, docs/*.md and the chart's README (`helm show readme`): (name, text).
fn docs() -> Vec<(String, String)> {
    let mut names = vec![
        "README.md".to_string(),
        "deploy/helm/auth0-operator/README.md".to_string(),
    ];
    for entry in std::fs::read_dir(repo("docs")).expect("docs/") {
        let name = entry.expect("entry").file_name().into_string().expect("utf-8");
        if name.ends_with(".md") {
            names.push(format!("docs/{name}"));
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(repo(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect()
}

/// Fenced code blocks: (info string, body), the body without the fence's own indentation
/// (a block inside a list item).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, usize)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match open.take() {
                Some((info, body, _)) => blocks.push((info, body)),
                None => open = Some((rest.trim().to_string(), String::new(), line.len() - trimmed.len())),
            }
        } else if let Some((_, body, indent)) = open.as_mut() {
            let cut = line.len() - line.trim_start().len();
            body.push_str(&line[cut.min(*indent)..]);
            body.push('\n');
        }
    }
    blocks
}

/// Inline code spans outside fenced blocks.
fn code_spans(text: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, span)| span.to_string())
        .collect()
}

/// Words of code: spans and blocks split on blanks and brackets.
fn code_words(text: &str) -> Vec<String> {
    let mut all: Vec<String> = code_spans(text);
    all.extend(code_blocks(text).into_iter().map(|(_, body)| body));
    // Markdown links name files too.
    for piece in text.split("](").skip(1) {
        if let Some(end) = piece.find(')') {
            all.push(piece[..end].to_string());
        }
    }
    all.iter()
        .flat_map(|s| {
            s.split(|c: char| c.is_whitespace() || "()[]{}<>\"'`,;|=".contains(c))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

const TOP_LEVEL: [&str; 12] = [
    "src/",
    "tests/",
    "deploy/",
    "crds",
    "docs/",
    "tools/",
    "testenv/",
    "emulator/",
    "scripts/",
    "bench/",
    ".ci/",
    "crds/",
];
const ROOT_FILES: [&str; 6] = [
    "Makefile",
    "Dockerfile",
    "Cargo.toml",
    "deny.toml",
    "LICENSE",
    "README.md",
];

/// A word that names a repository path, relative to the root; `None` for anything else
/// (URLs, paths in other trees, globs, templates).
fn repository_path(doc: &str, word: &str) -> Option<String> {
    let word = word.trim_end_matches(['.', ':', '!', '?']);
    let word = word.split('#').next().unwrap_or_default();
    if word.is_empty() || word.contains('*') || word.contains('$') || word.contains('~') || word.contains("...") {
        return None;
    }
    if ROOT_FILES.contains(&word) {
        return Some(word.to_string());
    }
    if TOP_LEVEL
        .iter()
        .any(|p| word == *p || (p.ends_with('/') && word.starts_with(p)))
    {
        return Some(word.to_string());
    }
    // A link relative to a doc in docs/ (`security.md`, `faults.md#secret-access`).
    if doc.starts_with("docs/") && word.ends_with(".md") && !word.contains('/') {
        return Some(format!("docs/{word}"));
    }
    None
}

#[test]
fn every_repository_path_the_docs_name_exists() {
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for (doc, text) in docs() {
        for word in code_words(&text) {
            if let Some(path) = repository_path(&doc, &word) {
                checked += 1;
                if !repo(&path).exists() {
                    missing.insert(format!("{doc}: {path}"));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} paths found: the scan is broken");
    assert!(
        missing.is_empty(),
        "the docs name paths that do not exist:\n{missing:#?}"
    );
}

#[test]
fn every_make_target_the_docs_name_exists() {
    let makefile = std::fs::read_to_string(repo("Makefile")).expect("Makefile");
    let targets: BTreeSet<String> = makefile
        .lines()
        .filter_map(|line| line.split_once(':').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(str::to_string)
        .collect();
    let mut named = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for (doc, text) in docs() {
        let mut snippets = code_spans(&text);
        snippets.extend(code_blocks(&text).into_iter().map(|(_, body)| body));
        for snippet in snippets {
            let words: Vec<&str> = snippet.split_whitespace().collect();
            for pair in words.windows(2) {
                if pair[0] == "make" {
                    let target = pair[1].trim_end_matches(['.', ',', ':', ';', ')']);
                    if target.contains('=') || target.is_empty() {
                        continue;
                    }
                    named.insert(target.to_string());
                    if !targets.contains(target) {
                        missing.insert(format!("{doc}: make {target}"));
                    }
                }
            }
        }
    }
    assert!(named.len() >= 5, "only {named:?} found: the scan is broken");
    assert!(
        missing.is_empty(),
        "the docs name make targets that do not exist:\n{missing:#?}"
    );
}

/// Flags of other tools the docs show, so that a `--flag` span that is none of these must be
/// one of the operator's.
const OTHER_TOOLS_FLAGS: [&str; 18] = [
    "--server-side",      // kubectl
    "--force-conflicts",  // kubectl
    "--dry-run",          // kubectl
    "--field-manager",    // kubectl
    "--include-crds",     // helm
    "--create-namespace", // helm
    "--skip-crds",        // helm
    "--set",              // helm
    "--set-json",         // helm
    "--include-ignored",  // cargo test
    "--test-threads",     // cargo test
    "--nocapture",        // cargo test
    "--only",             // auth0-bench
    "--n",                // auth0-bench
    "--out",              // auth0-bench
    "--churn-cycles",     // auth0-bench
    "--for",              // kubectl wait
    "--from-literal",     // kubectl create secret
];

/// The long flags a binary's `--help` lists.
fn flags_of(binary: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    {
        let out = Command::new(binary)
            .args(args)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("running {} --help: {e}", binary.display()));
        assert!(out.status.success(), "{} {args:?} --help failed", binary.display());
        for word in String::from_utf8_lossy(&out.stdout).split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(flag) = word.strip_prefix("--") {
                let flag: String = flag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !flag.is_empty() {
                    flags.insert(format!("--{flag}"));
                }
            }
        }
    }
    flags
}

fn operator_flags() -> BTreeSet<String> {
    let binary = Path::new(env!("CARGO_BIN_EXE_auth0-operator"));
    let mut flags = flags_of(binary, &["run"]);
    for command in ["crd", "export", "templates", "plan"] {
        flags.extend(flags_of(binary, &[command]));
    }
    flags
}

/// The emulator's binary, built beside this test's binaries by `cargo build --workspace`
/// (`make test` does it first).
fn emulator_flags() -> BTreeSet<String> {
    let deps = std::env::current_exe().expect("test binary");
    let binary = deps
        .parent()
        .and_then(Path::parent)
        .expect("target folder")
        .join("auth0-emulator");
    assert!(
        binary.is_file(),
        "{} is missing: build it with `cargo build --workspace` (make test does)",
        binary.display()
    );
    flags_of(&binary, &[])
}

#[test]
fn every_operator_flag_the_docs_name_exists() {
    let operator = operator_flags();
    assert!(
        operator.contains("--poll-interval") && operator.contains("--identity"),
        "{operator:?}"
    );
    let emulator = emulator_flags();
    assert!(emulator.contains("--admin-listen"), "{emulator:?}");
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for (doc, text) in docs() {
        // Flags in code spans and in any code line that runs the operator.
        let mut candidates: Vec<String> = code_spans(&text)
            .into_iter()
            .filter(|span| span.starts_with("--"))
            .map(|span| span.split([' ', '=']).next().unwrap_or_default().to_string())
            .collect();
        for (_, body) in code_blocks(&text) {
            for line in body
                .lines()
                .filter(|l| l.contains("auth0-operator run") || l.contains("auth0-operator crd"))
            {
                candidates.extend(
                    line.split_whitespace()
                        .filter(|w| w.starts_with("--"))
                        .map(|w| w.split('=').next().unwrap_or_default().to_string()),
                );
            }
        }
        // docs/emulator.md is about the emulator's binary.
        let flags = if doc == "docs/emulator.md" {
            &emulator
        } else {
            &operator
        };
        for flag in candidates {
            let flag = flag.trim_end_matches(['.', ',', ':', ')']).to_string();
            if flag == "--" || OTHER_TOOLS_FLAGS.contains(&flag.as_str()) {
                continue;
            }
            checked += 1;
            if !flags.contains(&flag) {
                missing.insert(format!("{doc}: {flag}"));
            }
        }
    }
    assert!(checked > 15, "only {checked} flags found: the scan is broken");
    assert!(
        missing.is_empty(),
        "the docs name flags the binary's --help does not list (auth0-emulator's for \
         docs/emulator.md, else auth0-operator's; or another tool's flag missing from \
         OTHER_TOOLS_FLAGS):\n{missing:#?}"
    );
}

/// Every command line of docs/migrate.md that runs `export`, `templates` or `plan` uses only
/// that command's own flags, and the exported folder (it holds a `kustomization.yaml`) is
/// applied with `-k`, never `-f` (which fails on the kustomization; tests/cli.rs runs the
/// `-k` apply).
#[test]
fn the_migration_commands_use_their_own_flags() {
    let binary = Path::new(env!("CARGO_BIN_EXE_auth0-operator"));
    let text = std::fs::read_to_string(repo("docs/migrate.md")).expect("docs/migrate.md");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in text.lines().map(str::trim) {
        for command in ["export", "templates", "plan"] {
            let Some(rest) = line.strip_prefix(&format!("auth0-operator {command}")) else {
                continue;
            };
            let flags = flags_of(binary, &[command]);
            for flag in rest.split_whitespace().filter(|w| w.starts_with("--")) {
                checked += 1;
                if !flags.contains(flag.split('=').next().unwrap_or_default()) {
                    wrong.push(format!("{command} {flag}"));
                }
            }
        }
        if line.starts_with("kubectl apply") && line.contains("profiles/") && !line.contains(" -k ") {
            wrong.push(format!(
                "{line}: the exported folder holds a kustomization.yaml: apply it with -k"
            ));
        }
    }
    assert!(checked >= 8, "only {checked} flags found: the scan is broken");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The walk of docs/migrate.md (its numbered steps) is one end-to-end test that runs the
/// doc's commands as written: every `auth0-operator` or `kubectl` line of steps 1 to 4 (a
/// shell line that pipes or chains, such as the CI example, aside) is one the walk runs
/// (a literal of tests/cli.rs, given to `doc_command`, which fails when the doc no longer
/// shows it).
#[test]
fn the_migration_walk_runs_every_command_of_the_steps() {
    let text = std::fs::read_to_string(repo("docs/migrate.md")).expect("docs/migrate.md");
    let walk = std::fs::read_to_string(repo("tests/cli.rs")).expect("tests/cli.rs");
    let steps = text
        .split("\n## ")
        .filter(|section| section.starts_with(|c: char| c.is_ascii_digit()))
        .collect::<Vec<_>>();
    assert_eq!(steps.len(), 4, "docs/migrate.md has four numbered steps");
    let mut run = 0;
    let mut not_run = Vec::new();
    for line in steps.iter().flat_map(|s| s.lines()).filter(|l| l.starts_with("    ")) {
        let command = line.trim();
        let runs_a_tool = command.starts_with("auth0-operator ") || command.starts_with("kubectl ");
        if !runs_a_tool || command.contains(['|', ';', '>']) {
            continue;
        }
        if walk.contains(&format!("\"{command}\"")) {
            run += 1;
        } else {
            not_run.push(command.to_string());
        }
    }
    assert!(run >= 5, "only {run} commands found: the scan is broken");
    assert!(
        not_run.is_empty(),
        "docs/migrate.md's steps show commands the walk (tests/cli.rs, the_documented_migration_runs_end_to_end) does not run: {not_run:#?}"
    );
}

/// Every flag `run --help` lists is in the README's flag table.
#[test]
fn the_readme_flag_table_lists_every_flag() {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README");
    let out = Command::new(env!("CARGO_BIN_EXE_auth0-operator"))
        .args(["run", "--help"])
        .output()
        .expect("auth0-operator run --help");
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let mut missing = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("--") {
            let flag: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if flag == "help" {
                continue;
            }
            if !readme.contains(&format!("| `--{flag}` |")) {
                missing.push(format!("--{flag}"));
            }
        }
    }
    assert!(missing.is_empty(), "the README's flag table lacks {missing:?}");
}

/// `kubectl apply --server-side --dry-run=server` of one manifest; (success, stdout, stderr).
fn server_dry_run(env: &TestEnv, namespace: &str, manifest: &str, dry_run: bool) -> (bool, String, String) {
    let mut cmd = env.kubectl();
    cmd.args(["apply", "--server-side", "-n", namespace, "-f", "-"]);
    if dry_run {
        cmd.arg("--dry-run=server");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(manifest.as_bytes())
        .expect("writing stdin");
    let out = child.wait_with_output().expect("kubectl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const OUR_KINDS: [&str; 3] = [
    "kind: ConnectionProfile",
    "kind: Auth0Tenant",
    "kind: ClusterAuth0Tenant",
];

/// The docs' YAML documents of our kinds, without a namespace of their own (the test's is used).
fn doc_manifests() -> Vec<(String, String)> {
    let mut manifests = Vec::new();
    for (doc, text) in docs() {
        for (info, body) in code_blocks(&text) {
            if info != "yaml" {
                continue;
            }
            for document in body.split("\n---\n") {
                // Our kind at the top level: a Flux Kustomization's healthCheckExprs name
                // our kinds too, indented.
                if !OUR_KINDS.iter().any(|k| document.lines().any(|l| l.starts_with(k))) {
                    continue;
                }
                if document.contains("name: broken") {
                    continue; // the refused example, checked on its own
                }
                let document: String = document
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("namespace: "))
                    .map(|l| format!("{l}\n"))
                    .collect();
                manifests.push((doc.clone(), document));
            }
        }
    }
    manifests
}

#[tokio::test]
async fn every_example_manifest_applies() {
    let env = TestEnv::get();
    env.install_crds(&auth0_operator::crd::all()).await;
    let ns = env.namespace("docs").await;
    let mut manifests: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(repo("deploy/examples")).expect("deploy/examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("example");
        manifests.push((path.display().to_string(), text));
    }
    let from_docs = doc_manifests();
    assert!(
        from_docs.len() >= 5,
        "only {} manifests found in the docs",
        from_docs.len()
    );
    manifests.extend(from_docs);
    let mut refused = Vec::new();
    let mut cluster_scoped = 0;
    for (from, manifest) in &manifests {
        for document in manifest.split("\n---") {
            if document
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                continue;
            }
            let mut object: serde_json::Value =
                serde_saphyr::from_str(document).unwrap_or_else(|e| panic!("{from}: not YAML ({e}):\n{document}"));
            // In the test's namespace; a ClusterAuth0Tenant under a name of the test's own,
            // since the shared control plane may hold one of the documented name.
            if let Some(metadata) = object["metadata"].as_object_mut() {
                metadata.remove("namespace");
                if object["kind"] == "ClusterAuth0Tenant" {
                    cluster_scoped += 1;
                    object["metadata"]["name"] = format!("{}-{cluster_scoped}", ns.name()).into();
                }
            }
            let (ok, _, stderr) = server_dry_run(&env, ns.name(), &object.to_string(), true);
            if !ok || stderr.contains("Warning") {
                refused.push(format!("{from}:\n{document}\n{stderr}"));
            }
        }
    }
    assert!(refused.is_empty(), "example manifests refused:\n{}", refused.join("\n"));
}

/// The README's validation example: the manifest it shows, applied server-side, prints
/// exactly the errors it shows.
#[tokio::test]
async fn the_readme_validation_example_is_what_server_side_apply_prints() {
    let env = TestEnv::get();
    env.install_crds(&auth0_operator::crd::all()).await;
    let ns = env.namespace("docs-invalid").await;
    let readme = std::fs::read_to_string(repo("README.md")).expect("README");
    let section = readme
        .split("### Validation")
        .nth(1)
        .expect("README has a Validation section");
    let blocks = code_blocks(section);
    let (_, manifest) = blocks
        .iter()
        .find(|(info, _)| info == "yaml")
        .expect("the section shows the manifest");
    let (_, printed) = blocks
        .iter()
        .find(|(info, body)| info.is_empty() && body.contains("is invalid"))
        .expect("the section shows what kubectl prints");
    let (ok, _, stderr) = server_dry_run(&env, ns.name(), manifest, false);
    assert!(!ok, "the broken example was accepted");
    let shown: String = printed
        .lines()
        .filter(|l| !l.starts_with("$ "))
        .map(|l| format!("{l}\n"))
        .collect();
    // kubectl ends the first line with a blank, which a Markdown file should not keep.
    let lines = |text: &str| {
        text.trim()
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&stderr),
        lines(&shown),
        "README's validation output differs from kubectl's"
    );
}
