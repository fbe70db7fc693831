#!/usr/bin/env bash
# Conformance suite: Auth0's Node SDK (auth0 v7), the Deploy CLI and Auth0's Python SDK
# (auth0-python 6.8.0) against the emulator, over https with a CA the emulator writes. Builds
# the binary, starts it on free ports, runs `node --test` and Python's unittest, stops it.
# Needs cargo, node >= 20, npm and python3 (with venv; the SDK comes from PyPI once, cached).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --quiet -p auth0-emulator --bin auth0-emulator
binary="$target/debug/auth0-emulator"

python="$("$here/python-env.sh")"

cd "$here"
# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

work="$(mktemp -d)"
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" --config "$here/emulator.json" --tls-ca-file "$work/ca.pem" \
  --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --print-addresses \
  >"$work/addresses" 2>"$work/emulator.log" &
emulator_pid=$!

for _ in $(seq 1 100); do
  [ -s "$work/addresses" ] && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    cat "$work/emulator.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -s "$work/addresses" ] || { echo "the emulator did not start" >&2; cat "$work/emulator.log" >&2; exit 1; }

api="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).api)' "$work/addresses")"
export EMULATOR_DOMAIN="${api#https://}"
export EMULATOR_ADMIN="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).admin)' "$work/addresses")"
export NODE_EXTRA_CA_CERTS="$work/ca.pem"
export AUTH0_SDK_PYTHON="$python"

# NODE_TESTS picks some of the Node files (e.g. NODE_TESTS=sdk.test.mjs while working).
node --test --test-concurrency=1 ${NODE_TESTS:-sdk.test.mjs profiles.test.mjs sdk-models.test.mjs deploy.test.mjs}

(cd "$here/python" && SSL_CERT_FILE="$work/ca.pem" "$python" -m unittest -v test_sdk_list test_sdk_profiles)

# The live conformance probe against the emulator: every row must agree (make
# conformance-live runs the same probe against a real tenant; --quota here only: the
# emulator's tenant is this run's own).
AUTH0_DOMAIN="$EMULATOR_DOMAIN" AUTH0_CLIENT_ID=emulator-client AUTH0_CLIENT_SECRET=emulator-secret \
  node "$here/probe.mjs" --expect-agree --quota
node -e '
const kinds = ["profiles", "user-attribute-profiles", "self-service-profiles"];
Promise.all(kinds.map((kind) => fetch(process.argv[1] + "/tenants/localhost/" + kind).then((r) => r.json()))).then((lists) => {
  const left = lists.flat().filter((p) => p.name.startsWith("probe-"));
  if (left.length) { console.error("the probe left " + left.length + " profiles behind"); process.exit(1); }
  console.log("the probe deleted every profile it made, of every kind");
});' "$EMULATOR_ADMIN"
