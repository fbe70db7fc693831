# Sourced by test.sh and up.sh: a kind cluster with the operator's image loaded and the Auth0
# emulator reachable from its pods. Needs lib.sh sourced, and sets:
#   CLUSTER, NETWORK, WORK (a scratch folder), KUBECONFIG, K (kubectl with it), H (helm),
#   GW (the kind network's gateway: the host, as the pods reach it), API (the emulator's
#   acme.us tenant URL for the pods; API_EU acme.eu's), ADMIN (its admin URL, on
#   127.0.0.1), IMAGE_REPO, IMAGE_TAG.
# cluster_up NAME: build what is missing, create the cluster on its own container network,
# load the image, start the emulator. cluster_down: delete all of it (safe to call twice).
# Env: OPERATOR_BIN, EMULATOR_BIN (default $CARGO_TARGET_DIR/debug/...), and lib.sh's.

cluster_down() {
  [ -z "${EMULATOR_PID:-}" ] || { kill "$EMULATOR_PID" 2>/dev/null; wait "$EMULATOR_PID" 2>/dev/null; EMULATOR_PID=; }
  if [ -n "${CLUSTER:-}" ] && [ -n "${KIND:-}" ]; then
    "$KIND" delete cluster --name "$CLUSTER" >/dev/null 2>&1 || kind_say "kind delete cluster $CLUSTER failed"
    "$ENGINE" network rm "$NETWORK" >/dev/null 2>&1 || true
    CLUSTER=
  fi
}

cluster_up() {
  CLUSTER=$1
  local target=${CARGO_TARGET_DIR:-$kind_repo/target}
  OPERATOR_BIN=${OPERATOR_BIN:-$target/debug/auth0-operator}
  EMULATOR_BIN=${EMULATOR_BIN:-$target/debug/auth0-emulator}
  [ -x "$OPERATOR_BIN" ] || kind_die "no operator binary at $OPERATOR_BIN (cargo build --bin auth0-operator)"
  [ -x "$EMULATOR_BIN" ] || kind_die "no emulator binary at $EMULATOR_BIN (cargo build --bin auth0-emulator)"
  local missing=() tool
  for tool in curl python3; do command -v $tool >/dev/null || missing+=($tool); done
  [ ${#missing[@]} = 0 ] || kind_install_debs "${missing[@]}"
  local built
  built=$("$kind_here/build.sh") || kind_die "could not get kind or a node image (above)"
  eval "$built"
  kind_engine
  K8S_BIN=$("$kind_repo/testenv/build.sh")
  H=$("$kind_repo/tools/build-tools.sh")/helm
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/auth0-kind.XXXXXX")
  KUBECONFIG=$WORK/kubeconfig
  K="$K8S_BIN/kubectl --kubeconfig $KUBECONFIG"
  H="$H --kubeconfig $KUBECONFIG"
  # Its own network, removed with the cluster (kind's default "kind" network would outlive it).
  NETWORK=$CLUSTER
  export KIND_EXPERIMENTAL_PODMAN_NETWORK=$NETWORK KIND_EXPERIMENTAL_DOCKER_NETWORK=$NETWORK
  local config=$WORK/kind.yaml
  {
    echo "kind: Cluster"
    echo "apiVersion: kind.x-k8s.io/v1alpha4"
    echo "networking: {ipFamily: ipv4$([ "$KIND_NODE_SOURCE" = local ] && echo ', disableDefaultCNI: true, kubeProxyMode: nftables')}"
    # kubelet 1.35+ refuses cgroup v1 unless told not to (this VM has cgroup v1).
    echo "kubeadmConfigPatches:"
    echo "- |"
    echo "  kind: KubeletConfiguration"
    echo "  failCgroupV1: false"
  } > "$config"
  # The local node image holds a bridge CNI config in place of kindnet (disableDefaultCNI).
  local start=$(date +%s)
  kind_say "kind create cluster $CLUSTER ($KIND_NODE_IMAGE, $ENGINE)"
  "$KIND" create cluster --name "$CLUSTER" --image "$KIND_NODE_IMAGE" --config "$config" --kubeconfig "$KUBECONFIG" \
    --wait 2m >"$WORK/kind-create.log" 2>&1 || { cat "$WORK/kind-create.log" >&2; kind_die "kind create cluster failed (log above)"; }
  kind_say "cluster up in $(( $(date +%s) - start )) s"
  IMAGE_REPO=localhost/auth0-operator IMAGE_TAG=dev
  "$kind_here/image.sh" "$OPERATOR_BIN" "$WORK/operator.tar" "$IMAGE_REPO:$IMAGE_TAG" >/dev/null
  "$KIND" load image-archive "$WORK/operator.tar" --name "$CLUSTER" >"$WORK/kind-load.log" 2>&1 \
    || { cat "$WORK/kind-load.log" >&2; kind_die "kind load image-archive failed"; }
  # The host as the pods reach it: the gateway of the cluster's own network.
  if [ "$ENGINE" = podman ]; then
    GW=$(podman network inspect "$NETWORK" --format '{{range .Subnets}}{{if .Gateway.To4}}{{.Gateway}}{{end}}{{end}}')
  else
    GW=$(docker network inspect "$NETWORK" --format '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -m1 '^[0-9.]*$')
  fi
  [[ "$GW" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || kind_die "cannot read the IPv4 gateway of network $NETWORK ('$GW')"
  cluster_emulator
}

# The emulator: tenants acme.us.auth0.com (client kind-us) and acme.eu.auth0.com (client
# kind-eu), each on its own port of the gateway address (the pods' way to the host); its
# admin API on 127.0.0.1 only. Sets API (acme.us), API_EU, ADMIN.
cluster_emulator() {
  local ports
  ports=$(python3 -c 'import socket,sys
s=[socket.socket() for _ in range(3)]
s[0].bind((sys.argv[1],0)); s[1].bind((sys.argv[1],0)); s[2].bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])' "$GW")
  local us eu admin_port
  read -r us eu admin_port <<<"$ports"
  local scopes='["read:connection_profiles", "create:connection_profiles", "update:connection_profiles", "delete:connection_profiles"]'
  cat > "$WORK/emulator.json" <<JSON
{"listen": "$GW:0", "admin_listen": "127.0.0.1:$admin_port",
 "tenants": [
  {"domain": "acme.us.auth0.com", "port": $us, "clients": [{"client_id": "kind-us", "client_secret": "kind-us-secret", "scopes": $scopes}]},
  {"domain": "acme.eu.auth0.com", "port": $eu, "clients": [{"client_id": "kind-eu", "client_secret": "kind-eu-secret", "scopes": $scopes}]}]}
JSON
  "$EMULATOR_BIN" --config "$WORK/emulator.json" >"$WORK/emulator.log" 2>&1 &
  EMULATOR_PID=$!
  API=http://$GW:$us API_EU=http://$GW:$eu ADMIN=http://127.0.0.1:$admin_port
  for _ in $(seq 100); do curl -sf "$ADMIN/health" >/dev/null && return 0; sleep 0.1; done
  cat "$WORK/emulator.log" >&2; kind_die "the emulator did not start"
}

# cluster_tenant_secret NAMESPACE: the emulator's credentials as the operator reads them.
cluster_tenant_secret() {
  $K create namespace "$1" --dry-run=client -o yaml | $K apply -f - >/dev/null
  $K -n "$1" create secret generic default-auth0-credentials --from-literal=client_id=kind-us \
    --from-literal=client_secret=kind-us-secret --dry-run=client -o yaml \
    | $K label --local -f - auth0.operators.dev/credentials=true -o yaml | $K apply -f - >/dev/null
}

# cluster_helm_values FILE REPLICAS: the chart's values for this cluster (the local image,
# the emulator's address allowed, plain http allowed for it, ClusterAuth0Tenant/default).
cluster_helm_values() {
  cat > "$1" <<YAML
image: {repository: $IMAGE_REPO, tag: $IMAGE_TAG, pullPolicy: Never}
replicas: $2
allowedTenantHosts: ["${API#http://}", "${API_EU#http://}"]
extraArgs: ["--allow-insecure-http"]
tenants:
  - name: default
    spec:
      domain: acme.us.auth0.com
      endpoint: {url: "$API"}
      credentialsSecretRef: {name: default-auth0-credentials}
YAML
}

# cluster_emulator_policy NAMESPACE: a NetworkPolicy letting the operator's pods reach the
# emulator's ports on the host. The chart's and the base's own policy allow egress to 443
# and 6443 only (Auth0 and the API server); policies add up, as a user's would for an Auth0
# proxy on another port. (kindnet enforces them; the local node image's bridge CNI does not.)
cluster_emulator_policy() {
  $K apply -n "$1" -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: auth0-emulator-egress}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: auth0-operator}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: $GW/32}}]
      ports: [{port: ${API##*:}, protocol: TCP}, {port: ${API_EU##*:}, protocol: TCP}]
YAML
}
