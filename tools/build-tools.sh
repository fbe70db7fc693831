#!/usr/bin/env bash
# Builds the tools the deploy and GitOps tests need from the Go module proxy, into a cache
# folder keyed by version, and prints that folder (mirrors testenv/build.sh):
#   helm        from the wrapper module tools/helm (helm.sh/helm/v3/cmd/helm)
#   gitops-check from tools/gitops: reads a Kubernetes object (JSON or YAML) on stdin and
#               prints its kstatus status (`kstatus`) or its Argo CD health from
#               deploy/argocd/health.lua run in gopher-lua (`argocd <health.lua>`)
# A second run finds the binaries and builds nothing.
# Env: AUTH0_OPERATOR_CACHE (default ~/.cache/auth0-operator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || { echo "build-tools.sh: Go 1.26+ is needed to build helm and gitops-check" >&2; exit 1; }
helm_version=$(cd "$here/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
[ -n "$helm_version" ] || { echo "build-tools.sh: cannot read the helm version from tools/helm/go.mod" >&2; exit 1; }
# gitops-check is keyed by the hash of its sources, so an edit rebuilds it.
gitops_hash=$(cd "$here/gitops" && cat go.mod go.sum $(ls *.go | grep -v _test.go) | sha256sum | cut -c1-12)
cache=${AUTH0_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auth0-operator}
bin="$cache/tools/helm-$helm_version-gitops-$gitops_hash"
if [ -x "$bin/helm" ] && [ -x "$bin/gitops-check" ]; then
  echo "$bin"; exit 0
fi
if ! go mod download -json "helm.sh/helm/v3@$helm_version" >/dev/null 2>&1; then
  echo "build-tools.sh: the Go module proxy ($(go env GOPROXY)) or checksum database ($(go env GOSUMDB))" \
       "did not serve helm.sh/helm/v3@$helm_version; helm cannot be built" >&2
  exit 1
fi
mkdir -p "$bin"
tmp=$(mktemp -d "$bin/.build.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
# helm is cached by its version alone, so an edit of tools/gitops does not rebuild it.
helm_dir="$cache/tools/helm-$helm_version"
if [ ! -x "$helm_dir/helm" ]; then
  echo "build-tools.sh: building helm $helm_version into $helm_dir (cold: about 4 min on 2 cores)" >&2
  mkdir -p "$helm_dir"
  (cd "$here/helm" && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" \
    -o "$tmp/helm" helm.sh/helm/v3/cmd/helm) >&2
  mv "$tmp/helm" "$helm_dir/helm"
fi
if [ ! -x "$bin/helm" ]; then
  ln -f "$helm_dir/helm" "$bin/helm" 2>/dev/null || cp "$helm_dir/helm" "$bin/helm"
fi
if [ ! -x "$bin/gitops-check" ]; then
  echo "build-tools.sh: building gitops-check into $bin" >&2
  (cd "$here/gitops" && go build -trimpath -ldflags "-s -w" -o "$tmp/gitops-check" .) >&2
  mv "$tmp/gitops-check" "$bin/"
fi
echo "build-tools.sh: built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
