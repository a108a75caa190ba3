# Sourced by scripts/go-lane.sh and bench/cri/env.sh: Debian's docker-registry
# on 127.0.0.1 over a storage directory that holds the critest images. The
# directory is filled once per image build (registry_fill) and then served as
# it is by every run (pulls only read it).

# daemon CMD...: start CMD in the background (its pid in $!) so that it never
# outlives this shell: it gets SIGTERM when the shell dies, however it dies
# (setpriv --pdeathsig; an EXIT trap does not run on SIGKILL), and it holds
# none of the shell's inherited descriptors (a `flock /work/.itest.lock` fd
# held by a leaked daemon would block every other test run).
daemon() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setpriv --pdeathsig TERM -- "$@"
  ) &
}

_free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# registry_serve DATA WORKDIR: serve DATA; sets REG (127.0.0.1:port) and REG_PID.
registry_serve() {
  local data="$1" dir="$2" port i
  port="$(_free_port)"
  REG="127.0.0.1:$port"
  mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$data" "$REG" >"$dir/registry.yml"
  daemon /usr/bin/docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1
  REG_PID=$!
  for ((i = 0; i < 200; i++)); do
    curl -sf "http://$REG/v2/" >/dev/null && return 0
    kill -0 "$REG_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "registry on $REG did not start: $(cat "$dir/registry.log")" >&2
  return 1
}

# registry_fill DATA IMAGES: push every image of IMAGES/images.list into DATA, once.
registry_fill() {
  local data="$1" images="$2" ref dest tmp
  [ -f "$data/.filled" ] && return 0
  tmp="$(mktemp -d)"
  rm -rf "$data.tmp"
  registry_serve "$data.tmp" "$tmp"
  while read -r ref dest; do
    echo "+ skopeo copy oci:$images/layout:$ref docker://$REG/$dest"
    skopeo copy --quiet --dest-tls-verify=false "oci:$images/layout:$ref" "docker://$REG/$dest"
  done <"$images/images.list"
  kill "$REG_PID"
  wait "$REG_PID" 2>/dev/null || true
  rm -rf "$tmp" "$data"
  touch "$data.tmp/.filled"
  mv "$data.tmp" "$data"
}
