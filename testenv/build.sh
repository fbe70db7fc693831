#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kubectl and kube-controller-manager from their Go modules (the
# wrapper modules under go/) into a cache folder keyed by version, and prints that folder. A
# second run finds the binaries there and builds nothing; a binary added later is built
# alone. kube-controller-manager is not part of the control plane tests share: a test starts
# it for one controller (tests/deploy.rs, ClusterRole aggregation). Env: AUTH0_OPERATOR_CACHE (default ~/.cache/auth0-operator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || { echo "build.sh: Go 1.26+ is needed to build the control plane" >&2; exit 1; }
kube_version=$(cd "$here/go/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$here/go/etcd" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
[ -n "$kube_version" ] && [ -n "$etcd_version" ] || { echo "build.sh: cannot read the pinned versions from go/*/go.mod" >&2; exit 1; }
cache=${AUTH0_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auth0-operator}
bin="$cache/controlplane/kube-$kube_version-etcd-$etcd_version"
if [ -x "$bin/etcd" ] && [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kubectl" ] && [ -x "$bin/kube-controller-manager" ]; then
  echo "$bin"; exit 0
fi
if ! go mod download -json "k8s.io/kubernetes@$kube_version" >/dev/null 2>&1; then
  echo "build.sh: the Go module proxy ($(go env GOPROXY)) or checksum database ($(go env GOSUMDB))" \
       "did not serve k8s.io/kubernetes@$kube_version; the control plane cannot be built" >&2
  exit 1
fi
mkdir -p "$bin"
tmp=$(mktemp -d "$bin/.build.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
ldflags_k="-s -w -X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$kube_version" | cut -d. -f2)"
echo "build.sh: building the missing binaries of etcd $etcd_version and kube $kube_version into $bin (cold: 15-25 min)" >&2
if [ ! -x "$bin/etcd" ]; then
  (cd "$here/go/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3) >&2
  mv "$tmp/etcd" "$bin/"
fi
for cmd in kube-apiserver kubectl kube-controller-manager; do
  if [ ! -x "$bin/$cmd" ]; then
    (cd "$here/go/kube" && go build -trimpath -ldflags "$ldflags_k" -o "$tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd") >&2
    mv "$tmp/$cmd" "$bin/"
  fi
done
echo "build.sh: built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
