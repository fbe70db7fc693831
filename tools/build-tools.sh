#!/usr/bin/env bash
# Builds the tools the deploy, GitOps and monitoring tests need from the Go module proxy, into a cache
# folder keyed by version, and prints that folder (mirrors testenv/build.sh):
#   helm        from the wrapper module tools/helm (helm.sh/helm/v3/cmd/helm)
#   gitops-check from tools/gitops: reads a Kubernetes object (JSON or YAML) on stdin and
#               prints its kstatus status (`kstatus`), its Argo CD health from a script of
#               deploy/argocd run in gopher-lua (`argocd <health.lua>`), or its Flux health from
#               a Kustomization's spec.healthCheckExprs in cel-go (`flux <kustomization.yaml>`)
#   promtool    from the wrapper module tools/promtool (github.com/prometheus/prometheus/cmd/promtool):
#               checks and unit-tests the alerting rules and parses the dashboard's queries
#   promql-selectors from tools/promtool/selectors: Prometheus's own PromQL parser; prints the
#               metric names and label matchers each query (JSON array on stdin) selects
#   crds/       the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, as its Go
#               module (github.com/prometheus-operator/prometheus-operator) ships them
# A second run finds the binaries and builds nothing.
#
# `build-tools.sh helm` or `build-tools.sh actionlint` builds that one tool alone and prints
# the path of its binary: `make chart-package` needs helm and `make lint` actionlint (from the
# wrapper module tools/actionlint, github.com/rhysd/actionlint/cmd/actionlint), without the
# rest.
# Env: AUTH0_OPERATOR_CACHE (default ~/.cache/auth0-operator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || { echo "build-tools.sh: Go 1.26+ is needed to build helm, gitops-check, promtool and actionlint" >&2; exit 1; }
cache=${AUTH0_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auth0-operator}

# One tool, cached by its module version alone: `build-tools.sh TOOL` prints its binary.
# $1: the tool, $2: the wrapper module folder, $3: its Go module, $4: the package to build,
# $5: the -X flag that stamps the version (or none).
one_tool() {
  local tool=$1 dir=$here/$2 module=$3 package=$4 stamp=${5:-} version out tmp
  version=$(cd "$dir" && go list -m -f '{{.Version}}' "$module")
  [ -n "$version" ] || { echo "build-tools.sh: cannot read the $tool version from tools/$2/go.mod" >&2; exit 1; }
  out="$cache/tools/$tool-$version"
  if [ ! -x "$out/$tool" ]; then
    if ! go mod download -json "$module@$version" >/dev/null 2>&1; then
      echo "build-tools.sh: the Go module proxy ($(go env GOPROXY)) or checksum database ($(go env GOSUMDB))" \
           "did not serve $module@$version; $tool cannot be built" >&2
      exit 1
    fi
    echo "build-tools.sh: building $tool $version into $out" >&2
    mkdir -p "$out"
    tmp=$(mktemp -d "$out/.build.XXXXXX")
    (cd "$dir" && go build -trimpath -ldflags "-s -w${stamp:+ -X $stamp=$version}" -o "$tmp/$tool" "$package") >&2 \
      || { rm -rf "$tmp"; exit 1; }
    mv "$tmp/$tool" "$out/$tool"; rm -rf "$tmp"
  fi
  echo "$out/$tool"
}
case "${1:-}" in
  "") ;;
  helm) one_tool helm helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm helm.sh/helm/v3/internal/version.version; exit 0 ;;
  actionlint) one_tool actionlint actionlint github.com/rhysd/actionlint \
    github.com/rhysd/actionlint/cmd/actionlint github.com/rhysd/actionlint.version; exit 0 ;;
  *) echo "build-tools.sh: unknown tool '$1' (helm, actionlint, or none for all)" >&2; exit 2 ;;
esac

helm_version=$(cd "$here/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
[ -n "$helm_version" ] || { echo "build-tools.sh: cannot read the helm version from tools/helm/go.mod" >&2; exit 1; }
promtool_version=$(cd "$here/promtool" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
[ -n "$promtool_version" ] || { echo "build-tools.sh: cannot read the Prometheus version from tools/promtool/go.mod" >&2; exit 1; }
# gitops-check is keyed by the hash of its sources, so an edit rebuilds it.
gitops_hash=$(cd "$here/gitops" && cat go.mod go.sum $(ls *.go | grep -v _test.go) | sha256sum | cut -c1-12)
# The Prometheus Operator whose CRDs the deploy tests install (monitoring.coreos.com/v1).
prometheus_operator_version=v0.85.0
selectors_hash=$(cd "$here/promtool" && cat go.mod go.sum selectors/*.go | sha256sum | cut -c1-8)
bin="$cache/tools/helm-$helm_version-gitops-$gitops_hash-prometheus-$promtool_version-$selectors_hash-operator-$prometheus_operator_version"
crds=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)
if [ -x "$bin/helm" ] && [ -x "$bin/gitops-check" ] && [ -x "$bin/promtool" ] && [ -x "$bin/promql-selectors" ] \
  && [ -f "$bin/crds/${crds[0]}" ] && [ -f "$bin/crds/${crds[1]}" ]; then
  echo "$bin"; exit 0
fi
if ! go mod download -json "helm.sh/helm/v3@$helm_version" >/dev/null 2>&1; then
  echo "build-tools.sh: the Go module proxy ($(go env GOPROXY)) or checksum database ($(go env GOSUMDB))" \
       "did not serve helm.sh/helm/v3@$helm_version; helm cannot be built" >&2
  exit 1
fi
if ! go mod download -json "github.com/prometheus/prometheus@$promtool_version" >/dev/null 2>&1; then
  echo "build-tools.sh: the Go module proxy ($(go env GOPROXY)) or checksum database ($(go env GOSUMDB))" \
       "did not serve github.com/prometheus/prometheus@$promtool_version; promtool cannot be built" >&2
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
# promtool is cached by the Prometheus module version alone. Its module version v0.3XX.Y is
# the release v3.XX.Y, which `promtool --version` prints.
promtool_dir="$cache/tools/promtool-$promtool_version"
if [ ! -x "$promtool_dir/promtool" ]; then
  release=$(echo "$promtool_version" | sed -E 's/^v0\.([0-9])([0-9]+)\.([0-9]+)(.*)$/\1.\2.\3\4/; s/^([0-9])\.0*([0-9])/\1.\2/')
  echo "build-tools.sh: building promtool $release ($promtool_version) into $promtool_dir (cold: 10 min or more on 2 cores)" >&2
  mkdir -p "$promtool_dir"
  (cd "$here/promtool" && go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" \
    -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool) >&2
  mv "$tmp/promtool" "$promtool_dir/promtool"
fi
if [ ! -x "$bin/promtool" ]; then
  ln -f "$promtool_dir/promtool" "$bin/promtool" 2>/dev/null || cp "$promtool_dir/promtool" "$bin/promtool"
fi
if [ ! -x "$bin/promql-selectors" ]; then
  echo "build-tools.sh: building promql-selectors into $bin" >&2
  (cd "$here/promtool" && go build -trimpath -ldflags "-s -w" -o "$tmp/promql-selectors" ./selectors) >&2
  mv "$tmp/promql-selectors" "$bin/"
fi
if [ ! -f "$bin/crds/${crds[0]}" ] || [ ! -f "$bin/crds/${crds[1]}" ]; then
  module=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$prometheus_operator_version" \
    | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$module" ] || { echo "build-tools.sh: the Go module proxy did not serve github.com/prometheus-operator/prometheus-operator@$prometheus_operator_version" >&2; exit 1; }
  mkdir -p "$bin/crds"
  for crd in "${crds[@]}"; do
    cp "$module/example/prometheus-operator-crd/$crd" "$tmp/$crd"
    chmod 644 "$tmp/$crd"
    mv "$tmp/$crd" "$bin/crds/$crd"
  done
fi
if [ ! -x "$bin/gitops-check" ]; then
  echo "build-tools.sh: building gitops-check into $bin" >&2
  (cd "$here/gitops" && go build -trimpath -ldflags "-s -w" -o "$tmp/gitops-check" .) >&2
  mv "$tmp/gitops-check" "$bin/"
fi
echo "build-tools.sh: built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
