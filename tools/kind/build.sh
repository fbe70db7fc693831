#!/usr/bin/env bash
# What a kind cluster needs here, cached by version, printed as shell assignments:
#   KIND=<kind binary>  (built from its Go module, sigs.k8s.io/kind@$KIND_VERSION)
#   KIND_NODE_IMAGE=<node image>  KIND_NODE_SOURCE=public|local
#   ENGINE=docker|podman (and the provider's environment, see lib.sh)
# The node image: kind's own (kindest/node, pinned by kind) when the engine has it or can
# pull it; else one built on this machine (node-image.sh). AUTH0_KIND_NODE_IMAGE=public or
# local forces one (public fails when it cannot be pulled).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
kind_engine
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || kind_die "Go 1.26+ is needed to build kind (sigs.k8s.io/kind@$KIND_VERSION)"
kind=$kind_cache/kind/kind-$KIND_VERSION/kind
if [ ! -x "$kind" ]; then
  kind_say "building kind $KIND_VERSION into $(dirname "$kind") (about 30 s)"
  mkdir -p "$(dirname "$kind")"
  tmp=$(mktemp -d "$(dirname "$kind")/.build.XXXXXX")
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION" >&2 \
    || { rm -rf "$tmp"; kind_die "the Go module proxy ($(go env GOPROXY)) did not serve sigs.k8s.io/kind@$KIND_VERSION, or it did not build"; }
  mv "$tmp/kind" "$kind" && rm -rf "$tmp"
fi
# kind's default node image, pinned by digest in the kind release.
module=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
public=$(sed -n 's/^const Image = "\(.*\)"$/\1/p' "$module/pkg/apis/config/defaults/image.go")
[ -n "$public" ] || kind_die "cannot read kind's default node image from sigs.k8s.io/kind@$KIND_VERSION"
# podman resolves no short names (kind's podman provider qualifies them the same way).
[ "$ENGINE" != podman ] || [[ "${public%%/*}" == *.* ]] || public=docker.io/$public
public_ok() {
  kind_image_exists "$public" && return 0
  kind_say "pulling $public (kind's node image)"
  timeout 300 "$ENGINE" pull "$public" >/dev/null 2>&1
}
case "${AUTH0_KIND_NODE_IMAGE:-auto}" in
  public) public_ok || kind_die "AUTH0_KIND_NODE_IMAGE=public but $public cannot be pulled"
          node=$public source=public ;;
  local) node=$("$kind_here/node-image.sh") source=local ;;
  auto) if public_ok; then node=$public source=public
        else kind_say "no registry serves $public: building the node image here"
             node=$("$kind_here/node-image.sh") source=local; fi ;;
  *) kind_die "AUTH0_KIND_NODE_IMAGE must be public, local or unset" ;;
esac
echo "KIND=$kind"
echo "KIND_NODE_IMAGE=$node"
echo "KIND_NODE_SOURCE=$source"
echo "ENGINE=$ENGINE"
