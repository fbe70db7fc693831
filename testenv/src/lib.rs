//! A real Kubernetes control plane for tests: etcd and kube-apiserver built from their Go
//! modules (`testenv/build.sh`), run as local processes with a CA, two identities and a
//! kubeconfig for each, the way controller-runtime's envtest runs them.
//!
//! One control plane serves a whole test run: `testenv run -- cargo test` starts it, names
//! its folder in `AUTH0_TESTENV_DIR`, runs the command, prints the process logs when the
//! command fails, and stops what it started. Tests call [`TestEnv::get`] and take a fresh
//! namespace each.
#![forbid(unsafe_code)]

mod controlplane;

pub use controlplane::{
    ControlPlane, Error, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, PROBE_SERVICE_ACCOUNT, log_tails as log_tails_of,
};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, Config};

/// The variable that names a running control plane's folder.
pub const ENV_DIR: &str = "AUTH0_TESTENV_DIR";

/// A running control plane, as the tests see it.
#[derive(Clone, Debug)]
pub struct TestEnv {
    dir: PathBuf,
}

impl TestEnv {
    /// The control plane this test run started. Panics with instructions when there is none:
    /// end-to-end tests never skip.
    pub fn get() -> TestEnv {
        let dir = std::env::var_os(ENV_DIR).map(PathBuf::from).unwrap_or_else(|| {
            panic!(
                "no control plane: {ENV_DIR} is not set. End-to-end tests need the real \
                 kube-apiserver and etcd; run them with `make test`, or \
                 `cargo run -p testenv -- run -- cargo test`"
            )
        });
        assert!(
            dir.join("admin.kubeconfig").is_file(),
            "{ENV_DIR}={} holds no admin.kubeconfig: the control plane is not running",
            dir.display()
        );
        TestEnv { dir }
    }

    /// A control plane a test started itself (see [`ControlPlane::start`]), by its folder.
    pub fn at(dir: &Path) -> TestEnv {
        assert!(
            dir.join("admin.kubeconfig").is_file(),
            "{} holds no admin.kubeconfig",
            dir.display()
        );
        TestEnv { dir: dir.to_path_buf() }
    }

    /// The folder of the binaries (etcd, kube-apiserver, kubectl) this control plane runs.
    pub fn bin_dir(&self) -> PathBuf {
        let bin = std::fs::read_to_string(self.dir.join("bin-dir")).expect("reading bin-dir");
        PathBuf::from(bin.trim())
    }

    /// The control plane's folder: kubeconfigs, logs, binaries' location.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A kubeconfig path for an identity: `admin` (system:masters) or `operator` (the
    /// operator's service account, bound to nothing until a test binds it).
    pub fn kubeconfig(&self, identity: &str) -> PathBuf {
        self.dir.join(format!("{identity}.kubeconfig"))
    }

    /// A client for an identity, `admin` or `operator`.
    pub async fn client(&self, identity: &str) -> Client {
        let path = self.kubeconfig(identity);
        let kubeconfig = Kubeconfig::read_from(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
        Client::try_from(config).expect("building a client")
    }

    /// The admin client.
    pub async fn admin(&self) -> Client {
        self.client("admin").await
    }

    /// The kubectl built beside the control plane, as the admin.
    pub fn kubectl(&self) -> Command {
        let bin = std::fs::read_to_string(self.dir.join("bin-dir")).expect("reading bin-dir");
        let mut cmd = Command::new(Path::new(bin.trim()).join("kubectl"));
        cmd.arg("--kubeconfig").arg(self.kubeconfig("admin"));
        cmd
    }

    /// A new namespace for one test. When the test panics, dropping it prints the control
    /// plane's logs.
    pub async fn namespace(&self, prefix: &str) -> TestNamespace {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let unique = format!(
            "{:x}{:x}{:x}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let name = format!("{}-{}", prefix.trim_matches('-'), &unique[..unique.len().min(20)]);
        let client = self.admin().await;
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        TestNamespace {
            name,
            client,
            env: self.clone(),
        }
    }

    /// Installs CRDs by server-side apply (idempotent; safe from concurrent tests) and waits
    /// until each is Established.
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) {
        let api = Api::<CustomResourceDefinition>::all(self.admin().await);
        let params = PatchParams::apply("testenv").force();
        for crd in crds {
            let name = crd.metadata.name.clone().expect("CRD has a name");
            api.patch(&name, &params, &Patch::Apply(crd))
                .await
                .unwrap_or_else(|e| panic!("applying CRD {name}: {e}"));
        }
        for crd in crds {
            let name = crd.metadata.name.as_deref().expect("CRD has a name");
            let established = await_condition(api.clone(), name, conditions::is_crd_established());
            tokio::time::timeout(Duration::from_secs(30), established)
                .await
                .unwrap_or_else(|_| panic!("CRD {name} not Established within 30 s"))
                .unwrap_or_else(|e| panic!("watching CRD {name}: {e}"));
        }
    }

    /// The last lines of each process log, for a failing test.
    pub fn log_tails(&self, lines: usize) -> String {
        controlplane::log_tails(&self.dir, lines)
    }
}

/// A namespace that belongs to one test. Namespaces are never deleted (there is no
/// controller-manager to finish the job); the control plane goes away after the run.
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
    env: TestEnv,
}

impl TestNamespace {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test in namespace {} failed; control plane logs ({}):\n{}",
                self.name,
                self.env.dir.display(),
                self.env.log_tails(40)
            );
        }
    }
}
