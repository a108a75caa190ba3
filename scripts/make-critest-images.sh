#!/usr/bin/env bash
# Build, with no image tool and no registry but our own, the images critest
# (cri-tools v1.37.0, pkg/validate and pkg/framework) pulls, into one OCI
# layout OUTDIR/layout, and write OUTDIR/images.list ("REF DEST" per line:
# skopeo copy oci:OUTDIR/layout:REF docker://<registry>/DEST).
#   scripts/make-critest-images.sh OUTDIR
# What each image must hold, and where it comes from here:
#   busybox:1.29-2        Debian's (dynamic) busybox with its libraries, its applets hard
#                         links as in the upstream image (a masked /bin/ls must not mask busybox),
#                         /etc/passwd with www-data (33); the applets critest runs
#                         that Debian's build lacks: pgrep/pkill (toybox) and ipcs
#                         (util-linux), with the glibc they need
#   nginx:1.14-2          Debian's nginx-light on a Debian minbase (mmdebstrap),
#                         `nginx -g 'daemon off;'`: a master process, /run/nginx.pid, port 80;
#                         grep is busybox's, which prints a match in /proc/1/cmdline (NUL
#                         padded) as upstream's old GNU grep did, not "binary file matches"
#                         on stderr as bookworm's GNU grep 3.8 does
#   httpd:2.4.39-4        Debian's apache2 (Apache httpd 2.4) on the same base, run as `httpd`
#                         in the foreground on port 80 (its start-up notice names "httpd")
#   hostnet-nginx-amd64   the nginx image listening on 12003
#   nonewprivs:1.3        a setuid-root program printing "Effective uid: <euid>"
#   test-image-user-*     busybox with USER 1002, www-data, 1003:1004, www-data:1004
#   test-image-predefined-group  USER 1000, in group 50000 by /etc/group
#   test-image-{1,2,3,latest,digest}, test-image-tags:{1,2,3} (one image),
#   test-image-tag:{test,all} (two)  busybox plus a file named after the image
#   pause:3.9             our pause (build/Release/pause)
# The digest-pinned reference critest uses cannot match a rebuilt image: that
# spec is in the Go lane's skip list.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: make-critest-images.sh OUTDIR}"
run() { echo "+ $*"; "$@"; }

need=()
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked\|static-pie' || need+=(busybox-static)
[ -x /bin/toybox ] || need+=(toybox)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v gcc >/dev/null || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
  run apt-get install -y -qq "${need[@]}" || { run apt-get update -qq && run apt-get install -y -qq "${need[@]}"; }
fi
[ -x build/Release/pause ] || { echo "make-critest-images: build/Release/pause missing: npm run build" >&2; exit 1; }

mkdir -p "$out"
out="$(cd "$out" && pwd)"
layout="$out/layout"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$layout" "$out/images.list"
list=()
image() { # REF DEST CONFIG LAYER_DIR...
  local ref="$1" dest="$2" config="$3"
  shift 3
  node scripts/oci-layout.mjs "$layout" "$ref" "$config" "$@"
  list+=("$ref $dest")
}
path_env='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'

# libs_of DIR FILE: the libraries ldd names for FILE (a dynamic executable) into DIR at their own paths.
libs_of() {
  local lib
  for lib in $(ldd "$2" | grep -oE '/[^ ]+'); do
    [ -e "$1$lib" ] || { mkdir -p "$1$(dirname "$lib")" && cp -L "$lib" "$1$lib"; }
  done
}
# with_libs DIR FILE...: FILE (a dynamic executable of this host) into DIR at its own path, with its libraries.
with_libs() {
  local dir="$1" f
  shift
  for f in "$@"; do
    mkdir -p "$dir$(dirname "$f")" && cp -L "$f" "$dir$f"
    libs_of "$dir" "$f"
  done
}

# Layer: busybox with the users of the upstream busybox image. Debian's dynamic
# busybox (package busybox, fetched with apt-get download), not busybox-static:
# the static build runs its applets without exec (FEATURE_SH_STANDALONE), so a
# masked /bin/ls would not stop `sh -c ls`, which critest's MaskedPaths spec
# expects of the upstream image.
bb="$work/busybox"
run mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/root" "$bb/var/www" "$bb/home" "$bb/var/run"
(cd "$work" && run apt-get download -qq busybox) || { run apt-get update -qq && (cd "$work" && run apt-get download -qq busybox); }
run dpkg-deb -x "$work"/busybox_*.deb "$work/busybox-deb"
run cp "$work/busybox-deb/bin/busybox" "$bb/bin/busybox"
libs_of "$bb" "$bb/bin/busybox"
for applet in $("$bb/bin/busybox" --list); do [ "$applet" = busybox ] || ln -f "$bb/bin/busybox" "$bb/bin/$applet"; done
with_libs "$bb" /bin/toybox /usr/bin/ipcs
mv "$bb/usr/bin/ipcs" "$bb/bin/ipcs"
rmdir "$bb/usr/bin" 2>/dev/null || true
for applet in pgrep pkill; do rm -f "$bb/bin/$applet" && ln "$bb/bin/toybox" "$bb/bin/$applet"; done
cat >"$bb/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$bb/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
www-data:x:33:
nogroup:x:65534:
EOF
chmod 1777 "$bb/tmp"
image busybox e2e-test-images/busybox:1.29-2 "{$path_env,\"Cmd\":[\"sh\"]}" "$bb"

# Layers: a file named after each test image, on busybox.
marker() { mkdir -p "$work/m-$1" && echo "$1" >"$work/m-$1/$1" && echo "$work/m-$1"; }
for t in test-image-1 test-image-2 test-image-3 test-image-latest test-image-digest; do
  image "$t" "k8s-staging-cri-tools/$t:latest" "{$path_env,\"Cmd\":[\"sh\"]}" "$bb" "$(marker "$t")"
done
same="$(marker same-image)"
for tag in 1 2 3; do image "test-image-tags-$tag" "k8s-staging-cri-tools/test-image-tags:$tag" "{$path_env,\"Cmd\":[\"sh\"]}" "$bb" "$same"; done
for tag in test all; do image "test-image-tag-$tag" "k8s-staging-cri-tools/test-image-tag:$tag" "{$path_env,\"Cmd\":[\"sh\"]}" "$bb" "$(marker "$tag")"; done

# The USER variants (images/image-user in cri-tools: FROM busybox, USER ...).
for u in "uid 1002" "username www-data" "uid-group 1003:1004" "username-group www-data:1004"; do
  read -r name user <<<"$u"
  image "test-image-user-$name" "k8s-staging-cri-tools/test-image-user-$name:latest" "{$path_env,\"Cmd\":[\"sh\"],\"User\":\"$user\"}" "$bb"
done
pg="$work/predefined-group"
mkdir -p "$pg/etc" "$pg/home/default-user"
cp "$bb/etc/passwd" "$bb/etc/group" "$pg/etc/"
echo 'default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh' >>"$pg/etc/passwd"
printf 'default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n' >>"$pg/etc/group"
chown 1000:1000 "$pg/home/default-user"
image test-image-predefined-group k8s-staging-cri-tools/test-image-predefined-group:latest "{$path_env,\"Cmd\":[\"sh\"],\"User\":\"1000\"}" "$bb" "$pg"

# nonewprivs: a setuid-root program that prints its effective uid.
nnp="$work/nnp"
mkdir -p "$nnp/usr/local/bin"
cat >"$work/nnp.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\n", (int)geteuid()); return 0; }
EOF
run gcc -static -O2 -o "$nnp/usr/local/bin/nnp" "$work/nnp.c"
chmod 4755 "$nnp/usr/local/bin/nnp"
image nonewprivs e2e-test-images/nonewprivs:1.3 "{$path_env,\"Entrypoint\":[\"/usr/local/bin/nnp\"]}" "$bb" "$nnp"

# pause.
pz="$work/pause"
mkdir -p "$pz"
cp build/Release/pause "$pz/pause"
image pause pause:3.9 '{"Entrypoint":["/pause"]}' "$pz"

# nginx and httpd: real servers from Debian, one shared base layer.
deb="$work/debian"
run mmdebstrap --variant=minbase --include=nginx-light,apache2 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
  bookworm "$deb" "deb http://deb.debian.org/debian bookworm main" "deb http://deb.debian.org/debian-security bookworm-security main"
# Device nodes belong to the runtime's /dev, not to an image layer.
run find "$deb/dev" -mindepth 1 -delete
ng="$work/nginx"
mkdir -p "$ng/usr/local/bin"
cp /bin/busybox "$ng/usr/local/bin/grep"
image nginx e2e-test-images/nginx:1.14-2 "{$path_env,\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"StopSignal\":\"SIGQUIT\"}" "$deb" "$ng"
hn="$work/hostnet-nginx"
mkdir -p "$hn/etc/nginx/sites-enabled" "$hn/usr/local/bin"
cp /bin/busybox "$hn/usr/local/bin/grep"
printf 'server {\n  listen 12003 default_server;\n  root /var/www/html;\n  index index.html index.nginx-debian.html;\n}\n' >"$hn/etc/nginx/sites-enabled/default"
image hostnet-nginx "k8s-staging-cri-tools/hostnet-nginx-$(dpkg --print-architecture):latest" \
  "{$path_env,\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"StopSignal\":\"SIGQUIT\"}" "$deb" "$hn"
hd="$work/httpd"
mkdir -p "$hd/usr/local/bin"
ln -s /usr/sbin/apache2 "$hd/usr/local/bin/httpd"
cat >"$hd/usr/local/bin/httpd-foreground" <<'EOF'
#!/bin/sh
# Apache in the foreground, its errors on stderr (the container log), as the httpd image runs it.
set -e
. /etc/apache2/envvars
mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
rm -f "$APACHE_PID_FILE"
exec httpd -DFOREGROUND
EOF
chmod 755 "$hd/usr/local/bin/httpd-foreground"
# The httpd image logs to the container's stdout/stderr, not to files.
mkdir -p "$hd/etc/apache2/conf-enabled"
printf 'ErrorLog /proc/self/fd/2\nCustomLog /proc/self/fd/1 common\n' >"$hd/etc/apache2/conf-enabled/zz-container-log.conf"
image httpd e2e-test-images/httpd:2.4.39-4 "{$path_env,\"Cmd\":[\"httpd-foreground\"],\"StopSignal\":\"SIGWINCH\"}" "$deb" "$hd"

rm -f "$layout/.layers.json"
printf '%s\n' "${list[@]}" >"$out/images.list"
echo "make-critest-images: ${#list[@]} images in $layout"
