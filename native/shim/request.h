/*
 * request.h: the START request of the shim's control protocol, parsed (pure:
 * no allocation, every string points into the frame; fuzzed with the plan
 * decoder by test/unit/shim/fuzz.test.ts).
 */
#ifndef POD_LAUNCH_SHIM_REQUEST_H
#define POD_LAUNCH_SHIM_REQUEST_H

#include <stdint.h>

struct start_req {
  const char *name, *cgroup2_dir, *oom_file, *log_path;
  const char *procs[8]; /* cgroup.procs files, one per hierarchy */
  int nprocs_files, role, memory_limited, io, in, in_once, tty;
  uint32_t run, rows, cols;
  const uint8_t *plan;
  uint32_t plan_len;
};

/* Parse START's records: 0, or -1 when a record is malformed or one that is required is missing. */
int parse_start(const uint8_t *payload, uint32_t len, struct start_req *q);

#endif
