#!/usr/bin/env bash
# `make demo`: the operator's main job on this machine. Runs inside a fresh control plane
# (testenv run): starts the Auth0 emulator with two tenants, installs the CRDs, creates the
# tenants and their Secrets, runs the operator, applies the examples, waits until they are
# Ready, and shows Kubernetes' view beside Auth0's. Then it keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AUTH0_TESTENV_DIR:?run me through make demo}"
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
kubectl="$(cat "$AUTH0_TESTENV_DIR/bin-dir")/kubectl"
work="$AUTH0_TESTENV_DIR/demo"
mkdir -p "$work"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
us_port=$(free_port); eu_port=$(free_port); admin_port=$(free_port)

say "the Auth0 emulator: tenants acme.us.auth0.com and acme.eu.auth0.com"
cat > "$work/emulator.json" <<JSON
{"admin_listen": "127.0.0.1:$admin_port",
 "tenants": [
  {"domain": "acme.us.auth0.com", "port": $us_port,
   "clients": [{"client_id": "demo-us", "client_secret": "demo-us-secret",
                "scopes": ["read:connection_profiles", "create:connection_profiles", "update:connection_profiles", "delete:connection_profiles", "read:user_attribute_profiles", "create:user_attribute_profiles", "update:user_attribute_profiles", "delete:user_attribute_profiles", "read:self_service_profiles", "create:self_service_profiles", "update:self_service_profiles", "delete:self_service_profiles", "read:self_service_profile_custom_texts", "update:self_service_profile_custom_texts"]}]},
  {"domain": "acme.eu.auth0.com", "port": $eu_port,
   "clients": [{"client_id": "demo-eu", "client_secret": "demo-eu-secret",
                "scopes": ["read:connection_profiles", "create:connection_profiles", "update:connection_profiles", "delete:connection_profiles", "read:user_attribute_profiles", "create:user_attribute_profiles", "update:user_attribute_profiles", "delete:user_attribute_profiles", "read:self_service_profiles", "create:self_service_profiles", "update:self_service_profiles", "delete:self_service_profiles", "read:self_service_profile_custom_texts", "update:self_service_profile_custom_texts"]}]}]}
JSON
"$bin_dir/auth0-emulator" --config "$work/emulator.json" >"$work/emulator.log" 2>&1 &
pids+=($!)
admin="http://127.0.0.1:$admin_port"
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('$admin/health')" 2>/dev/null && break
  sleep 0.1
done
echo "api: http://127.0.0.1:$us_port (acme.us), http://127.0.0.1:$eu_port (acme.eu); admin: $admin"

say "kubectl apply --server-side -f crds/"
"$kubectl" apply --server-side -f crds/
"$kubectl" wait --for=condition=Established crd --all --timeout=60s >/dev/null

say "tenants: ClusterAuth0Tenant/default (acme.us) and Auth0Tenant/acme in namespace demo (acme.eu)"
"$kubectl" create namespace auth0-operator --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" create namespace demo --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
# The operator reads only Secrets labelled auth0.operators.dev/credentials=true.
label() { "$kubectl" label --local -f - auth0.operators.dev/credentials=true -o yaml; }
"$kubectl" -n auth0-operator create secret generic default-auth0-credentials \
  --from-literal=client_id=demo-us --from-literal=client_secret=demo-us-secret --dry-run=client -o yaml | label | "$kubectl" apply -f -
"$kubectl" -n demo create secret generic acme-auth0-credentials \
  --from-literal=client_id=demo-eu --from-literal=client_secret=demo-eu-secret --dry-run=client -o yaml | label | "$kubectl" apply -f -
# The examples' tenants, pointed at the emulator: an explicit endpoint is the documented way
# to reach anything other than https://{domain}.
sed "/^spec:/a\\  endpoint: {url: \"http://127.0.0.1:$us_port\"}" deploy/examples/clusterauth0tenant.yaml | "$kubectl" apply -f -
sed -n '/^apiVersion: auth0/,$p' deploy/examples/auth0tenant.yaml \
  | sed "/^spec:/a\\  endpoint: {url: \"http://127.0.0.1:$eu_port\"}" | "$kubectl" apply -n demo -f -

say "a profile made in the Auth0 dashboard, for the adoption example to adopt"
legacy_id=$(python3 - "$admin" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/tenants/acme.us.auth0.com/profiles", method="POST",
    data=json.dumps({"name": "legacy-profile", "connection_name_prefix_template": "legacy-"}).encode(),
    headers={"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req))["id"])
PY
)
echo "made $legacy_id"

say "the operator: auth0-operator run"
# The emulator's two listeners are the only hosts tenants may point at, as a real
# installation lists its proxy (the default allows Auth0's public cloud domains only).
metrics_port=$(free_port)
"$bin_dir/auth0-operator" run --kubeconfig "$AUTH0_TESTENV_DIR/admin.kubeconfig" --operator-namespace auth0-operator \
  --allowed-tenant-hosts "127.0.0.1:$us_port,127.0.0.1:$eu_port" \
  --allow-insecure-http --poll-interval 30s --log-format text --http-address "127.0.0.1:$metrics_port" >"$work/operator.log" 2>&1 &
pids+=($!)

say "kubectl apply -n demo -f deploy/examples/ (the profiles)"
for example in deploy/examples/connectionprofile-*.yaml; do
  sed "s/cop_1cu7Zs1Dfru5Qc9mZea7nm/$legacy_id/" "$example" | "$kubectl" apply -n demo -f -
done

say "kubectl apply -n demo -f deploy/examples/ (a user attribute profile, and a self-service profile that uses it)"
"$kubectl" apply -n demo -f deploy/examples/selfserviceprofile.yaml -f deploy/examples/userattributeprofile.yaml

say "kubectl wait --for=condition=Ready connectionprofiles,userattributeprofiles,selfserviceprofiles --all -n demo"
if ! "$kubectl" wait --for=condition=Ready connectionprofiles,userattributeprofiles,selfserviceprofiles --all -n demo --timeout=60s; then
  echo "not every profile became Ready; the operator's log:"; tail -20 "$work/operator.log"
  if [ -n "${AUTH0_DEMO_EXIT:-}" ]; then exit 1; fi
fi

say "kubectl get auth0 -A (every kind of the auth0 category)"
"$kubectl" get auth0 -A

say "what Auth0 (the emulator) holds"
python3 - "$admin" <<'PY'
import json, sys, urllib.request
rows = [("TENANT", "ID", "NAME", "PREFIX", "FEATURES")]
for domain in ("acme.us.auth0.com", "acme.eu.auth0.com"):
    for p in json.load(urllib.request.urlopen(f"{sys.argv[1]}/tenants/{domain}/profiles")):
        rows.append((domain, p["id"], p["name"], p.get("connection_name_prefix_template") or "",
                     ",".join(p.get("enabled_features") or [])))
widths = [max(len(r[i]) for r in rows) for i in range(5)]
for r in rows:
    print("   ".join(v.ljust(w) for v, w in zip(r, widths)))
print()
rows = [("TENANT", "ID", "NAME", "USES")]
for domain in ("acme.us.auth0.com", "acme.eu.auth0.com"):
    for kind in ("user-attribute-profiles", "self-service-profiles"):
        for p in json.load(urllib.request.urlopen(f"{sys.argv[1]}/tenants/{domain}/{kind}")):
            rows.append((domain, p["id"], p["name"], p.get("user_attribute_profile_id") or ""))
widths = [max(len(r[i]) for r in rows) for i in range(4)]
for r in rows:
    print("   ".join(v.ljust(w) for v, w in zip(r, widths)))
PY

say "try it"
cat <<EOF
The operator keeps running. In another terminal:

  export KUBECONFIG=$AUTH0_TESTENV_DIR/admin.kubeconfig
  alias kubectl=$kubectl
  kubectl -n demo edit connectionprofile enterprise-connections     # change a field: Auth0 follows
  kubectl -n demo delete connectionprofile partner-sso               # the Auth0 profile is deleted
  kubectl -n demo get events --field-selector involvedObject.kind=ConnectionProfile
  curl -s $admin/tenants/acme.us.auth0.com/profiles                 # Auth0's side
  curl -s http://127.0.0.1:$metrics_port/metrics                    # the operator's metrics

Logs: $work/operator.log and $work/emulator.log. Press Ctrl-C to stop everything.
EOF
if [ -n "${AUTH0_DEMO_EXIT:-}" ]; then exit 0; fi
# The wait is interruptible (Ctrl-C runs the INT trap); the sleep is a child to clean up.
while true; do
  sleep 3600 &
  pids+=($!)
  wait $!
done
