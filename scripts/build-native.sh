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
# The addon links libseccomp (seccomp profiles compiled to BPF in the parent).
if [ ! -f /usr/include/seccomp.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "+ apt-get install -y libseccomp-dev"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev >/dev/null; }
  fi
  if [ ! -f /usr/include/seccomp.h ]; then
    echo "build-native: libseccomp's headers are missing: sudo apt-get install libseccomp-dev" >&2
    exit 1
  fi
fi
if command -v node-gyp >/dev/null 2>&1; then gyp=(node-gyp)
elif [ -n "${npm_config_node_gyp:-}" ]; then gyp=(node "$npm_config_node_gyp")
else gyp=(npx --no-install node-gyp); fi
echo "+ ${gyp[*]} rebuild --nodedir=$nodedir"
"${gyp[@]}" rebuild --nodedir="$nodedir" ${POD_LAUNCH_GYP_FLAGS:-}
