#!/usr/bin/env python3
"""Writes an OCI image archive (an oci-layout tar: what `kind load image-archive`, `ctr images
import`, `podman load` and `docker load` read) from files on disk, with no registry, no
container engine and no base image. One uncompressed layer per image, every entry owned and
dated as the spec says (mtime 0), so the same inputs give the same digests.

Usage: oci-archive.py OUT.tar < SPEC.json, where SPEC is
  {"images": [{"refs": ["localhost/name:tag", ...],
               "config": {"User": ..., "Entrypoint": [...], ...},   # the OCI image config
               "entries": [{"path": "usr/local/bin/x", "src": "/abs/file", "mode": 493},
                           {"path": "etc/passwd", "data": "text", "mode": 420},
                           {"path": "tmp", "dir": true, "mode": 1023, "uid": 0, "gid": 0}]}]}
Parent folders not listed are added (0755, root). Prints each ref and its manifest digest.
"""
import hashlib, io, json, os, platform, sys, tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def tar_entry(t, name, data=None, mode=0o644, uid=0, gid=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.mode, info.uid, info.gid, info.mtime, info.type = mode, uid, gid, 0, kind
    if data is not None:
        info.size = len(data)
    t.addfile(info, io.BytesIO(data) if data is not None else None)


def layer(entries):
    """The layer's tar bytes: folders first (parents before children), then files, sorted."""
    dirs, files = {}, {}
    for e in entries:
        path = e["path"].strip("/")
        if not path:
            raise SystemExit(f"oci-archive.py: an entry has an empty path: {e}")
        (dirs if e.get("dir") else files)[path] = e
        parent = os.path.dirname(path)
        while parent:
            dirs.setdefault(parent, {"path": parent, "dir": True})
            parent = os.path.dirname(parent)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in sorted(dirs):
            e = dirs[path]
            tar_entry(t, path, mode=e.get("mode", 0o755), uid=e.get("uid", 0), gid=e.get("gid", 0), kind=tarfile.DIRTYPE)
        for path in sorted(files):
            e = files[path]
            if "src" in e:
                with open(e["src"], "rb") as f:
                    data = f.read()
                mode = e.get("mode", os.stat(e["src"]).st_mode & 0o7777)
            elif "data" in e:
                data, mode = e["data"].encode(), e.get("mode", 0o644)
            else:
                raise SystemExit(f"oci-archive.py: entry {path} needs src, data or dir")
            tar_entry(t, path, data, mode=mode, uid=e.get("uid", 0), gid=e.get("gid", 0))
    return out.getvalue()


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    spec = json.load(sys.stdin)
    blobs, manifests = {}, []

    def blob(data, media):
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}

    for image in spec["images"]:
        raw = layer(image["entries"])
        layer_desc = blob(raw, "application/vnd.oci.image.layer.v1.tar")
        config = {
            "architecture": ARCH.get(platform.machine(), platform.machine()),
            "os": "linux",
            "config": image.get("config", {}),
            "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
        }
        config_desc = blob(json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": config_desc, "layers": [layer_desc]}, sort_keys=True).encode()
        manifest_desc = blob(manifest, "application/vnd.oci.image.manifest.v1+json")
        for ref in image["refs"]:
            # containerd reads io.containerd.image.name; podman and skopeo the ref name.
            manifests.append(dict(manifest_desc, annotations={"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref}))
            print(ref, manifest_desc["digest"])
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}).encode()
    tmp = sys.argv[1] + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
        tar_entry(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        tar_entry(t, "index.json", index)
        tar_entry(t, "blobs", mode=0o755, kind=tarfile.DIRTYPE)
        tar_entry(t, "blobs/sha256", mode=0o755, kind=tarfile.DIRTYPE)
        for digest in sorted(blobs):
            tar_entry(t, "blobs/sha256/" + digest, blobs[digest])
    os.replace(tmp, sys.argv[1])


if __name__ == "__main__":
    main()
