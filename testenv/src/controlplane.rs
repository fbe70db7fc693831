//! Starts and stops etcd and kube-apiserver as child processes, with envtest's flags.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::prelude::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The namespace and name of the operator's ServiceAccount, the second identity.
pub const OPERATOR_NAMESPACE: &str = "auth0-operator";
pub const OPERATOR_SERVICE_ACCOUNT: &str = "auth0-operator";
/// A second service account (kubeconfig `probe`) that no shared test binds, for tests that
/// must control exactly which rules it holds (the RBAC rule-removal test).
pub const PROBE_SERVICE_ACCOUNT: &str = "auth0-operator-probe";

/// Why a control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{binary} not found in {dir}: build it with testenv/build.sh (make testenv)")]
    MissingBinary { binary: &'static str, dir: PathBuf },
    #[error("preparing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("making certificates: {0}")]
    Pki(#[from] rcgen::Error),
    #[error("starting {binary}: {source}")]
    Spawn {
        binary: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{process} exited before it was ready ({status}); its log:\n{log}")]
    Exited {
        process: &'static str,
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("{process} not ready within {seconds} s; its log:\n{log}")]
    NotReady {
        process: &'static str,
        seconds: u64,
        log: String,
    },
}

type Result<T> = std::result::Result<T, Error>;

/// etcd and kube-apiserver, running.
pub struct ControlPlane {
    dir: PathBuf,
    bin: PathBuf,
    etcd: Child,
    apiserver: Child,
    apiserver_args: Vec<String>,
    secure: u16,
    admin_token: String,
    /// The API server's address, `https://127.0.0.1:<port>`.
    pub server: String,
    /// How long the start took, for reports.
    pub started_in: Duration,
}

impl ControlPlane {
    /// Starts a control plane in `dir` (made fresh) from the binaries in `bin`. Retries the
    /// whole start a few times when it loses a race for a free port.
    pub fn start(bin: &Path, dir: &Path) -> Result<ControlPlane> {
        for binary in ["etcd", "kube-apiserver", "kubectl"] {
            if !bin.join(binary).is_file() {
                return Err(Error::MissingBinary {
                    binary,
                    dir: bin.to_path_buf(),
                });
            }
        }
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(bin, dir) {
                Ok(cp) => return Ok(cp),
                Err(e @ (Error::Exited { .. } | Error::NotReady { .. })) if log_says_port_taken(dir) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("three attempts were made"))
    }

    fn try_start(bin: &Path, dir: &Path) -> Result<ControlPlane> {
        let started = Instant::now();
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        let pki = dir.join("pki");
        fs::create_dir_all(&pki).map_err(io(&pki))?;
        write(&dir.join("bin-dir"), &bin.display().to_string())?;
        let certs = Pki::generate()?;
        certs.write(&pki)?;

        let admin_token = random_token();
        let operator_token = random_token();
        let probe_token = random_token();
        let probe_user = format!("system:serviceaccount:{OPERATOR_NAMESPACE}:{PROBE_SERVICE_ACCOUNT}");
        let operator_user = format!("system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}");
        write(
            &dir.join("tokens.csv"),
            &format!(
                "{admin_token},admin,admin-uid,\"system:masters\"\n\
                 {operator_token},{operator_user},operator-uid,\"system:serviceaccounts,system:serviceaccounts:{OPERATOR_NAMESPACE}\"\n\
                 {probe_token},{probe_user},probe-uid,\"system:serviceaccounts,system:serviceaccounts:{OPERATOR_NAMESPACE}\"\n"
            ),
        )?;

        let etcd_client = free_port()?;
        let etcd_peer = free_port()?;
        let secure = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let mut etcd = spawn(
            bin,
            "etcd",
            dir,
            &[
                &format!("--data-dir={}", dir.join("etcd").display()),
                &format!("--listen-client-urls={etcd_url}"),
                &format!("--advertise-client-urls={etcd_url}"),
                &format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer}"),
                &format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}"),
                &format!("--initial-cluster=default=http://127.0.0.1:{etcd_peer}"),
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )?;
        if let Err(e) = wait_until(&mut etcd, "etcd", dir, Duration::from_secs(30), || {
            http_ok(etcd_client, "/health", None)
        }) {
            stop(&mut etcd);
            return Err(e);
        }

        let server = format!("https://127.0.0.1:{secure}");
        let apiserver_args: Vec<String> = [
            &format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            &format!("--secure-port={secure}"),
            &format!("--cert-dir={}", pki.display()),
            &format!("--tls-cert-file={}", pki.join("apiserver.crt").display()),
            &format!("--tls-private-key-file={}", pki.join("apiserver.key").display()),
            &format!("--token-auth-file={}", dir.join("tokens.csv").display()),
            "--authorization-mode=RBAC",
            &format!("--service-account-issuer={server}/"),
            &format!("--service-account-key-file={}", pki.join("sa.pub").display()),
            &format!("--service-account-signing-key-file={}", pki.join("sa.key").display()),
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            "--disable-admission-plugins=ServiceAccount",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .collect();
        let mut apiserver = spawn(bin, "kube-apiserver", dir, &as_strs(&apiserver_args))?;
        let ready = wait_until(&mut apiserver, "kube-apiserver", dir, Duration::from_secs(120), || {
            http_ok(secure, "/readyz", Some(&admin_token))
                && http_ok(secure, "/api/v1/namespaces/default", Some(&admin_token))
        });
        if let Err(e) = ready {
            stop(&mut apiserver);
            stop(&mut etcd);
            return Err(e);
        }

        for (identity, token) in [
            ("admin", &admin_token),
            ("operator", &operator_token),
            ("probe", &probe_token),
        ] {
            write(
                &dir.join(format!("{identity}.kubeconfig")),
                &kubeconfig(&server, &certs.ca_pem, identity, token),
            )?;
        }
        Ok(ControlPlane {
            dir: dir.to_path_buf(),
            bin: bin.to_path_buf(),
            etcd,
            apiserver,
            apiserver_args,
            secure,
            admin_token,
            server,
            started_in: started.elapsed(),
        })
    }

    /// The folder holding kubeconfigs and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the API server, then etcd: SIGTERM, then SIGKILL after a grace period.
    pub fn stop(mut self) {
        stop(&mut self.apiserver);
        stop(&mut self.etcd);
    }

    /// Stops the API server alone (SIGTERM, then SIGKILL after a grace period); etcd and
    /// every kubeconfig stay valid for [`ControlPlane::start_apiserver`].
    pub fn stop_apiserver(&mut self) {
        stop(&mut self.apiserver);
    }

    /// Starts the API server again on the same port, certificates and identities, and waits
    /// until it is ready. Its earlier log is kept as `kube-apiserver.log.1`.
    pub fn start_apiserver(&mut self) -> Result<()> {
        let log = self.dir.join("kube-apiserver.log");
        let _ = fs::rename(&log, self.dir.join("kube-apiserver.log.1"));
        self.apiserver = spawn(&self.bin, "kube-apiserver", &self.dir, &as_strs(&self.apiserver_args))?;
        let (secure, token) = (self.secure, self.admin_token.clone());
        wait_until(
            &mut self.apiserver,
            "kube-apiserver",
            &self.dir,
            Duration::from_secs(120),
            || http_ok(secure, "/readyz", Some(&token)),
        )
    }

    /// Whether both processes still run.
    pub fn alive(&mut self) -> bool {
        matches!(self.etcd.try_wait(), Ok(None)) && matches!(self.apiserver.try_wait(), Ok(None))
    }
}

impl Drop for ControlPlane {
    /// A control plane never outlives its owner, even one that panics.
    fn drop(&mut self) {
        stop(&mut self.apiserver);
        stop(&mut self.etcd);
    }
}

/// The last `lines` lines of each process log in `dir`.
pub fn log_tails(dir: &Path, lines: usize) -> String {
    let mut out = String::new();
    for process in ["etcd", "kube-apiserver"] {
        let log = tail(&dir.join(format!("{process}.log")), lines);
        out.push_str(&format!("----- {process}.log (last {lines} lines) -----\n{log}\n"));
    }
    out
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn log_says_port_taken(dir: &Path) -> bool {
    ["etcd", "kube-apiserver"]
        .iter()
        .any(|p| fs::read_to_string(dir.join(format!("{p}.log"))).is_ok_and(|l| l.contains("address already in use")))
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn spawn(bin: &Path, binary: &'static str, dir: &Path, args: &[&str]) -> Result<Child> {
    let log_path = dir.join(format!("{binary}.log"));
    let log = fs::File::create(&log_path).map_err(io(&log_path))?;
    let err = log.try_clone().map_err(io(&log_path))?;
    Command::new(bin.join(binary))
        .args(args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|source| Error::Spawn { binary, source })
}

fn wait_until(
    child: &mut Child,
    process: &'static str,
    dir: &Path,
    limit: Duration,
    ready: impl Fn() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::Exited {
                process,
                status,
                log: tail(&dir.join(format!("{process}.log")), 30),
            });
        }
        if ready() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::NotReady {
                process,
                seconds: limit.as_secs(),
                log: tail(&dir.join(format!("{process}.log")), 30),
            });
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn stop(child: &mut Child) {
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A GET answered 200: plain HTTP for etcd, HTTPS with a bearer token for the API server.
fn http_ok(port: u16, path: &str, token: Option<&str>) -> bool {
    match token {
        None => plain_get(port, path).is_some_and(|status| status == 200),
        Some(token) => https_ok(port, path, token),
    }
}

fn plain_get(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// GET over TLS with a bearer token, 200 expected. Uses a small blocking runtime around
/// kube's client so no second TLS stack is needed.
fn https_ok(port: u16, path: &str, token: &str) -> bool {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(_) => return false,
    };
    runtime.block_on(async {
        let Ok(uri) = format!("https://127.0.0.1:{port}").parse() else {
            return false;
        };
        let mut config = kube::Config::new(uri);
        config.accept_invalid_certs = true;
        config.auth_info.token = Some(token.to_string().into());
        config.read_timeout = Some(Duration::from_secs(2));
        config.connect_timeout = Some(Duration::from_secs(1));
        let Ok(client) = kube::Client::try_from(config) else {
            return false;
        };
        let Ok(request) = http::Request::get(path).body(Vec::new()) else {
            return false;
        };
        client.request_text(request).await.is_ok()
    })
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io(Path::new("127.0.0.1:0")))?;
    let port = listener.local_addr().map_err(io(Path::new("127.0.0.1:0")))?.port();
    Ok(port)
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: fall back to the clock; these tokens live only as long as the run.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kubeconfig(server: &str, ca_pem: &str, identity: &str, token: &str) -> String {
    let ca = BASE64_STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: testenv\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
         users:\n- name: {identity}\n  user:\n    token: {token}\n\
         contexts:\n- name: {identity}\n  context:\n    cluster: testenv\n    user: {identity}\n    namespace: default\n\
         current-context: {identity}\n"
    )
}

/// The CA, the API server's serving certificate and the service-account key pair.
struct Pki {
    ca_pem: String,
    serving_pem: String,
    serving_key_pem: String,
    sa_key_pem: String,
    sa_pub_pem: String,
}

impl Pki {
    fn generate() -> Result<Pki> {
        let ca_key = KeyPair::generate()?; // ECDSA P-256
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "auth0-operator testenv CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let serving_key = KeyPair::generate()?;
        let mut serving_params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        serving_params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let serving = serving_params.signed_by(&serving_key, &issuer)?;

        let sa_key = KeyPair::generate()?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            serving_pem: serving.pem(),
            serving_key_pem: serving_key.serialize_pem(),
            sa_key_pem: sa_key.serialize_pem(),
            sa_pub_pem: sa_key.public_key_pem(),
        })
    }

    fn write(&self, pki: &Path) -> Result<()> {
        write(&pki.join("ca.crt"), &self.ca_pem)?;
        write(&pki.join("apiserver.crt"), &self.serving_pem)?;
        write(&pki.join("apiserver.key"), &self.serving_key_pem)?;
        write(&pki.join("sa.key"), &self.sa_key_pem)?;
        write(&pki.join("sa.pub"), &self.sa_pub_pem)
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(io(path))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_bin(scripts: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("testenv-fake-{}-{}", std::process::id(), random_token()));
        fs::create_dir_all(&dir).expect("mkdir");
        for (name, body) in scripts {
            let path = dir.join(name);
            fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        dir
    }

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let bin = fake_bin(&[("etcd", "exit 0"), ("kubectl", "exit 0")]);
        let err = ControlPlane::start(&bin, &bin.join("run")).err().expect("must fail");
        let message = err.to_string();
        assert!(message.starts_with("kube-apiserver not found in"), "{message}");
        assert!(message.contains("testenv/build.sh"), "{message}");
    }

    #[test]
    fn a_broken_binary_fails_with_its_log() {
        let bin = fake_bin(&[
            ("etcd", "echo 'etcd: cannot open data dir' >&2; exit 3"),
            ("kube-apiserver", "exit 0"),
            ("kubectl", "exit 0"),
        ]);
        let err = ControlPlane::start(&bin, &bin.join("run")).err().expect("must fail");
        let message = err.to_string();
        assert!(message.starts_with("etcd exited before it was ready"), "{message}");
        assert!(message.contains("cannot open data dir"), "{message}");
    }

    #[test]
    fn pki_serves_localhost_and_loopback_from_a_ca() {
        let pki = Pki::generate().expect("pki");
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(
            pki.ca_pem, pki.serving_pem,
            "the serving certificate must not be the CA"
        );
        assert!(pki.sa_pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let kubeconfig = kubeconfig("https://127.0.0.1:1", &pki.ca_pem, "admin", "t0ken");
        assert!(kubeconfig.contains(&BASE64_STANDARD.encode(&pki.ca_pem)));
        assert!(kubeconfig.contains("token: t0ken"));
    }
}
