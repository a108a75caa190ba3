# Sourced by the image scripts (which define run()).
# busybox_rootfs DIR: DIR becomes a root of the host's static busybox
# (/bin/busybox, a symlink per applet), with /etc, /root and a 1777 /tmp.
busybox_rootfs() {
  local dir="$1" bb=/bin/busybox applet
  run mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root"
  run cp "$bb" "$dir/bin/busybox"
  echo "+ symlink every busybox applet into $dir/bin"
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  run chmod 1777 "$dir/tmp"
}
