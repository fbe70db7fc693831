//! The start-up check that the CRDs are installed, with a message that tells a missing CRD
//! from an unreachable API server, refused credentials and a missing RBAC grant.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Reads each of the operator's CRDs, all at once (one round trip however many kinds it
/// serves: a restart is that much sooner); the first failure, in install order, becomes a
/// whole message.
pub async fn check_crds(client: &kube::Client, server: &str) -> Result<(), String> {
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    let names: Vec<String> = crate::crd::all()
        .into_iter()
        .map(|crd| crd.metadata.name.unwrap_or_default())
        .collect();
    let answers = futures::future::join_all(names.iter().map(|name| api.get(name))).await;
    for (name, answer) in names.iter().zip(answers) {
        if let Err(e) = answer {
            return Err(crd_check_failed(name, server, &e));
        }
    }
    Ok(())
}

/// What a failed `GET` of CRD `crd` on the API server at `server` means, and what to do.
pub fn crd_check_failed(crd: &str, server: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => match status.code {
            404 => format!(
                "CRD {crd} is not installed in the cluster at {server}: install the CRDs first \
                 (kubectl apply --server-side -k crds, from this repository's checkout), then \
                 start the operator"
            ),
            401 => format!(
                "the API server at {server} refused the operator's credentials (401 Unauthorized): \
                 check the kubeconfig's user, or the service account token in a Pod"
            ),
            403 => format!(
                "the operator may not read CRD {crd} (403 Forbidden: {}): bind the operator's \
                 service account to its ClusterRole, which grants get on its five \
                 customresourcedefinitions (deploy/base/clusterrole.yaml, \
                 deploy/base/clusterrolebinding.yaml)",
                status.message
            ),
            code => format!(
                "the API server at {server} answered {code} to reading CRD {crd}: {}",
                status.message
            ),
        },
        other => format!(
            "cannot reach the Kubernetes API server at {server} ({}): check the server address in \
             the kubeconfig (or, in a Pod, the network policy's egress to the API server) and \
             that the API server is running",
            causes(other)
        ),
    }
}

/// An error and its sources on one line, repeats left out (hyper's errors repeat their
/// source in their own message).
fn causes(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: message.into(),
            ..Default::default()
        }))
    }

    #[test]
    fn only_a_404_says_not_installed() {
        let crd = "connectionprofiles.auth0.operators.dev";
        let server = "https://127.0.0.1:6443/";
        assert_eq!(
            crd_check_failed(crd, server, &status(404, "not found")),
            "CRD connectionprofiles.auth0.operators.dev is not installed in the cluster at \
             https://127.0.0.1:6443/: install the CRDs first (kubectl apply --server-side -k crds, \
             from this repository's checkout), then start the operator"
        );
        for code in [401, 403, 500] {
            let message = crd_check_failed(crd, server, &status(code, "x"));
            assert!(!message.contains("not installed"), "{code}: {message}");
        }
        assert!(crd_check_failed(crd, server, &status(403, "x")).contains("ClusterRole"));
    }
}
