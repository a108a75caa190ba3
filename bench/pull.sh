#!/usr/bin/env bash
# pull.sh - pulling an image from a loopback registry: pod-launch against
# skopeo (copy to an OCI layout) and containerd (ctr image pull, which also
# unpacks), in ONE run, interleaved; then the peak RSS of a pull of a 1 GB
# layer. Prints medians, p90 and the ratios. See README.md ("Pulls").
#
#   sudo bench/pull.sh
#   sudo RUNS=10 bench/pull.sh
#   sudo LOCK=/work/.itest.lock bench/pull.sh    # registries and pulls under a lock (flock)
# pod-launch's pull downloads every blob to disk (verified as written), then
# unpacks; its summary line gives the unpack time after the last blob was on
# disk, so the report has both pl (all of it, like ctr) and pl-download (the
# wall time without that tail, like skopeo copy, which does not unpack).
#
# Environment (all optional):
#   RUNS=7 WARMUP=1      counted / warm-up repetitions (every tool each time, order rotated)
#   TOOLS                default "pl skopeo ctr" (ctr only when containerd is installed)
#   LAYER_MB=80          uncompressed MB of each of the 3 layers (~100 MB gzip'ed in all)
#   BIG_MB=1024          the one-layer image whose pull's peak RSS is measured (0: skip)
#   BIG_RUNS=3           pod-launch pulls of it (the report gives each and the most)
#   WORK                 scratch folder (default /tmp/plpull; removed at the end unless KEEP_WORK=1)
#   OUT                  results (default bench/results/pull-<UTC time>)
#   SKIP_INSTALL=1       do not apt-get install missing tools
#   PLNODE="node"        how pod-launch is run (e.g. "node --cpu-prof --cpu-prof-dir=/tmp/prof")
#   BASE                 another built checkout: its CLI pulls too, as "base" (and base-download),
#                        interleaved with the others (an A/B in one run)
#   LOCK                 a lock file (flock) held from the registry's start to the end, not
#                        while the images are built; no daemon or pull inherits its fd
# Every daemon it starts (docker-registry, containerd) is stopped and its scratch
# folder removed on any exit: the end, an error, Ctrl-C, SIGTERM or SIGHUP.
# Needs root (a pull unpacks as root, containerd runs as root). Echoes what it runs.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
PLROOT=${PLROOT:-$(cd "$BENCH/.." && pwd)}
PLNODE=${PLNODE:-node} RUNS=${RUNS:-7} WARMUP=${WARMUP:-1} LAYER_MB=${LAYER_MB:-80} BIG_MB=${BIG_MB:-1024}
WORK=${WORK:-/tmp/plpull}
OUT=${OUT:-$BENCH/results/pull-$(date -u +%Y%m%dT%H%M%SZ)}

run() { echo "+ $*" >&2; "$@"; }
die() { echo "pull.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root"
[[ -f $PLROOT/dist/cli/main.js ]] || die "pod-launch is not built in $PLROOT (npm ci)"

# --- 1. tools ----------------------------------------------------------------
missing=()
for t in docker-registry:docker-registry skopeo:skopeo jq:jq; do command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}"); done
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  [[ ${SKIP_INSTALL:-0} == 1 ]] && die "missing: ${missing[*]} (SKIP_INSTALL=1)"
  run apt-get install -y "${missing[@]}"
fi
[[ -z ${BASE:-} || -f $BASE/dist/cli/main.js ]] || die "BASE=$BASE is not a built checkout (npm ci)"
TOOLS=${TOOLS:-pl${BASE:+ base} skopeo$(command -v containerd >/dev/null && command -v ctr >/dev/null && echo ' ctr')}

# --- 2. cleanup, whatever happens ---------------------------------------------
# The daemons run in the background with job control off, so a terminal's
# Ctrl-C does not reach them (bash starts them with SIGINT ignored): they are
# stopped here, SIGTERM then SIGKILL after 5 s, on every way out.
pids=()
stop_pid() {
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e # every step runs, whatever one returns
  echo "== cleanup" >&2
  for p in "${pids[@]}"; do stop_pid "$p"; done
  # containerd's overlay snapshots are mounted under its root.
  if [[ -d $WORK/ctr ]]; then
    { grep -o " $WORK/ctr[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount "$m" || true; done
  fi
  [[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"

# --- 3. the images: 3 layers of host files mixed with incompressible bytes
# (gzip -6 as docker writes it: about 2.6x smaller, as real images), and one 1 GB layer
# build_image DIR TAG FILELIST... : an OCI layout with one gzip layer per file list (paths relative to /).
build_image() {
  local dir=$1 tag=$2
  shift 2
  mkdir -p "$dir/blobs/sha256"
  local layers='' diffs='' i=0
  for list in "$@"; do
    local tarf="$WORK/layer$i.tar"
    tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C / -cf "$tarf" -T "$list"
    local diff gz size
    diff=$(sha256sum "$tarf" | cut -d' ' -f1)
    gzip -6 -n "$tarf"
    gz=$(sha256sum "$tarf.gz" | cut -d' ' -f1)
    size=$(stat -c %s "$tarf.gz")
    mv "$tarf.gz" "$dir/blobs/sha256/$gz"
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$gz\",\"size\":$size}"
    diffs+="${diffs:+,}\"sha256:$diff\""
    i=$((i + 1))
  done
  local arch cfg cfgd man mand
  arch=$(dpkg --print-architecture)
  cfg="{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}"
  cfgd=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$dir/blobs/sha256/$cfgd"
  man="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cfgd\",\"size\":${#cfg}},\"layers\":[$layers]}"
  mand=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
  printf '%s' "$man" >"$dir/blobs/sha256/$mand"
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '%s' "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$mand\",\"size\":${#man},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}]}" >"$dir/index.json"
}

echo "== images" >&2
# rand FILE MB: MB of incompressible bytes, the same every run (an AES-CTR key stream).
rand() { (openssl enc -aes-128-ctr -nosalt -pass "pass:${1##*/}" -pbkdf2 </dev/zero 2>/dev/null || true) | head -c $(($2 * 1048576)) >"$1"; }
# Each layer: LAYER_MB of files from /usr/lib (8 KiB - 2 MiB, by path, round robin) and LAYER_MB/4 of random bytes.
{ find /usr/lib -xdev -type f -size +8k -size -2048k -printf '%s %P\n' 2>/dev/null || true; } | sort -k2 | awk -v cap=$((LAYER_MB * 1048576)) -v w="$WORK" '
  { k = NR % 3; if (sum[k] + $1 > cap) next; sum[k] += $1; sub(/^[0-9]+ /, ""); print "usr/lib/" $0 > (w "/list" k) }'
mkdir -p "$WORK/rand"
for i in 0 1 2; do
  rand "$WORK/rand/r$i.bin" $((LAYER_MB / 4))
  echo "${WORK#/}/rand/r$i.bin" >>"$WORK/list$i"
done
run build_image "$WORK/img3" bench "$WORK/list0" "$WORK/list1" "$WORK/list2"
rm -rf "$WORK/rand"
if ((BIG_MB > 0)); then
  # One layer of BIG_MB of incompressible bytes in 64 MiB files: the download is BIG_MB too.
  mkdir -p "$WORK/big"
  for ((i = 0; i < BIG_MB / 64; i++)); do
    rand "$WORK/big/f$i" 64
    echo "${WORK#/}/big/f$i" >>"$WORK/listbig"
  done
  run build_image "$WORK/img1g" big "$WORK/listbig"
  rm -rf "$WORK/big"
fi

# --- 4. the registry (loopback, plain HTTP), filled by skopeo ------------------
# The lock (fd 9) is taken here and released when this script exits; every
# process started from here on gets `9>&-`, so none can keep it held.
if [[ -n ${LOCK:-} ]]; then
  exec 9>>"$LOCK"
  echo "pull.sh: waiting for $LOCK" >&2
  flock 9
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $WORK/registry } }
http: { addr: $REG }
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 9>&- &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
run skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/img3:bench" "docker://$REG/bench/img:1"
((BIG_MB > 0)) && run skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/img1g:big" "docker://$REG/bench/big:1"
IMG=$REG/bench/img:1
compressed=$(jq '[.layers[].size] | add' "$WORK/img3/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/img3/index.json" | cut -d: -f2)")
echo "pull.sh: image $IMG: 3 layers, $((compressed / 1000000)) MB compressed, about $((3 * LAYER_MB * 5 / 4)) MiB unpacked" >&2
rm -rf "$WORK/img3" "$WORK/img1g" "$WORK"/layer*.tar

# --- 5. containerd with a private root, state and socket ------------------------
if [[ " $TOOLS " == *" ctr "* ]]; then
  mkdir -p "$WORK/ctr"
  cat >"$WORK/ctr/config.toml" <<EOF
version = 2
root = "$WORK/ctr/root"
state = "$WORK/ctr/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$WORK/ctr/sock"
[debug]
  level = "error"
EOF
  containerd --config "$WORK/ctr/config.toml" >"$WORK/ctr/log" 2>&1 9>&- &
  pids+=($!)
  for _ in $(seq 100); do ctr -a "$WORK/ctr/sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  echo "pull.sh: $(containerd --version)" >&2
fi

# --- 6. timed pulls, interleaved -------------------------------------------------
cmd_of() {
  case $1 in
    pl) echo "$PLNODE $PLROOT/bin/pod-launch --root $WORK/pl image pull $IMG" ;;
    base) echo "$PLNODE $BASE/bin/pod-launch --root $WORK/plbase image pull $IMG" ;;
    skopeo) echo "skopeo copy --quiet --src-tls-verify=false docker://$IMG oci:$WORK/sk:1" ;;
    ctr) echo "ctr -a $WORK/ctr/sock -n bench image pull --plain-http $IMG" ;;
  esac
}
reset_of() {
  case $1 in
    pl) rm -rf "$WORK/pl" ;;
    base) rm -rf "$WORK/plbase" ;;
    skopeo) rm -rf "$WORK/sk" ;;
    ctr) ctr -a "$WORK/ctr/sock" -n bench image rm --sync "$IMG" >/dev/null 2>&1 || true ;;
  esac
}
read -r -a tools <<<"$TOOLS"
for t in "${tools[@]}"; do echo "+ $(cmd_of "$t")" >&2; done
: >"$OUT/samples.txt"
for ((r = 0; r < WARMUP + RUNS; r++)); do
  n=${#tools[@]}
  for ((k = 0; k < n; k++)); do
    t=${tools[$(((k + r) % n))]}
    reset_of "$t"
    sync
    start=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o "$WORK/rss" $(cmd_of "$t") >"$WORK/out" 2>&1 9>&-
    end=$EPOCHREALTIME
    ((r < WARMUP)) && continue
    read -r kb usr sys <"$WORK/rss"
    echo "$t $(awk "BEGIN { print $end - $start }") $kb $(awk "BEGIN { print $usr + $sys }")" >>"$OUT/samples.txt"
    # pod-launch's summary: "downloaded N MB in A s, unpacked in B s": its pull without the unpack
    # that follows the last blob on disk is the wall time minus B (what skopeo copy does).
    if [[ $t == pl || $t == base ]]; then
      tail=$(sed -n 's/^Status: downloaded .* unpacked in \([0-9.]*\) s .*/\1/p' "$WORK/out")
      [[ -n $tail ]] || die "no summary line from pod-launch: $(cat "$WORK/out")"
      echo "$t-download $(awk "BEGIN { print $end - $start - $tail }") - -" >>"$OUT/samples.txt"
    fi
  done
done
for t in "${tools[@]}"; do reset_of "$t"; done

# --- 7. peak RSS of a pull of a 1 GB layer (pod-launch, then skopeo beside it) -------
if ((BIG_MB > 0)); then
  for ((i = 0; i < ${BIG_RUNS:-3}; i++)); do
    run /usr/bin/time -f '%M %e' -o "$WORK/bigrss" $PLNODE "$PLROOT/bin/pod-launch" --root "$WORK/pl" image pull -q "$REG/bench/big:1" >/dev/null 9>&-
    read -r bigrss bigsecs <"$WORK/bigrss"
    echo "big-pl $bigsecs $bigrss" >>"$OUT/samples.txt"
    rm -rf "$WORK/pl"
  done
  run /usr/bin/time -f '%M %e' -o "$WORK/bigrss" skopeo copy --quiet --src-tls-verify=false "docker://$REG/bench/big:1" "oci:$WORK/sk:1" >/dev/null 9>&-
  read -r bigrss bigsecs <"$WORK/bigrss"
  echo "big-skopeo $bigsecs $bigrss" >>"$OUT/samples.txt"
  rm -rf "$WORK/sk"
fi

# --- 8. report -------------------------------------------------------------------
BIG_MB=$BIG_MB node - "$OUT/samples.txt" "$compressed" <<'EOF' | tee "$OUT/report.txt"
const [file, bytes] = process.argv.slice(2)
const rows = require('fs').readFileSync(file, 'utf8').trim().split('\n').map(l => l.split(' '))
const by = {}
for (const [t, s, kb, cpu] of rows) (by[t] ??= []).push({ s: +s, kb: kb === '-' ? NaN : +kb, cpu: cpu === undefined || cpu === '-' ? NaN : +cpu })
const q = (xs, p) => { const v = [...xs].sort((a, b) => a - b); return v[Math.min(v.length - 1, Math.floor(p * (v.length - 1) + 0.5))] }
const med = t => q(by[t].map(x => x.s), 0.5)
console.log(`pull of a 3-layer image, ${(bytes / 1e6).toFixed(0)} MB compressed, loopback registry; ${by.pl?.length ?? 0} runs each`)
console.log('like with like: pl (download + unpack) against ctr; pl-download (the pull up to the last blob verified on disk) against skopeo')
console.log('tool          median s   p90 s   MB/s   peak RSS MB   CPU s (user+sys)   pl / tool   pl-download / tool')
for (const t of Object.keys(by).filter(t => !t.startsWith('big-'))) {
  const m = med(t)
  const rss = q(by[t].map(x => x.kb), 0.5) / 1024
  const cpu = q(by[t].map(x => x.cpu), 0.5)
  const ratio = (a) => (by[a] ? (med(a) / m).toFixed(2) : '-')
  console.log(`${t.padEnd(12)} ${m.toFixed(3).padStart(9)} ${q(by[t].map(x => x.s), 0.9).toFixed(3).padStart(7)} ${(bytes / 1e6 / m).toFixed(0).padStart(6)} ${(isNaN(rss) ? '-' : rss.toFixed(0)).padStart(13)} ${(isNaN(cpu) ? '-' : cpu.toFixed(2)).padStart(18)} ${ratio('pl').padStart(11)} ${ratio('pl-download').padStart(20)}`)
}
for (const [t, name] of [['big-pl', 'pod-launch'], ['big-skopeo', 'skopeo']]) {
  const b = by[t]
  if (b) console.log(`${name} pull of one ${process.env.BIG_MB} MiB layer (${b.length}x): ${b.map(x => x.s).join(', ')} s, peak RSS ${b.map(x => (x.kb / 1024).toFixed(0)).join(', ')} MB (most ${(Math.max(...b.map(x => x.kb)) / 1024).toFixed(0)})`)
}
EOF
echo "pull.sh: results in $OUT" >&2
