#!/usr/bin/env bash
# A kind node image built on this machine, for when no container registry serves
# kindest/node: Debian bookworm by debootstrap (systemd, Debian's containerd and runc, the
# CNI plugins, nftables) with kind's own base files (from the kind Go module), kubeadm,
# kubelet, kubectl and crictl, and the control-plane images (kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy, etcd, pause) made from binaries built
# from their Go modules and imported into the node's containerd, pinned, as kind's own node
# image holds them. A bridge CNI config stands in for kindnet (the cluster config sets
# disableDefaultCNI). CoreDNS is not included: its pods stay pending an image.
# Cached: the binaries under $AUTH0_OPERATOR_CACHE/kind, the debootstrap rootfs as a tarball,
# the image in the container engine's storage (tag keyed by the Kubernetes version and this
# script). Prints the image's reference. Env: see lib.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Only the image's reference on stdout: everything else goes to stderr.
exec 3>&1 1>&2
kind_engine
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || kind_die "Go 1.26+ is needed to build kubelet, kubeadm and the rest of the node image"
controlplane=$("$kind_repo/testenv/build.sh")
kube_version=$(cd "$kind_repo/testenv/go/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
key=$(cat "$kind_here/node-image.sh" "$kind_here/pause.go" "$kind_here/oci-archive.py" | sha256sum | cut -c1-12)
tag=localhost/auth0-kind-node:$kube_version-$key
if kind_image_exists "$tag"; then echo "$tag" >&3; exit 0; fi
start=$(date +%s)
dir=$kind_cache/kind
mkdir -p "$dir"
work=$(mktemp -d "$dir/.node.XXXXXX")
builder=
cleanup() { [ -z "$builder" ] || "$ENGINE" rm -f "$builder" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# kubelet, kubeadm, kube-scheduler, kube-proxy: from testenv's wrapper module, so the
# same Kubernetes version as the kube-apiserver the other tests run.
bins=$dir/node-$kube_version
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$kube_version" | cut -d. -f2)"
for cmd in kubelet kubeadm kube-scheduler kube-proxy; do
  if [ ! -x "$bins/$cmd" ]; then
    kind_say "building $cmd $kube_version into $bins (the four: 15 min on 2 cores with an empty Go build cache, less after testenv's build, with which they share packages)"
    mkdir -p "$bins"
    (cd "$kind_repo/testenv/go/kube" && go build -trimpath -ldflags "$ldflags" -o "$work/$cmd" "k8s.io/kubernetes/cmd/$cmd") >&2
    mv "$work/$cmd" "$bins/$cmd"
  fi
done
crictl=$dir/crictl-$CRICTL_VERSION/crictl
if [ ! -x "$crictl" ]; then
  kind_say "building crictl $CRICTL_VERSION (kubeadm's preflight needs it)"
  GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >&2
  mkdir -p "$(dirname "$crictl")" && mv "$work/crictl" "$crictl"
fi
(cd "$kind_here" && go build -trimpath -ldflags "-s -w" -o "$work/pause" pause.go) >&2

# The base: debootstrap (about 40 s, Debian's mirror) and kind's files, kept as a tarball.
packages=systemd,systemd-sysv,dbus,iptables,nftables,iproute2,jq,ca-certificates,containerd,runc,containernetworking-plugins,conntrack,ethtool,socat,util-linux,mount,kmod,procps
base=$dir/base-bookworm-kind-$KIND_VERSION-$(echo "$packages" | sha256sum | cut -c1-8).tar
if [ ! -f "$base" ]; then
  command -v debootstrap >/dev/null || kind_install_debs debootstrap
  [ "$(id -u)" = 0 ] || kind_die "debootstrap needs root to build the node image's base"
  kind_say "debootstrap bookworm into $base"
  debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; kind_die "debootstrap failed (log above)"; }
  kind_module=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$kind_module" ] || kind_die "the Go module proxy did not serve sigs.k8s.io/kind@$KIND_VERSION"
  cp -a "$kind_module/images/base/files/." "$work/rootfs/"
  chmod -R u+w "$work/rootfs/etc" "$work/rootfs/kind" "$work/rootfs/usr/local"
  ln -sf /usr/bin/containerd "$work/rootfs/usr/local/bin/containerd"
  # As kind's images/base/Dockerfile trims systemd for a container.
  chroot "$work/rootfs" /bin/bash -c '
    find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/* \
      /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    grep -q ReadKMsg=no /etc/systemd/journald.conf || echo ReadKMsg=no >> /etc/systemd/journald.conf
    systemctl mask systemd-binfmt.service; systemctl enable containerd undo-mount-hacks
    chmod +x /usr/local/bin/* /kind/bin/*
    mkdir -p /opt/cni /etc/cni/net.d /kind/manifests; ln -sfn /usr/lib/cni /opt/cni/bin
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /usr/share/doc /usr/share/man' >"$work/chroot.log" 2>&1 \
    || { cat "$work/chroot.log" >&2; kind_die "preparing the base rootfs failed (log above)"; }
  tar -C "$work/rootfs" -cf "$work/base.tar" . && mv "$work/base.tar" "$base"
fi
rm -rf "$work/rootfs"


# The component images, as kubeadm names them for this version (plus kind's sandbox image).
mapfile -t refs < <("$bins/kubeadm" config images list --kubernetes-version "$kube_version" 2>/dev/null)
[ ${#refs[@]} -ge 6 ] || kind_die "kubeadm config images list gave no image list"
ref_of() { printf '%s\n' "${refs[@]}" | grep "/$1:" | head -1; }
# kube-proxy's nftables mode runs nft: it and its libraries come from the base rootfs.
mkdir "$work/root" && tar -C "$work/root" --exclude=./dev -xf "$base"
nft_libs=$(chroot "$work/root" ldd /usr/sbin/nft | grep -o '/[^ ]*' | sort -u) || kind_die "cannot list nft's libraries in the base rootfs"
python3 - "$work" "$controlplane" "$bins" "$(ref_of kube-apiserver)" "$(ref_of kube-controller-manager)" \
  "$(ref_of kube-scheduler)" "$(ref_of kube-proxy)" "$(ref_of etcd)" "$(ref_of pause)" $nft_libs <<'PY' > "$work/spec.json"
import json, os, sys
work, cp, bins, apiserver, kcm, scheduler, proxy, etcd, pause = sys.argv[1:10]
env = {"Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"]}
def image(refs, binary, name, extra=()):
    entries = [{"path": "usr/local/bin/" + name, "src": binary, "mode": 0o755}] + list(extra)
    return {"refs": refs, "config": dict(env, Entrypoint=["/usr/local/bin/" + name]), "entries": entries}
root = os.path.join(work, "root")
def inside(path, hops=0):  # a path of the rootfs, its symlinks (absolute ones too) resolved within it
    parts, done = [p for p in path.split("/") if p], []
    while parts:
        part = parts.pop(0)
        if part == "..":
            done = done[:-1]; continue
        here = os.path.join(root, *done, part)
        if os.path.islink(here):
            assert hops < 40, path
            target = os.readlink(here)
            return inside(target if target.startswith("/") else "/".join(["", *done, target]), hops + 1) if not parts \
                else inside("/".join([target if target.startswith("/") else "/".join(["", *done, target]), *parts]), hops + 1)
        done.append(part)
    return os.path.join(root, *done)
nft = [{"path": p.lstrip("/"), "src": inside(p), "mode": 0o755} for p in ["/usr/sbin/nft"] + sys.argv[10:]]
print(json.dumps({"images": [
    image([apiserver], f"{cp}/kube-apiserver", "kube-apiserver"),
    image([kcm], f"{cp}/kube-controller-manager", "kube-controller-manager"),
    image([scheduler], f"{bins}/kube-scheduler", "kube-scheduler"),
    image([proxy], f"{bins}/kube-proxy", "kube-proxy", nft),
    image([etcd], f"{cp}/etcd", "etcd"),
    {"refs": sorted({pause, "registry.k8s.io/pause:3.10"}), "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
     "entries": [{"path": "pause", "src": f"{work}/pause", "mode": 0o755}]},
]}))
PY
"$kind_here/oci-archive.py" "$work/components.tar" < "$work/spec.json" >/dev/null

# The node: the base, with containerd running once to import the component images.
"$ENGINE" import --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'ENV container=docker' \
  "$base" "localhost/auth0-kind-base:$key" >/dev/null
builder=$("$ENGINE" run -d --privileged --entrypoint sleep "localhost/auth0-kind-base:$key" infinity)
"$ENGINE" exec -d "$builder" containerd
for _ in $(seq 100); do "$ENGINE" exec "$builder" ctr version >/dev/null 2>&1 && break; sleep 0.3; done
"$ENGINE" exec -i "$builder" ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned --no-unpack --digests - \
  < "$work/components.tar" >/dev/null
for f in kubeadm kubelet; do "$ENGINE" cp "$bins/$f" "$builder:/usr/bin/$f"; done
"$ENGINE" cp "$controlplane/kubectl" "$builder:/usr/bin/kubectl"
"$ENGINE" cp "$crictl" "$builder:/usr/local/bin/crictl"
# kind's base image writes cri-base.json with `ctr oci spec` (its product_uuid hook, no
# rlimits: a host without CAP_SYS_RESOURCE cannot raise them). Negative oom_score_adj values
# are refused on such hosts too, hence restrict_oom_score_adj.
"$ENGINE" exec "$builder" bash -c 'ctr oci spec | jq ".hooks.createContainer += [{\"path\": \"/kind/bin/mount-product-files.sh\"}] | del(.process.rlimits)" > /etc/containerd/cri-base.json
  sed -i "s/restrict_oom_score_adj = false/restrict_oom_score_adj = true/" /etc/containerd/config.toml
  pkill containerd; for _ in $(seq 50); do pgrep containerd >/dev/null || break; sleep 0.2; done
  rm -rf /var/run/containerd /run/containerd
  echo '"$kube_version"' > /kind/version
  cat > /etc/cni/net.d/10-bridge.conflist <<J
{"cniVersion": "0.4.0", "name": "kind-bridge", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
J'
"$ENGINE" exec "$builder" ctr version >/dev/null 2>&1 && kind_die "containerd did not stop in the builder"
"$ENGINE" commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "$builder" "$tag" >"$work/commit.log" 2>&1 \
  || { cat "$work/commit.log"; kind_die "$ENGINE commit failed"; }
# Images an earlier version of this script built are of no further use.
"$ENGINE" images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/auth0-kind-(node|base):' | grep -v -e "$key\$" \
  | xargs -r "$ENGINE" rmi >/dev/null 2>&1 || true
kind_say "node image $tag built in $(( $(date +%s) - start )) s"
echo "$tag" >&3
