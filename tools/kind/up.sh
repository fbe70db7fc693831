#!/usr/bin/env bash
# `make kind`: a kind cluster named auth0-operator with the operator installed by the Helm
# chart from the locally built image (two replicas), the Auth0 emulator on the host (tenants
# acme.us.auth0.com and acme.eu.auth0.com, reached by the pods through the cluster network's
# gateway) and the examples of deploy/examples applied. Keeps running until Ctrl-C, then
# deletes the cluster, its network and the emulator. AUTH0_KIND_EXIT=1: tear down once set up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$kind_here/cluster.sh"
cd "$kind_repo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sleeper=
finish() { [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; say "deleting the kind cluster $CLUSTER_NAME"; cluster_down; [ -z "${WORK:-}" ] || rm -rf "$WORK"; }
CLUSTER_NAME=auth0-operator
eval "$("$kind_here/build.sh")"; kind_engine
if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kind_die "a kind cluster named $CLUSTER_NAME exists already (another make kind?): $KIND delete cluster --name $CLUSTER_NAME"
fi
trap finish EXIT
trap 'echo; echo stopping; exit 0' INT TERM
say "kind cluster $CLUSTER_NAME ($KIND_NODE_SOURCE node image $KIND_NODE_IMAGE, $ENGINE)"
cluster_up "$CLUSTER_NAME"
say "helm install auth0-operator deploy/helm/auth0-operator (image $IMAGE_REPO:$IMAGE_TAG, 2 replicas)"
cluster_tenant_secret auth0-operator
cluster_emulator_policy auth0-operator
cluster_helm_values "$WORK/values.yaml" 2
echo "pollInterval: 30s" >> "$WORK/values.yaml"
$H install auth0-operator deploy/helm/auth0-operator -n auth0-operator -f "$WORK/values.yaml" --wait --timeout 3m
say "the examples: Auth0Tenant acme (acme.eu) in namespace demo and the ConnectionProfiles"
$K create namespace demo --dry-run=client -o yaml | $K apply -f - >/dev/null
$K -n demo create secret generic acme-auth0-credentials --from-literal=client_id=kind-eu \
  --from-literal=client_secret=kind-eu-secret --dry-run=client -o yaml \
  | $K label --local -f - auth0.operators.dev/credentials=true -o yaml | $K apply -f -
sed -n '/^apiVersion: auth0/,$p' deploy/examples/auth0tenant.yaml | sed "/^spec:/a\\  endpoint: {url: \"$API_EU\"}" | $K apply -n demo -f -
# A profile made in the Auth0 dashboard, for the adoption example to adopt.
legacy_id=$(curl -sf -X POST "$ADMIN/tenants/acme.us.auth0.com/profiles" -H 'content-type: application/json' \
  -d '{"name": "legacy-profile", "connection_name_prefix_template": "legacy-"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for example in deploy/examples/connectionprofile-*.yaml; do
  sed "s/cop_1cu7Zs1Dfru5Qc9mZea7nm/$legacy_id/" "$example" | $K apply -n demo -f -
done
$K wait --for=condition=Ready connectionprofiles --all -n demo --timeout=90s || echo "not every profile became Ready (kubectl -n auth0-operator logs deploy/auth0-operator)"
$K get connectionprofiles -A -o wide
say "try it"
cat <<MSG
The cluster keeps running. In another terminal:

  export KUBECONFIG=$KUBECONFIG
  alias kubectl=$K8S_BIN/kubectl
  kubectl -n auth0-operator get pods,lease                          # two replicas, one leader
  kubectl -n auth0-operator logs deploy/auth0-operator
  kubectl -n demo edit connectionprofile enterprise-connections    # change a field: Auth0 follows
  curl -s $ADMIN/tenants/acme.us.auth0.com/profiles                # Auth0's side (the emulator)

The image is $IMAGE_REPO:$IMAGE_TAG (tools/kind/image.sh); after a change, make kind again.
Emulator log: $WORK/emulator.log. Press Ctrl-C to delete the cluster.
MSG
[ -z "${AUTH0_KIND_EXIT:-}" ] || exit 0
while true; do sleep 3600 & sleeper=$!; wait $sleeper; done
