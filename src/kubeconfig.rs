//! Where the operator's Kubernetes configuration comes from, as kubectl finds it:
//! `--kubeconfig`, `KUBECONFIG` (a `:`-separated list, merged), `~/.kube/config`, or the
//! in-cluster service account; errors name what was tried and how to fix it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// Which setting named the kubeconfig files, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--kubeconfig`.
    Flag,
    /// The `KUBECONFIG` environment variable.
    Env,
    /// `~/.kube/config`, found by default.
    Home,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Flag => "from --kubeconfig",
            Origin::Env => "from KUBECONFIG",
            Origin::Home => "the default ~/.kube/config",
        })
    }
}

/// Where to read the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Kubeconfig files, merged in order (the first to set a value wins, as in kubectl).
    Files { paths: Vec<PathBuf>, origin: Origin },
    /// The service account token and CA mounted into a Pod.
    InCluster,
}

/// What the environment offers; `exists` answers whether a file is there.
pub struct Inputs<'a> {
    /// `--kubeconfig`, as given.
    pub flag: Option<&'a OsStr>,
    /// `KUBECONFIG`, when set (maybe empty).
    pub env: Option<&'a OsStr>,
    /// `$HOME/.kube/config`, when `HOME` is set.
    pub home_config: Option<PathBuf>,
    /// Whether `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are set (a Pod).
    pub in_cluster: bool,
    pub exists: &'a dyn Fn(&Path) -> bool,
}

/// Chooses the source as kubectl does: the flag; else `KUBECONFIG`'s list with empty
/// entries and missing files skipped (an empty `KUBECONFIG` counts as unset); else
/// `~/.kube/config` if it exists; else in-cluster. Errors are whole messages.
pub fn source(inputs: &Inputs<'_>) -> Result<Source, String> {
    if let Some(flag) = inputs.flag {
        let paths = list(flag);
        if paths.is_empty() {
            return Err(
                "--kubeconfig is empty: give a kubeconfig file, or leave the flag out to use \
                        KUBECONFIG, ~/.kube/config or the in-cluster service account"
                    .into(),
            );
        }
        return Ok(Source::Files {
            paths,
            origin: Origin::Flag,
        });
    }
    let env_state = match inputs.env {
        None => "KUBECONFIG is not set",
        Some(value) => {
            let listed = list(value);
            if !listed.is_empty() {
                let found: Vec<PathBuf> = listed.iter().filter(|p| (inputs.exists)(p)).cloned().collect();
                if found.is_empty() {
                    let names: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
                    return Err(format!(
                        "KUBECONFIG names no file that exists ({}): point it at a kubeconfig file \
                         (several separated by ':'), or unset it to use ~/.kube/config or the \
                         in-cluster service account",
                        names.join(", ")
                    ));
                }
                return Ok(Source::Files {
                    paths: found,
                    origin: Origin::Env,
                });
            }
            "KUBECONFIG is set but empty"
        }
    };
    if let Some(home) = &inputs.home_config
        && (inputs.exists)(home)
    {
        return Ok(Source::Files {
            paths: vec![home.clone()],
            origin: Origin::Home,
        });
    }
    if inputs.in_cluster {
        return Ok(Source::InCluster);
    }
    let home = inputs.home_config.as_ref().map_or_else(
        || "~/.kube/config (HOME is not set)".to_string(),
        |p| p.display().to_string(),
    );
    Err(format!(
        "no Kubernetes configuration found: {env_state}, {home} does not exist, and this is not a \
         Pod (KUBERNETES_SERVICE_HOST is not set). Give --kubeconfig FILE or set KUBECONFIG \
         (a file, or several separated by ':'), or run the operator in a cluster"
    ))
}

fn list(value: &OsStr) -> Vec<PathBuf> {
    std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// [`Inputs`] from this process's flag and environment.
pub fn load(flag: Option<&OsStr>) -> Result<Source, String> {
    let env = std::env::var_os("KUBECONFIG");
    let home_config = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".kube").join("config"));
    let in_cluster =
        std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() && std::env::var_os("KUBERNETES_SERVICE_PORT").is_some();
    source(&Inputs {
        flag,
        env: env.as_deref(),
        home_config,
        in_cluster,
        exists: &|p: &Path| p.exists(),
    })
}

/// Reads and merges the files, or the in-cluster settings, into a client configuration.
pub async fn config(source: &Source) -> Result<kube::Config, String> {
    let mut config = match source {
        Source::InCluster => {
            kube::Config::incluster().map_err(|e| format!("reading the in-cluster service account: {e}"))?
        }
        Source::Files { paths, origin } => {
            let mut merged: Option<Kubeconfig> = None;
            for path in paths {
                let read = Kubeconfig::read_from(path).map_err(|e| read_error(path, *origin, &e))?;
                merged = Some(match merged {
                    None => read,
                    Some(m) => m.merge(read).map_err(|e| read_error(path, *origin, &e))?,
                });
            }
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            kube::Config::from_custom_kubeconfig(merged.unwrap_or_default(), &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("kubeconfig {} ({origin}): {e}", names.join(":")))?
        }
    };
    config.apply_debug_overrides();
    Ok(config)
}

/// One line, the path shown plainly (kube's own message quotes a `Debug` path twice).
fn read_error(path: &Path, origin: Origin, error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::ReadConfig(io, _) => {
            format!("cannot read kubeconfig {} ({origin}): {io}", path.display())
        }
        other => format!("kubeconfig {} ({origin}): {other}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(flag: Option<&str>, env: Option<&str>, existing: &[&str], in_cluster: bool) -> Result<Source, String> {
        let existing: Vec<PathBuf> = existing.iter().map(PathBuf::from).collect();
        source(&Inputs {
            flag: flag.map(OsStr::new),
            env: env.map(OsStr::new),
            home_config: Some(PathBuf::from("/home/u/.kube/config")),
            in_cluster,
            exists: &|p: &Path| existing.iter().any(|e| e == p),
        })
    }

    fn files(paths: &[&str], origin: Origin) -> Result<Source, String> {
        Ok(Source::Files {
            paths: paths.iter().map(PathBuf::from).collect(),
            origin,
        })
    }

    #[test]
    fn kubeconfig_is_a_list_like_kubectls() {
        assert_eq!(
            pick(None, Some("/a:/b"), &["/a", "/b"], false),
            files(&["/a", "/b"], Origin::Env)
        );
        // kubectl skips empty entries and files that do not exist.
        assert_eq!(
            pick(None, Some(":/a::/gone"), &["/a"], false),
            files(&["/a"], Origin::Env)
        );
        assert_eq!(
            pick(Some("/x:/y"), None, &[], false),
            files(&["/x", "/y"], Origin::Flag)
        );
    }

    #[test]
    fn the_flag_wins_then_kubeconfig_then_home_then_in_cluster() {
        let home = "/home/u/.kube/config";
        assert_eq!(
            pick(Some("/f"), Some("/e"), &["/e", home], true),
            files(&["/f"], Origin::Flag)
        );
        assert_eq!(pick(None, Some("/e"), &["/e", home], true), files(&["/e"], Origin::Env));
        assert_eq!(pick(None, None, &[home], true), files(&[home], Origin::Home));
        assert_eq!(pick(None, None, &[], true), Ok(Source::InCluster));
        // An empty KUBECONFIG is unset, as in kubectl.
        assert_eq!(pick(None, Some(""), &[home], true), files(&[home], Origin::Home));
        assert_eq!(pick(None, Some(""), &[], true), Ok(Source::InCluster));
    }

    #[test]
    fn nothing_found_names_what_was_tried_and_the_fix() {
        assert_eq!(
            pick(None, None, &[], false).unwrap_err(),
            "no Kubernetes configuration found: KUBECONFIG is not set, /home/u/.kube/config does \
             not exist, and this is not a Pod (KUBERNETES_SERVICE_HOST is not set). Give \
             --kubeconfig FILE or set KUBECONFIG (a file, or several separated by ':'), or run \
             the operator in a cluster"
        );
        assert_eq!(
            pick(None, Some(""), &[], false).unwrap_err(),
            "no Kubernetes configuration found: KUBECONFIG is set but empty, /home/u/.kube/config \
             does not exist, and this is not a Pod (KUBERNETES_SERVICE_HOST is not set). Give \
             --kubeconfig FILE or set KUBECONFIG (a file, or several separated by ':'), or run \
             the operator in a cluster"
        );
        assert_eq!(
            pick(None, Some("/a:/b"), &[], true).unwrap_err(),
            "KUBECONFIG names no file that exists (/a, /b): point it at a kubeconfig file \
             (several separated by ':'), or unset it to use ~/.kube/config or the in-cluster \
             service account"
        );
        assert_eq!(
            pick(Some(""), None, &[], true).unwrap_err(),
            "--kubeconfig is empty: give a kubeconfig file, or leave the flag out to use \
             KUBECONFIG, ~/.kube/config or the in-cluster service account"
        );
    }
}
