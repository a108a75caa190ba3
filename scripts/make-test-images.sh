#!/usr/bin/env bash
# Write test images of a busybox rootfs into $1, without network:
#   busybox-oci/        OCI image layout (directory)
#   busybox-oci.tar     the same layout as a tar (what skopeo copy ... oci-archive: writes)
#   busybox-docker.tar  docker-archive of the same image (what docker save writes)
#   busybox-zstd/       OCI layout of the same image with layer 2 as tar+zstd
#   busybox-multi/      OCI layout whose index holds two platforms: this host's
#                       arch (the image above) and another (same layers, its own config)
# Layer 1: busybox (from Debian's busybox-static) + /etc/gone, /data/opaque/{old1,old2}, /data/kept.
# Layer 2: a whiteout of /etc/gone, an opaque /data/opaque with only "new", and /hello.
# Both formats carry the same config bytes, so they import as one image id.
set -euo pipefail
out="${1:?usage: make-test-images.sh OUTDIR}"
run() { echo "+ $*"; "$@"; }

if ! dpkg -s busybox-static >/dev/null 2>&1 || ! command -v zstd >/dev/null; then
  run apt-get install -y busybox-static zstd || { run apt-get update && run apt-get install -y busybox-static zstd; }
fi
# shellcheck source=lib/busybox-rootfs.sh
. "$(dirname "$0")/lib/busybox-rootfs.sh"

run mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Layer 1: the busybox rootfs.
l1="$work/l1"
busybox_rootfs "$l1"
run mkdir -p "$l1/data/opaque"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$l1/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$l1/etc/group"
echo 'deleted by layer 2' >"$l1/etc/gone"
echo old1 >"$l1/data/opaque/old1"
echo old2 >"$l1/data/opaque/old2"
echo kept >"$l1/data/kept"

# Layer 2: whiteout, opaque dir, a new file.
l2="$work/l2"
run mkdir -p "$l2/etc" "$l2/data/opaque"
: >"$l2/etc/.wh.gone"
: >"$l2/data/opaque/.wh..wh..opq"
echo new >"$l2/data/opaque/new"
echo 'hello from layer 2' >"$l2/hello"

tarit() { run tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$1" -cf "$2" .; }
tarit "$l1" "$work/layer1.tar"
tarit "$l2" "$work/layer2.tar"
echo "+ gzip -n -c $work/layer2.tar > $work/layer2.tar.gz"
gzip -n -c "$work/layer2.tar" >"$work/layer2.tar.gz"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
d1=$(sha "$work/layer1.tar"); d2=$(sha "$work/layer2.tar"); g2=$(sha "$work/layer2.tar.gz")
arch=$(dpkg --print-architecture)

printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"2026-01-01T00:00:00Z\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/root\",\"StopSignal\":\"SIGTERM\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$d1\",\"sha256:$d2\"]}}" >"$work/config.json"
cfg=$(sha "$work/config.json")

# OCI image layout.
oci="$out/busybox-oci"
run rm -rf "$oci"
run mkdir -p "$oci/blobs/sha256"
run cp "$work/layer1.tar" "$oci/blobs/sha256/$d1"
run cp "$work/layer2.tar.gz" "$oci/blobs/sha256/$g2"
run cp "$work/config.json" "$oci/blobs/sha256/$cfg"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cfg\",\"size\":$(size "$work/config.json")},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d1\",\"size\":$(size "$work/layer1.tar")},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$g2\",\"size\":$(size "$work/layer2.tar.gz")}]}" >"$work/manifest.json"
man=$(sha "$work/manifest.json")
run cp "$work/manifest.json" "$oci/blobs/sha256/$man"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$man\",\"size\":$(size "$work/manifest.json"),\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/busybox:latest\",\"org.opencontainers.image.ref.name\":\"latest\"},\"platform\":{\"os\":\"linux\",\"architecture\":\"$arch\"}}]}" >"$oci/index.json"
run tar --numeric-owner -C "$oci" -cf "$out/busybox-oci.tar" .

# The same image with layer 2 zstd-compressed (layer 1 stays an uncompressed tar).
zst="$out/busybox-zstd"
run rm -rf "$zst"
run mkdir -p "$zst/blobs/sha256"
run zstd -q -19 -f -o "$work/layer2.tar.zst" "$work/layer2.tar"
z2=$(sha "$work/layer2.tar.zst")
run cp "$work/layer1.tar" "$zst/blobs/sha256/$d1"
run cp "$work/layer2.tar.zst" "$zst/blobs/sha256/$z2"
run cp "$work/config.json" "$zst/blobs/sha256/$cfg"
sed "s/+gzip\",\"digest\":\"sha256:$g2\",\"size\":$(size "$work/layer2.tar.gz")/+zstd\",\"digest\":\"sha256:$z2\",\"size\":$(size "$work/layer2.tar.zst")/" "$work/manifest.json" >"$work/manifest-zstd.json"
manz=$(sha "$work/manifest-zstd.json")
run cp "$work/manifest-zstd.json" "$zst/blobs/sha256/$manz"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$zst/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manz\",\"size\":$(size "$work/manifest-zstd.json"),\"annotations\":{\"org.opencontainers.image.ref.name\":\"zstd\"}}]}" >"$zst/index.json"

# Multi-platform OCI layout: this arch + one other, same layers.
other=amd64; [ "$arch" = amd64 ] && other=arm64
multi="$out/busybox-multi"
run rm -rf "$multi"
run cp -r "$oci" "$multi"
sed "s/\"architecture\":\"$arch\"/\"architecture\":\"$other\"/" "$work/config.json" >"$work/config-other.json"
cfgo=$(sha "$work/config-other.json")
run cp "$work/config-other.json" "$multi/blobs/sha256/$cfgo"
sed "s/$cfg/$cfgo/; s/\"size\":$(size "$work/config.json"),/\"size\":$(size "$work/config-other.json"),/" "$work/manifest.json" >"$work/manifest-other.json"
mano=$(sha "$work/manifest-other.json")
run cp "$work/manifest-other.json" "$multi/blobs/sha256/$mano"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$man\",\"size\":$(size "$work/manifest.json"),\"platform\":{\"os\":\"linux\",\"architecture\":\"$arch\"}},{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$mano\",\"size\":$(size "$work/manifest-other.json"),\"platform\":{\"os\":\"linux\",\"architecture\":\"$other\"}}]}" >"$work/multi-index.json"
mi=$(sha "$work/multi-index.json")
run cp "$work/multi-index.json" "$multi/blobs/sha256/$mi"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:$mi\",\"size\":$(size "$work/multi-index.json"),\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}" >"$multi/index.json"

# docker-archive (docker save layout: <id>.json, <layer>/layer.tar, manifest.json).
dock="$work/docker"
run mkdir -p "$dock/$d1" "$dock/$d2"
run cp "$work/config.json" "$dock/$cfg.json"
run cp "$work/layer1.tar" "$dock/$d1/layer.tar"
run cp "$work/layer2.tar" "$dock/$d2/layer.tar"
printf '%s' "[{\"Config\":\"$cfg.json\",\"RepoTags\":[\"busybox:latest\"],\"Layers\":[\"$d1/layer.tar\",\"$d2/layer.tar\"]}]" >"$dock/manifest.json"
run tar --numeric-owner -C "$dock" -cf "$out/busybox-docker.tar" .
echo "image id: sha256:$cfg"
