# bench/lib.sh: helpers the bench scripts share (sourced).

pss_of() { # PIDS...: "PSS PSS_ANON" summed, in kB (a pid gone meanwhile counts 0). Pss_Anon
  # (heaps, stacks) is what the processes cost; PSS also shares file pages (node's and
  # containerd's executables) with every other process mapping them, so it moves with what
  # else runs on the machine.
  local p
  for p in "$@"; do cat "/proc/$p/smaps_rollup" 2>/dev/null || true; done | awk '/^Pss:/ {a += $2} /^Pss_Anon:/ {b += $2} END {print a + 0, b + 0}'
}

pss_kb() { # PIDS...: summed PSS alone, in kB
  local v
  v=$(pss_of "$@")
  echo "${v%% *}"
}
