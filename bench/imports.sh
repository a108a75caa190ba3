#!/usr/bin/env bash
# imports.sh - what loading pod-launch's modules costs a fresh Node process,
# the part of the CLI's time that no pod work explains. Each command is a new
# `node` that imports one module and exits; hyperfine runs them in turn.
# Prints, per command, the median wall time and the mean CPU time (user +
# system, steadier than wall time on a busy machine), and the CPU time above
# `node -e 0`. No root needed; needs hyperfine (Debian package).
#   bench/imports.sh            RUNS=20 by default
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
PLROOT=${PLROOT:-$(cd "$BENCH/.." && pwd)}
RUNS=${RUNS:-20}
command -v hyperfine >/dev/null || { echo "imports.sh: needs hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }
json=$(mktemp)
trap 'rm -f "$json"' EXIT
cmds=("node -e 0")
for m in yaml yargs "$PLROOT/dist/spec/index.js" "$PLROOT/dist/cgroups/index.js" "$PLROOT/dist/spawn/index.js" \
         "$PLROOT/dist/pod/index.js" "$PLROOT/dist/index.js" "$PLROOT/dist/cli/main.js"; do
  cmds+=("node --input-type=module -e \"await import('$m')\"")
done
echo "+ (cd $PLROOT && hyperfine -N -w 3 -r $RUNS --export-json $json ${cmds[*]@Q})" >&2
(cd "$PLROOT" && hyperfine -N -w 3 -r "$RUNS" --export-json "$json" "${cmds[@]}" >/dev/null 2>&1)
node -e '
const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).results
const med = a => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const cpu0 = (r[0].user + r[0].system) * 1000
console.log("| command | wall median ms | CPU mean ms | CPU above node -e 0 |")
console.log("|---|---:|---:|---:|")
for (const x of r) {
  const cpu = (x.user + x.system) * 1000
  const what = x.command.replace(/^node --input-type=module -e "await import\(\x27(.*)\x27\)"$/, "import $1").replace(process.argv[2] + "/", "")
  console.log(`| ${what} | ${(med(x.times) * 1000).toFixed(1)} | ${cpu.toFixed(1)} | ${x === r[0] ? "-" : (cpu >= cpu0 ? "+" : "") + (cpu - cpu0).toFixed(1)} |`)
}' "$json" "$PLROOT"
