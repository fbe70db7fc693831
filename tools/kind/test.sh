#!/usr/bin/env bash
# The operator as users run it (`make test` runs this; issue 27): its image, installed by the
# Helm chart with two replicas in a kind cluster, against the Auth0 emulator on the host;
# then the same with the kustomize base. Creates the cluster, proves each point below, and
# deletes the cluster and its network on every exit, failure included. Fails loudly, naming
# what is missing, when it cannot build or install something: it never skips.
#   1. the Deployment becomes Available, as uid 65532 with a read-only root filesystem;
#   2. /healthz and /readyz answer on every pod;
#   3. one pod holds the Lease, the other waits for it;
#   4. a ConnectionProfile becomes Ready, and an edit reaches Auth0;
#   5. deleting the leader pod hands the Lease over within its duration, and the new leader
#      writes nothing again;
#   6. a pod stopped by the kubelet while a create is in flight exits within its grace
#      period, and the profile still ends Ready, created once;
#   7. `helm uninstall` keeps the CRDs, the ConnectionProfiles and the Auth0 profiles;
#   8. the kustomize base (deploy/base, the image overridden) installs the same and takes
#      the profiles over without creating any again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$kind_here/cluster.sh"
cd "$kind_repo"
NS=auth0-operator
TENANT=acme.us.auth0.com
t0=$(date +%s)
step() { echo "== kind: $* ($(( $(date +%s) - t0 )) s)"; }
pass() { echo "   ok: $*"; }
diagnose() {
  [ -n "${K:-}" ] && [ -f "${KUBECONFIG:-/nonexistent}" ] || return 0
  echo "---- diagnostics"; $K get pods,leases -A -o wide 2>&1 | head -40
  $K get connectionprofiles -A -o wide 2>&1 | head -20
  for pod in $($K -n $NS get pods -o name 2>/dev/null); do
    echo "---- $pod"; $K -n $NS describe "$pod" 2>&1 | tail -15; $K -n $NS logs "$pod" --tail 30 2>&1
  done
  echo "---- emulator"; tail -20 "$WORK/emulator.log" 2>/dev/null || true
}
fail() { echo "FAIL (kind): $*" >&2; diagnose >&2; exit 1; }
finish() {
  local rc=$?
  [ $rc = 0 ] || echo "kind test failed (exit $rc); tearing the cluster down" >&2
  cluster_down
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
  echo "== kind: cluster deleted ($(( $(date +%s) - t0 )) s in all)"
}
trap finish EXIT
trap 'exit 130' INT TERM

# Emulator admin API helpers.
admin() { curl -sf "$ADMIN/tenants/$TENANT/$1"; }
count_ok() { # count_ok ENDPOINT: the number of 2xx answers of that endpoint so far
  admin counters | python3 -c 'import json,sys; c=json.load(sys.stdin).get(sys.argv[1],{}); print(sum(n for s,n in c.items() if s.startswith("2")))' "$1"
}
auth0_profiles_named() { # auth0_profiles_named NAME: how many Auth0 profiles carry that name
  curl -sf "$ADMIN/tenants/$TENANT/profiles" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("connection_profiles", d) if isinstance(d,dict) else d; print(sum(1 for p in d if p.get("name")==sys.argv[1]))' "$1"
}
auth0_field() { # auth0_field NAME FIELD: a top-level field of the Auth0 profile with that name
  curl -sf "$ADMIN/tenants/$TENANT/profiles" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("connection_profiles", d) if isinstance(d,dict) else d; print(next((json.dumps(p.get(sys.argv[2])) for p in d if p.get("name")==sys.argv[1]), "absent"))' "$1" "$2"
}
reconciles() { # reconciles POD: the ConnectionProfile passes that pod has made (its /metrics)
  $K get --raw "/api/v1/namespaces/$NS/pods/$1:8080/proxy/metrics" 2>/dev/null | python3 -c 'import sys
print(int(sum(float(l.rsplit(None, 1)[1]) for l in sys.stdin if l.startswith("auth0_operator_reconciles_total{") and "ConnectionProfile" in l)))' || echo 0
}
lease_holder() { $K -n $NS get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
pods_of() { # the operator's running pods that are not being deleted
  $K -n $NS get pods -l app.kubernetes.io/name=auth0-operator -o json | python3 -c 'import json,sys
for p in json.load(sys.stdin)["items"]:
    if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp"): print(p["metadata"]["name"])'
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds
  local until=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@"; do [ "$(date +%s)" -lt "$until" ] || fail "$what: not within the time allowed"; sleep 0.5; done
}

# 1-3: Available, probes, security, leader election; LEASE is the Lease's name.
check_install() {
  local lease=$1
  $K -n $NS wait --for=condition=Available deployment/auth0-operator --timeout=180s >/dev/null \
    || fail "the Deployment did not become Available"
  $K -n $NS rollout status deployment/auth0-operator --timeout=120s >/dev/null || fail "the rollout did not finish"
  pass "Deployment Available, 2 replicas"
  local pods; mapfile -t pods < <(pods_of); [ ${#pods[@]} = 2 ] || fail "expected 2 running pods, found: ${pods[*]}"
  for pod in "${pods[@]}"; do
    for probe in healthz readyz; do
      local answer; answer=$($K get --raw "/api/v1/namespaces/$NS/pods/$pod:8080/proxy/$probe" 2>&1) || fail "$pod /$probe: $answer"
    done
    # What the runtime runs: the container's OCI spec, as the node's containerd has it.
    local id; id=$($K -n $NS get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}'); id=${id#containerd://}
    local node; node=$($K -n $NS get pod "$pod" -o jsonpath='{.spec.nodeName}')
    local spec; spec=$("$ENGINE" exec "$node" crictl inspect "$id" 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin)["info"]["runtimeSpec"]; print(s["process"]["user"]["uid"], s["root"].get("readonly", False), s["process"].get("noNewPrivileges", False), len(s["process"].get("capabilities",{}).get("effective",[])))') \
      || fail "cannot inspect $pod's container on $node"
    [ "$spec" = "65532 True True 0" ] || fail "$pod runs as uid/readonly root/no-new-privileges/capabilities = $spec, not 65532 True True 0"
  done
  pass "/healthz and /readyz answer on both pods; uid 65532, read-only root, no new privileges, no capabilities"
  # A Lease left by an earlier install is taken over once it expires.
  wait_for 60 "one of ${pods[*]} takes the Lease $lease" eval 'printf "%s\n" "${pods[@]}" | grep -qx "$(lease_holder "$lease")"'
  local leader; leader=$(lease_holder "$lease")
  local other; other=$(printf '%s\n' "${pods[@]}" | grep -vx "$leader")
  wait_for 30 "$other says it waits for the Lease" eval '$K -n $NS logs "$other" | grep -q "the lease is held by another replica"'
  pass "$leader holds Lease $lease, $other waits"
}

# 4: PROFILE becomes Ready and an edit reaches Auth0.
check_profile() {
  local name=$1 ns=$2
  $K create namespace "$ns" --dry-run=client -o yaml | $K apply -f - >/dev/null
  sed "s/name: partner-sso/name: $name/" deploy/examples/connectionprofile-minimal.yaml | $K apply -n "$ns" -f - >/dev/null
  $K -n "$ns" wait --for=condition=Ready "connectionprofile/$name" --timeout=90s >/dev/null || fail "ConnectionProfile $ns/$name did not become Ready"
  [ "$(auth0_profiles_named "$name")" = 1 ] || fail "Auth0 does not hold exactly one profile $name"
  $K -n "$ns" patch connectionprofile "$name" --type merge -p '{"spec":{"connectionNamePrefixTemplate":"kind-{org_id}-"}}' >/dev/null \
    || fail "cannot edit ConnectionProfile $ns/$name"
  wait_for 60 "the edit of $name reaches Auth0" eval '[ "$(auth0_field "$name" connection_name_prefix_template)" = \"kind-{org_id}-\" ]'
  pass "ConnectionProfile $ns/$name Ready, its edit in Auth0"
}

# 5: the leader's pod deleted: the other takes over within the lease duration, writes nothing.
check_handover() {
  local lease=$1
  local leader; leader=$(lease_holder "$lease")
  local duration; duration=$($K -n $NS get lease "$lease" -o jsonpath='{.spec.leaseDurationSeconds}')
  local creates updates; creates=$(count_ok create_profile) updates=$(count_ok update_profile)
  local start; start=$(date +%s%N)
  $K -n $NS delete pod "$leader" --wait=false >/dev/null
  wait_for $(( duration + 10 )) "a new leader after $leader" eval 'h=$(lease_holder "$lease"); [ -n "$h" ] && [ "$h" != "$leader" ]'
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ $ms -le $(( duration * 1000 )) ] || fail "the handover took $ms ms, more than the lease duration ($duration s)"
  local now; now=$(lease_holder "$lease")
  # The new leader starts reconciling: each profile's first pass reads Auth0 and finds it in sync.
  wait_for 30 "$now says it holds the lease" eval '$K -n $NS logs "$now" | grep -q "holding the lease: reconciling"'
  local profiles; profiles=$($K get connectionprofiles -A -o name | wc -l)
  wait_for 60 "$now reconciles the $profiles ConnectionProfiles" eval '[ "$(reconciles "$now")" -ge "$profiles" ]'
  sleep 3
  [ "$(count_ok create_profile)" = "$creates" ] && [ "$(count_ok update_profile)" = "$updates" ] \
    || fail "the new leader wrote again: creates $creates -> $(count_ok create_profile), updates $updates -> $(count_ok update_profile)"
  pass "leader $leader deleted: $now holds the Lease after $ms ms (lease duration ${duration} s); no create or update repeated"
}

# 6: a create in flight when the kubelet stops the leader.
check_stop_in_flight() {
  local lease=$1 name=$2 ns=$3
  local leader; leader=$(lease_holder "$lease")
  local grace; grace=$($K -n $NS get pod "$leader" -o jsonpath='{.spec.terminationGracePeriodSeconds}')
  local creates; creates=$(count_ok create_profile)
  # Auth0 answers the next create after 4 s: the pod is stopped while it waits.
  curl -sf -X POST "$ADMIN/tenants/$TENANT/faults" -H 'content-type: application/json' \
    -d '{"endpoint": "create_profile", "latency_ms": 4000, "times": 1}' >/dev/null || fail "cannot set the emulator's latency"
  $K -n $NS get pod "$leader" -w -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}{" "}{.status.containerStatuses[0].state.terminated.reason}{"\n"}' \
    > "$WORK/stopped.txt" 2>/dev/null & local watch=$!
  sed "s/name: partner-sso/name: $name/" deploy/examples/connectionprofile-minimal.yaml | $K apply -n "$ns" -f - >/dev/null
  # The operator marks the resource create-pending just before it sends the create.
  wait_for 30 "$ns/$name marked create-pending" eval '[ -n "$($K -n "$ns" get connectionprofile "$name" -o jsonpath="{.metadata.annotations.auth0\.operators\.dev/create-pending}")" ]'
  sleep 0.5
  local start; start=$(date +%s%N)
  $K -n $NS delete pod "$leader" --wait=false >/dev/null
  $K -n $NS wait --for=delete "pod/$leader" --timeout=$(( grace + 30 ))s >/dev/null || fail "pod $leader still exists $(( grace + 30 )) s after its deletion"
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  kill $watch 2>/dev/null; wait $watch 2>/dev/null || true
  local exit; exit=$(grep -v '^ *$' "$WORK/stopped.txt" | tail -1)
  [ $ms -lt $(( grace * 1000 )) ] || fail "pod $leader took $ms ms to stop, not within its grace period ($grace s)"
  [ "${exit%% *}" = 0 ] || fail "pod $leader's container ended with '$exit', not exit code 0 (SIGTERM handled)"
  $K -n "$ns" wait --for=condition=Ready "connectionprofile/$name" --timeout=120s >/dev/null \
    || fail "ConnectionProfile $ns/$name, applied while its create was in flight, did not become Ready after the handover"
  [ "$(auth0_profiles_named "$name")" = 1 ] || fail "Auth0 holds $(auth0_profiles_named "$name") profiles named $name, not 1"
  [ "$(count_ok create_profile)" = $(( creates + 1 )) ] || fail "creates went $creates -> $(count_ok create_profile), not one more"
  # The create the leader sent was the one held 4 s: it was in flight when the kubelet stopped the pod.
  local held; held=$(admin requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["endpoint"]=="create_profile" and r["duration_ms"]>=4000))')
  [ "$held" = 1 ] || fail "the emulator answered $held creates after its 4 s latency, not 1: the stop did not meet a create in flight"
  local id; id=$($K -n "$ns" get connectionprofile "$name" -o jsonpath='{.status.id}')
  [ -n "$id" ] && curl -sf "$ADMIN/tenants/$TENANT/profiles" | grep -q "\"$id\"" || fail "status.id '$id' of $name is not the Auth0 profile's"
  $K -n $NS rollout status deployment/auth0-operator --timeout=120s >/dev/null || fail "the Deployment did not get its second replica back"
  pass "$leader stopped by the kubelet in $ms ms (grace $grace s, exit code 0) with a create in flight; $ns/$name Ready, created once ($id)"
}

mkdir -p "${TMPDIR:-/tmp}"
step "cluster"
cluster_up "auth0-e2e-$$"
step "helm install (chart deploy/helm/auth0-operator, 2 replicas, image $IMAGE_REPO:$IMAGE_TAG)"
cluster_tenant_secret $NS
cluster_emulator_policy $NS
cluster_helm_values "$WORK/values.yaml" 2
$H install auth0-operator deploy/helm/auth0-operator -n $NS -f "$WORK/values.yaml" --wait --timeout 3m >"$WORK/helm.log" 2>&1 \
  || { cat "$WORK/helm.log"; fail "helm install failed"; }
check_install auth0-operator
step "profiles"
check_profile partner-sso demo
step "handover"
check_handover auth0-operator
step "stopped with a create in flight"
check_stop_in_flight auth0-operator in-flight demo
step "helm uninstall"
profiles_before=$($K get connectionprofiles -A -o name | sort)
creates=$(count_ok create_profile)
$H uninstall auth0-operator -n $NS --wait --timeout 2m >/dev/null || fail "helm uninstall failed"
[ -z "$($K -n $NS get deployment -o name)" ] || fail "the Deployment is still there after helm uninstall"
for crd in connectionprofiles auth0tenants clusterauth0tenants; do
  $K get crd "$crd.auth0.operators.dev" >/dev/null 2>&1 || fail "CRD $crd.auth0.operators.dev gone after helm uninstall"
done
[ "$($K get connectionprofiles -A -o name | sort)" = "$profiles_before" ] || fail "ConnectionProfiles changed after helm uninstall"
[ "$(auth0_profiles_named partner-sso)" = 1 ] && [ "$(auth0_profiles_named in-flight)" = 1 ] || fail "Auth0 profiles lost after helm uninstall"
pass "helm uninstall: the CRDs, $(echo "$profiles_before" | wc -l) ConnectionProfiles and their Auth0 profiles kept"

step "kustomize base (deploy/base, image $IMAGE_REPO:$IMAGE_TAG)"
overlay=$WORK/overlay; mkdir -p "$overlay"
cat > "$overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$kind_repo/deploy/base" "$overlay")
images:
  - name: ghcr.io/auth0-operator/auth0-operator
    newName: $IMAGE_REPO
    newTag: $IMAGE_TAG
patches:
  - target: {kind: Deployment, name: auth0-operator}
    patch: |
      - {op: add, path: /spec/template/spec/containers/0/imagePullPolicy, value: Never}
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: --allow-insecure-http}
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: --allowed-tenant-hosts}
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: "${API#http://},${API_EU#http://}"}
YAML
$K apply --server-side -k crds >/dev/null || fail "kubectl apply -k crds failed"
$K apply --server-side -k "$overlay" >/dev/null || fail "kubectl apply -k deploy/base (overlay) failed"
sed "/^spec:/a\\  endpoint: {url: \"$API\"}" deploy/examples/clusterauth0tenant.yaml | $K apply -f - >/dev/null
check_install auth0-operator
for p in demo/partner-sso demo/in-flight; do
  $K -n "${p%/*}" wait --for=condition=Ready "connectionprofile/${p#*/}" --timeout=90s >/dev/null || fail "$p not Ready under the kustomize install"
done
[ "$(count_ok create_profile)" = "$creates" ] || fail "the kustomize install created profiles again ($creates -> $(count_ok create_profile))"
pass "the profiles Ready under the kustomize install, none created again"
check_profile kustomized demo
check_handover auth0-operator
step "passed"
