//! The image built without Docker (`tools/kind/image.sh`, what `make test`'s kind cluster and
//! `make kind` run) and the `Dockerfile` (what users and the release build) describe the same
//! image: the final stage's USER, ENTRYPOINT, CMD, EXPOSE and LABELs are the OCI archive's
//! config, the binary sits where the Dockerfile copies it, and the layer holds nothing but
//! the binary, the shared libraries it links and the distroless `nonroot` user's files.
//!
//! The archive is read as `kind load image-archive` reads it: index.json, the manifest, the
//! config and the layer blobs of an oci-layout tar.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const REF: &str = "localhost/auth0-operator:image-test";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// What the Dockerfile's final stage says of the image it makes.
#[derive(Debug, Default)]
struct FinalStage {
    base: String,
    user: String,
    exposed: BTreeSet<String>,
    entrypoint: Value,
    cmd: Value,
    labels: BTreeMap<String, String>,
    /// COPY destinations of the final stage.
    copied: Vec<String>,
}

/// Instructions of a Dockerfile: continuation lines joined, comments and blank lines dropped.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, rest) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_string()));
        current.clear();
    }
    out
}

/// `k="v" k2="v2"` (LABEL's form used in the Dockerfile).
fn labels(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').expect("an unterminated LABEL value");
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(char::is_whitespace).unwrap_or((after, "")),
        };
        out.insert(key.trim().to_string(), value.to_string());
        rest = tail.trim();
    }
    out
}

fn final_stage(dockerfile: &str) -> FinalStage {
    let all = instructions(dockerfile);
    let from = all
        .iter()
        .rposition(|(k, _)| k == "FROM")
        .expect("the Dockerfile has no FROM");
    let mut stage = FinalStage {
        base: all[from].1.clone(),
        ..FinalStage::default()
    };
    for (keyword, args) in &all[from + 1..] {
        match keyword.as_str() {
            "USER" => stage.user = args.clone(),
            "EXPOSE" => stage.exposed.extend(args.split_whitespace().map(|p| {
                if p.contains('/') {
                    p.to_string()
                } else {
                    format!("{p}/tcp")
                }
            })),
            "ENTRYPOINT" => stage.entrypoint = serde_json::from_str(args).expect("ENTRYPOINT in JSON form"),
            "CMD" => stage.cmd = serde_json::from_str(args).expect("CMD in JSON form"),
            "LABEL" => stage.labels.extend(labels(args)),
            "COPY" => stage
                .copied
                .push(args.split_whitespace().last().unwrap_or_default().to_string()),
            _ => {}
        }
    }
    stage
}

/// One layer entry: its mode, owner and (for a file) contents.
struct Entry {
    mode: u32,
    uid: u64,
    gid: u64,
    kind: tar::EntryType,
    data: Vec<u8>,
}

fn read_tar(bytes: &[u8]) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for entry in tar::Archive::new(bytes).entries().expect("a tar archive") {
        let mut entry = entry.expect("a tar entry");
        let header = entry.header().clone();
        let path = entry
            .path()
            .expect("an entry path")
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("reading an entry");
        out.insert(
            path,
            Entry {
                mode: header.mode().expect("a mode"),
                uid: header.uid().expect("a uid"),
                gid: header.gid().expect("a gid"),
                kind: header.entry_type(),
                data,
            },
        );
    }
    out
}

fn blob(archive: &BTreeMap<String, Entry>, descriptor: &Value) -> Vec<u8> {
    let digest = descriptor["digest"].as_str().expect("a descriptor digest");
    let name = format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
    archive
        .get(&name)
        .unwrap_or_else(|| panic!("the archive has no blob {name}"))
        .data
        .clone()
}

/// The libraries the dynamic loader maps for `binary`, as `ldd` names them (none when static).
fn linked(binary: &Path) -> BTreeSet<String> {
    let out = Command::new("ldd").arg(binary).output().expect("running ldd");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(|path| path.trim_start_matches('/').to_string())
        .collect()
}

#[test]
fn the_archive_and_the_dockerfile_describe_the_same_image() {
    let binary = Path::new(env!("CARGO_BIN_EXE_auth0-operator"));
    let out = std::env::temp_dir().join(format!("auth0-operator-image-test-{}.tar", std::process::id()));
    let status = Command::new(repo("tools/kind/image.sh"))
        .arg(binary)
        .arg(&out)
        .arg(REF)
        .status()
        .expect("running tools/kind/image.sh");
    assert!(status.success(), "tools/kind/image.sh failed ({status})");

    let bytes = std::fs::read(&out).expect("reading the archive");
    let _ = std::fs::remove_file(&out);
    let archive = read_tar(&bytes);
    assert_eq!(archive["oci-layout"].data, br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index: Value = serde_json::from_slice(&archive["index.json"].data).expect("index.json");
    let manifests = index["manifests"].as_array().expect("index.json's manifests");
    assert_eq!(manifests.len(), 1, "one image: {index}");
    assert_eq!(manifests[0]["annotations"]["io.containerd.image.name"], REF);
    let manifest: Value = serde_json::from_slice(&blob(&archive, &manifests[0])).expect("the manifest");
    let config: Value = serde_json::from_slice(&blob(&archive, &manifest["config"])).expect("the config");
    let layers = manifest["layers"].as_array().expect("the manifest's layers");
    assert_eq!(layers.len(), 1, "one layer: {manifest}");
    let layer = read_tar(&blob(&archive, &layers[0]));

    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).expect("reading the Dockerfile");
    let stage = final_stage(&dockerfile);
    // The Dockerfile's base is distroless's nonroot variant: uid 65532 named nonroot.
    // (The tag may be pinned by a digest: `...:nonroot@sha256:...`.)
    let base_tag = stage.base.split('@').next().unwrap_or_default();
    assert!(
        base_tag.ends_with(":nonroot"),
        "the final stage's base is {}",
        stage.base
    );
    assert_eq!(stage.user, "65532:65532");
    let image = &config["config"];
    assert_eq!(image["User"], json!(stage.user), "USER");
    assert_eq!(image["Entrypoint"], stage.entrypoint, "ENTRYPOINT");
    assert_eq!(image["Cmd"], stage.cmd, "CMD");
    let exposed: BTreeSet<String> = image["ExposedPorts"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(exposed, stage.exposed, "EXPOSE");
    let labels: BTreeMap<String, String> = serde_json::from_value(image["Labels"].clone()).unwrap_or_default();
    assert_eq!(labels, stage.labels, "LABEL");
    assert_eq!(config["os"], "linux");

    // The binary: where the final stage copies it, the entrypoint, executable, the same bytes.
    assert_eq!(
        stage.copied,
        vec!["/usr/local/bin/auth0-operator".to_string()],
        "the final stage's COPY"
    );
    assert_eq!(
        stage.entrypoint[0],
        json!(stage.copied[0]),
        "the entrypoint is the copied binary"
    );
    let path = stage.copied[0].trim_start_matches('/');
    let entry = layer.get(path).unwrap_or_else(|| panic!("the layer has no {path}"));
    assert_eq!(entry.mode & 0o777, 0o755);
    assert!(
        entry.data == std::fs::read(binary).expect("reading the binary"),
        "{path} is not the built binary"
    );

    // Nothing else but what the binary links and distroless's user files.
    let mut allowed = linked(binary);
    allowed.extend([path.to_string(), "etc/passwd".into(), "etc/group".into()]);
    let files: BTreeSet<String> = layer
        .iter()
        .filter(|(_, e)| e.kind != tar::EntryType::Directory)
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(files, allowed, "the layer's files");
    for (path, entry) in &layer {
        if entry.kind == tar::EntryType::Directory && path != "home/nonroot" {
            assert_eq!((entry.uid, entry.gid), (0, 0), "{path} is owned by root");
        }
        if entry.kind != tar::EntryType::Directory {
            assert_eq!(entry.kind, tar::EntryType::Regular, "{path} is a regular file");
            assert_eq!(
                (entry.uid, entry.gid, entry.mode & 0o022),
                (0, 0, 0),
                "{path}: root's, written by no one else"
            );
        }
    }
    let passwd = String::from_utf8_lossy(&layer["etc/passwd"].data).to_string();
    assert!(
        passwd
            .lines()
            .any(|l| l == "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin"),
        "{passwd}"
    );
    let home = &layer["home/nonroot"];
    assert_eq!((home.uid, home.gid), (65532, 65532), "/home/nonroot is nonroot's");
    assert_eq!(layer["tmp"].mode & 0o7777, 0o1777, "/tmp is sticky and writable");
}

#[test]
fn the_dockerfile_reader_reads_continuations_and_labels() {
    let stage = final_stage(
        "FROM a AS b\nUSER 1\nFROM base:nonroot\n# c\nLABEL x=\"1 2\" \\\n      y=\"3\"\nCOPY --from=b /o /usr/bin/o\nEXPOSE 80 53/udp\nUSER 7:7\nENTRYPOINT [\"/usr/bin/o\"]\nCMD [\"run\"]\n",
    );
    assert_eq!(stage.base, "base:nonroot");
    assert_eq!(stage.user, "7:7");
    assert_eq!(
        stage.labels,
        BTreeMap::from([("x".into(), "1 2".into()), ("y".into(), "3".into())])
    );
    assert_eq!(stage.copied, vec!["/usr/bin/o".to_string()]);
    assert_eq!(
        stage.exposed,
        BTreeSet::from(["80/tcp".to_string(), "53/udp".to_string()])
    );
    assert_eq!(stage.entrypoint, json!(["/usr/bin/o"]));
    assert_eq!(stage.cmd, json!(["run"]));
}
