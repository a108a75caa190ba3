#!/usr/bin/env bash
# Build a stand-in for docker.io/library/nginx into the OCI image layout
# LAYOUT as ref `nginx` (skopeo copy oci:LAYOUT:nginx docker://HOST/library/nginx:latest),
# with no image tool and no network but apt:
#   scripts/make-nginx-image.sh LAYOUT
# What it holds, shaped like the official image (CMD nginx -g 'daemon off;',
# STOPSIGNAL SIGQUIT, user nginx 101, /etc/nginx/conf.d/default.conf serving
# /usr/share/nginx/html on port 80, the logs on the container's stdout/stderr):
#   layer 1  /bin/sh and the applets of Debian's static busybox (the host's),
#            /etc/passwd and /etc/group with nginx, /tmp, /run
#   layer 2  Debian's nginx and nginx-common (apt-get download, unpacked;
#            docs and man pages left out), the libraries the binary needs
#            copied from this host (ldd), and the official image's config
# The Kubernetes docs' examples name `image: nginx`; the tests serve this
# image under that name from a registry on 127.0.0.1 set up as a mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
layout="${1:?usage: make-nginx-image.sh LAYOUT}"
run() { echo "+ $*"; "$@"; }
# shellcheck source=lib/busybox-rootfs.sh
. scripts/lib/busybox-rootfs.sh

if ! { [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked\|static-pie'; }; then
  run apt-get install -y -qq busybox-static || { run apt-get update -qq && run apt-get install -y -qq busybox-static; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Layer 1: a shell and its applets, the users.
base="$work/base"
busybox_rootfs "$base"
run mkdir -p "$base/run"
printf 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx user:/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$base/etc/passwd"
printf 'root:x:0:\nnginx:x:101:\nnogroup:x:65534:\n' >"$base/etc/group"

# Layer 2: Debian's nginx, its libraries, the official image's configuration.
ng="$work/nginx"
(cd "$work" && run apt-get download -qq nginx nginx-common) || { run apt-get update -qq && (cd "$work" && run apt-get download -qq nginx nginx-common); }
for deb in "$work"/nginx_*.deb "$work"/nginx-common_*.deb; do run dpkg-deb -x "$deb" "$ng"; done
run rm -rf "$ng/usr/share/doc" "$ng/usr/share/man" "$ng/usr/share/vim" "$ng/usr/share/apport" "$ng/etc/init.d" \
  "$ng/etc/logrotate.d" "$ng/etc/ufw" "$ng/lib/systemd" "$ng/etc/default" "$ng/etc/nginx/sites-available" "$ng/etc/nginx/sites-enabled"
for lib in $(ldd "$ng/usr/sbin/nginx" | grep -oE '/[^ ]+'); do
  [ -e "$ng$lib" ] || { mkdir -p "$ng$(dirname "$lib")" && cp -L "$lib" "$ng$lib"; }
done
cat >"$ng/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  /var/log/nginx/access.log;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
EOF
cat >"$ng/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
EOF
ln -sf /dev/stdout "$ng/var/log/nginx/access.log"
ln -sf /dev/stderr "$ng/var/log/nginx/error.log"

node scripts/oci-layout.mjs "$layout" nginx \
  '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}' \
  "$base" "$ng"
rm -f "$layout/.layers.json"
