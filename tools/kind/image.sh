#!/usr/bin/env bash
# The operator's image without a registry or a container engine: the layout the Dockerfile's
# final stage describes (distroless/cc's nonroot user 65532, /home/nonroot, /tmp; the binary
# in /usr/local/bin; the Dockerfile's USER, EXPOSE, ENTRYPOINT, CMD and LABELs), holding
# nothing but the binary and the shared libraries it links (none for a static build),
# written as an OCI archive that `kind load image-archive` reads.
#   tools/kind/image.sh BINARY OUT.tar [REF]   (REF default localhost/auth0-operator:dev)
# tests/image.rs checks that this image and the Dockerfile describe the same image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: tools/kind/image.sh BINARY OUT.tar [REF]" >&2; exit 2; }
binary=$1 out=$2 ref=${3:-localhost/auth0-operator:dev}
[ -x "$binary" ] || { echo "tools/kind/image.sh: $binary is not an executable (build the operator first)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "tools/kind/image.sh: python3 is needed (apt-get install python3)" >&2; exit 1; }
# The libraries the dynamic loader maps (ldd prints "name => /path (addr)" and the loader's
# own "/lib64/ld-linux-x86-64.so.2 (addr)"); a static binary has none.
libs=$(ldd "$binary" 2>/dev/null | grep -o '/[^ ]*' | sort -u || true)
python3 - "$binary" "$ref" $libs <<'PY' | "$here/oci-archive.py" "$out"
import json, os, sys
binary, ref, libs = sys.argv[1], sys.argv[2], sys.argv[3:]
entries = [{"path": "usr/local/bin/auth0-operator", "src": binary, "mode": 0o755}]
for lib in libs:
    entries.append({"path": lib.lstrip("/"), "src": os.path.realpath(lib), "mode": 0o755})
entries += [
    {"path": "etc/passwd", "data": "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
    {"path": "etc/group", "data": "root:x:0:\nnonroot:x:65532:\n"},
    {"path": "home/nonroot", "dir": True, "mode": 0o700, "uid": 65532, "gid": 65532},
    {"path": "tmp", "dir": True, "mode": 0o1777},
]
config = {
    "User": "65532:65532",
    "ExposedPorts": {"8080/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Entrypoint": ["/usr/local/bin/auth0-operator"],
    "Cmd": ["run", "--leader-election", "--http-address", "0.0.0.0:8080", "--log-format", "json"],
    "WorkingDir": "/",
    "Labels": {
        "org.opencontainers.image.source": "https://github.com/auth0-operator/auth0-operator",
        "org.opencontainers.image.description": "Kubernetes operator that manages Auth0 Connection Profiles",
        "org.opencontainers.image.licenses": "Apache-2.0",
    },
}
json.dump({"images": [{"refs": [ref], "config": config, "entries": entries}]}, sys.stdout)
PY
