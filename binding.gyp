{
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-Werror", "-fstack-protector-strong"],
    "cflags_c": ["-std=gnu11"]
  },
  "targets": [
    {
      "target_name": "pod_launch",
      "sources": ["native/addon.cc", "native/addon_spawn.cc", "native/addon_process.cc", "native/addon_fd.cc", "native/addon_seccomp.cc", "native/addon_fs.cc", "native/plan-codec.c", "native/spawn.c", "native/ns.c", "native/report.c", "native/lo.c", "native/tty.c", "native/fsops.c", "native/filter.c", "native/netns.c"],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17"]
    },
    {
      "target_name": "pod-launch-shim",
      "type": "executable",
      "sources": [
        "native/shim/shim.c",
        "native/shim/proc.c",
        "native/shim/io.c",
        "native/shim/proto.c",
        "native/shim/request.c",
        "native/plan-codec.c",
        "native/spawn.c",
        "native/ns.c",
        "native/report.c",
        "native/lo.c",
        "native/tty.c"
      ],
      "cflags": ["-Os", "-ffunction-sections", "-fdata-sections"],
      "ldflags": ["-static", "-s", "-Wl,--gc-sections"]
    },
    {
      "target_name": "pause",
      "type": "executable",
      "sources": ["native/pause/pause.c"],
      "cflags": ["-Os"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
