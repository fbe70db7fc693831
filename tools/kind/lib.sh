# Sourced by the tools/kind scripts: the cache folder, the container engine kind uses, and
# installing what is missing (or saying exactly what is, and failing).
#   AUTH0_OPERATOR_CACHE  cache folder (default ~/.cache/auth0-operator)
#   AUTH0_KIND_ENGINE     docker or podman (default: docker when its daemon answers, else podman)
kind_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kind_repo=$(cd "$kind_here/../.." && pwd)
kind_cache=${AUTH0_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auth0-operator}
# kind and the tools built for it, pinned here (Go modules).
KIND_VERSION=v0.33.0
CRICTL_VERSION=v1.34.0

kind_die() { echo "tools/kind: $*" >&2; exit 1; }
kind_say() { echo "tools/kind: $*" >&2; }

# kind_install_debs PACKAGE...: apt-get install on a Debian-like machine as root, else the
# exact packages that are missing and a failure.
kind_install_debs() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    kind_say "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; } \
      || kind_die "apt-get install $* failed; install them and run again"
  else
    kind_die "missing: $* (Debian packages; install them as root, e.g. apt-get install $*, or run Docker)"
  fi
}

# kind_engine: sets ENGINE (docker or podman) and the environment kind reads for it.
kind_engine() {
  ENGINE=${AUTH0_KIND_ENGINE:-}
  if [ -z "$ENGINE" ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
  fi
  case "$ENGINE" in
    docker)
      docker info >/dev/null 2>&1 || kind_die "AUTH0_KIND_ENGINE=docker but the Docker daemon does not answer (docker info)"
      export KIND_EXPERIMENTAL_PROVIDER=docker ;;
    podman)
      local missing=()
      command -v podman >/dev/null || missing+=(podman)
      command -v runc >/dev/null || missing+=(runc)
      [ ${#missing[@]} = 0 ] || kind_install_debs "${missing[@]}"
      # runc, cgroupfs, explicit ulimits: what works on cgroup v1 without CAP_SYS_RESOURCE
      # as well as on a cgroup v2 laptop (set CONTAINERS_CONF yourself to use another).
      export CONTAINERS_CONF=${CONTAINERS_CONF:-$kind_here/containers.conf}
      export KIND_EXPERIMENTAL_PROVIDER=podman
      [ "$(id -u)" = 0 ] || kind_die "kind with podman needs root here (rootful podman); run as root or use Docker" ;;
    *) kind_die "AUTH0_KIND_ENGINE must be docker or podman, not '$ENGINE'" ;;
  esac
  # kind bind-mounts /lib/modules into its nodes; a VM without modules has no such folder.
  [ -d /lib/modules ] || mkdir -p /lib/modules 2>/dev/null \
    || kind_die "/lib/modules is missing and cannot be made (kind mounts it into its nodes): mkdir /lib/modules as root"
}

# kind_image_exists REF
kind_image_exists() { "$ENGINE" image inspect "$1" >/dev/null 2>&1; }
