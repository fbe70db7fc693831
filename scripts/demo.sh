#!/usr/bin/env bash
# The demo `make demo` runs inside a fresh control plane (testenv run): installs the CRDs,
# applies the examples, shows them as a user sees them, and shows a bad resource refused.
set -euo pipefail
cd "$(dirname "$0")/.."
kubectl="$(cat "$AUTH0_TESTENV_DIR/bin-dir")/kubectl"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say kubectl apply --server-side -f crds/
"$kubectl" apply --server-side -f crds/
"$kubectl" wait --for=condition=Established crd -l '!nonexistent' --all --timeout=60s >/dev/null
"$kubectl" create namespace demo >/dev/null

say kubectl apply -n demo -f deploy/examples/
"$kubectl" apply -n demo -f deploy/examples/

say kubectl get auth0 -n demo
"$kubectl" get auth0 -n demo

say kubectl get connectionprofile enterprise-connections -n demo -o yaml
"$kubectl" get connectionprofile enterprise-connections -n demo -o yaml | sed -n '/^spec:/,$p'

bad=$(mktemp)
cat > "$bad" <<'YAML'
apiVersion: auth0.operators.dev/v1alpha1
kind: ConnectionProfile
metadata:
  name: broken
spec:
  connectionNamePrefixTemplate: "-acme--{org}"
  enabledFeatures: [scim, scim, sso]
  organization: {showAsButton: sometimes}
YAML
say "kubectl apply -n demo -f broken.yaml   # refused by the API server, each field named"
sed 's/^/    /' "$bad"
"$kubectl" apply -n demo -f "$bad" || true
rm -f "$bad"
echo
echo "The reconciler that creates these profiles in Auth0 comes with 'auth0-operator run'."
