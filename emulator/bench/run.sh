#!/usr/bin/env bash
# Load benchmark of the emulator (not a timed test): requests per second for GET by id and
# for create with wrk, and resident memory once 10,000 profiles are stored. Writes the
# figures to docs/benchmarks.md (or $BENCH_OUTPUT). Needs wrk (apt-get install wrk).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-1}"
profiles="${BENCH_PROFILES:-10000}"
output="${BENCH_OUTPUT:-$root/docs/benchmarks.md}"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --quiet --release -p auth0-emulator --bin auth0-emulator
binary="$target/release/auth0-emulator"

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" --print-addresses >"$work/addresses" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/addresses" ] && break; sleep 0.1; done
api="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$work/addresses")"
hostport="${api#http://}"
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

rss_empty="$(rss_kib)"
python3 "$here/seed.py" "${hostport%:*}" "${hostport#*:}" "$profiles" >"$work/seed.json"
rss_seeded="$(rss_kib)"
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/seed.json")"
id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/seed.json")"
seed_seconds="$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["seconds"], 1))' "$work/seed.json")"

run_wrk() { # name, extra args...
  local name="$1"; shift
  wrk -t"$threads" -c"$connections" -d"$duration" --latency \
    -H "authorization: Bearer $token" -H "content-type: application/json" "$@" >"$work/$name.txt"
  cat "$work/$name.txt" >&2
  if grep -q "Non-2xx" "$work/$name.txt"; then echo "$name: some answers were not 2xx" >&2; exit 1; fi
}
field() { awk -v key="$2" '$1 == key {print $2}' "$work/$1.txt"; }
percentile() { awk -v p="$2" '$1 == p {print $2}' "$work/$1.txt"; }

run_wrk get "$api/api/v2/connection-profiles/$id"
run_wrk create -s "$here/create.lua" "$api/api/v2/connection-profiles"
rss_after="$(rss_kib)"
count="$(python3 -c 'import json,sys,urllib.request; admin=json.load(open(sys.argv[1]))["admin"]; print(json.load(urllib.request.urlopen(admin + "/tenants"))[0]["profiles"])' "$work/addresses")"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
cat >"$work/section.md" <<MD
## Emulator

Measured by \`emulator/bench/run.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores ($cpu), release
build, plain http on 127.0.0.1, no rate limit, wrk ($threads thread, $connections connections,
$duration per run) sharing the machine with the emulator.

| What | Figure |
|---|---|
| GET /api/v2/connection-profiles/{id} | **$(field get Requests/sec:) requests/s** (p50 $(percentile get 50%), p99 $(percentile get 99%)) |
| POST /api/v2/connection-profiles | **$(field create Requests/sec:) requests/s** (p50 $(percentile create 50%), p99 $(percentile create 99%)) |
| Resident memory, empty | $((rss_empty / 1024)) MiB |
| Resident memory with $profiles profiles | **$((rss_seeded / 1024)) MiB** (seeded in ${seed_seconds} s by one sequential client) |
| Resident memory after the create run ($count profiles) | $((rss_after / 1024)) MiB |

Targets: at least 5,000 GET/s on a 2-core machine; under 50 MB resident with 10,000 profiles.

Command: \`CARGO_TARGET_DIR=... emulator/bench/run.sh\` (tunables: BENCH_DURATION,
BENCH_CONNECTIONS, BENCH_THREADS, BENCH_PROFILES, BENCH_OUTPUT).
MD
# Replace only this section of the report; the operator's figures (make bench) stay.
python3 - "$output" "$work/section.md" <<'PY'
import re, sys, pathlib
out, section = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).read_text()
text = out.read_text() if out.exists() else "# Benchmarks\n"
if "## Emulator" in text:
    text = re.sub(r"## Emulator\n.*?(?=\n## |\Z)", lambda _: section.rstrip() + "\n", text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + section
out.write_text(text)
PY
cat "$work/section.md"
