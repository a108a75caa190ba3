#!/usr/bin/env bash
# Build the addon and the pause executable with the node-gyp npm bundles,
# against the headers installed beside this node (no download: offline).
set -euo pipefail
cd "$(dirname "$0")/.."
nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(node -p process.execPath)")")}"
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-native: no Node headers under $nodedir/include/node; set npm_config_nodedir" >&2
  exit 1
fi
if command -v node-gyp >/dev/null 2>&1; then gyp=(node-gyp)
elif [ -n "${npm_config_node_gyp:-}" ]; then gyp=(node "$npm_config_node_gyp")
else gyp=(npx --no-install node-gyp); fi
echo "+ ${gyp[*]} rebuild --nodedir=$nodedir"
"${gyp[@]}" rebuild --nodedir="$nodedir" ${POD_LAUNCH_GYP_FLAGS:-}
